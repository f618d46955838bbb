"""What browsers load: the questionnaire page and its static files (chalicelib/web,
docs/WEB.md), the embed page for partners' sites, and the API description (/v1/openapi.json,
the reference page /v1/docs and its assets). The page uses relative URLs only, so it also works
below an API Gateway stage prefix such as /api/."""

from __future__ import annotations

import functools
from pathlib import Path

from chalice.app import Response

from chalicelib.routes.common import (
    Routes,
    container,
    header,
    json_response,
    params,
    problems,
    respond,
)

pages = Routes(__name__)

_DOCS = Path(__file__).resolve().parent.parent / "apidocs"
_DOCS_ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "docs.js": "text/javascript; charset=utf-8",
    "docs.css": "text/css; charset=utf-8",
}
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'"
)


# --- web questionnaire ----------------------------------------------------------------------
def _web(name: str) -> Response:
    from chalicelib import web

    status, body, headers = web.response(name, header("if-none-match"))
    return respond(body, status, headers)


@pages.route("/", methods=["GET"])
@problems
def web_index() -> Response:
    return _web("index.html")


@pages.route("/static/{name}", methods=["GET"])
@problems
def web_static(name: str) -> Response:
    from chalicelib import web

    web.static_asset(name)  # NotFound (404 problem document) for names not served here
    return _web(name)


@pages.route("/embed", methods=["GET"])
@problems
def web_embed() -> Response:
    """The questionnaire in embed mode, framed by a partner's registered origin only
    (chalicelib/embed.py, docs/PARTNERS.md)."""
    from chalicelib import embed, web

    services = container()
    cfg = embed.config(
        params(), services.partners, services.brandings, services.assessments
    )
    body, headers = embed.page(web.asset("index.html")[0].decode("utf-8"), cfg)
    return respond(body, 200, headers)


# --- API description ------------------------------------------------------------------------
@pages.route("/v1/openapi.json", methods=["GET"])
@problems
def openapi_document() -> Response:
    from chalicelib.openapi import document

    return json_response(document(), headers={"Cache-Control": "public, max-age=300"})


@functools.lru_cache(maxsize=8)
def _docs_asset(name: str) -> bytes:
    return (_DOCS / name).read_bytes()


def _docs_response(name: str) -> Response:
    headers = {
        "Content-Type": _DOCS_ASSETS[name],
        "Content-Security-Policy": DOCS_CSP,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }
    return respond(_docs_asset(name).decode("utf-8"), 200, headers)


@pages.route("/v1/docs", methods=["GET"])
@problems
def api_docs() -> Response:
    """A readable API reference rendered from /v1/openapi.json (served here, no CDN)."""
    return _docs_response("index.html")


@pages.route("/v1/docs/{asset}", methods=["GET"])
@problems
def api_docs_asset(asset: str) -> Response:
    from chalicelib.errors import NotFound

    if asset not in _DOCS_ASSETS or asset == "index.html":
        raise NotFound(f"no such file {asset!r}", [("/asset", "unknown file")])
    return _docs_response(asset)
