"""API Gateway's own answers are problem documents on AWS: scripts/package.sh merges a gateway
response for every response type into Chalice's template (chalicelib/gateway.py). Quick: the
merge is checked on the API definition Chalice generates, without building the artefact
(tests/deploy/test_package.py checks the real sam.json)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.gateway import RESPONSES, merge_template
from chalicelib.schemas import Problem

# Every gateway response type of REST APIs (API Gateway developer guide, "Gateway response
# types"): a type left out would answer API Gateway's plain {"message": ...}.
AWS_TYPES = {
    "ACCESS_DENIED",
    "API_CONFIGURATION_ERROR",
    "AUTHORIZER_CONFIGURATION_ERROR",
    "AUTHORIZER_FAILURE",
    "BAD_REQUEST_PARAMETERS",
    "BAD_REQUEST_BODY",
    "DEFAULT_4XX",
    "DEFAULT_5XX",
    "EXPIRED_TOKEN",
    "INTEGRATION_FAILURE",
    "INTEGRATION_TIMEOUT",
    "INVALID_API_KEY",
    "INVALID_SIGNATURE",
    "MISSING_AUTHENTICATION_TOKEN",
    "QUOTA_EXCEEDED",
    "REQUEST_TOO_LARGE",
    "RESOURCE_NOT_FOUND",
    "THROTTLED",
    "UNAUTHORIZED",
    "UNSUPPORTED_MEDIA_TYPE",
    "WAF_FILTERED",
}


def responses() -> dict[str, Any]:
    body = merge_template()["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    out: dict[str, Any] = body["x-amazon-apigateway-gateway-responses"]
    return out


def test_every_gateway_response_type_is_a_problem_document() -> None:
    assert set(responses()) == AWS_TYPES
    for name, resp in responses().items():
        params = resp["responseParameters"]
        assert params["gatewayresponse.header.Content-Type"] == (
            "'application/problem+json'"
        ), name
        doc = json.loads(resp["responseTemplates"]["application/json"])
        assert doc["type"].startswith("urn:smm:problem:"), name
        if name in RESPONSES:
            Problem.model_validate(doc)
            assert doc["status"] == resp["statusCode"], name
        else:  # DEFAULT_*: keeps the status of the type AWS answers
            assert "statusCode" not in resp


def test_the_refusals_keep_their_meaning() -> None:
    r = responses()
    # 404, not API Gateway's 403
    assert r["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == 404
    assert r["UNAUTHORIZED"]["statusCode"] == 401
    assert r["ACCESS_DENIED"]["statusCode"] == 403
    assert r["THROTTLED"]["statusCode"] == 429
    assert r["THROTTLED"]["responseParameters"]["gatewayresponse.header.Retry-After"]
    doc = json.loads(r["UNAUTHORIZED"]["responseTemplates"]["application/json"])
    assert doc["errors"] == [{"parameter": "Authorization", "detail": "missing"}]


def test_cors_repeats_the_origin_without_credentials() -> None:
    """A gateway response cannot look registered origins up (chalicelib/gateway.py says why
    repeating the Origin is safe here); it never allows credentials."""
    for name, resp in responses().items():
        params = resp["responseParameters"]
        assert (
            params["gatewayresponse.header.Access-Control-Allow-Origin"]
            == "method.request.header.Origin"
        ), name
        assert params["gatewayresponse.header.Vary"] == "'Origin'"
        assert not any("Allow-Credentials" in k for k in params)


def test_merged_into_the_api_chalice_generates() -> None:
    """The same deep merge ``chalice package --merge-template`` applies, on this app's API."""
    from chalice.deploy.swagger import CFNSwaggerGenerator
    from chalice.package import TemplateDeepMerger

    import app as app_module

    definition = CFNSwaggerGenerator().generate_swagger(app_module.app)
    chalice_template = {
        "Resources": {
            "RestAPI": {
                "Type": "AWS::Serverless::Api",
                "Properties": {"DefinitionBody": definition},
            }
        }
    }
    merged = TemplateDeepMerger().merge(merge_template(), chalice_template)
    body = merged["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    assert body["paths"] == definition["paths"]  # Chalice's routes untouched
    assert body["x-amazon-apigateway-api-key-source"] == "AUTHORIZER"
    assert set(body["x-amazon-apigateway-gateway-responses"]) == AWS_TYPES
