"""Chalice app: routes, error mapping, lazily cached resources. Thin by design: each route
parses its input, calls one service method and responds."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from chalice import AuthResponse, Chalice, Rate, Response

from chalicelib.http import PROBLEM, language, parse_body, problem_for

ANY_TYPE = [
    "*/*"
]  # content type checked by parse_body so mistakes get a problem document


class App(Chalice):  # type: ignore[misc]
    """Every route accepts any Content-Type: routes with a body check it in parse_body (a 415
    problem document), routes without one ignore it. Chalice's own check would answer a GET
    or DELETE sent with, say, ``Content-Type: text/plain`` with its plain-JSON 415."""

    def route(
        self, path: str, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        kwargs.setdefault("content_types", ANY_TYPE)
        decorate: Callable[[Callable[..., Any]], Callable[..., Any]] = super().route(
            path, **kwargs
        )
        return decorate


app = App(app_name="smm-benchmark")
app.api.binary_types += [
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
]
app.log.setLevel(logging.INFO)

_service: Any = None


def get_service() -> Any:
    """The service with its store, built on first use (never at import time)."""
    global _service
    if _service is None:
        from chalicelib.config import Settings
        from chalicelib.questionnaire import get_catalog
        from chalicelib.service import AssessmentService
        from chalicelib.storage import store_from_env

        _service = AssessmentService(
            store_from_env(), get_catalog(), Settings.from_env()
        )
    return _service


def reset_service(service: Any = None, webhook_sender: Any = None) -> None:
    """Tests swap in a service bound to their own store (and a webhook sender)."""
    global _service, _insights, _partners, _webhooks, _webhook_sender
    _service = service
    _insights = None
    _partners = None
    _webhooks = None
    _webhook_sender = webhook_sender


_webhooks: Any = None
_webhook_sender: Any = None


def get_webhooks() -> Any:
    """Partner webhooks over the same store (lazy)."""
    global _webhooks
    if _webhooks is None:
        from chalicelib.webhooks import WebhookService, http_post

        svc = get_service()
        _webhooks = WebhookService(
            svc.store, svc.settings.secret, _webhook_sender or http_post
        )
    return _webhooks


_insights: Any = None


def get_insights() -> Any:
    """Benchmark use cases over the same service (lazy)."""
    global _insights
    if _insights is None:
        from chalicelib.insights import BenchmarkService

        _insights = BenchmarkService(get_service())
    return _insights


def get_statistics() -> Any:
    """Consultant statistics: importing this pulls in scipy, so only these routes call it."""
    from chalicelib.insights import ConsultantStatistics

    return ConsultantStatistics(get_insights())


def _instance() -> str:
    """The request's path with its parameters filled in (Chalice's ``path`` is the template)."""
    req = app.current_request
    path = str(req.path)
    for name, value in (req.uri_params or {}).items():
        path = path.replace("{" + name + "}", str(value))
    return path


def _json(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    h = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    h.update(headers or {})
    return Response(
        body=json.dumps(body, ensure_ascii=False), status_code=status, headers=h
    )


def _registered_origin_cors(origin: str | None) -> dict[str, str]:
    """CORS headers for a refusal the local gateway answers itself (no key, bad key, unknown
    path): only for origins an active partner key registered, as on the partner routes."""
    if not origin or not get_partners().known_origin(origin):
        return {}
    from chalicelib.gateway import EXPOSE

    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": EXPOSE,
        "Vary": "Origin",
    }


if "chalice.local" in sys.modules:  # chalice local or chalice.test, never on Lambda
    from chalicelib.gateway import install_local

    install_local(_registered_origin_cors)


def problems(view: Callable[..., Response]) -> Callable[..., Response]:
    """Render every exception as application/problem+json."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - mapped to a problem document
            status, doc, headers = problem_for(exc, _instance())
            return Response(body=json.dumps(doc), status_code=status, headers=headers)

    return wrapper


def _body(model: Any) -> Any:
    req = app.current_request
    return parse_body(
        req.raw_body,
        req.headers.get("content-type"),
        model,
        get_service().settings.max_body_bytes,
    )


