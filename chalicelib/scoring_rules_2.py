"""Scoring rules "2" (questionnaire 2.0.0 and later; docs/SCORING.md has worked examples).

- **Ladder = behaviour.** A phase criterion reads each option's ``evidence`` (does the
  organisation do this, however clumsily), not its ``score`` (how well), and counts every sign
  once (question weights are about quality). Quality belongs to the tiers, dimensions and the
  overall index.
- **Evidence rules.** A criterion or tier is *assessable* with at least
  ``thresholds.evidence_items`` answered items carrying ``thresholds.evidence_weight`` percent
  of its weight. It is *met* when it would be met even if every "don't know" were the worst
  answer, *not met* when it would fail even if every "don't know" were the best answer, and
  otherwise *not assessable*: the unknown answers decide it. So "don't know" never places
  better than "no".
- **Needs.** Items marked ``phase_need`` / ``tier_need`` are necessary conditions: a criterion
  or tier with a need below ``thresholds.need`` is not met, whatever its mean.
- **Placement.** Staged as before: the phase is the highest p with criteria 1..p met; a not
  assessable criterion stops the climb like an unmet one; if phase 1 itself is not
  assessable the phase is ``None``. A *thin rung* (a criterion that misses by a single sign,
  every item answered, no key item missing) directly below met criteria is bridged: below two
  or more met rungs the climb continues, below a single one the placement is the thin rung.
  So one answer moves the phase by one, not by two or more, through a thin rung (see
  ``_place``). The pyramid is staged without bridging.
- **Blocked by** only for a clear gap: the lowest unmet tier stays unmet if any one of its
  answers were one step better, and some tier above stays met if any one of its answers were
  one step worse.
- **Overall index** only with enough coverage (at least half the applicable questions
  answered); dimension and tier scores are means over their answered items.
- **Advice** follows the chosen option (its ``advice``, a "find out" text for "don't know",
  else the question's recommendation), limited to what blocks the next phase and the next
  tier (Foundation first at phase 1 or below), skipped for organisations smaller than a
  question's ``advice_min_size``; campaign organisations always get the campaign lessons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from chalicelib.questionnaire import TIER_ORDER, Question, Questionnaire, Text
from chalicelib.scoring import (
    MET,
    NOT_ASSESSABLE,
    NOT_MET,
    PhaseCriterion,
    Recommendation,
    ScoreResult,
    TierResult,
    coverage,
    round_score,
)

Value = Callable[[Question, str], float | None]

FIND_OUT = Text(
    de="Klären Sie, wie es bei Ihnen aussieht: „{question}“ Solange das offen ist, lässt "
    "sich diese Stufe nicht sicher beurteilen.",
    en="Find out how things stand: '{question}' As long as this is open, this step cannot "
    "be assessed reliably.",
)
RECOMMENDATION_LIMIT = 8


@dataclass(frozen=True)
class _Assessed:
    status: str
    score: int | None
    answered: int
    items: int
    missing_needs: tuple[str, ...]
    one_sign_short: bool = False  # not met, all answered, one more sign would meet it


def _evidence(x: Question, opt: str) -> float | None:
    return x.option_evidence.get(opt)


def _quality(x: Question, opt: str) -> float | None:
    return x.scored_options.get(opt)


def _assess(
    q: Questionnaire,
    items: list[Question],
    answers: Mapping[str, str],
    value: Value,
    threshold: int,
    is_need: Callable[[Question], bool],
    weighted: bool = True,
) -> _Assessed:
    total = known = got = 0.0
    answered = 0
    needs_failed: list[str] = []
    needs_unknown = False
    for x in items:
        opt = answers.get(x.id, "")
        kind = x.option_kinds.get(opt, "dont_know")
        if kind == "not_applicable":
            continue
        w = x.weight if weighted else 1.0
        total += w
        v = value(x, opt) if kind == "answer" else None
        if v is None:
            if is_need(x):
                needs_unknown = True
            continue
        answered += 1
        known += w
        got += v * w
        if is_need(x) and round_score(v) < q.thresholds.need:
            needs_failed.append(x.id)
    shown = round_score(got / known) if known else None
    enough = (
        total > 0
        and answered >= q.thresholds.evidence_items
        and round_score(known / total) >= q.thresholds.evidence_weight
    )
    pessimistic = round_score(got / total) if total else 0
    optimistic = round_score((got + (total - known)) / total) if total else 0
    if not enough:
        status = NOT_ASSESSABLE
    elif pessimistic >= threshold and not needs_failed and not needs_unknown:
        status = MET
    elif optimistic < threshold or needs_failed:
        status = NOT_MET
    else:
        status = NOT_ASSESSABLE
    short = (
        status == NOT_MET
        and not needs_failed
        and known == total
        and round_score(min(got + 1.0, total) / total) >= threshold
    )
    return _Assessed(status, shown, answered, len(items), tuple(needs_failed), short)


def _phase_items(q: Questionnaire, p: int) -> list[Question]:
    return [x for x in q.scored_questions if x.phase == p]


def _tier_items(q: Questionnaire, t: str) -> list[Question]:
    return [x for x in q.scored_questions if x.tier == t]


def _phase_threshold(q: Questionnaire, p: int) -> int:
    return q.phases[p].threshold or q.thresholds.phase


def _assess_phase(q: Questionnaire, p: int, answers: Mapping[str, str]) -> _Assessed:
    return _assess(
        q,
        _phase_items(q, p),
        answers,
        _evidence,
        _phase_threshold(q, p),
        lambda x: x.phase_need,
        weighted=False,  # every sign of a phase's behaviour counts once
    )


def _assess_tier(q: Questionnaire, t: str, answers: Mapping[str, str]) -> _Assessed:
    return _assess(
        q,
        _tier_items(q, t),
        answers,
        _quality,
        q.thresholds.tier,
        lambda x: x.tier_need,
    )


def _ordered_answers(x: Question) -> list[str]:
    return [
        o.id
        for o in sorted(
            (o for o in x.options if x.option_kinds[o.id] == "answer"),
            key=lambda o: o.score or 0.0,
        )
    ]


def _neighbours(x: Question, opt: str, step: int) -> str | None:
    ordered = _ordered_answers(x)
    if opt not in ordered:
        return None
    i = ordered.index(opt) + step
    return ordered[i] if 0 <= i < len(ordered) else None


def _robust(
    q: Questionnaire, t: str, answers: Mapping[str, str], step: int, want: str
) -> bool:
    """True when tier ``t`` keeps status ``want`` whichever single answer of it moves one
    step (+1 better, -1 worse)."""
    for x in _tier_items(q, t):
        moved = _neighbours(x, answers.get(x.id, ""), step)
        if (
            moved is not None
            and _assess_tier(q, t, dict(answers, **{x.id: moved})).status != want
        ):
            return False
    return True


def _place(assessed: list[_Assessed]) -> tuple[int | None, int | None]:
    """Staged placement over the criteria of phases 1..7 and the bridged rung, if any.

    A *thin rung* (not met, short by a single sign, every item answered, no key item missing)
    directly below met criteria is bridged: below two or more met rungs the climb goes on to
    the top of them; below a single met rung the placement is the thin rung itself (the rung
    above is not confirmed yet). At most one rung is bridged."""
    if assessed[0].status == NOT_ASSESSABLE:
        return None, None
    phase, bridged = 0, None
    i = 0
    while i < len(assessed):
        a = assessed[i]
        if a.status == MET:
            phase = i + 1
            i += 1
            continue
        if bridged is None and a.one_sign_short:
            run = 0
            while i + 1 + run < len(assessed) and assessed[i + 1 + run].status == MET:
                run += 1
            if run >= 2:
                bridged, phase, i = i + 1, i + 1 + run, i + 1 + run
                continue
            if run == 1:
                bridged, phase = i + 1, i + 1
        break
    return phase, bridged


def _weighted_mean(
    q: Questionnaire, key: str, scores: Mapping[str, float | None]
) -> int | None:
    total = weight = 0.0
    for qid, w in q.scoring_plan[key]:
        s = scores.get(qid)
        if s is not None:
            total += s * w
            weight += w
    return None if weight == 0 else round_score(total / weight)


def score(q: Questionnaire, answers: Mapping[str, str], language: str) -> ScoreResult:
    scores: dict[str, float | None] = {}
    for x in q.scored_questions:
        if x.id in answers:
            scores[x.id] = x.scored_options.get(answers[x.id])
    cov = coverage(q, answers)

    assessed = [_assess_phase(q, p, answers) for p in range(1, 8)]
    phase, bridged = _place(assessed)
    profile = [
        PhaseCriterion(
            p,
            a.score,
            a.status == MET,
            a.status,
            a.answered,
            a.items,
            a.missing_needs,
            p == bridged,
        )
        for p, a in zip(range(1, 8), assessed, strict=True)
    ]
    above = tuple(
        c.phase for c in profile if c.status == MET and c.phase > (phase or 0) + 1
    )

    tiers: list[TierResult] = []
    for t in TIER_ORDER:
        a = _assess_tier(q, t, answers)
        tiers.append(
            TierResult(
                t,
                a.score,
                a.status == MET,
                a.status,
                a.answered,
                a.items,
                a.missing_needs,
            )
        )
    pyramid_assessable = tiers[0].status != NOT_ASSESSABLE
    reached: str | None = None
    for tr in tiers:
        if tr.status != MET:
            break
        reached = tr.id
    blocked_by: str | None = None
    first = next((i for i, tr in enumerate(tiers) if tr.status != MET), None)
    if first is not None and tiers[first].status == NOT_MET:
        base = tiers[first].id
        if _robust(q, base, answers, +1, NOT_MET) and any(
            tr.status == MET and _robust(q, tr.id, answers, -1, MET)
            for tr in tiers[first + 1 :]
        ):
            blocked_by = base

    dims = {d.id: _weighted_mean(q, f"dim:{d.id}", scores) for d in q.dimensions}
    # an index over a few answers says little: with low coverage there is none
    overall = None if cov.low else _weighted_mean(q, "overall", scores)
    recs = recommend(q, answers, phase, tiers, language)
    return ScoreResult(
        questionnaire_id=q.id,
        version=q.version,
        phase=phase,
        phase_profile=tuple(profile),
        phases_met_above=above,
        tiers=tuple(tiers),
        reached_tier=reached,
        blocked_by=blocked_by,
        dimensions=dims,
        overall=overall,
        answered=cov.answered,
        excluded=cov.dont_know + cov.not_applicable,
        recommendations=recs,
        scoring_rules="2",
        coverage=cov,
        pyramid_assessable=pyramid_assessable,
    )


# --- advice ------------------------------------------------------------------------------------
def advice_text(x: Question, opt: str | None, language: str) -> str:
    """The recommendation for an organisation that chose ``opt`` on question ``x``."""
    o = x.option_index.get(opt or "")
    if o is not None and o.advice is not None:
        return o.advice.get(language)
    if o is None or x.option_kinds.get(o.id) == "dont_know":
        return FIND_OUT.get(language).format(question=x.text.get(language))
    assert x.recommendation is not None  # validated: scored questions have one
    return x.recommendation.get(language)


def _too_small(q: Questionnaire, x: Question, answers: Mapping[str, str]) -> bool:
    if x.advice_min_size is None:
        return False
    sq = q.context_question("size")
    order = [o.id for o in sq.options]
    size = answers.get(sq.id)
    return size in order and order.index(size) < order.index(x.advice_min_size)


def _gaps(
    items: Iterable[Question], answers: Mapping[str, str], value: Value, needs: set[str]
) -> list[tuple[float, Question]]:
    """(gap, question) for items short of their best answer; unknown counts as a full gap;
    missing needs first, then the largest weighted gap."""
    out: list[tuple[bool, float, int, Question]] = []
    for i, x in enumerate(items):
        opt = answers.get(x.id, "")
        kind = x.option_kinds.get(opt, "dont_know")
        if kind == "not_applicable":
            continue
        best = max(value(x, o) or 0.0 for o in _ordered_answers(x))
        got = (value(x, opt) or 0.0) if kind == "answer" else 0.0
        gap = (best - got) * x.weight
        if gap > 1e-9:
            out.append((x.id not in needs, -gap, i, x))
    out.sort(key=lambda t: (t[0], t[1], t[2]))
    return [(-g, x) for _, g, _, x in out]


def is_campaign_organisation(q: Questionnaire, answers: Mapping[str, str]) -> bool:
    for x in q.scored_questions:
        if x.campaign_indicator:
            opt = answers.get(x.id, "")
            if x.option_kinds.get(opt) == "answer" and (_evidence(x, opt) or 0) >= 0.5:
                return True
    return False


def recommend(
    q: Questionnaire,
    answers: Mapping[str, str],
    phase: int | None,
    tiers: list[TierResult],
    language: str,
) -> tuple[Recommendation, ...]:
    """What blocks the next phase (missing signs, key item first) and the lowest unmet tier
    (named needs first, then the largest weighted gap), Foundation first at phase 1 or below;
    the campaign lessons for campaign organisations; at most ``RECOMMENDATION_LIMIT``."""
    groups: list[tuple[str, list[tuple[float, Question]]]] = []
    nxt = (phase or 0) + 1
    if nxt <= 7:
        needs = {x.id for x in _phase_items(q, nxt) if x.phase_need}
        groups.append(
            (f"phase:{nxt}", _gaps(_phase_items(q, nxt), answers, _evidence, needs))
        )
    unmet = next((t for t in tiers if t.status != MET), None)
    if unmet is not None:
        items = _tier_items(q, unmet.id)
        needs = {x.id for x in items if x.tier_need}
        tier_group = (f"tier:{unmet.id}", _gaps(items, answers, _quality, needs))
        # "goals first": at phase 1 or below the foundation comes before the next phase
        if unmet.id == "foundation" and (phase is None or phase <= 1):
            groups.insert(0, tier_group)
        else:
            groups.append(tier_group)
    lessons: list[Recommendation] = []
    seen: set[str] = set()
    if is_campaign_organisation(q, answers):
        for x in q.scored_questions:
            opt = answers.get(x.id, "")
            kind = x.option_kinds.get(opt, "dont_know")
            if not x.campaign_lesson or kind == "not_applicable":
                continue
            best = _ordered_answers(x)[-1]
            if opt != best:
                seen.add(x.id)
                lessons.append(
                    Recommendation(
                        x.id,
                        "campaign",
                        round((1 - (_quality(x, opt) or 0.0)) * x.weight, 4),
                        advice_text(x, opt, language),
                    )
                )
    out: list[Recommendation] = []
    for target, ranked in groups:
        for gap, x in ranked:
            if x.id in seen or _too_small(q, x, answers):
                continue
            seen.add(x.id)
            out.append(
                Recommendation(
                    x.id,
                    target,
                    round(gap, 4),
                    advice_text(x, answers.get(x.id), language),
                )
            )
    keep = max(0, RECOMMENDATION_LIMIT - len(lessons))
    # the campaign lessons are never cut; they follow the first group
    first = [r for r in out if r.target == (groups[0][0] if groups else "")][:keep]
    rest = [r for r in out if r not in first][: max(0, keep - len(first))]
    return tuple(first + lessons + rest)
