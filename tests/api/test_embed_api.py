"""Issue 17, items 1 to 3 through the public API: publishable keys and session client secrets
(browser-safe credentials), the partner's reference id, the white label and the /embed page
with its per-partner frame-ancestors."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from typing import Any

import pytest

from chalicelib.partners import PartnerService, verify_session
from tests import orgs

ORIGIN = "https://shop.example"
OTHER = "https://evil.example"


def _h(
    key: str | None = None, origin: str | None = ORIGIN, **more: str
) -> dict[str, str]:
    h = {"Content-Type": "application/json", **more}
    if key:
        h["Authorization"] = f"Bearer {key}"
    if origin:
        h["Origin"] = origin
    return h


def where(r: Any) -> set[str]:
    """Where a problem document's errors point (a JSON pointer, or a query/header name)."""
    return {e.get("pointer") or "/" + e["parameter"] for e in r.json_body["errors"]}


def png(color: tuple[int, int, int] = (11, 93, 59), size: int = 24) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def partner(service) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    ps = PartnerService(service.store)
    secret, rec = ps.create("Acme", ["submit", "read", "admin", "benchmarks"], [ORIGIN])
    pk, pk_rec = ps.create(
        "Acme widget",
        ["submit"],
        [ORIGIN],
        partner_id=rec.partner_id,
        kind="publishable",
    )
    return {
        "ps": ps,
        "secret": secret,
        "pk": pk,
        "pid": rec.partner_id,
        "pk_id": pk_rec.key_id,
    }


def _submit(
    client: Any, key: str, q: Any, origin: str | None = ORIGIN, **body: Any
) -> Any:
    payload = {"answers": orgs.middling(q), **body}
    return client.http.post(
        "/v1/partner/assessments", body=json.dumps(payload), headers=_h(key, origin)
    )


# --- publishable keys ---------------------------------------------------------------------
def test_publishable_key_submits_from_its_origin_and_the_partner_owns_it(
    client, partner, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    assert partner["pk"].startswith("smmp_")
    r = _submit(client, partner["pk"], questionnaire, reference="crm-4711")
    assert r.status_code == 201, r.body
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    aid = r.json_body["id"]
    assert r.json_body["token"]  # the visitor sees the result with its token
    read = client.http.get(
        f"/v1/partner/assessments/{aid}", headers=_h(partner["secret"])
    )
    assert read.status_code == 200, read.body
    assert read.json_body["reference"] == "crm-4711"
    # the token holder (the visitor) never sees the partner's reference
    mine = client.http.get(
        f"/v1/assessments/{aid}", headers={"X-Result-Token": r.json_body["token"]}
    )
    assert "reference" not in mine.json_body


@pytest.mark.parametrize("origin", [OTHER, None, "https://shop.example.evil.example"])
def test_publishable_key_is_refused_from_a_foreign_or_missing_origin(
    client, partner, questionnaire, origin
) -> None:  # type: ignore[no-untyped-def]
    r = _submit(client, partner["pk"], questionnaire, origin=origin)
    assert r.status_code == 403, r.body
    assert r.headers["Content-Type"] == "application/problem+json"
    assert where(r) == {"/Origin"}
    assert "Access-Control-Allow-Origin" not in r.headers


def test_publishable_key_is_accepted_from_the_embed_page_on_our_own_origin(
    client, partner, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    r = client.http.post(
        "/v1/partner/assessments",
        body=json.dumps({"answers": orgs.middling(questionnaire)}),
        headers={
            **_h(partner["pk"], "http://api.example:8000"),
            "Host": "api.example:8000",
        },
    )
    assert r.status_code == 201, r.body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/partner/benchmarks/smm/1.0.0"),
        ("GET", "/v1/partner/keys"),
        ("POST", "/v1/partner/keys"),
        ("GET", "/v1/partner/assessments/{aid}"),
        ("DELETE", "/v1/partner/assessments/{aid}"),
        ("GET", "/v1/partner/assessments/{aid}/comparison"),
        ("POST", "/v1/partner/sessions"),
        ("PUT", "/v1/partner/branding"),
        ("GET", "/v1/partner/webhook"),
    ],
)
def test_publishable_key_can_do_nothing_but_submit(
    client, partner, questionnaire, method, path
) -> None:  # type: ignore[no-untyped-def]
    aid = _submit(client, partner["secret"], questionnaire).json_body["id"]
    body = {"scopes": ["submit"], "origins": [ORIGIN]} if path.endswith("/keys") else {}
    r = client.http.request(
        method,
        path.replace("{aid}", aid),
        body=json.dumps(body).encode(),
        headers=_h(partner["pk"]),
    )
    assert r.status_code == 403, r.body
    assert "use a secret key on your server" in r.json_body["detail"]


