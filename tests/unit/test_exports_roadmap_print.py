"""The roadmap workbook as printed by LibreOffice headless (as tests/unit/test_exports_print.py
does for the other workbooks): the Roadmap sheet one page wide with its steps' header row on
every page and every owner and due quarter shown; the History sheet, with both charts, on
one page with the version mark."""

from __future__ import annotations

import subprocess
from pathlib import Path

from chalicelib.exports.model import labels
from tests.tools import require
from tests.unit.test_exports_print import Printed
from tests.unit.test_exports_roadmap import OWNER, World, expected_steps, export, world

__all__ = ["world"]  # the module-scoped fixture


def test_roadmap_workbook_prints(world: World, tmp_path: Path) -> None:
    soffice = require("soffice")
    (tmp_path / "roadmap.xlsx").write_bytes(export(world, "xlsx", "de").body)
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "pdf"),
            str(tmp_path / "roadmap.xlsx"),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    p = Printed(tmp_path / "pdf" / "roadmap.pdf")
    lab = labels("de")
    road, hist = lab.sheet("roadmap"), lab.sheet("history")
    assert list(p.count) == [road, hist]
    assert p.count[hist] == 1  # the table and both charts on one page
    steps = expected_steps("de")
    assert 1 <= p.count[road] <= 1 + len(steps) // 8
    for page, sheet in zip(p.pages, p.sheets, strict=True):
        if sheet == road:  # the steps' header row repeated on every page
            assert lab.column("owner") in page and "Fällig" in page
    text = p.sheet(road)
    for s in steps:
        assert s.due_quarter in text
    assert OWNER in text and "PR-Team" in text
    history = p.sheet(hist)
    assert "neue Version 2.0.0" in history
    assert lab.text("history_chart_scores") in history
    assert lab.text("history_chart_levels") in history
