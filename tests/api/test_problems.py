"""Problem documents everywhere (issue 13, items 2 and 9): deeply nested bodies, strict JSON
types, every query parameter, any Content-Type on bodiless routes, unknown paths and methods,
and the local gateway's own refusals of missing or bad partner keys. Every case is driven by
the OpenAPI table, so a new route is covered without editing this file."""

from __future__ import annotations

import json
import sys
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.openapi import OPERATIONS, Op
from chalicelib.partners import SCOPES, PartnerService
from tests import orgs

ORIGIN = "https://shop.example"
PROBLEM = "application/problem+json"
BODY_OPS = [op for op in OPERATIONS if op.body is not None]
BODILESS_OPS = [op for op in OPERATIONS if op.method in ("get", "delete")]
QUERY_OPS = [(op, q) for op in OPERATIONS for q in op.query]
# a value no query parameter accepts: not an enum member, not an integer
BAD_QUERY_VALUE = "AAA"


def _id(op: Op) -> str:
    return f"{op.method.upper()} {op.path}"


def assert_problem(r: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.body[:300])
    assert r.headers["Content-Type"] == PROBLEM, r.headers
    doc: dict[str, Any] = json.loads(r.body)
    assert doc["status"] == status and doc["type"].startswith("urn:smm:problem:")
    assert doc["title"] and doc["detail"]
    if field is not None:
        named = [e.get("pointer", e.get("parameter")) for e in doc.get("errors", [])]
        assert field in named, named
    return doc


class World:
    """A partner key with every scope, a public assessment with its token, one of the
    partner's assessments and a draft: enough to fill every path parameter."""

    def __init__(self, client: Any, service: Any, q: Any) -> None:
        self.client = client
        self.key, self.record = PartnerService(service.store).create(
            "Acme", list(SCOPES), [ORIGIN]
        )
        self.publishable, _ = PartnerService(service.store).create(
            "Acme",
            ["submit"],
            [ORIGIN],
            partner_id=self.record.partner_id,
            kind="publishable",
        )
        body = json.dumps({"answers": orgs.middling(q)})
        public = client.http.post(
            "/v1/assessments", body=body, headers={"Content-Type": "application/json"}
        ).json_body
        self.token = public["token"]
        own = client.http.post(
            "/v1/partner/assessments", body=body, headers=self.headers()
        ).json_body
        draft = client.http.post(
            "/v1/drafts", body="{}", headers={"Content-Type": "application/json"}
        ).json_body
        organisation = client.http.post(
            "/v1/partner/organisations",
            body=json.dumps({"name": "Acme", "profile": dict(orgs.CONTEXT)}),
            headers=self.headers(),
        ).json_body
        self.owner_token = organisation["token"]
        self.invite_token = client.http.post(
            f"/v1/organisations/{organisation['id']}/respondents",
            body=json.dumps({"role": "marketing"}),
            headers=self.headers(),
        ).json_body["invite_token"]
        self.ids = {
            "oid": organisation["id"],
            "public": public["id"],
            "partner": own["id"],
            "did": draft["id"],
            "key_id": self.record.key_id,
        }

    def headers(self, **extra: str) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.key}",
            "X-Result-Token": self.token,
            "X-Organisation-Token": getattr(self, "owner_token", ""),
            "X-Respondent-Token": getattr(self, "invite_token", ""),
            **extra,
        }

    def path(self, op: Op) -> str:
        aid = self.ids["partner" if op.path.startswith("/v1/partner/") else "public"]
        return (
            op.path.replace("{aid}", aid)
            .replace("{qid}", "smm")
            .replace("{version}", "1.0.0")
            .replace("{did}", self.ids["did"])
            .replace("{oid}", self.ids["oid"])
            .replace("{key_id}", self.ids["key_id"])
            .replace("{asset}", "docs.js")
            .replace("{name}", "app.js")
        )


@pytest.fixture
def world(client, service, questionnaire) -> World:  # type: ignore[no-untyped-def]
    return World(client, service, questionnaire)


# --- item 2: deeply nested JSON -------------------------------------------------------------
def nested(depth: int) -> bytes:
    return b'{"answers": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("op", BODY_OPS, ids=_id)
