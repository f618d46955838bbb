"""The drawings of the PDF reports: engagement ladder, pyramid, radar of the dimensions and
the percentile bars, drawn from plain reportlab shapes."""

from __future__ import annotations

import math
from typing import Any

from reportlab.graphics.shapes import Drawing, Line, Polygon, Rect, String
from reportlab.pdfbase.pdfmetrics import stringWidth

from chalicelib.exports.model import AssessmentReport, Labels
from chalicelib.exports.pdf.engine import (
    ACCENT,
    ACCENT_LIGHT,
    ACCENT_MID,
    INK,
    MUTED,
    OPEN,
    RULE,
    WARN,
    WHITE,
    fonts,
    num,
)


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
    font, bold = fonts()
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
    bold = fonts()[1]
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
    font, bold = fonts()
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
    font, bold = fonts()
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
