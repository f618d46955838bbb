"""Complementary suppression over the cohort lattice, per measure, to a fixed point."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chalicelib.aggregation import CellKey
from chalicelib.cohorts import ALL, Cohort
from chalicelib.records import POPULATION_ALL, POPULATION_USERS
from chalicelib.releases.model import COUNT, Cell, Release, ReleasedCell


@dataclass(frozen=True)
class Partition:
    """``parent`` is the disjoint union of ``parts`` and an unpublished rest."""

    parent: CellKey
    parts: tuple[CellKey, ...]


def partitions(keys: Iterable[CellKey]) -> list[Partition]:
    """Every one-level partition among ``keys``: a cell into its children along each
    dimension where it is ``*`` (per population), and each ``all`` cell into its ``users``
    cell and the non-users."""
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
    out = [
        Partition(CellKey(population, Cohort(*parent)), tuple(sorted(children)))
        for (population, parent, _), children in sorted(groups.items())
    ]
    for key in sorted(universe):
        if key.population == POPULATION_ALL:
            out.append(Partition(key, (CellKey(POPULATION_USERS, key.cohort),)))
    return out


TRIALS = 12  # victims tried for "suppressing this one alone makes it safe" (cost bound)


class _Attacker:
    """What an attacker can subtract from a parent: any combination of disjoint published
    cells inside its parts. A part that is not published can still be replaced by the
    published cells of any of its own partitions, recursively (an ``all`` part also by its
    ``users`` cell), so a suppressed intermediate cell does not hide its published
    children: (C,*,*) - (C,1-9,*) - (C,10-49,dach) is checked although (C,10-49,*) is
    suppressed. The achievable totals are kept as a bitset (bit s: total s), saturated
    above ``cap``."""

    def __init__(self, parts: list[Partition], published: dict[CellKey, int]) -> None:
        self.published = published
        self.below: dict[CellKey, list[tuple[CellKey, ...]]] = {}
        for p in parts:
            self.below.setdefault(p.parent, []).append(p.parts)
        self.cap = max(published.values(), default=0) + 1
        self.memo: dict[CellKey, int] = {}
        self.cells: dict[CellKey, frozenset[CellKey]] = {}

    def forget(self, cell: CellKey) -> None:
        """Drop what depends on ``cell``'s publication: its roll-ups, and for a ``users``
        cell also the ``all`` cells of the same cohorts."""
        populations = {cell.population, POPULATION_ALL}
        for g in cell.cohort.generalisations():
            for population in populations:
                key = CellKey(population, g)
                self.memo.pop(key, None)
                self.cells.pop(key, None)

    def _saturate(self, bits: int) -> int:
        if bits >> self.cap:
            bits = (bits & ((1 << self.cap) - 1)) | (1 << self.cap)
        return bits

    def sums(self, parts: Iterable[CellKey]) -> int:
        """The totals of one choice inside each of the disjoint ``parts``."""
        acc = 1
        for part in parts:
            opt = self.options(part)
            if opt == 1:
                continue  # nothing to subtract inside this part
            a, b = (acc, opt) if acc.bit_count() >= opt.bit_count() else (opt, acc)
            new = 0
            while b:  # shift the denser set by each total of the sparser one
                low = b & -b
                new |= a << (low.bit_length() - 1)
                b ^= low
            acc = self._saturate(new)
        return acc

    def options(self, cell: CellKey) -> int:
        """The totals the attacker can subtract inside ``cell`` (0 always)."""
        if cell in self.memo:
            return self.memo[cell]
        bits = 1
        if cell in self.published:
            bits |= 1 << min(self.published[cell], self.cap)
        # its partitions; for an all cell one of them is (its users cell,)
        for parts in self.below.get(cell, ()):
            bits |= self.sums(parts)
        self.memo[cell] = bits
        return bits

    def contributors(self, cell: CellKey) -> frozenset[CellKey]:
        """The published cells the attacker may use inside ``cell`` (``cell`` included)."""
        if cell not in self.cells:
            found = {cell} if cell in self.published else set()
            for parts in self.below.get(cell, ()):
                for part in parts:
                    found |= self.contributors(part)
            self.cells[cell] = frozenset(found)
        return self.cells[cell]

    def unsafe(self, p: Partition, k: int) -> bool:
        """Whether some total t the attacker can subtract leaves 0 < P - t < k or t > P."""
        total = self.published[p.parent]
        bits = self.sums(p.parts)
        above = bits >> (total + 1)
        window = (bits >> max(total - k + 1, 0)) & (
            (1 << (total - max(total - k + 1, 0))) - 1
        )
        return bool(above or window)


def fixed_point(
    parts: list[Partition], published: dict[CellKey, int], k: int
) -> set[CellKey]:
    """Suppress published cells until no partition lets the attacker subtract a total t
    with 0 < P - t < k or t > P; returns what was suppressed. The victim is the smallest
    published cell inside the partition's parts whose suppression alone makes it safe
    (among the ``TRIALS`` smallest), or else the smallest one (a suppressed cell whose
    equal child is still published hides nothing, so the smallest is not always enough).

    Termination: every step suppresses one more published cell and nothing is ever
    un-suppressed; a violation always has a cell to suppress (with none inside the parts
    the attacker subtracts 0 and P >= k is safe)."""
    suppressed: set[CellKey] = set()
    attacker = _Attacker(parts, published)
    changed = True
    while changed:
        changed = False
        for p in parts:
            if p.parent not in published or not attacker.unsafe(p, k):
                continue
            used = set().union(*(attacker.contributors(c) for c in p.parts))
            ranked = sorted(used, key=lambda c: (published[c], c))
            victim = ranked[0]
            for candidate in ranked[:TRIALS]:
                value = published.pop(candidate)
                attacker.forget(candidate)
                safe = not attacker.unsafe(p, k)
                published[candidate] = value
                attacker.forget(candidate)
                if safe:
                    victim = candidate
                    break
            del published[victim]
            suppressed.add(victim)
            attacker.forget(victim)
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
    """Every partition of a release where the attacker (``_Attacker``) can subtract a total
    that isolates fewer than k organisations (empty for every release ``build_release``
    makes). ``difference`` is the one-level d (parent minus its published parts)."""
    parts = partitions(release.cells)
    out = []
    for measure in [COUNT, *measures(release.cells)]:
        published = published_values(release.cells, measure)
        attacker = _Attacker(parts, published)
        for p in parts:
            if p.parent in published and attacker.unsafe(p, release.k):
                d = published[p.parent] - sum(published.get(c, 0) for c in p.parts)
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
