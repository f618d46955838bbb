"""The web questionnaire: the static files beside this module (index.html, the page's native ES
modules with app.js as the entry point, app.css and the vendored Chart.js) and the HTTP headers
they are served with.

Files are read on first use and kept in memory (nothing is read at import time). Only the names
in ``ASSETS`` can be served; anything else is a ``NotFound``. See docs/WEB.md."""

from __future__ import annotations

import hashlib
import html
import json
from pathlib import Path

from chalicelib.errors import NotFound

WEB_DIR = Path(__file__).resolve().parent

JS = "text/javascript; charset=utf-8"  # module scripts need a JavaScript MIME type
# The page's ES modules (no build step): app.js is the entry point (index.html loads it with
# <script type="module">), the others are imported by relative name ("./state.js"), so they
# resolve below /static/ wherever the page is served (also below a stage prefix).
MODULES = (
    "app.js",
    "api.js",
    "benchmark.js",
    "charts.js",
    "dom.js",
    "draft.js",
    "form.js",
    "frame.js",
    "history.js",
    "i18n.js",
    "org.js",
    "orgtext.js",
    "page.js",
    "progress.js",
    "questionnaire.js",
    "respondent.js",
    "result.js",
    "state.js",
    "submit.js",
)
# public name -> (path below chalicelib/web, content type)
ASSETS: dict[str, tuple[str, str]] = {
    "index.html": ("index.html", "text/html; charset=utf-8"),
    **{name: (name, JS) for name in MODULES},
    "app.css": ("app.css", "text/css; charset=utf-8"),
    "chart.umd.min.js": ("vendor/chart.umd.min.js", JS),
    "embed.js": ("embed.js", JS),  # the partner's snippet (docs/PARTNERS.md)
}
# served under /static/{name}; index.html only at / (its relative URLs assume that place)
STATIC_NAMES = frozenset(ASSETS) - {"index.html"}

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_cache: dict[str, tuple[bytes, str, str]] = {}


def _load(name: str) -> tuple[bytes, str, str]:
    """(content, content type, ETag) of a whitelisted asset, read once."""
    hit = _cache.get(name)
    if hit is not None:
        return hit
    entry = ASSETS.get(name)
    if entry is None:
        raise NotFound(f"no such file: {name}", [("/name", "unknown file")])
    rel, content_type = entry
    data = (WEB_DIR / rel).read_bytes()
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    _cache[name] = (data, content_type, etag)
    return _cache[name]


def asset(name: str) -> tuple[bytes, str]:
    """The bytes and content type of an allowed asset; ``NotFound`` for any other name."""
    data, content_type, _ = _load(name)
    return data, content_type


def static_asset(name: str) -> tuple[bytes, str]:
    """Like ``asset`` but only for the names served under /static/."""
    if name not in STATIC_NAMES:
        raise NotFound(f"no such file: {name}", [("/name", "unknown file")])
    return asset(name)


def page(data: bytes) -> bytes:
    """index.html with the operator's settings (chalicelib.config.SiteSettings: imprint and
    privacy links, k) in ``<html data-site="...">`` (JSON, HTML-escaped), read by page.js.
    The embed page (chalicelib/embed.py) starts from the plain file: a partner's frame shows
    the partner's links."""
    from chalicelib.config import SiteSettings

    s = SiteSettings.from_env()
    site = {
        "imprint_url": s.imprint_url,
        "privacy_url": s.privacy_url,
        "k_min": s.k_min,
    }
    attr = html.escape(json.dumps(site, separators=(",", ":")), quote=True)
    text = data.decode("utf-8").replace("<html ", f'<html data-site="{attr}" ', 1)
    return text.encode("utf-8")


def response(
    name: str, if_none_match: str | None = None
) -> tuple[int, str, dict[str, str]]:
    """Status, body and headers for serving ``name``: 200 with the file, or 304 when the
    client's ``If-None-Match`` already names the current version. The file names carry no
    content hash, so every file is ``no-cache`` (revalidated by ETag on each use)."""
    data, content_type, etag = _load(name)
    if name == "index.html":
        data = page(data)
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'

    headers = {
        "Content-Type": content_type,
        "Cache-Control": "no-cache",
        "ETag": etag,
        **SECURITY_HEADERS,
    }
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        if etag in tags or "*" in tags:
            return 304, "", headers
    return 200, data.decode("utf-8"), headers


def clear_cache() -> None:
    """Forget the files read so far (tests; a deployed Lambda never changes its files)."""
    _cache.clear()