def test_publishable_keys_from_the_api_and_their_rules(client, partner) -> None:  # type: ignore[no-untyped-def]
    keys = "/v1/partner/keys"
    made = client.http.post(
        keys,
        body=json.dumps(
            {"type": "publishable", "scopes": ["submit"], "origins": [ORIGIN]}
        ),
        headers=_h(partner["secret"]),
    )
    assert made.status_code == 201, made.body
    assert made.json_body["key"].startswith("smmp_")
    assert made.json_body["type"] == "publishable"
    for body, pointer in (
        (
            {"type": "publishable", "scopes": ["submit", "read"], "origins": [ORIGIN]},
            "/scopes",
        ),
        ({"type": "publishable", "scopes": ["submit"], "origins": []}, "/origins"),
        ({"type": "public", "scopes": ["submit"], "origins": [ORIGIN]}, "/type"),
    ):
        r = client.http.post(keys, body=json.dumps(body), headers=_h(partner["secret"]))
        assert r.status_code == 422, r.body
        assert pointer in {e["pointer"] for e in r.json_body["errors"]}
    listed = client.http.get(keys, headers=_h(partner["secret"])).json_body["items"]
    assert {k["type"] for k in listed} == {"secret", "publishable"}
    # a publishable key's secret part cannot be used as a secret key
    forged = "smmk_" + partner["pk"][5:]
    r = client.http.get(keys, headers=_h(forged))
    assert r.status_code == 403


# --- sessions -----------------------------------------------------------------------------
def _session(client: Any, key: str, **body: Any) -> Any:
    return client.http.post(
        "/v1/partner/sessions", body=json.dumps(body), headers=_h(key, origin=None)
    )


def test_session_submits_once_with_its_reference(
    client, partner, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    s = _session(client, partner["secret"], reference="order-99", ttl_seconds=600)
    assert s.status_code == 201, s.body
    secret = s.json_body["client_secret"]
    assert secret.startswith("smms_") and s.json_body["expires_at"]
    assert partner["secret"] not in s.body.decode()
    first = _submit(client, secret, questionnaire)
    assert first.status_code == 201, first.body
    again = _submit(client, secret, questionnaire)
    assert again.status_code == 200 and again.json_body["id"] == first.json_body["id"]
    other = client.http.post(
        "/v1/partner/assessments",
        body=json.dumps({"answers": orgs.build(questionnaire, orgs.best)}),
        headers=_h(secret, **{"Idempotency-Key": "a-new-key-cannot-help"}),
    )
    assert other.status_code == 409, other.body
    read = client.http.get(
        f"/v1/partner/assessments/{first.json_body['id']}",
        headers=_h(partner["secret"]),
    )
    assert read.json_body["reference"] == "order-99"
    clash = _submit(client, secret, questionnaire, reference="another")
    assert clash.status_code == 422
    assert clash.json_body["errors"][0]["pointer"] == "/reference"


def test_session_limits(client, service, partner, questionnaire) -> None:  # type: ignore[no-untyped-def]
    secret = _session(client, partner["secret"]).json_body["client_secret"]
    assert _submit(client, secret, questionnaire, origin=OTHER).status_code == 403
    assert _submit(client, secret, questionnaire, origin=None).status_code == 201
    r = client.http.get("/v1/partner/keys", headers=_h(secret))
    assert r.status_code == 403
    # expiry: checked on every call (the authorizer caches its decision for 60 s)
    from tests.conftest import SECRET

    p = verify_session(service.store, secret, SECRET)
    assert p is not None and p.kind == "session"
    assert verify_session(service.store, secret, SECRET, now=p.expires + 1) is None
    # a tampered or foreign-signed secret is refused
    assert verify_session(service.store, secret[:-2] + "AA", SECRET) is None
    assert verify_session(service.store, secret, b"another-server-secret") is None
    # revoking the key that minted it ends the session
    partner["ps"].revoke(verify_session(service.store, secret, SECRET).key_id)
    assert _submit(client, secret, questionnaire).status_code == 403


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"ttl_seconds": 5}, "/ttl_seconds"),
        ({"ttl_seconds": "600"}, "/ttl_seconds"),
        ({"reference": "has spaces"}, "/reference"),
        ({"reference": "x" * 65}, "/reference"),
        ({"extra": 1}, "/extra"),
    ],
)
def test_session_body_is_validated(client, partner, body, pointer) -> None:  # type: ignore[no-untyped-def]
    r = _session(client, partner["secret"], **body)
    assert r.status_code == 422, r.body
    assert r.headers["Content-Type"] == "application/problem+json"
    assert pointer in {e["pointer"] for e in r.json_body["errors"]}


