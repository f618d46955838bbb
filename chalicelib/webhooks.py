"""Partner webhooks: an event for each assessment a partner submits, signed, retried, logged.

Signatures follow Standard Webhooks (https://www.standardwebhooks.com), which partners'
libraries already verify: ``webhook-id`` (the event id, the same on every attempt: receivers
drop duplicates, delivery is at least once), ``webhook-timestamp`` (unix seconds of this
attempt) and ``webhook-signature: v1,<base64 HMAC-SHA256 over "<id>.<timestamp>.<body>">``,
one per active secret, separated by spaces. A secret is ``whsec_<base64>``; the key is the
base64 part decoded. A receiver refuses a timestamp more than ``TOLERANCE_SECONDS`` away, so
a captured request cannot be replayed later (``verify`` is the reference receiver).
``SMM-Signature: t=<t>,v1=<hex>`` (HMAC with the whole secret string over ``"<t>.<body>"``,
current secret only) is still sent for receivers written before; it is deprecated.

Secrets: each endpoint stores random secret ids only; a secret is derived from its id and the
server secret (``SMM_SECRET``), so a copy of the table alone signs nothing and rotating needs
no new ``SMM_SECRET``. ``rotate_secret`` adds a new secret; the previous ones keep signing
for a grace period (both signatures on every delivery), then stop. Endpoints registered
before rotation existed keep their secret (id ``""``, the old derivation).

Delivery: the event is queued in the same atomic write as the assessment (the outbox:
``Store.create_assessment(..., delivery)``), then tried at once with a short timeout;
failures are retried on the ``BACKOFF_SECONDS`` schedule by ``deliver_due`` (every minute on
AWS via the scheduled function in app.py, ``python -m chalicelib.cli webhooks deliver``
elsewhere) until ``MAX_ATTEMPTS``, then marked ``failed``. Each item is isolated: an error on
one is recorded on it and the run goes on. Only 2xx counts as delivered; redirects are not
followed. ``410 Gone`` disables the endpoint (no more requests until it is registered
again). A partner can replay a failed delivery (``replay``): one more attempt, now.

Endpoints must be ``https://`` on a public address. ``http://`` and loopback addresses are
accepted only with ``WEBHOOK_ALLOW_LOOPBACK=1`` (local runs and tests). The URL is checked
when registered and before every attempt; at each attempt the host is resolved ONCE, every
address it resolves to must be public (``address_problem``: private, loopback, link-local,
carrier-grade NAT, multicast, reserved, 0.0.0.0/8, IPv4-mapped/compatible IPv6, and the 6to4
and NAT64 forms of any of these are refused), and the connection goes to that checked
address while Host, SNI and certificate verification use the host name: no DNS rebinding
between check and connect.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import os
import re
import secrets as random_secrets
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.records import AssessmentRecord, Delivery, Webhook, WebhookSecret
from chalicelib.storage import Store

logger = logging.getLogger(__name__)

EVENT_COMPLETED = "assessment.completed"
TOLERANCE_SECONDS = 300
TIMEOUT_SECONDS = 3.0  # each network operation of an attempt
ATTEMPT_DEADLINE_SECONDS = 8.0  # the whole attempt: connect, TLS, send, answer
RUN_BUDGET_SECONDS = 18.0  # a scheduled run starts no attempt after this (Lambda: 30 s)
BACKOFF_SECONDS = (30, 120, 600, 3_600, 21_600)  # after attempts 1..5
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
FIRST_ATTEMPT_GRACE_SECONDS = (
    60  # keeps the scheduler off an event the request is sending
)
MAX_URL_LENGTH = 2_000
USER_AGENT = "smm-benchmark-webhooks/1"
SECRET_PREFIX = "whsec_"
DEFAULT_GRACE_SECONDS = (
    86_400  # previous secrets keep signing for a day after a rotation
)
MAX_GRACE_SECONDS = 7 * 86_400
MAX_SECRETS = 3  # the current one and at most two still in their grace period
SIGNATURE_SCHEME = (
    "Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature: "
    "v1,<base64 HMAC-SHA256 of '<id>.<timestamp>.<body>'> per active secret, "
    "space-separated; key = base64-decoded part of whsec_<base64>"
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_DELIVERY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


# --- signatures -----------------------------------------------------------------------------
def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret: its base64 part, decoded."""
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64") from exc
    if not key:
        raise ValueError("empty webhook secret")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``webhook-signature`` entry: ``v1,<base64>``."""
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret_key(secret), to_sign, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signature_headers(
    secrets: list[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            sign(s, msg_id, timestamp, body) for s in secrets
        ),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does (Standard Webhooks): read the three headers (any case), check
    the time window, accept if any ``v1`` signature matches, compared in constant time."""
    h = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, sigs = (
        h.get("webhook-id"),
        h.get("webhook-timestamp"),
        h.get("webhook-signature"),
    )
    if not (msg_id and stamp and sigs):
        return False
    try:
        timestamp = int(stamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, msg_id, timestamp, body).encode()
    return any(hmac.compare_digest(expected, s.encode()) for s in sigs.split(" ") if s)


