"""The web questionnaire in a real browser (Debian's Chromium through Playwright) against the
real local server: fill in and submit in English and German, resume a draft, server and
network errors, the result view with its charts, a 375 px screen and axe-core.

Screenshots go to artifacts/screenshots/ (git-ignored). Never runs ``playwright install``:
the browser is /usr/bin/chromium (``apt-get install chromium``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.e2e.server import ROOT, local_server

sync_api = pytest.importorskip("playwright.sync_api")  # listed in requirements-dev.txt

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SHOTS = ROOT / "artifacts" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
IMPRINT_URL = "https://operator.example/impressum"
PRIVACY_URL = "https://operator.example/datenschutz"
WAIT_MS = 20_000  # generous: the machine may be busy with other test suites

Page = Any  # playwright.sync_api.Page


# --- fixtures -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("web")
    # no bytecode writes: chalice local reloads itself when files below the project change
    env = {
        "DATA_DIR": str(data),
        "STORE": "sqlite",
        "PYTHONDONTWRITEBYTECODE": "1",
        # the operator's links, rendered into the page (chalicelib/config.SiteSettings)
        "IMPRINT_URL": IMPRINT_URL,
        "PRIVACY_URL": PRIVACY_URL,
    }
    # a small synthetic reference cohort, so the benchmark has figures to show
    subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", "seed-reference", "--size", "300"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        timeout=120,
    )
    with local_server(env) as base:
        yield base + "/"


@pytest.fixture(scope="module")
def questionnaire(server: str) -> dict[str, Any]:
    r = requests.get(f"{server}v1/questionnaires/smm/latest?lang=en", timeout=10)
    r.raise_for_status()
    return dict(r.json())


class Console:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def csp_or_script_errors(self) -> list[str]:
        return [
            x
            for x in self.lines
            if "Content Security Policy" in x or x.startswith("pageerror")
        ]


def _new_page(
    browser: Any, width: int = 1280, height: int = 900, **kw: Any
) -> tuple[Any, Page, Console]:
    ctx = browser.new_context(
        viewport={"width": width, "height": height}, locale="en-GB", **kw
    )
    ctx.set_default_timeout(WAIT_MS)
    page = ctx.new_page()
    console = Console()
    page.on("console", lambda m: console.lines.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.lines.append(f"pageerror: {e}"))
    return ctx, page, console


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Page, Console]]:
    ctx, pg, console = _new_page(browser)
    try:
        yield pg, console
    finally:
        ctx.close()
    # every page runs under the real Content-Security-Policy
    assert not console.csp_or_script_errors(), console.lines


# --- helpers --------------------------------------------------------------------------------
def shot(page: Page, name: str, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=full_page)


def open_form(page: Page, base: str, lang: str = "en") -> None:
    page.goto(base)
    page.wait_for_selector("#start-btn")
    if lang == "de":
        page.click(".lang-switch button[data-lang=de]")
        page.wait_for_function("() => document.documentElement.lang === 'de'")
        page.wait_for_selector("#intro-title:has-text('Social-Media-Reifegrad')")
    page.click("#start-btn")
    page.wait_for_selector("#section-title")


def section_number(page: Page) -> int:
    return int(page.locator("#section-of").inner_text().split()[1])


def fill_section(page: Page, pick: Callable[[int, int], int]) -> None:
    """Answer every question on the visible section; pick(question index, options) -> index."""
    boxes = page.locator("#qform .question").all()
    for i, box in enumerate(boxes):
        select = box.locator("select")
        if select.count():
            n = select.locator("option").count()
            select.select_option(index=1 + pick(i, n - 1))
        else:
            radios = box.locator("input[type=radio]")
            radios.nth(pick(i, radios.count())).check()


def next_section(page: Page) -> None:
    before = section_number(page)
    page.click("#next-btn")
    page.wait_for_function(
        "n => document.querySelector('#section-of')?.textContent.includes(' ' + n + ' ')",
        arg=before + 1,
    )


def fill_all(
    page: Page,
    pick: Callable[[int, int], int],
    on_section: Callable[[int], None] | None = None,
) -> None:
    while True:
        fill_section(page, pick)
        if on_section:
            on_section(section_number(page))
        if page.locator("#submit-btn").count():
            return
        next_section(page)


FAST_FILL = """(mode) => {
    const pick = (i, n) => (mode === 'second' ? Math.min(1, n - 1) : (i * 2 + 1) % n);
    const widths = [];
    for (let guard = 0; guard < 50; guard++) {
        document.querySelectorAll('#qform .question').forEach((box, i) => {
            const select = box.querySelector('select');
            if (select) {
                select.selectedIndex = 1 + pick(i, select.options.length - 1);
                select.dispatchEvent(new Event('change', {bubbles: true}));
            } else {
                const radios = box.querySelectorAll('input[type=radio]');
                radios[pick(i, radios.length)].click();
            }
        });
        widths.push(document.documentElement.scrollWidth);
        if (document.querySelector('#submit-btn')) return widths;
        document.querySelector('#next-btn').click();
    }
    throw new Error('no last section');
}"""


def fast_fill(page: Page, mode: str = "second") -> list[int]:
    """Answer every question through DOM clicks in one round trip (the UI-driven fill is
    ``fill_all``); returns the page's scrollWidth on each section."""
    return list(page.evaluate(FAST_FILL, mode))


def second(i: int, n: int) -> int:
    return min(1, n - 1)


