"""Roadmap exports (chalicelib/exports/roadmap_export.py, docs/ROADMAP.md): the XLSX
Roadmap and History sheets read back with openpyxl (steps, owners, quarters, the gap, the
version mark, line charts, page setup), the PDF pages as pdftotext prints them, and the CLI
``export roadmap``."""

from __future__ import annotations

import io
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from chalicelib import roadmap as rm
from chalicelib.config import Settings
from chalicelib.container import Container
from chalicelib.errors import InvalidInput
from chalicelib.questionnaire import get_catalog
from chalicelib.request_models import SubmissionIn
from chalicelib.storage.sqlite import SqliteStore
from tests import orgs
from tests.conftest import ROOT
from tests.tools import require

ISO_DATE = r"\b(19|20)\d\d-\d\d(-\d\d)?\b"
CATALOG = get_catalog(str(ROOT / "questionnaires"))
Q1, Q2 = CATALOG.get("smm", "1.0.0"), CATALOG.get("smm", "2.0.0")
DAYS = [
    datetime(2026, 3, 2, 10, tzinfo=UTC),
    datetime(2026, 9, 14, 10, tzinfo=UTC),
    datetime(2027, 3, 1, 10, tzinfo=UTC),
]
NOW = datetime(2027, 3, 5, 9, tzinfo=UTC)
OWNER = "Leitung Kundenservice"


class World:
    """A SQLite store with the reference cohort and one organisation assessed three times
    (1.0.0, 1.0.0, 2.0.0), each round linked to the one before (previous_token)."""

    def __init__(self, root: Path) -> None:
        self.when = [DAYS[0]]
        self.root = root
        self.path = str(root / "roadmap.sqlite3")
        self.store = SqliteStore(self.path)
        parts = Container(
            store=self.store,
            catalog=CATALOG,
            settings=Settings(secret=b"roadmap-test", k_min=5),
            clock=lambda: self.when[0],
        )
        self.parts = parts
        parts.benchmarks.seed_reference(Q2, 300, 1)
        parts.benchmarks.seed_reference(Q1, 300, 1)
        token: str | None = None
        answers = [
            (Q1, orgs.build(Q1, orgs.worst)),
            (Q1, orgs.middling(Q1)),
            (Q2, orgs.up_to_phase(Q2, 2, ("foundation",))),
        ]
        self.tokens: list[str] = []
        for day, (q, a) in zip(DAYS, answers, strict=True):
            self.when[0] = day
            done = parts.assessments.submit(
                SubmissionIn.model_validate(
                    {"version": q.version, "answers": a, "previous_token": token}
                )
            )
            token = done.view.token
            assert token is not None
            self.tokens.append(token)
        self.when[0] = NOW
        self.last = self.store.get_assessment(token.split(".")[0])
        assert self.last is not None and self.last.previous_id is not None
        self.answers = answers[-1][1]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("roadmap"))
    yield w
    w.store.close()


def target() -> rm.Target:
    return rm.Target(
        phase=4,
        tier="formation",
        dimensions={"crisis": 70},
        start_quarter="2027-Q2",
        pace=2,
        assignments={
            "round_the_clock_monitoring": rm.Assignment(OWNER, "2027-Q4"),
            "crisis_drills": rm.Assignment("PR-Team"),
        },
    )


def export(world: World, fmt: str, lang: str, **kw: Any) -> Any:
    from chalicelib.exports.roadmap_export import assessment_roadmap

    assert world.last is not None
    return assessment_roadmap(
        world.parts.exports,
        world.last,
        target(),
        fmt,
        lang,
        {"source": "reference"},
        **kw,
    )


def expected_steps(lang: str) -> list[rm.Step]:
    return rm.roadmap(Q2, WORLD_ANSWERS, target(), language=lang, today=NOW.date())


WORLD_ANSWERS = orgs.up_to_phase(Q2, 2, ("foundation",))


