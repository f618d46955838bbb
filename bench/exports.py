"""Benchmark the consultant exports: many assessments side by side, in each format.

Builds a temporary SQLite store, seeds the reference (synthetic) cohort, stores N client
assessments (synthetic answer sets submitted through the service, so they are validated,
scored, screened and counted like real ones), then exports them side by side as CSV, XLSX and
PDF. For each size and format it prints

- the wall time of the export (a plain run),
- the peak of Python allocations during the export (tracemalloc, a second run: tracing
  slows the run down, so the time comes from the first),
- the growth of the peak resident set size during the export, measured in a forked child
  whose peak is reset first (Linux ``/proc/self/clear_refs``; elsewhere the ``ru_maxrss``
  delta, which stays 0 when the setup had a higher peak), so C allocations count too,
- the size of the file.

Figures are printed, not asserted. Usage:
    .venv/bin/python bench/exports.py [--sizes 50,200] [--reference 2400] [--lang de]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib import reference
from chalicelib.assessments import AssessmentService
from chalicelib.config import Settings
from chalicelib.container import Container
from chalicelib.exports import FORMATS, ExportService
from chalicelib.questionnaire import get_catalog
from chalicelib.records import AssessmentRecord
from chalicelib.request_models import SubmissionIn
from chalicelib.storage.sqlite import SqliteStore


def _status_mib(field: str) -> float | None:
    """VmRSS / VmHWM of this process in MiB (Linux), else None."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _rss_growth(run: Callable[[], object]) -> float:
    """Peak RSS growth of ``run()`` in MiB, in a forked child so that earlier work (the
    seeding, other formats) does not hide it."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        growth = -1.0
        try:
            try:
                with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
                    f.write("5")  # reset VmHWM to the current RSS
                before = _status_mib("VmRSS")
            except OSError:
                before = None
            max0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            run()
            peak = _status_mib("VmHWM")
            if before is not None and peak is not None:
                growth = peak - before
            else:
                growth = (
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - max0
                )
        finally:
            os.write(write, f"{growth}".encode())
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        value = float(f.read() or "-1")
    os.waitpid(pid, 0)
    return value


def build(
    tmp: str, clients: int, reference_size: int
) -> tuple[ExportService, list[AssessmentRecord], SqliteStore]:
    catalog = get_catalog(str(ROOT / "questionnaires"))
    q = catalog.get("smm")
    store = SqliteStore(str(Path(tmp) / "bench.sqlite3"))
    service = AssessmentService(
        store, catalog, Settings(secret=b"bench-secret", k_min=5, global_shards=4)
    )
    services = Container.of(service)
    services.benchmarks.seed_reference(q, reference_size, reference.DEFAULT_SEED)
    records: list[AssessmentRecord] = []
    for org in reference.generate(q, clients, seed=4711):
        body = SubmissionIn.model_validate({"answers": org.answers, "language": "de"})
        done = service.submit(body)
        rec = store.get_assessment(done.view.id)
        assert rec is not None
        records.append(rec)
    return services.exports, records, store


def measure(
    exports: ExportService, records: list[AssessmentRecord], fmt: str, lang: str
) -> dict[str, float]:
    gc.collect()
    t0 = time.perf_counter()
    export = exports.side_by_side(records, fmt, lang)
    seconds = time.perf_counter() - t0
    size = len(export.body)
    del export
    gc.collect()
    rss = _rss_growth(lambda: exports.side_by_side(records, fmt, lang))
    gc.collect()
    tracemalloc.start()
    exports.side_by_side(records, fmt, lang)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "seconds": seconds,
        "per_assessment_ms": 1000 * seconds / max(len(records), 1),
        "peak_mib": peak / 2**20,
        "rss_growth_mib": rss,
        "size_kib": size / 1024,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,200")
    parser.add_argument("--reference", type=int, default=2400)
    parser.add_argument("--lang", default="de", choices=("de", "en"))
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        exports, records, store = build(tmp, max(sizes), args.reference)
        print(
            f"setup: reference cohort {args.reference}, {len(records)} client "
            f"assessments stored in {time.perf_counter() - t0:.1f} s"
        )
        print(
            f"{'n':>5} {'format':<6} {'time s':>8} {'ms/assess.':>10} "
            f"{'py peak MiB':>12} {'RSS peak +MiB':>13} {'file KiB':>9}"
        )
        for n in sizes:
            for fmt in FORMATS:
                r = measure(exports, records[:n], fmt, args.lang)
                print(
                    f"{n:>5} {fmt:<6} {r['seconds']:>8.2f} {r['per_assessment_ms']:>10.1f} "
                    f"{r['peak_mib']:>12.1f} {r['rss_growth_mib']:>13.1f} "
                    f"{r['size_kib']:>9.0f}"
                )
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