def _idempotency_key() -> str | None:
    key = app.current_request.headers.get("idempotency-key")
    if key is not None and not (1 <= len(key) <= 128):
        from chalicelib.errors import InvalidInput

        raise InvalidInput(
            "Idempotency-Key must have 1 to 128 characters",
            [("/headers/Idempotency-Key", "1 to 128 characters")],
        )
    return key


def _lang() -> str:
    return language(app.current_request.query_params)


# --- questionnaires -------------------------------------------------------------------------
@app.route("/v1/questionnaires", methods=["GET"])
@problems
def list_questionnaires() -> Response:
    return _json({"items": get_service().list_questionnaires(_lang())})


@app.route("/v1/questionnaires/{qid}/{version}", methods=["GET"])
@problems
def get_questionnaire(qid: str, version: str) -> Response:
    return _json(get_service().get_questionnaire(qid, version, _lang()))


# --- scoring and assessments ----------------------------------------------------------------
@app.route("/v1/scores", methods=["POST"], content_types=ANY_TYPE)
@problems
def score() -> Response:
    from chalicelib.models import AnswersIn

    return _json(get_service().score_only(_body(AnswersIn)))


@app.route("/v1/assessments", methods=["POST"], content_types=ANY_TYPE)
@problems
def submit_assessment() -> Response:
    from chalicelib.models import SubmissionIn

    done = get_service().submit(_body(SubmissionIn), idempotency_key=_idempotency_key())
    headers = {"Location": f"/v1/assessments/{done.body['id']}"}
    if not done.created:
        headers["Idempotent-Replayed"] = "true"
    return _json(done.body, 201 if done.created else 200, headers)


@app.route("/v1/assessments/{aid}", methods=["GET"])
@problems
def get_assessment(aid: str) -> Response:
    token = app.current_request.headers.get("x-result-token")
    return _json(get_service().get_assessment(aid, token, _lang()))


@app.route("/v1/assessments/{aid}", methods=["DELETE"])
@problems
def erase_assessment(aid: str) -> Response:
    token = app.current_request.headers.get("x-result-token")
    get_service().erase(aid, token)
    return Response(body="", status_code=204, headers={"Cache-Control": "no-store"})


# --- benchmarks -----------------------------------------------------------------------------
def _params() -> dict[str, str]:
    return dict(app.current_request.query_params or {})


@app.route("/v1/benchmarks/{qid}/{version}", methods=["GET"])
@problems
def cohort_statistics(qid: str, version: str) -> Response:
    return _json(get_insights().cohort_statistics(qid, version, _params(), _lang()))


@app.route("/v1/assessments/{aid}/comparison", methods=["GET"])
@problems
def compare_assessment(aid: str) -> Response:
    token = app.current_request.headers.get("x-result-token")
    return _json(get_insights().compare(aid, token, _params(), _lang()))


@app.route("/v1/assessments/{aid}/progress", methods=["GET"])
@problems
def assessment_progress(aid: str) -> Response:
    token = app.current_request.headers.get("x-result-token")
    return _json(get_insights().progress(aid, token, _params(), _lang()))


# --- partner API (Authorization: Bearer <key>, checked by the authorizer) ---------------------------
PARTNER = "/v1/partner"
PARTNER_HEADERS = "Authorization, Content-Type, Idempotency-Key"
_partners: Any = None


def get_partners() -> Any:
    global _partners
    if _partners is None:
        from chalicelib.partners import PartnerService

        _partners = PartnerService(get_service().store)
    return _partners


