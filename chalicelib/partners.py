"""Partner API keys: creation (shown once), hashed storage, constant-time verification, scopes,
allowed browser origins, rotation with two active keys, revocation; browser-safe credentials
(publishable keys and short-lived session client secrets) for the embeddable widget.

Key format: ``smmk_<key id>_<secret>`` (secret key, server side) or ``smmp_<key id>_<secret>``
(publishable key: safe in a web page, it only starts and submits assessments, only from its
registered origins). The key id locates the stored record; only the SHA-256
of the secret is stored. Verification always hashes and compares, also for unknown ids, so the
time taken does not reveal whether a key id exists."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.ratelimit import PLANS
from chalicelib.records import PartnerKey
from chalicelib.storage import Store

SCOPES = ("submit", "read", "benchmarks", "export", "admin", "organisations")
TIERS = tuple(PLANS)  # free, standard, premium: limits in chalicelib/ratelimit.py
# A partner may hold several active keys (e.g. a server key with "submit", a reporting key with
# "export"); rotation adds one more with the same settings before the old one is revoked.
MAX_ACTIVE_KEYS = 8
_KEY = re.compile(r"^(smmk|smmp)_([0-9a-f]{12})_([A-Za-z0-9_\-]{20,64})$")
KINDS = {"smmk": "secret", "smmp": "publishable"}
PREFIX = {kind: prefix for prefix, kind in KINDS.items()}
# what a browser credential (publishable key or session) may do: start and submit assessments
BROWSER_SCOPES = ("submit",)
_SESSION = re.compile(r"^smms_([A-Za-z0-9_\-]{16,600})\.([A-Za-z0-9_\-]{32})$")
SESSION_TTL_SECONDS = 3600  # default lifetime of a session client secret
SESSION_MAX_TTL_SECONDS = 4 * 3600
REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/\-]{0,63}$")
REFERENCE_RULE = "1 to 64 characters: letters, digits and . _ : @ / - (not first)"
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?$")
_KEY_ID = re.compile(r"^[0-9a-f]{12}$")
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling, as established by the authorizer."""

    partner_id: str
    key_id: str
    scopes: tuple[str, ...]
    origins: tuple[str, ...]
    tier: str
    kind: str = "secret"  # secret | publishable | session
    session_id: str = (
        ""  # a session: its id (the idempotency key of its one submission)
    )
    reference: str = ""  # a session: the partner's reference id bound to it
    expires: int = 0  # a session: epoch seconds

    @property
    def browser(self) -> bool:
        """A credential that may be in a web page (never a secret key)."""
        return self.kind != "secret"

    def context(self) -> dict[str, str]:
        """The authorizer context (API Gateway allows only flat string values)."""
        return {
            "partner_id": self.partner_id,
            "key_id": self.key_id,
            "scopes": " ".join(self.scopes),
            "origins": " ".join(self.origins),
            "tier": self.tier,
            "kind": self.kind,
            "session_id": self.session_id,
            "reference": self.reference,
            "expires": str(self.expires),
        }

    @classmethod
    def from_context(cls, ctx: dict[str, Any]) -> Principal:
        expires = str(ctx.get("expires", "0"))
        return cls(
            partner_id=str(ctx["partner_id"]),
            key_id=str(ctx.get("key_id", "")),
            scopes=tuple(str(ctx.get("scopes", "")).split()),
            origins=tuple(str(ctx.get("origins", "")).split()),
            tier=str(ctx.get("tier", "free")),
            kind=str(ctx.get("kind", "secret")),
            session_id=str(ctx.get("session_id", "")),
            reference=str(ctx.get("reference", "")),
            expires=int(expires) if expires.isdigit() else 0,
        )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def usage_identifier(secret: bytes, partner_id: str, tier: str) -> str:
    """The API Gateway API key value that meters a partner's requests in its tier's usage
    plan (the authorizer returns it as ``usageIdentifierKey``). Derived from the partner and
    tier with the server secret, never from a partner key, so: API Gateway never holds a
    partner key; rotating a key (same partner and tier) needs nothing registered; and all
    keys of a partner share one throttle and quota, so minting keys cannot multiply them."""
    digest = hmac.new(
        secret, f"usage:{partner_id}:{tier}".encode(), hashlib.sha256
    ).hexdigest()
    return f"smmu_{digest[:40]}"


