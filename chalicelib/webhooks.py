"""Partner webhooks: an event for each assessment a partner submits, signed, retried, logged.

Signature (``SMM-Signature: t=<unix seconds>,v1=<hex>``): HMAC-SHA256 with the partner's
webhook secret over ``"<t>.<raw body>"``. A receiver recomputes it, compares in constant time
and refuses a ``t`` more than ``TOLERANCE_SECONDS`` away from its clock, so a captured request
cannot be replayed later (``verify_signature`` is the reference implementation). Each attempt
is signed afresh; ``SMM-Webhook-Id`` stays the same across attempts, so receivers can drop
duplicates (delivery is at least once).

Delivery: the event is queued in the same atomic write as the assessment (the outbox:
``Store.create_assessment(..., delivery)``), then tried at once with a short timeout; failures are retried on the ``BACKOFF_SECONDS`` schedule by ``deliver_due`` (every
minute on AWS via the scheduled function in app.py, ``python -m chalicelib.cli webhooks
deliver`` elsewhere) until ``MAX_ATTEMPTS``, then marked ``failed``. Only 2xx counts as
delivered; redirects are not followed.

Endpoints must be ``https://`` on a public address. ``http://`` and loopback addresses are
accepted only with ``WEBHOOK_ALLOW_LOOPBACK=1`` (local runs and tests); private, link-local
and reserved addresses (e.g. cloud metadata at 169.254.169.254) are refused when the URL is
registered and again, after name resolution, before every attempt.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from chalicelib.errors import InvalidInput, NotFound
from chalicelib.storage import AssessmentRecord, Delivery, Store, Webhook

logger = logging.getLogger(__name__)

EVENT_COMPLETED = "assessment.completed"
TOLERANCE_SECONDS = 300
TIMEOUT_SECONDS = 3.0
BACKOFF_SECONDS = (30, 120, 600, 3_600, 21_600)  # after attempts 1..5
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
FIRST_ATTEMPT_GRACE_SECONDS = (
    60  # keeps the scheduler off an event the request is sending
)
MAX_URL_LENGTH = 2_000
USER_AGENT = "smm-benchmark-webhooks/1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does: parse ``t=...,v1=...``, check the time window, compare the MAC."""
    parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def allow_loopback() -> bool:
    return os.environ.get("WEBHOOK_ALLOW_LOOPBACK", "0").lower() in ("1", "true", "yes")


def _address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if ip.is_loopback:
        return None if allow_loopback() else "loopback addresses are not allowed"
    if (
        ip.is_private
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    ):
        return "private, link-local and reserved addresses are not allowed"
    return None


_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def _host_problem(host: str) -> str | None:
    """A DNS name of letters, digits and hyphens (punycode for other scripts)."""
    name = host.removesuffix(".")
    labels = name.split(".")
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(x) for x in labels):
        return "the host is not a valid DNS name or IP address"
    if labels[-1].isdigit() or labels[-1].startswith("0x"):
        return "the host is not a valid DNS name (numeric IPv4 forms are not accepted)"
    return None


