"""PDF reports (reportlab): the client report of one assessment, side-by-side reports of many,
and cohort tables.

The report of one assessment: title block with the organisation's phase and pyramid tier,
the engagement ladder (8 steps, current highlighted), the pyramid (5 tiers with scores,
reached tier highlighted, "blocked by" note), a radar chart of the dimensions against the
cohort median, the percentile ranks against the cohort (n and source label; "reference
(synthetic)" as a banner), the metric table, ranked recommendations and a methods box.

Pages are laid out by a small frame loop on one canvas instead of a DocTemplate: each
section's flowables are drawn and dropped at once, so a report of 200 assessments never holds
more than one page of flowables (the canvas keeps only the compressed page streams).

The text font is Bitstream Vera (shipped inside the reportlab wheel), embedded as a subset:
it covers German umlauts, ß, „quotes“, dashes and the euro sign. ``invariant=1`` makes the
output byte-for-byte reproducible (no timestamps or random ids).
"""

from __future__ import annotations

import functools
import io
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Line, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    Flowable,
    Frame,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.doctemplate import LayoutError

from chalicelib.exports.model import (
    AssessmentReport,
    CohortInfo,
    CohortRow,
    Labels,
    SummaryRow,
    attribute_label,
    methods_rows,
)
from chalicelib.questionnaire import Questionnaire

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
def _fonts() -> tuple[str, str]:
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


def num(v: float | None, lab: Labels, signed: bool = False) -> str:
    """A number as printed in the report: decimal comma in German, ``n/a`` for None."""
    if v is None:
        return lab.text("not_available")
    s = f"{v:.1f}" if isinstance(v, float) else str(v)
    if signed and v > 0:
        s = "+" + s
    return s.replace(".", ",") if lab.language == "de" else s


def _x(text: str) -> str:
    return escape(text)


class _Styles:
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
class _Doc:
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
    ) -> None:
        self.lab = lab
        self.brand = _Brand(brand) if brand is not None else None
        font, bold = _fonts()
        self.st = _Styles(font, bold)
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
        self.header = header
        self.header_right = header_right
        self.page = 0
        self.width = pagesize[0] - 2 * MARGIN
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
            h - 42 - 44,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        self.fresh = True

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
        c.setFont(_fonts()[1], 8.5)
        c.setFillColor(self.accent)
        c.drawString(x, h - 26, self.name)
        return float(x + stringWidth(self.name, _fonts()[1], 8.5) + 10)

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


