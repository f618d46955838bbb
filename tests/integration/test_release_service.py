"""ReleaseService over a real SQLite store: publish folds the stream, builds and stores one
release per grid, skips an unchanged release, and names the next one from the schedule."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.aggregation import CellKey, Grid
from chalicelib.cohorts import Cohort
from chalicelib.config import Settings, rate_seconds
from chalicelib.release_service import ReleaseService
from chalicelib.releases import ReleasedCell
from chalicelib.storage.sqlite import SqliteStore
from tests.integration.test_store_contract import contribution, record

REAL = Grid("real", "smm", "1.0.0")
T0 = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def service(tmp_path: Any) -> ReleaseService:
    store = SqliteStore(str(tmp_path / "s.sqlite3"))
    settings = Settings(secret=b"s" * 40, k_min=3, release_schedule="rate(1 hour)")
    return ReleaseService(store, None, settings, lambda: T0)


def submit(service: ReleaseService, start: int, n: int, **kw: Any) -> list[Any]:
    recs = [record(start + i, **kw) for i in range(n)]
    for r in recs:
        assert service.store.create_assessment(r, contribution(r))  # type: ignore[attr-defined]
    return recs


def test_publish_folds_builds_and_stores_per_grid(service: ReleaseService) -> None:
    assert service.latest(REAL) is None
    submit(service, 0, 4, size="10-49")
    submit(service, 10, 1, size="50-249")
    summary = service.publish(T0)
    assert summary.folded == 5
    (g,) = summary.grids
    assert g.grid == REAL and g.stored
    head = service.latest(REAL)
    assert head is not None and head.id == g.release_id
    assert head.id.startswith("r20261204T100000Z-")
    assert g.released == head.released and g.cells == head.cells
    assert g.released + g.suppressed + g.withheld == g.cells
    assert g.carried_over == 0
    everyone = CellKey("all", Cohort())
    lone = CellKey("all", Cohort("C", "50-249", "dach"))
    _, cells = service.cells(REAL, [everyone, lone])
    assert isinstance(cells[everyone], ReleasedCell) and cells[everyone].n == 5
    assert not isinstance(cells[lone], ReleasedCell)  # one organisation: below k


def test_an_unchanged_grid_keeps_its_release(service: ReleaseService) -> None:
    submit(service, 0, 4)
    first = service.publish(T0).grids[0]
    submit(service, 20, 1)  # fewer than k changes: every cell carries over
    again = service.publish(T0 + timedelta(hours=1)).grids[0]
    assert (again.release_id, again.stored) == (first.release_id, False)
    submit(service, 30, 2)  # now 3 changes since: recomputed
    third = service.publish(T0 + timedelta(hours=2)).grids[0]
    assert third.stored and third.release_id != first.release_id
    assert [h.id for h in service.store.list_releases(REAL)] == [  # type: ignore[attr-defined]
        third.release_id,
        first.release_id,
    ]


def test_erasure_withholds_then_the_next_release_excludes_it(
    service: ReleaseService,
) -> None:
    recs = submit(service, 0, 4)
    service.publish(T0)
    gone = recs[0]
    assert service.store.delete_assessment(gone, contribution(gone))  # type: ignore[attr-defined]
    s = service.publish(T0 + timedelta(hours=1)).grids[0]
    assert s.stored and s.withheld > 0 and s.released == 0
    submit(service, 40, 2)  # 3 changes since the last publication, erasure included
    service.publish(T0 + timedelta(hours=2))
    _, cells = service.cells(REAL, [CellKey("all", Cohort())])
    cell = cells[CellKey("all", Cohort())]
    assert isinstance(cell, ReleasedCell) and cell.n == 5  # 4 - 1 + 2


def test_release_info_names_the_next_release(service: ReleaseService) -> None:
    submit(service, 0, 3)
    service.publish(T0)
    head = service.latest(REAL)
    assert head is not None
    info = service.info(head, T0 + timedelta(minutes=20))
    assert (info.published_at, info.next_release_at, info.age_seconds) == (
        "2026-12-04T10:00:00Z",
        "2026-12-04T11:00:00Z",
        1200,
    )
    late = service.info(head, T0 + timedelta(hours=2, minutes=5))
    assert late.next_release_at == "2026-12-04T13:00:00Z"


@pytest.mark.parametrize(
    "expression,seconds",
    [("rate(1 hour)", 3600), ("rate(15 minutes)", 900), ("rate(1 day)", 86400)],
)
def test_rate_expressions(expression: str, seconds: int) -> None:
    assert rate_seconds(expression) == seconds


@pytest.mark.parametrize(
    "bad", ["rate(1 hours)", "rate(0 minutes)", "cron(0 * * * ? *)", "hourly", ""]
)
def test_bad_schedules_are_refused_naming_the_setting(
    bad: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMM_SECRET", "s" * 40)
    monkeypatch.setenv("RELEASE_SCHEDULE", bad or "rate(5 minute)")
    with pytest.raises(ValueError, match="RELEASE_SCHEDULE"):
        Settings.from_env()


def test_raised_k_is_a_new_release(service: ReleaseService) -> None:
    submit(service, 0, 4)
    first = service.publish(T0).grids[0]
    stricter = ReleaseService(
        service.store, None, replace(service.settings, k_min=5), lambda: T0
    )
    s = stricter.publish(T0 + timedelta(hours=1)).grids[0]
    assert s.stored and s.release_id != first.release_id and s.released == 0
