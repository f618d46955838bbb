"""The OpenAPI document covers every route, is valid 3.1, and real responses match it."""

from __future__ import annotations

import json

import app as app_module
from chalicelib import schemas
from chalicelib.openapi import OPERATIONS, document
from chalicelib.partners import SCOPES, PartnerService
from tests import orgs

JSON = {"Content-Type": "application/json"}


def test_every_route_is_documented() -> None:
    routed = {
        (m.lower(), p)
        for p, methods in app_module.app.routes.items()
        for m in methods
        if m != "OPTIONS"
    }
    documented = {(op.method, op.path) for op in OPERATIONS}
    assert routed - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routed == set(), "documented operations that are not routed"


def test_document_is_valid_openapi_31(client) -> None:  # type: ignore[no-untyped-def]
    from openapi_spec_validator import validate

    r = client.http.get("/v1/openapi.json")
    assert r.status_code == 200
    doc = json.loads(r.body)
    assert doc["openapi"] == "3.1.0"
    validate(doc)
    assert doc == document()
    post = doc["paths"]["/v1/assessments"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"][
        "$ref"
    ].endswith("SubmissionIn")
    assert "application/problem+json" in post["responses"]["422"]["content"]
    assert doc["components"]["securitySchemes"]["partnerKey"]["scheme"] == "bearer"
    example = doc["components"]["schemas"]["AnswersIn"]["properties"]["answers"][
        "examples"
    ]
    assert example


def test_docs_page_is_served_without_cdn(client) -> None:  # type: ignore[no-untyped-def]
    html = client.http.get("/v1/docs").body.decode()
    assert "https://" not in html and "http://" not in html
    assert 'src="docs/docs.js"' in html
    assert client.http.get("/v1/docs/docs.js").status_code == 200
    assert client.http.get("/v1/docs/evil.js").status_code == 404


def test_real_responses_match_their_schemas(client, service, questionnaire) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.container import Container

    Container.of(service).benchmarks.seed_reference(questionnaire, 400, 2)
    key, _ = PartnerService(service.store).create("Acme", list(SCOPES))
    pk = {"Authorization": f"Bearer {key}"}
    answers = orgs.up_to_phase(questionnaire, 3)

    def check(model, r, status=200):  # type: ignore[no-untyped-def]
        assert r.status_code == status, r.body
        model.model_validate(json.loads(r.body))

    check(schemas.QuestionnaireList, client.http.get("/v1/questionnaires"))
    check(
        schemas.QuestionnaireDoc,
        client.http.get("/v1/questionnaires/smm/latest?lang=de"),
    )
    body = json.dumps({"answers": answers})
    check(schemas.ScoreOut, client.http.post("/v1/scores", body=body, headers=JSON))
    created = client.http.post("/v1/assessments", body=body, headers=JSON)
    check(schemas.AssessmentOut, created, 201)
    a = json.loads(created.body)
    t = {"X-Result-Token": a["token"]}
    check(
        schemas.AssessmentOut, client.http.get(f"/v1/assessments/{a['id']}", headers=t)
    )
    check(
        schemas.ComparisonOut,
        client.http.get(f"/v1/assessments/{a['id']}/comparison", headers=t),
    )
    check(
        schemas.ProgressOut,
        client.http.get(f"/v1/assessments/{a['id']}/progress", headers=t),
    )
    check(schemas.BenchmarkOut, client.http.get("/v1/benchmarks/smm/2.0.0?industry=C"))
    check(schemas.BenchmarkOut, client.http.get("/v1/benchmarks/smm/2.0.0?source=real"))
    d = client.http.post("/v1/drafts", body=json.dumps({"answers": {}}), headers=JSON)
    check(schemas.DraftOut, d, 201)
    check(
        schemas.Problem,
        client.http.post("/v1/assessments", body=b"{", headers=JSON),
        400,
    )
    p = client.http.post("/v1/partner/assessments", body=body, headers={**JSON, **pk})
    check(schemas.AssessmentOut, p, 201)
    pid = json.loads(p.body)["id"]
    check(
        schemas.ComparisonOut,
        client.http.get(f"/v1/partner/assessments/{pid}/comparison", headers=pk),
    )
    check(
        schemas.BenchmarkOut,
        client.http.get(
            "/v1/partner/benchmarks/smm/2.0.0/statistics?source=reference&value=30",
            headers=pk,
        ),
    )
    check(
        schemas.CohortComparisonOut,
        client.http.get(
            "/v1/partner/benchmarks/smm/2.0.0/cohort-comparison?source=reference&a_size=1-9&b_size=10-49",
            headers=pk,
        ),
    )
    check(schemas.PartnerKeyList, client.http.get("/v1/partner/keys", headers=pk))
    check(
        schemas.NewPartnerKey,
        client.http.post(
            "/v1/partner/keys",
            body=json.dumps({"scopes": ["read"], "origins": []}),
            headers={**JSON, **pk},
        ),
        201,
    )
    # the paged partner lists (issue 17)
    check(
        schemas.PartnerAssessmentList,
        client.http.get("/v1/partner/assessments?limit=1", headers=pk),
    )
    check(
        schemas.WebhookDeliveryList,
        client.http.get("/v1/partner/webhook/deliveries", headers=pk),
    )