def _block(content: list[Flowable], width: float) -> Table:
    """Keep flowables together on one page (a one-cell table never splits)."""
    t = Table([[content]], colWidths=[width])
    t.setStyle(
        TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return t


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    words, lines, line = text.split(), [], ""
    for w in words:
        trial = f"{line} {w}".strip()
        if line and stringWidth(trial, font, size) > width:
            lines.append(line)
            line = w
        else:
            line = trial
    if line:
        lines.append(line)
    return lines


def _string(
    x: float,
    y: float,
    text: str,
    font: str,
    size: float,
    color: Any = INK,
    anchor: str = "start",
) -> String:
    return String(
        x, y, text, fontName=font, fontSize=size, fillColor=color, textAnchor=anchor
    )


# --- drawings -----------------------------------------------------------------------------
def ladder_drawing(report: AssessmentReport, lab: Labels, width: float) -> Drawing:
    """The 8 steps of the engagement ladder as a staircase; the current phase is dark, the
    phases passed are light, criteria met above the placement are outlined."""
    font, bold = _fonts()
    h_total = 168.0
    d = Drawing(width, h_total)
    n = len(report.ladder)
    slot = width / n
    box = slot - 4
    base = 34.0
    for i, s in enumerate(report.ladder):
        x = i * slot + 2
        top = base + 18 + i * 11.5
        fill, stroke, dash, text = OPEN, RULE, None, INK
        if s.state == "current":
            fill, stroke, text = ACCENT, ACCENT, WHITE
        elif s.state == "passed":
            fill, stroke = ACCENT_LIGHT, ACCENT_MID
        elif s.state == "met_above":
            fill, stroke, dash = WHITE, ACCENT, [2, 2]
        d.add(
            Rect(
                x,
                base,
                box,
                top - base,
                fillColor=fill,
                strokeColor=stroke,
                strokeWidth=1.6 if s.state == "current" else 0.8,
                strokeDashArray=dash,
            )
        )
        d.add(_string(x + box / 2, base + 6, str(s.number), bold, 12, text, "middle"))
        if s.score is not None:
            d.add(
                _string(
                    x + box / 2, top + 4, num(s.score, lab), font, 7.5, MUTED, "middle"
                )
            )
        if s.state == "current":
            d.add(
                _string(
                    x + box / 2,
                    top + 15,
                    lab.text("ladder_current"),
                    bold,
                    7.5,
                    ACCENT,
                    "middle",
                )
            )
        for j, line in enumerate(
            _wrap(s.name, bold if s.state == "current" else font, 6.6, box)[:3]
        ):
            d.add(
                _string(
                    x + box / 2,
                    base - 9 - j * 8,
                    line,
                    bold if s.state == "current" else font,
                    6.6,
                    ACCENT if s.state == "current" else INK,
                    "middle",
                )
            )
    legend: list[tuple[Any, Any, list[int] | None, str]] = [
        (ACCENT_LIGHT, ACCENT_MID, None, lab.text("ladder_reached")),
        (ACCENT, ACCENT, None, lab.text("ladder_current")),
        (OPEN, RULE, None, lab.text("ladder_open")),
    ]
    if any(s.state == "met_above" for s in report.ladder):
        legend.append((WHITE, ACCENT, [2, 2], lab.text("ladder_met_above")))
    for i, (fill, stroke, dash, label) in enumerate(legend):
        y = h_total - 10 - i * 11
        d.add(
            Rect(
                2,
                y - 1,
                8,
                8,
                fillColor=fill,
                strokeColor=stroke,
                strokeWidth=0.8,
                strokeDashArray=dash,
            )
        )
        d.add(_string(14, y, label, font, 7, INK))
    return d


def pyramid_drawing(report: AssessmentReport, lab: Labels, width: float) -> Drawing:
    """Altimeter's pyramid: foundation at the bottom; reached tiers dark, met-but-blocked
    tiers light with a dashed edge, the blocking tier outlined in orange."""
    bold = _fonts()[1]
    layer, gap = 33.0, 3.0
    d = Drawing(width, 5 * layer + 8)
    cx = width / 2
    bottom, top = width - 6, width * 0.28
    step = (bottom - top) / 5
    blocked = report.blocked_by_name
    for i, t in enumerate(report.tiers):
        y0 = 4 + i * layer
        y1 = y0 + layer - gap
        wb = bottom - i * step
        wt = bottom - (i + 1) * step + step * gap / layer
        fill, stroke, sw, dash, text = OPEN, RULE, 0.8, None, INK
        if t.reached:
            fill, stroke, text = ACCENT, ACCENT, WHITE
        elif t.met:
            fill, stroke, dash = ACCENT_LIGHT, ACCENT, [3, 2]
        if blocked is not None and t.name == blocked:
            stroke, sw = WARN, 2.2
        d.add(
            Polygon(
                [cx - wb / 2, y0, cx + wb / 2, y0, cx + wt / 2, y1, cx - wt / 2, y1],
                fillColor=fill,
                strokeColor=stroke,
                strokeWidth=sw,
                strokeDashArray=dash,
            )
        )
        label = f"{t.name}  {num(t.score, lab)}"
        # the layer narrows upwards: shrink the label to the width at its cap height
        room = wb - (wb - wt) * 19 / (layer - gap) - 10
        size = 8.5
        while size > 6 and stringWidth(label, bold, size) > room:
            size -= 0.25
        d.add(_string(cx, y0 + 11, label, bold, size, text, "middle"))
    return d


def radar_drawing(report: AssessmentReport, lab: Labels, width: float) -> Drawing:
    """Dimensions 0..100 as a radar polygon, with the cohort median when it is released."""
    font, bold = _fonts()
    dims = report.dimensions
    height = 236.0
    d = Drawing(width, height)
    cx, cy, radius = 205.0, 116.0, 82.0
    k = len(dims)
    if k < 3:
        return d

    def point(i: int, value: float) -> tuple[float, float]:
        a = math.pi / 2 - 2 * math.pi * i / k
        r = radius * max(0.0, min(value, 100.0)) / 100.0
        return cx + r * math.cos(a), cy + r * math.sin(a)

    for ring in (20, 40, 60, 80, 100):
        pts: list[float] = []
        for i in range(k):
            pts.extend(point(i, ring))
        d.add(
            Polygon(
                pts,
                fillColor=None,
                strokeColor=RULE,
                strokeWidth=0.8 if ring == 100 else 0.4,
            )
        )
        x, y = point(0, ring)
        d.add(_string(x + 3, y - 3, str(ring), font, 6, MUTED))
    for i in range(k):
        x, y = point(i, 100)
        d.add(Line(cx, cy, x, y, strokeColor=RULE, strokeWidth=0.4))
    own: list[float] = []
    for i, dim in enumerate(dims):
        own.extend(point(i, dim.score or 0))
    d.add(Polygon(own, fillColor=ACCENT_LIGHT, strokeColor=None, strokeWidth=0))
    medians = [dim.cohort_median for dim in dims]
    if all(m is not None for m in medians):
        pts = []
        for i, m in enumerate(medians):
            pts.extend(point(i, float(m or 0)))
        d.add(
            Polygon(
                pts,
                fillColor=None,
                strokeColor=MUTED,
                strokeWidth=1.2,
                strokeDashArray=[3, 2],
            )
        )
    d.add(Polygon(own, fillColor=None, strokeColor=ACCENT, strokeWidth=2))
    for i, dim in enumerate(dims):
        x, y = point(i, dim.score or 0)
        d.add(Rect(x - 2, y - 2, 4, 4, fillColor=ACCENT, strokeColor=None))
    for i, dim in enumerate(dims):
        a = math.pi / 2 - 2 * math.pi * i / k
        lx, ly = cx + (radius + 10) * math.cos(a), cy + (radius + 10) * math.sin(a)
        c = math.cos(a)
        anchor = "middle" if abs(c) < 0.2 else ("start" if c > 0 else "end")
        lines = _wrap(dim.name, bold, 7.5, 110)
        value = f"{num(dim.score, lab)}"
        if dim.cohort_median is not None:
            value += f"  ({lab.text('cohort_median')} {num(dim.cohort_median, lab)})"
        block = len(lines) + 1
        if math.sin(a) > 0.5:
            y0 = ly + 9 * (block - 1) + 2
        elif math.sin(a) < -0.5:
            y0 = ly - 9
        else:
            y0 = ly + 4 * (block - 1) - 2
        for j, line in enumerate(lines):
            d.add(_string(lx, y0 - 9 * j, line, bold, 7.5, INK, anchor))
        d.add(_string(lx, y0 - 9 * len(lines), value, font, 7, MUTED, anchor))
    lx = width - 130
    d.add(
        Line(lx, height - 20, lx + 18, height - 20, strokeColor=ACCENT, strokeWidth=2)
    )
    d.add(_string(lx + 24, height - 23, lab.text("this_organisation"), font, 7.5))
    if all(m is not None for m in medians):
        d.add(
            Line(
                lx,
                height - 34,
                lx + 18,
                height - 34,
                strokeColor=MUTED,
                strokeWidth=1.2,
                strokeDashArray=[3, 2],
            )
        )
        d.add(_string(lx + 24, height - 37, lab.text("cohort_median"), font, 7.5))
    return d


def percentile_drawing(
    report: AssessmentReport, lab: Labels, width: float, bar: float = 15.0
) -> Drawing | None:
    """Horizontal bars: the percentile rank of every metric that has one, on 0..100 with
    grid lines and the median (50) and top-quartile (75) marks. Drawn from plain shapes (a
    HorizontalBarChart widget costs seven times as long, which adds up over 200 pages)."""
    font, bold = _fonts()
    rows = [m for m in report.metrics if m.percentile_rank is not None]
    if not rows:
        return None
    label_size = min(7.5, bar * 0.7)
    x0, bottom = 158.0, 18.0
    span = width - x0 - 40
    plot_h = bar * len(rows)
    height = plot_h + bottom + 16
    d = Drawing(width, height)
    top = bottom + plot_h
    for tick in (0, 25, 50, 75, 100):
        x = x0 + span * tick / 100
        d.add(Line(x, bottom, x, top, strokeColor=OPEN, strokeWidth=0.6))
        d.add(_string(x, bottom - 10, str(tick), font, 7, INK, "middle"))
    d.add(Line(x0, bottom, x0 + span, bottom, strokeColor=RULE, strokeWidth=0.6))
    d.add(Line(x0, bottom, x0, top, strokeColor=RULE, strokeWidth=0.6))
    for i, m in enumerate(rows):
        y = top - (i + 1) * bar
        value = float(m.percentile_rank or 0)
        w = span * max(0.0, min(value, 100.0)) / 100
        d.add(
            Rect(
                x0,
                y + bar * 0.19,
                w,
                bar * 0.62,
                fillColor=ACCENT,
                strokeColor=None,
                strokeWidth=0,
            )
        )
        mid = y + bar / 2 - label_size * 0.35
        d.add(_string(x0 - 4, mid, m.label, font, label_size, INK, "end"))
        d.add(_string(x0 + w + 3, mid, num(value, lab), bold, 7, INK))
    for value, dash, key in ((50, [3, 2], "median"), (75, [1, 2], "p75")):
        x = x0 + span * value / 100
        d.add(
            Line(
                x,
                bottom,
                x,
                top + 4,
                strokeColor=MUTED,
                strokeWidth=0.8,
                strokeDashArray=dash,
            )
        )
        d.add(_string(x, top + 7, lab.column(key), font, 6.5, MUTED, "middle"))
    return d


# --- sections -----------------------------------------------------------------------------
def _cards(report: AssessmentReport, doc: _Doc) -> Table:
    lab, st = doc.lab, doc.st
    overall = report.metric("overall")
    pct = overall.percentile_rank if overall else None
    tier = report.reached_tier_name or lab.text("no_tier")
    cells = [
        [
            Paragraph(_x(lab.column("phase")), st.card_label),
            Paragraph(_x(report.phase_text(lab)), st.card_value),
            Paragraph(_x(report.phase_name), st.card_sub),
        ],
        [
            Paragraph(_x(lab.column("tier")), st.card_label),
            Paragraph(_x(tier), st.card_value),
            Paragraph(_x(lab.text("tier_of", level=report.pyramid_level)), st.card_sub),
        ],
        [
            Paragraph(_x(lab.column("overall")), st.card_label),
            Paragraph(
                _x(
                    lab.text("not_assessable")
                    if report.overall is None
                    else lab.text("out_of_100", value=report.overall)
                ),
                st.card_value,
            ),
            Paragraph(
                _x(f"{lab.column('percentile_rank')}: {num(pct, lab)}"),
                st.card_sub,
            ),
        ],
    ]
    w = doc.width / 3
    t = Table([cells], colWidths=[w, w, w])
    t.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), ACCENT_LIGHT),
                ("LINEBEFORE", (1, 0), (-1, -1), 2, WHITE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 9),
                ("TOPPADDING", (0, 0), (-1, -1), 7),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return t