def check_url(url: str) -> None:
    """Refuse endpoints a partner must not point us at, and any URL that would not survive
    delivery (InvalidInput names the field). Called on registration and before every
    attempt, so a URL stored before a rule existed fails its delivery, never the run."""
    field = "/url"

    def refuse(why: str) -> InvalidInput:
        return InvalidInput("webhook URL invalid", [(field, why)])

    if not isinstance(url, str):
        raise refuse("a string")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(
            "webhook URL too long", [(field, "at most 2,000 characters")]
        )
    if not url.isascii() or any(not ("!" <= ch <= "~") for ch in url):
        raise refuse(
            "printable ASCII only: no spaces or control characters (percent-encode "
            "them; punycode for international host names)"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname or ""
    except ValueError as exc:  # "[::1/x", "host:abc", "host:99999"
        raise refuse(f"not a valid URL ({exc})") from None
    if parts.scheme not in ("https", "http") or not host:
        raise refuse("an absolute https:// URL")
    if "@" in parts.netloc:
        raise refuse("no credentials in the URL")
    if parts.fragment or url.endswith("#"):
        raise refuse("no #fragment (it is never sent)")
    if port == 0 or parts.netloc.endswith(":"):
        raise refuse("the port must be a number from 1 to 65535")
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    if "[" in parts.netloc or "]" in parts.netloc:
        bracketed = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](:\d{1,5})?", parts.netloc)
        if bracketed is None:
            raise refuse("an IPv6 address in brackets, e.g. https://[2001:db8::1]/")
        try:
            ip = ipaddress.IPv6Address(bracketed.group(1))
        except ValueError:
            raise refuse("an IPv6 address in brackets, e.g. https://[2001:db8::1]/")
    else:
        try:
            ip = ipaddress.IPv4Address(host)
        except ValueError:
            ip = None
            if problem := _host_problem(host):
                raise refuse(problem) from None
    loopback_name = host == "localhost" or host.rstrip(".").endswith(
        (".localhost", "localhost")
    )
    if parts.scheme == "http" and not (
        allow_loopback() and (loopback_name or (ip is not None and ip.is_loopback))
    ):
        raise refuse("must use https://")
    if loopback_name and not allow_loopback():
        raise refuse("no loopback addresses")
    if ip is not None and (problem := _address_problem(ip)):
        raise refuse(problem)


def _resolved_problem(url: str) -> str | None:
    """Before each attempt: every address the host resolves to must be allowed."""
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(
            parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        )
    except OSError as exc:
        return f"cannot resolve host: {exc}"
    for info in infos:
        problem = _address_problem(ipaddress.ip_address(info[4][0]))
        if problem:
            return problem
    return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is reported as the attempt's status, not followed


Sender = Callable[[str, bytes, dict[str, str]], int]


