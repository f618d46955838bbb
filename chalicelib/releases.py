"""Versioned benchmark releases: privacy-checked snapshots of a whole cohort grid.

A release is computed from the exact aggregates of every cell of one grid (a source of one
questionnaire version; a cell is a cohort with ``*`` roll-ups in one population), the
minimum group size ``k`` and the previous release. Routes answer from releases only, so what
any number of requests can combine is exactly what the releases contain. Pure: no I/O.

Rules (``build_release``):

1. **Threshold.** A cell is released only with n >= k, and each of its metrics only with its
   own metric-level n >= k ("don't know" leaves a metric out, so a metric's n can be
   smaller than the cell's); smaller metrics are suppressed one by one (``below_threshold``).
2. **Re-release only after k changes.** The aggregator keeps two monotonic counters per
   cell: ``changes`` (applied submissions, erasures, modifications) and ``removals``. A
   released cell stores the counters it was computed at. The next release recomputes a cell
   only when ``changes`` grew by at least k since its last publication; otherwise the last
   published figures are carried over unchanged (same ``computed_in`` release id), so two
   releases around one submission are identical. If an erasure (or a modification) happened
   in the cell since, the old figures would still contain the erased organisation, so the
   cell is *withheld* (``withheld_pending_changes``) until k changes have accumulated, then
   recomputed without it.
3. **Complementary suppression over the lattice, per metric.** Every cell P is the disjoint
   union of its children along any dimension where P is ``*`` (P = (C,*,dach) is
   (C,1-9,dach) + (C,10-49,dach) + ... + organisations without a size), and the ``all`` cell
   of a cohort is its ``users`` cell plus the non-users. For each such partition and each
   measure (the cell count, then each metric's n) the published figures must not leave a
   difference ``d = P - (sum of the published parts)`` with ``0 < d < k``: that difference
   is a group of fewer than k organisations whose histogram follows by subtraction (sibling
   differencing, the ``users``-vs-``all`` difference, and their mixture: for an ``all``
   parent the attacker subtracts a child's ``users`` cell where its ``all`` cell is not
   published, so that is checked too). Values are the published ones, so a carried-over
   cell counts with the figures it shows, and then d can be negative (a carried part
   shows more than its recomputed parent): that is a violation too, because adding other
   parts back could land between 0 and k. With every d either 0 or >= k, P minus *any*
   subset of its published parts is 0 or >= k (the parts are >= k each): sibling
   combinations are covered. A violation suppresses the smallest published part
   (``suppressed_complement``), one part per step.

   *Termination.* Each step moves one (cell, measure) pair from published to suppressed and
   nothing is ever un-suppressed, so there are at most as many steps as published pairs;
   the loop stops after a full pass without a violation, which is then the fixed point
   (``audit`` re-checks a finished release and is empty). A violation always has a
   published part to suppress: with none, ``d`` is the parent's own published n >= k.
   Suppressing a cell suppresses all its metrics; metric passes never touch counts.

Rounding (what a reader gets; ``public_cell``):
- the cell's n and each metric's n as a band (``n_band``: ``5-9``, ``10-19``, ``20-49``,
  ``50-99``, ``100-249``, ... ``10000+``; the first band starts at k);
- per metric: the mean as a whole number and the coarse histogram as whole-percent shares
  summing to 100 (largest remainder): 10-point bands for 0..100 scores (``90-100`` last),
  one bin per level for the phase (0..7) and the pyramid level (0..5);
- quantiles (p10, p25, median, p75, p90) interpolated from those shares, whole numbers;
- ``rank_against_release``: a company's whole-percent mid-rank in the released shares.
Every public figure except the mean is a function of the coarse shares, so no query can
rebuild more than them. The exact counts stored in a release (``n``, the change counters)
are for the next release's checks only and never leave the store.

Known limits (docs/RELEASES.md): one-level partitions, not every linear combination of the
lattice (no interval audit by linear programming); an attacker who controls k-1 submissions
of a cell can still isolate one organisation (no k-anonymity scheme prevents that without
limiting who may submit); ``changes`` counts events, not distinct organisations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from chalicelib import benchmark
from chalicelib.aggregation import (
    POPULATION_ALL,
    POPULATION_USERS,
    CellKey,
    Grid,
    metric_bins,
)
from chalicelib.benchmark import ALL, Cohort
from chalicelib.privacy import BELOW_THRESHOLD, COMPLEMENT, NO_DATA, RELEASED

WITHHELD = "withheld_pending_changes"
STATUSES = (RELEASED, NO_DATA, BELOW_THRESHOLD, COMPLEMENT, WITHHELD)
COUNT = "#n"  # the cell count as a measure of the complementary suppression
N_BANDS = (10, 20, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
QUANTILES = benchmark.QUANTILES


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


def _last_published(cell: Cell | None) -> ReleasedCell | None:
    if isinstance(cell, ReleasedCell):
        return cell
    return cell.held if cell is not None else None


# --- rounding ---------------------------------------------------------------------------------
def n_band(n: int, k: int) -> str:
    """The published form of a count: ``5-9`` (from k), ``10-19``, ``20-49``, ... ``10000+``."""
    lo = max(k, 0)
    for bound in N_BANDS:
        if n < bound:
            return f"{lo}-{bound - 1}" if lo < bound - 1 else str(lo)
        lo = max(bound, k)
    return f"{lo}+"


def band_edges(metric: str) -> list[tuple[int, int, str]]:
    """(low, high, label) of each released histogram bin of a metric."""
    out = []
    for label in benchmark.banded([], metric):
        lo, _, hi = label.partition("-")
        out.append((int(lo), int(hi or lo), label))
    return out


def whole_percent_shares(counts: Sequence[int]) -> tuple[int, ...]:
    """Counts as whole percent summing to 100 (largest remainder; ties to the lower bin)."""
    n = sum(counts)
    if n <= 0:
        return tuple(0 for _ in counts)
    exact = [100 * c / n for c in counts]
    floors = [math.floor(x) for x in exact]
    rest = 100 - sum(floors)
    order = sorted(range(len(counts)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:rest]:
        floors[i] += 1
    return tuple(floors)


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def metric_figures(metric: str, bins: Sequence[int]) -> MetricFigures:
    counts = list(benchmark.banded(bins, metric).values())
    mean = benchmark.hist_mean(bins)
    return MetricFigures(
        benchmark.hist_count(bins),
        0 if mean is None else _round_half_up(mean),
        whole_percent_shares(counts),
    )


def released_quantiles(metric: str, figures: MetricFigures) -> dict[str, int]:
    """p10..p90 interpolated from the released shares (whole numbers): for a level metric
    the first level whose cumulative share reaches q, for a score linearly inside its band."""
    edges = band_edges(metric)
    out: dict[str, int] = {}
    for name, q in QUANTILES:
        target, cum = 100 * q, 0.0
        value = edges[-1][1]
        for (lo, hi, _), share in zip(edges, figures.shares, strict=True):
            if share and cum + share >= target - 1e-9:
                if lo == hi:
                    value = lo
                else:
                    inside = (target - cum) / share * (hi - lo + 1)
                    value = min(hi, max(lo, lo + _round_half_up(inside - 0.5)))
                break
            cum += share
        out[name] = value
    return out


def rank_against_release(
    release: Release,
    cohort: Cohort,
    metric: str,
    value: int,
    population: str = POPULATION_USERS,
) -> int | None:
    """A company's whole-percent mid-rank in the released histogram of ``metric`` in
    ``cohort``: the share of the bins below plus, for a score, the part of its own band
    below it (uniform within the band, half of its own point), for a level half of its own
    level. None when the cell or metric is not released or the value is out of range."""
    cell = release.released(CellKey(population, cohort))
    figures = cell.figures(metric) if cell else None
    if figures is None or not 0 <= value < metric_bins(metric):
        return None
    below = 0.0
    for (lo, hi, _), share in zip(band_edges(metric), figures.shares, strict=True):
        if value > hi:
            below += share
        elif lo <= value <= hi:
            below += share * (value - lo + 0.5) / (hi - lo + 1)
            break
    return min(100, max(0, _round_half_up(below)))


def public_cell(release: Release, key: CellKey) -> dict[str, Any]:
    """What a route may return for a cell: status, bands, shares, derived statistics and
    the release it comes from. No exact count, no counters."""
    cell = release.cell(key)
    out: dict[str, Any] = {
        "release": release.id,
        "released_at": release.created_at,
        "population": key.population,
        "cohort": key.cohort.key,
        "status": cell.status,
    }
    if not isinstance(cell, ReleasedCell):
        return out
    out["figures_from"] = {"release": cell.computed_in, "at": cell.computed_at}
    out["n"] = n_band(cell.n, release.k)
    out["months"] = list(cell.months) if cell.months else None
    metrics: dict[str, Any] = {}
    for m, f in sorted(cell.metrics.items()):
        if isinstance(f, str):
            metrics[m] = {"status": f}
            continue
        edges = band_edges(m)
        metrics[m] = {
            "status": RELEASED,
            "n": n_band(f.n, release.k),
            "mean": f.mean,
            **released_quantiles(m, f),
            "histogram_percent": {
                label: s for (_, _, label), s in zip(edges, f.shares, strict=True)
            },
        }
    out["metrics"] = metrics
    return out


# --- the lattice ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Partition:
    """``parent`` is the disjoint union of ``parts`` and an unpublished rest. Each part lists
    the cells an attacker can subtract for it, largest first (a child's ``all`` cell, else
    its ``users`` cell)."""

    parent: CellKey
    parts: tuple[tuple[CellKey, ...], ...]


def partitions(keys: Iterable[CellKey]) -> list[Partition]:
    """Every one-level partition among ``keys``: a cell into its children along each
    dimension where it is ``*`` (per population; an ``all`` parent may subtract a child's
    ``users`` cell), and each ``all`` cell into its ``users`` cell and the non-users."""
    universe = set(keys)
    groups: dict[tuple[str, tuple[str, str, str], int], list[CellKey]] = {}
    for key in universe:
        c = (key.cohort.industry, key.cohort.size, key.cohort.region)
        for d in range(3):
            if c[d] != ALL:
                parent = (
                    ALL if d == 0 else c[0],
                    ALL if d == 1 else c[1],
                    ALL if d == 2 else c[2],
                )
                groups.setdefault((key.population, parent, d), []).append(key)
    out: list[Partition] = []
    for (population, parent, _), children in sorted(groups.items()):
        parts = []
        for child in sorted(children):
            alts = [child]
            if population == POPULATION_ALL:
                alts.append(CellKey(POPULATION_USERS, child.cohort))
            parts.append(tuple(alts))
        out.append(Partition(CellKey(population, Cohort(*parent)), tuple(parts)))
    for key in sorted(universe):
        if key.population == POPULATION_ALL:
            users = CellKey(POPULATION_USERS, key.cohort)
            out.append(Partition(key, ((users,),)))
    return out


def _difference(
    p: Partition, published: Mapping[CellKey, int]
) -> tuple[int, list[CellKey]]:
    chosen = [next((c for c in alts if c in published), None) for alts in p.parts]
    used = [c for c in chosen if c is not None]
    return published[p.parent] - sum(published[c] for c in used), used


def _unsafe(d: int, k: int) -> bool:
    """A difference that isolates fewer than k organisations: 0 < d < k. A negative d (a
    carried-over part shows more than its parent does now) is unsafe too: adding back
    other published parts could then land between 0 and k. With every d in {0} or >= k,
    the parent minus any subset of its published parts is 0 or >= k as well."""
    return d != 0 and d < k


def _fixed_point(
    parts: list[Partition], published: dict[CellKey, int], k: int
) -> set[CellKey]:
    """Suppress parts until no partition leaves an unsafe d; returns what was suppressed."""
    suppressed: set[CellKey] = set()
    changed = True
    while changed:
        changed = False
        for p in parts:
            if p.parent not in published:
                continue
            d, used = _difference(p, published)
            if _unsafe(d, k):
                victim = min(used, key=lambda c: (published[c], c))
                del published[victim]
                suppressed.add(victim)
                changed = True
    return suppressed


def _measures(cells: Mapping[CellKey, Cell]) -> list[str]:
    names = {
        m for c in cells.values() if isinstance(c, ReleasedCell) for m in c.metrics
    }
    return sorted(names)


@dataclass(frozen=True)
class Violation:
    parent: CellKey
    measure: str
    difference: int


def audit(release: Release) -> list[Violation]:
    """Every partition of a release whose published figures leave an unsafe difference
    (empty for every release ``build_release`` makes)."""
    parts = partitions(release.cells)
    out = []
    for measure in [COUNT, *_measures(release.cells)]:
        published = _published(release.cells, measure)
        for p in parts:
            if p.parent in published:
                d, _ = _difference(p, published)
                if _unsafe(d, release.k):
                    out.append(Violation(p.parent, measure, d))
    return out


def _published(cells: Mapping[CellKey, Cell], measure: str) -> dict[CellKey, int]:
    out: dict[CellKey, int] = {}
    for key, c in cells.items():
        if not isinstance(c, ReleasedCell):
            continue
        if measure == COUNT:
            out[key] = c.n
        elif (f := c.figures(measure)) is not None:
            out[key] = f.n
    return out


# --- building a release -----------------------------------------------------------------------
def _fresh(agg: CellInput, k: int, release_id: str, created_at: str) -> ReleasedCell:
    metrics: dict[str, MetricFigures | str] = {}
    for m in sorted(agg.bins):
        bins = agg.bins[m]
        n = benchmark.hist_count(bins)
        if n == 0:
            continue
        metrics[m] = metric_figures(m, bins) if n >= k else BELOW_THRESHOLD
    months = sorted(mo for mo, v in agg.months.items() if v > 0)
    return ReleasedCell(
        agg.count,
        (months[0], months[-1]) if months else None,
        metrics,
        release_id,
        created_at,
        agg.changes,
        agg.removals,
    )


def _carried(held: ReleasedCell, k: int) -> ReleasedCell:
    """The last figures, as they were (a metric below a raised k suppressed)."""
    metrics = {
        m: f if isinstance(f, str) or f.n >= k else BELOW_THRESHOLD
        for m, f in held.metrics.items()
    }
    return held if metrics == dict(held.metrics) else replace(held, metrics=metrics)


def _candidate(
    agg: CellInput | None,
    held: ReleasedCell | None,
    k: int,
    release_id: str,
    created_at: str,
) -> Cell:
    if held is not None and agg is not None and agg.changes - held.changes < k:
        if agg.removals > held.removals:
            return SuppressedCell(WITHHELD, held)
        if held.n >= k:
            return _carried(held, k)
        return SuppressedCell(BELOW_THRESHOLD, held)
    n = agg.count if agg is not None else 0
    if n <= 0:
        return SuppressedCell(NO_DATA, held)
    if n < k:
        return SuppressedCell(BELOW_THRESHOLD, held)
    assert agg is not None
    return _fresh(agg, k, release_id, created_at)


def build_release(
    aggregates: Mapping[CellKey, CellInput],
    k: int,
    previous: Release | None,
    release_id: str,
    created_at: str,
    grid: Grid | None = None,
) -> Release:
    """The release of a grid: thresholds, carry-over, complementary suppression (module
    docstring). ``aggregates`` holds every cell the aggregator keeps (roll-ups included);
    a cell missing there but present in ``previous`` is empty now."""
    if k < 1:
        raise ValueError("k must be at least 1")
    before = previous.cells if previous is not None else {}
    keys = set(aggregates) | set(before)
    cells: dict[CellKey, Cell] = {
        key: _candidate(
            aggregates.get(key),
            _last_published(before.get(key)),
            k,
            release_id,
            created_at,
        )
        for key in keys
    }
    parts = partitions(keys)
    for key in _fixed_point(parts, _published(cells, COUNT), k):
        cells[key] = SuppressedCell(COMPLEMENT, _last_published(before.get(key)))
    for measure in _measures(cells):
        for key in _fixed_point(parts, _published(cells, measure), k):
            cell = cells[key]
            assert isinstance(cell, ReleasedCell)
            cells[key] = replace(cell, metrics={**cell.metrics, measure: COMPLEMENT})
    return Release(release_id, created_at, k, dict(sorted(cells.items())), grid)


# --- codec: one small JSON item per cell ------------------------------------------------------
_METRIC_STATUS = {BELOW_THRESHOLD: "b", COMPLEMENT: "x"}
_METRIC_STATUS_BACK = {v: k for k, v in _METRIC_STATUS.items()}
_STATUS = {
    RELEASED: "r",
    NO_DATA: "0",
    BELOW_THRESHOLD: "b",
    COMPLEMENT: "x",
    WITHHELD: "w",
}
_STATUS_BACK = {v: k for k, v in _STATUS.items()}
HEADER = "#release"


def _figures_item(cell: ReleasedCell) -> dict[str, Any]:
    return {
        "n": cell.n,
        "ch": cell.changes,
        "rm": cell.removals,
        "i": cell.computed_in,
        "t": cell.computed_at,
        "mo": list(cell.months) if cell.months else None,
        "m": {
            m: _METRIC_STATUS[f] if isinstance(f, str) else [f.n, f.mean, *f.shares]
            for m, f in cell.metrics.items()
        },
    }


def _figures_from(item: Mapping[str, Any]) -> ReleasedCell:
    metrics: dict[str, MetricFigures | str] = {}
    for m, v in item["m"].items():
        if isinstance(v, str):
            metrics[m] = _METRIC_STATUS_BACK[v]
        else:
            metrics[m] = MetricFigures(
                int(v[0]), int(v[1]), tuple(int(s) for s in v[2:])
            )
    months = item.get("mo")
    return ReleasedCell(
        int(item["n"]),
        (str(months[0]), str(months[1])) if months else None,
        metrics,
        str(item["i"]),
        str(item["t"]),
        int(item["ch"]),
        int(item["rm"]),
    )


def cell_to_item(key: CellKey, cell: Cell) -> dict[str, Any]:
    """A JSON-ready item for one cell (short names; ``h`` is the held last publication)."""
    item: dict[str, Any] = {"c": key.key, "s": _STATUS[cell.status]}
    if isinstance(cell, ReleasedCell):
        item["f"] = _figures_item(cell)
    elif cell.held is not None:
        item["h"] = _figures_item(cell.held)
    return item


def cell_from_item(item: Mapping[str, Any]) -> tuple[CellKey, Cell]:
    key = CellKey.from_key(str(item["c"]))
    status = _STATUS_BACK[str(item["s"])]
    if status == RELEASED:
        return key, _figures_from(item["f"])
    held = _figures_from(item["h"]) if item.get("h") else None
    return key, SuppressedCell(status, held)


def release_to_items(release: Release) -> list[dict[str, Any]]:
    """A header item (id, date, k, grid) and one item per cell."""
    g = release.grid
    header: dict[str, Any] = {
        "c": HEADER,
        "id": release.id,
        "t": release.created_at,
        "k": release.k,
        "g": [g.source, g.questionnaire_id, g.version] if g else None,
    }
    return [header, *(cell_to_item(k, c) for k, c in release.cells.items())]


def release_from_items(items: Iterable[Mapping[str, Any]]) -> Release:
    header: Mapping[str, Any] | None = None
    cells: dict[CellKey, Cell] = {}
    for item in items:
        if item.get("c") == HEADER:
            header = item
        else:
            key, cell = cell_from_item(item)
            cells[key] = cell
    if header is None:
        raise ValueError("no release header item")
    g = header.get("g")
    return Release(
        str(header["id"]),
        str(header["t"]),
        int(header["k"]),
        dict(sorted(cells.items())),
        Grid(*g) if g else None,
    )
