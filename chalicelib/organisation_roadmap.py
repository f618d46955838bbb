"""Use cases of an organisation's target, roadmap and history (issue 18 items 2 and 3;
docs/ORGANISATIONS.md, docs/ROADMAP.md): the owner (or the managing partner) sets a target,
the roadmap towards it starts from the combined answers, each step's owner and due quarter
can be set, the roadmap is exported as XLSX or PDF, and the closed rounds form the history
series with each round's peer percentile.

The pure parts are ``chalicelib/roadmap.py`` (target, gap, steps, history) and the export
builders (``exports/roadmap_export.py``); this module only loads and stores."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from chalicelib import roadmap as rm
from chalicelib.errors import Conflict, NotFound

if TYPE_CHECKING:
    from chalicelib.exports import Export, ExportService
    from chalicelib.organisation_models import StepAssignmentIn
    from chalicelib.organisation_service import CombinedResult, OrganisationService
    from chalicelib.organisations import Organisation
    from chalicelib.questionnaire import Questionnaire
    from chalicelib.request_models import TargetIn
    from chalicelib.scoring import ScoreResult
    from chalicelib.storage import OrganisationStore

OPEN, CLOSED, NONE = "open_round", "closed_round", "none"


@dataclass(frozen=True)
class Plan:
    """The target, the answers the roadmap starts from (``basis``: the open round's
    combined answers when every section is covered, else the last closed round's, else
    none), their result, the gap and the steps."""

    questionnaire: Questionnaire
    language: str
    target: rm.Target | None
    basis: str
    round: int | None
    date: str | None  # YYYY-MM-DD of the basis (today for the open round)
    result: ScoreResult | None
    gap: rm.Gap | None
    steps: tuple[rm.Step, ...]


@dataclass(frozen=True)
class HistoryEntry:
    round: int
    point: rm.HistoryPoint


class OrganisationRoadmaps:
    def __init__(
        self, organisations: OrganisationService, exports: ExportService
    ) -> None:
        self.organisations = organisations
        self.exports = exports

    @property
    def _store(self) -> OrganisationStore:
        return self.organisations.store

    # --- target and assignments -------------------------------------------------------------
    def set_target(self, org: Organisation, body: TargetIn) -> rm.Target:
        """Replace the organisation's target (422 naming the field for an unknown
        dimension or question id)."""
        q = self.organisations.questionnaire_of(org)
        target = rm.target_of(q, body)
        if not self._store.put_target(org.id, target):
            raise NotFound("no such organisation", [("/id", "erased")])
        return target

    def target(self, org: Organisation) -> rm.Target | None:
        return self._store.get_target(org.id)

    def assign(
        self, org: Organisation, question_id: str, body: StepAssignmentIn
    ) -> rm.Target:
        """Set a step's owner and/or due quarter (only the fields sent). The step is named
        by its question id; a target must be set first (409 naming ``/target``)."""
        q = self.organisations.questionnaire_of(org)
        if question_id not in {x.id for x in q.scored_questions}:
            raise NotFound(
                "no such roadmap step",
                [("/question_id", f"not a scored question of {q.key}")],
            )
        target = self.target(org)
        if target is None:
            raise Conflict(
                "set a target first (PUT .../target)", [("/target", "not set")]
            )
        old = target.assignments.get(question_id, rm.Assignment())
        sent = body.model_fields_set
        new = rm.Assignment(
            owner=(body.owner or "") if "owner" in sent else old.owner,
            due_quarter=body.due_quarter if "due_quarter" in sent else old.due_quarter,
        )
        assignments = dict(target.assignments)
        if new == rm.Assignment():
            assignments.pop(question_id, None)
        else:
            assignments[question_id] = new
        updated = replace(target, assignments=assignments)
        if not self._store.put_target(org.id, updated):
            raise NotFound("no such organisation", [("/id", "erased")])
        return updated

    # --- the roadmap ------------------------------------------------------------------------
    def _basis(
        self, org: Organisation, combined: CombinedResult | None
    ) -> tuple[str, int | None, str | None, dict[str, str] | None]:
        if combined is None:
            combined = self.organisations.result(org)
        today = self.organisations.clock().date().isoformat()
        if combined.score is not None:
            answers = {
                **org.profile,
                **{k: v.option_id for k, v in combined.combined.items()},
            }
            return OPEN, combined.round, today, answers
        rounds = self.organisations.rounds(org)
        for r in reversed(rounds):
            rec = self.organisations.assessments.store.get_assessment(r.assessment_id)
            if rec is not None:
                return CLOSED, r.number, r.closed_at[:10], dict(rec.answers)
        return NONE, None, None, None

    def plan(
        self,
        org: Organisation,
        language: str | None = None,
        combined: CombinedResult | None = None,
    ) -> Plan:
        """The target, its gap and the roadmap from the organisation's answers, in
        ``language`` (default: the organisation's)."""
        from chalicelib import scoring

        lang = language or org.language
        q = self.organisations.questionnaire_of(org)
        target = self.target(org)
        basis, number, day, answers = self._basis(org, combined)
        result = None if answers is None else scoring.score(q, answers, lang)
        if target is None or answers is None or result is None:
            return Plan(q, lang, target, basis, number, day, result, None, ())
        today = self.organisations.clock().date()
        steps = rm.roadmap(q, answers, target, language=lang, today=today)
        return Plan(
            q,
            lang,
            target,
            basis,
            number,
            day,
            result,
            rm.gap(result, target),
            tuple(steps),
        )

    # --- history ----------------------------------------------------------------------------
    def history(
        self, org: Organisation, language: str | None = None
    ) -> list[HistoryEntry]:
        """The closed rounds as a series (roadmap.history): phase, pyramid level,
        dimensions, overall and peer percentile per round, version changes marked."""
        from chalicelib.exports.roadmap_export import round_of

        lang = language or org.language
        rounds: list[rm.Round] = []
        for r in self.organisations.rounds(org):
            rec = self.organisations.assessments.store.get_assessment(r.assessment_id)
            if rec is None:
                continue
            # the peer percentile: the benchmark comparison of the round's assessment,
            # asked in ONE place (roadmap_export.round_of), whatever ranks it
            point = round_of(self.exports, rec, lang)
            rounds.append(replace(point, date=r.closed_at[:10], label=str(r.number)))
        return [HistoryEntry(int(p.label or 0), p) for p in rm.history(rounds)]

    # --- export -----------------------------------------------------------------------------
    def export(self, org: Organisation, fmt: str, language: str) -> Export:
        """The roadmap as XLSX or PDF with the gap and the history (409 naming
        ``/target`` without a target, ``/respondents`` without answers to start from)."""
        from chalicelib.exports.model import labels
        from chalicelib.exports.roadmap_export import check_roadmap_format, roadmap_file
        from chalicelib.exports.roadmap_report import build_roadmap_report

        fmt = check_roadmap_format(fmt)
        plan = self.plan(org, language)
        if plan.target is None:
            raise Conflict(
                "set a target first (PUT .../target)", [("/target", "not set")]
            )
        if plan.result is None or plan.date is None:
            raise Conflict(
                "no combined answers yet: respondents must submit first",
                [("/respondents", "none submitted")],
            )
        lab = labels(language)
        now = self.organisations.clock()
        report = build_roadmap_report(
            plan.questionnaire,
            plan.result,
            plan.target,
            plan.steps,
            lab,
            name=org.name,
            completed=plan.date,
            today=now.date().isoformat(),
            history=[e.point for e in self.history(org, language)],
        )
        return roadmap_file(
            report,
            fmt,
            lab,
            created=now,
            filename=f"{plan.questionnaire.id}-roadmap-{org.id[:12]}-{language}.{fmt}",
        )
