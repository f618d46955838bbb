"""Assessments: the conditional write with its roll-up counters, webhook outbox and
idempotency key in one transaction; erasure; reads, a partner's listing; bulk loads
(docs/STORAGE.md, "Writes", "Retries and idempotency", "Bulk loads")."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from chalicelib.records import (
    AssessmentQuery,
    AssessmentRecord,
    Contribution,
    Delivery,
    IdempotencyKey,
)
from chalicelib.storage import codec
from chalicelib.storage.dynamodb.client import (
    BATCH_WRITE_SIZE,
    Cancelled,
    Table,
    error_code,
)
from chalicelib.storage.dynamodb.keys import assessment_key, idempotency_key, s
from chalicelib.storage.dynamodb.rollups import (
    contribution_updates,
    counter_updates,
    sum_contributions,
)
from chalicelib.storage.dynamodb.webhooks import delivery_puts

PARTNER_INDEX = "partner-created"  # GSI: partner_id / created_at of assessment items
QUERY_PAGE = 100  # items per Query page while filtering a partner's assessments
BULK_TRANSACTION_ITEMS = 25  # counter items per bulk transaction (limit 100 / 4 MB)


def _written_by(item: dict[str, Any] | None, write_id: str) -> bool:
    """After a failed ``attribute_not_exists`` put: True if the existing item was written by
    an earlier attempt of this same call (its ``write_id`` is ours), else False."""
    if not item:
        return False
    return bool(item.get("write_id", {}).get("S") == write_id)


class AssessmentsMixin(Table):
    def _assessment_item(self, rec: AssessmentRecord, write_id: str) -> dict[str, Any]:
        item: dict[str, Any] = {
            **assessment_key(rec.id),
            "body": s(codec.record_to_json(rec)),
            "questionnaire": s(rec.questionnaire_id),
            "version": s(rec.version),
            "source": s(rec.source),
            "month": s(rec.month),
            "created_at": s(rec.created_at),
            "included": {"BOOL": rec.included},
            "consent": {"BOOL": rec.consent},
            "write_id": s(write_id),
        }
        if rec.partner_id is not None:
            item["partner_id"] = s(rec.partner_id)
        return item

    def create_assessment(
        self,
        rec: AssessmentRecord,
        contribution: Contribution | None,
        delivery: Delivery | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> bool:
        write_id = uuid.uuid4().hex
        put = {
            "TableName": self.table_name,
            "Item": self._assessment_item(rec, write_id),
            "ConditionExpression": "attribute_not_exists(PK)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if contribution is None and delivery is None and idempotency is None:
            try:
                self._call("put_item", **put)
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                return _written_by(exc.response.get("Item"), write_id)
            return True
        items = [{"Put": put}]
        if idempotency is not None:  # item 1: the key, free or expired at its creation
            i = idempotency
            items.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {
                            **idempotency_key(i.key_id),
                            "assessment_id": s(i.assessment_id),
                            "taken_at": {"N": str(i.created_at)},
                            "expires_at": {"N": str(i.expires_at)},
                        },
                        "ConditionExpression": "attribute_not_exists(PK)"
                        " OR expires_at <= :now",
                        "ExpressionAttributeValues": {":now": {"N": str(i.created_at)}},
                    }
                }
            )
        if contribution is not None:
            items.extend(contribution_updates(self.table_name, contribution, +1))
        if delivery is not None:  # the outbox: a new delivery item and its due entry
            items.extend(delivery_puts(self.table_name, delivery))
        try:
            self._transact(items)
        except Cancelled as cancelled:
            if cancelled.condition_failed_on_first():
                return _written_by(cancelled.reasons[0].get("Item"), write_id)
            if idempotency is not None and cancelled.condition_failed_on(1):
                return False  # the key is held by another assessment
            raise cancelled.error from None
        return True

    def get_idempotency_key(self, key_id: str) -> IdempotencyKey | None:
        item = self._get(idempotency_key(key_id))
        if item is None:
            return None
        return IdempotencyKey(
            key_id,
            item["assessment_id"]["S"],
            int(item["taken_at"]["N"]),
            int(item["expires_at"]["N"]),
        )

    def list_partner_assessments(
        self, query: AssessmentQuery
    ) -> list[AssessmentRecord]:
        """A Query of the ``partner-created`` index (partner_id / created_at, newest first;
        eventually consistent, as every GSI), the time range in the key condition, the other
        filters applied here page by page until ``limit`` records match."""
        q = query
        values: dict[str, Any] = {":p": s(q.partner_id)}
        cond = "partner_id = :p"
        upper = q.until
        if q.after is not None and (upper is None or q.after[0] < upper):
            upper = q.after[0]  # inclusive bound; ties are sorted out below
        if q.since is not None and upper is not None:
            cond += " AND created_at BETWEEN :lo AND :hi"
            values.update({":lo": s(q.since), ":hi": s(upper)})
        elif q.since is not None:
            cond += " AND created_at >= :lo"
            values[":lo"] = s(q.since)
        elif upper is not None:
            cond += " AND created_at <= :hi"
            values[":hi"] = s(upper)
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": PARTNER_INDEX,
            "KeyConditionExpression": cond,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": QUERY_PAGE,
        }
        out: list[AssessmentRecord] = []
        while True:
            resp = self._call("query", **kwargs)
            page = [
                codec.record_from_json(i["body"]["S"]) for i in resp.get("Items", [])
            ]
            # items of one second are in the index's own order: sort them like SQLite
            out.extend(r for r in page if q.matches(r))
            if not resp.get("LastEvaluatedKey"):
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
            if (
                len(out) > q.limit
                and out[q.limit].created_at < out[q.limit - 1].created_at
            ):
                break  # the page is complete: later items are older
        out.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return out[: q.limit]

    def get_assessment(self, assessment_id: str) -> AssessmentRecord | None:
        item = self._get(assessment_key(assessment_id), projection="body")
        return None if item is None else codec.record_from_json(item["body"]["S"])

    def delete_assessment(
        self, rec: AssessmentRecord, contribution: Contribution | None
    ) -> bool:
        items: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self.table_name,
                    "Key": assessment_key(rec.id),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            }
        ]
        if contribution is not None:
            items.extend(contribution_updates(self.table_name, contribution, -1))
        try:
            self._transact(items)
        except Cancelled as cancelled:
            if cancelled.condition_failed_on_first():
                return False
            raise cancelled.error from None
        return True

    def bulk_load(
        self,
        records: list[AssessmentRecord],
        contributions: list[Contribution],
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Seed many records and their pre-summed contributions (not atomic;
        docs/STORAGE.md). ``progress(done, total)`` is called in work units: one per record
        written plus one per counter item chunk applied."""
        write_id = uuid.uuid4().hex
        seen: set[str] = set()
        puts: list[dict[str, Any]] = []
        for r in records:
            if r.id not in seen:
                seen.add(r.id)
                puts.append(
                    {"PutRequest": {"Item": self._assessment_item(r, write_id)}}
                )
        summed = sum_contributions(contributions)
        per_item = [
            counter_updates(self.table_name, item, deltas)
            for item, deltas in summed.items()
        ]
        # Round r holds the r-th chunk of every item, so a transaction never touches an item
        # twice (DynamoDB refuses that); rounds are split into transactions of <= 25 items.
        transactions: list[list[dict[str, Any]]] = []
        for n in range(max((len(u) for u in per_item), default=0)):
            row = [u[n] for u in per_item if len(u) > n]
            for i in range(0, len(row), BULK_TRANSACTION_ITEMS):
                transactions.append(row[i : i + BULK_TRANSACTION_ITEMS])
        total = len(puts) + sum(len(t) for t in transactions)
        done = 0
        batches = [
            puts[i : i + BATCH_WRITE_SIZE]
            for i in range(0, len(puts), BATCH_WRITE_SIZE)
        ]
        for fn, works in ((self._batch_write, batches), (self._transact, transactions)):
            for work in self._run_parallel(fn, works):
                done += len(work)
                if progress:
                    progress(done, total)
