"""CSV exports: one tidy table (one row per assessment x metric, or per cohort x metric).

Encoding ``utf-8-sig``: UTF-8 with a byte order mark, so Excel shows umlauts correctly when
the file is opened by double-click; Python reads it with ``encoding="utf-8-sig"``.
``\\r\\n`` line ends (RFC 4180), empty cell = no value. Two number formats (``csv_locale``,
by default the export's language), so that Excel reads the numbers as numbers:

- ``en``: fields separated by ``,``, decimal point ``.`` (``64.9``), as RFC 4180 and English
  Excel expect;
- ``de``: fields separated by ``;``, decimal comma ``,`` (``64,9``), as German Excel expects.

Only the numeric columns (``NUMERIC``) change; dates (``2026-11``), ids, ``true``/``false``
and labels are the same in both. Column names are fixed English identifiers
(docs/EXPORTS.md); labels in the cells follow the export language. Every row repeats what the
figures rest on: questionnaire version, cohort and its n, month range, k and the source
(real or "reference (synthetic)"). ``assessment_label`` is the display label the export
request gave for the assessment (empty without one).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from chalicelib.exports.model import AssessmentReport, CohortRow

ENCODING = "utf-8-sig"
# csv_locale -> (field separator, decimal mark)
LOCALES: dict[str, tuple[str, str]] = {"en": (",", "."), "de": (";", ",")}

ASSESSMENT_COLUMNS: tuple[str, ...] = (
    "assessment_id",
    "assessment_label",
    "questionnaire",
    "version",
    "language",
    "metric",
    "label",
    "value",
    "percentile_rank",
    "median",
    "p25",
    "p75",
    "distance_to_median",
    "distance_to_top_quartile",
    "metric_n",
    "status",
    "cohort_key",
    "cohort_label",
    "cohort_n",
    "cohort_status",
    "requested_cohort_key",
    "source",
    "source_label",
    "synthetic",
    "population",
    "k_min",
    "months_from",
    "months_to",
    "assessable",
    "coverage_share",
    "low_coverage",
)

COHORT_COLUMNS: tuple[str, ...] = (
    "questionnaire",
    "version",
    "by",
    "value",
    "cohort_key",
    "cohort_label",
    "cohort_status",
    "cohort_n",
    "metric",
    "label",
    "metric_n",
    "median",
    "p25",
    "p75",
    "mean",
    "status",
    "source",
    "source_label",
    "synthetic",
    "population",
    "k_min",
    "months_from",
    "months_to",
)

# columns holding numbers (decimal mark by locale)
NUMERIC: frozenset[str] = frozenset(
    {
        "value",
        "percentile_rank",
        "median",
        "p25",
        "p75",
        "mean",
        "distance_to_median",
        "distance_to_top_quartile",
        "metric_n",
        "cohort_n",
        "k_min",
        "coverage_share",
    }
)


def cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def assessment_rows(report: AssessmentReport) -> Iterable[list[str]]:
    """One line per metric; a result without any assessable metric still gets one line
    (metric empty, status ``not_assessable``), so its flag is never lost."""
    c = report.cohort
    flags = (report.assessable, round(report.coverage_share, 2), report.low_coverage)
    cohort = (
        c.key,
        c.label,
        c.n,
        c.status,
        c.requested_key,
        c.source,
        c.source_label,
        c.synthetic,
        c.population,
        c.k_min,
        c.months_from,
        c.months_to,
    )
    if not report.metrics:
        empty = [None] * 11
        yield [
            cell(v)
            for v in (
                report.id,
                report.label,
                report.questionnaire_id,
                report.version,
                report.language,
                *empty[:10],
                "not_assessable",
                *cohort,
                *flags,
            )
        ]
    for m in report.metrics:
        yield [
            cell(v)
            for v in (
                report.id,
                report.label,
                report.questionnaire_id,
                report.version,
                report.language,
                m.metric,
                m.label,
                m.value,
                m.percentile_rank,
                m.median,
                m.p25,
                m.p75,
                m.distance_to_median,
                m.distance_to_top_quartile,
                m.n,
                m.status,
                *cohort,
                *flags,
            )
        ]


def cohort_rows(
    q_id: str, version: str, metrics: list[tuple[str, str]], row: CohortRow
) -> Iterable[list[str]]:
    """One line per metric of the cohort; a cohort that is not released gets its lines with
    status only (no n, no figures)."""
    stats = {s.metric: s for s in row.stats}
    for name, label in metrics:
        s = stats.get(name)
        status = s.status if s is not None else row.status
        if row.status == "released" and s is None:
            status = "no_data"
        yield [
            cell(v)
            for v in (
                q_id,
                version,
                row.by,
                row.value,
                row.key,
                row.label,
                row.status,
                row.n,
                name,
                label,
                s.n if s else None,
                s.median if s else None,
                s.p25 if s else None,
                s.p75 if s else None,
                s.mean if s else None,
                status,
                row.source,
                row.source_label,
                row.synthetic,
                row.population,
                row.k_min,
                row.months_from,
                row.months_to,
            )
        ]


class CsvWriter:
    """Streams rows into one in-memory text buffer (a few hundred bytes per row), in the
    number format of ``locale`` (``LOCALES``)."""

    def __init__(self, columns: tuple[str, ...], locale: str = "en") -> None:
        sep, self._decimal = LOCALES[locale]
        self._numeric = [i for i, name in enumerate(columns) if name in NUMERIC]
        self._buf = io.StringIO()
        self._csv = csv.writer(self._buf, delimiter=sep, lineterminator="\r\n")
        self._csv.writerow(columns)

    def write(self, rows: Iterable[list[str]]) -> None:
        if self._decimal == ".":
            self._csv.writerows(rows)
            return
        for row in rows:
            for i in self._numeric:
                row[i] = row[i].replace(".", self._decimal)
            self._csv.writerow(row)

    def finish(self) -> bytes:
        return self._buf.getvalue().encode(ENCODING)
