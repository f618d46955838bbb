"""Pure parts of the DynamoDB adapter's issue-15 items: the compact assessment body and the
cell aggregate's update expression and decoding (no DynamoDB; the behaviour against
DynamoDB Local is in tests/integration/test_dynamodb*.py)."""

from __future__ import annotations

import random

import pytest

from chalicelib.aggregation import CellKey, CohortState, Grid, KeyDelta, apply_delta
from chalicelib.cohorts import Cohort
from chalicelib.storage import codec
from chalicelib.storage.dynamodb import cells, compact
from tests.integration.test_store_contract import record

GRID = Grid("real", "smm", "1.0.0")
CELL = CellKey("all", Cohort("C", "*", "dach"))


def test_compact_body_roundtrips_and_is_small() -> None:
    rec = record(1, answers={f"question_{i:02d}": "mostly" for i in range(90)})
    body = compact.pack_body(rec)
    assert body[:1] == compact.V1
    assert len(body) < len(codec.record_to_json(rec)) / 3
    assert compact.record_from_attribute({"B": body}) == rec
    import base64  # a Lambda event carries binaries as base64 text

    assert compact.record_from_attribute({"B": base64.b64encode(body).decode()}) == rec
    assert compact.record_from_attribute({"S": codec.record_to_json(rec)}) == rec
    with pytest.raises(ValueError, match="format"):
        compact.unpack_body(b"\x02" + body[1:])
    with pytest.raises(TypeError):
        compact.record_from_attribute({"N": "1"})


def _stored(state: CohortState | None, delta: KeyDelta) -> dict[str, dict[str, str]]:
    """What DynamoDB would hold after the update: the item of ``apply_delta``'s state,
    written through the same names the expression uses."""
    req = cells.update_request("t", GRID, CELL, delta)
    assert req is not None
    names, values = req["ExpressionAttributeNames"], req["ExpressionAttributeValues"]
    item: dict[str, dict[str, str]] = {}
    if state is not None:
        item = _item_of(state)
    add, _, sets = req["UpdateExpression"].removeprefix("ADD ").partition(" SET ")
    for part in add.split(", "):
        n, v = part.split(" ")
        old = int(item.get(names[n], {"N": "0"})["N"])
        item[names[n]] = {"N": str(old + int(values[v]["N"]))}
    for part in sets.split(", ") if sets else []:
        n, v = part.split(" = ")
        item[names[n]] = values[v]
    return item


def _item_of(state: CohortState) -> dict[str, dict[str, str]]:
    bins = {m: {b: v for b, v in enumerate(h) if v} for m, h in state.bins.items()}
    d = KeyDelta(
        state.count, bins, dict(state.months), state.changes, state.removals, {}, {}
    )
    item = _stored(None, d)
    for shard, seq in state.applied.items():
        item[cells.APPLIED + shard] = {"S": str(seq)}
    return item


def test_update_expression_adds_exactly_what_apply_delta_does() -> None:
    rng = random.Random(5)
    state: CohortState | None = None
    for step in range(30):
        sign = -1 if state is not None and state.count > 3 and rng.random() < 0.3 else 1
        bins = {
            "overall": {rng.randint(0, 100): sign},
            "phase": {rng.randint(0, 7): sign},
        }
        if sign < 0:  # remove something that is there
            assert state is not None
            bins = {
                m: {next(b for b, v in enumerate(h) if v): -1}
                for m, h in state.bins.items()
            }
        shard = rng.choice(["shardA", "shardB"])
        prev = state.applied.get(shard) if state else None
        delta = KeyDelta(
            sign,
            bins,
            {"2026-11": sign},
            1,
            1 if sign < 0 else 0,
            {shard: prev},
            {shard: 10**30 + step},
        )
        expected = apply_delta(state, delta)
        assert expected is not None
        got = cells.state_from_item(_stored(state, delta))
        assert got.counters() == expected.counters()
        assert (got.changes, got.removals, got.applied) == (
            expected.changes,
            expected.removals,
            expected.applied,
        )
        state = expected


def test_update_is_conditional_on_every_checkpoint() -> None:
    delta = KeyDelta(
        1,
        {"overall": {3: 1}},
        {"2026-11": 1},
        1,
        0,
        {"a": None, "b": 7},
        {"a": 1, "b": 9},
    )
    req = cells.update_request("t", GRID, CELL, delta)
    assert req is not None
    assert req["Key"] == {
        "PK": {"S": "AGG#real#smm#1.0.0#all:C#*#dach"},
        "SK": {"S": "C"},
    }
    cond = req["ConditionExpression"]
    names = req["ExpressionAttributeNames"]
    assert cond == "attribute_not_exists(#s0) AND #s1 = :e1"
    assert (names["#s0"], names["#s1"]) == ("ap#a", "ap#b")
    assert req["ExpressionAttributeValues"][":e1"] == {"S": "7"}


def test_a_change_too_large_for_one_expression_is_refused() -> None:
    months = {f"{2000 + y}-{m:02d}": 1 for y in range(30) for m in range(1, 13)}
    delta = KeyDelta(360, {}, months, 360, 0, {"a": None}, {"a": 1})
    assert cells.update_request("t", GRID, CELL, delta) is None
