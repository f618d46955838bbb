"""DynamoDB adapter: one table (infra/table.yaml), low-level botocore client, own bounded retries.

Items (string keys ``PK``/``SK``; see also the comment in infra/table.yaml)
---------------------------------------------------------------------------
- assessment ``ASSESSMENT#<id>`` / ``A``: the record as JSON in ``body`` (the same
  serialisation as the SQLite adapter, so answers/metrics/result round-trip exactly), plus
  top-level ``questionnaire``, ``version``, ``source``, ``partner_id`` (absent when None),
  ``month``, ``included``, ``consent``, ``created_at`` and ``write_id`` (see below). Only the
  hash of the result token is stored (``token_hash`` inside ``body``), never a token.
- aggregate ``BENCH#<source>#<questionnaire>#<version>`` / ``COHORT#<cohort key>``
  (``C#50-249#dach``, ``*#*#*#s3``... for the population ``all``; ``COHORT#users:<cohort
  key>`` for organisations that use social media, in the same partition, so
  ``clear_aggregates`` is one Query): top-level numbers ``count``, ``month#2026-11`` and
  each metric's histogram packed into fixed words ``h#<metric>#<w>`` (six bins of six
  decimal digits per number; chalicelib/storage/packed.py): 17 words per 0..100 score, 2 for
  the phase, 1 for the pyramid level. Every submission ADDs to every word (0 to all but
  one), so an item has all its attributes from its first write and a read parses the same
  number of attributes at 1,000 or 1,000,000 submissions. Names contain ``#``, so
  expressions always use placeholders (``#f0 :v0``). ``ADD`` on a top-level attribute
  creates it on a fresh item, so no item is ever initialised first. Items written by the
  first layout (one attribute per bin, ``m#overall#57``) are still read and summed in.
- draft ``DRAFT#<id>`` / ``D``: JSON ``body`` + numeric ``expires_at``, the table's TTL
  attribute. TTL deletion is lazy (up to days), so ``get_draft`` also treats
  ``expires_at <= now`` as absent.
- webhook ``PARTNER#<partner id>`` / ``WEBHOOK``: the partner's endpoint as JSON ``body``.
  White label ``PARTNER#<partner id>`` / ``BRANDING``: the partner's branding as JSON ``body``.
  Delivery ``PARTNER#<partner id>`` / ``DELIVERY#<created, 10 digits>#<id>`` (JSON ``body``,
  ``expires_at`` 30 days on), and while pending a copy under ``WEBHOOKS#DUE`` /
  ``<next_at, 10 digits>#<partner id>#<id>`` so that due deliveries are one Query; both are
  replaced in one transaction. ``PARTNER#<partner id>`` / ``EVENT#<id>`` (numeric
  ``created``, ``created_at`` in items written before the partner-created index; same
  expiry), written with a new delivery, finds it by id (replay).
- partner key ``PARTNERKEY#<key id>`` / ``K``, plus two copies for listing without a Scan or an
  (eventually consistent) GSI: ``PARTNER#<partner id>`` / ``KEY#<key id>`` and
  ``PARTNERS`` / ``KEY#<key id>``. All three are written in one transaction (which also
  deletes the old per-partner copy when a key moves to another partner), and listings are
  strongly consistent Queries on one partition, sorted by key id like the SQLite adapter.
  Partner keys are few and rarely written, so the constant ``PARTNERS`` partition is not hot.

Writes
------
- ``create_assessment``: ONE ``TransactWriteItems``: Put of the assessment with
  ``attribute_not_exists(PK)`` + one ``ADD`` Update per cohort key (8 with the sharded global
  roll-up, 9 items in all; 16 + 1 for an organisation that uses social media, which also
  counts in the ``users`` population; the limit is 100), plus, for a partner with a
  webhook, the outbox: the event's delivery item, its due entry and its id entry (at most
  20 items). A duplicate id cancels
  the whole transaction (reason ``ConditionalCheckFailed`` on item 0), so nothing is counted
  or queued twice -> False. Without a contribution or an event it is a single conditional
  ``PutItem``.
- ``delete_assessment``: ONE transaction: Delete with ``attribute_exists(PK)`` + ``ADD`` of
  the negated deltas; a missing item cancels it -> False.

Retries and idempotency
-----------------------
botocore's own retries are switched off (``total_max_attempts=1``) so that every retry is
ours, bounded (``max_attempts``) with exponential backoff and jitter, counted in
``self.requests`` and testable. Retried: throttling (``ProvisionedThroughputExceeded``,
``Throttling``, ``RequestLimitExceeded``), ``InternalServerError``/5xx, connection errors and
timeouts, ``TransactionInProgressException`` and transactions cancelled only for retryable
reasons (``TransactionConflict``, throttling). After the last attempt: ``Unavailable``
(HTTP 503, ``Retry-After: 1``).

The subtle case is an *ambiguous* failure - a read timeout, a dropped connection or a 500 -
after which the server may have committed the transaction. Retried naively, the conditional
put then fails and the caller is told "already exists" (False) for its own submission (and
an erasure that happened would be reported as "already erased").

1. ``ClientRequestToken``: one token per *call* of ``create_assessment``/``delete_assessment``
   (uuid4), reused by that call's retries. DynamoDB treats a repeated token (within 10
   minutes, with identical parameters) as the same request: if the first attempt committed,
   the retry returns success without applying anything again; if it is still running, it
   answers ``TransactionInProgressException`` (retried with the same token). This is what
   botocore itself does with the token it auto-fills, and is why we must pass our own when
   we do the retrying. The token is deliberately NOT derived from the assessment id: a
   different call with the same id (an HTTP client's retry of the same Idempotency-Key, or a
   concurrent duplicate) must get False so the service replays the stored result (or
   answers 409), but with an id-derived token it would be "the same request" - returning
   True without writing anything when the parameters match, or
   ``IdempotentParameterMismatch`` when they differ (``created_at`` differs between two
   calls) - and an assessment erased and re-submitted within 10 minutes would be silently
   dropped by the idempotent replay. The token only changes after a *definite* rejection
   (throttling, a cancelled transaction: nothing was applied) when no earlier attempt with
   it was ambiguous; once an attempt was ambiguous the token is kept to the end of the call.
2. ``write_id``: the assessment item carries a per-call nonce, and the conditional put asks
   for ``ReturnValuesOnConditionCheckFailure=ALL_OLD``. If the put fails because the item
   exists and that item's ``write_id`` is ours, an earlier attempt of this same call wrote
   it -> True. This covers the plain ``PutItem`` (excluded submissions, no token exists for
   PutItem) and is a backstop for the transaction should a retry ever fall outside the token
   window. Counters are never applied twice: the transaction that would re-add them is the
   one whose put failed.

``bulk_load`` (seeding, benchmarks; not atomic) writes records with ``BatchWriteItem`` (25 per
request, ``UnprocessedItems`` retried; puts are idempotent) and applies the pre-summed counter
deltas of each cohort item with ``ADD``, sent as token-carrying ``TransactWriteItems`` of up to
25 items (one Update per distinct item) so that a retry after an ambiguous failure cannot
count a batch twice. Unlike the SQLite adapter (INSERT OR IGNORE), a record whose id is
already stored is overwritten (BatchWriteItem has no conditions); within one call the first
record of an id wins.

Expression limits (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/
Constraints.html#limits-expression-parameters): an expression string is at most 4 KB
(4,096 bytes; DynamoDB Local enforces it: 301 ``#fN :vN`` actions pass, 400 fail), an
UpdateExpression has at most 300 operators/functions, a placeholder at most 255 bytes and all
substitutions at most 2 MB. Bulk ADDs are chunked to at most ``MAX_ADD_ACTIONS`` (250)
actions and ``MAX_EXPRESSION_BYTES`` (3,800) bytes per UpdateExpression. A submission of
smm 1.0.0 adds count + month + 207 words = 209 actions (~2.5 KB) per item and never needs
chunking (tests/integration/test_dynamodb.py sends one through DynamoDB Local).

Reads use ``ConsistentRead`` (read-your-writes like SQLite; a benchmark read is one
``BatchGetItem`` of at most 8 + shards items, independent of the number of assessments).
Nothing here Scans.
"""

