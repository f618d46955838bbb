"""The three PDF documents: the client report of one assessment, the side-by-side report of
many, and the cohort tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, PageBreak, Paragraph, Spacer, Table

from chalicelib.exports.model import (
    AssessmentReport,
    CohortRow,
    Labels,
    SummaryRow,
    attribute_label,
    long_date,
    methods_rows,
    month_name,
    month_range,
)
from chalicelib.exports.pdf.charts import (
    ladder_drawing,
    percentile_drawing,
    radar_drawing,
)
from chalicelib.exports.pdf.engine import Doc, esc, num
from chalicelib.exports.pdf.sections import (
    banner,
    block,
    cards,
    cohort_notice,
    compared_with,
    data_age_line,
    evidence_notice,
    fit_widths,
    grid_style,
    head_cells,
    header_for,
    id_line,
    methods_box,
    methods_line,
    metrics_table,
    org_line,
    pyramid_section,
    recommendations,
)
from chalicelib.questionnaire import Questionnaire


# --- one assessment -----------------------------------------------------------------------
def assessment_report(
    report: AssessmentReport,
    lab: Labels,
    branding: Any = None,
    created: datetime | None = None,
) -> bytes:
    """``branding``: the white label of the partner that created the assessment;
    ``created``: when the export is made (metadata, data age)."""
    doc = Doc(
        lab,
        title=f"{lab.text('report_title')} – {report.display_name}",
        subject=f"{report.questionnaire_id} {report.version}",
        header=header_for(report, lab),
        header_right=long_date(report.completed, lab),
        brand=branding,
        created=created,
    )
    if branding is not None:
        doc.c.setAuthor(str(branding.display_name))
    st, w = doc.st, doc.width
    c = report.cohort

    # page 1: who, where on the ladder, where in the pyramid
    doc.flow(
        [
            Paragraph(esc(lab.text("report_title")), st.h1),
            Paragraph(esc(org_line(report)), st.body),
            Paragraph(esc(id_line(report, lab)), st.small),
            Spacer(1, 8),
            *evidence_notice(report, doc),
            cards(report, doc),
            *cohort_notice(c, doc),
            Spacer(1, 4),
            block(
                [
                    Paragraph(esc(lab.text("ladder_title")), st.h2),
                    ladder_drawing(report, lab, w),
                    Spacer(1, 3),
                    Paragraph(
                        f"<b>{esc(report.phase_text(lab))}: "
                        f"{esc(report.phase_name)}.</b> {esc(report.phase_description)}",
                        st.body,
                    ),
                    *(
                        [Paragraph(esc(report.jagged_note), st.body)]
                        if report.jagged_note
                        else []
                    ),
                    Paragraph(
                        esc(lab.text("ladder_note", threshold=report.phase_threshold)),
                        st.small,
                    ),
                ],
                w,
            ),
            block(pyramid_section(report, doc), w),
        ]
    )
    # page 2: dimensions and percentile ranks against the cohort
    chart = percentile_drawing(report, lab, w)
    doc.flow(
        [
            PageBreak(),
            block(
                [
                    Paragraph(esc(lab.text("radar_title")), st.h2),
                    radar_drawing(report, lab, w),
                ],
                w,
            ),
            Spacer(1, 6),
            block(
                [
                    Paragraph(esc(lab.text("percentile_title")), st.h2),
                    compared_with(c, doc),
                    data_age_line(c, doc),
                    Paragraph(esc(lab.text("percentile_explain")), st.small),
                    Spacer(1, 6),
                    *([chart] if chart is not None else cohort_notice(c, doc)),
                ],
                w,
            ),
        ]
    )
    # page 3: what to do next; a short list stays on page 2 rather than on a page of its own
    recs = [Spacer(1, 10), *recommendations(report, doc)]
    if doc.height_of(recs) > doc.room():
        recs = [PageBreak(), *recs[1:]]
    doc.flow(recs)
    # page 4: the figures behind the charts, and how they were made; compacted (in turn
    # the table, then the methods) rather than spilling a remainder onto a fifth page
    rows = methods_rows(report.questionnaire_id, report.version, c, lab, doc.today)
    for compact_table, compact_methods in ((False, False), (True, False), (True, True)):
        items = [
            Paragraph(esc(lab.text("figures_title")), st.h2),
            compared_with(c, doc),
            Spacer(1, 4),
            metrics_table(report, doc, compact=compact_table),
            Spacer(1, 8),
            block(methods_box(rows, doc, compact=compact_methods), w),
        ]
        if doc.height_of(items) <= doc.height:
            break
    doc.flow([PageBreak(), *items])
    return doc.finish()


# --- several assessments ------------------------------------------------------------------
class SideBySideReport:
    """An overview table, then one page per assessment, then the methods; written as it
    goes (the overview from small summary rows, each page from one report at a time)."""

    CHUNK = 38

    # (percentile bar height, recommendations shown): tried in turn until one
    # assessment's page fits on one page, so no page holds only its overflowing last line
    VARIANTS = ((10.5, 3), (9.0, 3), (9.0, 2), (7.5, 2), (7.5, 1))

    def __init__(
        self, lab: Labels, expected: int, created: datetime | None = None
    ) -> None:
        self.lab = lab
        self.doc = Doc(
            lab,
            title=lab.text("side_by_side_title"),
            subject=lab.text("side_by_side_title"),
            header=lab.text("side_by_side_title"),
            created=created,
        )
        self.expected = expected
        self.sources: set[str] = set()
        self.synthetic = False

    def summary(self, rows: Iterable[SummaryRow]) -> None:
        doc, lab, st = self.doc, self.lab, self.doc.st
        doc.flow(
            [
                Paragraph(esc(lab.text("side_by_side_title")), st.h1),
                Paragraph(esc(f"n = {self.expected}"), st.small),
                Spacer(1, 6),
            ]
        )
        head = [
            "#",
            lab.column("assessment_label"),
            lab.column("phase"),
            lab.column("tier"),
            lab.column("overall"),
            lab.column("overall_percentile"),
            lab.column("cohort"),
            lab.column("cohort_n"),
            lab.column("source"),
        ]
        w = doc.width
        widths = [w * x for x in (0.04, 0.15, 0.07, 0.13, 0.10, 0.12, 0.17, 0.07, 0.15)]
        chunk: list[list[Any]] = []
        header = head_cells(head, widths, doc)

        def emit() -> None:
            data = [header, *chunk]
            t = Table(data, colWidths=widths, repeatRows=1)
            style = grid_style(doc, len(data), numeric_from=4, numeric_to=5)
            style.add("ALIGN", (7, 1), (7, -1), "RIGHT")
            t.setStyle(style)
            doc.flow([t])
            chunk.clear()

        for i, r in enumerate(rows, 1):
            self.synthetic |= r.synthetic
            chunk.append(
                [
                    str(i),
                    Paragraph(esc(r.label), st.cell) if r.label else r.id[:12],
                    "–" if r.phase is None else str(r.phase),
                    Paragraph(esc(r.tier_name), st.cell),
                    num(r.overall, lab),
                    num(r.overall_percentile, lab),
                    Paragraph(esc(r.cohort_label), st.cell),
                    num(r.cohort_n, lab) if r.cohort_n is not None else "",
                    Paragraph(
                        f'<font color="#B85C00"><b>{esc(r.source_label)}</b></font>'
                        if r.synthetic
                        else esc(r.source_label),
                        st.cell,
                    ),
                ]
            )
            if len(chunk) >= self.CHUNK:
                emit()
        if chunk:
            emit()
        if self.synthetic:
            doc.flow([Spacer(1, 6), banner(lab.text("synthetic_banner"), doc)])

    def add(self, report: AssessmentReport) -> None:
        doc, c = self.doc, report.cohort
        self.sources.add(c.source)
        for bar, limit in self.VARIANTS:
            items = self._page(report, bar, limit)
            if doc.height_of(items) <= doc.height:
                break
        doc.flow([PageBreak(), *items])

    def _page(self, report: AssessmentReport, bar: float, limit: int) -> list[Any]:
        doc, lab, st, w = self.doc, self.lab, self.doc.st, self.doc.width
        c = report.cohort
        chart = percentile_drawing(report, lab, w, bar=bar)
        return [
            Paragraph(
                esc(f"{lab.text('assessment')} {report.display_name}"),
                ParagraphStyle("h1s", parent=st.h2, fontSize=14, leading=18),
            ),
            Paragraph(esc(org_line(report)), st.body),
            Paragraph(esc(id_line(report, lab)), st.small),
            Spacer(1, 6),
            cards(report, doc),
            *cohort_notice(c, doc),
            Spacer(1, 4),
            compared_with(c, doc),
            Spacer(1, 3),
            *([chart] if chart is not None else []),
            Spacer(1, 4),
            metrics_table(report, doc, compact=True),
            *recommendations(report, doc, limit=limit),
            Spacer(1, 4),
            methods_line(report, doc),
        ]

    def finish(self) -> bytes:
        doc, lab = self.doc, self.lab
        rows = methods_rows("", "", None, lab)[1:]
        if "reference" not in self.sources and not self.synthetic:
            rows = [r for r in rows if r[1] != lab.text("method_reference")]
        doc.flow([PageBreak(), *methods_box(rows, doc)])
        return doc.finish()


# --- cohort tables ------------------------------------------------------------------------
def cohort_report(
    q: Questionnaire,
    by: str,
    rows: list[CohortRow],
    metrics: list[tuple[str, str]],
    params: Mapping[str, str],
    lab: Labels,
    created: datetime | None = None,
) -> bytes:
    title = lab.text("cohort_table_title", by=lab.text(f"by_{by}"))
    doc = Doc(
        lab,
        title=title,
        subject=f"{q.id} {q.version}",
        header=f"{q.title.get(lab.language)} – {title}",
        pagesize=landscape(A4),
        created=created,
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
    age = lab.text(
        "data_as_of",
        date=long_date(doc.today, lab),
        month=month_name(months[-1] if months else None, lab),
    )
    intro: list[Flowable] = [
        Paragraph(esc(title), st.h1),
        Paragraph(
            esc(
                f"{lab.text('questionnaire')} {q.id} {q.version} · {filters} · "
                f"{lab.text('population')}: {', '.join(populations.values())} · "
                f"{lab.text('source')}: {', '.join(sources.values())} · "
                f"k = {', '.join(sorted({str(r.k_min) for r in rows}))}"
            ),
            st.body,
        ),
        Paragraph(esc(age), st.small),
        Paragraph(
            esc(f"{lab.text('cohort_table_note')} {lab.text('cell_format')}."), st.small
        ),
    ]
    if synthetic:
        intro += [Spacer(1, 4), banner(lab.text("synthetic_banner"), doc)]
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
        titles = fixed + [label for _, label in group]
        widths = fixed_w + fit_widths([t for _, t in group], w - sum(fixed_w), doc)
        data: list[list[Any]] = [head_cells(titles, widths, doc, size=6.8)]
        for r in rows:
            stats = {s.metric: s for s in r.stats}
            line: list[Any] = [
                Paragraph(
                    f"<b>{esc(r.label)}</b>" if r.value == "*" else esc(r.label),
                    st.cell,
                ),
                Paragraph(
                    esc(lab.status(r.status)),
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
        t = Table(data, colWidths=widths, repeatRows=1)
        style = grid_style(
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
            month_range(months[0], months[-1], lab)
            if months
            else lab.text("not_available"),
        ),
        (lab.text("data_age"), age),
    ]
    general = methods_rows("", "", None, lab)[1:]
    if not synthetic:
        general = [r for r in general if r[1] != lab.text("method_reference")]
    doc.flow([Spacer(1, 8), block(methods_box(method + general, doc), w)])
    return doc.finish()
