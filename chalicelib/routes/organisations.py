"""Organisation workspaces (issue 18, docs/ORGANISATIONS.md): the owner's routes under
``/v1/organisations`` (header ``X-Organisation-Token``), the respondent's under
``/v1/respondent`` (header ``X-Respondent-Token``), and the handler bodies the partner twins
(``/v1/partner/organisations``, scope ``organisations``, chalicelib/routes/partner.py) share.
Rendering of the organisation results is here too: the words of this one resource."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Response

from chalicelib.routes.common import (
    Routes,
    body,
    container,
    download,
    header,
    json_response,
    lang,
    no_content,
    not_acceptable,
    params,
    problems,
)

if TYPE_CHECKING:
    from chalicelib.organisation_roadmap import HistoryEntry, Plan
    from chalicelib.organisation_service import (
        ClosedRound,
        CombinedResult,
        OrganisationView,
        RespondentState,
    )
    from chalicelib.organisations import Organisation, Respondent, Round

organisations = Routes(__name__)
PUBLIC = "/v1/organisations"


# --- rendering ----------------------------------------------------------------------------------
def _respondent_json(state: RespondentState) -> dict[str, Any]:
    r = state.respondent
    return {
        "id": r.id,
        "role": r.role,
        "sections": list(r.sections),
        "created_at": r.created_at,
        "status": state.status,
        "updated_at": None if state.answers is None else state.answers.updated_at,
    }


def organisation_json(view: OrganisationView, brief: bool = False) -> dict[str, Any]:
    """The organisation; ``brief`` (lists): without its respondents."""
    org = view.organisation
    out: dict[str, Any] = {
        "id": org.id,
        "name": org.name,
        "questionnaire": {"id": org.questionnaire_id, "version": org.version},
        "language": org.language,
        "profile": dict(org.profile),
        "created_at": org.created_at,
        "current_round": org.current_round,
        "managed_by_partner": org.partner_id is not None,
        "respondents": [_respondent_json(s) for s in view.respondents],
    }
    if brief:
        del out["respondents"]
    if view.token is not None:
        out["token"] = view.token
    return out


def answers_json(view: OrganisationView, round_number: int) -> dict[str, Any]:
    return {
        "round": round_number,
        "items": [
            {"respondent": _respondent_json(s), "answers": dict(s.answers.answers)}
            for s in view.respondents
            if s.answers is not None
        ],
    }


def target_json(t: Any) -> dict[str, Any] | None:
    return None if t is None else dict(t.as_dict())


def plan_json(plan: Plan) -> dict[str, Any]:
    q = plan.questionnaire
    dims = {d.id: d.name.get(plan.language) for d in q.dimensions}
    g = plan.gap
    return {
        "target": target_json(plan.target),
        "basis": plan.basis,
        "round": plan.round,
        "gap": None
        if g is None
        else {
            "phase": g.phase,
            "target_phase": g.target_phase,
            "phase_gap": g.phase_gap,
            "pyramid_level": g.pyramid_level,
            "target_level": g.target_level,
            "level_gap": g.level_gap,
            "blocking_phases": list(g.blocking_phases),
            "blocking_tiers": list(g.blocking_tiers),
            "dimensions": [
                {
                    "id": d.id,
                    "label": dims.get(d.id, d.id),
                    "current": d.current,
                    "target": d.target,
                    "gap": d.gap,
                }
                for d in g.dimensions
            ],
            "reached": g.reached,
        },
        "steps": [
            {
                "rank": st.rank,
                "question_id": st.question_id,
                "question": st.question,
                "kind": st.kind,
                "gate": st.gate,
                "gates": list(st.gates),
                "current": st.current,
                "current_label": st.current_label,
                "needed": st.needed,
                "needed_label": st.needed_label,
                "why": st.why,
                "advice": st.advice,
                "impact": st.impact,
                "effort": st.effort,
                "priority": st.priority,
                "key_item": st.key_item,
                "owner": st.owner,
                "due_quarter": st.due_quarter,
            }
            for st in plan.steps
        ],
    }


def history_json(entries: list[HistoryEntry], q: Any, language: str) -> dict[str, Any]:
    return {
        "dimension_names": {d.id: d.name.get(language) for d in q.dimensions},
        "items": [
            {
                "round": e.round,
                "date": e.point.date,
                "questionnaire": {
                    "id": e.point.questionnaire_id,
                    "version": e.point.version,
                },
                "phase": e.point.phase,
                "pyramid_level": e.point.pyramid_level,
                "overall": e.point.overall,
                "dimensions": dict(e.point.dimensions),
                "percentile": e.point.percentile,
                "version_changed": e.point.version_changed,
                "comparable": list(e.point.comparable),
            }
            for e in entries
        ],
    }


def result_json(res: CombinedResult, plan: Plan | None = None) -> dict[str, Any]:
    q, lang = res.questionnaire, res.organisation.language
    titles = {s.id: s.title.get(lang) for s in q.sections}
    dims = {d.id: d.name.get(lang) for d in q.dimensions}
    score = None
    if res.score is not None:
        score = {
            "phase": res.score.phase,
            "pyramid_level": res.score.reached_tier,
            "blocked_by": res.score.blocked_by,
            "overall": res.score.overall,
            "dimensions": dict(res.score.dimensions),
        }
    return {
        "round": res.round,
        "respondents_submitted": res.submitted,
        "combined": {
            qid: {
                "option": c.option_id,
                "method": c.method,
                "respondents": c.respondents,
                "substantive": c.substantive,
            }
            for qid, c in res.combined.items()
        },
        "uncovered_sections": list(res.uncovered),
        "score": score,
        "gaps": [
            {
                "kind": g.kind,
                "id": g.id,
                "label": (titles if g.kind == "section" else dims).get(g.id, g.id),
                "combined": g.combined,
                "min": g.min,
                "max": g.max,
                "range": g.range,
                "lowest": list(g.lowest),
                "highest": list(g.highest),
                "scores": [
                    {"respondent": s.respondent_id, "role": s.role, "score": s.score}
                    for s in g.scores
                ],
                "questions": list(g.questions),
            }
            for g in res.gaps
        ],
        **({} if plan is None else {"plan": plan_json(plan)}),
    }


def round_json(r: Round, previous: Round | None) -> dict[str, Any]:
    return {
        "number": r.number,
        "closed_at": r.closed_at,
        "questionnaire": {"id": r.questionnaire_id, "version": r.version},
        "version_changed": previous is not None
        and (previous.questionnaire_id, previous.version)
        != (r.questionnaire_id, r.version),
        "assessment_id": r.assessment_id,
        "respondents": r.respondents,
        "phase": r.phase,
        "pyramid_level": r.pyramid_level,
        "overall": r.overall,
        "dimensions": dict(r.dimensions),
        "included": r.included,
    }


def rounds_json(rounds: list[Round]) -> dict[str, Any]:
    return {
        "items": [
            round_json(r, rounds[i - 1] if i else None) for i, r in enumerate(rounds)
        ]
    }


# --- the bodies the owner's and the partner's routes share -----------------------------------
def _owner(oid: str, partner_id: str | None) -> Organisation:
    token = None if partner_id is not None else header("x-organisation-token")
    return container().organisations.authorize(oid, token, partner_id)


def create(partner_id: str | None) -> Response:
    from chalicelib.organisation_models import OrganisationIn

    view = container().organisations.create(body(OrganisationIn), partner_id)
    base = PUBLIC if partner_id is None else "/v1/partner/organisations"
    return json_response(
        organisation_json(view),
        201,
        {"Location": f"{base}/{view.organisation.id}"},
    )


def partner_list(partner_id: str) -> Response:
    from chalicelib.organisation_service import OrganisationView

    found = container().organisations.partner_organisations(partner_id)
    return json_response(
        {
            "items": [
                organisation_json(OrganisationView(o, ()), brief=True) for o in found
            ]
        }
    )


def get(oid: str, partner_id: str | None) -> Response:
    return json_response(
        organisation_json(container().organisations.view(_owner(oid, partner_id)))
    )


def erase(oid: str, partner_id: str | None) -> Response:
    service = container().organisations
    service.erase(_owner(oid, partner_id))
    return no_content()


def invite(oid: str, partner_id: str | None) -> Response:
    from chalicelib.organisation_models import RespondentIn
    from chalicelib.organisation_service import RespondentState

    service = container().organisations
    invitation = body(RespondentIn)  # reads nothing: a bad body is a 4xx for anyone
    org = _owner(oid, partner_id)
    respondent, token = service.invite(org, invitation)
    out = _respondent_json(RespondentState(respondent, None))
    return json_response({**out, "invite_token": token}, 201)


def result(oid: str, partner_id: str | None) -> Response:
    services = container()
    org = _owner(oid, partner_id)
    combined = services.organisations.result(org)
    plan = services.organisation_roadmaps.plan(org, combined=combined)
    return json_response(result_json(combined, plan))


def set_target(oid: str, partner_id: str | None) -> Response:
    from chalicelib.request_models import TargetIn

    services = container()
    language = lang_of()  # the query first, then the body: neither reads anything
    wanted = body(TargetIn)  # a bad body is a 4xx for anyone
    org = _owner(oid, partner_id)
    services.organisation_roadmaps.set_target(org, wanted)
    return json_response(plan_json(services.organisation_roadmaps.plan(org, language)))


def get_roadmap(oid: str, partner_id: str | None) -> Response:
    services = container()
    language = lang_of()
    org = _owner(oid, partner_id)
    return json_response(plan_json(services.organisation_roadmaps.plan(org, language)))


def assign_step(oid: str, qid: str, partner_id: str | None) -> Response:
    from chalicelib.organisation_models import StepAssignmentIn

    services = container()
    language = lang_of()
    change = body(StepAssignmentIn)
    org = _owner(oid, partner_id)
    services.organisation_roadmaps.assign(org, qid, change)
    return json_response(plan_json(services.organisation_roadmaps.plan(org, language)))


def export_roadmap(oid: str, partner_id: str | None) -> Response:
    from chalicelib.exports import CONTENT_TYPES
    from chalicelib.exports.roadmap_export import check_roadmap_format

    services = container()
    fmt = check_roadmap_format(params().get("format", "pdf"))
    language = lang()
    org = _owner(oid, partner_id)
    refused = not_acceptable(CONTENT_TYPES[fmt])
    if refused is not None:
        return refused
    return download(services.organisation_roadmaps.export(org, fmt, language))


def get_history(oid: str, partner_id: str | None) -> Response:
    services = container()
    asked = lang_of()
    org = _owner(oid, partner_id)
    language = asked or org.language
    entries = services.organisation_roadmaps.history(org, language)
    q = services.organisations.questionnaire_of(org)
    return json_response(history_json(entries, q, language))


def lang_of() -> str | None:
    """The ``lang`` query parameter when given (checked), else None: the organisation's."""
    return lang() if params().get("lang") else None


