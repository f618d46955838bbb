"""Releases, attacked directly: each attack of issue 15 recovers an organisation from today's
figures (the old per-request rule, tests/naive_privacy.py, and exact histograms) and learns nothing below k from a release."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib import aggregation as agg
from chalicelib import histograms, privacy, releases
from chalicelib.aggregation import AggregateKey, CellKey, CohortState, Grid
from chalicelib.cohorts import ALL, Cohort
from chalicelib.releases import Release, ReleasedCell, SuppressedCell
from tests import naive_privacy

GRID = Grid("real", "smm", "1.0.0")
K = 5
METRICS = ("overall", "phase", "dim_crisis")


class Population:
    """Organisations folded through the real aggregator, so releases see what the stream
    job would store (counts, histograms, change counters)."""

    def __init__(self) -> None:
        self.states: dict[AggregateKey, CohortState] = {}
        self.seq = 0
        self.images: dict[str, dict[str, Any]] = {}

    def _apply(self, op: str, old: Any, new: Any) -> None:
        self.seq += 1
        rec = {
            "id": str(self.seq),
            "shard": "s0",
            "seq": self.seq,
            "op": op,
            "old": old,
            "new": new,
        }
        result = agg.fold(self.states, [rec])
        assert result.failures == ()
        self.states.update(result.states)

    def submit(
        self,
        aid: str,
        cohort: tuple[str, str, str],
        metrics: Mapping[str, int],
        users: bool = True,
    ) -> dict[str, Any]:
        im = {
            "a": aid,
            "src": GRID.source,
            "q": GRID.questionnaire_id,
            "v": GRID.version,
            "c": list(cohort),
            "p": ["all", "users"] if users else ["all"],
            "m": dict(metrics),
            "mo": "2026-11",
            "inc": True,
        }
        self.images[aid] = im
        self._apply(agg.INSERT, None, im)
        return im

    def erase(self, aid: str) -> None:
        self._apply(agg.REMOVE, self.images.pop(aid), None)

    def cells(self) -> dict[CellKey, CohortState]:
        return agg.grid_cells(self.states, GRID)

    def release(self, rid: str, previous: Release | None = None, k: int = K) -> Release:
        return releases.build_release(
            self.cells(), k, previous, rid, f"2026-12-0{rid[-1]}", GRID
        )

    def hist(self, cohort: Cohort, metric: str, population: str = "all") -> list[int]:
        s = self.cells().get(CellKey(population, cohort))
        return list(s.bins.get(metric, [])) if s else []

    def counts(self, population: str = "all") -> dict[Cohort, int]:
        return {
            c.cohort: s.count
            for c, s in self.cells().items()
            if c.population == population
        }


def crowd(
    pop: Population,
    n: int,
    cohort: tuple[str, str, str],
    seed: int,
    prefix: str,
    metrics: tuple[str, ...] = METRICS,
) -> None:
    rnd = random.Random(seed)
    for i in range(n):
        pop.submit(
            f"{prefix}{i}",
            cohort,
            {m: rnd.randrange(agg.metric_bins(m)) for m in metrics},
        )


def subtract(a: list[int], *bs: list[int]) -> dict[int, int]:
    out = dict(enumerate(a))
    for b in bs:
        for i, v in enumerate(b):
            out[i] = out.get(i, 0) - v
    return {i: v for i, v in out.items() if v}


def published_n(
    release: Release,
    cohort: Cohort,
    measure: str = releases.COUNT,
    population: str = "all",
) -> int | None:
    """The worst case: an attacker who knows the exact n behind every published figure."""
    cell = release.released(CellKey(population, cohort))
    if cell is None:
        return None
    if measure == releases.COUNT:
        return cell.n
    f = cell.figures(measure)
    return None if f is None else f.n


def smallest_group(
    release: Release,
    parent: Cohort,
    children: list[Cohort],
    measure: str = releases.COUNT,
) -> int | None:
    """The smallest non-empty group the attacker isolates as parent minus any subset of
    published children (None when the parent is not published)."""
    p = published_n(release, parent, measure)
    if p is None:
        return None
    shown = [n for c in children if (n := published_n(release, c, measure)) is not None]
    diffs = [
        p - sum(s)
        for r in range(len(shown) + 1)
        for s in itertools.combinations(shown, r)
    ]
    return min((d for d in diffs if d), default=None)


# --- attack (a): sibling differencing ---------------------------------------------------------
X = Cohort("C", ALL, "dach")
X_SMALL, X_MID, X_LARGE = (Cohort("C", s, "dach") for s in ("1-9", "10-49", "50-249"))


def sibling_population() -> tuple[Population, dict[str, int]]:
    pop = Population()
    crowd(pop, 5, ("C", "1-9", "dach"), 1, "s")
    crowd(pop, 5, ("C", "10-49", "dach"), 2, "m")
    target = {"overall": 83, "phase": 6, "dim_crisis": 91}
    pop.submit("target", ("C", "50-249", "dach"), target)
    crowd(pop, 40, ("J", "1-9", "nordics"), 3, "o")  # the rest of the world
    return pop, target


def test_attack_a_sibling_differencing_naive_recovers_the_org() -> None:
    pop, target = sibling_population()
    counts = pop.counts()
    for c in (X, X_SMALL, X_MID):
        assert (
            naive_privacy.release(c, counts, K).status == privacy.RELEASED
        )  # separate requests
    for m, v in target.items():
        diff = subtract(pop.hist(X, m), pop.hist(X_SMALL, m), pop.hist(X_MID, m))
        assert diff == {v: 1}  # X - X/1-9 - X/10-49: the single 50-249 organisation


def test_attack_a_sibling_differencing_release_blocks_it() -> None:
    pop, _ = sibling_population()
    r = pop.release("r1")
    assert releases.audit(r) == []
    assert isinstance(r.cell(CellKey("all", X_LARGE)), SuppressedCell)
    for measure in (releases.COUNT, *METRICS):
        group = smallest_group(r, X, [X_SMALL, X_MID, X_LARGE], measure)
        assert group is None or group >= K, measure
    # and it is a real release, not everything suppressed
    assert r.released(CellKey("all", X)) is not None
    shown = [
        c
        for c in (X_SMALL, X_MID)
        if any(r.released(CellKey(p, c)) for p in ("all", "users"))
    ]
    assert len(shown) == 1  # one sibling's figures stay available (here as users)


# --- attack (b): metric-level differencing via "don't know" ----------------------------------
P = Cohort("C", ALL, "dach")
CH = Cohort("C", "50-249", "dach")


def dont_know_population() -> tuple[Population, int]:
    """P has 10 organisations, its child CH 5: counts differ by k. The other 5 answered
    "don't know" on dim_crisis except one, so that metric differs by one."""
    pop = Population()
    crowd(pop, 5, ("C", "50-249", "dach"), 4, "c")
    pop.submit(
        "target", ("C", "1-9", "dach"), {"overall": 40, "phase": 2, "dim_crisis": 7}
    )
    crowd(pop, 4, ("C", "1-9", "dach"), 5, "d", metrics=("overall", "phase"))
    crowd(pop, 40, ("J", "1-9", "nordics"), 6, "o")
    return pop, 7


def test_attack_b_metric_differencing_naive_recovers_the_org() -> None:
    pop, value = dont_know_population()
    counts = pop.counts()
    assert counts[P] - counts[CH] == K
    assert naive_privacy.release(P, counts, K).status == privacy.RELEASED
    assert naive_privacy.release(CH, counts, K).status == privacy.RELEASED
    n_p = histograms.hist_count(pop.hist(P, "dim_crisis"))
    n_ch = histograms.hist_count(pop.hist(CH, "dim_crisis"))
    assert (n_p, n_ch) == (6, 5)  # both >= k: today's metric rule releases both
    assert subtract(pop.hist(P, "dim_crisis"), pop.hist(CH, "dim_crisis")) == {value: 1}


def test_attack_b_metric_differencing_release_blocks_it() -> None:
    pop, _ = dont_know_population()
    r = pop.release("r1")
    assert releases.audit(r) == []
    p_cell, ch_cell = r.released(CellKey("all", P)), r.released(CellKey("all", CH))
    assert p_cell is not None and ch_cell is not None  # the counts are fine ...
    shown = [c.figures("dim_crisis") for c in (p_cell, ch_cell)]
    assert None in shown  # ... but the metric is suppressed in one of them
    assert (p_cell.figures("overall"), ch_cell.figures("overall")) != (None, None)
    siblings = [Cohort("C", s, "dach") for s in ("1-9", "50-249")]
    group = smallest_group(r, P, siblings, "dim_crisis")
    assert group is None or group >= K


def test_mixed_populations_all_parent_minus_a_users_child_is_checked() -> None:
    """all(C,10-49,*) minus users(C,10-49,dach) would leave the 3 non-users: the
    attacker subtracts a child's users cell where its all cell is suppressed."""
    pop = Population()
    crowd(pop, 10, ("C", "1-9", "dach"), 20, "a")
    crowd(pop, 6, ("C", "10-49", "dach"), 21, "u")
    pop.submit("nonuser", ("C", "10-49", "dach"), {"overall": 3}, users=False)
    pop.submit("n1", ("C", "10-49", "nordics"), {"overall": 1}, users=False)
    pop.submit("n2", ("C", "10-49", "nordics"), {"overall": 2}, users=False)
    crowd(pop, 40, ("J", "1-9", "nordics"), 23, "o")
    r = pop.release("r1")
    parent = Cohort("C", "10-49", ALL)
    children = [Cohort("C", "10-49", "dach"), Cohort("C", "10-49", "nordics")]
    assert brute_force_attack(r, K) == []
    p = published_n(r, parent)
    if p is None:  # suppressed itself: nothing to subtract from
        return
    options = [
        [0]
        + [
            n
            for pop_ in ("all", "users")
            if (n := published_n(r, c, population=pop_)) is not None
        ]
        for c in children
    ]
    for choice in itertools.product(*options):
        d = p - sum(choice)
        assert d == 0 or d >= K, choice


