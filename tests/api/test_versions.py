"""Questionnaire versions over the public API (issue 14 items 2 and 6): 1.0.0 stays loadable,
scored by its own frozen rules and benchmarked on its own; /progress says when two linked
assessments used different versions; coverage and not-assessable results are visible."""

from __future__ import annotations

import json

from chalicelib import schemas
from tests import orgs
from tests.cells import cell

JSON = {"Content-Type": "application/json"}


def submit(client, answers, **extra):  # type: ignore[no-untyped-def]
    r = client.http.post(
        "/v1/assessments", body=json.dumps({"answers": answers, **extra}), headers=JSON
    )
    assert r.status_code == 201, r.body
    schemas.AssessmentOut.model_validate(json.loads(r.body))
    return r.json_body


def test_old_version_is_scored_and_benchmarked_on_its_own(
    client, catalog, sqlite_store
) -> None:  # type: ignore[no-untyped-def]
    old = catalog.get("smm", "1.0.0")
    body = submit(client, orgs.up_to_phase(old, 3), version="1.0.0")
    assert body["questionnaire"] == {"id": "smm", "version": "1.0.0"}
    assert body["result"]["scoring_rules"] == "1"
    assert body["result"]["phase"]["number"] == 3  # the 1.0.0 rules, unchanged
    key = "C#50-249#dach"
    assert cell(sqlite_store, "real", "smm", "1.0.0", key).count == 1
    assert cell(sqlite_store, "real", "smm", "2.0.0", key).count == 0
    again = client.http.get(
        f"/v1/assessments/{body['id']}", headers={"X-Result-Token": body["token"]}
    ).json_body
    assert again["result"]["phase"] == body["result"]["phase"]  # never re-scored
    assert again["result"]["metrics"] == body["result"]["metrics"]


def test_progress_says_when_versions_differ(client, catalog) -> None:  # type: ignore[no-untyped-def]
    old, new = catalog.get("smm", "1.0.0"), catalog.get("smm", "2.0.0")
    before = submit(client, orgs.up_to_phase(old, 2), version="1.0.0")
    after = submit(
        client, orgs.up_to_phase(new, 4), previous_token=before["token"], language="de"
    )
    r = client.http.get(
        f"/v1/assessments/{after['id']}/progress?lang=de",
        headers={"X-Result-Token": after["token"]},
    )
    assert r.status_code == 200, r.body
    body = r.json_body
    schemas.ProgressOut.model_validate(body)
    assert body["same_version"] is False
    assert body["versions"] == {"before": "1.0.0", "after": "2.0.0"}
    assert "1.0.0" in body["version_note"] and "2.0.0" in body["version_note"]
    flags = {c["metric"]: c["comparable"] for c in body["changes"]}
    assert flags["phase"] is False and flags["overall"] is False
    assert flags["tier_safety"] is True  # same questions, options, scores and weights

    same = submit(client, orgs.up_to_phase(new, 5), previous_token=after["token"])
    body = client.http.get(
        f"/v1/assessments/{same['id']}/progress",
        headers={"X-Result-Token": same["token"]},
    ).json_body
    assert body["same_version"] is True and body["version_note"] is None
    assert all(c["comparable"] for c in body["changes"])


def test_all_dont_know_is_not_assessable_and_flagged(client, questionnaire) -> None:  # type: ignore[no-untyped-def]
    body = submit(client, orgs.build(questionnaire, orgs.dont_know))
    result = body["result"]
    assert result["assessable"] is False
    assert result["phase"]["number"] is None
    assert result["phase"]["status"] == "not_assessable"
    assert result["pyramid"]["status"] == "not_assessable"
    assert result["overall"] is None and result["metrics"] == {}
    assert result["coverage"]["low"] is True and result["coverage"]["note"]
    assert body["benchmark"]["included"] is False
    assert "mostly-dont-know" in body["benchmark"]["exclusion_reasons"]
    scored = client.http.post(
        "/v1/scores",
        body=json.dumps({"answers": orgs.build(questionnaire, orgs.dont_know)}),
        headers=JSON,
    )
    assert scored.status_code == 200
    schemas.ScoreOut.model_validate(json.loads(scored.body))
    assert scored.json_body["result"]["coverage"]["answered"] == 0


def test_not_applicable_is_an_answer_not_missing_evidence(
    client, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    answers = orgs.build(questionnaire, orgs.middle)
    na = [
        x.id
        for x in questionnaire.scored_questions
        if "not_applicable" in x.option_kinds.values()
    ]
    answers.update(dict.fromkeys(na, "not_applicable"))
    body = submit(client, answers)
    cov = body["result"]["coverage"]
    assert cov["not_applicable"] == len(na) and cov["dont_know"] == 0
    assert cov["share"] == 1.0 and cov["low"] is False
    assert "mostly-dont-know" not in body["benchmark"]["exclusion_reasons"]


def test_the_stored_record_carries_the_evidence_flag(
    client, questionnaire, sqlite_store
) -> None:  # type: ignore[no-untyped-def]
    body = submit(client, orgs.build(questionnaire, orgs.dont_know))
    rec = sqlite_store.get_assessment(body["id"])
    assert rec is not None
    assert rec.result == {
        "phase": None,
        "overall": None,
        "assessable": False,
        "coverage_percent": 0,
        "low_coverage": True,
    }
