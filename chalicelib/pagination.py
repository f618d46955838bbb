"""Cursor pagination of list endpoints: ``?limit=`` (1..100, default 20) and an opaque,
signed ``cursor``.

A cursor is ``<base64url JSON>.<base64url HMAC>``: the JSON names the list, the partner, a
digest of the filters and the position after which the next page starts; the HMAC (server
secret) makes it tamper-proof. A cursor that was altered, belongs to another list, another
partner or other filters is a 422 naming ``cursor``: it can never widen what a caller sees.
Pure: no HTTP, no storage."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from chalicelib.errors import InvalidInput

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_MAX_CURSOR = 512


def parse_limit(params: Mapping[str, str]) -> int:
    raw = params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be an integer from 1 to {MAX_LIMIT}",
            [("/query/limit", f"{raw!r} is not an integer 1..{MAX_LIMIT}")],
        )
    return int(raw)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _digest(filters: Mapping[str, Any]) -> str:
    canonical = json.dumps(dict(filters), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, b"cursor|" + payload, hashlib.sha256).digest()[:16]


def encode(
    secret: bytes,
    kind: str,
    partner_id: str,
    filters: Mapping[str, Any],
    position: list[Any],
) -> str:
    payload = json.dumps(
        {"k": kind, "p": partner_id, "f": _digest(filters), "a": position},
        separators=(",", ":"),
    ).encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def decode(
    secret: bytes,
    cursor: str | None,
    kind: str,
    partner_id: str,
    filters: Mapping[str, Any],
) -> list[Any] | None:
    """The position in ``cursor`` (None without one). Anything but a cursor this server
    issued for this list, partner and filters is a 422 naming ``cursor``."""
    if cursor is None:
        return None
    refused = InvalidInput(
        "cursor is not valid for this request; send the next_cursor of the previous page"
        " with the same filters, or no cursor for the first page",
        [("/query/cursor", "invalid, altered, or issued for another list or filters")],
    )
    if not cursor or len(cursor) > _MAX_CURSOR or cursor.count(".") != 1:
        raise refused
    body, sig = cursor.split(".")
    try:
        payload, mac = _unb64(body), _unb64(sig)
    except (binascii.Error, ValueError):
        raise refused from None
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise refused
    try:
        data = json.loads(payload)
    except ValueError:
        raise refused from None
    if (
        not isinstance(data, dict)
        or data.get("k") != kind
        or data.get("p") != partner_id
        or data.get("f") != _digest(filters)
        or not isinstance(data.get("a"), list)
    ):
        raise refused
    position: list[Any] = data["a"]
    return position


def page(
    items: list[Any],
    limit: int,
    more: bool,
    next_cursor: str | None,
    base: str,
    params: Mapping[str, str],
) -> tuple[dict[str, Any], dict[str, str]]:
    """The list body ``{"items", "next_cursor"}`` and its headers: ``Link: <...>;
    rel="next"`` when there is a next page. ``base`` is the last path segment, so the link
    is relative to the request URL and also works below an API Gateway stage prefix."""
    headers: dict[str, str] = {}
    cursor = next_cursor if more else None
    if cursor is not None:
        query = {k: v for k, v in params.items() if k not in ("cursor", "limit")}
        query.update(limit=str(limit), cursor=cursor)
        headers["Link"] = f'<{base}?{urlencode(query)}>; rel="next"'
    return {"items": items, "next_cursor": cursor}, headers