def two_level_population() -> Population:
    pop = Population()
    crowd(pop, 10, ("C", "1-9", "dach"), 1, "a")
    crowd(pop, 10, ("C", "1-9", "nordics"), 2, "b")
    crowd(pop, 10, ("C", "10-49", "dach"), 3, "c")
    crowd(pop, 1, ("C", "10-49", "nordics"), 4, "d")
    crowd(pop, 2, ("C", ALL, "dach"), 5, "e")  # size not given
    crowd(pop, 40, ("J", "1-9", "nordics"), 6, "o")
    return pop


def test_two_level_differencing_through_a_suppressed_cell_is_blocked() -> None:
    """(C,*,*) - (C,1-9,*) - (C,10-49,dach) isolates 3 organisations (2 without a size,
    1 in 10-49/nordics) although (C,10-49,*) itself is suppressed: the attacker replaces a
    suppressed part by its published children."""
    r = two_level_population().release("r1")
    assert releases.audit(r) == []
    top = published_n(r, Cohort("C", ALL, ALL))
    small = published_n(r, Cohort("C", "1-9", ALL))
    mid_dach = published_n(r, Cohort("C", "10-49", "dach"))
    assert r.released(CellKey("all", Cohort("C", "10-49", ALL))) is None
    if top is not None and small is not None and mid_dach is not None:
        assert top - small - mid_dach >= K


