"""`make bench` keeps working: a quick run of bench/run.py (~40 s, DynamoDB Local included)
must finish and report what the performance figures rest on. Timings are printed by the
bench, never asserted here (docs/PERFORMANCE.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CELL_BYTES_BOUND = 2048  # one released cell as stored (JSON), seen ~700-800 B


def test_quick_bench_runs_and_reports_every_section(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--quick",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    d = json.loads(out.read_text())
    sections = (
        "cold_start",
        "scoring",
        "submission",
        "benchmark_read",
        "dynamodb",
        "cost",
    )
    for section in sections:
        assert section in d, section
    for v in d["cold_start"]["variants"]:  # the statistics stay off the scoring path
        assert v["numpy_imported"] is False and v["scipy_imported"] is False, v
    # the prod configuration's cold start per route family: botocore alone, no scipy
    cd = d["cold_start_dynamodb"]
    assert cd["status"] == "ok", cd
    assert set(cd["families"]) == {
        "score",
        "submit",
        "read benchmark",
        "read assessment",
    }
    for by_variant in cd["families"].values():
        for r in by_variant.values():
            assert r["boto3_imported"] is False and r["scipy_imported"] is False, r
    assert d["scoring"]["failures"] == 0
    assert d["submission"]["statuses"] == {"201": d["submission"]["included"]}
    assert d["benchmark_read"]["failures"] == 0
    # naive_compare asserts equal ranks before timing; both sizes ran
    assert [r["stored"] for r in d["naive_compare"]["rows"]] == [1000, 5000]
    assert all(r["ours_median_ms"] > 0 for r in d["naive_compare"]["rows"])
    # the DynamoDB Local table was parsed: two requests per read (the release header, one
    # BatchGetItem of the released cells), one per submission, and released cells of a
    # bounded size at both sizes (coarse figures only: bands, whole-percent shares)
    ddb = d["dynamodb"]
    assert ddb["status"] == "ok", ddb
    assert [r["stored"] for r in ddb["rows"]] == [300, 1000], ddb
    for r in ddb["rows"]:
        # a read: the header and one BatchGetItem of the cells; a submission: one PutItem
        assert r["req/read"] == 2 and r["req/sub"] == 1, r
        assert 0 < r["bytes/read"] <= 8 * CELL_BYTES_BOUND, r
    costs = d["cost"]["submission"]["usd_per_million"]
    assert set(costs) == {"young", "measured", "bound"}
    assert all(c["total"] > 0 for c in costs.values())
    assert "Summary" in proc.stdout
