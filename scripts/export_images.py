"""Renders the pages shown in docs/EXPORTS.md: `make export-images`.

Builds a throw-away SQLite store with the synthetic reference cohort and three example
organisations, exports the one-assessment PDF (German), the side-by-side PDF (English, with
display labels), the cohort table PDF (German) and the one-assessment XLSX as LibreOffice
prints it, and writes small PNGs of chosen pages to docs/images/exports/. Needs poppler-utils
(pdftoppm) and, for the XLSX pages, LibreOffice (`make system-deps`). The clock and the
display labels are fixed, so running it again gives the same pictures.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "docs" / "images" / "exports"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
DPI = "45"  # small: about 370 x 520 pixels for an A4 page


def main() -> int:
    from chalicelib.config import Settings
    from chalicelib.container import Container
    from chalicelib.questionnaire import get_catalog
    from chalicelib.request_models import SubmissionIn
    from chalicelib.storage.sqlite import SqliteStore
    from tests import orgs

    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        print("pdftoppm is missing: make system-deps", file=sys.stderr)
        return 1
    soffice = shutil.which("soffice")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        store = SqliteStore(str(tmp / "images.sqlite3"))
        catalog = get_catalog(str(ROOT / "questionnaires"))
        parts = Container(
            store=store,
            catalog=catalog,
            settings=Settings(secret=b"export-images"),
            clock=lambda: NOW,
        )
        service = parts.assessments
        q = catalog.get("smm")
        parts.benchmarks.seed_reference(q, 600, 1)
        exports = parts.exports
        records = []
        for phase, tiers in (
            (3, ("foundation",)),
            (5, ("foundation", "safety")),
            (1, ()),
        ):
            done = service.submit(
                SubmissionIn.model_validate(
                    {"answers": orgs.up_to_phase(q, phase, tiers=tiers)}
                )
            )
            rec = store.get_assessment(done.view.id)
            assert rec is not None
            records.append(rec)
        names = ["Muster Maschinenbau GmbH", "Nordlicht Reisen AG", "Bäckerei Korn KG"]
        labels = {r.id: n for r, n in zip(records, names, strict=True)}

        def pages(pdf: bytes, name: str, wanted: list[int]) -> None:
            path = tmp / f"{name}.pdf"
            path.write_bytes(pdf)
            for page in wanted:
                target = OUT / f"{name}-{page}"
                subprocess.run(
                    [pdftoppm, "-png", "-r", DPI, "-f", str(page), "-l", str(page)]
                    + ["-singlefile", str(path), str(target)],
                    check=True,
                    timeout=120,
                )
                print(f"wrote {target.relative_to(ROOT)}.png")

        one = exports.assessment(records[0], "pdf", "de", label=names[0]).body
        pages(one, "report-de", [1, 2, 3, 4])
        sbs = exports.side_by_side(records, "pdf", "en", display_labels=labels).body
        pages(sbs, "side-by-side-en", [1, 2])
        cohorts = exports.cohort_table(
            "smm", None, "industry", "pdf", "de", {"source": "reference"}
        ).body
        pages(cohorts, "cohorts-de", [1])
        if soffice is None:
            print("soffice is missing (make system-deps): XLSX pages skipped")
        else:
            book = tmp / "workbook-de.xlsx"
            book.write_bytes(
                exports.assessment(records[0], "xlsx", "de", label=names[0]).body
            )
            subprocess.run(
                [
                    soffice,
                    f"-env:UserInstallation=file://{tmp / 'lo-profile'}",
                    "--headless",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    str(tmp / "lo"),
                    str(book),
                ],
                check=True,
                capture_output=True,
                timeout=300,
            )
            pages((tmp / "lo" / "workbook-de.pdf").read_bytes(), "workbook-de", [1, 2])
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
