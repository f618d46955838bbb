"""The public API: questionnaires, scoring, assessments (their result token identifies the
caller), benchmarks, drafts and the token holder's downloads. Each route parses its input,
calls one use case and responds; errors are problem documents."""

from __future__ import annotations

from chalice.app import Response

from chalicelib import render
from chalicelib.routes import caller
from chalicelib.routes.caller import Caller
from chalicelib.routes.common import (
    Routes,
    body,
    container,
    download,
    header,
    json_response,
    lang,
    not_acceptable,
    params,
    problems,
)

public = Routes(__name__)


# --- questionnaires -------------------------------------------------------------------------
@public.route("/v1/questionnaires", methods=["GET"])
@problems
def list_questionnaires() -> Response:
    return json_response(
        {
            "items": render.questionnaire_items(
                container().assessments.list_questionnaires(), lang()
            )
        }
    )


@public.route("/v1/questionnaires/{qid}/{version}", methods=["GET"])
@problems
def get_questionnaire(qid: str, version: str) -> Response:
    return json_response(
        render.questionnaire_json(
            container().assessments.get_questionnaire(qid, version, lang()), lang()
        )
    )


# --- scoring and assessments ----------------------------------------------------------------
@public.route("/v1/scores", methods=["POST"])
@problems
def score() -> Response:
    from chalicelib.request_models import AnswersIn

    return json_response(
        render.score_json(container().assessments.score_only(body(AnswersIn)))
    )


@public.route("/v1/assessments", methods=["POST"])
@problems
def submit_assessment() -> Response:
    return caller.submit(Caller.anonymous())


@public.route("/v1/assessments/{aid}", methods=["GET"])
@problems
def get_assessment(aid: str) -> Response:
    return caller.get_assessment(Caller.anonymous(), aid)


@public.route("/v1/assessments/{aid}", methods=["DELETE"])
@problems
def erase_assessment(aid: str) -> Response:
    return caller.erase(Caller.anonymous(), aid)


# --- benchmarks -----------------------------------------------------------------------------
@public.route("/v1/benchmarks/{qid}/{version}", methods=["GET"])
@problems
def cohort_statistics(qid: str, version: str) -> Response:
    return caller.cohort_statistics(qid, version)


@public.route("/v1/assessments/{aid}/comparison", methods=["GET"])
@problems
def compare_assessment(aid: str) -> Response:
    return caller.compare(Caller.anonymous(), aid)


@public.route("/v1/assessments/{aid}/progress", methods=["GET"])
@problems
def assessment_progress(aid: str) -> Response:
    return caller.progress(Caller.anonymous(), aid)


# --- drafts ---------------------------------------------------------------------------------
@public.route("/v1/drafts", methods=["POST"])
@problems
def create_draft() -> Response:
    from chalicelib.request_models import DraftIn

    draft = container().assessments.save_draft(body(DraftIn))
    return json_response(
        render.draft_json(draft), 201, {"Location": f"/v1/drafts/{draft.id}"}
    )


@public.route("/v1/drafts/{did}", methods=["PUT"])
@problems
def update_draft(did: str) -> Response:
    from chalicelib.request_models import DraftIn

    return json_response(
        render.draft_json(container().assessments.update_draft(did, body(DraftIn)))
    )


@public.route("/v1/drafts/{did}", methods=["GET"])
@problems
def get_draft(did: str) -> Response:
    return json_response(render.draft_json(container().assessments.get_draft(did)))


# --- exports (token holders) ----------------------------------------------------------------
# GET /v1/assessments/{aid}/report?format=pdf|xlsx|csv&lang=de|en, header X-Result-Token;
# source, industry, size and region select the cohort as on /comparison (docs/EXPORTS.md).
# PDF and XLSX are binary: API Gateway returns them as bytes only when the first media type
# of the request's Accept header is the file's type, so anything else is answered with 406.
@public.route("/v1/assessments/{aid}/report", methods=["GET"])
@problems
def assessment_report(aid: str) -> Response:
    from chalicelib.exports import CONTENT_TYPES, check_format
    from chalicelib.http import one_of

    query = params()
    fmt = check_format(one_of(query, "format", tuple(CONTENT_TYPES), "pdf"))
    language = lang()
    services = container()
    rec = services.assessments.authorize(aid, header("x-result-token"))
    refused = not_acceptable(CONTENT_TYPES[fmt])
    if refused is not None:
        return refused
    branding = services.brandings.get(rec.partner_id)
    return download(
        services.exports.assessment(rec, fmt, language, query, branding=branding)
    )


@public.route("/v1/assessments/{aid}/branding", methods=["GET"])
@problems
def assessment_branding(aid: str) -> Response:
    """The white label of the partner that created the assessment (null for others), for
    the result page; token holders only."""
    services = container()
    rec = services.assessments.authorize(aid, header("x-result-token"))
    branding = services.brandings.get(rec.partner_id)
    return json_response(
        {"branding": branding.public() if branding is not None else None}
    )
