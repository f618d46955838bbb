"""SQLite specifics of the ReleaseStore (the contract is test_release_store_contract.py):
a put that fails part-way leaves the previous release as the latest and no row of the new
one; releases survive reopening the file; readers of another connection see the previous
or the whole new release."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from chalicelib.storage.sqlite import SqliteStore
from tests.integration.test_release_store_contract import GRID, release


def test_a_failed_put_leaves_nothing_and_the_old_latest(tmp_path: Any) -> None:
    path = str(tmp_path / "r.sqlite3")
    store = SqliteStore(path)
    first = store.put_release(release("r20261204T100000Z-aa10", {"1-9": 6}))
    second = release("r20261204T110000Z-bb11", {"1-9": 6, "10-49": 5})
    raw = sqlite3.connect(path)
    # a real engine fault in the middle of the cell rows (the 10-49 cells come after others)
    raw.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON release_cells"
        " WHEN NEW.cell LIKE '%10-49%' BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
    )
    raw.commit()
    with pytest.raises(sqlite3.IntegrityError):
        store.put_release(second)
    assert store.latest_release(GRID) == first
    assert store.list_releases(GRID) == [first]
    left = raw.execute(
        "SELECT COUNT(*) FROM release_cells WHERE release_id = ?", (second.id,)
    ).fetchone()[0]
    assert left == 0
    raw.execute("DROP TRIGGER boom")
    raw.commit()
    raw.close()
    assert store.put_release(second).id == second.id  # the same id can be written now
    assert store.read_release(GRID, second.id) == second


def test_releases_survive_reopening(tmp_path: Any) -> None:
    path = str(tmp_path / "r.sqlite3")
    store = SqliteStore(path)
    r = release("r20261204T100000Z-aa10", {"1-9": 6, "10-49": 3})
    header = store.put_release(r)
    store.close()
    again = SqliteStore(path)
    assert again.latest_release(GRID) == header
    assert again.read_release(GRID, r.id) == r


def test_another_connection_sees_old_or_whole_new(tmp_path: Any) -> None:
    path = str(tmp_path / "r.sqlite3")
    writer, reader = SqliteStore(path), SqliteStore(path)
    first = release("r20261204T100000Z-aa10", {"1-9": 6})
    writer.put_release(first)
    assert reader.latest_release(GRID).id == first.id
    second = release("r20261204T110000Z-bb11", {"1-9": 8, "10-49": 5}, first)
    writer.put_release(second)
    head = reader.latest_release(GRID)
    assert head.id == second.id
    assert reader.read_release(GRID, head.id) == second
