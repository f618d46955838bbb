"""An organisation's target, roadmap, step assignments, roadmap exports and history through
the public API (issue 18 items 2 and 3): stored with the organisation, computed from the
combined answers, every mistake a problem document naming the field, isolated per
organisation, erased with it."""

from __future__ import annotations

import io
import json
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader

from chalicelib.exports import CONTENT_TYPES
from chalicelib.organisation_models import HistoryOut, PlanOut, ResultOut
from tests import orgs
from tests.api.test_organisations_api import (
    answer,
    call,
    create,
    scored,
    three_respondents,
)

TARGET = {"phase": 4, "tier": "formation", "dimensions": {"crisis": 70}}


def owner(token: str) -> dict[str, str]:
    return {"X_Organisation_Token": token}


def put_target(client: Any, oid: str, token: str, body: Any) -> Any:
    return call(client, "PUT", f"/v1/organisations/{oid}/target", body, **owner(token))


def roadmap(client: Any, oid: str, token: str) -> dict[str, Any]:
    r = call(client, "GET", f"/v1/organisations/{oid}/roadmap", **owner(token))
    assert r.status_code == 200, r.body
    doc: dict[str, Any] = json.loads(r.body)
    PlanOut.model_validate(doc)
    return doc


def problem_pointers(r: Any) -> list[str]:
    assert r.headers["Content-Type"] == "application/problem+json", r.body
    return [
        e.get("pointer") or "/query/" + e["parameter"]
        for e in json.loads(r.body)["errors"]
    ]


def export(client: Any, oid: str, token: str, fmt: str, accept: str | None) -> Any:
    h = owner(token)
    if accept is not None:
        h["Accept"] = accept
    return call(
        client, "GET", f"/v1/organisations/{oid}/roadmap/export?format={fmt}", **h
    )


