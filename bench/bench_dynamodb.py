"""Benchmark the DynamoDB adapter on DynamoDB Local: does a benchmark read stay O(1)?

Starts DynamoDB Local (tests/dynamodb_local.py), creates the table from infra/table.yaml,
bulk-loads synthetic assessments (spread over industries, sizes and regions, with realistic
metric values) up to each requested size, and at each size measures:

- a publication (a release of the whole grid, ``build_release`` over ``read_grid``), then
  the benchmark read every route makes: the latest release's header (GetItem) and the
  released cells of (C, 50-249, dach) and its 7 roll-ups (one BatchGetItem): median and
  p95 latency, DynamoDB requests per read and the bytes of the cells read;
- a submission (``create_assessment``): median and p99 latency and requests per submission
  (exactly 1: one conditional PutItem of the compact item).

Usage: .venv/bin/python bench/bench_dynamodb.py [--sizes 1000,50000] [--reads 200]
DynamoDB Local is a Java emulator on this machine: absolute latencies say little about AWS,
the ratio between sizes and the request counts are the point. A released cell holds coarse
figures only (bands, whole-percent shares, whole-number quantiles), so its size does not
grow with the number of stored assessments ("bytes/read").
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.aggregation import CellKey, Grid
from chalicelib.cohorts import Cohort, contribution_keys
from chalicelib.records import AssessmentRecord, Contribution
from chalicelib.release_service import iso, release_id
from chalicelib.releases import build_release
from chalicelib.releases.codec import cell_to_item
from chalicelib.storage.dynamodb import DynamoStore
from chalicelib.storage.dynamodb.schema import ensure_table_from_template
from tests.dynamodb_local import TEMPLATE, dynamodb_local, local_client

SHARDS = 8  # GLOBAL_SHARDS of the prod stage (.chalice/config.json)
INDUSTRIES = ["C", "F", "G", "J", "K", "M", "N", "Q"]
SIZES = ["1-9", "10-49", "50-249", "250-999", "1000+"]
REGIONS = ["dach", "benelux", "nordics", "southern_europe", "uk_ie", "cee"]
TIERS = ["foundation", "safety", "formation", "enablement", "enlightenment"]
DIMENSIONS = ["strategy", "crisis", "measurement", "service", "content", "sociability"]
TARGET = Cohort("C", "50-249", "dach")
K = 5  # BENCHMARK_MIN_COHORT
GRID = Grid("real", "smm", "1.0.0")
SUBMISSIONS = 100


def clamp(x: float, lo: int = 0, hi: int = 100) -> int:
    return max(lo, min(hi, round(x)))


def synthetic(i: int, rng: random.Random) -> AssessmentRecord:
    """One plausible assessment: a latent maturity drives correlated metric values."""
    maturity = rng.betavariate(2.2, 2.0) * 100
    dims = {f"dim_{d}": clamp(maturity + rng.gauss(0, 12)) for d in DIMENSIONS}
    tiers = {
        f"tier_{t}": clamp(maturity + 15 - 9 * k + rng.gauss(0, 10))
        for k, t in enumerate(TIERS)
    }
    overall = clamp(statistics.fmean(dims.values()))
    phase = clamp(maturity / 13 + rng.gauss(0, 0.8), 0, 7)
    metrics = {"overall": overall, "phase": phase, **tiers, **dims}
    industry = rng.choices(INDUSTRIES, weights=[5, 2, 4, 3, 2, 4, 2, 2])[0]
    size = rng.choices(SIZES, weights=[3, 4, 3, 2, 1])[0]
    region = rng.choices(REGIONS, weights=[5, 2, 2, 3, 2, 2])[0]
    month = f"{2025 + (i % 23) // 12}-{1 + (i % 23) % 12:02d}"
    return AssessmentRecord(
        id=f"{i:032x}",
        questionnaire_id="smm",
        version="1.0.0",
        language=rng.choice(["de", "en"]),
        answers={f"q{j:02d}": f"o{rng.randint(0, 4)}" for j in range(40)},
        metrics=metrics,
        result={"phase": phase, "overall": overall},
        industry=industry,
        size=size,
        country="DE",
        region=region,
        month=month,
        created_at=f"{month}-15T10:00:00+00:00",
        consent=True,
        included=True,
        exclusion_reasons=(),
        token_hash=f"{rng.getrandbits(256):064x}",
        request_hash=f"{rng.getrandbits(256):064x}",
    )


def contribution(rec: AssessmentRecord) -> Contribution:
    cohort = Cohort(rec.industry or "*", rec.size or "*", rec.region or "*")
    return Contribution(
        rec.source,
        rec.questionnaire_id,
        rec.version,
        contribution_keys(cohort, rec.id, SHARDS),
        dict(rec.metrics),
        rec.month,
    )


class HttpTimer:
    """Wall time of each BatchGetItem HTTP exchange (request sent -> response received,
    before botocore parses it), to split a read into DynamoDB Local's share and ours."""

    def __init__(self, client: object) -> None:
        self.samples: list[float] = []
        self._t0 = 0.0
        events = client.meta.events  # type: ignore[attr-defined]
        events.register("before-send.dynamodb.BatchGetItem", self._start)
        events.register("before-parse.dynamodb.BatchGetItem", self._stop)

    def _start(self, **_: object) -> None:
        self._t0 = time.perf_counter()

    def _stop(self, **_: object) -> None:
        self.samples.append((time.perf_counter() - self._t0) * 1000)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class Row:
    stored: int
    load_s: float
    read_median_ms: float
    read_p95_ms: float
    http_median_ms: float
    requests_per_read: float
    items_per_read: int
    counters_per_read: int
    submit_median_ms: float
    submit_p99_ms: float
    requests_per_submission: float
    submitted_in_target: int