# --- attack (c): time differencing ------------------------------------------------------------
def test_attack_c_time_differencing_naive_recovers_the_org() -> None:
    pop = Population()
    crowd(pop, 12, ("C", "50-249", "dach"), 7, "c")
    before = {m: pop.hist(CH, m) for m in METRICS}
    target = {"overall": 66, "phase": 4, "dim_crisis": 12}
    pop.submit("target", ("C", "50-249", "dach"), target)
    for m, v in target.items():
        assert subtract(pop.hist(CH, m), before[m]) == {v: 1}


def public(r: Release) -> dict[str, Any]:
    return {
        k.key: {
            x: y
            for x, y in releases.public_cell(r, k).items()
            if x not in ("release", "released_at")
        }
        for k in r.cells
    }


def test_attack_c_time_differencing_release_blocks_it_and_erasure_flows_through() -> (
    None
):
    pop = Population()
    crowd(pop, 12, ("C", "50-249", "dach"), 7, "c")
    crowd(pop, 30, ("J", "1-9", "nordics"), 8, "o")
    r1 = pop.release("r1")
    assert r1.released(CellKey("all", CH)) is not None
    pop.submit(
        "target", ("C", "50-249", "dach"), {"overall": 66, "phase": 4, "dim_crisis": 12}
    )
    r2 = pop.release("r2", r1)
    assert public(r2) == public(r1)  # one submission: nothing changes anywhere
    assert releases.audit(r2) == []
    cell = r2.released(CellKey("all", CH))
    assert cell is not None and cell.computed_in == "r1"

    # k - 2 more joins (k - 1 changes in all): still the r1 figures
    for i in range(K - 2):
        pop.submit(f"late{i}", ("C", "50-249", "dach"), {"overall": 50})
    r3 = pop.release("r3", r2)
    assert public(r3) == public(r1)
    # the k-th change: recomputed, and the difference to r1 is a group of k organisations
    pop.submit("late-k", ("C", "50-249", "dach"), {"overall": 50})
    r4 = pop.release("r4", r3)
    cell4 = r4.released(CellKey("all", CH))
    assert cell4 is not None and cell4.computed_in == "r4"
    assert cell4.n - cell.n == K

    # erasure: the cells of the erased organisation are withheld (their figures would still
    # contain it) until k changes, then recomputed without it
    pop.erase("target")
    r5 = pop.release("r5", r4)
    assert r5.cell(CellKey("all", CH)).status == releases.WITHHELD
    assert r5.cell(CellKey("all", Cohort("J", ALL, ALL))).status == privacy.RELEASED
    for key in (CellKey("all", g) for g in CH.generalisations()):
        assert r5.cell(key).status != privacy.RELEASED or (
            isinstance(c := r5.cell(key), ReleasedCell) and c.computed_in == "r5"
        )
    for i in range(K - 1):
        pop.submit(f"after{i}", ("C", "50-249", "dach"), {"overall": 10})
    r6 = pop.release("r6", r5)
    cell6 = r6.released(CellKey("all", CH))
    assert cell6 is not None and cell6.computed_in == "r6"
    state = pop.cells()[CellKey("all", CH)]
    assert cell6.n == state.count == 12 + (K - 1) + (K - 1)  # target gone
    assert cell6.figures("overall") == releases.metric_figures(
        "overall", state.bins["overall"]
    )
    crowd_values = [pop.images[f"c{i}"]["m"]["dim_crisis"] for i in range(12)]
    assert state.bins["dim_crisis"] == [crowd_values.count(v) for v in range(101)]