def _banner(text: str, doc: _Doc, warn: bool = True) -> Table:
    t = Table([[Paragraph(_x(text), doc.st.banner)]], colWidths=[doc.width])
    t.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), WARN_LIGHT if warn else PANEL),
                ("BOX", (0, 0), (-1, -1), 0.8, WARN if warn else RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return t


def _evidence_notice(report: AssessmentReport, doc: _Doc) -> list[Flowable]:
    """Not assessable / low coverage: a warning banner above the key figures."""
    flag = report.evidence_flag(doc.lab)
    return [] if flag is None else [_banner(flag, doc), Spacer(1, 6)]


def _cohort_notice(c: CohortInfo, doc: _Doc) -> list[Flowable]:
    lab = doc.lab
    if c.status != "released":
        return [
            Spacer(1, 6),
            _banner(lab.text("no_comparison", status=lab.status(c.status)), doc),
        ]
    if c.synthetic:
        return [Spacer(1, 6), _banner(lab.text("synthetic_banner"), doc)]
    return []


def _compared_with(c: CohortInfo, doc: _Doc) -> Paragraph:
    lab, st = doc.lab, doc.st
    source = _x(c.source_label)
    if c.synthetic:
        source = f'<font color="#B85C00"><b>{source.upper()}</b></font>'
    text = lab.text(
        "compared_with",
        cohort=_x(c.label or lab.status(c.status)),
        population=_x(c.population_label),
        n="@@N@@",
        source="@@SOURCE@@",
    )
    n = f"<b>{num(c.n, lab)}</b>"
    return Paragraph(text.replace("@@N@@", n).replace("@@SOURCE@@", source), st.body)


def _metrics_table(report: AssessmentReport, doc: _Doc, compact: bool = False) -> Table:
    lab, st = doc.lab, doc.st
    head = [
        lab.column("metric"),
        lab.column("value"),
        lab.column("percentile_rank"),
        lab.column("median"),
        f"{lab.column('p25')}–{lab.column('p75')}",
        lab.column("distance_to_median"),
        lab.column("n"),
        lab.column("status"),
    ]
    rows: list[list[Any]] = [[Paragraph(_x(h), st.head) for h in head]]
    for m in report.metrics:
        spread = f"{num(m.p25, lab)}–{num(m.p75, lab)}" if m.p25 is not None else ""
        rows.append(
            [
                Paragraph(_x(m.label), st.cell),
                num(m.value, lab),
                num(m.percentile_rank, lab) if m.status == "released" else "",
                num(m.median, lab) if m.median is not None else "",
                spread,
                num(m.distance_to_median, lab, signed=True)
                if m.distance_to_median is not None
                else "",
                num(m.n, lab) if m.n is not None else "",
                Paragraph(_x(lab.status(m.status)), st.small)
                if m.status != "released"
                else "",
            ]
        )
    w = doc.width
    widths = [w * x for x in (0.27, 0.07, 0.13, 0.08, 0.11, 0.12, 0.06, 0.16)]
    t = Table(rows, colWidths=widths, repeatRows=1)
    style = _grid_style(doc, len(rows), numeric_from=1, numeric_to=6)
    if compact:
        style.add("TOPPADDING", (0, 1), (-1, -1), 1.2)
        style.add("BOTTOMPADDING", (0, 1), (-1, -1), 1.2)
        style.add("FONTSIZE", (0, 1), (-1, -1), 7.5)
    t.setStyle(style)
    return t


def _grid_style(
    doc: _Doc, n_rows: int, numeric_from: int, numeric_to: int
) -> TableStyle:
    cmds: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
        ("FONTNAME", (0, 1), (-1, -1), doc.st.font),
        ("FONTSIZE", (0, 1), (-1, -1), 8),
        ("TEXTCOLOR", (0, 1), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (numeric_from, 1), (numeric_to, -1), "RIGHT"),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    for r in range(2, n_rows, 2):
        cmds.append(("BACKGROUND", (0, r), (-1, r), PANEL))
    return TableStyle(cmds)


def _recommendations(
    report: AssessmentReport, doc: _Doc, limit: int | None = None
) -> list[Flowable]:
    """Ranked next steps; ``limit`` gives the compact top-n of a side-by-side page."""
    lab, st = doc.lab, doc.st
    compact = limit is not None
    recs = report.recommendations[:limit] if compact else report.recommendations
    out: list[Flowable] = [Paragraph(_x(lab.text("recommendations_title")), st.h2)]
    if not recs:
        out.append(Paragraph(_x(lab.text("no_recommendations")), st.body))
        return out
    rank_style = ParagraphStyle(
        "rank",
        parent=st.body,
        fontName=st.bold,
        fontSize=12 if compact else 15,
        leading=15 if compact else 18,
        textColor=ACCENT,
    )
    text_style = st.cell if compact else st.body
    rows = [
        [
            Paragraph(str(r.rank), rank_style),
            [
                Paragraph(_x(r.target_label), st.card_label),
                Paragraph(_x(r.text), text_style),
            ],
        ]
        for r in recs
    ]
    t = Table(rows, colWidths=[24, doc.width - 24])
    pad = 2.5 if compact else 5
    t.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -2), 0.3, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), pad),
                ("BOTTOMPADDING", (0, 0), (-1, -1), pad + 1),
            ]
        )
    )
    out.append(t)
    if not compact:
        out.append(Spacer(1, 3))
        out.append(Paragraph(_x(lab.text("recommendations_note")), st.small))
    return out


