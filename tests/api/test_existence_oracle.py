"""Token routes must not tell an existing assessment id from an unknown one: without a valid
``X-Result-Token`` both answer the same status, headers and body (issue 13, item 6), and the
token is hashed and compared whether or not the id exists."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from tests import orgs

JSON = {"Content-Type": "application/json"}
TOKEN_ROUTES = (
    ("GET", "/v1/assessments/{aid}"),
    ("DELETE", "/v1/assessments/{aid}"),
    ("GET", "/v1/assessments/{aid}/comparison"),
    ("GET", "/v1/assessments/{aid}/progress"),
    ("GET", "/v1/assessments/{aid}/report?format=csv"),
)


def _submit(client: Any, questionnaire: Any) -> dict[str, Any]:
    r = client.http.post(
        "/v1/assessments",
        body=json.dumps({"answers": orgs.middling(questionnaire)}),
        headers=JSON,
    )
    assert r.status_code == 201, r.body
    return r.json_body  # type: ignore[no-any-return]


def _shape(r: Any, aid: str) -> tuple[int, dict[str, str], Any]:
    """Status, headers and body with the request's own id masked in ``instance``."""
    body = json.loads(r.body) if r.body else None
    if isinstance(body, dict) and "instance" in body:
        body["instance"] = body["instance"].replace(aid, "{aid}")
    headers = {k.lower(): v for k, v in r.headers.items()}
    # the remaining count differs per request, whatever the id (partner rate limits)
    headers.pop("ratelimit", None)
    return r.status_code, headers, body


@pytest.mark.parametrize(("method", "route"), TOKEN_ROUTES)
def test_existing_and_unknown_ids_answer_alike_without_a_valid_token(  # type: ignore[no-untyped-def]
    client, questionnaire, method: str, route: str
) -> None:
    mine = _submit(client, questionnaire)
    other = _submit(client, questionnaire)
    existing = mine["id"]
    unknown = secrets.token_hex(16)  # an id of the right form that was never issued
    variants: dict[str, dict[str, str]] = {
        "no token": {},
        "empty token": {"X-Result-Token": ""},
        "malformed token": {"X-Result-Token": "not-a-token"},
        "wrong secret": {"X-Result-Token": existing + "." + "A" * 43},
        "wrong secret, unknown id": {"X-Result-Token": unknown + "." + "A" * 43},
        "another assessment's token": {"X-Result-Token": other["token"]},
    }
    for name, headers in variants.items():
        answers = {}
        for aid in (existing, unknown, "no-such-id"):
            r = client.http.request(method, route.format(aid=aid), headers=headers)
            answers[aid] = _shape(r, aid)
            assert 400 <= r.status_code < 500, (name, aid, r.status_code, r.body)
        assert answers[existing] == answers[unknown] == answers["no-such-id"], name
    # nothing above touched the assessment: its owner still reads it (and may erase it)
    ok = client.http.get(
        f"/v1/assessments/{existing}", headers={"X-Result-Token": mine["token"]}
    )
    assert ok.status_code == 200


def test_statuses_say_what_is_missing_not_what_exists(client, questionnaire) -> None:  # type: ignore[no-untyped-def]
    """No token: 401 for any id; a token that does not verify: 404 for any id."""
    a = _submit(client, questionnaire)
    for aid in (a["id"], secrets.token_hex(16)):
        none = client.http.get(f"/v1/assessments/{aid}")
        assert none.status_code == 401
        assert none.headers["Content-Type"] == "application/problem+json"
        wrong = client.http.get(
            f"/v1/assessments/{aid}", headers={"X-Result-Token": a["token"] + "x"}
        )
        assert wrong.status_code == 404
        assert wrong.json_body["errors"] == [
            {"pointer": "/id", "detail": "unknown assessment"}
        ]


def test_partner_routes_answer_alike_for_foreign_and_unknown_ids(  # type: ignore[no-untyped-def]
    client, service, questionnaire
) -> None:
    from chalicelib.partners import PartnerService

    key, _ = PartnerService(service.store).create("Acme", ["read", "submit"])
    public = _submit(client, questionnaire)["id"]  # exists, but not the partner's
    h = {"Authorization": f"Bearer {key}"}
    for path in ("", "/comparison", "/progress"):
        seen = {
            aid: _shape(
                client.http.get(f"/v1/partner/assessments/{aid}{path}", headers=h),
                aid,
            )
            for aid in (public, secrets.token_hex(16), "no-such-id")
        }
        assert len({json.dumps(v, sort_keys=True) for v in seen.values()}) == 1, seen
        assert next(iter(seen.values()))[0] == 404


def test_token_is_hashed_and_compared_also_for_unknown_ids(  # type: ignore[no-untyped-def]
    service, questionnaire, monkeypatch
) -> None:
    """Constant-time verification: the same work (one SHA-256, one compare_digest) whether
    the id exists or not, so response time does not tell them apart either."""
    import chalicelib.assessments as service_module
    from chalicelib.errors import NotFound
    from chalicelib.request_models import SubmissionIn

    done = service.submit(SubmissionIn(answers=orgs.middling(questionnaire)))
    calls: list[str] = []
    real_hash, real_compare = (
        service_module.hash_token,
        service_module.hmac.compare_digest,
    )

    def counting_hash(token: str) -> str:
        calls.append("hash")
        return real_hash(token)

    def counting_compare(a: Any, b: Any) -> bool:
        calls.append("compare")
        return real_compare(a, b)

    monkeypatch.setattr(service_module, "hash_token", counting_hash)
    monkeypatch.setattr(service_module.hmac, "compare_digest", counting_compare)
    for aid in (done.view.id, secrets.token_hex(16), "x" * 300):
        calls.clear()
        with pytest.raises(NotFound):
            service.authorize(aid, done.view.id + ".wrong")
        assert calls == ["hash", "compare"], aid
