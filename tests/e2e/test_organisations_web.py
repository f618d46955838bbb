"""Organisation workspaces in a real browser (Debian's Chromium through Playwright) against
``chalice local`` (issue 18): the owner creates an organisation and invites three
respondents by link; each opens their link in their own browser context and answers
differently; the owner sees the combined result and the perception gap, sets a target, edits
a roadmap step, downloads XLSX and PDF (opened with openpyxl and pypdf), closes a round, the
respondents answer again, a second round is closed and the history chart shows both rounds.
Plus the pages in German and axe-core on the workspace."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.server import ROOT, local_server
from tests.e2e.test_web import _new_page, run_axe

sync_api = pytest.importorskip("playwright.sync_api")

Page = Any


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``chalice local`` on SQLite with a small synthetic reference cohort, so the rounds
    have a peer percentile."""
    data = tmp_path_factory.mktemp("orgweb")
    env = {"DATA_DIR": str(data), "STORE": "sqlite", "PYTHONDONTWRITEBYTECODE": "1"}
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


PICK = """(mode) => {
    // every scored question of the respondent's form: the first, middle or last answer
    // option that is not "don't know" / "not applicable"
    for (const box of document.querySelectorAll('#respond-form .question')) {
        const radios = [...box.querySelectorAll('input[type=radio]')]
            .filter((r) => !r.closest('.option').classList.contains('option-neutral'));
        const i = mode === 'low' ? 0 : mode === 'high' ? radios.length - 1
            : Math.floor((radios.length - 1) / 2);
        radios[i].click();
    }
}"""


def create_organisation(pg: Page, base: str, name: str = "Acme GmbH") -> str:
    """The owner link of a new organisation, created through the page's form."""
    pg.goto(base)
    pg.click("#org-entry-link")
    pg.wait_for_selector("#create-form")
    pg.fill("#org-name", name)
    pg.select_option("#profile-industry", "C")
    pg.check("#profile-size-50-249")
    pg.select_option("#profile-country", "DE")
    pg.check("#profile-consent-yes")
    pg.click("#create-btn")
    pg.wait_for_selector("#owner-link")
    link = pg.input_value("#owner-link")
    assert "#org=" in link and pg.url.endswith(link.split("#", 1)[1])
    # said clearly that the link must be kept
    assert "Keep this link" in pg.inner_text("#owner-link-box")
    return link


def invite(pg: Page, role: str, sections: tuple[str, ...] = ()) -> str:
    count = pg.locator(".invite-link").count()
    pg.fill("#invite-role", role)
    for s in sections:
        pg.check(f"#invite-sec-{s}")
    pg.click("#invite-btn")
    pg.wait_for_function(
        f"() => document.querySelectorAll('.invite-link').length > {count}"
    )
    link = pg.input_value(f"#invite-link-{count}")
    assert "#respond=" in link
    return link


def respond(browser: Any, link: str, mode: str, submit: bool = True) -> None:
    """A respondent in their own browser: opens the link, answers, saves."""
    ctx, pg, console = _new_page(browser)
    try:
        pg.goto(link)
        pg.wait_for_selector("#respond-form")
        pg.evaluate(PICK, mode)
        pg.click("#respond-submit" if submit else "#respond-draft")
        pg.wait_for_function(
            "() => /submitted|Draft saved/.test("
            "document.querySelector('#respond-status').textContent)"
        )
        assert "submitted" in pg.inner_text("#respond-state").lower() or not submit
        assert not console.csp_or_script_errors(), console.lines
    finally:
        ctx.close()


def reload_workspace(pg: Page) -> None:
    pg.reload()
    pg.wait_for_selector("#org-result")


def download(pg: Page, button: str) -> bytes:
    with pg.expect_download() as dl:
        pg.click(button)
    with open(dl.value.path(), "rb") as f:
        return f.read()