def http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the HTTP status (raises OSError on network failures)."""
    opener = urllib.request.build_opener(_NoRedirects)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


class WebhookService:
    def __init__(
        self,
        store: Store,
        secret: bytes,
        sender: Sender = http_post,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._secret = secret
        self.sender = sender
        self.clock = clock

    def secret_for(self, partner_id: str) -> str:
        """The partner's signing secret, derived from the server secret (nothing to store)."""
        mac = hmac.new(self._secret, f"webhook:{partner_id}".encode(), hashlib.sha256)
        return "whsec_" + mac.hexdigest()

    # --- registration -----------------------------------------------------------------------
    def register(self, partner_id: str, url: str) -> dict[str, Any]:
        check_url(url)
        hook = Webhook(partner_id, url, _iso(self.clock()))
        self.store.put_webhook(hook)
        return {**self._public(hook), "secret": self.secret_for(partner_id)}

    def unregister(self, partner_id: str) -> None:
        if self.store.get_webhook(partner_id) is None:
            raise NotFound("no webhook registered", [("/url", "none registered")])
        self.store.delete_webhook(partner_id)

    def state(self, partner_id: str, limit: int = 20) -> dict[str, Any]:
        hook = self.store.get_webhook(partner_id)
        if hook is None:
            raise NotFound("no webhook registered", [("/url", "none registered")])
        return {
            **self._public(hook),
            "deliveries": [
                _public_delivery(d)
                for d in self.store.list_deliveries(partner_id, limit)
            ],
        }

    @staticmethod
    def _public(hook: Webhook) -> dict[str, Any]:
        return {
            "url": hook.url,
            "created_at": hook.created_at,
            "events": [EVENT_COMPLETED],
            "signature": "SMM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "
            "'<t>.<body>' with the secret>",
        }

    # --- events -----------------------------------------------------------------------------
    def event_for(self, rec: AssessmentRecord) -> Delivery | None:
        """The ``assessment.completed`` delivery for a partner's new assessment, or None
        without a webhook. The submission queues it in its own atomic write (the outbox).
        The event carries scores, never answers or tokens."""
        if rec.partner_id is None or self.store.get_webhook(rec.partner_id) is None:
            return None
        now = int(self.clock())
        event_id = "evt_" + uuid.uuid4().hex
        body = json.dumps(
            {
                "id": event_id,
                "type": EVENT_COMPLETED,
                "created_at": _iso(now),
                "data": {
                    "assessment_id": rec.id,
                    "questionnaire": rec.questionnaire_id,
                    "version": rec.version,
                    "assessment_created_at": rec.created_at,
                    "phase": rec.metrics.get("phase"),
                    "pyramid_level": rec.metrics.get("pyramid_level"),
                    "overall": rec.metrics.get("overall"),
                    "benchmark_included": rec.included,
                },
            },
            separators=(",", ":"),
            sort_keys=True,
        )
        # due for the scheduler only if the request's own first attempt never happens
        due = now + FIRST_ATTEMPT_GRACE_SECONDS
        return Delivery(
            event_id, rec.partner_id, EVENT_COMPLETED, body, now, next_at=due
        )

    def deliver_now(self, delivery: Delivery) -> Delivery | None:
        """The first attempt, right after the submission committed. Never raises: the event
        is queued, so a failure here is retried by ``deliver_due``."""
        try:
            return self.attempt(delivery)
        except Exception:
            logger.exception("first attempt of webhook event %s failed", delivery.id)
            return None

    def attempt(self, delivery: Delivery, hook: Webhook | None = None) -> Delivery:
        """One delivery attempt; stores and returns the updated delivery."""
        hook = hook or self.store.get_webhook(delivery.partner_id)
        now = int(self.clock())
        attempts = delivery.attempts + 1
        status: int | None = None
        error: str | None = None
        permanent = False  # no later attempt can succeed: failed at once
        if hook is None:
            error, permanent = "webhook removed", True
        else:
            try:
                check_url(hook.url)  # also URLs stored before a rule existed
                error = _resolved_problem(hook.url)
            except InvalidInput as exc:
                error = f"invalid URL: {exc.errors[0][1]}"[:300]
                permanent = True
            if error is None:
                body = delivery.body.encode()
                headers = {
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    "SMM-Webhook-Id": delivery.id,
                    "SMM-Event": delivery.event_type,
                    "SMM-Signature": sign(
                        self.secret_for(delivery.partner_id), now, body
                    ),
                }
                try:
                    status = self.sender(hook.url, body, headers)
                except OSError as exc:  # connection refused, timeout, TLS, DNS
                    error = f"{type(exc).__name__}: {exc}"[:300]
                except (
                    Exception
                ) as exc:  # a bug must not stop the run: recorded, retried
                    logger.exception("webhook event %s: sender failed", delivery.id)
                    error = f"{type(exc).__name__}: {exc}"[:300]
        if status is not None and 200 <= status < 300:
            updated = replace(
                delivery,
                state="delivered",
                attempts=attempts,
                last_status=status,
                last_error=None,
                delivered_at=now,
            )
        else:
            if status is not None:
                error = f"HTTP {status}"
            final = permanent or attempts >= MAX_ATTEMPTS
            updated = replace(
                delivery,
                state="failed" if final else "pending",
                attempts=attempts,
                next_at=now if final else now + BACKOFF_SECONDS[attempts - 1],
                last_status=status,
                last_error=error,
            )
        self.store.put_delivery(updated)
        return updated

    def deliver_due(self, limit: int = 50) -> list[Delivery]:
        """Retry every delivery that is due (bounded by ``limit`` per call)."""
        due = self.store.due_deliveries(int(self.clock()), limit)
        done = []
        for d in due:  # one item's failure never stops the others
            try:
                done.append(self.attempt(d))
            except Exception:  # e.g. the store refused this item's write
                logger.exception("webhook event %s: attempt not recorded", d.id)
        return done


def _public_delivery(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "event": d.event_type,
        "state": d.state,
        "attempts": d.attempts,
        "created_at": _iso(d.created_at),
        "next_attempt_at": _iso(d.next_at) if d.state == "pending" else None,
        "delivered_at": _iso(d.delivered_at) if d.delivered_at else None,
        "last_status": d.last_status,
        "last_error": d.last_error,
    }


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), UTC).isoformat()
