"""XLSX exports (xlsxwriter): formatted sheets with frozen header rows, native Excel charts and
a Methods sheet stating version, cohort, n, months, k, source and the rules behind the figures.

Every sheet is set up for printing (A4, landscape where it is wide, one page wide, its
header row repeated, a print area that covers its charts, sheets with charts on one page so
that no chart is cut by a page break) and sized from its content: column widths from the
longest entries, row heights from the lines of wrapped text (LibreOffice and Excel do not
grow a row for wrapped text that the file gives a height for).

One assessment is small and built in memory (``in_memory``). Side-by-side workbooks use
xlsxwriter's ``constant_memory`` mode: each row is flushed to a temporary file as soon as the
next row starts, so memory stays flat however many assessments are written (rows of a sheet
must be written top to bottom, which the single pass over the assessments does).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import xlsxwriter

from chalicelib.exports.csv_export import ASSESSMENT_COLUMNS, assessment_rows
from chalicelib.exports.model import (
    AssessmentReport,
    CohortRow,
    Labels,
    attribute_label,
    long_date,
    methods_rows,
    month_range,
)
from chalicelib.questionnaire import Questionnaire

ACCENT = "#1F5F8B"
ACCENT_LIGHT = "#DCE9F3"
GREY = "#9AA5B1"
WARN = "#B85C00"
WARN_LIGHT = "#FDEBD3"


class _Formats:
    def __init__(self, wb: Any) -> None:
        self.title = wb.add_format(
            {"bold": True, "font_size": 14, "font_color": ACCENT}
        )
        self.header = wb.add_format(
            {
                "bold": True,
                "bg_color": ACCENT_LIGHT,
                "bottom": 1,
                "text_wrap": True,
                "valign": "top",
            }
        )
        self.group = wb.add_format(
            {
                "bold": True,
                "bg_color": ACCENT,
                "font_color": "#FFFFFF",
                "align": "center",
            }
        )
        self.label = wb.add_format({"bold": True, "valign": "top"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.int = wb.add_format({"num_format": "0"})
        self.rank = wb.add_format({"num_format": "0", "valign": "top"})
        self.pct = wb.add_format({"num_format": "0.0"})
        self.dec = wb.add_format({"num_format": "0.00"})
        self.warn = wb.add_format(
            {
                "bold": True,
                "font_color": WARN,
                "bg_color": WARN_LIGHT,
                "text_wrap": True,
                "valign": "top",
            }
        )
        self.muted = wb.add_format({"font_color": "#6B7280", "italic": True})
        self.muted_wrap = wb.add_format(
            {
                "font_color": "#6B7280",
                "italic": True,
                "text_wrap": True,
                "valign": "top",
            }
        )
        self.current = wb.add_format({"bold": True, "bg_color": ACCENT_LIGHT})


def _created(created: datetime | None) -> dict[str, Any]:
    """The workbook's creation date: the export's time (xlsxwriter's default is now)."""
    return {} if created is None else {"created": created.replace(tzinfo=None)}


# --- page setup and sizes -----------------------------------------------------------------
OVERVIEW_WIDTH = 72
LINE_PT = 15.0  # height of one line of 11 pt text
CHART_ROW_PX = 20  # a default row, in pixels
CHART_COL_PX = 64  # a default column, in pixels


def _lines(text: str, width: float) -> int:
    """Lines a wrapped cell of ``width`` characters needs for ``text`` (a conservative
    estimate: one character per width unit, words kept whole)."""
    per_line = max(width - 1.5, 4.0)
    total = 0
    for para in text.split("\n"):
        line, count = 0, 1
        for word in para.split():
            need = len(word) + (1 if line else 0)
            if line and line + need > per_line:
                count += 1
                line = len(word)
            else:
                line += need
        total += count + max(0, math.ceil(line / per_line) - 1)
    return max(total, 1)


def _fit_row(ws: Any, row: int, cells: Sequence[tuple[str, float]]) -> None:
    """Row height for the wrapped texts of one row ((text, column width) pairs)."""
    lines = max((_lines(text, width) for text, width in cells), default=1)
    if lines > 1:
        ws.set_row(row, LINE_PT * lines + 3)


def _width(texts: Sequence[str], low: float, high: float) -> float:
    """A column width (characters) that shows the longest of ``texts``, within bounds."""
    longest = max((len(t) for t in texts), default=0)
    return max(low, min(high, longest + 2))


def _print(
    ws: Any,
    lab: Labels,
    last_row: int | None,
    last_col: int,
    *,
    landscape: bool,
    one_page: bool = False,
    header_rows: int = 1,
) -> None:
    """A4, one page wide (``one_page``: and one page tall, for sheets with charts), the
    header rows on every page, the sheet name and page number in the running header and
    footer, printed exactly ``last_row`` x ``last_col`` (charts included; ``last_row``
    None: the rows written, for sheets that grow row by row)."""
    ws.set_paper(9)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 1 if one_page else 0)
    ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.7)
    ws.center_horizontally()
    if last_row is not None:
        ws.print_area(0, 0, last_row, last_col)
    if header_rows:
        ws.repeat_rows(0, header_rows - 1)
    ws.set_header("&L&A")
    footer = lab.text("confidential").replace("&", "&&")
    ws.set_footer(f"&L{footer}&R{lab.text('page', n='&P')}")


