"""Shared pieces of the benchmark command: paths, API Gateway proxy events, a Lambda context,
statistics and progress output. Standard library only (no project import at module level)."""

from __future__ import annotations

import json
import math
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "assessment.json"
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
# written by `make package` (scripts/package.sh); PACKAGE_DIR points elsewhere
PACKAGE_DIR = Path(os.environ.get("PACKAGE_DIR") or ROOT / "build" / "package")


def use_project_path() -> None:
    """Make ``import app`` / ``import chalicelib`` resolve to this checkout."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def sqlite_env(data_dir: Path) -> dict[str, str]:
    """Environment of a local run on the embedded store, questionnaires from the repository."""
    return {
        "STORE": "sqlite",
        "DATA_DIR": str(data_dir),
        "QUESTIONNAIRE_DIR": str(ROOT / "questionnaires"),
    }


def apply_env(env: dict[str, str]) -> None:
    os.environ.pop("SQLITE_PATH", None)
    os.environ.update(env)


def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data


def stage_config(stage: str = "prod") -> dict[str, Any]:
    """The merged Chalice config of a stage (top level, overridden by the stage)."""
    cfg: dict[str, Any] = json.loads(CHALICE_CONFIG.read_text(encoding="utf-8"))
    merged = {k: v for k, v in cfg.items() if k != "stages"}
    stage_cfg = cfg.get("stages", {}).get(stage, {})
    env = {**cfg.get("environment_variables", {})}
    env.update(stage_cfg.get("environment_variables", {}))
    merged.update(stage_cfg)
    merged["environment_variables"] = env
    return merged


def proxy_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    resource: str | None = None,
    path_params: dict[str, str] | None = None,
    stage: str = "v1",
) -> dict[str, Any]:
    """An API Gateway REST (v1) Lambda proxy event, as API Gateway sends it to the handler."""
    h = {
        "Host": "a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com",
        "User-Agent": "smm-bench",
        "X-Forwarded-For": "203.0.113.10",
        **({"Content-Type": "application/json"} if body is not None else {}),
        **(headers or {}),
    }
    resource = resource or path
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": h,
        "multiValueHeaders": {k: [v] for k, v in h.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": (
            {k: [v] for k, v in query.items()} if query else None
        ),
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "accountId": "123456789012",
            "apiId": "a1b2c3d4e5",
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": "203.0.113.10", "userAgent": "smm-bench"},
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


class LambdaContext:
    """The attributes of the Lambda context object that a handler may read."""

    def __init__(self, memory_mb: int = 1024, timeout_s: int = 30) -> None:
        self.function_name = "smm-benchmark-prod"
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            "arn:aws:lambda:eu-central-1:123456789012:function:smm-benchmark-prod"
        )
        self.memory_limit_in_mb = str(memory_mb)
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = "/aws/lambda/smm-benchmark-prod"
        self.log_stream_name = "bench"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


# --- statistics -------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered) - 1e-9))
    return ordered[min(len(ordered), rank) - 1]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def summary_ms(ns: list[int]) -> dict[str, float]:
    """Median, p90, p99, min and max in milliseconds of durations in nanoseconds."""
    ms = [x / 1e6 for x in ns]
    return {
        "n": len(ms),
        "median_ms": round(median(ms), 4),
        "p90_ms": round(percentile(ms, 0.90), 4),
        "p99_ms": round(percentile(ms, 0.99), 4),
        "min_ms": round(min(ms), 4),
        "max_ms": round(max(ms), 4),
    }


class Progress:
    """Prints ``label: done/total`` about every tenth of a long loop."""

    def __init__(self, label: str, total: int, steps: int = 5) -> None:
        self.label = label
        self.total = total
        self.every = max(1, total // steps)
        self.t0 = time.perf_counter()

    def __call__(self, done: int) -> None:
        if done % self.every == 0 or done == self.total:
            elapsed = time.perf_counter() - self.t0
            print(
                f"    {self.label}: {done:>6}/{self.total} ({elapsed:5.1f} s)",
                flush=True,
            )


def section(title: str) -> None:
    print()
    print(f"== {title} " + "=" * max(0, 76 - len(title)), flush=True)
