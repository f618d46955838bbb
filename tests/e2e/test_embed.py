"""The embeddable widget in a real browser (Debian's Chromium through Playwright): a partner
page on a second local origin embeds it with embed.js; the widget loads only there, its
events arrive from the widget's origin with the documented shape, a foreign origin cannot
frame it (frame-ancestors), the white label shows in the frame and in the PDF report."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.server import free_port, local_server
from tests.e2e.test_web import FAST_FILL, SHOTS, WAIT_MS, run_axe

sync_api = pytest.importorskip("playwright.sync_api")

BRAND = {
    "display_name": "Acme Consulting",
    "primary_color": "#0b5d3b",
    "imprint_url": "https://acme.example/imprint",
    "privacy_url": "https://acme.example/privacy",
    "language": "de",  # the default; data-lang="en" on the main snippet wins
}
TYPES = {
    "ready",
    "started",
    "section_changed",
    "submitted",
    "result_shown",
    "height_changed",
}


def _png() -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 20), (11, 93, 59)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


class Pages:
    """A static site on its own origin (127.0.0.1:<port>) serving given HTML by path."""

    def __init__(self) -> None:
        self.html: dict[str, str] = {}
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.html.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


RECORDER = """<script>
window.events = [];
window.addEventListener('message', (e) => window.events.push({origin: e.origin, data: e.data}));
document.addEventListener('smm:submitted', (e) => { window.submitted = e.detail; });
</script>"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("embed")
    env = {"DATA_DIR": str(data), "STORE": "sqlite", "PYTHONDONTWRITEBYTECODE": "1"}
    partner_site, foreign_site = Pages(), Pages()
    try:
        from chalicelib.partners import PartnerService
        from chalicelib.storage.sqlite import SqliteStore

        store = SqliteStore(str(Path(data) / "smm.sqlite3"))
        ps = PartnerService(store)
        secret, rec = ps.create(
            "Acme", ["submit", "read", "admin"], [partner_site.origin], "standard"
        )
        pk, _ = ps.create(
            "Acme widget",
            ["submit"],
            [partner_site.origin],
            partner_id=rec.partner_id,
            kind="publishable",
        )
        store.close()
        with local_server(env) as api:
            auth = {"Authorization": f"Bearer {secret}"}
            r = requests.put(
                f"{api}/v1/partner/branding",
                json={**BRAND, "logo": _png()},
                headers=auth,
                timeout=20,
            )
            assert r.status_code == 200, r.text
            snippet = (
                f'<script src="{api}/static/embed.js" data-partner="{pk}" data-lang="en" '
                'data-industry="J" data-hide-prefilled="true" data-reference="crm-42" '
                'data-target="#slot"></script>'
            )
            page = f"<!doctype html><title>Shop</title>{RECORDER}<h1>Partner shop</h1><div id=slot></div>{snippet}"
            partner_site.html["/"] = page
            foreign_site.html["/"] = page  # the same snippet copied to another site
            foreign_site.html["/frame"] = (
                f"<!doctype html>{RECORDER}<iframe id=f src='{api}/embed?key={pk}"
                f"&origin={partner_site.origin}'></iframe>"
            )
            yield {
                "api": api,
                "pk": pk,
                "secret": secret,
                "partner": partner_site.origin,
                "foreign": foreign_site.origin,
                "partner_id": rec.partner_id,
                "site": partner_site,
            }
    finally:
        partner_site.close()
        foreign_site.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(
        viewport={"width": 1100, "height": 900}, accept_downloads=True
    )
    ctx.set_default_timeout(WAIT_MS)
    pg = ctx.new_page()
    pg.console_lines = []
    pg.on("console", lambda m: pg.console_lines.append(f"{m.type}: {m.text}"))
    try:
        yield pg
    finally:
        ctx.close()


def _events(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate("window.events"))


def _wait_event(page: Any, kind: str) -> None:
    page.wait_for_function(
        "k => window.events.some((e) => e.data && e.data.type === k)", arg=kind
    )


def _widget(page: Any) -> Any:
    page.wait_for_selector("iframe.smm-embed-frame")
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        for f in page.frames:
            if "/embed?" in f.url:
                return f
        time.sleep(0.1)
    raise AssertionError("no widget frame")