def test_reference_is_for_partners_only_and_never_in_the_benchmark(
    client, service, partner, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    r = client.http.post(
        "/v1/assessments",
        body=json.dumps({"answers": orgs.middling(questionnaire), "reference": "x1"}),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json_body["errors"][0]["pointer"] == "/reference"
    done = _submit(client, partner["secret"], questionnaire, reference="crm-1")
    rec = service.store.get_assessment(done.json_body["id"])
    assert rec.partner_ref == "crm-1"
    assert "crm-1" not in json.dumps(service.contribution_for(rec).__dict__)


def test_reference_in_the_webhook_event(service, partner, questionnaire) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.webhooks import WebhookService

    hooks = WebhookService(service.store, b"s" * 32, lambda *a, **k: None)
    hooks.register(partner["pid"], "https://hooks.example/smm")
    from chalicelib.request_models import PartnerSubmissionIn

    body = PartnerSubmissionIn(answers=orgs.middling(questionnaire), reference="crm-7")
    done = service.submit(body, partner_id=partner["pid"], event=hooks.event_for)
    assert json.loads(done.delivery.body)["data"]["reference"] == "crm-7"


# --- white label --------------------------------------------------------------------------
BRAND = {
    "display_name": "Acme Consulting",
    "primary_color": "#0b5d3b",
    "imprint_url": "https://acme.example/imprint",
    "privacy_url": "https://acme.example/privacy",
    "language": "de",
}


def _brand(client: Any, key: str, body: Any) -> Any:
    return client.http.put(
        "/v1/partner/branding", body=json.dumps(body), headers=_h(key)
    )


def test_branding_is_set_read_and_shown_to_token_holders(
    client, partner, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    assert (
        client.http.get(
            "/v1/partner/branding", headers=_h(partner["secret"])
        ).status_code
        == 404
    )
    r = _brand(client, partner["secret"], {**BRAND, "logo": png()})
    assert r.status_code == 200, r.body
    assert r.json_body["display_name"] == "Acme Consulting"
    assert r.json_body["logo"].startswith("data:image/png;base64,")
    got = client.http.get("/v1/partner/branding", headers=_h(partner["secret"]))
    assert got.json_body["primary_color"] == "#0b5d3b"
    done = _submit(client, partner["pk"], questionnaire).json_body
    shown = client.http.get(
        f"/v1/assessments/{done['id']}/branding",
        headers={"X-Result-Token": done["token"]},
    )
    assert shown.status_code == 200
    assert shown.json_body["branding"]["display_name"] == "Acme Consulting"
    assert "partner_id" not in shown.json_body["branding"]
    anon = client.http.post(
        "/v1/assessments",
        body=json.dumps({"answers": orgs.middling(questionnaire)}),
        headers={"Content-Type": "application/json"},
    ).json_body
    plain = client.http.get(
        f"/v1/assessments/{anon['id']}/branding",
        headers={"X-Result-Token": anon["token"]},
    )
    assert plain.json_body == {"branding": None}
    assert client.http.get(f"/v1/assessments/{anon['id']}/branding").status_code == 401
    # removed: back to our own look everywhere
    gone = client.http.delete("/v1/partner/branding", headers=_h(partner["secret"]))
    assert gone.status_code == 204
    again = client.http.get(
        f"/v1/assessments/{done['id']}/branding",
        headers={"X-Result-Token": done["token"]},
    )
    assert again.json_body == {"branding": None}
    assert (
        client.http.delete(
            "/v1/partner/branding", headers=_h(partner["secret"])
        ).status_code
        == 404
    )


def _svg() -> str:
    return (
        "data:image/svg+xml;base64," + base64.b64encode(b"<svg onload='x()'/>").decode()
    )


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"primary_color": "#ffdd00"}, "/primary_color"),  # white text unreadable on it
        ({"primary_color": "red"}, "/primary_color"),
        ({"logo": "https://cdn.example/logo.png"}, "/logo"),
        ({"logo": "data:image/png;base64,aGVsbG8="}, "/logo"),  # not a PNG
        ({"logo": png(size=200)[:-60]}, "/logo"),  # truncated PNG
        (
            {
                "logo": "data:image/png;base64,"
                + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"x" * 45_000).decode()
            },
            "/logo",
        ),
        ({"imprint_url": "http://acme.example/imprint"}, "/imprint_url"),
        ({"privacy_url": "https://user:pw@acme.example/"}, "/privacy_url"),
        ({"privacy_url": "javascript:alert(1)"}, "/privacy_url"),
        ({"display_name": ""}, "/display_name"),
        ({"display_name": "a\u0007b"}, "/display_name"),
        ({"language": "fr"}, "/language"),
    ],
)
def test_branding_is_validated(client, partner, change, pointer) -> None:  # type: ignore[no-untyped-def]
    r = _brand(client, partner["secret"], {**BRAND, **change})
    assert r.status_code == 422, r.body
    assert r.headers["Content-Type"] == "application/problem+json"
    assert pointer in {e["pointer"] for e in r.json_body["errors"]}, r.json_body


