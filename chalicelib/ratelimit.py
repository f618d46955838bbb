"""Partner tiers and their limits (the one source of truth: infra/api.yaml's usage plans must
equal ``PLANS``, tests/deploy/test_infra.py checks it), the per-partner counter that enforces
them in the app, and the IETF RateLimit header fields
(draft-ietf-httpapi-ratelimit-headers-11: ``RateLimit-Policy: "rate";q=1200;w=60`` and
``RateLimit: "rate";r=1187;t=42``).

On AWS, API Gateway enforces the usage plan itself (token bucket ``rate``/``burst`` and the
quota) before the function runs. The app counts too, as defence in depth and so that
``chalice local`` behaves the same: two fixed windows per partner in the store, ``rate`` (the
plan's steady rate per second x 60, per minute) and ``quota`` (the plan's quota per
calendar day, week or month, UTC). A request over either is a 429 problem document with
``Retry-After``; refused requests are not counted. Set ``PARTNER_RATE_LIMIT=0`` to leave it
to the gateway alone."""

from __future__ import annotations

import calendar
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.http import problem
from chalicelib.records import RateWindow
from chalicelib.storage import Store


@dataclass(frozen=True)
class Plan:
    """An API Gateway usage plan: throttle ``rate`` (requests per second) and ``burst``,
    ``quota`` requests per ``period`` (DAY, WEEK or MONTH)."""

    rate: int
    burst: int
    quota: int
    period: str


PLANS: dict[str, Plan] = {
    "free": Plan(rate=2, burst=5, quota=1000, period="DAY"),
    "standard": Plan(rate=20, burst=40, quota=200_000, period="MONTH"),
    "premium": Plan(rate=100, burst=200, quota=2_000_000, period="MONTH"),
}
RATE_WINDOW_SECONDS = 60


def windows(plan: Plan, now: int) -> tuple[RateWindow, ...]:
    """The two fixed windows containing ``now`` (epoch seconds)."""
    start = now - now % RATE_WINDOW_SECONDS
    rate = RateWindow(
        "rate", start, start + RATE_WINDOW_SECONDS, plan.rate * RATE_WINDOW_SECONDS
    )
    day = datetime.fromtimestamp(now, UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    if plan.period == "DAY":
        begin, end = day, day + timedelta(days=1)
    elif plan.period == "WEEK":  # API Gateway's weeks start on Monday (UTC)
        begin = day - timedelta(days=day.weekday())
        end = begin + timedelta(days=7)
    else:
        begin = day.replace(day=1)
        days = calendar.monthrange(begin.year, begin.month)[1]
        end = begin + timedelta(days=days)
    quota = RateWindow(
        "quota", int(begin.timestamp()), int(end.timestamp()), plan.quota
    )
    return rate, quota


def _policy(w: RateWindow) -> str:
    return f'"{w.policy}";q={w.limit};w={w.end - w.start}'


@dataclass(frozen=True)
class Decision:
    allowed: bool
    headers: dict[str, str]
    retry_after: int = 0

    def problem(self, instance: str | None) -> dict[str, Any]:
        return problem(
            429,
            "rate-limited",
            "Too many requests",
            f"this partner's rate limit is used up; retry after {self.retry_after} s",
            instance,
            [("/headers/Authorization", "rate limit of this partner's tier reached")],
        )


def enabled() -> bool:
    return os.environ.get("PARTNER_RATE_LIMIT", "1") not in ("0", "false", "no")


class RateLimiter:
    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def take(self, partner_id: str, tier: str) -> Decision:
        """Count one request of the partner, or refuse it (429) when a window is full."""
        now = int(self.clock().timestamp())
        plan = PLANS.get(tier, PLANS["free"])
        ws = windows(plan, now)
        allowed, counts = self.store.take_rate(partner_id, ws)
        headers = {"RateLimit-Policy": ", ".join(_policy(w) for w in ws)}
        if allowed:
            headers["RateLimit"] = ", ".join(
                f'"{w.policy}";r={max(0, w.limit - n)};t={w.end - now}'
                for w, n in zip(ws, counts)
            )
            return Decision(True, headers)
        full = [w for w, n in zip(ws, counts) if n >= w.limit] or list(ws)
        retry = max(w.end - now for w in full)
        headers["RateLimit"] = ", ".join(
            f'"{w.policy}";r=0;t={w.end - now}' for w in full
        )
        headers["Retry-After"] = str(retry)
        return Decision(False, headers, retry)
