"""Assessments (issue 15, item 1): a submission is one conditional ``PutItem`` of a compact
item (``compact.py``, <= 1 KB), no transaction and no roll-up write; the table's stream
feeds the cell aggregates (``streams.py``). Erasure is one conditional ``DeleteItem``: its
stream REMOVE record carries the old image the fold subtracts. An Idempotency-Key is its
own item, written after the assessment (docs/STORAGE.md, "Writes", "Retries and
idempotency"); a webhook delivery is written with the assessment in one transaction (the
outbox), the only transaction left. Bulk loads write compact items marked ``bk`` and add
their contributions to the cells directly."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from chalicelib.aggregation import (
    Grid,
    KeyDelta,
    MalformedRecord,
    parse_image,
)
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
    error_code,
)
from chalicelib.storage.dynamodb.compact import pack_body, record_from_attribute
from chalicelib.storage.dynamodb.keys import assessment_key, idempotency_key, s
from chalicelib.storage.dynamodb.streams import StreamsMixin
from chalicelib.storage.dynamodb.webhooks import delivery_puts

PARTNER_INDEX = "partner-created"  # GSI: partner_id / created_at of assessment items
QUERY_PAGE = 100  # items per Query page while filtering a partner's assessments


def _written_by(item: dict[str, Any] | None, write_id: str) -> bool:
    """After a failed ``attribute_not_exists`` put: True if the existing item was written by
    an earlier attempt of this same call (its write id is ours), else False."""
    if not item:
        return False
    got = item.get("w") or item.get("write_id") or {}
    return bool(got.get("S") == write_id)


class AssessmentsMixin(StreamsMixin):
    def _assessment_item(
        self, rec: AssessmentRecord, write_id: str, bulk: bool = False
    ) -> dict[str, Any]:
        """The compact item: keys, the packed body, the two attributes of the
        partner-created index (partner assessments only) and a short write id."""
        item: dict[str, Any] = {
            **assessment_key(rec.id),
            "body": {"B": pack_body(rec)},
            "w": s(write_id),
        }
        if rec.partner_id is not None:
            item["partner_id"] = s(rec.partner_id)
            item["created_at"] = s(rec.created_at)
        if bulk:
            item["bk"] = {"BOOL": True}
        return item

    def _put_new(self, item: dict[str, Any], write_id: str) -> bool:
        try:
            self._call(
                "put_item",
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(PK)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return _written_by(exc.response.get("Item"), write_id)
        return True

    def create_assessment(
        self,
        rec: AssessmentRecord,
        contribution: Contribution | None,
        delivery: Delivery | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> bool:
        """``contribution`` is not written: the stream carries the item to the fold."""
        write_id = uuid.uuid4().hex[:16]
        item = self._assessment_item(rec, write_id)
        if delivery is not None:
            return self._create_with_delivery(
                rec, item, write_id, delivery, idempotency
            )
        if not self._put_new(item, write_id):
            return False
        if idempotency is None or self._take_key(idempotency):
            return True
        # the key is held by a concurrent use with another id: undo ours (its stream
        # INSERT and REMOVE cancel out in the aggregates)
        self._call(
            "delete_item",
            TableName=self.table_name,
            Key=assessment_key(rec.id),
            ConditionExpression="w = :w",
            ExpressionAttributeValues={":w": s(write_id)},
        )
        return False

    def _key_item(self, i: IdempotencyKey) -> dict[str, Any]:
        return {
            "TableName": self.table_name,
            "Item": {
                **idempotency_key(i.key_id),
                "assessment_id": s(i.assessment_id),
                "taken_at": {"N": str(i.created_at)},
                "expires_at": {"N": str(i.expires_at)},
            },
            "ConditionExpression": "attribute_not_exists(PK) OR expires_at <= :now"
            " OR assessment_id = :a",
            "ExpressionAttributeValues": {
                ":now": {"N": str(i.created_at)},
                ":a": s(i.assessment_id),
            },
        }

    def _take_key(self, i: IdempotencyKey) -> bool:
        """Write the key's entry after its assessment: free, expired, or already ours (a
        retry). A crash before it leaves the assessment without an entry, which the
        service recognises by its id (derived from the key) and replays."""
        try:
            self._call("put_item", **self._key_item(i))
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def _create_with_delivery(
        self,
        rec: AssessmentRecord,
        item: dict[str, Any],
        write_id: str,
        delivery: Delivery,
        idempotency: IdempotencyKey | None,
    ) -> bool:
        """The outbox: the assessment and its webhook delivery in one transaction."""
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(PK)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        ]
        if idempotency is not None:
            items.append({"Put": self._key_item(idempotency)})
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
            page = [record_from_attribute(i["body"]) for i in resp.get("Items", [])]
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
        return None if item is None else record_from_attribute(item["body"])

    def delete_assessment(
        self, rec: AssessmentRecord, contribution: Contribution | None
    ) -> bool:
        """One conditional DeleteItem; the stream's REMOVE record (old image: the stored
        item) makes the fold subtract exactly what the insert added. A failed condition
        after an attempt that may have been applied (a timeout) is this call's own erasure:
        reported as erased."""
        done, ambiguous = self._call_conditional(
            "delete_item",
            TableName=self.table_name,
            Key=assessment_key(rec.id),
            ConditionExpression="attribute_exists(PK)",
        )
        return done is not None or ambiguous

    def clear_aggregates(self, source: str, questionnaire_id: str, version: str) -> int:
        """Empty every cell of the grid (after folding what is pending) as the removal of
        everyone counted: ``changes`` and ``removals`` grow by each cell's count, so the
        monotonic counters a release compares never go backwards. Not atomic."""
        try:
            while self.aggregate_pending(5000).more:
                pass
        except RuntimeError:
            pass  # no stream (a table of an older template): nothing pending here
        grid = Grid(source, questionnaire_id, version)
        cells = self.read_grid(grid)
        changes = {
            (grid, cell): KeyDelta(
                -st.count,
                {m: {b: -v for b, v in enumerate(h) if v} for m, h in st.bins.items()},
                {mo: -v for mo, v in st.months.items() if v},
                st.count,
                st.count,
                {},
                {},
            )
            for cell, st in cells.items()
            if st.count
        }
        self._add_to_cells(changes)
        return sum(1 for st in cells.values() if st.count)

    def bulk_load(
        self,
        records: list[AssessmentRecord],
        contributions: list[Contribution],
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Seed many records (compact items marked ``bk``: the fold skips their inserts)
        and add the contributions to the cells directly (not atomic; docs/STORAGE.md).
        ``progress(done, total)`` counts records written plus cells updated."""
        write_id = uuid.uuid4().hex[:16]
        seen: set[str] = set()
        puts: list[dict[str, Any]] = []
        for r in records:
            if r.id not in seen:
                seen.add(r.id)
                puts.append(
                    {"PutRequest": {"Item": self._assessment_item(r, write_id, True)}}
                )
        changes = sum_cells(contributions)
        total = len(puts) + len(changes)
        batches = [
            puts[i : i + BATCH_WRITE_SIZE]
            for i in range(0, len(puts), BATCH_WRITE_SIZE)
        ]
        done = 0
        for work in self._run_parallel(self._batch_write, batches):
            done += len(work)
            if progress:
                progress(done, total)
        self._add_to_cells(changes)
        if progress:
            progress(total, total)


def sum_cells(contributions: Iterable[Contribution]) -> dict[Any, KeyDelta]:
    """Pre-summed contributions as one change per cell (each contribution is one change)."""
    sums: dict[Any, list[Any]] = {}
    for i, con in enumerate(contributions):
        try:
            image = parse_image(codec.contribution_image(con, f"bulk-{i}"))
        except MalformedRecord as exc:
            raise ValueError(f"contribution {i}: {exc}") from None
        for k in image.aggregate_keys():
            acc = sums.setdefault(k, [0, {}, {}])
            acc[0] += 1
            acc[2][image.month] = acc[2].get(image.month, 0) + 1
            for m, v in image.metrics.items():
                h = acc[1].setdefault(m, {})
                h[v] = h.get(v, 0) + 1
    return {
        k: KeyDelta(n, bins, months, n, 0, {}, {})
        for k, (n, bins, months) in sums.items()
    }
