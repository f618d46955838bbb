"""Pure, exactly-once fold of stream batches into cohort aggregates.

A submission store emits one stream record per change of an assessment item (DynamoDB
Streams: ``INSERT``, ``REMOVE``, ``MODIFY``; SQLite: the same records from an outbox). This
module folds batches of them into the aggregates of every cohort roll-up, with no I/O:

- **Keys.** One aggregate per ``(Grid, CellKey)``: a grid is (source, questionnaire,
  version), a cell is (population, cohort). An assessment adds to the 8 roll-ups of its
  cohort (``Cohort.generalisations``) in each of its populations (``all``, plus ``users`` for
  an organisation that uses social media), so each key is its own partition: no global hot
  key, and one batch makes at most one write per key.
- **Exactly once.** Delivery is at least once: a batch can arrive again (Lambda retry,
  replay, a crash between two of the per-key writes). Records are ordered within a stream
  shard (DynamoDB Streams orders the records of one item within one shard), so every
  aggregate stores, *in the same item*, the last sequence number it applied per shard
  (``applied``). A record is applied to a key only when its sequence number is above that
  key's checkpoint for its shard, and the new checkpoint is written in the same conditional
  write as the new counters. A redelivered record therefore changes nothing, whichever keys
  were already written; a key written by the first delivery and a key written only by the
  second end in the same state as one delivery (``tests/unit/test_aggregation.py``).
- **Erasure** subtracts exactly what the insert added (the stream's old image is the
  inserted item). A removal that would drive a counter negative (an item inserted before the
  aggregator existed) is not applied to any key and is reported as a failure.
- **Failures.** A record that cannot be applied (malformed, unknown operation, metric out of
  range, removal of something never added) changes no key and its item id is returned in
  ``FoldResult.failures``, for the Lambda's ``batchItemFailures``. Lambda retries from the
  lowest failed sequence number; the checkpoints make the records after it that were
  already applied no-ops, and after the configured retries the failing record goes to the
  on-failure destination (dead-letter path).
- **Release bookkeeping.** ``changes`` (every applied insert and removal, a modification
  counts once) and ``removals`` are monotonic counters per key: the release job
  (``chalicelib/releases.py``) compares them with the values stored in the last release of
  the cell, so it never writes to aggregates.

A raw record is a mapping (what the store adapter builds from the stream event):

    {"id": "<item identifier>", "shard": "<shard id>", "seq": <int or digit string>,
     "op": "insert" | "remove" | "modify", "old": <image or None>, "new": <image or None>}

and an image is what the assessment contributes (None fields of the cohort are ``*``):

    {"a": "<assessment id>", "src": "real", "q": "smm", "v": "1.0.0",
     "c": ["C", "50-249", "dach"], "p": ["all", "users"], "m": {"overall": 57, ...},
     "mo": "2026-11", "inc": true}

Only an image with ``inc`` true (consented, passed the quality checks) contributes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.cohorts import ALL, Cohort
from chalicelib.records import (
    POPULATION_ALL,
    POPULATION_USERS,
    AssessmentRecord,
    Deltas,
    metric_bins,
)

# a stream image lists its populations in this order
POPULATIONS = (POPULATION_ALL, POPULATION_USERS)
INSERT, REMOVE, MODIFY = "insert", "remove", "modify"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_METRIC = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True, order=True)
class Grid:
    """Everything one release covers: a source of one questionnaire version."""

    source: str
    questionnaire_id: str
    version: str


@dataclass(frozen=True, order=True)
class CellKey:
    """One cell of a grid: a cohort (with ``*`` roll-ups) in one population."""

    population: str
    cohort: Cohort

    @property
    def key(self) -> str:
        """``all:C#50-249#dach``: the text form used in stored items."""
        return f"{self.population}:{self.cohort.key}"

    @classmethod
    def from_key(cls, key: str) -> CellKey:
        population, _, cohort = key.partition(":")
        if population not in POPULATIONS or cohort.count("#") != 2:
            raise ValueError(f"not a cell key: {key!r}")
        return cls(population, Cohort.from_key(cohort))


AggregateKey = tuple[Grid, CellKey]


