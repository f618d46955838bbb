"""The SQLite side of ``OrganisationStore`` (issue 18), a mixin of ``SqliteStore`` kept in
its own module and tables: one row per organisation, respondent, respondent answers,
closed round and target, each keyed by the organisation id. Writes that depend on the open round run in
one ``BEGIN IMMEDIATE`` transaction with the check."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from chalicelib.organisations import Organisation, Respondent, RespondentAnswers, Round
from chalicelib.roadmap import Target
from chalicelib.storage import organisation_codec as codec

ORGANISATION_SCHEMA = """
CREATE TABLE IF NOT EXISTS organisations (
    id TEXT PRIMARY KEY,
    partner_id TEXT,
    current_round INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS organisations_partner
    ON organisations (partner_id) WHERE partner_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS organisation_respondents (
    organisation_id TEXT NOT NULL,
    id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (organisation_id, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS organisation_answers (
    organisation_id TEXT NOT NULL,
    round INTEGER NOT NULL,
    respondent_id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (organisation_id, round, respondent_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS organisation_targets (
    organisation_id TEXT PRIMARY KEY,
    body TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS organisation_rounds (
    organisation_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (organisation_id, number)
) WITHOUT ROWID;
"""

F = TypeVar("F", bound=Callable[..., Any])


def _faults(fn: F) -> F:
    """SqliteStore's fault mapping (Unavailable for faults a retry can outlast), looked up
    on call: sqlite.py imports this module."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from chalicelib.storage.sqlite import _faults_unavailable

        return _faults_unavailable(fn)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class SqliteOrganisations:
    """Needs ``_conn()`` (SqliteStore's per-thread connection, autocommit mode)."""

    def _conn(self) -> sqlite3.Connection:  # provided by SqliteStore
        raise NotImplementedError

    @staticmethod
    def _create_organisation_tables(c: sqlite3.Connection) -> None:
        c.executescript(ORGANISATION_SCHEMA)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            yield c
            c.execute("COMMIT")
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise

    @_faults
    def create_organisation(self, org: Organisation) -> bool:
        with self._write() as c:
            cur = c.execute(
                "INSERT OR IGNORE INTO organisations (id, partner_id, current_round, body)"
                " VALUES (?, ?, ?, ?)",
                (
                    org.id,
                    org.partner_id,
                    org.current_round,
                    codec.organisation_to_json(org),
                ),
            )
            return cur.rowcount == 1

    @_faults
    def get_organisation(self, organisation_id: str) -> Organisation | None:
        row = (
            self._conn()
            .execute(
                "SELECT body, current_round FROM organisations WHERE id = ?",
                (organisation_id,),
            )
            .fetchone()
        )
        if row is None:
            return None
        org = codec.organisation_from_json(row[0])
        return Organisation(**{**org.__dict__, "current_round": int(row[1])})

    @_faults
    def list_partner_organisations(self, partner_id: str) -> list[Organisation]:
        rows = (
            self._conn()
            .execute(
                "SELECT body, current_round FROM organisations WHERE partner_id = ?",
                (partner_id,),
            )
            .fetchall()
        )
        found = [
            Organisation(
                **{
                    **codec.organisation_from_json(r[0]).__dict__,
                    "current_round": int(r[1]),
                }
            )
            for r in rows
        ]
        return sorted(found, key=lambda o: (o.created_at, o.id))

    @_faults
    def add_respondent(self, respondent: Respondent) -> bool:
        with self._write() as c:
            if not c.execute(
                "SELECT 1 FROM organisations WHERE id = ?",
                (respondent.organisation_id,),
            ).fetchone():
                return False
            cur = c.execute(
                "INSERT OR IGNORE INTO organisation_respondents"
                " (organisation_id, id, created_at, body) VALUES (?, ?, ?, ?)",
                (
                    respondent.organisation_id,
                    respondent.id,
                    respondent.created_at,
                    codec.respondent_to_json(respondent),
                ),
            )
            return cur.rowcount == 1

    @_faults
    def get_respondent(
        self, organisation_id: str, respondent_id: str
    ) -> Respondent | None:
        row = (
            self._conn()
            .execute(
                "SELECT body FROM organisation_respondents"
                " WHERE organisation_id = ? AND id = ?",
                (organisation_id, respondent_id),
            )
            .fetchone()
        )
        return None if row is None else codec.respondent_from_json(row[0])

    @_faults
    def list_respondents(self, organisation_id: str) -> list[Respondent]:
        rows = (
            self._conn()
            .execute(
                "SELECT body FROM organisation_respondents WHERE organisation_id = ?"
                " ORDER BY created_at, id",
                (organisation_id,),
            )
            .fetchall()
        )
        return [codec.respondent_from_json(r[0]) for r in rows]

    @_faults
    def put_respondent_answers(self, answers: RespondentAnswers) -> bool:
        with self._write() as c:
            row = c.execute(
                "SELECT current_round FROM organisations WHERE id = ?",
                (answers.organisation_id,),
            ).fetchone()
            if row is None or int(row[0]) != answers.round:
                return False
            c.execute(
                "INSERT OR REPLACE INTO organisation_answers"
                " (organisation_id, round, respondent_id, body) VALUES (?, ?, ?, ?)",
                (
                    answers.organisation_id,
                    answers.round,
                    answers.respondent_id,
                    codec.answers_to_json(answers),
                ),
            )
            return True

    @_faults
    def get_respondent_answers(
        self, organisation_id: str, respondent_id: str, round_number: int
    ) -> RespondentAnswers | None:
        row = (
            self._conn()
            .execute(
                "SELECT body FROM organisation_answers WHERE organisation_id = ?"
                " AND round = ? AND respondent_id = ?",
                (organisation_id, round_number, respondent_id),
            )
            .fetchone()
        )
        return None if row is None else codec.answers_from_json(row[0])

    @_faults
    def list_respondent_answers(
        self, organisation_id: str, round_number: int
    ) -> list[RespondentAnswers]:
        rows = (
            self._conn()
            .execute(
                "SELECT body FROM organisation_answers WHERE organisation_id = ?"
                " AND round = ? ORDER BY respondent_id",
                (organisation_id, round_number),
            )
            .fetchall()
        )
        return [codec.answers_from_json(r[0]) for r in rows]

    @_faults
    def close_round(self, closed: Round) -> bool:
        with self._write() as c:
            cur = c.execute(
                "UPDATE organisations SET current_round = ? WHERE id = ?"
                " AND current_round = ?",
                (closed.number + 1, closed.organisation_id, closed.number),
            )
            if cur.rowcount != 1:
                return False
            c.execute(
                "INSERT INTO organisation_rounds (organisation_id, number, body)"
                " VALUES (?, ?, ?)",
                (closed.organisation_id, closed.number, codec.round_to_json(closed)),
            )
            return True

    @_faults
    def list_rounds(self, organisation_id: str) -> list[Round]:
        rows = (
            self._conn()
            .execute(
                "SELECT body FROM organisation_rounds WHERE organisation_id = ?"
                " ORDER BY number",
                (organisation_id,),
            )
            .fetchall()
        )
        return [codec.round_from_json(r[0]) for r in rows]

    @_faults
    def put_target(self, organisation_id: str, target: Target) -> bool:
        with self._write() as c:
            if not c.execute(
                "SELECT 1 FROM organisations WHERE id = ?", (organisation_id,)
            ).fetchone():
                return False
            c.execute(
                "INSERT OR REPLACE INTO organisation_targets (organisation_id, body)"
                " VALUES (?, ?)",
                (organisation_id, codec.target_to_json(target)),
            )
            return True

    @_faults
    def get_target(self, organisation_id: str) -> Target | None:
        row = (
            self._conn()
            .execute(
                "SELECT body FROM organisation_targets WHERE organisation_id = ?",
                (organisation_id,),
            )
            .fetchone()
        )
        return None if row is None else codec.target_from_json(row[0])

    @_faults
    def delete_organisation(self, organisation_id: str) -> int:
        removed = 0
        with self._write() as c:
            for table, column in (
                ("organisation_answers", "organisation_id"),
                ("organisation_targets", "organisation_id"),
                ("organisation_rounds", "organisation_id"),
                ("organisation_respondents", "organisation_id"),
                ("organisations", "id"),
            ):
                removed += c.execute(
                    f"DELETE FROM {table} WHERE {column} = ?",
                    (organisation_id,),
                ).rowcount
        return removed