def verify(
    store: Store,
    presented: str | None,
    server_secret: bytes | None = None,
    now: float | None = None,
) -> Principal | None:
    """The principal for a presented key or session client secret, or None. Constant time in
    the key's validity. A key's prefix must match the kind it was created as."""
    if server_secret is not None and (presented or "").startswith("smms_"):
        return verify_session(store, str(presented), server_secret, now)
    m = _KEY.match(presented or "")
    key_id, secret = (m.group(2), m.group(3)) if m else ("0" * 12, "x" * 32)
    record = store.get_partner_key(key_id) if m else None
    expected = record.key_hash if record is not None else _DUMMY_HASH
    ok = hmac.compare_digest(expected, _hash(secret))
    if not ok or record is None or record.revoked or m is None:
        return None
    if KINDS[m.group(1)] != record.kind:
        return None
    return Principal(
        record.partner_id,
        record.key_id,
        record.scopes,
        record.origins,
        record.tier,
        kind=record.kind,
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _session_mac(server_secret: bytes, payload: str) -> str:
    mac = hmac.new(server_secret, f"session|{payload}".encode(), hashlib.sha256)
    return _b64(mac.digest()[:24])


def verify_session(
    store: Store, presented: str, server_secret: bytes, now: float | None = None
) -> Principal | None:
    """A session client secret (``smms_<payload>.<mac>``, minted by ``create_session``): the
    MAC must verify, it must not have expired, and the key that minted it must still be an
    active secret key of the partner (revoking that key ends its sessions too)."""
    m = _SESSION.match(presented)
    if m is None:
        return None
    if not hmac.compare_digest(m.group(2), _session_mac(server_secret, m.group(1))):
        return None
    try:
        d = json.loads(_unb64(m.group(1)))
        pid, kid, sid = str(d["p"]), str(d["k"]), str(d["s"])
        exp, ref = int(d["e"]), str(d.get("r") or "")
    except (ValueError, KeyError, TypeError):
        return None
    if exp <= (time.time() if now is None else now):
        return None
    record = store.get_partner_key(kid)
    if (
        record is None
        or record.revoked
        or record.partner_id != pid
        or record.kind != "secret"
    ):
        return None
    return Principal(
        pid,
        kid,
        BROWSER_SCOPES,
        record.origins,
        record.tier,
        kind="session",
        session_id=sid,
        reference=ref,
        expires=exp,
    )


def check_reference(value: str, pointer: str = "/reference") -> str:
    """The partner's own reference id: short, printable, no personal free text."""
    if not REFERENCE.fullmatch(value):
        raise InvalidInput(
            f"reference must have {REFERENCE_RULE}", [(pointer, REFERENCE_RULE)]
        )
    return value


def _origin(o: str) -> str:
    return o.strip().rstrip("/")


def _validate(
    name: str, scopes: Iterable[str], origins: Iterable[str], tier: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    errors: list[tuple[str, str]] = []
    if not name.strip() or len(name) > 100:
        errors.append(("/name", "1 to 100 characters"))
    sc = tuple(dict.fromkeys(s.strip() for s in scopes if s.strip()))
    if not sc or any(s not in SCOPES for s in sc):
        errors.append(("/scopes", f"one or more of {', '.join(SCOPES)}"))
    orig = tuple(dict.fromkeys(_origin(o) for o in origins if o.strip()))
    for o in orig:
        if o == "*" or not _ORIGIN.match(o):
            errors.append(
                ("/origins", f"{o!r} is not an origin like https://shop.example")
            )
    if tier not in TIERS:
        errors.append(("/tier", f"one of {', '.join(TIERS)}"))
    if errors:
        raise InvalidInput("invalid partner key settings", errors)
    return sc, orig


class PartnerService:
    def __init__(
        self, store: Store, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))
        self._origins: tuple[float, frozenset[str]] | None = None

    def create(
        self,
        name: str,
        scopes: Iterable[str],
        origins: Iterable[str] = (),
        tier: str = "free",
        partner_id: str | None = None,
        kind: str = "secret",
    ) -> tuple[str, PartnerKey]:
        """A new key (returned once, in full) and its stored record. A publishable key
        (``kind="publishable"``) may only submit, and needs at least one origin."""
        sc, orig = _validate(name, scopes, origins, tier)
        if kind not in PREFIX:
            raise InvalidInput(
                "invalid partner key settings", [("/type", "secret or publishable")]
            )
        if kind == "publishable":
            errors = []
            if set(sc) - set(BROWSER_SCOPES):
                errors.append(
                    ("/scopes", "a publishable key can only have the scope submit")
                )
            if not orig:
                errors.append(
                    ("/origins", "a publishable key needs at least one origin")
                )
            if errors:
                raise InvalidInput("invalid publishable key settings", errors)
        pid = partner_id or "p_" + secrets.token_hex(6)
        if partner_id is not None:
            active = [k for k in self.store.list_partner_keys(pid) if not k.revoked]
            if len(active) >= MAX_ACTIVE_KEYS:
                raise Conflict(
                    f"partner {pid} already has {MAX_ACTIVE_KEYS} active keys; revoke one first"
                )
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        record = PartnerKey(
            key_id=key_id,
            partner_id=pid,
            name=name.strip(),
            key_hash=_hash(secret),
            scopes=sc,
            origins=orig,
            tier=tier,
            created_at=self.clock().isoformat(timespec="seconds"),
            kind=kind,
        )
        self.store.put_partner_key(record)
        self._origins = None
        return f"{PREFIX[kind]}_{key_id}_{secret}", record

    def issue(
        self,
        caller: Principal,
        scopes: Iterable[str],
        origins: Iterable[str],
        name: str | None = None,
        kind: str = "secret",
    ) -> tuple[str, PartnerKey]:
        """A new key minted by a partner's own key (``POST /v1/partner/keys``): of the same
        partner and tier, with the requested scopes and origins, each of which the calling key
        must hold itself. The caller's stored record decides, not the authorizer's cached
        context, so a key revoked a moment ago cannot mint its own successor."""
        record = self.store.get_partner_key(caller.key_id)
        if record is None or record.revoked or record.partner_id != caller.partner_id:
            raise Forbidden(
                "the calling key is revoked",
                [("/headers/Authorization", "revoked key")],
            )
        wanted_scopes, wanted_origins = list(scopes), list(origins)
        sc, orig = _validate(
            record.name if name is None else name,
            wanted_scopes,
            wanted_origins,
            record.tier,
        )
        errors = [
            (f"/scopes/{i}", f"{s.strip()!r} is not a scope of the calling key")
            for i, s in enumerate(wanted_scopes)
            if s.strip() not in record.scopes
        ] + [
            (f"/origins/{i}", f"{_origin(o)!r} is not an origin of the calling key")
            for i, o in enumerate(wanted_origins)
            if o.strip() and _origin(o) not in record.origins
        ]
        if errors:
            raise Forbidden(
                "a new key cannot have more rights than the key that creates it", errors
            )
        return self.create(
            record.name if name is None else name,
            sc,
            orig,
            record.tier,
            partner_id=record.partner_id,
            kind=kind,
        )

    def create_session(
        self,
        caller: Principal,
        server_secret: bytes,
        reference: str | None = None,
        ttl_seconds: int = SESSION_TTL_SECONDS,
    ) -> dict[str, Any]:
        """A short-lived client secret for one visitor of the partner's page (Stripe's
        client-secret pattern), minted server side with a secret key: it can submit exactly
        one assessment (its session id is that submission's idempotency key), carries the
        partner's reference id, and expires after ``ttl_seconds``. Nothing is stored: it is
        signed with the server secret, and revoking the minting key ends it."""
        record = self.store.get_partner_key(caller.key_id)
        if record is None or record.revoked or record.partner_id != caller.partner_id:
            raise Forbidden(
                "the calling key is revoked",
                [("/headers/Authorization", "revoked key")],
            )
        if reference is not None:
            check_reference(reference)
        now = int(self.clock().timestamp())
        exp = now + ttl_seconds
        sid = "ses_" + secrets.token_hex(12)
        payload = _b64(
            json.dumps(
                {
                    "p": record.partner_id,
                    "k": record.key_id,
                    "s": sid,
                    "e": exp,
                    "r": reference,
                },
                separators=(",", ":"),
            ).encode()
        )
        return {
            "client_secret": f"smms_{payload}.{_session_mac(server_secret, payload)}",
            "session_id": sid,
            "partner_id": record.partner_id,
            "reference": reference,
            "expires_at": datetime.fromtimestamp(exp, UTC).isoformat(),
        }

    def rotate(
        self,
        key: str,
        scopes: Iterable[str] | None = None,
        origins: Iterable[str] | None = None,
        name: str | None = None,
    ) -> tuple[str, PartnerKey]:
        """Operator rotation: a second active key of the same partner and tier with the
        settings of the chosen key (``key``: its key id, or a partner id that has exactly one
        active key), or with the scopes, origins and name given. Revoke the old key once the
        partner has switched."""
        chosen = self.store.get_partner_key(key) if _KEY_ID.match(key) else None
        if chosen is None or chosen.revoked:
            active = [k for k in self.store.list_partner_keys(key) if not k.revoked]
            if not active:
                raise NotFound(
                    f"no active key or partner {key}", [("/key_id", "unknown")]
                )
            if len(active) > 1:
                ids = ", ".join(f"{k.key_id} ({' '.join(k.scopes)})" for k in active)
                raise InvalidInput(
                    f"partner {key} has {len(active)} active keys; name the one to "
                    f"rotate: {ids}",
                    [("/key_id", "ambiguous partner id")],
                )
            chosen = active[0]
        return self.create(
            chosen.name if name is None else name,
            chosen.scopes if scopes is None else scopes,
            chosen.origins if origins is None else origins,
            chosen.tier,
            partner_id=chosen.partner_id,
            kind=chosen.kind,
        )

    def revoke(self, key_id: str, partner_id: str | None = None) -> PartnerKey:
        record = self.store.get_partner_key(key_id)
        if record is None or (
            partner_id is not None and record.partner_id != partner_id
        ):
            raise NotFound("no such key", [("/key_id", "unknown key")])
        revoked = replace(record, revoked=True)
        self.store.put_partner_key(revoked)
        self._origins = None
        return revoked

    def list(self, partner_id: str | None = None) -> list[dict[str, Any]]:
        return [public(k) for k in self.store.list_partner_keys(partner_id)]

    def known_origin(self, origin: str | None, ttl: float = 60.0) -> bool:
        """Whether any active key allows this browser origin (for CORS preflight, which carries
        no key). Cached for ``ttl`` seconds."""
        if not origin:
            return False
        now = time.monotonic()
        if self._origins is None or now - self._origins[0] > ttl:
            allowed = frozenset(
                o
                for k in self.store.list_partner_keys(None)
                if not k.revoked
                for o in k.origins
            )
            self._origins = (now, allowed)
        return origin in self._origins[1]

    def partner_origins(self, partner_id: str) -> tuple[str, ...]:
        """Every origin registered by the partner's active keys (the embed page may be
        framed by these)."""
        return tuple(
            dict.fromkeys(
                o
                for k in self.store.list_partner_keys(partner_id)
                if not k.revoked
                for o in k.origins
            )
        )


def public(k: PartnerKey) -> dict[str, Any]:
    """A key record as shown to people: never the hash."""
    d = asdict(k)
    d.pop("key_hash")
    d["scopes"] = list(k.scopes)
    d["origins"] = list(k.origins)
    d["type"] = d.pop("kind")
    return d
