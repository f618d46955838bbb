"""Embedded SQLite adapter: the zero-setup default store (a file under ``data/``).

Every write is one SQLite transaction, so an assessment and its stream record (the outbox
row below) are stored together or not at all. There are no roll-up tables: benchmark
counters live only in the cell aggregates, and benchmarks are read from releases.

Stream aggregation (issue 15, docs/RELEASES.md): every insert and erasure of an included
assessment also writes one row to ``stream_outbox`` in its own transaction (the image of
``aggregation.image_of``), so the outbox is the store's stream: ``seq`` (AUTOINCREMENT, never
reused) is the sequence number of the one shard ``"sqlite"``. ``aggregate_pending`` folds
the oldest rows with ``aggregation.fold`` into ``cell_aggregates`` (one row per grid and
cell: ``codec.cohort_state_to_json``, checkpoints included) and deletes them, in one
``BEGIN IMMEDIATE`` transaction; a row the fold refuses moves to ``stream_dead_letters``
with the reason. Excluded assessments contribute nothing and write no row. A file of an
older layout has its legacy roll-up tables (``aggregates``, ``cohort_aggregates``) read once
for the record-less reference cells and then dropped (docs/STORAGE.md, "Existing files").

Faults a retry can outlast (the write lock held past the busy timeout, a full disk, a
read-only file, an I/O error) raise ``Unavailable`` (503 with Retry-After) after the original
SQLite error is logged; the transaction is rolled back, so nothing is half-written. Any other
SQLite error (a broken query, a corrupt file) propagates unchanged."""

from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from chalicelib.aggregation import (
    INSERT,
    REMOVE,
    AggregateKey,
    AggregationRun,
    CellKey,
    CohortState,
    Grid,
    MalformedRecord,
    fold,
    image_of,
    parse_record,
    record_keys,
)
from chalicelib.cohorts import Cohort
from chalicelib.errors import Unavailable
from chalicelib.records import (
    POPULATION_ALL,
    AssessmentQuery,
    AssessmentRecord,
    Contribution,
    Delivery,
    Draft,
    IdempotencyKey,
    PartnerKey,
    RateWindow,
    Webhook,
    metric_bins,
)
from chalicelib.storage import codec
from chalicelib.storage.sqlite_organisations import SqliteOrganisations
from chalicelib.storage.sqlite_releases import SqliteReleases

_SCHEMA = """
CREATE TABLE IF NOT EXISTS assessments (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS drafts (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhooks (
    partner_id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    state TEXT NOT NULL,
    next_at INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (partner_id, id)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_at);
CREATE INDEX IF NOT EXISTS deliveries_recent ON deliveries (partner_id, created_at);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key_id TEXT PRIMARY KEY,
    assessment_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rate_counters (
    subject TEXT NOT NULL,
    policy TEXT NOT NULL,
    start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (subject, policy, start)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS brandings (
    partner_id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS partner_keys (
    key_id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stream_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL,
    op TEXT NOT NULL,
    old_image TEXT,
    new_image TEXT
);
CREATE TABLE IF NOT EXISTS stream_dead_letters (
    seq INTEGER PRIMARY KEY,
    item_id TEXT NOT NULL,
    op TEXT NOT NULL,
    old_image TEXT,
    new_image TEXT,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cell_aggregates (
    source TEXT NOT NULL,
    questionnaire TEXT NOT NULL,
    version TEXT NOT NULL,
    cell TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (source, questionnaire, version, cell)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS store_meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

STREAM_SHARD = "sqlite"  # the outbox is one ordered stream shard
# sources stored as pre-summed aggregates only (no assessment records): their cells are
# built from the legacy roll-ups when an existing file gets the stream tables
_RECORDLESS_SOURCES = ("reference",)
_IN_CHUNK = 400  # cells per IN (...) list (SQLite's default limit is 999 variables)

logger = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

# Primary result codes of faults that pass (or that an operator fixes) without a code change,
# with the Retry-After (seconds) to suggest: the lock is released within a request or two;
# a full disk or a read-only file needs someone to act.
_RETRY_AFTER = {
    sqlite3.SQLITE_BUSY: 1,
    sqlite3.SQLITE_LOCKED: 1,
    sqlite3.SQLITE_PROTOCOL: 1,
    sqlite3.SQLITE_NOMEM: 5,
    sqlite3.SQLITE_IOERR: 5,
    sqlite3.SQLITE_FULL: 30,
    sqlite3.SQLITE_READONLY: 30,
    sqlite3.SQLITE_CANTOPEN: 30,
}


def _retry_after(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else _RETRY_AFTER.get(code & 0xFF)


def _faults_unavailable(fn: F) -> F:
    """Turn the transient SQLite faults of a store operation into ``Unavailable``, logging
    the original error (the problem document does not disclose it)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except sqlite3.Error as exc:
            retry_after = _retry_after(exc)
            if retry_after is None:
                raise
            logger.error(
                "sqlite %s failed: %s (%s)",
                fn.__name__,
                exc,
                getattr(exc, "sqlite_errorname", "?"),
                exc_info=exc,
            )
            raise Unavailable(
                "storage is temporarily unavailable, please retry",
                retry_after=retry_after,
            ) from exc

    return wrapper  # type: ignore[return-value]


