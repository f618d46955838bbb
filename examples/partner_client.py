"""A partner's server-side client of the assessment API (Python 3.11+, standard library only).

It shows the conventions of docs/PARTNERS.md: a fresh Idempotency-Key per submission, reused
on every retry of it; waiting for Retry-After on 429 (and 503); reading the RateLimit
headers; and walking a list by its next_cursor.

    make run   # in another terminal
    .venv/bin/python -m chalicelib.cli partner create --name Shop --scopes submit,read
    SMM_PARTNER_KEY=smmk_... python examples/partner_client.py [http://127.0.0.1:8000]

The last line printed is a JSON summary (the test reads it).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RETRY_STATUSES = (429, 503)
MAX_WAIT_SECONDS = 60  # never sleep longer than this for one Retry-After


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def parse_ratelimit(value: str | None) -> dict[str, dict[str, int]]:
    """``"rate";r=41;t=30, "quota";r=999;t=50000`` -> ``{"rate": {"r": 41, "t": 30}, ...}``
    (IETF draft-ietf-httpapi-ratelimit-headers, RateLimit and RateLimit-Policy fields)."""
    out: dict[str, dict[str, int]] = {}
    for item in re.findall(r'"([^"]+)"((?:;[a-z]+=\d+)*)', value or ""):
        name, params = item
        out[name] = {k: int(v) for k, v in re.findall(r";([a-z]+)=(\d+)", params)}
    return out


class PartnerClient:
    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        max_retries: int = 3,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.max_retries = max_retries
        self.timeout = timeout
        self.sleep = sleep
        self.rate_limit: dict[str, dict[str, int]] = {}

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One call; 429 and 503 are retried after their Retry-After (bounded), and so are
        network errors. Safe for POST only with an Idempotency-Key (``submit`` sends one)."""
        data = None if body is None else json.dumps(body).encode()
        h = {"Authorization": f"Bearer {self.key}", "Accept": "application/json"}
        if data is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        url = path if path.startswith("http") else self.base_url + path
        for attempt in range(self.max_retries + 1):
            req = urllib.request.Request(url, data=data, method=method, headers=h)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    answer = Answer(resp.status, dict(resp.headers), _json(resp.read()))
            except urllib.error.HTTPError as err:
                answer = Answer(err.code, dict(err.headers), _json(err.read()))
            except (urllib.error.URLError, TimeoutError):
                if attempt == self.max_retries:
                    raise
                self.sleep(min(2**attempt, MAX_WAIT_SECONDS))
                continue
            self.rate_limit = parse_ratelimit(answer.headers.get("RateLimit"))
            if answer.status in RETRY_STATUSES and attempt < self.max_retries:
                wait = int(answer.headers.get("Retry-After") or 1)
                self.sleep(min(max(wait, 1), MAX_WAIT_SECONDS))
                continue
            return answer
        raise AssertionError("unreachable")

    def submit(
        self, submission: dict[str, Any], idempotency_key: str | None = None
    ) -> Answer:
        """POST one submission. Keep the key until you have the answer: a retry with the
        same key and body within 24 h returns the original result (200,
        Idempotent-Replayed: true) and is never counted twice."""
        key = idempotency_key or str(uuid.uuid4())
        return self.request(
            "POST",
            "/v1/partner/assessments",
            submission,
            {"Idempotency-Key": key},
        )

    def assessments(self, limit: int = 20, **filters: str) -> Iterator[dict[str, Any]]:
        """Every assessment of this partner (newest first), page by page."""
        query = {"limit": str(limit), **filters}
        while True:
            answer = self.request(
                "GET", "/v1/partner/assessments?" + urllib.parse.urlencode(query)
            )
            if answer.status != 200:
                raise RuntimeError(f"listing failed: {answer.status} {answer.body}")
            yield from answer.body["items"]
            cursor = answer.body["next_cursor"]
            if cursor is None:
                return
            query["cursor"] = cursor  # same filters: a cursor is bound to them


def _json(raw: bytes) -> Any:
    return json.loads(raw) if raw else None


def main(argv: list[str]) -> int:
    base = (
        argv[1]
        if len(argv) > 1
        else os.environ.get("SMM_BASE_URL", "http://127.0.0.1:8000")
    )
    key = os.environ.get("SMM_PARTNER_KEY")
    if not key:
        print("set SMM_PARTNER_KEY to a partner key with the scopes submit and read")
        return 2
    client = PartnerClient(base, key)
    submission = json.loads(
        (Path(__file__).with_name("assessment.json")).read_text(encoding="utf-8")
    )
    idempotency_key = str(uuid.uuid4())  # one per submission, kept for its retries
    first = client.submit(submission, idempotency_key)
    if first.status != 201:
        print(f"submission failed: {first.status} {first.body}")
        return 1
    assessment = first.body
    print(f"stored {assessment['id']}: phase {assessment['result']['phase']['number']}")
    # the response was "lost": the retry with the same key is a replay, not a second one
    retry = client.submit(submission, idempotency_key)
    replayed = retry.headers.get("Idempotent-Replayed") == "true"
    print(
        f"retry: {retry.status}, replayed: {replayed}, same id: {retry.body['id'] == assessment['id']}"
    )
    listed = list(client.assessments(limit=2, since=assessment["created_at"]))
    print(f"{len(listed)} assessment(s) since {assessment['created_at']}")
    print(f"rate limit left: {client.rate_limit}")
    summary = {
        "id": assessment["id"],
        "replayed": replayed,
        "listed": [a["id"] for a in listed],
        "rate_limit": client.rate_limit,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
