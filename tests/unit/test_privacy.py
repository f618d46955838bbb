"""The fallback chain and the overall status of a benchmark answer (the release rules
themselves are tested in test_releases.py; the per-request rules that lived in privacy.py
were replaced by releases, issue 15)."""

from __future__ import annotations

from chalicelib import privacy
from chalicelib.cohorts import ALL, Cohort

C = Cohort("C", "50-249", "dach")


def test_fallback_chain() -> None:
    assert privacy.fallback_chain(C) == [
        C,
        Cohort("C", "50-249", ALL),
        Cohort("C", ALL, ALL),
        Cohort(),
    ]
    assert privacy.fallback_chain(Cohort()) == [Cohort()]
    assert privacy.fallback_chain(Cohort("C", ALL, "dach")) == [
        Cohort("C", ALL, "dach"),
        Cohort("C", ALL, ALL),
        Cohort(),
    ]


def step(status: str) -> privacy.Release:
    return privacy.Release(C, status, None, "")


def test_overall_status() -> None:
    assert privacy.overall_status([step(privacy.NO_DATA)] * 3) == privacy.NO_DATA
    assert (
        privacy.overall_status([step(privacy.NO_DATA), step(privacy.COMPLEMENT)])
        == privacy.BELOW_THRESHOLD
    )
    assert (
        privacy.overall_status([step(privacy.BELOW_THRESHOLD), step(privacy.RELEASED)])
        == privacy.RELEASED
    )
