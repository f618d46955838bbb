"""Warm scoring through the Lambda handler: ``POST /v1/scores`` with examples/assessment.json,
called as Lambda calls it (``app.app(event, context)`` with an API Gateway proxy event), after
a warm-up, timed per request with ``time.perf_counter_ns``. Also times the pure scoring
function alone, so the handler's own share (routing, parsing, validation, rendering, JSON)
shows."""

from __future__ import annotations

import json
import time
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

TARGET_MEDIAN_MS = 2.0


def score_body() -> dict[str, Any]:
    ex = example()
    return {k: ex[k] for k in ("questionnaire", "version", "language", "answers")}


def run(data_dir: Path, requests: int = 2000, warmup: int = 200) -> dict[str, Any]:
    section(f"Warm scoring through the handler: POST /v1/scores ({requests} requests)")
    apply_env(sqlite_env(data_dir))
    use_project_path()
    import app as app_module
    from chalicelib import scoring as pure

    app_module.use_container(None)
    event = proxy_event("POST", "/v1/scores", body=score_body())
    ctx = LambdaContext()
    for _ in range(warmup):
        resp = app_module.app(event, ctx)
        assert resp["statusCode"] == 200, resp
    phase = json.loads(resp["body"])["result"]["phase"]["number"]

    times: list[int] = []
    progress = Progress("requests", requests)
    failures = 0
    for i in range(requests):
        t0 = time.perf_counter_ns()
        resp = app_module.app(event, ctx)
        times.append(time.perf_counter_ns() - t0)
        failures += resp["statusCode"] != 200
        progress(i + 1)

    service = app_module.container().assessments
    q = service.catalog.get("smm")
    answers = score_body()["answers"]
    pure_times: list[int] = []
    for _ in range(warmup):
        pure.score(q, answers, "en")
    for _ in range(requests):
        t0 = time.perf_counter_ns()
        pure.score(q, answers, "en")
        pure_times.append(time.perf_counter_ns() - t0)
    app_module.use_container(None)

    handler = summary_ms(times)
    scoring_only = summary_ms(pure_times)
    share = scoring_only["median_ms"] / handler["median_ms"]
    print(
        f"    handler: median {handler['median_ms']:.3f} ms, p99 {handler['p99_ms']:.3f} ms, "
        f"max {handler['max_ms']:.3f} ms ({failures} non-200; phase {phase})"
    )
    print(
        f"    scoring.score alone: median {scoring_only['median_ms']:.3f} ms "
        f"({share:.0%} of the handler median)"
    )
    print(f"    target: handler median <= {TARGET_MEDIAN_MS} ms")
    return {
        "target_median_ms": TARGET_MEDIAN_MS,
        "handler": handler,
        "scoring_only": scoring_only,
        "failures": failures,
    }
