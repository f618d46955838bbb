"""End to end over HTTP: report downloads from the real ``chalice local`` server arrive as
intact bytes (PDF, XLSX) or UTF-8 text with its BOM (CSV), and equal the comparison."""

from __future__ import annotations

import requests

from chalicelib.assessments import AssessmentService
from chalicelib.config import Settings
from chalicelib.container import Container
from chalicelib.exports import CONTENT_TYPES
from chalicelib.questionnaire import get_catalog
from chalicelib.storage.sqlite import SqliteStore
from tests import orgs
from tests.conftest import ROOT
from tests.e2e.server import local_server
from tests.unit.test_exports import (
    assert_csv_matches,
    assert_pdf_matches,
    assert_xlsx_matches,
)


def test_report_downloads_over_http(tmp_path, questionnaire) -> None:  # type: ignore[no-untyped-def]
    # seed the reference cohort into the file the server will use
    store = SqliteStore(str(tmp_path / "smm.sqlite3"))
    catalog = get_catalog(str(ROOT / "questionnaires"))
    service = AssessmentService(store, catalog, Settings(secret=b"seeding-only"))
    Container.of(service).benchmarks.seed_reference(questionnaire, 600, 1)
    store.close()

    env = {"DATA_DIR": str(tmp_path), "STORE": "sqlite"}
    answers = orgs.up_to_phase(questionnaire, 5, tiers=("foundation",))
    with local_server(env) as base:
        r = requests.post(
            f"{base}/v1/assessments", json={"answers": answers}, timeout=30
        )
        assert r.status_code == 201, r.text
        mine = r.json()
        auth = {"X-Result-Token": mine["token"]}
        url = f"{base}/v1/assessments/{mine['id']}"

        expected = {
            lang: requests.get(
                f"{url}/comparison?lang={lang}", headers=auth, timeout=30
            ).json()
            for lang in ("de", "en")
        }
        assert expected["en"]["source_label"] == "reference (synthetic)"

        pdf = requests.get(
            f"{url}/report?format=pdf&lang=de",
            headers={**auth, "Accept": CONTENT_TYPES["pdf"]},
            timeout=60,
        )
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["Content-Type"] == CONTENT_TYPES["pdf"]
        assert pdf.headers["Content-Disposition"].startswith("attachment; filename=")
        assert pdf.content.startswith(b"%PDF-")
        assert pdf.content.rstrip().endswith(b"%%EOF")
        assert int(pdf.headers["Content-Length"]) == len(pdf.content)
        assert_pdf_matches(pdf.content, expected["de"], "de")

        xlsx = requests.get(
            f"{url}/report?format=xlsx&lang=en",
            headers={**auth, "Accept": CONTENT_TYPES["xlsx"]},
            timeout=60,
        )
        assert xlsx.status_code == 200, xlsx.text
        assert xlsx.headers["Content-Type"] == CONTENT_TYPES["xlsx"]
        assert_xlsx_matches(xlsx.content, expected["en"], "en")

        csv = requests.get(f"{url}/report?format=csv&lang=en", headers=auth, timeout=60)
        assert csv.status_code == 200
        assert csv.content.startswith(b"\xef\xbb\xbf")  # the BOM survives as bytes
        assert_csv_matches(csv.content, expected["en"])

        # a browser-style Accept would get base64 text from API Gateway: refused here
        refused = requests.get(
            f"{url}/report?format=pdf",
            headers={**auth, "Accept": "text/html,*/*;q=0.8"},
            timeout=30,
        )
        assert refused.status_code == 406
        assert refused.headers["Content-Type"] == "application/problem+json"