# --- attack (d): percentile ranks to two decimals ---------------------------------------------
def rebuild_from_ranks(rank: Any, n: int) -> list[int]:
    """Exact histogram from percentile ranks of every value (kind="mean") and n."""
    counts, below = [], 0
    for x in range(101):
        r = rank(x)
        equal = round(2 * (n * r / 100 - below))
        counts.append(equal)
        below += equal
    return counts


def test_attack_d_two_decimal_ranks_naive_rebuild_the_histogram() -> None:
    rnd = random.Random(9)
    scores = [rnd.randrange(101) for _ in range(23)]
    exact = [scores.count(x) for x in range(101)]
    rebuilt = rebuild_from_ranks(
        lambda x: round(histograms.percentile_rank(exact, x) or 0, 2), len(scores)
    )
    assert rebuilt == exact


def test_attack_d_release_ranks_are_whole_and_depend_only_on_coarse_shares() -> None:
    def release_of(scores: list[int]) -> Release:
        pop = Population()
        for i, s in enumerate(scores):
            pop.submit(f"a{i}", ("C", "50-249", "dach"), {"overall": s})
        return pop.release("r1")

    a = release_of([41, 42, 43, 55, 56, 57, 70, 71, 90, 100])
    b = release_of([48, 49, 40, 50, 59, 51, 79, 72, 99, 91])  # same 10-point bands
    ranks_a = [
        releases.rank_against_release(a, CH, "overall", x, "all") for x in range(101)
    ]
    ranks_b = [
        releases.rank_against_release(b, CH, "overall", x, "all") for x in range(101)
    ]
    assert all(isinstance(r, int) for r in ranks_a)
    assert ranks_a == ranks_b  # the attacker cannot tell the two cohorts apart
    assert ranks_a[0] == 0 and ranks_a[100] >= 95 and ranks_a == sorted(ranks_a)
    doc_a = releases.public_cell(a, CellKey("all", CH))["metrics"]["overall"]
    doc_b = releases.public_cell(b, CellKey("all", CH))["metrics"]["overall"]
    # everything but the (whole-number) mean is a function of the banded shares
    assert {**doc_a, "mean": None} == {**doc_b, "mean": None}
    assert doc_a["n"] == "10-19" and doc_a["mean"] != doc_b["mean"]


