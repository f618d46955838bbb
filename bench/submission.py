"""Submission end to end on the embedded store: ``POST /v1/assessments`` through the Lambda
handler with a fresh ``Idempotency-Key`` per request (validate, score, screen, one SQLite
transaction storing the assessment and adding to its 8 roll-ups, render). SQLite in WAL mode
on this machine's disk; the DynamoDB figures come from bench/bench_dynamodb.py."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from common import (
    LambdaContext,
    Progress,
    apply_env,
    example,
    proxy_event,
    section,
    sqlite_env,
    summary_ms,
    use_project_path,
)


def run(data_dir: Path, requests: int = 1000, warmup: int = 50) -> dict[str, Any]:
    section(
        f"Submission end to end on SQLite: POST /v1/assessments ({requests} requests)"
    )
    apply_env(sqlite_env(data_dir))
    use_project_path()
    import app as app_module

    app_module.use_container(None)
    body = example()
    ctx = LambdaContext()

    def submit() -> dict[str, Any]:
        event = proxy_event(
            "POST",
            "/v1/assessments",
            body=body,
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        t0 = time.perf_counter_ns()
        resp = app_module.app(event, ctx)
        resp["elapsed_ns"] = time.perf_counter_ns() - t0
        return resp

    for _ in range(warmup):
        assert submit()["statusCode"] == 201
    times: list[int] = []
    statuses: dict[int, int] = {}
    included = 0
    progress = Progress("submissions", requests)
    last: dict[str, Any] = {}
    for i in range(requests):
        resp = submit()
        times.append(resp["elapsed_ns"])
        statuses[resp["statusCode"]] = statuses.get(resp["statusCode"], 0) + 1
        last = json.loads(resp["body"])
        included += bool(last.get("benchmark", {}).get("included"))
        progress(i + 1)

    service = app_module.container().assessments
    record = service.store.get_assessment(last["id"])
    app_module.use_container(None)
    figures = summary_ms(times)
    print(
        f"    handler: median {figures['median_ms']:.3f} ms, p99 {figures['p99_ms']:.3f} ms, "
        f"max {figures['max_ms']:.3f} ms; statuses {statuses}; "
        f"{included}/{requests} counted in the benchmark"
    )
    return {
        "handler": figures,
        "statuses": {str(k): v for k, v in statuses.items()},
        "included": included,
        "record": record,  # for the cost model's item size (not written to JSON)
    }
