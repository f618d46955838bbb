"""Authorisation of the organisation workspace as a route matrix (issue 18): every
organisation route x every kind of caller, each with its expected status, and the tenant
isolation attacks (guessed ids, a respondent's token on the owner's routes, one
organisation's token on another). Adding an organisation route without an entry fails."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

import app as app_module
from chalicelib.organisation_models import (
    OrganisationIn,
    RespondentAnswersIn,
    RespondentIn,
)
from chalicelib.partners import PartnerService
from tests import orgs

CALLERS = (
    "anonymous",
    "owner",
    "respondent",  # the organisation's own respondent, X-Respondent-Token
    "respondent_as_owner",  # that invite token sent as X-Organisation-Token
    "owner_as_respondent",  # the owner token sent as X-Respondent-Token
    "other_owner",  # another organisation's owner token
    "other_respondent",  # another organisation's respondent
    "result_token",  # the result token of the organisation's own round assessment
    "partner",  # the partner managing the organisation (scope organisations)
    "partner_without_scope",  # the same partner, a key without the scope
    "other_partner",  # another partner with the scope
)
NO_PARTNER = ("partner", "partner_without_scope", "other_partner")


def owner_route(ok: int) -> dict[str, int]:
    out = dict.fromkeys(CALLERS, 401)
    out.update(owner=ok, respondent_as_owner=404, other_owner=404)
    return out


def respondent_route(ok: int) -> dict[str, int]:
    out = dict.fromkeys(CALLERS, 401)
    # each respondent reaches only their own invitation (the other one: theirs)
    out.update(respondent=ok, other_respondent=ok, owner_as_respondent=404)
    return out


def partner_route(ok: int) -> dict[str, int]:
    out = dict.fromkeys(CALLERS, 401)  # no Authorization: the gateway's 401
    out.update(partner=ok, partner_without_scope=403, other_partner=404)
    return out


O = "/v1/organisations/{oid}"
P = "/v1/partner/organisations"
MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("POST", "/v1/organisations"): dict.fromkeys(CALLERS, 201),
    ("GET", O): owner_route(200),
    ("DELETE", O): owner_route(204),
    ("POST", O + "/respondents"): owner_route(201),
    ("GET", O + "/answers"): owner_route(200),
    ("GET", O + "/result"): owner_route(200),
    ("POST", O + "/rounds"): owner_route(201),
    ("GET", O + "/rounds"): owner_route(200),
    ("PUT", O + "/target"): owner_route(200),
    ("GET", O + "/roadmap"): owner_route(200),
    ("PATCH", O + "/roadmap/steps/{qid}"): owner_route(200),
    ("GET", O + "/roadmap/export"): owner_route(200),
    ("GET", O + "/history"): owner_route(200),
    ("GET", "/v1/respondent"): respondent_route(200),
    ("PUT", "/v1/respondent/answers"): respondent_route(200),
    ("POST", P): {**partner_route(201), "other_partner": 201},
    ("GET", P): {**partner_route(200), "other_partner": 200},  # its own list
    ("GET", P + "/{oid}"): partner_route(200),
    ("DELETE", P + "/{oid}"): partner_route(204),
    ("POST", P + "/{oid}/respondents"): partner_route(201),
    ("GET", P + "/{oid}/result"): partner_route(200),
    ("POST", P + "/{oid}/rounds"): partner_route(201),
    ("GET", P + "/{oid}/rounds"): partner_route(200),
    ("PUT", P + "/{oid}/target"): partner_route(200),
    ("GET", P + "/{oid}/roadmap"): partner_route(200),
    ("PATCH", P + "/{oid}/roadmap/steps/{qid}"): partner_route(200),
    ("GET", P + "/{oid}/roadmap/export"): partner_route(200),
    ("GET", P + "/{oid}/history"): partner_route(200),
}


def organisation_routes() -> set[tuple[str, str]]:
    return {
        (m, p)
        for p, methods in app_module.app.routes.items()
        for m in methods
        if m != "OPTIONS" and (p.startswith(("/v1/organisations", P, "/v1/respondent")))
    }


def test_every_organisation_route_has_an_entry() -> None:
    assert organisation_routes() == set(MATRIX)


class World:
    """Partner A (a key with the scope, one without), partner B; per request a fresh
    organisation managed by A with its owner token, one respondent who submitted and a
    closed round, and another organisation with its own owner and respondent."""

    def __init__(self, client: Any, service: Any, q: Any) -> None:
        self.client, self.q, self.service = client, q, service
        ps = PartnerService(service.store)
        self.partner_key, rec = ps.create("A", ["organisations"], [])
        self.a_id = rec.partner_id
        self.no_scope_key = ps.create("A", ["read"], [], partner_id=self.a_id)[0]
        self.other_partner_key = ps.create("B", ["organisations"], [])[0]
        self.other_owner, self.other_respondent, _ = self.organisation(None)

    def organisation(self, partner_id: str | None) -> tuple[str, str, str]:
        """(owner token, invite token, result token of round 1); the open round 2 has the
        respondent's submitted answers again, so it can be closed too."""
        services = app_module.container().organisations
        view = services.create(
            OrganisationIn(name="Org", profile=dict(orgs.CONTEXT)), partner_id
        )
        org = view.organisation
        respondent, invite = services.invite(org, RespondentIn(role="all"))
        answers = RespondentAnswersIn(
            answers={x.id: orgs.middle(x) for x in self.q.scored_questions}, submit=True
        )
        services.save_answers(org, respondent, answers)
        closed = services.close_round(org)
        org = services.authorize(org.id, view.token)
        services.save_answers(org, respondent, answers)
        from chalicelib.request_models import TargetIn

        app_module.container().organisation_roadmaps.set_target(
            org, TargetIn(phase=4, tier="formation")
        )
        assert view.token is not None
        return view.token, invite, closed.result_token

    def headers(
        self, caller: str, owner: str, invite: str, result: str
    ) -> dict[str, str]:
        h = {"Content-Type": "application/json"}
        header = {
            "owner": ("X-Organisation-Token", owner),
            "respondent": ("X-Respondent-Token", invite),
            "respondent_as_owner": ("X-Organisation-Token", invite),
            "owner_as_respondent": ("X-Respondent-Token", owner),
            "other_owner": ("X-Organisation-Token", self.other_owner),
            "other_respondent": ("X-Respondent-Token", self.other_respondent),
            "result_token": ("X-Result-Token", result),
            "partner": ("Authorization", "Bearer " + self.partner_key),
            "partner_without_scope": ("Authorization", "Bearer " + self.no_scope_key),
            "other_partner": ("Authorization", "Bearer " + self.other_partner_key),
        }.get(caller)
        if header is not None:
            h[header[0]] = header[1]
        return h

    def request(self, caller: str, method: str, path: str) -> Any:
        owner, invite, result = self.organisation(self.a_id)
        oid = owner.split(".")[0]
        body: Any = None
        headers = self.headers(caller, owner, invite, result)
        if path.endswith("/roadmap/export"):
            path += "?format=xlsx"
            headers["Accept"] = (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )
        if method == "PATCH":
            body = {"owner": "Leitung Service", "due_quarter": "2027-Q3"}
        elif method in ("POST", "PUT"):
            if path.endswith("/target"):
                body = {"phase": 3, "dimensions": {"crisis": 60}}
            elif path.endswith("/organisations"):
                body = {"name": "New", "profile": dict(orgs.CONTEXT)}
            elif path.endswith("/respondents"):
                body = {"role": "service", "sections": ["listening"]}
            elif path.endswith("/answers"):
                body = {"answers": {}}
        qid = self.q.scored_questions[0].id
        return self.client.http.request(
            method,
            path.replace("{oid}", oid).replace("{qid}", qid),
            body=json.dumps(body).encode() if body is not None else b"",
            headers=headers,
        )