def _chart_span(first: int, size_px: float, per_px: int) -> int:
    """The last row (or column) a chart of ``size_px`` covers from ``first``."""
    return first + math.ceil(size_px / per_px)


def _header(ws: Any, row: int, titles: Sequence[str], fmt: Any) -> None:
    for col, t in enumerate(titles):
        ws.write_string(row, col, t, fmt)


def _num(ws: Any, row: int, col: int, v: float | str | None, fmt: Any) -> None:
    """A number; a text (an n band such as ``10-19``) as a string cell."""
    if v is None:
        return
    if isinstance(v, str):
        ws.write_string(row, col, v)
        return
    ws.write_number(row, col, v, fmt)


def _sheet_name(name: str) -> str:
    for ch in "[]:*?/\\":
        name = name.replace(ch, " ")
    return name[:31]


def _methods_sheet(
    wb: Any, f: _Formats, lab: Labels, rows: list[tuple[str, str]], extra: str = ""
) -> None:
    ws = wb.add_worksheet(_sheet_name(lab.sheet("methods")))
    left = _width([k for k, _ in rows] + [lab.column("field")], 14, 34)
    ws.set_column(0, 0, left)
    ws.set_column(1, 1, 100)
    _header(ws, 0, [lab.column("field"), lab.column("content")], f.header)
    ws.freeze_panes(1, 0)
    if extra:
        rows = [*rows, (lab.text("methods_title"), extra)]
    r = 1
    for label, text in rows:
        ws.write_string(r, 0, label, f.label)
        ws.write_string(r, 1, text, f.wrap)
        _fit_row(ws, r, [(label, left), (text, 100)])
        r += 1
    _print(ws, lab, r - 1, 1, landscape=True)


def _data_sheet(wb: Any, f: _Formats, lab: Labels) -> Any:
    ws = wb.add_worksheet(_sheet_name(lab.sheet("data")))
    _header(ws, 0, ASSESSMENT_COLUMNS, f.header)
    ws.freeze_panes(1, 0)
    ws.set_column(0, 0, 34)
    ws.set_column(1, len(ASSESSMENT_COLUMNS) - 1, 14)
    ws.set_column(1, 1, 30)  # assessment_label
    ws.set_column(6, 6, 28)  # label
    ws.set_column(17, 17, 34)  # cohort_label
    _print(ws, lab, None, len(ASSESSMENT_COLUMNS) - 1, landscape=True)
    return ws


def _data_rows(ws: Any, row: int, report: AssessmentReport, f: _Formats) -> int:
    """The tidy table of the CSV export, with numbers as numbers (counts are n bands such
    as ``20-49``: text)."""
    numeric = {
        "value",
        "percentile_rank",
        "median",
        "p25",
        "p75",
        "distance_to_median",
        "distance_to_top_quartile",
        "k_min",
        "coverage_share",
    }
    for values in assessment_rows(report):
        for col, (name, v) in enumerate(zip(ASSESSMENT_COLUMNS, values, strict=True)):
            if v == "":
                continue
            if name in numeric:
                ws.write_number(row, col, float(v), f.pct if "." in v else f.int)
            else:
                ws.write_string(row, col, v)
        row += 1
    return row


