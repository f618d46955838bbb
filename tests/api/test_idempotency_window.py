"""Idempotency keys have Stripe semantics (issue 17, item 4): scoped per partner, the same key
and body replay the original response, another body is a 409, and a key is kept 24 h from its
first use: after that the same key creates a new assessment. The service clock is the test's."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.partners import PartnerService
from tests import orgs

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def keys(service):  # type: ignore[no-untyped-def]
    ps = PartnerService(service.store)
    a, rec = ps.create("A", ["submit", "read"], [], "premium")
    b, _ = ps.create("B", ["submit", "read"], [], "premium")
    return {"a": a, "b": b, "a_id": rec.partner_id}


def post(client: Any, key: str | None, idem: str, body: dict[str, Any]) -> Any:
    h = {**JSON, "Idempotency-Key": idem}
    path = "/v1/assessments"
    if key is not None:
        h["Authorization"] = f"Bearer {key}"
        path = "/v1/partner/assessments"
    return client.http.post(path, body=json.dumps(body), headers=h)


def test_same_key_and_body_replay_the_original_response(
    client, keys, questionnaire, sqlite_store
) -> None:  # type: ignore[no-untyped-def]
    body = {"answers": orgs.middling(questionnaire)}
    first = post(client, keys["a"], "order-42", body)
    again = post(client, keys["a"], "order-42", body)
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (
        again.json_body == first.json_body
    )  # id, token, result: the original response
    assert sqlite_store.count_assessments() == 1


def test_same_key_with_another_body_is_409(client, keys, questionnaire) -> None:  # type: ignore[no-untyped-def]
    post(client, keys["a"], "order-42", {"answers": orgs.middling(questionnaire)})
    other = post(
        client, keys["a"], "order-42", {"answers": orgs.up_to_phase(questionnaire, 3)}
    )
    assert other.status_code == 409, other.body
    assert other.headers["Content-Type"] == "application/problem+json"
    assert other.json_body["errors"][0]["parameter"] == "Idempotency-Key"


def test_keys_are_scoped_per_partner(client, keys, questionnaire) -> None:  # type: ignore[no-untyped-def]
    body = {"answers": orgs.middling(questionnaire)}
    a = post(client, keys["a"], "order-42", body)
    b = post(
        client, keys["b"], "order-42", {"answers": orgs.up_to_phase(questionnaire, 3)}
    )
    assert (
        a.status_code == b.status_code == 201
    )  # B's other body is no conflict with A's
    assert a.json_body["id"] != b.json_body["id"]


@pytest.mark.parametrize("anonymous", [False, True], ids=["partner", "anonymous"])
def test_a_key_is_kept_24_hours_then_creates_a_new_assessment(  # type: ignore[no-untyped-def]
    client, keys, questionnaire, clock, sqlite_store, anonymous
) -> None:
    key = None if anonymous else keys["a"]
    idem = str(uuid.uuid4())
    body = {"answers": orgs.middling(questionnaire)}
    start = clock.now
    first = post(client, key, idem, body)
    assert first.status_code == 201
    clock.now = start + timedelta(hours=24) - timedelta(seconds=1)
    late_replay = post(client, key, idem, body)
    assert late_replay.status_code == 200
    assert late_replay.json_body["id"] == first.json_body["id"]
    clock.now = start + timedelta(hours=24)
    fresh = post(client, key, idem, body)
    assert fresh.status_code == 201, fresh.body
    assert fresh.json_body["id"] != first.json_body["id"]
    assert fresh.json_body["token"] != first.json_body["token"]
    # the new use is kept 24 h from now: it replays, a different body is a 409
    clock.now = start + timedelta(hours=30)
    again = post(client, key, idem, body)
    assert again.status_code == 200 and again.json_body["id"] == fresh.json_body["id"]
    other = {"answers": orgs.up_to_phase(questionnaire, 3)}
    assert post(client, key, idem, other).status_code == 409
    # after the second window a different body is simply a new assessment
    clock.now = start + timedelta(hours=48)
    third = post(client, key, idem, other)
    assert third.status_code == 201
    assert (
        len({first.json_body["id"], fresh.json_body["id"], third.json_body["id"]}) == 3
    )
    assert sqlite_store.count_assessments() == 3
    # every one is still readable with its own token
    for r in (first, fresh, third):
        got = client.http.get(
            f"/v1/assessments/{r.json_body['id']}",
            headers={"X-Result-Token": r.json_body["token"]},
        )
        assert got.status_code == 200


def test_a_record_stored_before_key_entries_still_replays(
    client, service, questionnaire, clock, sqlite_store
) -> None:  # type: ignore[no-untyped-def]
    """Assessments stored before keys had entries (or whose entry the DynamoDB TTL deleted)
    are found by their id: within 24 h a replay, after that a new assessment."""
    idem = str(uuid.uuid4())
    body = {"answers": orgs.middling(questionnaire)}
    first = post(client, None, idem, body)
    sqlite_store._conn().execute("DELETE FROM idempotency_keys")  # the layout before
    assert post(client, None, idem, body).json_body["id"] == first.json_body["id"]
    sqlite_store._conn().execute("DELETE FROM idempotency_keys")
    clock.now += timedelta(hours=25)
    later = post(client, None, idem, body)
    assert later.status_code == 201 and later.json_body["id"] != first.json_body["id"]


def test_erased_assessment_keeps_its_key_for_24_hours(
    client, keys, questionnaire, clock
) -> None:  # type: ignore[no-untyped-def]
    body = {"answers": orgs.middling(questionnaire)}
    first = post(client, keys["a"], "k1", body)
    h = {"Authorization": f"Bearer {keys['a']}"}
    assert (
        client.http.delete(
            f"/v1/partner/assessments/{first.json_body['id']}", headers=h
        ).status_code
        == 204
    )
    assert post(client, keys["a"], "k1", body).status_code == 409
    clock.now += timedelta(hours=24)
    assert post(client, keys["a"], "k1", body).status_code == 201


def test_concurrent_first_uses_make_one_assessment(
    service, questionnaire, sqlite_store
) -> None:  # type: ignore[no-untyped-def]
    """Eight threads send the same new key at once (and again after the 24 h): one creates,
    the others replay it; the key's entry is taken in the assessment's own write."""
    import threading

    from chalicelib.request_models import SubmissionIn

    body = SubmissionIn.model_validate({"answers": orgs.middling(questionnaire)})
    for round_ in range(2):
        results: list[Any] = []
        barrier = threading.Barrier(8)

        def send(barrier: threading.Barrier, results: list[Any]) -> None:
            barrier.wait()
            results.append(
                service.submit(body, "shared-key", partner_id="p_concurrent")
            )

        threads = [
            threading.Thread(target=send, args=(barrier, results)) for _ in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert len(results) == 8
        assert sum(r.created for r in results) == 1, round_
        assert len({r.view.id for r in results}) == 1
        assert len({r.view.token for r in results}) == 1
        service.clock.now += timedelta(hours=24)
    assert sqlite_store.count_assessments() == 2
