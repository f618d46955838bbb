"""Consultant exports: one assessment against its cohort, several side by side, and tables of
released cohort statistics, as CSV, XLSX or PDF (docs/EXPORTS.md).

Every figure comes from the benchmark use cases (``BenchmarkService.compare_record`` and
``cohort_statistics``), so every figure is one of the latest benchmark release and an
export always shows what the API shows. Callers authorise records themselves
(``AssessmentService.authorize`` with a token or a partner id) and pass them in.

Writers are imported on first use, so importing this package costs nothing on other routes;
none of them imports numpy or scipy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.errors import InvalidInput
from chalicelib.exports.model import (
    ATTRIBUTES,
    AssessmentReport,
    CohortRow,
    Labels,
    build_report,
    check_csv_locale,
    check_display_labels,
    cohort_row,
    labels,
)

if TYPE_CHECKING:
    from chalicelib.assessments import AssessmentService
    from chalicelib.benchmarks import BenchmarkService
    from chalicelib.questionnaire import Catalog, Questionnaire
    from chalicelib.records import AssessmentRecord

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
CONTENT_TYPES: dict[str, str] = {"csv": CSV, "xlsx": XLSX, "pdf": PDF}
# Content types API Gateway must treat as binary (app.api.binary_types); CSV is text.
BINARY_TYPES: tuple[str, ...] = (PDF, XLSX)
FORMATS: tuple[str, ...] = tuple(CONTENT_TYPES)
# Query parameters that select the comparison cohort (as on /comparison).
COMPARISON_PARAMS: tuple[str, ...] = (
    "source",
    "population",
    "industry",
    "size",
    "region",
)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Export:
    body: bytes
    content_type: str
    filename: str

    @property
    def is_binary(self) -> bool:
        return self.content_type in BINARY_TYPES


def check_format(fmt: str | None, pointer: str = "/query/format") -> str:
    """``csv``, ``xlsx`` or ``pdf`` (case-insensitive); anything else is a 422 naming the
    parameter (``/query/format``) or body field (``/format``)."""
    f = (fmt or "").strip().lower()
    if f not in CONTENT_TYPES:
        raise InvalidInput(
            "format must be csv, xlsx or pdf",
            [(pointer, f"{fmt!r} is not an export format; one of csv, xlsx, pdf")],
        )
    return f


def comparison_params(params: Mapping[str, str | None] | None) -> dict[str, str]:
    """The cohort-selecting parameters only (``format``, ``lang`` etc. are not passed on;
    unset ones, None or empty, are dropped)."""
    return {k: v for k, v in (params or {}).items() if k in COMPARISON_PARAMS and v}


class ExportService:
    def __init__(
        self,
        assessments: AssessmentService,
        benchmarks: BenchmarkService,
        catalog: Catalog,
    ) -> None:
        self.assessments = assessments
        self.benchmarks = benchmarks
        self.catalog = catalog

    # --- building blocks ----------------------------------------------------------------
    def _now(self) -> datetime:
        """When the export is made (the service's clock): printed in the reports and set as
        the files' creation date."""
        return self.assessments.clock()

    def _questionnaire(self, rec: AssessmentRecord) -> Questionnaire:
        return self.catalog.get(rec.questionnaire_id, rec.version)

    def report(
        self,
        rec: AssessmentRecord,
        language: str,
        params: Mapping[str, str | None] | None = None,
        label: str | None = None,
    ) -> AssessmentReport:
        """The data of one assessment's report: its result and its comparison, named by
        its display ``label`` when the export request gave one."""
        lab = labels(language)
        view = self.assessments.view(rec, language)
        comparison = self.benchmarks.compare_record(
            rec, comparison_params(params), language
        )
        report = build_report(view.questionnaire, view, comparison, lab)
        return dataclasses.replace(report, label=label) if label else report

    def _reports(
        self,
        records: list[AssessmentRecord],
        language: str,
        params: Mapping[str, str | None] | None,
        progress: Progress | None,
        display: Mapping[str, str] | None = None,
    ) -> Iterator[AssessmentReport]:
        """One report at a time: the caller writes it out and drops it."""
        total = len(records)
        for i, rec in enumerate(records, 1):
            yield self.report(rec, language, params, (display or {}).get(rec.id))
            if progress is not None:
                progress(i, total)

    def _metric_columns(
        self, records: list[AssessmentRecord], language: str
    ) -> list[tuple[str, str]]:
        """(metric, label) over every questionnaire version among the records."""
        out: dict[str, str] = {}
        seen: set[tuple[str, str]] = set()
        for rec in records:
            if (rec.questionnaire_id, rec.version) in seen:
                continue
            seen.add((rec.questionnaire_id, rec.version))
            q = self._questionnaire(rec)
            for m in q.metric_names():
                out.setdefault(m, q.metric_label(m, language))
        return list(out.items())

    # --- exports ------------------------------------------------------------------------
    def assessment(
        self,
        rec: AssessmentRecord,
        fmt: str,
        language: str,
        params: Mapping[str, str | None] | None = None,
        *,
        format_pointer: str = "/query/format",
        branding: Any = None,
        label: str | None = None,
        csv_locale: str | None = None,
    ) -> Export:
        """One assessment against its cohort (or the cohort ``params`` select); the PDF in
        the white label of the partner that created it (``branding``). ``label``: the
        display name shown instead of the id; ``csv_locale`` (or the ``csv_locale``
        parameter): the CSV's number format, by default the language's."""
        fmt = check_format(fmt, format_pointer)
        lab = labels(language)
        locale = check_csv_locale(
            csv_locale if csv_locale is not None else (params or {}).get("csv_locale"),
            language,
            "/query/csv_locale" if csv_locale is None else "/csv_locale",
        )
        display = check_display_labels({rec.id: label} if label else None, [rec.id])
        report = self.report(rec, language, params, display.get(rec.id))
        name = f"{report.questionnaire_id}-report-{rec.id[:12]}-{language}.{fmt}"
        now = self._now()
        if fmt == "csv":
            from chalicelib.exports import csv_export

            w = csv_export.CsvWriter(csv_export.ASSESSMENT_COLUMNS, locale)
            w.write(csv_export.assessment_rows(report))
            body = w.finish()
        elif fmt == "xlsx":
            from chalicelib.exports import xlsx_export

            body = xlsx_export.assessment_workbook(report, lab, now)
        else:
            from chalicelib.exports import pdf

            body = pdf.assessment_report(report, lab, branding, created=now)
        return Export(body, CONTENT_TYPES[fmt], name)

    def side_by_side(
        self,
        records: list[AssessmentRecord],
        fmt: str,
        language: str,
        params: Mapping[str, str | None] | None = None,
        progress: Progress | None = None,
        *,
        format_pointer: str = "/query/format",
        display_labels: Mapping[str, str] | None = None,
        csv_locale: str | None = None,
    ) -> Export:
        """Several assessments, each against its own cohort (or the cohort ``params``
        select), in the order given. Streams: one assessment's report is built, written and
        dropped before the next, so memory does not grow with the full reports.
        ``display_labels``: assessment id -> the name shown instead of the id (ids of this
        export only; used for this file and dropped)."""
        fmt = check_format(fmt, format_pointer)
        lab = labels(language)
        locale = check_csv_locale(csv_locale, language, "/csv_locale")
        display = check_display_labels(display_labels, [r.id for r in records])
        name = f"assessments-{len(records)}-{language}.{fmt}"
        now = self._now()
        if fmt == "csv":
            from chalicelib.exports import csv_export

            w = csv_export.CsvWriter(csv_export.ASSESSMENT_COLUMNS, locale)
            for report in self._reports(records, language, params, progress, display):
                w.write(csv_export.assessment_rows(report))
            body = w.finish()
        elif fmt == "xlsx":
            from chalicelib.exports import xlsx_export

            book = xlsx_export.SideBySideWorkbook(
                lab,
                self._metric_columns(records, language),
                len(records),
                now,
                names=[display.get(r.id, r.id) for r in records],
            )
            for report in self._reports(records, language, params, progress, display):
                book.add(report)
            body = book.finish()
        else:
            from chalicelib.exports import pdf

            doc = pdf.SideBySideReport(lab, len(records), created=now)
            # The overview comes first in the file but needs every assessment: a first pass
            # keeps only its few figures per assessment (SummaryRow), the second draws pages.
            doc.summary(self._summaries(records, language, params, lab, display))
            for report in self._reports(records, language, params, progress, display):
                doc.add(report)
            body = doc.finish()
        return Export(body, CONTENT_TYPES[fmt], name)

    def _summaries(
        self,
        records: list[AssessmentRecord],
        language: str,
        params: Mapping[str, str | None] | None,
        lab: Labels,
        display: Mapping[str, str],
    ) -> Iterator[Any]:
        from chalicelib.exports.model import summary_row

        for report in self._reports(records, language, params, None, display):
            yield summary_row(report, lab)

    def cohort_table(
        self,
        qid: str,
        version: str | None,
        by: str,
        fmt: str,
        language: str,
        params: Mapping[str, str | None] | None = None,
        *,
        format_pointer: str = "/query/format",
        by_pointer: str = "/query/by",
        csv_locale: str | None = None,
    ) -> Export:
        """Released statistics of every value of one attribute (every industry, size class
        or region), each exactly that cohort (no fallback), with the other attributes and the
        source from ``params``. The first row is the roll-up over all values."""
        fmt = check_format(fmt, format_pointer)
        if by not in ATTRIBUTES:
            raise InvalidInput(
                "by must be industry, size or region",
                [(by_pointer, f"{by!r} is not a cohort attribute")],
            )
        lab = labels(language)
        locale = check_csv_locale(csv_locale, language, "/csv_locale")
        q = self.assessments.questionnaire(qid, version, language)
        base = comparison_params(params)
        base.pop(by, None)
        from chalicelib.exports.model import attribute_values

        rows: list[CohortRow] = []
        for value in ["*", *attribute_values(q, by)]:
            stats = self.benchmarks.cohort_statistics(
                q.id, q.version, {**base, by: value}, language
            )
            rows.append(cohort_row(q, by, value, stats, lab))
        metrics = [(m, q.metric_label(m, language)) for m in q.metric_names()]
        source = base.get("source", "auto").lower()
        name = f"{q.id}-{q.version}-cohorts-by-{by}-{source}-{language}.{fmt}"
        if fmt == "csv":
            from chalicelib.exports import csv_export

            w = csv_export.CsvWriter(csv_export.COHORT_COLUMNS, locale)
            for row in rows:
                w.write(csv_export.cohort_rows(q.id, q.version, metrics, row))
            body = w.finish()
        elif fmt == "xlsx":
            from chalicelib.exports import xlsx_export

            body = xlsx_export.cohort_workbook(
                q, by, rows, metrics, base, lab, self._now()
            )
        else:
            from chalicelib.exports import pdf

            body = pdf.cohort_report(
                q, by, rows, metrics, base, lab, created=self._now()
            )
        return Export(body, CONTENT_TYPES[fmt], name)
