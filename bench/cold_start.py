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
    use_project_path,
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
waiting = [0]
if cfg.get("http_timer"):
    # time spent waiting for HTTP responses (DynamoDB Local's share); botocore imports
    # http.client anyway, so importing it here first changes no total
    import http.client
    _getresponse = http.client.HTTPConnection.getresponse
    def getresponse(self, *a, **k):
        w0 = time.perf_counter_ns()
        try:
            return _getresponse(self, *a, **k)
        finally:
            waiting[0] += time.perf_counter_ns() - w0
    http.client.HTTPConnection.getresponse = getresponse
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
body = json.loads(resp["body"]) if resp["body"] else {}
print(json.dumps({
    "status": resp["statusCode"],
    "phase": body.get("result", {}).get("phase") if isinstance(body, dict) else None,
    "import_ns": t1 - t0,
    "first_request_ns": t2 - t1,
    "total_ns": t2 - t0,
    "http_wait_ns": waiting[0],
    "id": body.get("id") if isinstance(body, dict) else None,
    "token": body.get("token") if isinstance(body, dict) else None,
    "boto3": "boto3" in sys.modules,
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


# --- the prod configuration: DynamoDB, per route family ----------------------------------------
# A fresh process per sample, as above, with the prod stage's environment on DynamoDB Local and
# AWS_LAMBDA_FUNCTION_NAME set, as in Lambda (the app then builds its store client during the
# init phase, i.e. the import). Credentials come from the environment, as Lambda provides them.
DDB_SECRET = "cold-start-bench-secret-0123456789abcdefghijklmnopqrstuvwxyz"
DDB_TABLE = "smm-cold-start"


def family_events(token: dict[str, str] | None) -> dict[str, dict[str, Any]]:
    """The first request of each route family (the read of an assessment needs one stored)."""
    ex = example()
    events = {
        "score": score_event(),
        "submit": proxy_event(
            "POST",
            "/v1/assessments",
            body={
                k: ex[k] for k in ("questionnaire", "version", "language", "answers")
            },
        ),
        "read benchmark": proxy_event(
            "GET",
            "/v1/benchmarks/smm/1.0.0",
            resource="/v1/benchmarks/{qid}/{version}",
            path_params={"qid": "smm", "version": "1.0.0"},
            query={"industry": "C", "size": "50-249", "region": "dach"},
        ),
    }
    if token:
        events["read assessment"] = proxy_event(
            "GET",
            f"/v1/assessments/{token['id']}",
            resource="/v1/assessments/{aid}",
            path_params={"aid": token["id"]},
            headers={"X-Result-Token": token["token"]},
        )
    return events


EXPECTED = {"score": 200, "submit": 201, "read benchmark": 200, "read assessment": 200}


def _ddb_env(
    endpoint: str, questionnaires: Path | None, lambda_init: bool = True
) -> dict[str, str]:
    from common import stage_config

    env = dict(stage_config("prod")["environment_variables"])
    env.update(
        {
            "TABLE_NAME": DDB_TABLE,
            "SMM_SECRET": DDB_SECRET,  # the prod stage resolves it from Secrets Manager
            "DYNAMODB_ENDPOINT": endpoint,
            "AWS_REGION": "eu-central-1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "AWS_LAMBDA_FUNCTION_NAME": "smm-benchmark-prod",
            "_HANDLER": "app.app",
        }
    )
    if questionnaires is not None:
        env["QUESTIONNAIRE_DIR"] = str(questionnaires)
    if not lambda_init:
        del env["AWS_LAMBDA_FUNCTION_NAME"], env["_HANDLER"]
    return env


def bundled(tree: Path) -> Path | None:
    """None when ``tree`` has the compiled questionnaires the deployed app loads
    (chalicelib/questionnaires, `make sync-questionnaires`); compiled here for a baseline
    checkout, else the YAML sources (slower to load: not what Lambda does)."""
    target = tree / "chalicelib" / "questionnaires"
    if any(target.glob("*.json")):
        return None
    if tree == ROOT:
        return ROOT / "questionnaires"
    target.mkdir(exist_ok=True)
    for y in (tree / "questionnaires").glob("*.yaml"):
        shutil.copy2(y, target / y.name)
    subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", "compile", str(target)],
        cwd=tree,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "QUESTIONNAIRE_DIR": str(target)},
    )
    return None


def _one(
    flags: list[str], paths: list[str], env: dict[str, str], event: dict[str, Any]
) -> dict[str, Any]:
    cfg = json.dumps(
        {"paths": paths, "cyaml": False, "event": event, "http_timer": True}
    )
    with tempfile.TemporaryDirectory(prefix="bench-cold-ddb-") as tmp:
        proc = subprocess.run(
            [sys.executable, *flags, "-c", CHILD],
            input=cfg,
            check=False,
            capture_output=True,
            text=True,
            cwd=tmp,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **env},
            timeout=120,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"cold start failed:\n{proc.stderr[-3000:]}")
    sample: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return sample


