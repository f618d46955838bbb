"""Display labels and the CSV number format in export requests (issue 16, exports): a
partner's export names its assessments by the consultant's labels instead of 32-hex ids,
the labels are validated and never persisted (not in the store, not in the benchmark, not
in any log); CSV in ``de`` (``;`` and decimal comma, what German Excel reads as numbers) or
``en`` (``,`` and decimal point), by default the export language's, selectable."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from chalicelib.container import Container
from chalicelib.exports import CONTENT_TYPES
from tests import orgs
from tests.unit.test_exports import read_csv, xlsx_book

JSON = {"Content-Type": "application/json"}
LABEL = "Zebrafisch Müller & Söhne GmbH – Workshop März"
OTHER = "Kunde B (Hamburg)"


@pytest.fixture
def partner(client, service, questionnaire):  # type: ignore[no-untyped-def]
    """A consultancy's key and two assessments it created, against the reference cohort."""
    from chalicelib.partners import PartnerService

    Container.of(service).benchmarks.seed_reference(questionnaire, 600, 1)
    key, _ = PartnerService(service.store).create("Consultancy", ["submit", "export"])
    headers = {**JSON, "Authorization": f"Bearer {key}"}
    ids = []
    for phase in (2, 5):
        r = client.http.post(
            "/v1/partner/assessments",
            body=json.dumps({"answers": orgs.up_to_phase(questionnaire, phase)}),
            headers=headers,
        )
        assert r.status_code == 201, r.body
        ids.append(r.json_body["id"])
    return headers, ids


def export(client, headers, accept: str | None = None, **body: Any):  # type: ignore[no-untyped-def]
    h = dict(headers)
    if accept:
        h["Accept"] = accept
    return client.http.post(
        "/v1/partner/exports",
        body=json.dumps({"kind": "assessments", **body}),
        headers=h,
    )


def pdf_text(body: bytes) -> str:
    pages = PdfReader(io.BytesIO(body)).pages
    return " ".join(" ".join(p.extract_text() for p in pages).split())