def test_a_target_gives_the_gap_and_the_roadmap_of_the_combined_answers(
    client, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    oid, token, _ = three_respondents(client, questionnaire)
    before = roadmap(client, oid, token)
    assert before["target"] is None and before["steps"] == [] and before["gap"] is None
    assert before["basis"] == "open_round" and before["round"] == 1

    r = put_target(client, oid, token, TARGET)
    assert r.status_code == 200, r.body
    plan = json.loads(r.body)
    PlanOut.model_validate(plan)
    assert plan["target"]["phase"] == 4 and plan["target"]["tier"] == "formation"
    assert plan["target"]["dimensions"] == {"crisis": 70}
    # the combined answers are the middle answers (best, middle, worst: the median)
    result = json.loads(
        call(client, "GET", f"/v1/organisations/{oid}/result", **owner(token)).body
    )
    ResultOut.model_validate(result)
    assert result["plan"] == plan  # the result carries the same plan
    gap = plan["gap"]
    assert gap["phase"] == result["score"]["phase"]
    assert gap["target_phase"] == 4
    assert gap["phase_gap"] == max(0, 4 - (result["score"]["phase"] or 0))
    assert [d["id"] for d in gap["dimensions"]] == ["crisis"]
    assert plan["steps"], "a middling organisation has steps towards phase 4"
    ranks = [s["rank"] for s in plan["steps"]]
    assert ranks == list(range(1, len(ranks) + 1))
    combined = {k: v["option"] for k, v in result["combined"].items()}
    for s in plan["steps"]:
        assert s["current"] == combined.get(s["question_id"])
        assert s["needed"] != s["current"]
        assert s["owner"] == "" and s["due_quarter"]
    kinds = [s["kind"] for s in plan["steps"]]
    assert kinds == sorted(kinds, key=["blocking", "target", "further"].index)
    # the same as the pure roadmap of those answers
    from chalicelib import roadmap as rm
    from chalicelib.request_models import TargetIn

    pure = rm.roadmap(
        questionnaire,
        {**orgs.CONTEXT, **combined},
        rm.target_of(questionnaire, TargetIn.model_validate(TARGET)),
        language="en",
        today=__import__("datetime").date.today(),
    )
    assert [s["question_id"] for s in plan["steps"]] == [s.question_id for s in pure]


def test_step_owner_and_due_quarter_are_stored_and_validated(
    client, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    oid, token, _ = three_respondents(client, questionnaire)
    first = questionnaire.scored_questions[0].id
    path = f"/v1/organisations/{oid}/roadmap/steps/{first}"
    r = call(client, "PATCH", path, {"owner": "Leitung"}, **owner(token))
    assert r.status_code == 409 and problem_pointers(r) == ["/target"]
    assert put_target(client, oid, token, {**TARGET, "pace": 1}).status_code == 200
    step = roadmap(client, oid, token)["steps"][1]
    path = f"/v1/organisations/{oid}/roadmap/steps/{step['question_id']}"
    r = call(
        client,
        "PATCH",
        path,
        {"owner": "Leitung Service", "due_quarter": "2031-Q4"},
        **owner(token),
    )
    assert r.status_code == 200, r.body
    changed = {s["question_id"]: s for s in json.loads(r.body)["steps"]}
    assert changed[step["question_id"]]["owner"] == "Leitung Service"
    assert changed[step["question_id"]]["due_quarter"] == "2031-Q4"
    # stored: a fresh read has it; only the fields sent change
    r = call(client, "PATCH", path, {"owner": "IT"}, **owner(token))
    assert r.status_code == 200
    again = {s["question_id"]: s for s in roadmap(client, oid, token)["steps"]}
    assert again[step["question_id"]]["owner"] == "IT"
    assert again[step["question_id"]]["due_quarter"] == "2031-Q4"
    assert roadmap(client, oid, token)["target"]["assignments"] == {
        step["question_id"]: {"owner": "IT", "due_quarter": "2031-Q4"}
    }
    # null: back to the quarter of the pace
    r = call(client, "PATCH", path, {"due_quarter": None}, **owner(token))
    assert r.status_code == 200
    again = {s["question_id"]: s for s in roadmap(client, oid, token)["steps"]}
    assert again[step["question_id"]]["due_quarter"] != "2031-Q4"
    # mistakes: 4xx naming the field
    for bad, pointer in (
        ({"due_quarter": "2027-Q5"}, "/due_quarter"),
        ({"due_quarter": "Q1 2027"}, "/due_quarter"),
        ({"owner": "a\x07b"}, "/owner"),
        ({"owner": "x" * 81}, "/owner"),
        ({"colour": "red"}, "/colour"),
    ):
        r = call(client, "PATCH", path, bad, **owner(token))
        assert r.status_code == 422, (bad, r.body)
        assert problem_pointers(r) == [pointer], bad
    r = call(
        client,
        "PATCH",
        f"/v1/organisations/{oid}/roadmap/steps/no_such_question",
        {"owner": "x"},
        **owner(token),
    )
    assert r.status_code == 404 and problem_pointers(r) == ["/question_id"]


def test_an_invalid_target_is_a_problem_naming_the_field(client, questionnaire) -> None:  # type: ignore[no-untyped-def]
    oid, token = create(client)
    for bad, pointer in (
        ({"phase": 9}, "/phase"),
        ({"phase": "4"}, "/phase"),
        ({"tier": "summit"}, "/tier"),
        ({"dimensions": {"nope": 50}}, "/dimensions/nope"),
        ({"dimensions": {"crisis": 101}}, "/dimensions/crisis"),
        ({"phase": 3, "start_quarter": "2027-Q0"}, "/start_quarter"),
        (
            {"phase": 3, "assignments": {"nope": {"owner": "x"}}},
            "/assignments/nope",
        ),
        (
            {
                "phase": 3,
                "assignments": {
                    questionnaire.scored_questions[0].id: {"due_quarter": "2027"}
                },
            },
            f"/assignments/{questionnaire.scored_questions[0].id}/due_quarter",
        ),
    ):
        r = put_target(client, oid, token, bad)
        assert r.status_code == 422, (bad, r.body)
        assert problem_pointers(r) == [pointer], (bad, r.body)
    r = put_target(client, oid, token, {})
    assert r.status_code == 422
    assert roadmap(client, oid, token)["target"] is None  # nothing stored


def test_the_roadmap_exports_as_xlsx_and_pdf(client, questionnaire) -> None:  # type: ignore[no-untyped-def]
    oid, token, _ = three_respondents(client, questionnaire)
    r = export(client, oid, token, "xlsx", CONTENT_TYPES["xlsx"])
    assert r.status_code == 409 and problem_pointers(r) == ["/target"]
    assert put_target(client, oid, token, TARGET).status_code == 200
    step = roadmap(client, oid, token)["steps"][0]
    call(
        client,
        "PATCH",
        f"/v1/organisations/{oid}/roadmap/steps/{step['question_id']}",
        {"owner": "Leitung Service", "due_quarter": "2030-Q2"},
        **owner(token),
    )
    r = export(client, oid, token, "xlsx", CONTENT_TYPES["xlsx"])
    assert r.status_code == 200, r.body
    assert r.headers["Content-Type"] == CONTENT_TYPES["xlsx"]
    wb = load_workbook(io.BytesIO(r.body))
    cells = [str(c.value) for row in wb["Roadmap"].iter_rows() for c in row if c.value]
    assert "Leitung Service" in cells and "2030-Q2" in cells
    assert step["question_id"] in cells
    r = export(client, oid, token, "pdf", CONTENT_TYPES["pdf"])
    assert r.status_code == 200 and r.body[:5] == b"%PDF-"
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.body)).pages).split()
    )
    assert "Acme" in text and "Leitung Service" in text
    r = export(client, oid, token, "pdf", None)  # API Gateway needs the Accept header
    assert r.status_code == 406
    r = export(client, oid, token, "csv", CONTENT_TYPES["csv"])
    assert r.status_code == 422 and problem_pointers(r) == ["/query/format"]


