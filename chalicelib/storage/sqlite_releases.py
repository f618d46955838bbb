"""The SQLite side of ``ReleaseStore`` (issue 15, docs/RELEASES.md), a mixin of
``SqliteStore``: one header row per release (``releases``), one row per cell
(``release_cells``, the JSON item of ``releases.codec.cell_to_item``) and one pointer row per
grid (``release_latest``). ``put_release`` writes all three in one ``BEGIN IMMEDIATE``
transaction, conditional on the id being new, so a reader sees the previous release or the
whole new one, never half of it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from chalicelib.aggregation import CellKey, Grid
from chalicelib.errors import Conflict
from chalicelib.releases.codec import cell_from_item, cell_to_item
from chalicelib.releases.model import (
    Cell,
    Release,
    ReleaseHeader,
    header_of,
)
from chalicelib.storage.sqlite_organisations import _faults

RELEASE_SCHEMA = """
CREATE TABLE IF NOT EXISTS releases (
    source TEXT NOT NULL,
    questionnaire TEXT NOT NULL,
    version TEXT NOT NULL,
    id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    k INTEGER NOT NULL,
    cells INTEGER NOT NULL,
    released INTEGER NOT NULL,
    PRIMARY KEY (source, questionnaire, version, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS release_cells (
    source TEXT NOT NULL,
    questionnaire TEXT NOT NULL,
    version TEXT NOT NULL,
    release_id TEXT NOT NULL,
    cell TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (source, questionnaire, version, release_id, cell)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS release_latest (
    source TEXT NOT NULL,
    questionnaire TEXT NOT NULL,
    version TEXT NOT NULL,
    release_id TEXT NOT NULL,
    PRIMARY KEY (source, questionnaire, version)
) WITHOUT ROWID;
"""
_IN_CHUNK = 400  # cells per IN (...) list
_HEADER = "SELECT id, created_at, k, cells, released FROM releases"


def _g(grid: Grid) -> tuple[str, str, str]:
    return (grid.source, grid.questionnaire_id, grid.version)


def _header(grid: Grid, row: tuple[str, str, int, int, int]) -> ReleaseHeader:
    rid, created_at, k, cells, released = row
    return ReleaseHeader(rid, created_at, int(k), grid, int(cells), int(released))


class SqliteReleases:
    """Needs ``_conn()`` (SqliteStore's per-thread connection, autocommit mode)."""

    def _conn(self) -> sqlite3.Connection:  # provided by SqliteStore
        raise NotImplementedError

    @staticmethod
    def _create_release_tables(c: sqlite3.Connection) -> None:
        c.executescript(RELEASE_SCHEMA)

    @_faults
    def put_release(self, release: Release) -> ReleaseHeader:
        """Raises ``Conflict`` (nothing written) when the grid already has a release with
        this id."""
        header = header_of(release)
        grid = header.grid
        rows = [
            (
                *_g(grid),
                release.id,
                key.key,
                json.dumps(cell_to_item(key, cell), separators=(",", ":")),
            )
            for key, cell in release.cells.items()
        ]
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            try:
                c.execute(
                    "INSERT INTO releases (source, questionnaire, version, id, created_at,"
                    " k, cells, released) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        *_g(grid),
                        header.id,
                        header.created_at,
                        header.k,
                        header.cells,
                        header.released,
                    ),
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"release {release.id} exists") from None
            c.executemany(
                "INSERT INTO release_cells (source, questionnaire, version, release_id,"
                " cell, body) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            c.execute(
                "INSERT OR REPLACE INTO release_latest (source, questionnaire, version,"
                " release_id) VALUES (?, ?, ?, ?)",
                (*_g(grid), release.id),
            )
            c.execute("COMMIT")
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise
        return header

    @_faults
    def latest_release(self, grid: Grid) -> ReleaseHeader | None:
        row = (
            self._conn()
            .execute(
                f"{_HEADER} WHERE (source, questionnaire, version, id) IN"
                " (SELECT source, questionnaire, version, release_id FROM release_latest"
                "  WHERE source = ? AND questionnaire = ? AND version = ?)",
                _g(grid),
            )
            .fetchone()
        )
        return _header(grid, row) if row else None

    @_faults
    def read_release_cells(
        self, grid: Grid, release_id: str, cells: Iterable[CellKey]
    ) -> dict[CellKey, Cell]:
        wanted = list(dict.fromkeys(k.key for k in cells))
        out: dict[CellKey, Cell] = {}
        c = self._conn()
        for i in range(0, len(wanted), _IN_CHUNK):
            part = wanted[i : i + _IN_CHUNK]
            for (body,) in c.execute(
                "SELECT body FROM release_cells WHERE source = ? AND questionnaire = ?"
                " AND version = ? AND release_id = ?"
                f" AND cell IN ({','.join('?' for _ in part)})",
                (*_g(grid), release_id, *part),
            ):
                key, cell = cell_from_item(json.loads(body))
                out[key] = cell
        return out

    @_faults
    def read_release(self, grid: Grid, release_id: str) -> Release | None:
        c = self._conn()
        row = c.execute(
            f"{_HEADER} WHERE source = ? AND questionnaire = ? AND version = ? AND id = ?",
            (*_g(grid), release_id),
        ).fetchone()
        if row is None:
            return None
        cells = dict(
            cell_from_item(json.loads(body))
            for (body,) in c.execute(
                "SELECT body FROM release_cells WHERE source = ? AND questionnaire = ?"
                " AND version = ? AND release_id = ?",
                (*_g(grid), release_id),
            )
        )
        return Release(row[0], row[1], int(row[2]), dict(sorted(cells.items())), grid)

    @_faults
    def list_releases(self, grid: Grid, limit: int = 20) -> list[ReleaseHeader]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        rows = self._conn().execute(
            f"{_HEADER} WHERE source = ? AND questionnaire = ? AND version = ?"
            " ORDER BY created_at DESC, id DESC LIMIT ?",
            (*_g(grid), limit),
        )
        return [_header(grid, r) for r in rows]
