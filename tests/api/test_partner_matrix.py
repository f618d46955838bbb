"""Tenant isolation: every route x every kind of caller, each with its expected status.
Adding a route without an entry here fails ``test_every_route_has_an_entry``."""

from __future__ import annotations

import json
from typing import Any

import pytest

import app as app_module
from chalicelib.partners import SCOPES, PartnerService, verify
from tests import orgs

ORIGIN = "https://shop.example"
PARTNER = "/v1/partner/"
# publishable: partner A's publishable key (smmp_); session: a client secret partner A minted
CALLERS = (
    "anonymous",
    "token",
    "bad_key",
    *SCOPES,
    "other_partner",
    "publishable",
    "session",
)
ALL_OK = dict.fromkeys(CALLERS, 200)


def only(
    ok: str | tuple[str, ...], status: int, others: int, **extra: int
) -> dict[str, int]:
    """``status`` for the named callers, ``others`` for the remaining ones."""
    names = (ok,) if isinstance(ok, str) else ok
    out = {c: (status if c in names else others) for c in CALLERS}
    out.update(extra)
    return out


def partner(scope: str, status: int, other: int) -> dict[str, int]:
    """A partner route: no key -> 401 (gateway), unknown key -> 403 (denied by the authorizer),
    another scope -> 403 (problem document), the other partner -> ``other``."""
    out = {c: 403 for c in CALLERS}
    out.update(anonymous=401, token=401, bad_key=403, other_partner=other)
    out[scope] = status
    return out


