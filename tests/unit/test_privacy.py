"""Release rules, attacked directly."""

from __future__ import annotations

from chalicelib import privacy
from chalicelib.cohorts import ALL, Cohort

C = Cohort("C", "50-249", "dach")


def counts(**kw: int) -> dict[Cohort, int]:
    """Counts for C's lattice; unspecified roll-ups get a large, safe number."""
    out = {g: 1000 for g in C.generalisations()}
    names = {
        "c": C,
        "is_": Cohort("C", "50-249", ALL),
        "i": Cohort("C", ALL, ALL),
        "all": Cohort(),
    }
    for k, v in kw.items():
        out[names[k]] = v
    return out


def test_below_k_is_not_released_and_distinct_from_no_data() -> None:
    assert privacy.release(C, counts(c=4), 5).status == privacy.BELOW_THRESHOLD
    assert privacy.release(C, counts(c=4), 5).n is None  # n not disclosed either
    assert privacy.release(C, counts(c=0), 5).status == privacy.NO_DATA
    assert (
        privacy.release(C, counts(c=5, is_=20, i=20, all=20), 5).status
        == privacy.RELEASED
    )


def test_differencing_attack_is_blocked() -> None:
    """Parent 12, child 10: releasing both would expose a group of 2 by subtraction."""
    r = privacy.release(C, counts(c=10, is_=12), 5)
    assert r.status == privacy.DIFFERENCING
    # the parent itself is still released (against its own roll-ups)
    parent = Cohort("C", "50-249", ALL)
    assert privacy.release(parent, counts(c=10, is_=12), 5).status == privacy.RELEASED


def test_equal_or_far_apart_roll_ups_are_fine() -> None:
    assert (
        privacy.release(C, counts(c=10, is_=10), 5).status == privacy.RELEASED
    )  # same group
    assert (
        privacy.release(C, counts(c=10, is_=15), 5).status == privacy.RELEASED
    )  # differ by k


def test_every_releasable_pair_differs_by_zero_or_at_least_k() -> None:
    """Exhaustive over small lattices: no released child and released parent differ by 1..k-1."""
    import itertools

    k = 3
    for n_c, n_p, n_top in itertools.product(range(8), repeat=3):
        if not (n_c <= n_p <= n_top):
            continue
        cnt = {g: n_top for g in C.generalisations()}
        cnt[C] = n_c
        cnt[Cohort("C", "50-249", ALL)] = n_p
        rc = privacy.release(C, cnt, k)
        rp = privacy.release(Cohort("C", "50-249", ALL), cnt, k)
        if rc.status == rp.status == privacy.RELEASED:
            assert n_p - n_c == 0 or n_p - n_c >= k


def test_fallback_chain_and_choice() -> None:
    assert privacy.fallback_chain(C) == [
        C,
        Cohort("C", "50-249", ALL),
        Cohort("C", ALL, ALL),
        Cohort(),
    ]
    assert privacy.fallback_chain(Cohort()) == [Cohort()]
    chosen, steps = privacy.choose(C, counts(c=3, is_=3, i=40, all=40), 5)
    assert chosen is not None and chosen.cohort == Cohort("C", ALL, ALL)
    assert [s.status for s in steps] == [
        privacy.BELOW_THRESHOLD,
        privacy.BELOW_THRESHOLD,
        privacy.RELEASED,
    ]
    nothing, steps = privacy.choose(C, {g: 0 for g in C.generalisations()}, 5)
    assert nothing is None and privacy.overall_status(steps) == privacy.NO_DATA


def test_complementary_suppression_closes_the_subtraction_attack() -> None:
    # total 19 = 8 + 7 + 4 (the 4 are below k): showing 8 and 7 would reveal the 4
    assert privacy.complementary_suppression(19, {"C": 8, "M": 7}, 5) == {"M"}
    # the remainder is already empty or large enough: nothing more to hide
    assert privacy.complementary_suppression(15, {"C": 8, "M": 7}, 5) == set()
    assert privacy.complementary_suppression(25, {"C": 8, "M": 7}, 5) == set()
    # it keeps going until the remainder is safe (2 -> 7 after hiding the 5)
    assert privacy.complementary_suppression(20, {"A": 5, "B": 6, "C": 7}, 5) == {"A"}
    assert privacy.complementary_suppression(None, {"A": 5}, 5) == set()
    import itertools

    for parts in itertools.product(range(9), repeat=3):
        shown = {f"p{i}": n for i, n in enumerate(parts) if n >= 5}
        for hidden_total in range(6):
            total = sum(parts) + hidden_total
            if total < 5:
                continue  # a total below k is never released itself
            hide = privacy.complementary_suppression(total, shown, 5)
            rest = total - sum(n for c, n in shown.items() if c not in hide)
            assert rest == 0 or rest >= 5


def test_users_cohort_is_checked_against_all_organisations() -> None:
    """6 users among 8 organisations: releasing both would expose the 2 non-users."""
    users = counts(c=6, is_=50, i=50, all=50)
    everyone = counts(c=8, is_=60, i=60, all=60)
    r = privacy.release(C, users, 5, outer=everyone)
    assert r.status == privacy.DIFFERENCING and r.n is None
    assert "non-users" in r.reason
    assert privacy.release(C, everyone, 5).status == privacy.RELEASED
    # a roll-up of all organisations that is close to the users cohort counts as well
    close = counts(c=6, is_=50, i=50, all=50) | {Cohort("C", "50-249", ALL): 8}
    assert privacy.release(C, users, 5, outer=close).status == privacy.DIFFERENCING
    # equal (no non-users) or at least k apart: released
    assert privacy.release(C, users, 5, outer=users).status == privacy.RELEASED
    apart = counts(c=11, is_=60, i=60, all=60)
    assert privacy.release(C, users, 5, outer=apart).status == privacy.RELEASED
    chosen, steps = privacy.choose(C, users, 5, outer=everyone)
    assert steps[0].status == privacy.DIFFERENCING
    assert chosen is not None and chosen.cohort != C
