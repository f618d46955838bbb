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
   of a cohort contains its ``users`` cell. For each published P, each such partition and
   each measure (the cell count, then each metric's n), the attacker subtracts any
   combination of disjoint published cells inside the parts: a part itself, or, where it is
   not published, the published cells of any of its own partitions, recursively (and an
   ``all`` part's ``users`` cell). No achievable total t may leave ``0 < P - t < k``
   (a group of fewer than k organisations whose histogram follows by subtraction: sibling
   differencing, ``users`` vs ``all``, their mixture, and differencing through a
   suppressed intermediate cell such as (C,*,*) - (C,1-9,*) - (C,10-49,dach) with
   (C,10-49,*) suppressed), nor ``t > P`` (possible when a carried-over part shows more
   than its recomputed parent). Values are the published ones. The achievable totals are
   computed exactly as bitsets (``lattice._Attacker``). A violation suppresses the smallest
   published cell the attacker used whose suppression alone makes the partition safe, else
   the smallest (``suppressed_complement``), one cell per step.

   *Termination.* Each step moves one (cell, measure) pair from published to suppressed and
   nothing is ever un-suppressed, so there are at most as many steps as published pairs;
   the loop stops after a full pass without a violation, which is then the fixed point
   (``audit`` re-checks a finished release and is empty). A violation always has a
   published cell to suppress: with none inside the parts, t is 0 and P >= k is safe.
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

Known limits (docs/RELEASES.md): sums of disjoint published cells reachable by successive
partitions, not every linear combination (no "pinwheel" families such as (I1,S1,*),
(*,S2,R1), (I2,*,R2), no interval audit by linear programming); across releases the guarantee is per
cell, combinations of different cells from different releases are not audited; an attacker who controls k-1 submissions
of a cell can still isolate one organisation (no k-anonymity scheme prevents that without
limiting who may submit); ``changes`` counts events, not distinct organisations.

Modules: ``model`` (cells, releases, the input protocol), ``build`` (``build_release``),
``lattice`` (partitions, the fixed point, ``audit``), ``figures`` (rounding, quantiles,
``rank_against_release``, ``public_cell``, ``released_histogram``), ``codec`` (JSON items).
"""

from __future__ import annotations

from chalicelib.releases.build import build_release
from chalicelib.releases.codec import (
    cell_from_item,
    cell_to_item,
    release_from_items,
    release_to_items,
)
from chalicelib.releases.figures import (
    band_edges,
    metric_figures,
    n_band,
    n_band_floor,
    public_cell,
    rank_against_release,
    released_histogram,
    released_quantiles,
    whole_percent_shares,
)
from chalicelib.releases.lattice import Partition, Violation, audit, partitions
from chalicelib.releases.model import (
    COUNT,
    STATUSES,
    WITHHELD,
    Cell,
    CellInput,
    MetricFigures,
    Release,
    ReleasedCell,
    ReleaseHeader,
    SuppressedCell,
)

__all__ = [
    "COUNT",
    "STATUSES",
    "WITHHELD",
    "Cell",
    "CellInput",
    "MetricFigures",
    "Partition",
    "Release",
    "ReleaseHeader",
    "ReleasedCell",
    "SuppressedCell",
    "Violation",
    "audit",
    "band_edges",
    "build_release",
    "cell_from_item",
    "cell_to_item",
    "metric_figures",
    "n_band",
    "n_band_floor",
    "partitions",
    "public_cell",
    "rank_against_release",
    "release_from_items",
    "release_to_items",
    "released_histogram",
    "released_quantiles",
    "whole_percent_shares",
]