def test_deeply_nested_body_is_a_400_on_every_body_route(world, op) -> None:  # type: ignore[no-untyped-def]
    """~6 KB of nested arrays made json.loads raise RecursionError: a 500."""
    body = nested(3000)
    assert len(body) > 6000
    r = world.client.http.request(
        op.method.upper(), world.path(op), body=body, headers=world.headers()
    )
    assert_problem(r, 400, "")


@pytest.mark.parametrize("op", BODY_OPS, ids=_id)
def test_nesting_just_below_the_recursion_limit_is_no_500(world, op) -> None:  # type: ignore[no-untyped-def]
    body = nested(sys.getrecursionlimit() - 50)
    r = world.client.http.request(
        op.method.upper(), world.path(op), body=body, headers=world.headers()
    )
    assert r.status_code in (400, 422), r.body[:300]
    assert r.headers["Content-Type"] == PROBLEM


# --- item 9: strict types -------------------------------------------------------------------
STRICT = [
    ("/v1/assessments", "duration_seconds", "900"),
    ("/v1/assessments", "duration_seconds", True),
    ("/v1/assessments", "duration_seconds", 900.5),
    ("/v1/partner/assessments", "duration_seconds", "900"),
    ("/v1/scores", "version", 1),
    ("/v1/scores", "questionnaire", True),
    ("/v1/drafts", "language", 1),
    ("/v1/partner/exports", "assessment_ids", "abc"),
]


@pytest.mark.parametrize(("path", "field", "value"), STRICT)
def test_json_types_are_not_coerced(world, questionnaire, path, field, value) -> None:  # type: ignore[no-untyped-def]
    body: dict[str, Any] = {"answers": orgs.middling(questionnaire), field: value}
    if path.endswith("exports"):
        body = {"kind": "assessments", "format": "csv", field: value}
    r = world.client.http.post(path, body=json.dumps(body), headers=world.headers())
    assert_problem(r, 422, f"/{field}")


def test_every_request_model_is_strict() -> None:
    for op in BODY_OPS:
        assert op.body is not None
        assert op.body.model_config.get("strict") is True, op.body.__name__
        assert op.body.model_config.get("extra") == "forbid", op.body.__name__


def test_an_answer_given_as_a_number_is_refused(world, questionnaire) -> None:  # type: ignore[no-untyped-def]
    answers: dict[str, Any] = orgs.middling(questionnaire)
    answers["size"] = 250
    r = world.client.http.post(
        "/v1/scores", body=json.dumps({"answers": answers}), headers=world.headers()
    )
    assert_problem(r, 422, "/answers/size")


# --- item 9: every query parameter ----------------------------------------------------------
@pytest.mark.parametrize(
    ("op", "name"), QUERY_OPS, ids=[f"{_id(o)} {q}" for o, q in QUERY_OPS]
)
def test_an_unknown_query_value_is_a_422_naming_it(world, op, name) -> None:  # type: ignore[no-untyped-def]
    extra = {}
    if op.binary and op.method == "get":
        extra["Accept"] = "application/pdf"  # the report's default format
    query = {name: BAD_QUERY_VALUE}
    if (
        op.path == "/embed"
    ):  # the widget needs its key; every other parameter is checked
        if name == "reference":
            pytest.skip("any text up to 64 characters is a partner's reference")
        if name != "partner":  # partner= is the session flow's alternative to key=
            query = {"key": world.publishable, **query}
    r = world.client.http.request(
        op.method.upper(),
        f"{world.path(op)}?{urlencode(query)}",
        headers=world.headers(**extra),
    )
    assert_problem(r, 422, name)


@pytest.mark.parametrize(
    "path", ["/v1/assessments/{aid}/progress", "/v1/partner/assessments/{aid}/progress"]
)
def test_progress_without_a_previous_assessment_still_checks_source(
    world, path
) -> None:  # type: ignore[no-untyped-def]
    """Issue 13: ?source=AAA answered 200 when there was nothing to compare."""
    op = next(o for o in OPERATIONS if o.path == path)
    r = world.client.http.get(world.path(op) + "?source=AAA", headers=world.headers())
    assert_problem(r, 422, "source")