# --- one assessment -----------------------------------------------------------------------
def assessment_workbook(
    report: AssessmentReport, lab: Labels, created: datetime | None = None
) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties(
        {
            "title": f"{lab.text('report_title')} {report.display_name}",
            "subject": f"{report.questionnaire_id} {report.version}",
            **_created(created),
        }
    )
    f = _Formats(wb)
    _overview_sheet(wb, f, report, lab)
    _comparison_sheet(wb, f, report, lab)
    _ladder_sheet(wb, f, report, lab)
    _recommendations_sheet(wb, f, report, lab)
    # Data (the CSV table) and methods
    _data_rows(_data_sheet(wb, f, lab), 1, report, f)
    _methods_sheet(
        wb,
        f,
        lab,
        methods_rows(
            report.questionnaire_id,
            report.version,
            report.cohort,
            lab,
            (created or datetime.now(UTC)).date().isoformat(),
        ),
    )
    wb.close()
    return buf.getvalue()


def _overview_sheet(
    wb: Any, f: _Formats, report: AssessmentReport, lab: Labels
) -> None:
    """Who, phase, tier, overall score and the cohort, one field per row."""
    c = report.cohort
    na = lab.text("not_available")
    ws = wb.add_worksheet(_sheet_name(lab.sheet("overview")))
    _header(ws, 0, [lab.column("field"), lab.column("content")], f.header)
    ws.freeze_panes(1, 0)
    overall = report.metric("overall")
    tier = report.reached_tier_name or lab.text("no_tier")
    rows: list[tuple[str, str | int | float | None, Any]] = [
        (lab.text("report_title"), report.questionnaire_title, f.label),
        (lab.text("assessment_id"), report.id, None),
        (lab.text("completed"), long_date(report.completed, lab), None),
        (
            lab.text("questionnaire"),
            f"{report.questionnaire_id} {report.version}",
            None,
        ),
        (lab.text("industry"), report.industry, None),
        (lab.text("size"), report.size, None),
        (lab.text("region"), f"{report.region} ({report.country})", None),
        (
            lab.column("phase"),
            f"{report.phase_text(lab)}: {report.phase_name}",
            f.current,
        ),
        (
            lab.column("tier"),
            f"{tier} ({lab.text('tier_of', level=report.pyramid_level)})",
            f.current,
        ),
        (lab.column("overall"), report.overall, f.int),
        (
            lab.column("overall_percentile"),
            overall.percentile_rank if overall else None,
            f.pct,
        ),
        (lab.text("cohort"), c.label or lab.status(c.status), None),
        (lab.text("population"), c.population_label, None),
        (lab.text("cohort_n"), c.n, f.int),
        (lab.text("months"), month_range(c.months_from, c.months_to, lab), None),
        (lab.text("k_min"), c.k_min, f.int),
        (lab.text("source"), c.source_label, f.warn if c.synthetic else None),
    ]
    if report.blocked_by_name:
        rows.insert(
            9, ("", lab.text("blocked_by", tier=report.blocked_by_name), f.warn)
        )
    flag = report.evidence_flag(lab)
    if flag:  # not assessable / low coverage: right under the identification
        rows.insert(8, (lab.text("evidence"), flag, f.warn))
    if report.label:  # the consultant's name for it, above its id
        rows.insert(1, (lab.text("assessment"), report.label, f.label))
    left = _width([str(k) for k, _, _ in rows], 16, 34)
    ws.set_column(0, 0, left)
    ws.set_column(1, 1, OVERVIEW_WIDTH)
    for r, (label, value, fmt) in enumerate(rows, 1):
        ws.write_string(r, 0, label, f.label)
        if value is None:
            ws.write_string(r, 1, na)
        elif isinstance(value, (int, float)):
            ws.write_number(r, 1, value, fmt)
        else:
            ws.write_string(r, 1, value, fmt) if fmt else ws.write_string(r, 1, value)
            if fmt is f.warn:  # wrapped
                _fit_row(ws, r, [(value, OVERVIEW_WIDTH)])
    r = len(rows) + 1
    notice = None
    if c.synthetic:
        ws.write_string(r, 0, "", f.warn)
        notice = lab.text("synthetic_banner")
    elif c.status != "released":
        notice = lab.text("no_comparison", status=lab.status(c.status))
    if notice is not None:  # the whole banner, never cut
        ws.write_string(r, 1, notice, f.warn)
        _fit_row(ws, r, [(notice, OVERVIEW_WIDTH)])
    _print(ws, lab, r, 1, landscape=False)