from __future__ import annotations

import collections
import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import (  # type: ignore[import-untyped]
    ClientError,
    HTTPClientError,
)
from botocore.exceptions import (  # type: ignore[import-untyped]
    ConnectionError as BotoConnectionError,
)

from chalicelib.errors import Unavailable
from chalicelib.records import (
    Aggregate,
    AssessmentQuery,
    AssessmentRecord,
    Contribution,
    Delivery,
    Deltas,
    Draft,
    IdempotencyKey,
    PartnerKey,
    RateWindow,
    Webhook,
    aggregate_key,
)
from chalicelib.storage import codec, packed

logger = logging.getLogger(__name__)

DEFAULT_REGION = "eu-central-1"
MAX_ADD_ACTIONS = 250  # < 300 operators per UpdateExpression
MAX_EXPRESSION_BYTES = 3_800  # < 4,096 bytes per expression string
BATCH_WRITE_SIZE = 25  # BatchWriteItem limit
BATCH_GET_SIZE = 100  # BatchGetItem limit
DUE_PARTITION = (
    "WEBHOOKS#DUE"  # pending webhook deliveries, sorted by when they are due
)
DELIVERY_TTL_SECONDS = 30 * 86_400  # delivery logs expire via the table's TTL attribute
BULK_TRANSACTION_ITEMS = 25  # counter items per bulk transaction (limit 100 / 4 MB)
PARTNER_INDEX = "partner-created"  # GSI: partner_id / created_at of assessment items
QUERY_PAGE = 100  # items per Query page while filtering a partner's assessments