def _methods_box(rows: Sequence[tuple[str, str]], doc: _Doc) -> list[Flowable]:
    lab, st = doc.lab, doc.st
    data = [
        [Paragraph(_x(k), st.cell_bold), Paragraph(_x(v), st.cell)] for k, v in rows
    ]
    t = Table(data, colWidths=[doc.width * 0.24, doc.width * 0.76])
    t.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), PANEL),
                ("BOX", (0, 0), (-1, -1), 0.6, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -2), 0.25, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return [Paragraph(_x(lab.text("methods_title")), st.h2), t]


def _methods_line(report: AssessmentReport, doc: _Doc) -> Paragraph:
    """The methods of one assessment in one small paragraph (side-by-side pages)."""
    lab, c = doc.lab, report.cohort
    parts = [
        f"{lab.text('questionnaire')} {report.questionnaire_id} {report.version}",
        f"{lab.text('cohort')}: {c.label or lab.status(c.status)}",
        c.population_label,
        f"n = {num(c.n, lab)}",
        f"{lab.text('months')}: {c.months or lab.text('not_available')}",
        f"k = {c.k_min}",
        f"{lab.text('source')}: {c.source_label}",
    ]
    return Paragraph(_x(" · ".join(parts)), doc.st.small)


def _header_for(report: AssessmentReport, lab: Labels) -> str:
    return f"{report.questionnaire_title} – {lab.text('report_title')}"


