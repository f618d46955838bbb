"""HTTP API through chalice.test.Client: happy paths, idempotency, and a corpus of bad requests
that must each get a 4xx application/problem+json naming the field, never a 500."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests import orgs
from tests.cells import cell

JSON = {"Content-Type": "application/json"}


def post(client, path: str, body: Any, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.http.post(path, body=raw, headers={**JSON, **(headers or {})})


def test_list_and_get_questionnaire(client) -> None:  # type: ignore[no-untyped-def]
    r = client.http.get("/v1/questionnaires")
    assert r.status_code == 200
    items = r.json_body["items"]
    assert [(i["id"], i["version"]) for i in items] == [
        ("smm", "1.0.0"),
        ("smm", "2.0.0"),
    ]  # 1.0.0 stays loadable next to the new version
    de = client.http.get("/v1/questionnaires/smm/2.0.0?lang=de").json_body
    en = client.http.get("/v1/questionnaires/smm/latest?lang=en").json_body
    assert de["version"] == en["version"] == "2.0.0"
    old = client.http.get("/v1/questionnaires/smm/1.0.0?lang=de").json_body
    assert old["version"] == "1.0.0"
    assert de["title"] != en["title"]
    assert len(de["sections"]) == len(en["sections"]) >= 5
    q = de["sections"][0]["questions"][0]
    assert q["options"][-1]["excluded"] is True


def test_a_submission_is_scored_once(client, complete_answers, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The stored record and the response come from one ScoreResult; a replay and a read
    score the stored answers once each (stored results are never re-scored twice)."""
    from chalicelib import scoring

    calls: list[str] = []
    real = scoring.score

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append("score")
        return real(*args, **kwargs)

    monkeypatch.setattr(scoring, "score", counting)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"answers": complete_answers, "language": "de"}
    r = post(client, "/v1/assessments", body, key)
    assert r.status_code == 201, r.body
    assert len(calls) == 1
    assert (
        r.json_body["result"]["overall"] is not None
    )  # the response carries the result
    calls.clear()
    replay = post(client, "/v1/assessments", body, key)
    assert replay.status_code == 200 and replay.json_body == r.json_body
    assert len(calls) == 1
    calls.clear()
    got = client.http.get(
        f"/v1/assessments/{r.json_body['id']}?lang=de",
        headers={"X-Result-Token": r.json_body["token"]},
    )
    assert got.status_code == 200 and len(calls) == 1


def test_submit_scores_stores_and_fetches_with_token(client, complete_answers) -> None:  # type: ignore[no-untyped-def]
    r = post(client, "/v1/assessments", {"answers": complete_answers, "language": "de"})
    assert r.status_code == 201, r.body
    body = r.json_body
    assert r.headers["Location"] == f"/v1/assessments/{body['id']}"
    token = body["token"]
    assert token.startswith(body["id"] + ".") and len(token) > 60
    assert 0 <= body["result"]["phase"]["number"] <= 7
    assert body["cohort"] == {
        "industry": "C",
        "size": "50-249",
        "country": "DE",
        "region": "dach",
    }
    got = client.http.get(
        f"/v1/assessments/{body['id']}?lang=en", headers={"X-Result-Token": token}
    )
    assert got.status_code == 200
    assert "token" not in got.json_body  # shown once
    assert got.json_body["result"]["overall"] == body["result"]["overall"]
    assert got.json_body["language"] == "en"
    # wrong token and no token
    bad = client.http.get(
        f"/v1/assessments/{body['id']}", headers={"X-Result-Token": token + "x"}
    )
    assert bad.status_code == 404
    none = client.http.get(f"/v1/assessments/{body['id']}")
    assert none.status_code == 401


def test_token_is_stored_hashed(client, complete_answers, sqlite_store) -> None:  # type: ignore[no-untyped-def]
    body = post(client, "/v1/assessments", {"answers": complete_answers}).json_body
    rows = sqlite_store._conn().execute("SELECT body FROM assessments").fetchall()
    assert len(rows) == 1
    assert body["token"] not in rows[0][0]
    assert body["token"].split(".", 1)[1] not in rows[0][0]


def test_idempotent_retry_returns_original_and_counts_once(
    client, complete_answers, sqlite_store
) -> None:  # type: ignore[no-untyped-def]
    h = {"Idempotency-Key": str(uuid.uuid4())}  # anonymous keys must be random
    first = post(client, "/v1/assessments", {"answers": complete_answers}, h)
    again = post(client, "/v1/assessments", {"answers": complete_answers}, h)
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json_body["id"] == again.json_body["id"]
    assert first.json_body["token"] == again.json_body["token"]
    agg = cell(sqlite_store, "real", "smm", "2.0.0", "C#50-249#dach")
    assert agg.count == 1
    changed = dict(complete_answers, social_presence="none")
    clash = post(client, "/v1/assessments", {"answers": changed}, h)
    assert clash.status_code == 409
    assert clash.json_body["errors"][0]["parameter"] == "Idempotency-Key"