def close_round(oid: str, partner_id: str | None) -> Response:
    service = container().organisations
    org = _owner(oid, partner_id)
    closed: ClosedRound = service.close_round(org)
    rounds = service.rounds(org)
    previous = [r for r in rounds if r.number == closed.round.number - 1]
    out = round_json(closed.round, previous[0] if previous else None)
    return json_response({**out, "result_token": closed.result_token}, 201)


def list_rounds(oid: str, partner_id: str | None) -> Response:
    service = container().organisations
    return json_response(rounds_json(service.rounds(_owner(oid, partner_id))))


def _round_number(raw: str) -> int:
    from chalicelib.errors import InvalidInput

    if not raw.isdigit() or len(raw) > 6 or int(raw) < 1:
        raise InvalidInput(
            "round must be a positive integer",
            [("/query/round", f"{raw!r} is not a round number")],
        )
    return int(raw)


# --- the owner's routes --------------------------------------------------------------------------
@organisations.route(PUBLIC, methods=["POST"])
@problems
def create_organisation() -> Response:
    return create(None)


@organisations.route(PUBLIC + "/{oid}", methods=["GET"])
@problems
def get_organisation(oid: str) -> Response:
    return get(oid, None)


@organisations.route(PUBLIC + "/{oid}", methods=["DELETE"])
@problems
def erase_organisation(oid: str) -> Response:
    return erase(oid, None)


