"""The partner API below /v1/partner: ``Authorization: Bearer <key>``, checked by the
authorizer (``partner_key``); scopes, rate limits and CORS for the partner's own origins per
route. Every route is declared once with ``partner.endpoint(path, method, scope)``; its CORS
preflight and its entry in the OpenAPI document (chalicelib/openapi.py) are generated from
``partner.endpoints``."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalice.app import AuthRequest, AuthResponse, Response

from chalicelib import render
from chalicelib.routes import caller
from chalicelib.routes.caller import PARTNER, Caller
from chalicelib.routes.common import (
    Routes,
    View,
    body,
    container,
    download,
    has_body,
    instance,
    json_response,
    lang,
    no_content,
    not_acceptable,
    page,
    params,
    problem_response,
    request,
    respond,
)

if TYPE_CHECKING:
    from chalicelib.partners import Principal
    from chalicelib.ratelimit import Decision

PARTNER_HEADERS = "Authorization, Content-Type, Idempotency-Key"
EXPOSE = "Location, Idempotent-Replayed, Retry-After, RateLimit, RateLimit-Policy, Link"
METHOD_ORDER = ("GET", "PUT", "PATCH", "POST", "DELETE")
PartnerView = Callable[..., Response]  # (principal, **path parameters) -> Response


@dataclass(frozen=True)
class Endpoint:
    method: str  # upper case, as Chalice has it
    path: str  # the full path, /v1/partner/...
    view: str  # the handler's name (chalicelib/openapi.py documents it by this name)
    scope: str


class PartnerRoutes(Routes):
    """A blueprint of partner endpoints that keeps the list of what it routes."""

    def __init__(self, import_name: str) -> None:
        super().__init__(import_name)
        self.endpoints: list[Endpoint] = []

    def endpoint(
        self, path: str, method: str, scope: str, *, browser: bool = False
    ) -> Callable[[PartnerView], View]:
        """Route ``method PARTNER+path`` behind the authorizer, requiring ``scope``. The
        view is called with the caller's ``Principal`` and the path parameters. ``browser``:
        publishable keys and sessions may call it too (chalicelib/embed.check_browser_call)."""
        full = PARTNER + path

        def decorate(view: PartnerView) -> View:
            self.endpoints.append(Endpoint(method, full, view.__name__, scope))
            route = self.route(
                full, methods=[method], authorizer=partner_key, api_key_required=True
            )
            return route(_guarded(view, scope, browser))

        return decorate

    def paths(self) -> dict[str, str]:
        """Every partner path and its methods (``GET, POST``), for the CORS preflight."""
        methods: dict[str, set[str]] = {}
        for e in self.endpoints:
            methods.setdefault(e.path, set()).add(e.method)
        return {
            path: ", ".join(m for m in METHOD_ORDER if m in ms)
            for path, ms in methods.items()
        }


# Handler strings name app.py (the import name "app"): Lambda runs the authorizer as
# ``app.partner_key``, which app.py re-exports, so its init phase builds the store for it too.
partner = PartnerRoutes("app")


class UsageAuthResponse(AuthResponse):
    """An allow policy that also names the API Gateway usage-plan key (API key source
    AUTHORIZER), so a partner sends one header and still gets its tier's throttling."""

    def __init__(self, usage_key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.usage_key = usage_key

    def to_dict(self, request: Any) -> dict[str, Any]:
        d: dict[str, Any] = super().to_dict(request)
        d["usageIdentifierKey"] = self.usage_key
        return d


@partner.authorizer(ttl_seconds=60, header="Authorization")
def partner_key(auth_request: AuthRequest) -> AuthResponse:
    """Checks ``Authorization: Bearer <partner key>`` (hashed, constant time). Scopes are
    enforced per route from the context, so one cached policy covers every partner route.
    Revocation takes effect within the 60 s cache time."""
    from chalicelib.partners import usage_identifier, verify

    services = container()
    token = str(auth_request.token or "")
    presented = (
        token[7:].strip() if token.lower().startswith("bearer ") else token.strip()
    )
    principal = verify(services.store, presented, services.settings.secret)
    if principal is None:
        return AuthResponse(routes=[], principal_id="anonymous")
    return UsageAuthResponse(
        usage_key=usage_identifier(
            services.settings.secret, principal.partner_id, principal.tier
        ),
        routes=["*"],
        principal_id=principal.partner_id,
        context=principal.context(),
    )


def _rate_limit(principal: Principal) -> Decision | None:
    """Count the request against the partner's tier (chalicelib/ratelimit.py): the
    decision with its RateLimit headers, or None when PARTNER_RATE_LIMIT=0."""
    from chalicelib import ratelimit

    if not ratelimit.enabled():
        return None
    return container().rate_limiter.take(principal.partner_id, principal.tier)


def _guarded(view: PartnerView, scope: str, browser: bool) -> View:
    """Resolve the calling partner, require ``scope``, render errors as problems (the one
    mapping, chalicelib.routes.common.problem_response) and add CORS headers for the
    partner's own origins (never a wildcard)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        from chalicelib.errors import Forbidden, Unauthorized
        from chalicelib.partners import Principal

        req = request()
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
                from chalicelib.http import PROBLEM

                response = respond(
                    json.dumps(decision.problem(instance())),
                    429,
                    {"Content-Type": PROBLEM},
                )
            else:
                response = view(principal, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - mapped to a problem document
            response = problem_response(exc)
        response.headers.update(limits)
        origin = req.headers.get("origin")
        if principal is not None and origin and origin in principal.origins:
            response.headers.update(
                {
                    "Access-Control-Allow-Origin": origin,
                    "Access-Control-Expose-Headers": EXPOSE,
                    "Vary": "Origin",
                }
            )
        return response

    return wrapper


# --- assessments (the twins of the public routes: chalicelib/routes/caller.py) ---------------
@partner.endpoint("/assessments", "POST", "submit", browser=True)
def partner_submit(principal: Principal) -> Response:
    return caller.submit(Caller.partner(principal))


@partner.endpoint("/assessments", "GET", "read")
def partner_list_assessments(principal: Principal) -> Response:
    """This partner's assessments, newest first, filtered and paged (cursor)."""
    return page(container().lists.assessments(principal.partner_id, params()))


@partner.endpoint("/assessments/{aid}", "GET", "read")
def partner_get_assessment(principal: Principal, aid: str) -> Response:
    return caller.get_assessment(Caller.partner(principal), aid)


@partner.endpoint("/assessments/{aid}", "DELETE", "submit")
def partner_erase(principal: Principal, aid: str) -> Response:
    return caller.erase(Caller.partner(principal), aid)


@partner.endpoint("/assessments/{aid}/comparison", "GET", "read")
def partner_compare(principal: Principal, aid: str) -> Response:
    return caller.compare(Caller.partner(principal), aid)


@partner.endpoint("/assessments/{aid}/progress", "GET", "read")
def partner_progress(principal: Principal, aid: str) -> Response:
    return caller.progress(Caller.partner(principal), aid)


# --- benchmarks -----------------------------------------------------------------------------
@partner.endpoint("/benchmarks/{qid}/{version}", "GET", "benchmarks")
def partner_benchmarks(principal: Principal, qid: str, version: str) -> Response:
    return caller.cohort_statistics(qid, version)


@partner.endpoint("/benchmarks/{qid}/{version}/statistics", "GET", "benchmarks")
def partner_statistics(principal: Principal, qid: str, version: str) -> Response:
    return json_response(
        render.consultant_statistics_json(
            container().statistics.statistics(qid, version, params(), lang()), lang()
        )
    )


@partner.endpoint("/benchmarks/{qid}/{version}/cohort-comparison", "GET", "benchmarks")
def partner_cohort_comparison(principal: Principal, qid: str, version: str) -> Response:
    return json_response(
        render.cohort_comparison_json(
            container().statistics.compare_cohorts(qid, version, params(), lang()),
            lang(),
        )
    )


# --- exports --------------------------------------------------------------------------------
@partner.endpoint("/exports", "POST", "export")
def partner_export(principal: Principal) -> Response:
    """Assessments this partner created, side by side, or a cohort table (privacy rules of the
    benchmark apply unchanged)."""
    from chalicelib.exports import CONTENT_TYPES
    from chalicelib.request_models import ExportIn

    services = container()
    request_body = body(ExportIn)
    refused = not_acceptable(CONTENT_TYPES[request_body.format])
    if refused is not None:
        return refused
    query = {"source": request_body.source, "population": request_body.population}
    if request_body.kind == "cohorts":
        export = services.exports.cohort_table(
            request_body.questionnaire,
            request_body.version,
            request_body.by,
            request_body.format,
            request_body.language,
            query,
            format_pointer="/format",
            by_pointer="/by",
            csv_locale=request_body.csv_locale,
        )
        return download(export)
    if not request_body.assessment_ids:
        from chalicelib.errors import InvalidInput

        raise InvalidInput(
            "name at least one assessment", [("/assessment_ids", "empty")]
        )
    records = [
        services.assessments.authorize(aid, None, principal.partner_id)
        for aid in request_body.assessment_ids
    ]
    return download(
        services.exports.side_by_side(
            records,
            request_body.format,
            request_body.language,
            query,
            display_labels=request_body.labels,
            csv_locale=request_body.csv_locale,
        )
    )


# --- keys -----------------------------------------------------------------------------------
@partner.endpoint("/keys", "GET", "admin")
def partner_list_keys(principal: Principal) -> Response:
    return page(container().lists.keys(principal.partner_id, params()))


@partner.endpoint("/keys", "POST", "admin")
def partner_create_key(principal: Principal) -> Response:
    """A new key (shown once) with the scopes and origins in the body, at most the calling
    key's; for rotation, the same as the key it replaces."""
    from chalicelib.partners import public
    from chalicelib.request_models import KeyIn

    new = body(KeyIn)
    key, record = container().partners.issue(
        principal, new.scopes, new.origins, new.name, new.type
    )
    return json_response({"key": key, **public(record)}, 201)


@partner.endpoint("/keys/{key_id}", "DELETE", "admin")
def partner_revoke_key(principal: Principal, key_id: str) -> Response:
    container().partners.revoke(key_id, principal.partner_id)
    return no_content()


# --- webhook --------------------------------------------------------------------------------
@partner.endpoint("/webhook", "PUT", "admin")
def partner_set_webhook(principal: Principal) -> Response:
    """Register (or replace) the partner's endpoint; the signing secret is in the answer."""
    from chalicelib.request_models import WebhookIn

    url = body(WebhookIn).url
    return json_response(container().webhooks.register(principal.partner_id, url))


@partner.endpoint("/webhook", "GET", "admin")
def partner_get_webhook(principal: Principal) -> Response:
    """The endpoint and its most recent deliveries."""
    return json_response(container().webhooks.state(principal.partner_id))


@partner.endpoint("/webhook", "DELETE", "admin")
def partner_delete_webhook(principal: Principal) -> Response:
    container().webhooks.unregister(principal.partner_id)
    return no_content()


@partner.endpoint("/webhook/secret", "POST", "admin")
def partner_rotate_webhook_secret(principal: Principal) -> Response:
    """A new signing secret (shown here); the previous one signs too for a grace period."""
    from chalicelib.request_models import WebhookSecretIn

    rotation = body(WebhookSecretIn) if has_body() else WebhookSecretIn()
    out = container().webhooks.rotate_secret(
        principal.partner_id, rotation.grace_seconds
    )
    return json_response(out, 201)


@partner.endpoint("/webhook/deliveries", "GET", "admin")
def partner_list_deliveries(principal: Principal) -> Response:
    """Every delivery of this partner's events, newest first, paged (cursor)."""
    return page(container().lists.deliveries(principal.partner_id, params()))


@partner.endpoint("/webhook/deliveries/{delivery_id}/replay", "POST", "admin")
def partner_replay_delivery(principal: Principal, delivery_id: str) -> Response:
    """One more attempt of a failed delivery, now; answers the delivery after it."""
    return json_response(container().webhooks.replay(principal.partner_id, delivery_id))


# --- widget sessions ------------------------------------------------------------------------
@partner.endpoint("/sessions", "POST", "submit")
def partner_create_session(principal: Principal) -> Response:
    """A short-lived client secret for one visitor of the partner's page (the widget's
    session flow): minted on the partner's server with its secret key, submits once."""
    from chalicelib.request_models import SessionIn

    session = body(SessionIn) if has_body() else SessionIn()
    services = container()
    out = services.partners.create_session(
        principal, services.settings.secret, session.reference, session.ttl_seconds
    )
    return json_response(out, 201)


# --- branding -------------------------------------------------------------------------------
@partner.endpoint("/branding", "PUT", "admin")
def partner_set_branding(principal: Principal) -> Response:
    """The partner's white label for the widget, the result page and the PDF report."""
    from chalicelib.request_models import BrandingIn

    branding = body(BrandingIn)
    return json_response(
        container().brandings.set(principal.partner_id, branding.model_dump())
    )


@partner.endpoint("/branding", "GET", "admin")
def partner_get_branding(principal: Principal) -> Response:
    return json_response(container().brandings.read(principal.partner_id))


@partner.endpoint("/branding", "DELETE", "admin")
def partner_delete_branding(principal: Principal) -> Response:
    container().brandings.remove(principal.partner_id)
    return no_content()


# --- organisations (the twins of chalicelib/routes/organisations.py, without the respondents'
# own answers: those are the owner's alone) ---------------------------------------------------
@partner.endpoint("/organisations", "POST", "organisations")
def partner_create_organisation(principal: Principal) -> Response:
    """An organisation managed by this partner; its owner token (shown once) is for the
    company."""
    from chalicelib.routes import organisations

    return organisations.create(principal.partner_id)


@partner.endpoint("/organisations", "GET", "organisations")
def partner_list_organisations(principal: Principal) -> Response:
    """The organisations this partner created, oldest first."""
    from chalicelib.routes import organisations

    return organisations.partner_list(principal.partner_id)


@partner.endpoint("/organisations/{oid}", "GET", "organisations")
def partner_get_organisation(principal: Principal, oid: str) -> Response:
    from chalicelib.routes import organisations

    return organisations.get(oid, principal.partner_id)


@partner.endpoint("/organisations/{oid}", "DELETE", "organisations")
def partner_erase_organisation(principal: Principal, oid: str) -> Response:
    from chalicelib.routes import organisations

    return organisations.erase(oid, principal.partner_id)


@partner.endpoint("/organisations/{oid}/respondents", "POST", "organisations")
def partner_invite_respondent(principal: Principal, oid: str) -> Response:
    from chalicelib.routes import organisations

    return organisations.invite(oid, principal.partner_id)


@partner.endpoint("/organisations/{oid}/result", "GET", "organisations")
def partner_organisation_result(principal: Principal, oid: str) -> Response:
    from chalicelib.routes import organisations

    return organisations.result(oid, principal.partner_id)


@partner.endpoint("/organisations/{oid}/rounds", "POST", "organisations")
def partner_close_organisation_round(principal: Principal, oid: str) -> Response:
    from chalicelib.routes import organisations

    return organisations.close_round(oid, principal.partner_id)


@partner.endpoint("/organisations/{oid}/rounds", "GET", "organisations")
def partner_list_organisation_rounds(principal: Principal, oid: str) -> Response:
    from chalicelib.routes import organisations

    return organisations.list_rounds(oid, principal.partner_id)


@partner.endpoint("/organisations/{oid}/target", "PUT", "organisations")
def partner_set_organisation_target(principal: Principal, oid: str) -> Response:
    from chalicelib.routes import organisations

    return organisations.set_target(oid, principal.partner_id)


@partner.endpoint("/organisations/{oid}/roadmap", "GET", "organisations")
def partner_organisation_roadmap(principal: Principal, oid: str) -> Response:
    from chalicelib.routes import organisations

    return organisations.get_roadmap(oid, principal.partner_id)


@partner.endpoint("/organisations/{oid}/roadmap/steps/{qid}", "PATCH", "organisations")
def partner_assign_organisation_step(
    principal: Principal, oid: str, qid: str
) -> Response:
    from chalicelib.routes import organisations

    return organisations.assign_step(oid, qid, principal.partner_id)


@partner.endpoint("/organisations/{oid}/roadmap/export", "GET", "organisations")
def partner_export_organisation_roadmap(principal: Principal, oid: str) -> Response:
    from chalicelib.routes import organisations

    return organisations.export_roadmap(oid, principal.partner_id)


@partner.endpoint("/organisations/{oid}/history", "GET", "organisations")
def partner_organisation_history(principal: Principal, oid: str) -> Response:
    from chalicelib.routes import organisations

    return organisations.get_history(oid, principal.partner_id)


# --- CORS -----------------------------------------------------------------------------------
def registered_origin_cors(origin: str | None) -> dict[str, str]:
    """CORS headers for a refusal the local gateway answers itself (no key, bad key, unknown
    path): only for origins an active partner key registered, as on the partner routes."""
    if not origin or not container().partners.known_origin(origin):
        return {}
    from chalicelib.gateway import EXPOSE as GATEWAY_EXPOSE

    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": GATEWAY_EXPOSE,
        "Vary": "Origin",
    }


def _preflight(methods: str) -> Response:
    """CORS preflight (it carries no key): allowed for origins registered by an active key."""
    origin = request().headers.get("origin")
    if not container().partners.known_origin(origin):
        from chalicelib.http import PROBLEM, problem

        doc = problem(
            403,
            "forbidden",
            "Forbidden",
            "this origin is not registered by any partner",
        )
        return respond(
            json.dumps(doc), 403, {"Content-Type": PROBLEM, "Vary": "Origin"}
        )
    return respond(
        "",
        204,
        {
            "Access-Control-Allow-Origin": str(origin),
            "Access-Control-Allow-Methods": methods,
            "Access-Control-Allow-Headers": PARTNER_HEADERS,
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        },
    )


def _register_preflight(path: str, methods: str) -> None:
    name = "preflight_" + path.replace("/", "_").replace("{", "").replace(
        "}", ""
    ).replace("-", "_")

    def view(**_: str) -> Response:
        return _preflight(methods)

    view.__name__ = name
    partner.route(path, methods=["OPTIONS"], name=name)(view)


for _path, _methods in partner.paths().items():  # after every endpoint above
    _register_preflight(_path, _methods)
