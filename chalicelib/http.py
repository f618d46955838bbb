"""Request parsing and problem documents, shared by the routes in app.py.

Kept free of Chalice imports so it is testable on its own; app.py wraps its output in
``chalice.Response``."""

from __future__ import annotations

import json
import logging
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from chalicelib.errors import (
    DomainError,
    InvalidInput,
    MalformedRequest,
    PayloadTooLarge,
    Unavailable,
    UnsupportedMediaType,
)

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

STATUS = {
    "invalid-input": 422,
    "malformed-request": 400,
    "unsupported-media-type": 415,
    "payload-too-large": 413,
    "not-found": 404,
    "unauthorized": 401,
    "forbidden": 403,
    "conflict": 409,
    "unavailable": 503,
    "error": 500,
}
PROBLEM = "application/problem+json"
LANGUAGES = ("de", "en")


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str | None = None,
    errors: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": f"urn:smm:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        doc["instance"] = instance
    if errors:
        doc["errors"] = [
            {"parameter": p[1:].split("/", 1)[1], "detail": d}
            if p.startswith(("/query/", "/headers/"))
            else {"pointer": p, "detail": d}
            for p, d in errors
        ]
    return doc


def problem_for(
    exc: Exception, instance: str | None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, problem document and extra headers for an exception raised by a use case."""
    headers = {"Content-Type": PROBLEM}
    if isinstance(exc, DomainError):
        status = STATUS.get(exc.code, 500)
        if isinstance(exc, Unavailable):
            headers["Retry-After"] = str(exc.retry_after)
        return (
            status,
            problem(status, exc.code, exc.title, exc.detail, instance, exc.errors),
            headers,
        )
    logger.exception("unhandled error")
    return (
        500,
        problem(
            500, "error", "Internal error", "an unexpected error occurred", instance
        ),
        headers,
    )


def parse_body(
    raw: bytes | None, content_type: str | None, model: type[M], max_bytes: int
) -> M:
    """Validate a JSON request body against ``model``; every failure names the field."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype not in (
        "application/json",
        "application/merge-patch+json",
    ) and not ctype.endswith("+json"):
        raise UnsupportedMediaType(
            f"send the body as application/json, not {ctype or 'no content type'}",
            [("/headers/Content-Type", "must be application/json")],
        )
    if raw is None or raw == b"":
        raise MalformedRequest(
            "the request body is empty; send a JSON object", [("", "missing")]
        )
    if len(raw) > max_bytes:
        raise PayloadTooLarge(
            f"the body has {len(raw)} bytes; at most {max_bytes} are accepted"
        )
    try:
        data = json.loads(raw)
    except RecursionError:
        # json.loads recurses once per array or object level: a few KB of "[" exhaust the
        # stack (no request model nests deeper than two levels)
        raise MalformedRequest(
            "the body is nested too deeply", [("", "nested too deeply")]
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRequest(
            f"the body is not valid JSON: {exc}", [("", "not JSON")]
        ) from exc
    if not isinstance(data, dict):
        raise InvalidInput(
            "the body must be a JSON object", [("", "expected an object")]
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [(_pointer(e["loc"]), e["msg"]) for e in exc.errors()]
        raise InvalidInput(f"{len(errors)} field(s) are invalid", errors) from exc


def _pointer(loc: tuple[Any, ...]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in loc)


def one_of(
    params: dict[str, str] | None, name: str, allowed: tuple[str, ...], default: str
) -> str:
    """A query parameter from a fixed set (exact, as the OpenAPI enum says)."""
    value = (params or {}).get(name, default)
    if value not in allowed:
        raise InvalidInput(
            f"{name} must be one of {', '.join(allowed)}",
            [(f"/query/{name}", f"{value!r} is not one of {', '.join(allowed)}")],
        )
    return value


def language(params: dict[str, str] | None, default: str = "en") -> str:
    lang = (params or {}).get("lang", default)
    if lang not in LANGUAGES:
        raise InvalidInput(
            "lang must be de or en", [("/query/lang", f"{lang!r} is not supported")]
        )
    return lang