def test_three_respondents_target_roadmap_exports_and_two_rounds(
    server: str, browser: Any
) -> None:
    ctx, pg, console = _new_page(browser, accept_downloads=True)
    try:
        owner_link = create_organisation(pg, server)
        links = [invite(pg, role) for role in ("Marketing", "Service", "IT")]
        assert len(set(links)) == 3
        rows = pg.locator("#respondents tbody tr")
        assert rows.count() == 3
        assert all("invited" in t for t in rows.all_inner_texts())

        # three respondents, three different views (lowest, middle, highest answers)
        for link, mode in zip(links, ("low", "mid", "high")):
            respond(browser, link, mode)
        reload_workspace(pg)
        assert all("submitted" in t for t in rows.all_inner_texts())
        assert "3 respondent(s)" in pg.inner_text("#org-submitted")
        # the combined result: the median answer is the middle one
        overall = pg.inner_text("#org-overall")
        assert "/ 100" in overall
        # the disagreement view: every section spans the lowest to the highest view
        gap_rows = pg.locator("#gap-sections .gap-row")
        assert gap_rows.count() >= 10
        first = gap_rows.first
        assert int(first.get_attribute("data-range") or 0) >= 50
        assert "Marketing" in first.inner_text() and "IT" in first.inner_text()
        first.locator("summary").click()
        assert first.locator(".gap-questions li").count() >= 1
        width = first.locator(".gap-span").evaluate(
            "e => e.getBoundingClientRect().width"
        )
        assert width > 50  # the spread drawn as a bar

        # a target and the roadmap
        pg.select_option("#target-phase", "5")
        pg.select_option("#target-tier", "enablement")
        pg.fill("#target-dim-crisis", "80")
        pg.click("#target-save")
        pg.wait_for_selector("#roadmap tbody tr")
        assert "Target saved" in pg.inner_text("#target-status")
        steps = pg.locator("#roadmap tbody tr")
        assert steps.count() >= 3
        assert steps.first.get_attribute("data-kind") == "blocking"
        # the owner and due quarter of step 1: a wrong quarter is refused, naming it
        pg.fill("#step-owner-1", "Leitung Service")
        pg.fill("#step-due-1", "2027-Q5")
        pg.click("#step-save-1")
        pg.wait_for_selector("#step-err-1:not([hidden])")
        assert "YYYY-Qn" in pg.inner_text("#step-err-1")
        assert pg.get_attribute("#step-due-1", "aria-invalid") == "true"
        pg.fill("#step-due-1", "2027-Q3")
        pg.click("#step-save-1")
        pg.wait_for_function(
            "() => /Step 1 saved/.test(document.querySelector('#roadmap-status').textContent)"
        )
        reload_workspace(pg)  # stored
        assert pg.input_value("#step-owner-1") == "Leitung Service"
        assert pg.input_value("#step-due-1") == "2027-Q3"
        step_question = pg.get_attribute("#step-1", "data-question")

        # downloads: they open
        xlsx = download(pg, "#download-xlsx")
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(xlsx))
        cells = {
            str(c.value) for row in wb["Roadmap"].iter_rows() for c in row if c.value
        }
        assert {"Leitung Service", "2027-Q3", step_question} <= cells
        pdf = download(pg, "#download-pdf")
        assert pdf[:5] == b"%PDF-"
        from pypdf import PdfReader

        text = " ".join(
            " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split()
        )
        assert "Acme GmbH" in text and "Leitung Service" in text

        # close round 1
        assert pg.locator("#history-empty").count() == 1
        pg.click("#close-round")
        pg.wait_for_function(
            "() => /Round 1 is closed/.test(document.querySelector('#close-status').textContent)"
        )
        assert "Round 2" in pg.inner_text("#org-round")
        assert pg.locator("#history-table tbody tr").count() == 1
        # the roadmap now starts from round 1's answers
        assert "round 1" in pg.inner_text("#roadmap-basis")

        # round 2: everyone answers higher now
        for link, mode in zip(links, ("mid", "high", "high")):
            respond(browser, link, mode)
        reload_workspace(pg)
        pg.click("#close-round")
        pg.wait_for_function(
            "() => /Round 2 is closed/.test(document.querySelector('#close-status').textContent)"
        )
        # the history chart shows two rounds
        assert pg.locator("#history-table tbody tr").count() == 2
        pg.wait_for_function(
            "() => { const c = document.querySelector('#history-chart');"
            " return c && window.Chart && window.Chart.getChart(c); }"
        )
        labels = pg.evaluate(
            "() => window.Chart.getChart(document.querySelector('#history-chart'))"
            ".data.labels"
        )
        assert len(labels) == 2 and "Round 1" in labels[0] and "Round 2" in labels[1]
        series = pg.evaluate(
            "() => window.Chart.getChart(document.querySelector('#history-chart'))"
            ".data.datasets.map((d) => [d.label, d.data])"
        )
        names = [s[0] for s in series]
        assert {"Overall index", "Phase", "Pyramid level", "Peer percentile"} <= set(
            names
        )
        # the peer percentile of each round (the synthetic reference cohort ranks it)
        assert all(v is not None for v in dict(series)["Peer percentile"])
        overall_series = dict(series)["Overall index"]
        assert overall_series[1] > overall_series[0]
        assert pg.evaluate("() => document.querySelector('#history-chart').width") > 0
        # the owner token never travelled in a request URL
        token = owner_link.split("#org=", 1)[1]
        assert token not in " ".join(console.lines)
        assert not console.csp_or_script_errors(), console.lines
    finally:
        ctx.close()


