"""Pure scoring: answers -> engagement phase, pyramid tiers, dimensions, overall index,
recommendations. Deterministic and free of I/O; versioned with the questionnaire file: a file
declares its ``scoring_rules`` ("1" for 1.0.0, frozen so stored results never change; "2" for
2.0.0, docs/SCORING.md), and ``score`` applies those rules.

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
from dataclasses import dataclass, field, replace

from chalicelib.questionnaire import TIER_ORDER, Question, Questionnaire

SCORING_VERSION = "2"
LOW_COVERAGE_SHARE = 0.5  # below this share of answered questions a result is flagged
MET, NOT_MET, NOT_ASSESSABLE = "met", "not_met", "not_assessable"


@dataclass(frozen=True)
class PhaseCriterion:
    phase: int
    # rules 1: mean score; rules 2: weighted evidence of the answered items, 0..100.
    # None: no criterion question answered
    score: int | None
    met: bool
    status: str = ""  # met / not_met / not_assessable ("" is filled in from ``met``)
    answered: int = 0  # criterion items answered (not "don't know")
    items: int = 0
    missing_needs: tuple[str, ...] = ()  # key items without evidence (rules 2)
    bridged: bool = False  # not met, but bridged in the staged placement (rules 2)

    def __post_init__(self) -> None:
        if not self.status:
            object.__setattr__(self, "status", MET if self.met else NOT_MET)


@dataclass(frozen=True)
class TierResult:
    id: str
    score: int | None
    met: bool
    status: str = ""
    answered: int = 0
    items: int = 0
    missing_needs: tuple[str, ...] = ()  # named needs that are not present (rules 2)

    def __post_init__(self) -> None:
        if not self.status:
            object.__setattr__(self, "status", MET if self.met else NOT_MET)


@dataclass(frozen=True)
class Coverage:
    """How much of the questionnaire the answers cover. "Don't know" (and an unanswered
    question) is missing evidence and lowers the share; "not applicable" removes the question
    from the base instead."""

    scored: int
    answered: int
    dont_know: int
    not_applicable: int

    @property
    def applicable(self) -> int:
        return self.scored - self.not_applicable

    @property
    def share(self) -> float:
        return self.answered / self.applicable if self.applicable else 0.0

    @property
    def low(self) -> bool:
        return self.share < LOW_COVERAGE_SHARE


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
    phase: int | None  # None: not assessable (rules 2)
    phase_profile: tuple[PhaseCriterion, ...]
    phases_met_above: tuple[
        int, ...
    ]  # criteria met above the placement: a jagged profile
    tiers: tuple[TierResult, ...]
    reached_tier: str | None
    blocked_by: str | None
    dimensions: Mapping[str, int | None]
    overall: int | None  # None: coverage too low (rules 2)
    answered: int
    excluded: int
    recommendations: tuple[Recommendation, ...] = field(default=())
    scoring_rules: str = "1"
    coverage: Coverage = field(default_factory=lambda: Coverage(0, 0, 0, 0))
    pyramid_assessable: bool = True  # False: the foundation tier is not assessable

    @property
    def assessable(self) -> bool:
        """False when neither the phase nor the pyramid can be placed."""
        return self.phase is not None or self.pyramid_assessable

    def metrics(self) -> dict[str, int]:
        """The benchmarked metrics, each an integer in its histogram range
        (overall, tiers and dimensions 0..100; phase 0..7; pyramid_level 0..5 where 0 is no tier
        reached and 5 is enlightenment). Unscorable and not assessable metrics are left out,
        so a not-assessable result adds nothing to their histograms."""
        level = (
            0 if self.reached_tier is None else TIER_ORDER.index(self.reached_tier) + 1
        )
        out: dict[str, int] = {}
        if self.overall is not None:
            out["overall"] = self.overall
        if self.phase is not None:
            out["phase"] = self.phase
        if self.pyramid_assessable:
            out["pyramid_level"] = level
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


def coverage(q: Questionnaire, answers: Mapping[str, str]) -> Coverage:
    answered = dont_know = not_applicable = 0
    for x in q.scored_questions:
        kind = x.option_kinds.get(answers.get(x.id, ""), "dont_know")
        if kind == "answer":
            answered += 1
        elif kind == "not_applicable":
            not_applicable += 1
        else:
            dont_know += 1
    return Coverage(len(q.scored_questions), answered, dont_know, not_applicable)


def score(
    q: Questionnaire, answers: Mapping[str, str], language: str = "en"
) -> ScoreResult:
    """Score one set of answers against questionnaire ``q`` with the rules it declares."""
    if q.scoring_rules == "2":
        from chalicelib import scoring_rules_2

        return scoring_rules_2.score(q, answers, language)
    return replace(_score_rules_1(q, answers, language), coverage=coverage(q, answers))


def _score_rules_1(
    q: Questionnaire, answers: Mapping[str, str], language: str
) -> ScoreResult:
    """The rules of version 1.0.0, unchanged: stored 1.0.0 results render as they were."""
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

    recs = recommend(q, scores, phase, tiers, dims, language)  # rules 1
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
    """Rules 1: next steps ranked: first the gaps that block the next engagement phase, then
    those of the lowest unmet pyramid tier, then the weakest dimension; largest gap first in
    each group."""
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
