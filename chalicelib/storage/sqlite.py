"""Embedded SQLite adapter: the zero-setup default store (a file under ``data/``).

Every write is one SQLite transaction, so an assessment and its aggregate counters are
stored together or not at all, the same guarantee as the DynamoDB transaction."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import asdict

from chalicelib.storage import (
    Aggregate,
    AssessmentRecord,
    Contribution,
    Draft,
    PartnerKey,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS assessments (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS aggregates (
    source TEXT NOT NULL,
    questionnaire TEXT NOT NULL,
    version TEXT NOT NULL,
    cohort TEXT NOT NULL,
    field TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (source, questionnaire, version, cohort, field)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS drafts (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS partner_keys (
    key_id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL,
    body TEXT NOT NULL
);
"""

_UPSERT = """
INSERT INTO aggregates (source, questionnaire, version, cohort, field, value)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (source, questionnaire, version, cohort, field)
DO UPDATE SET value = value + excluded.value
"""


def _record_from_json(body: str) -> AssessmentRecord:
    d = json.loads(body)
    d["exclusion_reasons"] = tuple(d["exclusion_reasons"])
    return AssessmentRecord(**d)


class SqliteStore:
    """Store adapter on one SQLite file; safe to share between threads of one process."""

    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._local = threading.local()
        with self._conn() as c:
            c.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _apply(
        self, c: sqlite3.Connection, contribution: Contribution, sign: int
    ) -> None:
        rows = [
            (
                contribution.source,
                contribution.questionnaire_id,
                contribution.version,
                cohort,
                name,
                sign * delta,
            )
            for cohort in contribution.cohorts
            for name, delta in contribution.fields().items()
        ]
        c.executemany(_UPSERT, rows)

    # --- assessments -----------------------------------------------------------------------
    def create_assessment(
        self, rec: AssessmentRecord, contribution: Contribution | None
    ) -> bool:
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            cur = c.execute(
                "INSERT OR IGNORE INTO assessments (id, body) VALUES (?, ?)",
                (rec.id, json.dumps(asdict(rec), sort_keys=True)),
            )
            if cur.rowcount == 0:
                c.execute("ROLLBACK")
                return False
            if contribution is not None:
                self._apply(c, contribution, +1)
            c.execute("COMMIT")
            return True
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def get_assessment(self, assessment_id: str) -> AssessmentRecord | None:
        row = (
            self._conn()
            .execute("SELECT body FROM assessments WHERE id = ?", (assessment_id,))
            .fetchone()
        )
        return None if row is None else _record_from_json(row[0])

    def delete_assessment(
        self, rec: AssessmentRecord, contribution: Contribution | None
    ) -> bool:
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            cur = c.execute("DELETE FROM assessments WHERE id = ?", (rec.id,))
            if cur.rowcount == 0:
                c.execute("ROLLBACK")
                return False
            if contribution is not None:
                self._apply(c, contribution, -1)
            c.execute("COMMIT")
            return True
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def read_cohorts(
        self, source: str, questionnaire_id: str, version: str, cohorts: Iterable[str]
    ) -> dict[str, Aggregate]:
        wanted = list(dict.fromkeys(cohorts))
        out = {k: Aggregate() for k in wanted}
        if not wanted:
            return out
        marks = ",".join("?" for _ in wanted)
        rows = self._conn().execute(
            "SELECT cohort, field, value FROM aggregates WHERE source = ? AND questionnaire = ?"
            f" AND version = ? AND cohort IN ({marks})",
            (source, questionnaire_id, version, *wanted),
        )
        for cohort, name, value in rows:
            out[cohort].add_field(name, value)
        return out

    def bulk_load(
        self, records: list[AssessmentRecord], contributions: list[Contribution]
    ) -> None:
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            c.executemany(
                "INSERT OR IGNORE INTO assessments (id, body) VALUES (?, ?)",
                [(r.id, json.dumps(asdict(r), sort_keys=True)) for r in records],
            )
            summed: dict[tuple[str, str, str, str, str], int] = {}
            for con in contributions:
                for cohort in con.cohorts:
                    for name, delta in con.fields().items():
                        k = (
                            con.source,
                            con.questionnaire_id,
                            con.version,
                            cohort,
                            name,
                        )
                        summed[k] = summed.get(k, 0) + delta
            c.executemany(_UPSERT, [(*k, v) for k, v in summed.items()])
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

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
    def put_draft(self, draft: Draft) -> None:
        self._conn().execute(
            "INSERT OR REPLACE INTO drafts (id, body, expires_at) VALUES (?, ?, ?)",
            (draft.id, json.dumps(asdict(draft)), draft.expires_at),
        )

    def get_draft(self, draft_id: str, now: int) -> Draft | None:
        c = self._conn()
        c.execute("DELETE FROM drafts WHERE expires_at <= ?", (now,))
        row = c.execute("SELECT body FROM drafts WHERE id = ?", (draft_id,)).fetchone()
        return None if row is None else Draft(**json.loads(row[0]))

    def delete_draft(self, draft_id: str) -> None:
        self._conn().execute("DELETE FROM drafts WHERE id = ?", (draft_id,))

    # --- partner keys -----------------------------------------------------------------------
    def put_partner_key(self, key: PartnerKey) -> None:
        self._conn().execute(
            "INSERT OR REPLACE INTO partner_keys (key_id, partner_id, body) VALUES (?, ?, ?)",
            (key.key_id, key.partner_id, json.dumps(asdict(key))),
        )

    def get_partner_key(self, key_id: str) -> PartnerKey | None:
        row = (
            self._conn()
            .execute("SELECT body FROM partner_keys WHERE key_id = ?", (key_id,))
            .fetchone()
        )
        return None if row is None else _partner_from_json(row[0])

    def list_partner_keys(self, partner_id: str | None = None) -> list[PartnerKey]:
        if partner_id is None:
            rows = self._conn().execute("SELECT body FROM partner_keys ORDER BY key_id")
        else:
            rows = self._conn().execute(
                "SELECT body FROM partner_keys WHERE partner_id = ? ORDER BY key_id",
                (partner_id,),
            )
        return [_partner_from_json(r[0]) for r in rows]


def _partner_from_json(body: str) -> PartnerKey:
    d = json.loads(body)
    d["scopes"] = tuple(d["scopes"])
    d["origins"] = tuple(d["origins"])
    return PartnerKey(**d)