def progress_printer(label: str) -> Callable[[int, int], None]:
    state = {"next": 0.0, "t0": time.perf_counter()}

    def report(done: int, total: int) -> None:
        if total and (done / total >= state["next"] or done == total):
            elapsed = time.perf_counter() - state["t0"]
            print(f"  {label}: {done:>7}/{total} units ({elapsed:5.1f} s)", flush=True)
            state["next"] = done / total + 0.2

    return report


def measure(
    store: DynamoStore,
    timer: HttpTimer,
    stored: int,
    load_s: float,
    reads: int,
    rng: random.Random,
    next_id: int,
) -> Row:
    """Publish a release of the grid, time benchmark reads of the target cohort from it
    (what every benchmark route reads: the latest release's header, then the released cells
    of the 8 roll-ups in one BatchGetItem), then SUBMISSIONS submissions."""
    now = datetime.now(UTC)
    head = store.latest_release(GRID)
    previous = store.read_release(GRID, head.id) if head else None
    store.put_release(
        build_release(
            store.read_grid(GRID), K, previous, release_id(now), iso(now), GRID
        )
    )
    cells = [CellKey("all", c) for c in TARGET.generalisations()]

    def read() -> dict[Any, Any]:
        latest = store.latest_release(GRID)
        assert latest is not None
        return store.read_release_cells(GRID, latest.id, cells)

    for _ in range(50):  # warm-up (connections, the JVM's JIT)
        read()
    before = store.request_count()
    times = []
    timer.samples.clear()
    for _ in range(reads):
        t0 = time.perf_counter()
        read()
        times.append((time.perf_counter() - t0) * 1000)
    per_read = (store.request_count() - before) / reads
    http = list(timer.samples)
    got = read()
    counters = sum(  # the released cells' stored size (JSON)
        len(json.dumps(cell_to_item(cell, c), separators=(",", ":")))
        for cell, c in got.items()
    )

    sub_times = []
    recs = [synthetic(next_id + k, rng) for k in range(SUBMISSIONS)]
    before = store.request_count()
    for rec in recs:
        t0 = time.perf_counter()
        assert store.create_assessment(rec, contribution(rec))
        sub_times.append((time.perf_counter() - t0) * 1000)
    per_submission = (store.request_count() - before) / SUBMISSIONS
    return Row(
        stored=stored,
        load_s=load_s,
        read_median_ms=statistics.median(times),
        read_p95_ms=pct(times, 0.95),
        http_median_ms=statistics.median(http),
        requests_per_read=per_read,
        items_per_read=len(got) + 1,  # the cells and the release header
        counters_per_read=counters,
        submit_median_ms=statistics.median(sub_times),
        submit_p99_ms=pct(sub_times, 0.99),
        requests_per_submission=per_submission,
        submitted_in_target=sum(1 for r in recs if in_target(r)),
    )


def in_target(rec: AssessmentRecord) -> bool:
    return (rec.industry, rec.size, rec.region) == (
        TARGET.industry,
        TARGET.size,
        TARGET.region,
    )


HEADER = (
    f"{'stored':>7} {'load s':>6} {'read med ms':>11} {'read p95 ms':>11} "
    f"{'http med ms':>11} {'req/read':>8} {'items/read':>10} {'bytes/read':>13} "
    f"{'sub med ms':>10} {'sub p99 ms':>10} {'req/sub':>7}"
)