@organisations.route(PUBLIC + "/{oid}/respondents", methods=["POST"])
@problems
def invite_respondent(oid: str) -> Response:
    return invite(oid, None)


@organisations.route(PUBLIC + "/{oid}/answers", methods=["GET"])
@problems
def organisation_answers(oid: str) -> Response:
    """Every respondent's own answers: the owner's route only (no partner twin)."""
    service = container().organisations
    org = _owner(oid, None)
    raw = params().get("round")
    number = None if raw is None else _round_number(raw)
    view = service.answers(org, number)
    return json_response(answers_json(view, number or org.current_round))


@organisations.route(PUBLIC + "/{oid}/result", methods=["GET"])
@problems
def organisation_result(oid: str) -> Response:
    return result(oid, None)


@organisations.route(PUBLIC + "/{oid}/rounds", methods=["POST"])
@problems
def close_organisation_round(oid: str) -> Response:
    return close_round(oid, None)


@organisations.route(PUBLIC + "/{oid}/rounds", methods=["GET"])
@problems
def list_organisation_rounds(oid: str) -> Response:
    return list_rounds(oid, None)


@organisations.route(PUBLIC + "/{oid}/target", methods=["PUT"])
@problems
def set_organisation_target(oid: str) -> Response:
    return set_target(oid, None)