def test_widget_on_the_partner_page(world: dict[str, Any], page: Any) -> None:
    page.goto(world["partner"] + "/")
    frame = _widget(page)
    _wait_event(page, "ready")
    # white label in the frame
    frame.wait_for_selector("#brand-logo")
    assert frame.locator("#brand-name").inner_text() == "Acme Consulting"
    assert (
        frame.evaluate(
            "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
        )
        == "#0b5d3b"
    )
    assert frame.locator("#imprint-link").get_attribute("href") == BRAND["imprint_url"]
    assert frame.locator("#privacy-link").get_attribute("href") == BRAND["privacy_url"]
    assert frame.evaluate("document.title").startswith("Acme Consulting")
    # the frame grows with its content (height_changed)
    _wait_event(page, "height_changed")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "embed-intro.png"), full_page=True)
    frame.click("#start-btn")
    _wait_event(page, "started")
    _wait_event(page, "section_changed")
    frame.evaluate(FAST_FILL, "second")
    # the prefilled industry question is hidden
    assert frame.locator("[data-qid=industry]").count() == 0
    frame.click("#submit-btn")
    frame.wait_for_selector("#result-title")
    _wait_event(page, "result_shown")
    frame.wait_for_selector("#bench-body:not(:has(.loading))")
    page.screenshot(path=str(SHOTS / "embed-result.png"), full_page=True)
    height = page.evaluate(
        "document.querySelector('iframe').getBoundingClientRect().height"
    )
    assert height > 1500, height  # resized to the (long) result
    events = _events(page)
    # every event came from the widget's origin, with the documented shape
    assert {e["origin"] for e in events} == {world["api"]}
    for e in events:
        d = e["data"]
        assert (
            d["source"] == "smm-widget" and d["version"] == 1 and d["type"] in TYPES
        ), d
    kinds = [e["data"]["type"] for e in events if e["data"]["type"] != "height_changed"]
    assert kinds[:3] == ["ready", "started", "section_changed"]
    assert kinds[-2:] == ["submitted", "result_shown"]
    submitted = page.evaluate("window.submitted")
    aid = submitted["assessment_id"]
    assert len(aid) == 32
    heights = [
        e["data"]["height"] for e in events if e["data"]["type"] == "height_changed"
    ]
    assert all(isinstance(h, int) and h > 0 for h in heights)
    # the assessment is the partner's, with its reference and the prefilled industry
    read = requests.get(
        f"{world['api']}/v1/partner/assessments/{aid}",
        headers={"Authorization": f"Bearer {world['secret']}"},
        timeout=20,
    ).json()
    assert read["reference"] == "crm-42"
    assert read["cohort"]["industry"] == "J"
    # the result link leads to our own page, not the embed page
    link = frame.locator("#result-link").input_value()
    assert link.startswith(world["api"] + "/#result=")
    own = page.context.new_page()
    own.goto(link)
    own.wait_for_selector("#result-title")
    own.wait_for_function(
        "() => document.querySelector('#brand-name').textContent === 'Acme Consulting'"
    )
    assert own.locator("#brand-logo").count() == 1
    own.close()
    # the PDF report from inside the frame carries the branding
    with page.expect_download() as dl:
        frame.click("#report-btn")
    pdf = Path(dl.value.path()).read_bytes()
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "Acme Consulting" in text and BRAND["imprint_url"] in text
    assert not [x for x in page.console_lines if "Content Security Policy" in x]


def test_widget_ignores_messages_from_other_origins(
    world: dict[str, Any], page: Any
) -> None:
    """Only the embedding page may talk to the widget: a message from another window of
    another origin is dropped, the partner's own is answered."""
    page.goto(world["partner"] + "/")
    frame = _widget(page)
    _wait_event(page, "ready")
    frame.wait_for_selector("#start-btn")
    assert frame.evaluate("document.documentElement.lang") == "en"
    # a message forged inside the frame itself has the widget's origin, not the partner's
    frame.evaluate(
        "window.postMessage({source: 'smm-host', version: 1, type: 'set_language', language: 'de'}, '*')"
    )
    page.wait_for_timeout(500)
    assert frame.evaluate("document.documentElement.lang") == "en"
    page.evaluate(
        "document.querySelector('.smm-embed').smmEmbed.send('set_language', {language: 'de'})"
    )
    frame.wait_for_function("() => document.documentElement.lang === 'de'")
    # and embed.js ignores a forged widget event from another window or origin
    page.evaluate(
        "window.postMessage({source: 'smm-widget', version: 1, type: 'height_changed', height: 5}, '*')"
    )
    page.wait_for_timeout(300)
    assert page.evaluate("document.querySelector('iframe').style.height") != "5px"


