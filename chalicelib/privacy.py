"""Statuses of benchmark figures and the fallback chain of a requested cohort.

The rules that decide what is released are the benchmark releases' (chalicelib/releases,
docs/RELEASES.md): thresholds per cell and per metric, carry-over until k changes,
complementary suppression over the whole lattice. The per-request rules that lived here
(``release``/``choose`` against a cohort's own roll-ups, ``complementary_suppression`` of an
export table) were attacked successfully (issue 15) and are gone; routes read releases.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.cohorts import ALL, Cohort

RELEASED = "released"
BELOW_THRESHOLD = "below_threshold"
NO_DATA = "no_data"


@dataclass(frozen=True)
class Release:
    """One step of the fallback chain: a cohort's status in the latest release."""

    cohort: Cohort
    status: str
    n: str | None  # the released n band, only when released
    reason: str


COMPLEMENT = "suppressed_complement"


def fallback_chain(requested: Cohort) -> list[Cohort]:
    """industry+size+region -> industry+size -> industry -> all (duplicates dropped)."""
    steps = [
        requested,
        Cohort(requested.industry, requested.size, ALL),
        Cohort(requested.industry, ALL, ALL),
        Cohort(ALL, ALL, ALL),
    ]
    return list(dict.fromkeys(steps))


def overall_status(steps: list[Release]) -> str:
    """What to say when nothing could be released: below threshold if any step had data."""
    if any(s.status == RELEASED for s in steps):
        return RELEASED
    if all(s.status == NO_DATA for s in steps):
        return NO_DATA
    return BELOW_THRESHOLD
