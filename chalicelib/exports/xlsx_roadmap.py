"""XLSX roadmap export: a "Roadmap" sheet (the target and its gap, then the steps with
owner and due quarter) and a "History" ("Verlauf") sheet (one row per round, version
changes marked, two native line charts). Same page setup as the other workbooks
(``xlsx_export._print``): A4 landscape, one page wide, the table's header row repeated;
the history sheet, which has charts, on one page."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import xlsxwriter

from chalicelib.exports.model import Labels
from chalicelib.exports.roadmap_report import (
    LINE_COLOURS,
    RoadmapReport,
    completed_line,
    pace_line,
)
from chalicelib.exports.xlsx_export import (
    ACCENT,
    CHART_COL_PX,
    CHART_ROW_PX,
    GREY,
    WARN,
    _chart_span,
    _created,
    _fit_row,
    _Formats,
    _header,
    _num,
    _print,
    _sheet_name,
    _width,
)


def roadmap_workbook(
    report: RoadmapReport, lab: Labels, created: datetime | None = None
) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties(
        {
            "title": f"{lab.text('roadmap_title')} {report.name}",
            "subject": f"{report.questionnaire_id} {report.version}",
            **_created(created),
        }
    )
    f = _Formats(wb)
    roadmap_sheet(wb, f, report, lab)
    history_sheet(wb, f, report, lab)
    wb.close()
    return buf.getvalue()


def roadmap_sheet(wb: Any, f: _Formats, report: RoadmapReport, lab: Labels) -> None:
    """The target and its gap on top, then one row per step; the steps' header row is
    repeated on every printed page."""
    ws = wb.add_worksheet(_sheet_name(lab.sheet("roadmap")))
    titles = [
        lab.column("rank"),
        lab.column("kind"),
        lab.column("gate"),
        lab.column("question"),
        lab.column("current_answer"),
        lab.column("needed_answer"),
        lab.column("why"),
        lab.column("recommendation"),
        lab.column("owner"),
        lab.column("due_quarter"),
        lab.column("impact"),
        lab.column("effort"),
        lab.column("question_id"),
    ]
    steps = report.steps
    widths = [
        7.0,
        _width([s.kind_label for s in steps] + [titles[1]], 12, 20),
        _width([s.gate_label for s in steps] + [titles[2]], 16, 30),
        46.0,
        24.0,
        24.0,
        40.0,
        50.0,
        _width([s.owner for s in steps] + [titles[8]], 14, 30),
        11.0,
        9.0,
        9.0,
        _width([s.question_id for s in steps] + [titles[12]], 12, 34),
    ]
    for col, w in enumerate(widths):
        ws.set_column(col, col, w)
    ws.write_string(0, 0, f"{lab.text('roadmap_title')} – {report.name}", f.title)
    ws.write_string(1, 0, completed_line(report, lab), f.muted)
    # the target and its gap
    ws.write_string(3, 0, lab.text("target_title"), f.label)
    _header(
        ws,
        4,
        [
            "",
            "",
            lab.column("metric"),
            lab.column("current"),
            lab.column("target_value"),
            lab.column("gap"),
        ],
        f.header,
    )
    r = 5
    for g in report.gap_rows:
        ws.write_string(r, 2, g.label, f.label)
        ws.write_string(r, 3, g.current, f.wrap)
        ws.write_string(r, 4, g.target, f.wrap)
        ws.write_string(r, 5, g.gap or lab.text("target_reached"), f.current)
        _fit_row(ws, r, [(g.current, widths[3]), (g.target, widths[4])])
        r += 1
    ws.write_string(r, 2, pace_line(report, lab), f.muted)
    r += 2
    head = r
    _header(ws, head, titles, f.header)
    _fit_row(ws, head, list(zip(titles, widths, strict=True)))
    ws.freeze_panes(head + 1, 0)
    r = head + 1
    impact = wb.add_format({"num_format": "0.0", "valign": "top"})
    for s in steps:
        fmt = f.warn if s.kind == "blocking" else f.wrap
        ws.write_number(r, 0, s.rank, f.rank)
        ws.write_string(r, 1, s.kind_label, fmt)
        ws.write_string(r, 2, s.gate_label, f.wrap)
        ws.write_string(r, 3, s.question, f.wrap)
        ws.write_string(r, 4, s.current_label, f.wrap)
        ws.write_string(r, 5, s.needed_label, f.wrap)
        ws.write_string(r, 6, s.why, f.wrap)
        ws.write_string(r, 7, s.advice, f.wrap)
        ws.write_string(r, 8, s.owner, f.wrap)
        ws.write_string(r, 9, s.due_quarter, f.wrap)
        ws.write_number(r, 10, s.impact, impact)
        ws.write_number(r, 11, s.effort, f.rank)
        ws.write_string(r, 12, s.question_id, f.muted)
        _fit_row(
            ws,
            r,
            [
                (s.kind_label, widths[1]),
                (s.gate_label, widths[2]),
                (s.question, widths[3]),
                (s.current_label, widths[4]),
                (s.needed_label, widths[5]),
                (s.why, widths[6]),
                (s.advice, widths[7]),
                (s.owner, widths[8]),
            ],
        )
        r += 1
    if not steps:
        ws.write_string(r, 3, lab.text("no_steps"), f.current)
        r += 1
    note_row = r + 1
    note = lab.text("roadmap_note")
    ws.merge_range(note_row, 0, note_row, len(titles) - 1, note, f.muted_wrap)
    _fit_row(ws, note_row, [(note, sum(widths))])
    _print(ws, lab, note_row, len(titles) - 1, landscape=True, header_rows=0)
    ws.repeat_rows(head)


def history_sheet(wb: Any, f: _Formats, report: RoadmapReport, lab: Labels) -> None:
    """One row per round (oldest first) with the version change marked, and two line
    charts over the rounds: the 0..100 scores and percentile rank, phase and pyramid
    level."""
    name = _sheet_name(lab.sheet("history"))
    ws = wb.add_worksheet(name)
    dims = list(report.dimension_names)
    titles = [
        lab.column("month"),
        lab.column("date"),
        lab.text("version"),
        lab.column("version_change"),
        lab.column("phase"),
        lab.column("pyramid_level"),
        lab.column("overall"),
        lab.column("overall_percentile"),
        *dims,
    ]
    rows = report.history
    widths = [
        _width([h.category(lab) for h in rows] + [titles[0]], 14, 44),
        12.0,
        9.0,
        _width([lab.text("version_mark", version=h.version) for h in rows], 14, 28),
        9.0,
        12.0,
        11.0,
        13.0,
        *([13.0] * len(dims)),
    ]
    for col, w in enumerate(widths):
        ws.set_column(col, col, w)
    _header(ws, 0, titles, f.header)
    _fit_row(ws, 0, list(zip(titles, widths, strict=True)))
    ws.freeze_panes(1, 1)
    for r, h in enumerate(rows, 1):
        ws.write_string(r, 0, h.category(lab), f.warn if h.version_changed else None)
        ws.write_string(r, 1, h.date)
        ws.write_string(r, 2, h.version)
        if h.version_changed:
            ws.write_string(r, 3, lab.text("version_mark", version=h.version), f.warn)
        _num(ws, r, 4, h.phase, f.int)
        _num(ws, r, 5, h.pyramid_level, f.int)
        _num(ws, r, 6, h.overall, f.int)
        _num(ws, r, 7, h.percentile, f.pct)
        for i, v in enumerate(h.dimensions):
            _num(ws, r, 8 + i, v, f.int)
    last = len(rows)
    note_row = last + 2
    note = lab.text("history_note") + (
        "" if len(rows) > 1 else " " + lab.text("no_history")
    )
    ws.merge_range(note_row, 0, note_row, 7, note, f.muted_wrap)
    _fit_row(ws, note_row, [(note, sum(widths[:8]))])
    last_row, last_col = note_row, len(titles) - 1
    if rows:
        top = note_row + 2
        scores = wb.add_chart({"type": "line"})
        series: list[tuple[int, str, str, float, str | None]] = [
            (6, lab.column("overall"), ACCENT, 2.5, None)
        ]
        series.append((7, lab.column("overall_percentile"), GREY, 1.75, "dash"))
        series += [
            (8 + i, d, LINE_COLOURS[i % len(LINE_COLOURS)], 1.25, None)
            for i, d in enumerate(dims)
        ]
        for col, label, colour, width, dash in series:
            line: dict[str, Any] = {"color": colour, "width": width}
            if dash:
                line["dash_type"] = dash
            scores.add_series(
                {
                    "name": label,
                    "categories": [name, 1, 0, last, 0],
                    "values": [name, 1, col, last, col],
                    "line": line,
                    "marker": {"type": "circle", "size": 5, "fill": {"color": colour}},
                }
            )
        scores.set_title(
            {"name": lab.text("history_chart_scores"), "name_font": {"size": 11}}
        )
        scores.set_y_axis({"min": 0, "max": 100, "major_unit": 20})
        scores.set_x_axis({"num_font": {"size": 8}})
        scores.set_legend({"position": "right"})
        scores.set_size({"width": 760, "height": 340})
        ws.insert_chart(top, 0, scores)
        levels = wb.add_chart({"type": "line"})
        for col, label, colour in (
            (4, lab.column("phase"), ACCENT),
            (5, lab.column("pyramid_level"), WARN),
        ):
            levels.add_series(
                {
                    "name": label,
                    "categories": [name, 1, 0, last, 0],
                    "values": [name, 1, col, last, col],
                    "line": {"color": colour, "width": 2.25},
                    "marker": {"type": "square", "size": 6, "fill": {"color": colour}},
                }
            )
        levels.set_title(
            {"name": lab.text("history_chart_levels"), "name_font": {"size": 11}}
        )
        levels.set_y_axis({"min": 0, "max": 7, "major_unit": 1})
        levels.set_x_axis({"num_font": {"size": 8}})
        levels.set_legend({"position": "right"})
        levels.set_size({"width": 760, "height": 260})
        second = _chart_span(top, 340, CHART_ROW_PX) + 1
        ws.insert_chart(second, 0, levels)
        last_row = max(last_row, _chart_span(second, 260, CHART_ROW_PX))
        last_col = max(last_col, _chart_span(0, 760, CHART_COL_PX))
    _print(ws, lab, last_row, last_col, landscape=True, one_page=True)