def test_foreign_origin_cannot_frame_the_widget(
    world: dict[str, Any], page: Any
) -> None:
    # the snippet copied to another site: the server refuses that origin (403)
    page.goto(world["foreign"] + "/")
    page.wait_for_selector("iframe.smm-embed-frame")
    page.wait_for_timeout(1500)
    assert not [
        e for e in _events(page) if (e["data"] or {}).get("source") == "smm-widget"
    ]
    # a hand-made frame naming the partner's origin: frame-ancestors blocks it
    page.goto(world["foreign"] + "/frame")
    page.wait_for_timeout(1500)
    frame = next(f for f in page.frames if f is not page.main_frame)
    blocked = (
        frame.url.startswith("chrome-error://") or frame.locator("#view").count() == 0
    )
    assert blocked, frame.url
    assert any("frame-ancestors" in x for x in page.console_lines), page.console_lines
    assert not [
        e for e in _events(page) if (e["data"] or {}).get("source") == "smm-widget"
    ]
    # and the plain page is never frameable
    r = requests.get(world["api"] + "/", timeout=20)
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    r = requests.get(f"{world['api']}/embed?key={world['pk']}", timeout=20)
    assert f"frame-ancestors {world['partner']}" in r.headers["Content-Security-Policy"]


def test_session_flow_submits_once_with_the_server_side_reference(
    world: dict[str, Any], page: Any
) -> None:
    """The partner's server mints a client secret; the page passes it to the widget, which
    keeps it out of its address and submits with it."""
    r = requests.post(
        f"{world['api']}/v1/partner/sessions",
        json={"reference": "order-77", "ttl_seconds": 600},
        headers={"Authorization": f"Bearer {world['secret']}"},
        timeout=20,
    )
    assert r.status_code == 201, r.text
    client_secret = r.json()["client_secret"]
    world["site"].html["/session"] = (
        f"<!doctype html>{RECORDER}<div id=slot></div>"
        f'<script src="{world["api"]}/static/embed.js" data-partner="{world["partner_id"]}" '
        f'data-client-secret="{client_secret}" data-target="#slot"></script>'
    )
    page.goto(world["partner"] + "/session")
    frame = _widget(page)
    _wait_event(page, "ready")
    assert "client_secret" not in frame.evaluate("location.href")
    # no data-lang: the partner's default language
    assert frame.evaluate("document.documentElement.lang") == "de"
    frame.click("#start-btn")
    frame.evaluate(FAST_FILL, "second")
    frame.click("#submit-btn")
    frame.wait_for_selector("#result-title")
    _wait_event(page, "submitted")
    aid = page.evaluate("window.submitted")["assessment_id"]
    assert client_secret not in json.dumps(_events(page))
    assert frame.locator("#new-btn").count() == 0  # the session has submitted its one
    # the session flow without its client secret says so instead of failing at the end
    page.goto(f"{world['api']}/embed?partner={world['partner_id']}&lang=en")
    page.wait_for_selector("#embed-error")
    assert "access code" in page.locator("#embed-error").inner_text()
    read = requests.get(
        f"{world['api']}/v1/partner/assessments/{aid}",
        headers={"Authorization": f"Bearer {world['secret']}"},
        timeout=20,
    ).json()
    assert read["reference"] == "order-77"


def test_widget_accessibility_in_the_partner_colours(
    world: dict[str, Any], browser: Any
) -> None:
    """axe-core on the embedded form and result with the white label applied (axe is an
    inline script, which the CSP forbids: bypassed for this context only)."""
    ctx = browser.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True)
    ctx.set_default_timeout(WAIT_MS)
    try:
        page = ctx.new_page()
        page.goto(world["partner"] + "/")
        frame = _widget(page)
        _wait_event(page, "ready")
        frame.wait_for_selector("#brand-logo")
        run_axe(frame, "embedded intro")
        frame.click("#start-btn")
        frame.wait_for_selector("#section-title")
        run_axe(frame, "embedded form")
        frame.evaluate(FAST_FILL, "second")
        frame.click("#submit-btn")
        frame.wait_for_selector("#result-title")
        frame.wait_for_selector("#bench-body:not(:has(.loading))")
        run_axe(frame, "embedded result")
    finally:
        ctx.close()
