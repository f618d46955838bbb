"""What the app's own partner rate limit costs per request on SQLite (chalicelib/ratelimit.py):
the median of 400 GET /v1/partner/keys with PARTNER_RATE_LIMIT=1 and =0, twice each (the
first pair warms up). Run: .venv/bin/python bench/partner_ratelimit.py"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["QUESTIONNAIRE_DIR"] = str(ROOT / "questionnaires")
from chalice.test import Client

import app as app_module
from chalicelib.assessments import AssessmentService
from chalicelib.config import Settings
from chalicelib.container import Container
from chalicelib.partners import PartnerService
from chalicelib.questionnaire import get_catalog
from chalicelib.storage.sqlite import SqliteStore

d = tempfile.mkdtemp()
store = SqliteStore(d + "/b.sqlite3")
svc = AssessmentService(
    store, get_catalog(str(ROOT / "questionnaires")), Settings(secret=b"x")
)
key, _ = PartnerService(store).create("B", ["read"], [], "premium")
app_module.use_container(Container.of(svc))
h = {"Authorization": f"Bearer {key}"}
with Client(app_module.app, stage_name="local") as c:
    for mode in ("1", "0", "1", "0"):
        os.environ["PARTNER_RATE_LIMIT"] = mode
        ts = []
        for _ in range(400):
            t = time.perf_counter()
            c.http.get("/v1/partner/keys", headers=h)
            ts.append(time.perf_counter() - t)
        print(
            f"PARTNER_RATE_LIMIT={mode}: median"
            f" {statistics.median(ts) * 1e6:.0f} us per GET /v1/partner/keys"
        )
