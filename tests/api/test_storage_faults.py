"""Real SQLite faults through the public API: a full disk, a read-only database and a write
lock held past the busy timeout each answer 503 application/problem+json with Retry-After,
write nothing, log the original SQLite error, and the same request succeeds once the fault
is gone. The faults are SQLite's own: ``PRAGMA max_page_count`` (SQLITE_FULL), a connection
opened with ``?mode=ro`` (SQLITE_READONLY; chmod would not stop root, who runs the tests) and
a second connection holding ``BEGIN IMMEDIATE`` (SQLITE_BUSY)."""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.container import Container
from chalicelib.storage.sqlite import SqliteStore

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "faults.sqlite3")


@pytest.fixture
def store(db_path: str) -> Iterator[SqliteStore]:
    s = SqliteStore(db_path)
    yield s
    s.close()


@pytest.fixture
def api(store, catalog, settings, clock) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from chalice.test import Client

    import app as app_module

    app_module.use_container(
        Container(store=store, catalog=catalog, settings=settings, clock=clock)
    )
    with Client(app_module.app, stage_name="local") as c:
        yield c
    app_module.use_container(None)


def snapshot(path: str) -> tuple[list[Any], ...]:
    """Everything a submission writes, read over a connection of its own."""
    c = sqlite3.connect(path)
    try:
        return tuple(
            c.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
            for t in ("assessments", "stream_outbox", "cell_aggregates", "drafts")
        )
    finally:
        c.close()


def submit(api, answers: dict[str, str], key: str | None = None):  # type: ignore[no-untyped-def]
    headers = {**JSON, **({"Idempotency-Key": key} if key else {})}
    return api.http.post(
        "/v1/assessments", body=json.dumps({"answers": answers}), headers=headers
    )


def assert_unavailable(r, path: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 503, r.body
    assert r.headers["Content-Type"] == "application/problem+json"
    assert int(r.headers["Retry-After"]) >= 1
    doc = json.loads(r.body)
    assert doc["type"] == "urn:smm:problem:unavailable"
    assert doc["status"] == 503 and doc["instance"] == path
    assert "sqlite" not in doc["detail"].lower()  # the cause is logged, not disclosed


def original_logged(caplog: pytest.LogCaptureFixture, message: str) -> bool:
    return any(
        message in r.getMessage()
        or (r.exc_info is not None and message in str(r.exc_info[1]))
        for r in caplog.records
        if r.levelno >= logging.WARNING
    )


def test_disk_full_answers_503_and_writes_nothing(
    api, store, db_path, complete_answers, caplog
) -> None:  # type: ignore[no-untyped-def]
    assert submit(api, complete_answers).status_code == 201
    before = snapshot(db_path)
    c = store._conn()
    pages = c.execute("PRAGMA page_count").fetchone()[0]
    c.execute(f"PRAGMA max_page_count = {pages}")  # the file cannot grow: SQLITE_FULL
    caplog.set_level(logging.WARNING)
    big = {**complete_answers}
    failed = 0
    for i in range(40):  # until the pages run out (each submission adds rows)
        r = submit(api, big, key=str(uuid.uuid4()))
        if r.status_code == 201:
            before = snapshot(db_path)
            continue
        assert_unavailable(r, "/v1/assessments")
        failed += 1
        break
    assert failed == 1, "the page limit was never reached"
    assert snapshot(db_path) == before  # nothing half-written
    assert original_logged(caplog, "database or disk is full")
    assert not original_logged(caplog, "no transaction is active")
    c.execute("PRAGMA max_page_count = 1073741823")
    assert submit(api, complete_answers).status_code == 201


def test_read_only_database_answers_503_and_reads_still_work(
    api, store, db_path, complete_answers, caplog
) -> None:  # type: ignore[no-untyped-def]
    created = submit(api, complete_answers)
    assert created.status_code == 201
    body = created.json_body
    before = snapshot(db_path)
    rw = store._conn()
    ro = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, isolation_level=None)
    store._local.conn = ro  # this thread's connection now opens the file read-only
    caplog.set_level(logging.WARNING)
    try:
        assert_unavailable(submit(api, complete_answers), "/v1/assessments")
        draft = api.http.post(
            "/v1/drafts", body=json.dumps({"answers": {}}), headers=JSON
        )
        assert_unavailable(draft, "/v1/drafts")
        got = api.http.get(
            f"/v1/assessments/{body['id']}", headers={"X-Result-Token": body["token"]}
        )
        assert got.status_code == 200  # reads need no write
    finally:
        store._local.conn = rw
        ro.close()
    assert snapshot(db_path) == before
    assert original_logged(caplog, "attempt to write a readonly database")
    assert submit(api, complete_answers).status_code == 201


def test_lock_held_past_the_busy_timeout_answers_503(
    api, store, db_path, complete_answers, caplog
) -> None:  # type: ignore[no-untyped-def]
    created = submit(api, complete_answers)
    assert created.status_code == 201
    body = created.json_body
    before = snapshot(db_path)
    store._conn().execute("PRAGMA busy_timeout = 200")  # ms; 30 s by default
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's writer, never finishing
    caplog.set_level(logging.WARNING)
    try:
        assert_unavailable(submit(api, complete_answers), "/v1/assessments")
        delete = api.http.delete(
            f"/v1/assessments/{body['id']}", headers={"X-Result-Token": body["token"]}
        )
        assert_unavailable(delete, f"/v1/assessments/{body['id']}")
        got = api.http.get(  # WAL: readers are not blocked by the writer
            f"/v1/assessments/{body['id']}", headers={"X-Result-Token": body["token"]}
        )
        assert got.status_code == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert snapshot(db_path) == before
    assert original_logged(caplog, "database is locked")
    assert submit(api, complete_answers).status_code == 201


def test_programming_errors_are_not_disguised_as_unavailable(store) -> None:  # type: ignore[no-untyped-def]
    """Only faults a retry can outlast become Unavailable; a broken query stays an error."""
    from chalicelib.errors import Unavailable

    store._conn().execute("DROP TABLE drafts")
    with pytest.raises(sqlite3.Error) as info:
        store.delete_draft("x")
    assert not isinstance(info.value, Unavailable)
