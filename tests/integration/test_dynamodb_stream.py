"""Issue 15 on DynamoDB Local: the table's stream folded into the cell aggregates exactly
once (concurrent writers, retries concurrent with their original, concurrent folds, replayed
Lambda batches), erasure flowing through, the Lambda entry point's shard lookup and partial
batch failures, and the ReleaseStore."""

from __future__ import annotations

import random
import threading
from dataclasses import replace
from typing import Any

from chalicelib.aggregation import CellKey, Grid
from chalicelib.cohorts import Cohort
from chalicelib.records import AssessmentRecord
from chalicelib.releases import build_release
from chalicelib.releases.model import ReleasedCell
from chalicelib.storage.dynamodb import DynamoStore
from tests.cells import drain, of_records, stored_counts
from tests.integration.test_store_contract import contribution, record

REAL = Grid("real", "smm", "1.0.0")
INDUSTRIES = ("C", "G", "J", "K")
SIZES = ("1-9", "10-49", "50-249", "250+")
REGIONS = ("dach", "nordics", "benelux")


def varied(i: int, rng: random.Random) -> AssessmentRecord:
    return record(
        i,
        industry=rng.choice(INDUSTRIES),
        size=rng.choice(SIZES),
        region=rng.choice(REGIONS),
        uses_social_media=rng.random() < 0.6,
        metrics={
            "overall": rng.randint(0, 100),
            "phase": rng.randint(0, 7),
            "tier_foundation": rng.randint(0, 100),
        },
        month=rng.choice(("2026-10", "2026-11")),
        included=rng.random() < 0.9,
    )


