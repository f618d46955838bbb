"""The embedded store keeps what it accepted across a restart (a new process opening the file)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_assessment_survives_reopen(
    tmp_path, catalog, settings, complete_answers
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.assessments import AssessmentService
    from chalicelib.request_models import SubmissionIn
    from chalicelib.storage.sqlite import SqliteStore

    path = str(tmp_path / "durable.sqlite3")
    s1 = SqliteStore(path)
    done = AssessmentService(s1, catalog, settings).submit(
        SubmissionIn(answers=complete_answers)
    )
    s1.close()
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from chalicelib.storage.sqlite import SqliteStore\n"
        f"r = SqliteStore({path!r}).get_assessment({done.view.id!r})\n"
        "print(r.metrics['overall'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert int(out.stdout.strip()) == done.view.score.overall


def test_counters_of_the_first_layout_are_migrated_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A file written before aggregates were one row per cohort (table ``aggregates``, one
    row per counter): the record-less reference cohort's counters become its cell
    aggregates when the store opens it, once, and the table is dropped."""
    import sqlite3

    from chalicelib.aggregation import CellKey, Grid
    from chalicelib.cohorts import Cohort
    from chalicelib.storage.sqlite import SqliteStore
    from tests.cells import cell, histograms

    path = str(tmp_path / "old.sqlite3")
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE aggregates (
            source TEXT NOT NULL, questionnaire TEXT NOT NULL, version TEXT NOT NULL,
            cohort TEXT NOT NULL, field TEXT NOT NULL, value INTEGER NOT NULL,
            PRIMARY KEY (source, questionnaire, version, cohort, field)
        ) WITHOUT ROWID;
        INSERT INTO aggregates VALUES
            ('reference', 'smm', '1.0.0', 'C#*#*', 'count', 3),
            ('reference', 'smm', '1.0.0', 'C#*#*', 'm#overall#40', 2),
            ('reference', 'smm', '1.0.0', 'C#*#*', 'm#overall#100', 1),
            ('reference', 'smm', '1.0.0', 'C#*#*', 'm#phase#7', 3),
            ('reference', 'smm', '1.0.0', 'C#*#*', 'month#2026-10', 3),
            ('reference', 'smm', '1.0.0', 'J#*#*', 'count', 0),
            ('reference', 'smm', '1.0.0', 'J#*#*', 'm#overall#5', 0);
        """
    )
    old.close()

    store = SqliteStore(path)
    got = cell(store, "reference", "smm", "1.0.0", "C#*#*")
    assert (got.count, got.changes) == (3, 3)
    assert histograms(got) == {"overall": {40: 2, 100: 1}, "phase": {7: 3}}
    assert got.months == {"2026-10": 3}
    empty = cell(store, "reference", "smm", "1.0.0", "J#*#*")
    assert empty.count == 0 and histograms(empty) == {"overall": {}}
    tables = {
        r[0]
        for r in store._conn().execute(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    }
    assert not tables & {"aggregates", "cohort_aggregates"}
    assert set(store.read_grid(Grid("reference", "smm", "1.0.0"))) == {
        CellKey("all", Cohort("C", "*", "*")),
        CellKey("all", Cohort("J", "*", "*")),
    }
    store.close()
    again = SqliteStore(path)  # reopening does not fold anything twice
    assert cell(again, "reference", "smm", "1.0.0", "C#*#*").count == 3
    again.close()
