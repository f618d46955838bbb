"""Pure scoring: answers -> engagement phase, pyramid tiers, dimensions, overall index,
recommendations. Deterministic and free of I/O; versioned with the questionnaire file.

Conventions
- An option's score is 0..1; a "don't know / not applicable" option (score ``None``) excludes
  the question from every aggregate instead of counting as zero.
- Every reported score is an integer 0..100 (round half up), so benchmark histograms hold 101
  bins and percentile ranks computed from them are exact.
- Improving an answer (choosing an option with a higher score) never lowers any score: all
  aggregates are weighted means of option scores, thresholds compare with ``>=`` and the
  placements are monotone in the criteria met.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from chalicelib.questionnaire import TIER_ORDER, Question, Questionnaire

SCORING_VERSION = "1"


@dataclass(frozen=True)
class PhaseCriterion:
    phase: int
    score: int | None  # None: every criterion question answered "don't know"
    met: bool


@dataclass(frozen=True)
class TierResult:
    id: str
    score: int | None
    met: bool


@dataclass(frozen=True)
class Recommendation:
    question_id: str
    target: str  # "phase:4", "tier:safety" or "dimension:crisis"
    gap: float  # weighted distance to the best option, 0..weight
    text: str


@dataclass(frozen=True)
class ScoreResult:
    questionnaire_id: str
    version: str
    phase: int
    phase_profile: tuple[PhaseCriterion, ...]
    phases_met_above: tuple[
        int, ...
    ]  # criteria met above the placement: a jagged profile
    tiers: tuple[TierResult, ...]
    reached_tier: str | None
    blocked_by: str | None
    dimensions: Mapping[str, int | None]
    overall: int
    answered: int
    excluded: int
    recommendations: tuple[Recommendation, ...] = field(default=())

    def metrics(self) -> dict[str, int]:
        """The benchmarked metrics, each an integer in its histogram range
        (overall, tiers and dimensions 0..100; phase 0..7; pyramid_level 0..5 where 0 is no tier
        reached and 5 is enlightenment). Unscorable metrics are left out."""
        level = (
            0 if self.reached_tier is None else TIER_ORDER.index(self.reached_tier) + 1
        )
        out: dict[str, int] = {
            "overall": self.overall,
            "phase": self.phase,
            "pyramid_level": level,
        }
        for t in self.tiers:
            if t.score is not None:
                out[f"tier_{t.id}"] = t.score
        for d, s in self.dimensions.items():
            if s is not None:
                out[f"dim_{d}"] = s
        return out


def round_score(x: float) -> int:
    """0..1 -> 0..100, round half up (Python's round() is banker's rounding)."""
    return int(x * 100 + 0.5 + 1e-9)


def option_scores(
    q: Questionnaire, answers: Mapping[str, str]
) -> dict[str, float | None]:
    """Score of each answered scored question (None for "don't know"). Answers are assumed
    validated (see ``validate_answers``)."""
    out: dict[str, float | None] = {}
    index = q.question_index
    for qid, opt in answers.items():
        question = index.get(qid)
        if question is not None and question.kind == "scored":
            out[qid] = question.scored_options[opt]
    return out


def score(
    q: Questionnaire, answers: Mapping[str, str], language: str = "en"
) -> ScoreResult:
    """Score one set of answers against questionnaire ``q``."""
    scores = option_scores(q, answers)
    excluded = sum(1 for s in scores.values() if s is None)
    plan = q.scoring_plan

    def mean_of(key: str) -> int | None:
        total = weight = 0.0
        for qid, w in plan[key]:
            s = scores.get(qid)
            if s is not None:
                total += s * w
                weight += w
        return None if weight == 0 else round_score(total / weight)

    # Engagement ladder: staged placement over phase criteria.
    profile: list[PhaseCriterion] = []
    for p in range(1, 8):
        ps = mean_of(f"phase:{p}")
        profile.append(
            PhaseCriterion(p, ps, ps is not None and ps >= q.thresholds.phase)
        )
    phase = 0
    for c in profile:
        if not c.met:
            break
        phase = c.phase
    above = tuple(c.phase for c in profile if c.met and c.phase > phase + 1)

    # Pyramid: a tier is reached when it and every tier beneath it meet the threshold.
    tiers: list[TierResult] = []
    for t in TIER_ORDER:
        ts = mean_of(f"tier:{t}")
        tiers.append(TierResult(t, ts, ts is not None and ts >= q.thresholds.tier))
    reached: str | None = None
    for tr in tiers:
        if not tr.met:
            break
        reached = tr.id
    first_unmet = next((i for i, tr in enumerate(tiers) if not tr.met), None)
    blocked_by: str | None = None
    if first_unmet is not None and any(tr.met for tr in tiers[first_unmet + 1 :]):
        blocked_by = tiers[first_unmet].id

    # Dimensions: weighted by the question weight times the question's dimension weight.
    dims: dict[str, int | None] = {d.id: mean_of(f"dim:{d.id}") for d in q.dimensions}
    overall = mean_of("overall") or 0

    recs = recommend(q, scores, phase, tiers, dims, language)
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
        answered=len(scores) - excluded,
        excluded=excluded,
        recommendations=recs,
    )


def _gap(question: Question, s: float | None) -> float:
    """Weighted distance to the best option; unanswered / "don't know" counts as a full gap,
    because an unknown practice is something to find out and fix."""
    best = max(o.score for o in question.options if o.score is not None)
    got = 0.0 if s is None else s
    return max(0.0, best - got) * question.weight


def recommend(
    q: Questionnaire,
    scores: Mapping[str, float | None],
    phase: int,
    tiers: list[TierResult],
    dims: Mapping[str, int | None],
    language: str,
    limit: int = 8,
) -> tuple[Recommendation, ...]:
    """Next steps ranked: first the gaps that block the next engagement phase, then those of
    the lowest unmet pyramid tier, then the weakest dimension; largest gap first in each group."""
    groups: list[tuple[str, list[Question]]] = []
    if phase < 7:
        groups.append(
            (
                f"phase:{phase + 1}",
                [x for x in q.scored_questions if x.phase == phase + 1],
            )
        )
    unmet = next((t for t in tiers if not t.met), None)
    if unmet is not None:
        groups.append(
            (f"tier:{unmet.id}", [x for x in q.scored_questions if x.tier == unmet.id])
        )
    scored_dims = [(s, d) for d, s in dims.items() if s is not None]
    if scored_dims:
        _, weakest = min(scored_dims)
        groups.append(
            (
                f"dimension:{weakest}",
                [
                    x
                    for x in q.scored_questions
                    if any(w.id == weakest for w in x.dimensions)
                ],
            )
        )
    out: list[Recommendation] = []
    seen: set[str] = set()
    for target, questions in groups:
        ranked = sorted(
            ((_gap(x, scores.get(x.id)), i, x) for i, x in enumerate(questions)),
            key=lambda t: (-t[0], t[1]),
        )
        for gap, _, x in ranked:
            if gap <= 0 or x.id in seen or x.recommendation is None:
                continue
            seen.add(x.id)
            out.append(
                Recommendation(
                    x.id, target, round(gap, 4), x.recommendation.get(language)
                )
            )
    return tuple(out[:limit])
