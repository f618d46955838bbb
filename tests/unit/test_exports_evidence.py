"""Reports carry the evidence flag (issue 14 item 2): a not-assessable or low-coverage result
is visibly flagged in the PDF, the XLSX and the CSV, and a not-assessable phase or overall
index is never printed as a number."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.container import Container
from chalicelib.exports import ExportService
from tests import orgs
from tests.unit.test_exports import pdf_pages, read_csv, submit, xlsx_book


@pytest.fixture
def exports(service: Any, questionnaire: Any) -> ExportService:
    services = Container.of(service)
    services.benchmarks.seed_reference(questionnaire, 300, 1)
    return services.exports


def _unknown(questionnaire: Any) -> dict[str, str]:
    return orgs.build(questionnaire, orgs.dont_know)


def test_pdf_flags_a_not_assessable_result(exports, service, questionnaire) -> None:  # type: ignore[no-untyped-def]
    rec, _ = submit(service, _unknown(questionnaire))
    for lang, words in (
        ("de", ("Nicht beurteilbar", "Geringe Aussagekraft")),
        ("en", ("Not assessable", "Low coverage")),
    ):
        text = " ".join(
            " ".join(pdf_pages(exports.assessment(rec, "pdf", lang).body)).split()
        )
        for w in words:
            assert w in text, (lang, w)
        assert "Phase 0 of 7" not in text and "Phase 0 von 7" not in text


def test_xlsx_flags_low_coverage(exports, service, questionnaire) -> None:  # type: ignore[no-untyped-def]
    rec, _ = submit(service, _unknown(questionnaire))
    wb = xlsx_book(exports.assessment(rec, "xlsx", "en").body)
    overview = [
        [c for c in row] for row in wb.worksheets[0].iter_rows(values_only=True)
    ]
    evidence = next(r for r in overview if r[0] == "Evidence")
    assert "Not assessable" in evidence[1] and "Low coverage" in evidence[1]
    phase = next(r for r in overview if r[0] == "Phase")
    assert phase[1].startswith("not assessable")


def test_csv_keeps_a_row_and_the_flag_without_metrics(
    exports, service, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    rec, _ = submit(service, _unknown(questionnaire))
    rows = read_csv(exports.assessment(rec, "csv", "en").body)
    assert len(rows) == 1 and rows[0]["status"] == "not_assessable"
    assert rows[0]["assessable"] == "false" and rows[0]["low_coverage"] == "true"


def test_a_well_answered_report_has_no_flag(exports, service, questionnaire) -> None:  # type: ignore[no-untyped-def]
    rec, _ = submit(service, orgs.up_to_phase(questionnaire, 3, tiers=("foundation",)))
    rows = read_csv(exports.assessment(rec, "csv", "en").body)
    assert {r["low_coverage"] for r in rows} == {"false"}
    assert {r["assessable"] for r in rows} == {"true"}
    text = " ".join(pdf_pages(exports.assessment(rec, "pdf", "en").body))
    assert "Low coverage" not in text and "Not assessable" not in text
