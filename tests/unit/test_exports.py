"""Consultant exports (chalicelib/exports): every figure in a CSV, XLSX or PDF equals the
comparison the API returns; labels follow the language; the methods state version, cohort,
n, months, k and source; cohort tables never show a cohort below k; the CLI."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import load_workbook
from pypdf import PdfReader

from chalicelib.benchmarks import BenchmarkService
from chalicelib.container import Container
from chalicelib.errors import InvalidInput
from chalicelib.exports import CONTENT_TYPES, Export, ExportService, check_format
from chalicelib.exports.csv_export import ASSESSMENT_COLUMNS, COHORT_COLUMNS, NUMERIC
from chalicelib.records import AssessmentRecord
from chalicelib.render import assessment_json, cohort_statistics_json, comparison_json
from chalicelib.request_models import SubmissionIn
from tests import orgs
from tests.conftest import ROOT

ARTIFACTS = ROOT / "artifacts" / "exports"


# --- helpers (also used by tests/api and tests/e2e) ---------------------------------------
def fmt_num(v: float | None, lang: str) -> str:
    """A number as the PDF prints it (decimal comma in German)."""
    if v is None:
        return "n. v." if lang == "de" else "n/a"
    s = f"{v:.1f}" if isinstance(v, float) else str(v)
    return s.replace(".", ",") if lang == "de" else s


MONTH_NAMES = {
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "en": "January February March April May June July August September October November December",
}


def fmt_months(months: dict[str, str], lang: str) -> str:
    """The month range as the reports print it: "Januar 2016 – Dezember 2016"."""

    def name(ym: str) -> str:
        y, m = ym.split("-")
        return f"{MONTH_NAMES[lang].split()[int(m) - 1]} {y}"

    if months["from"] == months["to"]:
        return name(months["from"])
    return f"{name(months['from'])} – {name(months['to'])}"


def read_csv(body: bytes) -> list[dict[str, str]]:
    """Rows of an export CSV in either number format (csv_locale): ``de`` files (``;``,
    decimal comma) are checked to have no decimal point in a number and read back with
    points, so every caller compares the same figures."""
    assert body.startswith(b"\xef\xbb\xbf"), "utf-8-sig: Excel needs the BOM"
    text = body.decode("utf-8-sig")
    german = ";" in text.splitlines()[0]
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";" if german else ","))
    if german:
        for r in rows:
            for name in NUMERIC & set(r):
                assert "." not in r[name], (name, r[name])
                r[name] = r[name].replace(",", ".")
    return rows


def pdf_pages(body: bytes) -> list[str]:
    assert body.startswith(b"%PDF-")
    return [p.extract_text() for p in PdfReader(io.BytesIO(body)).pages]


def pdf_metric_rows(text: str) -> dict[str, list[str]]:
    """The metrics table of a PDF page: label -> the cells after it (pypdf puts each cell of
    the table on its own line)."""
    lines = [line.strip() for line in text.splitlines()]
    start = max(i for i, line in enumerate(lines) if line == "Status") + 1
    rows: dict[str, list[str]] = {}
    current: str | None = None
    for line in lines[start:]:
        if re.fullmatch(
            r"[+-]?[\d.,]+|[\d.,]+–[\d.,]+|\d+-\d+|\d+\+|n/a|n\. v\.", line
        ):
            if current is not None:
                rows[current].append(line)
        else:
            current = line
            rows.setdefault(current, [])
    return rows


def assert_pdf_matches(body: bytes, comparison: dict[str, Any], lang: str) -> str:
    """Every metric's value, percentile rank, median and n of the comparison appear in the
    report's metrics table; the methods box states version, cohort n, months, k, source."""
    pages = pdf_pages(body)
    text = "\n".join(pages)
    table_page = next(p for p in pages if "Status" in p)
    rows = pdf_metric_rows(table_page)
    for m in comparison["metrics"]:
        cells = rows[m["label"]]
        assert cells[0] == fmt_num(m["value"], lang), (m["label"], cells)
        if m.get("percentile_rank") is not None:
            assert cells[1] == fmt_num(m["percentile_rank"], lang), cells
            assert cells[2] == fmt_num(m["median"], lang), cells
            assert cells[3] == f"{fmt_num(m['p25'], lang)}–{fmt_num(m['p75'], lang)}"
            assert cells[-1] == str(m["n"]), cells
    cohort = comparison["cohort"]
    assert f"n = {cohort['n']}" in text
    flat = " ".join(text.split())
    q = comparison["questionnaire"]
    assert f"{q['id']} {q['version']}" in flat
    assert fmt_months(comparison["months"], lang) in flat
    k_label = "Mindestgröße k" if lang == "de" else "Minimum cohort size k"
    assert re.search(rf"{k_label}\s+{comparison['k_min']}\b", text)
    assert comparison["source_label"] in flat
    return text


