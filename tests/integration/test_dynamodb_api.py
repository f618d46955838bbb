"""The whole API on DynamoDB Local: a storage outage becomes a 503 problem with Retry-After and
leaves nothing half-written; normal traffic works end to end."""

from __future__ import annotations

import json
import uuid
from typing import Any

from chalice.test import Client

import app as app_module
from chalicelib.assessments import AssessmentService
from chalicelib.container import Container
from tests import orgs
from tests.integration.test_dynamodb import (
    FaultyClient,
    error,
    fail,
    faulty_store,
    snapshot,
)

JSON = {"Content-Type": "application/json"}


def _client(store: Any, catalog: Any, settings: Any) -> Client:
    app_module.use_container(Container(store=store, catalog=catalog, settings=settings))
    return Client(app_module.app, stage_name="local")


def test_outage_is_a_503_with_retry_after_and_writes_nothing(
    dynamo_store, dynamodb_client, catalog, settings, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(dynamo_store)
    throttled = fail(error("ProvisionedThroughputExceededException", op="PutItem"))
    faulty = FaultyClient(dynamodb_client, put_item=[throttled] * 10)
    store = faulty_store(dynamo_store, faulty, max_attempts=3)
    try:
        with _client(store, catalog, settings) as c:
            body = json.dumps({"answers": orgs.middling(questionnaire)})
            r = c.http.post("/v1/assessments", body=body, headers=JSON)
    finally:
        app_module.use_container(None)
    assert r.status_code == 503
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.headers["Retry-After"] == "1"
    assert json.loads(r.body)["status"] == 503
    assert len(faulty.calls["put_item"]) == 3  # bounded retries
    assert snapshot(dynamo_store) == before  # nothing half-written


def test_submit_compare_erase_on_dynamodb(
    dynamo_store, catalog, settings, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    svc = AssessmentService(dynamo_store, catalog, settings)
    Container.of(svc).benchmarks.seed_reference(questionnaire, 300, 5)
    key = str(uuid.uuid4())  # anonymous idempotency keys must be random
    try:
        with _client(dynamo_store, catalog, settings) as c:
            app_module.use_container(Container.of(svc))
            r = c.http.post(
                "/v1/assessments",
                body=json.dumps({"answers": orgs.up_to_phase(questionnaire, 4)}),
                headers={**JSON, "Idempotency-Key": key},
            )
            assert r.status_code == 201, r.body
            a = json.loads(r.body)
            again = c.http.post(
                "/v1/assessments",
                body=json.dumps({"answers": orgs.up_to_phase(questionnaire, 4)}),
                headers={**JSON, "Idempotency-Key": key},
            )
            assert again.status_code == 200 and json.loads(again.body)["id"] == a["id"]
            t = {"X-Result-Token": a["token"]}
            cmp = c.http.get(f"/v1/assessments/{a['id']}/comparison", headers=t)
            assert cmp.status_code == 200
            assert json.loads(cmp.body)["source"] == "reference"
            assert (
                c.http.delete(f"/v1/assessments/{a['id']}", headers=t).status_code
                == 204
            )
            assert (
                c.http.get(f"/v1/assessments/{a['id']}", headers=t).status_code == 404
            )
    finally:
        app_module.use_container(None)


def test_partner_conventions_on_dynamodb(
    dynamo_store, catalog, settings, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    """Issue 17 on DynamoDB Local: the 24 h idempotency window, rate-limit headers and a 429
    at the exact limit, and the paged list through the partner-created index."""
    from datetime import UTC, datetime, timedelta

    from chalicelib import ratelimit
    from chalicelib.partners import PartnerService

    free = ratelimit.PLANS["free"]
    now = [datetime(2026, 11, 23, 10, 0, tzinfo=UTC)]
    svc = AssessmentService(dynamo_store, catalog, settings, clock=lambda: now[0])
    key, _ = PartnerService(dynamo_store).create("A", ["submit", "read"], [], "free")
    other, _ = PartnerService(dynamo_store).create("B", ["read"], [], "free")
    h = {**JSON, "Authorization": f"Bearer {key}"}
    body = json.dumps({"answers": orgs.middling(questionnaire)})
    try:
        with _client(dynamo_store, catalog, settings) as c:
            app_module.use_container(Container.of(svc))
            ids = []
            for i in range(3):
                now[0] += timedelta(minutes=1)
                r = c.http.post(
                    "/v1/partner/assessments",
                    body=body,
                    headers={**h, "Idempotency-Key": f"k{i % 2}"},
                )
                ids.append(json.loads(r.body)["id"])
                assert r.status_code == (201 if i < 2 else 200), r.body
                assert r.headers["RateLimit-Policy"].startswith('"rate";q=120;w=60')
            assert ids[2] == ids[0]  # a replay within 24 h
            now[0] += timedelta(hours=24)
            fresh = c.http.post(
                "/v1/partner/assessments",
                body=body,
                headers={**h, "Idempotency-Key": "k0"},
            )
            assert fresh.status_code == 201 and json.loads(fresh.body)["id"] not in ids
            first = c.http.get("/v1/partner/assessments?limit=2", headers=h)
            page = json.loads(first.body)
            assert [i["id"] for i in page["items"]] == [
                json.loads(fresh.body)["id"],
                ids[1],
            ]
            rest = c.http.get(
                f"/v1/partner/assessments?limit=2&cursor={page['next_cursor']}",
                headers=h,
            )
            assert [i["id"] for i in json.loads(rest.body)["items"]] == [ids[0]]
            stolen = c.http.get(
                f"/v1/partner/assessments?cursor={page['next_cursor']}",
                headers={"Authorization": f"Bearer {other}"},
            )
            assert stolen.status_code == 422
            ratelimit.PLANS["free"] = ratelimit.Plan(1, 1, 2, "DAY")
            b = {"Authorization": f"Bearer {other}"}
            assert c.http.get("/v1/partner/assessments", headers=b).status_code == 200
            over = c.http.get("/v1/partner/assessments", headers=b)
            # 10:03 the next day: the day's quota starts again at midnight UTC
            assert over.status_code == 429
            assert over.headers["Retry-After"] == str(13 * 3600 + 57 * 60)
    finally:
        ratelimit.PLANS["free"] = free
        app_module.use_container(None)