def test_owner_token_stays_in_the_fragment_and_header(
    server: str, browser: Any
) -> None:
    ctx, pg, console = _new_page(browser)
    urls: list[str] = []
    tokens: list[str | None] = []
    pg.on("request", lambda r: urls.append(r.url))
    pg.on(
        "request",
        lambda r: (
            tokens.append(r.headers.get("x-organisation-token"))
            if "/v1/organisations/" in r.url
            else None
        ),
    )
    try:
        link = create_organisation(pg, server, "Header GmbH")
        token = link.split("#org=", 1)[1]
        assert not any(token in u for u in urls)
        assert token in tokens
        # a wrong token: said in words, no workspace
        pg.goto(link[:-3] + "xyz")
        pg.reload()
        pg.wait_for_selector("#org-error")
        assert "not valid" in pg.inner_text("#org-error")
        # an invalid invitation link
        pg.goto(server + "#respond=" + "0" * 32 + "." + "1" * 32 + ".nope")
        pg.reload()
        pg.wait_for_selector("#respond-error")
        assert not console.csp_or_script_errors(), console.lines
    finally:
        ctx.close()


def test_respondent_sections_drafts_and_errors_in_german(
    server: str, browser: Any
) -> None:
    ctx, pg, console = _new_page(browser)
    try:
        pg.goto(server)
        pg.click(".lang-switch button[data-lang=de]")
        pg.wait_for_selector("#org-entry-link")
        assert "Organisations-Arbeitsbereich" in pg.inner_text("#org-entry-link")
        pg.click("#org-entry-link")
        pg.wait_for_selector("#create-form")
        pg.click("#create-btn")  # nothing filled in: the fields are named
        pg.wait_for_selector("#err-org-name:not([hidden])")
        assert "erforderlich" in pg.inner_text("#err-org-name")
        assert pg.locator(".has-error").count() >= 4  # name and the profile
        pg.fill("#org-name", "Beispiel AG")
        pg.select_option("#profile-industry", "C")
        pg.check("#profile-size-50-249")
        pg.select_option("#profile-country", "DE")
        pg.check("#profile-consent-yes")
        pg.click("#create-btn")
        pg.wait_for_selector("#owner-link")
        assert "Bewahren Sie diesen Link auf" in pg.inner_text("#owner-link-box")
        link = invite(pg, "Service", ("listening",))
        # the respondent: only their section; submitting with gaps names the questions
        rctx, rpg, rconsole = _new_page(browser)
        try:
            rpg.goto(server)
            rpg.click(".lang-switch button[data-lang=de]")
            rpg.goto(link)
            rpg.reload()
            rpg.wait_for_selector("#respond-form")
            assert rpg.locator("#respond-form section").count() == 1
            first = rpg.locator("#respond-form .question").first
            first.locator("input[type=radio]").first.check()
            rpg.click("#respond-draft")
            rpg.wait_for_function(
                "() => /Entwurf gespeichert/.test("
                "document.querySelector('#respond-status').textContent)"
            )
            rpg.click("#respond-submit")
            rpg.wait_for_selector("#respond-form .has-error")
            assert "erforderlich" in rpg.inner_text(
                "#respond-form .has-error .field-error"
            )
            assert rpg.locator("#respond-form .has-error").count() == (
                rpg.locator("#respond-form .question").count() - 1
            )
            # the draft was kept: a reload shows the answer
            rpg.reload()
            rpg.wait_for_selector("#respond-form")
            assert rpg.locator("#respond-form input[type=radio]:checked").count() == 1
            assert not rconsole.csp_or_script_errors(), rconsole.lines
        finally:
            rctx.close()
        reload_workspace(pg)
        assert "Entwurf gespeichert" in pg.inner_text("#respondents")
        assert not console.csp_or_script_errors(), console.lines
    finally:
        ctx.close()


