"""The storage contract: every adapter passes the same tests against its real engine
(SQLite file here; DynamoDB Local via the ``dynamo_store`` fixture)."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, replace

import pytest

from chalicelib.aggregation import CellKey, Grid
from chalicelib.cohorts import Cohort, contribution_keys
from chalicelib.records import AssessmentRecord, Contribution, Draft, PartnerKey
from tests.cells import cell, drain, of_records, stored_counts

ADAPTERS = ["sqlite", "dynamodb"]


@pytest.fixture(params=ADAPTERS)
def store(request, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        from chalicelib.storage.sqlite import SqliteStore

        s = SqliteStore(str(tmp_path / "contract.sqlite3"))
        yield s
        s.close()
    else:
        yield request.getfixturevalue("dynamo_store")


def record(i: int, **kw) -> AssessmentRecord:  # type: ignore[no-untyped-def]
    base = AssessmentRecord(
        id=f"a{i:031d}",
        questionnaire_id="smm",
        version="1.0.0",
        language="en",
        answers={"social_presence": "structured", "industry": "C"},
        metrics={
            "overall": 40 + i % 50,
            "phase": i % 8,
            "tier_foundation": (i * 7) % 101,
        },
        result={"phase": i % 8, "overall": 40 + i % 50},
        industry="C",
        size="50-249",
        country="DE",
        region="dach",
        month="2026-11",
        created_at="2026-11-23T10:00:00+00:00",
        consent=True,
        included=True,
        exclusion_reasons=(),
        token_hash="ab" * 32,
        request_hash="cd" * 32,
    )
    return replace(base, **kw)


def contribution(rec: AssessmentRecord, shards: int = 4) -> Contribution:
    cohort = Cohort(rec.industry or "*", rec.size or "*", rec.region or "*")
    return Contribution(
        "real",
        rec.questionnaire_id,
        rec.version,
        contribution_keys(cohort, rec.id, shards),
        dict(rec.metrics),
        rec.month,
    )


def read(store, cohort: Cohort, population: str = "all", source: str = "real"):  # type: ignore[no-untyped-def]
    """A cohort's cell aggregate (after folding what is pending) as an ``Aggregate``."""
    from chalicelib.records import Aggregate

    state = cell(store, source, "smm", "1.0.0", cohort.key, population)
    return Aggregate(
        state.count,
        {m: list(h) for m, h in state.bins.items()},
        {mo: v for mo, v in state.months.items() if v},
    )


def test_create_get_roundtrip(store) -> None:  # type: ignore[no-untyped-def]
    rec = record(1, partner_id="p1", previous_id="a" * 32)
    assert store.create_assessment(rec, contribution(rec)) is True
    assert store.get_assessment(rec.id) == rec
    assert store.get_assessment("nope") is None


def test_duplicate_is_refused_and_counted_once(store) -> None:  # type: ignore[no-untyped-def]
    rec = record(2)
    assert store.create_assessment(rec, contribution(rec)) is True
    assert (
        store.create_assessment(replace(rec, language="de"), contribution(rec)) is False
    )
    assert store.get_assessment(rec.id).language == "en"  # type: ignore[union-attr]
    for c in Cohort("C", "50-249", "dach").generalisations():
        assert read(store, c).count == 1, c


def test_aggregates_hold_exact_histograms(store) -> None:  # type: ignore[no-untyped-def]
    recs = [record(i, size="10-49" if i % 3 else "50-249") for i in range(20)]
    for r in recs:
        store.create_assessment(r, contribution(r))
    everyone = read(store, Cohort())
    assert everyone.count == 20
    assert sum(everyone.histograms["overall"].values()) == 20
    expected: dict[int, int] = {}
    for r in recs:
        expected[r.metrics["overall"]] = expected.get(r.metrics["overall"], 0) + 1
    assert {k: v for k, v in everyone.histograms["overall"].items() if v} == expected
    small = read(store, Cohort("C", "10-49", "*"))
    assert small.count == sum(1 for r in recs if r.size == "10-49")
    assert everyone.months == {"2026-11": 20}
    assert (
        read(store, Cohort("J", "*", "*")).count == 0
    )  # absent cohort: empty, not an error


