"""The PDF roadmap report: the target and its gap, the history chart (version changes
marked on the timeline) and the roadmap's steps with owner and due quarter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine
from reportlab.lib import colors
from reportlab.platypus import Flowable, PageBreak, Paragraph, Spacer, Table

from chalicelib.exports.model import Labels
from chalicelib.exports.pdf.charts import _string, _wrap
from chalicelib.exports.pdf.engine import (
    ACCENT,
    INK,
    MUTED,
    OPEN,
    RULE,
    WARN,
    Doc,
    esc,
    fonts,
)
from chalicelib.exports.pdf.sections import block, grid_style, head_cells
from chalicelib.exports.roadmap_report import (
    LINE_COLOURS,
    HistoryRow,
    RoadmapReport,
    completed_line,
    pace_line,
)

PERCENTILE = colors.HexColor("#9AA5B1")


def _panel(
    d: Drawing,
    rows: tuple[HistoryRow, ...],
    x0: float,
    y0: float,
    w: float,
    h: float,
    top: float,
    ticks: tuple[int, ...],
    series: list[tuple[str, Any, float, list[int] | None, list[float | None]]],
) -> list[float]:
    """One line panel: axes, grid, one polyline (with dots) per series; returns the x of
    every round."""
    font = fonts()[0]
    n = len(rows)
    xs = [x0 + w * (i + 0.5) / n for i in range(n)]
    for t in ticks:
        y = y0 + h * t / top
        d.add(Line(x0, y, x0 + w, y, strokeColor=OPEN, strokeWidth=0.6))
        d.add(_string(x0 - 4, y - 2.5, str(t), font, 6.5, MUTED, "end"))
    d.add(Line(x0, y0, x0 + w, y0, strokeColor=RULE, strokeWidth=0.6))
    for _, colour, width, dash, values in series:
        pts = [
            (x, y0 + h * min(max(v, 0.0), top) / top)
            for x, v in zip(xs, values, strict=True)
            if v is not None
        ]
        if len(pts) > 1:
            flat = [c for p in pts for c in p]
            d.add(
                PolyLine(
                    flat, strokeColor=colour, strokeWidth=width, strokeDashArray=dash
                )
            )
        for x, y in pts:
            d.add(Circle(x, y, 1.8, fillColor=colour, strokeColor=None))
    return xs


def history_drawing(report: RoadmapReport, lab: Labels, width: float) -> Drawing:
    """The rounds over time: overall index, percentile rank and dimensions (0..100) above,
    phase (0..7) and pyramid level (0..5) below; a dashed orange line where the
    questionnaire version changed, labelled with the new version."""
    font, bold = fonts()
    rows = report.history
    legend_w = 150.0
    x0, w = 26.0, width - 26.0 - legend_w
    height = 300.0
    d = Drawing(width, height)
    top_y, top_h = 132.0, 140.0
    low_y, low_h = 30.0, 78.0
    scores: list[tuple[str, Any, float, list[int] | None, list[float | None]]] = [
        (
            lab.column("overall"),
            ACCENT,
            2.2,
            None,
            [None if r.overall is None else float(r.overall) for r in rows],
        ),
        (
            lab.column("overall_percentile"),
            PERCENTILE,
            1.4,
            [3, 2],
            [r.percentile for r in rows],
        ),
    ]
    for i, name in enumerate(report.dimension_names):
        scores.append(
            (
                name,
                colors.HexColor(LINE_COLOURS[i % len(LINE_COLOURS)]),
                0.9,
                None,
                [
                    None if r.dimensions[i] is None else float(r.dimensions[i] or 0)
                    for r in rows
                ],
            )
        )
    levels: list[tuple[str, Any, float, list[int] | None, list[float | None]]] = [
        (
            lab.column("phase"),
            ACCENT,
            2.0,
            None,
            [None if r.phase is None else float(r.phase) for r in rows],
        ),
        (
            lab.column("pyramid_level"),
            WARN,
            2.0,
            [4, 2],
            [None if r.pyramid_level is None else float(r.pyramid_level) for r in rows],
        ),
    ]
    d.add(
        _string(x0, top_y + top_h + 14, lab.text("history_chart_scores"), bold, 8, INK)
    )
    d.add(
        _string(x0, low_y + low_h + 10, lab.text("history_chart_levels"), bold, 8, INK)
    )
    xs = _panel(d, rows, x0, top_y, w, top_h, 100, (0, 25, 50, 75, 100), scores)
    _panel(d, rows, x0, low_y, w, low_h, 7, (0, 1, 2, 3, 4, 5, 6, 7), levels)
    for x, r in zip(xs, rows, strict=True):
        for j, line in enumerate(
            _wrap(r.when, font, 6.5, max(w / len(rows) - 4, 30))[:2]
        ):
            d.add(_string(x, low_y - 10 - j * 8, line, font, 6.5, INK, "middle"))
        if r.version_changed:
            d.add(
                Line(
                    x,
                    low_y,
                    x,
                    top_y + top_h + 4,
                    strokeColor=WARN,
                    strokeWidth=1,
                    strokeDashArray=[2, 2],
                )
            )
            d.add(
                _string(
                    x + 3,
                    top_y + top_h - 6,
                    lab.text("version_mark", version=r.version),
                    bold,
                    6.5,
                    WARN,
                )
            )
    lx = width - legend_w + 10
    entries = [(n, c, dash) for n, c, _, dash, _ in scores + levels]
    for i, (name, colour, dash) in enumerate(entries):
        y = top_y + top_h - i * 13
        d.add(
            Line(
                lx,
                y + 2.5,
                lx + 16,
                y + 2.5,
                strokeColor=colour,
                strokeWidth=1.8,
                strokeDashArray=dash,
            )
        )
        label = _wrap(name, font, 6.8, legend_w - 30)[0]
        d.add(_string(lx + 21, y, label, font, 6.8, INK))
    return d


def gap_table(report: RoadmapReport, doc: Doc) -> Table:
    lab, st = doc.lab, doc.st
    head = [
        lab.column("metric"),
        lab.column("current"),
        lab.column("target_value"),
        lab.column("gap"),
    ]
    w = doc.width
    widths = [w * x for x in (0.22, 0.34, 0.34, 0.10)]
    data: list[list[Any]] = [head_cells(head, widths, doc)]
    for g in report.gap_rows:
        data.append(
            [
                Paragraph(f"<b>{esc(g.label)}</b>", st.cell),
                Paragraph(esc(g.current), st.cell),
                Paragraph(esc(g.target), st.cell),
                Paragraph(esc(g.gap or lab.text("target_reached")), st.cell),
            ]
        )
    t = Table(data, colWidths=widths, repeatRows=1)
    t.setStyle(grid_style(doc, len(data), numeric_from=3, numeric_to=3))
    return t


def roadmap_table(report: RoadmapReport, doc: Doc) -> list[Flowable]:
    """The steps: rank, question with its phase/tier/dimension and why, current and
    needed answer, owner and due quarter."""
    lab, st = doc.lab, doc.st
    if not report.steps:
        return [Paragraph(esc(lab.text("no_steps")), st.body)]
    head = [
        "#",
        lab.column("question"),
        f"{lab.column('current_answer')} / {lab.column('needed_answer')}",
        lab.column("owner"),
        lab.column("due_quarter"),
    ]
    w = doc.width
    widths = [w * x for x in (0.05, 0.47, 0.26, 0.12, 0.10)]
    data: list[list[Any]] = [head_cells(head, widths, doc)]
    for s in report.steps:
        kind = esc(s.kind_label)
        if s.kind == "blocking":
            kind = f'<font color="#B85C00"><b>{kind}</b></font>'
        data.append(
            [
                str(s.rank),
                [
                    Paragraph(f"<b>{esc(s.question)}</b>", st.cell),
                    Paragraph(f"{kind} · {esc(s.gate_label)}", st.small),
                    Paragraph(esc(s.why), st.small),
                ],
                [
                    Paragraph(esc(s.current_label), st.small),
                    Paragraph(f"<b>{esc(s.needed_label)}</b>", st.cell),
                ],
                Paragraph(esc(s.owner or lab.text("owner_open")), st.cell),
                Paragraph(esc(s.due_quarter), st.cell),
            ]
        )
    t = Table(data, colWidths=widths, repeatRows=1)
    style = grid_style(doc, len(data), numeric_from=0, numeric_to=0)
    style.add("VALIGN", (0, 0), (-1, -1), "TOP")
    t.setStyle(style)
    return [t]


def roadmap_section(report: RoadmapReport, doc: Doc) -> list[Flowable]:
    lab, st = doc.lab, doc.st
    return [
        Paragraph(esc(lab.text("roadmap_steps_title")), st.h2),
        Paragraph(esc(pace_line(report, lab)), st.small),
        Spacer(1, 4),
        *roadmap_table(report, doc),
        Spacer(1, 4),
        Paragraph(esc(lab.text("roadmap_note")), st.small),
    ]


def history_section(report: RoadmapReport, doc: Doc) -> list[Flowable]:
    lab, st = doc.lab, doc.st
    items: list[Flowable] = [Paragraph(esc(lab.text("history_title")), st.h2)]
    if report.history:
        items.append(history_drawing(report, lab, doc.width))
    note = lab.text("history_note")
    if len(report.history) <= 1:
        note += " " + lab.text("no_history")
    items.append(Paragraph(esc(note), st.small))
    return [block(items, doc.width)]


def roadmap_report(
    report: RoadmapReport,
    lab: Labels,
    branding: Any = None,
    created: datetime | None = None,
) -> bytes:
    """Page 1: who, where it stands, the target and its gap, the history chart; then the
    steps (as many pages as they need, the table header repeated)."""
    doc = Doc(
        lab,
        title=f"{lab.text('roadmap_title')} – {report.name}",
        subject=f"{report.questionnaire_id} {report.version}",
        header=f"{report.questionnaire_title} – {lab.text('roadmap_title')}",
        brand=branding,
        created=created,
    )
    st = doc.st
    overall = (
        lab.text("not_assessable")
        if report.overall is None
        else lab.text("out_of_100", value=report.overall)
    )
    doc.flow(
        [
            Paragraph(esc(lab.text("roadmap_title")), st.h1),
            Paragraph(esc(f"{lab.text('organisation')}: {report.name}"), st.body),
            Paragraph(esc(completed_line(report, lab)), st.small),
            Spacer(1, 6),
            Paragraph(
                esc(
                    f"{lab.column('phase')}: {report.phase_text} · "
                    f"{lab.column('tier')}: {report.tier_text} · "
                    f"{lab.column('overall')}: {overall}"
                ),
                st.body,
            ),
            Paragraph(esc(lab.text("target_title")), st.h2),
            gap_table(report, doc),
            Spacer(1, 8),
            *history_section(report, doc),
            # the steps on pages of their own; "no open steps" stays on page 1
            PageBreak() if report.steps else Spacer(1, 8),
            *roadmap_section(report, doc),
        ]
    )
    return doc.finish()
