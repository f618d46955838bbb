"""The oracle of the aggregation tests: cell aggregates counted directly from the surviving
assessments (no fold, no checkpoints), to compare with what a store's ``read_grid`` holds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.aggregation import CellKey, CohortState, Grid, image_of, parse_image
from chalicelib.cohorts import Cohort
from chalicelib.records import AssessmentRecord, metric_bins

Counters = tuple[int, dict[str, list[int]], dict[str, int]]


def direct_counts(
    images: Iterable[Mapping[str, Any]], grid: Grid
) -> dict[CellKey, Counters]:
    """Count, dense histogram per metric and months of every cell of ``grid``, from the
    stream images of the assessments that are stored now."""
    out: dict[CellKey, CohortState] = {}
    for raw in images:
        image = parse_image(raw)
        for g, cell in image.aggregate_keys():
            if g != grid:
                continue
            s = out.setdefault(cell, CohortState())
            s.count += 1
            s.months[image.month] = s.months.get(image.month, 0) + 1
            for m, v in image.metrics.items():
                s.bins.setdefault(m, [0] * metric_bins(m))[v] += 1
    return {cell: s.counters() for cell, s in out.items()}


def of_records(recs: Iterable[AssessmentRecord], grid: Grid) -> dict[CellKey, Counters]:
    return direct_counts((image_of(r) for r in recs if r.included), grid)


def stored_counts(cells: Mapping[CellKey, CohortState]) -> dict[CellKey, Counters]:
    """What ``read_grid`` holds in the oracle's form; cells emptied by erasure drop out."""
    return {
        cell: s.counters()
        for cell, s in cells.items()
        if s.counters()[0] or s.counters()[1] or s.counters()[2]
    }


def drain(store: Any, bound: int = 1000) -> int:
    """Run ``aggregate_pending`` until nothing is pending; the number of records read."""
    total = 0
    for _ in range(bound):
        run = store.aggregate_pending()
        total += run.records
        if not run.more:
            return total
    raise AssertionError(f"aggregate_pending still had records after {bound} runs")


def cell(
    store: Any,
    source: str,
    questionnaire_id: str,
    version: str,
    cohort: str,
    population: str = "all",
) -> CohortState:
    """One cell aggregate after folding everything pending (an empty state when the cell
    was never written): what a release of the grid would be built from."""
    drain(store)
    grid = Grid(source, questionnaire_id, version)
    key = CellKey(population, Cohort.from_key(cohort))
    return store.read_grid(grid).get(key, CohortState())


def histograms(state: CohortState) -> dict[str, dict[int, int]]:
    """A cell's dense histograms as ``{metric: {bin: count}}`` of the non-zero bins."""
    return {m: {b: v for b, v in enumerate(h) if v} for m, h in state.bins.items()}