def _org_line(report: AssessmentReport) -> str:
    return f"{report.industry} · {report.size} · {report.country} ({report.region})"


def _id_line(report: AssessmentReport, lab: Labels) -> str:
    return (
        f"{lab.text('assessment_id')} {report.id} · {lab.text('completed')} "
        f"{report.completed} · {lab.text('questionnaire')} {report.questionnaire_id} "
        f"{report.version}"
    )


# --- one assessment -----------------------------------------------------------------------
def assessment_report(
    report: AssessmentReport, lab: Labels, branding: Any = None
) -> bytes:
    """``branding``: the white label of the partner that created the assessment."""
    doc = _Doc(
        lab,
        title=f"{lab.text('report_title')} – {report.id}",
        subject=f"{report.questionnaire_id} {report.version}",
        header=_header_for(report, lab),
        header_right=report.completed,
        brand=branding,
    )
    if branding is not None:
        doc.c.setAuthor(str(branding.display_name))
    st, w = doc.st, doc.width
    c = report.cohort

    # page 1: who, where on the ladder, where in the pyramid
    doc.flow(
        [
            Paragraph(_x(lab.text("report_title")), st.h1),
            Paragraph(_x(_org_line(report)), st.body),
            Paragraph(_x(_id_line(report, lab)), st.small),
            Spacer(1, 8),
            *_evidence_notice(report, doc),
            _cards(report, doc),
            *_cohort_notice(c, doc),
            Spacer(1, 4),
            _block(
                [
                    Paragraph(_x(lab.text("ladder_title")), st.h2),
                    ladder_drawing(report, lab, w),
                    Spacer(1, 3),
                    Paragraph(
                        f"<b>{_x(report.phase_text(lab))}: "
                        f"{_x(report.phase_name)}.</b> {_x(report.phase_description)}",
                        st.body,
                    ),
                    *(
                        [Paragraph(_x(report.jagged_note), st.body)]
                        if report.jagged_note
                        else []
                    ),
                    Paragraph(
                        _x(lab.text("ladder_note", threshold=report.phase_threshold)),
                        st.small,
                    ),
                ],
                w,
            ),
            _block(_pyramid_section(report, doc), w),
        ]
    )
    # page 2: dimensions and percentile ranks against the cohort
    chart = percentile_drawing(report, lab, w)
    doc.flow(
        [
            PageBreak(),
            _block(
                [
                    Paragraph(_x(lab.text("radar_title")), st.h2),
                    radar_drawing(report, lab, w),
                ],
                w,
            ),
            Spacer(1, 6),
            _block(
                [
                    Paragraph(_x(lab.text("percentile_title")), st.h2),
                    _compared_with(c, doc),
                    Paragraph(_x(lab.text("percentile_explain")), st.small),
                    Spacer(1, 6),
                    *([chart] if chart is not None else _cohort_notice(c, doc)),
                ],
                w,
            ),
        ]
    )
    # page 3: what to do next
    doc.flow([PageBreak(), *_recommendations(report, doc)])
    # page 4: the figures behind the charts, and how they were made
    doc.flow(
        [
            PageBreak(),
            Paragraph(_x(lab.text("figures_title")), st.h2),
            _compared_with(c, doc),
            Spacer(1, 4),
            _metrics_table(report, doc),
            Spacer(1, 8),
            _block(
                _methods_box(
                    methods_rows(report.questionnaire_id, report.version, c, lab), doc
                ),
                w,
            ),
        ]
    )
    return doc.finish()


