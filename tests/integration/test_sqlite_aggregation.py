"""The SQLite store's stream (issue 15, docs/STORAGE.md "Stream aggregation"): an outbox row
in the transaction of every insert and erasure, folded into ``cell_aggregates`` by
``aggregate_pending`` in one transaction, exactly once; refused rows become dead letters;
the service folds inline after each write (``AGGREGATE_INLINE``). Real SQLite files."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.aggregation import CellKey, Grid, image_of, parse_image
from chalicelib.cohorts import Cohort
from chalicelib.config import Settings
from chalicelib.container import Container
from chalicelib.records import Contribution, metric_bins
from chalicelib.request_models import SubmissionIn
from chalicelib.storage.sqlite import SqliteStore
from tests import orgs
from tests.cells import drain, of_records, stored_counts
from tests.conftest import SECRET
from tests.integration.test_store_contract import contribution, record

REAL = Grid("real", "smm", "1.0.0")
TOP = CellKey("all", Cohort())


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = SqliteStore(str(tmp_path / "agg.sqlite3"))
    yield s
    s.close()


def _rows(store: SqliteStore, table: str = "stream_outbox") -> list[tuple]:  # type: ignore[type-arg]
    with sqlite3.connect(store.path) as c:
        return c.execute(
            f"SELECT seq, item_id, op, old_image, new_image FROM {table} ORDER BY seq"
        ).fetchall()


def test_every_included_write_queues_one_row_in_its_transaction(store) -> None:  # type: ignore[no-untyped-def]
    kept, gone = record(1), record(2)
    excluded = record(3, included=False, exclusion_reasons=("no-consent",))
    for r in (kept, gone):
        assert store.create_assessment(r, contribution(r))
    assert (
        store.create_assessment(kept, contribution(kept)) is False
    )  # duplicate: no row
    assert store.create_assessment(excluded, None)  # contributes nothing: no row
    assert store.delete_assessment(gone, contribution(gone))
    assert store.delete_assessment(excluded, None)
    rows = _rows(store)
    assert [(r[1], r[2]) for r in rows] == [
        (kept.id, "insert"),
        (gone.id, "insert"),
        (gone.id, "remove"),
    ]
    assert json.loads(rows[2][3]) == image_of(gone)  # the stored record's image
    assert store.read_grid(REAL) == {}  # nothing folded yet
    assert store.pending_records() == 3
    run = store.aggregate_pending()
    assert (run.records, run.failures, run.more) == (3, (), False)
    assert run.applied == 3 * 8 and run.skipped == 0
    assert store.pending_records() == 0
    assert stored_counts(store.read_grid(REAL)) == of_records([kept], REAL)


def test_limit_folds_in_stream_order_and_reports_more(store) -> None:  # type: ignore[no-untyped-def]
    recs = [record(10 + i) for i in range(5)]
    for r in recs:
        store.create_assessment(r, contribution(r))
    first = store.aggregate_pending(limit=2)
    assert (first.records, first.more) == (2, True)
    assert store.read_grid(REAL)[TOP].count == 2
    assert store.read_grid(REAL)[TOP].applied == {"sqlite": 2}  # seq 1, 2, ...
    rest = store.aggregate_pending(limit=10)
    assert (rest.records, rest.more) == (3, False)
    assert store.read_grid(REAL)[TOP].count == 5
    with pytest.raises(ValueError, match="limit"):
        store.aggregate_pending(limit=0)


def test_replayed_rows_apply_nothing(store) -> None:  # type: ignore[no-untyped-def]
    recs = [record(20 + i, uses_social_media=i % 2 == 0) for i in range(4)]
    for r in recs:
        store.create_assessment(r, contribution(r))
    store.delete_assessment(recs[0], contribution(recs[0]))
    rows = _rows(store)
    drain(store)
    folded = store.read_grid(REAL)
    with sqlite3.connect(store.path) as c:  # a redelivery: the same rows again
        c.executemany(
            "INSERT INTO stream_outbox (seq, item_id, op, old_image, new_image)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    run = store.aggregate_pending()
    assert run.records == len(rows) and run.applied == 0 and run.skipped > 0
    assert store.read_grid(REAL) == folded
    assert stored_counts(folded) == of_records(recs[1:], REAL)


def test_refused_rows_become_dead_letters_and_do_not_block(store) -> None:  # type: ignore[no-untyped-def]
    never_added = record(30)
    with sqlite3.connect(store.path) as c:
        c.execute(
            "INSERT INTO stream_outbox (item_id, op, old_image) VALUES (?, 'remove', ?)",
            (never_added.id, json.dumps(image_of(never_added))),
        )
        c.execute(
            "INSERT INTO stream_outbox (item_id, op, new_image) VALUES ('x', 'insert', '{')"
        )
    later = record(31)
    store.create_assessment(later, contribution(later))
    run = store.aggregate_pending()
    assert run.records == 3 and set(run.failures) == {never_added.id, "x"}
    assert store.read_grid(REAL)[TOP].count == 1  # the row after them applied
    dead = store.dead_letters()
    assert [(d["seq"], d["item_id"]) for d in dead] == [(1, never_added.id), (2, "x")]
    assert "never added" in dead[0]["reason"]
    assert dead[1]["reason"].startswith("malformed")
    assert store.pending_records() == 0
    assert store.aggregate_pending().records == 0  # not retried forever


def test_a_crash_before_commit_applies_nothing_then_everything_once(  # type: ignore[no-untyped-def]
    store, monkeypatch
) -> None:
    recs = [record(40 + i, size="10-49" if i % 2 else "50-249") for i in range(6)]
    for r in recs[:3]:
        store.create_assessment(r, contribution(r))
    drain(store)
    before = store.read_grid(REAL)
    for r in recs[3:]:
        store.create_assessment(r, contribution(r))
    store.delete_assessment(recs[0], contribution(recs[0]))
    pending = _rows(store)
    original = SqliteStore._mark_folded

    def crash(self, c, last_seq, dead):  # type: ignore[no-untyped-def]
        original(self, c, last_seq, dead)  # states written, rows deleted ...
        raise RuntimeError("power cut before COMMIT")  # ... and never committed

    monkeypatch.setattr(SqliteStore, "_mark_folded", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        store.aggregate_pending()
    assert store.read_grid(REAL) == before
    assert _rows(store) == pending
    monkeypatch.setattr(SqliteStore, "_mark_folded", original)
    run = store.aggregate_pending()
    assert run.records == len(pending) and run.skipped == 0
    cells = store.read_grid(REAL)
    assert stored_counts(cells) == of_records(recs[1:], REAL)
    assert (cells[TOP].count, cells[TOP].changes, cells[TOP].removals) == (5, 7, 1)


def test_bulk_load_leaves_nothing_pending(store) -> None:  # type: ignore[no-untyped-def]
    recs = [record(50 + i, source="reference") for i in range(7)]
    cons = [replace(contribution(r), source="reference") for r in recs]
    store.bulk_load([], cons)
    assert store.pending_records() == 0
    ref = Grid("reference", "smm", "1.0.0")
    assert stored_counts(store.read_grid(ref)) == of_records(recs, ref)
    assert store.list_grids() == [ref]


def _legacy_rollups(c: sqlite3.Connection, cons: list[Contribution]) -> None:
    """The roll-up table a file of an earlier release holds: one row per stored cohort
    item (global shards and ``users:`` keys included), JSON with dense histograms."""
    c.execute(
        "CREATE TABLE cohort_aggregates (source TEXT NOT NULL, questionnaire TEXT NOT"
        " NULL, version TEXT NOT NULL, cohort TEXT NOT NULL, body TEXT NOT NULL,"
        " PRIMARY KEY (source, questionnaire, version, cohort)) WITHOUT ROWID"
    )
    items: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for con in cons:
        for key in con.item_keys():
            item = items.setdefault(
                (con.source, con.questionnaire_id, con.version, key),
                {"count": 0, "months": {}, "histograms": {}},
            )
            item["count"] += 1
            item["months"][con.month] = item["months"].get(con.month, 0) + 1
            for m, v in con.metrics.items():
                h = item["histograms"].setdefault(m, [0] * metric_bins(m))
                h[v] += 1
    c.executemany(
        "INSERT INTO cohort_aggregates VALUES (?, ?, ?, ?, ?)",
        [(*k, json.dumps(v)) for k, v in items.items()],
    )


def _tables(path: str) -> set[str]:
    with sqlite3.connect(path) as c:
        return {
            r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }


def test_a_file_from_before_the_stream_is_backfilled_once(tmp_path: Path) -> None:
    """A file of the release before the stream: its real assessments are queued once, the
    record-less reference cohort's cells are built from its legacy roll-ups (shards and
    populations summed), and the roll-up table is dropped."""
    path = str(tmp_path / "old.sqlite3")
    store = SqliteStore(path)
    recs = [record(60 + i) for i in range(3)]
    for r in recs:
        store.create_assessment(r, contribution(r))
    store.close()
    ref = [record(70 + i, source="reference", uses_social_media=True) for i in range(5)]
    ref_cons = [
        replace(contribution(r), source="reference", populations=("all", "users"))
        for r in ref
    ]
    with sqlite3.connect(path) as c:  # what a file of the previous release holds
        for table in ("stream_outbox", "cell_aggregates", "store_meta"):
            c.execute(f"DROP TABLE {table}")
        _legacy_rollups(c, [contribution(r) for r in recs] + ref_cons)
    for _ in range(2):  # the second open must not queue the records again
        reopened = SqliteStore(path)
        assert reopened.pending_records() == 3
        reopened.close()
        assert "cohort_aggregates" not in _tables(path)
    reopened = SqliteStore(path)
    drain(reopened)
    # real cells come from the assessments only (their roll-ups are not added twice)
    assert stored_counts(reopened.read_grid(REAL)) == of_records(recs, REAL)
    rg = Grid("reference", "smm", "1.0.0")
    assert stored_counts(reopened.read_grid(rg)) == of_records(ref, rg)
    reopened.close()


def test_a_file_of_the_stream_release_drops_its_roll_ups_and_keeps_its_cells(
    tmp_path: Path,
) -> None:
    """A file already streaming that still has the roll-up table (written next to the
    outbox during the transition): the table is dropped, nothing is counted again."""
    path = str(tmp_path / "transition.sqlite3")
    store = SqliteStore(path)
    recs = [record(80 + i) for i in range(4)]
    for r in recs:
        store.create_assessment(r, contribution(r))
    drain(store)
    before = store.read_grid(REAL)
    store.close()
    with sqlite3.connect(path) as c:
        _legacy_rollups(c, [contribution(r) for r in recs])
    reopened = SqliteStore(path)
    assert "cohort_aggregates" not in _tables(path)
    assert reopened.pending_records() == 0
    assert reopened.read_grid(REAL) == before
    assert stored_counts(before) == of_records(recs, REAL)
    reopened.close()


# --- the service: inline folding (AGGREGATE_INLINE) -----------------------------------------
def _container(store, catalog, inline: bool) -> Container:  # type: ignore[no-untyped-def]
    settings = Settings(secret=SECRET, aggregate_inline=inline)
    return Container(store=store, catalog=catalog, settings=settings)


def test_the_service_folds_after_each_submission_and_erasure(
    store, catalog, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    service = _container(store, catalog, inline=True).assessments
    grid = Grid("real", questionnaire.id, questionnaire.version)
    body = SubmissionIn.model_validate({"answers": orgs.middling(questionnaire)})
    first = service.submit(body)
    second = service.submit(body)
    assert store.pending_records() == 0
    assert store.read_grid(grid)[TOP].count == 2
    service.erase(first.view.id, first.view.token)
    assert store.pending_records() == 0
    cells = store.read_grid(grid)
    assert stored_counts(cells) == of_records([second.view.record], grid)
    assert (cells[TOP].changes, cells[TOP].removals) == (3, 1)


def test_without_inline_folding_records_wait_for_a_run(
    store, catalog, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    service = _container(store, catalog, inline=False).assessments
    body = SubmissionIn.model_validate({"answers": orgs.middling(questionnaire)})
    service.submit(body)
    assert store.pending_records() == 1
    assert store.list_grids() == []
    assert drain(store) == 1
    assert (
        store.read_grid(Grid("real", questionnaire.id, questionnaire.version))[
            TOP
        ].count
        == 1
    )


def test_a_failing_inline_fold_does_not_fail_the_submission(  # type: ignore[no-untyped-def]
    store, catalog, questionnaire, monkeypatch
) -> None:
    service = _container(store, catalog, inline=True).assessments

    def broken(self, limit=1000):  # type: ignore[no-untyped-def]
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(SqliteStore, "aggregate_pending", broken)
    body = SubmissionIn.model_validate({"answers": orgs.middling(questionnaire)})
    done = service.submit(body)
    assert store.get_assessment(done.view.id) is not None
    assert store.pending_records() == 1  # left for the next run
    monkeypatch.undo()
    assert drain(store) == 1


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, True),
        ({"STORE": "dynamodb", "SMM_SECRET": "s" * 40}, False),
        ({"AGGREGATE_INLINE": "0"}, False),
        ({"STORE": "dynamodb", "SMM_SECRET": "s" * 40, "AGGREGATE_INLINE": "1"}, True),
    ],
)
def test_aggregate_inline_setting(monkeypatch, tmp_path, env, expected) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    for name in ("STORE", "AGGREGATE_INLINE", "SMM_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env().aggregate_inline is expected


def test_aggregate_inline_rejects_other_words(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AGGREGATE_INLINE", "sometimes")
    with pytest.raises(ValueError, match="AGGREGATE_INLINE"):
        Settings.from_env()


# --- any interleaving (hypothesis) ----------------------------------------------------------
class CrashingStore(SqliteStore):
    """Raises after the fold wrote everything but before COMMIT, when told to."""

    crash_next = False

    def _mark_folded(self, c, last_seq, dead):  # type: ignore[no-untyped-def]
        super()._mark_folded(c, last_seq, dead)
        if self.crash_next:
            self.crash_next = False
            raise RuntimeError("crash before COMMIT")


_OPS = st.one_of(
    st.tuples(
        st.just("create"),
        st.integers(0, 11),
        st.sampled_from(["1-9", "10-49", "50-249"]),
        st.booleans(),
        st.booleans(),
    ),
    st.tuples(st.just("delete"), st.integers(0, 11)),
    st.tuples(st.just("fold"), st.integers(1, 5)),
    st.tuples(st.just("crash"), st.integers(1, 5)),
    st.tuples(st.just("replay"), st.integers(1, 6)),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(_OPS, max_size=40))
def test_any_interleaving_folds_to_the_direct_count(ops) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as tmp:
        store = CrashingStore(str(Path(tmp) / "h.sqlite3"))
        live: dict[int, Any] = {}
        events: Counter[Any] = Counter()
        removals: Counter[Any] = Counter()
        history: dict[int, tuple] = {}  # type: ignore[type-arg]
        for op in ops:
            for row in _rows(store):
                history[row[0]] = row
            if op[0] == "create" and op[1] not in live:
                _, i, size, user, inc = op
                rec = record(
                    900 + i,
                    size=size,
                    uses_social_media=user,
                    included=inc,
                    metrics={"overall": (i * 37) % 101, "phase": i % 8},
                )
                assert store.create_assessment(rec, contribution(rec) if inc else None)
                live[i] = rec
                if inc:
                    events.update(_keys(rec))
            elif op[0] == "delete" and op[1] in live:
                rec = live.pop(op[1])
                assert store.delete_assessment(rec, contribution(rec))
                if rec.included:
                    events.update(_keys(rec))
                    removals.update(_keys(rec))
            elif op[0] == "fold":
                store.aggregate_pending(limit=op[1])
            elif op[0] == "crash":
                store.crash_next = True
                try:
                    store.aggregate_pending(limit=op[1])
                except RuntimeError:
                    pass
                store.crash_next = False
            elif op[0] == "replay":
                pending = {r[0] for r in _rows(store)}
                folded = [r for s, r in sorted(history.items()) if s not in pending]
                with sqlite3.connect(store.path) as c:
                    c.executemany(
                        "INSERT OR IGNORE INTO stream_outbox"
                        " (seq, item_id, op, old_image, new_image) VALUES (?, ?, ?, ?, ?)",
                        folded[-op[1] :],
                    )
        drain(store)
        cells = store.read_grid(REAL)
        assert stored_counts(cells) == of_records(live.values(), REAL)
        for cell, state in cells.items():
            assert (state.changes, state.removals) == (
                events[(REAL, cell)],
                removals[(REAL, cell)],
            )
        assert store.dead_letters() == []
        store.close()


def _keys(rec: Any) -> tuple[Any, ...]:
    return parse_image(image_of(rec)).aggregate_keys()
