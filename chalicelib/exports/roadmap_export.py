"""Roadmap exports (XLSX, PDF): a roadmap towards a target, with the gap and the history of
rounds (docs/ROADMAP.md, docs/EXPORTS.md).

Two entry points:

- ``roadmap_file(report, fmt, lab, ...)`` writes a built ``RoadmapReport``: for callers
  that have their own result and rounds (an organisation's combined result and its
  assessment rounds).
- ``assessment_roadmap(exports, rec, target, fmt, language, ...)`` builds it from one
  stored assessment: its answers, its result, and as history the given records (an
  organisation's rounds) or the chain of earlier assessments it links to
  (``previous_id``), each with its overall percentile rank from the benchmark comparison
  when one is released. The CLI ``export roadmap`` uses it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.errors import InvalidInput
from chalicelib.exports import CONTENT_TYPES, Export, comparison_params
from chalicelib.exports.model import Labels, check_display_labels, labels
from chalicelib.exports.roadmap_report import RoadmapReport, build_roadmap_report
from chalicelib.roadmap import Round, Target, history, roadmap

if TYPE_CHECKING:
    from chalicelib.exports import ExportService
    from chalicelib.records import AssessmentRecord

ROADMAP_FORMATS = ("xlsx", "pdf")
HISTORY_LIMIT = 40  # rounds followed back through previous_id


def check_roadmap_format(fmt: str | None, pointer: str = "/query/format") -> str:
    f = (fmt or "").strip().lower()
    if f not in ROADMAP_FORMATS:
        raise InvalidInput(
            "a roadmap is exported as xlsx or pdf",
            [(pointer, f"{fmt!r} is not a roadmap format; one of xlsx, pdf")],
        )
    return f


def roadmap_file(
    report: RoadmapReport,
    fmt: str,
    lab: Labels,
    *,
    created: datetime | None = None,
    branding: Any = None,
    format_pointer: str = "/query/format",
    filename: str | None = None,
) -> Export:
    """The XLSX workbook (Roadmap and History sheets) or the PDF roadmap report."""
    fmt = check_roadmap_format(fmt, format_pointer)
    if fmt == "xlsx":
        from chalicelib.exports.xlsx_roadmap import roadmap_workbook

        body = roadmap_workbook(report, lab, created)
    else:
        from chalicelib.exports.pdf.roadmap import roadmap_report

        body = roadmap_report(report, lab, branding, created=created)
    name = filename or f"{report.questionnaire_id}-roadmap-{lab.language}.{fmt}"
    return Export(body, CONTENT_TYPES[fmt], name)


def round_of(
    exports: ExportService,
    rec: AssessmentRecord,
    language: str,
    params: Mapping[str, str | None] | None = None,
) -> Round:
    """One stored assessment as a history round: scored by its own version's rules, with
    its overall percentile rank where the benchmark releases one (None otherwise)."""
    view = exports.assessments.view(rec, language)
    cmp = exports.benchmarks.compare_record(
        rec, comparison_params(params), language
    ).metric("overall")
    return Round(
        date=(rec.created_at or rec.month)[:10],
        questionnaire=view.questionnaire,
        result=view.score,
        percentile=cmp.percentile_rank if cmp is not None else None,
        label=rec.id,
    )


def rounds_of(
    exports: ExportService,
    rec: AssessmentRecord,
    language: str,
    params: Mapping[str, str | None] | None = None,
) -> list[Round]:
    """``rec`` and the earlier assessments it links to (``previous_id``, newest first,
    at most ``HISTORY_LIMIT``; an erased one ends the chain), each a ``round_of``."""
    out: list[Round] = []
    seen: set[str] = set()
    current: AssessmentRecord | None = rec
    while current is not None and current.id not in seen and len(out) < HISTORY_LIMIT:
        seen.add(current.id)
        out.append(round_of(exports, current, language, params))
        prev = current.previous_id
        current = exports.assessments.store.get_assessment(prev) if prev else None
    return out


def assessment_roadmap(
    exports: ExportService,
    rec: AssessmentRecord,
    target: Target,
    fmt: str,
    language: str,
    params: Mapping[str, str | None] | None = None,
    *,
    label: str | None = None,
    with_history: bool = True,
    history_records: Sequence[AssessmentRecord] | None = None,
    format_pointer: str = "/query/format",
    branding: Any = None,
) -> Export:
    """The roadmap of one stored assessment towards ``target`` (``roadmap.target_of``
    checked it against the assessment's questionnaire). ``label``: the display name
    instead of the id (used for this file only). History: the assessments in
    ``history_records`` (e.g. an organisation's closed rounds, ``rec`` among them), else
    ``rec`` and its ``previous_id`` chain; none with ``with_history=False``."""
    fmt = check_roadmap_format(fmt, format_pointer)
    lab = labels(language)
    display = check_display_labels({rec.id: label} if label else None, [rec.id])
    now = exports.assessments.clock()
    view = exports.assessments.view(rec, language)
    q = view.questionnaire
    steps = roadmap(q, rec.answers, target, language=language, today=now.date())
    rounds: list[Round] = []
    if with_history and history_records is not None:
        rounds = [round_of(exports, r, language, params) for r in history_records]
    elif with_history:
        rounds = rounds_of(exports, rec, language, params)
    report = build_roadmap_report(
        q,
        view.score,
        target,
        steps,
        lab,
        name=display.get(rec.id, rec.id),
        completed=(rec.created_at or rec.month)[:10],
        today=now.date().isoformat(),
        history=history(rounds),
    )
    return roadmap_file(
        report,
        fmt,
        lab,
        created=now,
        branding=branding,
        format_pointer=format_pointer,
        filename=f"{q.id}-roadmap-{rec.id[:12]}-{language}.{fmt}",
    )
