"""What every blueprint shares: the app's one container, the error mapping, JSON and download
responses, request parsing. Kept free of route definitions."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from chalice.app import Blueprint, Chalice, Response

from chalicelib.container import Container
from chalicelib.http import PROBLEM, language, parse_body, problem, problem_for

if TYPE_CHECKING:
    from chalice.app import Request
    from pydantic import BaseModel

    from chalicelib.exports import Export

M = TypeVar("M", bound="BaseModel")
View = Callable[..., Response]
# Every route accepts any Content-Type: routes with a body check it in parse_body (a 415
# problem document), routes without one ignore it. Chalice's own check would answer a GET or
# DELETE sent with, say, ``Content-Type: text/plain`` with its plain-JSON 415.
ANY_TYPE = ["*/*"]

_container: Container | None = None


def container() -> Container:
    """The app's services, built from the environment on first use (never at import)."""
    global _container
    if _container is None:
        _container = Container()
    return _container


def use_container(c: Container | None) -> None:
    """Install the services the app uses (tests: one bound to their own store; None: build
    from the environment again on next use)."""
    global _container
    _container = c


def installed_container() -> Container | None:
    """The container if one was built or installed already (nothing is built here)."""
    return _container


_app: Chalice | None = None  # the app the blueprints are registered with


class Routes(Blueprint):
    """A blueprint whose routes accept any Content-Type (see ANY_TYPE). Registering it
    (``app.register_blueprint``) names the app whose current request ``request()`` reads."""

    def route(self, path: str, **kwargs: Any) -> Callable[[View], View]:
        kwargs.setdefault("content_types", ANY_TYPE)
        decorate: Callable[[View], View] = super().route(path, **kwargs)
        return decorate

    def register(self, app: Chalice, options: dict[str, Any]) -> None:
        global _app
        super().register(app, options)
        _app = app


def request() -> Request:
    """The request being answered (Blueprint.current_request, of the one app)."""
    req = None if _app is None else _app.current_request
    if req is None:
        raise RuntimeError("no request: the blueprints are not registered or idle")
    return req


def instance() -> str:
    """The request's path with its parameters filled in (Chalice's ``path`` is the template)."""
    req = request()
    path = str(req.path)
    for name, value in (req.uri_params or {}).items():
        path = path.replace("{" + name + "}", str(value))
    return path


# --- responses ------------------------------------------------------------------------------
def respond(
    body: bytes | str, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A response with plain string headers."""
    h: dict[str, str | list[str]] = dict(headers or {})
    return Response(body=body, status_code=status, headers=h)


def problem_response(exc: Exception) -> Response:
    """The one error mapping: any exception as an application/problem+json response."""
    status, doc, headers = problem_for(exc, instance())
    return respond(json.dumps(doc), status, headers)


def problems(view: View) -> View:
    """Render every exception of ``view`` as application/problem+json."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - mapped to a problem document
            return problem_response(exc)

    return wrapper


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    h = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    h.update(headers or {})
    return respond(json.dumps(body, ensure_ascii=False), status, h)


def no_content() -> Response:
    return respond("", 204, {"Cache-Control": "no-store"})


def page(result: tuple[dict[str, Any], dict[str, str]]) -> Response:
    """One page of a partner list with its Link header."""
    body, headers = result
    return json_response(body, headers=headers)


def not_acceptable(content_type: str) -> Response | None:
    """406 unless Accept's first media type is ``content_type`` (binary types only): API
    Gateway returns a PDF or XLSX as bytes only when the request's first media type is the
    file's type."""
    from chalicelib.exports import BINARY_TYPES

    if content_type not in BINARY_TYPES:
        return None
    accept = request().headers.get("accept") or ""
    first = accept.split(",")[0].split(";")[0].strip().lower()
    if first == content_type:
        return None
    doc = problem(
        406,
        "not-acceptable",
        "Not acceptable",
        f"send 'Accept: {content_type}' to download this file",
        instance(),
        [("/headers/Accept", f"the first media type must be {content_type}")],
    )
    return respond(json.dumps(doc), 406, {"Content-Type": PROBLEM})


def download(export: Export) -> Response:
    headers = {
        "Content-Type": export.content_type,
        "Content-Disposition": f'attachment; filename="{export.filename}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    body: bytes | str = export.body if export.is_binary else export.body.decode("utf-8")
    return respond(body, 200, headers)


# --- request parsing ------------------------------------------------------------------------
def body(model: type[M]) -> M:
    req = request()
    raw = req.raw_body
    return parse_body(
        raw.encode() if isinstance(raw, str) else raw,
        req.headers.get("content-type"),
        model,
        container().settings.max_body_bytes,
    )


def has_body() -> bool:
    return bool(request().raw_body)


def params() -> dict[str, str]:
    return dict(request().query_params or {})


def lang() -> str:
    return language(params())


def header(name: str) -> str | None:
    value: str | None = request().headers.get(name)
    return value


def idempotency_key() -> str | None:
    key = header("idempotency-key")
    if key is not None and not (1 <= len(key) <= 128):
        from chalicelib.errors import InvalidInput

        raise InvalidInput(
            "Idempotency-Key must have 1 to 128 characters",
            [("/headers/Idempotency-Key", "1 to 128 characters")],
        )
    return key