class UsageAuthResponse(AuthResponse):  # type: ignore[misc]
    """An allow policy that also names the API Gateway usage-plan key (API key source
    AUTHORIZER), so a partner sends one header and still gets its tier's throttling."""

    def __init__(self, usage_key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.usage_key = usage_key

    def to_dict(self, request: Any) -> dict[str, Any]:
        d: dict[str, Any] = super().to_dict(request)
        d["usageIdentifierKey"] = self.usage_key
        return d


@app.authorizer(ttl_seconds=60, header="Authorization")
def partner_key(auth_request: Any) -> AuthResponse:
    """Checks ``Authorization: Bearer <partner key>`` (hashed, constant time). Scopes are
    enforced per route from the context, so one cached policy covers every partner route.
    Revocation takes effect within the 60 s cache time."""
    from chalicelib.partners import usage_identifier, verify

    token = str(auth_request.token or "")
    presented = (
        token[7:].strip() if token.lower().startswith("bearer ") else token.strip()
    )
    principal = verify(get_service().store, presented, get_service().settings.secret)
    if principal is None:
        return AuthResponse(routes=[], principal_id="anonymous")
    return UsageAuthResponse(
        usage_key=usage_identifier(
            get_service().settings.secret, principal.partner_id, principal.tier
        ),
        routes=["*"],
        principal_id=principal.partner_id,
        context=principal.context(),
    )


def partner_route(
    scope: str, browser: bool = False
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Resolve the calling partner, require ``scope``, render errors as problems and add CORS
    headers for the partner's own origins (never a wildcard). ``browser``: publishable keys
    and sessions may call this route too (chalicelib/embed.check_browser_call)."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            from chalicelib.errors import Forbidden, Unauthorized
            from chalicelib.partners import Principal

            req = app.current_request
            principal = None
            limits: dict[str, str] = {}
            try:
                ctx = (req.context or {}).get("authorizer") or {}
                if "partner_id" not in ctx:
                    raise Unauthorized(
                        "a partner key is required: Authorization: Bearer <key>"
                    )
                principal = Principal.from_context(ctx)
                decision = _rate_limit(principal)
                limits = decision.headers if decision is not None else {}
                if principal.browser:
                    import time

                    from chalicelib.embed import check_browser_call

                    check_browser_call(
                        principal,
                        browser,
                        req.headers.get("origin"),
                        req.headers.get("host"),
                        time.time(),
                    )
                if scope not in principal.scopes:
                    raise Forbidden(
                        f"this key lacks the '{scope}' scope",
                        [("/headers/Authorization", f"needs scope {scope}")],
                    )
                if decision is not None and not decision.allowed:
                    response = Response(
                        body=json.dumps(decision.problem(_instance())),
                        status_code=429,
                        headers={"Content-Type": PROBLEM},
                    )
                else:
                    response = view(principal, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - mapped to a problem document
                status, doc, headers = problem_for(exc, _instance())
                response = Response(
                    body=json.dumps(doc), status_code=status, headers=headers
                )
            response.headers.update(limits)
            origin = req.headers.get("origin")
            if principal is not None and origin and origin in principal.origins:
                response.headers.update(
                    {
                        "Access-Control-Allow-Origin": origin,
                        "Access-Control-Expose-Headers": "Location, Idempotent-Replayed,"
                        " Retry-After, RateLimit, RateLimit-Policy, Link",
                        "Vary": "Origin",
                    }
                )
            return response

        return wrapper

    return decorate


_limiter: Any = None


def _rate_limit(principal: Any) -> Any:
    """Count the request against the partner's tier (chalicelib/ratelimit.py): the
    decision with its RateLimit headers, or None when PARTNER_RATE_LIMIT=0."""
    global _limiter
    from chalicelib import ratelimit

    if not ratelimit.enabled():
        return None
    svc = get_service()
    if _limiter is None or (_limiter.store, _limiter.clock) != (svc.store, svc.clock):
        _limiter = ratelimit.RateLimiter(svc.store, svc.clock)
    return _limiter.take(principal.partner_id, principal.tier)


def _lists() -> Any:
    from chalicelib.listing import PartnerLists

    svc = get_service()
    installed = {
        "questionnaire": {q.id for q in svc.catalog.all()},
        "version": {q.version for q in svc.catalog.all()},
    }
    return PartnerLists(svc.store, svc.settings.secret, installed)


def _page(result: tuple[dict[str, Any], dict[str, str]]) -> Response:
    body, headers = result
    return _json(body, headers=headers)


def _preflight(methods: str) -> Response:
    """CORS preflight (it carries no key): allowed for origins registered by an active key."""
    origin = app.current_request.headers.get("origin")
    if not get_partners().known_origin(origin):
        from chalicelib.http import problem

        doc = problem(
            403,
            "forbidden",
            "Forbidden",
            "this origin is not registered by any partner",
        )
        return Response(
            body=json.dumps(doc),
            status_code=403,
            headers={"Content-Type": PROBLEM, "Vary": "Origin"},
        )
    return Response(
        body="",
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": str(origin),
            "Access-Control-Allow-Methods": methods,
            "Access-Control-Allow-Headers": PARTNER_HEADERS,
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        },
    )


PARTNER_AUTH: dict[str, Any] = {"authorizer": partner_key, "api_key_required": True}


@app.route(
    f"{PARTNER}/assessments", methods=["POST"], content_types=ANY_TYPE, **PARTNER_AUTH
)
@partner_route("submit", browser=True)
def partner_submit(principal: Any) -> Response:
    from chalicelib.models import PartnerSubmissionIn

    key = _idempotency_key()
    body = _body(PartnerSubmissionIn)
    if principal.kind == "session":  # one submission per session, with its reference
        from chalicelib.embed import session_submission

        reference, key = session_submission(principal, body.reference, key)
        body = body.model_copy(update={"reference": reference})
    done = get_service().submit(
        body,
        idempotency_key=key,
        partner_id=principal.partner_id,
        event=get_webhooks().event_for,  # queued with the assessment, one per new one
    )
    if done.delivery is not None:
        get_webhooks().deliver_now(done.delivery)  # never raises; retried if it fails
    headers = {"Location": f"{PARTNER}/assessments/{done.body['id']}"}
    if not done.created:
        headers["Idempotent-Replayed"] = "true"
    return _json(done.body, 201 if done.created else 200, headers)


@app.route(f"{PARTNER}/assessments", methods=["GET"], **PARTNER_AUTH)
@partner_route("read")
def partner_list_assessments(principal: Any) -> Response:
    """This partner's assessments, newest first, filtered and paged (cursor)."""
    return _page(_lists().assessments(principal.partner_id, _params()))


@app.route(f"{PARTNER}/assessments/{{aid}}", methods=["GET"], **PARTNER_AUTH)
@partner_route("read")
def partner_get_assessment(principal: Any, aid: str) -> Response:
    return _json(get_service().get_assessment(aid, None, _lang(), principal.partner_id))


@app.route(f"{PARTNER}/assessments/{{aid}}", methods=["DELETE"], **PARTNER_AUTH)
@partner_route("submit")
def partner_erase(principal: Any, aid: str) -> Response:
    get_service().erase(aid, None, principal.partner_id)
    return Response(body="", status_code=204, headers={"Cache-Control": "no-store"})


@app.route(f"{PARTNER}/assessments/{{aid}}/comparison", methods=["GET"], **PARTNER_AUTH)
@partner_route("read")
def partner_compare(principal: Any, aid: str) -> Response:
    return _json(
        get_insights().compare(aid, None, _params(), _lang(), principal.partner_id)
    )


@app.route(f"{PARTNER}/assessments/{{aid}}/progress", methods=["GET"], **PARTNER_AUTH)
@partner_route("read")
def partner_progress(principal: Any, aid: str) -> Response:
    return _json(
        get_insights().progress(aid, None, _params(), _lang(), principal.partner_id)
    )


@app.route(f"{PARTNER}/benchmarks/{{qid}}/{{version}}", methods=["GET"], **PARTNER_AUTH)
@partner_route("benchmarks")
def partner_benchmarks(principal: Any, qid: str, version: str) -> Response:
    return _json(get_insights().cohort_statistics(qid, version, _params(), _lang()))


@app.route(
    f"{PARTNER}/benchmarks/{{qid}}/{{version}}/statistics",
    methods=["GET"],
    **PARTNER_AUTH,
)
@partner_route("benchmarks")
def partner_statistics(principal: Any, qid: str, version: str) -> Response:
    return _json(get_statistics().statistics(qid, version, _params(), _lang()))


@app.route(
    f"{PARTNER}/benchmarks/{{qid}}/{{version}}/cohort-comparison",
    methods=["GET"],
    **PARTNER_AUTH,
)
@partner_route("benchmarks")
def partner_cohort_comparison(principal: Any, qid: str, version: str) -> Response:
    return _json(get_statistics().compare_cohorts(qid, version, _params(), _lang()))


@app.route(
    f"{PARTNER}/exports", methods=["POST"], content_types=ANY_TYPE, **PARTNER_AUTH
)
@partner_route("export")
def partner_export(principal: Any) -> Response:
    """Assessments this partner created, side by side, or a cohort table (privacy rules of the
    benchmark apply unchanged)."""
    from chalicelib.exports import CONTENT_TYPES
    from chalicelib.models import ExportIn

    body = _body(ExportIn)
    refused = _not_acceptable(CONTENT_TYPES[body.format])
    if refused is not None:
        return refused
    params = {"source": body.source, "population": body.population}
    if body.kind == "cohorts":
        export = get_exports().cohort_table(
            body.questionnaire,
            body.version,
            body.by,
            body.format,
            body.language,
            params,
            format_pointer="/format",
            by_pointer="/by",
            csv_locale=body.csv_locale,
        )
        return _download(export)
    if not body.assessment_ids:
        from chalicelib.errors import InvalidInput

        raise InvalidInput(
            "name at least one assessment", [("/assessment_ids", "empty")]
        )
    service = get_service()
    records = [
        service.authorize(aid, None, principal.partner_id)
        for aid in body.assessment_ids
    ]
    return _download(
        get_exports().side_by_side(
            records,
            body.format,
            body.language,
            params,
            display_labels=body.labels,
            csv_locale=body.csv_locale,
        )
    )


@app.route(f"{PARTNER}/keys", methods=["GET"], **PARTNER_AUTH)
@partner_route("admin")
def partner_list_keys(principal: Any) -> Response:
    return _page(_lists().keys(principal.partner_id, _params()))


@app.route(f"{PARTNER}/keys", methods=["POST"], content_types=ANY_TYPE, **PARTNER_AUTH)
@partner_route("admin")
def partner_create_key(principal: Any) -> Response:
    """A new key (shown once) with the scopes and origins in the body, at most the calling
    key's; for rotation, the same as the key it replaces."""
    from chalicelib.models import KeyIn
    from chalicelib.partners import public

    body = _body(KeyIn)
    key, record = get_partners().issue(
        principal, body.scopes, body.origins, body.name, body.type
    )
    return _json({"key": key, **public(record)}, 201)


@app.route(f"{PARTNER}/keys/{{key_id}}", methods=["DELETE"], **PARTNER_AUTH)
@partner_route("admin")
def partner_revoke_key(principal: Any, key_id: str) -> Response:
    get_partners().revoke(key_id, principal.partner_id)
    return Response(body="", status_code=204, headers={"Cache-Control": "no-store"})


@app.route(
    f"{PARTNER}/webhook", methods=["PUT"], content_types=ANY_TYPE, **PARTNER_AUTH
)
@partner_route("admin")
def partner_set_webhook(principal: Any) -> Response:
    """Register (or replace) the partner's endpoint; the signing secret is in the answer."""
    from chalicelib.models import WebhookIn

    body = _body(WebhookIn)
    return _json(get_webhooks().register(principal.partner_id, body.url))


@app.route(f"{PARTNER}/webhook", methods=["GET"], **PARTNER_AUTH)
@partner_route("admin")
def partner_get_webhook(principal: Any) -> Response:
    """The endpoint and its most recent deliveries."""
    return _json(get_webhooks().state(principal.partner_id))


@app.route(f"{PARTNER}/webhook", methods=["DELETE"], **PARTNER_AUTH)
@partner_route("admin")
def partner_delete_webhook(principal: Any) -> Response:
    get_webhooks().unregister(principal.partner_id)
    return Response(body="", status_code=204, headers={"Cache-Control": "no-store"})


@app.route(
    f"{PARTNER}/webhook/secret",
    methods=["POST"],
    content_types=ANY_TYPE,
    **PARTNER_AUTH,
)
@partner_route("admin")
def partner_rotate_webhook_secret(principal: Any) -> Response:
    """A new signing secret (shown here); the previous one signs too for a grace period."""
    from chalicelib.models import WebhookSecretIn

    raw = app.current_request.raw_body
    body = _body(WebhookSecretIn) if raw else WebhookSecretIn()
    out = get_webhooks().rotate_secret(principal.partner_id, body.grace_seconds)
    return _json(out, 201)


@app.route(f"{PARTNER}/webhook/deliveries", methods=["GET"], **PARTNER_AUTH)
@partner_route("admin")
def partner_list_deliveries(principal: Any) -> Response:
    """Every delivery of this partner's events, newest first, paged (cursor)."""
    return _page(_lists().deliveries(principal.partner_id, _params()))


@app.route(
    f"{PARTNER}/webhook/deliveries/{{delivery_id}}/replay",
    methods=["POST"],
    content_types=ANY_TYPE,
    **PARTNER_AUTH,
)
@partner_route("admin")
def partner_replay_delivery(principal: Any, delivery_id: str) -> Response:
    """One more attempt of a failed delivery, now; answers the delivery after it."""
    return _json(get_webhooks().replay(principal.partner_id, delivery_id))


@app.route(
    f"{PARTNER}/sessions", methods=["POST"], content_types=ANY_TYPE, **PARTNER_AUTH
)
@partner_route("submit")
def partner_create_session(principal: Any) -> Response:
    """A short-lived client secret for one visitor of the partner's page (the widget's
    session flow): minted on the partner's server with its secret key, submits once."""
    from chalicelib.models import SessionIn

    raw = app.current_request.raw_body
    body = _body(SessionIn) if raw else SessionIn()
    out = get_partners().create_session(
        principal, get_service().settings.secret, body.reference, body.ttl_seconds
    )
    return _json(out, 201)


_brandings: Any = None


def get_brandings() -> Any:
    global _brandings
    if _brandings is None or _brandings.store is not get_service().store:
        from chalicelib.branding import BrandingService

        _brandings = BrandingService(get_service().store)
    return _brandings


@app.route(
    f"{PARTNER}/branding", methods=["PUT"], content_types=ANY_TYPE, **PARTNER_AUTH
)
@partner_route("admin")
def partner_set_branding(principal: Any) -> Response:
    """The partner's white label for the widget, the result page and the PDF report."""
    from chalicelib.models import BrandingIn

    body = _body(BrandingIn)
    return _json(get_brandings().set(principal.partner_id, body.model_dump()))


@app.route(f"{PARTNER}/branding", methods=["GET"], **PARTNER_AUTH)
@partner_route("admin")
def partner_get_branding(principal: Any) -> Response:
    return _json(get_brandings().read(principal.partner_id))


@app.route(f"{PARTNER}/branding", methods=["DELETE"], **PARTNER_AUTH)
@partner_route("admin")
def partner_delete_branding(principal: Any) -> Response:
    get_brandings().remove(principal.partner_id)
    return Response(body="", status_code=204, headers={"Cache-Control": "no-store"})


@app.schedule(Rate(1, unit=Rate.MINUTES))
def deliver_webhooks(event: Any) -> dict[str, int]:
    """Retries due webhook deliveries (bounded per run; the rest waits for the next run)."""
    from chalicelib.webhooks import RUN_BUDGET_SECONDS

    done = get_webhooks().deliver_due(limit=200, budget_seconds=RUN_BUDGET_SECONDS)
    return {
        "attempted": len(done),
        "delivered": sum(d.state == "delivered" for d in done),
    }


def _register_preflight(path: str, methods: str) -> None:
    name = "preflight_" + path.replace("/", "_").replace("{", "").replace(
        "}", ""
    ).replace("-", "_")

    def view(**_: str) -> Response:
        return _preflight(methods)

    view.__name__ = name
    app.route(path, methods=["OPTIONS"], name=name)(view)


for _path, _methods in {
    f"{PARTNER}/assessments": "GET, POST",
    f"{PARTNER}/assessments/{{aid}}": "GET, DELETE",
    f"{PARTNER}/assessments/{{aid}}/comparison": "GET",
    f"{PARTNER}/assessments/{{aid}}/progress": "GET",
    f"{PARTNER}/benchmarks/{{qid}}/{{version}}": "GET",
    f"{PARTNER}/benchmarks/{{qid}}/{{version}}/statistics": "GET",
    f"{PARTNER}/benchmarks/{{qid}}/{{version}}/cohort-comparison": "GET",
    f"{PARTNER}/exports": "POST",
    f"{PARTNER}/keys": "GET, POST",
    f"{PARTNER}/keys/{{key_id}}": "DELETE",
    f"{PARTNER}/webhook": "GET, PUT, DELETE",
    f"{PARTNER}/webhook/secret": "POST",
    f"{PARTNER}/webhook/deliveries": "GET",
    f"{PARTNER}/webhook/deliveries/{{delivery_id}}/replay": "POST",
    f"{PARTNER}/sessions": "POST",
    f"{PARTNER}/branding": "GET, PUT, DELETE",
}.items():
    _register_preflight(_path, _methods)


# --- API description ------------------------------------------------------------------------
_DOCS_ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "docs.js": "text/javascript; charset=utf-8",
    "docs.css": "text/css; charset=utf-8",
}
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'"
)