def _pyramid_section(report: AssessmentReport, doc: _Doc) -> list[Flowable]:
    lab, st = doc.lab, doc.st
    left = doc.width * 0.56
    tier = report.reached_tier_name or lab.text("no_tier")
    side: list[Flowable] = [
        Paragraph(
            f"{_x(lab.column('tier'))}: <b>{_x(tier)}</b> "
            f"({_x(lab.text('tier_of', level=report.pyramid_level))})",
            st.body,
        ),
        Spacer(1, 4),
    ]
    for t in reversed(report.tiers):
        state = (
            lab.text("pyramid_reached")
            if t.reached
            else lab.text("pyramid_met_not_reached")
            if t.met
            else lab.text("pyramid_open")
        )
        side.append(
            Paragraph(
                f"<b>{_x(t.name)}</b>: {num(t.score, lab)} – {_x(state)}", st.cell
            )
        )
    side.append(Spacer(1, 4))
    side.append(
        Paragraph(
            _x(lab.text("pyramid_note", threshold=report.tier_threshold)), st.small
        )
    )
    if report.blocked_by_name:
        side.append(Spacer(1, 4))
        side.append(
            Paragraph(
                _x(lab.text("blocked_by", tier=report.blocked_by_name)), st.banner
            )
        )
    t = Table(
        [[pyramid_drawing(report, lab, left - 10), side]],
        colWidths=[left, doc.width - left],
    )
    t.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [Paragraph(_x(lab.text("pyramid_title")), st.h2), t]