@pytest.mark.parametrize("name", ["industry", "size", "region", "value"])
def test_an_empty_query_value_is_refused(world, name) -> None:  # type: ignore[no-untyped-def]
    r = world.client.http.get(
        f"/v1/partner/benchmarks/smm/1.0.0/statistics?{name}=",
        headers=world.headers(),
    )
    assert_problem(r, 422, name)


def test_source_is_case_sensitive_like_every_enum(world) -> None:  # type: ignore[no-untyped-def]
    r = world.client.http.get("/v1/benchmarks/smm/1.0.0?source=REAL")
    assert_problem(r, 422, "source")


# --- item 9: any Content-Type on routes without a body ---------------------------------------
@pytest.mark.parametrize("op", BODILESS_OPS, ids=_id)
def test_a_bodiless_route_ignores_the_content_type(world, op) -> None:  # type: ignore[no-untyped-def]
    """Chalice answered its own 415 ({"Code": "UnsupportedMediaType"}) before the route ran."""
    r = world.client.http.request(
        op.method.upper(),
        world.path(op),
        headers=world.headers(**{"Content-Type": "text/plain; charset=utf-8"}),
    )
    assert r.status_code != 415, r.body[:300]
    if r.status_code >= 400:
        assert r.headers["Content-Type"] == PROBLEM


def test_preflight_ignores_the_content_type(world) -> None:  # type: ignore[no-untyped-def]
    r = world.client.http.request(
        "OPTIONS",
        "/v1/partner/assessments",
        headers={"Origin": ORIGIN, "Content-Type": "text/plain"},
    )
    assert r.status_code == 204


# --- item 9: unknown paths and methods, the gateway's refusals -------------------------------
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nonsense"}],
    ids=["anonymous", "with-authorization"],
)
@pytest.mark.parametrize(
    "path", ["/nope", "/v1/assessments/a/b/c", "/v1/partner/nothing", "/v1"]
)
def test_an_unknown_path_is_a_404_problem(client, path, headers) -> None:  # type: ignore[no-untyped-def]
    """chalice local (like API Gateway) answered 403 {"message": "Missing Authentication Token"}."""
    r = client.http.get(path, headers=headers)
    assert_problem(r, 404)


def test_an_unrouted_method_is_a_405_problem_with_allow(client) -> None:  # type: ignore[no-untyped-def]
    r = client.http.request("PATCH", "/v1/assessments", body=b"{}", headers={})
    assert_problem(r, 405)
    assert r.headers["Allow"] == "POST"


def test_a_missing_partner_key_is_a_401_problem_with_cors(world) -> None:  # type: ignore[no-untyped-def]
    r = world.client.http.get(
        "/v1/partner/keys", headers={"Origin": ORIGIN, "Content-Type": "text/plain"}
    )
    assert_problem(r, 401, "Authorization")
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in r.headers["Vary"]


def test_a_bad_partner_key_is_a_403_problem_with_cors(world) -> None:  # type: ignore[no-untyped-def]
    r = world.client.http.get(
        "/v1/partner/keys",
        headers={
            "Origin": ORIGIN,
            "Authorization": "Bearer smmk_000000000000_" + "x" * 43,
        },
    )
    assert_problem(r, 403, "Authorization")
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_the_gateway_refusals_send_no_cors_to_unregistered_origins(world) -> None:  # type: ignore[no-untyped-def]
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "https://evil.example", "Authorization": "Bearer nonsense"},
    ):
        r = world.client.http.get("/v1/partner/keys", headers=headers)
        assert r.status_code in (401, 403)
        assert r.headers["Content-Type"] == PROBLEM
        assert "Access-Control-Allow-Origin" not in r.headers


def test_an_integral_number_is_an_integer(world, questionnaire) -> None:  # type: ignore[no-untyped-def]
    """JSON Schema (and so the OpenAPI document) counts 900.0 as an integer: accepted as 900."""
    body = {"answers": orgs.middling(questionnaire), "duration_seconds": 900.0}
    r = world.client.http.post(
        "/v1/assessments", body=json.dumps(body), headers=world.headers()
    )
    assert r.status_code == 201, r.body[:300]