def test_accessibility_axe_on_the_organisation_pages(server: str, browser: Any) -> None:
    # axe is injected as an inline script, which the page's CSP forbids: bypass it here only
    ctx, pg, _ = _new_page(browser, bypass_csp=True)
    try:
        pg.goto(server)
        pg.click("#org-entry-link")
        pg.wait_for_selector("#create-form")
        run_axe(pg, "create organisation")
        link = create_organisation(pg, server, "Axe GmbH")
        invite_link = invite(pg, "Marketing")
        respond(browser, invite_link, "mid")
        reload_workspace(pg)
        pg.select_option("#target-phase", "4")
        pg.click("#target-save")
        pg.wait_for_selector("#roadmap tbody tr")
        run_axe(pg, "workspace")
        pg.goto(invite_link)
        pg.reload()
        pg.wait_for_selector("#respond-form")
        run_axe(pg, "respondent")
        assert link
    finally:
        ctx.close()


def test_the_api_agrees_with_the_page(server: str, browser: Any) -> None:
    """What the workspace shows is what the API answers (the owner's token as header)."""
    ctx, pg, _ = _new_page(browser)
    try:
        link = create_organisation(pg, server, "Agree GmbH")
        token = link.split("#org=", 1)[1]
        oid = token.split(".")[0]
        r = requests.get(
            f"{server}v1/organisations/{oid}",
            headers={"X-Organisation-Token": token},
            timeout=10,
        )
        assert r.status_code == 200 and r.json()["name"] == "Agree GmbH"
        assert "Agree GmbH" in pg.inner_text("#org-title")
    finally:
        ctx.close()


def test_the_workspace_fits_a_375px_screen(server: str, browser: Any) -> None:
    ctx, pg, console = _new_page(browser)
    try:
        link = create_organisation(pg, server, "Schmal GmbH")
        respond(browser, invite(pg, "Marketing"), "mid")
        ctx2, small, _ = _new_page(browser, width=375, height=800)
        try:
            small.goto(link)
            small.wait_for_selector("#org-result")
            small.select_option("#target-phase", "4")
            small.click("#target-save")
            small.wait_for_selector("#roadmap tbody tr")
            width = small.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"horizontal overflow: scrollWidth {width} > 375"
        finally:
            ctx2.close()
        assert not console.csp_or_script_errors(), console.lines
    finally:
        ctx.close()
