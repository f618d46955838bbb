"""The table and its requests: client, bounded retries, transactions, error classification.

Every request goes through :class:`Table`: ``_call`` for idempotent requests,
``_transact`` for ``TransactWriteItems`` with a ClientRequestToken kept across ambiguous
failures (docs/STORAGE.md, "Retries and idempotency")."""

from __future__ import annotations

import collections
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
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
from chalicelib.storage.dynamodb.keys import s

logger = logging.getLogger("chalicelib.storage.dynamodb")

DEFAULT_REGION = "eu-central-1"
BATCH_WRITE_SIZE = 25  # BatchWriteItem limit
BATCH_GET_SIZE = 100  # BatchGetItem limit

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


class Cancelled(Exception):
    """A transaction cancelled for a reason that retrying cannot fix (e.g. a failed
    condition). ``reasons`` is DynamoDB's CancellationReasons, one per transaction item."""

    def __init__(self, error: ClientError) -> None:
        super().__init__(str(error))
        self.error = error
        self.reasons: list[dict[str, Any]] = list(
            error.response.get("CancellationReasons", [])
        )

    def condition_failed_on_first(self) -> bool:
        return self.condition_failed_on(0)

    def condition_failed_on(self, index: int) -> bool:
        return (
            len(self.reasons) > index
            and self.reasons[index].get("Code") == "ConditionalCheckFailed"
        )


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _classify(exc: BaseException) -> str | None:
    """``_REJECTED`` (not applied, retry), ``_AMBIGUOUS_FAILURE`` (maybe applied, retry with
    the same token) or None (not retryable). Cancelled transactions are classified by the
    caller from their reasons."""
    if isinstance(exc, ClientError):
        code = error_code(exc)
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


def streams_client_like(client: Any) -> Any:
    """A DynamoDB Streams client for the same endpoint, region and credentials as
    ``client`` (DynamoDB Local serves both APIs on one endpoint; on AWS the streams
    endpoint is its own: left to botocore)."""
    global _session
    from botocore.config import Config  # type: ignore[import-untyped]
    from botocore.session import get_session  # type: ignore[import-untyped]

    endpoint = client.meta.endpoint_url
    if endpoint and "amazonaws.com" in endpoint:
        endpoint = None
    creds: dict[str, str] = {}
    signer_creds = getattr(
        getattr(client, "_request_signer", None), "_credentials", None
    )
    if signer_creds is not None:
        frozen = signer_creds.get_frozen_credentials()
        creds = {
            "aws_access_key_id": frozen.access_key,
            "aws_secret_access_key": frozen.secret_key,
        }
        if frozen.token:
            creds["aws_session_token"] = frozen.token
    if endpoint is None:
        creds = {}  # on AWS: the session's own (refreshing) credentials
    with _session_lock:
        if _session is None:
            _session = get_session()
        return _session.create_client(
            "dynamodbstreams",
            region_name=client.meta.region_name,
            endpoint_url=endpoint,
            config=Config(
                retries={"total_max_attempts": 1, "mode": "standard"},
                connect_timeout=2.0,
                read_timeout=5.0,
            ),
            **creds,
        )


def is_loopback(endpoint_url: str) -> bool:
    return (urlparse(endpoint_url).hostname or "") in ("localhost", "127.0.0.1", "::1")


class Table:
    """One DynamoDB table and the requests to it. Thread-safe (botocore clients are).

    ``client`` is a DynamoDB client or a zero-argument factory returning one (called on
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
            error_code(last) if isinstance(last, ClientError) else type(last).__name__
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

    def _call_conditional(
        self, op: str, **kwargs: Any
    ) -> tuple[dict[str, Any] | None, bool]:
        """A conditional single-item write with bounded retries: ``(response, ambiguous)``
        where the response is None when the condition failed, and ``ambiguous`` says an
        earlier attempt may have been applied (so a failed condition may be our own
        write: e.g. a conditional delete that timed out after it was applied)."""
        last: BaseException | None = None
        ambiguous = False
        for attempt in range(self.max_attempts):
            if attempt:
                self._backoff(attempt)
            try:
                return self._request(op, **kwargs), ambiguous
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return None, ambiguous
                kind = _classify(exc)
                if kind is None:
                    raise
                ambiguous = ambiguous or kind == _AMBIGUOUS_FAILURE
                last = exc
            except Exception as exc:
                kind = _classify(exc)
                if kind is None:
                    raise
                ambiguous = ambiguous or kind == _AMBIGUOUS_FAILURE
                last = exc
        raise self._unavailable(op, last) from last

    def _transact(self, items: list[dict[str, Any]]) -> None:
        """One ``TransactWriteItems`` with bounded retries and a ClientRequestToken that is
        kept after any ambiguous failure (docs/STORAGE.md). Raises ``Cancelled`` for
        cancellations that retrying cannot fix, ``Unavailable`` after the last attempt."""
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
                if error_code(exc) == "TransactionCanceledException":
                    codes = {
                        r.get("Code")
                        for r in exc.response.get("CancellationReasons", [])
                        if r.get("Code") not in (None, "None")
                    }
                    if not codes or not codes <= _RETRYABLE_CANCELLATION:
                        raise Cancelled(exc) from exc
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

    def _transact_or_raise(self, items: list[dict[str, Any]]) -> None:
        """``_transact`` for writes with no condition to report: a cancellation raises
        DynamoDB's own error."""
        try:
            self._transact(items)
        except Cancelled as cancelled:
            raise cancelled.error from None

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
            except Cancelled as cancelled:
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

    def _get(
        self, key: dict[str, Any], projection: str | None = None
    ) -> dict[str, Any] | None:
        """One strongly consistent GetItem: the item, or None."""
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": key,
            "ConsistentRead": True,
        }
        if projection is not None:
            kwargs["ProjectionExpression"] = projection
        item: dict[str, Any] | None = self._call("get_item", **kwargs).get("Item")
        return item

    def _query_partition(
        self, pk: str, sk_prefix: str, projection: str | None = None
    ) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": s(pk), ":prefix": s(sk_prefix)},
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