PREFLIGHT = dict.fromkeys(CALLERS, 204)

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/"): ALL_OK,
    ("GET", "/static/{name}"): ALL_OK,
    ("GET", "/v1/openapi.json"): ALL_OK,
    ("GET", "/v1/docs"): ALL_OK,
    ("GET", "/v1/docs/{asset}"): ALL_OK,
    ("GET", "/v1/questionnaires"): ALL_OK,
    ("GET", "/v1/questionnaires/{qid}/{version}"): ALL_OK,
    ("POST", "/v1/scores"): ALL_OK,
    ("POST", "/v1/assessments"): dict.fromkeys(CALLERS, 201),
    ("GET", "/v1/assessments/{aid}"): only("token", 200, 401),
    ("DELETE", "/v1/assessments/{aid}"): only("token", 204, 401),
    ("GET", "/v1/assessments/{aid}/comparison"): only("token", 200, 401),
    ("GET", "/v1/assessments/{aid}/progress"): only("token", 200, 401),
    ("GET", "/v1/assessments/{aid}/report"): only("token", 200, 401),
    ("GET", "/v1/benchmarks/{qid}/{version}"): ALL_OK,
    ("POST", "/v1/drafts"): dict.fromkeys(CALLERS, 201),
    ("GET", "/v1/drafts/{did}"): ALL_OK,
    ("GET", "/embed"): ALL_OK,
    ("GET", "/v1/assessments/{aid}/branding"): only("token", 200, 401),
    ("POST", "/v1/partner/sessions"): partner("submit", 201, 201),
    # partner A has a branding, B has none: B reads its own (404), never A's
    ("GET", "/v1/partner/branding"): partner("admin", 200, 404),
    ("PUT", "/v1/partner/branding"): partner("admin", 200, 200),
    # B removes its own (none: 404), never A's
    ("DELETE", "/v1/partner/branding"): partner("admin", 204, 404),
    ("PUT", "/v1/drafts/{did}"): ALL_OK,
    ("POST", "/v1/partner/assessments"): {
        **partner("submit", 201, 201),
        "publishable": 201,
        "session": 201,
    },
    # each partner lists its own (B: an empty page; test_partner_lists.py checks content)
    ("GET", "/v1/partner/assessments"): partner("read", 200, 200),
    ("GET", "/v1/partner/assessments/{aid}"): partner("read", 200, 404),
    ("DELETE", "/v1/partner/assessments/{aid}"): partner("submit", 204, 404),
    ("GET", "/v1/partner/assessments/{aid}/comparison"): partner("read", 200, 404),
    ("GET", "/v1/partner/assessments/{aid}/progress"): partner("read", 200, 404),
    ("GET", "/v1/partner/benchmarks/{qid}/{version}"): partner("benchmarks", 200, 200),
    ("GET", "/v1/partner/benchmarks/{qid}/{version}/statistics"): partner(
        "benchmarks", 200, 200
    ),
    ("GET", "/v1/partner/benchmarks/{qid}/{version}/cohort-comparison"): partner(
        "benchmarks", 200, 200
    ),
    ("POST", "/v1/partner/exports"): partner("export", 200, 404),
    ("GET", "/v1/partner/keys"): partner("admin", 200, 200),
    ("POST", "/v1/partner/keys"): partner("admin", 201, 201),
    ("DELETE", "/v1/partner/keys/{key_id}"): partner("admin", 204, 404),
    # each partner has its own webhook: B registers, reads and removes B's
    ("PUT", "/v1/partner/webhook"): partner("admin", 200, 200),
    ("GET", "/v1/partner/webhook"): partner("admin", 200, 200),
    ("DELETE", "/v1/partner/webhook"): partner("admin", 204, 204),
    ("POST", "/v1/partner/webhook/secret"): partner("admin", 201, 201),
    ("GET", "/v1/partner/webhook/deliveries"): partner("admin", 200, 200),
    # B replays A's failed delivery: unknown to B
    ("POST", "/v1/partner/webhook/deliveries/{delivery_id}/replay"): partner(
        "admin", 200, 404
    ),
    # organisation workspaces (tests/api/test_organisation_matrix.py walks their own callers:
    # owner, respondent, another organisation): here no caller holds an owner or invite token
    ("POST", "/v1/organisations"): dict.fromkeys(CALLERS, 201),
    ("GET", "/v1/organisations/{oid}"): dict.fromkeys(CALLERS, 401),
    ("DELETE", "/v1/organisations/{oid}"): dict.fromkeys(CALLERS, 401),
    ("POST", "/v1/organisations/{oid}/respondents"): dict.fromkeys(CALLERS, 401),
    ("GET", "/v1/organisations/{oid}/answers"): dict.fromkeys(CALLERS, 401),
    ("GET", "/v1/organisations/{oid}/result"): dict.fromkeys(CALLERS, 401),
    ("POST", "/v1/organisations/{oid}/rounds"): dict.fromkeys(CALLERS, 401),
    ("GET", "/v1/organisations/{oid}/rounds"): dict.fromkeys(CALLERS, 401),
    ("PUT", "/v1/organisations/{oid}/target"): dict.fromkeys(CALLERS, 401),
    ("GET", "/v1/organisations/{oid}/roadmap"): dict.fromkeys(CALLERS, 401),
    ("PATCH", "/v1/organisations/{oid}/roadmap/steps/{qid}"): dict.fromkeys(
        CALLERS, 401
    ),
    ("GET", "/v1/organisations/{oid}/roadmap/export"): dict.fromkeys(CALLERS, 401),
    ("GET", "/v1/organisations/{oid}/history"): dict.fromkeys(CALLERS, 401),
    ("GET", "/v1/respondent"): dict.fromkeys(CALLERS, 401),
    ("PUT", "/v1/respondent/answers"): dict.fromkeys(CALLERS, 401),
    # partner A manages the organisation; B's key (every scope) meets an unknown one
    ("POST", "/v1/partner/organisations"): partner("organisations", 201, 201),
    # each partner lists its own (B: an empty list)
    ("GET", "/v1/partner/organisations"): partner("organisations", 200, 200),
    ("GET", "/v1/partner/organisations/{oid}"): partner("organisations", 200, 404),
    ("DELETE", "/v1/partner/organisations/{oid}"): partner("organisations", 204, 404),
    ("POST", "/v1/partner/organisations/{oid}/respondents"): partner(
        "organisations", 201, 404
    ),
    ("GET", "/v1/partner/organisations/{oid}/result"): partner(
        "organisations", 200, 404
    ),
    ("POST", "/v1/partner/organisations/{oid}/rounds"): partner(
        "organisations", 201, 404
    ),
    ("PUT", "/v1/partner/organisations/{oid}/target"): partner(
        "organisations", 200, 404
    ),
    ("GET", "/v1/partner/organisations/{oid}/roadmap"): partner(
        "organisations", 200, 404
    ),
    ("PATCH", "/v1/partner/organisations/{oid}/roadmap/steps/{qid}"): partner(
        "organisations", 200, 404
    ),
    # sent without an Accept header: the managing partner, once authorised, gets the 406
    # (the organisation matrix downloads the file with Accept); everybody else 403/404
    ("GET", "/v1/partner/organisations/{oid}/roadmap/export"): partner(
        "organisations", 406, 404
    ),
    ("GET", "/v1/partner/organisations/{oid}/history"): partner(
        "organisations", 200, 404
    ),
    ("GET", "/v1/partner/organisations/{oid}/rounds"): partner(
        "organisations", 200, 404
    ),
}
for _p in {p for m, p in MATRIX if p.startswith("/v1/partner/")}:
    MATRIX[("OPTIONS", _p)] = PREFLIGHT