def sign_legacy(secret: str, timestamp: int, body: bytes) -> str:
    """The deprecated ``SMM-Signature`` header (key: the whole secret string)."""
    mac = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_legacy_signature(
    secret: str,
    header: str | None,
    body: bytes,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """The receiver of the deprecated ``SMM-Signature: t=...,v1=...``."""
    parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign_legacy(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


# --- endpoint rules -------------------------------------------------------------------------
def allow_loopback() -> bool:
    return os.environ.get("WEBHOOK_ALLOW_LOOPBACK", "0").lower() in ("1", "true", "yes")


_V4_REFUSED = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "100.64.0.0/10",  # carrier-grade NAT
        "192.0.0.0/24",  # IETF protocol assignments
        "192.88.99.0/24",  # 6to4 relay anycast
        "198.18.0.0/15",  # benchmarking
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_V6_REFUSED = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # IPv4-compatible (deprecated), unspecified
        "::ffff:0:0/96",  # IPv4-mapped
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/32",  # Teredo
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_REFUSED = "private, loopback, link-local, shared (CGNAT), multicast and reserved addresses are not allowed"


def _v4_problem(ip: ipaddress.IPv4Address, loopback_ok: bool) -> str | None:
    if ip.is_loopback:
        return None if loopback_ok else "loopback addresses are not allowed"
    if not ip.is_global or any(ip in n for n in _V4_REFUSED):
        return _REFUSED
    return None


def address_problem(ip: IPAddress) -> str | None:
    """Why a connection to ``ip`` is refused, or None. Loopback passes only with
    ``WEBHOOK_ALLOW_LOOPBACK=1``, and only in its plain form (127.0.0.0/8, ::1)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return _v4_problem(ip, allow_loopback())
    if ip.is_loopback:
        return None if allow_loopback() else "loopback addresses are not allowed"
    if ip.is_unspecified:
        return _REFUSED
    if ip.ipv4_mapped is not None or ip in _V6_REFUSED[0]:
        return "IPv4-mapped and IPv4-compatible IPv6 addresses are not allowed"
    if ip in _NAT64:  # the NAT64 form of an IPv4 address: as that address
        embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        return _v4_problem(embedded, loopback_ok=False)
    if ip.sixtofour is not None:  # 2002::/16 wraps an IPv4 address
        return _v4_problem(ip.sixtofour, loopback_ok=False)
    if (
        any(ip in n for n in _V6_REFUSED)
        or not ip.is_global
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_site_local
    ):
        return _REFUSED
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
    name = host.rstrip(".")
    loopback_name = name == "localhost" or name.endswith(".localhost")
    if parts.scheme == "http" and not (
        allow_loopback() and (loopback_name or (ip is not None and ip.is_loopback))
    ):
        raise refuse("must use https://")
    if loopback_name and not allow_loopback():
        raise refuse("no loopback addresses")
    if ip is not None and (problem := address_problem(ip)):
        raise refuse(problem)


# --- sending: resolve once, check, connect to that address ----------------------------------
class RefusedAddress(OSError):
    """The host resolved to an address webhooks must not reach (retried: DNS may change)."""


def resolve(host: str, port: int) -> list[str]:
    """Every address of ``host``, each checked; the caller connects to these only."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise OSError(f"cannot resolve host: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        problem = address_problem(ipaddress.ip_address(address.split("%", 1)[0]))
        if problem:
            raise RefusedAddress(f"{host} resolves to {address}: {problem}")
    if not addresses:
        raise OSError(f"cannot resolve host: no address for {host}")
    return addresses


def _connect(addresses: list[str], port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to the first checked address that answers (no name lookup)."""
    error: OSError | None = None
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect((address, port))
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    raise error or OSError("no address to connect to")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, addresses: list[str], timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self._addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(
        self,
        host: str,
        port: int,
        addresses: list[str],
        timeout: float,
        context: ssl.SSLContext,
    ):
        super().__init__(host, port, timeout=timeout, context=context)
        self._addresses = addresses
        self._tls = context

    def connect(self) -> None:
        sock = _connect(self._addresses, self.port, self.timeout)
        try:  # SNI and certificate verification for the host name, not the address
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


Sender = Callable[[str, bytes, dict[str, str]], int]


def http_post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    context: ssl.SSLContext | None = None,
    timeout: float = TIMEOUT_SECONDS,
    deadline: float = ATTEMPT_DEADLINE_SECONDS,
) -> int:
    """POST and return the HTTP status; raises OSError on network and TLS failures and
    ``RefusedAddress`` when the host resolves to a refused address. The host is resolved
    once, the addresses checked, and the connection made to a checked address with the
    URL's host name for Host, SNI and the certificate check (``context``: the system's
    trust store by default). Redirects are answers, never followed. ``timeout`` bounds
    each network operation, ``deadline`` the whole attempt (a receiver answering a byte at
    a time is cut off)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    addresses = resolve(host, port)
    conn: http.client.HTTPConnection
    if https:
        tls = context or ssl.create_default_context()
        conn = _PinnedHTTPSConnection(host, port, addresses, timeout, tls)
    else:
        conn = _PinnedHTTPConnection(host, port, addresses, timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    expired = threading.Event()

    def cut_off() -> None:  # unblocks a read in progress; the attempt then fails
        expired.set()
        if conn.sock is not None:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(deadline, cut_off)
    timer.daemon = True
    timer.start()
    try:
        conn.request("POST", target, body=body, headers=headers)
        status = int(conn.getresponse().status)
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set():
            raise OSError(
                f"no complete answer within the {deadline:g} s deadline"
            ) from exc
        if isinstance(exc, OSError):
            raise
        # not an OSError: a malformed answer
        raise OSError(f"bad HTTP answer: {type(exc).__name__}: {exc}") from exc
    finally:
        timer.cancel()
        conn.close()
    if expired.is_set():
        raise OSError(f"no complete answer within the {deadline:g} s deadline")
    return status


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

    # --- secrets ----------------------------------------------------------------------------
    def _derive(self, partner_id: str, secret_id: str) -> str:
        """A secret from its stored id and the server secret (never stored itself)."""
        if secret_id == "":  # endpoints registered before rotation: the old derivation
            mac = hmac.new(self._secret, f"webhook:{partner_id}".encode(), "sha256")
            return SECRET_PREFIX + mac.hexdigest()  # hex digits are base64 too
        msg = f"webhook:{partner_id}:{secret_id}".encode()
        digest = hmac.new(self._secret, msg, hashlib.sha256).digest()
        return SECRET_PREFIX + base64.b64encode(digest).decode()

    @staticmethod
    def _active(hook: Webhook, now: int) -> tuple[WebhookSecret, ...]:
        """Newest first: the current secret and those still in their grace period."""
        secrets = hook.secrets or (WebhookSecret("", 0),)
        return tuple(s for s in secrets if s.expires_at is None or s.expires_at > now)

    def secrets_for(self, hook: Webhook) -> list[str]:
        """What signs a delivery now: the current secret first."""
        active = self._active(hook, int(self.clock()))
        return [self._derive(hook.partner_id, s.id) for s in active]

    def secret_for(self, partner_id: str) -> str:
        """The partner's current signing secret."""
        hook = self.store.get_webhook(partner_id)
        if hook is None:
            raise NotFound("no webhook registered", [("/url", "none registered")])
        return self.secrets_for(hook)[0]

    def rotate_secret(
        self, partner_id: str, grace_seconds: int = DEFAULT_GRACE_SECONDS
    ) -> dict[str, Any]:
        """A new current secret; the previous ones keep signing for ``grace_seconds``
        (0: they stop now). SMM_SECRET does not change."""
        if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
            raise InvalidInput(
                "grace period out of range",
                [("/grace_seconds", f"0 to {MAX_GRACE_SECONDS} seconds")],
            )
        hook = self.store.get_webhook(partner_id)
        if hook is None:
            raise NotFound("no webhook registered", [("/url", "none registered")])
        now = int(self.clock())
        until = now + grace_seconds
        previous = tuple(
            replace(s, expires_at=min(s.expires_at or until, until))
            for s in self._active(hook, now)
        )
        previous = tuple(s for s in previous if s.expires_at and s.expires_at > now)
        fresh = WebhookSecret(random_secrets.token_hex(16), now)
        hook = replace(hook, secrets=(fresh, *previous)[:MAX_SECRETS])
        self.store.put_webhook(hook)
        return {
            "secret": self._derive(partner_id, fresh.id),
            **self._public(hook, now),
        }

    # --- registration -----------------------------------------------------------------------
    def register(self, partner_id: str, url: str) -> dict[str, Any]:
        """Register or replace the endpoint. Replacing keeps its secrets and enables it
        again after a 410; a first registration gets a new random secret."""
        check_url(url)
        now = int(self.clock())
        old = self.store.get_webhook(partner_id)
        secrets = (
            old.secrets if old else (WebhookSecret(random_secrets.token_hex(16), now),)
        )
        hook = Webhook(partner_id, url, _iso(now), secrets=secrets)
        self.store.put_webhook(hook)
        return {**self._public(hook, now), "secret": self.secrets_for(hook)[0]}

    def unregister(self, partner_id: str) -> None:
        if self.store.get_webhook(partner_id) is None:
            raise NotFound("no webhook registered", [("/url", "none registered")])
        self.store.delete_webhook(partner_id)

    def state(self, partner_id: str, limit: int = 20) -> dict[str, Any]:
        hook = self.store.get_webhook(partner_id)
        if hook is None:
            raise NotFound("no webhook registered", [("/url", "none registered")])
        return {
            **self._public(hook, int(self.clock())),
            "deliveries": [
                public_delivery(d)
                for d in self.store.list_deliveries(partner_id, limit)
            ],
        }

    def _public(self, hook: Webhook, now: int) -> dict[str, Any]:
        previous = self._active(hook, now)[1:]
        return {
            "url": hook.url,
            "created_at": hook.created_at,
            "events": [EVENT_COMPLETED],
            "enabled": hook.disabled_at is None,
            "disabled_at": hook.disabled_at,
            "disabled_reason": hook.disabled_reason,
            "signature": SIGNATURE_SCHEME,
            "signatures": 1 + len(previous),
            "previous_secrets_expire_at": _iso(max(s.expires_at or 0 for s in previous))
            if previous
            else None,
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
                    "reference": rec.partner_ref,
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

    def attempt(
        self, delivery: Delivery, hook: Webhook | None = None, replay: bool = False
    ) -> Delivery:
        """One delivery attempt; stores and returns the updated delivery. Never raises for
        the item's own faults (a bad stored URL, a sender error): they are recorded on it.
        ``replay``: a failure leaves it failed (no automatic retries)."""
        hook = hook or self.store.get_webhook(delivery.partner_id)
        now = int(self.clock())
        attempts = delivery.attempts + 1
        status: int | None = None
        error: str | None = None
        permanent = replay  # no later attempt: failed at once
        if hook is None:
            error, permanent = "webhook removed", True
        elif hook.disabled_at is not None:
            error, permanent = f"endpoint disabled: {hook.disabled_reason}", True
        else:
            try:
                check_url(hook.url)  # also URLs stored before a rule existed
            except InvalidInput as exc:
                error = f"invalid URL: {exc.errors[0][1]}"[:300]
                permanent = True
            else:
                status, error = self._send(delivery, hook, now)
        if status == 410 and hook is not None:  # Gone: the receiver asks us to stop
            permanent = True
            reason = f"HTTP 410 Gone at {_iso(now)} (delivery {delivery.id})"
            current = self.store.get_webhook(
                delivery.partner_id
            )  # fresh: keep rotations
            if (
                current is not None and current.url == hook.url
            ):  # not re-registered since
                self.store.put_webhook(
                    replace(current, disabled_at=_iso(now), disabled_reason=reason)
                )
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
                next_at=now
                if final
                else now + BACKOFF_SECONDS[min(attempts, MAX_ATTEMPTS - 1) - 1],
                last_status=status,
                last_error=error,
            )
        self.store.put_delivery(updated)
        return updated

    def _send(
        self, delivery: Delivery, hook: Webhook, now: int
    ) -> tuple[int | None, str | None]:
        """(HTTP status, None) or (None, error); signed afresh with every active secret."""
        body = delivery.body.encode()
        secrets = self.secrets_for(hook)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **signature_headers(secrets, delivery.id, now, body),
            "SMM-Event": delivery.event_type,
            "SMM-Webhook-Id": delivery.id,  # deprecated: webhook-id
            "SMM-Signature": sign_legacy(secrets[0], now, body),  # deprecated
        }
        try:
            return self.sender(hook.url, body, headers), None
        except OSError as exc:  # refused address, connection, timeout, TLS, DNS
            return None, f"{type(exc).__name__}: {exc}"[:300]
        except Exception as exc:  # a bug must not stop the run: recorded, retried
            logger.exception("webhook event %s: sender failed", delivery.id)
            return None, f"{type(exc).__name__}: {exc}"[:300]

    def replay(self, partner_id: str, delivery_id: str) -> dict[str, Any]:
        """One more attempt of one of the partner's failed deliveries, now (same id and
        body, signed afresh). Another partner's id is unknown here."""
        delivery = (
            self.store.get_delivery(partner_id, delivery_id)
            if _DELIVERY_ID.fullmatch(delivery_id)
            else None
        )
        if delivery is None:
            raise NotFound("no such delivery", [("/delivery_id", "unknown delivery")])
        hook = self.store.get_webhook(partner_id)
        if hook is None:
            raise NotFound("no webhook registered", [("/url", "none registered")])
        if delivery.state != "failed":
            raise Conflict(
                f"only failed deliveries can be replayed; this one is {delivery.state}",
                [("/delivery_id", f"state is {delivery.state}")],
            )
        if hook.disabled_at is not None:
            raise Conflict(
                "the endpoint is disabled (it answered 410): register it again with "
                "PUT /v1/partner/webhook first",
                [("/url", "disabled")],
            )
        return public_delivery(self.attempt(delivery, hook, replay=True))

    def deliver_due(
        self, limit: int = 50, budget_seconds: float | None = None
    ) -> list[Delivery]:
        """Retry every delivery that is due (bounded by ``limit`` per call). With
        ``budget_seconds``, no attempt starts after that time: the rest stays due for the
        next run rather than being cut off unrecorded by the platform's timeout."""
        started = time.monotonic()
        due = self.store.due_deliveries(int(self.clock()), limit)
        done: list[Delivery] = []
        for d in due:  # one item's failure never stops the others
            if (
                budget_seconds is not None
                and time.monotonic() - started > budget_seconds
            ):
                logger.info(
                    "webhook run out of time: %d left due", len(due) - len(done)
                )
                break
            try:
                done.append(self.attempt(d))
            except Exception:  # e.g. the store refused this item's write
                logger.exception("webhook event %s: attempt not recorded", d.id)
        return done


def public_delivery(d: Delivery) -> dict[str, Any]:
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
