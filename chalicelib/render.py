"""The edge: turn questionnaires and the use cases' typed results (``chalicelib.results``)
into the JSON the API returns, in one language. Nothing else serialises a result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.questionnaire import Questionnaire, Text, Tier
from chalicelib.scoring import NOT_ASSESSABLE, ScoreResult

if TYPE_CHECKING:
    from chalicelib.cohorts import Cohort
    from chalicelib.privacy import Release
    from chalicelib.records import AssessmentRecord, Draft
    from chalicelib.release_service import ReleaseInfo
    from chalicelib.results import (
        AssessmentView,
        CohortComparison,
        CohortStatistics,
        Comparison,
        ConsultantCohortStatistics,
        Frame,
        MetricStatistics,
        Progress,
        ScoreView,
    )

NOT_ASSESSABLE_PHASE = (
    Text(de="Nicht beurteilbar", en="Not assessable"),
    Text(
        de="Die Antworten reichen nicht aus, um die Engagement-Phase zu bestimmen: Zu viele "
        "Fragen der ersten Phase sind mit „Weiß nicht“ beantwortet. Klären Sie die offenen "
        "Punkte und wiederholen Sie den Check.",
        en="The answers are not enough to place the engagement phase: too many questions of "
        'the first phase are answered "Don\'t know". Clear up the open points and take '
        "the check again.",
    ),
)
LOW_COVERAGE = Text(
    de="Geringe Aussagekraft: Nur {answered} von {applicable} zutreffenden Fragen sind "
    "beantwortet ({percent} %), der Rest mit „Weiß nicht“. Das Ergebnis beruht auf wenigen "
    "Angaben.",
    en="Low coverage: only {answered} of {applicable} applicable questions are answered "
    '({percent}%), the rest are "Don\'t know". The result rests on few answers.',
)
JAGGED = Text(
    de="Ihre Antworten zeigen bereits Merkmale von {above}. Die Einstufung bleibt trotzdem "
    "bei Phase {phase}, weil die Phasen aufeinander aufbauen und Phase {next} ({next_name}) "
    "{next_state}. Das ist ein Befund, kein Fehler: Schließen Sie zuerst die Lücke in Phase "
    "{next}, damit das, was Sie weiter oben schon tun, auf festem Grund steht.",
    en="Your answers already show signs of {above}. The placement still stays at phase "
    "{phase}, because the phases build on each other and phase {next} ({next_name}) "
    "{next_state}. This is a finding, not an error: close the gap in phase {next} first, so "
    "that what you already do further up stands on firm ground.",
)
NEXT_STATE = {
    "not_met": Text(de="noch nicht erfüllt ist", en="is not met yet"),
    NOT_ASSESSABLE: Text(
        de="wegen „Weiß nicht“-Antworten nicht beurteilbar ist",
        en='cannot be assessed because of "Don\'t know" answers',
    ),
}
BRIDGED = Text(
    de="Phase {phase} ({name}) ist knapp nicht erfüllt – ein Merkmal fehlt. Weil Ihre "
    "Antworten darüber schon erfüllte Phasen zeigen, wird sie für die Einstufung angerechnet.",
    en="Phase {phase} ({name}) is narrowly not met – one sign is missing. Because your "
    "answers show met phases above it, it counts for the placement.",
)


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
                | ({"kind": x.option_kinds[o.id]} if x.kind == "scored" else {})
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


def _phase_list(numbers: list[int], phases: Mapping[int, Any], language: str) -> str:
    names = [f"{n} ({phases[n].name.get(language)})" for n in numbers]
    word = "Phase" if len(names) == 1 else ("Phasen" if language == "de" else "phases")
    if language != "de" and len(names) == 1:
        word = "phase"
    joined = (
        names[0]
        if len(names) == 1
        else ", ".join(names[:-1])
        + (" und " if language == "de" else " and ")
        + names[-1]
    )
    return f"{word} {joined}"


def explain_profile(
    q: Questionnaire, r: ScoreResult, language: str
) -> dict[str, str | None]:
    """Plain-language notes on a jagged profile and on a bridged rung (rules 2)."""
    phases = {p.number: p for p in q.phases}
    jagged = None
    if r.phases_met_above and r.phase is not None and r.phase < 7:
        nxt = r.phase_profile[r.phase]
        jagged = JAGGED.get(language).format(
            above=_phase_list(list(r.phases_met_above), phases, language),
            phase=r.phase,
            next=nxt.phase,
            next_name=phases[nxt.phase].name.get(language),
            next_state=NEXT_STATE.get(nxt.status, NEXT_STATE["not_met"]).get(language),
        )
    bridged = next((c for c in r.phase_profile if c.bridged), None)
    return {
        "jagged": jagged,
        "bridged": None
        if bridged is None
        else BRIDGED.get(language).format(
            phase=bridged.phase, name=phases[bridged.phase].name.get(language)
        ),
    }


def coverage_json(r: ScoreResult, language: str) -> dict[str, Any]:
    c = r.coverage
    return {
        "answered": c.answered,
        "dont_know": c.dont_know,
        "not_applicable": c.not_applicable,
        "applicable": c.applicable,
        "share": round(c.share, 2),
        "low": c.low,
        "note": LOW_COVERAGE.get(language).format(
            answered=c.answered,
            applicable=c.applicable,
            percent=round(100 * c.share),
        )
        if c.low
        else None,
    }


def phase_texts(q: Questionnaire, r: ScoreResult, language: str) -> tuple[str, str]:
    """The placed phase's name and description (or why it is not assessable)."""
    if r.phase is None:
        name, description = (t.get(language) for t in NOT_ASSESSABLE_PHASE)
        return name, description
    phase = next(p for p in q.phases if p.number == r.phase)
    return phase.name.get(language), phase.description.get(language)


