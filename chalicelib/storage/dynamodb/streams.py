"""The table's DynamoDB Stream (NEW_AND_OLD_IMAGES) folded into the cell aggregates.

Two readers, one fold (``CellsMixin.fold_records``):

- **Lambda** (``fold_stream_event``): the ``on_dynamodb_record`` handler passes its batch
  (one stream shard's records, in order). The event does not name the shard, so the shard
  is found once per batch: the open or covering shards of ``DescribeStream`` whose
  sequence range can hold the batch's first record, confirmed by reading that record from
  the shard (``GetShardIterator AT_SEQUENCE_NUMBER`` + ``GetRecords``). Records the fold
  refuses are written as dead letters and not reported (retrying cannot fix them); cells
  that could not be written are reported as ``batchItemFailures`` (Lambda redelivers from
  there; checkpoints make the rest a no-op); after MaximumRetryAttempts the batch's
  metadata goes to the on-failure queue (infra/, docs/DEPLOY.md).
- **Polling** (``aggregate_pending``, the CLI, tests, DynamoDB Local): every shard of the
  stream, parents before children, from a reader checkpoint item
  ``STREAM#<stream label>`` / ``SHARD#<shard id>`` (a position only: exactly-once comes
  from the cells' own checkpoints, so a stale position re-reads records harmlessly).

Only assessment items (``ASSESSMENT#``) feed the fold; every other item's records (rate
counters, the aggregates themselves) are skipped. An insert by ``bulk_load`` (``bk``) is
skipped too: its contribution was added to the cells directly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from chalicelib.aggregation import INSERT, MODIFY, REMOVE, AggregationRun, image_of
from chalicelib.storage.dynamodb.cells import CellsMixin
from chalicelib.storage.dynamodb.compact import record_from_attribute
from chalicelib.storage.dynamodb.keys import key, s

logger = logging.getLogger("chalicelib.storage.dynamodb")

_OPS = {"INSERT": INSERT, "REMOVE": REMOVE, "MODIFY": MODIFY}
READ_PAGE = 1000  # GetRecords limit
EMPTY_PAGES = 3  # an open shard read this many empty pages in a row is caught up
DEAD_LETTERS = "STREAM#DEAD"
SKIP_WITHOUT_MOVING = (
    500  # records of other items read before the position moves anyway
)


def raw_record(rec: Mapping[str, Any], shard: str) -> dict[str, Any] | None:
    """The ``aggregation`` raw record of one stream record (Lambda event or GetRecords
    shape), or None for a record that does not feed the aggregates."""
    ddb = rec.get("dynamodb") or {}
    pk = (ddb.get("Keys") or {}).get("PK", {}).get("S", "")
    if not pk.startswith("ASSESSMENT#"):
        return None
    op = _OPS.get(str(rec.get("eventName")))
    new, old = ddb.get("NewImage"), ddb.get("OldImage")
    if op == INSERT and new is not None and "bk" in new:
        return None  # a bulk load added it directly
    images: dict[str, Any] = {}
    for name, item in (("old", old), ("new", new)):
        body = item.get("body") if item else None
        images[name] = image_of(record_from_attribute(body)) if body else None
    if not any(i and i["inc"] for i in images.values()):
        return None  # an excluded assessment contributes nothing
    return {
        "id": str(ddb.get("SequenceNumber", "")),
        "shard": shard,
        "seq": str(ddb.get("SequenceNumber", "")),
        "op": op,
        **images,
    }


class StreamsMixin(CellsMixin):
    """The stream reader of ``DynamoStore`` (needs ``streams_client``)."""

    _streams: Any = None
    _stream_arn: str | None = None

    @property
    def streams(self) -> Any:
        if self._streams is None:
            client = self.client  # (takes the lock itself when building the client)
            with self._lock:
                if self._streams is None:
                    self._streams = self._make_streams_client(client)
        return self._streams

    def _make_streams_client(self, client: Any) -> Any:
        from chalicelib.storage.dynamodb.client import streams_client_like

        return streams_client_like(client)

    def _s(self, op: str, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            self.requests["streams." + op] += 1
        last: BaseException | None = None
        for attempt in range(self.max_attempts):
            if attempt:
                self._backoff(attempt)
            try:
                result: dict[str, Any] = getattr(self.streams, op)(**kwargs)
                return result
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                if code not in ("LimitExceededException", "InternalServerError"):
                    raise
                last = exc
        raise self._unavailable("streams." + op, last) from last

    def stream_arn(self) -> str:
        if self._stream_arn is None:
            table = self._call("describe_table", TableName=self.table_name)["Table"]
            arn = table.get("LatestStreamArn")
            if not arn:
                raise RuntimeError(f"table {self.table_name} has no stream")
            self._stream_arn = str(arn)
        return self._stream_arn

    def _shards(self, arn: str) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"StreamArn": arn}
        for _ in range(1000):  # bounded: 100 shards per page
            desc = self._s("describe_stream", **kwargs)["StreamDescription"]
            shards.extend(desc.get("Shards", []))
            last = desc.get("LastEvaluatedShardId")
            if not last:
                break
            kwargs["ExclusiveStartShardId"] = last
        ids = {sh["ShardId"] for sh in shards}
        ordered: list[dict[str, Any]] = []
        placed: set[str] = set()
        while len(ordered) < len(shards):  # parents first
            progressed = False
            for sh in shards:
                parent = sh.get("ParentShardId")
                if sh["ShardId"] not in placed and (
                    parent is None or parent not in ids or parent in placed
                ):
                    ordered.append(sh)
                    placed.add(sh["ShardId"])
                    progressed = True
            if not progressed:
                break
        return ordered

    # --- polling (CLI, tests) ---------------------------------------------------------------
    def _position_key(self, arn: str, shard: str) -> dict[str, Any]:
        return key(f"STREAM#{arn.rsplit('/', 1)[-1]}", f"SHARD#{shard}")

    def aggregate_pending(self, limit: int = 1000) -> AggregationRun:
        """Poll every shard (see the module docstring). ``records`` counts the assessment
        records folded; the records of other items read with them are not counted (they
        are skipped), and ``limit`` bounds all records read."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        arn = self.stream_arn()
        total = AggregationRun()
        shards = self._shards(arn)
        ids = {sh["ShardId"] for sh in shards}
        finished_shards: set[str] = set()
        for sh in shards:
            if total.records >= limit:
                return _more(total)
            parent = sh.get("ParentShardId")
            if parent in ids and parent not in finished_shards:
                total = _more(
                    total
                )  # the parent is not read to its end: its child waits
                continue
            run, finished = self._poll_shard(arn, sh, limit - total.records)
            total = _plus(total, run)
            if finished:
                finished_shards.add(sh["ShardId"])
        return total

    def _poll_shard(
        self, arn: str, sh: dict[str, Any], limit: int
    ) -> tuple[AggregationRun, bool]:
        """Read one shard from its position: (what was folded, whether the shard is
        closed and read to its end)."""
        shard = sh["ShardId"]
        pos_key = self._position_key(arn, shard)
        pos = self._get(pos_key)
        if pos and pos.get("done", {}).get("BOOL"):
            return AggregationRun(), True
        kwargs: dict[str, Any] = {"StreamArn": arn, "ShardId": shard}
        if pos and "seq" in pos:
            kwargs.update(
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                SequenceNumber=pos["seq"]["S"],
            )
        else:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        it = self._s("get_shard_iterator", **kwargs).get("ShardIterator")
        records: list[dict[str, Any]] = []
        empty = 0
        closed = False
        while it and len(records) < limit and empty < EMPTY_PAGES:
            page = self._s(
                "get_records",
                ShardIterator=it,
                Limit=min(READ_PAGE, limit - len(records)),
            )
            got = page.get("Records", [])
            records.extend(got)
            empty = 0 if got else empty + 1
            it = page.get("NextShardIterator")
            if it is None:
                closed = True
        if not records:
            if closed:
                self._put_position(pos_key, pos, None, True)
            return AggregationRun(), closed
        batch = [r for r in (raw_record(x, shard) for x in records) if r is not None]
        result, unwritten = self.fold_records(batch)
        if unwritten:  # leave the position: the next run redelivers, checkpoints dedupe
            return (
                AggregationRun(
                    len(batch), result.applied, result.skipped, tuple(unwritten), True
                ),
                False,
            )
        self._dead_letters(batch, result.failures)
        more = len(records) >= limit and not closed
        finished = closed and not more
        if batch or finished or len(records) >= min(limit, SKIP_WITHOUT_MOVING):
            # (a few records of other items alone, e.g. the fold's own writes, are re-read
            # next time rather than answered with a position write of their own; a run
            # that read as many as it may always moves, or a small limit would re-read
            # the same records of other items for ever)
            last = records[-1]["dynamodb"]["SequenceNumber"]
            self._put_position(pos_key, pos, last, finished)
        return (
            AggregationRun(
                len(batch), result.applied, result.skipped, result.failures, more
            ),
            finished,
        )

    def _put_position(
        self,
        pos_key: dict[str, Any],
        old: dict[str, Any] | None,
        seq: str | None,
        done: bool,
    ) -> None:
        item: dict[str, Any] = {**pos_key, "done": {"BOOL": done}}
        seq = seq or (old or {}).get("seq", {}).get("S")
        if seq:
            item["seq"] = s(seq)
        self._call("put_item", TableName=self.table_name, Item=item)

    def _dead_letters(
        self, batch: list[dict[str, Any]], failures: Iterable[str]
    ) -> None:
        failed = set(failures)
        for raw in batch:
            if raw["id"] in failed:
                logger.error(
                    "stream record refused by the fold", extra={"seq": raw["id"]}
                )
                self._call(
                    "put_item",
                    TableName=self.table_name,
                    Item={
                        **key(DEAD_LETTERS, f"D#{raw['shard']}#{raw['id']}"),
                        "op": s(str(raw["op"])),
                        "at": {"N": str(int(time.time()))},
                    },
                )

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        out = []
        for item in self._query_partition(DEAD_LETTERS, "D#"):
            shard, _, seq = item["SK"]["S"][2:].rpartition("#")
            out.append({"shard": shard, "seq": seq, "op": item["op"]["S"]})
            if len(out) >= limit:
                break
        return out

    # --- Lambda -----------------------------------------------------------------------------
    def _shard_of(self, arn: str, first_seq: str) -> str:
        """The shard holding the record ``first_seq`` (see the module docstring)."""
        n = int(first_seq)
        candidates = []
        for sh in self._shards(arn):
            rng = sh.get("SequenceNumberRange", {})
            lo = int(rng.get("StartingSequenceNumber", "0"))
            hi = rng.get("EndingSequenceNumber")
            if lo <= n and (hi is None or n <= int(hi)):
                candidates.append(sh["ShardId"])
        for shard in candidates:
            try:
                it = self._s(
                    "get_shard_iterator",
                    StreamArn=arn,
                    ShardId=shard,
                    ShardIteratorType="AT_SEQUENCE_NUMBER",
                    SequenceNumber=first_seq,
                )["ShardIterator"]
                got = self._s("get_records", ShardIterator=it, Limit=1).get(
                    "Records", []
                )
            except ClientError:
                continue
            if got and got[0]["dynamodb"]["SequenceNumber"] == first_seq:
                return str(shard)
        raise LookupError(f"no shard of {arn} holds sequence number {first_seq}")

    def fold_stream_event(
        self, event_records: list[Mapping[str, Any]]
    ) -> dict[str, list[dict[str, str]]]:
        """Fold one Lambda batch (raw DynamoDB stream event records); the response for
        ReportBatchItemFailures."""
        if not event_records:
            return {"batchItemFailures": []}
        arn = str(event_records[0].get("eventSourceARN") or self.stream_arn())
        first = str(event_records[0]["dynamodb"]["SequenceNumber"])
        try:
            shard = self._shard_of(arn, first)
        except LookupError:
            logger.exception("stream shard not found; the batch is retried")
            return {"batchItemFailures": [{"itemIdentifier": first}]}
        batch = [
            r for r in (raw_record(x, shard) for x in event_records) if r is not None
        ]
        try:
            result, unwritten = self.fold_records(batch)
        except Exception:
            logger.exception("stream fold failed; the batch is retried")
            return {"batchItemFailures": [{"itemIdentifier": first}]}
        self._dead_letters(batch, result.failures)
        return {"batchItemFailures": [{"itemIdentifier": i} for i in unwritten]}


def _plus(a: AggregationRun, b: AggregationRun) -> AggregationRun:
    return AggregationRun(
        a.records + b.records,
        a.applied + b.applied,
        a.skipped + b.skipped,
        a.failures + b.failures,
        a.more or b.more,
    )


def _more(run: AggregationRun) -> AggregationRun:
    return AggregationRun(run.records, run.applied, run.skipped, run.failures, True)
