"""Pure: what a roadmap export shows (XLSX "Roadmap" and "History" sheets, the PDF
``roadmap_report``), built from a score result, a ``roadmap.Target``, the steps of
``roadmap.roadmap`` and the points of ``roadmap.history``. Words from labels.yaml, the
maturity models' names from the questionnaire."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.exports.model import Labels, long_date, month_name
from chalicelib.questionnaire import Questionnaire
from chalicelib.roadmap import (
    BLOCKING,
    FURTHER,
    TOWARDS,
    Gap,
    HistoryPoint,
    Step,
    Target,
    gap,
    next_quarter,
    pyramid_level,
)
from chalicelib.scoring import ScoreResult

# colours of the dimension lines in both formats' history charts
LINE_COLOURS = ("#4C9F70", "#C77C2E", "#7E57C2", "#2E86C1", "#C0392B", "#7F8C8D")
KIND_KEYS = {BLOCKING: "kind_blocking", TOWARDS: "kind_target", FURTHER: "kind_further"}


@dataclass(frozen=True)
class GapRow:
    label: str
    current: str
    target: str
    gap: str  # "" when reached
    reached: bool


@dataclass(frozen=True)
class StepRow:
    rank: int
    question_id: str
    question: str
    kind: str
    kind_label: str
    gate_label: str
    current_label: str
    needed_label: str
    why: str
    advice: str
    impact: float
    effort: int
    owner: str
    due_quarter: str


@dataclass(frozen=True)
class HistoryRow:
    date: str  # YYYY-MM-DD
    when: str  # "März 2027"
    version: str
    version_changed: bool
    phase: int | None
    pyramid_level: int | None
    overall: int | None
    percentile: float | None
    dimensions: tuple[int | None, ...]  # in ``RoadmapReport.dimension_names`` order
    label: str | None

    def category(self, lab: Labels) -> str:
        """The chart's axis label: the month, and the version where it changed."""
        if self.version_changed:
            return f"{self.when} ({lab.text('version_mark', version=self.version)})"
        return self.when


@dataclass(frozen=True)
class RoadmapReport:
    name: str  # the organisation's or assessment's display name
    questionnaire_id: str
    questionnaire_title: str
    version: str
    language: str
    completed: str  # YYYY-MM-DD of the result the roadmap starts from
    today: str  # YYYY-MM-DD: when the export is made
    phase_text: str
    phase_name: str
    tier_text: str
    overall: int | None
    gap: Gap
    gap_rows: tuple[GapRow, ...]
    steps: tuple[StepRow, ...]
    start_quarter: str
    pace: int
    dimension_names: tuple[str, ...]
    history: tuple[HistoryRow, ...]

    @property
    def reached(self) -> bool:
        return self.gap.reached


def _gate_label(q: Questionnaire, gate: str, lab: Labels) -> str:
    kind, _, ident = gate.partition(":")
    lang = lab.language
    if kind == "phase":
        return lab.text(
            "gate_phase", number=ident, name=q.phases[int(ident)].name.get(lang)
        )
    if kind == "tier":
        name = next(t.name.get(lang) for t in q.tiers if t.id == ident)
        return lab.text("target_tier", name=name)
    if kind == "dimension":
        name = next(d.name.get(lang) for d in q.dimensions if d.id == ident)
        return lab.text("gate_dimension", name=name)
    return lab.text("gate_overall")


def _phase_label(q: Questionnaire, phase: int | None, lab: Labels) -> str:
    if phase is None:
        return lab.text("not_assessable")
    return f"{phase}: {q.phases[phase].name.get(lab.language)}"


def _level_label(q: Questionnaire, level: int | None, lab: Labels) -> str:
    if level is None:
        return lab.text("not_assessable")
    if level == 0:
        return lab.text("no_tier")
    return f"{q.tiers[level - 1].name.get(lab.language)} ({lab.text('tier_of', level=level)})"


