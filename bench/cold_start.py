"""Cold start: a FRESH process imports the app and answers its first scoring request
(``POST /v1/scores`` with examples/assessment.json through ``app.app(event, context)``).

Variants (each repeated in new processes):
- ``venv``: this checkout on the project's virtualenv, whose site-packages carry the .pyc files
  pip compiled at install time; the project's own modules are compiled in every process.
- ``artefact``: the unpacked ``build/package`` zips (``make package``) with an isolated
  interpreter (``-I -S``: stdlib + the unpacked dirs only) that writes no bytecode (``-B``),
  as on Lambda, where /var/task and /opt are read-only: a module without a shipped .pyc is
  compiled from source on every cold start. Questionnaires come from inside the artefact.
  scripts/package.sh ships .pyc files for everything but numpy/scipy (unchecked-hash).
- ``+cyaml`` (what-if): the same with ``yaml.safe_load`` replaced by libyaml's ``CSafeLoader``
  (PyYAML's C loader, in the same wheel) before the app loads the questionnaire.
- ``artefact-pyc``: the artefact with its .pyc files removed (what they save).

Figures per variant: median and p90 of import + first request as timed inside the process,
of the whole process (interpreter start to exit) as timed outside, peak RSS, and whether
numpy or scipy were imported (they must not be: the scoring path stays scipy-free).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from common import (
    PACKAGE_DIR,
    ROOT,
    Progress,
    example,
    median,
    percentile,
    proxy_event,
    section,
    sqlite_env,
)

TARGET_MS = 300.0

# Runs in the fresh process. Reads its configuration from stdin, prints one JSON line.
CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter_ns()
cfg = json.loads(sys.stdin.read())
sys.path[:0] = cfg["paths"]
if cfg["cyaml"]:
    import yaml
    _load = yaml.load
    yaml.safe_load = lambda stream: _load(stream, Loader=yaml.CSafeLoader)
import app
t1 = time.perf_counter_ns()
class Ctx:
    function_name = "smm-benchmark-prod"
    memory_limit_in_mb = "1024"
    aws_request_id = "cold-start"
    invoked_function_arn = ""
    def get_remaining_time_in_millis(self):
        return 30000
resp = app.app(cfg["event"], Ctx())
t2 = time.perf_counter_ns()
body = json.loads(resp["body"])
print(json.dumps({
    "status": resp["statusCode"],
    "phase": body.get("result", {}).get("phase"),
    "import_ns": t1 - t0,
    "first_request_ns": t2 - t1,
    "total_ns": t2 - t0,
    "numpy": "numpy" in sys.modules,
    "scipy": "scipy" in sys.modules,
    "modules": len(sys.modules),
    "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "app_file": app.__file__,
}))
"""


def score_event() -> dict[str, Any]:
    ex = example()
    body = {k: ex[k] for k in ("questionnaire", "version", "language", "answers")}
    return proxy_event("POST", "/v1/scores", body=body)


def unpack_artefact(dest: Path) -> list[str] | None:
    """Unpack build/package like Lambda does (function in /var/task, layers in /opt) and
    return the sys.path entries Lambda would add, or None when there is no artefact."""
    function_zip = PACKAGE_DIR / "deployment.zip"
    if not function_zip.exists():
        return None
    task, opt = dest / "task", dest / "opt"
    with zipfile.ZipFile(function_zip) as z:
        z.extractall(task)
    paths = [str(task)]
    layer_zip = PACKAGE_DIR / "layer-deployment.zip"
    if layer_zip.exists():
        with zipfile.ZipFile(layer_zip) as z:
            z.extractall(opt)
        paths += [str(opt / "python/lib/python3.11/site-packages"), str(opt / "python")]
    return paths


def drop_bytecode(paths: list[str]) -> int:
    """Remove the .pyc files shipped in the artefact (to show what they save)."""
    removed = 0
    for p in paths:
        for cache in Path(p).rglob("__pycache__"):
            removed += sum(1 for _ in cache.glob("*.pyc"))
            shutil.rmtree(cache)
    return removed