@app.route("/v1/openapi.json", methods=["GET"])
@problems
def openapi_document() -> Response:
    from chalicelib.openapi import document

    return _json(document(), headers={"Cache-Control": "public, max-age=300"})


@functools.lru_cache(maxsize=8)
def _docs_asset(name: str) -> bytes:
    from pathlib import Path

    return (Path(__file__).parent / "chalicelib" / "apidocs" / name).read_bytes()


def _docs_response(name: str) -> Response:
    headers = {
        "Content-Type": _DOCS_ASSETS[name],
        "Content-Security-Policy": DOCS_CSP,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }
    return Response(
        body=_docs_asset(name).decode("utf-8"), status_code=200, headers=headers
    )


@app.route("/v1/docs", methods=["GET"])
@problems
def api_docs() -> Response:
    """A readable API reference rendered from /v1/openapi.json (served here, no CDN)."""
    return _docs_response("index.html")


@app.route("/v1/docs/{asset}", methods=["GET"])
@problems
def api_docs_asset(asset: str) -> Response:
    from chalicelib.errors import NotFound

    if asset not in _DOCS_ASSETS or asset == "index.html":
        raise NotFound(f"no such file {asset!r}", [("/asset", "unknown file")])
    return _docs_response(asset)


# --- drafts ---------------------------------------------------------------------------------
@app.route("/v1/drafts", methods=["POST"], content_types=ANY_TYPE)
@problems
def create_draft() -> Response:
    from chalicelib.models import DraftIn

    draft = get_service().save_draft(_body(DraftIn))
    return _json(draft, 201, {"Location": f"/v1/drafts/{draft['id']}"})


