"""Issue 15, item 4 on SQLite: 16 threads x 50 submissions through the real service (20%
retried with the same Idempotency-Key, half of those concurrently with the original), erasures
(some twice), aggregator runs from several threads at once and already-folded outbox rows
replayed while it all happens. Afterwards every cell of every grid equals a direct count of
the surviving included assessments, and its ``changes``/``removals`` equal the events applied.
Also: erasure through the public API drops the cells (the API test client)."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from chalicelib.aggregation import AggregateKey, Grid, image_of, parse_image
from chalicelib.config import Settings
from chalicelib.container import Container
from chalicelib.errors import Conflict, NotFound
from chalicelib.questionnaire import Questionnaire
from chalicelib.request_models import SubmissionIn
from chalicelib.storage import codec
from chalicelib.storage.sqlite import SqliteStore
from tests import orgs
from tests.cells import drain, of_records, stored_counts
from tests.conftest import SECRET

THREADS, PER_THREAD = 16, 50


def random_answers(q: Questionnaire, rng: random.Random) -> dict[str, str]:
    answers = {}
    for x in q.questions:
        if x.kind == "context" and x.role == "consent":
            answers[x.id] = "no" if rng.random() < 0.1 else "yes"
        elif x.kind == "context" and x.role == "industry":
            answers[x.id] = rng.choice(
                [o.id for o in x.options][:3]
            )  # cells share rows
        else:
            answers[x.id] = rng.choice([o.id for o in x.options])
    return answers


def _keys(rec: Any) -> tuple[AggregateKey, ...]:
    return parse_image(image_of(rec)).aggregate_keys()


def test_concurrent_submissions_retries_erasures_and_replays_fold_exactly(  # type: ignore[no-untyped-def]
    tmp_path: Path, catalog, questionnaire
) -> None:
    store = SqliteStore(str(tmp_path / "load.sqlite3"))
    service = Container(
        store=store,
        catalog=catalog,
        settings=Settings(secret=SECRET, aggregate_inline=True),
    ).assessments
    lock = threading.Lock()
    created: Counter[str] = Counter()  # assessment id -> accepted as new
    erased: list[Any] = []
    stored: dict[str, Any] = {}
    errors: list[BaseException] = []

    def submit(body: SubmissionIn, key: str) -> Any:
        for _ in range(5):
            try:
                return service.submit(body, idempotency_key=key)
            except Conflict:  # "being used concurrently; retry"
                continue
        raise AssertionError("the key stayed in use")

    def twin(
        start: threading.Barrier, out: list[Any], body: SubmissionIn, key: str
    ) -> None:
        start.wait()
        out.append(submit(body, key))

    def record_outcome(done: Any) -> None:
        with lock:
            stored[done.view.id] = done.view.record
            if done.created:
                created[done.view.id] += 1

    def client(t: int) -> None:
        rng = random.Random(t)
        try:
            for _ in range(PER_THREAD):
                body = SubmissionIn.model_validate(
                    {"answers": random_answers(questionnaire, rng)}
                )
                key = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                roll = rng.random()
                if roll < 0.1:  # a retry concurrent with the original
                    start = threading.Barrier(2)
                    twins: list[Any] = []
                    other = threading.Thread(
                        target=twin, args=(start, twins, body, key)
                    )
                    other.start()
                    start.wait()
                    done = submit(body, key)
                    other.join(60)
                    assert twins and twins[0].view.id == done.view.id
                    record_outcome(twins[0])
                else:
                    done = submit(body, key)
                    if roll < 0.2:  # a retry after the answer was lost
                        again = submit(body, key)
                        assert again.view.id == done.view.id and not again.created
                record_outcome(done)
                if rng.random() < 0.15:
                    service.erase(done.view.id, done.view.token)
                    with lock:
                        erased.append(done.view.record)
                    if rng.random() < 0.3:
                        try:
                            service.erase(done.view.id, done.view.token)
                            raise AssertionError("erased twice")
                        except NotFound:
                            pass
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    stop = threading.Event()
    replayed = 0

    def aggregator(n: int) -> None:
        rng = random.Random(100 + n)
        try:
            while not stop.is_set():
                store.aggregate_pending(limit=rng.randint(1, 40))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def replayer() -> None:
        """Re-insert outbox rows after they were folded (a redelivery), with their seq."""
        nonlocal replayed
        seen: dict[int, tuple[Any, ...]] = {}
        conn = sqlite3.connect(store.path, timeout=30)
        try:
            while not stop.is_set():
                rows = conn.execute(
                    "SELECT seq, item_id, op, old_image, new_image FROM stream_outbox"
                ).fetchall()
                live = {r[0] for r in rows}
                seen.update((r[0], r) for r in rows)
                gone = [r for s, r in seen.items() if s not in live]
                if gone:
                    batch = gone[:20]
                    with conn:
                        conn.executemany(
                            "INSERT OR IGNORE INTO stream_outbox"
                            " (seq, item_id, op, old_image, new_image)"
                            " VALUES (?, ?, ?, ?, ?)",
                            batch,
                        )
                    replayed += len(batch)
                    for r in batch:
                        del seen[r[0]]
                stop.wait(0.01)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            conn.close()

    helpers = [threading.Thread(target=aggregator, args=(n,)) for n in range(3)]
    helpers.append(threading.Thread(target=replayer))
    clients = [threading.Thread(target=client, args=(t,)) for t in range(THREADS)]
    for th in helpers + clients:
        th.start()
    for th in clients:
        th.join(600)
    stop.set()
    for th in helpers:
        th.join(60)
    assert not errors, errors[:3]
    drain(store)

    assert len(stored) == THREADS * PER_THREAD  # every key made one assessment ...
    assert set(created.values()) == {1}  # ... accepted as new exactly once
    assert replayed > 0  # the replays did happen
    assert store.pending_records() == 0 and store.dead_letters() == []
    erased_ids = {r.id for r in erased}
    surviving = [r for aid, r in stored.items() if aid not in erased_ids]
    assert {r.id for r in surviving} == _stored_ids(store)
    included = [r for r in stored.values() if r.included]
    assert 0 < len(included) < len(stored)  # some excluded (no consent)
    grids = {g for r in included for g, _ in _keys(r)}
    assert set(store.list_grids()) == grids
    changes: Counter[AggregateKey] = Counter()
    removals: Counter[AggregateKey] = Counter()
    for r in included:
        changes.update(_keys(r))
    for r in erased:
        if r.included:
            changes.update(_keys(r))
            removals.update(_keys(r))
    for grid in grids:
        cells = store.read_grid(grid)
        assert stored_counts(cells) == of_records(surviving, grid)
        for cell, state in cells.items():
            assert state.changes == changes[(grid, cell)], cell
            assert state.removals == removals[(grid, cell)], cell
    store.close()


def _stored_ids(store: SqliteStore) -> set[str]:
    with sqlite3.connect(store.path) as c:
        return {
            codec.record_from_json(b).id
            for (b,) in c.execute("SELECT body FROM assessments")
        }


def test_erasure_through_the_api_drops_the_cells(
    client, sqlite_store, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    grid = Grid("real", questionnaire.id, questionnaire.version)
    posted = []
    for answers in (orgs.middling(questionnaire), orgs.build(questionnaire, orgs.best)):
        r = client.http.post(
            "/v1/assessments",
            body=json.dumps({"answers": answers}),
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 201, r.body
        posted.append(r.json_body)
    before = store_cells = sqlite_store.read_grid(grid)
    kept, gone = (sqlite_store.get_assessment(p["id"]) for p in posted)
    assert stored_counts(store_cells) == of_records([kept, gone], grid)
    r = client.http.delete(
        f"/v1/assessments/{posted[1]['id']}",
        headers={"X-Result-Token": posted[1]["token"]},
    )
    assert r.status_code == 204
    after = sqlite_store.read_grid(grid)
    assert stored_counts(after) == of_records([kept], grid)
    for cell, state in after.items():  # every cell of the erased one lost it
        assert state.count == before[cell].count - 1
        assert state.removals == before[cell].removals + 1