def test_excluded_submission_touches_no_aggregate(store) -> None:  # type: ignore[no-untyped-def]
    rec = record(3, included=False, exclusion_reasons=("no-consent",))
    assert store.create_assessment(rec, None)
    assert store.get_assessment(rec.id) is not None
    assert read(store, Cohort()).count == 0


def test_delete_reverses_contribution(store) -> None:  # type: ignore[no-untyped-def]
    keep, gone = record(4), record(5)
    for r in (keep, gone):
        store.create_assessment(r, contribution(r))
    assert store.delete_assessment(gone, contribution(gone)) is True
    assert store.get_assessment(gone.id) is None
    assert (
        store.delete_assessment(gone, contribution(gone)) is False
    )  # not reversed twice
    everyone = read(store, Cohort())
    assert everyone.count == 1
    assert {k: v for k, v in everyone.histograms["overall"].items() if v} == {
        keep.metrics["overall"]: 1
    }


def test_populations_are_kept_apart_and_erased_exactly(store) -> None:  # type: ignore[no-untyped-def]
    """A user counts in ``all`` and ``users``, a non-user in ``all`` only (one atomic write
    each: 16 + 1 transaction items for a user); erasure reverses exactly that."""
    user, other = record(40, uses_social_media=True), record(41)
    both = replace(contribution(user), populations=("all", "users"))
    assert store.create_assessment(user, both)
    assert store.create_assessment(other, contribution(other))
    assert store.get_assessment(user.id) == user
    for c in Cohort("C", "50-249", "dach").generalisations():
        assert read(store, c).count == 2, c
        assert read(store, c, population="users").count == 1, c
    users = read(store, Cohort(), population="users")
    assert {k: v for k, v in users.histograms["overall"].items() if v} == {
        user.metrics["overall"]: 1
    }
    cells = store.read_grid(Grid("real", "smm", "1.0.0"))
    assert {k for k, st in cells.items() if st.count} == {
        CellKey(p, c)
        for p in ("all", "users")
        for c in Cohort("C", "50-249", "dach").generalisations()
    }  # one cell per (roll-up, population), every one written
    assert store.delete_assessment(user, both) is True
    for c in Cohort("C", "50-249", "dach").generalisations():
        assert read(store, c).count == 1, c
        empty = read(store, c, population="users")
        assert empty.count == 0 and not any(
            empty.histograms.get("overall", {}).values()
        )


def test_clear_aggregates_drops_one_source_and_version(store) -> None:  # type: ignore[no-untyped-def]
    recs = [record(300 + i) for i in range(3)]
    cons = [
        replace(contribution(r), source="reference", populations=("all", "users"))
        for r in recs
    ]
    store.bulk_load([], cons)
    real = record(310)
    store.create_assessment(real, contribution(real))
    for population in ("all", "users"):
        got = read(store, Cohort("C", "*", "*"), population, source="reference")
        assert got.count == 3
    # one cell per (cohort roll-up, population), none write-sharded
    items = {
        (p, c)
        for p in ("all", "users")
        for c in Cohort("C", "50-249", "dach").generalisations()
    }
    assert store.clear_aggregates("reference", "smm", "1.0.0") == len(items)
    for population in ("all", "users"):
        got = read(store, Cohort("C", "*", "*"), population, source="reference")
        assert got.count == 0
    assert read(store, Cohort()).count == 1  # the real source is untouched
    assert store.clear_aggregates("reference", "smm", "1.0.0") == 0


def test_bulk_load_equals_single_writes(store) -> None:  # type: ignore[no-untyped-def]
    recs = [record(100 + i, source="reference") for i in range(30)]
    cons = [replace(contribution(r), source="reference") for r in recs]
    store.bulk_load(recs, cons)
    got = read(store, Cohort("C", "*", "*"), source="reference")
    assert got.count == 30
    assert read(store, Cohort()).count == 0  # reference is a separate source