def test_score_without_storing(client, complete_answers, sqlite_store) -> None:  # type: ignore[no-untyped-def]
    r = post(client, "/v1/scores", {"answers": complete_answers, "language": "de"})
    assert r.status_code == 200
    assert "token" not in r.json_body and "id" not in r.json_body
    assert sqlite_store.count_assessments() == 0


def test_erase_with_token(client, complete_answers, sqlite_store) -> None:  # type: ignore[no-untyped-def]
    body = post(client, "/v1/assessments", {"answers": complete_answers}).json_body
    h = {"X-Result-Token": body["token"]}
    assert (
        client.http.delete(f"/v1/assessments/{body['id']}", headers=h).status_code
        == 204
    )
    assert (
        client.http.get(f"/v1/assessments/{body['id']}", headers=h).status_code == 404
    )
    agg = cell(sqlite_store, "real", "smm", "2.0.0", "C#50-249#dach")
    assert agg.count == 0 and all(v == 0 for h_ in agg.bins.values() for v in h_)
    assert agg.removals == 1 and agg.changes == 2  # counted once, then subtracted


def test_drafts_save_and_resume(client, complete_answers) -> None:  # type: ignore[no-untyped-def]
    partial = dict(list(complete_answers.items())[:5])
    r = post(client, "/v1/drafts", {"answers": partial, "language": "de"})
    assert r.status_code == 201
    did = r.json_body["id"]
    assert client.http.get(f"/v1/drafts/{did}").json_body["answers"] == partial
    more = dict(list(complete_answers.items())[:9])
    put = client.http.put(
        f"/v1/drafts/{did}", body=json.dumps({"answers": more}), headers=JSON
    )
    assert put.status_code == 200
    assert client.http.get(f"/v1/drafts/{did}").json_body["answers"] == more
    assert client.http.get("/v1/drafts/nope").status_code == 404
    bad = post(client, "/v1/drafts", {"answers": {"nope": "x"}})
    assert bad.status_code == 422