def xlsx_book(body: bytes) -> Any:
    assert body.startswith(b"PK")
    return load_workbook(io.BytesIO(body))


def xlsx_charts(body: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return [
            z.read(n).decode()
            for n in sorted(z.namelist())
            if n.startswith("xl/charts/chart")
        ]


def assert_xlsx_matches(body: bytes, comparison: dict[str, Any], lang: str) -> Any:
    wb = xlsx_book(body)
    names = wb.sheetnames
    sheet = wb[names[1]]  # Comparison / Vergleich
    got = {
        r[0]: r
        for r in sheet.iter_rows(min_row=2, max_row=15, values_only=True)
        if r[0]
    }
    for m in comparison["metrics"]:
        row = got[m["label"]]
        assert row[1] == m["value"]
        assert row[2] == m.get("percentile_rank")
        assert row[3] == m.get("median")
        assert row[8] == m.get("n")
    methods = {r[0]: r[1] for r in wb[names[-1]].iter_rows(values_only=True)}
    flat = " ".join(str(v) for v in methods.values())
    q = comparison["questionnaire"]
    assert f"{q['id']} {q['version']}" in flat
    assert str(comparison["cohort"]["n"]) in methods.values()
    assert comparison["source_label"] in methods.values()
    assert str(comparison["k_min"]) in methods.values()
    assert fmt_months(comparison["months"], lang) in methods.values()
    return wb


def assert_csv_matches(body: bytes, comparison: dict[str, Any]) -> list[dict[str, str]]:
    rows = read_csv(body)
    by_metric = {r["metric"]: r for r in rows}
    assert len(rows) == len(comparison["metrics"])
    for m in comparison["metrics"]:
        r = by_metric[m["metric"]]
        assert r["label"] == m["label"]
        assert int(r["value"]) == m["value"]
        assert float(r["percentile_rank"]) == m["percentile_rank"]
        assert int(r["median"]) == m["median"]
        assert int(r["p25"]) == m["p25"] and int(r["p75"]) == m["p75"]
        assert r["metric_n"] == m["n"]  # an n band
        assert int(r["distance_to_median"]) == m["distance_to_median"]
        assert r["status"] == "released"
    c = comparison["cohort"]
    for r in rows:
        assert r["assessment_id"] == comparison["assessment_id"]
        assert r["version"] == comparison["questionnaire"]["version"]
        assert r["cohort_key"] == c["key"] and r["cohort_n"] == c["n"]
        assert r["source"] == comparison["source"]
        assert r["source_label"] == comparison["source_label"]
        assert r["synthetic"] == ("true" if comparison["synthetic"] else "false")
        assert int(r["k_min"]) == comparison["k_min"]
        assert r["months_from"] == comparison["months"]["from"]
        assert r["months_to"] == comparison["months"]["to"]
    return rows


def render_png(pdf: bytes, name: str) -> Path | None:
    """First page as PNG under artifacts/exports/ (poppler-utils' pdftoppm), for people to
    look at; None when pdftoppm is not installed."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        return None
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf_path = ARTIFACTS / f"{name}.pdf"
    pdf_path.write_bytes(pdf)
    cmd = [exe, "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"]
    subprocess.run([*cmd, str(pdf_path), str(ARTIFACTS / name)], check=True, timeout=60)
    png = ARTIFACTS / f"{name}.png"
    assert png.read_bytes().startswith(b"\x89PNG")
    return png


# --- fixtures -----------------------------------------------------------------------------
def submit(service: Any, answers: dict[str, str]) -> tuple[AssessmentRecord, str]:
    done = service.submit(SubmissionIn.model_validate({"answers": answers}))
    rec = service.store.get_assessment(done.view.id)
    assert rec is not None and done.view.token is not None
    return rec, done.view.token


def comparison_of(
    benchmarks: BenchmarkService,
    rec: AssessmentRecord,
    params: dict[str, Any] | None,
    lang: str,
) -> dict[str, Any]:
    """The comparison exactly as the API returns it."""
    return comparison_json(benchmarks.compare_record(rec, params, lang), lang)


@pytest.fixture
def benchmarks(service: Any) -> BenchmarkService:
    return Container.of(service).benchmarks


@pytest.fixture
def exports(service: Any) -> ExportService:
    return Container.of(service).exports


@pytest.fixture
def seeded(benchmarks: BenchmarkService, questionnaire: Any) -> BenchmarkService:
    benchmarks.seed_reference(questionnaire, 600, 1)
    return benchmarks


@pytest.fixture
def client_rec(
    seeded: BenchmarkService, service: Any, questionnaire: Any
) -> AssessmentRecord:
    answers = orgs.up_to_phase(questionnaire, 3, tiers=("foundation", "formation"))
    return submit(service, answers)[0]


# --- labels and arguments -----------------------------------------------------------------
def test_label_table_is_complete_and_printable() -> None:
    path = ROOT / "chalicelib" / "exports" / "labels.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert {"texts", "columns", "status", "sheets", "regions"} <= set(data)
    for section, entries in data.items():
        for key, text in entries.items():
            assert isinstance(key, str), (
                section,
                key,
            )  # YAML 1.1: yes/no must be quoted
            assert set(text) == {"de", "en"}, (section, key)
            for v in text.values():
                assert v.strip()
                v.encode("cp1252")  # the PDF font subset is WinAnsi
    for name in data["sheets"].values():
        assert len(name["de"]) <= 31 and len(name["en"]) <= 31


def test_every_region_of_the_questionnaire_has_a_name(questionnaire: Any) -> None:
    from chalicelib.exports.model import attribute_values, labels

    for lang in ("de", "en"):
        for region in attribute_values(questionnaire, "region"):
            assert labels(lang).region(region) != region or region == "dach"


@pytest.mark.parametrize("fmt", ["CSV", "xlsx", " pdf "])
def test_formats_are_case_insensitive(fmt: str) -> None:
    assert check_format(fmt) == fmt.strip().lower()


def test_invalid_format_and_language_name_the_field(exports, client_rec) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as err:
        exports.assessment(client_rec, "docx", "en")
    assert err.value.errors[0][0] == "/query/format"
    with pytest.raises(InvalidInput) as err:
        exports.side_by_side([client_rec], "txt", "en", format_pointer="/format")
    assert err.value.errors[0][0] == "/format"
    with pytest.raises(InvalidInput) as err:
        exports.assessment(client_rec, "pdf", "fr")
    assert err.value.errors[0][0] == "/query/lang"
    with pytest.raises(InvalidInput) as err:
        exports.cohort_table("smm", None, "country", "csv", "en")
    assert err.value.errors[0][0] == "/query/by"


# --- one assessment -----------------------------------------------------------------------
def test_csv_equals_the_comparison(exports, seeded, client_rec) -> None:  # type: ignore[no-untyped-def]
    comparison = comparison_of(seeded, client_rec, None, "en")
    assert comparison["source"] == "reference" and comparison["status"] == "released"
    export = exports.assessment(client_rec, "csv", "en")
    assert export.content_type == "text/csv; charset=utf-8"
    assert export.filename.endswith("-en.csv") and client_rec.id[:12] in export.filename
    header = export.body.decode("utf-8-sig").splitlines()[0]
    assert tuple(header.split(",")) == ASSESSMENT_COLUMNS
    rows = assert_csv_matches(export.body, comparison)
    assert rows[0]["source_label"] == "reference (synthetic)"
    assert rows[0]["synthetic"] == "true"


def test_csv_in_german_has_german_labels(exports, seeded, client_rec) -> None:  # type: ignore[no-untyped-def]
    comparison = comparison_of(seeded, client_rec, None, "de")
    rows = assert_csv_matches(
        exports.assessment(client_rec, "csv", "de").body, comparison
    )
    labels = {r["label"] for r in rows}
    assert {"Gesamtindex", "Engagement-Phase", "Krisenfestigkeit"} <= labels
    assert rows[0]["source_label"] == "Referenz (synthetisch)"
    assert "Verarbeitendes Gewerbe" in rows[0]["cohort_label"]


def test_xlsx_sheets_frozen_headers_charts_and_methods(
    exports, seeded, client_rec
) -> None:  # type: ignore[no-untyped-def]
    comparison = comparison_of(seeded, client_rec, None, "en")
    export = exports.assessment(client_rec, "xlsx", "en")
    assert export.content_type == CONTENT_TYPES["xlsx"]
    wb = assert_xlsx_matches(export.body, comparison, "en")
    assert wb.sheetnames == [
        "Overview",
        "Comparison",
        "Phases and pyramid",
        "Recommendations",
        "Data",
        "Methods",
    ]
    for ws in wb.worksheets:
        assert ws.freeze_panes is not None, ws.title
    assert wb["Comparison"].freeze_panes == "B2"
    charts = xlsx_charts(export.body)
    assert len(charts) == 2
    assert "<c:barChart>" in charts[0] and "<c:radarChart>" in charts[1]
    assert len(wb["Comparison"]._charts) == 2  # openpyxl reads them back
    # the Data sheet is the CSV table with numbers as numbers
    data = list(wb["Data"].iter_rows(values_only=True))
    assert tuple(data[0]) == ASSESSMENT_COLUMNS
    csv_rows = read_csv(exports.assessment(client_rec, "csv", "en").body)
    for xrow, crow in zip(data[1:], csv_rows, strict=True):
        for name, v in zip(ASSESSMENT_COLUMNS, xrow, strict=True):
            expected = crow[name]
            if isinstance(v, (int, float)):
                assert float(expected) == v, name
            else:
                assert (v or "") == expected, name
    overview = {r[0]: r[1] for r in wb["Overview"].iter_rows(values_only=True)}
    assert overview["Source"] == "reference (synthetic)"
    recs = list(wb["Recommendations"].iter_rows(min_row=2, values_only=True))
    rendered = assessment_json(seeded.assessments.view(client_rec, "en"))
    assert [r[2] for r in recs] == [
        r["text"] for r in rendered["result"]["recommendations"]
    ]


def test_xlsx_in_german(exports, seeded, client_rec) -> None:  # type: ignore[no-untyped-def]
    comparison = comparison_of(seeded, client_rec, None, "de")
    wb = assert_xlsx_matches(
        exports.assessment(client_rec, "xlsx", "de").body, comparison, "de"
    )
    assert wb.sheetnames[0] == "Übersicht" and wb.sheetnames[-1] == "Methodik"
    assert wb["Vergleich"]["C1"].value == "Perzentilrang"
    methods = " ".join(str(r[1]) for r in wb["Methodik"].iter_rows(values_only=True))
    assert "Referenz (synthetisch)" in methods and "Schutz der Restgruppe" in methods


def test_pdf_report_equals_the_comparison(exports, seeded, client_rec) -> None:  # type: ignore[no-untyped-def]
    comparison = comparison_of(seeded, client_rec, None, "en")
    export = exports.assessment(client_rec, "pdf", "en")
    assert export.content_type == "application/pdf"
    text = assert_pdf_matches(export.body, comparison, "en")
    flat = " ".join(text.split())
    rendered = assessment_json(seeded.assessments.view(client_rec, "en"))["result"]
    # title block: phase and tier; ladder; pyramid with blocked-by note; radar; bars
    assert f"Phase {rendered['phase']['number']} of 0–7" in flat
    assert " of 7" not in flat  # eight phases 0-7: never "n of 7"
    assert rendered["phase"]["name"] in flat
    assert rendered["pyramid"]["reached_name"] in flat
    assert rendered["pyramid"]["blocked_by"] == "safety"
    assert "Blocked by 'Safety'" in flat
    assert "The 7 levels of social media engagement" in flat
    assert "Social business pyramid (Altimeter)" in flat
    for d in rendered["dimensions"]:
        assert d["name"] in flat
    assert "REFERENCE (SYNTHETIC)" in flat  # banner and chart caption
    assert "reference (synthetic)" in flat  # methods box
    for i, r in enumerate(rendered["recommendations"], 1):
        assert " ".join(r["text"].split())[:60] in flat, i
    # deterministic: same input, same bytes
    assert exports.assessment(client_rec, "pdf", "en").body == export.body


def test_pdf_report_in_german(exports, seeded, client_rec) -> None:  # type: ignore[no-untyped-def]
    comparison = comparison_of(seeded, client_rec, None, "de")
    body = exports.assessment(client_rec, "pdf", "de").body
    text = assert_pdf_matches(body, comparison, "de")
    flat = " ".join(text.split())
    for word in (
        "Auswertung Social-Media-Reifegrad",
        "Stufenmodell des Social-Media-Engagements",
        "Perzentilrang in der Kohorte",
        "Empfohlene nächste Schritte",
        "Methodik",
        "REFERENZ (SYNTHETISCH)",
        "Referenz (synthetisch)",
        "Blockiert durch „Sicherheit“",
        "Beschäftigte",
    ):
        assert word in flat, word
    assert "Percentile" not in flat and "Recommended" not in flat
    assert re.search(r"\d,\d", flat)  # decimal comma
    render_png(body, "report-de")


def test_pdf_first_page_artifact_english(exports, client_rec) -> None:  # type: ignore[no-untyped-def]
    from tests.tools import require

    require("pdftoppm")  # skips on a developer machine without it, fails in CI
    png = render_png(exports.assessment(client_rec, "pdf", "en").body, "report-en")
    assert png is not None and png.stat().st_size > 10_000


def test_without_a_releasable_cohort_only_own_values(
    service, questionnaire, settings
) -> None:  # type: ignore[no-untyped-def]
    """Reference switched off and no real peers: the export says no comparison is possible
    and shows no benchmark figure."""
    from dataclasses import replace

    service.settings = replace(settings, reference=False)
    exports = Container.of(service).exports
    # a user of social media, so it is counted in the default population (alone: below k)
    user = {questionnaire.population.question: "ad_hoc"}
    rec, _ = submit(service, orgs.build(questionnaire, orgs.middle, user))
    exports.benchmarks.releases.publish()
    rows = read_csv(exports.assessment(rec, "csv", "en").body)
    assert rows and all(r["status"] == "below_threshold" for r in rows)
    assert all(
        r["percentile_rank"] == r["median"] == r["cohort_n"] == r["metric_n"] == ""
        for r in rows
    )
    assert rows[0]["value"] == str(rec.metrics["overall"])
    text = " ".join(
        "\n".join(pdf_pages(exports.assessment(rec, "pdf", "en").body)).split()
    )
    assert "No comparison possible: below k – not shown" in text
    wb = xlsx_book(exports.assessment(rec, "xlsx", "en").body)
    assert (
        wb["Comparison"]["C2"].value is None
        and wb["Comparison"]["B2"].value == rec.metrics["overall"]
    )


def test_comparison_parameters_are_passed_on(exports, seeded, client_rec) -> None:  # type: ignore[no-untyped-def]
    params = {
        "source": "reference",
        "industry": "*",
        "size": "*",
        "region": "*",
        "format": "x",
    }
    comparison = comparison_of(seeded, client_rec, params, "en")
    assert comparison["cohort"]["key"] == "*#*#*"
    assert_csv_matches(
        exports.assessment(client_rec, "csv", "en", params).body, comparison
    )
    with pytest.raises(InvalidInput) as err:
        exports.assessment(client_rec, "csv", "en", {"industry": "ZZ"})
    assert err.value.errors[0][0] == "/query/industry"


# --- several assessments ------------------------------------------------------------------
def test_side_by_side_in_every_format(exports, seeded, service, questionnaire) -> None:  # type: ignore[no-untyped-def]
    recs = [
        submit(service, orgs.up_to_phase(questionnaire, p, tiers=("foundation",)))[0]
        for p in (1, 4, 6)
    ]
    calls: list[tuple[int, int]] = []
    csv_export = exports.side_by_side(
        recs, "csv", "en", progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]
    rows = read_csv(csv_export.body)
    for rec in recs:
        comparison = comparison_of(seeded, rec, None, "en")
        mine = [r for r in rows if r["assessment_id"] == rec.id]
        body = "\ufeff" + ",".join(ASSESSMENT_COLUMNS) + "\r\n"
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(
            [list(r.values()) for r in mine]
        )
        assert_csv_matches((body + out.getvalue()).encode(), comparison)

    x = exports.side_by_side(recs, "xlsx", "de")
    assert x.filename == "assessments-3-de.xlsx"
    wb = xlsx_book(x.body)
    assert wb.sheetnames == [
        "Übersicht",
        "Werte",
        "Perzentile",
        "Empfehlungen",
        "Daten",
        "Methodik",
    ]
    assert all(ws.freeze_panes for ws in wb.worksheets)
    overview = list(wb["Übersicht"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in overview] == [r.id for r in recs]
    for rec, row in zip(recs, overview, strict=True):
        comparison = comparison_of(seeded, rec, None, "de")
        overall = next(m for m in comparison["metrics"] if m["metric"] == "overall")
        assert row[6] == overall["value"] and row[7] == overall["percentile_rank"]
        assert (
            row[9] == comparison["cohort"]["n"]
            and row[10] == comparison["source_label"]
        )
    assert len(xlsx_charts(x.body)) == 1
    assert len(list(wb["Daten"].iter_rows(min_row=2))) == len(rows)

    p = exports.side_by_side(recs, "pdf", "en")
    pages = pdf_pages(p.body)
    assert len(pages) == 1 + len(recs) + 1  # overview, one page each, methods
    for rec, page in zip(recs, pages[1:-1], strict=True):
        assert rec.id in page
        comparison = comparison_of(seeded, rec, None, "en")
        rows_pdf = pdf_metric_rows(page)
        for m in comparison["metrics"]:
            assert rows_pdf[m["label"]][:2] == [
                fmt_num(m["value"], "en"),
                fmt_num(m["percentile_rank"], "en"),
            ]
        assert f"n = {comparison['cohort']['n']}" in page
        assert "k = 5" in page and "smm 2.0.0" in page
    assert "Methods" in pages[-1] and "Privacy" in pages[-1]
    assert all(rec.id[:12] in pages[0] for rec in recs)
    render_png(p.body, "side-by-side")


def test_side_by_side_streams_one_report_at_a_time(
    exports, seeded, service, questionnaire, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """At most one full report is alive while the workbook or PDF is written."""
    import gc
    import weakref

    from chalicelib.exports import model

    recs = [
        submit(service, orgs.up_to_phase(questionnaire, p))[0] for p in (1, 2, 3, 4, 5)
    ]
    alive: list[weakref.ref[Any]] = []
    most = 0
    real = model.build_report

    def tracking(*args: Any, **kwargs: Any) -> model.AssessmentReport:
        nonlocal most
        gc.collect()
        report = real(*args, **kwargs)
        alive.append(weakref.ref(report))
        most = max(most, sum(1 for r in alive if r() is not None))
        return report

    monkeypatch.setattr("chalicelib.exports.build_report", tracking)
    for fmt in ("csv", "xlsx", "pdf"):
        most = 0
        exports.side_by_side(recs, fmt, "en")
        assert most <= 2, fmt  # the one being written and the next one being built


# --- cohort tables ------------------------------------------------------------------------
def _small_real_cohorts(service: Any, questionnaire: Any) -> None:
    """Industry J: 4 (below k); C: 6 in DACH + 2 in western Europe; M: 7."""

    def add(n: int, **ctx: str) -> None:
        for i in range(n):
            answers = orgs.build(questionnaire, orgs.middle, context=ctx)
            answers["social_presence"] = ["ad_hoc", "structured"][i % 2]
            submit(service, answers)

    add(4, industry="J", size="10-49", country="AT")
    add(6, industry="C", size="50-249", country="DE")
    add(2, industry="C", size="50-249", country="FR")
    add(7, industry="M", size="1-9", country="DE")
    Container.of(service).releases.publish()  # figures come from releases only


def test_cohort_table_never_shows_cohorts_below_k(
    exports, benchmarks, service, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    _small_real_cohorts(service, questionnaire)
    body = exports.cohort_table(
        "smm", None, "industry", "csv", "en", {"source": "real"}
    ).body
    rows = read_csv(body)
    assert tuple(rows[0]) == COHORT_COLUMNS
    status = {r["value"]: r["cohort_status"] for r in rows}
    assert status["*"] == "released" and status["C"] == "released"
    # all 19 = C 8 + M 7 + J 4: publishing M too would give J's 4 by subtraction
    assert status["M"] == "suppressed_complement" and status["J"] == "below_threshold"
    assert status["B"] == "no_data"
    for r in rows:
        if r["cohort_status"] != "released":
            assert r["cohort_n"] == r["metric_n"] == r["median"] == r["p25"] == ""
            assert r["p75"] == r["mean"] == r["months_from"] == ""
    # released rows equal the statistics of exactly that cohort
    for value in ("*", "C"):
        stats = cohort_statistics_json(
            benchmarks.cohort_statistics(
                "smm", None, {"source": "real", "industry": value}, "en"
            ),
            "en",
        )
        assert stats["cohort"]["key"] == f"{value}#*#*"
        mine = {r["metric"]: r for r in rows if r["value"] == value}
        for m in stats["metrics"]:
            assert mine[m["metric"]]["metric_n"] == m["n"]
            assert int(mine[m["metric"]]["median"]) == m["median"]
            assert int(mine[m["metric"]]["p25"]) == m["p25"]
            assert mine[m["metric"]]["cohort_n"] == stats["cohort"]["n"]

    wb = xlsx_book(
        exports.cohort_table(
            "smm", None, "industry", "xlsx", "en", {"source": "real"}
        ).body
    )
    ws = wb["Cohorts"]
    assert ws.freeze_panes == "B3"
    j = next(r for r in ws.iter_rows(min_row=3, values_only=True) if r[1] == "J#*#*")
    assert j[2] == "below k – not shown" and all(v is None for v in (j[3], *j[6:]))
    c = next(r for r in ws.iter_rows(min_row=3, values_only=True) if r[1] == "C#*#*")
    assert c[3] == "5-9"  # 8, as a band
    assert (
        len(
            xlsx_charts(
                exports.cohort_table(
                    "smm", None, "industry", "xlsx", "en", {"source": "real"}
                ).body
            )
        )
        == 1
    )

    pdf = exports.cohort_table(
        "smm", None, "industry", "pdf", "en", {"source": "real"}
    ).body
    text = "\n".join(pdf_pages(pdf))
    lines = [line.strip() for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("J – "))
    end = next(i for i, line in enumerate(lines) if line.startswith("K – "))
    j_cells = " ".join(lines[start:end])  # label (wrapped), status, nothing else
    assert j_cells == "J – Information and communication below k – not shown"
    assert not re.search(r"\d", j_cells)
    render_png(pdf, "cohorts-industry")


def test_cohort_table_differencing_is_kept(exports, service, questionnaire) -> None:  # type: ignore[no-untyped-def]
    """Within industry C: DACH has 6 of C's 8, so releasing both would reveal the other 2;
    the table shows DACH as suppressed, exactly as the API does."""
    _small_real_cohorts(service, questionnaire)
    rows = read_csv(
        exports.cohort_table(
            "smm", None, "region", "csv", "de", {"source": "real", "industry": "C"}
        ).body
    )
    status = {r["value"]: r["cohort_status"] for r in rows}
    assert status["*"] == "released"
    assert status["dach"] == "suppressed_complement"
    assert status["western_europe"] == "below_threshold"
    assert status["asia_pacific"] == "no_data"
    assert {r["cohort_label"] for r in rows if r["value"] == "dach"} == {"DACH"}
    assert {r["source_label"] for r in rows} == {"echte Teilnahmen"}
    assert all(r["cohort_n"] == "" for r in rows if r["value"] != "*")


def test_cohort_table_of_the_reference(exports, seeded) -> None:  # type: ignore[no-untyped-def]
    for by in ("industry", "size", "region"):
        export = exports.cohort_table(
            "smm", "2.0.0", by, "csv", "en", {"source": "reference"}
        )
        assert export.filename == f"smm-2.0.0-cohorts-by-{by}-reference-en.csv"
        rows = read_csv(export.body)
        assert {r["source_label"] for r in rows} == {"reference (synthetic)"}
        total = [r for r in rows if r["value"] == "*"]
        # by default the organisations that use social media (43% of the 600)
        assert total and all(r["cohort_n"] == "250-499" for r in total)  # 258
        assert {r["population"] for r in rows} == {"users"}
        everyone = read_csv(
            exports.cohort_table(
                "smm",
                "2.0.0",
                by,
                "csv",
                "en",
                {"source": "reference", "population": "all"},
            ).body
        )
        total = [r for r in everyone if r["value"] == "*"]
        assert total and all(r["cohort_n"] == "500-999" for r in total)  # 600
        assert {r["population"] for r in everyone} == {"all"}
    pdf = exports.cohort_table(
        "smm", None, "size", "pdf", "de", {"source": "reference"}
    ).body
    flat = " ".join("\n".join(pdf_pages(pdf)).split())
    assert "Benchmark-Kohorten nach Größenklasse" in flat
    assert "REFERENZ (SYNTHETISCH)" in flat and "1–9 Beschäftigte" in flat
    assert "Grundgesamtheit: Organisationen, die soziale Medien nutzen" in flat


# --- CLI ----------------------------------------------------------------------------------
@pytest.fixture
def cli_env(tmp_path, monkeypatch, catalog, questionnaire):  # type: ignore[no-untyped-def]
    """A configured SQLite store with the reference cohort and three client assessments."""
    from chalicelib.assessments import AssessmentService
    from chalicelib.config import Settings
    from chalicelib.storage.sqlite import SqliteStore

    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("STORE", "sqlite")
    monkeypatch.setenv("SQLITE_PATH", str(path))
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    store = SqliteStore(str(path))
    svc = AssessmentService(store, catalog, Settings(secret=b"cli-test"))
    Container.of(svc).benchmarks.seed_reference(questionnaire, 600, 1)
    tokens = [submit(svc, orgs.up_to_phase(questionnaire, p))[1] for p in (2, 3, 5)]
    yield tokens
    store.close()


def test_cli_assessment(cli_env, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.export_cli import main

    token = cli_env[0]
    out = tmp_path / "report.pdf"
    aid = token.split(".")[0]
    rc = main(
        f"export assessment --id {aid} --token {token} --format pdf --lang de -o {out}".split()
    )
    assert rc == 0 and out.read_bytes().startswith(b"%PDF")
    err = capsys.readouterr().err
    assert "wrote" in err and token.split(".")[1] not in err
    wrong = f"{aid}.wrong"
    rc = main(
        f"export assessment --id {aid} --token {wrong} --format csv -o {out}".split()
    )
    err = capsys.readouterr().err
    assert rc == 1 and err.strip() == "error: unknown assessment or wrong token"


def test_cli_clients_with_progress_and_bad_tokens(cli_env, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.export_cli import main

    tokens = tmp_path / "tokens.txt"
    tokens.write_text("# clients\n" + "\n".join(cli_env) + "\n\n", encoding="utf-8")
    out = tmp_path / "clients.xlsx"
    rc = main(f"export clients --tokens-file {tokens} --format xlsx -o {out}".split())
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "export xlsx [" in err and "3/3" in err
    wb = xlsx_book(out.read_bytes())
    assert len(list(wb["Overview"].iter_rows(min_row=2))) == 3

    bad = cli_env[1].split(".")[0] + ".not-the-secret"
    tokens.write_text(
        f"{cli_env[0]}\n{bad}\nnonsense\n{cli_env[0]}\n", encoding="utf-8"
    )
    out2 = tmp_path / "never.csv"
    rc = main(f"export clients --tokens-file {tokens} --format csv -o {out2}".split())
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and not out2.exists()
    assert err == [
        f"error: {tokens}: line 2: unknown assessment or wrong token",
        f"error: {tokens}: line 3: not a result token (<id>.<secret>)",
        f"error: {tokens}: line 4: assessment listed twice",
    ]


def test_cli_display_labels_and_csv_locale(cli_env, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A label after a token in the tokens file (or --label) names the assessment in the
    export; never printed; --csv-locale picks the number format."""
    from chalicelib.export_cli import main

    tokens = tmp_path / "tokens.txt"
    tokens.write_text(
        f"{cli_env[0]}   Müller GmbH, Werk Süd\n{cli_env[1]}\n{cli_env[2]}\tKunde C\n",
        encoding="utf-8",
    )
    out = tmp_path / "clients.csv"
    rc = main(
        f"export clients --tokens-file {tokens} --format csv --lang en "
        f"--csv-locale de -o {out}".split()
    )
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "Müller" not in err and "Kunde C" not in err
    body = out.read_bytes()
    assert body.decode("utf-8-sig").startswith("assessment_id;assessment_label;")
    labels = {r["assessment_id"]: r["assessment_label"] for r in read_csv(body)}
    ids = [t.split(".")[0] for t in cli_env]
    assert labels == {ids[0]: "Müller GmbH, Werk Süd", ids[1]: "", ids[2]: "Kunde C"}

    pdf = tmp_path / "one.pdf"
    rc = main(
        [
            "export",
            "assessment",
            "--id",
            ids[0],
            "--token",
            cli_env[0],
            "--format",
            "pdf",
            "--lang",
            "de",
            "--label",
            "Müller GmbH",
            "-o",
            str(pdf),
        ]
    )
    assert rc == 0
    text = " ".join(" ".join(pdf_pages(pdf.read_bytes())).split())
    assert "Assessment: Müller GmbH" in text and ids[0] not in text
    rc = main(
        [
            "export",
            "assessment",
            "--id",
            ids[0],
            "--token",
            cli_env[0],
            "--format",
            "csv",
            "--label",
            "zwei\nZeilen",
            "-o",
            str(pdf),
        ]
    )
    assert rc == 2
    assert "control character" in capsys.readouterr().err


def test_cli_cohorts(cli_env, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.export_cli import main

    out = tmp_path / "cohorts.csv"
    rc = main(
        f"export cohorts --by industry --format csv --source reference -o {out}".split()
    )
    assert rc == 0
    rows = read_csv(out.read_bytes())
    assert {r["source"] for r in rows} == {"reference"}
    assert {r["population"] for r in rows} == {"users"}
    rc = main(
        f"export cohorts --by size --format csv --source reference --population all -o {out}".split()
    )
    assert rc == 0
    everyone = read_csv(out.read_bytes())
    assert {r["population"] for r in everyone} == {"all"}
    total = [r for r in everyone if r["value"] == "*"]
    assert total and {r["cohort_n"] for r in total} == {"500-999"}  # 600
    rc = main(f"export cohorts --by size --format csv --industry ZZ -o {out}".split())
    assert rc == 2
    assert capsys.readouterr().err.strip().endswith("(industry: unknown industry 'ZZ')")
    with pytest.raises(SystemExit) as exit_:
        main(
            ["export", "cohorts", "--by", "country", "--format", "csv", "-o", str(out)]
        )
    assert exit_.value.code == 2


def test_cli_register_adds_the_export_command() -> None:
    import argparse

    from chalicelib.export_cli import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["export", "cohorts", "--by", "region", "--format", "pdf", "-o", "x.pdf"]
    )
    assert args.func.__name__ == "cmd_cohorts" and args.lang == "en"


def test_export_dataclass_is_frozen() -> None:
    e = Export(b"x", "application/pdf", "a.pdf")
    assert e.is_binary
    with pytest.raises(AttributeError):
        e.body = b"y"  # type: ignore[misc]


def test_unset_parameters_are_ignored(exports, seeded, client_rec) -> None:  # type: ignore[no-untyped-def]
    """Callers may pass optional body fields through as None (partner routes do)."""
    params = {"source": None, "industry": "", "lang": "de"}
    rows = read_csv(exports.cohort_table("smm", None, "size", "csv", "en", params).body)
    assert rows and {r["source"] for r in rows} == {"reference"}  # auto: no real data
    comparison = comparison_of(seeded, client_rec, None, "en")
    body = exports.side_by_side([client_rec], "csv", "en", params).body
    assert_csv_matches(body, comparison)