def test_partner_operations_document_rate_limits_and_pages() -> None:
    doc = document()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if not path.startswith("/v1/partner/"):
                continue
            ok = op["responses"][next(c for c in op["responses"] if c.startswith("2"))]
            assert {"RateLimit", "RateLimit-Policy"} <= set(ok["headers"]), (
                method,
                path,
            )
            assert "Retry-After" in op["responses"]["429"]["headers"], (method, path)
    for path in (
        "/v1/partner/assessments",
        "/v1/partner/keys",
        "/v1/partner/webhook/deliveries",
    ):
        get = doc["paths"][path]["get"]
        names = {p["name"] for p in get["parameters"]}
        assert {"limit", "cursor"} <= names, path
        assert "Link" in get["responses"]["200"]["headers"], path
    listed = {
        p["name"] for p in doc["paths"]["/v1/partner/assessments"]["get"]["parameters"]
    }
    assert {"since", "until", "questionnaire", "version", "phase", "included"} <= listed


# --- as strict as the server (issue 13): what the document admits, the server accepts ------
def _params(op: dict) -> dict:  # type: ignore[type-arg]
    return {p["name"]: p for p in op.get("parameters", [])}


def test_cohort_parameters_list_the_questionnaire_values(questionnaire) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.benchmarks import cohort_values

    values = cohort_values(questionnaire)
    doc = document()
    for path, methods in doc["paths"].items():
        for op in methods.values():
            for name, p in _params(op).items():
                base = name[2:] if name[:2] in ("a_", "b_") else name
                if base in values:
                    assert set(p["schema"]["enum"]) == {"*", *values[base]}, (
                        path,
                        name,
                    )
                if base in ("source", "lang", "format"):
                    assert p["schema"]["enum"], (path, name)


def test_answers_are_the_questionnaire_questions_and_options(questionnaire) -> None:  # type: ignore[no-untyped-def]
    schemas_ = document()["components"]["schemas"]
    answers = schemas_["Answers_smm_" + questionnaire.version.replace(".", "_")]
    assert answers["additionalProperties"] is False
    assert set(answers["required"]) == {
        q.id for q in questionnaire.questions if q.required
    }
    for q in questionnaire.questions:
        assert set(answers["properties"][q.id]["enum"]) == set(q.scored_options)
    for model in ("AnswersIn", "SubmissionIn"):
        refs = [a["$ref"] for a in schemas_[model]["properties"]["answers"]["anyOf"]]
        assert [r.rsplit("/", 1)[1] for r in refs] == [
            "Answers_smm_1_0_0",
            "Answers_smm_2_0_0",
        ]
        # the version named picks the answers; none (or null) means the latest, 2.0.0
        rules = schemas_[model]["allOf"]
        assert rules[0]["if"] == {
            "properties": {"version": {"const": "1.0.0"}},
            "required": ["version"],
        }
        assert rules[0]["then"]["properties"]["answers"]["$ref"] == refs[0]
        assert rules[1]["if"] == {
            "properties": {"version": {"not": {"enum": ["1.0.0"]}}}
        }
        assert rules[1]["then"]["properties"]["answers"]["$ref"] == refs[1]
    for draft in schemas_["DraftIn"]["properties"]["answers"]["anyOf"]:
        assert "required" not in schemas_[draft["$ref"].rsplit("/", 1)[1]]
    assert schemas_["SubmissionIn"]["properties"]["questionnaire"]["enum"] == ["smm"]


def test_the_documented_example_answers_are_accepted(client) -> None:  # type: ignore[no-untyped-def]
    schemas_ = document()["components"]["schemas"]
    example = schemas_["AnswersIn"]["properties"]["answers"]["examples"][0]
    r = client.http.post(
        "/v1/scores", body=json.dumps({"answers": example}), headers=JSON
    )
    assert r.status_code == 200, r.body


def test_downloads_document_their_accept_header() -> None:
    doc = document()
    for path, method in (
        ("/v1/assessments/{aid}/report", "get"),
        ("/v1/partner/exports", "post"),
    ):
        accept = _params(doc["paths"][path][method])["Accept"]
        assert accept["in"] == "header"
        assert set(accept["schema"]["enum"]) == {
            "application/pdf",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "text/csv",
        }


def test_refusals_are_only_problem_documents() -> None:
    for methods in document()["paths"].values():
        for op in methods.values():
            for code, resp in op["responses"].items():
                if code.startswith("4"):
                    assert list(resp["content"]) == ["application/problem+json"]
