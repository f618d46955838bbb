"""Use cases of the organisation workspace (issue 18, docs/ORGANISATIONS.md): create an
organisation (owner token, once), invite respondents (invite token, once), respondents save
and submit their answers, the owner reads them, the combined result and the perception gap,
closes a round (the combined answers are scored and submitted ONCE to the benchmark through
``AssessmentService.submit``) and erases everything.

Credentials, like result tokens (chalicelib/assessments.py), are stored only as SHA-256 and
compared in constant time, also for unknown ids:
- owner token ``<organisation id>.<secret>`` (header ``X-Organisation-Token``);
- invite token ``<organisation id>.<respondent id>.<secret>`` (``X-Respondent-Token``).
A partner (scope ``organisations``) manages the organisations it created without a token."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib import organisations as domain
from chalicelib.errors import Conflict, InvalidInput, NotFound, Unauthorized
from chalicelib.organisation_models import (
    MAX_RESPONDENTS,
    OrganisationIn,
    RespondentAnswersIn,
    RespondentIn,
)
from chalicelib.organisations import (
    Organisation,
    Respondent,
    RespondentAnswers,
    Round,
)
from chalicelib.questionnaire import Questionnaire

if TYPE_CHECKING:
    from chalicelib.assessments import AssessmentService
    from chalicelib.scoring import ScoreResult
    from chalicelib.storage import OrganisationStore

_ID = re.compile(r"[0-9a-f]{32}")
_NO_SUCH = hashlib.sha256(b"no such organisation").hexdigest()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class RespondentState:
    respondent: Respondent
    answers: RespondentAnswers | None  # of the round asked for

    @property
    def status(self) -> str:
        return "invited" if self.answers is None else self.answers.status


@dataclass(frozen=True)
class OrganisationView:
    organisation: Organisation
    respondents: tuple[RespondentState, ...]
    token: str | None = None  # only when created


@dataclass(frozen=True)
class CombinedResult:
    organisation: Organisation
    questionnaire: Questionnaire
    round: int
    submitted: int
    combined: dict[str, domain.CombinedAnswer]
    uncovered: tuple[str, ...]
    score: ScoreResult | None  # None while a section is uncovered
    gaps: tuple[domain.Gap, ...]


@dataclass(frozen=True)
class ClosedRound:
    round: Round
    result_token: str


class OrganisationService:
    def __init__(
        self,
        store: OrganisationStore,
        assessments: AssessmentService,
        secret: bytes,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.assessments = assessments
        self.secret = secret
        self.clock = clock

    def _now(self) -> str:
        return self.clock().isoformat(timespec="seconds")

    def questionnaire_of(self, org: Organisation) -> Questionnaire:
        return self.assessments.catalog.get(org.questionnaire_id, org.version)

    # --- create -----------------------------------------------------------------------------
    def create(
        self, body: OrganisationIn, partner_id: str | None = None
    ) -> OrganisationView:
        q = self.assessments.questionnaire(
            body.questionnaire, body.version, body.language
        )
        _check_profile(q, body.profile)
        oid = secrets.token_hex(16)
        token = f"{oid}.{secrets.token_urlsafe(32)}"
        org = Organisation(
            id=oid,
            name=body.name.strip(),
            owner_token_hash=_hash(token),
            created_at=self._now(),
            questionnaire_id=q.id,
            version=q.version,
            language=body.language,
            profile=dict(sorted(body.profile.items())),
            partner_id=partner_id,
        )
        if not self.store.create_organisation(org):  # 128 random bits: never taken
            raise Conflict("organisation id taken; retry", [("/id", "taken")])
        return OrganisationView(org, (), token)

    # --- authorisation ----------------------------------------------------------------------
    def authorize(
        self, organisation_id: str, token: str | None, partner_id: str | None = None
    ) -> Organisation:
        """The organisation, if the caller holds its owner token or is the partner that
        created it. Without either: 401 for every id, before anything is read; a token that
        does not verify and another partner's or an unknown id: 404 alike (the same work:
        one lookup, one hash, one constant-time compare)."""
        unknown = NotFound("no such organisation", [("/id", "unknown organisation")])
        if token:
            org = (
                self.store.get_organisation(organisation_id)
                if _ID.fullmatch(organisation_id)
                else None
            )
            expected = org.owner_token_hash if org is not None else _NO_SUCH
            ok = hmac.compare_digest(expected, _hash(token))
            if not ok or org is None or not token.startswith(organisation_id + "."):
                raise unknown
            return org
        if partner_id is None:
            raise Unauthorized(
                "an owner token is required (header X-Organisation-Token)",
                [("/headers/X-Organisation-Token", "missing")],
            )
        org = (
            self.store.get_organisation(organisation_id)
            if _ID.fullmatch(organisation_id)
            else None
        )
        if org is None or org.partner_id != partner_id:
            raise unknown
        return org

    def respondent_of(self, token: str | None) -> tuple[Organisation, Respondent]:
        """The respondent holding invite ``token`` and its organisation (401 without a
        token, 404 for any token that does not verify)."""
        if not token:
            raise Unauthorized(
                "an invite token is required (header X-Respondent-Token)",
                [("/headers/X-Respondent-Token", "missing")],
            )
        parts = token.split(".")
        oid, rid = (parts[0], parts[1]) if len(parts) == 3 else ("", "")
        respondent = (
            self.store.get_respondent(oid, rid)
            if _ID.fullmatch(oid) and _ID.fullmatch(rid)
            else None
        )
        expected = respondent.token_hash if respondent is not None else _NO_SUCH
        ok = hmac.compare_digest(expected, _hash(token))
        org = self.store.get_organisation(oid) if ok and respondent else None
        if org is None or respondent is None:
            raise NotFound(
                "no such invitation",
                [("/headers/X-Respondent-Token", "unknown or revoked invitation")],
            )
        return org, respondent

    def partner_organisations(self, partner_id: str) -> list[Organisation]:
        """The organisations this partner created (only those)."""
        return self.store.list_partner_organisations(partner_id)

    # --- respondents ------------------------------------------------------------------------
    def view(
        self, org: Organisation, round_number: int | None = None
    ) -> OrganisationView:
        n = org.current_round if round_number is None else round_number
        answers = {
            a.respondent_id: a for a in self.store.list_respondent_answers(org.id, n)
        }
        return OrganisationView(
            org,
            tuple(
                RespondentState(r, answers.get(r.id))
                for r in self.store.list_respondents(org.id)
            ),
        )

    def invite(self, org: Organisation, body: RespondentIn) -> tuple[Respondent, str]:
        q = self.questionnaire_of(org)
        allowed = domain.scored_sections(q)
        errors = [
            (f"/sections/{i}", f"unknown section; one of {', '.join(allowed)}")
            for i, sid in enumerate(body.sections)
            if sid not in allowed
        ]
        seen: set[str] = set()
        for i, sid in enumerate(body.sections):
            if sid in seen:
                errors.append((f"/sections/{i}", "listed twice"))
            seen.add(sid)
        if errors:
            raise InvalidInput("the sections are invalid", errors)
        if len(self.store.list_respondents(org.id)) >= MAX_RESPONDENTS:
            raise Conflict(
                f"an organisation has at most {MAX_RESPONDENTS} respondents",
                [("/role", "too many respondents")],
            )
        rid = secrets.token_hex(16)
        token = f"{org.id}.{rid}.{secrets.token_urlsafe(32)}"
        respondent = Respondent(
            id=rid,
            organisation_id=org.id,
            role=body.role.strip(),
            sections=tuple(body.sections),
            token_hash=_hash(token),
            created_at=self._now(),
        )
        if not self.store.add_respondent(respondent):
            raise NotFound("no such organisation", [("/id", "erased")])
        return respondent, token

    def own_answers(
        self, org: Organisation, respondent: Respondent
    ) -> RespondentAnswers | None:
        return self.store.get_respondent_answers(
            org.id, respondent.id, org.current_round
        )

    def save_answers(
        self, org: Organisation, respondent: Respondent, body: RespondentAnswersIn
    ) -> RespondentAnswers:
        """Store a respondent's draft or final answers of the open round. Only questions of
        the sections they own; a final set answers every required one of them."""
        q = self.questionnaire_of(org)
        self.assessments.validate_answers(q, body.answers, complete=False)
        mine = {x.id: x for x in domain.owned_questions(q, respondent)}
        errors = [
            (
                f"/answers/{_escape(qid)}",
                "not in the sections of this respondent"
                if q.question_index[qid].kind == "scored"
                else "a context question: the organisation's profile, set by its owner",
            )
            for qid in body.answers
            if qid not in mine
        ]
        if body.submit:
            errors += [
                (f"/answers/{_escape(qid)}", "an answer is required")
                for qid, x in mine.items()
                if x.required and qid not in body.answers
            ]
        if errors:
            raise InvalidInput(f"{len(errors)} answer(s) are invalid", errors)
        saved = RespondentAnswers(
            organisation_id=org.id,
            respondent_id=respondent.id,
            round=org.current_round,
            answers=dict(sorted(body.answers.items())),
            status="submitted" if body.submit else "draft",
            updated_at=self._now(),
        )
        if not self.store.put_respondent_answers(saved):
            raise Conflict(
                "the round was closed meanwhile; reload and answer the new round",
                [("/answers", "round closed")],
            )
        return saved

    def answers(
        self, org: Organisation, round_number: int | None = None
    ) -> OrganisationView:
        """Every respondent's answers of a round (the open one by default): owner only."""
        if round_number is not None and not 1 <= round_number <= org.current_round:
            raise NotFound(
                f"no such round; rounds are 1..{org.current_round}",
                [("/query/round", f"1..{org.current_round}")],
            )
        return self.view(org, round_number)

    # --- the combined result ----------------------------------------------------------------
    def _contributions(self, org: Organisation) -> list[domain.Contribution]:
        respondents = {r.id: r for r in self.store.list_respondents(org.id)}
        return [
            domain.Contribution(respondents[a.respondent_id], a.answers)
            for a in self.store.list_respondent_answers(org.id, org.current_round)
            if a.status == "submitted" and a.respondent_id in respondents
        ]

    def result(self, org: Organisation) -> CombinedResult:
        """The open round's combined answers (submitted answers only), their score when
        every section is covered, and the perception gap."""
        from chalicelib import scoring

        q = self.questionnaire_of(org)
        contributions = self._contributions(org)
        combined = domain.combine(q, contributions)
        uncovered = tuple(domain.uncovered_sections(q, combined))
        score = None
        if contributions and not uncovered:
            answers = {**org.profile, **{k: v.option_id for k, v in combined.items()}}
            score = scoring.score(q, answers, org.language)
        return CombinedResult(
            org,
            q,
            org.current_round,
            len(contributions),
            combined,
            uncovered,
            score,
            tuple(domain.perception_gap(q, contributions)),
        )

    # --- rounds -----------------------------------------------------------------------------
    def _round_key(self, org: Organisation, number: int) -> str:
        """The Idempotency-Key of a round's submission: an HMAC of organisation and round,
        so a retried close (or two concurrent ones) submits the same assessment once."""
        return hmac.new(
            self.secret, f"organisation-round|{org.id}|{number}".encode(), "sha256"
        ).hexdigest()

    def close_round(self, org: Organisation) -> ClosedRound:
        """Score the combined answers and submit them to the benchmark as ONE assessment
        (the normal submission path: consent, data quality, idempotency), then store the
        round and open the next one. Respondents' own answers never leave the workspace."""
        from chalicelib.request_models import PartnerSubmissionIn, SubmissionIn

        result = self.result(org)
        if not result.submitted:
            raise Conflict(
                "no respondent has submitted answers in this round",
                [("/respondents", "none submitted")],
            )
        if result.uncovered:
            raise Conflict(
                "some sections have no submitted answers",
                [
                    (f"/sections/{sid}", "no submitted answers")
                    for sid in result.uncovered
                ],
            )
        rounds = self.store.list_rounds(org.id)
        done_already = [r for r in rounds if r.number == org.current_round]
        if done_already:  # a stale or repeated close of a round that is closed
            aid = done_already[0].assessment_id
            return ClosedRound(done_already[0], self.assessments.keyed_token(aid))
        earlier = [r for r in rounds if r.number < org.current_round]
        previous = earlier[-1].assessment_id if earlier else None
        answers = {
            **org.profile,
            **{k: v.option_id for k, v in result.combined.items()},
        }
        model = SubmissionIn if org.partner_id is None else PartnerSubmissionIn
        submission = model.model_validate(
            {
                "questionnaire": org.questionnaire_id,
                "version": org.version,
                "language": org.language,
                "answers": answers,
                "previous_token": (
                    self.assessments.keyed_token(previous)
                    if previous is not None
                    and self.assessments.store.get_assessment(previous) is not None
                    else None
                ),
            }
        )
        done = self.assessments.submit(
            submission,
            idempotency_key=self._round_key(org, org.current_round),
            partner_id=org.partner_id,
        )
        view = done.view
        closed = Round(
            organisation_id=org.id,
            number=org.current_round,
            closed_at=self._now(),
            questionnaire_id=org.questionnaire_id,
            version=org.version,
            assessment_id=view.id,
            respondents=result.submitted,
            phase=view.score.phase,
            pyramid_level=view.score.reached_tier,
            overall=view.score.overall,
            dimensions=dict(view.score.dimensions),
            included=view.record.included,
        )
        token = self.assessments.keyed_token(view.id)
        if self.store.close_round(closed):
            return ClosedRound(closed, token)
        # closed concurrently (with the same assessment: the same idempotency key)
        same = [r for r in self.store.list_rounds(org.id) if r.number == closed.number]
        if not same:
            raise NotFound("no such organisation", [("/id", "erased")])
        return ClosedRound(same[0], token)

    def rounds(self, org: Organisation) -> list[Round]:
        return self.store.list_rounds(org.id)

    # --- erasure ----------------------------------------------------------------------------
    def erase(self, org: Organisation) -> None:
        """Erase every round's benchmark contribution (the assessments' own erasure), then
        the organisation, its respondents and all their answers. Safe to repeat after a
        failure part-way: erased assessments are skipped."""
        for r in self.store.list_rounds(org.id):
            try:
                self.assessments.erase(
                    r.assessment_id, self.assessments.keyed_token(r.assessment_id)
                )
            except NotFound:
                pass  # erased already (a repeated erasure)
        self.store.delete_organisation(org.id)


def _check_profile(q: Questionnaire, profile: dict[str, str]) -> None:
    """The profile answers exactly the context questions, each with one of its options."""
    context = {x.id: x for x in q.questions if x.kind == "context"}
    errors: list[tuple[str, str]] = []
    for qid, opt in profile.items():
        question = context.get(qid)
        if question is None:
            errors.append(
                (
                    f"/profile/{_escape(qid)}",
                    f"not a context question; one of {', '.join(context)}",
                )
            )
        elif opt not in question.option_index:
            errors.append((f"/profile/{_escape(qid)}", f"unknown option {opt!r}"))
    errors += [
        (f"/profile/{_escape(qid)}", "an answer is required")
        for qid, x in context.items()
        if x.required and qid not in profile
    ]
    if errors:
        raise InvalidInput(f"{len(errors)} profile answer(s) are invalid", errors)
