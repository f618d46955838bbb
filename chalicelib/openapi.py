"""The OpenAPI 3.1 document, generated from the pydantic request and response models.

``OPERATIONS`` describes every route (the partner routes by their handler's name, their
paths from the partner blueprint); a test fails when the app has a route this table lacks,
and another validates real responses against the response models."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib import request_models, schemas

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"


@dataclass(frozen=True)
class Op:
    method: str
    path: str
    summary: str
    tag: str
    response: type[BaseModel] | None
    status: int = 200
    body: type[BaseModel] | None = None
    query: tuple[str, ...] = ()
    security: str | None = None  # None, "token" or "partner"
    errors: tuple[int, ...] = (400, 404, 422)
    binary: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def partner_op(
    view: str, summary: str, response: type[BaseModel] | None, **kw: Any
) -> Op:
    """The operation of a partner route, by its handler's name: method and path come from
    the partner blueprint's own table (chalicelib/routes/partner.py), where each is written
    once."""
    from chalicelib.routes.partner import partner

    (e,) = [e for e in partner.endpoints if e.view == view]
    return Op(
        e.method.lower(), e.path, summary, "partner", response, security="partner", **kw
    )


COHORT_Q = ("industry", "size", "region", "source", "population", "lang")
LIST_Q = ("limit", "cursor")
ASSESSMENT_Q = ("since", "until", "questionnaire", "version", "phase", "included")
OPERATIONS: tuple[Op, ...] = (
    Op(
        "get",
        "/v1/questionnaires",
        "List installed questionnaires",
        "questionnaires",
        schemas.QuestionnaireList,
        query=("lang",),
        errors=(422,),
    ),
    Op(
        "get",
        "/v1/questionnaires/{qid}/{version}",
        "One questionnaire, localised",
        "questionnaires",
        schemas.QuestionnaireDoc,
        query=("lang",),
        errors=(404, 422),
    ),
    Op(
        "post",
        "/v1/scores",
        "Score answers without storing them",
        "assessments",
        schemas.ScoreOut,
        body=request_models.AnswersIn,
        errors=(400, 404, 413, 415, 422),
    ),
    Op(
        "post",
        "/v1/assessments",
        "Submit, score and store an assessment",
        "assessments",
        schemas.AssessmentOut,
        status=201,
        body=request_models.SubmissionIn,
        errors=(400, 404, 409, 413, 415, 422, 503),
        headers=("Idempotency-Key",),
    ),
    Op(
        "get",
        "/v1/assessments/{aid}",
        "Fetch a stored assessment",
        "assessments",
        schemas.AssessmentOut,
        query=("lang",),
        security="token",
        errors=(401, 404, 422),
    ),
    Op(
        "delete",
        "/v1/assessments/{aid}",
        "Erase an assessment and its benchmark contribution",
        "assessments",
        None,
        status=204,
        security="token",
        errors=(401, 404, 503),
    ),
    Op(
        "get",
        "/v1/assessments/{aid}/comparison",
        "Compare an assessment with its peers",
        "benchmarks",
        schemas.ComparisonOut,
        query=COHORT_Q,
        security="token",
        errors=(401, 404, 422),
    ),
    Op(
        "get",
        "/v1/assessments/{aid}/progress",
        "Change since the linked previous assessment",
        "benchmarks",
        schemas.ProgressOut,
        query=COHORT_Q,
        security="token",
        errors=(401, 404, 422),
    ),
    Op(
        "get",
        "/v1/assessments/{aid}/report",
        "Download the assessment report",
        "exports",
        None,
        query=(
            "format",
            "lang",
            "csv_locale",
            "source",
            "population",
            "industry",
            "size",
            "region",
        ),
        security="token",
        errors=(401, 404, 406, 422),
        binary=(PDF, XLSX, CSV),
    ),
    Op(
        "get",
        "/v1/benchmarks/{qid}/{version}",
        "Cohort statistics",
        "benchmarks",
        schemas.BenchmarkOut,
        query=COHORT_Q,
        errors=(404, 422),
    ),
    Op(
        "post",
        "/v1/drafts",
        "Save a draft",
        "drafts",
        schemas.DraftOut,
        status=201,
        body=request_models.DraftIn,
        errors=(400, 404, 413, 415, 422),
    ),
    Op(
        "get",
        "/v1/drafts/{did}",
        "Resume a draft",
        "drafts",
        schemas.DraftOut,
        errors=(404,),
    ),
    Op(
        "put",
        "/v1/drafts/{did}",
        "Update a draft",
        "drafts",
        schemas.DraftOut,
        body=request_models.DraftIn,
        errors=(400, 404, 413, 415, 422),
    ),
    partner_op(
        "partner_submit",
        "Submit on behalf of a visitor (also with a publishable key or session)",
        schemas.AssessmentOut,
        status=201,
        body=request_models.PartnerSubmissionIn,
        errors=(400, 401, 403, 404, 409, 413, 415, 422, 503),
        headers=("Idempotency-Key",),
    ),
    partner_op(
        "partner_list_assessments",
        "List this partner's assessments, newest first (filters, cursor pagination)",
        schemas.PartnerAssessmentList,
        query=LIST_Q + ASSESSMENT_Q,
        errors=(401, 403, 422),
        extra={"paged": True},
    ),
    partner_op(
        "partner_get_assessment",
        "Fetch an assessment this partner created",
        schemas.AssessmentOut,
        query=("lang",),
        errors=(401, 403, 404, 422),
    ),
    partner_op(
        "partner_erase",
        "Erase an assessment this partner created",
        None,
        status=204,
        errors=(401, 403, 404, 503),
    ),
    partner_op(
        "partner_compare",
        "Compare with peers",
        schemas.ComparisonOut,
        query=COHORT_Q,
        errors=(401, 403, 404, 422),
    ),
    partner_op(
        "partner_progress",
        "Change since the previous assessment",
        schemas.ProgressOut,
        query=COHORT_Q,
        errors=(401, 403, 404, 422),
    ),
    partner_op(
        "partner_benchmarks",
        "Cohort statistics",
        schemas.BenchmarkOut,
        query=COHORT_Q,
        errors=(401, 403, 404, 422),
    ),
    partner_op(
        "partner_statistics",
        "Confidence intervals (bootstrap median, Wilson percentile rank)",
        schemas.BenchmarkOut,
        query=(*COHORT_Q, "value"),
        errors=(401, 403, 404, 422),
    ),
    partner_op(
        "partner_cohort_comparison",
        "Mann-Whitney U between two cohorts (a_*, b_* parameters)",
        schemas.CohortComparisonOut,
        query=(
            "a_industry",
            "a_size",
            "a_region",
            "b_industry",
            "b_size",
            "b_region",
            "source",
            "population",
            "lang",
        ),
        errors=(401, 403, 404, 422),
    ),
    partner_op(
        "partner_export",
        "Export assessments side by side or cohort tables",
        None,
        errors=(400, 401, 403, 404, 406, 413, 415, 422),
        binary=(PDF, XLSX, CSV),
        body=request_models.ExportIn,
    ),
    partner_op(
        "partner_list_keys",
        "List this partner's keys, newest first (cursor pagination)",
        schemas.PartnerKeyList,
        query=LIST_Q,
        errors=(401, 403, 422),
        extra={"paged": True},
    ),
    partner_op(
        "partner_create_key",
        "Create a key with at most the calling key's scopes and origins (shown once)",
        schemas.NewPartnerKey,
        status=201,
        body=request_models.KeyIn,
        errors=(400, 401, 403, 409, 413, 415, 422),
    ),
    partner_op(
        "partner_revoke_key",
        "Revoke one of this partner's keys",
        None,
        status=204,
        errors=(401, 403, 404),
    ),
    partner_op(
        "partner_set_webhook",
        "Register the endpoint for signed assessment.completed events",
        schemas.WebhookRegistered,
        body=request_models.WebhookIn,
        errors=(400, 401, 403, 415, 422),
    ),
    partner_op(
        "partner_get_webhook",
        "The endpoint and its recent deliveries",
        schemas.WebhookState,
        errors=(401, 403, 404),
    ),
    partner_op(
        "partner_delete_webhook",
        "Stop sending events",
        None,
        status=204,
        errors=(401, 403, 404),
    ),
    partner_op(
        "partner_rotate_webhook_secret",
        "Rotate the signing secret: the previous one keeps signing for a grace period",
        schemas.WebhookSecretRotated,
        status=201,
        body=request_models.WebhookSecretIn,
        errors=(400, 401, 403, 404, 415, 422),
        extra={"body_optional": True},  # empty: the default grace period
    ),
    partner_op(
        "partner_list_deliveries",
        "Every delivery of this partner's events, newest first (cursor pagination)",
        schemas.WebhookDeliveryList,
        query=LIST_Q,
        errors=(401, 403, 422),
        extra={"paged": True},
    ),
    partner_op(
        "partner_replay_delivery",
        "Replay a failed delivery now (same event id and body, signed afresh)",
        schemas.WebhookDeliveryOut,
        errors=(401, 403, 404, 409),
    ),
    partner_op(
        "partner_create_session",
        "Mint a short-lived client secret for one visitor of the widget (secret key only)",
        schemas.SessionOut,
        status=201,
        body=request_models.SessionIn,
        errors=(400, 401, 403, 413, 415, 422),
        extra={"body_optional": True},
    ),
    partner_op(
        "partner_set_branding",
        "Set the white label of the widget, the result page and the PDF report",
        schemas.BrandingOut,
        body=request_models.BrandingIn,
        errors=(400, 401, 403, 413, 415, 422),
    ),
    partner_op(
        "partner_get_branding",
        "The partner's white label",
        schemas.BrandingOut,
        errors=(401, 403, 404),
    ),
    partner_op(
        "partner_delete_branding",
        "Remove the white label (back to the product's own look)",
        None,
        status=204,
        errors=(401, 403, 404),
    ),
    Op(
        "get",
        "/v1/assessments/{aid}/branding",
        "White label of the partner that created the assessment (for the result page)",
        "assessments",
        schemas.AssessmentBranding,
        security="token",
        errors=(401, 404),
    ),
    Op(
        "get",
        "/embed",
        "The questionnaire in embed mode (HTML), framed only by the partner's origin",
        "meta",
        None,
        query=(
            "key",
            "partner",
            "origin",
            "lang",
            "industry",
            "size",
            "country",
            "reference",
            "hide_prefilled",
        ),
        errors=(403, 404, 422),
        binary=("text/html",),
    ),
    Op("get", "/v1/openapi.json", "This document", "meta", None, errors=()),
    Op(
        "get",
        "/v1/docs",
        "Readable API reference (HTML)",
        "meta",
        None,
        errors=(),
        binary=("text/html",),
    ),
    Op(
        "get",
        "/v1/docs/{asset}",
        "Assets of the API reference",
        "meta",
        None,
        errors=(404,),
        binary=("text/javascript", "text/css"),
    ),
    Op(
        "get",
        "/",
        "The web questionnaire (HTML)",
        "meta",
        None,
        errors=(),
        binary=("text/html",),
    ),
    Op(
        "get",
        "/static/{name}",
        "Assets of the web questionnaire",
        "meta",
        None,
        errors=(404,),
        binary=("text/javascript", "text/css"),
    ),
)


def _organisation_operations() -> tuple[Op, ...]:
    """Issue 18: organisation workspaces (docs/ORGANISATIONS.md), the owner's, the
    respondent's and the partner's routes."""
    from chalicelib import organisation_models as m
    from chalicelib.request_models import TargetIn

    org = "/v1/organisations"
    owner: dict[str, Any] = {"tag": "organisations", "security": "owner"}
    body_errors = (400, 401, 404, 413, 415, 422)
    ops = (
        Op(
            "post",
            org,
            "Create an organisation workspace (the owner token is shown once)",
            "organisations",
            m.OrganisationCreatedOut,
            status=201,
            body=m.OrganisationIn,
            errors=(400, 404, 413, 415, 422, 503),
        ),
        Op(
            "get",
            org + "/{oid}",
            "The organisation with its respondents",
            response=m.OrganisationOut,
            errors=(401, 404),
            **owner,
        ),
        Op(
            "delete",
            org + "/{oid}",
            "Erase the organisation, every respondent's data and its benchmark "
            "contributions",
            response=None,
            status=204,
            errors=(401, 404, 503),
            **owner,
        ),
        Op(
            "post",
            org + "/{oid}/respondents",
            "Invite a respondent (the invite token is shown once)",
            response=m.InvitationOut,
            status=201,
            body=m.RespondentIn,
            errors=(*body_errors, 409),
            **owner,
        ),
        Op(
            "get",
            org + "/{oid}/answers",
            "Every respondent's own answers (owner only)",
            response=m.AnswersListOut,
            query=("round",),
            errors=(401, 404, 422),  # 404 also for a round that does not exist
            **owner,
        ),
        Op(
            "get",
            org + "/{oid}/result",
            "The combined answers, their score and the perception gap",
            response=m.ResultOut,
            errors=(401, 404),
            **owner,
        ),
        Op(
            "post",
            org + "/{oid}/rounds",
            "Close the round: the combined answers count once in the benchmark",
            response=m.RoundClosedOut,
            status=201,
            errors=(401, 404, 409, 422, 503),
            **owner,
        ),
        Op(
            "get",
            org + "/{oid}/rounds",
            "The closed rounds (history)",
            response=m.RoundListOut,
            errors=(401, 404),
            **owner,
        ),
        Op(
            "put",
            org + "/{oid}/target",
            "Set the organisation's target (phase, tier, dimension scores)",
            response=m.PlanOut,
            body=TargetIn,
            query=("lang",),
            errors=body_errors,
            **owner,
        ),
        Op(
            "get",
            org + "/{oid}/roadmap",
            "The target, its gap and the roadmap from the combined answers",
            response=m.PlanOut,
            query=("lang",),
            errors=(401, 404, 422),
            **owner,
        ),
        Op(
            "patch",
            org + "/{oid}/roadmap/steps/{qid}",
            "Set a roadmap step's owner and due quarter (the step's question id)",
            response=m.PlanOut,
            body=m.StepAssignmentIn,
            query=("lang",),
            errors=(*body_errors, 409),
            **owner,
        ),
        Op(
            "get",
            org + "/{oid}/roadmap/export",
            "Download the roadmap with gap and history (XLSX or PDF)",
            response=None,
            query=("format", "lang"),
            errors=(401, 404, 406, 409, 422),
            binary=(PDF, XLSX),
            **owner,
        ),
        Op(
            "get",
            org + "/{oid}/history",
            "The rounds over time: phase, pyramid level, dimensions, peer percentile",
            response=m.HistoryOut,
            query=("lang",),
            errors=(401, 404, 422),
            **owner,
        ),
        Op(
            "get",
            "/v1/respondent",
            "The invitation: organisation, role, sections and own answers",
            "organisations",
            m.RespondentViewOut,
            security="respondent",
            errors=(401, 404),
        ),
        Op(
            "put",
            "/v1/respondent/answers",
            "Save (draft) or submit the respondent's answers",
            "organisations",
            m.RespondentViewOut,
            body=m.RespondentAnswersIn,
            security="respondent",
            errors=(*body_errors, 409),
        ),
    )
    partner_errors = (401, 403, 404)
    return ops + (
        partner_op(
            "partner_create_organisation",
            "Create an organisation on behalf of a company",
            m.OrganisationCreatedOut,
            status=201,
            body=m.OrganisationIn,
            errors=(400, 401, 403, 404, 413, 415, 422, 503),
        ),
        partner_op(
            "partner_list_organisations",
            "The organisations this partner created, oldest first",
            m.OrganisationListOut,
            errors=(401, 403),
        ),
        partner_op(
            "partner_get_organisation",
            "An organisation this partner manages",
            m.OrganisationOut,
            errors=partner_errors,
        ),
        partner_op(
            "partner_erase_organisation",
            "Erase an organisation this partner manages",
            None,
            status=204,
            errors=(*partner_errors, 503),
        ),
        partner_op(
            "partner_invite_respondent",
            "Invite a respondent to an organisation this partner manages",
            m.InvitationOut,
            status=201,
            body=m.RespondentIn,
            errors=(400, 401, 403, 404, 409, 413, 415, 422),
        ),
        partner_op(
            "partner_organisation_result",
            "The combined result and perception gap (roles, not individual answers)",
            m.ResultOut,
            errors=partner_errors,
        ),
        partner_op(
            "partner_close_organisation_round",
            "Close the organisation's round (counted once in the benchmark)",
            m.RoundClosedOut,
            status=201,
            errors=(*partner_errors, 409, 422, 503),
        ),
        partner_op(
            "partner_list_organisation_rounds",
            "The organisation's closed rounds",
            m.RoundListOut,
            errors=partner_errors,
        ),
        partner_op(
            "partner_set_organisation_target",
            "Set the target of an organisation this partner manages",
            m.PlanOut,
            body=TargetIn,
            query=("lang",),
            errors=(400, 401, 403, 404, 413, 415, 422),
        ),
        partner_op(
            "partner_organisation_roadmap",
            "The target, its gap and the roadmap",
            m.PlanOut,
            query=("lang",),
            errors=(*partner_errors, 422),
        ),
        partner_op(
            "partner_assign_organisation_step",
            "Set a roadmap step's owner and due quarter",
            m.PlanOut,
            body=m.StepAssignmentIn,
            query=("lang",),
            errors=(400, 401, 403, 404, 409, 413, 415, 422),
        ),
        partner_op(
            "partner_export_organisation_roadmap",
            "Download the roadmap with gap and history (XLSX or PDF)",
            None,
            query=("format", "lang"),
            errors=(*partner_errors, 406, 409, 422),
            binary=(PDF, XLSX),
        ),
        partner_op(
            "partner_organisation_history",
            "The rounds over time: phase, pyramid level, dimensions, peer percentile",
            m.HistoryOut,
            query=("lang",),
            errors=(*partner_errors, 422),
        ),
    )


OPERATIONS = OPERATIONS + _organisation_operations()

QUERY_DOCS: dict[str, tuple[str, dict[str, Any]]] = {
    "round": (
        "the round whose answers to list (1 to the open round; default the open one)",
        {"type": "string", "pattern": "^[1-9][0-9]{0,5}$"},
    ),
    "lang": (
        "response language",
        {"type": "string", "enum": ["de", "en"], "default": "en"},
    ),
    "industry": ("NACE Rev. 2 section or *", {"type": "string", "default": "*"}),
    "size": ("size class (employees) or *", {"type": "string", "default": "*"}),
    "region": ("region or *", {"type": "string", "default": "*"}),
    "source": (
        "auto (real where releasable, else reference), real or reference",
        {"type": "string", "enum": ["auto", "real", "reference"], "default": "auto"},
    ),
    "population": (
        (
            "peers: users (organisations that use social media, the population the"
            " published practitioner figures describe) or all (including non-users)"
        ),
        {"type": "string", "enum": ["users", "all"], "default": "users"},
    ),
    "value": (
        "a score 0..100 to rank with a confidence interval",
        {"type": "integer", "minimum": 0, "maximum": 100},
    ),
    "limit": (
        "items per page",
        {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    ),
    "cursor": (
        (
            "next_cursor of the previous page (opaque, signed; only valid with the same "
            "filters and partner, else 422)"
        ),
        {"type": "string", "maxLength": 512},
    ),
    "since": (
        "created at or after (ISO 8601 date or date-time, UTC unless an offset is given)",
        {"type": "string"},
    ),
    "until": ("created before (ISO 8601, exclusive)", {"type": "string"}),
    "questionnaire": ("questionnaire id, e.g. smm", {"type": "string"}),
    "version": ("questionnaire version, e.g. 1.0.0", {"type": "string"}),
    "phase": (
        "engagement phase",
        {"type": "integer", "minimum": 0, "maximum": 7},
    ),
    "included": (
        "counted in the benchmark (true) or not (false)",
        {"type": "string", "enum": ["true", "false"]},
    ),
    "key": (
        "/embed: the partner's publishable key (smmp_...)",
        {"type": "string", "pattern": r"^smmp_[0-9a-f]{12}_[A-Za-z0-9_\-]{20,64}$"},
    ),
    "partner": (
        "/embed, session flow: the partner id (p_...) instead of a key",
        {"type": "string", "pattern": "^p_[0-9a-f]{12}$"},
    ),
    "origin": (
        "/embed: the embedding page's origin, a registered one (needed if several)",
        {"type": "string", "pattern": r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?/?$"},
    ),
    "country": (
        "/embed: prefill the country question (an option id)",
        {"type": "string"},
    ),
    "reference": (
        "/embed: the partner's reference id for the assessment",
        {"type": "string", "maxLength": 64},
    ),
    "hide_prefilled": (
        "/embed: do not show the prefilled questions",
        {"type": "string", "enum": ["true", "false", "1", "0"]},
    ),
    "format": (
        "export format",
        {"type": "string", "enum": ["pdf", "xlsx", "csv"], "default": "pdf"},
    ),
    "csv_locale": (
        "format=csv: de (';' and decimal comma) or en (',' and decimal point); "
        + "by default the one of lang",
        {"type": "string", "enum": ["de", "en"]},
    ),
}


def _query(
    name: str, cohorts: dict[str, list[str]], installed: dict[str, list[str]]
) -> dict[str, Any]:
    base = name[2:] if name[:2] in ("a_", "b_") else name
    desc, schema = QUERY_DOCS[base]
    if base != name:
        desc = f"cohort {name[0].upper()}: {desc}"
    if base in cohorts:  # exactly what parse_cohort accepts
        schema = {**schema, "enum": ["*", *cohorts[base]]}
    if base in installed:  # the installed questionnaires (listing filters)
        schema = {**schema, "enum": installed[base]}
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": desc,
        "schema": schema,
    }


def _answers(q: Any, complete: bool) -> dict[str, Any]:
    """The answers object a questionnaire accepts: question id -> one of its option ids;
    every required question when ``complete`` (a submission or a score), none for a draft."""
    schema: dict[str, Any] = {
        "type": "object",
        "description": f"answers to {q.id} {q.version}: question id -> option id",
        "properties": {
            question.id: {"type": "string", "enum": list(question.scored_options)}
            for question in q.questions
        },
        "additionalProperties": False,
    }
    if complete:
        schema["required"] = [x.id for x in q.questions if x.required]
    # a valid example (schemathesis sends examples first): the last option of every question
    # that has to be answered, or of the first three for a draft
    chosen = [x for x in q.questions if x.required] if complete else q.questions[:3]
    schema["examples"] = [{x.id: x.options[-1].id for x in chosen}]
    return schema


def _answers_by_version(
    refs: dict[tuple[str, str], dict[str, str]], default: str
) -> list[dict[str, Any]]:
    """The answers are those of the version named, of ``default`` (the latest) when the
    version is omitted or null: one if/then rule per version."""
    others = sorted(v for (_, v) in refs if v != default)
    rules: list[dict[str, Any]] = []
    for (_, v), ref in refs.items():
        named = {"properties": {"version": {"const": v}}, "required": ["version"]}
        unnamed = {"properties": {"version": {"not": {"enum": others}}}}
        rules.append(
            {
                "if": unnamed if v == default else named,
                "then": {"properties": {"answers": ref}},
            }
        )
    return rules


def _strict_bodies(components: dict[str, Any]) -> None:
    """Narrow the request bodies pydantic describes loosely to what the service accepts:
    installed questionnaires and versions, and their questions and options. With several
    questionnaires installed the answers are one of theirs (the pairing of ``questionnaire``
    and ``answers`` is then checked by the service alone)."""
    from chalicelib.questionnaire import get_catalog

    installed = get_catalog().all()
    ids = sorted({q.id for q in installed})
    versions = sorted({q.version for q in installed})
    catalog = get_catalog()
    for complete, prefix in ((True, "Answers"), (False, "DraftAnswers")):
        refs: dict[tuple[str, str], dict[str, str]] = {}
        for q in installed:
            name = f"{prefix}_{q.id}_{q.version}".replace(".", "_")
            components[name] = _answers(q, complete)
            refs[(q.id, q.version)] = {"$ref": f"#/components/schemas/{name}"}
        default = catalog.get(ids[0])  # the latest version
        answers = (
            next(iter(refs.values()))
            if len(refs) == 1
            else {"anyOf": list(refs.values())}
        )
        for model in (
            ("AnswersIn", "SubmissionIn", "PartnerSubmissionIn")
            if complete
            else ("DraftIn",)
        ):
            described = components[model]["properties"]["answers"]
            components[model]["properties"]["answers"] = {
                **answers,
                "description": described.get("description", "question id -> option id"),
                "examples": components[
                    refs[(default.id, default.version)]["$ref"].rsplit("/", 1)[1]
                ]["examples"],
            }
            if len(ids) == 1 and len(refs) > 1:
                components[model]["allOf"] = _answers_by_version(refs, default.version)
    for model in (
        "AnswersIn",
        "SubmissionIn",
        "PartnerSubmissionIn",
        "DraftIn",
        "ExportIn",
    ):
        props = components[model]["properties"]
        props["questionnaire"] = {**props["questionnaire"], "enum": ids}
        props["version"] = {
            **props["version"],
            "anyOf": [{"type": "string", "enum": versions}, {"type": "null"}],
        }
    _organisation_bodies(components, installed, ids, versions)
    export = components["ExportIn"]
    export["if"] = {"properties": {"kind": {"const": "assessments"}}}
    export["then"] = {
        "required": ["assessment_ids"],
        "properties": {"assessment_ids": {"minItems": 1}},
    }
    # display labels name assessments of the export: none in a cohort table (a 422)
    export["else"] = {"properties": {"labels": {"maxProperties": 0}}}
    # WebhookIn.url carries request_models.URL_PATTERN, no looser than check_url (tested)
    # a publishable key only submits, and only from its origins (partners.create)
    components["KeyIn"]["if"] = {
        "properties": {"type": {"const": "publishable"}},
        "required": ["type"],
    }
    components["KeyIn"]["then"] = {
        "properties": {
            "scopes": {"items": {"const": "submit"}},
            "origins": {"minItems": 1},
        }
    }


def _organisation_bodies(
    components: dict[str, Any],
    installed: list[Any],
    ids: list[str],
    versions: list[str],
) -> None:
    """The organisation bodies as strict as the service: the profile answers every context
    question (its options), a respondent's answers name scored questions and their options
    (which sections a respondent owns is the owner's choice, not a schema rule)."""
    context: dict[str, set[str]] = {}
    scored: dict[str, set[str]] = {}
    required: set[str] | None = None
    for q in installed:
        here = {x.id for x in q.questions if x.kind == "context" and x.required}
        required = here if required is None else required & here
        for x in q.questions:
            target = context if x.kind == "context" else scored
            target.setdefault(x.id, set()).update(o.id for o in x.options)
    organisation = components["OrganisationIn"]["properties"]
    organisation["profile"] = {
        **organisation["profile"],
        "type": "object",
        "properties": {
            qid: {"type": "string", "enum": sorted(options)}
            for qid, options in context.items()
        },
        "required": sorted(required or ()),
        "additionalProperties": False,
    }
    organisation["profile"].pop("maxProperties", None)
    organisation["questionnaire"] = {**organisation["questionnaire"], "enum": ids}
    organisation["version"] = {
        **organisation["version"],
        "anyOf": [{"type": "string", "enum": versions}, {"type": "null"}],
    }
    answers = components["RespondentAnswersIn"]["properties"]
    answers["answers"] = {
        **answers["answers"],
        "type": "object",
        "properties": {
            qid: {"type": "string", "enum": sorted(options)}
            for qid, options in scored.items()
        },
        "additionalProperties": False,
    }
    answers["answers"].pop("maxProperties", None)


ACCEPT_DOC = (
    "the file's media type first: API Gateway returns a binary file only when the first "
    "media type of Accept is its type (PDF, XLSX); a mismatch with the format is a 406"
)


@functools.lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document (built once per process)."""
    from chalicelib.benchmarks import cohort_values
    from chalicelib.questionnaire import get_catalog

    cohorts: dict[str, set[str]] = {}
    for q in get_catalog().all():
        for name, values in cohort_values(q).items():
            cohorts.setdefault(name, set()).update(values)
    cohort_enums = {name: sorted(values) for name, values in cohorts.items()}
    installed = {
        "questionnaire": sorted({q.id for q in get_catalog().all()}),
        "version": sorted({q.version for q in get_catalog().all()}),
    }
    response_models: list[type[BaseModel]] = [schemas.Problem]
    for op in OPERATIONS:
        for m in (op.response, op.body):
            if m is not None and m not in response_models:
                response_models.append(m)
    _, defs = models_json_schema(
        [
            (
                m,
                "validation"
                if m
                in (
                    request_models.AnswersIn,
                    request_models.SubmissionIn,
                    request_models.PartnerSubmissionIn,
                    request_models.DraftIn,
                    request_models.ExportIn,
                    request_models.KeyIn,
                )
                else "serialization",
            )
            for m in response_models
        ],
        ref_template="#/components/schemas/{model}",
    )
    components = defs.get("$defs", {})
    _strict_bodies(components)
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        entry: dict[str, Any] = {
            "operationId": op.path.strip("/")
            .replace("/", "_")
            .replace("{", "")
            .replace("}", "")
            .replace("-", "_")
            + "_"
            + op.method,
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": [],
            "responses": {},
        }
        for seg in op.path.split("/"):
            if seg.startswith("{"):
                entry["parameters"].append(
                    {
                        "name": seg[1:-1],
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 64},
                    }
                )
        entry["parameters"] += [_query(q, cohort_enums, installed) for q in op.query]
        if "format" in op.query and op.binary and CSV not in op.binary:
            # a download offered in fewer formats (a roadmap: xlsx, pdf): only those
            for p in entry["parameters"]:
                if p["name"] == "format" and p["in"] == "query":
                    kinds = {"pdf": PDF, "xlsx": XLSX}
                    p["schema"] = {
                        **p["schema"],
                        "enum": [f for f, t in kinds.items() if t in op.binary],
                    }
        if op.binary and op.tag in ("exports", "partner", "organisations"):
            entry["parameters"].append(
                {
                    "name": "Accept",
                    "in": "header",
                    "required": False,  # a CSV needs none
                    "description": ACCEPT_DOC,
                    "schema": {"type": "string", "enum": list(op.binary)},
                }
            )
        for h in op.headers:
            entry["parameters"].append(
                {
                    "name": h,
                    "in": "header",
                    "required": False,
                    "description": "a retry with the same key and body within 24 h of the "
                    "key's first use is answered with the original result (200, "
                    "Idempotent-Replayed: true) and never counted twice; another body is a "
                    "409; after 24 h the key creates a new assessment. Keys are this "
                    "partner's own (any 1 to 128 characters)",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 128},
                }
                if op.security == "partner"
                else _ANONYMOUS_IDEMPOTENCY_KEY
            )
        if op.security in _SECURITY:
            entry["security"] = [{_SECURITY[op.security]: []}]
        elif op.security == "partner":
            entry["security"] = [{"partnerKey": []}]
        body_ref = op.body.__name__ if op.body else op.extra.get("body_schema")
        if body_ref:
            entry["requestBody"] = {
                "required": not op.extra.get("body_optional", False),
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{body_ref}"}
                    }
                },
            }
        ok: dict[str, Any] = {"description": "success"}
        if op.response is not None:
            ok["content"] = {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{op.response.__name__}"}
                }
            }
        elif op.binary:
            ok["content"] = {
                t: {"schema": {"type": "string", "format": "binary"}} for t in op.binary
            }
        elif op.path.endswith("openapi.json"):
            ok["content"] = {"application/json": {"schema": {"type": "object"}}}
        if op.security == "partner":
            ok["headers"] = dict(_RATE_HEADERS)
            if op.extra.get("paged"):
                ok["headers"]["Link"] = _LINK_HEADER
        entry["responses"][str(op.status)] = ok
        if op.method == "post" and op.status == 201 and op.headers:
            entry["responses"]["200"] = {
                "description": "idempotent replay of an earlier submission",
                "content": ok["content"],
            }
        for code in op.errors:
            content: dict[str, Any] = {
                "application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"}
                }
            }
            entry["responses"][str(code)] = {
                "description": _ERROR_TEXT.get(code, "error"),
                "content": content,
            }
        if op.security == "partner":
            entry["responses"]["429"] = _TOO_MANY
        paths.setdefault(op.path, {})[op.method] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Social media maturity assessment and benchmarking API",
            "version": "1.0.0",
            "description": "Scores organisations on the 7 levels of social media engagement "
            "and Altimeter's social business pyramid and compares them with anonymised "
            "benchmarks. Errors are RFC 9457 problem documents.",
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": t}
            for t in (
                "questionnaires",
                "assessments",
                "benchmarks",
                "drafts",
                "exports",
                "partner",
                "organisations",
                "meta",
            )
        ],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "resultToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Result-Token",
                    "description": "the token returned once when the assessment "
                    "was created",
                },
                "organisationToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Organisation-Token",
                    "description": "the owner token returned once when the organisation "
                    "was created (docs/ORGANISATIONS.md)",
                },
                "respondentToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Respondent-Token",
                    "description": "the invite token returned once when the respondent "
                    "was invited",
                },
                "partnerKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "partner key smmk_<id>_<secret>; scopes: "
                    "submit, read, benchmarks, export, admin, organisations. Browser-safe credentials "
                    "(POST /v1/partner/assessments only, from the partner's registered "
                    "origins): a publishable key smmp_<id>_<secret> or a session client "
                    "secret smms_... (POST /v1/partner/sessions); docs/PARTNERS.md",
                },
            },
        },
    }


_SECURITY = {
    "token": "resultToken",
    "owner": "organisationToken",
    "respondent": "respondentToken",
}

# The replay answers with the result token, so an anonymous key is a bearer secret
# (chalicelib.assessments.check_anonymous_idempotency_key); a partner's keys are its own.
_ANONYMOUS_IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "a retry with the same key and body is answered with the original result "
    "(and its token) and never counted twice. Whoever knows the key gets the token, so it "
    "must be a fresh random UUID v4 or 32 to 128 random hex digits per submission; keys that "
    "are not random (fewer than 6 distinct digits, a repeated pattern) are refused with 422",
    "schema": {
        "type": "string",
        "pattern": "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}"
        "-[0-9a-fA-F]{12}|[0-9a-fA-F]{32,128})$",
    },
}

_ERROR_TEXT = {
    400: "malformed request (not JSON, empty body)",
    401: "missing credentials",
    403: "the key is unknown, revoked, or lacks the scope",
    404: "unknown resource (or not yours)",
    406: "send an Accept header naming the file type (binary downloads)",
    409: "conflict (Idempotency-Key reused with another body within 24 h, too many keys)",
    413: "body too large",
    415: "unsupported content type",
    422: "invalid field (the problem names it)",
    503: "storage temporarily unavailable; retry after Retry-After seconds",
}

# IETF draft-ietf-httpapi-ratelimit-headers-11 (chalicelib/ratelimit.py)
_RATE_HEADERS: dict[str, Any] = {
    "RateLimit-Policy": {
        "description": 'the tier\'s limits: "rate";q=<requests>;w=60 (per minute) and '
        '"quota";q=<requests>;w=<seconds of this day, week or month>',
        "schema": {
            "type": "string",
            "examples": ['"rate";q=1200;w=60, "quota";q=200000;w=2592000'],
        },
    },
    "RateLimit": {
        "description": 'what is left: "rate";r=<remaining>;t=<seconds to reset>, and the '
        "same for quota",
        "schema": {
            "type": "string",
            "examples": ['"rate";r=1187;t=42, "quota";r=199000;t=86400'],
        },
    },
}
_LINK_HEADER: dict[str, Any] = {
    "description": 'the next page, relative to the request URL: <...?limit=20&cursor=...>; rel="next"'
    " (absent on the last page)",
    "schema": {"type": "string"},
}
_TOO_MANY: dict[str, Any] = {
    "description": "the tier's rate or quota is used up; retry after Retry-After seconds "
    "(on AWS API Gateway answers this itself when the usage plan is exceeded)",
    "headers": {
        "Retry-After": {"description": "seconds", "schema": {"type": "integer"}},
        **_RATE_HEADERS,
    },
    "content": {
        "application/problem+json": {
            "schema": {"$ref": "#/components/schemas/Problem"}
        },  # also the gateway's own 429 (gateway responses, chalicelib/gateway.py)
    },
}