def _stats(samples: list[dict[str, Any]]) -> dict[str, Any]:
    total = [s["total_ns"] / 1e6 for s in samples]
    return {
        "runs": len(samples),
        "median_ms": round(median(total), 1),
        "p90_ms": round(percentile(total, 0.9), 1),
        "import_median_ms": round(median([s["import_ns"] / 1e6 for s in samples]), 1),
        "first_request_median_ms": round(
            median([s["first_request_ns"] / 1e6 for s in samples]), 1
        ),
        "dynamodb_local_median_ms": round(
            median([s["http_wait_ns"] / 1e6 for s in samples]), 1
        ),
        "boto3_imported": any(s["boto3"] for s in samples),
        "scipy_imported": any(s["scipy"] for s in samples),
    }


def run_dynamodb(runs: int = 15, baseline: Path | None = None) -> dict[str, Any]:
    """Cold start of each route family on the prod configuration (DynamoDB Local). With
    ``baseline`` (another checkout, e.g. ``git archive <commit> | tar -x -C DIR``), its app is
    measured too, alternating with this one sample by sample so that both see the same load."""
    section(
        f"Cold start on DynamoDB (prod stage environment, DynamoDB Local), per route family"
        f" ({runs} runs each)"
    )
    use_project_path()
    from chalicelib.storage.dynamodb.schema import ensure_table_from_template
    from tests.dynamodb_local import (
        TEMPLATE,
        DynamoDBLocalError,
        dynamodb_local,
        local_client,
    )

    # (name, interpreter flags, sys.path, QUESTIONNAIRE_DIR, Lambda's init phase)
    trees: list[tuple[str, list[str], list[str], Path | None, bool]] = []
    if baseline is not None:
        trees.append(
            ("baseline venv", ["-B"], [str(baseline)], bundled(baseline), True)
        )
        # the same tree as if outside Lambda: everything built in the first request
        trees.append(("venv no init", ["-B"], [str(ROOT)], bundled(ROOT), False))
    trees.append(("venv", ["-B"], [str(ROOT)], bundled(ROOT), True))
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-cold-ddb-") as tmp:
        artefact = unpack_artefact(Path(tmp) / "artefact")
        if artefact is not None:
            # boto3/botocore are not in the artefact: Lambda's runtime provides them
            site = [p for p in sys.path if p.endswith("site-packages")]
            trees.append(("artefact", ["-I", "-S", "-B"], artefact + site, None, True))
        try:
            ctx = dynamodb_local(Path(tmp))
            endpoint = ctx.__enter__()
        except DynamoDBLocalError as exc:
            print(f"    DynamoDB Local unavailable: {exc}: skipped")
            return {"status": f"skipped: {exc}", "target_ms": TARGET_MS}
        try:
            ensure_table_from_template(local_client(endpoint), TEMPLATE, DDB_TABLE)
            token: dict[str, str] | None = None
            for family in ("score", "submit", "read benchmark", "read assessment"):
                event = family_events(token).get(family)
                if event is None:
                    continue
                samples: dict[str, list[dict[str, Any]]] = {t[0]: [] for t in trees}
                progress = Progress(family, runs)
                for i in range(runs):
                    for name, flags, paths, qdir, init in trees:
                        s = _one(flags, paths, _ddb_env(endpoint, qdir, init), event)
                        if s["status"] != EXPECTED[family]:
                            raise RuntimeError(
                                f"cold start {family} ({name}): status {s['status']}"
                            )
                        samples[name].append(s)
                        if family == "submit" and s.get("token"):
                            token = {"id": s["id"], "token": s["token"]}
                    progress(i + 1)
                results[family] = {name: _stats(v) for name, v in samples.items()}
        finally:
            ctx.__exit__(None, None, None)
    names = [t[0] for t in trees]
    print()
    print(
        f"    {'route family':<17}{'variant':<15}{'median ms':>10}{'p90 ms':>8}"
        f"{'import':>8}{'1st req':>8}{'ddb':>6}{'boto3':>7}"
    )
    for family, by_tree in results.items():
        for name in names:
            r = by_tree[name]
            print(
                f"    {family:<17}{name:<15}{r['median_ms']:>10.1f}{r['p90_ms']:>8.1f}"
                f"{r['import_median_ms']:>8.1f}{r['first_request_median_ms']:>8.1f}"
                f"{r['dynamodb_local_median_ms']:>6.0f}{r['boto3_imported']!s:>7}"
            )
    print(
        f"    target: first request <= {TARGET_MS:.0f} ms for every route family. 'import' is"
        " Lambda's init phase (the app builds its service and DynamoDB client there);"
        " 'ddb' is the time spent waiting for DynamoDB Local's responses (a Java emulator;"
        " DynamoDB's own latency differs)."
    )
    return {
        "status": "ok",
        "target_ms": TARGET_MS,
        "variants": names,
        "families": results,
    }


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="cold start figures (docs/PERFORMANCE.md)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument(
        "--dynamodb", action="store_true", help="only the DynamoDB route families"
    )
    ap.add_argument("--baseline", type=Path, help="another checkout to compare with")
    a = ap.parse_args()
    if a.dynamodb:
        print(json.dumps(run_dynamodb(a.runs, a.baseline), indent=2))
    else:
        print(json.dumps(run(a.runs), indent=2))
