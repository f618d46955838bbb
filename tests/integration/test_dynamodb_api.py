"""The whole API on DynamoDB Local: a storage outage becomes a 503 problem with Retry-After and
leaves nothing half-written; normal traffic works end to end."""

from __future__ import annotations

import json
import uuid
from typing import Any

from chalice.test import Client

import app as app_module
from chalicelib.insights import BenchmarkService
from chalicelib.service import AssessmentService
from tests import orgs
from tests.integration.test_dynamodb import (
    FaultyClient,
    cancelled,
    fail,
    faulty_store,
    snapshot,
)

JSON = {"Content-Type": "application/json"}


def _client(store: Any, catalog: Any, settings: Any) -> Client:
    app_module.reset_service(AssessmentService(store, catalog, settings))
    return Client(app_module.app, stage_name="local")


def test_outage_is_a_503_with_retry_after_and_writes_nothing(
    dynamo_store, dynamodb_client, catalog, settings, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(dynamo_store)
    conflict = fail(cancelled("None", *["TransactionConflict"] * 8))
    faulty = FaultyClient(dynamodb_client, transact_write_items=[conflict] * 10)
    store = faulty_store(dynamo_store, faulty, max_attempts=3)
    try:
        with _client(store, catalog, settings) as c:
            body = json.dumps({"answers": orgs.middling(questionnaire)})
            r = c.http.post("/v1/assessments", body=body, headers=JSON)
    finally:
        app_module.reset_service(None)
    assert r.status_code == 503
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.headers["Retry-After"] == "1"
    assert json.loads(r.body)["status"] == 503
    assert len(faulty.calls["transact_write_items"]) == 3  # bounded retries
    assert snapshot(dynamo_store) == before  # nothing half-written


def test_submit_compare_erase_on_dynamodb(
    dynamo_store, catalog, settings, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    svc = AssessmentService(dynamo_store, catalog, settings)
    BenchmarkService(svc).seed_reference(questionnaire, 300, 5)
    key = str(uuid.uuid4())  # anonymous idempotency keys must be random
    try:
        with _client(dynamo_store, catalog, settings) as c:
            app_module.reset_service(svc)
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
        app_module.reset_service(None)