@dataclass
class CohortState:
    """What a store persists for one aggregate key, in one item and one conditional write:
    the counters and, with them, the per-shard checkpoints that make the fold exactly once."""

    count: int = 0
    bins: dict[str, list[int]] = field(default_factory=dict)
    months: dict[str, int] = field(default_factory=dict)
    changes: int = (
        0  # monotonic: applied inserts + removals (a modification counts once)
    )
    removals: int = 0  # monotonic: applied removals (a modification of a member too)
    applied: dict[str, int] = field(
        default_factory=dict
    )  # shard -> last sequence number

    def copy(self) -> CohortState:
        return CohortState(
            self.count,
            {m: list(h) for m, h in self.bins.items()},
            dict(self.months),
            self.changes,
            self.removals,
            dict(self.applied),
        )

    def counters(self) -> tuple[int, dict[str, list[int]], dict[str, int]]:
        """The counters without empty months or all-zero histograms (for comparisons)."""
        return (
            self.count,
            {m: list(h) for m, h in self.bins.items() if any(h)},
            {mo: v for mo, v in self.months.items() if v},
        )


@dataclass(frozen=True)
class Image:
    """What one stored assessment contributes to the aggregates."""

    assessment_id: str
    grid: Grid
    cohort: Cohort
    populations: tuple[str, ...]
    metrics: Mapping[str, int]
    month: str
    included: bool

    def aggregate_keys(self) -> tuple[AggregateKey, ...]:
        if not self.included:
            return ()
        return tuple(
            (self.grid, CellKey(p, g))
            for p in self.populations
            for g in self.cohort.generalisations()
        )


@dataclass(frozen=True)
class Record:
    item_id: str
    shard: str
    sequence: int
    op: str
    old: Image | None
    new: Image | None


class MalformedRecord(ValueError):
    pass


def _text(raw: Mapping[str, Any], name: str) -> str:
    v = raw.get(name)
    if not isinstance(v, str) or not v:
        raise MalformedRecord(f"{name} must be a non-empty string")
    return v


def parse_image(raw: Any) -> Image:
    if not isinstance(raw, Mapping):
        raise MalformedRecord("image must be an object")
    cohort = raw.get("c")
    if (
        not isinstance(cohort, Sequence)
        or isinstance(cohort, str)
        or len(cohort) != 3
        or not all(isinstance(x, str) and x and "#" not in x for x in cohort)
    ):
        raise MalformedRecord("c must be [industry, size, region]")
    pops = raw.get("p")
    if (
        not isinstance(pops, Sequence)
        or isinstance(pops, str)
        or POPULATION_ALL not in pops
        or not set(pops) <= set(POPULATIONS)
        or len(set(pops)) != len(pops)
    ):
        raise MalformedRecord("p must list 'all' and optionally 'users'")
    metrics = raw.get("m")
    if not isinstance(metrics, Mapping):
        raise MalformedRecord("m must be an object")
    for m, v in metrics.items():
        if not isinstance(m, str) or not _METRIC.match(m):
            raise MalformedRecord(f"bad metric name {m!r}")
        if isinstance(v, bool) or not isinstance(v, int):
            raise MalformedRecord(f"metric {m} must be an integer")
        if not 0 <= v < metric_bins(m):
            raise MalformedRecord(f"metric {m}={v} out of range")
    month = _text(raw, "mo")
    if not _MONTH.match(month):
        raise MalformedRecord("mo must be YYYY-MM")
    included = raw.get("inc")
    if not isinstance(included, bool):
        raise MalformedRecord("inc must be a boolean")
    return Image(
        _text(raw, "a"),
        Grid(_text(raw, "src"), _text(raw, "q"), _text(raw, "v")),
        Cohort(*cohort),
        tuple(p for p in POPULATIONS if p in pops),
        dict(metrics),
        month,
        included,
    )


def parse_record(raw: Any) -> Record:
    """A raw record (see the module docstring) or ``MalformedRecord``."""
    if not isinstance(raw, Mapping):
        raise MalformedRecord("record must be an object")
    seq = raw.get("seq")
    if isinstance(seq, str) and seq.isascii() and seq.isdigit():
        seq = int(seq)
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise MalformedRecord("seq must be a non-negative integer")
    op = raw.get("op")
    if op not in (INSERT, REMOVE, MODIFY):
        raise MalformedRecord(f"unknown op {op!r}")
    old = None if raw.get("old") is None else parse_image(raw["old"])
    new = None if raw.get("new") is None else parse_image(raw["new"])
    needs_old = op in (REMOVE, MODIFY)
    needs_new = op in (INSERT, MODIFY)
    if needs_old != (old is not None) or needs_new != (new is not None):
        raise MalformedRecord(f"{op} has the wrong images")
    if old is not None and new is not None and old.assessment_id != new.assessment_id:
        raise MalformedRecord("old and new image of different assessments")
    return Record(_text(raw, "id"), _text(raw, "shard"), seq, op, old, new)


