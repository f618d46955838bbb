"""Contract fuzzing: schemathesis generates requests from /v1/openapi.json against the live
local server. No response may be a 5xx, and every response must match its documented schema.
Bounded: a fixed number of examples per operation and a time limit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from chalicelib.partners import SCOPES, PartnerService
from chalicelib.storage.sqlite import SqliteStore
from tests.e2e.server import local_server

EXAMPLES_PER_OPERATION = 15


def test_schemathesis_finds_no_server_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = SqliteStore(str(tmp_path / "smm.sqlite3"))
    key, _ = PartnerService(store).create(
        "Fuzzer",
        list(SCOPES),
        ["https://fuzz.example"],
        "premium",  # 6000 a minute
    )
    store.close()
    with local_server({"DATA_DIR": str(tmp_path), "STORE": "sqlite"}) as base:
        cmd = [
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file",
            str(Path(__file__).with_name("schemathesis.toml")),
            "run",
            f"{base}/v1/openapi.json",
            "--url",
            base,
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--phases",
            "examples,coverage,fuzzing",
            "--header",
            f"Authorization: Bearer {key}",
            "--request-timeout",
            "20",
            "--workers",
            "1",
            "--generation-deterministic",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path / "report"),
        ]
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=600, check=False
        )
    log = Path("artifacts/schemathesis.log")
    log.parent.mkdir(exist_ok=True)
    log.write_text(out.stdout + out.stderr, encoding="utf-8")
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]