@app.route("/v1/drafts/{did}", methods=["PUT"], content_types=ANY_TYPE)
@problems
def update_draft(did: str) -> Response:
    from chalicelib.models import DraftIn

    return _json(get_service().update_draft(did, _body(DraftIn)))


@app.route("/v1/drafts/{did}", methods=["GET"])
@problems
def get_draft(did: str) -> Response:
    return _json(get_service().get_draft(did))


__all__ = ["PROBLEM", "app"]


# --- exports (token holders) ---
# GET /v1/assessments/{aid}/report?format=pdf|xlsx|csv&lang=de|en, header X-Result-Token;
# source, industry, size and region select the cohort as on /comparison (docs/EXPORTS.md).
# PDF and XLSX are binary: API Gateway returns them as bytes only when the first media type
# of the request's Accept header is the file's type, so anything else is answered with 406.
_exports: Any = None


def get_exports() -> Any:
    """Export use cases over the current benchmark service (lazy; rebuilt when tests swap
    the service)."""
    global _exports
    insights = get_insights()
    if _exports is None or _exports.benchmarks is not insights:
        from chalicelib.exports import ExportService

        _exports = ExportService(insights)
    return _exports


def _not_acceptable(content_type: str) -> Response | None:
    """406 unless Accept's first media type is ``content_type`` (binary types only)."""
    from chalicelib.exports import BINARY_TYPES

    if content_type not in BINARY_TYPES:
        return None
    accept = app.current_request.headers.get("accept") or ""
    first = accept.split(",")[0].split(";")[0].strip().lower()
    if first == content_type:
        return None
    from chalicelib.http import problem

    doc = problem(
        406,
        "not-acceptable",
        "Not acceptable",
        f"send 'Accept: {content_type}' to download this file",
        _instance(),
        [("/headers/Accept", f"the first media type must be {content_type}")],
    )
    return Response(
        body=json.dumps(doc), status_code=406, headers={"Content-Type": PROBLEM}
    )


