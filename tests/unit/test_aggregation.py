"""The stream fold is exactly once: duplicates, replays, reordering across shards and crashes
between per-key writes give the aggregates of applying every record once."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib import aggregation as agg
from chalicelib.aggregation import AggregateKey, CellKey, CohortState, Grid
from chalicelib.cohorts import ALL, Cohort

GRID = Grid("real", "smm", "1.0.0")
INDUSTRIES = ("C", "J", "M")
SIZES = ("1-9", "10-49", "50-249")
REGIONS = ("dach", "nordics")
METRICS = ("overall", "phase", "pyramid_level", "dim_crisis")


def image(
    aid: str, rnd: random.Random, *, included: bool = True, users: bool | None = None
) -> dict[str, Any]:
    metrics: dict[str, int] = {}
    for m in METRICS:
        if rnd.random() < 0.8:  # "don't know" leaves a metric out
            metrics[m] = rnd.randrange(agg.metric_bins(m))
    return {
        "a": aid,
        "src": GRID.source,
        "q": GRID.questionnaire_id,
        "v": GRID.version,
        "c": [
            rnd.choice(INDUSTRIES + (ALL,)),
            rnd.choice(SIZES),
            rnd.choice(REGIONS),
        ],
        "p": ["all", "users"]
        if (rnd.random() < 0.7 if users is None else users)
        else ["all"],
        "m": metrics,
        "mo": f"2026-{rnd.randrange(1, 13):02d}",
        "inc": included,
    }


def record(
    seq: int, shard: str, op: str, old: Any = None, new: Any = None
) -> dict[str, Any]:
    return {
        "id": f"{shard}-{seq}",
        "shard": shard,
        "seq": str(seq),
        "op": op,
        "old": old,
        "new": new,
    }


def exact(
    live: list[dict[str, Any]], events: Mapping[AggregateKey, tuple[int, int]]
) -> dict[AggregateKey, tuple[Any, ...]]:
    """The aggregates computed directly from the surviving images (no stream at all)."""
    out: dict[AggregateKey, CohortState] = {}
    for im in live:
        parsed = agg.parse_image(im)
        for key in parsed.aggregate_keys():
            s = out.setdefault(key, CohortState())
            s.count += 1
            s.months[parsed.month] = s.months.get(parsed.month, 0) + 1
            for m, v in parsed.metrics.items():
                s.bins.setdefault(m, [0] * agg.metric_bins(m))[v] += 1
    keys = set(out) | set(events)
    return {
        k: (*(out.get(k) or CohortState()).counters(), *events.get(k, (0, 0)))
        for k in keys
    }


def observed(
    states: Mapping[AggregateKey, CohortState],
) -> dict[AggregateKey, tuple[Any, ...]]:
    return {k: (*s.counters(), s.changes, s.removals) for k, s in states.items()}


def shard_of(aid: str, shards: int) -> str:
    return f"shard-{hashlib.sha256(aid.encode()).digest()[0] % shards}"


def scenario(seed: int, n_ops: int, shards: int):  # type: ignore[no-untyped-def]
    """Random submissions, erasures and modifications; the records of one assessment go to
    one shard, in order (as DynamoDB Streams does). Returns per-shard record lists, the
    surviving images and the expected (changes, removals) per key."""
    rnd = random.Random(seed)
    live: dict[str, dict[str, Any]] = {}
    streams: dict[str, list[dict[str, Any]]] = {}
    seqs: dict[str, int] = {}
    events: dict[AggregateKey, list[int]] = {}

    def emit(aid: str, op: str, old: Any, new: Any) -> None:
        shard = shard_of(aid, shards)
        seqs[shard] = seqs.get(shard, 100) + rnd.randrange(
            1, 1000
        )  # gaps, like real streams
        streams.setdefault(shard, []).append(record(seqs[shard], shard, op, old, new))
        old_keys = set(agg.parse_image(old).aggregate_keys()) if old else set()
        new_keys = set(agg.parse_image(new).aggregate_keys()) if new else set()
        touched = old_keys | new_keys
        if op == agg.MODIFY:
            po, pn = agg.parse_image(old), agg.parse_image(new)
            same = (
                po.cohort,
                po.populations,
                dict(po.metrics),
                po.month,
                po.included,
            ) == (pn.cohort, pn.populations, dict(pn.metrics), pn.month, pn.included)
            if same:
                touched = set()
        for k in touched:
            e = events.setdefault(k, [0, 0])
            e[0] += 1
            e[1] += 1 if k in old_keys else 0

    for i in range(n_ops):
        r = rnd.random()
        if r < 0.6 or not live:
            aid = f"a{i}"
            im = image(aid, rnd, included=rnd.random() < 0.9)
            live[aid] = im
            emit(aid, agg.INSERT, None, im)
        elif r < 0.85:
            aid = rnd.choice(sorted(live))
            emit(aid, agg.REMOVE, live.pop(aid), None)
        else:
            aid = rnd.choice(sorted(live))
            old = live[aid]
            new = dict(old) if rnd.random() < 0.3 else {**image(aid, rnd), "a": aid}
            live[aid] = new
            emit(aid, agg.MODIFY, old, new)
    return streams, list(live.values()), {k: tuple(v) for k, v in events.items()}


def deliver(
    streams: dict[str, list[dict[str, Any]]], seed: int, mode: str = "states"
) -> dict[AggregateKey, CohortState]:
    """At-least-once delivery: per shard, batches in order with retries of whole batches,
    replays from an earlier batch, and crashes that persist only some keys of a batch; the
    shards interleave in random order. ``mode="deltas"`` writes ``KeyDelta`` increments
    under per-shard conditions; two shards often fold from the same (stale) read, and a
    retry sometimes runs concurrently with its original (same read, both write)."""
    rnd = random.Random(seed)
    store: dict[AggregateKey, CohortState] = {}
    batches: dict[str, list[list[dict[str, Any]]]] = {}
    for shard, recs in streams.items():
        i, out = 0, []
        while i < len(recs):
            size = rnd.randrange(1, 8)
            out.append(recs[i : i + size])
            i += size
        batches[shard] = out
    position = {s: 0 for s in batches}

    def write(result: agg.FoldResult, keys: list[AggregateKey]) -> None:
        for k in keys:
            if mode == "states":
                store[k] = result.states[k]
            else:
                new = agg.apply_delta(store.get(k), result.deltas[k])
                if new is not None:
                    store[k] = new

    while any(position[s] < len(b) for s, b in batches.items()):
        open_ = sorted(s for s, b in batches.items() if position[s] < len(b))
        shards = [rnd.choice(open_)]
        if mode == "deltas" and len(open_) > 1 and rnd.random() < 0.5:
            shards.append(rnd.choice([s for s in open_ if s != shards[0]]))
        snapshot = dict(store)  # every shard of this round reads before any writes
        results = [agg.fold(snapshot, batches[s][position[s]]) for s in shards]
        if mode == "deltas" and rnd.random() < 0.2:
            # a retry running concurrently with its original: same read, both write
            write(
                twin := agg.fold(snapshot, batches[shards[0]][position[shards[0]]]),
                sorted(twin.deltas),
            )
        for shard, result in zip(shards, results, strict=True):
            assert result.failures == ()
            keys = sorted(result.states if mode == "states" else result.deltas)
            assert set(result.states) == set(result.deltas)
            roll = rnd.random()
            if roll < 0.15:  # crash after writing only some keys: the batch comes again
                write(result, [k for k in keys if rnd.random() < 0.5])
                continue
            write(result, keys)
            if roll < 0.3:
                continue  # acknowledged but redelivered (duplicate)
            if roll < 0.4 and position[shard] > 0:
                position[shard] -= 1  # replay from an earlier batch
                continue
            position[shard] += 1
    return store


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32),
    st.integers(1, 120),
    st.integers(1, 4),
    st.integers(0, 2**32),
    st.sampled_from(["states", "deltas"]),
)
def test_at_least_once_delivery_folds_exactly_once(
    seed: int, n_ops: int, shards: int, delivery_seed: int, mode: str
) -> None:
    streams, live, events = scenario(seed, n_ops, shards)
    store = deliver(streams, delivery_seed, mode)
    want = exact(live, events)
    got = observed(store)
    zero = (0, {}, {}, 0, 0)
    for k in set(want) | set(got):
        assert got.get(k, zero) == want.get(k, zero), k


def test_concurrent_shards_add_without_conflict_and_a_stale_delta_is_refused() -> None:
    rnd = random.Random(7)
    same = ["C", "1-9", "dach"]
    a = [
        record(i, "s0", agg.INSERT, None, {**image(f"a{i}", rnd), "c": same})
        for i in range(1, 4)
    ]
    b = [
        record(i, "s1", agg.INSERT, None, {**image(f"b{i}", rnd), "c": same})
        for i in range(1, 4)
    ]
    ra, rb = agg.fold({}, a), agg.fold({}, b)  # both read the same empty state
    key = (GRID, CellKey("all", Cohort(*same)))
    after_a = agg.apply_delta(None, ra.deltas[key])
    both = agg.apply_delta(after_a, rb.deltas[key])
    assert both is not None and both.count == 6
    assert both == agg.fold({}, a + b).states[key]
    assert agg.apply_delta(both, ra.deltas[key]) is None  # s0's batch again: refused


def test_a_whole_batch_twice_changes_nothing_the_second_time() -> None:
    rnd = random.Random(1)
    batch = [
        record(i + 1, "s0", agg.INSERT, None, image(f"a{i}", rnd)) for i in range(20)
    ]
    first = agg.fold({}, batch)
    assert first.applied > 0 and first.skipped == 0
    second = agg.fold(first.states, batch)
    assert second.states == {} and second.applied == 0
    assert second.skipped == first.applied


def test_erasure_subtracts_exactly_what_was_added() -> None:
    rnd = random.Random(2)
    im = image("a1", rnd, users=True)
    base = [
        record(i + 10, "s0", agg.INSERT, None, image(f"b{i}", rnd)) for i in range(5)
    ]
    before = agg.fold({}, base).states
    added = agg.fold(before, [record(100, "s1", agg.INSERT, None, im)]).states
    erased = agg.fold(
        {**before, **added}, [record(101, "s1", agg.REMOVE, im, None)]
    ).states
    final = {**before, **added, **erased}
    keys = agg.parse_image(im).aggregate_keys()
    assert len(keys) == 16  # 8 roll-ups in each of 2 populations
    for k in keys:
        old = before.get(k) or CohortState()
        assert final[k].counters() == old.counters()
        assert final[k].changes == old.changes + 2
        assert final[k].removals == old.removals + 1


def test_malformed_records_are_reported_and_change_nothing() -> None:
    rnd = random.Random(3)
    good = record(1, "s0", agg.INSERT, None, image("a1", rnd))
    bad_metric = record(
        2, "s0", agg.INSERT, None, {**image("a2", rnd), "m": {"overall": 101}}
    )
    bad_op = {**record(3, "s0", "upsert", None, image("a3", rnd))}
    no_image = record(4, "s0", agg.REMOVE, None, None)
    never_added = record(5, "s0", agg.REMOVE, image("zz", rnd), None)
    not_a_dict = ["nope"]
    after = record(6, "s0", agg.INSERT, None, image("a6", rnd))
    result = agg.fold(
        {}, [good, bad_metric, bad_op, no_image, never_added, not_a_dict, after]
    )
    assert result.failures == ("s0-2", "s0-3", "s0-4", "s0-5", "")
    assert result.batch_item_failures() == {
        "batchItemFailures": [{"itemIdentifier": i} for i in result.failures]
    }
    only_good = agg.fold({}, [good, after])
    assert observed(result.states) == observed(only_good.states)


def test_excluded_and_unchanged_modifications_touch_nothing() -> None:
    rnd = random.Random(4)
    excluded = image("a1", rnd, included=False)
    kept = image("a2", rnd)
    result = agg.fold(
        {},
        [
            record(1, "s0", agg.INSERT, None, excluded),
            record(2, "s0", agg.INSERT, None, kept),
            record(3, "s0", agg.MODIFY, kept, dict(kept)),
        ],
    )
    assert set(result.states) == set(agg.parse_image(kept).aggregate_keys())
    assert all(s.count == 1 and s.changes == 1 for s in result.states.values())


def test_keys_spread_over_cohorts_and_read_set_matches() -> None:
    rnd = random.Random(5)
    batch = [
        record(i, "s0", agg.INSERT, None, image(f"a{i}", rnd)) for i in range(1, 50)
    ]
    keys = agg.record_keys(batch)
    assert set(agg.fold({}, batch).states) == keys
    assert (GRID, CellKey("all", Cohort())) in keys
    assert len({k[1] for k in keys}) > 20  # one key per cohort roll-up and population


def test_a_failed_key_write_reports_the_first_record_touching_it() -> None:
    rnd = random.Random(6)
    a = image("a1", rnd)
    b = {**image("a2", rnd), "c": ["J", "1-9", "nordics"]}
    a["c"] = ["C", "50-249", "dach"]
    batch = [record(1, "s0", agg.INSERT, None, a), record(2, "s0", agg.INSERT, None, b)]
    key = (GRID, CellKey("all", Cohort("J", ALL, ALL)))
    assert agg.first_failures(batch, [key]) == ["s0-2"]
    assert agg.first_failures(batch, [(GRID, CellKey("all", Cohort()))]) == ["s0-1"]


def test_cell_keys_round_trip_and_bins_match_the_store() -> None:
    k = CellKey("users", Cohort("C", "50-249", ALL))
    assert CellKey.from_key(k.key) == k
    # the fold sizes histograms as the stores do: scores 0..100, phases 0..7, levels 0..5
    expected = {
        "overall": 101,
        "phase": 8,
        "pyramid_level": 6,
        "tier_x": 101,
        "dim_y": 101,
    }
    for m, bins in expected.items():
        assert agg.metric_bins(m) == bins