def run_variant(
    name: str,
    flags: list[str],
    paths: list[str],
    env: dict[str, str],
    cyaml: bool,
    runs: int,
) -> dict[str, Any]:
    cfg = json.dumps({"paths": paths, "cyaml": cyaml, "event": score_event()})
    samples: list[dict[str, Any]] = []
    walls: list[float] = []
    progress = Progress(name, runs)
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        for i in range(runs):
            run_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **env}
            run_env["DATA_DIR"] = str(
                Path(tmp) / f"data{i}"
            )  # nothing cached between runs
            t0 = time.perf_counter_ns()
            proc = subprocess.run(
                [sys.executable, *flags, "-c", CHILD],
                input=cfg,
                check=False,
                capture_output=True,
                text=True,
                cwd=tmp,
                env=run_env,
                timeout=120,
            )
            walls.append((time.perf_counter_ns() - t0) / 1e6)
            if proc.returncode != 0:
                raise RuntimeError(f"cold start {name} failed:\n{proc.stderr[-3000:]}")
            sample = json.loads(proc.stdout.strip().splitlines()[-1])
            if sample["status"] != 200:
                raise RuntimeError(f"cold start {name}: status {sample['status']}")
            samples.append(sample)
            progress(i + 1)
    total = [s["total_ns"] / 1e6 for s in samples]
    imports = [s["import_ns"] / 1e6 for s in samples]
    first = [s["first_request_ns"] / 1e6 for s in samples]
    return {
        "variant": name,
        "runs": runs,
        "import_and_first_request_median_ms": round(median(total), 1),
        "import_and_first_request_p90_ms": round(percentile(total, 0.9), 1),
        "import_median_ms": round(median(imports), 1),
        "first_request_median_ms": round(median(first), 1),
        "process_wall_median_ms": round(median(walls), 1),
        "process_wall_p90_ms": round(percentile(walls, 0.9), 1),
        "maxrss_mib": round(max(s["maxrss_kb"] for s in samples) / 1024, 1),
        "modules": samples[-1]["modules"],
        "numpy_imported": any(s["numpy"] for s in samples),
        "scipy_imported": any(s["scipy"] for s in samples),
        "app_file": samples[-1]["app_file"],
    }


def run(runs: int = 15) -> dict[str, Any]:
    section(
        f"Cold start: fresh process, import app + first POST /v1/scores ({runs} runs each)"
    )
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-artefact-") as tmp:
        venv_env = sqlite_env(Path(tmp))
        results.append(run_variant("venv", ["-B"], [str(ROOT)], venv_env, False, runs))
        results.append(
            run_variant("venv+cyaml", ["-B"], [str(ROOT)], venv_env, True, runs)
        )
        paths = unpack_artefact(Path(tmp))
        if paths is None:
            print(
                "    no build/package/deployment.zip: run `make package` to measure the artefact"
            )
        else:
            art_env = {"STORE": "sqlite"}  # questionnaires from inside the artefact
            iso = ["-I", "-S", "-B"]
            results.append(run_variant("artefact", iso, paths, art_env, False, runs))
            results.append(
                run_variant("artefact+cyaml", iso, paths, art_env, True, runs)
            )
            if drop_bytecode(paths):
                results.append(
                    run_variant("artefact-pyc", iso, paths, art_env, False, runs)
                )
    print()
    print(
        f"    {'variant':<20}{'median ms':>10}{'p90 ms':>8}{'import':>8}{'1st req':>8}"
        f"{'process':>9}{'RSS MiB':>9}{'numpy':>7}{'scipy':>7}"
    )
    for r in results:
        print(
            f"    {r['variant']:<20}{r['import_and_first_request_median_ms']:>10.1f}"
            f"{r['import_and_first_request_p90_ms']:>8.1f}{r['import_median_ms']:>8.1f}"
            f"{r['first_request_median_ms']:>8.1f}{r['process_wall_median_ms']:>9.1f}"
            f"{r['maxrss_mib']:>9.1f}{r['numpy_imported']!s:>7}{r['scipy_imported']!s:>7}"
        )
    print(
        f"    target: import + first scoring request <= {TARGET_MS:.0f} ms; numpy and scipy "
        "not imported. 'process' adds interpreter start-up and exit."
    )
    return {"target_ms": TARGET_MS, "variants": results}


if __name__ == "__main__":
    print(json.dumps(run(5), indent=2))
