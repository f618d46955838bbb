"""The roll-up write of the layout before issue 15: counter ``ADD`` updates of the aggregate
items a contribution touches, chunked under the expression limits. Nothing in the service
writes or reads roll-ups any more (benchmarks come from releases of the cell aggregates,
docs/RELEASES.md); this is kept only so bench/dynamodb_writes.py can measure the old write
against the new one."""

from __future__ import annotations

from typing import Any

from chalicelib.records import (
    Contribution,
)
from chalicelib.storage import packed
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