def test_svg_logo_is_refused(client, partner) -> None:  # type: ignore[no-untyped-def]
    r = _brand(client, partner["secret"], {**BRAND, "logo": _svg()})
    assert r.status_code == 422
    assert "no SVG" in r.json_body["errors"][0]["detail"]


def test_contrast_of_the_primary_colour() -> None:
    from chalicelib.branding import contrast

    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert contrast("#1f5fbf", "#ffffff") > 4.5
    assert contrast("#ffdd00", "#ffffff") < 4.5


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_pdf_report_carries_the_partner_branding(
    client, partner, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    _brand(client, partner["secret"], {**BRAND, "logo": png()})
    done = _submit(client, partner["pk"], questionnaire).json_body
    r = client.http.get(
        f"/v1/assessments/{done['id']}/report?format=pdf&lang=en",
        headers={"X-Result-Token": done["token"], "Accept": "application/pdf"},
    )
    assert r.status_code == 200
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=r.body, capture_output=True, check=True
    ).stdout.decode()
    assert "Acme Consulting" in text
    assert (
        "https://acme.example/imprint" in text
        and "https://acme.example/privacy" in text
    )
    assert b"/Subtype /Image" in r.body  # the logo


# --- the embed page -----------------------------------------------------------------------
def test_embed_page_is_framed_only_by_the_partner_origin(client, partner) -> None:  # type: ignore[no-untyped-def]
    r = client.http.get(
        f"/embed?key={partner['pk']}&industry=J&lang=de&reference=crm-1"
    )
    assert r.status_code == 200, r.body
    csp = r.headers["Content-Security-Policy"]
    assert f"frame-ancestors {ORIGIN}" in csp and "*" not in csp
    html = r.body.decode()
    assert (
        "data-embed=" in html
        and "&quot;parent_origin&quot;:&quot;https://shop.example&quot;" in html
    )
    assert partner["secret"] not in html
    page = client.http.get("/")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("query", "status", "pointer"),
    [
        ("origin=https://evil.example", 403, "/query/origin"),
        ("industry=nope", 422, "/query/industry"),
        ("country=XX", 422, "/query/country"),
        ("lang=fr", 422, "/query/lang"),
        ("reference=a%20b", 422, "/query/reference"),
        ("hide_prefilled=maybe", 422, "/query/hide_prefilled"),
    ],
)
def test_embed_page_parameters_are_validated(
    client, partner, query, status, pointer
) -> None:  # type: ignore[no-untyped-def]
    r = client.http.get(f"/embed?key={partner['pk']}&{query}")
    assert r.status_code == status, r.body
    assert r.headers["Content-Type"] == "application/problem+json"
    assert where(r) == {"/" + pointer.rsplit("/", 1)[1]}