@organisations.route(PUBLIC + "/{oid}/roadmap", methods=["GET"])
@problems
def organisation_roadmap(oid: str) -> Response:
    return get_roadmap(oid, None)


@organisations.route(PUBLIC + "/{oid}/roadmap/steps/{qid}", methods=["PATCH"])
@problems
def assign_organisation_step(oid: str, qid: str) -> Response:
    return assign_step(oid, qid, None)


@organisations.route(PUBLIC + "/{oid}/roadmap/export", methods=["GET"])
@problems
def export_organisation_roadmap(oid: str) -> Response:
    return export_roadmap(oid, None)


@organisations.route(PUBLIC + "/{oid}/history", methods=["GET"])
@problems
def organisation_history(oid: str) -> Response:
    return get_history(oid, None)


# --- the respondent's routes ---------------------------------------------------------------------
def _respondent_view(org: Organisation, respondent: Respondent) -> dict[str, Any]:
    from chalicelib import organisations as domain

    service = container().organisations
    saved = service.own_answers(org, respondent)
    q = service.questionnaire_of(org)
    return {
        "organisation": org.name,
        "role": respondent.role,
        "sections": domain.owned_sections(q, respondent),
        "questionnaire": {"id": org.questionnaire_id, "version": org.version},
        "language": org.language,
        "round": org.current_round,
        "status": "invited" if saved is None else saved.status,
        "answers": {} if saved is None else dict(saved.answers),
    }


@organisations.route("/v1/respondent", methods=["GET"])
@problems
def get_invitation() -> Response:
    """The invitation behind X-Respondent-Token: organisation, role, sections, own answers."""
    org, respondent = container().organisations.respondent_of(
        header("x-respondent-token")
    )
    return json_response(_respondent_view(org, respondent))


@organisations.route("/v1/respondent/answers", methods=["PUT"])
@problems
def save_respondent_answers() -> Response:
    from chalicelib.organisation_models import RespondentAnswersIn

    service = container().organisations
    answers = body(RespondentAnswersIn)  # reads nothing: a bad body is a 4xx for anyone
    org, respondent = service.respondent_of(header("x-respondent-token"))
    service.save_answers(org, respondent, answers)
    return json_response(_respondent_view(org, respondent))
