"""Partner rate limits (issue 17, item 4): every partner response carries the IETF
``RateLimit-Policy`` / ``RateLimit`` fields of its tier's usage plan, and the request over the
limit is a 429 problem document with ``Retry-After`` (chalice local enforces this itself; on
AWS API Gateway does first). The service clock is the test's, so windows are exact."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib import ratelimit
from chalicelib.partners import PartnerService
from tests import orgs

LIST = "/v1/partner/assessments"


def _key(service, tier: str, scopes=("read",)) -> dict[str, str]:  # type: ignore[no-untyped-def]
    key, _ = PartnerService(service.store).create("Acme", list(scopes), [], tier)
    return {"Authorization": f"Bearer {key}"}


def test_headers_state_the_tier_plan(client, service) -> None:  # type: ignore[no-untyped-def]
    h = _key(service, "standard")
    r = client.http.get(LIST, headers=h)
    assert r.status_code == 200
    # standard: 20 requests/s -> 1200 a minute; 200,000 a month (November: 30 days)
    assert (
        r.headers["RateLimit-Policy"]
        == '"rate";q=1200;w=60, "quota";q=200000;w=2592000'
    )
    # the clock is 2026-11-23 10:00:00 UTC: a minute window starts now, the month ends in
    # 7 days and 14 hours
    assert (
        r.headers["RateLimit"]
        == f'"rate";r=1199;t=60, "quota";r=199999;t={7 * 86400 + 14 * 3600}'
    )
    again = client.http.get(LIST, headers=h)
    assert again.headers["RateLimit"].startswith(
        '"rate";r=1198;t=60, "quota";r=199998;'
    )


def test_exactly_the_limit_is_allowed_per_minute(client, service, clock) -> None:  # type: ignore[no-untyped-def]
    h = _key(service, "free")  # 2 requests/s -> 120 a minute, 1000 a day
    statuses = [client.http.get(LIST, headers=h).status_code for _ in range(120)]
    assert statuses == [200] * 120
    over = client.http.get(LIST, headers=h)
    assert over.status_code == 429
    assert over.headers["Content-Type"] == "application/problem+json"
    assert over.headers["Retry-After"] == "60"
    assert over.headers["RateLimit"] == '"rate";r=0;t=60'
    assert over.headers["RateLimit-Policy"].startswith('"rate";q=120;w=60')
    doc = over.json_body
    assert doc["status"] == 429 and doc["type"] == "urn:smm:problem:rate-limited"
    assert doc["errors"][0]["parameter"] == "Authorization"
    # one second before the window ends: still refused, and Retry-After counts down
    clock.now += timedelta(seconds=59)
    late = client.http.get(LIST, headers=h)
    assert late.status_code == 429 and late.headers["Retry-After"] == "1"
    # the next window: allowed again; refused requests were not counted in the quota
    clock.now += timedelta(seconds=1)
    ok = client.http.get(LIST, headers=h)
    assert ok.status_code == 200
    assert ok.headers["RateLimit"].startswith('"rate";r=119;t=60, "quota";r=879;')


def test_the_quota_boundary(client, service, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(
        ratelimit.PLANS, "free", ratelimit.Plan(rate=1, burst=1, quota=5, period="DAY")
    )
    h = _key(service, "free")
    for i in range(5):
        clock.now += timedelta(minutes=1)
        assert client.http.get(LIST, headers=h).status_code == 200, i
    over = client.http.get(LIST, headers=h)
    assert over.status_code == 429
    # until midnight UTC (10:05 now)
    assert over.headers["Retry-After"] == str(14 * 3600 - 5 * 60)
    assert over.headers["RateLimit"] == f'"quota";r=0;t={14 * 3600 - 5 * 60}'
    clock.now = clock.now.replace(hour=0, minute=0) + timedelta(days=1)
    assert client.http.get(LIST, headers=h).status_code == 200


def test_limits_are_per_partner_and_count_every_route(
    client, service, questionnaire, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(
        ratelimit.PLANS, "free", ratelimit.Plan(rate=1, burst=1, quota=3, period="DAY")
    )
    a = _key(service, "free", ("submit",))
    b = _key(service, "free", ("read",))
    body = json.dumps({"answers": orgs.middling(questionnaire)})
    posted = client.http.post(
        LIST, body=body, headers={**a, "Content-Type": "application/json"}
    )
    assert posted.status_code == 201 and "RateLimit" in posted.headers
    wrong_scope = client.http.get(
        LIST, headers=a
    )  # 403, but counted like the gateway does
    assert wrong_scope.status_code == 403 and "RateLimit" in wrong_scope.headers
    assert client.http.get("/v1/partner/keys", headers=a).status_code == 403
    refused = client.http.post(
        LIST, body=body, headers={**a, "Content-Type": "application/json"}
    )
    assert refused.status_code == 429
    assert client.http.get(LIST, headers=b).status_code == 200  # B has its own counter
    # nothing was stored for the refused submission
    assert service.store.count_assessments() == 1


def test_cors_exposes_the_headers(client, service) -> None:  # type: ignore[no-untyped-def]
    key, _ = PartnerService(service.store).create(
        "Acme", ["read"], ["https://shop.example"], "free"
    )
    r = client.http.get(
        LIST,
        headers={"Authorization": f"Bearer {key}", "Origin": "https://shop.example"},
    )
    exposed = r.headers["Access-Control-Expose-Headers"]
    for name in ("RateLimit", "RateLimit-Policy", "Retry-After", "Link"):
        assert name in exposed


def test_can_be_left_to_the_gateway(client, service, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PARTNER_RATE_LIMIT", "0")
    r = client.http.get(LIST, headers=_key(service, "free"))
    assert r.status_code == 200 and "RateLimit" not in r.headers


@pytest.mark.parametrize(
    ("period", "now", "start", "end"),
    [
        ("DAY", "2026-11-23T10:00:00", "2026-11-23", "2026-11-24"),
        ("WEEK", "2026-11-26T23:59:59", "2026-11-23", "2026-11-30"),  # Monday to Monday
        ("MONTH", "2026-02-10T00:00:00", "2026-02-01", "2026-03-01"),
        ("MONTH", "2026-12-31T23:59:59", "2026-12-01", "2027-01-01"),
    ],
)
def test_quota_windows_are_calendar_periods_utc(period, now, start, end) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    def ts(s: str) -> int:
        return int(datetime.fromisoformat(s).replace(tzinfo=UTC).timestamp())

    _, quota = ratelimit.windows(ratelimit.Plan(1, 1, 10, period), ts(now))
    assert (quota.start, quota.end) == (ts(start), ts(end))
