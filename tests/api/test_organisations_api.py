"""Organisation workspaces through the public API (issue 18): three respondents, the
combined result and the perception gap, rounds counted once in the benchmark, history,
erasure, and every mistake a problem document naming the field."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.questionnaire import Questionnaire
from tests import orgs

PROFILE = dict(orgs.CONTEXT)
JSON = {"Content-Type": "application/json"}


def call(client: Any, method: str, path: str, body: Any = None, **headers: str) -> Any:
    h = dict(JSON) if body is not None else {}
    h.update({k.replace("_", "-"): v for k, v in headers.items()})
    fn = getattr(client.http, method.lower())
    kw: dict[str, Any] = {"headers": h}
    if body is not None:
        kw["body"] = json.dumps(body)
    return fn(path, **kw)


def scored(
    q: Questionnaire, rule: Any, sections: list[str] | None = None
) -> dict[str, str]:
    return {
        x.id: rule(x)
        for s in q.sections
        if sections is None or s.id in sections
        for x in s.questions
        if x.kind == "scored"
    }


def create(client: Any, name: str = "Acme") -> tuple[str, str]:
    r = call(client, "POST", "/v1/organisations", {"name": name, "profile": PROFILE})
    assert r.status_code == 201, r.body
    doc = json.loads(r.body)
    return doc["id"], doc["token"]


def invite(
    client: Any, oid: str, token: str, role: str, sections: list[str] | None = None
) -> str:
    r = call(
        client,
        "POST",
        f"/v1/organisations/{oid}/respondents",
        {"role": role, "sections": sections or []},
        X_Organisation_Token=token,
    )
    assert r.status_code == 201, r.body
    return str(json.loads(r.body)["invite_token"])


def answer(
    client: Any, invite_token: str, answers: dict[str, str], submit: bool = True
) -> Any:
    return call(
        client,
        "PUT",
        "/v1/respondent/answers",
        {"answers": answers, "submit": submit},
        X_Respondent_Token=invite_token,
    )


def three_respondents(client: Any, q: Questionnaire) -> tuple[str, str, list[str]]:
    oid, token = create(client)
    invites = [
        invite(client, oid, token, role) for role in ("marketing", "service", "IT")
    ]
    for inv, rule in zip(invites, (orgs.best, orgs.middle, orgs.worst)):
        r = answer(client, inv, scored(q, rule))
        assert r.status_code == 200, r.body
    return oid, token, invites


def benchmark_count(service: Any) -> int:
    return int(service.store.count_assessments())


def test_three_respondents_combine_into_one_result_with_a_gap(
    client, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    q = questionnaire
    oid, token, _ = three_respondents(client, q)
    r = call(
        client, "GET", f"/v1/organisations/{oid}/result", X_Organisation_Token=token
    )
    assert r.status_code == 200, r.body
    doc = json.loads(r.body)
    assert doc["respondents_submitted"] == 3 and doc["uncovered_sections"] == []
    middle = scored(q, orgs.middle)
    assert {k: v["option"] for k, v in doc["combined"].items()} == middle
    assert doc["score"] is not None and doc["score"]["overall"] is not None
    listening = next(g for g in doc["gaps"] if g["id"] == "listening")
    assert (listening["min"], listening["max"], listening["range"]) == (0, 100, 100)
    assert listening["lowest"] == ["IT"] and listening["highest"] == ["marketing"]
    r = call(
        client, "GET", f"/v1/organisations/{oid}/answers", X_Organisation_Token=token
    )
    items = json.loads(r.body)["items"]
    assert sorted(i["respondent"]["role"] for i in items) == [
        "IT",
        "marketing",
        "service",
    ]


def test_a_round_counts_once_in_the_benchmark_with_only_the_combined_answers(  # type: ignore[no-untyped-def]
    client, service, questionnaire
) -> None:
    q = questionnaire
    oid, token, _ = three_respondents(client, q)
    before = benchmark_count(service)
    r = call(
        client, "POST", f"/v1/organisations/{oid}/rounds", X_Organisation_Token=token
    )
    assert r.status_code == 201, r.body
    closed = json.loads(r.body)
    assert benchmark_count(service) == before + 1
    rec = service.store.get_assessment(closed["assessment_id"])
    assert rec is not None and rec.included
    combined = {**PROFILE, **scored(q, orgs.middle)}
    assert rec.answers == dict(sorted(combined.items()))  # no respondent's own answers
    # the result token works on the normal result routes
    r = call(
        client,
        "GET",
        f"/v1/assessments/{closed['assessment_id']}",
        X_Result_Token=closed["result_token"],
    )
    assert r.status_code == 200
    # closing again: the next round has no submitted answers yet
    r = call(
        client, "POST", f"/v1/organisations/{oid}/rounds", X_Organisation_Token=token
    )
    assert (
        r.status_code == 409
        and json.loads(r.body)["errors"][0]["pointer"] == "/respondents"
    )
    assert benchmark_count(service) == before + 1


def test_a_retried_close_submits_the_same_assessment(
    client, service, container, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    """The round's submission carries an Idempotency-Key derived from organisation and round:
    if storing the round fails after the submission, the retry replays the same assessment."""
    oid, token, _ = three_respondents(client, questionnaire)
    orgsvc = container.organisations
    org = orgsvc.authorize(oid, token)
    real_close = orgsvc.store.close_round
    orgsvc.store.close_round = lambda rnd: (_ for _ in ()).throw(RuntimeError("lost"))  # type: ignore[method-assign]
    try:
        try:
            orgsvc.close_round(org)
        except RuntimeError:
            pass
    finally:
        orgsvc.store.close_round = real_close  # type: ignore[method-assign]
    before = benchmark_count(service)
    done = orgsvc.close_round(org)
    assert benchmark_count(service) == before  # replayed, not counted again
    assert [r.assessment_id for r in orgsvc.rounds(org)] == [done.round.assessment_id]


def test_history_keeps_every_round_and_links_them(client, questionnaire) -> None:  # type: ignore[no-untyped-def]
    q = questionnaire
    oid, token, invites = three_respondents(client, q)
    call(client, "POST", f"/v1/organisations/{oid}/rounds", X_Organisation_Token=token)
    for inv in invites:  # everyone improves
        assert answer(client, inv, scored(q, orgs.best)).status_code == 200
    r = call(
        client, "POST", f"/v1/organisations/{oid}/rounds", X_Organisation_Token=token
    )
    second = json.loads(r.body)
    r = call(
        client, "GET", f"/v1/organisations/{oid}/rounds", X_Organisation_Token=token
    )
    items = json.loads(r.body)["items"]
    assert [i["number"] for i in items] == [1, 2]
    assert items[1]["overall"] > items[0]["overall"]
    assert all(i["questionnaire"] == {"id": "smm", "version": q.version} for i in items)
    assert [i["version_changed"] for i in items] == [False, False]
    r = call(
        client,
        "GET",
        f"/v1/assessments/{second['assessment_id']}/progress",
        X_Result_Token=second["result_token"],
    )
    assert r.status_code == 200, r.body  # linked to round 1's assessment


def test_erasing_the_organisation_removes_its_benchmark_contribution(
    client, service, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    oid, token, invites = three_respondents(client, questionnaire)
    before = benchmark_count(service)
    r = call(
        client, "POST", f"/v1/organisations/{oid}/rounds", X_Organisation_Token=token
    )
    aid = json.loads(r.body)["assessment_id"]
    assert benchmark_count(service) == before + 1
    assert (
        call(
            client, "DELETE", f"/v1/organisations/{oid}", X_Organisation_Token=token
        ).status_code
        == 204
    )
    assert benchmark_count(service) == before
    assert service.store.get_assessment(aid) is None
    assert service.store.list_respondents(oid) == []
    assert service.store.list_respondent_answers(oid, 1) == []
    assert (
        call(
            client, "GET", f"/v1/organisations/{oid}", X_Organisation_Token=token
        ).status_code
        == 404
    )
    assert (
        call(client, "GET", "/v1/respondent", X_Respondent_Token=invites[0]).status_code
        == 404
    )


def test_respondents_answer_only_their_sections(client, questionnaire) -> None:  # type: ignore[no-untyped-def]
    q = questionnaire
    oid, token = create(client)
    inv = invite(client, oid, token, "IT", ["listening"])
    r = call(client, "GET", "/v1/respondent", X_Respondent_Token=inv)
    assert json.loads(r.body)["sections"] == ["listening"]
    r = answer(client, inv, scored(q, orgs.best, ["listening", "publishing"]))
    doc = json.loads(r.body)
    assert r.status_code == 422
    assert r.headers["Content-Type"] == "application/problem+json"
    assert any(e["pointer"] == "/answers/publishes_content" for e in doc["errors"])
    r = answer(client, inv, {"industry": "C"})
    assert json.loads(r.body)["errors"][0]["pointer"] == "/answers/industry"
    some = dict(list(scored(q, orgs.best, ["listening"]).items())[:1])
    r = answer(client, inv, some, submit=False)  # a draft may be partial
    assert r.status_code == 200, r.body
    assert json.loads(r.body)["status"] == "draft"
    r = answer(client, inv, some, submit=True)  # a final set may not
    assert r.status_code == 422
    assert {e["pointer"] for e in json.loads(r.body)["errors"]} == {
        f"/answers/{qid}" for qid in list(scored(q, orgs.best, ["listening"]))[1:]
    }
    # the result names the sections nobody covered; closing is refused naming them
    answer(client, inv, scored(q, orgs.best, ["listening"]))
    r = call(
        client, "GET", f"/v1/organisations/{oid}/result", X_Organisation_Token=token
    )
    doc = json.loads(r.body)
    assert doc["score"] is None and "publishing" in doc["uncovered_sections"]
    r = call(
        client, "POST", f"/v1/organisations/{oid}/rounds", X_Organisation_Token=token
    )
    assert r.status_code == 409
    assert "/sections/publishing" in {
        e["pointer"] for e in json.loads(r.body)["errors"]
    }


def test_every_mistake_is_a_problem_naming_the_field(client) -> None:  # type: ignore[no-untyped-def]
    cases = [
        ({"profile": PROFILE}, "/name"),
        (
            {"name": "A", "profile": {**PROFILE, "industry": "nope"}},
            "/profile/industry",
        ),
        ({"name": "A", "profile": {"industry": "C"}}, "/profile/size"),
        (
            {"name": "A", "profile": {**PROFILE, "monitoring_tools": "yes"}},
            "/profile/monitoring_tools",
        ),
        ({"name": "A", "profile": PROFILE, "version": "9.9.9"}, "/version"),
        ({"name": "A", "profile": PROFILE, "extra": 1}, "/extra"),
        ({"name": "\u0000", "profile": PROFILE}, "/name"),
    ]
    for body, pointer in cases:
        r = call(client, "POST", "/v1/organisations", body)
        assert 400 <= r.status_code < 500, (body, r.body)
        assert r.headers["Content-Type"] == "application/problem+json"
        assert pointer in {e.get("pointer") for e in json.loads(r.body)["errors"]}, (
            body,
            r.body,
        )
    oid, token = create(client)
    for body, pointer in [
        ({"role": "x", "sections": ["nope"]}, "/sections/0"),
        ({"role": "x", "sections": ["listening", "listening"]}, "/sections/1"),
        ({"role": "", "sections": []}, "/role"),
        ({"sections": []}, "/role"),
    ]:
        r = call(
            client,
            "POST",
            f"/v1/organisations/{oid}/respondents",
            body,
            X_Organisation_Token=token,
        )
        assert r.status_code == 422, r.body
        assert pointer in {e.get("pointer") for e in json.loads(r.body)["errors"]}
    r = call(
        client,
        "GET",
        f"/v1/organisations/{oid}/answers?round=x",
        X_Organisation_Token=token,
    )
    assert (
        r.status_code == 422 and json.loads(r.body)["errors"][0]["parameter"] == "round"
    )
    r = call(
        client,
        "GET",
        f"/v1/organisations/{oid}/answers?round=7",
        X_Organisation_Token=token,
    )
    assert r.status_code == 404  # a round that does not exist (yet)
    assert json.loads(r.body)["errors"][0]["parameter"] == "round"
    inv = invite(client, oid, token, "IT")
    r = answer(client, inv, {"monitoring_tools": "maybe"})
    assert (
        r.status_code == 422
        and json.loads(r.body)["errors"][0]["pointer"] == "/answers/monitoring_tools"
    )


def test_responses_match_their_documented_models(client, questionnaire) -> None:  # type: ignore[no-untyped-def]
    """Every organisation response validates against its OpenAPI model (extra fields
    forbidden), so the document cannot drift from the code."""
    from chalicelib import organisation_models as m

    q = questionnaire
    r = call(client, "POST", "/v1/organisations", {"name": "Acme", "profile": PROFILE})
    m.OrganisationCreatedOut.model_validate(json.loads(r.body))
    oid, token = json.loads(r.body)["id"], json.loads(r.body)["token"]
    r = call(
        client,
        "POST",
        f"/v1/organisations/{oid}/respondents",
        {"role": "IT", "sections": ["listening"]},
        X_Organisation_Token=token,
    )
    m.InvitationOut.model_validate(json.loads(r.body))
    inv = json.loads(r.body)["invite_token"]
    m.RespondentViewOut.model_validate(
        json.loads(call(client, "GET", "/v1/respondent", X_Respondent_Token=inv).body)
    )
    other = invite(client, oid, token, "marketing")
    answer(client, other, scored(q, orgs.middle))
    m.RespondentViewOut.model_validate(
        json.loads(answer(client, inv, scored(q, orgs.best, ["listening"])).body)
    )
    owner = {"X_Organisation_Token": token}
    base = f"/v1/organisations/{oid}"
    m.OrganisationOut.model_validate(
        json.loads(call(client, "GET", base, **owner).body)
    )
    m.AnswersListOut.model_validate(
        json.loads(call(client, "GET", base + "/answers", **owner).body)
    )
    m.ResultOut.model_validate(
        json.loads(call(client, "GET", base + "/result", **owner).body)
    )
    m.RoundClosedOut.model_validate(
        json.loads(call(client, "POST", base + "/rounds", **owner).body)
    )
    m.RoundListOut.model_validate(
        json.loads(call(client, "GET", base + "/rounds", **owner).body)
    )