def pattern(i: int, n: int) -> int:
    return (i * 2 + 1) % n


def canvas_pixels(page: Page, selector: str) -> int:
    """Non-transparent pixels drawn on a canvas (0 when blank or missing)."""
    return int(
        page.evaluate(
            """sel => {
                const c = document.querySelector(sel);
                if (!c || !c.width || !c.height) return 0;
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0;
                for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
                return n;
            }""",
            selector,
        )
    )


def submit_and_wait(page: Page) -> dict[str, Any]:
    with page.expect_response(
        lambda r: r.url.endswith("/v1/assessments") and r.request.method == "POST"
    ) as info:
        page.click("#submit-btn")
    body = info.value.json()
    page.wait_for_selector("#result-title")
    return dict(body)


def wait_for_charts(page: Page) -> None:
    page.wait_for_function("() => document.querySelector('#radar')?.width > 0")
    page.wait_for_selector("#bench-chart, #bench-message")


def run_axe(page: Page, label: str) -> None:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in {ROOT}")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    for v in bad:
        print(f"[axe {label}] {v['impact']} {v['id']}: {v['help']}")
        for node in v["nodes"][:5]:
            print("   ", node["target"], node.get("failureSummary", "")[:200])
    assert not bad, f"axe: serious/critical violations on {label}: " + ", ".join(
        v["id"] for v in bad
    )


def no_horizontal_scroll(page: Page, width: int = 375) -> None:
    sw = page.evaluate("document.documentElement.scrollWidth")
    assert sw <= width, f"horizontal overflow: scrollWidth {sw} > {width}"


# --- tests ----------------------------------------------------------------------------------
def test_submit_in_english_and_reopen_result_link(
    server: str, page: tuple[Page, Console]
) -> None:
    pg, console = page
    open_form(pg, server)
    assert pg.locator("html").get_attribute("lang") == "en"
    shot(pg, "01-first-section-en.png")
    assert pg.locator("#progress").get_attribute("value") == "0"
    fill_all(pg, pattern)
    total = int(pg.locator("#progress").get_attribute("max") or 0)
    assert pg.locator("#progress").get_attribute("value") == str(total)
    created = submit_and_wait(pg)
    result = created["result"]

    # the result link keeps id and token in the fragment only
    assert "#result=" in pg.url and "?draft" not in pg.url
    link = pg.locator("#result-link").input_value()
    assert link.endswith("#result=" + created["token"])
    assert "only way back to your result" in pg.locator(".keep-link").inner_text()

    # engagement ladder: 8 steps, the organisation's phase highlighted, next criteria listed
    assert pg.locator("#ladder .step").count() == 8
    current = pg.locator("#ladder .step[aria-current=step]")
    assert current.get_attribute("data-phase") == str(result["phase"]["number"])
    if result["phase"]["next"]:
        assert pg.locator("#ladder .criteria li").count() == len(
            result["phase"]["next"]["criteria"]
        )
    # pyramid: 5 tiers, foundation at the bottom and widest
    assert pg.locator("#pyramid .tier").count() == 5
    base = pg.locator("#pyramid .tier-0 .tier-shape").bounding_box()
    top = pg.locator("#pyramid .tier-4 .tier-shape").bounding_box()
    assert base and top and base["y"] > top["y"] and base["width"] > top["width"]
    for tier in result["pyramid"]["tiers"]:
        text = pg.locator(f"#pyramid .tier[data-tier={tier['id']}]").inner_text()
        assert tier["name"] in text
    if result["pyramid"]["blocked_by"]:
        assert "Blocked by" in pg.locator("#blocked-by").inner_text()
    # radar and benchmark charts are drawn, with text alternatives
    wait_for_charts(pg)
    assert canvas_pixels(pg, "#radar") > 2000
    radar_label = pg.locator("#radar").get_attribute("aria-label") or ""
    for d in result["dimensions"]:
        assert d["name"] in radar_label
    pg.wait_for_selector("#bench-chart")
    assert canvas_pixels(pg, "#bench-chart") > 2000
    assert "reference (synthetic)" in pg.locator("#bench-source").inner_text()
    assert "(n" in pg.locator("#bench-cohort").inner_text()
    assert "synthetic reference group" in pg.locator("#reference-note").inner_text()
    # the release the figures come from, how old it is and when the next one comes
    release = pg.locator("#bench-release").inner_text()
    assert re.search(r"benchmark release r\d{8}T\d{6}Z-[0-9a-f]{6}, published", release)
    assert "ago; the next release is due" in release, release
    assert pg.locator("#recommendations .rec").count() == len(result["recommendations"])
    shot(pg, "03-result-en.png", full_page=True)
    # peers are organisations that use social media; all organisations on request
    population = pg.locator("#bench-population")
    assert population.get_attribute("data-population") == "users"
    assert "use social media" in population.inner_text()
    with pg.expect_request(lambda r: "population=all" in r.url):
        pg.click("#bench-population-switch")
    pg.wait_for_selector("#bench-population[data-population=all]")
    assert "including non-users" in pg.locator("#bench-population").inner_text()
    pg.wait_for_selector("#bench-chart")
    assert canvas_pixels(pg, "#bench-chart") > 2000
    assert not console.csp_or_script_errors(), console.lines

    # the link re-opens the result after a reload (GET with the token header)
    overall = pg.locator(".card-value").nth(2).inner_text()
    with pg.expect_request(
        lambda r: f"/v1/assessments/{created['id']}?" in r.url
    ) as req:
        pg.reload()
    assert req.value.headers.get("x-result-token") == created["token"]
    assert created["token"] not in req.value.url
    pg.wait_for_selector("#result-title")
    assert pg.locator(".card-value").nth(2).inner_text() == overall
    wait_for_charts(pg)
    assert canvas_pixels(pg, "#radar") > 2000


