"""Idempotency keys must never hand one client another's result token (issue 13, item 5).

An anonymous retry is recognised by its ``Idempotency-Key`` alone, and the replay returns the
result token, so the key is a bearer secret: anonymous keys must be random (a UUID v4 or 32+
hex digits). Partners' keys live in their own partner's namespace."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from pathlib import Path
from typing import Any

import pytest

from chalicelib.partners import PartnerService
from tests import orgs

ROOT = Path(__file__).resolve().parents[2]
JSON = {"Content-Type": "application/json"}


def _post(client: Any, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.http.post(path, body=json.dumps(body), headers={**JSON, **headers})


def test_second_client_with_the_readme_key_gets_no_token(  # type: ignore[no-untyped-def]
    client, questionnaire, sqlite_store
) -> None:
    """The attack: two anonymous clients send the README's example key with the same body.
    Before the fix the second one was answered with the first one's token and could erase
    the first one's assessment."""
    body = {"answers": orgs.middling(questionnaire)}
    h = {"Idempotency-Key": "my-first-try"}
    first = _post(client, "/v1/assessments", body, h)
    second = _post(client, "/v1/assessments", body, h)
    for r in (first, second):
        assert r.status_code == 422, r.body
        assert r.headers["Content-Type"] == "application/problem+json"
        assert r.json_body["errors"][0]["parameter"] == "Idempotency-Key"
        assert "token" not in r.json_body
    assert sqlite_store.count_assessments() == 0


@pytest.mark.parametrize(
    "key",
    [
        "my-first-try",
        "order-42",
        "1",
        "k" * 64,  # long but not hex
        secrets.token_hex(15),  # 120 bits: too short
        "00000000-0000-4000-8000-000000000000",  # UUID v4 form, no randomness
        "0" * 32,
        "0123456789abcdef" * 2,  # periodic
        "deadbeefcafebabe" * 2,
        "f81d4fae-7dec-11d0-a765-00a0c91e6bf6",  # UUID v1: time and node, guessable
        str(uuid.uuid4()) + "x",
        "{" + str(uuid.uuid4()) + "}",
        secrets.token_urlsafe(16),  # random, but not one of the documented forms
    ],
    ids=lambda key: re.sub(r"[0-9a-f]{8,}", "<hex>", key)[:40],
)
def test_low_entropy_anonymous_keys_are_refused(client, questionnaire, key) -> None:  # type: ignore[no-untyped-def]
    r = _post(
        client,
        "/v1/assessments",
        {"answers": orgs.middling(questionnaire)},
        {"Idempotency-Key": key},
    )
    assert r.status_code == 422, (key, r.body)
    assert r.json_body["errors"] == [
        {"parameter": "Idempotency-Key", "detail": r.json_body["errors"][0]["detail"]}
    ]
    assert "UUID" in r.json_body["errors"][0]["detail"]


@pytest.mark.parametrize(
    "make",
    [
        lambda: str(uuid.uuid4()),
        lambda: str(uuid.uuid4()).upper(),
        lambda: uuid.uuid4().hex,  # also the web page's fallback form
        lambda: secrets.token_hex(16),
        lambda: secrets.token_hex(64),  # 128 characters, the maximum
    ],
    ids=["uuid4", "uuid4-upper", "uuid4-hex", "hex-128-bits", "hex-512-bits"],
)
def test_random_anonymous_keys_replay_for_their_own_client(  # type: ignore[no-untyped-def]
    client, questionnaire, sqlite_store, make
) -> None:
    key = make()
    body = {"answers": orgs.middling(questionnaire)}
    first = _post(client, "/v1/assessments", body, {"Idempotency-Key": key})
    again = _post(client, "/v1/assessments", body, {"Idempotency-Key": key})
    assert first.status_code == 201, first.body
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json_body["token"] == first.json_body["token"]
    assert sqlite_store.count_assessments() == 1
    other = _post(client, "/v1/assessments", body, {"Idempotency-Key": make()})
    assert other.status_code == 201
    assert other.json_body["id"] != first.json_body["id"]