@pytest.mark.parametrize("lang", ["de", "en"])
def test_xlsx_roadmap_and_history_sheets(world: World, lang: str) -> None:
    e = export(world, "xlsx", lang, label="Muster GmbH")
    assert e.filename.endswith(f"-{lang}.xlsx") and e.is_binary
    wb = load_workbook(io.BytesIO(e.body))
    names = {"de": ["Roadmap", "Verlauf"], "en": ["Roadmap", "History"]}[lang]
    assert wb.sheetnames == names
    ws = wb[names[0]]
    cells = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    flat = [str(c) for row in cells for c in row if c is not None]
    assert any("Muster GmbH" in c for c in flat)
    head = next(i for i, row in enumerate(cells) if row[0] in ("Rang", "Rank"))
    steps = expected_steps(lang)
    rows = [r for r in cells[head + 1 :] if isinstance(r[0], (int, float))]
    assert len(rows) == len(steps) > 10
    for row, s in zip(rows, steps, strict=True):
        assert row[0] == s.rank and row[3] == s.question
        assert row[5] == s.needed_label and row[9] == s.due_quarter
        assert (row[8] or "") == s.owner
        assert row[12] == s.question_id  # what an owner assignment names
    by_q = {r[3]: r for r in rows}
    monitor = Q2.question_index["round_the_clock_monitoring"].text.get(lang)
    assert by_q[monitor][8] == OWNER and by_q[monitor][9] == "2027-Q4"
    drills = Q2.question_index["crisis_drills"].text.get(lang)
    assert by_q[drills][8] == "PR-Team"
    auto = [r[9] for r in rows if r[3] != monitor]
    assert auto == [rm.add_quarters("2027-Q2", i // 2) for i in range(len(auto))]
    # the gap: phase 2 -> 4, the pyramid, the crisis dimension
    gap_head = next(
        i for i, row in enumerate(cells) if row[2] in ("Kennzahl", "Metric")
    )
    gap = {r[2]: r for r in cells[gap_head + 1 : gap_head + 4]}
    phase = gap[{"de": "Phase", "en": "Phase"}[lang]]
    assert str(phase[3]).startswith("2: ") and str(phase[4]).startswith("4: ")
    assert phase[5] == "2"
    # page setup as the other sheets: A4 landscape, one page wide, header row repeated
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"
    # (OOXML's default for fitToWidth / fitToHeight is 1: xlsxwriter leaves it out)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth or 1) == 1 and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows.replace("$", "") == f"{head + 1}:{head + 1}"
    hs = wb[names[1]]
    hist = list(hs.iter_rows(values_only=True))
    assert (
        hs.print_title_rows.replace("$", "") == "1:1"
        and hs.sheet_properties.pageSetUpPr.fitToPage
    )
    assert (hs.page_setup.fitToHeight or 1) == 1 == (hs.page_setup.fitToWidth or 1)
    data = [r for r in hist[1:4]]
    assert [r[1] for r in data] == ["2026-03-02", "2026-09-14", "2027-03-01"]
    assert [r[2] for r in data] == ["1.0.0", "1.0.0", "2.0.0"]
    mark = {"de": "neue Version 2.0.0", "en": "new version 2.0.0"}[lang]
    assert [r[3] for r in data] == [None, None, mark]
    assert mark in str(data[2][0]) and mark not in str(data[1][0])
    # the overall percentile rank of each round in its (reference) cohort
    from chalicelib.exports.roadmap_export import rounds_of

    assert world.last is not None
    ranks = [
        r.percentile
        for r in reversed(
            rounds_of(world.parts.exports, world.last, lang, {"source": "reference"})
        )
    ]
    assert [r[7] for r in data] == ranks and None not in ranks
    with zipfile.ZipFile(io.BytesIO(e.body)) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 2
        assert all(b"<c:lineChart>" in z.read(n) for n in charts)


def pages_text(pdf: bytes, tmp: Path) -> list[str]:
    exe = require("pdftotext")
    path = tmp / "roadmap.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        [exe, "-layout", str(path), "-"], check=True, capture_output=True, timeout=60
    ).stdout.decode()
    return out.split("\f")[: len(PdfReader(io.BytesIO(pdf)).pages)]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_pdf_roadmap_report(world: World, lang: str, tmp_path: Path) -> None:
    import re

    e = export(world, "pdf", lang)
    assert e.body.startswith(b"%PDF-")
    pages = pages_text(e.body, tmp_path)
    assert len(pages) >= 2
    for p in pages:
        assert len([line for line in p.splitlines() if line.strip()]) >= 6
    flat = " ".join("\n".join(pages).split())
    assert not re.search(ISO_DATE, flat), re.search(ISO_DATE, flat)
    title = {"de": "Ziel und Roadmap", "en": "Target and roadmap"}[lang]
    assert title in pages[0]
    mark = {"de": "neue Version 2.0.0", "en": "new version 2.0.0"}[lang]
    assert mark in pages[0]  # the version change on the history chart
    for month in {"de": ("März 2026", "September 2026", "März 2027")}.get(
        lang, ("March 2026", "September 2026", "March 2027")
    ):
        assert month in pages[0]
    steps = expected_steps(lang)
    for s in steps:
        assert s.due_quarter in flat
        words = " ".join(s.question.split()[:4])
        assert words in flat, words
    assert OWNER.split()[0] in flat and "PR-Team" in flat
    open_owner = {"de": "offen", "en": "open"}[lang]
    assert flat.count(open_owner) >= len(steps) - 2
    blocks = {"de": "blockiert das Ziel", "en": "blocks the target"}[lang]
    from chalicelib.exports.model import Labels

    in_note = Labels(lang).text("roadmap_note").count(blocks)
    assert flat.count(blocks) - in_note == sum(
        1 for s in steps if s.kind == rm.BLOCKING
    )


def test_formats_and_history_off(world: World) -> None:
    with pytest.raises(InvalidInput) as exc:
        export(world, "csv", "en", format_pointer="/format")
    assert exc.value.errors[0][0] == "/format"
    e = export(world, "xlsx", "en", with_history=False)
    hs = load_workbook(io.BytesIO(e.body))["History"]
    assert [r for r in hs.iter_rows(min_row=2, values_only=True) if r[1]] == []


def test_rounds_follow_the_previous_links(world: World) -> None:
    from chalicelib.exports.roadmap_export import rounds_of

    assert world.last is not None
    rounds = rounds_of(world.parts.exports, world.last, "en", {"source": "reference"})
    assert [r.questionnaire.version for r in rounds] == ["2.0.0", "1.0.0", "1.0.0"]
    points = rm.history(rounds)
    assert [p.date for p in points] == ["2026-03-02", "2026-09-14", "2027-03-01"]
    assert [p.version_changed for p in points] == [False, False, True]
    assert points[-1].phase == 2


# --- CLI ----------------------------------------------------------------------------------
def test_cli_roadmap(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from chalicelib.export_cli import main

    monkeypatch.setenv("STORE", "sqlite")
    monkeypatch.setenv("SQLITE_PATH", world.path)
    monkeypatch.setenv("DATA_DIR", str(world.root))
    token = world.tokens[-1]
    aid = token.split(".")[0]
    out = tmp_path / "roadmap.xlsx"
    args = (
        f"export roadmap --id {aid} --token {token} --format xlsx --lang de -o {out} "
        "--phase 4 --tier formation --dimension crisis=70 --start-quarter 2027-Q2 "
        "--pace 2 --due round_the_clock_monitoring=2027-Q4 --source reference"
    ).split() + ["--owner", f"round_the_clock_monitoring={OWNER}"]
    assert main(args) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "wrote" in err and token.split(".")[1] not in err
    ws = load_workbook(out)["Roadmap"]
    flat = [c for row in ws.iter_rows(values_only=True) for c in row if c]
    assert OWNER in flat and "2027-Q4" in flat and "2027-Q2" in flat
    bad = [
        (["--phase", "9"], "phase"),
        (["--tier", "roof"], "tier"),
        (["--phase", "3", "--start-quarter", "2027-5"], "start_quarter"),
        (["--dimension", "luck=50"], "luck: not a dimension"),
        (["--dimension", "crisis"], "--dimension"),
        (["--phase", "3", "--due", "goals_alignment=Q1"], "due_quarter"),
        ([], "set a target"),
    ]
    for extra, field in bad:
        rc = main(
            f"export roadmap --id {aid} --token {token} --format pdf -o {out}".split()
            + extra
        )
        err = capsys.readouterr().err
        assert rc == 2 and field in err, (extra, err)
    rc = main(
        f"export roadmap --id {aid} --token {aid}.wrong --format pdf -o {out} --phase 3".split()
    )
    assert rc == 1
    assert capsys.readouterr().err.strip() == "error: unknown assessment or wrong token"


def test_history_from_given_records(world: World) -> None:
    """An organisation's rounds (records it names) instead of the previous_id chain."""
    first = world.store.get_assessment(world.tokens[0].split(".")[0])
    assert first is not None and world.last is not None
    e = export(world, "xlsx", "en", history_records=[world.last, first], label="Org A")
    hs = load_workbook(io.BytesIO(e.body))["History"]
    rows = [r for r in hs.iter_rows(min_row=2, values_only=True) if r[1]]
    assert [r[1] for r in rows] == ["2026-03-02", "2027-03-01"]  # by date
    assert [r[3] for r in rows] == [None, "new version 2.0.0"]


def test_reached_target_and_a_single_round(tmp_path: Path) -> None:
    """Built from a result directly (as the organisation routes do): a reached target
    has no steps and says so on page 1; one round draws its points and says the history
    starts with the next one."""
    from datetime import date

    from chalicelib import scoring
    from chalicelib.exports.model import Labels
    from chalicelib.exports.roadmap_export import roadmap_file
    from chalicelib.exports.roadmap_report import build_roadmap_report

    answers = orgs.build(Q2, orgs.best)
    lab = Labels("en")
    result = scoring.score(Q2, answers, "en")
    t = rm.Target(phase=5)
    steps = rm.roadmap(Q2, answers, t, today=date(2026, 12, 3))
    assert steps == []
    report = build_roadmap_report(
        Q2,
        result,
        t,
        steps,
        lab,
        name="Best AG",
        completed="2026-11-30",
        today="2026-12-03",
        history=rm.history([rm.Round("2026-11-30", Q2, result, None)]),
    )
    assert report.reached and report.start_quarter == "2027-Q1"
    pdf = roadmap_file(report, "pdf", lab)
    assert pdf.filename == "smm-roadmap-en.pdf"
    pages = pages_text(pdf.body, tmp_path)
    assert len(pages) == 1
    flat = " ".join(pages[0].split())
    assert lab.text("no_steps") in flat and "November 2026" in flat
    assert lab.text("no_history") in flat and "reached" in flat
    wb = load_workbook(io.BytesIO(roadmap_file(report, "xlsx", lab).body))
    cells = [c for row in wb["Roadmap"].iter_rows(values_only=True) for c in row if c]
    assert lab.text("no_steps") in cells and "Best AG" in " ".join(map(str, cells))
