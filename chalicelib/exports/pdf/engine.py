"""The page engine of the PDF reports: colours, the embedded font, number format, paragraph
styles, and the frame loop that flows flowables across pages of one canvas (with a partner's
white label on every page).

Pages are laid out by a small frame loop on one canvas instead of a DocTemplate: each
section's flowables are drawn and dropped at once, so a report of 200 assessments never holds
more than one page of flowables (the canvas keeps only the compressed page streams).

The text font is Bitstream Vera (shipped inside the reportlab wheel), embedded as a subset:
it covers German umlauts, ß, „quotes“, dashes and the euro sign. ``invariant=1`` keeps the
output free of random ids; the creation date in the metadata is the export's own time
(``created``), so the same export at the same time gives the same bytes.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, Frame, PageBreak
from reportlab.platypus.doctemplate import LayoutError

from chalicelib.exports.model import Labels

ACCENT = colors.HexColor("#1F5F8B")
ACCENT_MID = colors.HexColor("#7FA7C6")
ACCENT_LIGHT = colors.HexColor("#DCE9F3")
INK = colors.HexColor("#1F2933")
MUTED = colors.HexColor("#5F6B7A")
RULE = colors.HexColor("#C8D0D8")
OPEN = colors.HexColor("#EEF1F4")
PANEL = colors.HexColor("#F3F5F7")
WARN = colors.HexColor("#B85C00")
WARN_LIGHT = colors.HexColor("#FDEBD3")
WHITE = colors.white

MARGIN = 42.0


# --- fonts, numbers, styles ---------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def fonts() -> tuple[str, str]:
    """Register the embedded font family once; Helvetica (Latin-1) if Vera is missing."""
    import reportlab

    base = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    try:
        pdfmetrics.registerFont(TTFont("SMMSans", os.path.join(base, "Vera.ttf")))
        pdfmetrics.registerFont(
            TTFont("SMMSans-Bold", os.path.join(base, "VeraBd.ttf"))
        )
        pdfmetrics.registerFont(TTFont("SMMSans-It", os.path.join(base, "VeraIt.ttf")))
    except Exception:  # noqa: BLE001 - any font problem: fall back to a standard font
        return "Helvetica", "Helvetica-Bold"
    pdfmetrics.registerFontFamily(
        "SMMSans",
        normal="SMMSans",
        bold="SMMSans-Bold",
        italic="SMMSans-It",
        boldItalic="SMMSans-Bold",
    )
    return "SMMSans", "SMMSans-Bold"


def num(v: float | str | None, lab: Labels, signed: bool = False) -> str:
    """A number as printed in the report: decimal comma in German, ``n/a`` for None; a
    text (an n band such as ``10-19``) as it is."""
    if v is None:
        return lab.text("not_available")
    if isinstance(v, str):
        return v
    s = f"{v:.1f}" if isinstance(v, float) else str(v)
    if signed and v > 0:
        s = "+" + s
    return s.replace(".", ",") if lab.language == "de" else s


def esc(text: str) -> str:
    return escape(text)


class Styles:
    def __init__(self, font: str, bold: str) -> None:
        self.font, self.bold = font, bold
        self.body = ParagraphStyle(
            "body", fontName=font, fontSize=9, leading=12.5, textColor=INK
        )
        self.small = ParagraphStyle(
            "small", parent=self.body, fontSize=7.5, leading=9.8, textColor=MUTED
        )
        self.h1 = ParagraphStyle(
            "h1",
            parent=self.body,
            fontName=bold,
            fontSize=19,
            leading=23,
            textColor=ACCENT,
            spaceAfter=3,
        )
        self.h2 = ParagraphStyle(
            "h2",
            parent=self.body,
            fontName=bold,
            fontSize=12,
            leading=15,
            textColor=ACCENT,
            spaceBefore=8,
            spaceAfter=5,
        )
        self.cell = ParagraphStyle("cell", parent=self.body, fontSize=8, leading=10)
        self.cell_bold = ParagraphStyle("cellb", parent=self.cell, fontName=bold)
        self.head = ParagraphStyle(
            "head", parent=self.cell, fontName=bold, textColor=WHITE, fontSize=7.5
        )
        self.card_label = ParagraphStyle(
            "cardl", parent=self.small, fontName=bold, textColor=ACCENT
        )
        self.card_value = ParagraphStyle(
            "cardv",
            parent=self.body,
            fontName=bold,
            fontSize=17,
            leading=21,
            textColor=INK,
        )
        self.card_sub = ParagraphStyle(
            "cards", parent=self.body, fontSize=8.5, leading=11
        )
        self.banner = ParagraphStyle(
            "banner",
            parent=self.body,
            fontName=bold,
            fontSize=8.5,
            leading=11,
            textColor=WARN,
        )


# --- page loop ----------------------------------------------------------------------------
class Doc:
    """One canvas, a header and footer per page, and a frame that flows flowables across
    pages (splitting tables and paragraphs where they allow it)."""

    def __init__(
        self,
        lab: Labels,
        title: str,
        subject: str,
        header: str,
        pagesize: tuple[float, float] = A4,
        header_right: str = "",
        brand: Any = None,
        created: datetime | None = None,
    ) -> None:
        self.lab = lab
        self.brand = _Brand(brand) if brand is not None else None
        font, bold = fonts()
        self.st = Styles(font, bold)
        if self.brand is not None:  # headings in the partner's colour
            for style in (self.st.h1, self.st.h2, self.st.card_label):
                style.textColor = self.brand.accent
        self.buf = io.BytesIO()
        self.pagesize = pagesize
        self.c = canvas.Canvas(
            self.buf, pagesize=pagesize, invariant=1, pageCompression=1
        )
        self.c.setTitle(title)
        self.c.setSubject(subject)
        self.c.setAuthor("smm-benchmark")
        self.c.setCreator("smm-benchmark exports")
        # invariant=1 would date every file 2000-01-01: the metadata states when it was made
        when = (created or datetime.now(UTC)).astimezone(UTC)
        self.today = when.date().isoformat()
        stamp = when.strftime("D:%Y%m%d%H%M%S+00'00'")
        self.c.setDateFormatter(lambda *_: stamp)
        self.header = header
        self.header_right = header_right
        self.page = 0
        self.width = pagesize[0] - 2 * MARGIN
        self.height = pagesize[1] - 42 - 44  # of the frame
        self._begin_page()

    def _begin_page(self) -> None:
        self.page += 1
        c, (w, h) = self.c, self.pagesize
        st = self.st
        c.setFont(st.font, 7.5)
        c.setFillColor(MUTED)
        left = self.brand.draw_header(c, h) if self.brand is not None else MARGIN
        c.setFont(st.font, 7.5)
        c.setFillColor(MUTED)
        c.drawString(left, h - 26, self.header)
        if self.header_right:
            c.drawRightString(w - MARGIN, h - 26, self.header_right)
        if self.brand is not None:
            self.brand.draw_footer(c, w, st.font)
        c.setStrokeColor(self.brand.accent if self.brand is not None else ACCENT)
        c.setLineWidth(1.2)
        c.line(MARGIN, h - 32, w - MARGIN, h - 32)
        c.setStrokeColor(RULE)
        c.setLineWidth(0.5)
        c.line(MARGIN, 34, w - MARGIN, 34)
        c.drawString(MARGIN, 23, self.lab.text("confidential"))
        c.drawRightString(w - MARGIN, 23, self.lab.text("page", n=self.page))
        self.frame = Frame(
            MARGIN,
            42,
            self.width,
            self.height,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        self.fresh = True

    def height_of(self, items: Iterable[Flowable]) -> float:
        """The height ``items`` take when flowed on one page (as the frame stacks them)."""
        total = 0.0
        prev_after = 0.0
        for f in items:
            if isinstance(f, PageBreak):
                continue
            _, h = f.wrap(self.width, self.height)
            before = f.getSpaceBefore()
            total += h + max(before, prev_after) if total else h
            prev_after = f.getSpaceAfter()
        return total

    def room(self) -> float:
        """The height left on the current page."""
        return float(self.frame._y - self.frame._y1p)

    def new_page(self) -> None:
        self.c.showPage()
        self._begin_page()

    def flow(self, items: Iterable[Flowable]) -> None:
        queue = list(items)
        while queue:
            head = queue.pop(0)
            if isinstance(head, PageBreak):
                if not self.fresh:
                    self.new_page()
                continue
            if self.frame.add(head, self.c, trySplit=1):
                self.fresh = False
                continue
            parts = self.frame.split(head, self.c)
            if parts and self.frame.add(parts[0], self.c, trySplit=1):
                queue[0:0] = parts[1:]
                self.new_page()
                continue
            if self.fresh:
                raise LayoutError(f"{type(head).__name__} does not fit on a page")
            queue.insert(0, head)
            self.new_page()

    def finish(self) -> bytes:
        self.c.showPage()
        self.c.save()
        return self.buf.getvalue()


class _Brand:
    """A partner's white label on every page (chalicelib/branding.py): its logo and name
    before the running header, its colour on the header rule, its imprint and privacy links
    in the footer."""

    def __init__(self, branding: Any) -> None:
        self.name = str(branding.display_name)
        self.accent = (
            colors.HexColor(branding.primary_color)
            if branding.primary_color
            else ACCENT
        )
        self.links = [
            (label, url)
            for label, url in (
                ("imprint", branding.imprint_url),
                ("privacy", branding.privacy_url),
            )
            if url
        ]
        self.logo = None
        data = branding.logo_bytes()
        if data:
            from reportlab.lib.utils import ImageReader

            self.logo = ImageReader(io.BytesIO(data))

    def draw_header(self, c: Any, h: float) -> float:
        """Logo and name at the top left; returns where the running header starts."""
        x = MARGIN
        if self.logo is not None:
            iw, ih = self.logo.getSize()
            height = 16.0
            width = min(80.0, height * iw / max(ih, 1))
            c.drawImage(self.logo, x, h - 29, width, height, mask="auto")
            x += width + 6
        c.setFont(fonts()[1], 8.5)
        c.setFillColor(self.accent)
        c.drawString(x, h - 26, self.name)
        return float(x + stringWidth(self.name, fonts()[1], 8.5) + 10)

    def draw_footer(self, c: Any, w: float, font: str) -> None:
        if not self.links:
            return
        c.setFont(font, 7)
        c.setFillColor(MUTED)
        text = "  ·  ".join(url for _, url in self.links)
        x = (w - stringWidth(text, font, 7)) / 2
        for i, (_, url) in enumerate(self.links):
            width = stringWidth(url, font, 7)
            c.drawString(x, 12, url)
            c.linkURL(url, (x, 10, x + width, 20), relative=0)
            x += width + (
                stringWidth("  ·  ", font, 7) if i < len(self.links) - 1 else 0
            )
            if i < len(self.links) - 1:
                c.drawString(x - stringWidth("  ·  ", font, 7), 12, "  ·  ")
