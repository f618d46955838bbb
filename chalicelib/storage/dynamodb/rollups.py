"""Aggregate items: counter ``ADD`` updates (chunked under the expression limits), reads of
cohorts and populations, clearing one source's items (docs/STORAGE.md)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.records import (
    SHARD_MARK,
    Aggregate,
    Contribution,
    Deltas,
    aggregate_key,
    shard_index,
)
from chalicelib.storage import codec, packed
from chalicelib.storage.dynamodb.client import BATCH_GET_SIZE, BATCH_WRITE_SIZE, Table
from chalicelib.storage.dynamodb.keys import bench_pk, cohort_sk, key

MAX_ADD_ACTIONS = 250  # < 300 operators per UpdateExpression
MAX_EXPRESSION_BYTES = 3_800  # < 4,096 bytes per expression string

ItemKey = tuple[str, str, str, str]  # source, questionnaire, version, cohort


def add_expressions(deltas: dict[str, int]) -> list[dict[str, Any]]:
    """``ADD`` update expressions (with placeholders) applying ``deltas``, chunked so that no
    expression exceeds ``MAX_ADD_ACTIONS`` actions or ``MAX_EXPRESSION_BYTES`` bytes. Each
    element has UpdateExpression, ExpressionAttributeNames and ExpressionAttributeValues."""
    chunks: list[dict[str, Any]] = []
    parts: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}
    size = len("ADD ")

    def flush() -> None:
        nonlocal parts, names, values, size
        if parts:
            chunks.append(
                {
                    "UpdateExpression": "ADD " + ", ".join(parts),
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            )
        parts, names, values, size = [], {}, {}, len("ADD ")

    for name, delta in deltas.items():  # zeros too: ADD 0 creates a histogram word
        if len(name.encode()) > 255:
            raise ValueError(f"counter name longer than 255 bytes: {name[:40]}...")
        i = len(parts)
        action = f"#f{i} :v{i}"
        if parts and (
            len(parts) >= MAX_ADD_ACTIONS
            or size + len(", ") + len(action) > MAX_EXPRESSION_BYTES
        ):
            flush()
            i = 0
            action = f"#f{i} :v{i}"
        size += (len(", ") if parts else 0) + len(action)
        parts.append(action)
        names[f"#f{i}"] = name
        values[f":v{i}"] = {"N": str(delta)}
    flush()
    return chunks


def counter_updates(
    table_name: str, item: ItemKey, deltas: dict[str, int]
) -> list[dict[str, Any]]:
    """Transaction items adding stored ``deltas`` to one aggregate item."""
    source, questionnaire_id, version, cohort = item
    k = key(bench_pk(source, questionnaire_id, version), cohort_sk(cohort))
    return [
        {"Update": {"TableName": table_name, "Key": k, **expr}}
        for expr in add_expressions(deltas)
    ]


def contribution_updates(
    table_name: str, contribution: Contribution, sign: int
) -> list[dict[str, Any]]:
    """Transaction items adding (``sign=1``) or subtracting a contribution."""
    deltas = packed.pack_deltas(contribution.deltas(sign))
    c = contribution
    items: list[dict[str, Any]] = []
    for cohort in c.item_keys():
        item = (c.source, c.questionnaire_id, c.version, cohort)
        items.extend(counter_updates(table_name, item, deltas))
    return items


def sum_contributions(
    contributions: Iterable[Contribution],
) -> dict[ItemKey, dict[str, int]]:
    """Stored counter deltas per aggregate item ``(source, questionnaire, version,
    cohort)``."""
    summed: dict[ItemKey, Deltas] = {}
    for con in contributions:
        deltas = con.deltas()
        for cohort in con.item_keys():
            summed.setdefault(
                (con.source, con.questionnaire_id, con.version, cohort), Deltas()
            ).add(deltas)
    return {item: packed.pack_deltas(d) for item, d in summed.items()}


def add_item(agg: Aggregate, item: dict[str, Any]) -> None:
    """Add a stored aggregate item's counters: packed words, ``count``, ``month#…``, and
    the per-bin ``m#…`` attributes of the first layout (summed in, no migration needed)."""
    rest: list[tuple[str, int]] = []
    for name, value in item.items():
        if "N" not in value:
            continue
        if packed.is_word(name):
            agg.add_bins(*packed.decode_word(name, int(value["N"])))
        else:
            rest.append((name, int(value["N"])))
    agg.add_deltas(codec.deltas_from_counters(rest, strict=False))


class RollupsMixin(Table):
    def read_cohorts(
        self,
        source: str,
        questionnaire_id: str,
        version: str,
        cohorts: Iterable[str],
        population: str = "all",
    ) -> dict[str, Aggregate]:
        return self.read_populations(
            source, questionnaire_id, version, cohorts, (population,)
        )[population]

    def read_populations(
        self,
        source: str,
        questionnaire_id: str,
        version: str,
        cohorts: Iterable[str],
        populations: Iterable[str],
        sharded: Iterable[str] = (),
    ) -> dict[str, dict[str, Aggregate]]:
        """One BatchGetItem for up to 100 items (a ``users`` read with its ``all`` counts
        is 2 x 7 items), and per population and ``sharded`` cohort one Query of its shard
        items (``begins_with(SK, "COHORT#*#*#*#s")``: at most 64 items, whatever shard
        count wrote them)."""
        wanted = list(dict.fromkeys(cohorts))
        pops = list(dict.fromkeys(populations))
        out = {p: {k: Aggregate() for k in wanted} for p in pops}
        pk = bench_pk(source, questionnaire_id, version)
        by_sk = {cohort_sk(aggregate_key(p, k)): (p, k) for p in pops for k in wanted}
        sks = list(by_sk)
        for i in range(0, len(sks), BATCH_GET_SIZE):
            keys = [key(pk, sk) for sk in sks[i : i + BATCH_GET_SIZE]]
            for item in self._batch_get(keys):
                p, k = by_sk[item["SK"]["S"]]
                add_item(out[p][k], item)
        for p in pops:
            for k in dict.fromkeys(sharded):
                prefix = cohort_sk(aggregate_key(p, k))
                for item in self._query_partition(pk, prefix + SHARD_MARK):
                    shard = shard_index(item["SK"]["S"], prefix)
                    if shard is not None:
                        add_item(
                            out[p].setdefault(f"{k}{SHARD_MARK}{shard}", Aggregate()),
                            item,
                        )
        return out

    def clear_aggregates(self, source: str, questionnaire_id: str, version: str) -> int:
        """One partition holds every cohort item (all populations) of a source and version:
        a Query of its keys and BatchWriteItem deletes (idempotent, so retries are safe)."""
        pk = bench_pk(source, questionnaire_id, version)
        deletes = [
            {"DeleteRequest": {"Key": {"PK": item["PK"], "SK": item["SK"]}}}
            for item in self._query_partition(pk, "COHORT#", projection="PK, SK")
        ]
        for i in range(0, len(deletes), BATCH_WRITE_SIZE):
            self._batch_write(deletes[i : i + BATCH_WRITE_SIZE])
        return len(deletes)
