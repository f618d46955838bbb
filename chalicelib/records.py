"""Domain records: what the service stores and reads back, independent of any store.

Plain frozen dataclasses (an assessment, a draft, a partner key, a webhook endpoint and its
deliveries, an idempotency key, a rate window, a listing query) plus the benchmark's counter
values: the ``Contribution`` of one submission, its typed ``Deltas`` and the ``Aggregate``
counters of one cohort item. How they are encoded is the adapters' business
(chalicelib/storage/codec.py); nothing here knows a storage format.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

METRIC_BINS = 101  # scores are integers 0..100
# Benchmark populations: every included submission counts in ``all``; one whose answer to the
# questionnaire's population question says it uses social media also counts in ``users``.
POPULATION_ALL = "all"
POPULATION_USERS = "users"
POPULATIONS = (POPULATION_USERS, POPULATION_ALL)
_SMALL_METRICS = {"phase": 8, "pyramid_level": 6}  # phases 0..7, pyramid levels 0..5


def metric_bins(metric: str) -> int:
    """Histogram bins of a metric: 101 for a 0..100 score, 8 for the phase, 6 for the
    pyramid level. Fixed sizes keep every stored aggregate item the same size."""
    return _SMALL_METRICS.get(metric, METRIC_BINS)


def aggregate_key(population: str, cohort: str) -> str:
    """The stored key of one cohort item of one population. ``all`` keeps the plain cohort
    key of the layout before populations existed, so aggregates stored then are read as
    ``all``; other populations are prefixed (``users:C#50-249#dach``)."""
    if population == POPULATION_ALL:
        return cohort
    if population not in POPULATIONS:
        raise ValueError(f"unknown population {population!r}")
    return f"{population}:{cohort}"


SHARD_MARK = (
    "#s"  # a write-sharded cohort's items: ``<cohort key>#s<shard>`` (``*#*#*#s3``)
)


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
    # the population question's verdict when it was stored (None: unknown, or a record of the
    # layout before populations, which counted in ``all`` only): erasure subtracts exactly
    # from the populations the submission was added to
    uses_social_media: bool | None = None
    # the partner's own reference id (CRM or order id) sent with a partner submission:
    # owner data only, returned to that partner and in its webhook event, never aggregated
    partner_ref: str | None = None
    # GLOBAL_SHARDS when it was counted, so erasure subtracts from the very shard it was
    # added to whatever the setting is now (None: a record stored before the field existed,
    # counted with ``Settings.legacy_global_shards``; docs/STORAGE.md, "Write shards")
    global_shards: int | None = None


@dataclass(frozen=True)
class Contribution:
    """What one included assessment adds to the benchmark aggregates: +1 to the count, +1 to
    one histogram bin per metric and +1 to its month, in every cohort roll-up it belongs to,
    in each of its ``populations`` (``all``, and ``users`` for an organisation that uses
    social media)."""

    source: str
    questionnaire_id: str
    version: str
    cohorts: tuple[str, ...]
    metrics: dict[str, int]
    month: str
    populations: tuple[str, ...] = (POPULATION_ALL,)

    def item_keys(self) -> tuple[str, ...]:
        """Every aggregate item this contribution adds to (each once)."""
        return tuple(
            dict.fromkeys(
                aggregate_key(p, c) for p in self.populations for c in self.cohorts
            )
        )

    def deltas(self, sign: int = 1) -> Deltas:
        """What this contribution adds to each of its items (``sign=-1``: erasure)."""
        return Deltas(
            count=sign,
            months={self.month: sign},
            bins={m: {v: sign} for m, v in self.metrics.items()},
        )


@dataclass
class Deltas:
    """Counter changes of one aggregate item: ``count``, submissions per month and, per
    metric, ``{value: change}``. One submission is +1 everywhere it counts; bulk loads sum
    many (``add``); erasure negates. Adapters encode these as their own counters."""

    count: int = 0
    months: dict[str, int] = field(default_factory=dict)
    bins: dict[str, dict[int, int]] = field(default_factory=dict)

    def add(self, other: Deltas) -> None:
        """Add every change of ``other`` (in place)."""
        self.count += other.count
        for mo, d in other.months.items():
            self.months[mo] = self.months.get(mo, 0) + d
        for m, h in other.bins.items():
            mine = self.bins.setdefault(m, {})
            for v, d in h.items():
                mine[v] = mine.get(v, 0) + d

    def negated(self) -> Deltas:
        return Deltas(
            count=-self.count,
            months={mo: -d for mo, d in self.months.items()},
            bins={m: {v: -d for v, d in h.items()} for m, h in self.bins.items()},
        )


@dataclass
class Aggregate:
    """Counters of one cohort item: n, a dense histogram per metric (``bins[metric][value]``,
    ``metric_bins(metric)`` long), submissions per month.

    Dense lists keep summing items and reading them independent of how many submissions
    (and so how many distinct values) they hold; ``histograms`` is the sparse view the
    statistics use, built once per aggregate on first access."""

    count: int = 0
    bins: dict[str, list[int]] = field(default_factory=dict)
    months: dict[str, int] = field(default_factory=dict)
    _sparse: dict[str, dict[int, int]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def histograms(self) -> dict[str, dict[int, int]]:
        """``{metric: {value: count}}`` without empty bins."""
        if self._sparse is None:
            self._sparse = {
                m: {b: v for b, v in enumerate(h) if v} for m, h in self.bins.items()
            }
        return self._sparse

    def _dense(self, metric: str, size: int) -> list[int]:
        h = self.bins.get(metric)
        if h is None:
            h = self.bins[metric] = [0] * max(size, metric_bins(metric))
        elif len(h) < size:
            h.extend([0] * (size - len(h)))
        self._sparse = None
        return h

    def add_deltas(self, deltas: Deltas) -> None:
        """Apply counter changes (zero changes leave no trace: no empty month appears)."""
        self.count += deltas.count
        for mo, d in deltas.months.items():
            if d:
                self.months[mo] = self.months.get(mo, 0) + d
        for m, h in deltas.bins.items():
            nonzero = {v: d for v, d in h.items() if d}
            if nonzero:
                self.add_bins(m, nonzero)

    def add_bins(self, metric: str, bins: Mapping[int, int]) -> None:
        """Add sparse ``{value: count}`` bins to a metric's histogram."""
        h = self._dense(metric, max(bins, default=-1) + 1)
        for b, value in bins.items():
            h[b] += value

    def add_dense(self, metric: str, counts: list[int]) -> None:
        """Add a dense histogram (index = value) to a metric's histogram."""
        h = self._dense(metric, len(counts))
        if len(h) == len(counts):
            h[:] = map(operator.add, h, counts)
        else:
            for b, value in enumerate(counts):
                h[b] += value

    def add(self, other: Aggregate) -> None:
        """Add every counter of ``other`` (summing the shards of a roll-up)."""
        self.count += other.count
        for m, h in other.bins.items():
            self.add_dense(m, h)
        for mo, v in other.months.items():
            self.months[mo] = self.months.get(mo, 0) + v


@dataclass(frozen=True)
class Draft:
    id: str
    questionnaire_id: str
    version: str
    language: str
    answers: dict[str, str]
    updated_at: str
    expires_at: int  # epoch seconds (DynamoDB TTL attribute)
    elapsed_seconds: int = 0  # time spent so far, across sessions (older drafts: 0)


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
    # "secret" (smmk_, server side) or "publishable" (smmp_, for browsers: only starts and
    # submits assessments, only from its origins; chalicelib/partners.py)
    kind: str = "secret"


@dataclass(frozen=True)
class WebhookSecret:
    """One signing secret of an endpoint. Only this random ``id`` is stored: the secret is
    derived from it and the server secret (chalicelib/webhooks.py), so a copy of the table
    alone signs nothing. ``id == ""`` is the secret derived before rotation existed.
    ``expires_at`` (epoch seconds) is set when a newer secret replaces it: until then
    deliveries carry its signature too (the rotation's grace period)."""

    id: str
    created_at: int
    expires_at: int | None = None


@dataclass(frozen=True)
class Webhook:
    """A partner's endpoint for events (one per partner). ``secrets``: newest first (empty
    in records written before rotation: the derived secret ``id == ""``). ``disabled_at``:
    set when the endpoint answered 410 Gone; registering it again clears it."""

    partner_id: str
    url: str
    created_at: str
    secrets: tuple[WebhookSecret, ...] = ()
    disabled_at: str | None = None
    disabled_reason: str | None = None


@dataclass(frozen=True)
class Delivery:
    """One event for one partner and every attempt to deliver it. ``state`` is ``pending``
    (``next_at`` is when to try next, epoch seconds), ``delivered`` or ``failed`` (retries
    exhausted). ``body`` is the exact JSON sent, so every attempt signs the same bytes."""

    id: str
    partner_id: str
    event_type: str
    body: str
    created_at: int  # epoch seconds
    state: str = "pending"
    attempts: int = 0
    next_at: int = 0
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: int | None = None


@dataclass(frozen=True)
class IdempotencyKey:
    """An Idempotency-Key in use (Stripe semantics: kept 24 h from its
    first use). ``key_id`` is an HMAC of the client namespace and the key, never the key
    itself; ``expires_at`` (epoch seconds) is also the DynamoDB TTL attribute."""

    key_id: str
    assessment_id: str
    created_at: int
    expires_at: int


@dataclass(frozen=True)
class RateWindow:
    """One fixed window of a rate-limit policy: at most ``limit`` requests of a subject (a
    partner) from ``start`` (inclusive) to ``end`` (exclusive), epoch seconds."""

    policy: str
    start: int
    end: int
    limit: int


@dataclass(frozen=True)
class AssessmentQuery:
    """A page of one partner's assessments, newest first (``created_at`` descending, then
    id descending). ``after`` is the (created_at, id) of the previous page's last item;
    ``since``/``until`` are ISO 8601 UTC strings like ``created_at`` ([since, until))."""

    partner_id: str
    limit: int = 20
    after: tuple[str, str] | None = None
    since: str | None = None
    until: str | None = None
    questionnaire: str | None = None
    version: str | None = None
    phase: int | None = None
    included: bool | None = None

    def matches(self, rec: AssessmentRecord) -> bool:
        """The filters other than the partner (adapters may apply some in the query)."""
        return (
            rec.partner_id == self.partner_id
            and (self.since is None or rec.created_at >= self.since)
            and (self.until is None or rec.created_at < self.until)
            and (
                self.questionnaire is None or rec.questionnaire_id == self.questionnaire
            )
            and (self.version is None or rec.version == self.version)
            and (self.phase is None or rec.result.get("phase") == self.phase)
            and (self.included is None or rec.included == self.included)
            and (self.after is None or (rec.created_at, rec.id) < self.after)
        )