def _download(export: Any) -> Response:
    headers = {
        "Content-Type": export.content_type,
        "Content-Disposition": f'attachment; filename="{export.filename}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    body = export.body if export.is_binary else export.body.decode("utf-8")
    return Response(body=body, status_code=200, headers=headers)


@app.route("/v1/assessments/{aid}/report", methods=["GET"])
@problems
def assessment_report(aid: str) -> Response:
    from chalicelib.exports import CONTENT_TYPES, check_format
    from chalicelib.http import one_of

    params = _params()
    fmt = check_format(one_of(params, "format", tuple(CONTENT_TYPES), "pdf"))
    lang = _lang()
    rec = get_service().authorize(
        aid, app.current_request.headers.get("x-result-token")
    )
    refused = _not_acceptable(CONTENT_TYPES[fmt])
    if refused is not None:
        return refused
    branding = get_brandings().get(rec.partner_id)
    return _download(
        get_exports().assessment(rec, fmt, lang, params, branding=branding)
    )


@app.route("/v1/assessments/{aid}/branding", methods=["GET"])
@problems
def assessment_branding(aid: str) -> Response:
    """The white label of the partner that created the assessment (null for others), for
    the result page; token holders only."""
    rec = get_service().authorize(
        aid, app.current_request.headers.get("x-result-token")
    )
    branding = get_brandings().get(rec.partner_id)
    return _json({"branding": branding.public() if branding is not None else None})


# --- web questionnaire ---
# The page and its static files (chalicelib/web, docs/WEB.md). The page uses relative URLs
# only, so it also works below an API Gateway stage prefix such as /api/.
def _web(name: str) -> Response:
    from chalicelib import web

    status, body, headers = web.response(
        name, app.current_request.headers.get("if-none-match")
    )
    return Response(body=body, status_code=status, headers=headers)


@app.route("/", methods=["GET"])
@problems
def web_index() -> Response:
    return _web("index.html")


@app.route("/static/{name}", methods=["GET"])
@problems
def web_static(name: str) -> Response:
    from chalicelib import web

    web.static_asset(name)  # NotFound (404 problem document) for names not served here
    return _web(name)


@app.route("/embed", methods=["GET"])
@problems
def web_embed() -> Response:
    """The questionnaire in embed mode, framed by a partner's registered origin only
    (chalicelib/embed.py, docs/PARTNERS.md)."""
    from chalicelib import embed, web

    cfg = embed.config(_params(), get_partners(), get_brandings(), get_service())
    body, headers = embed.page(web.asset("index.html")[0].decode("utf-8"), cfg)
    return Response(body=body, status_code=200, headers=headers)


# --- Lambda's init phase ---
def _lambda_init() -> None:
    """Build in Lambda's init phase what the first request would otherwise build: the service
    (settings, questionnaires, store), the store's client (DynamoDB: importing botocore and
    creating the client, no request), the request models and the benchmark use cases. A bad
    setting (a short SMM_SECRET) fails the init, where Lambda logs it. The statistics (scipy)
    stay lazy. The authorizer and the scheduled webhook delivery are functions of their own
    (Lambda's ``_HANDLER`` names them): they need the store only."""
    svc = get_service()
    getattr(svc.store, "client", None)  # DynamoStore builds its client on first access
    if os.environ.get("_HANDLER", "app.app") == "app.app":
        get_insights()
        import chalicelib.models  # noqa: F401 - every POST validates with these


# AWS_LAMBDA_FUNCTION_NAME is set by Lambda only: tests, `chalice local` and tools that
# import the app keep building everything on first use.
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    _lambda_init()
