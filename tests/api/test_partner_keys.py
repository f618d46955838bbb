"""``POST /v1/partner/keys``: a new key's scopes and origins are explicit in the request and
never exceed the calling key's (issue 13, item 4: an admin-only key minted an export key by
copying the partner's newest key)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.partners import SCOPES, PartnerService, verify

ORIGIN = "https://shop.example"
KEYS = "/v1/partner/keys"


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


def _mint(client: Any, key: str, body: Any) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.http.post(KEYS, body=raw, headers=_auth(key))


@pytest.fixture
def partner(service) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """An admin-only key (the older one) and, created after it, an export+read key."""
    ps = PartnerService(service.store)
    admin, rec = ps.create("Acme admin", ["admin"], [ORIGIN], "standard")
    export, _ = ps.create(
        "Acme reports", ["export", "read"], [ORIGIN], partner_id=rec.partner_id
    )
    return {"ps": ps, "admin": admin, "export": export, "pid": rec.partner_id}


def test_admin_key_cannot_mint_an_export_key(client, service, partner) -> None:  # type: ignore[no-untyped-def]
    """The attack, spelled out: before, an empty body copied the newest key (export)."""
    before = len(service.store.list_partner_keys(partner["pid"]))
    empty = _mint(client, partner["admin"], {})
    assert empty.status_code == 422, empty.body
    pointers = {e["pointer"] for e in empty.json_body["errors"]}
    assert {"/scopes", "/origins"} <= pointers
    asked = _mint(client, partner["admin"], {"scopes": ["export"], "origins": []})
    assert asked.status_code == 403, asked.body
    assert asked.headers["Content-Type"] == "application/problem+json"
    assert asked.json_body["errors"] == [
        {"pointer": "/scopes/0", "detail": "'export' is not a scope of the calling key"}
    ]
    mixed = _mint(
        client, partner["admin"], {"scopes": ["admin", "read", "submit"], "origins": []}
    )
    assert mixed.status_code == 403
    assert [e["pointer"] for e in mixed.json_body["errors"]] == [
        "/scopes/1",
        "/scopes/2",
    ]
    assert len(service.store.list_partner_keys(partner["pid"])) == before
    # and the admin key still cannot export anything itself
    r = client.http.post(
        "/v1/partner/exports",
        body=json.dumps({"kind": "cohorts", "format": "csv"}),
        headers=_auth(partner["admin"]),
    )
    assert r.status_code == 403


def test_new_key_gets_exactly_the_requested_subset(client, service, partner) -> None:  # type: ignore[no-untyped-def]
    ps = partner["ps"]
    both, rec = ps.create(
        "Acme ops", ["submit", "admin"], [ORIGIN], "standard", partner["pid"]
    )
    r = _mint(
        client, both, {"scopes": ["submit"], "origins": [], "name": "shop server"}
    )
    assert r.status_code == 201, r.body
    out = r.json_body
    assert out["scopes"] == ["submit"] and out["origins"] == []
    assert out["name"] == "shop server" and out["tier"] == "standard"
    assert out["partner_id"] == partner["pid"] and "key_hash" not in out
    new = verify(service.store, out["key"])
    assert new is not None and new.scopes == ("submit",) and new.origins == ()
    # the new key has only what was asked for: it cannot manage keys
    assert client.http.get(KEYS, headers=_auth(out["key"])).status_code == 403
    # without a name the calling key's name is used; origins may be kept
    same = _mint(client, both, {"scopes": ["submit", "admin"], "origins": [ORIGIN]})
    assert same.status_code == 201
    assert same.json_body["name"] == rec.name and same.json_body["origins"] == [ORIGIN]


def test_origins_and_tier_cannot_be_widened(client, partner) -> None:  # type: ignore[no-untyped-def]
    r = _mint(
        client,
        partner["admin"],
        {"scopes": ["admin"], "origins": [ORIGIN, "https://evil.example"]},
    )
    assert r.status_code == 403
    assert r.json_body["errors"] == [
        {
            "pointer": "/origins/1",
            "detail": "'https://evil.example' is not an origin of the calling key",
        }
    ]
    tier = _mint(
        client,
        partner["admin"],
        {"scopes": ["admin"], "origins": [], "tier": "premium"},
    )
    assert tier.status_code == 422
    assert [e["pointer"] for e in tier.json_body["errors"]] == ["/tier"]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"origins": []}, "/scopes"),
        ({"scopes": [], "origins": []}, "/scopes"),
        ({"scopes": ["fly"], "origins": []}, "/scopes/0"),
        ({"scopes": "admin", "origins": []}, "/scopes"),
        ({"scopes": ["admin"]}, "/origins"),
        ({"scopes": ["admin"], "origins": ["*"]}, "/origins"),
        ({"scopes": ["admin"], "origins": [], "name": ""}, "/name"),
        ({"scopes": ["admin"], "origins": [], "name": "x" * 101}, "/name"),
    ],
)
def test_bad_bodies_name_the_field(client, partner, body, pointer) -> None:  # type: ignore[no-untyped-def]
    r = _mint(client, partner["admin"], body)
    assert r.status_code == 422, r.body
    assert r.headers["Content-Type"] == "application/problem+json"
    assert any(e["pointer"].startswith(pointer) for e in r.json_body["errors"]), (
        r.json_body
    )


def test_malformed_bodies_are_problems(client, partner) -> None:  # type: ignore[no-untyped-def]
    assert _mint(client, partner["admin"], "not json").status_code == 400
    r = client.http.post(
        KEYS,
        body=b"",
        headers={"Authorization": f"Bearer {partner['admin']}"},
    )
    assert r.status_code == 415


def test_a_revoked_key_cannot_mint_while_its_policy_is_cached(service, partner) -> None:  # type: ignore[no-untyped-def]
    """The authorizer's answer is cached 60 s; a revoked (stolen) admin key must not use that
    minute to mint a successor. The stored record is checked, not only the context."""
    from chalicelib.errors import Forbidden

    ps = partner["ps"]
    principal = verify(service.store, partner["admin"])
    assert principal is not None
    ps.revoke(principal.key_id)
    with pytest.raises(Forbidden):
        ps.issue(principal, ["admin"], [])


def test_openapi_describes_the_request_body(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.http.get("/v1/openapi.json").json_body
    op = doc["paths"][KEYS]["post"]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"scopes", "origins"}
    assert schema["additionalProperties"] is False
    assert schema["properties"]["scopes"]["items"]["enum"] == list(SCOPES)
    assert {"403", "422"} <= set(op["responses"])


def test_cli_rotate_copies_the_chosen_key_or_takes_explicit_settings(  # type: ignore[no-untyped-def]
    tmp_path, capsys, monkeypatch
) -> None:
    from chalicelib.cli import main
    from chalicelib.storage import store_from_env

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    ps = PartnerService(store_from_env())
    _, admin = ps.create("Acme", ["admin"], [], "premium")
    _, export = ps.create(
        "Acme", ["export", "read"], [ORIGIN], partner_id=admin.partner_id
    )

    def rotated() -> dict[str, str]:
        out = capsys.readouterr().out
        return {
            k.strip(): v.strip()
            for k, v in (
                line.split(":", 1) for line in out.splitlines() if " : " in line
            )
        }

    assert main(["partner", "rotate", admin.key_id]) == 0
    got = rotated()
    assert got["scopes"] == "admin" and got["tier"] == "premium"  # not the newest key's
    assert main(["partner", "rotate", export.key_id]) == 0
    got = rotated()
    assert got["scopes"] == "export read" and got["origins"] == ORIGIN
    assert (
        main(["partner", "rotate", export.key_id, "--scopes", "read", "--origins", ""])
        == 0
    )
    got = rotated()
    assert got["scopes"] == "read" and got["origins"] == "-"
    # a partner id is ambiguous once it has several keys: the operator must choose
    assert main(["partner", "rotate", admin.partner_id]) == 2
    err = capsys.readouterr().err
    assert admin.key_id in err and export.key_id in err
    assert main(["partner", "rotate", "000000000000"]) == 2
    assert main(["partner", "rotate", export.key_id, "--scopes", "fly"]) == 2


def test_the_body_model_knows_every_scope() -> None:
    from typing import get_args

    from chalicelib.request_models import Scope

    assert get_args(Scope) == SCOPES