@dataclass
class _Delta(Deltas):
    """A planned change of one key: the counter deltas (``records.Deltas``) plus how many
    organisations joined, changed or left it (``changes``) and how many left (``removals``)."""

    changes: int = 0
    removals: int = 0

    def add_image(self, image: Image, sign: int) -> None:
        self.count += sign
        self.months[image.month] = self.months.get(image.month, 0) + sign
        for m, v in image.metrics.items():
            h = self.bins.setdefault(m, {})
            h[v] = h.get(v, 0) + sign


def _deltas(record: Record) -> dict[AggregateKey, _Delta]:
    out: dict[AggregateKey, _Delta] = {}
    old_keys = record.old.aggregate_keys() if record.old else ()
    new_keys = record.new.aggregate_keys() if record.new else ()
    if record.old is not None:
        for key in old_keys:
            out.setdefault(key, _Delta()).add_image(record.old, -1)
    if record.new is not None:
        for key in new_keys:
            out.setdefault(key, _Delta()).add_image(record.new, +1)
    for key, d in out.items():
        d.changes = 1
        d.removals = 1 if key in old_keys else 0
    if (
        record.op == MODIFY
    ):  # an unchanged contribution (another attribute changed) is no-op
        out = {
            k: d
            for k, d in out.items()
            if d.count
            or any(any(h.values()) for h in d.bins.values())
            or any(d.months.values())
        }
    return out


def _fits(state: CohortState, d: _Delta) -> bool:
    """Whether applying ``d`` keeps every counter of ``state`` non-negative."""
    if state.count + d.count < 0:
        return False
    for mo, v in d.months.items():
        if state.months.get(mo, 0) + v < 0:
            return False
    for m, h in d.bins.items():
        dense = state.bins.get(m, [])
        for b, v in h.items():
            if (dense[b] if b < len(dense) else 0) + v < 0:
                return False
    return True


def _apply(state: CohortState, d: _Delta, shard: str, seq: int) -> None:
    _add(state, d)
    state.applied[shard] = seq


def _add(state: CohortState, d: _Delta) -> None:
    state.count += d.count
    for mo, v in d.months.items():
        state.months[mo] = state.months.get(mo, 0) + v
    for m, h in d.bins.items():
        dense = state.bins.setdefault(m, [0] * metric_bins(m))
        for b, v in h.items():
            dense[b] += v
    state.changes += d.changes
    state.removals += d.removals


@dataclass(frozen=True)
class KeyDelta:
    """One key's change by a batch as increments, for a store that adds without reading
    (DynamoDB ``ADD``): apply it only if each shard's stored checkpoint is still ``expected``
    (``None``: absent), and set it to ``checkpoints``. Shards condition on their own entry
    only, so concurrent batches of different shards never conflict (``apply_delta``)."""

    count: int
    bins: dict[str, dict[int, int]]
    months: dict[str, int]
    changes: int
    removals: int
    expected: dict[str, int | None]
    checkpoints: dict[str, int]


@dataclass(frozen=True)
class FoldResult:
    """What one batch changes: the new full ``states`` of the keys it changed (for a store
    that rewrites the item under its lock or on a version condition: SQLite), the same
    change as ``deltas`` (for ``ADD`` with per-shard conditions: DynamoDB), the item ids that
    failed, and how many (record, key) applications were made or skipped as already
    applied."""

    states: dict[AggregateKey, CohortState]
    deltas: dict[AggregateKey, KeyDelta]
    failures: tuple[str, ...]
    applied: int
    skipped: int

    def batch_item_failures(self) -> dict[str, list[dict[str, str]]]:
        """The Lambda response for partial batch failure reporting (an empty identifier,
        a record without an id, makes Lambda retry the whole batch)."""
        return {"batchItemFailures": [{"itemIdentifier": i} for i in self.failures]}