def all_routes() -> set[tuple[str, str]]:
    return {(m, p) for p, methods in app_module.app.routes.items() for m in methods}


def test_every_route_has_an_entry() -> None:
    missing = all_routes() - set(MATRIX)
    assert not missing, f"routes without an isolation entry: {sorted(missing)}"
    stale = set(MATRIX) - all_routes()
    assert not stale, f"entries for routes that do not exist: {sorted(stale)}"


class World:
    """Partner A with one key per scope, partner B with every scope, a public assessment with
    its token, and one of partner A's assessments."""

    def __init__(self, client: Any, service: Any, q: Any) -> None:
        self.client, self.service, self.q = client, service, q
        ps = PartnerService(service.store)
        first, rec = ps.create("Partner A", ["submit"], [ORIGIN], "standard")
        self.a_id = rec.partner_id
        self.keys = {"submit": first}
        for scope in SCOPES[1:]:
            self.keys[scope] = ps.create(
                "Partner A", [scope], [ORIGIN], partner_id=self.a_id
            )[0]
        self.keys["other_partner"], rec_b = ps.create("Partner B", list(SCOPES), [])
        self.b_id = rec_b.partner_id
        self.keys["publishable"] = ps.create(
            "Partner A widget",
            ["submit"],
            [ORIGIN],
            partner_id=self.a_id,
            kind="publishable",
        )[0]
        first_principal = verify(service.store, first)
        assert first_principal is not None
        self.keys["session"] = ps.create_session(
            first_principal, service.settings.secret
        )["client_secret"]
        from chalicelib.branding import BrandingService

        BrandingService(service.store).set(self.a_id, {"display_name": "Partner A"})
        self.ps = ps

    def headers(self, caller: str, token: str | None) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Origin": ORIGIN}
        if caller == "token" and token:
            h["X-Result-Token"] = token
        elif caller == "bad_key":
            h["Authorization"] = "Bearer smmk_000000000000_" + "x" * 43
        elif caller in self.keys:
            h["Authorization"] = "Bearer " + self.keys[caller]
        return h

    def public_assessment(self) -> dict[str, Any]:
        r = self.client.http.post(
            "/v1/assessments",
            body=json.dumps({"answers": orgs.middling(self.q)}),
            headers={"Content-Type": "application/json"},
        )
        return r.json_body  # type: ignore[no-any-return]

    def partner_assessment(self) -> str:
        r = self.client.http.post(
            "/v1/partner/assessments",
            body=json.dumps({"answers": orgs.middling(self.q)}),
            headers={
                "Content-Type": "application/json",
                "Authorization": "Bearer " + self.keys["submit"],
            },
        )
        assert r.status_code == 201, r.body
        return str(r.json_body["id"])

    def organisation(self, of_partner_a: bool) -> str:
        """An organisation with one respondent who submitted complete answers."""
        from chalicelib.organisation_models import (
            OrganisationIn,
            RespondentAnswersIn,
            RespondentIn,
        )

        services = app_module.container()
        view = services.organisations.create(
            OrganisationIn(name="Matrix", profile=dict(orgs.CONTEXT)),
            self.a_id if of_partner_a else None,
        )
        org = view.organisation
        respondent, _ = services.organisations.invite(org, RespondentIn(role="all"))
        answers = {x.id: orgs.middle(x) for x in self.q.scored_questions}
        services.organisations.save_answers(
            org, respondent, RespondentAnswersIn(answers=answers, submit=True)
        )
        from chalicelib.request_models import TargetIn

        services.organisation_roadmaps.set_target(org, TargetIn(phase=4))
        return org.id

    def request(self, caller: str, method: str, path: str) -> Any:
        token = None
        body: Any = None
        if (
            path.endswith("/webhook") and method in ("GET", "DELETE")
        ) or "/webhook/" in path:
            for pid in (
                self.a_id,
                self.b_id,
            ):  # both partners have one to read or remove
                app_module.container().webhooks.register(
                    pid, "https://hooks.example/smm"
                )
        if "{aid}" in path:
            if path.startswith("/v1/partner/"):
                path = path.replace("{aid}", self.partner_assessment())
            else:
                a = self.public_assessment()
                token = a["token"]
                path = path.replace("{aid}", a["id"])
        if "{oid}" in path:  # a fresh organisation (partner A's on partner routes)
            path = path.replace("{oid}", self.organisation(path.startswith(PARTNER)))
        if "{did}" in path:
            d = self.client.http.post(
                "/v1/drafts",
                body=json.dumps({"answers": {}}),
                headers={"Content-Type": "application/json"},
            )
            path = path.replace("{did}", d.json_body["id"])
        if "{delivery_id}" in path:  # a failed delivery of partner A
            from chalicelib.records import Delivery

            failed = Delivery(
                "evt_matrix", self.a_id, "assessment.completed", "{}", 1, "failed", 6
            )
            self.service.store.put_delivery(failed)
            path = path.replace("{delivery_id}", failed.id)
        if "{key_id}" in path:
            # a spare key of partner A; B (other_partner) tries to revoke it too
            _, rec = self.ps.create(
                "Partner A", ["read"], [ORIGIN], partner_id=self.a_id
            )
            path = path.replace("{key_id}", rec.key_id)
            try:
                return self._send(method, path, body, caller, token)
            finally:
                if not self.service.store.get_partner_key(rec.key_id).revoked:
                    self.ps.revoke(rec.key_id)
        path = path.replace("/steps/{qid}", "/steps/" + self.q.scored_questions[0].id)
        path = path.replace("{qid}", "smm").replace("{version}", "1.0.0")
        path = path.replace("{name}", "app.js").replace("{asset}", "docs.js")
        if path.endswith("/report"):
            path += "?format=csv"
        if path == "/embed":
            path += "?key=" + self.keys["publishable"]
        if path.endswith("/roadmap/export"):
            path += "?format=pdf"
        if method == "PATCH":
            body = {"owner": "Matrix", "due_quarter": "2027-Q1"}
        elif method in ("POST", "PUT"):
            if path.endswith("/target"):
                body = {"phase": 3}
            elif path.endswith("/exports"):
                aid = self.partner_assessment()
                body = {"kind": "assessments", "assessment_ids": [aid], "format": "csv"}
            elif "/drafts" in path:
                body = {"answers": {}}
            elif path.endswith("/keys"):
                body = {"scopes": ["admin"], "origins": []}  # within every admin key's
            elif path.endswith("/webhook"):
                body = {"url": "https://hooks.example/smm"}
            elif path.endswith("/webhook/secret"):
                body = {"grace_seconds": 60}
            elif path.endswith("/replay"):
                body = None
            elif path.endswith("/sessions"):
                body = {"reference": "matrix-1"}
            elif path.endswith("/branding"):
                body = {"display_name": "Partner", "primary_color": "#1f5fbf"}
            elif path.endswith("/organisations"):
                body = {"name": "Acme", "profile": dict(orgs.CONTEXT)}
            elif path.endswith("/respondents"):
                body = {"role": "marketing"}
            elif path.endswith("/rounds"):
                body = None
            elif path.endswith("/respondent/answers"):
                body = {"answers": {}}
            else:
                body = {"answers": orgs.middling(self.q)}
        return self._send(method, path, body, caller, token)

    def _send(
        self, method: str, path: str, body: Any, caller: str, token: str | None
    ) -> Any:
        return self.client.http.request(
            method,
            path,
            body=json.dumps(body).encode() if body is not None else b"",
            headers=self.headers(caller, token),
        )


@pytest.fixture
def world(client, service, questionnaire):  # type: ignore[no-untyped-def]
    return World(client, service, questionnaire)


@pytest.mark.parametrize(
    ("method", "path"), sorted(MATRIX), ids=[f"{m} {p}" for m, p in sorted(MATRIX)]
)
def test_isolation_matrix(world, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    if (method, path) not in all_routes():
        pytest.fail(f"{method} {path} is in the matrix but not routed")
    failures = []
    for caller, expected in MATRIX[(method, path)].items():
        r = world.request(caller, method, path)
        if r.status_code != expected:
            failures.append(
                f"{caller}: expected {expected}, got {r.status_code} {r.body[:160]!r}"
            )
        if (
            path.startswith("/v1/partner/")
            and r.status_code >= 400
            and r.status_code != 401
            and (caller not in ("bad_key",))
        ):
            assert r.headers.get("Content-Type") == "application/problem+json", (
                caller,
                r.body,
            )
    assert not failures, "\n".join(failures)