def render_result(
    q: Questionnaire,
    r: ScoreResult,
    language: str,
    answers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``answers`` (when given) mark which criteria of the next phase are already met (the
    best option chosen; under rules 2: the behaviour is shown) and list what the answers show
    for the placed phase."""
    phases = {p.number: p for p in q.phases}
    tiers: dict[str, Tier] = {t.id: t for t in q.tiers}
    dims = {d.id: d for d in q.dimensions}
    rules_2 = r.scoring_rules == "2"
    next_phase = (r.phase or 0) + 1 if (r.phase or 0) < 7 else None
    missing: list[dict[str, Any]] = []
    if next_phase is not None:
        for x in q.scored_questions:
            if x.phase == next_phase:
                item: dict[str, Any] = {
                    "question_id": x.id,
                    "text": x.text.get(language),
                }
                if answers is not None:
                    values = x.option_evidence if rules_2 else x.scored_options
                    best = max(s for s in values.values() if s is not None)
                    item["met"] = values.get(answers.get(x.id, "")) == best
                    # the answer given and the least answer that meets the criterion
                    given = x.option_index.get(answers.get(x.id, ""))
                    needed = min(
                        (o for o in x.options if values.get(o.id) == best),
                        key=lambda o: o.score or 0.0,
                    )
                    item["answer"] = given.id if given else None
                    item["answer_label"] = given.label.get(language) if given else None
                    item["needed_answer"] = needed.id
                    item["needed_label"] = needed.label.get(language)
                    item["key"] = rules_2 and x.phase_need
                missing.append(item)
    shown: list[dict[str, Any]] = []
    if rules_2 and answers is not None and r.phase:
        for x in q.scored_questions:
            if x.phase == r.phase and x.id in answers:
                opt = x.option_index.get(answers[x.id])
                if opt is not None:
                    shown.append(
                        {
                            "question_id": x.id,
                            "text": x.text.get(language),
                            "answer": opt.id,
                            "label": opt.label.get(language),
                            "shows": (x.option_evidence.get(opt.id) or 0) > 0,
                        }
                    )
    name, description = phase_texts(q, r, language)
    notes = explain_profile(q, r, language)
    return {
        "scoring_rules": r.scoring_rules,
        "assessable": r.assessable,
        "coverage": coverage_json(r, language),
        "phase": {
            "number": r.phase,
            "status": "not_assessable" if r.phase is None else "placed",
            "name": name,
            "description": description,
            "evidence": shown,
            "jagged_note": notes["jagged"],
            "bridged_note": notes["bridged"],
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
                    # what the criterion needs (rules 2: per phase, else the default)
                    "threshold": (phases[c.phase].threshold if rules_2 else None)
                    or q.thresholds.phase,
                    "met": c.met,
                    "status": c.status,
                    "bridged": c.bridged,
                    "answered": c.answered,
                    "items": c.items,
                }
                for c in r.phase_profile
            ],
            "met_above": list(r.phases_met_above),
        },
        "pyramid": {
            "status": "assessable" if r.pyramid_assessable else "not_assessable",
            "tiers": [
                {
                    "id": t.id,
                    "name": tiers[t.id].name.get(language),
                    "score": t.score,
                    "met": t.met,
                    "status": t.status,
                    "missing_needs": list(t.missing_needs),
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


def assessment_header(rec: AssessmentRecord, language: str) -> dict[str, Any]:
    """What every view of a stored assessment starts with (the result, the partner list):
    questionnaire, language, dates, cohort and benchmark inclusion; no answers, no token."""
    return {
        "questionnaire": {"id": rec.questionnaire_id, "version": rec.version},
        "language": language,
        "created_at": rec.created_at,
        "previous_id": rec.previous_id,
        "cohort": {
            "industry": rec.industry,
            "size": rec.size,
            "country": rec.country,
            "region": rec.region,
        },
        "benchmark": {
            "consent": rec.consent,
            "included": rec.included,
            "exclusion_reasons": list(rec.exclusion_reasons),
        },
    }


# --- questionnaires, scores, assessments, drafts --------------------------------------------
def questionnaire_items(qs: list[Questionnaire], language: str) -> list[dict[str, Any]]:
    """The items of ``GET /v1/questionnaires``."""
    return [
        {
            "id": q.id,
            "version": q.version,
            "title": q.title.get(language),
            "questions": len(q.questions),
            "href": f"/v1/questionnaires/{q.id}/{q.version}?lang={language}",
        }
        for q in qs
    ]


def questionnaire_json(q: Questionnaire, language: str) -> dict[str, Any]:
    return render_questionnaire(q, language)


def score_json(view: ScoreView) -> dict[str, Any]:
    q, c = view.questionnaire, view.cohort
    return {
        "questionnaire": {"id": q.id, "version": q.version},
        "language": view.language,
        "cohort": {
            "industry": c.industry,
            "size": c.size,
            "country": c.country,
            "region": c.region,
            "consent": c.consent,
        },
        "result": render_result(q, view.score, view.language, view.answers),
    }


def assessment_json(view: AssessmentView) -> dict[str, Any]:
    """A stored assessment in the language it was scored in: the token only in the response
    to its submission, the partner's reference only for the partner."""
    rec = view.record
    out: dict[str, Any] = {"id": rec.id}
    if view.token is not None:
        out["token"] = view.token
    out.update(assessment_header(rec, view.language))
    out["answers"] = rec.answers
    out["result"] = render_result(
        view.questionnaire, view.score, view.language, rec.answers
    )
    if view.for_partner:
        out["reference"] = rec.partner_ref
    return out


def draft_json(draft: Draft) -> dict[str, Any]:
    d = asdict(draft)
    d["expires_at"] = datetime.fromtimestamp(draft.expires_at, UTC).isoformat()
    d["questionnaire"] = {
        "id": d.pop("questionnaire_id"),
        "version": d.pop("version"),
    }
    return d


# --- benchmarks -----------------------------------------------------------------------------
SOURCE_LABELS = {
    "real": {"en": "real submissions", "de": "echte Teilnahmen"},
    "reference": {"en": "reference (synthetic)", "de": "Referenz (synthetisch)"},
}
POPULATION_LABELS = {
    "users": {
        "en": "organisations that use social media",
        "de": "Organisationen, die soziale Medien nutzen",
    },
    "all": {
        "en": "all organisations, including non-users of social media",
        "de": "alle Organisationen, auch ohne Social-Media-Nutzung",
    },
}
VERSION_NOTE = Text(
    de="Die beiden Ergebnisse stammen aus verschiedenen Fragebogenversionen ({before} und "
    "{after}); jedes ist nach den Regeln seiner Version bewertet. Direkt vergleichbar sind "
    "nur: {metrics}. Die übrigen Veränderungen zeigen auch die geänderten Fragen und Regeln.",
    en="The two results come from different questionnaire versions ({before} and {after}); "
    "each is scored by the rules of its own version. Directly comparable are only: "
    "{metrics}. The other changes also reflect the changed questions and rules.",
)


def population_json(population: str, language: str) -> dict[str, str]:
    return {"id": population, "label": POPULATION_LABELS[population][language]}


def cohort_json(c: Cohort) -> dict[str, Any]:
    return {
        "industry": c.industry,
        "size": c.size,
        "region": c.region,
        "key": c.key,
        "label": c.label(),
    }


def _chosen_json(chosen: Release | None) -> dict[str, Any] | None:
    return None if chosen is None else {**cohort_json(chosen.cohort), "n": chosen.n}


def frame_json(f: Frame, language: str) -> dict[str, Any]:
    """Source, population, the cohort used and the fallback chain (``metrics`` empty)."""
    q = f.questionnaire
    return {
        "questionnaire": {"id": q.id, "version": q.version},
        "source": f.source,
        "source_label": SOURCE_LABELS[f.source][language],
        "source_reason": f.source_reason,
        "synthetic": f.synthetic,
        "population": population_json(f.population, language),
        "status": f.status,
        "k_min": f.k_min,
        "requested_cohort": cohort_json(f.requested),
        "cohort": _chosen_json(f.chosen),
        "fallback": [
            {**cohort_json(s.cohort), "status": s.status, "n": s.n, "reason": s.reason}
            for s in f.fallback
        ],
        "months": None
        if f.months is None
        else {"from": f.months[0], "to": f.months[1]},
        "release": release_json(f.release),
        "metrics": [],
    }


def release_json(info: ReleaseInfo | None) -> dict[str, Any] | None:
    """The benchmark release an answer's figures come from (None: none published yet)."""
    return None if info is None else info.as_json()


def metric_json(q: Questionnaire, m: MetricStatistics, language: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "metric": m.metric,
        "label": q.metric_label(m.metric, language),
    }
    s = m.summary
    if s is None:
        out.update({"n": None, "status": m.status})
    else:
        out.update(
            {
                "n": s.n,
                "status": m.status,
                "mean": s.mean,
                "p10": s.p10,
                "p25": s.p25,
                "median": s.median,
                "p75": s.p75,
                "p90": s.p90,
                "histogram_percent": dict(s.histogram),
            }
        )
    return out


def cohort_statistics_json(stats: CohortStatistics, language: str) -> dict[str, Any]:
    out = frame_json(stats.frame, language)
    q = stats.frame.questionnaire
    out["metrics"] = [metric_json(q, m, language) for m in stats.metrics]
    return out


def comparison_json(c: Comparison, language: str) -> dict[str, Any]:
    out = frame_json(c.frame, language)
    out["assessment_id"] = c.assessment_id
    q = c.frame.questionnaire
    for m in c.metrics:
        entry = metric_json(q, m.statistics, language)
        entry["value"] = m.value
        entry["percentile_rank"] = m.percentile_rank
        if m.statistics.summary is not None:
            entry["distance_to_median"] = m.distance_to_median
            entry["distance_to_top_quartile"] = m.distance_to_top_quartile
        out["metrics"].append(entry)
    if c.peer_phases is not None:
        out["peer_phases"] = dict(c.peer_phases)
    if c.peer_pyramid is not None:
        out["peer_pyramid"] = dict(c.peer_pyramid)
    return out


def progress_json(p: Progress, language: str) -> dict[str, Any]:
    rec, q = p.record, p.questionnaire
    out: dict[str, Any] = {
        "assessment_id": rec.id,
        "previous_id": rec.previous_id,
        "status": p.status,
    }
    prev = p.previous
    if prev is None or p.comparison is None:
        out["changes"] = []
        return out
    same = prev.version == rec.version
    out["previous_created_at"] = prev.created_at[:10]
    out["same_version"] = same
    out["versions"] = {"before": prev.version, "after": rec.version}
    out["version_note"] = (
        None
        if same
        else VERSION_NOTE.get(language).format(
            before=prev.version,
            after=rec.version,
            metrics=", ".join(
                q.metric_label(m, language)
                for m in q.metric_names()
                if m in p.comparable
            )
            or "–",
        )
    )
    frame = p.comparison.frame
    out["cohort"] = _chosen_json(frame.chosen)
    out["source"] = frame.source
    out["source_label"] = SOURCE_LABELS[frame.source][language]
    out["population"] = population_json(frame.population, language)
    out["release"] = release_json(frame.release)
    changes = []
    for ch in p.changes:
        item: dict[str, Any] = {
            "metric": ch.metric,
            "label": q.metric_label(ch.metric, language),
            "before": ch.before,
            "after": ch.after,
            "delta": ch.delta,
            "comparable": ch.comparable,
        }
        if ch.ranked:
            item["percentile_before"] = ch.percentile_before
            item["percentile_after"] = ch.percentile_after
        changes.append(item)
    out["changes"] = changes
    return out


def consultant_statistics_json(
    stats: ConsultantCohortStatistics, language: str
) -> dict[str, Any]:
    out = frame_json(stats.frame, language)
    q = stats.frame.questionnaire
    for m in stats.metrics:
        entry = metric_json(q, m.statistics, language)
        entry["median_ci"] = dict(m.median_ci)
        if m.percentile_rank_ci is not None:
            entry["percentile_rank_ci"] = dict(m.percentile_rank_ci)
        out["metrics"].append(entry)
    return out


def cohort_comparison_json(c: CohortComparison, language: str) -> dict[str, Any]:
    q = c.questionnaire
    return {
        "questionnaire": {"id": q.id, "version": q.version},
        "source": c.source,
        "source_label": SOURCE_LABELS[c.source][language],
        "synthetic": c.synthetic,
        "population": population_json(c.population, language),
        "k_min": c.k_min,
        "a": {**cohort_json(c.a.cohort), "status": c.a.status, "n": c.a.n},
        "b": {**cohort_json(c.b.cohort), "status": c.b.status, "n": c.b.n},
        "release": release_json(c.release),
        "metrics": [
            {
                "metric": m.metric,
                "label": q.metric_label(m.metric, language),
                **m.test,
            }
            for m in c.metrics
        ],
        "status": c.status,
    }