def fold(
    states: Mapping[AggregateKey, CohortState], batch: Iterable[Any]
) -> FoldResult:
    """Fold one batch into the aggregates, exactly once per (record, key).

    ``states`` holds the stored state of (at least) every key the batch touches; a missing
    key is a fresh aggregate. The input is not modified. Records of one shard must come in
    stream order (as delivered); a record at or below a key's checkpoint for its shard is
    skipped for that key."""
    work: dict[AggregateKey, CohortState] = {}
    sums: dict[AggregateKey, _Delta] = {}
    expected: dict[AggregateKey, dict[str, int | None]] = {}
    failures: list[str] = []
    applied = skipped = 0
    for raw in batch:
        try:
            record = parse_record(raw)
        except MalformedRecord:
            item = raw.get("id") if isinstance(raw, Mapping) else None
            failures.append(item if isinstance(item, str) else "")
            continue
        deltas = _deltas(record)
        pending: list[tuple[AggregateKey, CohortState, _Delta]] = []
        for key, d in deltas.items():
            state = work.get(key)
            if state is None:
                state = work[key] = (states.get(key) or CohortState()).copy()
            if record.sequence <= state.applied.get(record.shard, -1):
                skipped += 1
                continue
            pending.append((key, state, d))
        if not all(_fits(s, d) for _, s, d in pending):
            failures.append(record.item_id)  # a removal of something never added
            continue
        for key, state, d in pending:
            expected.setdefault(key, {}).setdefault(
                record.shard, state.applied.get(record.shard)
            )
            _apply(state, d, record.shard, record.sequence)
            _merge(sums.setdefault(key, _Delta()), d)
            applied += 1
    changed = {k: s for k, s in work.items() if s != (states.get(k) or CohortState())}
    out = {
        k: KeyDelta(
            d.count,
            {m: {b: v for b, v in h.items() if v} for m, h in d.bins.items()},
            {mo: v for mo, v in d.months.items() if v},
            d.changes,
            d.removals,
            expected[k],
            {s: work[k].applied[s] for s in expected[k]},
        )
        for k, d in sums.items()
    }
    return FoldResult(changed, out, tuple(failures), applied, skipped)


def _merge(total: _Delta, d: _Delta) -> None:
    total.add(d)
    total.changes += d.changes
    total.removals += d.removals


def apply_delta(state: CohortState | None, delta: KeyDelta) -> CohortState | None:
    """The conditional ``UpdateItem`` of a ``KeyDelta`` as a pure function: the new state,
    or None when a checkpoint condition fails (the batch was applied meanwhile: nothing to
    do for this key)."""
    current = state or CohortState()
    for shard, want in delta.expected.items():
        if current.applied.get(shard) != want:
            return None
    new = current.copy()
    d = _Delta(
        count=delta.count,
        months=delta.months,
        bins=delta.bins,
        changes=delta.changes,
        removals=delta.removals,
    )
    _add(new, d)
    new.applied.update(delta.checkpoints)
    return new


def grid_cells(
    states: Mapping[AggregateKey, CohortState], grid: Grid
) -> dict[CellKey, CohortState]:
    """The aggregates of one grid by cell: the input of ``releases.build_release``."""
    return {cell: s for (g, cell), s in states.items() if g == grid}


def record_keys(batch: Iterable[Any]) -> set[AggregateKey]:
    """Every aggregate key a batch may touch (what to read before ``fold``); malformed records
    touch none."""
    keys: set[AggregateKey] = set()
    for raw in batch:
        try:
            keys.update(_deltas(parse_record(raw)))
        except MalformedRecord:
            continue
    return keys


def first_failures(
    batch: Iterable[Any], failed_keys: Iterable[AggregateKey]
) -> list[str]:
    """When the writes of some keys failed (a lost conditional write, throttling), the item
    id of the first record of the batch that touches any of them: reporting it makes Lambda
    redeliver from there, and the checkpoints skip what was already written."""
    failed = set(failed_keys)
    for raw in batch:
        try:
            record = parse_record(raw)
        except MalformedRecord:
            continue
        if failed & set(_deltas(record)):
            return [record.item_id]
    return []


def image_of(rec: AssessmentRecord) -> dict[str, Any]:
    """The stream image of a stored assessment (the format of the module docstring): what
    its insert adds and its removal subtracts. Stores write it with the assessment (SQLite:
    in the outbox row of the same transaction; DynamoDB: derived from the compact item in
    the stream's NEW_AND_OLD_IMAGES), so the fold never needs the full record."""
    pops = (
        [POPULATION_ALL, POPULATION_USERS]
        if rec.uses_social_media
        else [POPULATION_ALL]
    )
    return {
        "a": rec.id,
        "src": rec.source,
        "q": rec.questionnaire_id,
        "v": rec.version,
        "c": [rec.industry or ALL, rec.size or ALL, rec.region or ALL],
        "p": pops,
        "m": dict(rec.metrics),
        "mo": rec.month,
        "inc": bool(rec.included),
    }


@dataclass(frozen=True)
class AggregationRun:
    """What one ``Store.aggregate_pending`` call did: stream records read, (record, key)
    applications made and skipped as already applied, the item ids that failed (left for a
    retry or the dead-letter path), and whether records are still pending (``more``)."""

    records: int = 0
    applied: int = 0
    skipped: int = 0
    failures: tuple[str, ...] = ()
    more: bool = False
