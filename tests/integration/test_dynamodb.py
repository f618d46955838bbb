"""DynamoDB-specific behaviour against DynamoDB Local: request counts, fault handling (faults
are injected by wrapping the real client, since DynamoDB Local never throttles or reports
TransactionConflict), exact counting under concurrency, and the table matching its template."""

from __future__ import annotations

import collections
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import (  # type: ignore[import-untyped]
    ClientError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from chalicelib.aggregation import CellKey, Grid
from chalicelib.cohorts import Cohort
from chalicelib.errors import Unavailable
from chalicelib.records import AssessmentRecord
from chalicelib.storage.dynamodb import (
    MAX_ADD_ACTIONS,
    MAX_EXPRESSION_BYTES,
    DynamoStore,
    add_expressions,
)
from chalicelib.storage.dynamodb.schema import load_template, table_properties
from tests.cells import drain
from tests.dynamodb_local import TEMPLATE
from tests.integration.test_store_contract import contribution, read, record

COHORT = Cohort("C", "50-249", "dach")
REAL = Grid("real", "smm", "1.0.0")

Step = Callable[[Callable[..., Any], dict[str, Any]], Any]


def error(
    code: str, status: int = 400, op: str = "TransactWriteItems", **extra: Any
) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": code},
            "ResponseMetadata": {"HTTPStatusCode": status},
            **extra,
        },
        op,
    )


def cancelled(*codes: str) -> ClientError:
    return error(
        "TransactionCanceledException", CancellationReasons=[{"Code": c} for c in codes]
    )


