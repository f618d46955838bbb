"""The sections the PDF documents are built from: key-figure cards, banners, the cohort line,
the metric table, recommendations, the pyramid section and the methods box."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from chalicelib.exports.model import AssessmentReport, CohortInfo, Labels
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
    rows: list[list[Any]] = [[Paragraph(esc(h), st.head) for h in head]]
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
    w = doc.width
    widths = [w * x for x in (0.27, 0.07, 0.13, 0.08, 0.11, 0.12, 0.06, 0.16)]
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


def methods_box(rows: Sequence[tuple[str, str]], doc: Doc) -> list[Flowable]:
    lab, st = doc.lab, doc.st
    data = [
        [Paragraph(esc(k), st.cell_bold), Paragraph(esc(v), st.cell)] for k, v in rows
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
    return [Paragraph(esc(lab.text("methods_title")), st.h2), t]


def methods_line(report: AssessmentReport, doc: Doc) -> Paragraph:
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
    return Paragraph(esc(" · ".join(parts)), doc.st.small)


def header_for(report: AssessmentReport, lab: Labels) -> str:
    return f"{report.questionnaire_title} – {lab.text('report_title')}"


def org_line(report: AssessmentReport) -> str:
    return f"{report.industry} · {report.size} · {report.country} ({report.region})"


def id_line(report: AssessmentReport, lab: Labels) -> str:
    return (
        f"{lab.text('assessment_id')} {report.id} · {lab.text('completed')} "
        f"{report.completed} · {lab.text('questionnaire')} {report.questionnaire_id} "
        f"{report.version}"
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