@pytest.fixture
def world(client, service, questionnaire):  # type: ignore[no-untyped-def]
    return World(client, service, questionnaire)


@pytest.mark.parametrize(
    ("method", "path"), sorted(MATRIX), ids=[f"{m} {p}" for m, p in sorted(MATRIX)]
)
def test_organisation_matrix(world, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    failures = []
    for caller, expected in MATRIX[(method, path)].items():
        r = world.request(caller, method, path)
        if r.status_code != expected:
            failures.append(
                f"{caller}: expected {expected}, got {r.status_code} {r.body[:160]!r}"
            )
        if r.status_code >= 400:
            assert r.headers.get("Content-Type") == "application/problem+json", (
                caller,
                r.body,
            )
    assert not failures, "\n".join(failures)


# --- attacks ----------------------------------------------------------------------------------
def _problem(r: Any) -> dict[str, Any]:
    doc = dict(json.loads(r.body))
    doc.pop("instance", None)
    return doc


def test_a_guessed_id_answers_like_another_organisation(world) -> None:  # type: ignore[no-untyped-def]
    owner, _, _ = world.organisation(None)
    victim = world.other_owner.split(".")[0]
    answers = []
    for oid in (
        victim,
        secrets.token_hex(16),
        "0" * 32,
        "x",
        "a" * 64,
        "..%2F..%2Fetc",
    ):
        r = world.client.http.get(
            f"/v1/organisations/{oid}/result", headers={"X-Organisation-Token": owner}
        )
        answers.append((r.status_code, _problem(r)))
    assert len({json.dumps(a, sort_keys=True) for a in answers}) == 1
    assert answers[0][0] == 404


def test_forged_tokens_are_refused(world) -> None:  # type: ignore[no-untyped-def]
    owner, invite, _ = world.organisation(None)
    oid = owner.split(".")[0]
    _, rid, secret = invite.split(".")
    other_oid = world.other_owner.split(".")[0]
    forged_owner = [
        f"{oid}.{secret}",  # the invite's secret as the owner's
        f"{oid}." + "A" * 43,
        owner + "x",
        world.other_owner.replace(other_oid, oid),  # another org's secret on this id
    ]
    for token in forged_owner:
        r = world.client.http.get(
            f"/v1/organisations/{oid}", headers={"X-Organisation-Token": token}
        )
        assert r.status_code == 404, token
    forged_invite = [
        f"{other_oid}.{rid}.{secret}",  # moved to another organisation
        f"{oid}.{rid}." + "A" * 43,
        f"{oid}.{rid}",
        invite + ".x",
        owner,
    ]
    for token in forged_invite:
        r = world.client.http.get(
            "/v1/respondent", headers={"X-Respondent-Token": token}
        )
        assert r.status_code == 404, token


def test_a_partner_lists_only_its_own_organisations(world) -> None:  # type: ignore[no-untyped-def]
    owner, _, _ = world.organisation(world.a_id)
    world.organisation(None)  # nobody's list
    mine = owner.split(".")[0]
    r = world.client.http.get(
        P, headers={"Authorization": "Bearer " + world.partner_key}
    )
    assert r.status_code == 200
    from chalicelib.organisation_models import OrganisationListOut

    OrganisationListOut.model_validate(json.loads(r.body))  # the documented model
    assert [o["id"] for o in json.loads(r.body)["items"]] == [mine]
    r = world.client.http.get(
        P, headers={"Authorization": "Bearer " + world.other_partner_key}
    )
    assert json.loads(r.body)["items"] == []
    world.client.http.delete(
        f"{P}/{mine}", headers={"Authorization": "Bearer " + world.partner_key}
    )
    r = world.client.http.get(
        P, headers={"Authorization": "Bearer " + world.partner_key}
    )
    assert json.loads(r.body)["items"] == []


def test_only_the_owner_sees_the_respondents_answers(world) -> None:  # type: ignore[no-untyped-def]
    owner, invite, _ = world.organisation(world.a_id)
    oid = owner.split(".")[0]
    r = world.client.http.get(
        f"/v1/organisations/{oid}/answers", headers={"X-Organisation-Token": owner}
    )
    assert r.status_code == 200 and json.loads(r.body)["items"][0]["answers"]
    # the managing partner has no route to them (an unknown path), and its views carry none
    key = {"Authorization": "Bearer " + world.partner_key}
    r = world.client.http.get(f"{P}/{oid}/answers", headers=key)
    assert r.status_code in (403, 404), r.body
    for path in (f"{P}/{oid}", f"{P}/{oid}/result"):
        doc = json.loads(world.client.http.get(path, headers=key).body)
        assert "answers" not in doc and all(
            "answers" not in x for x in doc.get("respondents", [])
        )
    # a respondent reads only their own answers
    r = world.client.http.get("/v1/respondent", headers={"X-Respondent-Token": invite})
    assert set(json.loads(r.body)) >= {"answers", "role"} and "items" not in json.loads(
        r.body
    )


def test_respondents_answers_never_reach_the_benchmark(
    world, service, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    """Saving and submitting respondents' answers stores no assessment; closing the round
    stores exactly one, holding the combined answers and the profile only."""
    services = app_module.container().organisations
    view = services.create(OrganisationIn(name="Org", profile=dict(orgs.CONTEXT)))
    org = view.organisation
    rules = (orgs.best, orgs.middle, orgs.worst)
    before = service.store.count_assessments()
    for i, rule in enumerate(rules):
        respondent, _ = services.invite(org, RespondentIn(role=f"role {i}"))
        services.save_answers(
            org,
            respondent,
            RespondentAnswersIn(
                answers={x.id: rule(x) for x in questionnaire.scored_questions},
                submit=True,
            ),
        )
    assert service.store.count_assessments() == before
    closed = services.close_round(org)
    assert service.store.count_assessments() == before + 1
    rec = service.store.get_assessment(closed.round.assessment_id)
    combined = {x.id: orgs.middle(x) for x in questionnaire.scored_questions}
    assert rec.answers == dict(sorted({**orgs.CONTEXT, **combined}.items()))
    assert rec.partner_ref is None
