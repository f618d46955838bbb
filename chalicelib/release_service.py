"""Publishing benchmark releases (issue 15, docs/RELEASES.md) and reading the latest one.

``ReleaseService.publish`` folds what the store's stream still holds (``aggregate_pending``
until drained, bounded), then for each grid builds a release from every cell aggregate and
the grid's previous release (``releases.build_release``: thresholds, carry-over after fewer
than k changes, complementary suppression) and stores it (``put_release``: whole, under a
new id, then the grid's latest). A release equal to the previous one (nothing recomputed,
nothing newly suppressed) is not stored again: the previous stays the latest. Routes read
only the latest release (``cells``), never aggregates."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.aggregation import CellKey, Grid
from chalicelib.config import Settings
from chalicelib.privacy import BELOW_THRESHOLD, COMPLEMENT, NO_DATA
from chalicelib.releases import (
    WITHHELD,
    Cell,
    Release,
    ReleasedCell,
    ReleaseHeader,
    build_release,
)
from chalicelib.storage import Store

Clock = Callable[[], datetime]
MAX_FOLD_RUNS = 10_000  # bound of the drain loop (1,000 records a run)
NO_RELEASE = "no_release"


@dataclass(frozen=True)
class GridSummary:
    """What one publication did for one grid: the release id now latest, whether it is new,
    and how many cells it has in each state (``carried_over``: released with figures of an
    earlier release)."""

    grid: Grid
    release_id: str
    stored: bool
    cells: int
    released: int
    carried_over: int
    suppressed: int
    withheld: int

    def as_json(self) -> dict[str, Any]:
        g = self.grid
        return {
            "grid": {
                "source": g.source,
                "questionnaire": g.questionnaire_id,
                "version": g.version,
            },
            "release": self.release_id,
            "stored": self.stored,
            "cells": self.cells,
            "released": self.released,
            "carried_over": self.carried_over,
            "suppressed": self.suppressed,
            "withheld": self.withheld,
        }


@dataclass(frozen=True)
class PublishSummary:
    folded: int  # stream records folded before building
    grids: tuple[GridSummary, ...]

    def as_json(self) -> dict[str, Any]:
        return {"folded": self.folded, "grids": [g.as_json() for g in self.grids]}


@dataclass(frozen=True)
class ReleaseInfo:
    """What every benchmark response names: the release, its date, when the next one is
    due (from RELEASE_SCHEDULE) and its age at the time of the answer."""

    id: str
    published_at: str
    next_release_at: str
    age_seconds: int
    k: int

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "published_at": self.published_at,
            "next_release_at": self.next_release_at,
            "age_seconds": self.age_seconds,
        }


def release_id(now: datetime) -> str:
    """``rYYYYMMDDTHHMMSSZ-<6 hex>``: sortable by time, unique per publication."""
    return f"r{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def iso(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def summarise(grid: Grid, release: Release, stored: bool) -> GridSummary:
    cells = release.cells.values()
    released = [c for c in cells if isinstance(c, ReleasedCell)]
    return GridSummary(
        grid,
        release.id,
        stored,
        len(release.cells),
        len(released),
        sum(c.computed_in != release.id for c in released),
        sum(c.status in (BELOW_THRESHOLD, COMPLEMENT, NO_DATA) for c in cells),
        sum(c.status == WITHHELD for c in cells),
    )


class ReleaseService:
    def __init__(
        self, store: Store, catalog: Any, settings: Settings, clock: Clock
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.settings = settings
        self.clock = clock

    @property
    def k(self) -> int:
        return self.settings.k_min

    def drain(self) -> int:
        """Fold every pending stream record; the number folded."""
        total = 0
        for _ in range(MAX_FOLD_RUNS):
            run = self.store.aggregate_pending()
            total += run.records
            if not run.more:
                return total
        raise RuntimeError(f"stream still pending after {MAX_FOLD_RUNS} fold runs")

    def publish(
        self,
        now: datetime | None = None,
        grids: Iterable[Grid] | None = None,
        progress: Callable[[GridSummary], None] | None = None,
    ) -> PublishSummary:
        """Fold, then build and store one release per grid (every grid with aggregates by
        default)."""
        now = now or self.clock()
        folded = self.drain()
        out = []
        for grid in list(grids) if grids is not None else self.store.list_grids():
            summary = self.publish_grid(grid, now)
            out.append(summary)
            if progress is not None:
                progress(summary)
        return PublishSummary(folded, tuple(out))

    def publish_grid(self, grid: Grid, now: datetime) -> GridSummary:
        head = self.store.latest_release(grid)
        previous = self.store.read_release(grid, head.id) if head else None
        new = build_release(
            self.store.read_grid(grid),
            self.k,
            previous,
            release_id(now),
            iso(now),
            grid,
        )
        # carried cells keep their computed_in, so equal cells mean nothing changed
        if previous is not None and previous.k == new.k and new.cells == previous.cells:
            return summarise(grid, previous, stored=False)
        self.store.put_release(new)
        return summarise(grid, new, stored=True)

    # --- reading ----------------------------------------------------------------------------
    def latest(self, grid: Grid) -> ReleaseHeader | None:
        return self.store.latest_release(grid)

    def cells(
        self, grid: Grid, keys: Iterable[CellKey]
    ) -> tuple[ReleaseHeader | None, dict[CellKey, Cell]]:
        """The latest release of ``grid`` and the named cells of it (two reads)."""
        head = self.store.latest_release(grid)
        if head is None:
            return None, {}
        return head, self.store.read_release_cells(grid, head.id, keys)

    def info(self, head: ReleaseHeader, now: datetime | None = None) -> ReleaseInfo:
        now = now or self.clock()
        published = parse_iso(head.created_at)
        every = timedelta(seconds=self.settings.release_every_seconds)
        due = published + every
        if due <= now:  # overdue: the next run of the schedule after now
            due = published + every * ((now - published) // every + 1)
        return ReleaseInfo(
            head.id,
            head.created_at,
            iso(due),
            max(0, int((now - published).total_seconds())),
            head.k,
        )