def test_draft_keeps_the_elapsed_time_across_sessions(client) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: a resumed draft keeps the time spent so far, so an honest respondent who
    resumes is not excluded from the benchmark as "too fast"; older drafts read as 0."""
    r = post(client, "/v1/drafts", {"answers": {}, "elapsed_seconds": 240})
    assert r.status_code == 201 and r.json_body["elapsed_seconds"] == 240
    did = r.json_body["id"]
    assert client.http.get(f"/v1/drafts/{did}").json_body["elapsed_seconds"] == 240
    put = client.http.put(
        f"/v1/drafts/{did}", body=json.dumps({"elapsed_seconds": 600.0}), headers=JSON
    )
    assert put.status_code == 200
    assert client.http.get(f"/v1/drafts/{did}").json_body["elapsed_seconds"] == 600
    assert post(client, "/v1/drafts", {}).json_body["elapsed_seconds"] == 0
    for bad in (-1, "60", True, 60 * 60 * 24 * 30 + 1):
        assert post(client, "/v1/drafts", {"elapsed_seconds": bad}).status_code == 422


def test_draft_expires(client, complete_answers, clock) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    did = post(client, "/v1/drafts", {"answers": {}}).json_body["id"]
    clock.now += timedelta(days=31)
    assert client.http.get(f"/v1/drafts/{did}").status_code == 404


def test_excluded_submission_is_kept_but_not_counted(
    client, questionnaire, sqlite_store
) -> None:  # type: ignore[no-untyped-def]
    answers = orgs.middling(questionnaire)
    r = post(client, "/v1/assessments", {"answers": answers, "duration_seconds": 5})
    assert r.status_code == 201
    assert r.json_body["benchmark"]["included"] is False
    assert "implausibly-fast" in r.json_body["benchmark"]["exclusion_reasons"]
    no_consent = dict(answers, consent="no")
    r2 = post(client, "/v1/assessments", {"answers": no_consent})
    assert r2.json_body["benchmark"]["exclusion_reasons"][0] == "no-consent"
    assert sqlite_store.count_assessments() == 2
    agg = cell(sqlite_store, "real", "smm", "2.0.0", "C#50-249#dach")
    assert agg.count == 0


# --- the bad-request corpus -------------------------------------------------------------------
def _valid(q) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {"answers": orgs.middling(q)}


def _drop(q, qid):  # type: ignore[no-untyped-def]
    a = orgs.middling(q)
    a.pop(qid)
    return {"answers": a}


def _with(q, **kv):  # type: ignore[no-untyped-def]
    return {"answers": dict(orgs.middling(q), **kv)}


BAD: list[tuple[str, str, str, Any, dict[str, str], int, str]] = [
    # (name, method, path, body builder or raw, headers, status, field named)
    ("not json", "POST", "/v1/assessments", b"{not json", {}, 400, ""),
    ("truncated json", "POST", "/v1/assessments", b'{"answers": {', {}, 400, ""),
    ("empty body", "POST", "/v1/assessments", b"", {}, 400, ""),
    ("json array", "POST", "/v1/assessments", b"[]", {}, 422, ""),
    ("json string", "POST", "/v1/assessments", b'"hello"', {}, 422, ""),
    ("json null", "POST", "/v1/assessments", b"null", {}, 422, ""),
    (
        "invalid utf-8",
        "POST",
        "/v1/assessments",
        b'{"answers": "\xff\xfe"}',
        {},
        400,
        "",
    ),
    (
        "wrong content type",
        "POST",
        "/v1/assessments",
        b"{}",
        {"Content-Type": "text/plain"},
        415,
        "Content-Type",
    ),
    (
        "form content type",
        "POST",
        "/v1/assessments",
        b"a=b",
        {"Content-Type": "application/x-www-form-urlencoded"},
        415,
        "Content-Type",
    ),
    (
        "no content type",
        "POST",
        "/v1/scores",
        b"{}",
        {"Content-Type": ""},
        415,
        "Content-Type",
    ),
    ("missing answers", "POST", "/v1/assessments", {}, {}, 422, "/answers"),
    (
        "answers is a list",
        "POST",
        "/v1/assessments",
        {"answers": []},
        {},
        422,
        "/answers",
    ),
    (
        "answers is a string",
        "POST",
        "/v1/assessments",
        {"answers": "all yes"},
        {},
        422,
        "/answers",
    ),
    (
        "option is a number",
        "POST",
        "/v1/assessments",
        lambda q: _with(q, social_presence=3),
        {},
        422,
        "/answers/social_presence",
    ),
    (
        "option is null",
        "POST",
        "/v1/assessments",
        lambda q: _with(q, social_presence=None),
        {},
        422,
        "/answers/social_presence",
    ),
    (
        "unknown question",
        "POST",
        "/v1/assessments",
        lambda q: _with(q, favourite_colour="red"),
        {},
        422,
        "/answers/favourite_colour",
    ),
    (
        "unknown option",
        "POST",
        "/v1/assessments",
        lambda q: _with(q, social_presence="sometimes"),
        {},
        422,
        "/answers/social_presence",
    ),
    (
        "unknown industry",
        "POST",
        "/v1/assessments",
        lambda q: _with(q, industry="Z9"),
        {},
        422,
        "/answers/industry",
    ),
    (
        "unknown country",
        "POST",
        "/v1/assessments",
        lambda q: _with(q, country="XX"),
        {},
        422,
        "/answers/country",
    ),
    (
        "missing required",
        "POST",
        "/v1/assessments",
        lambda q: _drop(q, "goals_alignment"),
        {},
        422,
        "/answers/goals_alignment",
    ),
    (
        "missing consent",
        "POST",
        "/v1/assessments",
        lambda q: _drop(q, "consent"),
        {},
        422,
        "/answers/consent",
    ),
    (
        "unknown top-level field",
        "POST",
        "/v1/assessments",
        lambda q: dict(_valid(q), name="ACME"),
        {},
        422,
        "/name",
    ),
    (
        "language not supported",
        "POST",
        "/v1/assessments",
        lambda q: dict(_valid(q), language="fr"),
        {},
        422,
        "/language",
    ),
    (
        "language wrong type",
        "POST",
        "/v1/assessments",
        lambda q: dict(_valid(q), language=1),
        {},
        422,
        "/language",
    ),
    (
        "negative duration",
        "POST",
        "/v1/assessments",
        lambda q: dict(_valid(q), duration_seconds=-1),
        {},
        422,
        "/duration_seconds",
    ),
    (
        "duration is text",
        "POST",
        "/v1/assessments",
        lambda q: dict(_valid(q), duration_seconds="fast"),
        {},
        422,
        "/duration_seconds",
    ),
    (
        "unknown questionnaire",
        "POST",
        "/v1/assessments",
        lambda q: dict(_valid(q), questionnaire="nope"),
        {},
        404,
        "/questionnaire",
    ),
    (
        "unknown version",
        "POST",
        "/v1/assessments",
        lambda q: dict(_valid(q), version="9.9.9"),
        {},
        404,
        "/version",
    ),
    (
        "version wrong type",
        "POST",
        "/v1/assessments",
        lambda q: dict(_valid(q), version=1),
        {},
        422,
        "/version",
    ),
    (
        "unknown previous token",
        "POST",
        "/v1/assessments",
        lambda q: dict(_valid(q), previous_token="abc.def"),
        {},
        422,
        "/previous_token",
    ),
    (
        "oversized body",
        "POST",
        "/v1/assessments",
        lambda q: dict(_valid(q), pad="x" * 70000),
        {},
        413,
        "",
    ),
    (
        "too many answers",
        "POST",
        "/v1/scores",
        lambda q: {"answers": {f"q{i}": "x" for i in range(400)}},
        {},
        422,
        "/answers",
    ),
    (
        "idempotency key too long",
        "POST",
        "/v1/assessments",
        _valid,
        {"Idempotency-Key": "k" * 200},
        422,
        "Idempotency-Key",
    ),
    (
        "score unknown option",
        "POST",
        "/v1/scores",
        lambda q: _with(q, comments_enabled="maybe"),
        {},
        422,
        "/answers/comments_enabled",
    ),
    (
        "draft unknown question",
        "POST",
        "/v1/drafts",
        {"answers": {"x": "y"}},
        {},
        422,
        "/answers/x",
    ),
    ("draft not json", "PUT", "/v1/drafts/abc", b"{", {}, 400, ""),
    (
        "questionnaire unknown",
        "GET",
        "/v1/questionnaires/nope/1.0.0",
        None,
        {},
        404,
        "/questionnaire",
    ),
    (
        "questionnaire version unknown",
        "GET",
        "/v1/questionnaires/smm/0.0.1",
        None,
        {},
        404,
        "/version",
    ),
    (
        "bad language query",
        "GET",
        "/v1/questionnaires/smm/1.0.0?lang=fr",
        None,
        {},
        422,
        "lang",
    ),
    (
        "assessment unknown",
        "GET",
        "/v1/assessments/nope",
        None,
        {"X-Result-Token": "nope.x"},
        404,
        "/id",
    ),
    (
        "assessment without token",  # 401 for every id, known or not (no oracle)
        "DELETE",
        "/v1/assessments/nope",
        None,
        {},
        401,
        "X-Result-Token",
    ),
    ("draft unknown", "GET", "/v1/drafts/unknown", None, {}, 404, "/id"),
]


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "headers", "status", "field"),
    BAD,
    ids=[b[0] for b in BAD],
)
def test_bad_request_gets_a_problem_document(
    client, questionnaire, name, method, path, body, headers, status, field
) -> None:  # type: ignore[no-untyped-def]
    if callable(body):
        body = body(questionnaire)
    raw = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    h = {**JSON, **headers}
    r = client.http.request(method, path, body=raw or b"", headers=h)
    assert r.status_code == status, (name, r.status_code, r.body)
    assert r.headers["Content-Type"] == "application/problem+json"
    doc = json.loads(r.body)
    assert doc["status"] == status
    assert doc["type"].startswith("urn:smm:problem:")
    assert doc["title"] and doc["detail"]
    if field:
        named = [e.get("pointer") or e.get("parameter") for e in doc.get("errors", [])]
        assert any(field == n or (n or "").startswith(field) for n in named), (
            name,
            named,
        )


def test_corpus_is_large_enough() -> None:
    assert len(BAD) >= 30


def test_next_phase_criteria_say_which_are_met(client, questionnaire) -> None:  # type: ignore[no-untyped-def]
    answers = orgs.up_to_phase(questionnaire, 3)
    phase4 = [x for x in questionnaire.scored_questions if x.phase == 4]
    answers[phase4[0].id] = orgs.best(phase4[0])
    body = post(client, "/v1/scores", {"answers": answers}).json_body
    nxt = body["result"]["phase"]["next"]
    assert nxt["number"] == 4
    met = {c["question_id"]: c["met"] for c in nxt["criteria"]}
    assert met == {x.id: x is phase4[0] for x in phase4}


def test_context_options_are_not_flagged_as_dont_know(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.http.get("/v1/questionnaires/smm/latest").json_body
    for section in doc["sections"]:
        for q in section["questions"]:
            flagged = [o for o in q["options"] if o["excluded"]]
            if q["kind"] == "context":
                assert flagged == []
            else:
                # one "don't know", and "not applicable" only where it can apply
                kinds = sorted(o["kind"] for o in flagged)
                assert kinds in (["dont_know"], ["dont_know", "not_applicable"])
