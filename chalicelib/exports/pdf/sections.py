"""The sections the PDF documents are built from: key-figure cards, banners, the cohort line,
the metric table, recommendations, the pyramid section and the methods box."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from chalicelib.exports.model import (
    AssessmentReport,
    CohortInfo,
    Labels,
    data_age,
    long_date,
    month_range,
)
from chalicelib.exports.pdf.charts import pyramid_drawing
from chalicelib.exports.pdf.engine import (
    ACCENT,
    ACCENT_LIGHT,
    INK,
    PANEL,
    RULE,
    WARN,
    WARN_LIGHT,
    WHITE,
    Doc,
    esc,
    num,
)


def block(content: list[Flowable], width: float) -> Table:
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


# --- sections -----------------------------------------------------------------------------
def cards(report: AssessmentReport, doc: Doc) -> Table:
    lab, st = doc.lab, doc.st
    overall = report.metric("overall")
    pct = overall.percentile_rank if overall else None
    tier = report.reached_tier_name or lab.text("no_tier")
    cells = [
        [
            Paragraph(esc(lab.column("phase")), st.card_label),
            Paragraph(esc(report.phase_text(lab)), st.card_value),
            Paragraph(esc(report.phase_name), st.card_sub),
        ],
        [
            Paragraph(esc(lab.column("tier")), st.card_label),
            Paragraph(esc(tier), st.card_value),
            Paragraph(
                esc(lab.text("tier_of", level=report.pyramid_level)), st.card_sub
            ),
        ],
        [
            Paragraph(esc(lab.column("overall")), st.card_label),
            Paragraph(
                esc(
                    lab.text("not_assessable")
                    if report.overall is None
                    else lab.text("out_of_100", value=report.overall)
                ),
                st.card_value,
            ),
            Paragraph(
                esc(f"{lab.column('percentile_rank')}: {num(pct, lab)}"),
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


def banner(text: str, doc: Doc, warn: bool = True) -> Table:
    t = Table([[Paragraph(esc(text), doc.st.banner)]], colWidths=[doc.width])
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


def evidence_notice(report: AssessmentReport, doc: Doc) -> list[Flowable]:
    """Not assessable / low coverage: a warning banner above the key figures."""
    flag = report.evidence_flag(doc.lab)
    return [] if flag is None else [banner(flag, doc), Spacer(1, 6)]


def cohort_notice(c: CohortInfo, doc: Doc) -> list[Flowable]:
    lab = doc.lab
    if c.status != "released":
        return [
            Spacer(1, 6),
            banner(lab.text("no_comparison", status=lab.status(c.status)), doc),
        ]
    if c.synthetic:
        return [Spacer(1, 6), banner(lab.text("synthetic_banner"), doc)]
    return []


def compared_with(c: CohortInfo, doc: Doc) -> Paragraph:
    lab, st = doc.lab, doc.st
    source = esc(c.source_label)
    if c.synthetic:
        source = f'<font color="#B85C00"><b>{source.upper()}</b></font>'
    text = lab.text(
        "compared_with",
        cohort=esc(c.label or lab.status(c.status)),
        population=esc(c.population_label),
        n="@@N@@",
        source="@@SOURCE@@",
    )
    n = f"<b>{num(c.n, lab)}</b>"
    return Paragraph(text.replace("@@N@@", n).replace("@@SOURCE@@", source), st.body)


def data_age_line(c: CohortInfo, doc: Doc) -> Paragraph:
    """How old the benchmark figures are (release, or computed at export time, and the
    most recent month of the cohort)."""
    return Paragraph(esc(data_age(c, doc.lab, doc.today)), doc.st.small)


HEAD_MIN = 5.8  # smallest header font size


def fit_widths(
    titles: Sequence[str], total: float, doc: Doc, size: float = 6.8
) -> list[float]:
    """Column widths sharing ``total``: each at least as wide as the longest word of its
    title in bold at ``size`` (so head_cells need not shrink below it), the rest shared
    equally."""
    bold = doc.st.bold
    need = [
        max((stringWidth(w, bold, size) for w in t.split()), default=0.0) + 8.5
        for t in titles
    ]
    if sum(need) >= total:
        return [total * n / sum(need) for n in need]
    # raise the narrowest columns to one level L with sum(max(need, L)) == total
    order = sorted(need)
    level = total / len(need)
    for k in range(len(order)):
        level = (total - sum(order[k + 1 :])) / (k + 1)
        if k + 1 == len(order) or level <= order[k + 1]:
            break
    return [max(n, level) for n in need]


def head_cells(
    titles: Sequence[str], widths: Sequence[float], doc: Doc, size: float = 7.5
) -> list[Paragraph]:
    """Header cells whose words are never broken inside: a word that is too wide for its
    column is split after a hyphen it contains ("Engagement-" / "Phase"); one font size for
    the whole row, the largest at which every remaining word fits (at least HEAD_MIN)."""
    bold = doc.st.bold
    pad = 8.0  # LEFTPADDING + RIGHTPADDING of grid_style
    rows: list[list[str]] = []
    fit = size
    for title, width in zip(titles, widths, strict=True):
        room = width - pad
        words: list[str] = []
        for word in title.split():
            if stringWidth(word, bold, size) > room and "-" in word.strip("-"):
                head, _, tail = word.partition("-")
                words += [head + "-", "<br/>", tail]
            else:
                words.append(word)
        for word in words:
            if word != "<br/>":
                need = stringWidth(word, bold, 1)
                fit = min(fit, room / need if need else fit)
        rows.append(words)
    fit = max(HEAD_MIN, fit)
    style = ParagraphStyle(
        f"head{fit:.2f}", parent=doc.st.head, fontSize=fit, leading=fit * 1.22
    )
    out = []
    for words in rows:
        text = " ".join(esc(w) if w != "<br/>" else w for w in words)
        out.append(Paragraph(text.replace(" <br/> ", "<br/>"), style))
    return out


def metrics_table(report: AssessmentReport, doc: Doc, compact: bool = False) -> Table:
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
    w = doc.width
    widths = [w * x for x in (0.27, 0.07, 0.13, 0.08, 0.11, 0.14, 0.06, 0.14)]
    rows: list[list[Any]] = [head_cells(head, widths, doc)]
    for m in report.metrics:
        spread = f"{num(m.p25, lab)}–{num(m.p75, lab)}" if m.p25 is not None else ""
        rows.append(
            [
                Paragraph(esc(m.label), st.cell),
                num(m.value, lab),
                num(m.percentile_rank, lab) if m.status == "released" else "",
                num(m.median, lab) if m.median is not None else "",
                spread,
                num(m.distance_to_median, lab, signed=True)
                if m.distance_to_median is not None
                else "",
                num(m.n, lab) if m.n is not None else "",
                Paragraph(esc(lab.status(m.status)), st.small)
                if m.status != "released"
                else "",
            ]
        )
    t = Table(rows, colWidths=widths, repeatRows=1)
    style = grid_style(doc, len(rows), numeric_from=1, numeric_to=6)
    if compact:
        style.add("TOPPADDING", (0, 1), (-1, -1), 1.2)
        style.add("BOTTOMPADDING", (0, 1), (-1, -1), 1.2)
        style.add("FONTSIZE", (0, 1), (-1, -1), 7.5)
    t.setStyle(style)
    return t


def grid_style(doc: Doc, n_rows: int, numeric_from: int, numeric_to: int) -> TableStyle:
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


def recommendations(
    report: AssessmentReport, doc: Doc, limit: int | None = None
) -> list[Flowable]:
    """Ranked next steps; ``limit`` gives the compact top-n of a side-by-side page."""
    lab, st = doc.lab, doc.st
    compact = limit is not None
    recs = report.recommendations[:limit] if compact else report.recommendations
    out: list[Flowable] = [Paragraph(esc(lab.text("recommendations_title")), st.h2)]
    if not recs:
        out.append(Paragraph(esc(lab.text("no_recommendations")), st.body))
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
                Paragraph(esc(r.target_label), st.card_label),
                Paragraph(esc(r.text), text_style),
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
        out.append(Paragraph(esc(lab.text("recommendations_note")), st.small))
    return out


def methods_box(
    rows: Sequence[tuple[str, str]], doc: Doc, compact: bool = False
) -> list[Flowable]:
    lab, st = doc.lab, doc.st
    cell, bold = st.cell, st.cell_bold
    if compact:
        cell = ParagraphStyle("cellc", parent=cell, fontSize=7.2, leading=9)
        bold = ParagraphStyle("cellbc", parent=bold, fontSize=7.2, leading=9)
    data = [[Paragraph(esc(k), bold), Paragraph(esc(v), cell)] for k, v in rows]
    t = Table(data, colWidths=[doc.width * 0.24, doc.width * 0.76])
    t.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), PANEL),
                ("BOX", (0, 0), (-1, -1), 0.6, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -2), 0.25, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 2 if compact else 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2 if compact else 3),
            ]
        )
    )
    return [Paragraph(esc(lab.text("methods_title")), st.h2), t]


def methods_line(report: AssessmentReport, doc: Doc) -> Paragraph:
    """The methods of one assessment in one small paragraph (side-by-side pages)."""
    lab, c = doc.lab, report.cohort
    parts = [
        f"{lab.text('questionnaire')} {report.questionnaire_id} {report.version}",
        f"{lab.text('cohort')}: {c.label or lab.status(c.status)}",
        c.population_label,
        f"n = {num(c.n, lab)}",
        f"{lab.text('months')}: {month_range(c.months_from, c.months_to, lab)}",
        f"k = {c.k_min}",
        f"{lab.text('source')}: {c.source_label}",
    ]
    return Paragraph(
        esc(" · ".join(parts) + ". " + data_age(c, lab, doc.today)), doc.st.small
    )


def header_for(report: AssessmentReport, lab: Labels) -> str:
    return f"{report.questionnaire_title} – {lab.text('report_title')}"


def org_line(report: AssessmentReport) -> str:
    return f"{report.industry} · {report.size} · {report.country} ({report.region})"


def id_line(report: AssessmentReport, lab: Labels) -> str:
    """Which assessment (its display label when the export request gave one, else its id),
    when it was completed and on which questionnaire."""
    who = (
        f"{lab.text('assessment')}: {report.label}"
        if report.label
        else f"{lab.text('assessment_id')} {report.id}"
    )
    return (
        f"{who} · {lab.text('completed')} {long_date(report.completed, lab)} · "
        f"{lab.text('questionnaire')} {report.questionnaire_id} {report.version}"
    )


def pyramid_section(report: AssessmentReport, doc: Doc) -> list[Flowable]:
    lab, st = doc.lab, doc.st
    left = doc.width * 0.56
    tier = report.reached_tier_name or lab.text("no_tier")
    side: list[Flowable] = [
        Paragraph(
            f"{esc(lab.column('tier'))}: <b>{esc(tier)}</b> "
            f"({esc(lab.text('tier_of', level=report.pyramid_level))})",
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
                f"<b>{esc(t.name)}</b>: {num(t.score, lab)} – {esc(state)}", st.cell
            )
        )
    side.append(Spacer(1, 4))
    side.append(
        Paragraph(
            esc(lab.text("pyramid_note", threshold=report.tier_threshold)), st.small
        )
    )
    if report.blocked_by_name:
        side.append(Spacer(1, 4))
        side.append(
            Paragraph(
                esc(lab.text("blocked_by", tier=report.blocked_by_name)), st.banner
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
    return [Paragraph(esc(lab.text("pyramid_title")), st.h2), t]
