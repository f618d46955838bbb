"""The benchmark command (``make bench``): prints figures per section, then a summary, and
writes the summary as JSON to artifacts/bench.json so the docs can quote one run. Timings are
printed, never asserted.

Sections (one module each): cold_start (also per route family on DynamoDB Local), scoring (warm, through the handler), submission
(end to end on SQLite), benchmark_read (SQLite), bench_dynamodb (DynamoDB Local; owned by the
storage work, run when present), cost (from the figures measured above).

    .venv/bin/python bench/run.py [--quick] [--no-dynamodb] [--json artifacts/bench.json]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchmark_read
import cold_start
import cost
import exports
import naive_compare
import scoring
import submission
from common import PACKAGE_DIR, ROOT, section, stage_config


def machine() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


class Tee(io.TextIOBase):
    def __init__(self, *streams: TextIO) -> None:
        self.streams = streams

    def write(self, s: str) -> int:
        for st in self.streams:
            st.write(s)
            st.flush()
        return len(s)


def dynamodb_bench(args: list[str]) -> dict[str, Any]:
    section("DynamoDB adapter on DynamoDB Local (bench/bench_dynamodb.py)")
    path = Path(__file__).resolve().parent / "bench_dynamodb.py"
    if not path.exists():
        print("    bench/bench_dynamodb.py is missing: skipped")
        return {"status": "missing"}
    spec = importlib.util.spec_from_file_location("bench_dynamodb", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    captured = io.StringIO()
    argv = sys.argv
    status = "ok"
    t0 = time.perf_counter()
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        if not hasattr(module, "main"):
            print("    bench/bench_dynamodb.py has no main(): skipped")
            return {"status": "no main()"}
        sys.argv = [str(path), *args]
        with contextlib.redirect_stdout(Tee(sys.stdout, captured)):
            module.main()
    except SystemExit as exc:
        status = "ok" if exc.code in (None, 0) else f"exit: {exc.code}"
    except Exception as exc:  # noqa: BLE001 - one failing section must not hide the others
        status = f"error: {type(exc).__name__}: {exc}"
        print(f"    DynamoDB bench failed: {status}")
    finally:
        sys.argv = argv
    lines = [line for line in captured.getvalue().splitlines() if line.strip()]
    return {
        "status": status,
        "seconds": round(time.perf_counter() - t0, 1),
        "args": args,
        "rows": parse_table(lines),
        "output_tail": lines[-6:],
    }


DDB_COLUMNS = (
    "stored",
    "load s",
    "read med ms",
    "read p95 ms",
    "http med ms",
    "req/read",
    "items/read",
    "bytes/read",
    "sub med ms",
    "sub p99 ms",
    "req/sub",
)


def parse_table(lines: list[str]) -> list[dict[str, float]]:
    """The result table bench_dynamodb.py prints (header of known column names, then one row
    of numbers per size); empty when its format is not recognised."""
    for i, line in enumerate(lines):
        found = sorted((line.find(c), c) for c in DDB_COLUMNS if c in line)
        if len(found) < 3 or found[0][1] != "stored":
            continue
        names = [c for _, c in found]
        rows = []
        for row in lines[i + 1 :]:
            cells = row.split()
            try:
                values = [float(c) for c in cells]
            except ValueError:
                break
            if len(values) != len(names):
                break
            rows.append(dict(zip(names, values, strict=True)))
        return rows
    return []


def public(obj: Any) -> Any:
    """Drop the in-memory helpers (records, raw items) from what goes into the JSON."""
    if isinstance(obj, dict):
        return {k: public(v) for k, v in obj.items() if k not in ("record", "items")}
    if isinstance(obj, list):
        return [public(v) for v in obj]
    return obj


def summary(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for v in results["cold_start"]["variants"]:
        rows.append(
            (
                f"cold start {v['variant']} (median / p90)",
                (
                    f"{v['import_and_first_request_median_ms']:.1f} / "
                    f"{v['import_and_first_request_p90_ms']:.1f} ms; RSS {v['maxrss_mib']} "
                    f"MiB; numpy {v['numpy_imported']}, scipy {v['scipy_imported']}"
                ),
                f"<= {results['cold_start']['target_ms']:.0f} ms",
            )
        )
    cd = results.get("cold_start_dynamodb", {})
    for family, by_variant in cd.get("families", {}).items():
        for variant, r in by_variant.items():
            rows.append(
                (
                    f"cold start DynamoDB {family}, {variant} (init + 1st request)",
                    (
                        f"{r['import_median_ms']:.1f} + {r['first_request_median_ms']:.1f}"
                        f" = {r['median_ms']:.1f} ms; DynamoDB Local"
                        f" {r['dynamodb_local_median_ms']:.0f} ms; boto3"
                        f" {r['boto3_imported']}"
                    ),
                    f"1st request <= {cd['target_ms']:.0f} ms",
                )
            )
    sc = results["scoring"]
    rows.append(
        (
            "warm POST /v1/scores (median / p99)",
            f"{sc['handler']['median_ms']:.3f} / {sc['handler']['p99_ms']:.3f} ms",
            f"median <= {sc['target_median_ms']} ms",
        )
    )
    rows.append(
        (
            "  of which scoring.score (median)",
            f"{sc['scoring_only']['median_ms']:.3f} ms",
            "",
        )
    )
    sub = results["submission"]["handler"]
    rows.append(
        (
            "POST /v1/assessments, SQLite (median / p99)",
            f"{sub['median_ms']:.3f} / {sub['p99_ms']:.3f} ms",
            "",
        )
    )
    rd = results["benchmark_read"]
    rows.append(
        (
            f"benchmark read, SQLite, n={rd['stored']} (median / p99)",
            (
                f"{rd['read']['median_ms']:.3f} / {rd['read']['p99_ms']:.3f} ms; "
                f"{rd['items_per_read']} items"
            ),
            "",
        )
    )
    ddb = results.get("dynamodb", {})
    rows.append(("DynamoDB Local bench", ddb.get("status", "skipped"), ""))
    c = results.get("cost")
    if c:
        us = c["submission"]["usd_per_million"]
        rows.append(
            (
                "USD per million submissions",
                (
                    f"young {us['young']['total']:.2f}, measured "
                    f"{us['measured']['total']:.2f}, bound {us['bound']['total']:.2f}"
                ),
                "",
            )
        )
        ur = c["benchmark_read"]["usd_per_million"]
        rows.append(
            (
                "USD per million benchmark reads",
                f"measured {ur['measured']['total']:.2f}, bound {ur['bound']['total']:.2f}",
                "",
            )
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--quick", action="store_true", help="fewer repetitions (smoke run)"
    )
    ap.add_argument("--no-dynamodb", action="store_true", help="skip bench_dynamodb.py")
    ap.add_argument(
        "--dynamodb-args", default="", help="arguments for bench_dynamodb.py's main()"
    )
    ap.add_argument("--json", default=str(ROOT / "artifacts" / "bench.json"))
    ap.add_argument(
        "--baseline",
        type=Path,
        help="another checkout whose DynamoDB cold start is measured alongside",
    )
    args = ap.parse_args()
    q = args.quick
    started = time.time()
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "machine": machine(),
        "quick": q,
        "artefact": str(PACKAGE_DIR)
        if (PACKAGE_DIR / "deployment.zip").exists()
        else None,
    }
    section("Machine")
    for k, v in results["machine"].items():
        print(f"    {k}: {v}")
    shards = int(stage_config("prod")["environment_variables"].get("GLOBAL_SHARDS", 4))

    with tempfile.TemporaryDirectory(prefix="smm-bench-") as tmp:
        base = Path(tmp)
        results["cold_start"] = cold_start.run(runs=5 if q else 15)
        if args.no_dynamodb:
            results["cold_start_dynamodb"] = {"status": "skipped (--no-dynamodb)"}
        else:
            results["cold_start_dynamodb"] = cold_start.run_dynamodb(
                runs=5 if q else 15, baseline=args.baseline
            )
        results["scoring"] = scoring.run(base / "scoring", requests=300 if q else 2000)
        results["submission"] = submission.run(
            base / "submission", requests=100 if q else 1000
        )
        results["benchmark_read"] = benchmark_read.run(
            base / "read",
            shards,
            stored=2000 if q else 10_000,
            reads=100 if q else 1000,
        )
    results["naive_compare"] = naive_compare.run(
        sizes=(1_000, 5_000) if q else (1_000, 10_000, 50_000),
        reads=50 if q else 200,
        naive_reads=3 if q else 5,
    )
    exports.main(["--sizes", "50"] if q else [])
    if args.no_dynamodb:
        results["dynamodb"] = {"status": "skipped (--no-dynamodb)"}
    else:
        ddb_args = args.dynamodb_args.split()
        if q and not ddb_args:
            ddb_args = ["--sizes", "300,1000", "--reads", "30"]
        results["dynamodb"] = dynamodb_bench(ddb_args)
    results["cost"] = cost.run(results)
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["seconds"] = round(time.time() - started, 1)

    section("Summary")
    rows = summary(results)
    width = max(len(r[0]) for r in rows)
    for name, figure, target in rows:
        print(
            f"    {name:<{width}}  {figure}"
            + (f"   [target {target}]" if target else "")
        )
    results["summary"] = [{"measure": n, "figure": f, "target": t} for n, f, t in rows]
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(public(results), indent=2, default=str) + "\n")
    print(f"\n    {results['seconds']} s; written to {out}")


if __name__ == "__main__":
    main()