def _comparison_sheet(
    wb: Any, f: _Formats, report: AssessmentReport, lab: Labels
) -> None:
    """One row per metric, then the dimensions block for the radar chart; both charts."""
    c = report.cohort
    na = lab.text("not_available")
    cmp_name = _sheet_name(lab.sheet("comparison"))
    ws = wb.add_worksheet(cmp_name)
    titles = [
        lab.column("metric"),
        lab.column("value"),
        lab.column("percentile_rank"),
        lab.column("median"),
        lab.column("p25"),
        lab.column("p75"),
        lab.column("distance_to_median"),
        lab.column("distance_to_top_quartile"),
        lab.column("n"),
        lab.column("status"),
    ]
    _header(ws, 0, titles, f.header)
    ws.freeze_panes(1, 1)
    names = [m.label for m in report.metrics] + [d.name for d in report.dimensions]
    widths = [_width(names, 20, 40), *([12.0] * 8), 26.0]
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    _fit_row(ws, 0, list(zip(titles, widths, strict=True)))
    for r, m in enumerate(report.metrics, 1):
        ws.write_string(r, 0, m.label)
        ws.write_number(r, 1, m.value, f.int)
        _num(ws, r, 2, m.percentile_rank, f.pct)
        _num(ws, r, 3, m.median, f.int)
        _num(ws, r, 4, m.p25, f.int)
        _num(ws, r, 5, m.p75, f.int)
        _num(ws, r, 6, m.distance_to_median, f.int)
        _num(ws, r, 7, m.distance_to_top_quartile, f.int)
        _num(ws, r, 8, m.n, f.int)
        ws.write_string(r, 9, lab.status(m.status))
    last = len(report.metrics)
    dim_top = last + 3
    ws.write_string(dim_top - 1, 0, lab.text("radar_title"), f.label)
    _header(
        ws,
        dim_top,
        [
            lab.column("metric"),
            lab.text("this_organisation"),
            lab.text("cohort_median"),
        ],
        f.header,
    )
    dims = [d for d in report.dimensions if d.score is not None]
    for i, d in enumerate(dims, 1):
        ws.write_string(dim_top + i, 0, d.name)
        ws.write_number(dim_top + i, 1, d.score or 0, f.int)
        _num(ws, dim_top + i, 2, d.cohort_median, f.int)
    note_row = dim_top + len(dims) + 2
    note = lab.text(
        "compared_with",
        cohort=c.label or lab.status(c.status),
        population=c.population_label,
        n=c.n if c.n is not None else na,
        source=c.source_label,
    )
    ws.merge_range(
        note_row, 0, note_row, 9, note, f.warn if c.synthetic else f.muted_wrap
    )
    _fit_row(ws, note_row, [(note, sum(widths))])

    bar = wb.add_chart({"type": "bar"})
    bar.add_series(
        {
            "name": lab.text("percentile_title"),
            "categories": [cmp_name, 1, 0, last, 0],
            "values": [cmp_name, 1, 2, last, 2],
            "fill": {"color": ACCENT},
            "data_labels": {"value": True, "num_format": "0.0"},
            "gap": 60,
        }
    )
    bar.set_title(
        {
            "name": f"{lab.text('percentile_title')} – n = {c.n if c.n is not None else na}"
            f" – {c.source_label}",
            "name_font": {"size": 11, "color": WARN if c.synthetic else "#000000"},
        }
    )
    bar.set_x_axis(
        {"min": 0, "max": 100, "major_unit": 25, "major_gridlines": {"visible": True}}
    )
    bar.set_y_axis({"reverse": True})
    bar.set_legend({"none": True})
    bar.set_size({"width": 620, "height": 440})
    ws.insert_chart(1, 11, bar)

    radar = wb.add_chart({"type": "radar", "subtype": "marker"})
    radar.add_series(
        {
            "name": [cmp_name, dim_top, 1],
            "categories": [cmp_name, dim_top + 1, 0, dim_top + len(dims), 0],
            "values": [cmp_name, dim_top + 1, 1, dim_top + len(dims), 1],
            "line": {"color": ACCENT, "width": 2.25},
            "marker": {"type": "circle", "fill": {"color": ACCENT}},
        }
    )
    if any(d.cohort_median is not None for d in dims):
        radar.add_series(
            {
                "name": [cmp_name, dim_top, 2],
                "categories": [cmp_name, dim_top + 1, 0, dim_top + len(dims), 0],
                "values": [cmp_name, dim_top + 1, 2, dim_top + len(dims), 2],
                "line": {"color": GREY, "width": 1.5, "dash_type": "dash"},
                "marker": {"type": "none"},
            }
        )
    radar.set_title({"name": lab.text("radar_title"), "name_font": {"size": 11}})
    radar.set_y_axis({"min": 0, "max": 100, "major_unit": 20})
    radar.set_legend({"position": "bottom"})
    radar.set_size({"width": 620, "height": 420})
    ws.insert_chart(24, 11, radar)
    # one page: the table and both charts (rows and columns the charts cover included)
    last_row = max(note_row, _chart_span(24, 420, CHART_ROW_PX))
    _print(
        ws,
        lab,
        last_row,
        _chart_span(11, 620, CHART_COL_PX),
        landscape=True,
        one_page=True,
    )


