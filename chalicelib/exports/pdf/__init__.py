"""PDF reports (reportlab): the client report of one assessment, side-by-side reports of many,
and cohort tables.

The report of one assessment: title block with the organisation's phase and pyramid tier,
the engagement ladder (8 steps, current highlighted), the pyramid (5 tiers with scores,
reached tier highlighted, "blocked by" note), a radar chart of the dimensions against the
cohort median, the percentile ranks against the cohort (n and source label; "reference
(synthetic)" as a banner), the metric table, ranked recommendations and a methods box.

Modules: ``engine`` (colours, font, styles, the page loop), ``charts`` (drawings),
``sections`` (the building blocks of a page), ``documents`` (the three documents),
``roadmap`` (the roadmap report: target, gap, history chart, steps).
"""

from __future__ import annotations

from chalicelib.exports.pdf.charts import (
    ladder_drawing,
    percentile_drawing,
    pyramid_drawing,
    radar_drawing,
)
from chalicelib.exports.pdf.documents import (
    SideBySideReport,
    assessment_report,
    cohort_report,
)
from chalicelib.exports.pdf.engine import num
from chalicelib.exports.pdf.roadmap import history_drawing, roadmap_report

__all__ = [
    "SideBySideReport",
    "assessment_report",
    "cohort_report",
    "history_drawing",
    "ladder_drawing",
    "num",
    "percentile_drawing",
    "pyramid_drawing",
    "radar_drawing",
    "roadmap_report",
]