def test_embed_page_refuses_secret_unknown_and_revoked_keys(client, partner) -> None:  # type: ignore[no-untyped-def]
    assert client.http.get("/embed").status_code == 422
    secret = client.http.get(f"/embed?key={partner['secret']}")
    assert secret.status_code == 422 and "secret key" in secret.json_body["detail"]
    unknown = client.http.get("/embed?key=smmp_000000000000_" + "x" * 43)
    assert unknown.status_code == 404
    partner["ps"].revoke(partner["pk_id"])
    assert client.http.get(f"/embed?key={partner['pk']}").status_code == 404
    # the session flow names the partner; its origins are those of its active keys
    by_id = client.http.get(f"/embed?partner={partner['pid']}")
    assert by_id.status_code == 200
    assert f"frame-ancestors {ORIGIN}" in by_id.headers["Content-Security-Policy"]
    assert client.http.get("/embed?partner=p_000000000000").status_code == 404


def test_embed_script_is_served(client) -> None:  # type: ignore[no-untyped-def]
    r = client.http.get("/static/embed.js")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/javascript")
    assert "e.origin !== widgetOrigin" in r.body.decode()


# --- CLI ------------------------------------------------------------------------------------
def test_cli_publishable_key_and_branding(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.cli import main
    from chalicelib.partners import verify
    from chalicelib.storage import store_from_env

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    store = store_from_env()
    _, rec = PartnerService(store).create("Acme", ["submit", "admin"], [], "premium")
    capsys.readouterr()
    assert main(["partner", "publishable", rec.partner_id, "--origins", ORIGIN]) == 0
    out = capsys.readouterr().out
    key = next(
        line.split(":", 1)[1].strip()
        for line in out.splitlines()
        if line.startswith("key  ")
    )
    assert key.startswith("smmp_") and "publishable" in out
    p = verify(store, key)
    assert p is not None and p.kind == "publishable" and p.tier == "premium"
    assert p.scopes == ("submit",) and p.origins == (ORIGIN,)
    # a publishable key needs an origin
    assert main(["partner", "publishable", rec.partner_id, "--origins", ""]) == 2
    logo = tmp_path / "logo.png"
    logo.write_bytes(base64.b64decode(png().split(",", 1)[1]))
    argv = ["branding", "set", rec.partner_id, "--display-name", "Acme Consulting"]
    argv += ["--color", "#0b5d3b", "--logo", str(logo), "--language", "de"]
    assert main(argv) == 0
    assert main(["branding", "show", rec.partner_id]) == 0
    shown = capsys.readouterr().out
    assert "Acme Consulting" in shown and "data:image/png;base64," in shown
    assert main(["branding", "remove", rec.partner_id]) == 0
    assert main(["branding", "show", rec.partner_id]) == 2
    assert main([*argv[:5], "--color", "#ffff00"]) == 2
    assert "primary_color" in capsys.readouterr().err
    (tmp_path / "logo.svg").write_text("<svg/>")
    assert main([*argv[:5], "--logo", str(tmp_path / "logo.svg")]) == 2


def test_logo_dimensions_are_checked_before_decoding(client, partner) -> None:  # type: ignore[no-untyped-def]
    """A tiny file declaring a huge image is refused from its header, never decoded."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (30_000, 20)).save(buf, format="PNG", optimize=True)
    assert len(buf.getvalue()) < 40 * 1024
    logo = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    r = _brand(client, partner["secret"], {**BRAND, "logo": logo})
    assert r.status_code == 422
    assert "pixels" in r.json_body["errors"][0]["detail"]


def test_new_responses_match_their_documented_schemas(
    client, partner, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib import schemas

    s = _session(client, partner["secret"], reference="crm-1")
    schemas.SessionOut.model_validate(s.json_body)
    b = _brand(client, partner["secret"], {**BRAND, "logo": png()})
    schemas.BrandingOut.model_validate(b.json_body)
    got = client.http.get("/v1/partner/branding", headers=_h(partner["secret"]))
    schemas.BrandingOut.model_validate(got.json_body)
    done = _submit(client, partner["pk"], questionnaire, reference="crm-2").json_body
    schemas.AssessmentOut.model_validate(done)
    shown = client.http.get(
        f"/v1/assessments/{done['id']}/branding",
        headers={"X-Result-Token": done["token"]},
    )
    schemas.AssessmentBranding.model_validate(shown.json_body)
    read = client.http.get(
        f"/v1/partner/assessments/{done['id']}", headers=_h(partner["secret"])
    )
    schemas.AssessmentOut.model_validate(read.json_body)
    keys = client.http.get("/v1/partner/keys", headers=_h(partner["secret"]))
    schemas.PartnerKeyList.model_validate(keys.json_body)
