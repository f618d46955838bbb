"""Cursor pagination of the partner lists (issue 17, item 4): ``GET /v1/partner/assessments``
(filters), ``/v1/partner/webhook/deliveries`` and ``/v1/partner/keys``: ``limit`` 1..100
(default 20), an opaque signed ``cursor`` (tampered, foreign or with other filters: 422
naming ``cursor``), ``next_cursor`` and a ``Link: <...>; rel="next"`` header, newest first,
and never another partner's items."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib import schemas
from chalicelib.partners import PartnerService
from chalicelib.records import Delivery
from tests import orgs

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def partners(service):  # type: ignore[no-untyped-def]
    ps = PartnerService(service.store)
    a, rec_a = ps.create("A", ["submit", "read", "admin"], [], "premium")
    b, rec_b = ps.create("B", ["submit", "read", "admin"], [], "premium")
    return {
        "a": {"Authorization": f"Bearer {a}"},
        "b": {"Authorization": f"Bearer {b}"},
        "a_id": rec_a.partner_id,
        "b_id": rec_b.partner_id,
    }


def submit(client: Any, h: dict[str, str], answers: dict[str, str]) -> str:
    r = client.http.post(
        "/v1/partner/assessments",
        body=json.dumps({"answers": answers}),
        headers={**JSON, **h},
    )
    assert r.status_code == 201, r.body
    return str(r.json_body["id"])


def walk(client: Any, url: str, h: dict[str, str]) -> tuple[list[list[str]], list[Any]]:
    """Follow the Link headers from ``url``; the ids per page and every response."""
    pages, responses = [], []
    base = url.split("?")[0].rsplit("/", 1)[0]
    while url:
        r = client.http.get(url, headers=h)
        assert r.status_code == 200, r.body
        responses.append(r)
        pages.append([i.get("id") or i.get("key_id") for i in r.json_body["items"]])
        link = r.headers.get("Link")
        if link is None:
            assert r.json_body["next_cursor"] is None
            break
        target = re.fullmatch(r'<([^>]+)>; rel="next"', link)
        assert target, link
        cursor = parse_qs(urlsplit(target.group(1)).query)["cursor"][0]
        assert cursor == r.json_body["next_cursor"]
        url = f"{base}/{target.group(1)}"  # relative to the request URL
    return pages, responses


@pytest.fixture
def history(client, partners, questionnaire, clock):  # type: ignore[no-untyped-def]
    """Seven assessments of A, one minute apart (two in the same second), and one of B."""
    ids = []
    for i in range(7):
        if i != 4:
            clock.now += timedelta(minutes=1)
        answers = (
            orgs.up_to_phase(questionnaire, 3)
            if i % 2
            else orgs.middling(questionnaire)
        )
        ids.append(submit(client, partners["a"], answers))
    b_id = submit(client, partners["b"], orgs.middling(questionnaire))
    return ids, b_id


def test_assessments_are_paged_newest_first(client, partners, history) -> None:  # type: ignore[no-untyped-def]
    ids, b_id = history
    pages, responses = walk(client, "/v1/partner/assessments?limit=3", partners["a"])
    assert [len(p) for p in pages] == [3, 3, 1]
    flat = [i for p in pages for i in p]
    assert sorted(flat) == sorted(ids) and b_id not in flat
    created = [i["created_at"] for r in responses for i in r.json_body["items"]]
    assert created == sorted(created, reverse=True)
    assert flat[0] == ids[-1]  # the newest first
    for r in responses:
        schemas.PartnerAssessmentList.model_validate(r.json_body)
        assert "RateLimit" in r.headers and "RateLimit-Policy" in r.headers
    item = responses[0].json_body["items"][0]
    assert "answers" not in item and "token" not in item
    assert item["questionnaire"] == {"id": "smm", "version": "2.0.0"}
    # default limit 20: everything on one page, no Link
    one = client.http.get("/v1/partner/assessments", headers=partners["a"])
    assert len(one.json_body["items"]) == 7 and "Link" not in one.headers
    assert one.json_body["next_cursor"] is None
    # B sees only its own
    theirs = client.http.get("/v1/partner/assessments", headers=partners["b"])
    assert [i["id"] for i in theirs.json_body["items"]] == [b_id]


def test_filters(client, partners, history, clock) -> None:  # type: ignore[no-untyped-def]
    everything = client.http.get(
        "/v1/partner/assessments", headers=partners["a"]
    ).json_body["items"]
    phases = {i["phase"] for i in everything}
    assert len(phases) == 2  # the fixture made two profiles
    for phase in phases:
        r = client.http.get(
            f"/v1/partner/assessments?phase={phase}", headers=partners["a"]
        )
        assert {i["id"] for i in r.json_body["items"]} == {
            i["id"] for i in everything if i["phase"] == phase
        }
    oldest = min(i["created_at"] for i in everything)
    newest = max(i["created_at"] for i in everything)
    since = client.http.get(
        f"/v1/partner/assessments?since={newest.replace('+00:00', 'Z')}",
        headers=partners["a"],
    )
    assert [i["created_at"] for i in since.json_body["items"]] == [newest]
    until = client.http.get(
        f"/v1/partner/assessments?until={oldest.replace('+00:00', 'Z')}",
        headers=partners["a"],
    )
    assert until.json_body["items"] == []  # exclusive
    r = client.http.get(
        "/v1/partner/assessments?questionnaire=smm&version=2.0.0&included=true",
        headers=partners["a"],
    )
    assert {i["id"] for i in r.json_body["items"]} == {
        i["id"] for i in everything if i["benchmark"]["included"]
    }
    none = client.http.get(
        "/v1/partner/assessments?version=1.0.0", headers=partners["a"]
    )
    assert none.json_body == {"items": [], "next_cursor": None}
    # a version no questionnaire has is a mistake, not an empty page
    unknown = client.http.get(
        "/v1/partner/assessments?version=9.9.9", headers=partners["a"]
    )
    assert unknown.status_code == 422
    assert unknown.json_body["errors"][0]["parameter"] == "version"
    # filters stay in the Link; paging with a filter keeps it
    pages, _ = walk(
        client, f"/v1/partner/assessments?limit=1&phase={min(phases)}", partners["a"]
    )
    assert [i for p in pages for i in p] == [
        i["id"] for i in everything if i["phase"] == min(phases)
    ]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("since=yesterday", "since"),
        ("until=2026-13-01", "until"),
        ("since=2026-11-24&until=2026-11-23", "until"),
        ("phase=8", "phase"),
        ("phase=x", "phase"),
        ("included=yes", "included"),
        ("cursor=abc", "cursor"),
        ("cursor=", "cursor"),
        ("cursor=" + "A" * 600, "cursor"),
    ],
)
def test_bad_parameters_are_422_naming_them(client, partners, query, parameter) -> None:  # type: ignore[no-untyped-def]
    r = client.http.get(f"/v1/partner/assessments?{query}", headers=partners["a"])
    assert r.status_code == 422, r.body
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json_body["errors"][0]["parameter"] == parameter


def _cursor(client: Any, url: str, h: dict[str, str]) -> str:
    r = client.http.get(url, headers=h)
    assert r.json_body["next_cursor"], r.body
    return str(r.json_body["next_cursor"])


def test_cursor_is_tamper_proof_and_bound_to_partner_and_filters(
    client, partners, history, service
) -> None:  # type: ignore[no-untyped-def]
    import base64

    a, b = partners["a"], partners["b"]
    cursor = _cursor(client, "/v1/partner/assessments?limit=2", a)
    ok = client.http.get(f"/v1/partner/assessments?limit=2&cursor={cursor}", headers=a)
    assert ok.status_code == 200
    # partner B replays A's cursor: refused, and nothing of A's is shown
    stolen = client.http.get(
        f"/v1/partner/assessments?limit=2&cursor={cursor}", headers=b
    )
    assert (
        stolen.status_code == 422
        and stolen.json_body["errors"][0]["parameter"] == "cursor"
    )
    assert "items" not in stolen.json_body
    # other filters with the same cursor
    other = client.http.get(
        f"/v1/partner/assessments?phase=0&cursor={cursor}", headers=a
    )
    assert other.status_code == 422
    # the cursor of another list of the same partner
    PartnerService(service.store).create("A", ["read"], [], partner_id=partners["a_id"])
    keys_cursor = _cursor(client, "/v1/partner/keys?limit=1", a)
    wrong = client.http.get(f"/v1/partner/assessments?cursor={keys_cursor}", headers=a)
    assert wrong.status_code == 422
    # an edited position (re-encoded, old signature)
    body, sig = cursor.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data["p"] = partners["b_id"]
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    for bad in (
        f"{forged}.{sig}",
        cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB"),
    ):
        r = client.http.get(f"/v1/partner/assessments?cursor={bad}", headers=b)
        assert (
            r.status_code == 422 and r.json_body["errors"][0]["parameter"] == "cursor"
        )


def test_deliveries_are_paged(client, partners, service) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        service.store.put_delivery(
            Delivery(
                f"evt_{i}", partners["a_id"], "assessment.completed", "{}", 1000 + i
            )
        )
    service.store.put_delivery(
        Delivery("evt_b", partners["b_id"], "assessment.completed", "{}", 2000)
    )
    pages, responses = walk(
        client, "/v1/partner/webhook/deliveries?limit=2", partners["a"]
    )
    assert pages == [["evt_4", "evt_3"], ["evt_2", "evt_1"], ["evt_0"]]
    for r in responses:
        schemas.WebhookDeliveryList.model_validate(r.json_body)
    theirs = client.http.get("/v1/partner/webhook/deliveries", headers=partners["b"])
    assert [i["id"] for i in theirs.json_body["items"]] == ["evt_b"]
    # a cursor of the assessment list is not one of the deliveries list
    cursor = responses[0].json_body["next_cursor"]
    r = client.http.get(
        f"/v1/partner/assessments?cursor={cursor}", headers=partners["a"]
    )
    assert r.status_code == 422


def test_keys_are_paged_newest_first(client, partners, service, clock) -> None:  # type: ignore[no-untyped-def]
    ps = PartnerService(service.store, clock)
    made = []
    for _ in range(4):
        clock.now += timedelta(minutes=1)
        made.append(ps.create("A", ["read"], [], partner_id=partners["a_id"])[1].key_id)
    pages, responses = walk(client, "/v1/partner/keys?limit=2", partners["a"])
    flat = [i for p in pages for i in p]
    stored = sorted(
        service.store.list_partner_keys(partners["a_id"]),
        key=lambda k: (k.created_at, k.key_id),
        reverse=True,
    )
    assert flat == [k.key_id for k in stored] and len(flat) == 5
    assert [k for k in flat if k in made] == made[::-1]  # newest first
    for r in responses:
        schemas.PartnerKeyList.model_validate(r.json_body)
    theirs = client.http.get("/v1/partner/keys", headers=partners["b"])
    assert len(theirs.json_body["items"]) == 1
    cursor = responses[0].json_body["next_cursor"]
    stolen = client.http.get(f"/v1/partner/keys?cursor={cursor}", headers=partners["b"])
    assert stolen.status_code == 422