def _ladder_sheet(wb: Any, f: _Formats, report: AssessmentReport, lab: Labels) -> None:
    """The engagement ladder, then the pyramid tiers."""
    ws = wb.add_worksheet(_sheet_name(lab.sheet("ladder")))
    _header(
        ws,
        0,
        [lab.column("phase"), lab.column("phase_name"), lab.column("score"), ""],
        f.header,
    )
    ws.freeze_panes(1, 0)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 36)
    ws.set_column(2, 2, 10)
    ws.set_column(3, 3, 40)
    state = {
        "current": lab.text("ladder_current"),
        "passed": lab.text("ladder_reached"),
        "met_above": lab.text("ladder_met_above"),
        "open": lab.text("ladder_open"),
    }
    for r, s in enumerate(report.ladder, 1):
        fmt = f.current if s.state == "current" else None
        ws.write_number(r, 0, s.number, fmt or f.int)
        ws.write_string(r, 1, s.name, fmt) if fmt else ws.write_string(r, 1, s.name)
        _num(ws, r, 2, s.score, f.int)
        ws.write_string(r, 3, state[s.state])
    top = len(report.ladder) + 2
    _header(
        ws,
        top,
        [lab.column("tier"), "", lab.column("score"), lab.column("status")],
        f.header,
    )
    for i, t in enumerate(reversed(report.tiers), 1):
        reached = t.reached
        fmt = f.current if reached else None
        label = (
            lab.text("pyramid_reached")
            if reached
            else lab.text("pyramid_met_not_reached")
            if t.met
            else lab.text("pyramid_open")
        )
        ws.write_string(top + i, 0, t.name, fmt) if fmt else ws.write_string(
            top + i, 0, t.name
        )
        _num(ws, top + i, 2, t.score, f.int)
        ws.write_string(top + i, 3, label)
    note_row = top + len(report.tiers) + 2
    notes = [(lab.text("pyramid_note", threshold=report.tier_threshold), f.muted_wrap)]
    if report.blocked_by_name:
        notes.append((lab.text("blocked_by", tier=report.blocked_by_name), f.warn))
    for i, (note, fmt) in enumerate(notes):  # across the table, wrapped, never cut
        ws.merge_range(note_row + i, 0, note_row + i, 3, note, fmt)
        _fit_row(ws, note_row + i, [(note, 100)])
    _print(ws, lab, note_row + len(notes) - 1, 3, landscape=False, one_page=True)


def _recommendations_sheet(
    wb: Any, f: _Formats, report: AssessmentReport, lab: Labels
) -> None:
    ws = wb.add_worksheet(_sheet_name(lab.sheet("recommendations")))
    _header(
        ws,
        0,
        [lab.column("rank"), lab.column("target"), lab.column("recommendation")],
        f.header,
    )
    ws.freeze_panes(1, 0)
    target = _width([r.target_label for r in report.recommendations], 20, 40)
    ws.set_column(0, 0, 8)
    ws.set_column(1, 1, target)
    ws.set_column(2, 2, 100)
    for r, rec in enumerate(report.recommendations, 1):
        ws.write_number(r, 0, rec.rank, f.rank)
        ws.write_string(r, 1, rec.target_label, f.wrap)
        ws.write_string(r, 2, rec.text, f.wrap)
        _fit_row(ws, r, [(rec.target_label, target), (rec.text, 100)])
    _print(ws, lab, max(len(report.recommendations), 1), 2, landscape=True)


