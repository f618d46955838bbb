"""The ReleaseStore contract (issue 15, docs/RELEASES.md): every adapter stores a release
whole under its id, conditionally, moves the grid's latest pointer to it, and answers
cell reads of one release in one request. Real engines: a SQLite file, DynamoDB Local
(``dynamo_store``, once the adapter implements the protocol: branch ``dyn``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import aggregation as agg
from chalicelib.aggregation import CellKey, CohortState, Grid
from chalicelib.cohorts import Cohort
from chalicelib.errors import Conflict
from chalicelib.releases import (
    Release,
    ReleasedCell,
    SuppressedCell,
    build_release,
)

ADAPTERS = ["sqlite", "dynamodb"]
GRID = Grid("real", "smm", "1.0.0")
OTHER = Grid("reference", "smm", "1.0.0")
K = 3
RELEASE_METHODS = (
    "put_release",
    "latest_release",
    "read_release_cells",
    "read_release",
    "list_releases",
)


@pytest.fixture(params=ADAPTERS)
def release_store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Any]:
    if request.param == "dynamodb":
        from chalicelib.storage.dynamodb import DynamoStore

        assert all(hasattr(DynamoStore, m) for m in RELEASE_METHODS)
        yield request.getfixturevalue("dynamo_store")
        return
    from chalicelib.storage.sqlite import SqliteStore

    s = SqliteStore(str(tmp_path / "releases.sqlite3"))
    yield s
    s.close()


def states(sizes: dict[str, int], grid: Grid = GRID) -> dict[CellKey, CohortState]:
    """Cell aggregates of ``sizes[size]`` organisations per size (industry C, dach),
    folded by the real aggregator."""
    st: dict[agg.AggregateKey, CohortState] = {}
    seq = 0
    for size, n in sizes.items():
        for i in range(n):
            seq += 1
            image = {
                "a": f"{size}-{i}",
                "src": grid.source,
                "q": grid.questionnaire_id,
                "v": grid.version,
                "c": ["C", size, "dach"],
                "p": ["all", "users"] if i % 2 else ["all"],
                "m": {"overall": (seq * 13) % 101, "phase": seq % 8},
                "mo": "2026-11",
                "inc": True,
            }
            batch = [
                {
                    "id": str(seq),
                    "shard": "s",
                    "seq": seq,
                    "op": agg.INSERT,
                    "old": None,
                    "new": image,
                }
            ]
            st.update(agg.fold(st, batch).states)
    return agg.grid_cells(st, grid)


def release(
    rid: str,
    sizes: dict[str, int],
    previous: Release | None = None,
    grid: Grid = GRID,
) -> Release:
    return build_release(
        states(sizes, grid), K, previous, rid, f"2026-12-04T{rid[-2:]}:00:00Z", grid
    )


def test_put_then_read_back_whole_and_by_cell(release_store: Any) -> None:
    r = release("r20261204T100000Z-aa10", {"1-9": 6, "10-49": 4, "50-249": 1})
    assert any(isinstance(c, ReleasedCell) for c in r.cells.values())
    assert any(isinstance(c, SuppressedCell) for c in r.cells.values())
    header = release_store.put_release(r)
    assert (header.id, header.created_at, header.k, header.grid) == (
        r.id,
        r.created_at,
        K,
        GRID,
    )
    assert header.cells == len(r.cells)
    assert header.released == sum(isinstance(c, ReleasedCell) for c in r.cells.values())
    assert release_store.latest_release(GRID) == header
    assert release_store.read_release(GRID, r.id) == r
    wanted = [CellKey("all", Cohort("C", "1-9", "dach")), CellKey("all", Cohort())]
    missing = CellKey("users", Cohort("Z", "*", "*"))
    got = release_store.read_release_cells(GRID, r.id, [*wanted, missing, wanted[0]])
    assert got == {k: r.cells[k] for k in wanted}
    assert release_store.read_release_cells(GRID, "r-none", wanted) == {}
    assert release_store.read_release(GRID, "r-none") is None


def test_the_latest_pointer_moves_and_old_releases_stay_readable(
    release_store: Any,
) -> None:
    assert release_store.latest_release(GRID) is None
    assert release_store.list_releases(GRID) == []
    first = release("r20261204T100000Z-aa10", {"1-9": 6})
    second = release("r20261204T110000Z-bb11", {"1-9": 6, "10-49": 5}, first)
    h1 = release_store.put_release(first)
    h2 = release_store.put_release(second)
    assert release_store.latest_release(GRID) == h2
    assert release_store.list_releases(GRID) == [h2, h1]
    assert release_store.list_releases(GRID, limit=1) == [h2]
    assert release_store.read_release(GRID, first.id) == first
    # grids are independent
    assert release_store.latest_release(OTHER) is None
    ref = release("r20261204T120000Z-cc12", {"10-49": 4}, grid=OTHER)
    h3 = release_store.put_release(ref)
    assert release_store.latest_release(OTHER) == h3
    assert release_store.latest_release(GRID) == h2
    assert release_store.read_release(GRID, ref.id) is None


def test_put_is_conditional_on_the_id(release_store: Any) -> None:
    first = release("r20261204T100000Z-aa10", {"1-9": 6})
    release_store.put_release(first)
    clash = release("r20261204T100000Z-aa10", {"1-9": 9, "10-49": 7})
    with pytest.raises(Conflict):
        release_store.put_release(clash)
    assert release_store.read_release(GRID, first.id) == first  # nothing overwritten
    assert release_store.latest_release(GRID).cells == len(first.cells)


def test_a_release_without_a_grid_is_refused(release_store: Any) -> None:
    r = build_release(states({"1-9": 4}), K, None, "r20261204T100000Z-dd", "t")
    with pytest.raises(ValueError):
        release_store.put_release(r)
    assert release_store.list_releases(GRID) == []


def test_a_big_release_reads_in_one_call(release_store: Any) -> None:
    sizes = {"1-9": 9, "10-49": 8, "50-249": 7, "250-999": 6, "1000+": 5}
    r = release("r20261204T100000Z-ee10", sizes)
    release_store.put_release(r)
    got = release_store.read_release_cells(GRID, r.id, list(r.cells))
    assert got == dict(r.cells)
