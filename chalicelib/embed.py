"""The embeddable widget: the web questionnaire's page in embed mode at ``/embed`` (framed by a
partner's page, docs/PARTNERS.md) and the rules for browser credentials on partner routes.

``/embed`` is index.html with the partner's settings in ``<html data-embed="...">`` (JSON,
HTML-escaped): the embedding origin (postMessage target), the publishable key, validated
prefill answers, the partner's reference id and its white label. Its Content-Security-Policy
allows framing by exactly that origin (``frame-ancestors <origin>``, never ``*``); the normal
page keeps ``frame-ancestors 'none'``."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from chalicelib.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from chalicelib.partners import Principal, check_reference, verify

if TYPE_CHECKING:
    from chalicelib.assessments import AssessmentService
    from chalicelib.branding import BrandingService
    from chalicelib.partners import PartnerService

EMBED_VERSION = (
    1  # the version of the postMessage protocol and of the data-embed config
)
PREFILL_ROLES = ("industry", "size", "country")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?$")  # as partners.py
_PUBLISHABLE = re.compile(r"^smmp_[0-9a-f]{12}_[A-Za-z0-9_\-]{20,64}$")
_PARTNER_ID = re.compile(r"^p_[0-9a-f]{12}$")
_FLAGS = {"1": True, "true": True, "0": False, "false": False}


def csp(origin: str) -> str:
    """The embed page's policy: the normal page's, framed only by ``origin``."""
    return (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"connect-src 'self'; frame-ancestors {origin}"
    )


def same_origin(origin: str, host: str | None) -> bool:
    """Whether a browser's ``Origin`` is this API's own (the embed page calling home)."""
    if not host:
        return False
    try:
        return urlsplit(origin).netloc.lower() == host.strip().lower()
    except ValueError:
        return False


def check_browser_call(
    principal: Principal,
    allowed_here: bool,
    origin: str | None,
    host: str | None,
    now: float,
) -> None:
    """A publishable key or session may only call the routes that start and submit
    assessments; a publishable key only from a browser on one of its origins (or from the
    embed page on our own origin); a session, when a browser sends it, likewise. Checked on
    every call (the authorizer's decision is cached)."""
    what = "a publishable key" if principal.kind == "publishable" else "a session"
    if principal.kind == "session" and principal.expires <= now:
        raise Unauthorized(
            "this session has expired: mint a new one (POST /v1/partner/sessions)",
            [("/headers/Authorization", "expired session")],
        )
    if not allowed_here:
        raise Forbidden(
            f"{what} can only submit assessments; use a secret key on your server",
            [("/headers/Authorization", f"{principal.kind} credential")],
        )
    if origin is None and principal.kind == "session":
        return
    if origin is None or not (origin in principal.origins or same_origin(origin, host)):
        raise Forbidden(
            f"{what} is only accepted from the partner's registered origins",
            [("/headers/Origin", "not a registered origin of this key")],
        )


def session_submission(
    principal: Principal, reference: str | None, key: str | None
) -> tuple[str | None, str]:
    """A session submits once: its id is the idempotency key (a retry replays, another body
    is a 409) and the reference it was minted with is the assessment's."""
    del key  # a client-chosen key cannot make a session submit twice
    if principal.reference and reference and reference != principal.reference:
        raise InvalidInput(
            "this session was created with another reference",
            [("/reference", "differs from the session's reference")],
        )
    return principal.reference or reference, principal.session_id


def _flag(value: str | None, pointer: str) -> bool:
    if value is None:
        return False
    if value.lower() not in _FLAGS:
        raise InvalidInput(
            f"{pointer[7:]} must be true or false", [(pointer, "true or false")]
        )
    return _FLAGS[value.lower()]


def config(
    params: Mapping[str, str],
    partners: PartnerService,
    brandings: BrandingService,
    service: AssessmentService,
) -> dict[str, Any]:
    """The validated settings of one embed page (raises a domain error naming the query
    parameter for every mistake)."""
    key, partner = params.get("key"), params.get("partner")
    if (key is None) == (partner is None):
        raise InvalidInput(
            "name the partner: key=<publishable key> or partner=<partner id> (session flow)",
            [("/query/key", "a publishable key smmp_..., or partner=p_...")],
        )
    if key is not None:
        if key.startswith("smmk_"):
            raise InvalidInput(
                "never put a secret key in a web page: use a publishable key (smmp_...)",
                [("/query/key", "a secret key")],
            )
        if not _PUBLISHABLE.fullmatch(key):
            raise InvalidInput(
                "key is not a publishable key (smmp_<key id>_<secret>)",
                [("/query/key", "not a publishable key")],
            )
        principal = verify(partners.store, key)
        if principal is None or principal.kind != "publishable":
            raise NotFound(
                "unknown or revoked publishable key", [("/query/key", "unknown key")]
            )
        partner_id, origins = principal.partner_id, principal.origins
    else:
        partner_id = str(partner)
        if not _PARTNER_ID.fullmatch(partner_id):
            raise InvalidInput(
                "partner is not a partner id (p_ and 12 hex digits)",
                [("/query/partner", "not a partner id")],
            )
        origins = partners.partner_origins(partner_id)
        if not origins:
            raise NotFound(
                "unknown partner, or it has registered no origins",
                [("/query/partner", "unknown partner or no origins")],
            )
    origin = params.get("origin")
    if origin is None:
        if len(origins) != 1:
            raise InvalidInput(
                "name the embedding page's origin (origin=https://...): several are registered",
                [("/query/origin", "required")],
            )
        origin = origins[0]
    elif not _ORIGIN.fullmatch(origin.rstrip("/")):
        raise InvalidInput(
            f"{origin!r} is not an origin like https://shop.example",
            [("/query/origin", "not an origin")],
        )
    elif origin.rstrip("/") not in origins:
        raise Forbidden(
            f"{origin!r} is not a registered origin of this partner",
            [("/query/origin", "not registered")],
        )
    origin = origin.rstrip("/")
    lang = params.get("lang")
    if lang is not None and lang not in ("de", "en"):
        raise InvalidInput("lang must be de or en", [("/query/lang", "de or en")])
    q = service.questionnaire("smm", None, lang or "en")
    prefill: dict[str, str] = {}
    for role in PREFILL_ROLES:
        value = params.get(role)
        if value is None:
            continue
        question = q.context_question(role)
        if not any(o.id == value for o in question.options):
            sample = ", ".join(o.id for o in question.options[:6])
            raise InvalidInput(
                f"{role} {value!r} is not an option of the questionnaire",
                [(f"/query/{role}", f"an option id, e.g. {sample}, ...")],
            )
        prefill[question.id] = value
    reference = params.get("reference")
    if reference is not None:
        check_reference(reference, "/query/reference")
    branding = brandings.get(partner_id)
    return {
        "v": EMBED_VERSION,
        "parent_origin": origin,
        "key": key,
        "lang": lang,
        "prefill": prefill,
        "hide_prefilled": _flag(params.get("hide_prefilled"), "/query/hide_prefilled"),
        "reference": reference,
        "branding": branding.public() if branding is not None else None,
    }


def page(index_html: str, cfg: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """The embed page's body and headers."""
    attr = html.escape(json.dumps(cfg, ensure_ascii=False, separators=(",", ":")))
    body = index_html.replace("<html ", f'<html data-embed="{attr}" ', 1)
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": csp(str(cfg["parent_origin"])),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    return body, headers
