"""The storage port: one protocol, two adapters (sqlite embedded default, dynamodb for AWS).

Adapters translate everything: records in and out, key building, storage errors to domain
errors. Both pass ``tests/integration/test_store_contract.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

METRIC_BINS = 101  # scores are integers 0..100; the phase metric uses bins 0..7


@dataclass(frozen=True)
class AssessmentRecord:
    """A stored assessment: option ids and scores only (never free text), cohort attributes,
    the hash of the result token (never the token)."""

    id: str
    questionnaire_id: str
    version: str
    language: str
    answers: dict[str, str]
    metrics: dict[str, int]
    result: dict[str, Any]
    industry: str | None
    size: str | None
    country: str | None
    region: str | None
    month: str  # YYYY-MM
    created_at: str  # ISO 8601, owner data only (never in aggregates)
    consent: bool
    included: bool  # counted in the benchmark aggregates
    exclusion_reasons: tuple[str, ...]
    token_hash: str
    request_hash: str
    partner_id: str | None = None
    previous_id: str | None = None
    source: str = "real"  # "real" or "reference"


@dataclass(frozen=True)
class Contribution:
    """What one included assessment adds to the benchmark aggregates: +1 to the count, +1 to
    one histogram bin per metric and +1 to its month, in every cohort roll-up it belongs to."""

    source: str
    questionnaire_id: str
    version: str
    cohorts: tuple[str, ...]
    metrics: dict[str, int]
    month: str

    def fields(self) -> dict[str, int]:
        out = {"count": 1, f"month#{self.month}": 1}
        for m, v in self.metrics.items():
            out[f"m#{m}#{v}"] = 1
        return out


@dataclass
class Aggregate:
    """Counters of one cohort item: n, a histogram per metric, submissions per month."""

    count: int = 0
    histograms: dict[str, dict[int, int]] = field(default_factory=dict)
    months: dict[str, int] = field(default_factory=dict)

    def add_field(self, name: str, value: int) -> None:
        if value == 0:
            return
        if name == "count":
            self.count += value
        elif name.startswith("month#"):
            self.months[name[6:]] = self.months.get(name[6:], 0) + value
        elif name.startswith("m#"):
            _, metric, b = name.split("#")
            h = self.histograms.setdefault(metric, {})
            h[int(b)] = h.get(int(b), 0) + value


@dataclass(frozen=True)
class Draft:
    id: str
    questionnaire_id: str
    version: str
    language: str
    answers: dict[str, str]
    updated_at: str
    expires_at: int  # epoch seconds (DynamoDB TTL attribute)


@dataclass(frozen=True)
class PartnerKey:
    key_id: str
    partner_id: str
    name: str
    key_hash: str
    scopes: tuple[str, ...]
    origins: tuple[str, ...]
    tier: str
    created_at: str
    revoked: bool = False
    webhook_url: str | None = None


class Store(Protocol):
    """What the service needs from storage. Writes are atomic and conditional."""

    def create_assessment(
        self, rec: AssessmentRecord, contribution: Contribution | None
    ) -> bool:
        """Store ``rec`` and apply ``contribution`` atomically. Return False (and change
        nothing) when an assessment with this id already exists."""

    def get_assessment(self, assessment_id: str) -> AssessmentRecord | None: ...

    def delete_assessment(
        self, rec: AssessmentRecord, contribution: Contribution | None
    ) -> bool:
        """Delete ``rec`` and subtract ``contribution`` atomically; False if already gone."""

    def read_cohorts(
        self, source: str, questionnaire_id: str, version: str, cohorts: Iterable[str]
    ) -> dict[str, Aggregate]:
        """Aggregates of the named cohorts (absent cohorts map to an empty Aggregate)."""

    def bulk_load(
        self, records: list[AssessmentRecord], contributions: list[Contribution]
    ) -> None:
        """Load many records and pre-summed contributions (seeding, benchmarks). Not atomic."""

    def put_draft(self, draft: Draft) -> None: ...

    def get_draft(self, draft_id: str, now: int) -> Draft | None: ...

    def delete_draft(self, draft_id: str) -> None: ...

    def put_partner_key(self, key: PartnerKey) -> None: ...

    def get_partner_key(self, key_id: str) -> PartnerKey | None: ...

    def list_partner_keys(self, partner_id: str | None = None) -> list[PartnerKey]: ...


def store_from_env() -> Store:
    """Build the configured store: STORE=sqlite (default) or STORE=dynamodb."""
    kind = os.environ.get("STORE", "sqlite").lower()
    if kind == "sqlite":
        from chalicelib.storage.sqlite import SqliteStore

        return SqliteStore(os.environ.get("SQLITE_PATH") or default_sqlite_path())
    if kind == "dynamodb":
        from chalicelib.storage.dynamodb import DynamoStore  # type: ignore[import-not-found,unused-ignore]

        store: Store = DynamoStore.from_env()
        return store
    raise ValueError(f"STORE must be 'sqlite' or 'dynamodb', not {kind!r}")


def default_sqlite_path() -> str:
    base = os.environ.get("DATA_DIR") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        "data",
    )
    return os.path.join(base, "smm.sqlite3")