def test_ranks_are_mid_ranks_of_the_released_shares() -> None:
    pop = Population()
    for i in range(10):  # phases 2 and 3, half each; overall 40..49 and 60..69
        pop.submit(
            f"a{i}",
            ("C", "50-249", "dach"),
            {"phase": 2 + i % 2, "overall": (40 if i % 2 else 60) + i},
        )
    r = pop.release("r1")

    def rank(metric: str, value: int) -> int | None:
        return releases.rank_against_release(r, CH, metric, value, "all")

    assert [rank("phase", v) for v in (0, 2, 3, 7)] == [0, 25, 75, 100]
    assert rank("overall", 0) == 0 and rank("overall", 100) == 100
    assert (
        rank("overall", 40) == 3 and rank("overall", 49) == 48
    )  # inside the 40-49 band
    assert rank("overall", 55) == 50  # between the two bands
    assert rank("overall", 101) is None and rank("phase", 8) is None


def test_rank_is_none_when_not_released() -> None:
    pop = Population()
    crowd(pop, 3, ("C", "50-249", "dach"), 10, "c")
    r = pop.release("r1")
    assert releases.rank_against_release(r, CH, "overall", 50, "all") is None
    assert (
        releases.rank_against_release(r, CH, "overall", 50) is None
    )  # users below k too


# --- the rules on random grids ----------------------------------------------------------------
def random_population(seed: int, n: int) -> Population:
    rnd = random.Random(seed)
    pop = Population()
    for i in range(n):
        cohort = (
            rnd.choice(["C", "J", "M", ALL]),
            rnd.choice(["1-9", "10-49", "50-249"]),
            rnd.choice(["dach", "nordics"]),
        )
        metrics = {
            m: rnd.randrange(agg.metric_bins(m)) for m in METRICS if rnd.random() < 0.75
        }
        pop.submit(f"a{i}", cohort, metrics, users=rnd.random() < 0.7)
    return pop


def check_release(r: Release, k: int) -> None:
    assert releases.audit(r) == []
    assert brute_force_attack(r, k) == []
    for cell in r.cells.values():
        if isinstance(cell, ReleasedCell):
            assert cell.n >= k
            for f in cell.metrics.values():
                assert isinstance(f, str) or (f.n >= k and sum(f.shares) == 100)


