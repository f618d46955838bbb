"""The XLSX exports as printed (issue 16, exports): each workbook converted to PDF by
LibreOffice headless (Debian ``libreoffice-calc-nogui``), then checked page by page with
pdftotext: pages per sheet (one page wide, chart sheets on one page, so no chart spans a
page break), every wrapped text shown whole (row heights), headers and the synthetic-data
banner not cut."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from chalicelib.exports.model import labels
from tests.tools import require
from tests.unit.test_exports_pages import Reports


def flat(text: str) -> str:
    return " ".join(text.split())


class Printed:
    """Every page's text of a workbook printed by LibreOffice, and the sheet it belongs to
    (the running header names the sheet)."""

    def __init__(self, pdf: Path) -> None:
        exe = require("pdftotext")
        n = len(PdfReader(str(pdf)).pages)
        self.pages: list[str] = []
        self.sheets: list[str] = []
        for i in range(1, n + 1):
            text = subprocess.run(
                [exe, "-f", str(i), "-l", str(i), str(pdf), "-"],
                check=True,
                capture_output=True,
                timeout=60,
            ).stdout.decode()
            self.pages.append(text)
            self.sheets.append(next(line for line in text.splitlines() if line.strip()))
        self.count = Counter(self.sheets)

    def sheet(self, name: str) -> str:
        return flat(" ".join(p for p, s in zip(self.pages, self.sheets) if s == name))


@pytest.fixture(scope="module")
def printed(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, tuple[Printed, Reports]]]:
    soffice = require("soffice")
    root = tmp_path_factory.mktemp("print")
    reports = Reports(root)
    records = list(reports.records.values())
    names = {r.id: f"Kunde {i:02d} Müller GmbH" for i, r in enumerate(records)}
    files = {
        "assessment": reports.exports.assessment(
            reports.records["bahn_chefticket"], "xlsx", "de"
        ).body,
        "clients": reports.exports.side_by_side(
            records, "xlsx", "en", display_labels=names
        ).body,
        "cohorts": reports.exports.cohort_table(
            "smm", None, "industry", "xlsx", "de", {"source": "reference"}
        ).body,
    }
    for name, body in files.items():
        (root / f"{name}.xlsx").write_bytes(body)
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{root / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(root / "pdf"),
            *[str(root / f"{name}.xlsx") for name in files],
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    yield {name: (Printed(root / "pdf" / f"{name}.pdf"), reports) for name in files}
    reports.store.close()


def test_assessment_workbook_prints_one_page_per_sheet(printed) -> None:  # type: ignore[no-untyped-def]
    p, reports = printed["assessment"]
    lab = labels("de")
    sheets = [lab.sheet(k) for k in ("overview", "comparison", "ladder")]
    sheets += [lab.sheet(k) for k in ("recommendations", "data", "methods")]
    assert list(p.count) == sheets  # in order, nothing else
    assert p.count == {s: 1 for s in sheets}, p.count  # was 20 to 29 pages per sheet
    # both charts are on the comparison sheet's single page: neither can be cut
    comparison = p.sheet(lab.sheet("comparison"))
    assert lab.text("radar_title") in comparison
    assert f"{lab.text('percentile_title')} – n = " in comparison
    words = comparison.split()
    for title in ("Abstand zum oberen Quartil", "Abstand zum Median", "Perzentilrang"):
        # headers not clipped: every line of a wrapped header is printed (a multi-line
        # cell's lines come out interleaved with its neighbours', so word by word)
        assert all(w in words for w in title.split()), title
    overview = p.sheet(lab.sheet("overview"))
    assert flat(lab.text("synthetic_banner")) in overview  # the whole banner
    # dates as readers write them (the two columns come out one after the other)
    assert "3. Dezember 2026" in overview and "2026-12-03" not in overview
    rec = reports.records["bahn_chefticket"]
    report = reports.exports.report(rec, "de")
    printed_recs = p.sheet(lab.sheet("recommendations"))
    assert report.recommendations
    for r in report.recommendations:  # every wrapped line shown: row heights fit
        assert flat(r.text) in printed_recs, r.text
    ladder = p.sheet(lab.sheet("ladder"))
    assert flat(lab.text("pyramid_note", threshold=report.tier_threshold)) in ladder


def test_side_by_side_workbook_prints_one_page_wide(printed) -> None:  # type: ignore[no-untyped-def]
    p, reports = printed["clients"]
    lab = labels("en")
    n = len(reports.records)
    assert p.count[lab.sheet("overview")] == 1
    assert p.count[lab.sheet("values")] == 1
    assert p.count[lab.sheet("percentiles")] == 1
    assert p.count[lab.sheet("methods")] == 1
    assert 1 <= p.count[lab.sheet("recommendations")] <= 1 + n // 4
    assert p.count[lab.sheet("data")] <= 1 + n // 4
    assert sum(p.count.values()) <= 6 + n // 2
    overview = p.sheet(lab.sheet("overview"))
    assert lab.text("chart_overall_percentile") in overview  # the chart on that page
    for i in range(n):
        assert f"Kunde {i:02d} Müller GmbH" in overview  # labels, not ids
    recs = p.sheet(lab.sheet("recommendations"))
    for rec in reports.records.values():
        for r in reports.exports.report(rec, "en").recommendations:
            assert flat(r.text) in recs, r.text


def test_cohort_workbook_prints_table_and_chart_on_one_page(printed) -> None:  # type: ignore[no-untyped-def]
    p, _ = printed["cohorts"]
    lab = labels("de")
    assert p.count == {lab.sheet("cohorts"): 1, lab.sheet("methods"): 1}, p.count
    page = p.sheet(lab.sheet("cohorts"))
    assert lab.text("chart_overall_median") in page
    assert "Erreichte Pyramidenstufe" in page and "Engagement-Phase" in page
