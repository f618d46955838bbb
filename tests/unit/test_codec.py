"""The stored encodings (chalicelib/storage/codec.py) are pinned: SQLite files and DynamoDB
items written before must read back, and new writes must look like the old ones."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from chalicelib.records import (
    AssessmentRecord,
    Contribution,
    Delivery,
    Deltas,
    Draft,
    PartnerKey,
    Webhook,
    WebhookSecret,
)
from chalicelib.storage import codec, packed
from chalicelib.storage.codec import CounterName, MonthCounter, WordName
from chalicelib.storage.sqlite import SqliteStore


def contribution(**metrics: int) -> Contribution:
    return Contribution("real", "smm", "1.0.0", ("C#*#*",), metrics, "2026-11")


def record() -> AssessmentRecord:
    return AssessmentRecord(
        id="a" * 32,
        questionnaire_id="smm",
        version="1.0.0",
        language="de",
        answers={"social_presence": "structured"},
        metrics={"overall": 57, "phase": 3},
        result={"phase": 3},
        industry="C",
        size="50-249",
        country="DE",
        region="dach",
        month="2026-11",
        created_at="2026-11-23T10:00:00+00:00",
        consent=True,
        included=True,
        exclusion_reasons=("too_fast",),
        token_hash="ab" * 32,
        request_hash="cd" * 32,
    )


def test_counter_names_have_their_stored_text_form() -> None:
    assert CounterName("overall", 57).encode() == "m#overall#57"
    assert CounterName.decode("m#tier_foundation#0") == CounterName(
        "tier_foundation", 0
    )
    assert MonthCounter("2026-11").encode() == "month#2026-11"
    assert MonthCounter.decode("month#2026-11") == MonthCounter("2026-11")
    assert WordName("overall", 9).encode() == "h#overall#9"
    assert WordName.decode("h#pyramid_level#0") == WordName("pyramid_level", 0)
    assert codec.COUNT == "count"


@pytest.mark.parametrize(
    "name", ["m#overall", "m#overall#x", "m##3", "h#overall#1", "m#a#b#3", "count"]
)
def test_malformed_bin_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        CounterName.decode(name)


def test_a_submission_counts_as_pinned_per_bin_counters() -> None:
    deltas = contribution(overall=57, phase=3).deltas()
    assert deltas == Deltas(1, {"2026-11": 1}, {"overall": {57: 1}, "phase": {3: 1}})
    assert codec.deltas_to_counters(deltas) == {
        "count": 1,
        "month#2026-11": 1,
        "m#overall#57": 1,
        "m#phase#3": 1,
    }
    back = codec.deltas_from_counters(codec.deltas_to_counters(deltas).items())
    assert back == deltas
    assert (
        contribution(overall=57).deltas(-1)
        == contribution(overall=57).deltas().negated()
    )
    with pytest.raises(ValueError, match="unknown aggregate counter"):
        codec.deltas_from_counters([("n", 1)])
    assert codec.deltas_from_counters([("n", 1)], strict=False) == Deltas()


def test_dynamodb_attributes_of_a_submission_are_pinned() -> None:
    """What one submission ADDs to a DynamoDB aggregate item: exact names and numbers."""
    stored = packed.pack_deltas(
        contribution(overall=57, phase=3, pyramid_level=2).deltas()
    )
    expected = {"count": 1, "month#2026-11": 1}
    expected |= {f"h#overall#{w}": 0 for w in range(17)}
    expected["h#overall#9"] = 10**18  # 57 = word 9, position 3: six digits per bin
    expected |= {"h#phase#0": 10**18, "h#phase#1": 0, "h#pyramid_level#0": 10**12}
    assert stored == expected
    erased = packed.pack_deltas(contribution(overall=57).deltas(-1))
    assert erased["count"] == -1 and erased["h#overall#9"] == -(10**18)


def test_sqlite_cell_row_is_pinned(tmp_path: Path) -> None:
    """What one folded submission leaves in SQLite: the assessment body and, per cell, one
    ``cell_aggregates`` row in the codec's form (the roll-up table is gone)."""
    from chalicelib.aggregation import CellKey
    from chalicelib.cohorts import Cohort

    path = str(tmp_path / "pinned.sqlite3")
    store = SqliteStore(path)
    rec = record()
    c = Contribution("real", "smm", "1.0.0", ("C#*#*",), {"phase": 3}, "2026-11")
    assert store.create_assessment(rec, c) is True
    assert store.aggregate_pending().records == 1
    store.close()
    top = CellKey("all", Cohort()).key
    with sqlite3.connect(path) as conn:
        (body,) = conn.execute(
            "SELECT body FROM cell_aggregates WHERE cell = ?", (top,)
        ).fetchone()
        (stored,) = conn.execute("SELECT body FROM assessments").fetchone()
        tables = {
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    assert top == "all:*#*#*"
    overall = ["0"] * 101
    overall[57] = "1"
    assert body == (
        '{"n":1,"h":{"overall":[' + ",".join(overall) + '],"phase":[0,0,0,1,0,0,0,0]},'
        '"mo":{"2026-11":1},"ch":1,"rm":0,"ap":{"sqlite":1}}'
    )
    assert stored == json.dumps(asdict(rec), sort_keys=True)
    assert "cohort_aggregates" not in tables


def test_record_bodies_are_sorted_json_of_their_fields() -> None:
    rec = record()
    assert codec.record_to_json(rec) == json.dumps(asdict(rec), sort_keys=True)
    assert codec.record_from_json(codec.record_to_json(rec)) == rec
    draft = Draft("d1", "smm", "1.0.0", "de", {"q1": "a"}, "2026-11-23T10:00:00Z", 9)
    key = PartnerKey(
        "k1",
        "p1",
        "CRM",
        "h" * 64,
        ("submit",),
        ("https://a.example",),
        "standard",
        "t",
    )
    hook = Webhook("p1", "https://hooks.example/x", "t", (WebhookSecret("s1", 5, 9),))
    delivery = Delivery(
        "e1", "p1", "assessment.completed", '{"a":1}', 7, last_status=500
    )
    for value, encode, decode in (
        (draft, codec.draft_to_json, codec.draft_from_json),
        (key, codec.partner_key_to_json, codec.partner_key_from_json),
        (hook, codec.webhook_to_json, codec.webhook_from_json),
        (delivery, codec.delivery_to_json, codec.delivery_from_json),
    ):
        assert encode(value) == json.dumps(asdict(value), sort_keys=True)  # type: ignore[operator]
        assert decode(encode(value)) == value  # type: ignore[operator]
        # the SQLite adapter wrote some of these without sorting the keys: still read
        assert decode(json.dumps(asdict(value))) == value  # type: ignore[operator]
    assert codec.branding_from_json(codec.branding_to_json({"b": 1, "a": 2})) == {
        "a": 2,
        "b": 1,
    }


def test_bodies_of_older_layouts_are_read() -> None:
    key = PartnerKey("k1", "p1", "CRM", "h", ("submit",), (), "standard", "t")
    old_key = {**asdict(key), "webhook_url": "https://old.example"}
    old_key.pop("kind")
    assert codec.partner_key_from_json(json.dumps(old_key)) == key
    hook = Webhook("p1", "https://hooks.example/x", "t")
    old_hook = {"partner_id": "p1", "url": "https://hooks.example/x", "created_at": "t"}
    assert codec.webhook_from_json(json.dumps(old_hook)) == hook


def test_assessment_bodies_keep_their_shard_count_and_older_ones_still_read() -> None:
    """``global_shards`` is additive: a body stored before it existed reads as None (the
    service then uses ``Settings.legacy_global_shards``), a new one keeps its count."""
    rec = record()
    old = json.loads(codec.record_to_json(rec))
    del old["global_shards"]  # the bytes written before the field existed
    assert codec.record_from_json(json.dumps(old, sort_keys=True)) == rec
    assert rec.global_shards is None
    counted = replace(rec, global_shards=8)
    assert '"global_shards": 8' in codec.record_to_json(counted)
    assert codec.record_from_json(codec.record_to_json(counted)).global_shards == 8


# --- cell aggregates (issue 15) -------------------------------------------------------------
def test_cell_aggregate_roundtrips_and_is_pinned() -> None:
    from chalicelib.aggregation import CohortState

    state = CohortState(
        count=3,
        bins={"phase": [0, 1, 2, 0, 0, 0, 0, 0]},
        months={"2026-11": 3, "2026-10": 0},
        changes=5,
        removals=2,
        applied={"sqlite": 41},
    )
    body = codec.cohort_state_to_json(state)
    assert body == (
        '{"n":3,"h":{"phase":[0,1,2,0,0,0,0,0]},"mo":{"2026-11":3},"ch":5,"rm":2,'
        '"ap":{"sqlite":41}}'
    )
    back = codec.cohort_state_from_json(body)
    assert back == replace(state, months={"2026-11": 3})  # empty months dropped
    assert back.counters() == state.counters()


@pytest.mark.parametrize(
    "bad",
    [
        '{"h": {}}',  # no count
        '{"n": true}',
        '{"n": 1, "h": {"phase": [1, 2]}}',  # not dense
        '{"n": 1, "ap": {"sqlite": "7"}}',
        '{"n": 1, "h": {"phase": [true, 0, 0, 0, 0, 0, 0, 0]}}',
        "[1]",
    ],
)
def test_cell_aggregate_refuses_what_it_did_not_write(bad: str) -> None:
    with pytest.raises((TypeError, ValueError)):
        codec.cohort_state_from_json(bad)


def test_contribution_image_names_the_most_specific_cohort() -> None:
    from chalicelib.aggregation import parse_image
    from chalicelib.cohorts import Cohort, contribution_keys

    con = Contribution(
        "reference",
        "smm",
        "2.0.0",
        contribution_keys(Cohort("C", "50-249", "dach"), "ref-1", 4),
        {"overall": 57, "phase": 3},
        "2026-11",
        ("all", "users"),
    )
    image = parse_image(codec.contribution_image(con, "bulk-9"))
    assert image.cohort == Cohort("C", "50-249", "dach")
    assert image.included and image.populations == ("all", "users")
    assert {k[1].cohort for k in image.aggregate_keys()} == set(
        Cohort("C", "50-249", "dach").generalisations()
    )
