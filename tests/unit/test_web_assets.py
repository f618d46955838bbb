"""The web questionnaire's static files: the vendored Chart.js is byte-identical to the npm
package it claims to be, the page loads nothing from other hosts, and the routes serve only
whitelisted files with the security headers (docs/WEB.md)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from chalicelib import web
from chalicelib.errors import NotFound

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "chalicelib" / "web"
VENDORED = WEB / "vendor" / "chart.umd.min.js"
NPM_PACKAGE = ROOT / "node_modules" / "chart.js"
NPM_FILE = NPM_PACKAGE / "dist" / "chart.umd.min.js"
README = WEB / "vendor" / "README.md"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _npm_installed() -> None:
    if not NPM_FILE.exists():
        pytest.fail(
            f"{NPM_FILE} is missing: run `npm ci` (or `npm install --no-audit --no-fund`) "
            f"in {ROOT} so the vendored Chart.js can be verified against the npm package"
        )


def test_vendored_chart_js_is_the_npm_file() -> None:
    _npm_installed()
    assert _sha256(VENDORED) == _sha256(NPM_FILE), (
        "chalicelib/web/vendor/chart.umd.min.js differs from node_modules/chart.js: "
        "copy it again and update vendor/README.md"
    )


def test_vendor_readme_names_version_license_and_hash() -> None:
    _npm_installed()
    package = json.loads((NPM_PACKAGE / "package.json").read_text())
    text = README.read_text()
    versions = set(re.findall(r"chart\.js@(\d+\.\d+\.\d+)", text))
    assert versions == {package["version"]}, (
        f"vendor/README.md names {versions}, node_modules has {package['version']}"
    )
    assert package["license"] == "MIT" and "MIT" in text
    assert _sha256(VENDORED) in text
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/chart.js"]["version"] == package["version"]


PAGE_FILES = ["index.html", "app.css", *web.MODULES]


@pytest.mark.parametrize("name", PAGE_FILES)
def test_page_loads_nothing_from_other_hosts(name: str) -> None:
    text = (WEB / name).read_text()
    assert not re.search(r"https?://", text), f"{name} names an absolute URL"
    assert "//" not in re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", text)


def test_index_uses_only_relative_urls_and_no_inline_code() -> None:
    html = (WEB / "index.html").read_text()
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html)
    assert set(refs) == {"static/app.css", "static/app.js", "data:,", "#main"}
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert "<style" not in html and " style=" not in html, "inline style"
    assert re.search(r"""\bon[a-z]+\s*=""", html) is None, "inline event handler"
    assert re.search(r'<script type="module" src="static/app.js"></script>', html)
    for name in web.MODULES:
        js = (WEB / name).read_text()
        # absolute API paths would break below an API Gateway stage prefix (/api/)
        assert not re.search(r"""[`'"]/(v1|static)/""", js), name
        assert "setAttribute('style'" not in js and "innerHTML" not in js, name
        assert "eval(" not in js and "new Function" not in js, name


def test_every_module_is_served_and_every_import_resolves() -> None:
    """The page is native ES modules without a build step: every .js file of the page is in
    the allow-list (the partner snippet embed.js is not a module of the page), and every
    import names a sibling module that /static/ serves, so no import can 404 in a browser."""
    on_disk = {p.name for p in WEB.glob("*.js")} - {"embed.js"}
    assert on_disk == set(web.MODULES)
    imported: set[str] = set()
    for name in web.MODULES:
        js = (WEB / name).read_text()
        specs = re.findall(r"""^import\s+[^;]*?from\s+'([^']+)';""", js, re.MULTILINE)
        specs += re.findall(r"""\bimport\s*\(""", js)  # no dynamic imports
        for spec in specs:
            assert re.fullmatch(r"\./[a-z0-9-]+\.js", spec), (name, spec)
            assert spec[2:] in web.STATIC_NAMES, (name, spec)
            imported.add(spec[2:])
    # every module but the entry point is reached from it
    assert imported == set(web.MODULES) - {"app.js"}


def test_every_asset_is_served_with_headers(client) -> None:  # type: ignore[no-untyped-def]
    page = client.http.get("/")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Cache-Control"] == "no-cache"
    assert page.headers["Content-Security-Policy"] == (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'"
    )
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert b"static/app.js" in page.body
    for name, ctype in [
        *((m, "text/javascript; charset=utf-8") for m in web.MODULES),
        ("app.css", "text/css; charset=utf-8"),
        ("chart.umd.min.js", "text/javascript; charset=utf-8"),
    ]:
        r = client.http.get(f"/static/{name}")
        assert r.status_code == 200, name
        assert r.headers["Content-Type"] == ctype
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        data, _ = web.asset(name)
        assert r.body == data
        again = client.http.get(
            f"/static/{name}", headers={"If-None-Match": r.headers["ETag"]}
        )
        assert again.status_code == 304 and again.body in (b"", "")


@pytest.mark.parametrize(
    "name",
    ["index.html", "nope.js", "..%2Fapp.py", "vendor", "README.md", "__init__.py"],
)
def test_unknown_static_names_are_404_problems(client, name: str) -> None:  # type: ignore[no-untyped-def]
    r = client.http.get(f"/static/{name}")
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json_body["errors"] == [{"pointer": "/name", "detail": "unknown file"}]


def test_asset_function() -> None:
    data, ctype = web.asset("index.html")
    assert data.startswith(b"<!doctype html>") and ctype.startswith("text/html")
    with pytest.raises(NotFound):
        web.asset("../app.py")
    with pytest.raises(NotFound):
        web.static_asset("index.html")


def test_page_carries_the_operators_links(monkeypatch: pytest.MonkeyPatch) -> None:
    """IMPRINT_URL / PRIVACY_URL (https only) and k go into <html data-site> of the page,
    HTML-escaped; the ETag follows them; a bad URL is refused with the variable's name."""
    import html as html_lib

    monkeypatch.delenv("IMPRINT_URL", raising=False)
    monkeypatch.delenv("PRIVACY_URL", raising=False)
    _, plain, h1 = web.response("index.html")
    site = re.search(r'<html data-site="([^"]*)"', plain)
    assert site and json.loads(html_lib.unescape(site.group(1)))["imprint_url"] is None
    monkeypatch.setenv("IMPRINT_URL", "https://operator.example/impressum?a=1&b=2")
    monkeypatch.setenv("PRIVACY_URL", "https://operator.example/datenschutz")
    monkeypatch.setenv("BENCHMARK_MIN_COHORT", "7")
    _, body, h2 = web.response("index.html")
    site = re.search(r'<html data-site="([^"]*)"', body)
    assert site
    assert json.loads(html_lib.unescape(site.group(1))) == {
        "imprint_url": "https://operator.example/impressum?a=1&b=2",
        "privacy_url": "https://operator.example/datenschutz",
        "k_min": 7,
    }
    assert "&b=2" not in site.group(1)  # escaped inside the attribute
    assert h1["ETag"] != h2["ETag"]
    assert web.response("index.html", h2["ETag"])[0] == 304
    for bad in ("http://operator.example/", "javascript:alert(1)", "https://a b/"):
        monkeypatch.setenv("IMPRINT_URL", bad)
        with pytest.raises(ValueError, match="IMPRINT_URL"):
            web.response("index.html")


def test_docs_screenshots_match_the_script() -> None:
    """docs/WEB.md shows exactly the screenshots scripts/web_screenshots.py writes (``make
    web-screenshots``), and each is in the repository."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "web_screenshots", ROOT / "scripts" / "web_screenshots.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    doc = (ROOT / "docs" / "WEB.md").read_text()
    shown = set(re.findall(r"\]\(screenshots/web/([^)]+\.png)\)", doc))
    assert shown == set(module.SHOTS)
    on_disk = {p.name for p in (ROOT / "docs" / "screenshots" / "web").glob("*.png")}
    assert on_disk == set(module.SHOTS)
    assert "make web-screenshots" in doc
    make = (ROOT / "Makefile").read_text()
    assert re.search(
        r"^web-screenshots:.*\n\t.*scripts/web_screenshots.py", make, re.MULTILINE
    )