# Error codes of a request the server definitely did not apply: retry, a new token is fine.
_THROTTLING = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
    }
)
# Error codes after which the request may have been applied: retry with the same token.
_AMBIGUOUS = frozenset(
    {"InternalServerError", "ServiceUnavailable", "TransactionInProgressException"}
)
# Cancellation reasons worth retrying (nothing was applied; another attempt may succeed).
_RETRYABLE_CANCELLATION = frozenset(
    {
        "TransactionConflict",
        "ProvisionedThroughputExceeded",
        "ThrottlingError",
        "RequestLimitExceeded",
        "ReplicatedWriteConflict",
    }
)

_AMBIGUOUS_FAILURE = "ambiguous"
_REJECTED = "rejected"


class _Cancelled(Exception):
    """A transaction cancelled for a reason that retrying cannot fix (e.g. a failed
    condition). ``reasons`` is DynamoDB's CancellationReasons, one per transaction item."""

    def __init__(self, error: ClientError) -> None:
        super().__init__(str(error))
        self.error = error
        self.reasons: list[dict[str, Any]] = list(
            error.response.get("CancellationReasons", [])
        )

    def condition_failed_on_first(self) -> bool:
        return (
            bool(self.reasons)
            and self.reasons[0].get("Code") == "ConditionalCheckFailed"
        )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _classify(exc: BaseException) -> str | None:
    """``_REJECTED`` (not applied, retry), ``_AMBIGUOUS_FAILURE`` (maybe applied, retry with
    the same token) or None (not retryable). Cancelled transactions are classified by the
    caller from their reasons."""
    if isinstance(exc, ClientError):
        code = _error_code(exc)
        status = int(
            exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        )
        if code in _THROTTLING:
            return _REJECTED
        if code in _AMBIGUOUS or status >= 500:
            return _AMBIGUOUS_FAILURE
        return None
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        # Timeouts, refused or dropped connections. Some of these mean "never sent", but
        # treating all of them as ambiguous is always safe.
        return _AMBIGUOUS_FAILURE
    return None


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    return {"PK": _s(pk), "SK": _s(sk)}


def assessment_key(assessment_id: str) -> dict[str, dict[str, str]]:
    return _key(f"ASSESSMENT#{assessment_id}", "A")


def bench_pk(source: str, questionnaire_id: str, version: str) -> str:
    return f"BENCH#{source}#{questionnaire_id}#{version}"


def cohort_sk(cohort_key: str) -> str:
    return f"COHORT#{cohort_key}"


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


_session: Any = None
_session_lock = threading.Lock()


def make_client(
    endpoint_url: str | None = None,
    region: str = DEFAULT_REGION,
    *,
    connect_timeout: float = 2.0,
    read_timeout: float = 5.0,
    max_pool_connections: int = 10,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
) -> Any:
    """A low-level DynamoDB client with botocore's retries off (this adapter retries).

    Built with botocore itself, on one botocore session per process: ``boto3.client`` would
    first import boto3 and, through it, s3transfer (40-70 ms of a cold start measured in
    docs/PERFORMANCE.md, for nothing this adapter uses). Creating clients on one session is
    not thread-safe, hence the lock."""
    global _session
    from botocore.config import Config  # type: ignore[import-untyped]
    from botocore.session import get_session  # type: ignore[import-untyped]

    creds: dict[str, str] = {}
    if aws_access_key_id and aws_secret_access_key:
        creds = {
            "aws_access_key_id": aws_access_key_id,
            "aws_secret_access_key": aws_secret_access_key,
        }
    with _session_lock:
        if _session is None:
            _session = get_session()
        return _session.create_client(
            "dynamodb",
            region_name=region,
            endpoint_url=endpoint_url,
            config=Config(
                retries={"total_max_attempts": 1, "mode": "standard"},
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                max_pool_connections=max_pool_connections,
            ),
            **creds,
        )


def _is_loopback(endpoint_url: str) -> bool:
    return (urlparse(endpoint_url).hostname or "") in ("localhost", "127.0.0.1", "::1")


