"""JSON bodies of the organisation records (chalicelib/organisations.py), shared by both
adapters like ``codec.py`` (sorted keys, so both stores hold the same bytes). Pure."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from chalicelib.organisations import Organisation, Respondent, RespondentAnswers, Round
from chalicelib.roadmap import Assignment, Target


def _dump(obj: Any) -> str:
    return json.dumps(asdict(obj), sort_keys=True, separators=(",", ":"))


def organisation_to_json(org: Organisation) -> str:
    return _dump(org)


def organisation_from_json(body: str) -> Organisation:
    return Organisation(**json.loads(body))


def respondent_to_json(r: Respondent) -> str:
    return _dump(r)


def respondent_from_json(body: str) -> Respondent:
    d = json.loads(body)
    d["sections"] = tuple(d["sections"])
    return Respondent(**d)


def answers_to_json(a: RespondentAnswers) -> str:
    return _dump(a)


def answers_from_json(body: str) -> RespondentAnswers:
    return RespondentAnswers(**json.loads(body))


def round_to_json(r: Round) -> str:
    return _dump(r)


def round_from_json(body: str) -> Round:
    return Round(**json.loads(body))


def target_to_json(t: Target) -> str:
    """An organisation's target with its step assignments (owner, due quarter)."""
    return json.dumps(t.as_dict(), sort_keys=True, separators=(",", ":"))


def target_from_json(body: str) -> Target:
    d = json.loads(body)
    return Target(
        phase=d["phase"],
        tier=d["tier"],
        dimensions=dict(d["dimensions"]),
        start_quarter=d["start_quarter"],
        pace=d["pace"],
        assignments={
            qid: Assignment(a["owner"], a["due_quarter"])
            for qid, a in d["assignments"].items()
        },
    )