def brute_force_attack(r: Release, k: int) -> list[tuple[str, str, int]]:
    """Independent of the builder's partition code: for every published cell and every
    dimension where it is ``*``, subtract every combination of its children's published
    cells (for an ``all`` parent a child's ``all`` or ``users`` cell, or nothing), and its
    own ``users`` cell, for the count and each metric; collect groups of 1..k-1."""
    found = []
    measures = [releases.COUNT, *METRICS]
    keys = list(r.cells)
    for parent in keys:
        for measure in measures:
            p = published_n(r, parent.cohort, measure, parent.population)
            if p is None:
                continue
            fields = (parent.cohort.industry, parent.cohort.size, parent.cohort.region)
            groups: list[list[CellKey]] = []
            for d in range(3):
                if fields[d] != ALL:
                    continue
                children = [
                    c.cohort
                    for c in keys
                    if c.population == parent.population
                    and all(
                        (c.cohort.industry, c.cohort.size, c.cohort.region)[j]
                        == fields[j]
                        for j in range(3)
                        if j != d
                    )
                    and (c.cohort.industry, c.cohort.size, c.cohort.region)[d] != ALL
                ]
                groups.append(children)
            if parent.population == "all":
                groups.append([])  # only the cell's own users cell below
            for children in groups:
                options = []
                for c in children:
                    alts = [0]
                    for pop_ in (
                        ("all", "users") if parent.population == "all" else ("users",)
                    ):
                        n = published_n(r, c, measure, pop_)
                        if n is not None:
                            alts.append(n)
                    options.append(alts)
                if parent.population == "all" and not children:
                    own = published_n(r, parent.cohort, measure, "users")
                    options.append([0] if own is None else [0, own])
                for choice in itertools.product(*options):
                    d = p - sum(choice)
                    if 0 < d < k:
                        found.append((parent.key, measure, d))
    return found


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 150), st.integers(2, 6))
def test_every_release_passes_its_audit(seed: int, n: int, k: int) -> None:
    r = random_population(seed, n).release("r1", k=k)
    check_release(r, k)


def test_the_brute_force_attack_finds_groups_when_nothing_is_suppressed() -> None:
    """The independent attacker is not blind: with k=1 (every cell shown) it finds groups."""
    pop, _ = sibling_population()
    naive = releases.build_release(
        pop.cells(), 1, None, "naive", "t", GRID
    )  # k=1: all shown
    assert brute_force_attack(naive, K) != []


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32), st.integers(2, 5))
def test_figures_change_only_after_k_changes(seed: int, k: int) -> None:
    rnd = random.Random(seed)
    pop = random_population(seed, 60)
    prev = pop.release("r0", k=k)
    for step in range(1, 6):
        before = {key: s.changes for key, s in pop.cells().items()}
        for i in range(rnd.randrange(0, 2 * k)):
            if pop.images and rnd.random() < 0.3:
                pop.erase(rnd.choice(sorted(pop.images)))
            else:
                pop.submit(
                    f"n{step}-{i}",
                    (rnd.choice(["C", "J"]), "1-9", "dach"),
                    {"overall": rnd.randrange(101)},
                )
        r = pop.release(f"r{step}", prev, k=k)
        check_release(r, k)
        for key, cell in r.cells.items():
            if isinstance(cell, ReleasedCell) and cell.computed_in != r.id:
                old = prev.released(key) or getattr(prev.cell(key), "held", None)
                assert old is not None and old.computed_in == cell.computed_in
                assert old.n == cell.n
                state = pop.cells()[key]
                assert state.changes - old.changes < k
                assert (
                    state.removals == old.removals
                )  # no erasure hidden in old figures
        del before
        prev = r


