"""Regenerate the screenshots in docs/WEB.md: ``make web-screenshots``.

Starts ``chalice local`` on a free 127.0.0.1 port (tests.e2e.server.local_server: embedded
SQLite in a temporary directory, a synthetic reference cohort of 300 organisations, example
imprint and privacy links), drives Debian's Chromium through Playwright (never
``playwright install``; another browser via ``CHROMIUM``) and writes the PNGs named in
``SHOTS`` to docs/screenshots/web/ (or the directory given with ``--out``)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots" / "web"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic"]

# file name -> what it shows (docs/WEB.md embeds each of them)
SHOTS = {
    "intro-de.png": "the start page in German, with the footer's imprint and privacy links",
    "section-de.png": "a questionnaire section with progress and the overview of sections",
    "consent-de.png": "the consent question and what enters the benchmark",
    "result-en.png": "the top of the result: key figures, re-assessment and report buttons",
    "ladder-en.png": "the engagement ladder: how close the next phase is",
    "benchmark-en.png": "the peer comparison with its percentile wording",
    "progress-en.png": "a re-assessment: the change per metric and in the peer ranking",
    "radar-390-de.png": "the six areas on a 390 px phone in German: every radar label visible",
    "org-gap-en.png": "an organisation's perception gap: where three respondents disagree",
    "org-roadmap-en.png": "the top of the roadmap: steps, owner and due quarter",
    "org-history-en.png": "the history of two rounds: scores, peer percentile, phase and level",
}

ANSWER = """(mode) => {
    for (const box of document.querySelectorAll('#respond-form .question')) {
        const radios = [...box.querySelectorAll('input[type=radio]')]
            .filter((r) => !r.closest('.option').classList.contains('option-neutral'));
        const i = mode === 'low' ? 0 : mode === 'high' ? radios.length - 1
            : Math.floor((radios.length - 1) / 2);
        radios[i].click();
    }
}"""

FILL = """(answers) => {
    for (let guard = 0; guard < 50; guard++) {
        document.querySelectorAll('#qform .question').forEach((box, i) => {
            const qid = box.dataset.qid;
            const select = box.querySelector('select');
            const want = answers && answers[qid];
            if (select) {
                if (want) select.value = want; else select.selectedIndex = 1 + ((i * 2 + 1) % (select.options.length - 1));
                select.dispatchEvent(new Event('change', {bubbles: true}));
                return;
            }
            const radios = box.querySelectorAll('input[type=radio]');
            const el = want ? document.getElementById(`o-${qid}-${want}`) : radios[(i * 2 + 1) % radios.length];
            el.click();
        });
        if (document.querySelector('#submit-btn')) return;
        document.querySelector('#next-btn').click();
    }
    throw new Error('no last section');
}"""


def phase_two(questionnaire: dict[str, Any]) -> dict[str, str]:
    """Second option everywhere; phase 3 short by two signs, phases 4-7 at the worst option
    (the organisation stands at phase 2 and sees what phase 3 needs)."""
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


def second(questionnaire: dict[str, Any]) -> dict[str, str]:
    return {
        x["id"]: x["options"][min(1, len(x["options"]) - 1)]["id"]
        for s in questionnaire["sections"]
        for x in s["questions"]
    }


def capture(base: str, out: Path) -> list[Path]:
    import requests
    from playwright.sync_api import sync_playwright

    q = requests.get(f"{base}v1/questionnaires/smm/latest?lang=en", timeout=10).json()
    written: list[Path] = []

    def save(target: Any, name: str, **kw: Any) -> None:
        assert name in SHOTS, name
        path = out / name
        target.screenshot(path=str(path), **kw)
        written.append(path)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)

        def start(width: int, height: int, locale: str) -> tuple[Any, Any]:
            """A fresh context at this size and locale, on the start page."""
            ctx = browser.new_context(
                viewport={"width": width, "height": height}, locale=locale
            )
            ctx.set_default_timeout(30_000)
            pg = ctx.new_page()
            pg.goto(base)
            pg.wait_for_selector("#start-btn")
            return ctx, pg

        try:
            ctx, pg = start(1200, 860, "de-DE")
            pg.wait_for_selector("#imprint-link")
            save(pg, "intro-de.png", full_page=True)
            pg.click("#start-btn")
            pg.wait_for_selector("#section-title")
            pg.evaluate(
                """() => { const b = document.querySelectorAll('#qform .question input[type=radio]');
                b[1].click(); }"""
            )
            pg.click("#toc summary")
            save(pg, "section-de.png")
            pg.locator("#toc .toc-item").last.click()
            pg.wait_for_selector("#consent-details")
            save(pg.locator("#q-consent"), "consent-de.png")
            ctx.close()

            ctx, pg = start(1200, 900, "en-GB")
            pg.click("#start-btn")
            pg.wait_for_selector("#section-title")
            pg.evaluate(FILL, phase_two(q))
            pg.click("#submit-btn")
            pg.wait_for_selector("#result-title")
            pg.wait_for_selector("#bench-chart")
            pg.wait_for_function(
                "() => window.Chart && Chart.getChart(document.querySelector('#bench-chart'))"
            )
            save(pg, "result-en.png")
            save(pg.locator("#ladder"), "ladder-en.png")
            save(pg.locator("#benchmark"), "benchmark-en.png")
            pg.click("#reassess-btn")
            pg.wait_for_selector("#section-title")
            pg.evaluate(FILL, second(q))
            pg.click("#submit-btn")
            pg.wait_for_selector("#result-title")
            pg.wait_for_function(
                "() => window.Chart && Chart.getChart(document.querySelector('#progress-rank-chart'))"
            )
            save(pg.locator("#progress-panel"), "progress-en.png")
            ctx.close()

            ctx, pg = start(390, 844, "de-DE")
            pg.click("#start-btn")
            pg.wait_for_selector("#section-title")
            pg.evaluate(FILL, None)
            pg.click("#submit-btn")
            pg.wait_for_selector("#result-title")
            pg.wait_for_function(
                "() => window.Chart && Chart.getChart(document.querySelector('#radar'))"
            )
            pg.wait_for_selector("#bench-chart")
            save(pg.locator("#dimensions"), "radar-390-de.png")
            ctx.close()

            organisation(start, save)
        finally:
            browser.close()
    return written


def organisation(start: Any, save: Any) -> None:
    """An organisation workspace: three respondents (through their links), a target, a
    step's owner and quarter, two closed rounds."""
    ctx, pg = start(1200, 900, "en-GB")
    pg.click("#org-entry-link")
    pg.wait_for_selector("#create-form")
    pg.fill("#org-name", "Acme GmbH")
    pg.select_option("#profile-industry", "C")
    pg.check("#profile-size-50-249")
    pg.select_option("#profile-country", "DE")
    pg.check("#profile-consent-yes")
    pg.click("#create-btn")
    pg.wait_for_selector("#owner-link")
    links = []
    for i, role in enumerate(("Marketing", "Service", "IT")):
        pg.fill("#invite-role", role)
        pg.click("#invite-btn")
        pg.wait_for_selector(f"#invite-link-{i}")
        links.append(pg.input_value(f"#invite-link-{i}"))

    def answer_round(modes: tuple[str, ...]) -> None:
        for link, mode in zip(links, modes, strict=True):
            rctx, rpg = start(1200, 900, "en-GB")
            rpg.goto(link)
            rpg.wait_for_selector("#respond-form")
            rpg.evaluate(ANSWER, mode)
            rpg.click("#respond-submit")
            rpg.wait_for_function(
                "() => /submitted/.test(document.querySelector('#respond-status').textContent)"
            )
            rctx.close()
        pg.reload()
        pg.wait_for_selector("#org-result")

    answer_round(("low", "mid", "high"))
    pg.select_option("#target-phase", "5")
    pg.select_option("#target-tier", "enablement")
    pg.fill("#target-dim-crisis", "80")
    pg.click("#target-save")
    pg.wait_for_selector("#roadmap tbody tr")
    pg.fill("#step-owner-1", "Head of Service")
    pg.fill("#step-due-1", "2027-Q3")
    pg.click("#step-save-1")
    pg.wait_for_function(
        "() => /saved/.test(document.querySelector('#roadmap-status').textContent)"
    )
    save(pg.locator("#gap-sections"), "org-gap-en.png")
    # the first six steps only (the page lists every step)
    pg.evaluate(
        "() => document.querySelectorAll('#roadmap tbody tr')"
        ".forEach((tr, i) => { tr.hidden = i >= 6; })"
    )
    save(pg.locator("#roadmap-box"), "org-roadmap-en.png")
    pg.click("#close-round")
    pg.wait_for_function(
        "() => /is closed/.test(document.querySelector('#close-status').textContent)"
    )
    answer_round(("mid", "high", "high"))
    pg.click("#close-round")
    pg.wait_for_function(
        "() => /Round 2 is closed/.test(document.querySelector('#close-status').textContent)"
    )
    pg.wait_for_function(
        "() => window.Chart && Chart.getChart(document.querySelector('#history-chart'))"
    )
    save(pg.locator("#history-box"), "org-history-en.png")
    ctx.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where the PNGs go")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    from tests.e2e.server import local_server

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="smm-shots-") as data:
        env = {
            "DATA_DIR": data,
            "STORE": "sqlite",
            "PYTHONDONTWRITEBYTECODE": "1",
            "IMPRINT_URL": "https://operator.example/impressum",
            "PRIVACY_URL": "https://operator.example/datenschutz",
        }
        subprocess.run(
            [sys.executable, "-m", "chalicelib.cli", "seed-reference", "--size", "300"],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
            timeout=300,
        )
        with local_server(env) as base:
            written = capture(base + "/", args.out)
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