def fail(exc: BaseException) -> Step:
    """The request does not reach the table; the client sees ``exc``."""

    def step(real: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        raise exc

    return step


def apply_then_fail(exc: BaseException) -> Step:
    """The server applies the request, then the response is lost (e.g. a read timeout)."""

    def step(real: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        real(**kwargs)
        raise exc

    return step


class FaultyClient:
    """Wraps the real DynamoDB Local client; ``plans[op]`` are steps consumed one per call
    of ``op`` (None or an exhausted plan: pass through). Records every call's arguments."""

    def __init__(self, real: Any, **plans: list[Step | None]) -> None:
        self.real = real
        self.plans = {op: list(steps) for op, steps in plans.items()}
        self.calls: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.real, name)
        if name not in self.plans:
            return attr

        def call(**kwargs: Any) -> Any:
            self.calls[name].append(kwargs)
            step = self.plans[name].pop(0) if self.plans[name] else None
            return attr(**kwargs) if step is None else step(attr, kwargs)

        return call


def faulty_store(store: DynamoStore, client: FaultyClient, **kw: Any) -> DynamoStore:
    return DynamoStore(
        store.table_name, client, base_delay=0.001, max_delay=0.005, **kw
    )


def counts(store: DynamoStore) -> dict[Cohort, int]:
    return {c: read(store, c).count for c in COHORT.generalisations()}


def snapshot(store: DynamoStore) -> dict[str, Any]:
    """The cohorts' cell aggregates after folding everything the stream holds."""
    return {c.key: vars(read(store, c)) for c in COHORT.generalisations()}


TIMEOUT = ReadTimeoutError(endpoint_url="http://127.0.0.1/")


# --- request counts -------------------------------------------------------------------------
def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (strings and binaries by length,
    numbers ~ digits / 2 + 1, booleans 1)."""
    total = 0
    for name, value in item.items():
        total += len(name.encode())
        ((kind, v),) = value.items()
        if kind == "S":
            total += len(v.encode())
        elif kind == "B":
            total += len(v)
        elif kind == "N":
            total += len(v) // 2 + 1
        elif kind == "BOOL":
            total += 1
        else:
            raise AssertionError(f"unexpected attribute type {kind}")
    return total


def measured(capacity: list[float]) -> Step:
    """Pass the request through with ReturnConsumedCapacity and record its write units."""

    def step(real: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        resp = real(**{**kwargs, "ReturnConsumedCapacity": "TOTAL"})
        got = resp["ConsumedCapacity"]
        for c in got if isinstance(got, list) else [got]:
            capacity.append(float(c["CapacityUnits"]))
        return resp

    return step


def test_submission_is_one_put_item_of_one_write_unit(
    dynamo_store: DynamoStore, dynamodb_client: Any, questionnaire: Any
) -> None:
    """Issue 15 item 1: a real submission (all answers of smm) is one conditional PutItem
    of a compact item under 1 KB, one write unit (ReturnConsumedCapacity), no transaction
    and no roll-up write; a duplicate is one refused PutItem."""
    from chalicelib.assessments import AssessmentService
    from chalicelib.config import Settings
    from chalicelib.questionnaire import get_catalog
    from chalicelib.request_models import SubmissionIn
    from tests import orgs
    from tests.dynamodb_local import ROOT

    catalog = get_catalog(str(ROOT / "questionnaires"))
    svc = AssessmentService(
        dynamo_store, catalog, Settings(secret=b"s" * 32, aggregate_inline=False)
    )
    done = svc.submit(
        SubmissionIn.model_validate({"answers": orgs.middling(questionnaire)})
    )
    rec = dynamo_store.get_assessment(done.view.record.id)
    assert rec is not None and len(rec.answers) > 80
    capacity: list[float] = []
    client = FaultyClient(dynamodb_client, put_item=[measured(capacity)] * 3)
    store = faulty_store(dynamo_store, client)
    anonymous = replace(rec, id="e" * 32)
    assert store.create_assessment(anonymous, contribution(anonymous)) is True
    again = replace(
        rec, id="f" * 32, partner_id="p_" + "a" * 30
    )  # a partner's: indexed
    store.requests.clear()
    assert store.create_assessment(again, contribution(again)) is True
    assert store.requests == collections.Counter({"put_item": 1})
    sizes = [item_size(c["Item"]) for c in client.calls["put_item"]]
    assert max(sizes) <= 1024, sizes
    assert set(client.calls["put_item"][0]["Item"]) == {"PK", "SK", "body", "w"}
    assert set(client.calls["put_item"][1]["Item"]) == {
        "PK",
        "SK",
        "body",
        "w",
        "partner_id",
        "created_at",
    }
    # one write unit; a partner's item is also written to the partner-created index
    assert capacity == [1.0, 2.0]
    assert store.get_assessment(again.id) == again

    store.requests.clear()
    assert store.create_assessment(again, contribution(again)) is False  # duplicate
    assert store.requests == collections.Counter({"put_item": 1})
    bench = dynamodb_client.query(
        TableName=dynamo_store.table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "BENCH#real#smm#1.0.0"}},
    )
    assert bench["Items"] == []  # no legacy roll-up written


def test_idempotency_key_and_webhook_event_writes(dynamo_store: DynamoStore) -> None:
    """With an Idempotency-Key: the assessment, then the key (2 PutItems; a retry of the
    key write is allowed by its own condition). With a webhook event: one transaction of
    the assessment and its delivery (the outbox), no roll-ups."""
    from chalicelib.records import Delivery, IdempotencyKey

    rec = record(1)
    entry = IdempotencyKey("k1", rec.id, 100, 200)
    dynamo_store.requests.clear()
    assert dynamo_store.create_assessment(rec, contribution(rec), None, entry)
    assert dynamo_store.requests == collections.Counter({"put_item": 2})
    assert dynamo_store.get_idempotency_key("k1") == entry
    assert dynamo_store._take_key(entry)  # the same assessment's retry: allowed
    other = record(2)  # a concurrent use of the key with another id: refused, undone
    assert not dynamo_store.create_assessment(
        other, contribution(other), None, IdempotencyKey("k1", other.id, 150, 250)
    )
    assert dynamo_store.get_assessment(other.id) is None

    partner_rec = record(3, partner_id="p1")
    event = Delivery("evt_1", "p1", "assessment.completed", "{}", 9, next_at=9)
    dynamo_store.requests.clear()
    assert dynamo_store.create_assessment(partner_rec, contribution(partner_rec), event)
    assert dynamo_store.requests == collections.Counter({"transact_write_items": 1})
    assert dynamo_store.get_delivery("p1", "evt_1") is not None
    drain(dynamo_store)  # rec counted, other inserted and removed: net zero
    assert counts(dynamo_store) == {c: 2 for c in COHORT.generalisations()}


FULL_METRICS = (
    ["overall", "phase", "pyramid_level"]
    + [f"tier_{t}" for t in ("foundation", "safety", "formation", "enablement")]
    + ["tier_enlightenment"]
    + [f"dim_{d}" for d in ("strategy", "crisis", "measurement", "service")]
    + ["dim_content", "dim_sociability"]
)


def full_record(i: int, rng: random.Random) -> AssessmentRecord:
    """A record with all 14 metrics of smm 1.0.0 (209 histogram words per cell)."""
    top = {"phase": 7, "pyramid_level": 5}
    return record(i, metrics={m: rng.randint(0, top.get(m, 100)) for m in FULL_METRICS})


def stored_cell(store: DynamoStore, cell: str) -> dict[str, Any]:
    item: dict[str, Any] = store.client.get_item(
        TableName=store.table_name,
        Key={"PK": {"S": f"AGG#real#smm#1.0.0#{cell}"}, "SK": {"S": "C"}},
        ConsistentRead=True,
    )["Item"]
    return item


def test_user_with_every_metric_is_one_put_and_one_delete(
    dynamo_store: DynamoStore,
) -> None:
    """The largest submission (14 metrics, both populations: 16 cells) is still one
    PutItem, its erasure one DeleteItem; the fold adds it to and takes it out of the
    cells, and reading the 16 cells back (users with their all counts) is one
    BatchGetItem."""
    rec = replace(full_record(7, random.Random(7)), uses_social_media=True)
    con = replace(contribution(rec), populations=("all", "users"))
    dynamo_store.requests.clear()
    assert dynamo_store.create_assessment(rec, con)
    assert dynamo_store.requests == collections.Counter({"put_item": 1})
    drain(dynamo_store)
    cells = [
        (REAL, CellKey(p, c))
        for p in ("users", "all")
        for c in COHORT.generalisations()
    ]
    dynamo_store.requests.clear()
    both = dynamo_store._read_cells(cells)
    assert dynamo_store.requests == collections.Counter({"batch_get_item": 1})
    assert set(both) == set(cells)
    users = read(dynamo_store, Cohort("C", "*", "*"), population="users")
    assert users.count == read(dynamo_store, Cohort("C", "*", "*")).count == 1
    assert users.histograms["overall"] == {rec.metrics["overall"]: 1}
    dynamo_store.requests.clear()
    assert dynamo_store.delete_assessment(rec, con)
    assert dynamo_store.requests == collections.Counter({"delete_item": 1})
    assert read(dynamo_store, Cohort("C", "*", "*"), population="users").count == 0


def test_cell_items_are_bounded_and_exact(dynamo_store: DynamoStore) -> None:
    """A cell item holds at most every word of every metric, its months, three counters
    and one checkpoint per stream shard, however many submissions: exact histograms at
    120 submissions, and erasure takes the bins back out of the words."""
    rng = random.Random(11)
    recs = [full_record(i, rng) for i in range(120)]
    for r in recs:
        assert dynamo_store.create_assessment(r, contribution(r)) is True
    drain(dynamo_store)
    names = set(stored_cell(dynamo_store, f"all:{COHORT.key}"))
    words = {n for n in names if n.startswith("h#")}
    assert len(words) <= 12 * 17 + 2 + 1
    assert names - words - {"PK", "SK", "n", "ch", "rm", "mo#2026-11"} == {
        n for n in names if n.startswith("ap#")
    }
    agg = read(dynamo_store, COHORT)
    assert agg.count == 120
    for m in FULL_METRICS:
        assert agg.histograms[m] == dict(
            collections.Counter(r.metrics[m] for r in recs)
        )
    gone = recs[7]
    assert dynamo_store.delete_assessment(gone, contribution(gone)) is True
    drain(dynamo_store)
    agg = read(dynamo_store, COHORT)
    assert agg.count == 119
    assert read(dynamo_store, Cohort()).count == 119  # the global cell: one, unsharded
    assert agg.histograms["overall"] == dict(
        collections.Counter(r.metrics["overall"] for r in recs if r is not gone)
    )


def test_items_of_the_previous_layout_are_read_and_erased_safely(
    dynamo_store: DynamoStore,
) -> None:
    """An assessment item of the layout before the compact one (``body`` a JSON string) is
    still read, and its stream records fold like a compact item's (insert, erasure)."""
    from chalicelib.storage import codec

    rec = record(3)
    dynamo_store.client.put_item(
        TableName=dynamo_store.table_name,
        Item={
            "PK": {"S": f"ASSESSMENT#{rec.id}"},
            "SK": {"S": "A"},
            "body": {"S": codec.record_to_json(rec)},
            "write_id": {"S": "old"},
        },
    )
    assert dynamo_store.get_assessment(rec.id) == rec
    drain(dynamo_store)  # its INSERT record has the old body: folded like a new one
    assert read(dynamo_store, COHORT).count == 1
    assert dynamo_store.delete_assessment(rec, contribution(rec)) is True
    drain(dynamo_store)
    assert read(dynamo_store, COHORT).count == 0
    assert dynamo_store.dead_letters() == []


# --- fault injection ------------------------------------------------------------------------
def test_throttling_then_success_is_stored_once(
    dynamo_store: DynamoStore, dynamodb_client: Any
) -> None:
    client = FaultyClient(
        dynamodb_client,
        put_item=[
            fail(error("ThrottlingException", op="PutItem")),
            fail(error("ProvisionedThroughputExceededException", op="PutItem")),
        ],
    )
    store = faulty_store(dynamo_store, client)
    rec = record(2)
    assert store.create_assessment(rec, contribution(rec)) is True
    assert store.requests["put_item"] == 3
    assert dynamo_store.get_assessment(rec.id) == rec
    assert set(counts(dynamo_store).values()) == {1}


def test_throttling_every_time_raises_unavailable_and_changes_nothing(
    dynamo_store: DynamoStore, dynamodb_client: Any
) -> None:
    before = record(3)
    dynamo_store.create_assessment(before, contribution(before))
    expected = snapshot(dynamo_store)
    client = FaultyClient(
        dynamodb_client,
        put_item=[fail(error("ProvisionedThroughputExceededException", op="PutItem"))]
        * 10,
    )
    store = faulty_store(dynamo_store, client, max_attempts=4)
    rec = record(4)
    with pytest.raises(Unavailable) as info:
        store.create_assessment(rec, contribution(rec))
    assert info.value.retry_after == 1
    assert len(client.calls["put_item"]) == 4  # bounded
    assert dynamo_store.get_assessment(rec.id) is None  # read through the real client
    assert snapshot(dynamo_store) == expected


def test_timeout_after_commit_is_recognised_by_the_write_id_and_counted_once(
    dynamo_store: DynamoStore, dynamodb_client: Any
) -> None:
    """The put was applied, the response lost: the retry's condition fails, but the stored
    item carries this call's write id, so the call reports success; the stream has one
    INSERT, so it is counted once."""
    client = FaultyClient(dynamodb_client, put_item=[apply_then_fail(TIMEOUT)])
    store = faulty_store(dynamo_store, client)
    rec = record(5)
    assert store.create_assessment(rec, contribution(rec)) is True
    assert len(client.calls["put_item"]) == 2
    assert set(counts(dynamo_store).values()) == {1}
    assert store.create_assessment(rec, contribution(rec)) is False  # a real duplicate
    assert set(counts(dynamo_store).values()) == {1}


def test_outbox_transaction_keeps_its_token_after_an_ambiguous_failure(
    dynamo_store: DynamoStore, dynamodb_client: Any
) -> None:
    from chalicelib.records import Delivery

    client = FaultyClient(
        dynamodb_client,
        transact_write_items=[
            apply_then_fail(TIMEOUT),
            fail(error("ThrottlingException")),
        ],
    )
    store = faulty_store(dynamo_store, client)
    rec = record(6, partner_id="p1")
    event = Delivery("evt_6", "p1", "assessment.completed", "{}", 9, next_at=9)
    assert store.create_assessment(rec, contribution(rec), event) is True
    tokens = {c["ClientRequestToken"] for c in client.calls["transact_write_items"]}
    assert len(tokens) == 1
    assert set(counts(dynamo_store).values()) == {1}


def test_write_id_backstop_when_the_token_is_not_honoured(
    dynamo_store: DynamoStore, dynamodb_client: Any
) -> None:
    """Outside the 10-minute token window a retry is a new request: the conditional put
    fails, and the stored item's write id shows that this call wrote it."""
    from chalicelib.records import Delivery

    def new_token(real: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        return real(**{**kwargs, "ClientRequestToken": str(uuid.uuid4())})

    client = FaultyClient(
        dynamodb_client, transact_write_items=[apply_then_fail(TIMEOUT), new_token]
    )
    store = faulty_store(dynamo_store, client)
    rec = record(7, partner_id="p1")
    event = Delivery("evt_7", "p1", "assessment.completed", "{}", 9, next_at=9)
    assert store.create_assessment(rec, contribution(rec), event) is True
    assert set(counts(dynamo_store).values()) == {1}


def test_excluded_submission_put_timeout_after_commit(
    dynamo_store: DynamoStore, dynamodb_client: Any
) -> None:
    client = FaultyClient(dynamodb_client, put_item=[apply_then_fail(TIMEOUT)])
    store = faulty_store(dynamo_store, client)
    rec = record(8, included=False, exclusion_reasons=("no-consent",))
    assert store.create_assessment(rec, None) is True
    assert len(client.calls["put_item"]) == 2
    assert store.create_assessment(rec, None) is False  # a genuine duplicate
    assert read(dynamo_store, COHORT).count == 0  # excluded: the fold skips it


def test_erasure_timeout_after_commit_reports_erased_and_subtracts_once(
    dynamo_store: DynamoStore, dynamodb_client: Any
) -> None:
    keep, gone = record(9), record(10)
    for r in (keep, gone):
        dynamo_store.create_assessment(r, contribution(r))
    client = FaultyClient(dynamodb_client, delete_item=[apply_then_fail(TIMEOUT)])
    store = faulty_store(dynamo_store, client)
    assert store.delete_assessment(gone, contribution(gone)) is True
    assert len(client.calls["delete_item"]) == 2
    assert set(counts(dynamo_store).values()) == {1}
    assert store.delete_assessment(gone, contribution(gone)) is False


def test_server_and_connection_errors_are_retried(
    dynamo_store: DynamoStore, dynamodb_client: Any
) -> None:
    rec = record(11)
    client = FaultyClient(
        dynamodb_client,
        put_item=[fail(error("InternalServerError", 500, "PutItem"))],
        get_item=[fail(error("InternalServerError", 500, "GetItem"))],
        batch_get_item=[
            fail(error("ServiceUnavailable", 503, "BatchGetItem")),
            fail(EndpointConnectionError(endpoint_url="http://127.0.0.1:1/")),
        ],
    )
    store = faulty_store(dynamo_store, client)
    assert store.create_assessment(rec, contribution(rec)) is True
    assert store.get_assessment(rec.id) == rec
    drain(dynamo_store)
    store.requests.clear()
    got = store._read_cells([(REAL, CellKey("all", COHORT))])
    assert got[(REAL, CellKey("all", COHORT))].count == 1
    assert store.requests == collections.Counter({"batch_get_item": 3})
    assert client.calls["put_item"] and len(client.calls["put_item"]) == 2
    assert len(client.calls["get_item"]) == 2


def test_validation_errors_are_not_retried(
    dynamo_store: DynamoStore, dynamodb_client: Any
) -> None:
    client = FaultyClient(
        dynamodb_client, get_item=[fail(error("ValidationException", 400, "GetItem"))]
    )
    store = faulty_store(dynamo_store, client)
    with pytest.raises(ClientError):
        store.get_assessment("x")
    assert store.requests["get_item"] == 1


def test_unprocessed_keys_are_retried_to_completion(
    dynamo_store: DynamoStore, dynamodb_client: Any
) -> None:
    for i in range(12, 20):
        r = record(i, region="nordics" if i % 2 else "dach")
        dynamo_store.create_assessment(r, contribution(r))
    drain(dynamo_store)

    def half(real: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        ((table, spec),) = kwargs["RequestItems"].items()
        keys = spec["Keys"]
        resp = real(RequestItems={table: {**spec, "Keys": keys[: len(keys) // 2]}})
        resp["UnprocessedKeys"] = {table: {**spec, "Keys": keys[len(keys) // 2 :]}}
        return resp

    client = FaultyClient(dynamodb_client, batch_get_item=[half, half])
    store = faulty_store(dynamo_store, client)
    cells = [(REAL, CellKey("all", c)) for c in COHORT.generalisations()]
    got = store._read_cells(cells)
    assert store.requests["batch_get_item"] == 3
    assert got == dynamo_store._read_cells(cells)
    assert set(got) == set(cells) and got[(REAL, CellKey("all", Cohort()))].count == 8

    stuck = FaultyClient(dynamodb_client, batch_get_item=[half] * 10)
    with pytest.raises(Unavailable):
        faulty_store(dynamo_store, stuck, max_attempts=3)._read_cells(cells)


def test_bulk_load_retries_unprocessed_items(
    dynamo_store: DynamoStore, dynamodb_client: Any
) -> None:
    def half(real: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        ((table, reqs),) = kwargs["RequestItems"].items()
        resp = real(RequestItems={table: reqs[: len(reqs) // 2]})
        resp["UnprocessedItems"] = {table: reqs[len(reqs) // 2 :]}
        return resp

    client = FaultyClient(dynamodb_client, batch_write_item=[half])
    store = faulty_store(dynamo_store, client, bulk_workers=1)
    recs = [record(100 + i) for i in range(30)]  # 2 batches: 25 + 5
    store.bulk_load(recs, [contribution(r) for r in recs])
    # the two record batches (one retried) and one batch of the 9 new index items
    assert store.requests["batch_write_item"] == 4
    assert all(dynamo_store.get_assessment(r.id) == r for r in recs)
    assert read(dynamo_store, Cohort()).count == 30  # once: the fold skips bulk inserts


# --- expression chunking --------------------------------------------------------------------
def test_add_expressions_are_chunked_under_the_limits() -> None:
    deltas = {f"m#metric_{m:02d}#{b}": b + 1 for m in range(15) for b in range(101)}
    chunks = add_expressions({**deltas, "zero": 0})
    assert len(chunks) > 1
    merged: dict[str, int] = {}
    for c in chunks:
        expr = c["UpdateExpression"]
        assert len(expr.encode()) <= MAX_EXPRESSION_BYTES
        assert expr.count(":v") == len(c["ExpressionAttributeNames"]) <= MAX_ADD_ACTIONS
        for placeholder, name in c["ExpressionAttributeNames"].items():
            merged[name] = int(
                c["ExpressionAttributeValues"][":v" + placeholder[2:]]["N"]
            )
    assert merged == {**deltas, "zero": 0}  # every counter once, zeros kept


def test_bulk_load_fills_every_histogram_bin(dynamo_store: DynamoStore) -> None:
    """Fully populated aggregate items need chunked ADDs (DynamoDB Local enforces the 4 KB
    expression limit); the result equals the sum of the individual contributions."""
    metrics = [f"dim_{i}" for i in range(12)]
    recs = [
        record(
            200 + i,
            source="reference",
            metrics={m: (i * (k + 3)) % 101 for k, m in enumerate(metrics)},
            month=f"2026-{1 + i % 12:02d}",
        )
        for i in range(303)
    ]
    cons = [replace(contribution(r), source="reference") for r in recs]
    seen: list[tuple[int, int]] = []
    dynamo_store.bulk_load(
        recs, cons, progress=lambda done, total: seen.append((done, total))
    )
    assert seen and seen[-1][0] == seen[-1][1]
    got = read(dynamo_store, Cohort("C", "*", "*"), source="reference")
    assert got.count == len(recs)
    for m in metrics:
        assert got.histograms[m] == dict(
            collections.Counter(r.metrics[m] for r in recs)
        )
    assert sum(got.months.values()) == len(recs)


# --- concurrency ----------------------------------------------------------------------------
def test_concurrent_submissions_and_duplicates_count_exactly(
    dynamo_store: DynamoStore,
) -> None:
    threads_n, per_thread = 16, 50
    industries, sizes, regions = (
        ("C", "J", "M"),
        ("10-49", "50-249"),
        ("dach", "nordics"),
    )
    recs = [
        record(
            10_000 + i,
            industry=industries[i % 3],
            size=sizes[(i // 3) % 2],
            region=regions[(i // 7) % 2],
        )
        for i in range(threads_n * per_thread)
    ]
    work: list[list[AssessmentRecord]] = [
        recs[t * per_thread : (t + 1) * per_thread] for t in range(threads_n)
    ]
    duplicates = [r for i, r in enumerate(recs) if i % 5 == 0]  # a fifth, re-submitted
    for j, r in enumerate(duplicates):
        owner = recs.index(r) // per_thread
        work[(owner + 1 + j % (threads_n - 1)) % threads_n].append(r)
    rng = random.Random(7)
    for w in work:
        rng.shuffle(w)
    results: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads_n)

    def run(chunk: list[AssessmentRecord]) -> None:
        barrier.wait()
        try:
            for r in chunk:
                ok = dynamo_store.create_assessment(r, contribution(r))
                with lock:
                    results.append(ok)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert results.count(True) == len(recs) and results.count(False) == len(duplicates)

    cohorts = {
        c for r in recs for c in Cohort(r.industry, r.size, r.region).generalisations()
    }
    for c in cohorts:
        members = [
            r
            for r in recs
            if all(
                want in ("*", have)
                for want, have in zip(
                    (c.industry, c.size, c.region), (r.industry, r.size, r.region)
                )
            )
        ]
        agg = read(dynamo_store, c)
        assert agg.count == len(members), c
        for m in ("overall", "phase", "tier_foundation"):
            assert sum(agg.histograms[m].values()) == agg.count
            assert agg.histograms[m] == dict(
                collections.Counter(r.metrics[m] for r in members)
            )
        assert agg.months == {"2026-11": len(members)}
    assert read(dynamo_store, Cohort()).count == 800


# --- the table is the template's ------------------------------------------------------------
def test_table_matches_the_template(
    dynamo_store: DynamoStore, dynamodb_client: Any
) -> None:
    props = table_properties(load_template(TEMPLATE))
    table = dynamodb_client.describe_table(TableName=dynamo_store.table_name)["Table"]
    assert table["KeySchema"] == props["KeySchema"]
    assert sorted(
        table["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    ) == sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"])
    assert (
        table["BillingModeSummary"]["BillingMode"]
        == props["BillingMode"]
        == "PAY_PER_REQUEST"
    )
    # one index: a partner's assessments newest first (GET /v1/partner/assessments)
    (index,) = table["GlobalSecondaryIndexes"]
    (wanted,) = props["GlobalSecondaryIndexes"]
    assert index["IndexName"] == wanted["IndexName"] == "partner-created"
    assert index["KeySchema"] == wanted["KeySchema"]
    assert index["Projection"] == wanted["Projection"]
    ttl = dynamodb_client.describe_time_to_live(TableName=dynamo_store.table_name)
    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": props["TimeToLiveSpecification"]["AttributeName"],
    }
    assert props["TimeToLiveSpecification"]["AttributeName"] == "expires_at"
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True
    }


def test_from_env(
    monkeypatch: pytest.MonkeyPatch, dynamo_store: DynamoStore, dynamodb_local: str
) -> None:
    for var in (
        "TABLE_NAME",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValueError, match="TABLE_NAME"):
        DynamoStore.from_env()
    monkeypatch.setenv("TABLE_NAME", dynamo_store.table_name)
    monkeypatch.setenv("DYNAMODB_ENDPOINT", dynamodb_local)
    monkeypatch.setenv("DYNAMODB_MAX_ATTEMPTS", "0")
    with pytest.raises(ValueError, match="DYNAMODB_MAX_ATTEMPTS"):
        DynamoStore.from_env()
    monkeypatch.setenv("DYNAMODB_MAX_ATTEMPTS", "3")
    store = DynamoStore.from_env()
    assert (
        store.max_attempts == 3 and store.requests == collections.Counter()
    )  # nothing called
    rec = record(30)
    assert store.create_assessment(rec, contribution(rec)) is True
    assert dynamo_store.get_assessment(rec.id) == rec