def _rollback(c: sqlite3.Connection) -> None:
    """Undo the open transaction, if SQLite has not already rolled it back itself (it does on
    SQLITE_FULL, for one): a failing ROLLBACK must never replace the error that caused it."""
    if not c.in_transaction:
        return
    try:
        c.execute("ROLLBACK")
    except sqlite3.Error as exc:
        logger.warning("sqlite rollback failed: %s", exc)


def _dumps_image(image: dict[str, Any]) -> str:
    return json.dumps(image, separators=(",", ":"), sort_keys=True)


def _loads_image(text: str | None) -> Any:
    """A stored image; text that is not JSON comes back as the string, which the fold
    refuses as malformed (a dead letter) instead of failing the whole batch."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _emit(
    c: sqlite3.Connection,
    op: str,
    item_id: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
) -> None:
    """One stream record, in the caller's transaction."""
    c.execute(
        "INSERT INTO stream_outbox (item_id, op, old_image, new_image)"
        " VALUES (?, ?, ?, ?)",
        (
            item_id,
            op,
            None if old is None else _dumps_image(old),
            None if new is None else _dumps_image(new),
        ),
    )


def _refusal(raw: dict[str, Any]) -> str:
    """Why the fold refused a record (it reports only the id)."""
    try:
        parse_record(raw)
    except MalformedRecord as exc:
        return f"malformed: {exc}"
    return "a counter would go negative (a removal of something never added)"


def _write_states(
    c: sqlite3.Connection, states: dict[AggregateKey, CohortState]
) -> None:
    c.executemany(
        "INSERT OR REPLACE INTO cell_aggregates"
        " (source, questionnaire, version, cell, body) VALUES (?, ?, ?, ?, ?)",
        [
            (
                g.source,
                g.questionnaire_id,
                g.version,
                cell.key,
                codec.cohort_state_to_json(state),
            )
            for (g, cell), state in states.items()
        ],
    )


_LEGACY_ROLLUPS = ("aggregates", "cohort_aggregates")  # roll-up tables before issue 15


def _tables(c: sqlite3.Connection) -> set[str]:
    return {
        r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }


def _legacy_cells(
    c: sqlite3.Connection, sources: Iterable[str]
) -> dict[AggregateKey, CohortState]:
    """Cell aggregates summed from the legacy roll-ups of ``sources`` in a file written
    before the stream existed (empty when it has none): ``cohort_aggregates`` rows (JSON
    bodies; shard rows of the global roll-up added up) and rows of the first layout
    (``aggregates``: one row per counter). Every counted organisation is one change."""
    tables = _tables(c)
    out: dict[AggregateKey, CohortState] = {}

    def add(source: str, questionnaire: str, version: str, stored: str) -> CohortState:
        population, sep, cohort = stored.partition(":")
        if not sep:
            population, cohort = POPULATION_ALL, stored
        key = (
            Grid(source, questionnaire, version),
            CellKey(population, Cohort.from_key(cohort)),
        )
        return out.setdefault(key, CohortState())

    def fill(
        state: CohortState, count: int, months: dict[str, int], bins: dict[str, Any]
    ) -> None:
        state.count += count
        state.changes += count
        for month, v in months.items():
            if v:
                state.months[month] = state.months.get(month, 0) + v
        for metric, h in bins.items():
            dense = state.bins.setdefault(metric, [0] * metric_bins(metric))
            for b, v in h.items():
                dense[b] += v

    for source in sources:
        if "cohort_aggregates" in tables:
            for questionnaire, version, stored, body in c.execute(
                "SELECT questionnaire, version, cohort, body FROM cohort_aggregates"
                " WHERE source = ?",
                (source,),
            ).fetchall():
                item = json.loads(body)
                hists = {m: dict(enumerate(h)) for m, h in item["histograms"].items()}
                fill(
                    add(source, questionnaire, version, stored),
                    item["count"],
                    item["months"],
                    hists,
                )
        if "aggregates" in tables:
            rows: dict[tuple[str, str, str], list[tuple[str, int]]] = {}
            for questionnaire, version, stored, name, value in c.execute(
                "SELECT questionnaire, version, cohort, field, value FROM aggregates"
                " WHERE source = ?",
                (source,),
            ):
                rows.setdefault((questionnaire, version, stored), []).append(
                    (name, value)
                )
            for (questionnaire, version, stored), counters in rows.items():
                d = codec.deltas_from_counters(counters)
                fill(
                    add(source, questionnaire, version, stored),
                    d.count,
                    d.months,
                    d.bins,
                )
    return out