def test_submit_in_german(server: str, page: tuple[Page, Console]) -> None:
    pg, console = page

    def later(n: int) -> None:
        if n == 5:
            pg.evaluate("window.scrollTo(0, 0)")
            shot(pg, "02-later-section-de.png")

    open_form(pg, server, "de")
    assert pg.evaluate("localStorage.getItem('smm.lang')") == "de"
    assert pg.locator("#next-btn").inner_text().startswith("Weiter")
    fill_all(pg, second, later)
    created = submit_and_wait(pg)
    assert created["language"] == "de"
    assert pg.locator("#result-title").inner_text() == "Ihre Ergebnisse"
    assert "Engagement-Leiter" in pg.locator("#ladder h2").inner_text()
    wait_for_charts(pg)
    assert canvas_pixels(pg, "#radar") > 2000
    assert "Referenz (synthetisch)" in pg.locator("#bench-source").inner_text()
    release = pg.locator("#bench-release").inner_text()
    assert "Werte der Benchmark-Veröffentlichung r" in release, release
    assert "die nächste ist für" in release, release
    # switching the language re-fetches the stored result in English
    pg.click(".lang-switch button[data-lang=en]")
    pg.wait_for_selector("#result-title:has-text('Your results')")
    assert not console.csp_or_script_errors(), console.lines


def test_resume_a_draft_on_another_device(
    server: str, browser: Any, page: tuple[Page, Console]
) -> None:
    pg, _ = page
    open_form(pg, server, "de")
    fill_section(pg, second)
    next_section(pg)
    box = pg.locator("#qform .question").first
    qid = box.get_attribute("data-qid") or ""
    # autosave (debounced): wait for the save that carries the latest answer
    with pg.expect_response(
        lambda r: "/v1/drafts" in r.url and qid in (r.request.post_data or "")
    ) as saved:
        box.locator("input[type=radio]").nth(2).check()
    assert saved.value.status in (200, 201)
    pg.wait_for_function("() => location.search.startsWith('?draft=')")
    pg.wait_for_selector("#save-status.save-saved")
    draft_id = pg.evaluate("new URLSearchParams(location.search).get('draft')")
    assert saved.value.json()["id"] == draft_id
    assert pg.locator("#resume-link").input_value().endswith(f"?draft={draft_id}")
    answered = pg.locator("#progress").get_attribute("value")

    # a fresh browser (no localStorage, English default) opens the resume link
    ctx, other, _ = _new_page(browser)
    try:
        other.goto(f"{server}?draft={draft_id}")
        other.wait_for_selector("#section-title")
        assert other.locator("html").get_attribute("lang") == "de"
        assert "Willkommen zurück" in other.locator("#notice").inner_text()
        assert other.locator("#progress").get_attribute("value") == answered
        # it jumps to the first section with an unanswered question: the second one
        assert section_number(other) == 2
        assert other.locator(f"#q-{qid} input[type=radio]").nth(2).is_checked()
        other.click("#back-btn")
        first = other.locator("#qform .question").all()
        for q in first:
            assert q.locator("input[type=radio]").nth(1).is_checked()
    finally:
        ctx.close()


def test_unknown_draft_starts_fresh_with_a_message(
    server: str, page: tuple[Page, Console]
) -> None:
    pg, _ = page
    pg.goto(f"{server}?draft=does-not-exist")
    pg.wait_for_selector("#start-btn")
    assert "could not find your saved answers" in pg.locator("#notice").inner_text()
    assert "draft" not in pg.url


def test_missing_answers_are_flagged_before_sending(
    server: str, page: tuple[Page, Console]
) -> None:
    pg, _ = page
    open_form(pg, server)
    fill_section(pg, second)
    next_section(pg)
    requests_sent: list[str] = []
    pg.on(
        "request",
        lambda r: requests_sent.append(r.url) if r.method == "POST" else None,
    )
    # jump straight to the last section and try to submit
    pg.click("#toc summary")
    pg.locator("#toc .toc-item").last.click()
    pg.wait_for_selector("#submit-btn")
    pg.click("#submit-btn")
    pg.wait_for_selector("#error-summary")
    assert not [u for u in requests_sent if u.endswith("/v1/assessments")]
    assert section_number(pg) == 2  # the first section with a missing answer
    first = pg.locator("#qform .question").first
    qid = first.get_attribute("data-qid")
    assert "An answer is required" in pg.locator(f"#err-{qid}").inner_text()
    assert pg.locator(f"#q-{qid} input").first.get_attribute("aria-invalid") == "true"
    assert (
        pg.evaluate(
            "qid => document.activeElement.closest('.question')?.dataset.qid", qid
        )
        == qid
    )
    # answering clears the error in place
    first.locator("input[type=radio]").first.check()
    assert pg.locator(f"#err-{qid}").is_hidden()