def test_rebuilt_aggregates_with_reset_counters_are_withheld_not_carried() -> None:
    pop = Population()
    crowd(pop, 12, ("C", "50-249", "dach"), 30, "c")
    r1 = pop.release("r1")
    rebuilt = Population()  # the same organisations folded again: counters restart
    crowd(rebuilt, 12, ("C", "50-249", "dach"), 30, "c")
    crowd(rebuilt, 1, ("C", "50-249", "dach"), 31, "x")
    states = {
        key: CohortState(s.count, s.bins, s.months, 0, 0, s.applied)
        for key, s in rebuilt.cells().items()
    }
    r2 = releases.build_release(states, K, r1, "r2", "t2", GRID)
    assert r2.cell(CellKey("all", CH)).status == releases.WITHHELD


def _inside(q: CellKey, p: CellKey) -> bool:
    if p.population == "users" and q.population != "users":
        return False
    pairs = zip(
        (p.cohort.industry, p.cohort.size, p.cohort.region),
        (q.cohort.industry, q.cohort.size, q.cohort.region),
        strict=True,
    )
    return all(pv in (ALL, qv) for pv, qv in pairs)


def _disjoint(a: CellKey, b: CellKey) -> bool:
    pairs = zip(
        (a.cohort.industry, a.cohort.size, a.cohort.region),
        (b.cohort.industry, b.cohort.size, b.cohort.region),
        strict=True,
    )
    return any(ALL not in (x, y) and x != y for x, y in pairs)


def family_sums(
    cells: list[CellKey], pub: Mapping[CellKey, int], most: int
) -> set[int]:
    """Totals of every family of up to ``most`` pairwise disjoint cells."""
    sums: set[int] = set()
    stack: list[tuple[int, list[CellKey], int]] = [(0, [], 0)]
    while stack:
        start, chosen, total = stack.pop()
        sums.add(total)
        if len(chosen) == most:
            continue
        for i in range(start, len(cells)):
            q = cells[i]
            if all(_disjoint(q, c) for c in chosen):
                stack.append((i + 1, [*chosen, q], total + pub[q]))
    return sums


def disjoint_family_leaks(r: Release, k: int, most: int = 4) -> list[tuple[str, int]]:
    """Independent of any partition tree: published cells P and totals t of families of
    pairwise disjoint published cells inside P (pinwheels included) with 0 < P - t < k or
    t > P."""
    pub = {key: c.n for key, c in r.cells.items() if isinstance(c, ReleasedCell)}
    found = []
    for parent, n in pub.items():
        cells = [q for q in pub if q != parent and _inside(q, parent)]
        found += [
            (parent.key, t)
            for t in family_sums(cells, pub, most)
            if 0 < n - t < k or t > n
        ]
    return found


def test_no_family_of_up_to_four_disjoint_published_cells_isolates_a_small_group() -> (
    None
):
    for seed in range(12):
        r = random_population(seed, 60 + 5 * seed).release("r1")
        assert disjoint_family_leaks(r, K) == [], seed
    assert disjoint_family_leaks(two_level_population().release("r1"), K) == []


def test_a_release_is_deterministic() -> None:
    pop = random_population(15, 200)
    cells = pop.cells()
    shuffled = dict(sorted(cells.items(), key=lambda kv: hash(kv[0].key) % 97))
    a = releases.build_release(cells, K, None, "r1", "t", GRID)
    b = releases.build_release(shuffled, K, None, "r1", "t", GRID)
    assert a == b
    assert releases.release_to_items(a) == releases.release_to_items(b)


def test_complementary_suppression_terminates_on_a_dense_grid() -> None:
    pop = random_population(11, 400)
    r = pop.release("r1")
    check_release(r, K)
    assert sum(isinstance(c, ReleasedCell) for c in r.cells.values()) > 10


# --- rounding and the codec -------------------------------------------------------------------
def test_count_bands() -> None:
    assert [releases.n_band(n, 5) for n in (5, 9, 10, 19, 20, 49, 50, 120, 12000)] == [
        "5-9",
        "5-9",
        "10-19",
        "10-19",
        "20-49",
        "20-49",
        "50-99",
        "100-249",
        "10000+",
    ]
    assert releases.n_band(12, 12) == "12-19"


