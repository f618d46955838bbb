"""Settings from the environment, read when first needed (never at import time)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    secret: bytes  # HMAC key for idempotent ids/tokens; SMM_SECRET in production
    k_min: int = 5  # minimum cohort size on every released figure
    global_shards: int = 4  # write shards of the global roll-up
    draft_ttl_days: int = 30
    max_body_bytes: int = 64 * 1024
    reference: bool = True  # serve the reference (synthetic) cohort

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            secret=_secret(),
            k_min=_int("BENCHMARK_MIN_COHORT", 5, 2, 1000),
            global_shards=_int("GLOBAL_SHARDS", 4, 1, 64),
            draft_ttl_days=_int("DRAFT_TTL_DAYS", 30, 1, 365),
            max_body_bytes=_int("MAX_BODY_BYTES", 64 * 1024, 1024, 6 * 1024 * 1024),
            reference=os.environ.get("REFERENCE_COHORT", "1")
            not in ("0", "false", "no"),
        )


def _int(name: str, default: int, lo: int, hi: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        v = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, not {raw!r}") from exc
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi}, not {v}")
    return v


def _secret() -> bytes:
    """SMM_SECRET, or for the embedded store a key generated once into the data directory."""
    env = os.environ.get("SMM_SECRET")
    if env:
        return env.encode()
    if os.environ.get("STORE", "sqlite").lower() != "sqlite":
        raise ValueError("SMM_SECRET must be set when STORE is not sqlite")
    base = Path(
        os.environ.get("DATA_DIR") or Path(__file__).resolve().parent.parent / "data"
    )
    base.mkdir(parents=True, exist_ok=True)
    path = base / "secret.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()