def test_server_field_error_is_shown_next_to_its_question(
    server: str, questionnaire: dict[str, Any], page: tuple[Page, Console]
) -> None:
    pg, _ = page
    target = questionnaire["sections"][2]["questions"][1]["id"]
    problem = {
        "type": "urn:smm:problem:invalid-input",
        "title": "Invalid input",
        "status": 422,
        "detail": "1 answer(s) are invalid",
        "errors": [
            {
                "pointer": f"/answers/{target}",
                "detail": "unknown option 'x'; one of no, partly, mostly, yes",
            }
        ],
    }
    calls: list[str] = []

    def reject(route: Any) -> None:
        calls.append(route.request.method)
        route.fulfill(
            status=422,
            content_type="application/problem+json",
            body=json.dumps(problem),
        )

    pg.route("**/v1/assessments", reject)
    open_form(pg, server)
    fast_fill(pg)
    pg.click("#submit-btn")
    pg.wait_for_selector(f"#q-{target}.has-error")
    assert calls == ["POST"]
    assert section_number(pg) == 3
    err = pg.locator(f"#err-{target}")
    assert "Unknown option 'x'" in err.inner_text()
    fieldset = pg.locator(f"#q-{target}")
    assert f"err-{target}" in (fieldset.get_attribute("aria-describedby") or "")
    assert fieldset.locator("input").first.get_attribute("aria-invalid") == "true"
    assert pg.evaluate("document.activeElement.name") == f"a-{target}"
    # the other answers are still there; fixing the answer and resubmitting works
    assert pg.locator("#progress").get_attribute("value") == pg.locator(
        "#progress"
    ).get_attribute("max")
    pg.unroute("**/v1/assessments")
    fieldset.locator("input[type=radio]").nth(2).check()
    assert err.is_hidden()
    pg.locator("#toc summary").click()
    pg.locator("#toc .toc-item").last.click()
    submit_and_wait(pg)


def test_network_failure_keeps_answers_and_retry_succeeds(
    server: str, page: tuple[Page, Console]
) -> None:
    pg, _ = page
    keys: list[str | None] = []
    bodies: list[str | None] = []

    def fail(route: Any) -> None:
        keys.append(route.request.headers.get("idempotency-key"))
        bodies.append(route.request.post_data)
        route.abort("internetdisconnected")

    open_form(pg, server)
    fast_fill(pg, "pattern")
    pg.route("**/v1/assessments", fail)
    pg.click("#submit-btn")
    pg.wait_for_selector("#submit-problem")
    text = pg.locator("#submit-problem").inner_text()
    assert "could not be reached" in text and "nothing is lost" in text
    assert pg.locator("#retry-btn").is_visible()
    assert pg.locator("#progress").get_attribute("value") == pg.locator(
        "#progress"
    ).get_attribute("max")
    checked = pg.locator("#qform input[type=radio]:checked").count()
    assert checked >= 1
    pg.unroute("**/v1/assessments")

    def record(route: Any) -> None:
        keys.append(route.request.headers.get("idempotency-key"))
        bodies.append(route.request.post_data)
        route.continue_()

    pg.route("**/v1/assessments", record)
    with pg.expect_response(lambda r: r.url.endswith("/v1/assessments")) as info:
        pg.click("#retry-btn")
    assert info.value.status == 201
    pg.wait_for_selector("#result-title")
    # the retry is the same request: same idempotency key, same body
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    assert bodies[0] == bodies[1]


def test_benchmark_and_report_degrade_gracefully(
    server: str, page: tuple[Page, Console]
) -> None:
    pg, _ = page
    pg.route(
        "**/comparison?*",
        lambda route: route.fulfill(
            status=404,
            content_type="application/problem+json",
            body='{"status": 404, "title": "Not found"}',
        ),
    )
    pg.route("**/report?*", lambda route: route.fulfill(status=404, body=""))
    pg.route("**/report.pdf?*", lambda route: route.fulfill(status=404, body=""))
    open_form(pg, server)
    fast_fill(pg)
    submit_and_wait(pg)
    pg.wait_for_selector("#bench-message")
    assert "not available yet" in pg.locator("#bench-message").inner_text()
    pg.click("#report-btn")
    pg.wait_for_selector("#report-btn", state="hidden")
    assert "not available yet" in pg.locator("#report-status").inner_text()

    # below the cohort threshold: a message instead of figures
    pg.unroute("**/comparison?*")
    below = {
        "source": "real",
        "source_label": "real submissions",
        "cohort": {"label": "industry C", "n": 3, "key": "C#*#*"},
        "k_min": 5,
        "months": None,
        "metrics": [],
        "status": "below_threshold",
    }
    pg.route(
        "**/comparison?*",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(below)
        ),
    )
    pg.reload()
    pg.wait_for_selector("#bench-message")
    assert "at least 5 organisations" in pg.locator("#bench-message").inner_text()
    assert "real submissions" in pg.locator("#bench-source").inner_text()

    # before the first release: a message that figures come with the next one
    pg.unroute("**/comparison?*")
    none_yet = {**below, "cohort": None, "status": "no_release", "release": None}
    pg.route(
        "**/comparison?*",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(none_yet)
        ),
    )
    pg.reload()
    pg.wait_for_selector("#bench-message")
    assert "No benchmark release" in pg.locator("#bench-message").inner_text()
    assert pg.locator("#bench-release").count() == 0


