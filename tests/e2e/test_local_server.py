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
