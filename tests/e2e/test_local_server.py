"""End to end over HTTP: the real local server on the embedded store, across a restart."""

from __future__ import annotations

import requests

from tests import orgs
from tests.e2e.server import local_server


def test_submit_then_restart_then_fetch(tmp_path, questionnaire) -> None:  # type: ignore[no-untyped-def]
    env = {"DATA_DIR": str(tmp_path), "STORE": "sqlite"}
    answers = orgs.up_to_phase(questionnaire, 3, tiers=("foundation",))
    with local_server(env) as base:
        listed = requests.get(f"{base}/v1/questionnaires", timeout=10)
        assert listed.status_code == 200 and listed.json()["items"][0]["id"] == "smm"
        r = requests.post(
            f"{base}/v1/assessments", json={"answers": answers}, timeout=10
        )
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["result"]["phase"]["number"] == 3
        bad = requests.post(
            f"{base}/v1/assessments",
            data="{",
            timeout=10,
            headers={"Content-Type": "application/json"},
        )
        assert bad.status_code == 400
        assert bad.headers["Content-Type"] == "application/problem+json"
    assert (tmp_path / "smm.sqlite3").exists()
    with local_server(env) as base:
        got = requests.get(
            f"{base}/v1/assessments/{created['id']}",
            headers={"X-Result-Token": created["token"]},
            timeout=10,
        )
        assert got.status_code == 200
        assert got.json()["result"]["overall"] == created["result"]["overall"]


def test_the_local_server_answers_its_own_refusals_as_problems(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """chalice local answered 403 {"message": "Missing Authentication Token"} for unknown
    paths, plain JSON for missing or refused partner keys and its own 415 for a GET with a
    non-JSON Content-Type (chalicelib/gateway.py, app.py ``App.route``)."""
    from chalicelib.partners import PartnerService
    from chalicelib.storage.sqlite import SqliteStore

    origin = "https://shop.example"
    store = SqliteStore(str(tmp_path / "smm.sqlite3"))
    PartnerService(store).create("Acme", ["read"], [origin])
    store.close()
    with local_server({"DATA_DIR": str(tmp_path), "STORE": "sqlite"}) as base:
        cases = [
            ("GET", "/nope", {}, 404),
            ("GET", "/nope", {"Authorization": "Bearer x"}, 404),
            ("PATCH", "/v1/scores", {}, 405),
            ("GET", "/v1/partner/keys", {"Origin": origin}, 401),
            ("GET", "/v1/partner/keys", {"Origin": origin, "Authorization": "x"}, 403),
            ("GET", "/v1/questionnaires/nope/1", {"Content-Type": "text/plain"}, 404),
        ]
        for method, path, headers, status in cases:
            r = requests.request(method, base + path, headers=headers, timeout=10)
            assert r.status_code == status, (method, path, r.status_code, r.text)
            assert r.headers["Content-Type"] == "application/problem+json", r.headers
            assert r.json()["status"] == status
            if "Origin" in headers:
                assert r.headers["Access-Control-Allow-Origin"] == origin
        ok = requests.get(
            f"{base}/v1/questionnaires",
            headers={"Content-Type": "text/plain"},
            timeout=10,
        )
        assert ok.status_code == 200
