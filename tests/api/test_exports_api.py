"""GET /v1/assessments/{id}/report over chalice.test.Client: the downloaded PDF, XLSX and CSV
equal GET /v1/assessments/{id}/comparison; binary bodies arrive intact; problems for bad
tokens, formats, languages and Accept headers."""

from __future__ import annotations

import json

import pytest

from chalicelib.container import Container
from chalicelib.exports import CONTENT_TYPES
from tests import orgs
from tests.fresh_process import heavy_modules_after
from tests.unit.test_exports import (
    assert_csv_matches,
    assert_pdf_matches,
    assert_xlsx_matches,
    xlsx_charts,
)

JSON = {"Content-Type": "application/json"}
PDF = CONTENT_TYPES["pdf"]
XLSX = CONTENT_TYPES["xlsx"]


@pytest.fixture
def mine(client, service, questionnaire):  # type: ignore[no-untyped-def]
    """A client assessment compared with the seeded reference (synthetic) cohort."""
    Container.of(service).benchmarks.seed_reference(questionnaire, 600, 1)
    answers = orgs.up_to_phase(questionnaire, 4, tiers=("foundation", "safety"))
    r = client.http.post(
        "/v1/assessments", body=json.dumps({"answers": answers}), headers=JSON
    )
    assert r.status_code == 201, r.body
    return r.json_body


def comparison(client, mine, lang="en", query=""):  # type: ignore[no-untyped-def]
    r = client.http.get(
        f"/v1/assessments/{mine['id']}/comparison?lang={lang}{query}",
        headers={"X-Result-Token": mine["token"]},
    )
    assert r.status_code == 200
    return r.json_body


def report(client, mine, fmt, lang="en", accept=None, query=""):  # type: ignore[no-untyped-def]
    headers = {"X-Result-Token": mine["token"]}
    if accept is not None:
        headers["Accept"] = accept
    return client.http.get(
        f"/v1/assessments/{mine['id']}/report?format={fmt}&lang={lang}{query}",
        headers=headers,
    )


@pytest.mark.parametrize("lang", ["en", "de"])
def test_pdf_download_equals_the_comparison(client, mine, lang) -> None:  # type: ignore[no-untyped-def]
    r = report(client, mine, "pdf", lang, accept=PDF)
    assert r.status_code == 200, r.body
    assert r.headers["Content-Type"] == PDF
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Disposition"] == (
        f'attachment; filename="smm-report-{mine["id"][:12]}-{lang}.pdf"'
    )
    assert isinstance(r.body, bytes) and r.body.startswith(b"%PDF-")
    assert r.body.rstrip().endswith(b"%%EOF")
    expected = comparison(client, mine, lang)
    assert expected["source_label"] == (
        "reference (synthetic)" if lang == "en" else "Referenz (synthetisch)"
    )
    assert_pdf_matches(r.body, expected, lang)


def test_xlsx_download_equals_the_comparison(client, mine) -> None:  # type: ignore[no-untyped-def]
    r = report(client, mine, "xlsx", "de", accept=XLSX)
    assert r.status_code == 200 and r.headers["Content-Type"] == XLSX
    assert r.headers["Content-Disposition"].endswith('-de.xlsx"')
    wb = assert_xlsx_matches(r.body, comparison(client, mine, "de"), "de")
    assert all(ws.freeze_panes for ws in wb.worksheets)
    assert len(xlsx_charts(r.body)) == 2


def test_csv_download_equals_the_comparison(client, mine) -> None:  # type: ignore[no-untyped-def]
    r = report(client, mine, "csv")  # text: no Accept header needed
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"].endswith('-en.csv"')
    assert_csv_matches(r.body, comparison(client, mine, "en"))


def test_cohort_parameters_as_on_the_comparison(client, mine) -> None:  # type: ignore[no-untyped-def]
    query = "&source=reference&industry=*&size=1-9&region=*"
    expected = comparison(client, mine, "en", query)
    assert expected["cohort"]["key"] == "*#1-9#*"
    r = report(client, mine, "csv", query=query)
    assert_csv_matches(r.body, expected)
    r = report(client, mine, "pdf", accept=PDF, query=query)
    assert_pdf_matches(r.body, expected, "en")


@pytest.mark.parametrize(
    ("fmt", "accept"),
    [
        ("pdf", None),
        ("pdf", "text/html,application/xhtml+xml,*/*;q=0.8"),
        ("pdf", XLSX),
        ("xlsx", PDF),
        ("xlsx", "*/*"),
    ],
)
def test_binary_needs_a_matching_accept_header(client, mine, fmt, accept) -> None:  # type: ignore[no-untyped-def]
    r = report(client, mine, fmt, accept=accept)
    assert r.status_code == 406
    assert r.headers["Content-Type"] == "application/problem+json"
    doc = r.json_body
    assert doc["errors"] == [
        {
            "parameter": "Accept",
            "detail": f"the first media type must be {CONTENT_TYPES[fmt]}",
        }
    ]


def test_accept_with_parameters_and_alternatives(client, mine) -> None:  # type: ignore[no-untyped-def]
    r = report(client, mine, "pdf", accept="application/pdf;q=1.0, */*;q=0.1")
    assert r.status_code == 200 and r.body.startswith(b"%PDF")


def test_problems(client, mine) -> None:  # type: ignore[no-untyped-def]
    aid = mine["id"]
    r = client.http.get(f"/v1/assessments/{aid}/report?format=pdf")
    assert r.status_code == 401
    r = client.http.get(
        f"/v1/assessments/{aid}/report?format=pdf",
        headers={"X-Result-Token": aid + ".wrong", "Accept": PDF},
    )
    assert r.status_code == 404
    r = report(client, mine, "docx")
    assert r.status_code == 422
    assert r.json_body["errors"][0]["parameter"] == "format"
    r = report(client, mine, "pdf", "fr", accept=PDF)
    assert r.status_code == 422
    assert r.json_body["errors"][0]["parameter"] == "lang"
    r = report(client, mine, "pdf", accept=PDF, query="&industry=ZZ")
    assert r.status_code == 422
    assert r.json_body["errors"][0]["parameter"] == "industry"
    r = client.http.get(
        f"/v1/assessments/{aid}/report?lang=en",
        headers={"X-Result-Token": mine["token"], "Accept": PDF},
    )
    assert r.status_code == 200 and r.body.startswith(b"%PDF")  # pdf by default


def test_exports_keep_numpy_and_scipy_off_the_request_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    requests = f"""
    r = c.http.post('/v1/assessments', body=json.dumps(body), headers={{'Content-Type': 'application/json'}})
    a = json.loads(r.body)
    for fmt, accept in (('pdf', {PDF!r}), ('xlsx', {XLSX!r}), ('csv', '*/*')):
        t = {{'X-Result-Token': a['token'], 'Accept': accept}}
        got = c.http.get('/v1/assessments/' + a['id'] + '/report?format=' + fmt, headers=t)
        assert got.status_code == 200, got.body
    """
    assert heavy_modules_after(requests, tmp_path) == []
