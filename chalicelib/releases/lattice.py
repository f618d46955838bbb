"""Complementary suppression over the cohort lattice, per measure, to a fixed point."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chalicelib.aggregation import POPULATION_ALL, POPULATION_USERS, CellKey
from chalicelib.cohorts import ALL, Cohort
from chalicelib.releases.model import COUNT, Cell, Release, ReleasedCell


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


def fixed_point(
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


def measures(cells: Mapping[CellKey, Cell]) -> list[str]:
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
    for measure in [COUNT, *measures(release.cells)]:
        published = published_values(release.cells, measure)
        for p in parts:
            if p.parent in published:
                d, _ = _difference(p, published)
                if _unsafe(d, release.k):
                    out.append(Violation(p.parent, measure, d))
    return out


def published_values(cells: Mapping[CellKey, Cell], measure: str) -> dict[CellKey, int]:
    out: dict[CellKey, int] = {}
    for key, c in cells.items():
        if not isinstance(c, ReleasedCell):
            continue
        if measure == COUNT:
            out[key] = c.n
        elif (f := c.figures(measure)) is not None:
            out[key] = f.n
    return out
