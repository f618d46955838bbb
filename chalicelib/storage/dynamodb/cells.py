"""Cell aggregates on DynamoDB (issue 15, item 2): one item per (grid, cell), written with
the fold's ``KeyDelta``s, exactly once (docs/STORAGE.md, "Cell aggregates").

Item ``AGG#<source>#<questionnaire>#<version>#<cell key>`` / ``C`` (its own partition: no
key is shared by two cells, so no partition caps the write rate):

- ``n`` count, ``ch`` changes, ``rm`` removals (numbers, ``ADD``);
- ``mo#<YYYY-MM>`` submissions per month (``ADD``);
- ``h#<metric>#<w>`` packed histogram words (``packed.py``: 6 bins of 6 digits each, so
  adding a word adds every bin at once; only the words a batch changes are written);
- ``ap#<stream shard id>`` the last sequence number applied from that shard (a string:
  sequence numbers have up to 40 digits, more than a DynamoDB number holds).

A batch's change of one cell is one ``UpdateItem``: ``ADD`` the counters, ``SET`` the new
checkpoints, on the condition that each checkpoint is still what the fold read
(``attribute_not_exists`` for a shard never applied). A redelivered batch finds its
checkpoints moved and changes nothing; a concurrent fold of the same records loses the
condition, re-reads and re-folds (the records it finds applied are skipped). Concurrent
batches of different shards condition on different attributes and never conflict.

Index items, so nothing needs a Scan: ``GRID#<grid>`` / ``CELL#<cell key>`` per cell and
``GRIDS`` / ``G#<grid>`` per grid, written (idempotent puts) before a new cell's first
update; ``read_grid`` queries the grid's partition and BatchGets the cells.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from chalicelib.aggregation import (
    AggregateKey,
    CellKey,
    CohortState,
    FoldResult,
    Grid,
    KeyDelta,
    first_failures,
    fold,
    record_keys,
)
from chalicelib.records import metric_bins
from chalicelib.storage import packed
from chalicelib.storage.codec import WordName
from chalicelib.storage.dynamodb.client import (
    BATCH_GET_SIZE,
    BATCH_WRITE_SIZE,
    Table,
    error_code,
)
from chalicelib.storage.dynamodb.keys import key, s

logger = logging.getLogger("chalicelib.storage.dynamodb")

MONTH = "mo#"
APPLIED = "ap#"
GRIDS_PARTITION = "GRIDS"
MAX_ACTIONS = 280  # < 300 operators per UpdateExpression
MAX_EXPRESSION = 3_900  # < 4 KB per expression string
FOLD_ROUNDS = (
    5  # re-read and re-fold the cells whose condition failed, at most this often
)


def grid_text(grid: Grid) -> str:
    return f"{grid.source}#{grid.questionnaire_id}#{grid.version}"


def cell_key(grid: Grid, cell: CellKey) -> dict[str, Any]:
    return key(f"AGG#{grid_text(grid)}#{cell.key}", "C")


def index_items(grid: Grid, cell: CellKey) -> list[dict[str, Any]]:
    g = [s(grid.source), s(grid.questionnaire_id), s(grid.version)]
    return [
        {**key(f"GRID#{grid_text(grid)}", f"CELL#{cell.key}"), "c": s(cell.key)},
        {
            **key(GRIDS_PARTITION, f"G#{grid_text(grid)}"),
            "g": {"L": g},  # type: ignore[dict-item]
        },
    ]


def state_from_item(item: dict[str, Any]) -> CohortState:
    """The ``CohortState`` of a stored cell item."""
    state = CohortState()
    for name, value in item.items():
        if name == "n":
            state.count = int(value["N"])
        elif name == "ch":
            state.changes = int(value["N"])
        elif name == "rm":
            state.removals = int(value["N"])
        elif name.startswith(MONTH):
            state.months[name[len(MONTH) :]] = int(value["N"])
        elif name.startswith(APPLIED):
            state.applied[name[len(APPLIED) :]] = int(value["S"])
        elif WordName.matches(name):
            metric, bins = packed.decode_word(name, int(value["N"]))
            dense = state.bins.setdefault(metric, [0] * metric_bins(metric))
            for b, v in bins.items():
                dense[b] += v
    return state


def _words(bins: dict[str, dict[int, int]]) -> dict[str, int]:
    """Sparse bin deltas packed into the words they change (zero words left out)."""
    out: dict[str, int] = {}
    for metric, h in bins.items():
        for b, d in h.items():
            w, position = divmod(b, packed.PER_WORD)
            name = packed.word_name(metric, w)
            out[name] = out.get(name, 0) + d * packed.BASE**position
    return {k: v for k, v in out.items() if v}


def update_request(
    table: str, grid: Grid, cell: CellKey, delta: KeyDelta
) -> dict[str, Any] | None:
    """The conditional ``UpdateItem`` of one ``KeyDelta``, or None when it does not fit in
    one expression (the caller folds a smaller batch)."""
    adds = {"n": delta.count, "ch": delta.changes, "rm": delta.removals}
    adds.update({MONTH + mo: v for mo, v in delta.months.items()})
    adds.update(_words(delta.bins))
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    add_parts = []
    for i, (name, v) in enumerate(adds.items()):
        names[f"#a{i}"] = name
        values[f":a{i}"] = {"N": str(v)}
        add_parts.append(f"#a{i} :a{i}")
    set_parts, conditions = [], []
    for i, (shard, want) in enumerate(sorted(delta.expected.items())):
        names[f"#s{i}"] = APPLIED + shard
        values[f":s{i}"] = s(str(delta.checkpoints[shard]))
        set_parts.append(f"#s{i} = :s{i}")
        if want is None:
            conditions.append(f"attribute_not_exists(#s{i})")
        else:
            values[f":e{i}"] = s(str(want))
            conditions.append(f"#s{i} = :e{i}")
    expr = "ADD " + ", ".join(add_parts)
    if set_parts:
        expr += " SET " + ", ".join(set_parts)
    cond = " AND ".join(conditions)
    if (
        len(adds) + 2 * len(set_parts) > MAX_ACTIONS
        or max(len(expr), len(cond)) > MAX_EXPRESSION
    ):
        return None
    req: dict[str, Any] = {
        "TableName": table,
        "Key": cell_key(grid, cell),
        "UpdateExpression": expr,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    if cond:
        req["ConditionExpression"] = cond
    return req


class CellsMixin(Table):
    """Cell aggregates: read, fold a batch of raw stream records into them, list."""

    def _read_cells(
        self, keys: Iterable[AggregateKey]
    ) -> dict[AggregateKey, CohortState]:
        by_pk = {cell_key(g, c)["PK"]["S"]: (g, c) for g, c in keys}
        wanted = [key(pk, "C") for pk in by_pk]
        out: dict[AggregateKey, CohortState] = {}
        for i in range(0, len(wanted), BATCH_GET_SIZE):
            for item in self._batch_get(wanted[i : i + BATCH_GET_SIZE]):
                out[by_pk[item["PK"]["S"]]] = state_from_item(item)
        return out

    def _index_new_cells(
        self, keys: Iterable[AggregateKey], known: dict[AggregateKey, CohortState]
    ) -> None:
        puts: dict[tuple[str, str], dict[str, Any]] = {}
        for g, c in keys:
            if (g, c) not in known:
                for item in index_items(g, c):
                    puts[(item["PK"]["S"], item["SK"]["S"])] = item
        reqs = [{"PutRequest": {"Item": i}} for i in puts.values()]
        for i in range(0, len(reqs), BATCH_WRITE_SIZE):
            self._batch_write(reqs[i : i + BATCH_WRITE_SIZE])

    def _update_cell(self, req: dict[str, Any]) -> bool:
        """One conditional cell update: False when its checkpoint condition failed."""
        try:
            self._call("update_item", **req)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def fold_records(
        self, batch: Sequence[dict[str, Any]]
    ) -> tuple[FoldResult, list[str]]:
        """Fold raw records (``aggregation`` format, one shard's records in stream order)
        into the stored cells, exactly once. Returns the fold of the first round (its
        ``failures`` are records the fold refuses: malformed, a removal of something never
        added) and the item ids to report for cells that could not be written (lost
        conditions every round, or an unavailable table): redeliver from there."""
        if not batch:
            return FoldResult({}, {}, (), 0, 0), []
        keys = record_keys(batch)
        states = self._read_cells(keys)
        self._index_new_cells(keys, states)
        first: FoldResult | None = None
        pending: set[AggregateKey] | None = None
        for _ in range(FOLD_ROUNDS):
            result = fold(states, batch)
            if first is None:
                first = result
            work = {
                k: d
                for k, d in result.deltas.items()
                if pending is None or k in pending
            }
            reqs = {k: update_request(self.table_name, *k, d) for k, d in work.items()}
            if any(r is None for r in reqs.values()):
                if len(batch) == 1:
                    raise ValueError("one record's change does not fit one update")
                half = len(batch) // 2  # too many counters for one expression
                a, fa = self.fold_records(batch[:half])
                b, fb = self.fold_records(batch[half:])
                merged = FoldResult(
                    {**a.states, **b.states},
                    {**a.deltas, **b.deltas},
                    a.failures + b.failures,
                    a.applied + b.applied,
                    a.skipped + b.skipped,
                )
                return merged, fa or fb
            with ThreadPoolExecutor(max_workers=self.bulk_workers) as pool:
                done = dict(
                    zip(reqs, pool.map(self._update_cell, [r for r in reqs.values()]))
                )
            lost = {k for k, ok in done.items() if not ok}
            if not lost:
                return first, []
            pending = lost
            states.update(self._read_cells(lost))
        assert first is not None and pending is not None
        logger.warning(
            "cell updates kept losing their condition", extra={"cells": len(pending)}
        )
        return first, first_failures(batch, pending)

    def read_grid(self, grid: Grid) -> dict[CellKey, CohortState]:
        cells = [
            CellKey.from_key(i["c"]["S"])
            for i in self._query_partition(f"GRID#{grid_text(grid)}", "CELL#")
        ]
        return {
            c: st for (_, c), st in self._read_cells((grid, c) for c in cells).items()
        }

    def list_grids(self) -> list[Grid]:
        return sorted(
            Grid(*(v["S"] for v in i["g"]["L"]))
            for i in self._query_partition(GRIDS_PARTITION, "G#")
        )

    def _add_to_cells(self, changes: dict[AggregateKey, KeyDelta]) -> None:
        """Unconditional ``ADD`` of pre-summed changes (bulk loads, clearing): not part of
        the stream, so no checkpoint is involved."""
        existing = self._read_cells(changes)
        self._index_new_cells(changes, existing)
        reqs = []
        for k, d in changes.items():
            req = update_request(self.table_name, *k, d)
            if req is None:
                raise ValueError("bulk change does not fit one update")
            reqs.append(req)
        with ThreadPoolExecutor(max_workers=self.bulk_workers) as pool:
            list(pool.map(lambda r: self._call("update_item", **r), reqs))
