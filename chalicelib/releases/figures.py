"""Rounding: what a reader gets from a released cell, and ranks against a release."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from chalicelib import histograms
from chalicelib.aggregation import CellKey
from chalicelib.cohorts import Cohort
from chalicelib.privacy import RELEASED
from chalicelib.records import POPULATION_USERS, metric_bins
from chalicelib.releases.model import (
    N_BANDS,
    QUANTILES,
    MetricFigures,
    Release,
    ReleasedCell,
)


def n_band(n: int, k: int) -> str:
    """The published form of a count: ``5-9`` (from k), ``10-19``, ``20-49``, ... ``10000+``."""
    lo = max(k, 0)
    for bound in N_BANDS:
        if n < bound:
            return f"{lo}-{bound - 1}" if lo < bound - 1 else str(lo)
        lo = max(bound, k)
    return f"{lo}+"


def n_band_floor(n: int, k: int) -> int:
    """The lowest count of ``n``'s published band (what a reader may assume as n)."""
    return int(n_band(n, k).split("-")[0].rstrip("+"))


def released_histogram(metric: str, figures: MetricFigures, k: int) -> dict[int, int]:
    """A histogram built from public figures only, for statistics that need one (the
    consultant endpoint's confidence intervals): the band floor of n organisations spread
    over the released shares (largest remainder), each band's at its middle value. Two
    cohorts with the same n band and shares give the same histogram."""
    total = n_band_floor(figures.n, k)
    exact = [total * s / 100 for s in figures.shares]  # the shares sum to 100
    floors = [int(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[: total - sum(floors)]:
        floors[i] += 1
    out: dict[int, int] = {}
    for (lo, hi, _), c in zip(band_edges(metric), floors, strict=True):
        if c:
            out[(lo + hi) // 2] = c
    return out


def band_edges(metric: str) -> list[tuple[int, int, str]]:
    """(low, high, label) of each released histogram bin of a metric."""
    out = []
    for label in histograms.banded([], metric):
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
    counts = list(histograms.banded(bins, metric).values())
    mean = histograms.hist_mean(bins)
    return MetricFigures(
        histograms.hist_count(bins),
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