# --- several assessments ------------------------------------------------------------------
class SideBySideReport:
    """An overview table, then one page per assessment, then the methods; written as it
    goes (the overview from small summary rows, each page from one report at a time)."""

    CHUNK = 38

    def __init__(self, lab: Labels, expected: int) -> None:
        self.lab = lab
        self.doc = _Doc(
            lab,
            title=lab.text("side_by_side_title"),
            subject=lab.text("side_by_side_title"),
            header=lab.text("side_by_side_title"),
        )
        self.expected = expected
        self.sources: set[str] = set()
        self.synthetic = False

    def summary(self, rows: Iterable[SummaryRow]) -> None:
        doc, lab, st = self.doc, self.lab, self.doc.st
        doc.flow(
            [
                Paragraph(_x(lab.text("side_by_side_title")), st.h1),
                Paragraph(_x(f"n = {self.expected}"), st.small),
                Spacer(1, 6),
            ]
        )
        head = [
            "#",
            lab.column("assessment_id"),
            lab.column("phase"),
            lab.column("tier"),
            lab.column("overall"),
            lab.column("overall_percentile"),
            lab.column("cohort"),
            lab.column("cohort_n"),
            lab.column("source"),
        ]
        w = doc.width
        widths = [w * x for x in (0.04, 0.14, 0.07, 0.12, 0.08, 0.11, 0.21, 0.08, 0.15)]
        chunk: list[list[Any]] = []

        def emit() -> None:
            data = [[Paragraph(_x(h), st.head) for h in head], *chunk]
            t = Table(data, colWidths=widths, repeatRows=1)
            style = _grid_style(doc, len(data), numeric_from=4, numeric_to=5)
            style.add("ALIGN", (7, 1), (7, -1), "RIGHT")
            t.setStyle(style)
            doc.flow([t])
            chunk.clear()

        for i, r in enumerate(rows, 1):
            self.synthetic |= r.synthetic
            chunk.append(
                [
                    str(i),
                    r.id[:12],
                    "–" if r.phase is None else str(r.phase),
                    Paragraph(_x(r.tier_name), st.cell),
                    num(r.overall, lab),
                    num(r.overall_percentile, lab),
                    Paragraph(_x(r.cohort_label), st.cell),
                    num(r.cohort_n, lab) if r.cohort_n is not None else "",
                    Paragraph(
                        f'<font color="#B85C00"><b>{_x(r.source_label)}</b></font>'
                        if r.synthetic
                        else _x(r.source_label),
                        st.cell,
                    ),
                ]
            )
            if len(chunk) >= self.CHUNK:
                emit()
        if chunk:
            emit()
        if self.synthetic:
            doc.flow([Spacer(1, 6), _banner(lab.text("synthetic_banner"), doc)])

    def add(self, report: AssessmentReport) -> None:
        doc, lab, st, w = self.doc, self.lab, self.doc.st, self.doc.width
        c = report.cohort
        self.sources.add(c.source)
        chart = percentile_drawing(report, lab, w, bar=10.5)
        doc.flow(
            [
                PageBreak(),
                Paragraph(
                    _x(f"{lab.text('assessment')} {report.id}"),
                    ParagraphStyle("h1s", parent=st.h2, fontSize=14, leading=18),
                ),
                Paragraph(_x(_org_line(report)), st.body),
                Paragraph(_x(_id_line(report, lab)), st.small),
                Spacer(1, 6),
                _cards(report, doc),
                *_cohort_notice(c, doc),
                Spacer(1, 4),
                _compared_with(c, doc),
                Spacer(1, 3),
                *([chart] if chart is not None else []),
                Spacer(1, 4),
                _metrics_table(report, doc, compact=True),
                *_recommendations(report, doc, limit=3),
                Spacer(1, 4),
                _methods_line(report, doc),
            ]
        )

    def finish(self) -> bytes:
        doc, lab = self.doc, self.lab
        rows = methods_rows("", "", None, lab)[1:]
        if "reference" not in self.sources and not self.synthetic:
            rows = [r for r in rows if r[1] != lab.text("method_reference")]
        doc.flow([PageBreak(), *_methods_box(rows, doc)])
        return doc.finish()