def format_row(r: Row) -> str:
    return (
        f"{r.stored:>7} {r.load_s:>6.1f} {r.read_median_ms:>11.2f} {r.read_p95_ms:>11.2f} "
        f"{r.http_median_ms:>11.2f} {r.requests_per_read:>8.2f} {r.items_per_read:>10} "
        f"{r.counters_per_read:>13} {r.submit_median_ms:>10.2f} {r.submit_p99_ms:>10.2f} "
        f"{r.requests_per_submission:>7.2f}"
    )


def main() -> None:
    # SIGTERM -> SystemExit, so the context managers stop DynamoDB Local on the way out
    # (the previous handler is restored: bench/run.py calls main() in its own process)
    if threading.current_thread() is not threading.main_thread():
        run()
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        run()
    finally:
        signal.signal(signal.SIGTERM, previous)


def run() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument(
        "--sizes", default="1000,50000", help="stored assessments to measure at"
    )
    ap.add_argument("--reads", type=int, default=200, help="benchmark reads per size")
    ap.add_argument("--seed", type=int, default=20261123)
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    rng = random.Random(args.seed)
    rows: list[Row] = []
    expected = 0  # assessments in the target cohort's leaf (sanity check of the reads)

    with tempfile.TemporaryDirectory(prefix="bench-ddb-") as tmp:
        t0 = time.perf_counter()
        with dynamodb_local(Path(tmp)) as endpoint:
            print(
                f"DynamoDB Local at {endpoint} (started in {time.perf_counter() - t0:.1f} s)"
            )
            client = local_client(endpoint, max_pool_connections=16)
            ensure_table_from_template(client, TEMPLATE, "smm-bench")
            timer = HttpTimer(client)
            store = DynamoStore("smm-bench", client, bulk_workers=4)
            stored = 0
            next_id = 0
            for size in sizes:
                # top up with bulk-loaded records (the measured submissions count too)
                n_new = max(0, size - stored)
                recs = [synthetic(next_id + k, rng) for k in range(n_new)]
                cons = [contribution(r) for r in recs]
                next_id += n_new
                expected += sum(1 for r in recs if in_target(r))
                print(f"bulk-loading {n_new} assessments (to {size}) ...", flush=True)
                t_load = time.perf_counter()
                store.bulk_load(recs, cons, progress=progress_printer("bulk_load"))
                load_s = time.perf_counter() - t_load
                # drop the generated data: a large live heap makes the garbage collector's
                # full passes (triggered by parsing big responses) slow down every read
                del recs, cons
                gc.collect()
                # the measured submissions of the previous size reach the cells through the
                # stream: fold them (the Lambda's job on AWS) before checking the count
                for _ in range(1000):
                    if not store.aggregate_pending(5000).more:
                        break
                requests = store.request_count()
                stored += n_new
                got = store._read_cells([(GRID, CellKey("all", TARGET))])
                n = got[(GRID, CellKey("all", TARGET))].count
                assert n == expected, (n, expected)
                print(
                    f"  loaded in {load_s:.1f} s ({n_new / load_s:.0f} assessments/s, "
                    f"{requests} requests so far)",
                    flush=True,
                )
                row = measure(store, timer, stored, load_s, args.reads, rng, next_id)
                rows.append(row)
                next_id += SUBMISSIONS
                stored += SUBMISSIONS
                expected += row.submitted_in_target
                print(
                    f"  read median {row.read_median_ms:.1f} ms, "
                    f"submission median {row.submit_median_ms:.1f} ms",
                    flush=True,
                )
    print()
    print(HEADER)
    for r in rows:
        print(format_row(r))
    print(
        f"(stored = assessments when the reads ran; {args.reads} reads and {SUBMISSIONS} "
        f"submissions per size; a read = the release header (GetItem) and the released "
        f"cells of {TARGET.key} and its roll-ups (one BatchGetItem); http = the BatchGetItem "
        "sent to response "
        "received (median over requests); the rest is botocore parsing and summing)"
    )
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        print(
            f"read median ratio n={last.stored} / n={first.stored}: "
            f"{last.read_median_ms / first.read_median_ms:.2f} "
            f"(http {last.http_median_ms / first.http_median_ms:.2f}, "
            f"bytes/read {last.counters_per_read / first.counters_per_read:.2f})"
        )
    if any(r.requests_per_submission != 1 for r in rows):
        raise SystemExit("a submission took more than one DynamoDB request")
    # the header GetItem and one BatchGetItem of the 8 released cells, at every size
    if any(r.requests_per_read != 2 for r in rows):
        raise SystemExit("a benchmark read took other than two DynamoDB requests")


if __name__ == "__main__":
    main()
