"""Chalice app: routes, error mapping, lazily cached resources. Thin by design: each route
parses its input, calls one service method and responds."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response

from chalicelib.http import PROBLEM, language, parse_body, problem_for

app = Chalice(app_name="smm-benchmark")
app.log.setLevel(logging.INFO)
ANY_TYPE = [
    "*/*"
]  # content type checked by parse_body so mistakes get a problem document

_service: Any = None


def get_service() -> Any:
    """The service with its store, built on first use (never at import time)."""
    global _service
    if _service is None:
        from chalicelib.config import Settings
        from chalicelib.questionnaire import get_catalog
        from chalicelib.service import AssessmentService
        from chalicelib.storage import store_from_env

        _service = AssessmentService(
            store_from_env(), get_catalog(), Settings.from_env()
        )
    return _service


def reset_service(service: Any = None) -> None:
    """Tests swap in a service bound to their own store."""
    global _service, _insights
    _service = service
    _insights = None


_insights: Any = None


def get_insights() -> Any:
    """Benchmark use cases over the same service (lazy)."""
    global _insights
    if _insights is None:
        from chalicelib.insights import BenchmarkService

        _insights = BenchmarkService(get_service())
    return _insights


def get_statistics() -> Any:
    """Consultant statistics: importing this pulls in scipy, so only these routes call it."""
    from chalicelib.insights import ConsultantStatistics

    return ConsultantStatistics(get_insights())


def _json(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    h = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    h.update(headers or {})
    return Response(
        body=json.dumps(body, ensure_ascii=False), status_code=status, headers=h
    )


def problems(view: Callable[..., Response]) -> Callable[..., Response]:
    """Render every exception as application/problem+json."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - mapped to a problem document
            status, doc, headers = problem_for(exc, app.current_request.path)
            return Response(body=json.dumps(doc), status_code=status, headers=headers)

    return wrapper


def _body(model: Any) -> Any:
    req = app.current_request
    return parse_body(
        req.raw_body,
        req.headers.get("content-type"),
        model,
        get_service().settings.max_body_bytes,
    )


def _lang() -> str:
    return language(app.current_request.query_params)


# --- questionnaires -------------------------------------------------------------------------
@app.route("/v1/questionnaires", methods=["GET"])
@problems
def list_questionnaires() -> Response:
    return _json({"items": get_service().list_questionnaires(_lang())})


@app.route("/v1/questionnaires/{qid}/{version}", methods=["GET"])
@problems
def get_questionnaire(qid: str, version: str) -> Response:
    return _json(get_service().get_questionnaire(qid, version, _lang()))


# --- scoring and assessments ----------------------------------------------------------------
@app.route("/v1/scores", methods=["POST"], content_types=ANY_TYPE)
@problems
def score() -> Response:
    from chalicelib.models import AnswersIn

    return _json(get_service().score_only(_body(AnswersIn)))


@app.route("/v1/assessments", methods=["POST"], content_types=ANY_TYPE)
@problems
def submit_assessment() -> Response:
    from chalicelib.models import SubmissionIn

    key = app.current_request.headers.get("idempotency-key")
    if key is not None and not (1 <= len(key) <= 128):
        from chalicelib.errors import InvalidInput

        raise InvalidInput(
            "Idempotency-Key must have 1 to 128 characters",
            [("/headers/Idempotency-Key", "1 to 128 characters")],
        )
    done = get_service().submit(_body(SubmissionIn), idempotency_key=key)
    headers = {"Location": f"/v1/assessments/{done.body['id']}"}
    if not done.created:
        headers["Idempotent-Replayed"] = "true"
    return _json(done.body, 201 if done.created else 200, headers)


@app.route("/v1/assessments/{aid}", methods=["GET"])
@problems
def get_assessment(aid: str) -> Response:
    token = app.current_request.headers.get("x-result-token")
    return _json(get_service().get_assessment(aid, token, _lang()))


@app.route("/v1/assessments/{aid}", methods=["DELETE"])
@problems
def erase_assessment(aid: str) -> Response:
    token = app.current_request.headers.get("x-result-token")
    get_service().erase(aid, token)
    return Response(body="", status_code=204, headers={"Cache-Control": "no-store"})


# --- benchmarks -----------------------------------------------------------------------------
def _params() -> dict[str, str]:
    return dict(app.current_request.query_params or {})


@app.route("/v1/benchmarks/{qid}/{version}", methods=["GET"])
@problems
def cohort_statistics(qid: str, version: str) -> Response:
    return _json(get_insights().cohort_statistics(qid, version, _params(), _lang()))


@app.route("/v1/benchmarks/{qid}/{version}/statistics", methods=["GET"])
@problems
def cohort_confidence(qid: str, version: str) -> Response:
    return _json(get_statistics().statistics(qid, version, _params(), _lang()))


@app.route("/v1/benchmarks/{qid}/{version}/cohort-comparison", methods=["GET"])
@problems
def cohort_comparison(qid: str, version: str) -> Response:
    return _json(get_statistics().compare_cohorts(qid, version, _params(), _lang()))


@app.route("/v1/assessments/{aid}/comparison", methods=["GET"])
@problems
def compare_assessment(aid: str) -> Response:
    token = app.current_request.headers.get("x-result-token")
    return _json(get_insights().compare(aid, token, _params(), _lang()))


@app.route("/v1/assessments/{aid}/progress", methods=["GET"])
@problems
def assessment_progress(aid: str) -> Response:
    token = app.current_request.headers.get("x-result-token")
    return _json(get_insights().progress(aid, token, _params(), _lang()))


# --- drafts ---------------------------------------------------------------------------------
@app.route("/v1/drafts", methods=["POST"], content_types=ANY_TYPE)
@problems
def create_draft() -> Response:
    from chalicelib.models import DraftIn

    draft = get_service().save_draft(_body(DraftIn))
    return _json(draft, 201, {"Location": f"/v1/drafts/{draft['id']}"})


@app.route("/v1/drafts/{did}", methods=["PUT"], content_types=ANY_TYPE)
@problems
def update_draft(did: str) -> Response:
    from chalicelib.models import DraftIn

    return _json(get_service().update_draft(did, _body(DraftIn)))


@app.route("/v1/drafts/{did}", methods=["GET"])
@problems
def get_draft(did: str) -> Response:
    return _json(get_service().get_draft(did))


__all__ = ["PROBLEM", "app"]