def test_shares_sum_to_100_and_quantiles_come_from_them() -> None:
    assert releases.whole_percent_shares([1, 1, 1]) == (34, 33, 33)
    assert releases.whole_percent_shares([0, 0]) == (0, 0)
    f = releases.metric_figures("overall", [0] * 45 + [10] + [0] * 55)
    assert f.shares[4] == 100 and f.mean == 45
    q = releases.released_quantiles("overall", f)
    assert all(40 <= v <= 49 for v in q.values()) and q["median"] in (44, 45)
    ph = releases.metric_figures("phase", [0, 0, 5, 5, 0, 0, 0, 0])
    assert ph.shares == (0, 0, 50, 50, 0, 0, 0, 0)
    assert releases.released_quantiles("phase", ph)["p25"] == 2


def test_released_histogram_uses_public_figures_only() -> None:
    a = releases.MetricFigures(23, 51, (0, 0, 0, 10, 20, 40, 30, 0, 0, 0))
    b = releases.MetricFigures(
        49, 58, (0, 0, 0, 10, 20, 40, 30, 0, 0, 0)
    )  # same band 20-49
    h = releases.released_histogram("overall", a, K)
    assert h == releases.released_histogram("overall", b, K)
    assert h == {34: 2, 44: 4, 54: 8, 64: 6} and sum(h.values()) == 20
    ph = releases.MetricFigures(7, 3, (0, 0, 0, 60, 40, 0, 0, 0))
    assert releases.released_histogram("phase", ph, K) == {3: 3, 4: 2}  # floor of 5-9


def test_codec_round_trip_and_item_size() -> None:
    pop = random_population(12, 300)
    r1 = pop.release("r1")
    crowd(pop, 3, ("C", "1-9", "dach"), 13, "late")
    pop.erase("a0")
    r2 = pop.release("r2", r1)
    metrics = (
        [f"dim_{i}" for i in range(9)]
        + ["overall", "phase", "pyramid_level"]
        + [f"tier_{i}" for i in range(5)]
    )
    big = ReleasedCell(
        12345,
        ("2026-01", "2026-12"),
        {m: releases.MetricFigures(12000, 57, (10,) * 10) for m in metrics},
        "2026-12-03T10:00:00Z#0042",
        "2026-12-03T10:00:00Z",
        99999,
        9999,
    )
    worst = SuppressedCell(releases.WITHHELD, big)
    for r in (r1, r2):
        items = releases.release_to_items(r)
        text = json.dumps(items)
        back = releases.release_from_items(json.loads(text))
        assert back == r
        for key, cell in r.cells.items():
            assert releases.cell_from_item(
                json.loads(json.dumps(releases.cell_to_item(key, cell)))
            ) == (key, cell)
    item = releases.cell_to_item(CellKey("users", Cohort("C", "50-249", "dach")), worst)
    assert (
        len(json.dumps(item, separators=(",", ":"))) <= 2000
    )  # 17 metrics, held figures
    assert releases.cell_from_item(item)[1] == worst


def test_public_cell_never_shows_exact_counts() -> None:
    pop = random_population(14, 200)
    r = pop.release("r1")
    for key, cell in r.cells.items():
        doc = releases.public_cell(r, key)
        assert doc["release"] == "r1" and doc["released_at"] == r.created_at
        if isinstance(cell, ReleasedCell):
            assert doc["n"] == releases.n_band(cell.n, K)
            for m in doc["metrics"].values():
                assert set(m) <= {
                    "status",
                    "n",
                    "mean",
                    "p10",
                    "p25",
                    "median",
                    "p75",
                    "p90",
                    "histogram_percent",
                }
        text = json.dumps(doc)
        assert '"changes"' not in text and '"removals"' not in text