def test_concurrent_writers_count_exactly(store) -> None:  # type: ignore[no-untyped-def]
    recs = [record(1000 + i) for i in range(40)]
    errors: list[BaseException] = []

    def work(chunk: list[AssessmentRecord]) -> None:
        try:
            for r in chunk:
                store.create_assessment(r, contribution(r))
                store.create_assessment(r, contribution(r))  # a retry
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(recs[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert read(store, Cohort()).count == 40


def test_drafts_expire(store) -> None:  # type: ignore[no-untyped-def]
    d = Draft(
        "d1",
        "smm",
        "1.0.0",
        "de",
        {"industry": "C"},
        "2026-11-23T10:00:00+00:00",
        2_000,
    )
    store.put_draft(d)
    assert store.get_draft("d1", now=1_000) == d
    assert store.get_draft("d1", now=2_001) is None
    store.put_draft(replace(d, id="d2"))
    store.delete_draft("d2")
    assert store.get_draft("d2", now=1_000) is None


def test_partner_keys(store) -> None:  # type: ignore[no-untyped-def]
    k = PartnerKey(
        "k1",
        "p1",
        "Acme",
        "h" * 64,
        ("submit", "read"),
        ("https://a.example",),
        "basic",
        "2026-11-23T10:00:00+00:00",
    )
    store.put_partner_key(k)
    store.put_partner_key(replace(k, key_id="k2"))
    store.put_partner_key(replace(k, key_id="k3", partner_id="p2"))
    assert store.get_partner_key("k1") == k
    assert {x.key_id for x in store.list_partner_keys("p1")} == {"k1", "k2"}
    store.put_partner_key(replace(k, revoked=True))
    assert store.get_partner_key("k1").revoked is True  # type: ignore[union-attr]


def test_publishable_key_and_old_records_roundtrip(store) -> None:  # type: ignore[no-untyped-def]
    k = PartnerKey(
        "k9",
        "p9",
        "Acme widget",
        "h" * 64,
        ("submit",),
        ("https://a.example",),
        "basic",
        "2026-11-23T10:00:00+00:00",
        kind="publishable",
    )
    store.put_partner_key(k)
    assert store.get_partner_key("k9") == k
    # a record stored before key kinds existed reads as a secret key
    from chalicelib.storage.codec import partner_key_from_json

    old = {**asdict(k), "scopes": ["submit"], "origins": []}
    old.pop("kind")
    assert partner_key_from_json(json.dumps(old)).kind == "secret"


def test_partner_reference_roundtrip(store) -> None:  # type: ignore[no-untyped-def]
    rec = record(7, partner_id="p1", partner_ref="crm-4711")
    assert store.create_assessment(rec, contribution(rec)) is True
    assert store.get_assessment(rec.id) == rec


def test_branding_roundtrip(store) -> None:  # type: ignore[no-untyped-def]
    assert store.get_branding("p1") is None
    b = {"partner_id": "p1", "display_name": "Acme", "primary_color": "#0b5d3b"}
    store.put_branding("p1", b)
    store.put_branding("p2", {**b, "partner_id": "p2", "display_name": "Other"})
    assert store.get_branding("p1") == b
    store.put_branding("p1", {**b, "display_name": "Acme 2"})
    assert store.get_branding("p1")["display_name"] == "Acme 2"  # type: ignore[index]
    assert store.get_branding("p2")["display_name"] == "Other"  # type: ignore[index]
    store.delete_branding("p1")
    assert store.get_branding("p1") is None
    assert store.get_branding("p2") is not None


# --- webhooks and their deliveries ----------------------------------------------------------
def test_webhook_roundtrip(store) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.records import Webhook

    assert store.get_webhook("p1") is None
    hook = Webhook("p1", "https://hooks.example/smm", "2026-11-30T10:00:00+00:00")
    store.put_webhook(hook)
    assert store.get_webhook("p1") == hook
    moved = replace(hook, url="https://hooks.example/v2")
    store.put_webhook(moved)  # one per partner: replaced
    assert store.get_webhook("p1") == moved
    assert store.get_webhook("p2") is None
    store.delete_webhook("p1")
    assert store.get_webhook("p1") is None
    store.delete_webhook("p1")  # idempotent


def test_webhook_secrets_and_disabled_state_roundtrip(store) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.records import Webhook, WebhookSecret

    hook = Webhook(
        "p1",
        "https://hooks.example/smm",
        "2026-11-30T10:00:00+00:00",
        secrets=(WebhookSecret("n2", 2_000), WebhookSecret("n1", 1_000, 88_400)),
        disabled_at="2026-12-01T10:00:00+00:00",
        disabled_reason="HTTP 410",
    )
    store.put_webhook(hook)
    assert store.get_webhook("p1") == hook
    store.put_webhook(replace(hook, disabled_at=None, disabled_reason=None))
    assert store.get_webhook("p1").disabled_at is None  # type: ignore[union-attr]


def test_delivery_by_id_only_for_its_partner(store) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.records import Delivery

    first = Delivery("evt_a", "p1", "assessment.completed", "{}", 7_000, next_at=7_000)
    store.put_delivery(first)
    rec = record(79, partner_id="p1")
    queued = Delivery("evt_b", "p1", "assessment.completed", "{}", 7_001, next_at=7_001)
    assert store.create_assessment(rec, contribution(rec), queued) is True  # outbox
    assert store.get_delivery("p1", "evt_a") == first
    assert store.get_delivery("p1", "evt_b") == queued
    failed = replace(first, state="failed", attempts=6, last_error="HTTP 500")
    store.put_delivery(failed)
    assert store.get_delivery("p1", "evt_a") == failed
    assert store.get_delivery("p2", "evt_a") is None  # another partner's id
    assert store.get_delivery("p1", "evt_zz") is None
    assert [d.id for d in store.list_deliveries("p1")] == ["evt_b", "evt_a"]


def test_deliveries_are_listed_newest_first_and_due_by_time(store) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.records import Delivery

    def delivery(i: int, partner: str = "p1", **kw) -> Delivery:  # type: ignore[no-untyped-def]
        return replace(
            Delivery(
                id=f"d{i:04d}",
                partner_id=partner,
                event_type="assessment.completed",
                body=f'{{"n": {i}}}',
                created_at=1_000 + i,
                next_at=1_000 + i,
            ),
            **kw,
        )

    for i in range(5):
        store.put_delivery(delivery(i))
    store.put_delivery(delivery(9, partner="p2"))
    recent = store.list_deliveries("p1", limit=3)
    assert [d.id for d in recent] == ["d0004", "d0003", "d0002"]
    assert recent[0] == delivery(4)
    assert [d.id for d in store.list_deliveries("p2")] == ["d0009"]

    assert [d.id for d in store.due_deliveries(1_002)] == ["d0000", "d0001", "d0002"]
    # d0000 delivered, d0001 retried later: neither is due any more at 1,002
    store.put_delivery(delivery(0, state="delivered", attempts=1, delivered_at=1_001))
    store.put_delivery(delivery(1, attempts=1, next_at=1_100, last_status=500))
    assert [d.id for d in store.due_deliveries(1_002)] == ["d0002"]
    due_later = store.due_deliveries(1_100, limit=10)
    assert [d.id for d in due_later] == ["d0002", "d0003", "d0004", "d0009", "d0001"]
    assert due_later[-1].last_status == 500 and due_later[-1].attempts == 1
    store.put_delivery(delivery(1, state="failed", attempts=6, next_at=1_100))
    assert "d0001" not in [d.id for d in store.due_deliveries(10_000)]
    assert store.list_deliveries("p1", limit=5)[-1].state == "delivered"


def test_webhook_event_is_queued_with_the_submission_only(store) -> None:  # type: ignore[no-untyped-def]
    """The outbox: a partner's event is written in the submission's atomic write; a
    duplicate submission queues nothing (and counts nothing)."""
    from chalicelib.records import Delivery

    rec = record(77, partner_id="p1")
    event = Delivery("evt_1", "p1", "assessment.completed", "{}", 5_000, next_at=5_000)
    assert store.create_assessment(rec, contribution(rec), event) is True
    assert store.list_deliveries("p1") == [event]
    assert store.due_deliveries(5_000) == [event]
    again = replace(event, id="evt_2")
    assert store.create_assessment(rec, contribution(rec), again) is False
    assert [d.id for d in store.list_deliveries("p1")] == ["evt_1"]
    assert read(store, Cohort()).count == 1
    # an excluded submission (no contribution) still carries its event
    quiet = record(
        78, partner_id="p1", included=False, exclusion_reasons=("no-consent",)
    )
    late = Delivery("evt_3", "p1", "assessment.completed", "{}", 5_001, next_at=5_001)
    assert store.create_assessment(quiet, None, late) is True
    assert [d.id for d in store.list_deliveries("p1")] == ["evt_3", "evt_1"]
    assert read(store, Cohort()).count == 1


# --- issue 17: idempotency entries, rate counters, paginated lists ------------------------
def test_idempotency_key_is_taken_atomically_and_reusable_after_expiry(store) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.records import IdempotencyKey

    first = record(80, partner_id="p1")
    entry = IdempotencyKey("k" * 40, first.id, 1_000, 1_000 + 86_400)
    assert store.create_assessment(first, contribution(first), None, entry) is True
    assert store.get_idempotency_key("k" * 40) == entry
    assert store.get_idempotency_key("x" * 40) is None
    # another assessment cannot take the key while it is held: nothing is written
    rival = record(81, partner_id="p1")
    held = IdempotencyKey("k" * 40, rival.id, 1_000 + 86_399, 1_000 + 2 * 86_400)
    assert store.create_assessment(rival, contribution(rival), None, held) is False
    assert store.get_assessment(rival.id) is None
    assert read(store, Cohort()).count == 1
    # at its expiry it can be taken again (also without a contribution)
    later = record(
        82, partner_id="p1", included=False, exclusion_reasons=("no-consent",)
    )
    renewed = IdempotencyKey("k" * 40, later.id, 1_000 + 86_400, 1_000 + 2 * 86_400)
    assert store.create_assessment(later, None, None, renewed) is True
    assert store.get_idempotency_key("k" * 40) == renewed


def test_rate_counter_allows_exactly_the_limit(store) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.records import RateWindow

    ws = (RateWindow("rate", 600, 660, 3), RateWindow("quota", 0, 86_400, 5))
    got = [store.take_rate("p1", ws) for _ in range(4)]
    assert got[:3] == [(True, (1, 1)), (True, (2, 2)), (True, (3, 3))]
    assert got[3][0] is False and got[3][1][0] == 3
    # the refused request was not counted in the quota: next minute, 2 more are allowed
    nxt = (RateWindow("rate", 660, 720, 3), RateWindow("quota", 0, 86_400, 5))
    assert store.take_rate("p1", nxt) == (True, (1, 4))
    assert store.take_rate("p1", nxt) == (True, (2, 5))
    refused, counts = store.take_rate("p1", nxt)
    assert refused is False and counts[1] == 5
    assert store.take_rate("p2", nxt) == (True, (1, 1))  # per subject


def test_partner_assessments_newest_first_with_filters_and_pages(store) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.records import AssessmentQuery

    recs = [
        record(
            90 + i,
            partner_id="p1",
            created_at=f"2026-11-{10 + i // 2:02d}T10:00:00+00:00",  # pairs share a second
            result={"phase": i % 3, "overall": 50},
            included=i % 2 == 0,
        )
        for i in range(7)
    ]
    for r in recs:
        store.create_assessment(r, None)
    store.create_assessment(record(99, partner_id="p2"), None)
    store.create_assessment(record(98), None)  # public
    expected = sorted(recs, key=lambda r: (r.created_at, r.id), reverse=True)
    got = store.list_partner_assessments(AssessmentQuery("p1", limit=100))
    assert [r.id for r in got] == [r.id for r in expected]
    pages, after = [], None
    while True:
        page = store.list_partner_assessments(
            AssessmentQuery("p1", limit=2, after=after)
        )
        if not page:
            break
        pages.append([r.id for r in page])
        after = (page[-1].created_at, page[-1].id)
    assert [i for p in pages for i in p] == [r.id for r in expected]
    q = AssessmentQuery(
        "p1", since="2026-11-11T00:00:00+00:00", until="2026-11-13T10:00:00+00:00"
    )
    assert {r.id for r in store.list_partner_assessments(q)} == {
        r.id for r in recs if "11-11" in r.created_at or "11-12" in r.created_at
    }
    assert {
        r.id for r in store.list_partner_assessments(AssessmentQuery("p1", phase=1))
    } == {r.id for r in recs if r.result["phase"] == 1}
    only = AssessmentQuery("p1", included=False, questionnaire="smm", version="1.0.0")
    assert {r.id for r in store.list_partner_assessments(only)} == {
        r.id for r in recs if not r.included
    }
    assert store.list_partner_assessments(AssessmentQuery("p1", version="2.0.0")) == []
    assert [r.id for r in store.list_partner_assessments(AssessmentQuery("p2"))] == [
        record(99).id
    ]


def test_deliveries_page_after_a_position(store) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.records import Delivery

    ds = [
        Delivery(f"evt_{i}", "p1", "assessment.completed", "{}", 100 + i // 2)
        for i in range(5)
    ]
    for d in ds:
        store.put_delivery(d)
    expected = sorted(ds, key=lambda d: (d.created_at, d.id), reverse=True)
    first = store.list_deliveries("p1", 2)
    rest = store.list_deliveries("p1", 10, (first[-1].created_at, first[-1].id))
    assert [d.id for d in first + rest] == [d.id for d in expected]


# --- stream aggregation (issue 15: AggregateStore) ------------------------------------------
@pytest.fixture(params=ADAPTERS)
def agg_store(request, tmp_path):  # type: ignore[no-untyped-def]
    """The stores that implement ``AggregateStore``: both."""
    if request.param == "dynamodb":
        yield request.getfixturevalue("dynamo_store")
        return
    from chalicelib.storage.sqlite import SqliteStore

    s = SqliteStore(str(tmp_path / "contract.sqlite3"))
    yield s
    s.close()


REAL = Grid("real", "smm", "1.0.0")


def test_folded_cells_equal_a_direct_count(agg_store) -> None:  # type: ignore[no-untyped-def]
    store = agg_store
    recs = [
        record(
            500 + i, size="10-49" if i % 3 else "50-249", uses_social_media=i % 2 == 0
        )
        for i in range(9)
    ]
    excluded = record(520, included=False, exclusion_reasons=("no-consent",))
    for r in recs:
        assert store.create_assessment(r, contribution(r))
    assert store.create_assessment(excluded, None)
    drain(store)
    cells = store.read_grid(REAL)
    assert stored_counts(cells) == of_records(recs, REAL)
    assert len(cells) == 2 * (8 + 8 - 4)  # two sizes share 4 roll-ups; 2 populations
    everyone = cells[CellKey("all", Cohort())]
    assert (everyone.count, everyone.changes, everyone.removals) == (9, 9, 0)
    assert cells[CellKey("users", Cohort())].count == 5
    assert store.list_grids() == [REAL]
    assert store.read_grid(Grid("real", "smm", "9.9.9")) == {}

    gone = recs[0]
    assert store.delete_assessment(gone, contribution(gone))
    assert store.delete_assessment(gone, contribution(gone)) is False  # no second event
    drain(store)
    cells = store.read_grid(REAL)
    assert stored_counts(cells) == of_records(recs[1:], REAL)
    everyone = cells[CellKey("all", Cohort())]
    assert (everyone.count, everyone.changes, everyone.removals) == (8, 10, 1)
    # folding again changes nothing: every record is applied once
    assert store.aggregate_pending().records == 0
    assert store.read_grid(REAL) == cells


def test_bulk_load_fills_the_cell_aggregates(agg_store) -> None:  # type: ignore[no-untyped-def]
    store = agg_store
    recs = [record(600 + i, uses_social_media=i % 3 == 0) for i in range(12)]
    cons = [
        replace(
            contribution(r),
            source="reference",
            populations=("all", "users") if r.uses_social_media else ("all",),
        )
        for r in recs
    ]
    store.bulk_load([], cons)
    drain(store)
    ref = Grid("reference", "smm", "1.0.0")
    expected = of_records([replace(r, source="reference") for r in recs], ref)
    assert stored_counts(store.read_grid(ref)) == expected
    assert store.read_grid(REAL) == {}


def test_clear_aggregates_empties_cells_and_keeps_counters_monotonic(agg_store) -> None:  # type: ignore[no-untyped-def]
    store = agg_store
    recs = [record(700 + i) for i in range(4)]
    cons = [replace(contribution(r), source="reference") for r in recs]
    store.bulk_load([], cons)
    drain(store)
    ref = Grid("reference", "smm", "1.0.0")
    before = store.read_grid(ref)[CellKey("all", Cohort())]
    assert (before.count, before.changes) == (4, 4)
    store.clear_aggregates("reference", "smm", "1.0.0")
    after = store.read_grid(ref)
    assert stored_counts(after) == {}
    top = after[CellKey("all", Cohort())]
    assert (top.count, top.changes, top.removals) == (
        0,
        8,
        4,
    )  # everyone left: 4 events
    store.bulk_load([], cons[:2])
    drain(store)
    top = store.read_grid(ref)[CellKey("all", Cohort())]
    assert (top.count, top.changes, top.removals) == (2, 10, 4)
