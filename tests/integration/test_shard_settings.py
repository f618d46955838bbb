"""Changing GLOBAL_SHARDS never corrupts counts (issue 15, item 6), on both stores.

Submissions counted with one shard count, then erasures and more submissions under another
(lower: 8 -> 2, higher: 8 -> 16): the global roll-up equals the exact fold of the remaining
submissions, no stored counter is ever negative, and the public API reports the n band of
the exact count after a release.
Records stored before they kept their shard count are erased with
``Settings.legacy_global_shards``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib import cohorts
from chalicelib.aggregation import CellKey, Grid
from chalicelib.assessments import populations_of
from chalicelib.config import Settings
from chalicelib.container import Container
from chalicelib.questionnaire import Questionnaire
from chalicelib.records import POPULATIONS, Aggregate, AssessmentRecord
from chalicelib.releases import n_band
from chalicelib.request_models import SubmissionIn
from tests import orgs
from tests.cells import drain
from tests.conftest import SECRET

ADAPTERS = ["sqlite", "dynamodb"]


@pytest.fixture(params=ADAPTERS)
def store(request, tmp_path) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        from chalicelib.storage.sqlite import SqliteStore

        s = SqliteStore(str(tmp_path / "shards.sqlite3"))
        yield s
        s.close()
    else:
        yield request.getfixturevalue("dynamo_store")


def container(store: Any, catalog: Any, shards: int, legacy: int = 4) -> Container:
    settings = Settings(
        secret=SECRET, k_min=5, global_shards=shards, legacy_global_shards=legacy
    )
    return Container(store=store, catalog=catalog, settings=settings)


def answers(q: Questionnaire, i: int) -> dict[str, str]:
    """Organisation ``i``: varied phase, industry, size and country."""
    ctx = {
        q.context_question(role).id: q.context_question(role).options[(i * step) % 5].id
        for role, step in (("industry", 1), ("size", 2), ("country", 3))
    }
    return orgs.up_to_phase(q, 1 + i % 7) | ctx


def submit(c: Container, q: Questionnaire, i: int) -> tuple[str, str]:
    done = c.assessments.submit(SubmissionIn(answers=answers(q, i)))
    assert done.created and done.view.token is not None
    return done.view.record.id, done.view.token


def fold(records: list[AssessmentRecord], population: str) -> dict[str, Any]:
    """The global roll-up the remaining submissions must give, computed from scratch."""
    count = 0
    months: dict[str, int] = {}
    bins: dict[str, dict[int, int]] = {}
    for r in records:
        if not r.included or population not in populations_of(r):
            continue
        count += 1
        months[r.month] = months.get(r.month, 0) + 1
        for m, v in r.metrics.items():
            h = bins.setdefault(m, {})
            h[v] = h.get(v, 0) + 1
    return {"count": count, "months": months, "bins": bins}


def stored_global(store: Any, q: Questionnaire) -> dict[str, dict[str, Aggregate]]:
    """The global cell of each population (one cell, never write-sharded), read from the
    cell aggregates independently of how the service reads them (releases)."""
    out: dict[str, dict[str, Aggregate]] = {}
    cells = store.read_grid(Grid("real", q.id, q.version))
    for p in POPULATIONS:
        state = cells.get(CellKey(p, cohorts.GLOBAL))
        agg = Aggregate()
        if state is not None:
            agg = Aggregate(
                state.count,
                {m: list(h) for m, h in state.bins.items()},
                {mo: v for mo, v in state.months.items() if v},
            )
        out[p] = {cohorts.GLOBAL.key: agg}
    return out


def check_exact(
    store: Any, c: Container, q: Questionnaire, alive: list[AssessmentRecord]
) -> None:
    drain(store)  # DynamoDB folds its stream asynchronously: catch up before reading
    for population, shards in stored_global(store, q).items():
        for key, agg in shards.items():  # no counter is ever negative
            assert agg.count >= 0, (population, key, agg.count)
            assert all(v >= 0 for v in agg.months.values()), (population, key)
            for metric, h in agg.bins.items():
                assert all(v >= 0 for v in h), (population, key, metric)
        got = Aggregate()
        for agg in shards.values():  # the global roll-up: the sum of its shard items
            got.add(agg)
        want = fold(alive, population)
        assert got.count == want["count"], population
        assert got.months == want["months"], population
        assert {
            m: {v: n for v, n in h.items() if n} for m, h in got.histograms.items()
        } == {m: h for m, h in want["bins"].items()}, population


def api_n(c: Container, q: Questionnaire) -> Any:
    """The global cohort's published n band, after publishing a release."""
    c.releases.publish()
    app_module.use_container(c)
    try:
        with Client(app_module.app, stage_name="local") as client:
            r = client.http.get(f"/v1/benchmarks/{q.id}/{q.version}?source=real")
    finally:
        app_module.use_container(None)
    assert r.status_code == 200, r.body
    body = r.json_body
    assert body["status"] == "released", body
    assert body["cohort"]["key"] == "*#*#*"
    return body["cohort"]["n"]


@pytest.mark.parametrize("later", [2, 16])
def test_changing_global_shards_keeps_counts_exact(
    store: Any, catalog: Any, questionnaire: Questionnaire, later: int
) -> None:
    q = questionnaire
    first = container(store, catalog, 8)
    ids = [submit(first, q, i) for i in range(24)]
    assert {store.get_assessment(a).global_shards for a, _ in ids} == {8}
    check_exact(store, first, q, [store.get_assessment(a) for a, _ in ids])

    changed = container(store, catalog, later)
    gone = ids[::3]  # erased under the new setting: counted with 8
    for aid, token in gone:
        changed.assessments.erase(aid, token)
    more = [submit(changed, q, i) for i in range(24, 40)]
    assert {store.get_assessment(a).global_shards for a, _ in more} == {later}
    for aid, token in more[::4]:  # counted and erased with the new setting
        changed.assessments.erase(aid, token)
    alive = [
        r for r in (store.get_assessment(a) for a, _ in ids + more) if r is not None
    ]
    assert len(alive) == 24 - len(gone) + 16 - 4
    check_exact(store, changed, q, alive)
    # and back: the first setting reads the same figures (it covers every shard)
    check_exact(store, first, q, alive)
    n = sum(1 for r in alive if r.included)
    assert n >= 5
    assert api_n(changed, q) == n_band(n, 5)
    assert api_n(first, q) == n_band(n, 5)


def test_records_from_before_the_field_are_erased_with_the_legacy_count(
    store: Any, catalog: Any, questionnaire: Questionnaire
) -> None:
    """A record stored without ``global_shards`` was counted with the setting of its time
    (``legacy_global_shards``, 4 by default): erasure subtracts from that shard, whatever
    GLOBAL_SHARDS is now."""
    q = questionnaire
    legacy = container(store, catalog, 4)
    recs: list[tuple[AssessmentRecord, str]] = []
    for i in range(12):
        a = answers(q, i)
        svc = legacy.assessments
        aid, token = svc._ids("public", None)
        rec = replace(
            svc.build_record(q, SubmissionIn(answers=a), aid, token, None, None),
            global_shards=None,  # as stored before the field existed
        )
        assert store.create_assessment(rec, svc.contribution_for(rec))
        recs.append((rec, token))
    now = container(store, catalog, 16, legacy=4)
    for rec, token in recs[:5]:
        now.assessments.erase(rec.id, token)
    alive = [r for r, _ in recs[5:]]
    check_exact(store, now, q, alive)