def test_charts_that_cannot_load_say_so_and_keep_the_figures(
    server: str, page: tuple[Page, Console]
) -> None:
    """Chart.js failing to load (blocked, offline) leaves a sentence in each chart's box, the
    radar's and the peer comparison's, instead of an empty canvas."""
    pg, _ = page
    pg.route("**/static/chart.umd.min.js", lambda route: route.abort())
    open_form(pg, server)
    fast_fill(pg)
    submit_and_wait(pg)
    failed = "The chart could not be displayed"
    for box in (".chart-radar", ".chart-bars"):
        pg.wait_for_function(
            "([sel, text]) => document.querySelector(sel)?.textContent.includes(text)",
            arg=[box, failed],
            timeout=10_000,
        )
        assert pg.locator(f"{box} canvas").count() == 0, box


def test_report_download_uses_the_token_header(
    server: str, page: tuple[Page, Console]
) -> None:
    pg, _ = page
    seen: dict[str, str | None] = {}

    def record(request: Any) -> None:
        if "/report" in request.url:
            seen["token"] = request.headers.get("x-result-token")
            seen["accept"] = request.headers.get("accept")
            seen["url"] = request.url

    pg.on("request", record)
    open_form(pg, server)
    fast_fill(pg)
    created = submit_and_wait(pg)
    with pg.expect_download() as dl:
        pg.click("#report-btn")
    assert dl.value.suggested_filename.endswith(".pdf")
    with open(dl.value.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"
    assert "format=pdf" in (seen["url"] or "")
    assert "population=users" in (seen["url"] or "")  # the page's peers
    assert seen["token"] == created["token"] and seen["accept"] == "application/pdf"
    assert created["token"] not in (seen["url"] or "")
    assert "downloaded" in pg.locator("#report-status").inner_text()


def test_small_screen_has_no_horizontal_scroll(server: str, browser: Any) -> None:
    ctx, pg, console = _new_page(browser, width=375, height=800)
    try:
        pg.goto(server)
        pg.wait_for_selector("#start-btn")
        no_horizontal_scroll(pg)
        pg.click("#start-btn")
        pg.wait_for_selector("#section-title")
        no_horizontal_scroll(pg)
        shot(pg, "04-mobile-375-section.png", full_page=True)
        widths = fast_fill(pg, "pattern")
        assert max(widths) <= 375, widths
        submit_and_wait(pg)
        wait_for_charts(pg)
        pg.wait_for_selector("#bench-chart")
        no_horizontal_scroll(pg)
        shot(pg, "05-mobile-375-result.png", full_page=True)
        assert not console.csp_or_script_errors(), console.lines
    finally:
        ctx.close()


def test_accessibility_axe(server: str, browser: Any) -> None:
    # axe is injected as an inline script, which the page's CSP forbids: bypass it here only
    ctx, pg, _ = _new_page(browser, bypass_csp=True)
    try:
        open_form(pg, server)
        run_axe(pg, "first section")
        pg.click("#toc summary")
        pg.locator("#toc .toc-item").last.click()
        pg.wait_for_selector("#submit-btn")
        pg.click("#submit-btn")  # nothing answered: error summary and field errors
        pg.wait_for_selector("#error-summary")
        run_axe(pg, "questionnaire with errors")
        pg.locator("#toc summary").click()
        pg.locator("#toc .toc-item").first.click()
        fast_fill(pg, "pattern")
        run_axe(pg, "context section")
        submit_and_wait(pg)
        wait_for_charts(pg)
        pg.wait_for_selector("#bench-chart")
        run_axe(pg, "result")
    finally:
        ctx.close()


DONT_KNOW_FILL = """() => {
    for (let guard = 0; guard < 50; guard++) {
        document.querySelectorAll('#qform .question').forEach((box) => {
            const select = box.querySelector('select');
            if (select) {
                select.selectedIndex = 1;
                select.dispatchEvent(new Event('change', {bubbles: true}));
                return;
            }
            const radios = [...box.querySelectorAll('input[type=radio]')];
            const dk = radios.find((r) => r.value === 'dont_know') || radios[0];
            dk.click();
        });
        if (document.querySelector('#submit-btn')) return;
        document.querySelector('#next-btn').click();
    }
    throw new Error('no last section');
}"""


def test_all_dont_know_shows_not_assessable_not_phase_zero(
    server: str, page: tuple[Page, Console]
) -> None:
    """Issue 14: an all-"don't know" submission is flagged as not assessable and low coverage
    on the result page; no phase number or overall index is shown."""
    pg, console = page
    open_form(pg, server)
    pg.evaluate(DONT_KNOW_FILL)
    created = submit_and_wait(pg)
    assert created["result"]["assessable"] is False
    flag = pg.locator("#evidence-flag").inner_text()
    assert "Not assessable" in flag and "Low coverage" in flag
    cards = pg.locator(".card-value")
    assert cards.nth(0).inner_text() == "not assessable"
    assert cards.nth(2).inner_text() == "not assessable"
    assert pg.locator("#ladder .step[aria-current=step]").count() == 0
    assert "cannot be assessed" in pg.locator(".pyramid-reached").inner_text()
    pg.wait_for_selector("#bench-message")
    assert "nothing to compare" in pg.locator("#bench-message").inner_text()
    shot(pg, "09-result-not-assessable-en.png", full_page=True)
    assert not console.csp_or_script_errors(), console.lines


# --- issue 16: the web result and flow ------------------------------------------------------
ANSWER_FILL = """(answers) => {
    for (let guard = 0; guard < 50; guard++) {
        document.querySelectorAll('#qform .question').forEach((box) => {
            const qid = box.dataset.qid;
            const select = box.querySelector('select');
            if (select) {
                select.value = answers[qid];
                select.dispatchEvent(new Event('change', {bubbles: true}));
            } else {
                document.getElementById(`o-${qid}-${answers[qid]}`).click();
            }
        });
        if (document.querySelector('#submit-btn')) return;
        document.querySelector('#next-btn').click();
    }
    throw new Error('no last section');
}"""


def answer_all(page: Page, answers: dict[str, str]) -> None:
    """Give exactly these answers (question id -> option id) through DOM clicks."""
    page.evaluate(ANSWER_FILL, answers)


def phase_two_answers(questionnaire: dict[str, Any]) -> dict[str, str]:
    """The second option everywhere, except: two of phase 3's questions and every question of
    phases 4-7 get the first (worst) option, so the organisation stands at phase 2 and phase
    3 is measurably short (33 of 50 under questionnaire 2.0.0)."""
    out: dict[str, str] = {}
    lowered = 0
    for s in questionnaire["sections"]:
        for x in s["questions"]:
            i = min(1, len(x["options"]) - 1)
            if x["kind"] == "scored" and x.get("phase") == 3 and lowered < 2:
                i, lowered = 0, lowered + 1
            if x["kind"] == "scored" and (x.get("phase") or 0) >= 4:
                i = 0
            out[x["id"]] = x["options"][i]["id"]
    return out


def test_ladder_shows_how_close_the_next_phase_is(
    server: str, questionnaire: dict[str, Any], page: tuple[Page, Console]
) -> None:
    """The ladder shows each criterion score against its threshold ("33 of 50"), and the next
    phase's criteria the answer given, the answer needed and what would move it up."""
    pg, console = page
    open_form(pg, server)
    answer_all(pg, phase_two_answers(questionnaire))
    created = submit_and_wait(pg)
    phase = created["result"]["phase"]
    nxt = phase["next"]
    assert nxt, "the fill should leave a next phase"
    profile = {p["phase"]: p for p in phase["profile"]}
    for n, p in profile.items():
        assert p["threshold"] >= 1
        if p["score"] is not None:
            step = pg.locator(f"#ladder .step[data-phase='{n}'] .step-score")
            assert f"{p['score']} of {p['threshold']} needed" in step.inner_text()
    p = profile[nxt["number"]]
    assert p["status"] == "not_met" and p["score"] is not None, (
        p
    )  # this fill's next phase
    figure = pg.locator("#next-score").inner_text()
    assert (
        f"Phase {nxt['number']} criteria: {p['score']} of {p['threshold']} needed"
        in figure
    )
    assert f"{p['threshold'] - p['score']} more points" in figure
    items = pg.locator("#ladder .criteria li")
    assert items.count() == len(nxt["criteria"])
    open_ = 0
    for i, c in enumerate(nxt["criteria"]):
        text = items.nth(i).inner_text()
        assert c["text"] in text
        assert f"Your answer: {c['answer_label'] or 'not answered'}" in text
        if c["met"]:
            assert "met" in text
        else:
            open_ += 1
            assert f"needed: {c['needed_label']}" in text
            assert c["needed_label"] != c["answer_label"]
    if open_:
        assert "To move up to phase" in pg.locator("#next-move").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.locator("#ladder").screenshot(path=str(SHOTS / "10-ladder-next-phase-en.png"))
    assert not console.csp_or_script_errors(), console.lines


def test_percentile_wording_counts_half_the_ties(
    server: str, page: tuple[Page, Console]
) -> None:
    """The figure is a mid-rank (chalicelib/benchmark.percentile_rank: below plus half of the
    equal ones): the page must say so, in English and German, and never claim it is the share
    with a lower value alone."""
    pg, console = page
    open_form(pg, server)
    fast_fill(pg)
    submit_and_wait(pg)
    pg.wait_for_selector("#bench-chart")
    note = pg.locator("#percentile-note").inner_text()
    assert "plus half of those with exactly your score" in note
    assert "half of equal ones" in (
        pg.locator("#bench-chart").get_attribute("aria-label") or ""
    )
    pg.click(".lang-switch button[data-lang=de]")
    pg.wait_for_selector("#percentile-note:has-text('Perzentilrang')")
    assert (
        "dazu die Hälfte derer mit genau Ihrem Wert"
        in pg.locator("#percentile-note").inner_text()
    )
    assert "niedrigere Werte plus die Hälfte der gleichen" in (
        pg.locator("#bench-chart").get_attribute("aria-label") or ""
    )
    assert not console.csp_or_script_errors(), console.lines


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_back_and_forward_move_between_sections(
    server: str, browser: Any, phone: bool
) -> None:
    """Each section is a browser history entry: Back and Forward move between sections (and
    from the first section back to the start page) instead of leaving the questionnaire;
    on a phone (touch, mobile viewport) too."""
    kw: dict[str, Any] = {"is_mobile": True, "has_touch": True} if phone else {}
    ctx, pg, console = _new_page(
        browser, width=390 if phone else 1280, height=844, **kw
    )
    try:
        _back_and_forward(pg, console, server)
    finally:
        ctx.close()


def _back_and_forward(pg: Page, console: Console, server: str) -> None:
    open_form(pg, server)
    fill_section(pg, second)
    next_section(pg)
    fill_section(pg, second)
    next_section(pg)
    assert section_number(pg) == 3

    def at(n: int) -> None:
        pg.wait_for_function(
            "n => document.querySelector('#section-of')?.textContent.includes(' ' + n + ' ')",
            arg=n,
        )

    pg.go_back()
    at(2)
    assert pg.evaluate("document.activeElement.id") == "section-title"
    pg.go_back()
    at(1)
    # the answers given are still there
    assert pg.locator("#qform input[type=radio]:checked").count() >= 1
    pg.go_forward()
    at(2)
    pg.go_forward()
    at(3)
    # the table of contents is navigation too
    pg.click("#toc summary")
    pg.locator("#toc .toc-item").first.click()
    at(1)
    pg.go_back()
    at(3)
    pg.go_back()
    at(2)
    pg.go_back()
    at(1)
    pg.go_back()  # before the first section: the start page, not another site
    pg.wait_for_selector("#start-btn")
    assert pg.url.startswith(server)
    assert not console.csp_or_script_errors(), console.lines


def test_resumed_draft_keeps_the_elapsed_time(
    server: str, questionnaire: dict[str, Any], page: tuple[Page, Console]
) -> None:
    """Time spent in an earlier session travels with the draft: the autosave carries it on,
    and the submission's duration counts every session, so a respondent who resumes is not
    excluded from the benchmark as "too fast"."""
    pg, _ = page
    first = questionnaire["sections"][0]["questions"][0]
    earlier = 1800  # half an hour in an earlier session, on another device
    r = requests.post(
        f"{server}v1/drafts",
        json={
            "answers": {first["id"]: first["options"][1]["id"]},
            "language": "en",
            "elapsed_seconds": earlier,
        },
        timeout=10,
    )
    r.raise_for_status()
    draft_id = r.json()["id"]
    pg.goto(f"{server}?draft={draft_id}")
    pg.wait_for_selector("#section-title")
    box = pg.locator("#qform .question").nth(1)
    qid = box.get_attribute("data-qid") or ""
    with pg.expect_request(
        lambda q: "/v1/drafts/" in q.url and qid in (q.post_data or "")
    ) as saved:
        box.locator("input[type=radio]").nth(1).check()
    assert json.loads(saved.value.post_data or "{}")["elapsed_seconds"] >= earlier
    fast_fill(pg)
    with pg.expect_request(lambda q: q.url.endswith("/v1/assessments")) as sent:
        pg.click("#submit-btn")
    body = json.loads(sent.value.post_data or "{}")
    assert earlier <= body["duration_seconds"] < earlier + 600
    assert body["draft_id"] == draft_id
    pg.wait_for_selector("#result-title")
    assert "unusually fast" not in pg.locator("#benchmark").inner_text()


def test_reassessment_links_the_previous_result_and_shows_the_change(
    server: str, questionnaire: dict[str, Any], page: tuple[Page, Console]
) -> None:
    """ "Re-assess" starts a new assessment linked to the result shown (previous_token); the
    new result shows the change per metric and in the peer ranking as charts and a table."""
    pg, console = page
    open_form(pg, server)
    answer_all(pg, phase_two_answers(questionnaire))
    first = submit_and_wait(pg)
    pg.click("#reassess-btn")
    pg.wait_for_selector("#section-title")
    assert "Re-assessment" in pg.locator("#notice").inner_text()
    assert section_number(pg) == 1
    assert pg.locator("#qform input[type=radio]:checked").count() == 0  # a fresh start
    fast_fill(pg, "second")
    with pg.expect_request(lambda q: q.url.endswith("/v1/assessments")) as sent:
        pg.click("#submit-btn")
    assert json.loads(sent.value.post_data or "{}")["previous_token"] == first["token"]
    pg.wait_for_selector("#result-title")
    pg.wait_for_selector("#progress-table", state="attached")
    assert (
        "Compared with your assessment of" in pg.locator("#progress-since").inner_text()
    )
    assert "null" not in pg.locator("#progress-panel").inner_text()
    rows = pg.locator("#progress-table tbody tr")
    assert rows.count() >= 3
    overall = pg.locator("#progress-table tr[data-metric=overall]").text_content() or ""
    before = first["result"]["overall"]
    assert str(before) in overall and "+" in overall  # "second" scores higher
    pg.wait_for_function("() => document.querySelector('#progress-chart')?.width > 0")
    pg.wait_for_function(
        "() => document.querySelector('#progress-rank-chart')?.width > 0"
    )
    assert canvas_pixels(pg, "#progress-chart") > 2000
    assert canvas_pixels(pg, "#progress-rank-chart") > 2000
    label = pg.locator("#progress-rank-chart").get_attribute("aria-label") or ""
    assert "percentile ranks among peers before and now" in label and "→" in label
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.locator("#progress-panel").screenshot(path=str(SHOTS / "11-reassessment-en.png"))
    assert not console.csp_or_script_errors(), console.lines


def test_old_draft_link_says_it_was_submitted_and_links_the_result(
    server: str, browser: Any, page: tuple[Page, Console]
) -> None:
    pg, _ = page
    open_form(pg, server)
    fill_section(pg, second)
    pg.wait_for_function("() => location.search.startsWith('?draft=')")
    draft_id = pg.evaluate("new URLSearchParams(location.search).get('draft')")
    fast_fill(pg)
    created = submit_and_wait(pg)
    overall = pg.locator(".card-value").nth(2).inner_text()
    # Back from the result leads to a section of the submitted draft: it says so
    pg.go_back()
    pg.wait_for_selector("#draft-submitted")
    assert f"?draft={draft_id}" not in pg.url
    pg.goto(f"{server}?draft={draft_id}")
    pg.wait_for_selector("#draft-submitted")
    assert "has been submitted" in pg.locator("#draft-submitted").inner_text()
    assert "may have expired" not in pg.locator("body").inner_text()
    href = pg.locator("#draft-result-link").get_attribute("href") or ""
    assert href.endswith(f"#result={created['token']}")
    pg.click("#draft-result-link")
    pg.wait_for_selector("#result-title")
    assert pg.locator(".card-value").nth(2).inner_text() == overall
    # another device knows nothing of the submission: the message says it may have been
    ctx, other, _ = _new_page(browser)
    try:
        other.goto(f"{server}?draft={draft_id}")
        other.wait_for_selector("#start-btn")
        assert "submitted already" in other.locator("#notice").inner_text()
    finally:
        ctx.close()


def test_imprint_privacy_links_and_what_the_consent_covers(
    server: str, page: tuple[Page, Console]
) -> None:
    """The operator's imprint and privacy-policy links (IMPRINT_URL, PRIVACY_URL) are in the
    footer in both languages, and the consent question says what enters the benchmark."""
    pg, console = page
    pg.goto(server)
    pg.wait_for_selector("#start-btn")
    imprint, privacy = pg.locator("#imprint-link"), pg.locator("#privacy-link")
    assert imprint.get_attribute("href") == IMPRINT_URL
    assert privacy.get_attribute("href") == PRIVACY_URL
    assert (
        imprint.inner_text() == "Imprint" and privacy.inner_text() == "Privacy policy"
    )
    assert imprint.get_attribute("rel") == "noopener noreferrer"
    pg.click(".lang-switch button[data-lang=de]")
    pg.wait_for_selector("#imprint-link:has-text('Impressum')")
    assert pg.locator("#privacy-link").inner_text() == "Datenschutzerklärung"
    pg.click("#start-btn")
    pg.wait_for_selector("#section-title")
    pg.click("#toc summary")
    pg.locator("#toc .toc-item").last.click()
    pg.wait_for_selector("#consent-details")
    text = pg.locator("#consent-details").inner_text()
    assert "Was in den Benchmark einfließt" in text
    assert "mindestens 5 Organisationen" in text
    assert "Nicht Ihre Antworten auf die einzelnen Fragen" in text
    assert "trotzdem Ihr vollständiges Ergebnis" in text
    # the consent question still works as before
    assert pg.locator("#q-consent input[type=radio]").count() == 2
    assert not console.csp_or_script_errors(), console.lines


RADAR_LABELS = """() => {
    const chart = window.Chart && Chart.getChart(document.querySelector('#radar'));
    if (!chart) return null;
    const items = chart.scales.r._pointLabelItems || [];
    return {width: chart.width, height: chart.height,
            boxes: items.map((i) => [i.left, i.right, i.top, i.bottom])};
}"""


def test_result_at_390px_in_german_is_tidy(
    server: str, browser: Any, questionnaire: dict[str, Any]
) -> None:
    """On a 390 px phone, after resuming a draft, in German: the radar's labels lie inside
    the canvas, the "welcome back" banner is gone on the result, one term per concept
    (Gesamtindex, Pyramidenebene) and no "Phase n von 7" with eight phases 0-7."""
    first = questionnaire["sections"][0]["questions"][0]
    r = requests.post(
        f"{server}v1/drafts",
        json={"answers": {first["id"]: first["options"][1]["id"]}, "language": "de"},
        timeout=10,
    )
    r.raise_for_status()
    ctx, pg, console = _new_page(browser, width=390, height=844)
    try:
        pg.goto(f"{server}?draft={r.json()['id']}")
        pg.wait_for_selector("#section-title")
        assert "Willkommen zurück" in pg.locator("#notice").inner_text()
        fast_fill(pg, "pattern")
        submit_and_wait(pg)
        assert "Willkommen zurück" not in pg.locator("body").inner_text()
        assert pg.locator("#notice").inner_text().strip() == ""
        pg.wait_for_function(RADAR_LABELS)
        radar = pg.evaluate(RADAR_LABELS)
        assert len(radar["boxes"]) == 6
        for left, right, top, bottom in radar["boxes"]:
            assert left >= 0 and right <= radar["width"], radar
            assert top >= 0 and bottom <= radar["height"], radar
        pg.wait_for_selector("#bench-chart")
        no_horizontal_scroll(pg, 390)
        # every text of the page, the closed table and the hidden labels included
        text = pg.evaluate("document.body.textContent")
        labels = " ".join(
            pg.eval_on_selector_all(
                "[aria-label]", "els => els.map((e) => e.getAttribute('aria-label'))"
            )
        )
        for term, other in (
            ("Gesamtindex", "Gesamtwert"),
            ("Pyramidenebene", "Pyramidenstufe"),
        ):
            assert term in text + labels, term
            assert other not in text + labels, other
        assert "von 7" not in text and "Phasen 0–7" in text
        shot(pg, "12-result-390-de.png", full_page=True)
        assert not console.csp_or_script_errors(), console.lines
    finally:
        ctx.close()
