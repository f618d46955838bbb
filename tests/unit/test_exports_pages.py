"""Every page of every PDF report type, as a reader sees it (issue 16, exports): the page
images (pdftoppm) and texts (pdftotext) of one-assessment reports for every organisation
profile, side-by-side reports with display labels and cohort tables, in German and English.

Checked: the page count; no page below a minimum of content (no orphan page holding one
overflowing line); table headers never broken inside a word; no developer jargon or file
paths in client text; dates as a reader writes them ("3. Dezember 2026"), never ISO; the
export's own time as the PDF creation date; the peer cohort's age, population and, for the
reference cohort, that it is synthetic."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from chalicelib.config import Settings
from chalicelib.container import Container
from chalicelib.questionnaire import get_catalog
from chalicelib.storage.sqlite import SqliteStore
from tests.conftest import ROOT
from tests.tools import require
from tests.unit.test_exports import comparison_of, fmt_months, submit
from tests.unit.test_profiles import PROFILES, answers_of

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
TODAY = {"de": "3. Dezember 2026", "en": "3 December 2026"}
JARGON = re.compile(
    r"scipy|numpy|percentileofscore|inverted_cdf|kind=|_cdf|\w+\.(?:md|py|ya?ml|json)\b"
    r"|docs/|chalicelib|/tmp/|Traceback",
    re.IGNORECASE,
)
ISO_DATE = re.compile(r"\b(19|20)\d\d-\d\d(-\d\d)?\b")
MIN_BODY_LINES = 6  # text lines besides the running header and footer
MIN_INK = 0.0015  # share of dark pixels in the body of a page image


class Reports:
    def __init__(self, root: Path) -> None:
        store = SqliteStore(str(root / "pages.sqlite3"))
        catalog = get_catalog(str(ROOT / "questionnaires"))
        parts = Container(
            store=store,
            catalog=catalog,
            settings=Settings(secret=b"pages-test", k_min=5),
            clock=lambda: NOW,
        )
        self.service = parts.assessments
        self.benchmarks = parts.benchmarks
        q = catalog.get("smm")
        self.benchmarks.seed_reference(q, 600, 1)
        self.exports = parts.exports
        self.records = {
            name: submit(self.service, answers_of(q, p))[0]
            for name, p in sorted(PROFILES.items())
        }
        self.store = store


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reports]:
    r = Reports(tmp_path_factory.mktemp("pages"))
    yield r
    r.store.close()


def pages_text(pdf: bytes, tmp: Path) -> list[str]:
    """pdftotext of every page (the text a reader copies out of the file)."""
    exe = require("pdftotext")
    path = tmp / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        [exe, "-layout", str(path), "-"], check=True, capture_output=True, timeout=60
    ).stdout.decode()
    return out.split("\f")[: len(PdfReader(io.BytesIO(pdf)).pages)]


def page_ink(pdf: bytes, tmp: Path) -> list[float]:
    """Share of dark pixels in the body of every page image (running header and footer
    cut off), from pdftoppm at 20 dpi."""
    exe = require("pdftoppm")
    path = tmp / "ink.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        [exe, "-gray", "-r", "20", "-png", str(path), str(tmp / "ink")],
        check=True,
        timeout=120,
    )
    shares = []
    for png in sorted(tmp.glob("ink-*.png"), key=lambda p: int(p.stem.split("-")[-1])):
        img = Image.open(png).convert("L")
        w, h = img.size
        body = img.crop((0, int(h * 0.06), w, int(h * 0.94)))
        data = body.tobytes()
        shares.append(sum(1 for v in data if v < 160) / len(data))
        png.unlink()
    return shares


def body_lines(page: str) -> list[str]:
    lines = [line for line in page.splitlines() if line.strip()]
    return lines[1:-1]  # running header, footer


def assert_client_ready(pdf: bytes, tmp: Path, lang: str, pages: int) -> list[str]:
    texts = pages_text(pdf, tmp)
    assert len(texts) == pages, [len(body_lines(t)) for t in texts]
    for i, (text, ink) in enumerate(zip(texts, page_ink(pdf, tmp), strict=True), 1):
        assert len(body_lines(text)) >= MIN_BODY_LINES, (i, text)
        assert ink >= MIN_INK, (i, ink, text)
    flat = "\n".join(texts)
    assert not JARGON.search(flat), JARGON.search(flat)
    assert not ISO_DATE.search(flat), ISO_DATE.search(flat)
    assert TODAY[lang] in " ".join(flat.split())
    meta = PdfReader(io.BytesIO(pdf)).metadata
    assert meta is not None and meta.creation_date is not None
    assert meta.creation_date.replace(tzinfo=UTC) == NOW.replace(tzinfo=UTC)
    return texts


def assert_headers_whole(texts: list[str], headers: list[str]) -> None:
    """Each header word is printed whole (or split only after its own hyphen)."""
    tokens = {t for text in texts for t in text.split()}
    for header in headers:
        for word in header.split():
            parts = [word] if word in tokens else re.findall(r"[^-]+-?", word)
            for part in parts:
                assert part in tokens, (header, part)


def cohort_age(texts: list[str], lang: str, months: dict[str, str] | None) -> None:
    """The reports say how old the benchmark figures are (the release they come from and its
    date, the cohort's most recent month), which population they describe, and that the
    reference cohort is synthetic."""
    flat = " ".join(" ".join(texts).split())
    latest = (
        fmt_months({"from": months["to"], "to": months["to"]}, lang)
        if months
        else ("n. v." if lang == "de" else "n/a")
    )
    if lang == "de":
        assert re.search(
            r"Stand der Vergleichsdaten: Veröffentlichung r\d{8}T\d{6}Z-[0-9a-f]{6} vom"
            r" 3\. Dezember 2026",
            flat,
        ), flat
        assert f"jüngster Monat in der Kohorte: {latest}" in flat
        assert "Organisationen, die soziale Medien nutzen" in flat
        assert "REFERENZ (SYNTHETISCH)" in flat
    else:
        assert re.search(
            r"Benchmark data: release r\d{8}T\d{6}Z-[0-9a-f]{6} of 3 December 2026",
            flat,
        ), flat
        assert f"most recent month in the cohort: {latest}" in flat
        assert "organisations that use social media" in flat
        assert "REFERENCE (SYNTHETIC)" in flat


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_assessment_report_pages(reports: Reports, name: str, tmp_path: Path) -> None:
    rec = reports.records[name]
    body = reports.exports.assessment(rec, "pdf", "de").body
    n = len(PdfReader(io.BytesIO(body)).pages)
    assert n in (3, 4)  # a short list of recommendations shares the second page
    texts = assert_client_ready(body, tmp_path, "de", pages=n)
    comparison = comparison_of(reports.benchmarks, rec, None, "de")
    cohort_age(texts, "de", comparison["months"])
    completed = rec.created_at[:10]
    assert completed == "2026-12-03"
    assert "Ausgefüllt am 3. Dezember 2026" in " ".join(texts[0].split())
    from chalicelib.exports.model import labels

    lab = labels("de")
    assert_headers_whole(
        texts,
        [
            lab.column(k)
            for k in ("metric", "value", "percentile_rank", "median")
            + ("distance_to_median", "status")
        ],
    )


@pytest.mark.parametrize("lang", ["de", "en"])
def test_side_by_side_pages_with_display_labels(
    reports: Reports, lang: str, tmp_path: Path
) -> None:
    records = list(reports.records.values())
    names = {
        r.id: f"Kunde {i:02d} – Müller & Söhne GmbH" for i, r in enumerate(records)
    }
    body = reports.exports.side_by_side(records, "pdf", lang, display_labels=names).body
    texts = assert_client_ready(body, tmp_path, lang, pages=1 + len(records) + 1)
    for rec, page in zip(records, texts[1:-1], strict=True):
        comparison = comparison_of(reports.benchmarks, rec, None, lang)
        cohort_age([texts[0], page], lang, comparison["months"])
    flat = " ".join(" ".join(texts).split())
    for r in records:
        assert r.id not in flat and r.id[:12] not in flat  # the labels replace the ids
        assert names[r.id] in flat
    from chalicelib.exports.model import labels

    lab = labels(lang)
    assert_headers_whole(
        texts[:1],
        [
            lab.column(k)
            for k in ("tier", "overall", "overall_percentile", "cohort_n", "source")
        ],
    )
    # a cell's words are not broken either
    assert ("(synthetisch)" if lang == "de" else "(synthetic)") in texts[0].split()


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("by", ["industry", "size", "region"])
def test_cohort_table_pages(
    reports: Reports, lang: str, by: str, tmp_path: Path
) -> None:
    q = reports.service.catalog.get("smm")
    body = reports.exports.cohort_table(
        "smm", None, by, "pdf", lang, {"source": "reference"}
    ).body
    n = len(PdfReader(io.BytesIO(body)).pages)
    assert 1 <= n <= 5
    texts = assert_client_ready(body, tmp_path, lang, pages=n)
    assert_headers_whole(texts, [q.metric_label(m, lang) for m in q.metric_names()])
    flat = " ".join(" ".join(texts).split())
    assert (
        "REFERENZ (SYNTHETISCH)" if lang == "de" else "REFERENCE (SYNTHETIC)"
    ) in flat
    assert (
        "jüngster Monat in der Kohorte" if lang == "de" else "most recent month"
    ) in flat


def test_workbooks_carry_the_export_time(reports: Reports) -> None:
    """The XLSX files, like the PDFs, are dated when the export was made."""
    from tests.unit.test_exports import xlsx_book

    rec = next(iter(reports.records.values()))
    for body in (
        reports.exports.assessment(rec, "xlsx", "de").body,
        reports.exports.side_by_side([rec], "xlsx", "en").body,
        reports.exports.cohort_table("smm", None, "size", "xlsx", "de").body,
    ):
        created = xlsx_book(body).properties.created
        assert created is not None
        assert created.replace(tzinfo=UTC) == NOW
