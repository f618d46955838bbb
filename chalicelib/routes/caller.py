"""Who calls, and the handlers the public and the partner routes share.

The public routes and their partner twins (``/v1/assessments/{aid}`` and
``/v1/partner/assessments/{aid}``, ...) differ only in how the caller is identified: by the
assessment's result token, or as the partner that created it (its key checked by the
authorizer). Each twin pair calls one function here with a ``Caller``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalice.app import Response

from chalicelib import render
from chalicelib.routes.common import (
    body,
    container,
    header,
    idempotency_key,
    json_response,
    lang,
    no_content,
    params,
)

if TYPE_CHECKING:
    from chalicelib.partners import Principal

PARTNER = "/v1/partner"


@dataclass(frozen=True)
class Caller:
    """An anonymous caller with (maybe) a result token, or a partner principal."""

    token: str | None = None
    principal: Principal | None = None

    @classmethod
    def anonymous(cls) -> Caller:
        """The caller of a public route: whoever holds the ``X-Result-Token``, if any."""
        return cls(token=header("x-result-token"))

    @classmethod
    def partner(cls, principal: Principal) -> Caller:
        return cls(principal=principal)

    @property
    def partner_id(self) -> str | None:
        return None if self.principal is None else self.principal.partner_id

    def location(self, assessment_id: str) -> str:
        """Where this caller reads the assessment."""
        base = "/v1" if self.principal is None else PARTNER
        return f"{base}/assessments/{assessment_id}"


def submit(caller: Caller) -> Response:
    """A new assessment (201) or an idempotent replay (200). A partner's is queued with its
    webhook event; a session submits once, with its reference."""
    from chalicelib.request_models import PartnerSubmissionIn, SubmissionIn

    services = container()
    principal = caller.principal
    if principal is None:
        done = services.assessments.submit(
            body(SubmissionIn), idempotency_key=idempotency_key()
        )
    else:
        key = idempotency_key()
        submission = body(PartnerSubmissionIn)
        if (
            principal.kind == "session"
        ):  # one submission per session, with its reference
            from chalicelib.embed import session_submission

            reference, key = session_submission(principal, submission.reference, key)
            submission = submission.model_copy(update={"reference": reference})
        done = services.assessments.submit(
            submission,
            idempotency_key=key,
            partner_id=principal.partner_id,
            event=services.webhooks.event_for,  # queued with the assessment, one per new one
        )
        if done.delivery is not None:
            services.webhooks.deliver_now(
                done.delivery
            )  # never raises; retried if it fails
    headers = {"Location": caller.location(done.view.id)}
    if not done.created:
        headers["Idempotent-Replayed"] = "true"
    return json_response(
        render.assessment_json(done.view), 201 if done.created else 200, headers
    )


def get_assessment(caller: Caller, aid: str) -> Response:
    return json_response(
        render.assessment_json(
            container().assessments.get_assessment(
                aid, caller.token, lang(), caller.partner_id
            )
        )
    )


def erase(caller: Caller, aid: str) -> Response:
    container().assessments.erase(aid, caller.token, caller.partner_id)
    return no_content()


def compare(caller: Caller, aid: str) -> Response:
    return json_response(
        render.comparison_json(
            container().benchmarks.compare(
                aid, caller.token, params(), lang(), caller.partner_id
            ),
            lang(),
        )
    )


def progress(caller: Caller, aid: str) -> Response:
    return json_response(
        render.progress_json(
            container().benchmarks.progress(
                aid, caller.token, params(), lang(), caller.partner_id
            ),
            lang(),
        )
    )


def cohort_statistics(qid: str, version: str) -> Response:
    """The same released figures for everyone (no caller needed)."""
    return json_response(
        render.cohort_statistics_json(
            container().benchmarks.cohort_statistics(qid, version, params(), lang()),
            lang(),
        )
    )
