"""Partner keys: hashed, shown once, revocable, rotatable; CORS per partner origin."""

from __future__ import annotations

import json

from chalicelib.partners import PartnerService, verify
from tests import orgs

ORIGIN = "https://shop.example"


def test_key_is_shown_once_and_stored_hashed(service) -> None:  # type: ignore[no-untyped-def]
    ps = PartnerService(service.store)
    key, rec = ps.create("Acme", ["submit", "read"], [ORIGIN], "standard")
    stored = service.store.get_partner_key(rec.key_id)
    secret = key[len("smmk_") + 12 + 1 :]  # the secret itself may contain "_"
    assert len(secret) >= 40 and secret not in json.dumps(stored.__dict__)
    assert verify(service.store, key).partner_id == rec.partner_id
    assert verify(service.store, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert verify(service.store, "nonsense") is None
    assert verify(service.store, None) is None
    assert all("key_hash" not in row for row in ps.list())


def test_rotation_then_revocation(client, service, questionnaire) -> None:  # type: ignore[no-untyped-def]
    ps = PartnerService(service.store)
    old, rec = ps.create("Acme", ["submit", "read"], [ORIGIN])
    new, rec2 = ps.rotate(rec.partner_id)
    assert rec2.partner_id == rec.partner_id and rec2.scopes == rec.scopes
    body = json.dumps({"answers": orgs.middling(questionnaire)})
    for key in (old, new):  # both work during the switch
        r = client.http.post(
            "/v1/partner/assessments",
            body=body,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {key}",
            },
        )
        assert r.status_code == 201
    aid = r.json_body["id"]
    ps.revoke(rec.key_id)
    h_old = {"Authorization": "Bearer " + old}
    assert (
        client.http.get(f"/v1/partner/assessments/{aid}", headers=h_old).status_code
        == 403
    )
    h_new = {"Authorization": "Bearer " + new}
    assert (
        client.http.get(f"/v1/partner/assessments/{aid}", headers=h_new).status_code
        == 200
    )


def test_authorizer_meters_partner_and_tier_not_the_key(client, service) -> None:  # type: ignore[no-untyped-def]
    """API Gateway usage plans meter the ``usageIdentifierKey`` the authorizer returns: a value
    derived from partner and tier, so a rotated key is metered (and throttled) like the old
    one, API Gateway never stores a partner key, and extra keys share one quota."""
    import app as app_module
    from chalicelib.partners import usage_identifier

    ps = PartnerService(service.store)
    key, rec = ps.create("Acme", ["submit", "admin"], [ORIGIN], "standard")
    rotated, _ = ps.rotate(rec.partner_id)
    other, rec_other = ps.create("Globex", ["submit"], [], "standard")

    def authorize(token: str) -> dict:  # type: ignore[type-arg]
        event = {
            "type": "TOKEN",
            "authorizationToken": token,
            "methodArn": "arn:aws:execute-api:eu-central-1:123456789012:abc123/api/"
            "POST/v1/partner/assessments",
        }
        return app_module.partner_key(event, None)  # type: ignore[no-any-return]

    first, second = authorize(f"Bearer {key}"), authorize(f"Bearer {rotated}")
    expected = usage_identifier(service.settings.secret, rec.partner_id, "standard")
    assert first["usageIdentifierKey"] == second["usageIdentifierKey"] == expected
    assert first["principalId"] == rec.partner_id
    assert key not in json.dumps(first) and rotated not in json.dumps(second)
    assert authorize(f"Bearer {other}")["usageIdentifierKey"] != expected
    assert usage_identifier(
        service.settings.secret, rec_other.partner_id, "premium"
    ) != (usage_identifier(service.settings.secret, rec_other.partner_id, "standard"))
    denied = authorize("Bearer smmk_000000000000_" + "x" * 32)
    assert "usageIdentifierKey" not in denied
    # Chalice's way of denying: an Allow statement that names no resource
    assert denied["policyDocument"]["Statement"][0]["Resource"] == []
    assert first["policyDocument"]["Statement"][0]["Resource"]


def test_invalid_settings_are_refused(service) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from chalicelib.errors import InvalidInput

    ps = PartnerService(service.store)
    with pytest.raises(InvalidInput) as info:
        ps.create("Acme", ["fly"], ["*"], "gold")
    fields = {p for p, _ in info.value.errors}
    assert fields == {"/scopes", "/origins", "/tier"}