def test_partner_and_anonymous_namespaces_never_collide(  # type: ignore[no-untyped-def]
    client, service, questionnaire, sqlite_store
) -> None:
    """The same key and body from anonymous, partner A, partner B: three assessments, and no
    one receives another's token or can read another's assessment. A's second key shares A's
    namespace (a rotated key replays A's own submissions)."""
    ps = PartnerService(service.store)
    key_a, rec_a = ps.create("A", ["submit", "read"])
    key_a2, _ = ps.create("A", ["submit", "read"], partner_id=rec_a.partner_id)
    key_b, _ = ps.create("B", ["submit", "read"])
    body = {"answers": orgs.middling(questionnaire)}
    shared = str(uuid.uuid4())

    def send(key: str | None, idem: str) -> Any:
        h = {"Idempotency-Key": idem}
        if key is None:
            return _post(client, "/v1/assessments", body, h)
        h["Authorization"] = f"Bearer {key}"
        return _post(client, "/v1/partner/assessments", body, h)

    anon = send(None, shared)
    a = send(key_a, shared)
    b = send(key_b, shared)
    assert anon.status_code == a.status_code == b.status_code == 201
    ids = {r.json_body["id"] for r in (anon, a, b)}
    tokens = {r.json_body["token"] for r in (anon, a, b)}
    assert len(ids) == 3 and len(tokens) == 3
    # partners may use any key of 1..128 characters: it is theirs alone
    a_order = send(key_a, "order-1")
    b_order = send(key_b, "order-1")
    assert a_order.status_code == b_order.status_code == 201
    assert a_order.json_body["id"] != b_order.json_body["id"]
    assert a_order.json_body["token"] != b_order.json_body["token"]
    replay = send(key_a2, "order-1")  # A's other key: A's own namespace
    assert replay.status_code == 200
    assert replay.json_body["token"] == a_order.json_body["token"]
    # B cannot reach A's assessment by id either
    got = client.http.get(
        f"/v1/partner/assessments/{a_order.json_body['id']}",
        headers={"Authorization": f"Bearer {key_b}"},
    )
    assert got.status_code == 404
    # and an anonymous client cannot use a partner's weak key in the public namespace
    assert send(None, "order-1").status_code == 422
    assert sqlite_store.count_assessments() == 5


def test_readme_examples_use_a_fresh_random_key() -> None:
    """Copying an example must never make two people share a key."""
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    found = 0
    for path in docs:
        for value in re.findall(r"Idempotency-Key: ([^'\"\n]+)", path.read_text()):
            found += 1
            # a shell expansion ($(uuidgen) or a variable set from it), never a literal
            assert value.strip().startswith("$"), (path.name, value)
    assert found >= 1


def test_web_page_sends_a_key_the_api_accepts() -> None:
    """chalicelib/web/submit.js uses crypto.randomUUID() or 16 random bytes as 32 hex digits."""
    from chalicelib.assessments import check_anonymous_idempotency_key

    js = (ROOT / "chalicelib" / "web" / "submit.js").read_text()
    start = js.index("function newKey()")
    fn = js[start : js.index("\n}\n", start)]
    assert "crypto.randomUUID()" in fn
    assert "new Uint8Array(16)" in fn and "padStart(2, '0')" in fn
    check_anonymous_idempotency_key(str(uuid.uuid4()))
    check_anonymous_idempotency_key(secrets.token_bytes(16).hex())


def test_openapi_states_the_rule_for_anonymous_keys(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.http.get("/v1/openapi.json").json_body

    def header(path: str) -> dict[str, Any]:
        params = doc["paths"][path]["post"]["parameters"]
        return next(p for p in params if p["name"] == "Idempotency-Key")  # type: ignore[no-any-return]

    public = header("/v1/assessments")
    pattern = re.compile(public["schema"]["pattern"])
    assert pattern.search(str(uuid.uuid4())) and pattern.search(secrets.token_hex(16))
    assert not pattern.search("my-first-try") and "random" in public["description"]
    assert "pattern" not in header("/v1/partner/assessments")["schema"]
