"""The composition root: nothing is read before it is needed, and every service of one
container works over the same parts."""

from __future__ import annotations

import pytest

from chalicelib.container import Container


def test_creating_a_container_reads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORE", "no-such-store")
    monkeypatch.setenv("SMM_SECRET", "s" * 40)
    monkeypatch.setenv("BENCHMARK_MIN_COHORT", "not a number")
    c = Container()  # neither the store nor the settings are built yet
    assert not c.built("store") and not c.built("settings")
    with pytest.raises(ValueError, match="STORE must be"):
        _ = c.store
    with pytest.raises(ValueError, match="BENCHMARK_MIN_COHORT"):
        _ = c.settings


def test_services_share_the_parts_passed_in(
    sqlite_store, catalog, settings, clock
) -> None:  # type: ignore[no-untyped-def]
    c = Container(store=sqlite_store, catalog=catalog, settings=settings, clock=clock)
    assert c.assessments.store is sqlite_store and c.assessments.clock is clock
    b = c.benchmarks
    assert (b.store, b.catalog, b.settings) == (sqlite_store, catalog, settings)
    assert b.assessments is c.assessments  # built once per container
    assert c.exports.benchmarks is b and c.exports.assessments is c.assessments
    assert c.statistics.benchmarks is b
    for svc in (c.partners, c.webhooks, c.brandings, c.rate_limiter, c.lists):
        assert svc.store is sqlite_store
    assert c.rate_limiter.clock is clock
    assert c.lists.secret == settings.secret
    again = Container.of(c.assessments)
    assert (again.store, again.catalog, again.settings, again.clock) == (
        sqlite_store,
        catalog,
        settings,
        clock,
    )