# --- several assessments ------------------------------------------------------------------
class SideBySideWorkbook:
    """Overview, values, percentiles, recommendations and data of many assessments, written
    one assessment at a time (constant_memory)."""

    def __init__(
        self,
        lab: Labels,
        metrics: list[tuple[str, str]],
        expected: int,
        created: datetime | None = None,
        names: Sequence[str] = (),
    ) -> None:
        """``names``: what the rows will be called (display labels or ids), to size the
        first column before any row is written (constant_memory writes rows at once)."""
        self.lab = lab
        self.metrics = metrics
        self.buf = io.BytesIO()
        self.wb = xlsxwriter.Workbook(self.buf, {"constant_memory": True})
        self.wb.set_properties(
            {"title": lab.text("side_by_side_title"), **_created(created)}
        )
        self.f = f = _Formats(self.wb)
        self.row = 1
        self.rec_row = 1
        self.data_row = 1
        self.sources: dict[str, str] = {}
        self.populations: dict[str, str] = {}
        self.k: set[int] = set()
        self.versions: set[str] = set()

        self.overview_name = _sheet_name(lab.sheet("overview"))
        self.overview = ws = self.wb.add_worksheet(self.overview_name)
        self.overview_titles = [
            lab.column("assessment_label"),
            lab.column("month"),
            lab.text("version"),
            lab.column("phase"),
            lab.column("phase_name"),
            lab.column("tier"),
            lab.column("overall"),
            lab.column("overall_percentile"),
            lab.column("cohort"),
            lab.column("cohort_n"),
            lab.column("source"),
            lab.column("months"),
            lab.text("k_min"),
        ]
        self.name_width = name_width = _width(
            [*names, lab.column("assessment_label")], 14, 50
        )
        overview_widths = [name_width, 9, 9, 9, 26, 26, 12, 12, 44, 9, 24, 20, 9]
        for col, width in enumerate(overview_widths):
            ws.set_column(col, col, width)
        _fit_row(ws, 0, list(zip(self.overview_titles, overview_widths, strict=True)))
        _header(ws, 0, self.overview_titles, f.header)
        ws.freeze_panes(1, 1)
        # the chart stays at the top right, on the first page (one page wide; rows
        # continue on the next pages with the header row repeated)
        _print(
            ws,
            lab,
            max(expected, _chart_span(1, 360, CHART_ROW_PX)),
            _chart_span(14, 900, CHART_COL_PX),
            landscape=True,
        )
        if expected:
            chart = self.wb.add_chart({"type": "column"})
            chart.add_series(
                {
                    "name": lab.column("overall_percentile"),
                    "categories": [self.overview_name, 1, 0, expected, 0],
                    "values": [self.overview_name, 1, 7, expected, 7],
                    "fill": {"color": ACCENT},
                    "gap": 40,
                }
            )
            chart.set_title(
                {
                    "name": lab.text("chart_overall_percentile"),
                    "name_font": {"size": 11},
                }
            )
            chart.set_y_axis({"min": 0, "max": 100, "major_unit": 25})
            chart.set_x_axis({"num_font": {"rotation": -45, "size": 7}})
            chart.set_legend({"none": True})
            chart.set_size({"width": 900, "height": 360})
            ws.insert_chart(1, 14, chart)

        def wide(key: str) -> Any:
            w = self.wb.add_worksheet(_sheet_name(lab.sheet(key)))
            titles = [lab.column("assessment_label")] + [t for _, t in metrics]
            _fit_row(w, 0, [(t, 13) for t in titles[1:]])
            _header(w, 0, titles, f.header)
            w.freeze_panes(1, 1)
            w.set_column(0, 0, name_width)
            w.set_column(1, len(metrics), 13)
            _print(w, lab, None, len(metrics), landscape=True)
            return w

        self.values = wide("values")
        self.percentiles = wide("percentiles")
        if expected:
            self.percentiles.conditional_format(
                1,
                1,
                expected,
                len(metrics),
                {
                    "type": "3_color_scale",
                    "min_type": "num",
                    "min_value": 0,
                    "mid_type": "num",
                    "mid_value": 50,
                    "max_type": "num",
                    "max_value": 100,
                    "min_color": "#F4C7A1",
                    "mid_color": "#FFFFFF",
                    "max_color": "#A9CCE3",
                },
            )
        self.recs = w = self.wb.add_worksheet(_sheet_name(lab.sheet("recommendations")))
        _header(
            w,
            0,
            [
                lab.column("assessment_label"),
                lab.column("rank"),
                lab.column("target"),
                lab.column("recommendation"),
            ],
            f.header,
        )
        w.freeze_panes(1, 1)
        w.set_column(0, 0, name_width)
        w.set_column(1, 1, 7)
        w.set_column(2, 2, 34)
        w.set_column(3, 3, 100)
        _print(w, lab, None, 3, landscape=True)
        self.data = _data_sheet(self.wb, f, lab)

    def add(self, report: AssessmentReport) -> None:
        f, lab, r = self.f, self.lab, self.row
        c = report.cohort
        overall = report.metric("overall")
        ws = self.overview
        ws.write_string(r, 0, report.display_name)
        ws.write_string(r, 1, report.completed[:7])
        ws.write_string(r, 2, report.version)
        if report.phase is None:
            ws.write_string(r, 3, lab.text("not_assessable"), f.warn)
        else:
            ws.write_number(r, 3, report.phase, f.int)
        ws.write_string(r, 4, report.phase_name)
        ws.write_string(r, 5, report.reached_tier_name or lab.text("no_tier"))
        if report.overall is None:
            ws.write_string(r, 6, lab.text("not_assessable"), f.warn)
        else:
            ws.write_number(r, 6, report.overall, f.int)
        _num(ws, r, 7, overall.percentile_rank if overall else None, f.pct)
        ws.write_string(r, 8, c.label or lab.status(c.status))
        _num(ws, r, 9, c.n, f.int)
        ws.write_string(r, 10, c.source_label, f.warn if c.synthetic else None)
        ws.write_string(r, 11, c.months)
        ws.write_number(r, 12, c.k_min, f.int)
        by_name = {m.metric: m for m in report.metrics}
        for sheet, attr, fmt in (
            (self.values, "value", f.int),
            (self.percentiles, "percentile_rank", f.pct),
        ):
            sheet.write_string(r, 0, report.display_name)
            for col, (name, _) in enumerate(self.metrics, 1):
                m = by_name.get(name)
                _num(sheet, r, col, getattr(m, attr) if m else None, fmt)
        for rec in report.recommendations:
            self.recs.write_string(self.rec_row, 0, report.display_name, f.wrap)
            self.recs.write_number(self.rec_row, 1, rec.rank, f.rank)
            self.recs.write_string(self.rec_row, 2, rec.target_label, f.wrap)
            self.recs.write_string(self.rec_row, 3, rec.text, f.wrap)
            _fit_row(
                self.recs,
                self.rec_row,
                [
                    (report.display_name, self.name_width),
                    (rec.target_label, 34),
                    (rec.text, 100),
                ],
            )
            self.rec_row += 1
        self.data_row = _data_rows(self.data, self.data_row, report, f)
        self.sources[c.source] = c.source_label
        self.populations[c.population] = c.population_label
        self.k.add(c.k_min)
        self.versions.add(f"{report.questionnaire_id} {report.version}")
        self.row += 1

    def finish(self) -> bytes:
        lab = self.lab
        rows = [
            (lab.text("questionnaire"), ", ".join(sorted(self.versions))),
            (lab.text("k_min"), ", ".join(str(k) for k in sorted(self.k))),
            (
                lab.text("population"),
                ", ".join(self.populations[p] for p in sorted(self.populations)),
            ),
            (
                lab.text("source"),
                ", ".join(self.sources[s] for s in sorted(self.sources)),
            ),
            (
                lab.text("cohort"),
                (
                    f"{lab.column('cohort')}, {lab.column('cohort_n')}, "
                    f"{lab.column('months')}, {lab.column('source')}: "
                    f"{lab.sheet('overview')} / {lab.sheet('data')}"
                ),
            ),
        ]
        general = methods_rows("", "", None, lab)[1:]
        if "reference" not in self.sources:
            general = [r for r in general if r[1] != lab.text("method_reference")]
        _methods_sheet(self.wb, self.f, lab, rows + general)
        self.wb.close()
        return self.buf.getvalue()


