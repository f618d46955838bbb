"""The partner examples (examples/partner_client.py and .mjs, docs/PARTNERS.md) run against
the real ``chalice local`` server: submit with an Idempotency-Key, replay it, list by cursor,
read the RateLimit headers; and the Python client waits for Retry-After on a 429."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.partners import PartnerService
from chalicelib.storage.sqlite import SqliteStore
from tests.conftest import ROOT
from tests.e2e.server import local_server

EXAMPLES = ROOT / "examples"


def _load_client():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "partner_client", EXAMPLES / "partner_client.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _summary(proc: subprocess.CompletedProcess[str]) -> dict:  # type: ignore[type-arg]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # type: ignore[no-untyped-def]
    data = tmp_path_factory.mktemp("partner-client")
    store = SqliteStore(str(Path(data) / "smm.sqlite3"))
    key, _ = PartnerService(store).create("Shop", ["submit", "read"], [], "free")
    other, _ = PartnerService(store).create("Busy", ["read"], [], "free")
    store.close()
    env = {"DATA_DIR": str(data), "STORE": "sqlite", "REFERENCE_COHORT": "0"}
    with local_server(env) as base:
        yield base, key, other


def test_python_example_runs_against_the_local_server(server) -> None:  # type: ignore[no-untyped-def]
    base, key, _ = server
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "partner_client.py"), base],
        env={"SMM_PARTNER_KEY": key, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    summary = _summary(proc)
    assert summary["replayed"] is True
    assert summary["id"] in summary["listed"]
    # free tier: 120 a minute, 1000 a day; the example made 3 requests (or more)
    assert set(summary["rate_limit"]) == {"rate", "quota"}
    assert summary["rate_limit"]["quota"]["r"] <= 997


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_javascript_example_runs_against_the_local_server(server) -> None:  # type: ignore[no-untyped-def]
    base, key, _ = server
    proc = subprocess.run(
        ["node", str(EXAMPLES / "partner_client.mjs"), base],
        env={
            "SMM_PARTNER_KEY": key,
            "PATH": str(Path(shutil.which("node") or "").parent),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    summary = _summary(proc)
    assert summary["replayed"] is True and summary["id"] in summary["listed"]
    assert set(summary["rate_limit"]) == {"rate", "quota"}


def test_python_client_waits_for_retry_after(server) -> None:  # type: ignore[no-untyped-def]
    """Partner "Busy" uses up its minute (free tier: 120 requests) over HTTP; the client
    then waits for the server's Retry-After (recorded, not slept) before each bounded retry."""
    base, _, busy = server
    mod = _load_client()
    waits: list[float] = []
    # an unknown key is refused by the authorizer (403): never retried
    bad = mod.PartnerClient(base, "smmk_000000000000_" + "x" * 43, sleep=waits.append)
    assert bad.request("GET", "/v1/partner/assessments").status == 403 and waits == []
    eager = mod.PartnerClient(base, busy, max_retries=0)
    statuses = []
    for _ in range(250):  # 120 fill a window; a minute boundary on the way needs 240
        statuses.append(eager.request("GET", "/v1/partner/assessments?limit=1").status)
        if statuses[-1] == 429:
            break
    assert statuses[-1] == 429 and set(statuses[:-1]) == {200}
    assert eager.rate_limit["rate"]["r"] == 0
    patient = mod.PartnerClient(base, busy, max_retries=2, sleep=waits.append)
    answer = patient.request("GET", "/v1/partner/assessments?limit=1")
    assert answer.status == 429  # nobody really waited
    assert len(waits) == 2 and all(1 <= w <= 60 for w in waits)
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert mod.parse_ratelimit('"rate";r=0;t=12, "quota";r=5;t=99') == {
        "rate": {"r": 0, "t": 12},
        "quota": {"r": 5, "t": 99},
    }