class DynamoStore:
    """Store adapter on one DynamoDB table. Thread-safe (boto3 clients are).

    ``client`` is a boto3 DynamoDB client or a zero-argument factory returning one (called on
    first use, so building the store connects to nothing). ``requests`` counts the DynamoDB
    API requests made, per operation name, retries included."""

    def __init__(
        self,
        table_name: str,
        client: Any,
        *,
        max_attempts: int = 4,
        base_delay: float = 0.02,
        max_delay: float = 0.5,
        consistent_reads: bool = True,
        bulk_workers: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.table_name = table_name
        self._client_or_factory = client
        self._client: Any = None
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.consistent_reads = consistent_reads
        self.bulk_workers = max(1, bulk_workers)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self.requests: collections.Counter[str] = collections.Counter()

    @classmethod
    def from_env(cls) -> DynamoStore:
        """TABLE_NAME (required), DYNAMODB_ENDPOINT (e.g. DynamoDB Local), AWS_REGION or
        AWS_DEFAULT_REGION (default eu-central-1), DYNAMODB_MAX_ATTEMPTS (default 4). With a
        loopback DYNAMODB_ENDPOINT and no AWS credentials in the environment, dummy
        credentials are used (DynamoDB Local accepts any)."""
        table = os.environ.get("TABLE_NAME", "").strip()
        if not table:
            raise ValueError("TABLE_NAME must be set when STORE=dynamodb")
        endpoint = os.environ.get("DYNAMODB_ENDPOINT", "").strip() or None
        region = (
            os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or DEFAULT_REGION
        )
        raw_attempts = os.environ.get("DYNAMODB_MAX_ATTEMPTS", "").strip() or "4"
        try:
            max_attempts = int(raw_attempts)
        except ValueError:
            raise ValueError(
                f"DYNAMODB_MAX_ATTEMPTS must be an integer, not {raw_attempts!r}"
            ) from None
        if max_attempts < 1:
            raise ValueError("DYNAMODB_MAX_ATTEMPTS must be at least 1")
        dummy = bool(
            endpoint
            and _is_loopback(endpoint)
            and "AWS_ACCESS_KEY_ID" not in os.environ
        )

        def factory() -> Any:
            return make_client(
                endpoint,
                region,
                aws_access_key_id="local" if dummy else None,
                aws_secret_access_key="local" if dummy else None,
            )

        return cls(table, factory, max_attempts=max_attempts)

    # --- plumbing ---------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    c = self._client_or_factory
                    self._client = c if hasattr(c, "transact_write_items") else c()
        return self._client

    def request_count(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    def _request(self, op: str, **kwargs: Any) -> dict[str, Any]:
        """One DynamoDB API request (counted)."""
        with self._lock:
            self.requests[op] += 1
        result: dict[str, Any] = getattr(self.client, op)(**kwargs)
        return result

    def _backoff(self, attempt: int) -> None:
        """Exponential backoff with jitter before retry number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        self._sleep(self._rng.uniform(ceiling / 2, ceiling))

    def _unavailable(self, op: str, last: BaseException | None) -> Unavailable:
        what = (
            _error_code(last) if isinstance(last, ClientError) else type(last).__name__
        )
        logger.warning(
            "dynamodb request failed after retries",
            extra={"operation": op, "attempts": self.max_attempts, "error": what},
        )
        return Unavailable(
            "storage is temporarily unavailable, please retry", retry_after=1
        )

    def _call(self, op: str, **kwargs: Any) -> dict[str, Any]:
        """An idempotent request with bounded retries of transient errors."""
        last: BaseException | None = None
        for attempt in range(self.max_attempts):
            if attempt:
                self._backoff(attempt)
            try:
                return self._request(op, **kwargs)
            except Exception as exc:
                if _classify(exc) is None:
                    raise
                last = exc
        raise self._unavailable(op, last) from last

    def _transact(self, items: list[dict[str, Any]]) -> None:
        """One ``TransactWriteItems`` with bounded retries and a ClientRequestToken that is
        kept after any ambiguous failure (see the module docstring). Raises ``_Cancelled``
        for cancellations that retrying cannot fix, ``Unavailable`` after the last attempt."""
        token = str(uuid.uuid4())
        pinned = False  # an attempt with this token may have been applied: keep it
        last: BaseException | None = None
        for attempt in range(self.max_attempts):
            if attempt:
                self._backoff(attempt)
            try:
                self._request(
                    "transact_write_items",
                    TransactItems=items,
                    ClientRequestToken=token,
                )
                return
            except ClientError as exc:
                if _error_code(exc) == "TransactionCanceledException":
                    codes = {
                        r.get("Code")
                        for r in exc.response.get("CancellationReasons", [])
                        if r.get("Code") not in (None, "None")
                    }
                    if not codes or not codes <= _RETRYABLE_CANCELLATION:
                        raise _Cancelled(exc) from exc
                    kind: str | None = _REJECTED
                else:
                    kind = _classify(exc)
                if kind is None:
                    raise
                last = exc
            except Exception as exc:
                kind = _classify(exc)
                if kind is None:
                    raise
                last = exc
            if kind == _AMBIGUOUS_FAILURE:
                pinned = True
            elif not pinned:
                token = str(uuid.uuid4())
        raise self._unavailable("TransactWriteItems", last) from last

    def _counter_updates(
        self,
        source: str,
        questionnaire_id: str,
        version: str,
        cohort: str,
        deltas: dict[str, int],
    ) -> list[dict[str, Any]]:
        key = _key(bench_pk(source, questionnaire_id, version), cohort_sk(cohort))
        return [
            {"Update": {"TableName": self.table_name, "Key": key, **expr}}
            for expr in add_expressions(deltas)
        ]

    def _contribution_updates(
        self, contribution: Contribution, sign: int
    ) -> list[dict[str, Any]]:
        deltas = packed.pack_deltas(contribution.deltas(sign))
        items: list[dict[str, Any]] = []
        for cohort in contribution.item_keys():
            items.extend(
                self._counter_updates(
                    contribution.source,
                    contribution.questionnaire_id,
                    contribution.version,
                    cohort,
                    deltas,
                )
            )
        return items

    def _assessment_item(self, rec: AssessmentRecord, write_id: str) -> dict[str, Any]:
        item: dict[str, Any] = {
            **assessment_key(rec.id),
            "body": _s(codec.record_to_json(rec)),
            "questionnaire": _s(rec.questionnaire_id),
            "version": _s(rec.version),
            "source": _s(rec.source),
            "month": _s(rec.month),
            "created_at": _s(rec.created_at),
            "included": {"BOOL": rec.included},
            "consent": {"BOOL": rec.consent},
            "write_id": _s(write_id),
        }
        if rec.partner_id is not None:
            item["partner_id"] = _s(rec.partner_id)
        return item

    # --- assessments ------------------------------------------------------------------------
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
                if _error_code(exc) != "ConditionalCheckFailedException":
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
                            **_idempotency_key(i.key_id),
                            "assessment_id": _s(i.assessment_id),
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
            items.extend(self._contribution_updates(contribution, +1))
        if delivery is not None:  # the outbox: a new delivery item and its due entry
            items.extend(self._delivery_puts(delivery))
        try:
            self._transact(items)
        except _Cancelled as cancelled:
            if cancelled.condition_failed_on_first():
                return _written_by(cancelled.reasons[0].get("Item"), write_id)
            if (
                idempotency is not None
                and len(cancelled.reasons) > 1
                and cancelled.reasons[1].get("Code") == "ConditionalCheckFailed"
            ):
                return False  # the key is held by another assessment
            raise cancelled.error from None
        return True

    def get_idempotency_key(self, key_id: str) -> IdempotencyKey | None:
        item = self._call(
            "get_item",
            TableName=self.table_name,
            Key=_idempotency_key(key_id),
            ConsistentRead=True,
        ).get("Item")
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
        values: dict[str, Any] = {":p": _s(q.partner_id)}
        cond = "partner_id = :p"
        upper = q.until
        if q.after is not None and (upper is None or q.after[0] < upper):
            upper = q.after[0]  # inclusive bound; ties are sorted out below
        if q.since is not None and upper is not None:
            cond += " AND created_at BETWEEN :lo AND :hi"
            values.update({":lo": _s(q.since), ":hi": _s(upper)})
        elif q.since is not None:
            cond += " AND created_at >= :lo"
            values[":lo"] = _s(q.since)
        elif upper is not None:
            cond += " AND created_at <= :hi"
            values[":hi"] = _s(upper)
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

    def take_rate(
        self, subject: str, windows: tuple[RateWindow, ...]
    ) -> tuple[bool, tuple[int, ...]]:
        """One conditional ``ADD`` per window (``n < limit``; the item expires via TTL after
        its window). A window that refuses undoes the windows counted before it (ADD -1),
        so a refused request is not counted. Two concurrent requests may both see the undo
        window's count one too high for a moment: never more than ``limit`` are allowed."""
        counts: list[int] = []
        for i, w in enumerate(windows):
            try:
                resp = self._call(
                    "update_item",
                    TableName=self.table_name,
                    Key=_key(f"RATE#{subject}", f"{w.policy}#{w.start:010d}"),
                    UpdateExpression="ADD #n :one SET expires_at = :exp",
                    ConditionExpression="attribute_not_exists(#n) OR #n < :limit",
                    ExpressionAttributeNames={"#n": "n"},
                    ExpressionAttributeValues={
                        ":one": {"N": "1"},
                        ":exp": {"N": str(w.end)},
                        ":limit": {"N": str(w.limit)},
                    },
                    ReturnValues="UPDATED_NEW",
                )
            except ClientError as exc:
                if _error_code(exc) != "ConditionalCheckFailedException":
                    raise
                for done in windows[:i]:
                    self._call(
                        "update_item",
                        TableName=self.table_name,
                        Key=_key(f"RATE#{subject}", f"{done.policy}#{done.start:010d}"),
                        UpdateExpression="ADD #n :minus",
                        ExpressionAttributeNames={"#n": "n"},
                        ExpressionAttributeValues={":minus": {"N": "-1"}},
                    )
                refused = [n - 1 for n in counts] + [w.limit]
                return False, tuple(refused + [0] * (len(windows) - len(refused)))
            counts.append(int(resp["Attributes"]["n"]["N"]))
        return True, tuple(counts)

    def get_assessment(self, assessment_id: str) -> AssessmentRecord | None:
        item = self._call(
            "get_item",
            TableName=self.table_name,
            Key=assessment_key(assessment_id),
            ConsistentRead=True,
            ProjectionExpression="body",
        ).get("Item")
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
            items.extend(self._contribution_updates(contribution, -1))
        try:
            self._transact(items)
        except _Cancelled as cancelled:
            if cancelled.condition_failed_on_first():
                return False
            raise cancelled.error from None
        return True

    # --- aggregates -------------------------------------------------------------------------
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
    ) -> dict[str, dict[str, Aggregate]]:
        """One BatchGetItem for up to 100 items (a ``users`` read with its ``all`` counts
        is 2 x 11 items with 4 shards)."""
        wanted = list(dict.fromkeys(cohorts))
        pops = list(dict.fromkeys(populations))
        out = {p: {k: Aggregate() for k in wanted} for p in pops}
        pk = bench_pk(source, questionnaire_id, version)
        by_sk = {cohort_sk(aggregate_key(p, k)): (p, k) for p in pops for k in wanted}
        sks = list(by_sk)
        for i in range(0, len(sks), BATCH_GET_SIZE):
            keys = [_key(pk, sk) for sk in sks[i : i + BATCH_GET_SIZE]]
            for item in self._batch_get(keys):
                p, k = by_sk[item["SK"]["S"]]
                _add_item(out[p][k], item)
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

    def _batch_get(self, keys: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        pending: dict[str, Any] = {
            self.table_name: {"Keys": keys, "ConsistentRead": self.consistent_reads}
        }
        for attempt in range(self.max_attempts):
            if attempt:
                self._backoff(attempt)
            resp = self._call("batch_get_item", RequestItems=pending)
            yield from resp.get("Responses", {}).get(self.table_name, [])
            pending = resp.get("UnprocessedKeys") or {}
            if not pending:
                return
        raise self._unavailable("BatchGetItem (UnprocessedKeys)", None)

    def bulk_load(
        self,
        records: list[AssessmentRecord],
        contributions: list[Contribution],
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Seed many records and their pre-summed contributions (not atomic; see the module
        docstring). ``progress(done, total)`` is called in work units: one per record
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
        summed = _sum_contributions(contributions)
        per_item = [self._counter_updates(*k, deltas) for k, deltas in summed.items()]
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

    def _run_parallel(
        self,
        fn: Callable[[list[dict[str, Any]]], None],
        works: list[list[dict[str, Any]]],
    ) -> Iterator[list[dict[str, Any]]]:
        """Run ``fn`` on each work list on ``bulk_workers`` threads; yield each work list
        once done, in order. On the first failure the pending work is cancelled."""
        if not works:
            return
        with ThreadPoolExecutor(max_workers=self.bulk_workers) as pool:
            futures = [pool.submit(fn, work) for work in works]
            try:
                for fut, work in zip(futures, works):
                    fut.result()
                    yield work
            except _Cancelled as cancelled:
                pool.shutdown(cancel_futures=True)
                raise cancelled.error from None
            except BaseException:
                pool.shutdown(cancel_futures=True)
                raise

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {self.table_name: requests}
        for attempt in range(self.max_attempts):
            if attempt:
                self._backoff(attempt)
            resp = self._call("batch_write_item", RequestItems=pending)
            pending = resp.get("UnprocessedItems") or {}
            if not pending:
                return
        raise self._unavailable("BatchWriteItem (UnprocessedItems)", None)

    # --- drafts -----------------------------------------------------------------------------
    def put_draft(self, draft: Draft) -> None:
        self._call(
            "put_item",
            TableName=self.table_name,
            Item={
                **_key(f"DRAFT#{draft.id}", "D"),
                "body": _s(codec.draft_to_json(draft)),
                "expires_at": {"N": str(int(draft.expires_at))},
            },
        )

    def get_draft(self, draft_id: str, now: int) -> Draft | None:
        item = self._call(
            "get_item",
            TableName=self.table_name,
            Key=_key(f"DRAFT#{draft_id}", "D"),
            ConsistentRead=True,
        ).get("Item")
        if item is None or int(item["expires_at"]["N"]) <= now:
            return None  # TTL deletes expired items lazily: expired means absent
        return codec.draft_from_json(item["body"]["S"])

    def delete_draft(self, draft_id: str) -> None:
        self._call(
            "delete_item", TableName=self.table_name, Key=_key(f"DRAFT#{draft_id}", "D")
        )

    # --- partner keys -----------------------------------------------------------------------
    def put_partner_key(self, key: PartnerKey) -> None:
        body = _s(codec.partner_key_to_json(key))
        main_key = _key(f"PARTNERKEY#{key.key_id}", "K")
        for _ in range(self.max_attempts):
            old = self._call(
                "get_item",
                TableName=self.table_name,
                Key=main_key,
                ConsistentRead=True,
                ProjectionExpression="partner_id",
            ).get("Item")
            main: dict[str, Any] = {
                "TableName": self.table_name,
                "Item": {**main_key, "body": body, "partner_id": _s(key.partner_id)},
            }
            if old is None:
                main["ConditionExpression"] = "attribute_not_exists(PK)"
            else:  # optimistic: nobody moved the key to another partner since we read it
                main["ConditionExpression"] = "partner_id = :old"
                main["ExpressionAttributeValues"] = {":old": old["partner_id"]}
            items: list[dict[str, Any]] = [
                {"Put": main},
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {
                            **_key(f"PARTNER#{key.partner_id}", f"KEY#{key.key_id}"),
                            "body": body,
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {**_key("PARTNERS", f"KEY#{key.key_id}"), "body": body},
                    }
                },
            ]
            if old is not None and old["partner_id"]["S"] != key.partner_id:
                stale = _key(f"PARTNER#{old['partner_id']['S']}", f"KEY#{key.key_id}")
                items.append({"Delete": {"TableName": self.table_name, "Key": stale}})
            try:
                self._transact(items)
                return
            except _Cancelled as cancelled:
                if not cancelled.condition_failed_on_first():
                    raise cancelled.error from None
                # a concurrent writer changed the key between our read and write: re-read
        raise self._unavailable("put_partner_key (concurrent updates)", None)

    def get_partner_key(self, key_id: str) -> PartnerKey | None:
        item = self._call(
            "get_item",
            TableName=self.table_name,
            Key=_key(f"PARTNERKEY#{key_id}", "K"),
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else codec.partner_key_from_json(item["body"]["S"])

    def list_partner_keys(self, partner_id: str | None = None) -> list[PartnerKey]:
        pk = "PARTNERS" if partner_id is None else f"PARTNER#{partner_id}"
        return [
            codec.partner_key_from_json(item["body"]["S"])
            for item in self._query_partition(pk, "KEY#")
        ]

    # --- webhooks ---------------------------------------------------------------------------
    def put_webhook(self, hook: Webhook) -> None:
        self._call(
            "put_item",
            TableName=self.table_name,
            Item={
                **_key(f"PARTNER#{hook.partner_id}", "WEBHOOK"),
                "body": _s(codec.webhook_to_json(hook)),
            },
        )

    def get_webhook(self, partner_id: str) -> Webhook | None:
        item = self._call(
            "get_item",
            TableName=self.table_name,
            Key=_key(f"PARTNER#{partner_id}", "WEBHOOK"),
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else codec.webhook_from_json(item["body"]["S"])

    def delete_webhook(self, partner_id: str) -> None:
        self._call(
            "delete_item",
            TableName=self.table_name,
            Key=_key(f"PARTNER#{partner_id}", "WEBHOOK"),
        )

    # --- white label ------------------------------------------------------------------------
    def put_branding(self, partner_id: str, branding: dict[str, Any]) -> None:
        self._call(
            "put_item",
            TableName=self.table_name,
            Item={
                **_key(f"PARTNER#{partner_id}", "BRANDING"),
                "body": _s(codec.branding_to_json(branding)),
            },
        )

    def get_branding(self, partner_id: str) -> dict[str, Any] | None:
        item = self._call(
            "get_item",
            TableName=self.table_name,
            Key=_key(f"PARTNER#{partner_id}", "BRANDING"),
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else codec.branding_from_json(item["body"]["S"])

    def delete_branding(self, partner_id: str) -> None:
        self._call(
            "delete_item",
            TableName=self.table_name,
            Key=_key(f"PARTNER#{partner_id}", "BRANDING"),
        )

    def put_delivery(self, delivery: Delivery) -> None:
        """The delivery item (``PARTNER#<id>`` / ``DELIVERY#<created>#<id>``, expiring after
        ``DELIVERY_TTL_SECONDS``) and, while pending, a copy in the ``WEBHOOKS#DUE``
        partition sorted by ``next_at``, replaced in one transaction."""
        d = delivery
        old = self._call(
            "get_item",
            TableName=self.table_name,
            Key=_delivery_key(d),
            ConsistentRead=True,
            ProjectionExpression="body",
        ).get("Item")
        items = self._delivery_puts(d, new=old is None)
        if old is not None:
            prev = codec.delivery_from_json(old["body"]["S"])
            if prev.state == "pending" and (
                prev.next_at != d.next_at or d.state != "pending"
            ):
                items.append(
                    {"Delete": {"TableName": self.table_name, "Key": _due_key(prev)}}
                )
        try:
            self._transact(items)
        except _Cancelled as cancelled:
            raise cancelled.error from None

    def _delivery_puts(self, d: Delivery, new: bool = True) -> list[dict[str, Any]]:
        """Transaction items writing a delivery (and its due entry while pending; for a
        new one, the ``EVENT#<id>`` entry that finds it by id)."""
        body = _s(codec.delivery_to_json(d))
        expires = {"N": str(d.created_at + DELIVERY_TTL_SECONDS)}
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {**_delivery_key(d), "body": body, "expires_at": expires},
                }
            }
        ]
        if new:
            items.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {
                            **_event_key(d.partner_id, d.id),
                            # not created_at: that name is the partner-created
                            # index's string key (a number there is refused)
                            "created": {"N": str(d.created_at)},
                            "expires_at": expires,
                        },
                    }
                }
            )
        if d.state == "pending":
            items.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {**_due_key(d), "body": body},
                    }
                }
            )
        return items

    def list_deliveries(
        self, partner_id: str, limit: int = 20, before: tuple[int, str] | None = None
    ) -> list[Delivery]:
        values = {":pk": _s(f"PARTNER#{partner_id}"), ":prefix": _s("DELIVERY#")}
        cond = "PK = :pk AND begins_with(SK, :prefix)"
        if before is not None:  # sort keys below the previous page's last one
            cond = "PK = :pk AND SK BETWEEN :prefix AND :before"
            values[":before"] = _s(f"DELIVERY#{before[0]:010d}#{before[1]}")
        resp = self._call(
            "query",
            TableName=self.table_name,
            KeyConditionExpression=cond,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            Limit=limit + (before is not None),
            ConsistentRead=True,
        )
        items = resp.get("Items", [])
        if before is not None:
            last = f"DELIVERY#{before[0]:010d}#{before[1]}"
            items = [i for i in items if i["SK"]["S"] != last][:limit]
        return [codec.delivery_from_json(i["body"]["S"]) for i in items]

    def due_deliveries(self, now: int, limit: int = 50) -> list[Delivery]:
        resp = self._call(
            "query",
            TableName=self.table_name,
            KeyConditionExpression="PK = :pk AND SK <= :until",
            ExpressionAttributeValues={
                ":pk": _s(DUE_PARTITION),
                ":until": _s(f"{now:010d}~"),
            },
            Limit=limit,
            ConsistentRead=True,
        )
        return [codec.delivery_from_json(i["body"]["S"]) for i in resp.get("Items", [])]

    def get_delivery(self, partner_id: str, delivery_id: str) -> Delivery | None:
        """Two reads: the ``EVENT#<id>`` entry names the delivery's creation time, which
        is part of its sort key. The partition is the partner's, so another partner's id
        is simply absent."""
        entry = self._call(
            "get_item",
            TableName=self.table_name,
            Key=_event_key(partner_id, delivery_id),
            ConsistentRead=True,
        ).get("Item")
        if entry is None:
            return None
        created = int((entry.get("created") or entry["created_at"])["N"])
        item = self._call(
            "get_item",
            TableName=self.table_name,
            Key=_key(f"PARTNER#{partner_id}", f"DELIVERY#{created:010d}#{delivery_id}"),
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else codec.delivery_from_json(item["body"]["S"])

    def _query_partition(
        self, pk: str, sk_prefix: str, projection: str | None = None
    ) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": _s(pk), ":prefix": _s(sk_prefix)},
            "ConsistentRead": True,
        }
        if projection is not None:
            kwargs["ProjectionExpression"] = projection
        while True:
            resp = self._call("query", **kwargs)
            yield from resp.get("Items", [])
            if not resp.get("LastEvaluatedKey"):
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def _sum_contributions(
    contributions: Iterable[Contribution],
) -> dict[tuple[str, str, str, str], dict[str, int]]:
    """Counter deltas per aggregate item ``(source, questionnaire, version, cohort)``."""
    summed: dict[tuple[str, str, str, str], Deltas] = {}
    for con in contributions:
        deltas = con.deltas()
        for cohort in con.item_keys():
            summed.setdefault(
                (con.source, con.questionnaire_id, con.version, cohort), Deltas()
            ).add(deltas)
    return {key: packed.pack_deltas(d) for key, d in summed.items()}


def _add_item(agg: Aggregate, item: dict[str, Any]) -> None:
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


def _delivery_key(d: Delivery) -> dict[str, dict[str, str]]:
    return _key(f"PARTNER#{d.partner_id}", f"DELIVERY#{d.created_at:010d}#{d.id}")


def _idempotency_key(key_id: str) -> dict[str, dict[str, str]]:
    return _key(f"IDEMPOTENCY#{key_id}", "I")


def _event_key(partner_id: str, delivery_id: str) -> dict[str, dict[str, str]]:
    return _key(f"PARTNER#{partner_id}", f"EVENT#{delivery_id}")


def _due_key(d: Delivery) -> dict[str, dict[str, str]]:
    return _key(DUE_PARTITION, f"{d.next_at:010d}#{d.partner_id}#{d.id}")


def _written_by(item: dict[str, Any] | None, write_id: str) -> bool:
    """After a failed ``attribute_not_exists`` put: True if the existing item was written by
    an earlier attempt of this same call (its ``write_id`` is ours), else False."""
    if not item:
        return False
    return bool(item.get("write_id", {}).get("S") == write_id)