# --- cohort tables ------------------------------------------------------------------------
def cohort_workbook(
    q: Questionnaire,
    by: str,
    rows: list[CohortRow],
    metrics: list[tuple[str, str]],
    params: Mapping[str, str],
    lab: Labels,
    created: datetime | None = None,
) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties(
        {
            "title": lab.text("cohort_table_title", by=lab.text(f"by_{by}")),
            **_created(created),
        }
    )
    f = _Formats(wb)
    name = _sheet_name(lab.sheet("cohorts"))
    ws = wb.add_worksheet(name)
    fixed = [
        lab.text(by),
        lab.text("cohort"),
        lab.column("status"),
        lab.column("n"),
        lab.column("source"),
        lab.column("months"),
    ]
    first = len(fixed)
    for col, t in enumerate(fixed):
        ws.merge_range(0, col, 1, col, t, f.header)
    for i, (_, label) in enumerate(metrics):
        c0 = first + 3 * i
        ws.merge_range(0, c0, 0, c0 + 2, label, f.group)
        for j, key in enumerate(("median", "p25", "p75")):
            ws.write_string(1, c0 + j, lab.column(key), f.header)
    ws.freeze_panes(2, 1)
    ws.set_column(0, 0, _width([r.label for r in rows] + [fixed[0]], 16, 48))
    ws.set_column(1, 1, _width([r.key for r in rows], 10, 24))
    ws.set_column(2, 2, _width([lab.status(r.status) for r in rows], 12, 36))
    ws.set_column(3, 3, 7)
    ws.set_column(4, 4, _width([r.source_label for r in rows], 12, 30))
    ws.set_column(5, 5, 18)
    ws.set_column(first, first + 3 * len(metrics) - 1, 8)
    # metric names over three narrow columns: as many lines as they need
    _fit_row(ws, 0, [(label, 24) for _, label in metrics])
    for r, row in enumerate(rows, 2):
        ws.write_string(r, 0, row.label, f.label if row.value == "*" else None)
        ws.write_string(r, 1, row.key)
        released = row.status == "released"
        ws.write_string(r, 2, lab.status(row.status), None if released else f.muted)
        _num(ws, r, 3, row.n, f.int)
        ws.write_string(r, 4, row.source_label, f.warn if row.synthetic else None)
        if row.months_from:
            ws.write_string(r, 5, f"{row.months_from} – {row.months_to}")
        stats = {s.metric: s for s in row.stats}
        for i, (m, _) in enumerate(metrics):
            s = stats.get(m)
            if s is None:
                continue
            _num(ws, r, first + 3 * i, s.median, f.int)
            _num(ws, r, first + 3 * i + 1, s.p25, f.int)
            _num(ws, r, first + 3 * i + 2, s.p75, f.int)
    last = len(rows) + 1
    if rows:
        chart = wb.add_chart({"type": "bar"})
        chart.add_series(
            {
                "name": lab.text("chart_overall_median"),
                "categories": [name, 2, 0, last, 0],
                "values": [name, 2, first, last, first],
                "fill": {"color": ACCENT},
                "data_labels": {"value": True},
                "gap": 50,
            }
        )
        chart.set_title(
            {"name": lab.text("chart_overall_median"), "name_font": {"size": 11}}
        )
        chart.set_x_axis({"min": 0, "max": 100, "major_unit": 25})
        chart.set_y_axis({"reverse": True, "num_font": {"size": 8}})
        chart.set_legend({"none": True})
        height = max(300, 22 * len(rows) + 80)
        chart.set_size({"width": 640, "height": height})
        ws.insert_chart(last + 3, 0, chart)
        last = _chart_span(last + 3, height, CHART_ROW_PX)
    # one page (the chart below the table is never cut), both header rows repeated
    _print(
        ws,
        lab,
        last,
        first + 3 * len(metrics) - 1,
        landscape=True,
        one_page=True,
        header_rows=2,
    )

    sources = {r.source: r.source_label for r in rows}
    populations = {r.population: r.population_label for r in rows}
    filters = [
        f"{lab.text(a)}: {attribute_label(q, a, params.get(a), lab)}"
        for a in ("industry", "size", "region")
        if a != by
    ]
    months = sorted(
        {m for r in rows for m in (r.months_from, r.months_to) if m is not None}
    )
    method = [
        (lab.text("questionnaire"), f"{q.id} {q.version}"),
        (lab.text("cohort"), "; ".join(filters)),
        (lab.text("population"), ", ".join(populations.values())),
        (lab.text("source"), ", ".join(sources[s] for s in sorted(sources))),
        (lab.text("k_min"), ", ".join(sorted({str(r.k_min) for r in rows}))),
        (
            lab.text("months"),
            f"{months[0]} – {months[-1]}" if months else lab.text("not_available"),
        ),
        (
            lab.text("cohort_table_title", by=lab.text(f"by_{by}")),
            lab.text("cohort_table_note"),
        ),
    ]
    general = methods_rows("", "", None, lab)[1:]
    if "reference" not in sources:
        general = [r for r in general if r[1] != lab.text("method_reference")]
    _methods_sheet(wb, f, lab, method + general)
    wb.close()
    return buf.getvalue()
