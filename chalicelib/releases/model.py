"""The release model: statuses, the input a release is computed from, cells, releases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from chalicelib import histograms
from chalicelib.aggregation import CellKey, Grid
from chalicelib.privacy import BELOW_THRESHOLD, COMPLEMENT, NO_DATA, RELEASED

WITHHELD = "withheld_pending_changes"
STATUSES = (RELEASED, NO_DATA, BELOW_THRESHOLD, COMPLEMENT, WITHHELD)
COUNT = "#n"  # the cell count as a measure of the complementary suppression
N_BANDS = (10, 20, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
QUANTILES = histograms.QUANTILES


class CellInput(Protocol):
    """The exact aggregate of one cell, as the aggregator keeps it
    (``chalicelib.aggregation.CohortState`` is one)."""

    @property
    def count(self) -> int: ...
    @property
    def bins(self) -> Mapping[str, Sequence[int]]: ...
    @property
    def months(self) -> Mapping[str, int]: ...
    @property
    def changes(self) -> int: ...
    @property
    def removals(self) -> int: ...


@dataclass(frozen=True)
class MetricFigures:
    """One metric of a released cell: exact n (internal), the mean as a whole number and
    the coarse histogram as whole-percent shares (sum 100)."""

    n: int
    mean: int
    shares: tuple[int, ...]


@dataclass(frozen=True)
class ReleasedCell:
    """Published figures of a cell; ``computed_in``/``computed_at`` name the release whose
    data they are (an earlier one when carried over). ``n``, ``changes`` and ``removals``
    are internal: exact count and the aggregator's counters at computation."""

    n: int
    months: tuple[str, str] | None
    metrics: Mapping[
        str, MetricFigures | str
    ]  # a str is the metric's suppression status
    computed_in: str
    computed_at: str
    changes: int
    removals: int

    status = RELEASED

    def figures(self, metric: str) -> MetricFigures | None:
        f = self.metrics.get(metric)
        return f if isinstance(f, MetricFigures) else None


@dataclass(frozen=True)
class SuppressedCell:
    """A cell without figures; ``held`` keeps its last published figures (internal) so the
    change count is measured from the last publication, whatever happened in between."""

    status: str
    held: ReleasedCell | None = None


Cell = ReleasedCell | SuppressedCell


@dataclass(frozen=True)
class Release:
    id: str
    created_at: str
    k: int
    cells: Mapping[CellKey, Cell]
    grid: Grid | None = None

    def cell(self, key: CellKey) -> Cell:
        return self.cells.get(key) or SuppressedCell(NO_DATA)

    def released(self, key: CellKey) -> ReleasedCell | None:
        c = self.cells.get(key)
        return c if isinstance(c, ReleasedCell) else None


def last_published(cell: Cell | None) -> ReleasedCell | None:
    if isinstance(cell, ReleasedCell):
        return cell
    return cell.held if cell is not None else None


@dataclass(frozen=True)
class ReleaseHeader:
    """What a store keeps about one stored release besides its cells: the id (sortable by
    time: ``rYYYYMMDDTHHMMSSZ-<hex>``), when it was computed, k, its grid, how many cells it
    has and how many of them are released."""

    id: str
    created_at: str
    k: int
    grid: Grid
    cells: int
    released: int


def header_of(release: Release) -> ReleaseHeader:
    """The header a store keeps for ``release`` (which must name its grid)."""
    if release.grid is None:
        raise ValueError("a stored release needs its grid")
    return ReleaseHeader(
        release.id,
        release.created_at,
        release.k,
        release.grid,
        len(release.cells),
        sum(isinstance(c, ReleasedCell) for c in release.cells.values()),
    )