def test_cors_for_the_partners_origins_only(client, service, questionnaire) -> None:  # type: ignore[no-untyped-def]
    ps = PartnerService(service.store)
    key, _ = ps.create("Acme", ["submit"], [ORIGIN])
    body = json.dumps({"answers": orgs.middling(questionnaire)})
    h = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    ok = client.http.post(
        "/v1/partner/assessments", body=body, headers={**h, "Origin": ORIGIN}
    )
    assert ok.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert ok.headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Credentials" not in ok.headers
    evil = client.http.post(
        "/v1/partner/assessments",
        body=body,
        headers={**h, "Origin": "https://evil.example"},
    )
    assert evil.status_code == 201 and "Access-Control-Allow-Origin" not in evil.headers
    pre = client.http.request(
        "OPTIONS",
        "/v1/partner/assessments",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert pre.status_code == 204
    assert pre.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Authorization" in pre.headers["Access-Control-Allow-Headers"]
    assert (
        pre.headers["Access-Control-Allow-Methods"] == "GET, POST"
    )  # list (GET) and submit
    bad = client.http.request(
        "OPTIONS", "/v1/partner/assessments", headers={"Origin": "https://evil.example"}
    )
    assert bad.status_code == 403 and "Access-Control-Allow-Origin" not in bad.headers
    # the public API sends no CORS headers at all (the web page is same-origin)
    pub = client.http.get("/v1/questionnaires", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in pub.headers


def test_cli_partner_lifecycle(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import os

    from chalicelib.cli import main

    os.environ["DATA_DIR"] = str(tmp_path)
    try:
        assert (
            main(
                [
                    "partner",
                    "create",
                    "--name",
                    "Acme",
                    "--scopes",
                    "submit,export",
                    "--origins",
                    ORIGIN,
                    "--tier",
                    "premium",
                ]
            )
            == 0
        )
        out = capsys.readouterr().out
        key = next(
            line.split(": ", 1)[1]
            for line in out.splitlines()
            if line.startswith("key        :")
        )
        pid = next(
            line.split(": ", 1)[1]
            for line in out.splitlines()
            if line.startswith("partner id")
        )
        assert key.startswith("smmk_")

        def usage_id(text: str) -> str:
            return next(
                line.split(": ", 1)[1]
                for line in text.splitlines()
                if line.startswith("usage id")
            )

        usage = usage_id(out)
        assert usage.startswith("smmu_") and key not in out.split("usage id")[1]
        assert main(["partner", "rotate", pid]) == 0
        rotated = capsys.readouterr().out
        assert "Both keys are active" in rotated
        assert usage_id(rotated) == usage  # nothing new to register in API Gateway
        assert main(["partner", "usage-id", pid, "--tier", "premium"]) == 0
        assert usage_id(capsys.readouterr().out) == usage
        assert main(["partner", "list"]) == 0
        listing = capsys.readouterr().out
        assert listing.count(pid) == 2 and key not in listing
        kid = key[len("smmk_") : len("smmk_") + 12]
        assert main(["partner", "revoke", kid]) == 0
        assert main(["partner", "revoke", "nope"]) == 2
        assert main(["partner", "create", "--name", "X", "--scopes", "fly"]) == 2
    finally:
        os.environ.pop("DATA_DIR")


def test_keys_stored_with_the_retired_webhook_field_still_verify(service) -> None:  # type: ignore[no-untyped-def]
    """Keys written before webhooks moved to the partner carry ``webhook_url``."""
    from dataclasses import asdict

    key, rec = PartnerService(service.store).create("Acme", ["read"], [], "free")
    legacy = {**asdict(rec), "webhook_url": None}
    service.store._conn().execute(
        "UPDATE partner_keys SET body = ? WHERE key_id = ?",
        (json.dumps(legacy), rec.key_id),
    )
    assert (
        "webhook_url"
        in service.store._conn()
        .execute("SELECT body FROM partner_keys WHERE key_id = ?", (rec.key_id,))
        .fetchone()[0]
    )
    assert verify(service.store, key) is not None
    assert service.store.get_partner_key(rec.key_id) == rec


def test_each_partner_path_has_a_preflight_with_its_routed_methods(
    client, service
) -> None:  # type: ignore[no-untyped-def]
    """The preflights are generated from the partner blueprint's own routes: every partner
    path answers OPTIONS with exactly the methods routed on it."""
    import app as app_module

    PartnerService(service.store).create("Acme", ["read"], [ORIGIN])
    partner_paths = {
        p: {m for m in methods if m != "OPTIONS"}
        for p, methods in app_module.app.routes.items()
        if p.startswith("/v1/partner/")
    }
    # 16 + 5 organisation paths + 5 of targets, roadmap and history (issue 18)
    assert len(partner_paths) == 26
    for path, methods in partner_paths.items():
        url = path.replace("{", "x").replace("}", "")
        pre = client.http.request("OPTIONS", url, headers={"Origin": ORIGIN})
        assert pre.status_code == 204, path
        allowed = pre.headers["Access-Control-Allow-Methods"].split(", ")
        assert set(allowed) == methods, path