def test_history_has_every_closed_round_and_the_roadmap_follows_the_last(
    client, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    oid, token, invites = three_respondents(client, questionnaire)
    assert put_target(client, oid, token, TARGET).status_code == 200
    r = call(client, "GET", f"/v1/organisations/{oid}/history", **owner(token))
    assert r.status_code == 200 and json.loads(r.body)["items"] == []
    assert (
        call(
            client, "POST", f"/v1/organisations/{oid}/rounds", **owner(token)
        ).status_code
        == 201
    )
    # the open round 2 has no answers yet: the roadmap starts from round 1
    plan = roadmap(client, oid, token)
    assert plan["basis"] == "closed_round" and plan["round"] == 1 and plan["steps"]
    for inv in invites:  # everyone answers better now
        assert answer(client, inv, scored(questionnaire, orgs.best)).status_code == 200
    assert roadmap(client, oid, token)["basis"] == "open_round"
    assert (
        call(
            client, "POST", f"/v1/organisations/{oid}/rounds", **owner(token)
        ).status_code
        == 201
    )
    r = call(client, "GET", f"/v1/organisations/{oid}/history?lang=de", **owner(token))
    assert r.status_code == 200, r.body
    doc = json.loads(r.body)
    HistoryOut.model_validate(doc)
    items = doc["items"]
    assert [i["round"] for i in items] == [1, 2]
    rounds = json.loads(
        call(client, "GET", f"/v1/organisations/{oid}/rounds", **owner(token)).body
    )["items"]
    for point, rnd in zip(items, rounds):
        assert point["phase"] == rnd["phase"] and point["overall"] == rnd["overall"]
        assert point["dimensions"] == rnd["dimensions"]
        assert point["version_changed"] is False
        assert "percentile" in point
    assert items[1]["overall"] > items[0]["overall"]
    assert set(doc["dimension_names"]) == {d.id for d in questionnaire.dimensions}
    assert doc["dimension_names"]["crisis"] != "crisis"  # a name, in German
    # the export has both rounds in its history sheet
    r = export(client, oid, token, "xlsx", CONTENT_TYPES["xlsx"])
    assert r.status_code == 200
    sheets = load_workbook(io.BytesIO(r.body)).sheetnames
    history_sheet = next(n for n in sheets if n != "Roadmap")
    rows = list(
        load_workbook(io.BytesIO(r.body))[history_sheet].iter_rows(values_only=True)
    )
    dated = [row for row in rows if any(str(v).startswith("20") for v in row if v)]
    assert len(dated) >= 2


def test_targets_are_per_organisation_and_erased_with_it(
    client, questionnaire, container
) -> None:  # type: ignore[no-untyped-def]
    a, a_token, _ = three_respondents(client, questionnaire)
    b, b_token, _ = three_respondents(client, questionnaire)
    assert put_target(client, a, a_token, TARGET).status_code == 200
    assert roadmap(client, b, b_token)["target"] is None
    # B's owner cannot set, read or export A's plan
    assert put_target(client, a, b_token, {"phase": 1}).status_code == 404
    r = call(client, "GET", f"/v1/organisations/{a}/roadmap", **owner(b_token))
    assert r.status_code == 404
    r = export(client, a, b_token, "pdf", CONTENT_TYPES["pdf"])
    assert r.status_code == 404
    assert roadmap(client, a, a_token)["target"]["phase"] == 4  # unchanged
    r = call(client, "DELETE", f"/v1/organisations/{a}", **owner(a_token))
    assert r.status_code == 204
    assert container.store.get_target(a) is None
    assert container.store.get_target(b) is None  # B never had one
    r = call(client, "GET", f"/v1/organisations/{a}/roadmap", **owner(a_token))
    assert r.status_code == 404


def test_the_partner_twins_manage_the_plan(client, questionnaire, container) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.partners import PartnerService

    key, _rec = PartnerService(container.store).create("A", ["organisations"], [])
    auth = {"Authorization": "Bearer " + key}
    r = call(
        client,
        "POST",
        "/v1/partner/organisations",
        {"name": "Managed", "profile": dict(orgs.CONTEXT)},
        **auth,
    )
    assert r.status_code == 201, r.body
    oid, token = json.loads(r.body)["id"], json.loads(r.body)["token"]
    inv = json.loads(
        call(
            client,
            "POST",
            f"/v1/partner/organisations/{oid}/respondents",
            {"role": "all"},
            **auth,
        ).body
    )["invite_token"]
    assert answer(client, inv, scored(questionnaire, orgs.middle)).status_code == 200
    base = f"/v1/partner/organisations/{oid}"
    r = call(client, "PUT", base + "/target", {"tier": "safety"}, **auth)
    assert r.status_code == 200, r.body
    # the owner sees the partner's target
    assert roadmap(client, oid, token)["target"]["tier"] == "safety"
    steps = json.loads(call(client, "GET", base + "/roadmap", **auth).body)["steps"]
    assert steps
    r = call(
        client,
        "PATCH",
        f"{base}/roadmap/steps/{steps[0]['question_id']}",
        {"due_quarter": "2029-Q1"},
        **auth,
    )
    assert r.status_code == 200 and json.loads(r.body)["steps"][0]["due_quarter"] == (
        "2029-Q1"
    )
    r = call(
        client,
        "GET",
        base + "/roadmap/export?format=pdf",
        Accept=CONTENT_TYPES["pdf"],
        **auth,
    )
    assert r.status_code == 200 and r.body[:5] == b"%PDF-"
    r = call(client, "GET", base + "/history", **auth)
    assert r.status_code == 200 and json.loads(r.body)["items"] == []
