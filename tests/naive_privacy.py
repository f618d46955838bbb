"""The per-request release rule that issue 15 attacked (it lived in chalicelib/privacy.py
before releases): kept here only as the baseline the attack tests show failing."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.cohorts import Cohort
from chalicelib.privacy import (
    BELOW_THRESHOLD,
    NO_DATA,
    RELEASED,
    Release,
    fallback_chain,
)

DIFFERENCING = "suppressed_differencing"


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
    return Release(cohort, RELEASED, str(n), "released")


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
