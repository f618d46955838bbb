"""Pure release rules for benchmark figures.

- Minimum cohort size k: no figure about a cohort of fewer than k organisations is released.
- Differencing: if a cohort C and a roll-up A containing it could both be released while
  0 < n(A) - n(C) < k, subtracting C from A would reveal a group smaller than k. Such a C is
  suppressed; A, the larger group, stays. The rule is evaluated per cohort against all of its
  roll-ups, so it does not depend on which cohort was asked for first.
- Populations: the organisations that use social media (``users``) are a subset of all
  organisations of the same cohort, so a ``users`` cohort is also checked against the
  ``all`` counts of itself and of its roll-ups (``outer``): otherwise the two answers of one
  cohort would reveal the few non-users in it.
- "below threshold" (some data, fewer than k) is reported distinctly from "no data".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.cohorts import ALL, Cohort

RELEASED = "released"
BELOW_THRESHOLD = "below_threshold"
NO_DATA = "no_data"
DIFFERENCING = "suppressed_differencing"


@dataclass(frozen=True)
class Release:
    cohort: Cohort
    status: str
    n: int | None  # only disclosed when released
    reason: str


def release(
    cohort: Cohort,
    counts: Mapping[Cohort, int],
    k: int,
    outer: Mapping[Cohort, int] | None = None,
) -> Release:
    """Whether the figures of ``cohort`` may be released, given the counts of the cohort and
    of every roll-up containing it, and, for a sub-population, ``outer``: the counts of the
    population containing it (all organisations), for the cohort and its roll-ups."""
    n = counts.get(cohort, 0)
    if n <= 0:
        return Release(cohort, NO_DATA, None, "no submissions in this cohort")
    if n < k:
        return Release(cohort, BELOW_THRESHOLD, None, f"fewer than {k} organisations")
    for parent in cohort.generalisations():
        if parent == cohort:
            continue
        diff = counts.get(parent, 0) - n
        if 0 < diff < k:
            return Release(
                cohort,
                DIFFERENCING,
                None,
                f"differs from '{parent.label()}' by fewer than {k} organisations",
            )
    for parent in cohort.generalisations() if outer is not None else ():
        diff = (outer or {}).get(parent, 0) - n
        if 0 < diff < k:
            return Release(
                cohort,
                DIFFERENCING,
                None,
                f"differs from '{parent.label()}' including non-users of social media"
                f" by fewer than {k} organisations",
            )
    return Release(cohort, RELEASED, n, "released")


COMPLEMENT = "suppressed_complement"


def complementary_suppression(
    total: int | None, released: dict[str, int], k: int
) -> set[str]:
    """For a table that publishes a roll-up and several of its parts together: the parts to
    suppress as well so that the roll-up minus the published parts (the suppressed parts
    taken together) is either empty or at least k. Smallest parts go first."""
    if total is None:
        return set()
    shown = dict(released)
    suppressed: set[str] = set()
    while shown:
        rest = total - sum(shown.values())
        if rest == 0 or rest >= k:
            break
        smallest = min(shown, key=lambda c: (shown[c], c))
        suppressed.add(smallest)
        del shown[smallest]
    return suppressed


def fallback_chain(requested: Cohort) -> list[Cohort]:
    """industry+size+region -> industry+size -> industry -> all (duplicates dropped)."""
    steps = [
        requested,
        Cohort(requested.industry, requested.size, ALL),
        Cohort(requested.industry, ALL, ALL),
        Cohort(ALL, ALL, ALL),
    ]
    return list(dict.fromkeys(steps))


def choose(
    requested: Cohort,
    counts: Mapping[Cohort, int],
    k: int,
    outer: Mapping[Cohort, int] | None = None,
) -> tuple[Release | None, list[Release]]:
    """Walk the fallback chain; return the first releasable cohort (or None) and every step
    with its status, so the answer can say which cohort was used and why."""
    steps: list[Release] = []
    for c in fallback_chain(requested):
        r = release(c, counts, k, outer)
        steps.append(r)
        if r.status == RELEASED:
            return r, steps
    return None, steps


def overall_status(steps: list[Release]) -> str:
    """What to say when nothing could be released: below threshold if any step had data."""
    if any(s.status == RELEASED for s in steps):
        return RELEASED
    if all(s.status == NO_DATA for s in steps):
        return NO_DATA
    return BELOW_THRESHOLD
