"""Settings from the environment, read when first needed (never at import time)."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

MIN_SECRET_LENGTH = 32  # characters of SMM_SECRET or of the generated key file
DEFAULT_RELEASE_SCHEDULE = "rate(1 hour)"
_RATE = re.compile(r"^rate\((\d{1,4}) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int:
    """Seconds between runs of a rate expression (``rate(1 hour)``, ``rate(15 minutes)``);
    a ValueError naming RELEASE_SCHEDULE for anything else (1 to 1 unit only singular)."""
    m = _RATE.match(expression.strip())
    if (
        not m
        or int(m.group(1)) < 1
        or (int(m.group(1)) == 1) != (not m.group(2).endswith("s"))
    ):
        raise ValueError(
            "RELEASE_SCHEDULE must be a rate expression such as 'rate(1 hour)' or"
            f" 'rate(15 minutes)', not {expression!r}"
        )
    return int(m.group(1)) * _UNIT_SECONDS[m.group(2).rstrip("s")]


def release_schedule() -> str:
    """RELEASE_SCHEDULE checked (read by Settings and, cheaply, by app.py's job)."""
    raw = (os.environ.get("RELEASE_SCHEDULE") or "").strip() or DEFAULT_RELEASE_SCHEDULE
    rate_seconds(raw)
    return raw


@dataclass(frozen=True)
class Settings:
    secret: bytes  # HMAC key for idempotent ids/tokens; SMM_SECRET in production
    k_min: int = 5  # minimum cohort size on every released figure
    global_shards: int = 4  # write shards of the global roll-up (new submissions)
    # the GLOBAL_SHARDS that records stored before they kept their own were counted with
    # (LEGACY_GLOBAL_SHARDS; 4, the historical default; docs/STORAGE.md, "Write shards")
    legacy_global_shards: int = 4
    draft_ttl_days: int = 30
    max_body_bytes: int = 64 * 1024
    reference: bool = True  # serve the reference (synthetic) cohort
    # fold the store's stream into the cell aggregates after each submission and erasure
    # (AGGREGATE_INLINE; on by default for the embedded store; docs/STORAGE.md)
    aggregate_inline: bool = True
    # how often a benchmark release is published (RELEASE_SCHEDULE, a Chalice/EventBridge
    # rate expression; the scheduled job in app.py uses the same; docs/RELEASES.md)
    release_schedule: str = DEFAULT_RELEASE_SCHEDULE

    @property
    def release_every_seconds(self) -> int:
        return rate_seconds(self.release_schedule)

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            secret=_secret(),
            k_min=_int("BENCHMARK_MIN_COHORT", 5, 2, 1000),
            global_shards=_int("GLOBAL_SHARDS", 4, 1, 64),
            legacy_global_shards=_int("LEGACY_GLOBAL_SHARDS", 4, 1, 64),
            draft_ttl_days=_int("DRAFT_TTL_DAYS", 30, 1, 365),
            max_body_bytes=_int("MAX_BODY_BYTES", 64 * 1024, 1024, 6 * 1024 * 1024),
            reference=os.environ.get("REFERENCE_COHORT", "1")
            not in ("0", "false", "no"),
            aggregate_inline=_flag(
                "AGGREGATE_INLINE",
                os.environ.get("STORE", "sqlite").lower() == "sqlite",
            ),
            release_schedule=release_schedule(),
        )


@dataclass(frozen=True)
class SiteSettings:
    """What the web page shows of the operator: the imprint and privacy-policy links German
    companies expect (``IMPRINT_URL``, ``PRIVACY_URL``: https:// URLs, shown in the footer)
    and the cohort size k the consent text names. Needs no secret."""

    imprint_url: str | None = None
    privacy_url: str | None = None
    k_min: int = 5

    @classmethod
    def from_env(cls) -> SiteSettings:
        return cls(
            imprint_url=_https("IMPRINT_URL"),
            privacy_url=_https("PRIVACY_URL"),
            k_min=_int("BENCHMARK_MIN_COHORT", 5, 2, 1000),
        )


def _https(name: str) -> str | None:
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return None
    from chalicelib.branding import check_https_url

    errors: list[tuple[str, str]] = []
    value = check_https_url(raw, name, errors)
    if value is None:
        raise ValueError(f"{name} must be {errors[0][1]}, not {raw!r}")
    return value


def _flag(name: str, default: bool) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be 1 or 0, not {raw!r}")


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
    """SMM_SECRET, or for the embedded store a key generated once into the data directory.
    Either must have at least MIN_SECRET_LENGTH characters: an empty or short key would make
    result tokens forgeable."""
    env = os.environ.get("SMM_SECRET")
    if env is not None:
        value = env.strip()
        if len(value) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"SMM_SECRET must have at least {MIN_SECRET_LENGTH} characters, not"
                f" {len(value)} (e.g. python -c 'import secrets;"
                " print(secrets.token_urlsafe(48))'); unset it to use the generated"
                " key of the embedded store"
            )
        return value.encode()
    if os.environ.get("STORE", "sqlite").lower() != "sqlite":
        raise ValueError("SMM_SECRET must be set when STORE is not sqlite")
    base = Path(
        os.environ.get("DATA_DIR") or Path(__file__).resolve().parent.parent / "data"
    )
    base.mkdir(parents=True, exist_ok=True)
    return _secret_file(base / "secret.key")


def _secret_file(path: Path) -> bytes:
    """The key in ``path``, created if missing. The new key is written and synced to a
    private temporary file first and then hard-linked to ``path``, which fails if the name
    exists: a reader sees no file or the whole key, and of several processes creating it at
    once exactly one wins and all use its key."""
    if not path.exists():
        fd, tmp = tempfile.mkstemp(prefix=".secret-", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as f:  # mkstemp: mode 0600
                f.write(secrets.token_urlsafe(48) + "\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process was first: use its key
            except OSError as exc:  # a file system without hard links
                raise ValueError(
                    f"cannot create {path} atomically ({exc}); set SMM_SECRET instead"
                ) from exc
        finally:
            os.unlink(tmp)
    value = path.read_text().strip()
    if len(value) < MIN_SECRET_LENGTH:
        raise ValueError(
            f"{path} holds a key of {len(value)} characters, fewer than"
            f" {MIN_SECRET_LENGTH}: tokens signed with it are forgeable. Delete the file to"
            " generate a new key (result tokens issued so far stop working) or set"
            " SMM_SECRET"
        )
    return value.encode()
