"""Partner webhooks against a real HTTP receiver on 127.0.0.1: signed events, replay window,
bounded retries, delivery log, URL rules, the scheduled retry and the CLI."""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Self

import pytest

import app as app_module
from chalicelib.errors import InvalidInput
from chalicelib.partners import PartnerService
from chalicelib.webhooks import (
    BACKOFF_SECONDS,
    MAX_ATTEMPTS,
    WebhookService,
    address_problem,
    check_url,
    sign,
    sign_legacy,
    signature_headers,
    verify,
    verify_legacy_signature,
)
from tests import orgs

JSON = {"Content-Type": "application/json"}


class Receiver:
    """An HTTP server on 127.0.0.1 (free port) that records requests and answers with the
    queued statuses (then 200)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append(
                    {"headers": self.headers, "body": body}
                )  # any case
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                if status in (301, 302, 307, 308):
                    self.send_header("Location", outer.url + "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.server_names: list[str | None] = []
        if tls is not None:  # HTTPS; records the SNI name each client sent
            tls.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "1")
    with Receiver() as r:
        yield r


class Clock:
    def __init__(self, now: float = 1_800_000_000) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def partner_headers(key: str, **extra: str) -> dict[str, str]:
    return {**JSON, "Authorization": f"Bearer {key}", **extra}


# --- signatures -----------------------------------------------------------------------------
SECRET_A = "whsec_" + base64.b64encode(b"a" * 32).decode()
SECRET_B = "whsec_" + base64.b64encode(b"b" * 32).decode()


def test_signature_verifies_only_the_same_id_body_secret_and_recent_time() -> None:
    body = b'{"id":"evt_1"}'
    headers = signature_headers([SECRET_A], "evt_1", 1_000, body)
    assert verify(SECRET_A, headers, body, now=1_000)
    assert verify(SECRET_A, headers, body, now=1_300)  # within 5 minutes
    assert not verify(SECRET_A, headers, body, now=1_301)  # replayed later
    assert not verify(SECRET_A, headers, body, now=699)
    assert not verify(SECRET_B, headers, body, now=1_000)
    assert not verify(SECRET_A, headers, body + b" ", now=1_000)
    assert not verify(SECRET_A, {**headers, "webhook-timestamp": "1001"}, body, 1_000)
    assert not verify(SECRET_A, {**headers, "webhook-id": "evt_2"}, body, 1_000)
    for name in headers:
        assert not verify(SECRET_A, {**headers, name: ""}, body, now=1_000)
    assert not verify(SECRET_A, {**headers, "webhook-timestamp": "x"}, body, 1_000)
    # several signatures (a rotation): any one of them verifies
    both = signature_headers([SECRET_B, SECRET_A], "evt_1", 1_000, body)
    assert both["webhook-signature"].count("v1,") == 2
    assert verify(SECRET_A, both, body, now=1_000)
    assert verify(SECRET_B, both, body, now=1_000)
    # the deprecated SMM-Signature header
    legacy = sign_legacy(SECRET_A, 1_000, body)
    assert verify_legacy_signature(SECRET_A, legacy, body, now=1_000)
    assert not verify_legacy_signature(SECRET_B, legacy, body, now=1_000)


def test_signature_matches_the_spec_example() -> None:
    """The example of the Standard Webhooks specification (its reference test vector)."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    msg_id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    body = b'{"test": 2432232314}'
    assert (
        sign(secret, msg_id, 1614265330, body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_the_standardwebhooks_library_verifies_our_deliveries(
    service, receiver
) -> None:  # type: ignore[no-untyped-def]
    """A receiver using the reference library (PyPI ``standardwebhooks``) accepts what we
    send, with the secret the registration answered, also during a rotation."""
    from standardwebhooks import Webhook as Verifier
    from standardwebhooks import WebhookVerificationError

    hooks = WebhookService(
        service.store, b"secret"
    )  # real clock: the library checks it
    first = hooks.register("p1", receiver.url)["secret"]
    assert first.startswith("whsec_") and len(base64.b64decode(first[6:])) == 32
    from chalicelib.records import Delivery

    def deliver(n: int) -> dict[str, Any]:
        d = Delivery(f"evt_{n}", "p1", "assessment.completed", json.dumps({"n": n}), 1)
        service.store.put_delivery(d)
        assert hooks.attempt(d).state == "delivered"
        return receiver.requests[-1]

    got = deliver(1)
    headers = dict(got["headers"].items())
    assert Verifier(first).verify(got["body"], headers) == {"n": 1}
    with pytest.raises(WebhookVerificationError):
        Verifier(SECRET_B).verify(got["body"], headers)
    second = hooks.rotate_secret("p1")["secret"]
    assert second != first
    got = deliver(2)
    headers = dict(got["headers"].items())
    assert Verifier(first).verify(got["body"], headers) == {"n": 2}  # grace period
    assert Verifier(second).verify(got["body"], headers) == {"n": 2}


def test_endpoint_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBHOOK_ALLOW_LOOPBACK", raising=False)
    check_url("https://hooks.example/smm")
    check_url("https://93.184.215.14:8443/hook")
    check_url("https://[2606:4700:4700::1111]:8443/hook?partner=a%20b")
    check_url("https://xn--bcher-kva.example./hook")
    refused = {
        "http://hooks.example/smm": "https://",
        "ftp://hooks.example/x": "https://",
        "https://": "https://",
        "https://user:pw@hooks.example/": "credentials",
        "https://169.254.169.254/latest/meta-data": "private",
        "https://10.1.2.3/hook": "private",
        "https://[::1]/hook": "loopback",
        "https://127.0.0.1/hook": "loopback",
        "https://localhost/hook": "loopback",
        "https://hooks.example/" + "x" * 2_000: "2,000",
    }
    for url, why in refused.items():
        with pytest.raises(InvalidInput) as err:
            check_url(url)
        assert err.value.errors[0][0] == "/url"
        assert why in err.value.errors[0][1], (url, err.value.errors)
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "1")
    check_url("http://127.0.0.1:8080/hook")
    check_url("http://localhost:8080/hook")
    with pytest.raises(InvalidInput):
        check_url("http://hooks.example/smm")  # http only for loopback, even then


# --- through the API ------------------------------------------------------------------------
def test_partner_gets_one_signed_event_per_new_assessment(
    client, service, questionnaire, receiver
) -> None:  # type: ignore[no-untyped-def]
    key, _ = PartnerService(service.store).create(
        "Acme", ["submit", "admin"], [], "standard"
    )
    r = client.http.put(
        "/v1/partner/webhook",
        body=json.dumps({"url": receiver.url + "/hook"}),
        headers=partner_headers(key),
    )
    assert r.status_code == 200, r.body
    secret = r.json_body["secret"]
    assert secret.startswith("whsec_") and r.json_body["url"] == receiver.url + "/hook"

    answers = orgs.middling(questionnaire)
    body = json.dumps({"answers": answers})
    sent = client.http.post(
        "/v1/partner/assessments",
        body=body,
        headers=partner_headers(key, **{"Idempotency-Key": "order-1"}),
    )
    assert sent.status_code == 201
    replay = client.http.post(
        "/v1/partner/assessments",
        body=body,
        headers=partner_headers(key, **{"Idempotency-Key": "order-1"}),
    )
    assert (
        replay.status_code == 200
    )  # a replay is not a new assessment: no second event

    assert len(receiver.requests) == 1
    got = receiver.requests[0]
    assert verify(secret, got["headers"], got["body"])
    assert not verify(SECRET_B, got["headers"], got["body"])
    assert verify_legacy_signature(secret, got["headers"]["SMM-Signature"], got["body"])
    event = json.loads(got["body"])
    assert event["type"] == got["headers"]["SMM-Event"] == "assessment.completed"
    assert event["id"] == got["headers"]["webhook-id"]
    data = event["data"]
    assert data["assessment_id"] == sent.json_body["id"]
    assert data["overall"] == sent.json_body["result"]["metrics"]["overall"]
    assert data["phase"] == sent.json_body["result"]["metrics"]["phase"]
    assert (
        "answers" not in got["body"].decode()
        and sent.json_body["token"] not in got["body"].decode()
    )

    log = client.http.get("/v1/partner/webhook", headers=partner_headers(key))
    assert log.status_code == 200
    (delivery,) = log.json_body["deliveries"]
    assert delivery["id"] == event["id"]
    assert delivery["state"] == "delivered" and delivery["last_status"] == 200
    assert "secret" not in log.json_body

    assert (
        client.http.delete(
            "/v1/partner/webhook", headers=partner_headers(key)
        ).status_code
        == 204
    )
    client.http.post(
        "/v1/partner/assessments",
        body=json.dumps({"answers": answers}),
        headers=partner_headers(key),
    )
    assert len(receiver.requests) == 1  # removed: nothing more is sent
    gone = client.http.get("/v1/partner/webhook", headers=partner_headers(key))
    assert gone.status_code == 404
    assert gone.headers["Content-Type"] == "application/problem+json"


def test_bad_webhook_requests_are_problems(client, service) -> None:  # type: ignore[no-untyped-def]
    key, _ = PartnerService(service.store).create("Acme", ["admin"], [], "free")
    cases = [
        ({"url": "http://hooks.example/x"}, 422, "/url"),
        ({"url": "https://169.254.169.254/"}, 422, "/url"),
        ({}, 422, "/url"),
        ({"url": "https://hooks.example/x", "events": ["all"]}, 422, "/events"),
    ]
    for body, status, pointer in cases:
        r = client.http.put(
            "/v1/partner/webhook", body=json.dumps(body), headers=partner_headers(key)
        )
        assert r.status_code == status, (body, r.body)
        assert r.headers["Content-Type"] == "application/problem+json"
        assert pointer in json.dumps(r.json_body["errors"]), r.json_body


def test_a_failing_receiver_does_not_fail_the_submission(
    client, service, questionnaire, receiver
) -> None:  # type: ignore[no-untyped-def]
    key, _ = PartnerService(service.store).create(
        "Acme", ["submit", "admin"], [], "free"
    )
    client.http.put(
        "/v1/partner/webhook",
        body=json.dumps({"url": receiver.url}),
        headers=partner_headers(key),
    )
    receiver.statuses = [503]
    r = client.http.post(
        "/v1/partner/assessments",
        body=json.dumps({"answers": orgs.middling(questionnaire)}),
        headers=partner_headers(key),
    )
    assert r.status_code == 201
    (d,) = client.http.get(
        "/v1/partner/webhook", headers=partner_headers(key)
    ).json_body["deliveries"]
    assert d["state"] == "pending" and d["attempts"] == 1 and d["last_status"] == 503
    assert d["next_attempt_at"] is not None


# --- retries --------------------------------------------------------------------------------
def submitted(service, hooks, questionnaire, partner_id: str):  # type: ignore[no-untyped-def]
    """A partner submission through the service, its event queued in the same write and
    tried once, as the partner route does. Returns the delivery after that attempt."""
    from chalicelib.request_models import SubmissionIn

    done = service.submit(
        SubmissionIn(answers=orgs.middling(questionnaire)),
        partner_id=partner_id,
        event=hooks.event_for,
    )
    assert done.created and done.delivery is not None
    assert service.store.list_deliveries(partner_id)[0].id == done.delivery.id
    # queued, but not due for the scheduler while the request makes the first attempt
    assert service.store.due_deliveries(int(hooks.clock())) == []
    return hooks.deliver_now(done.delivery)


def test_retries_follow_the_backoff_then_stop(service, questionnaire, receiver) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    hooks = WebhookService(service.store, b"secret", clock=clock)
    hooks.register("p1", receiver.url)
    receiver.statuses = [500] * MAX_ATTEMPTS
    first = submitted(service, hooks, questionnaire, "p1")
    assert first is not None and first.state == "pending" and first.attempts == 1
    for attempt, wait in enumerate(BACKOFF_SECONDS, start=2):
        clock.now += wait - 1
        assert hooks.deliver_due() == []  # not due yet
        clock.now += 1
        (d,) = hooks.deliver_due()
        assert d.attempts == attempt
    assert d.state == "failed" and d.last_error == "HTTP 500"
    assert len(receiver.requests) == MAX_ATTEMPTS
    assert {r["headers"]["webhook-id"] for r in receiver.requests} == {first.id}
    assert len({r["body"] for r in receiver.requests}) == 1  # the same bytes every time
    clock.now += 10**6
    assert hooks.deliver_due() == []  # bounded: never tried again


def test_a_later_attempt_succeeds_and_is_signed_afresh(
    service, questionnaire, receiver
) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    hooks = WebhookService(service.store, b"secret", clock=clock)
    hooks.register("p1", receiver.url)
    receiver.statuses = [302]  # redirects are not followed
    d = submitted(service, hooks, questionnaire, "p1")
    assert d is not None and d.last_status == 302 and d.state == "pending"
    clock.now += BACKOFF_SECONDS[0]
    (d,) = hooks.deliver_due()
    assert d.state == "delivered" and d.attempts == 2 and d.delivered_at == clock.now
    assert len(receiver.requests) == 2  # nothing went to the redirect target
    last = receiver.requests[-1]
    assert verify(hooks.secret_for("p1"), last["headers"], last["body"], now=clock.now)
    assert last["headers"]["webhook-timestamp"] == str(int(clock.now))


def test_unreachable_receiver_is_an_error_to_retry(
    service, questionnaire, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "1")
    with Receiver() as r:
        url = r.url  # the port is closed once the receiver has stopped
    hooks = WebhookService(service.store, b"secret", clock=Clock())
    hooks.register("p1", url)
    d = submitted(service, hooks, questionnaire, "p1")
    assert d is not None and d.state == "pending" and d.last_status is None
    assert "Connection" in (d.last_error or "") or "refused" in (d.last_error or "")


def test_scheduled_function_and_cli_deliver_what_is_due(
    client, service, questionnaire, receiver, capsys, monkeypatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    hooks = app_module.container().webhooks
    hooks.register("p1", receiver.url)
    receiver.statuses = [500]
    d = submitted(service, hooks, questionnaire, "p1")
    assert d is not None and d.state == "pending"
    # make it due now
    from dataclasses import replace

    service.store.put_delivery(replace(d, next_at=0))
    scheduled_event = {  # what EventBridge sends every minute
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-30T16:00:00Z",
        "region": "eu-central-1",
        "resources": ["arn:aws:events:eu-central-1:123456789012:rule/deliver"],
        "detail": {},
    }
    result = app_module.deliver_webhooks(scheduled_event, None)
    assert result == {"attempted": 1, "delivered": 1}
    assert len(receiver.requests) == 2

    # the CLI, on its own store (DATA_DIR)
    from chalicelib.cli import main

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SQLITE_PATH", raising=False)
    assert main(["webhooks", "set", "p9", receiver.url + "/cli"]) == 0
    out = capsys.readouterr().out
    assert "secret : whsec_" in out
    assert main(["webhooks", "show", "p9"]) == 0
    assert "no deliveries yet" in capsys.readouterr().out
    assert main(["webhooks", "deliver"]) == 0
    assert "0 due" in capsys.readouterr().out
    assert main(["webhooks", "set", "p9", "http://hooks.example/"]) == 2
    assert "/url" in capsys.readouterr().err
    assert main(["webhooks", "rotate-secret", "p9", "--grace", "600"]) == 0
    out = capsys.readouterr().out
    assert "secret : whsec_" in out and "signs too until" in out
    assert main(["webhooks", "show", "p9"]) == 0
    assert "signing with 2 secrets" in capsys.readouterr().out
    assert main(["webhooks", "rotate-secret", "p9", "--grace", "-5"]) == 2
    assert "/grace_seconds" in capsys.readouterr().err
    assert main(["webhooks", "replay", "p9", "evt_none"]) == 2
    assert "no such delivery" in capsys.readouterr().err
    assert main(["webhooks", "remove", "p9"]) == 0
    assert main(["webhooks", "remove", "p9"]) == 2


def test_cli_replays_and_shows_a_disabled_endpoint(
    service, receiver, capsys, monkeypatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.cli import main
    from chalicelib.config import Settings
    from chalicelib.records import Delivery
    from chalicelib.storage import store_from_env

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SQLITE_PATH", raising=False)
    assert main(["webhooks", "set", "p9", receiver.url]) == 0
    store = store_from_env()
    hooks = WebhookService(store, Settings.from_env().secret)
    failed = Delivery("evt_cli", "p9", "assessment.completed", "{}", 1, "failed", 6)
    store.put_delivery(failed)
    receiver.statuses = [410]
    assert main(["webhooks", "replay", "p9", "evt_cli"]) == 1
    assert "failed" in capsys.readouterr().out
    assert main(["webhooks", "show", "p9"]) == 0
    assert "DISABLED since" in capsys.readouterr().out
    assert main(["webhooks", "replay", "p9", "evt_cli"]) == 2  # disabled: conflict
    assert "disabled" in capsys.readouterr().err
    assert main(["webhooks", "set", "p9", receiver.url]) == 0
    capsys.readouterr()
    assert main(["webhooks", "replay", "p9", "evt_cli"]) == 0
    assert "delivered" in capsys.readouterr().out
    got = receiver.requests[-1]
    assert verify(hooks.secret_for("p9"), got["headers"], got["body"])


# --- URLs that used to pass registration and crash delivery (issue 13, items 1 and 3) ------
BAD_URLS = [
    "https://example.com:abc/",  # port not a number
    "https://example.com:99999/",  # port out of range
    "https://example.com:0/",
    "https://example.com/a\r\nX-Injected: 1",  # header injection
    "https://example.com/a\nb",
    "https://example.com/\x00",
    "https://example.com/a b",
    "https://exa\tmple.com/",
    "https://example.com/\x7f",
    "https://[::1/x",  # malformed IPv6 literal
    "https://[::1]x/",
    "https://[hooks.example]/",
    "https://[fe80::1%25eth0]/",
    "https://exa_mple..com/",
    "https://-bad-.example/",
    "https://hooks.example:/",
    "https://2130706433/",  # 127.0.0.1 as one number
    "https://0x7f.1/",
    "https://hooks.example/#frag",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_malformed_urls_are_refused_at_registration(client, service, url) -> None:  # type: ignore[no-untyped-def]
    key, _ = PartnerService(service.store).create("Acme", ["admin"], [], "free")
    r = client.http.put(
        "/v1/partner/webhook",
        body=json.dumps({"url": url}),
        headers=partner_headers(key),
    )
    assert r.status_code == 422, (url, r.status_code, r.body)
    assert r.headers["Content-Type"] == "application/problem+json"
    assert [e["pointer"] for e in r.json_body["errors"]] == ["/url"], r.json_body
    assert (
        service.store.get_webhook(PartnerService(service.store).list()[0]["partner_id"])
        is None
    )


def test_one_bad_stored_url_does_not_stop_the_others(service, receiver) -> None:  # type: ignore[no-untyped-def]
    """Endpoints stored before the URL rules were complete: each bad one is recorded as
    failed, every other partner's delivery still goes out in the same run."""
    from chalicelib.records import Delivery, Webhook

    clock = Clock()
    hooks = WebhookService(service.store, b"secret", clock=clock)
    hooks.register("good", receiver.url + "/good")
    for n, url in enumerate(BAD_URLS[:5]):
        service.store.put_webhook(Webhook(f"bad{n}", url, "2026-01-01T00:00:00+00:00"))
    partners = [f"bad{n}" for n in range(5)] + ["good"]
    for n, pid in enumerate(partners):
        service.store.put_delivery(
            Delivery(f"evt_{n}", pid, "assessment.completed", "{}", 1, next_at=n)
        )
    done = hooks.deliver_due()
    by_partner = {d.partner_id: d for d in done}
    assert set(by_partner) == set(partners)
    assert by_partner["good"].state == "delivered"
    assert len(receiver.requests) == 1
    for n in range(5):
        d = by_partner[f"bad{n}"]
        assert d.state == "failed" and d.attempts == 1, d
        assert "URL" in (d.last_error or ""), d
    assert hooks.deliver_due() == []  # recorded: not retried on every run
    stored = {
        d.partner_id: d.state
        for p in partners
        for d in service.store.list_deliveries(p)
    }
    assert stored == {**{p: "failed" for p in partners[:5]}, "good": "delivered"}


def test_an_unexpected_error_on_one_delivery_is_recorded_and_the_run_goes_on(
    service, receiver
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.records import Delivery

    calls: list[str] = []

    def sender(url: str, body: bytes, headers: dict[str, str]) -> int:
        calls.append(url)
        if url.endswith("/boom"):
            raise RuntimeError("a bug in the sender")
        return 204

    hooks = WebhookService(service.store, b"secret", sender=sender, clock=Clock())
    hooks.register("p1", receiver.url + "/boom")
    hooks.register("p2", receiver.url + "/fine")
    for n, pid in enumerate(("p1", "p2")):
        service.store.put_delivery(
            Delivery(f"evt_{n}", pid, "assessment.completed", "{}", 1, next_at=n)
        )
    done = {d.partner_id: d for d in hooks.deliver_due()}
    assert done["p2"].state == "delivered"
    assert done["p1"].state == "pending" and done["p1"].attempts == 1
    assert "RuntimeError" in (done["p1"].last_error or "")
    assert len(calls) == 2


# --- addresses: resolved once, checked, connected to (issue 13, item 10) --------------------
REFUSED_ADDRESSES = [
    "100.64.0.1",  # carrier-grade NAT
    "100.127.255.254",
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "192.0.0.8",
    "198.18.0.1",
    "224.0.0.251",  # multicast
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:93.184.215.14",  # mapped, even of a public address
    "::127.0.0.1",  # IPv4-compatible
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::6440:1",  # NAT64 of 100.64.0.1
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2001::1",  # Teredo
    "2001:db8::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fec0::1",
    "ff02::1",
    "100::1",
]


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_refused_addresses(monkeypatch, address: str) -> None:  # type: ignore[no-untyped-def]
    import ipaddress

    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "1")  # even then: none of these
    assert address_problem(ipaddress.ip_address(address)) is not None
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(InvalidInput) as err:
        check_url(f"https://{host}/hook")
    assert err.value.errors[0][0] == "/url"


def test_public_addresses_pass(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import ipaddress

    monkeypatch.delenv("WEBHOOK_ALLOW_LOOPBACK", raising=False)
    for address in (
        "93.184.215.14",
        "2606:4700:4700::1111",
        "64:ff9b::5db8:d70e",  # NAT64 of a public address (DNS64 networks)
        "2002:5db8:d70e::1",  # 6to4 of a public address
    ):
        assert address_problem(ipaddress.ip_address(address)) is None, address
    for loopback in ("127.0.0.1", "::1"):
        assert address_problem(ipaddress.ip_address(loopback)) is not None


class Resolver:
    """``socket.getaddrinfo`` for made-up names: answers from ``answers`` in turn (the last
    one again once used up), every lookup counted; numeric hosts resolve as usual."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *answers: str) -> None:
        import socket

        self.answers = list(answers)
        self.lookups: list[str] = []
        real = socket.getaddrinfo

        def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if str(host).endswith(".test"):
                self.lookups.append(host)
                address = (
                    self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
                )
                return real(address, port, *args, **kwargs)
            return real(host, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for hooks.test (key, certificate), made with openssl."""
    folder = tmp_path_factory.mktemp("tls")
    key, cert = str(folder / "key.pem"), str(folder / "cert.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-keyout", key, "-out", cert, "-subj", "/CN=hooks.test"]
        + ["-addext", "subjectAltName=DNS:hooks.test"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return key, cert


@pytest.fixture
def tls_receiver(certificate, monkeypatch) -> Iterator[Receiver]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "1")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certificate[1], certificate[0])
    with Receiver(tls) as r:
        yield r


def trusting(cert: str):  # type: ignore[no-untyped-def]
    """Our real sender, trusting the test certificate instead of the system store."""
    import functools

    from chalicelib.webhooks import http_post

    return functools.partial(http_post, context=ssl.create_default_context(cafile=cert))


def test_connection_goes_to_the_checked_address_with_the_names_tls(
    service, tls_receiver, certificate, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """DNS rebinding: the name answers a good address for the check and another one
    afterwards. The request still reaches the checked address, with the name as Host and
    SNI and the certificate verified for the name; one lookup per attempt."""
    from chalicelib.records import Delivery

    port = tls_receiver.server.server_port
    resolver = Resolver(monkeypatch, "127.0.0.1", "127.0.0.2")  # nothing on .2
    hooks = WebhookService(
        service.store, b"secret", sender=trusting(certificate[1]), clock=Clock()
    )
    hooks.register("p1", f"https://hooks.test:{port}/hook?x=1")
    d = Delivery("evt_1", "p1", "assessment.completed", "{}", 1)
    assert hooks.attempt(d).state == "delivered", service.store.get_delivery(
        "p1", "evt_1"
    )
    assert resolver.lookups == ["hooks.test"]
    (got,) = tls_receiver.requests
    assert got["headers"]["Host"] == f"hooks.test:{port}"
    assert tls_receiver.server_names == ["hooks.test"]


def test_a_certificate_for_another_name_is_refused(
    service, tls_receiver, certificate, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.records import Delivery

    Resolver(monkeypatch, "127.0.0.1")
    hooks = WebhookService(
        service.store, b"secret", sender=trusting(certificate[1]), clock=Clock()
    )
    hooks.register("p1", f"https://other.test:{tls_receiver.server.server_port}/")
    d = hooks.attempt(Delivery("evt_1", "p1", "assessment.completed", "{}", 1))
    assert d.state == "pending" and d.last_status is None
    assert "certificate" in (d.last_error or "").lower(), d.last_error
    assert tls_receiver.requests == []
    # and the system trust store does not know the test certificate at all
    hooks.sender = __import__("chalicelib.webhooks").webhooks.http_post
    hooks.register("p1", f"https://hooks.test:{tls_receiver.server.server_port}/")
    d = hooks.attempt(Delivery("evt_2", "p1", "assessment.completed", "{}", 1))
    assert "certificate" in (d.last_error or "").lower(), d.last_error
    assert tls_receiver.requests == []


def test_a_name_resolving_to_a_refused_address_is_not_contacted(
    service, receiver, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("WEBHOOK_ALLOW_LOOPBACK")
    Resolver(monkeypatch, "127.0.0.1")  # our receiver, but loopback is not allowed
    hooks = WebhookService(service.store, b"secret", clock=Clock())
    hooks.register("p1", f"https://hooks.test:{receiver.server.server_port}/")
    from chalicelib.records import Delivery

    d = hooks.attempt(Delivery("evt_1", "p1", "assessment.completed", "{}", 1))
    assert d.state == "pending" and d.last_status is None
    assert "RefusedAddress" in (d.last_error or "") and "loopback" in (
        d.last_error or ""
    )
    assert receiver.requests == []


# --- rotation, 410 Gone, replay through the API ---------------------------------------------
def _register(client, key: str, url: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from chalicelib import schemas

    r = client.http.put(
        "/v1/partner/webhook",
        body=json.dumps({"url": url}),
        headers=partner_headers(key),
    )
    assert r.status_code == 200, r.body
    schemas.WebhookRegistered.model_validate(r.json_body)
    return r.json_body  # type: ignore[no-any-return]


def _state(client, key: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from chalicelib import schemas

    r = client.http.get("/v1/partner/webhook", headers=partner_headers(key))
    assert r.status_code == 200, r.body
    schemas.WebhookState.model_validate(r.json_body)
    return r.json_body  # type: ignore[no-any-return]


def _submit(client, key: str, questionnaire) -> None:  # type: ignore[no-untyped-def]
    r = client.http.post(
        "/v1/partner/assessments",
        body=json.dumps({"answers": orgs.middling(questionnaire)}),
        headers=partner_headers(key),
    )
    assert r.status_code == 201, r.body


def test_secret_rotation_signs_with_both_secrets_for_the_grace_period(
    client, service, questionnaire, receiver
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib import schemas

    key, _ = PartnerService(service.store).create("Acme", ["submit", "admin"], [])
    old = _register(client, key, receiver.url)["secret"]
    assert _state(client, key)["signatures"] == 1
    r = client.http.post(
        "/v1/partner/webhook/secret",
        body=json.dumps({"grace_seconds": 3_600}),
        headers=partner_headers(key),
    )
    assert r.status_code == 201, r.body
    schemas.WebhookSecretRotated.model_validate(r.json_body)
    new = r.json_body["secret"]
    assert new.startswith("whsec_") and new != old
    state = _state(client, key)
    assert state["signatures"] == 2 and state["previous_secrets_expire_at"]
    assert "secret" not in state
    _submit(client, key, questionnaire)
    got = receiver.requests[-1]
    assert got["headers"]["webhook-signature"].count("v1,") == 2
    assert verify(old, got["headers"], got["body"])
    assert verify(new, got["headers"], got["body"])
    # re-registering (a new URL) keeps the secrets
    assert _register(client, key, receiver.url + "/v2")["secret"] == new
    # an immediate rotation (a leaked secret): only the newest signs
    r = client.http.post(
        "/v1/partner/webhook/secret",
        body=json.dumps({"grace_seconds": 0}),
        headers=partner_headers(key),
    )
    newest = r.json_body["secret"]
    assert r.json_body["signatures"] == 1
    _submit(client, key, questionnaire)
    got = receiver.requests[-1]
    assert got["headers"]["webhook-signature"].count("v1,") == 1
    assert verify(newest, got["headers"], got["body"])
    assert not verify(new, got["headers"], got["body"])
    assert not verify(old, got["headers"], got["body"])
    # an empty body rotates with the default grace period
    r = client.http.post("/v1/partner/webhook/secret", headers=partner_headers(key))
    assert r.status_code == 201 and r.json_body["signatures"] == 2, r.body


def test_rotation_requests_that_are_wrong_are_problems(client, service) -> None:  # type: ignore[no-untyped-def]
    key, _ = PartnerService(service.store).create("Acme", ["admin"], [])
    r = client.http.post(
        "/v1/partner/webhook/secret", body=b"{}", headers=partner_headers(key)
    )
    assert (
        r.status_code == 404 and r.headers["Content-Type"] == "application/problem+json"
    )
    _register(client, key, "https://hooks.example/smm")
    for body, pointer in (
        ({"grace_seconds": -1}, "/grace_seconds"),
        ({"grace_seconds": 8 * 86_400}, "/grace_seconds"),
        ({"grace_seconds": "60"}, "/grace_seconds"),
        ({"grace_seconds": True}, "/grace_seconds"),
        ({"grace_seconds": 60.5}, "/grace_seconds"),
        ({"grace": 60}, "/grace"),
    ):
        r = client.http.post(
            "/v1/partner/webhook/secret",
            body=json.dumps(body),
            headers=partner_headers(key),
        )
        assert r.status_code == 422, (body, r.body)
        assert r.headers["Content-Type"] == "application/problem+json"
        assert [e["pointer"] for e in r.json_body["errors"]] == [pointer]
    r = client.http.post(  # JSON Schema's integer: 60.0 is one
        "/v1/partner/webhook/secret",
        body=b'{"grace_seconds": 60.0}',
        headers=partner_headers(key),
    )
    assert r.status_code == 201, r.body


def test_grace_period_ends(service, receiver) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.records import Delivery

    clock = Clock()
    hooks = WebhookService(service.store, b"secret", clock=clock)
    old = hooks.register("p1", receiver.url)["secret"]
    new = hooks.rotate_secret("p1", grace_seconds=600)["secret"]
    newer = hooks.rotate_secret("p1", grace_seconds=600)["secret"]
    assert len(hooks.secrets_for(service.store.get_webhook("p1"))) == 3
    clock.now += 600
    assert hooks.secrets_for(service.store.get_webhook("p1")) == [newer]
    hooks.attempt(Delivery("evt_1", "p1", "assessment.completed", "{}", 1))
    got = receiver.requests[-1]
    assert verify(newer, got["headers"], got["body"], now=clock.now)
    assert not verify(old, got["headers"], got["body"], now=clock.now)
    assert not verify(new, got["headers"], got["body"], now=clock.now)
    assert hooks.state("p1")["previous_secrets_expire_at"] is None


def test_an_endpoint_registered_before_rotation_keeps_its_secret(
    service, receiver
) -> None:  # type: ignore[no-untyped-def]
    """Records written before secrets were stored: the secret partners already have."""
    import hashlib
    import hmac

    from chalicelib.records import Delivery, Webhook

    service.store.put_webhook(Webhook("p1", receiver.url, "2026-01-01T00:00:00+00:00"))
    hooks = WebhookService(service.store, b"secret", clock=Clock())
    known = "whsec_" + hmac.new(b"secret", b"webhook:p1", hashlib.sha256).hexdigest()
    assert hooks.secret_for("p1") == known
    hooks.attempt(Delivery("evt_1", "p1", "assessment.completed", "{}", 1))
    got = receiver.requests[-1]
    now = Clock().now
    assert verify(known, got["headers"], got["body"], now=now)
    assert verify_legacy_signature(
        known, got["headers"]["SMM-Signature"], got["body"], now
    )
    new = hooks.rotate_secret("p1")["secret"]
    hooks.attempt(Delivery("evt_2", "p1", "assessment.completed", "{}", 1))
    got = receiver.requests[-1]
    assert verify(known, got["headers"], got["body"], now=now)
    assert verify(new, got["headers"], got["body"], now=now)


def test_410_disables_the_endpoint_until_it_is_registered_again(
    client, service, questionnaire, receiver
) -> None:  # type: ignore[no-untyped-def]
    key, _ = PartnerService(service.store).create("Acme", ["submit", "admin"], [])
    _register(client, key, receiver.url)
    receiver.statuses = [410]
    _submit(client, key, questionnaire)
    state = _state(client, key)
    assert state["enabled"] is False and "410" in state["disabled_reason"]
    assert state["disabled_at"]
    (gone,) = state["deliveries"]
    assert gone["state"] == "failed" and gone["last_status"] == 410
    assert gone["attempts"] == 1 and gone["next_attempt_at"] is None
    # while disabled: events are logged as failed, nothing is sent
    _submit(client, key, questionnaire)
    assert len(receiver.requests) == 1
    (latest,) = [d for d in _state(client, key)["deliveries"] if d["id"] != gone["id"]]
    assert latest["state"] == "failed" and "disabled" in latest["last_error"]
    replay = client.http.post(
        f"/v1/partner/webhook/deliveries/{gone['id']}/replay",
        headers=partner_headers(key),
    )
    assert replay.status_code == 409, replay.body
    assert replay.headers["Content-Type"] == "application/problem+json"
    # registering again enables it; the failed events can be replayed
    assert _register(client, key, receiver.url)["enabled"] is True
    assert _state(client, key)["disabled_reason"] is None
    for d in (gone, latest):
        r = client.http.post(
            f"/v1/partner/webhook/deliveries/{d['id']}/replay",
            headers=partner_headers(key),
        )
        assert r.status_code == 200, r.body
        assert r.json_body["state"] == "delivered" and r.json_body["id"] == d["id"]
    assert len(receiver.requests) == 3
    assert [r["headers"]["webhook-id"] for r in receiver.requests[1:]] == [
        gone["id"],
        latest["id"],
    ]


def test_replay_of_a_failed_delivery(client, service, questionnaire, receiver) -> None:  # type: ignore[no-untyped-def]
    from chalicelib import schemas

    ps = PartnerService(service.store)
    key, rec = ps.create("Acme", ["submit", "admin"], [])
    other, _ = ps.create("Other", ["submit", "admin"], [])
    secret = _register(client, key, receiver.url)["secret"]
    _register(client, other, receiver.url + "/other")
    receiver.statuses = [500]
    _submit(client, key, questionnaire)
    (d,) = _state(client, key)["deliveries"]
    assert d["state"] == "pending"
    url = f"/v1/partner/webhook/deliveries/{d['id']}/replay"
    r = client.http.post(url, headers=partner_headers(key))
    assert r.status_code == 409 and "pending" in r.body.decode()  # retried anyway
    # exhaust the retries
    from dataclasses import replace as dc_replace

    stored = service.store.get_delivery(rec.partner_id, d["id"])
    assert stored is not None
    service.store.put_delivery(
        dc_replace(stored, state="failed", attempts=MAX_ATTEMPTS)
    )
    receiver.statuses = [503]
    r = client.http.post(url, headers=partner_headers(key))
    assert r.status_code == 200, r.body
    schemas.WebhookDeliveryOut.model_validate(r.json_body)
    assert r.json_body["state"] == "failed" and r.json_body["last_status"] == 503
    assert r.json_body["attempts"] == MAX_ATTEMPTS + 1
    assert r.json_body["next_attempt_at"] is None  # a replay is not retried by itself
    r = client.http.post(url, headers=partner_headers(key))
    assert r.status_code == 200 and r.json_body["state"] == "delivered"
    got = receiver.requests[-1]
    assert got["headers"]["webhook-id"] == d["id"] and verify(
        secret, got["headers"], got["body"]
    )
    assert json.loads(got["body"])["id"] == d["id"]  # the same event
    again = client.http.post(url, headers=partner_headers(key))
    assert again.status_code == 409  # delivered: nothing to replay
    sent = len(receiver.requests)
    # tenant isolation: another partner's id, unknown and malformed ids are all 404
    for who, path in (
        (other, url),
        (key, "/v1/partner/webhook/deliveries/evt_unknown/replay"),
        (key, "/v1/partner/webhook/deliveries/" + "x" * 300 + "/replay"),
        (key, "/v1/partner/webhook/deliveries/a%0Ab/replay"),
    ):
        r = client.http.post(path, headers=partner_headers(who))
        assert r.status_code == 404, (path, r.body)
        assert r.headers["Content-Type"] == "application/problem+json"
    assert len(receiver.requests) == sent


def test_the_documented_receiver_accepts_our_delivery_and_only_ours(
    service, receiver
) -> None:  # type: ignore[no-untyped-def]
    """examples/webhook_receiver.py (shown in docs/WEBHOOKS.md): an independent
    implementation of the spec's verification, against a real delivery."""
    import importlib.util
    from pathlib import Path

    from chalicelib.records import Delivery

    path = Path(__file__).resolve().parents[2] / "examples" / "webhook_receiver.py"
    spec = importlib.util.spec_from_file_location("webhook_receiver", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    documented = (path.parents[1] / "docs" / "WEBHOOKS.md").read_text()
    assert "hmac.compare_digest(signature, expected)" in documented

    hooks = WebhookService(service.store, b"secret")
    secret = hooks.register("p1", receiver.url)["secret"]
    body = json.dumps({"id": "evt_1", "type": "assessment.completed", "data": {}})
    hooks.attempt(Delivery("evt_1", "p1", "assessment.completed", body, 1))
    got = receiver.requests[-1]
    headers = dict(got["headers"].items())
    assert example.verify(secret, headers, got["body"])["id"] == "evt_1"
    for bad_secret, bad_headers, bad_body in (
        (SECRET_B, headers, got["body"]),
        (secret, headers, got["body"] + b" "),
        (secret, {**headers, "webhook-id": "evt_2"}, got["body"]),
        (secret, {**headers, "webhook-timestamp": "1000"}, got["body"]),
        (
            secret,
            {k: v for k, v in headers.items() if k != "webhook-signature"},
            got["body"],
        ),
    ):
        with pytest.raises(ValueError):
            example.verify(bad_secret, bad_headers, bad_body)


# --- slow receivers cannot hold up the others -----------------------------------------------
def test_a_receiver_that_answers_byte_by_byte_is_cut_off_at_the_deadline(
    monkeypatch,
) -> None:  # type: ignore[no-untyped-def]
    """Each read stays under the socket timeout, so only a deadline for the whole attempt
    stops it; otherwise one such endpoint holds the scheduled run until Lambda kills it."""
    import socket
    import time as time_module

    from chalicelib.webhooks import http_post

    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "1")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    stop = threading.Event()

    def drip() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            for _ in range(100):  # bounded: 20 s at most
                if stop.wait(0.2):
                    return
                try:
                    conn.sendall(b"X")
                except OSError:
                    return

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/"
    started = time_module.monotonic()
    try:
        with pytest.raises(OSError, match="deadline"):
            http_post(url, b"{}", {}, timeout=1.0, deadline=1.0)
        assert time_module.monotonic() - started < 2.5
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def test_a_scheduled_run_stops_starting_attempts_when_its_time_is_up(
    service, receiver
) -> None:  # type: ignore[no-untyped-def]
    """Lambda stops the run at its timeout: attempts not begun stay due for the next run
    instead of being cut off half-way (and never recorded)."""
    import time as time_module

    from chalicelib.records import Delivery

    def slow(url: str, body: bytes, headers: dict[str, str]) -> int:
        time_module.sleep(0.3)
        return 204

    hooks = WebhookService(service.store, b"secret", sender=slow, clock=Clock())
    hooks.register("p1", receiver.url)
    for n in range(5):
        service.store.put_delivery(
            Delivery(f"evt_{n}", "p1", "assessment.completed", "{}", 1, next_at=n)
        )
    done = hooks.deliver_due(budget_seconds=0.5)
    assert [d.id for d in done] == ["evt_0", "evt_1"]
    assert len(service.store.due_deliveries(int(Clock().now))) == 3


def test_every_url_the_documented_pattern_allows_is_accepted(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The OpenAPI document's pattern is no looser than check_url: a client (or a fuzzer)
    that follows it is not refused. Names over 253 characters and *.localhost are the
    documented exceptions the pattern cannot express."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from chalicelib.openapi import document
    from chalicelib.request_models import URL_PATTERN

    schema = document()["components"]["schemas"]["WebhookIn"]["properties"]["url"]
    assert schema["pattern"] == URL_PATTERN and schema["maxLength"] == 2000
    monkeypatch.delenv("WEBHOOK_ALLOW_LOOPBACK", raising=False)

    @settings(max_examples=300, deadline=None)
    @given(st.from_regex(URL_PATTERN, fullmatch=True))
    def accepted(url: str) -> None:
        from urllib.parse import urlsplit

        host = (urlsplit(url).hostname or "").rstrip(".")
        if len(url) > 2000 or len(host) > 253 or host.split(".")[-1] == "localhost":
            return
        check_url(url)

    accepted()