class SqliteStore(SqliteOrganisations, SqliteReleases):
    """Store adapter on one SQLite file; safe to share between threads of one process."""

    @_faults_unavailable
    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._local = threading.local()
        c = self._conn()
        c.executescript(_SCHEMA)
        self._create_organisation_tables(c)  # issue 18: sqlite_organisations.py
        self._create_release_tables(c)  # issue 15: sqlite_releases.py
        self._index_partner_assessments(c)
        self._start_stream(c)
        self._drop_legacy_rollups(c)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @_faults_unavailable
    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @staticmethod
    def _index_partner_assessments(c: sqlite3.Connection) -> None:
        """Partner and creation time as columns, for listing a partner's assessments newest
        first; files written before get them from the stored JSON, once."""
        columns = {r[1] for r in c.execute("PRAGMA table_info(assessments)")}
        if "partner_id" not in columns:
            c.execute("BEGIN IMMEDIATE")
            try:
                c.execute("ALTER TABLE assessments ADD COLUMN partner_id TEXT")
                c.execute("ALTER TABLE assessments ADD COLUMN created_at TEXT")
                c.execute(
                    "UPDATE assessments SET partner_id = json_extract(body, '$.partner_id'),"
                    " created_at = json_extract(body, '$.created_at')"
                )
                c.execute("COMMIT")
            except BaseException:
                _rollback(c)
                raise
        c.execute(
            "CREATE INDEX IF NOT EXISTS assessments_partner"
            " ON assessments (partner_id, created_at, id) WHERE partner_id IS NOT NULL"
        )

    # --- assessments -----------------------------------------------------------------------
    @_faults_unavailable
    def create_assessment(
        self,
        rec: AssessmentRecord,
        contribution: Contribution | None,
        delivery: Delivery | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> bool:
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            if idempotency is not None:
                held = c.execute(
                    "SELECT expires_at FROM idempotency_keys WHERE key_id = ?",
                    (idempotency.key_id,),
                ).fetchone()
                if held is not None and held[0] > idempotency.created_at:
                    _rollback(c)
                    return False
            cur = c.execute(
                "INSERT OR IGNORE INTO assessments (id, body, partner_id, created_at)"
                " VALUES (?, ?, ?, ?)",
                (
                    rec.id,
                    codec.record_to_json(rec),
                    rec.partner_id,
                    rec.created_at,
                ),
            )
            if cur.rowcount == 0:
                _rollback(c)
                return False
            if idempotency is not None:
                i = idempotency
                c.execute(
                    "INSERT OR REPLACE INTO idempotency_keys"
                    " (key_id, assessment_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                    (i.key_id, i.assessment_id, i.created_at, i.expires_at),
                )
            if rec.included:
                _emit(c, INSERT, rec.id, None, image_of(rec))
            if delivery is not None:
                self._put_delivery(c, delivery)
            c.execute("COMMIT")
            return True
        except BaseException:
            _rollback(c)
            raise

    @_faults_unavailable
    def get_assessment(self, assessment_id: str) -> AssessmentRecord | None:
        row = (
            self._conn()
            .execute("SELECT body FROM assessments WHERE id = ?", (assessment_id,))
            .fetchone()
        )
        return None if row is None else codec.record_from_json(row[0])

    @_faults_unavailable
    def get_idempotency_key(self, key_id: str) -> IdempotencyKey | None:
        row = (
            self._conn()
            .execute(
                "SELECT key_id, assessment_id, created_at, expires_at"
                " FROM idempotency_keys WHERE key_id = ?",
                (key_id,),
            )
            .fetchone()
        )
        return None if row is None else IdempotencyKey(*row)

    @_faults_unavailable
    def list_partner_assessments(
        self, query: AssessmentQuery
    ) -> list[AssessmentRecord]:
        q = query
        where: list[str] = ["partner_id = ?"]
        args: list[Any] = [q.partner_id]
        if q.after is not None:
            where.append("(created_at < ? OR (created_at = ? AND id < ?))")
            args += [q.after[0], q.after[0], q.after[1]]
        if q.since is not None:
            where.append("created_at >= ?")
            args.append(q.since)
        if q.until is not None:
            where.append("created_at < ?")
            args.append(q.until)
        for column, value in (
            ("questionnaire_id", q.questionnaire),
            ("version", q.version),
            ("result.phase", q.phase),
        ):
            if value is not None:
                where.append(f"json_extract(body, '$.{column}') = ?")
                args.append(value)
        if q.included is not None:
            where.append("json_extract(body, '$.included') = ?")
            args.append(1 if q.included else 0)
        rows = self._conn().execute(
            f"SELECT body FROM assessments WHERE {' AND '.join(where)}"
            " ORDER BY created_at DESC, id DESC LIMIT ?",
            (*args, q.limit),
        )
        return [codec.record_from_json(r[0]) for r in rows]

    @_faults_unavailable
    def take_rate(
        self, subject: str, windows: tuple[RateWindow, ...]
    ) -> tuple[bool, tuple[int, ...]]:
        """One transaction: read every window's counter, and add 1 to each only when all
        are below their limits (so a refused request is never counted)."""
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            c.execute(
                "DELETE FROM rate_counters WHERE subject = ? AND expires_at <= ?",
                (subject, min((w.start for w in windows), default=0)),
            )
            counts = []
            for w in windows:
                row = c.execute(
                    "SELECT count FROM rate_counters WHERE subject = ? AND policy = ?"
                    " AND start = ?",
                    (subject, w.policy, w.start),
                ).fetchone()
                counts.append(row[0] if row else 0)
            if any(n >= w.limit for n, w in zip(counts, windows)):
                _rollback(c)
                return False, tuple(counts)
            for w in windows:
                c.execute(
                    "INSERT INTO rate_counters (subject, policy, start, count, expires_at)"
                    " VALUES (?, ?, ?, 1, ?) ON CONFLICT (subject, policy, start)"
                    " DO UPDATE SET count = count + 1",
                    (subject, w.policy, w.start, w.end),
                )
            c.execute("COMMIT")
            return True, tuple(n + 1 for n in counts)
        except BaseException:
            _rollback(c)
            raise

    @_faults_unavailable
    def delete_assessment(
        self, rec: AssessmentRecord, contribution: Contribution | None
    ) -> bool:
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            row = c.execute(
                "SELECT body FROM assessments WHERE id = ?", (rec.id,)
            ).fetchone()
            if row is None:
                _rollback(c)
                return False
            c.execute("DELETE FROM assessments WHERE id = ?", (rec.id,))
            stored = codec.record_from_json(row[0])  # what its insert added
            if stored.included:
                _emit(c, REMOVE, stored.id, image_of(stored), None)
            c.execute("COMMIT")
            return True
        except BaseException:
            _rollback(c)
            raise

    @_faults_unavailable
    def clear_aggregates(self, source: str, questionnaire_id: str, version: str) -> int:
        """Empty the grid's cell aggregates (after folding what is pending) in one
        transaction, as the removal of everyone counted: ``changes`` and ``removals`` grow
        by each cell's count, so the monotonic counters a release compares never go
        backwards. Returns the number of cells emptied (those that counted anyone)."""
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            self._drain(c)
            grid = Grid(source, questionnaire_id, version)
            emptied = {
                (grid, cell): CohortState(
                    0,
                    {m: [0] * len(h) for m, h in state.bins.items()},
                    {},
                    state.changes + state.count,
                    state.removals + state.count,
                    dict(state.applied),
                )
                for cell, state in self._grid_states(c, grid).items()
                if state.count
            }
            _write_states(c, emptied)
            c.execute("COMMIT")
            return len(emptied)
        except BaseException:
            _rollback(c)
            raise

    @_faults_unavailable
    def bulk_load(
        self, records: list[AssessmentRecord], contributions: list[Contribution]
    ) -> None:
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            c.executemany(
                "INSERT OR IGNORE INTO assessments (id, body, partner_id, created_at)"
                " VALUES (?, ?, ?, ?)",
                [
                    (
                        r.id,
                        codec.record_to_json(r),
                        r.partner_id,
                        r.created_at,
                    )
                    for r in records
                ],
            )
            start = c.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM stream_outbox"
            ).fetchone()[0]
            c.executemany(
                "INSERT INTO stream_outbox (item_id, op, new_image) VALUES (?, ?, ?)",
                [
                    (
                        f"bulk-{start + i}",
                        INSERT,
                        _dumps_image(
                            codec.contribution_image(con, f"bulk-{start + i}")
                        ),
                    )
                    for i, con in enumerate(contributions, 1)
                ],
            )
            self._drain(c)  # the cell aggregates are filled in the same transaction
            c.execute("COMMIT")
        except BaseException:
            _rollback(c)
            raise

    # --- stream aggregation (issue 15) --------------------------------------------------------
    @_faults_unavailable
    def aggregate_pending(self, limit: int = 1000) -> AggregationRun:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            run = self._fold_pending(c, limit)
            c.execute("COMMIT")
            return run
        except BaseException:
            _rollback(c)
            raise

    def _drain(self, c: sqlite3.Connection, chunk: int = 2000) -> None:
        """Fold everything pending, inside the caller's transaction."""
        while self._fold_pending(c, chunk).more:
            pass

    def _fold_pending(self, c: sqlite3.Connection, limit: int) -> AggregationRun:
        """One batch of the oldest outbox rows folded, written and removed; the caller holds
        the write lock (BEGIN IMMEDIATE), so no row below the batch's last ``seq`` can be
        committed later and the rows come in stream order."""
        rows = c.execute(
            "SELECT seq, item_id, op, old_image, new_image FROM stream_outbox"
            " ORDER BY seq LIMIT ?",
            (limit,),
        ).fetchall()
        if not rows:
            return AggregationRun()
        batch = [
            {
                "id": str(seq),
                "shard": STREAM_SHARD,
                "seq": seq,
                "op": op,
                "old": _loads_image(old),
                "new": _loads_image(new),
            }
            for seq, _, op, old, new in rows
        ]
        result = fold(self._read_states(c, record_keys(batch)), batch)
        _write_states(c, result.states)
        failed = set(result.failures)
        dead = [
            (*row, _refusal(raw))
            for row, raw in zip(rows, batch)
            if raw["id"] in failed
        ]
        self._mark_folded(c, rows[-1][0], dead)
        more = c.execute("SELECT EXISTS (SELECT 1 FROM stream_outbox)").fetchone()[0]
        return AggregationRun(
            records=len(rows),
            applied=result.applied,
            skipped=result.skipped,
            failures=tuple(d[1] for d in dead),
            more=bool(more),
        )

    def _mark_folded(
        self, c: sqlite3.Connection, last_seq: int, dead: list[tuple[Any, ...]]
    ) -> None:
        """Remove the folded rows (up to ``last_seq``), keeping the refused ones as dead
        letters: a refusal never blocks the rows after it."""
        c.executemany(
            "INSERT OR REPLACE INTO stream_dead_letters"
            " (seq, item_id, op, old_image, new_image, reason) VALUES (?, ?, ?, ?, ?, ?)",
            dead,
        )
        c.execute("DELETE FROM stream_outbox WHERE seq <= ?", (last_seq,))

    @staticmethod
    def _read_states(
        c: sqlite3.Connection, keys: Iterable[AggregateKey]
    ) -> dict[AggregateKey, CohortState]:
        by_grid: dict[Grid, list[str]] = {}
        for grid, cell in keys:
            by_grid.setdefault(grid, []).append(cell.key)
        out: dict[AggregateKey, CohortState] = {}
        for grid, cells in by_grid.items():
            for i in range(0, len(cells), _IN_CHUNK):
                part = cells[i : i + _IN_CHUNK]
                rows = c.execute(
                    "SELECT cell, body FROM cell_aggregates WHERE source = ?"
                    " AND questionnaire = ? AND version = ?"
                    f" AND cell IN ({','.join('?' for _ in part)})",
                    (grid.source, grid.questionnaire_id, grid.version, *part),
                )
                for cell, body in rows:
                    out[(grid, CellKey.from_key(cell))] = codec.cohort_state_from_json(
                        body
                    )
        return out

    @staticmethod
    def _grid_states(c: sqlite3.Connection, grid: Grid) -> dict[CellKey, CohortState]:
        rows = c.execute(
            "SELECT cell, body FROM cell_aggregates WHERE source = ? AND questionnaire = ?"
            " AND version = ?",
            (grid.source, grid.questionnaire_id, grid.version),
        )
        return {
            CellKey.from_key(cell): codec.cohort_state_from_json(body)
            for cell, body in rows
        }

    @_faults_unavailable
    def read_grid(self, grid: Grid) -> dict[CellKey, CohortState]:
        return self._grid_states(self._conn(), grid)

    @_faults_unavailable
    def list_grids(self) -> list[Grid]:
        rows = self._conn().execute(
            "SELECT DISTINCT source, questionnaire, version FROM cell_aggregates"
            " ORDER BY source, questionnaire, version"
        )
        return [Grid(*r) for r in rows]

    @_faults_unavailable
    def pending_records(self) -> int:
        """Outbox rows not folded yet."""
        return int(
            self._conn().execute("SELECT COUNT(*) FROM stream_outbox").fetchone()[0]
        )

    @_faults_unavailable
    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        """Outbox rows the fold refused, oldest first, with the reason (for an operator)."""
        rows = self._conn().execute(
            "SELECT seq, item_id, op, old_image, new_image, reason"
            " FROM stream_dead_letters ORDER BY seq LIMIT ?",
            (limit,),
        )
        return [
            {
                "seq": seq,
                "item_id": item,
                "op": op,
                "old": _loads_image(old),
                "new": _loads_image(new),
                "reason": reason,
            }
            for seq, item, op, old, new, reason in rows
        ]

    def _start_stream(self, c: sqlite3.Connection) -> None:
        """Once per file: a file written before the stream existed gets one insert row per
        stored included assessment (folded by the next run) and the cells of the
        record-less reference cohort built from its legacy roll-ups, so the cell aggregates
        count what the legacy ones do; a new file just gets the marker."""
        marker = "SELECT 1 FROM store_meta WHERE name = 'stream_started'"
        if c.execute(marker).fetchone():
            return
        c.execute("BEGIN IMMEDIATE")
        try:
            if not c.execute(marker).fetchone():  # another process may have been first
                for (body,) in c.execute("SELECT body FROM assessments").fetchall():
                    rec = codec.record_from_json(body)
                    if rec.included:
                        _emit(c, INSERT, rec.id, None, image_of(rec))
                _write_states(c, _legacy_cells(c, _RECORDLESS_SOURCES))
                c.execute(
                    "INSERT INTO store_meta (name, value) VALUES ('stream_started', '1')"
                )
            c.execute("COMMIT")
        except BaseException:
            _rollback(c)
            raise

    @staticmethod
    def _drop_legacy_rollups(c: sqlite3.Connection) -> None:
        """The roll-up tables of older files (``aggregates``, ``cohort_aggregates``) are
        dropped once the stream has started (``_start_stream`` built the record-less
        reference cells from them): nothing reads them since benchmarks come from releases
        of the cell aggregates (docs/STORAGE.md, "Migration")."""
        legacy = [t for t in _LEGACY_ROLLUPS if t in _tables(c)]
        if not legacy:
            return
        c.execute("BEGIN IMMEDIATE")
        try:
            for t in legacy:
                c.execute(f"DROP TABLE IF EXISTS {t}")
            c.execute("COMMIT")
        except BaseException:
            _rollback(c)
            raise

    @_faults_unavailable
    def count_assessments(self, source: str | None = None) -> int:
        if source is None:
            return int(
                self._conn().execute("SELECT COUNT(*) FROM assessments").fetchone()[0]
            )
        n = 0
        for (body,) in self._conn().execute("SELECT body FROM assessments"):
            n += json.loads(body).get("source") == source
        return n

    # --- drafts -----------------------------------------------------------------------------
    @_faults_unavailable
    def put_draft(self, draft: Draft) -> None:
        self._conn().execute(
            "INSERT OR REPLACE INTO drafts (id, body, expires_at) VALUES (?, ?, ?)",
            (draft.id, codec.draft_to_json(draft), draft.expires_at),
        )

    @_faults_unavailable
    def get_draft(self, draft_id: str, now: int) -> Draft | None:
        c = self._conn()
        c.execute("DELETE FROM drafts WHERE expires_at <= ?", (now,))
        row = c.execute("SELECT body FROM drafts WHERE id = ?", (draft_id,)).fetchone()
        return None if row is None else codec.draft_from_json(row[0])

    @_faults_unavailable
    def delete_draft(self, draft_id: str) -> None:
        self._conn().execute("DELETE FROM drafts WHERE id = ?", (draft_id,))

    # --- partner keys -----------------------------------------------------------------------
    @_faults_unavailable
    def put_partner_key(self, key: PartnerKey) -> None:
        self._conn().execute(
            "INSERT OR REPLACE INTO partner_keys (key_id, partner_id, body) VALUES (?, ?, ?)",
            (key.key_id, key.partner_id, codec.partner_key_to_json(key)),
        )

    @_faults_unavailable
    def get_partner_key(self, key_id: str) -> PartnerKey | None:
        row = (
            self._conn()
            .execute("SELECT body FROM partner_keys WHERE key_id = ?", (key_id,))
            .fetchone()
        )
        return None if row is None else codec.partner_key_from_json(row[0])

    @_faults_unavailable
    def list_partner_keys(self, partner_id: str | None = None) -> list[PartnerKey]:
        if partner_id is None:
            rows = self._conn().execute("SELECT body FROM partner_keys ORDER BY key_id")
        else:
            rows = self._conn().execute(
                "SELECT body FROM partner_keys WHERE partner_id = ? ORDER BY key_id",
                (partner_id,),
            )
        return [codec.partner_key_from_json(r[0]) for r in rows]

    # --- webhooks ---------------------------------------------------------------------------
    @_faults_unavailable
    def put_webhook(self, hook: Webhook) -> None:
        self._conn().execute(
            "INSERT OR REPLACE INTO webhooks (partner_id, body) VALUES (?, ?)",
            (hook.partner_id, codec.webhook_to_json(hook)),
        )

    @_faults_unavailable
    def get_webhook(self, partner_id: str) -> Webhook | None:
        row = (
            self._conn()
            .execute("SELECT body FROM webhooks WHERE partner_id = ?", (partner_id,))
            .fetchone()
        )
        return None if row is None else codec.webhook_from_json(row[0])

    @_faults_unavailable
    def delete_webhook(self, partner_id: str) -> None:
        self._conn().execute("DELETE FROM webhooks WHERE partner_id = ?", (partner_id,))

    # --- white label ------------------------------------------------------------------------
    @_faults_unavailable
    def put_branding(self, partner_id: str, branding: dict[str, Any]) -> None:
        self._conn().execute(
            "INSERT OR REPLACE INTO brandings (partner_id, body) VALUES (?, ?)",
            (partner_id, codec.branding_to_json(branding)),
        )

    @_faults_unavailable
    def get_branding(self, partner_id: str) -> dict[str, Any] | None:
        row = (
            self._conn()
            .execute("SELECT body FROM brandings WHERE partner_id = ?", (partner_id,))
            .fetchone()
        )
        return None if row is None else codec.branding_from_json(row[0])

    @_faults_unavailable
    def delete_branding(self, partner_id: str) -> None:
        self._conn().execute(
            "DELETE FROM brandings WHERE partner_id = ?", (partner_id,)
        )

    @_faults_unavailable
    def put_delivery(self, delivery: Delivery) -> None:
        self._put_delivery(self._conn(), delivery)

    @staticmethod
    def _put_delivery(c: sqlite3.Connection, delivery: Delivery) -> None:
        d = delivery
        c.execute(
            "INSERT OR REPLACE INTO deliveries"
            " (id, partner_id, created_at, state, next_at, body) VALUES (?, ?, ?, ?, ?, ?)",
            (
                d.id,
                d.partner_id,
                d.created_at,
                d.state,
                d.next_at,
                codec.delivery_to_json(d),
            ),
        )

    @_faults_unavailable
    def list_deliveries(
        self, partner_id: str, limit: int = 20, before: tuple[int, str] | None = None
    ) -> list[Delivery]:
        after, args = "", [partner_id]  # type: tuple[str, list[Any]]
        if before is not None:
            after = " AND (created_at < ? OR (created_at = ? AND id < ?))"
            args = [partner_id, before[0], before[0], before[1]]
        rows = self._conn().execute(
            f"SELECT body FROM deliveries WHERE partner_id = ?{after}"
            " ORDER BY created_at DESC, id DESC LIMIT ?",
            (*args, limit),
        )
        return [codec.delivery_from_json(r[0]) for r in rows]

    @_faults_unavailable
    def due_deliveries(self, now: int, limit: int = 50) -> list[Delivery]:
        rows = self._conn().execute(
            "SELECT body FROM deliveries WHERE state = 'pending' AND next_at <= ?"
            " ORDER BY next_at, id LIMIT ?",
            (now, limit),
        )
        return [codec.delivery_from_json(r[0]) for r in rows]

    @_faults_unavailable
    def get_delivery(self, partner_id: str, delivery_id: str) -> Delivery | None:
        row = (
            self._conn()
            .execute(
                "SELECT body FROM deliveries WHERE partner_id = ? AND id = ?",
                (partner_id, delivery_id),
            )
            .fetchone()
        )
        return None if row is None else codec.delivery_from_json(row[0])