def gap_rows(
    q: Questionnaire, result: ScoreResult, target: Target, lab: Labels
) -> tuple[GapRow, ...]:
    g = gap(result, target)
    rows: list[GapRow] = []
    if target.phase is not None:
        rows.append(
            GapRow(
                lab.column("phase"),
                _phase_label(q, result.phase, lab),
                _phase_label(q, target.phase, lab),
                "" if not g.phase_gap else f"{g.phase_gap}",
                not g.phase_gap,
            )
        )
    if target.tier_level is not None:
        level = pyramid_level(result)
        rows.append(
            GapRow(
                lab.column("tier"),
                _level_label(q, level, lab),
                _level_label(q, target.tier_level, lab),
                "" if not g.level_gap else f"{g.level_gap}",
                not g.level_gap,
            )
        )
    names = {d.id: d.name.get(lab.language) for d in q.dimensions}
    for d in g.dimensions:
        rows.append(
            GapRow(
                names[d.id],
                lab.text("not_available") if d.current is None else str(d.current),
                str(d.target),
                "" if not d.gap else str(d.gap),
                not d.gap,
            )
        )
    return tuple(rows)


def build_roadmap_report(
    q: Questionnaire,
    result: ScoreResult,
    target: Target,
    steps: Sequence[Step],
    lab: Labels,
    *,
    name: str,
    completed: str,
    today: str,
    history: Sequence[HistoryPoint] = (),
) -> RoadmapReport:
    """The roadmap export's content. ``result`` is the score the steps start from (of
    ``q``, in ``lab.language``), ``name`` what the report calls the organisation,
    ``completed`` the date of that result, ``today`` the export's date; ``history`` the
    organisation's rounds (``roadmap.history``), oldest first."""
    from datetime import date

    lang = lab.language
    level = pyramid_level(result)
    rows = tuple(
        StepRow(
            rank=s.rank,
            question_id=s.question_id,
            question=s.question,
            kind=s.kind,
            kind_label=lab.text(KIND_KEYS[s.kind]),
            gate_label=_gate_label(q, s.gate, lab),
            current_label=s.current_label or lab.text("not_answered"),
            needed_label=s.needed_label,
            why=s.why,
            advice=s.advice,
            impact=s.impact,
            effort=s.effort,
            owner=s.owner,
            due_quarter=s.due_quarter,
        )
        for s in steps
    )
    start = target.start_quarter or next_quarter(date.fromisoformat(today))
    dim_ids = [d.id for d in q.dimensions]
    hist = tuple(
        HistoryRow(
            date=p.date,
            when=month_name(p.date[:7], lab),
            version=p.version,
            version_changed=p.version_changed,
            phase=p.phase,
            pyramid_level=p.pyramid_level,
            overall=p.overall,
            percentile=p.percentile,
            dimensions=tuple(p.dimensions.get(d) for d in dim_ids),
            label=p.label,
        )
        for p in history
    )
    return RoadmapReport(
        name=name,
        questionnaire_id=q.id,
        questionnaire_title=q.title.get(lang),
        version=q.version,
        language=lang,
        completed=completed,
        today=today,
        phase_text=_phase_label(q, result.phase, lab),
        phase_name=""
        if result.phase is None
        else q.phases[result.phase].name.get(lang),
        tier_text=_level_label(q, level, lab),
        overall=result.overall,
        gap=gap(result, target),
        gap_rows=gap_rows(q, result, target, lab),
        steps=rows,
        start_quarter=start,
        pace=target.pace,
        dimension_names=tuple(d.name.get(lang) for d in q.dimensions),
        history=hist,
    )


def pace_line(report: RoadmapReport, lab: Labels) -> str:
    return lab.text("roadmap_pace", start=report.start_quarter, pace=report.pace)


def completed_line(report: RoadmapReport, lab: Labels) -> str:
    return (
        f"{lab.text('completed')} {long_date(report.completed, lab)} · "
        f"{lab.text('questionnaire')} {report.questionnaire_id} {report.version} · "
        f"{lab.text('created')} {long_date(report.today, lab)}"
    )