def stream_records(store: DynamoStore) -> list[dict[str, Any]]:
    """Every record of the table's stream as a Lambda event record (shard order)."""
    arn = store.stream_arn()
    out: list[dict[str, Any]] = []
    for sh in store._shards(arn):
        it = store.streams.get_shard_iterator(
            StreamArn=arn, ShardId=sh["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        empty = 0
        while it and empty < 3:
            page = store.streams.get_records(ShardIterator=it, Limit=1000)
            got = page.get("Records", [])
            empty = 0 if got else empty + 1
            out.extend({**r, "eventSourceARN": arn} for r in got)
            it = page.get("NextShardIterator")
    return out


def test_concurrent_writers_retries_and_folds_count_exactly(
    dynamo_store: DynamoStore,
) -> None:
    """16 threads x 50 submissions, 20% retried (half of them at the same time as the
    original, from another thread), 10% erased, while two folds run concurrently; then
    every stream record is replayed as Lambda batches of random sizes, twice. The cells
    equal a direct count of the surviving assessments."""
    rng = random.Random(15)
    recs = [varied(i, rng) for i in range(16 * 50)]
    retried = set(rng.sample(range(len(recs)), len(recs) // 5))
    erased = set(rng.sample(range(len(recs)), len(recs) // 10))
    errors: list[BaseException] = []
    stop = threading.Event()

    def submit(i: int) -> None:
        r = recs[i]
        assert dynamo_store.create_assessment(r, contribution(r)) in (True, False)

    def writer(n: int) -> None:
        try:
            for i in range(n, len(recs), 16):
                if i in retried and i % 2:  # a retry concurrent with its original
                    t = threading.Thread(target=submit, args=(i,))
                    t.start()
                    submit(i)
                    t.join(timeout=60)
                else:
                    submit(i)
                    if i in retried:
                        assert (
                            dynamo_store.create_assessment(
                                recs[i], contribution(recs[i])
                            )
                            is False
                        )
                if i in erased:
                    assert dynamo_store.delete_assessment(
                        recs[i], contribution(recs[i])
                    )
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def folder() -> None:
        try:
            while not stop.is_set():
                dynamo_store.aggregate_pending(limit=rng.randint(50, 400))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    folders = [threading.Thread(target=folder) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for t in folders + writers:
        t.start()
    for t in writers:
        t.join(timeout=300)
    stop.set()
    for t in folders:
        t.join(timeout=120)
    assert not errors, errors
    drain(dynamo_store)
    survivors = [r for i, r in enumerate(recs) if i not in erased]
    expected = of_records(survivors, REAL)
    cells = dynamo_store.read_grid(REAL)
    assert stored_counts(cells) == expected
    top = cells[CellKey("all", Cohort())]
    included = [r for r in recs if r.included]
    gone = [r for i, r in enumerate(recs) if i in erased and r.included]
    assert (top.count, top.changes, top.removals) == (
        len(included) - len(gone),
        len(included) + len(gone),
        len(gone),
    )
    # replay the whole stream as Lambda batches, twice: nothing changes
    events = stream_records(dynamo_store)
    assert sum(1 for e in events if e["eventName"] == "REMOVE") >= len(gone)
    for _ in range(2):
        pos = 0
        while pos < len(events):
            size = rng.randint(1, 300)
            resp = dynamo_store.fold_stream_event(events[pos : pos + size])
            assert resp == {"batchItemFailures": []}
            pos += size
    assert dynamo_store.read_grid(REAL) == cells
    assert dynamo_store.dead_letters() == []


def test_lambda_batches_fold_exactly_once_and_report_failures(
    dynamo_store: DynamoStore,
) -> None:
    """The Lambda path alone (no polling): batches are folded once whatever the order of
    redeliveries, a record the fold refuses (a removal of something never added) becomes
    a dead letter without blocking the others, and a lost write is reported as a batch
    item failure from which a redelivery completes the batch."""
    recs = [record(900 + i, uses_social_media=i % 2 == 0) for i in range(6)]
    for r in recs:
        assert dynamo_store.create_assessment(r, contribution(r))
    assert dynamo_store.delete_assessment(recs[0], contribution(recs[0]))
    events = [
        e
        for e in stream_records(dynamo_store)
        if e["dynamodb"]["Keys"]["PK"]["S"].startswith("ASSESSMENT#")
    ]
    assert [e["eventName"] for e in events] == ["INSERT"] * 6 + ["REMOVE"]
    assert dynamo_store.fold_stream_event(events[:4]) == {"batchItemFailures": []}
    assert dynamo_store.fold_stream_event(events[2:]) == {"batchItemFailures": []}
    assert dynamo_store.fold_stream_event(events) == {"batchItemFailures": []}
    assert stored_counts(dynamo_store.read_grid(REAL)) == of_records(recs[1:], REAL)

    # a removal of an assessment never counted: refused, a dead letter, not reported
    ghost = record(950)
    forged = dict(events[-1])
    ddb = dict(forged["dynamodb"])
    old = dict(ddb["OldImage"])
    from chalicelib.storage.dynamodb.compact import pack_body

    old["body"] = {"B": pack_body(replace(ghost, industry="K"))}
    ddb["OldImage"] = old
    forged["dynamodb"] = ddb
    before = dynamo_store.read_grid(REAL)
    # the forged record reuses the removal's sequence number: apply it to fresh cells
    k_cells = [c for c in before if c.cohort.industry == "K"]
    assert k_cells == []
    assert dynamo_store.fold_stream_event([forged]) == {"batchItemFailures": []}
    assert dynamo_store.read_grid(REAL) == before
    assert [d["seq"] for d in dynamo_store.dead_letters()] == [ddb["SequenceNumber"]]


def test_lost_cell_writes_are_reported_and_redelivery_completes(
    dynamo_store: DynamoStore, dynamodb_client: Any
) -> None:
    from tests.integration.test_dynamodb import FaultyClient, error, fail, faulty_store

    recs = [record(960 + i) for i in range(3)]
    for r in recs:
        assert dynamo_store.create_assessment(r, contribution(r))
    events = [
        e
        for e in stream_records(dynamo_store)
        if e["dynamodb"]["Keys"]["PK"]["S"].startswith("ASSESSMENT#")
    ]
    throttled = fail(error("ProvisionedThroughputExceededException", op="UpdateItem"))
    client = FaultyClient(dynamodb_client, update_item=[None] * 3 + [throttled] * 50)
    store = faulty_store(dynamo_store, client, max_attempts=2)
    resp = store.fold_stream_event(events)
    assert resp["batchItemFailures"] == [
        {"itemIdentifier": events[0]["dynamodb"]["SequenceNumber"]}
    ]
    half_written = dynamo_store.read_grid(REAL)
    assert stored_counts(half_written) != of_records(recs, REAL)  # half written
    assert dynamo_store.fold_stream_event(events) == {"batchItemFailures": []}
    assert stored_counts(dynamo_store.read_grid(REAL)) == of_records(recs, REAL)


def test_a_small_poll_limit_moves_past_the_folds_own_records(
    dynamo_store: DynamoStore,
) -> None:
    """The fold's own cell writes are records of the same stream: a poller whose limit is
    smaller than a run of them must still reach the submissions behind them (it once
    re-read the same records of other items for ever)."""
    rng = random.Random(7)
    first = [varied(1100 + i, rng) for i in range(40)]
    for r in first:
        assert dynamo_store.create_assessment(r, contribution(r))
    drain(dynamo_store)  # writes dozens of cells: their stream records now come first
    later = [varied(1200 + i, rng) for i in range(3)]
    for r in later:
        assert dynamo_store.create_assessment(r, contribution(r))
    want = of_records(first + later, REAL)
    for _ in range(500):  # bounded: 10 records a poll
        dynamo_store.aggregate_pending(10)
        if stored_counts(dynamo_store.read_grid(REAL)) == want:
            break
    assert stored_counts(dynamo_store.read_grid(REAL)) == want


def test_release_store_roundtrip(dynamo_store: DynamoStore) -> None:
    """A release built from the folded cells is stored whole, the latest pointer moves to
    it, a cell read is one BatchGetItem, and older releases stay readable by id."""
    rng = random.Random(3)
    recs = [varied(2000 + i, rng) for i in range(60)]
    for r in recs:
        dynamo_store.create_assessment(r, contribution(r))
    drain(dynamo_store)
    assert dynamo_store.latest_release(REAL) is None
    cells = dynamo_store.read_grid(REAL)
    first = build_release(
        cells, 5, None, "r20261201T000000Z-aa", "2026-12-01T00:00:00Z", REAL
    )
    head = dynamo_store.put_release(first)
    assert head.id == first.id and head.cells == len(first.cells)
    assert head.released == sum(
        isinstance(c, ReleasedCell) for c in first.cells.values()
    )
    assert head.released > 0
    assert dynamo_store.latest_release(REAL) == head
    assert dynamo_store.read_release(REAL, first.id) == first
    wanted = [
        CellKey("all", Cohort()),
        CellKey("users", Cohort()),
        CellKey("all", Cohort("Z", "*", "*")),
    ]
    dynamo_store.requests.clear()
    got = dynamo_store.read_release_cells(REAL, first.id, wanted)
    assert dict(dynamo_store.requests) == {"batch_get_item": 1}
    assert got == {k: first.cells[k] for k in wanted if k in first.cells}

    second = build_release(
        cells, 5, first, "r20261202T000000Z-bb", "2026-12-02T00:00:00Z", REAL
    )
    dynamo_store.put_release(second)
    assert dynamo_store.latest_release(REAL).id == second.id  # type: ignore[union-attr]
    assert [h.id for h in dynamo_store.list_releases(REAL)] == [second.id, first.id]
    assert [h.id for h in dynamo_store.list_releases(REAL, limit=1)] == [second.id]
    assert dynamo_store.read_release(REAL, first.id) == first  # still readable
    assert dynamo_store.read_release(REAL, "r-none") is None
    assert dynamo_store.latest_release(Grid("real", "smm", "9.9.9")) is None


def test_the_lambda_handler_folds_a_stream_event(
    dynamo_store: DynamoStore, catalog: Any, settings: Any
) -> None:
    """app.aggregate_stream as Lambda calls it (the raw event, a context): the adapter's
    fold, and the ReportBatchItemFailures response."""
    import app as app_module
    from chalicelib.container import Container

    recs = [record(990 + i) for i in range(3)]
    for r in recs:
        assert dynamo_store.create_assessment(r, contribution(r))
    events = stream_records(dynamo_store)
    app_module.use_container(
        Container(store=dynamo_store, catalog=catalog, settings=settings)
    )
    try:
        resp = app_module.aggregate_stream({"Records": events}, None)
        again = app_module.aggregate_stream({"Records": events}, None)  # redelivered
    finally:
        app_module.use_container(None)
    assert resp == again == {"batchItemFailures": []}
    assert stored_counts(dynamo_store.read_grid(REAL)) == of_records(recs, REAL)
