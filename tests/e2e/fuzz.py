"""A bounded schemathesis pass over every operation of /v1/openapi.json (public and partner)
with every check, against a live ``chalice local`` on a fresh data directory and with a
partner key holding every scope. Used by tests/e2e/test_contract_fuzzing.py and ``make fuzz``:

    .venv/bin/python -m tests.e2e.fuzz [--max-examples N] [--report-dir DIR]

Prints schemathesis's summary and exits with its status (0: no failure)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from chalicelib.partners import SCOPES, PartnerService
from chalicelib.storage.sqlite import SqliteStore
from tests.e2e.server import local_server

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES_PER_OPERATION = 10
TIMEOUT_SECONDS = 600  # the whole pass; a few minutes on 2 cores in practice


@dataclass(frozen=True)
class Outcome:
    returncode: int
    output: str


def run(data_dir: Path, report_dir: Path, max_examples: int) -> Outcome:
    store = SqliteStore(str(data_dir / "smm.sqlite3"))
    key, _ = PartnerService(store).create(
        "Fuzzer", list(SCOPES), ["https://fuzz.example"]
    )
    store.close()
    with local_server({"DATA_DIR": str(data_dir), "STORE": "sqlite"}) as base:
        cmd = [
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file",
            str(CONFIG),
            "run",
            f"{base}/v1/openapi.json",
            "--url",
            base,
            "--checks",
            "all",
            "--max-examples",
            str(max_examples),
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
            "junit,ndjson",
            "--report-dir",
            str(report_dir),
        ]
        out = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    return Outcome(out.returncode, out.stdout + out.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=EXAMPLES_PER_OPERATION)
    parser.add_argument("--report-dir", default="artifacts/schemathesis")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smm-fuzz-") as tmp:
        outcome = run(Path(tmp), Path(args.report_dir), args.max_examples)
    print(outcome.output)
    return outcome.returncode


if __name__ == "__main__":
    raise SystemExit(main())
