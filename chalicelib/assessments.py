"""Use cases: questionnaires, scoring, submission, fetching, erasure, drafts.

The service receives its store, catalog and settings; it knows nothing of HTTP. Domain errors
(``chalicelib.errors``) name the offending field as a JSON pointer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib import cohorts, quality, scoring
from chalicelib.config import Settings
from chalicelib.errors import Conflict, InvalidInput, NotFound, Unauthorized
from chalicelib.questionnaire import Catalog, Questionnaire, UnknownQuestionnaire
from chalicelib.records import (
    POPULATION_ALL,
    POPULATION_USERS,
    AssessmentRecord,
    Contribution,
    Delivery,
    Draft,
    IdempotencyKey,
)
from chalicelib.request_models import AnswersIn, DraftIn, SubmissionIn
from chalicelib.results import AssessmentView, CohortAttributes, ScoreView
from chalicelib.scoring import ScoreResult
from chalicelib.storage import Store

logger = logging.getLogger(__name__)
INLINE_FOLD_LIMIT = 100  # stream records folded after one write (AGGREGATE_INLINE)
# Every assessment id is 32 lowercase hex digits (random, or an HMAC of the idempotency key);
# anything else is unknown without a store lookup (and cannot reach a store's key limits).
_ASSESSMENT_ID = re.compile(r"[0-9a-f]{32}")
_NO_TOKEN_HASH = hashlib.sha256(b"no such assessment").hexdigest()
# An anonymous Idempotency-Key is the only proof a retrying client has (it lost the response),
# and the replay returns the result token: the key is a bearer secret, so it must be random.
_UUID4 = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
    re.IGNORECASE,
)
_HEX_128 = re.compile(r"[0-9a-fA-F]{32,128}")
KEY_RULE = "a random UUID v4 or 32 to 128 random hex digits (at least 122 random bits)"


def check_anonymous_idempotency_key(key: str) -> None:
    """Refuse a key that cannot be a random secret: not a UUID v4 or 32+ hex digits, or one
    whose digits are evidently not random (fewer than 6 distinct, or a repeated pattern).
    A random UUID v4 fails this with probability below 1e-11."""
    example = "e.g. uuidgen or crypto.randomUUID()"
    if _UUID4.fullmatch(key):
        digits = key.replace("-", "").lower()
    elif _HEX_128.fullmatch(key):
        digits = key.lower()
    else:
        reason = f"must be {KEY_RULE}, {example}"
        raise InvalidInput(
            f"Idempotency-Key {reason}", [("/headers/Idempotency-Key", reason)]
        )
    if len(set(digits)) >= 6 and not _periodic(digits):
        return
    reason = f"is not random; use {KEY_RULE}, {example}"
    raise InvalidInput(
        f"Idempotency-Key {reason}", [("/headers/Idempotency-Key", reason)]
    )


def _periodic(s: str) -> bool:
    """Whether ``s`` repeats a block at most half its length (``abcabc...``)."""
    return any(
        s == (s[:p] * (len(s) // p + 1))[: len(s)] for p in range(1, len(s) // 2 + 1)
    )


IDEMPOTENCY_SECONDS = 24 * 3600  # how long an Idempotency-Key replays (Stripe: 24 h)


def _age(rec: AssessmentRecord, now: datetime) -> float:
    """Seconds since ``rec`` was created."""
    return (now - datetime.fromisoformat(rec.created_at)).total_seconds()


def utcnow() -> datetime:
    return datetime.now(UTC)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Submitted:
    view: AssessmentView  # with the result token
    created: bool  # False: an idempotent replay of an earlier submission
    delivery: Delivery | None = None  # the webhook event queued with it, to try at once


EventFor = Callable[[AssessmentRecord], Delivery | None]


class AssessmentService:
    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.settings = settings
        self.clock = clock

    # --- questionnaires ---------------------------------------------------------------------
    def list_questionnaires(self) -> list[Questionnaire]:
        return list(self.catalog.all())

    def questionnaire(
        self, qid: str, version: str | None, language: str
    ) -> Questionnaire:
        try:
            return self.catalog.get(qid, version)
        except UnknownQuestionnaire as exc:
            pointer = (
                "/version"
                if version and any(q.id == qid for q in self.catalog.all())
                else "/questionnaire"
            )
            raise NotFound(
                f"unknown questionnaire {exc.args[0]}", [(pointer, "not installed")]
            )

    def questionnaire_of(self, rec: AssessmentRecord) -> Questionnaire:
        """The version a stored assessment was scored with."""
        return self.catalog.get(rec.questionnaire_id, rec.version)

    def get_questionnaire(
        self, qid: str, version: str | None, language: str
    ) -> Questionnaire:
        return self.questionnaire(qid, version, language)

    # --- validation -------------------------------------------------------------------------
    def validate_answers(
        self, q: Questionnaire, answers: Mapping[str, str], complete: bool = True
    ) -> None:
        errors: list[tuple[str, str]] = []
        index = q.question_index
        for qid, opt in answers.items():
            question = index.get(qid)
            if question is None:
                errors.append((f"/answers/{_escape(qid)}", f"unknown question {qid!r}"))
            elif opt not in question.scored_options:
                allowed = ", ".join(o.id for o in question.options[:8])
                more = ", ..." if len(question.options) > 8 else ""
                errors.append(
                    (
                        f"/answers/{_escape(qid)}",
                        f"unknown option {opt!r}; one of {allowed}{more}",
                    )
                )
        if complete:
            for question in q.questions:
                if question.required and question.id not in answers:
                    errors.append(
                        (f"/answers/{_escape(question.id)}", "an answer is required")
                    )
        if errors:
            raise InvalidInput(f"{len(errors)} answer(s) are invalid", errors)

    # --- scoring ----------------------------------------------------------------------------
    def score_only(self, body: AnswersIn) -> ScoreView:
        q = self.questionnaire(body.questionnaire, body.version, body.language)
        self.validate_answers(q, body.answers)
        result = scoring.score(q, body.answers, body.language)
        return ScoreView(
            q, body.language, body.answers, result, self._cohort_attrs(q, body.answers)
        )

    def _cohort_attrs(
        self, q: Questionnaire, answers: Mapping[str, str]
    ) -> CohortAttributes:
        def opt(role: str) -> Any:
            question = q.context_question(role)
            chosen = answers.get(question.id)
            return next((o for o in question.options if o.id == chosen), None)

        industry, size, country = opt("industry"), opt("size"), opt("country")
        consent = opt("consent")
        return CohortAttributes(
            industry=industry.value or industry.id if industry else None,
            size=size.value or size.id if size else None,
            country=country.value or country.id if country else None,
            region=country.region if country else None,
            consent=bool(consent and (consent.value or consent.id) == "yes"),
        )

    # --- submission -------------------------------------------------------------------------
    def _ids(
        self, client: str, idempotency_key: str | None, generation: int | None = None
    ) -> tuple[str, str]:
        """A new assessment id and its result token ``<id>.<secret>``. With an idempotency key
        both derive from it by HMAC, so a retry gets the same id (and the conditional write
        refuses to count it twice) and the same token, while nobody without the server secret
        can compute either. ``client`` is the namespace: ``public`` for anonymous callers, the
        partner id (``p_<hex>``) for a partner, so the same key of different clients never
        meets; neither contains ``|``, nor does an anonymous key (a UUID or hex digits).
        ``generation`` (the epoch second it was taken again) names a key's use after an
        earlier use expired (24 h); its first use has none, as before keys expired."""
        if idempotency_key is None:
            aid = secrets.token_hex(16)
            return aid, f"{aid}.{secrets.token_urlsafe(32)}"
        suffix = "" if generation is None else f"|{generation}"
        mac = hmac.new(
            self.settings.secret,
            f"id|{client}|{idempotency_key}{suffix}".encode(),
            "sha256",
        )
        aid = mac.hexdigest()[:32]
        return aid, self._token_for(aid)

    def _token_for(self, aid: str) -> str:
        tok = hmac.new(self.settings.secret, f"token|{aid}".encode(), "sha256").digest()
        return f"{aid}." + base64.urlsafe_b64encode(tok).rstrip(b"=").decode()

    def keyed_token(self, aid: str) -> str:
        """The result token of an assessment submitted with an Idempotency-Key (it derives
        from the id): organisation rounds (chalicelib/organisation_service.py) erase and
        link their own assessments with it, so no token is stored."""
        return self._token_for(aid)

    def _key_id(self, client: str, idempotency_key: str) -> str:
        """The stored name of a key: an HMAC of namespace and key (never the key)."""
        return hmac.new(
            self.settings.secret, f"idem|{client}|{idempotency_key}".encode(), "sha256"
        ).hexdigest()[:40]

    def shards_of(self, rec: AssessmentRecord) -> int:
        """The global shard count ``rec`` is (or will be) counted with: its own, so that
        changing GLOBAL_SHARDS never moves an erasure to another shard."""
        if rec.global_shards is not None:
            return rec.global_shards
        return self.settings.legacy_global_shards

    def contribution_for(self, rec: AssessmentRecord) -> Contribution | None:
        if not rec.included:
            return None
        cohort = cohorts.Cohort(
            rec.industry or cohorts.ALL,
            rec.size or cohorts.ALL,
            rec.region or cohorts.ALL,
        )
        return Contribution(
            source=rec.source,
            questionnaire_id=rec.questionnaire_id,
            version=rec.version,
            cohorts=cohorts.contribution_keys(cohort, rec.id, self.shards_of(rec)),
            metrics=dict(rec.metrics),
            month=rec.month,
            populations=populations_of(rec),
        )

    def build_record(
        self,
        q: Questionnaire,
        body: SubmissionIn,
        assessment_id: str,
        token: str,
        partner_id: str | None,
        previous_id: str | None,
        source: str = "real",
    ) -> AssessmentRecord:
        return self._scored_record(
            q, body, assessment_id, token, partner_id, previous_id, source
        )[0]

    def _scored_record(
        self,
        q: Questionnaire,
        body: SubmissionIn,
        assessment_id: str,
        token: str,
        partner_id: str | None,
        previous_id: str | None,
        source: str = "real",
    ) -> tuple[AssessmentRecord, ScoreResult]:
        """The record to store and its score result (scored once: the response reuses it)."""
        result = scoring.score(q, body.answers, body.language)
        attrs = self._cohort_attrs(q, body.answers)
        reasons = list(quality.screen(q, body.answers, body.duration_seconds))
        if not attrs.consent:
            reasons.insert(0, "no-consent")
        now = self.clock()
        request_hash = request_hash_of(body)
        rec = AssessmentRecord(
            id=assessment_id,
            questionnaire_id=q.id,
            version=q.version,
            language=body.language,
            answers=dict(sorted(body.answers.items())),
            metrics=result.metrics(),
            result={
                "phase": result.phase,
                "overall": result.overall,
                # the evidence flag travels with the stored result (docs/SCORING.md)
                "assessable": result.assessable,
                "coverage_percent": round(100 * result.coverage.share),
                "low_coverage": result.coverage.low,
            },
            industry=attrs.industry,
            size=attrs.size,
            country=attrs.country,
            region=attrs.region,
            month=now.strftime("%Y-%m"),
            created_at=now.isoformat(timespec="seconds"),
            consent=attrs.consent,
            included=not reasons,
            exclusion_reasons=tuple(reasons),
            token_hash=hash_token(token),
            request_hash=request_hash,
            partner_id=partner_id,
            previous_id=previous_id,
            source=source,
            uses_social_media=q.uses_social_media(body.answers),
            global_shards=self.settings.global_shards,
            partner_ref=getattr(body, "reference", None)
            if partner_id is not None
            else None,
        )
        return rec, result

    def submit(
        self,
        body: SubmissionIn,
        idempotency_key: str | None = None,
        partner_id: str | None = None,
        event: EventFor | None = None,
    ) -> Submitted:
        """Score and store a submission. ``event`` may return a webhook delivery for the new
        record: it is queued in the same atomic write (the outbox), so an accepted
        submission's event is never lost and a replay queues nothing."""
        if idempotency_key is not None and partner_id is None:
            check_anonymous_idempotency_key(idempotency_key)
        reference = getattr(body, "reference", None)  # PartnerSubmissionIn only
        if reference is not None:
            if partner_id is None:
                raise InvalidInput(
                    "only partner submissions carry a reference",
                    [("/reference", "use POST /v1/partner/assessments")],
                )
            from chalicelib.partners import check_reference

            check_reference(reference)
        q = self.questionnaire(body.questionnaire, body.version, body.language)
        self.validate_answers(q, body.answers)
        previous_id = None
        if body.previous_token:
            previous = self._find_by_token(body.previous_token)
            if previous is None:
                raise InvalidInput(
                    "previous_token does not match a stored assessment",
                    [("/previous_token", "unknown or erased assessment")],
                )
            previous_id = previous.id
        client = partner_id or "public"
        if idempotency_key is None:
            aid, token = self._ids(client, None)
            rec, result = self._scored_record(
                q, body, aid, token, partner_id, previous_id
            )
            done = self._create(rec, result, body, token, event, None)
            assert done is not None  # a random id is never taken
            return done
        return self._submit_keyed(
            q, body, client, idempotency_key, partner_id, previous_id, event
        )

    def _create(
        self,
        rec: AssessmentRecord,
        result: ScoreResult,
        body: SubmissionIn,
        token: str,
        event: EventFor | None,
        idempotency: IdempotencyKey | None,
    ) -> Submitted | None:
        """Store a new assessment (None: its id or key is taken)."""
        delivery = event(rec) if event is not None else None
        if not self.store.create_assessment(
            rec, self.contribution_for(rec), delivery, idempotency
        ):
            return None
        logger.info("assessment stored", extra={"included": rec.included})
        if rec.included:
            self.fold_inline()
        if body.draft_id:
            self.store.delete_draft(body.draft_id)
        view = AssessmentView(
            rec, self.questionnaire_of(rec), result, body.language, token
        )
        return Submitted(view, True, delivery)

    def _submit_keyed(
        self,
        q: Questionnaire,
        body: SubmissionIn,
        client: str,
        idempotency_key: str,
        partner_id: str | None,
        previous_id: str | None,
        event: EventFor | None,
    ) -> Submitted:
        """Stripe semantics: within 24 h of its first use a key replays its assessment
        (the same body) or is a 409 (another body); after that it creates a new one. The
        key's entry is taken in the assessment's own atomic write, so two concurrent first
        uses create one assessment. Records stored before keys had entries (and keys whose
        entry the TTL deleted) are recognised by their id and ``created_at``."""
        now = self.clock()
        epoch = int(now.timestamp())
        key_id = self._key_id(client, idempotency_key)
        generation: int | None = None
        for _ in range(3):
            held = self.store.get_idempotency_key(key_id)
            if held is not None and held.expires_at > epoch:
                return self._replay(held.assessment_id, body)
            if held is not None:
                generation = epoch
            aid, token = self._ids(client, idempotency_key, generation)
            rec, result = self._scored_record(
                q, body, aid, token, partner_id, previous_id
            )
            entry = IdempotencyKey(key_id, aid, epoch, epoch + IDEMPOTENCY_SECONDS)
            done = self._create(rec, result, body, token, event, entry)
            if done is not None:
                return done
            held = self.store.get_idempotency_key(key_id)
            if held is not None and held.expires_at > epoch:
                continue  # a concurrent first use took the key: replay it
            existing = self.store.get_assessment(aid)
            if existing is not None and _age(existing, now) < IDEMPOTENCY_SECONDS:
                return self._replay(aid, body)
            generation = epoch  # the id's earlier use has expired: a new generation
        raise Conflict(
            "Idempotency-Key is being used concurrently; retry",
            [("/headers/Idempotency-Key", "in use")],
        )

    def _replay(self, aid: str, body: SubmissionIn) -> Submitted:
        token = self._token_for(aid)
        existing = self.store.get_assessment(aid)
        if existing is None:  # erased while its key is kept: a conflict, not a new one
            raise Conflict(
                "the assessment for this Idempotency-Key was erased",
                [("/headers/Idempotency-Key", "its assessment was erased")],
            )
        if existing.request_hash != request_hash_of(body):
            raise Conflict(
                "Idempotency-Key was already used with a different request",
                [("/headers/Idempotency-Key", "reused with a different body")],
            )
        return Submitted(self.view(existing, body.language, token), False)

    # --- reading and erasure ----------------------------------------------------------------
    def _find_by_token(self, token: str) -> AssessmentRecord | None:
        """Tokens have the form ``<assessment id>.<secret part>``."""
        return self._verified(token.split(".", 1)[0], token)

    def _verified(self, assessment_id: str, token: str) -> AssessmentRecord | None:
        """The record if ``token`` is its result token. Always one lookup (skipped only for an
        id that cannot exist), one SHA-256 and one constant-time compare, also when the id is
        unknown, so neither the answer nor the work done tells whether the id exists."""
        rec = (
            self.store.get_assessment(assessment_id)
            if _ASSESSMENT_ID.fullmatch(assessment_id)
            else None
        )
        expected = rec.token_hash if rec is not None else _NO_TOKEN_HASH
        ok = hmac.compare_digest(expected, hash_token(token))
        return rec if ok and rec is not None else None

    def authorize(
        self, assessment_id: str, token: str | None, partner_id: str | None = None
    ) -> AssessmentRecord:
        """The assessment, if the caller holds its token or is the partner that created it.

        The answer never depends on whether the id exists: without a token (and without a
        partner) it is 401 for every id, before anything is read; a token that does not verify
        (malformed, wrong, another assessment's) and another partner's or an unknown id are
        404 alike."""
        unknown = NotFound("no such assessment", [("/id", "unknown assessment")])
        if token:
            rec = self._verified(assessment_id, token)
            if rec is None:
                raise unknown
            return rec
        if partner_id is None:
            raise Unauthorized(
                "a result token is required (header X-Result-Token)",
                [("/headers/X-Result-Token", "missing")],
            )
        rec = (
            self.store.get_assessment(assessment_id)
            if _ASSESSMENT_ID.fullmatch(assessment_id)
            else None
        )
        if rec is None or rec.partner_id != partner_id:
            raise unknown
        return rec

    def get_assessment(
        self,
        assessment_id: str,
        token: str | None,
        language: str,
        partner_id: str | None = None,
    ) -> AssessmentView:
        rec = self.authorize(assessment_id, token, partner_id)
        # the partner's own reference id: only the partner reads it
        return self.view(rec, language, for_partner=partner_id is not None)

    def erase(
        self, assessment_id: str, token: str | None, partner_id: str | None = None
    ) -> None:
        rec = self.authorize(assessment_id, token, partner_id)
        if not self.store.delete_assessment(rec, self.contribution_for(rec)):
            raise NotFound("no such assessment", [("/id", "already erased")])
        if rec.included:
            self.fold_inline()

    def fold_inline(self) -> None:
        """With ``AGGREGATE_INLINE``, fold the store's pending stream records into the
        cell aggregates now (after the write committed, in this process). The write has
        succeeded whatever happens here: a failure is logged and the next run (the next
        write, the release job) folds the records, exactly once."""
        if not self.settings.aggregate_inline:
            return
        try:  # a bounded batch: a backlog (an upgraded file) drains over several writes
            self.store.aggregate_pending(INLINE_FOLD_LIMIT)
        except Exception:
            logger.exception("inline aggregation failed; the next run catches up")

    def view(
        self,
        rec: AssessmentRecord,
        language: str,
        token: str | None = None,
        for_partner: bool = False,
    ) -> AssessmentView:
        """A stored assessment scored in ``language`` by its own version's rules."""
        q = self.questionnaire_of(rec)
        result = scoring.score(q, rec.answers, language)
        return AssessmentView(rec, q, result, language, token, for_partner)

    # --- drafts -----------------------------------------------------------------------------
    def save_draft(self, body: DraftIn, draft_id: str | None = None) -> Draft:
        q = self.questionnaire(body.questionnaire, body.version, body.language)
        self.validate_answers(q, body.answers, complete=False)
        now = self.clock()
        expires = int(now.timestamp()) + self.settings.draft_ttl_days * 86400
        draft = Draft(
            id=draft_id or secrets.token_urlsafe(18),
            questionnaire_id=q.id,
            version=q.version,
            language=body.language,
            answers=dict(body.answers),
            updated_at=now.isoformat(timespec="seconds"),
            expires_at=expires,
            elapsed_seconds=body.elapsed_seconds,
        )
        self.store.put_draft(draft)
        return draft

    def update_draft(self, draft_id: str, body: DraftIn) -> Draft:
        self.get_draft(draft_id)  # 404 when unknown or expired
        return self.save_draft(body, draft_id)

    def get_draft(self, draft_id: str) -> Draft:
        draft = self.store.get_draft(draft_id, int(self.clock().timestamp()))
        if draft is None:
            raise NotFound(
                "no such draft, or it has expired", [("/id", "unknown draft")]
            )
        return draft


def request_hash_of(body: SubmissionIn) -> str:
    """What an Idempotency-Key's replay must match: the body (without the draft id; without
    an absent partner reference, so hashes of bodies stored before references stay valid)."""
    hashed = body.model_dump(exclude={"draft_id"})
    if hashed.get("reference") is None:
        hashed.pop("reference", None)
    return hashlib.sha256(json.dumps(hashed, sort_keys=True).encode()).hexdigest()


def populations_of(rec: AssessmentRecord) -> tuple[str, ...]:
    """The benchmark populations a record counts in: ``all``, and ``users`` when its answer to
    the population question says it uses social media (unknown, "don't know" and records
    stored before populations existed count in ``all`` only, as they were added then)."""
    if rec.uses_social_media:
        return (POPULATION_ALL, POPULATION_USERS)
    return (POPULATION_ALL,)


def _escape(token: str) -> str:
    """JSON pointer escaping (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")
