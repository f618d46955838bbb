"""How much an existing and an unknown assessment id differ when the token is wrong: median
time of ``GET /v1/assessments/{id}`` (wrong ``X-Result-Token``, and none) through the Chalice
app in process, on the embedded SQLite store. Run: ``.venv/bin/python bench/token_oracle.py``.

Both answers are identical (tests/api/test_existence_oracle.py); this measures what remains:
the store's hit-or-miss read (a hit decodes the record), not the verification itself."""

from __future__ import annotations

import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QUESTIONNAIRE_DIR", str(ROOT / "questionnaires"))

N = 2000


def main() -> None:
    from chalice.test import Client

    import app as app_module
    from chalicelib.config import Settings
    from chalicelib.container import Container
    from chalicelib.questionnaire import get_catalog
    from chalicelib.storage.sqlite import SqliteStore
    from tests import orgs

    catalog = get_catalog(str(ROOT / "questionnaires"))
    store = SqliteStore(str(Path(tempfile.mkdtemp()) / "oracle.sqlite3"))
    app_module.use_container(
        Container(
            store=store,
            catalog=catalog,
            settings=Settings(secret=secrets.token_bytes(32)),
        )
    )
    with Client(app_module.app, stage_name="local") as c:
        r = c.http.post(
            "/v1/assessments",
            body=json.dumps({"answers": orgs.middling(catalog.get("smm"))}),
            headers={"Content-Type": "application/json"},
        )
        existing = r.json_body["id"]
        for label, headers in (
            ("wrong token", lambda aid: {"X-Result-Token": aid + ".wrong"}),
            ("no token", lambda aid: {}),
        ):
            for name, ids in (
                ("existing id", [existing] * N),
                ("unknown id", [secrets.token_hex(16) for _ in range(N)]),
            ):
                times = []
                for aid in ids:
                    start = time.perf_counter_ns()
                    resp = c.http.get(f"/v1/assessments/{aid}", headers=headers(aid))
                    times.append(time.perf_counter_ns() - start)
                print(
                    f"{label:<12} {name:<12} {resp.status_code}  median "
                    f"{statistics.median(times) / 1000:7.1f} us  (n={N})"
                )
    app_module.use_container(None)
    store.close()


if __name__ == "__main__":
    main()
