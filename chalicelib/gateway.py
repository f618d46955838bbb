"""What API Gateway answers by itself, as problem documents.

Some requests never reach the function: an unknown path or method (API Gateway's
``MISSING_AUTHENTICATION_TOKEN``, 403 ``{"message": "Missing Authentication Token"}``), a
partner route without ``Authorization`` (``UNAUTHORIZED``, 401), a key the authorizer denies
(``ACCESS_DENIED``, 403), throttling (``THROTTLED``, 429) and so on. On AWS the deployed template
carries a gateway response for every such type (``merge_template``, merged into Chalice's SAM
template by scripts/package.sh) that answers an ``application/problem+json`` document.

``chalice local`` and ``chalice.test.Client`` imitate the gateway in
``chalice.local.LocalGateway``; ``install_local`` wraps its ``handle_request`` so the same
requests get the same documents locally (and a wrong method gets a 405 with ``Allow``, which
API Gateway cannot tell apart from an unknown path). Nothing here imports Chalice's local
server unless it is already loaded: on Lambda ``install_local`` is never called.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.http import PROBLEM, problem

# Headers a browser may read on a partner response (also set by app.py's partner routes).
EXPOSE = "Location, Idempotent-Replayed, Retry-After"
NEED_KEY = "a partner key is required: Authorization: Bearer <key>"
BAD_KEY = "the partner key is unknown or revoked"


# response type -> (status, problem code, title, detail, errors)
RESPONSES: dict[str, tuple[int, str, str, str, list[tuple[str, str]]]] = {
    "MISSING_AUTHENTICATION_TOKEN": (
        404,
        "not-found",
        "Not found",
        "no such resource, or it does not support this method",
        [],
    ),
    "RESOURCE_NOT_FOUND": (404, "not-found", "Not found", "no such resource", []),
    "UNAUTHORIZED": (
        401,
        "unauthorized",
        "Unauthorized",
        NEED_KEY,
        [("/headers/Authorization", "missing")],
    ),
    "ACCESS_DENIED": (
        403,
        "forbidden",
        "Forbidden",
        BAD_KEY,
        [("/headers/Authorization", "unknown or revoked key")],
    ),
    "INVALID_API_KEY": (
        403,
        "forbidden",
        "Forbidden",
        "this partner key is not attached to a usage plan yet",
        [("/headers/Authorization", "no usage plan")],
    ),
    "EXPIRED_TOKEN": (403, "forbidden", "Forbidden", "the credentials expired", []),
    "INVALID_SIGNATURE": (
        403,
        "forbidden",
        "Forbidden",
        "the request signature is invalid",
        [],
    ),
    "WAF_FILTERED": (403, "forbidden", "Forbidden", "the request was filtered", []),
    "THROTTLED": (
        429,
        "too-many-requests",
        "Too many requests",
        "the rate limit of this partner's tier is exceeded; retry after Retry-After seconds",
        [],
    ),
    "QUOTA_EXCEEDED": (
        429,
        "too-many-requests",
        "Too many requests",
        "the request quota of this partner's tier is used up for this period",
        [],
    ),
    "REQUEST_TOO_LARGE": (
        413,
        "payload-too-large",
        "Payload too large",
        "the request is larger than API Gateway accepts (10 MB)",
        [],
    ),
    "BAD_REQUEST_BODY": (
        400,
        "malformed-request",
        "Malformed request",
        "the request body was refused",
        [],
    ),
    "BAD_REQUEST_PARAMETERS": (
        400,
        "malformed-request",
        "Malformed request",
        "the request parameters were refused",
        [],
    ),
    "UNSUPPORTED_MEDIA_TYPE": (
        415,
        "unsupported-media-type",
        "Unsupported media type",
        "send the body as application/json",
        [("/headers/Content-Type", "must be application/json")],
    ),
    "AUTHORIZER_FAILURE": (
        500,
        "error",
        "Internal error",
        "the partner key could not be checked; retry later",
        [],
    ),
    "AUTHORIZER_CONFIGURATION_ERROR": (
        500,
        "error",
        "Internal error",
        "the partner key could not be checked; retry later",
        [],
    ),
    "API_CONFIGURATION_ERROR": (
        500,
        "error",
        "Internal error",
        "an unexpected error occurred",
        [],
    ),
    "INTEGRATION_FAILURE": (
        504,
        "unavailable",
        "Service temporarily unavailable",
        "the service did not answer; retry later",
        [],
    ),
    "INTEGRATION_TIMEOUT": (
        504,
        "unavailable",
        "Service temporarily unavailable",
        "the service did not answer in time; retry later",
        [],
    ),
}
# Types AWS may add later keep their status; the document says what it can without one.
DEFAULTS = {
    "DEFAULT_4XX": ("error", "Request refused", "API Gateway refused the request"),
    "DEFAULT_5XX": ("error", "Internal error", "an unexpected error occurred"),
}


def document(response_type: str) -> dict[str, Any]:
    status, code, title, detail, errors = RESPONSES[response_type]
    return problem(status, code, title, detail, None, errors)


def merge_template(api_key_source: str = "AUTHORIZER") -> dict[str, Any]:
    """What scripts/package.sh merges into Chalice's SAM template (``--merge-template``): the
    API key source and a gateway response for every type.

    CORS: a gateway response cannot look up which origins partners registered (that list is
    in the table), so every gateway response repeats the request's ``Origin`` in
    ``Access-Control-Allow-Origin`` (never with ``Allow-Credentials``). These documents are
    produced before any partner data is read and say nothing but the refusal, so any page may
    read them; a partner's page can then show "key revoked" or honour ``Retry-After`` instead
    of an opaque network error. Responses of the function keep their per-partner CORS."""
    headers = {
        "gatewayresponse.header.Content-Type": "'application/problem+json'",
        "gatewayresponse.header.Cache-Control": "'no-store'",
        "gatewayresponse.header.Access-Control-Allow-Origin": "method.request.header.Origin",
        "gatewayresponse.header.Access-Control-Expose-Headers": f"'{EXPOSE}'",
        "gatewayresponse.header.Vary": "'Origin'",
    }
    responses: dict[str, Any] = {}
    for name, (status, *_rest) in RESPONSES.items():
        params = dict(headers)
        if name == "THROTTLED":
            params["gatewayresponse.header.Retry-After"] = "'1'"
        responses[name] = {
            "statusCode": status,
            "responseParameters": params,
            "responseTemplates": {"application/json": json.dumps(document(name))},
        }
    for name, (code, title, detail) in DEFAULTS.items():
        doc = {"type": f"urn:smm:problem:{code}", "title": title, "detail": detail}
        responses[name] = {
            "responseParameters": dict(headers),
            "responseTemplates": {"application/json": json.dumps(doc)},
        }
    return {
        "Resources": {
            "RestAPI": {
                "Properties": {
                    "DefinitionBody": {
                        "x-amazon-apigateway-api-key-source": api_key_source,
                        "x-amazon-apigateway-gateway-responses": responses,
                    }
                }
            }
        }
    }


# --- chalice local ----------------------------------------------------------------------------
def _header(headers: Mapping[str, Any], name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name:
            return str(v)
    return None


def _response(
    status: int, doc: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": PROBLEM, "Cache-Control": "no-store", **headers},
        "multiValueHeaders": {},
        "body": json.dumps(doc),
    }


def install_local(cors: Callable[[str | None], dict[str, str]]) -> None:
    """Make ``chalice.local.LocalGateway`` answer its own refusals like the deployed gateway.
    ``cors(origin)`` gives the CORS headers for an origin (none for unregistered ones): unlike
    API Gateway, the local server can look the registration up, so it does."""
    from chalice import local

    gateway: Any = local.LocalGateway
    if getattr(gateway.handle_request, "smm_problems", False):
        return
    original = gateway.handle_request

    def handle_request(
        self: Any,
        method: str,
        path: str,
        headers: dict[str, Any],
        body: bytes | None,
    ) -> dict[str, Any]:
        instance = path.split("?", 1)[0]
        try:
            response: dict[str, Any] = original(self, method, path, headers, body)
        except local.LocalGatewayException as exc:
            kind = {
                local.NotAuthorizedError: "UNAUTHORIZED",
                local.InvalidAuthorizerError: "AUTHORIZER_CONFIGURATION_ERROR",
            }.get(type(exc))
            if (
                kind is None
            ):  # ForbiddenError: an unknown route, or the authorizer said no
                error_type = (exc.headers or {}).get("x-amzn-ErrorType")
                kind = (
                    "ACCESS_DENIED"
                    if error_type == "AccessDeniedException"
                    else "MISSING_AUTHENTICATION_TOKEN"
                )
            doc = document(kind)
            doc["instance"] = instance
            return _response(doc["status"], doc, cors(_header(headers, "origin")))
        if response.get("statusCode") == 405 and "MethodNotAllowedError" in str(
            response.get("body")
        ):
            allow = _header(response.get("headers") or {}, "allow") or ""
            doc = problem(
                405,
                "method-not-allowed",
                "Method not allowed",
                f"{instance} supports {allow}, not {method}",
                instance,
            )
            return _response(405, doc, {"Allow": allow})
        return response

    handle_request.smm_problems = True  # type: ignore[attr-defined]
    gateway.handle_request = handle_request
