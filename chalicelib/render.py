"""Turn questionnaires and score results into the JSON the API returns, in one language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.questionnaire import Questionnaire, Tier
from chalicelib.scoring import ScoreResult


def render_questionnaire(q: Questionnaire, language: str) -> dict[str, Any]:
    def question(x: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": x.id,
            "kind": x.kind,
            "text": x.text.get(language),
            "required": x.required,
            "options": [
                {
                    "id": o.id,
                    "label": o.label.get(language),
                    "excluded": x.kind == "scored" and o.score is None,
                }
                | ({"region": o.region} if o.region else {})
                for o in x.options
            ],
        }
        if x.role:
            out["role"] = x.role
        if x.help:
            out["help"] = x.help.get(language)
        if x.phase is not None:
            out["phase"] = x.phase
        if x.tier:
            out["tier"] = x.tier
        if x.dimensions:
            out["dimensions"] = [d.id for d in x.dimensions]
        return out

    return {
        "id": q.id,
        "version": q.version,
        "language": language,
        "title": q.title.get(language),
        "description": q.description.get(language),
        "phases": [
            {
                "number": p.number,
                "name": p.name.get(language),
                "description": p.description.get(language),
            }
            for p in q.phases
        ],
        "tiers": [
            {
                "id": t.id,
                "name": t.name.get(language),
                "description": t.description.get(language),
            }
            for t in q.tiers
        ],
        "dimensions": [
            {
                "id": d.id,
                "name": d.name.get(language),
                "description": d.description.get(language),
            }
            for d in q.dimensions
        ],
        "sections": [
            {
                "id": s.id,
                "title": s.title.get(language),
                "description": s.description.get(language) if s.description else None,
                "questions": [question(x) for x in s.questions],
            }
            for s in q.sections
        ],
    }


def render_result(
    q: Questionnaire,
    r: ScoreResult,
    language: str,
    answers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``answers`` (when given) mark which criteria of the next phase are already met (the
    best option chosen)."""
    phases = {p.number: p for p in q.phases}
    tiers: dict[str, Tier] = {t.id: t for t in q.tiers}
    dims = {d.id: d for d in q.dimensions}
    next_phase = r.phase + 1 if r.phase < 7 else None
    missing: list[dict[str, Any]] = []
    if next_phase is not None:
        for x in q.scored_questions:
            if x.phase == next_phase:
                item: dict[str, Any] = {
                    "question_id": x.id,
                    "text": x.text.get(language),
                }
                if answers is not None:
                    best = max(s for s in x.scored_options.values() if s is not None)
                    item["met"] = x.scored_options.get(answers.get(x.id, "")) == best
                missing.append(item)
    return {
        "phase": {
            "number": r.phase,
            "name": phases[r.phase].name.get(language),
            "description": phases[r.phase].description.get(language),
            "next": None
            if next_phase is None
            else {
                "number": next_phase,
                "name": phases[next_phase].name.get(language),
                "criteria": missing,
            },
            "profile": [
                {
                    "phase": c.phase,
                    "name": phases[c.phase].name.get(language),
                    "score": c.score,
                    "met": c.met,
                }
                for c in r.phase_profile
            ],
            "met_above": list(r.phases_met_above),
        },
        "pyramid": {
            "tiers": [
                {
                    "id": t.id,
                    "name": tiers[t.id].name.get(language),
                    "score": t.score,
                    "met": t.met,
                }
                for t in r.tiers
            ],
            "reached": r.reached_tier,
            "reached_name": tiers[r.reached_tier].name.get(language)
            if r.reached_tier
            else None,
            "blocked_by": r.blocked_by,
            "threshold": q.thresholds.tier,
        },
        "dimensions": [
            {"id": d, "name": dims[d].name.get(language), "score": s}
            for d, s in r.dimensions.items()
        ],
        "overall": r.overall,
        "answered": r.answered,
        "excluded": r.excluded,
        "metrics": r.metrics(),
        "recommendations": [
            {
                "rank": i + 1,
                "question_id": rec.question_id,
                "target": rec.target,
                "text": rec.text,
            }
            for i, rec in enumerate(r.recommendations)
        ],
    }
