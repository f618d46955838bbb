"""An organisation's target, roadmap, history and export through the API on DynamoDB Local
(issue 18): the target and the step assignments live in the organisation's partition and go
with it."""

from __future__ import annotations

import io
import json
from typing import Any

from chalice.test import Client
from openpyxl import load_workbook

import app as app_module
from chalicelib.container import Container
from chalicelib.exports import CONTENT_TYPES
from chalicelib.storage.dynamodb.organisations import organisation_pk
from tests import orgs

JSON = {"Content-Type": "application/json"}


def _items(store: Any, oid: str) -> list[str]:
    resp = store.client.query(
        TableName=store.table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": organisation_pk(oid)}},
        ConsistentRead=True,
    )
    return sorted(i["SK"]["S"] for i in resp["Items"])


def test_target_roadmap_history_and_erasure_on_dynamodb(
    dynamo_store, catalog, settings, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    app_module.use_container(
        Container(store=dynamo_store, catalog=catalog, settings=settings)
    )
    try:
        with Client(app_module.app, stage_name="local") as c:

            def call(method: str, path: str, body: Any = None, **h: str) -> Any:
                headers = {**(JSON if body is not None else {}), **h}
                return c.http.request(
                    method,
                    path,
                    body=json.dumps(body).encode() if body is not None else b"",
                    headers=headers,
                )

            r = call(
                "POST",
                "/v1/organisations",
                {"name": "Dynamo AG", "profile": dict(orgs.CONTEXT)},
            )
            assert r.status_code == 201, r.body
            oid, token = json.loads(r.body)["id"], json.loads(r.body)["token"]
            owner = {"X-Organisation-Token": token}
            base = f"/v1/organisations/{oid}"
            for rule in (orgs.worst, orgs.best):
                inv = json.loads(
                    call("POST", base + "/respondents", {"role": "x"}, **owner).body
                )["invite_token"]
                answers = {x.id: rule(x) for x in questionnaire.scored_questions}
                r = call(
                    "PUT",
                    "/v1/respondent/answers",
                    {"answers": answers, "submit": True},
                    **{"X-Respondent-Token": inv},
                )
                assert r.status_code == 200, r.body
            r = call("PUT", base + "/target", {"phase": 4, "tier": "safety"}, **owner)
            assert r.status_code == 200, r.body
            step = json.loads(r.body)["steps"][0]
            r = call(
                "PATCH",
                f"{base}/roadmap/steps/{step['question_id']}",
                {"owner": "Leitung", "due_quarter": "2028-Q1"},
                **owner,
            )
            assert r.status_code == 200, r.body
            assert "T" in _items(dynamo_store, oid)  # stored in the partition
            again = json.loads(call("GET", base + "/roadmap", **owner).body)
            assert again["target"]["assignments"] == {
                step["question_id"]: {"owner": "Leitung", "due_quarter": "2028-Q1"}
            }
            assert again["steps"][0]["owner"] == "Leitung"
            assert call("POST", base + "/rounds", **owner).status_code == 201
            hist = json.loads(call("GET", base + "/history", **owner).body)["items"]
            assert [h["round"] for h in hist] == [1]
            r = call(
                "GET",
                base + "/roadmap/export?format=xlsx",
                Accept=CONTENT_TYPES["xlsx"],
                **owner,
            )
            assert r.status_code == 200, r.body
            cells = {
                str(v.value)
                for row in load_workbook(io.BytesIO(r.body))["Roadmap"].iter_rows()
                for v in row
                if v.value
            }
            assert "Leitung" in cells and "2028-Q1" in cells
            assert call("DELETE", base, **owner).status_code == 204
            assert _items(dynamo_store, oid) == []  # the target went with it
            assert dynamo_store.get_target(oid) is None
    finally:
        app_module.use_container(None)