def test_labels_replace_the_ids_in_every_format(client, partner) -> None:  # type: ignore[no-untyped-def]
    headers, ids = partner
    labels = {ids[0]: LABEL, ids[1]: OTHER}
    r = export(
        client,
        headers,
        CONTENT_TYPES["pdf"],
        format="pdf",
        assessment_ids=ids,
        labels=labels,
        language="de",
    )
    assert r.status_code == 200, r.body
    text = pdf_text(r.body)
    assert LABEL in text and OTHER in text
    assert ids[0] not in text and ids[0][:12] not in text
    assert ids[1] not in text and ids[1][:12] not in text

    r = export(
        client,
        headers,
        CONTENT_TYPES["xlsx"],
        format="xlsx",
        assessment_ids=ids,
        labels=labels,
    )
    assert r.status_code == 200, r.body
    wb = xlsx_book(r.body)
    first = [row[0] for row in wb.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert first == [LABEL, OTHER]  # the overview (and its chart) names them
    for sheet in ("Values", "Percentiles"):
        assert [row[0] for row in wb[sheet].iter_rows(min_row=2, values_only=True)] == [
            LABEL,
            OTHER,
        ]
    data = list(wb["Data"].iter_rows(values_only=True))
    assert data[0][:2] == ("assessment_id", "assessment_label")
    assert {(row[0], row[1]) for row in data[1:]} == {(ids[0], LABEL), (ids[1], OTHER)}

    r = export(
        client, headers, format="csv", assessment_ids=ids, labels={ids[1]: OTHER}
    )
    assert r.status_code == 200, r.body
    rows = read_csv(r.body.encode() if isinstance(r.body, str) else r.body)
    by_id = {row["assessment_id"]: row["assessment_label"] for row in rows}
    assert by_id == {ids[0]: "", ids[1]: OTHER}  # unlabelled: empty, the id stays


@pytest.mark.parametrize(
    ("labels", "pointer"),
    [
        ({"0" * 32: "Fremd"}, "/labels/" + "0" * 32),  # not an assessment of the export
        ({"ID0": "Zeile\nzwei"}, "/labels/ID0"),  # control character
        ({"ID0": "Tab\there"}, "/labels/ID0"),
        ({"ID0": "bidi \u202e override"}, "/labels/ID0"),
        ({"ID0": "x" * 81}, "/labels/ID0"),  # too long
        ({"ID0": "   "}, "/labels/ID0"),  # blank
        ({"ID0": 7}, "/labels/ID0"),  # not a string
    ],
)
def test_invalid_labels_are_a_422_naming_the_label(
    client, partner, labels, pointer
) -> None:  # type: ignore[no-untyped-def]
    headers, ids = partner
    labels = {k.replace("ID0", ids[0]): v for k, v in labels.items()}
    pointer = pointer.replace("ID0", ids[0])
    r = export(client, headers, format="csv", assessment_ids=ids[:1], labels=labels)
    assert r.status_code == 422, r.body
    assert r.json_body["errors"][0]["pointer"] == pointer, r.json_body


def test_labels_only_with_assessments(client, partner) -> None:  # type: ignore[no-untyped-def]
    headers, ids = partner
    r = client.http.post(
        "/v1/partner/exports",
        body=json.dumps(
            {"kind": "cohorts", "format": "csv", "labels": {ids[0]: LABEL}}
        ),
        headers=headers,
    )
    assert r.status_code == 422, r.body


def test_labels_are_never_persisted_or_logged(
    client, partner, service, tmp_path: Path, caplog, capsys
) -> None:  # type: ignore[no-untyped-def]
    """After exports with labels in every format, the label is in none of the SQLite
    files (store, benchmark aggregates, idempotency and rate-limit records, WAL) and in no
    log record or output."""
    headers, ids = partner
    caplog.set_level(logging.DEBUG)
    for fmt in ("pdf", "xlsx", "csv"):
        r = export(
            client,
            headers,
            CONTENT_TYPES[fmt],
            format=fmt,
            assessment_ids=ids,
            labels={ids[0]: LABEL},
        )
        assert r.status_code == 200, r.body
    # the benchmark still answers as before, and the export still shows the label
    assert LABEL in pdf_text(
        export(
            client,
            headers,
            CONTENT_TYPES["pdf"],
            format="pdf",
            assessment_ids=ids,
            labels={ids[0]: LABEL},
        ).body
    )
    service.store.close()  # checkpoint the WAL into the file
    files = [p for p in tmp_path.iterdir() if p.name.startswith("test.sqlite3")]
    assert files
    needles = [LABEL.encode(), LABEL.encode("utf-16-le"), b"Zebrafisch"]
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, path
    logged = "\n".join(r.getMessage() for r in caplog.records)
    out = capsys.readouterr()
    for text in (logged, out.out, out.err):
        assert "Zebrafisch" not in text


# --- CSV number format --------------------------------------------------------------------
def raw_csv(r: Any) -> str:
    body = r.body if isinstance(r.body, bytes) else r.body.encode()
    assert body.startswith(b"\xef\xbb\xbf")
    return body.decode("utf-8-sig")


def test_csv_locale_follows_the_language_and_can_be_chosen(client, partner) -> None:  # type: ignore[no-untyped-def]
    headers, ids = partner
    de = raw_csv(
        export(client, headers, format="csv", assessment_ids=ids, language="de")
    )
    en = raw_csv(
        export(client, headers, format="csv", assessment_ids=ids, language="en")
    )
    de_as_en = raw_csv(
        export(
            client,
            headers,
            format="csv",
            assessment_ids=ids,
            language="de",
            csv_locale="en",
        )
    )
    assert de.splitlines()[0].startswith(
        "assessment_id;assessment_label;questionnaire;"
    )
    assert en.splitlines()[0].startswith(
        "assessment_id,assessment_label,questionnaire,"
    )
    assert de_as_en.splitlines()[0] == en.splitlines()[0]

    import csv

    def column(text: str, sep: str, name: str) -> list[str]:
        return [row[name] for row in csv.DictReader(io.StringIO(text), delimiter=sep)]

    # percentile ranks are whole numbers (the release's rounding); shares have decimals
    assert all(v.isdigit() for v in column(en, ",", "percentile_rank") if v)
    pct_de = column(de, ";", "coverage_share")
    pct_en = column(en, ",", "coverage_share")
    assert any("," in v for v in pct_de) and not any("." in v for v in pct_de)
    assert any("." in v for v in pct_en) and not any("," in v for v in pct_en)
    assert [v.replace(",", ".") for v in pct_de] == pct_en  # the same figures
    # what is not a number stays the same in both
    assert column(de, ";", "months_to") == column(en, ",", "months_to")
    assert column(de, ";", "synthetic") == column(en, ",", "synthetic")
    # German labels with commas are quoted, so a ';' file and a ',' file both parse
    assert column(de_as_en, ",", "label") == column(de, ";", "label")

    r = export(client, headers, format="csv", assessment_ids=ids, csv_locale="fr")
    assert r.status_code == 422 and r.json_body["errors"][0]["pointer"] == "/csv_locale"


def test_csv_locale_on_the_report_download_and_the_cohort_table(
    client, partner, service, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    headers, _ = partner
    r = client.http.post(
        "/v1/assessments",
        body=json.dumps({"answers": orgs.up_to_phase(questionnaire, 3)}),
        headers=JSON,
    )
    mine = r.json_body
    auth = {"X-Result-Token": mine["token"]}
    url = f"/v1/assessments/{mine['id']}/report?format=csv"
    assert (
        ";" in raw_csv(client.http.get(f"{url}&lang=de", headers=auth)).splitlines()[0]
    )
    head = raw_csv(client.http.get(f"{url}&lang=de&csv_locale=en", headers=auth))
    assert head.startswith("assessment_id,")
    bad = client.http.get(f"{url}&csv_locale=xx", headers=auth)
    assert bad.status_code == 422
    assert bad.json_body["errors"][0]["parameter"] == "csv_locale"
    cohorts = client.http.post(
        "/v1/partner/exports",
        body=json.dumps(
            {
                "kind": "cohorts",
                "format": "csv",
                "language": "de",
                "source": "reference",
            }
        ),
        headers=headers,
    )
    text = raw_csv(cohorts)
    assert text.startswith("questionnaire;version;by;")
    medians = [
        row["mean"]
        for row in read_csv(
            cohorts.body if isinstance(cohorts.body, bytes) else cohorts.body.encode()
        )
        if row["mean"]
    ]
    # released means are whole numbers: nothing to write with a decimal comma
    assert medians and all(v.isdigit() for v in medians)