# --- cohort tables ------------------------------------------------------------------------
def cohort_report(
    q: Questionnaire,
    by: str,
    rows: list[CohortRow],
    metrics: list[tuple[str, str]],
    params: Mapping[str, str],
    lab: Labels,
) -> bytes:
    title = lab.text("cohort_table_title", by=lab.text(f"by_{by}"))
    doc = _Doc(
        lab,
        title=title,
        subject=f"{q.id} {q.version}",
        header=f"{q.title.get(lab.language)} – {title}",
        pagesize=landscape(A4),
    )
    st, w = doc.st, doc.width
    filters = " · ".join(
        f"{lab.text(a)}: {attribute_label(q, a, params.get(a), lab)}"
        for a in ("industry", "size", "region")
        if a != by
    )
    sources = {r.source: r.source_label for r in rows}
    populations = {r.population: r.population_label for r in rows}
    synthetic = any(r.synthetic for r in rows)
    months = sorted(
        {m for r in rows for m in (r.months_from, r.months_to) if m is not None}
    )
    intro: list[Flowable] = [
        Paragraph(_x(title), st.h1),
        Paragraph(
            _x(
                f"{lab.text('questionnaire')} {q.id} {q.version} · {filters} · "
                f"{lab.text('population')}: {', '.join(populations.values())} · "
                f"{lab.text('source')}: {', '.join(sources.values())} · "
                f"k = {', '.join(sorted({str(r.k_min) for r in rows}))}"
            ),
            st.body,
        ),
        Paragraph(
            _x(f"{lab.text('cohort_table_note')} {lab.text('cell_format')}."), st.small
        ),
    ]
    if synthetic:
        intro += [Spacer(1, 4), _banner(lab.text("synthetic_banner"), doc)]
    doc.flow(intro)
    groups = [
        [m for m in metrics if not m[0].startswith("dim_")],
        [m for m in metrics if m[0].startswith("dim_")],
    ]
    fixed = [lab.text(by), lab.column("status"), lab.column("n")]
    fixed_w = [w * 0.18, w * 0.10, w * 0.04]
    for group in groups:
        if not group:
            continue
        rest = (w - sum(fixed_w)) / len(group)
        small_head = ParagraphStyle("heads", parent=st.head, fontSize=6.8, leading=8.5)
        head = [Paragraph(_x(h), small_head) for h in fixed] + [
            Paragraph(_x(label), small_head) for _, label in group
        ]
        data: list[list[Any]] = [head]
        for r in rows:
            stats = {s.metric: s for s in r.stats}
            line: list[Any] = [
                Paragraph(
                    f"<b>{_x(r.label)}</b>" if r.value == "*" else _x(r.label), st.cell
                ),
                Paragraph(
                    _x(lab.status(r.status)),
                    st.cell if r.status == "released" else st.small,
                ),
                num(r.n, lab) if r.n is not None else "",
            ]
            for m, _ in group:
                s = stats.get(m)
                if s is None or s.median is None:
                    line.append("")
                else:
                    line.append(
                        f"{num(s.median, lab)} ({num(s.p25, lab)}–{num(s.p75, lab)})"
                    )
            data.append(line)
        t = Table(data, colWidths=fixed_w + [rest] * len(group), repeatRows=1)
        style = _grid_style(
            doc, len(data), numeric_from=2, numeric_to=len(fixed) + len(group) - 1
        )
        style.add("FONTSIZE", (2, 1), (-1, -1), 7.5)
        t.setStyle(style)
        doc.flow([Spacer(1, 8), t])
    method = [
        (lab.text("questionnaire"), f"{q.id} {q.version}"),
        (lab.text("cohort"), filters),
        (lab.text("population"), ", ".join(populations.values())),
        (lab.text("source"), ", ".join(sources[s] for s in sorted(sources))),
        (lab.text("k_min"), ", ".join(sorted({str(r.k_min) for r in rows}))),
        (
            lab.text("months"),
            f"{months[0]} – {months[-1]}" if months else lab.text("not_available"),
        ),
    ]
    general = methods_rows("", "", None, lab)[1:]
    if not synthetic:
        general = [r for r in general if r[1] != lab.text("method_reference")]
    doc.flow([Spacer(1, 8), _block(_methods_box(method + general, doc), w)])
    return doc.finish()
