"""Building a release: thresholds, carry-over after fewer than k changes, suppression."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from chalicelib import histograms
from chalicelib.aggregation import CellKey, Grid
from chalicelib.privacy import BELOW_THRESHOLD, COMPLEMENT, NO_DATA
from chalicelib.releases.figures import metric_figures
from chalicelib.releases.lattice import (
    fixed_point,
    measures,
    partitions,
    published_values,
)
from chalicelib.releases.model import (
    COUNT,
    WITHHELD,
    Cell,
    CellInput,
    MetricFigures,
    Release,
    ReleasedCell,
    SuppressedCell,
    last_published,
)


def _fresh(agg: CellInput, k: int, release_id: str, created_at: str) -> ReleasedCell:
    metrics: dict[str, MetricFigures | str] = {}
    for m in sorted(agg.bins):
        bins = agg.bins[m]
        n = histograms.hist_count(bins)
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
    """What a cell would show before complementary suppression."""
    if held is not None and agg is not None and agg.changes - held.changes < k:
        # fewer than k changes since the last publication: those figures, unless they
        # contain an organisation that has left since; counters that went backwards (the
        # aggregates were rebuilt without carrying them over) are treated like that too
        if agg.removals != held.removals or agg.changes < held.changes:
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
            last_published(before.get(key)),
            k,
            release_id,
            created_at,
        )
        for key in keys
    }
    parts = partitions(keys)
    for key in fixed_point(parts, published_values(cells, COUNT), k):
        cells[key] = SuppressedCell(COMPLEMENT, last_published(before.get(key)))
    for measure in measures(cells):
        for key in fixed_point(parts, published_values(cells, measure), k):
            cell = cells[key]
            assert isinstance(cell, ReleasedCell)
            cells[key] = replace(cell, metrics={**cell.metrics, measure: COMPLEMENT})
    return Release(release_id, created_at, k, dict(sorted(cells.items())), grid)
