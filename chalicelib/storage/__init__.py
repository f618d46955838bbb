"""The storage port: one protocol, two adapters (sqlite embedded default, dynamodb for AWS).

Adapters translate everything: records (chalicelib/records.py) in and out through one codec
(``codec.py``), key building, storage errors to domain errors. Both pass
``tests/integration/test_store_contract.py``; docs/STORAGE.md describes the stored layout.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # records are imported from chalicelib.records, never from here
    from chalicelib.aggregation import AggregationRun, CellKey, CohortState, Grid
    from chalicelib.organisations import (
        Organisation,
        Respondent,
        RespondentAnswers,
        Round,
    )
    from chalicelib.records import (
        AssessmentQuery,
        AssessmentRecord,
        Contribution,
        Delivery,
        Draft,
        IdempotencyKey,
        PartnerKey,
        RateWindow,
        Webhook,
    )
    from chalicelib.releases.model import Cell, Release, ReleaseHeader
    from chalicelib.roadmap import Target


@runtime_checkable
class AggregateStore(Protocol):
    """Issue 15: the stream side of a store (docs/RELEASES.md). A stored or erased
    assessment emits one stream record (``aggregation.image_of`` is its image): SQLite in an
    outbox row written in the same transaction, DynamoDB through the table's stream. The
    fold (``aggregation.fold``) turns them into one ``CohortState`` per (grid, cell), with
    the per-shard checkpoints in the same item, exactly once."""

    def aggregate_pending(self, limit: int = 1000) -> AggregationRun:
        """Fold up to ``limit`` pending stream records into the cell aggregates (SQLite: the
        outbox; DynamoDB: every shard of the table's stream, from its checkpoint). Safe to
        run concurrently with itself and to repeat: nothing is applied twice."""

    def read_grid(self, grid: Grid) -> dict[CellKey, CohortState]:
        """Every cell aggregate of one grid (roll-ups included), without reading
        assessments: the input of ``releases.build_release``."""

    def list_grids(self) -> list[Grid]:
        """Every grid that has at least one cell aggregate."""


class ReleaseStore(Protocol):
    """Issue 15: stored benchmark releases. A release is written whole (header and one item
    per cell) under its id before the grid's latest pointer moves to it, so a reader never
    sees half a release; old releases stay readable by id."""

    def put_release(self, release: Release) -> ReleaseHeader:
        """Store ``release`` (its ``grid`` must be set, else ValueError) and make it the
        grid's latest; ``errors.Conflict`` and nothing written when the grid already has a
        release with that id."""

    def latest_release(self, grid: Grid) -> ReleaseHeader | None: ...

    def read_release_cells(
        self, grid: Grid, release_id: str, cells: Iterable[CellKey]
    ) -> dict[CellKey, Cell]:
        """The named cells of one release (absent cells are missing from the result); one
        request (one SQL query, one BatchGetItem) whatever the release's size."""

    def read_release(self, grid: Grid, release_id: str) -> Release | None:
        """A whole release (the ``previous`` of the next build)."""

    def list_releases(self, grid: Grid, limit: int = 20) -> list[ReleaseHeader]:
        """The grid's releases, newest first."""


class Store(AggregateStore, ReleaseStore, Protocol):
    """What the service needs from storage. Writes are atomic and conditional. Every store
    is also an ``AggregateStore`` (the stream side) and a ``ReleaseStore`` (issue 15): both
    adapters implement them, so mypy checks them as part of this protocol."""

    def create_assessment(
        self,
        rec: AssessmentRecord,
        contribution: Contribution | None,
        delivery: Delivery | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> bool:
        """Store ``rec``, queue ``delivery`` (a webhook event, the
        outbox) and take ``idempotency`` atomically. Return False (and change nothing) when
        an assessment with this id already exists, or when ``idempotency.key_id`` is held by
        an entry that has not expired at ``idempotency.created_at``. The stream record of an
        included ``rec`` is emitted with it (SQLite: the outbox row in the same
        transaction; DynamoDB: the table's stream). ``contribution`` is not written by
        either adapter (the stream image comes from ``rec``; no roll-ups any more)."""

    def get_idempotency_key(self, key_id: str) -> IdempotencyKey | None:
        """The stored entry (possibly expired: compare ``expires_at``), or None."""

    def list_partner_assessments(
        self, query: AssessmentQuery
    ) -> list[AssessmentRecord]:
        """Up to ``query.limit`` of the partner's assessments matching ``query``, newest
        first (ties: id descending)."""

    def take_rate(
        self, subject: str, windows: tuple[RateWindow, ...]
    ) -> tuple[bool, tuple[int, ...]]:
        """Atomically count one request of ``subject`` in every window if each is below its
        limit: ``(True, counts after it)``; otherwise count nothing: ``(False, counts)``
        where a refused window's count is its limit (others may be reported as 0)."""

    def get_assessment(self, assessment_id: str) -> AssessmentRecord | None: ...

    def delete_assessment(
        self, rec: AssessmentRecord, contribution: Contribution | None
    ) -> bool:
        """Delete ``rec`` atomically; False if already gone.
        The removal's stream record (old image: the stored record) is emitted with it."""

    def clear_aggregates(self, source: str, questionnaire_id: str, version: str) -> int:
        """Empty every cell aggregate (all populations) of one source and questionnaire
        version, e.g. to replace the reference cohort, after folding what is pending: the
        removal of everyone counted, so ``changes`` and ``removals`` only grow. Returns the
        number of cells emptied (those that counted anyone). Not atomic on DynamoDB; never
        used for real submissions by the service."""

    def bulk_load(
        self, records: list[AssessmentRecord], contributions: list[Contribution]
    ) -> None:
        """Load many records and pre-summed contributions (seeding, benchmarks) and add the
        contributions to the cell aggregates (SQLite: through the outbox, folded in the
        same transaction; DynamoDB: directly). Not atomic on DynamoDB."""

    def put_draft(self, draft: Draft) -> None: ...

    def get_draft(self, draft_id: str, now: int) -> Draft | None: ...

    def delete_draft(self, draft_id: str) -> None: ...

    def put_partner_key(self, key: PartnerKey) -> None: ...

    def get_partner_key(self, key_id: str) -> PartnerKey | None: ...

    def list_partner_keys(self, partner_id: str | None = None) -> list[PartnerKey]: ...

    def put_webhook(self, hook: Webhook) -> None: ...

    def put_branding(self, partner_id: str, branding: dict[str, Any]) -> None:
        """Insert or replace a partner's white-label settings (chalicelib/branding.py)."""

    def get_branding(self, partner_id: str) -> dict[str, Any] | None: ...

    def delete_branding(self, partner_id: str) -> None: ...

    def get_webhook(self, partner_id: str) -> Webhook | None: ...

    def delete_webhook(self, partner_id: str) -> None: ...

    def put_delivery(self, delivery: Delivery) -> None:
        """Insert or replace a delivery (keyed by partner and id)."""

    def list_deliveries(
        self, partner_id: str, limit: int = 20, before: tuple[int, str] | None = None
    ) -> list[Delivery]:
        """The partner's most recent deliveries, newest first (created_at, then id,
        descending); ``before``: only those after this (created_at, id) in that order."""

    def due_deliveries(self, now: int, limit: int = 50) -> list[Delivery]:
        """Pending deliveries whose ``next_at`` has come, oldest due first."""

    def get_delivery(self, partner_id: str, delivery_id: str) -> Delivery | None:
        """One of the partner's deliveries by id (None for another partner's)."""


class OrganisationStore(Protocol):
    """Issue 18: organisation workspaces (chalicelib/organisations.py, docs/ORGANISATIONS.md).
    Everything of one organisation lives under its id (SQLite: rows keyed by it; DynamoDB:
    one partition ``ORG#<id>``), so erasing it removes every respondent's data. Writes that
    depend on the open round are conditional on it in the same atomic write."""

    def create_organisation(self, org: Organisation) -> bool:
        """Store a new organisation; False (nothing changed) when its id exists."""

    def get_organisation(self, organisation_id: str) -> Organisation | None: ...

    def list_partner_organisations(self, partner_id: str) -> list[Organisation]:
        """The organisations a partner created, oldest first (created_at, then id)."""

    def add_respondent(self, respondent: Respondent) -> bool:
        """Store a new respondent of an existing organisation; False when the organisation
        is gone or the respondent id exists."""

    def get_respondent(
        self, organisation_id: str, respondent_id: str
    ) -> Respondent | None: ...

    def list_respondents(self, organisation_id: str) -> list[Respondent]:
        """Every respondent of the organisation, oldest first (created_at, then id)."""

    def put_respondent_answers(self, answers: RespondentAnswers) -> bool:
        """Insert or replace a respondent's answers of ``answers.round``, only while that
        round is the organisation's open round (False otherwise, nothing changed)."""

    def get_respondent_answers(
        self, organisation_id: str, respondent_id: str, round_number: int
    ) -> RespondentAnswers | None: ...

    def list_respondent_answers(
        self, organisation_id: str, round_number: int
    ) -> list[RespondentAnswers]:
        """Every respondent's answers of one round (drafts included)."""

    def close_round(self, closed: Round) -> bool:
        """Store ``closed`` and advance the open round from ``closed.number`` to the next,
        atomically; False (nothing changed) when that round is not open any more."""

    def list_rounds(self, organisation_id: str) -> list[Round]:
        """The closed rounds, oldest first."""

    def put_target(self, organisation_id: str, target: Target) -> bool:
        """Store (replace) the organisation's target and its step assignments; False
        (nothing changed) when the organisation is gone or being erased."""

    def get_target(self, organisation_id: str) -> Target | None: ...

    def delete_organisation(self, organisation_id: str) -> int:
        """Delete the organisation, its respondents, their answers, its rounds and its
        target; the number of items removed (0: it did not exist)."""


def store_from_env() -> Store:
    """Build the configured store: STORE=sqlite (default) or STORE=dynamodb."""
    kind = os.environ.get("STORE", "sqlite").lower()
    if kind == "sqlite":
        from chalicelib.storage.sqlite import SqliteStore

        return SqliteStore(os.environ.get("SQLITE_PATH") or default_sqlite_path())
    if kind == "dynamodb":
        from chalicelib.storage.dynamodb import DynamoStore

        store: Store = DynamoStore.from_env()
        return store
    raise ValueError(f"STORE must be 'sqlite' or 'dynamodb', not {kind!r}")


def default_sqlite_path() -> str:
    base = os.environ.get("DATA_DIR") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        "data",
    )
    return os.path.join(base, "smm.sqlite3")
