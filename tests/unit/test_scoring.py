"""Scoring rules "1" (questionnaire 1.0.0, frozen so stored 1.0.0 results never change):
properties over random answer sets (hypothesis) and organisations from the seeds. The rules of
2.0.0 are tested in test_scoring_rules_2.py and test_profiles.py."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import scoring
from chalicelib.questionnaire import TIER_ORDER, Questionnaire, get_catalog
from tests import orgs
from tests.conftest import ROOT

Q: Questionnaire = get_catalog(str(ROOT / "questionnaires")).get("smm", "1.0.0")


@st.composite
def answer_sets(draw: st.DrawFn) -> dict[str, str]:
    out: dict[str, str] = {}
    for x in Q.questions:
        out[x.id] = draw(st.sampled_from([o.id for o in x.options]))
    return out


def _all_scores(r: scoring.ScoreResult) -> dict[str, int | None]:
    out: dict[str, int | None] = dict(r.metrics())
    out.update({f"tier_{t.id}": t.score for t in r.tiers})
    out.update({f"dim_{k}": v for k, v in r.dimensions.items()})
    out.update({f"crit_{c.phase}": c.score for c in r.phase_profile})
    return out


FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@FAST
@given(answer_sets())
def test_results_are_in_range(answers: dict[str, str]) -> None:
    r = scoring.score(Q, answers)
    assert 0 <= r.phase <= 7
    assert 0 <= r.overall <= 100
    for t in r.tiers:
        assert t.score is None or 0 <= t.score <= 100
    for v in r.dimensions.values():
        assert v is None or 0 <= v <= 100
    for m, v in r.metrics().items():
        assert isinstance(v, int)
        assert 0 <= v <= {"phase": 7, "pyramid_level": 5}.get(m, 100)


@FAST
@given(answer_sets())
def test_scoring_is_deterministic(answers: dict[str, str]) -> None:
    assert scoring.score(Q, answers) == scoring.score(
        Q, dict(reversed(list(answers.items())))
    )


@FAST
@given(answer_sets())
def test_gating_holds(answers: dict[str, str]) -> None:
    r = scoring.score(Q, answers)
    # staged placement: every phase up to the placement is met, the next one is not
    for c in r.phase_profile:
        if c.phase <= r.phase:
            assert c.met
    if r.phase < 7:
        assert not r.phase_profile[r.phase].met
    # hierarchy of needs: the reached tier and all beneath it meet the threshold
    if r.reached_tier is not None:
        idx = TIER_ORDER.index(r.reached_tier)
        assert all(t.met for t in r.tiers[: idx + 1])
        if idx + 1 < len(r.tiers):
            assert not r.tiers[idx + 1].met
    else:
        assert not r.tiers[0].met
    if r.blocked_by is not None:
        b = TIER_ORDER.index(r.blocked_by)
        assert not r.tiers[b].met
        assert any(t.met for t in r.tiers[b + 1 :])
        assert r.reached_tier is None or TIER_ORDER.index(r.reached_tier) < b


@FAST
@given(answer_sets(), st.data())
def test_improving_an_answer_never_lowers_a_score(
    answers: dict[str, str], data: st.DataObject
) -> None:
    scored = [
        x for x in Q.scored_questions if x.scored_options[answers[x.id]] is not None
    ]
    x = data.draw(st.sampled_from(scored))
    current = x.scored_options[answers[x.id]]
    better = [
        o.id for o in x.options if o.score is not None and o.score > (current or 0)
    ]
    if not better:
        return
    improved = dict(answers, **{x.id: data.draw(st.sampled_from(better))})
    before, after = (
        _all_scores(scoring.score(Q, answers)),
        _all_scores(scoring.score(Q, improved)),
    )
    for k, v in before.items():
        if v is not None:
            assert after[k] is not None and after[k] >= v, (k, x.id, v, after[k])


def test_dont_know_is_excluded_not_zero() -> None:
    base = orgs.build(Q, orgs.best)
    x = next(q for q in Q.scored_questions if q.tier == "foundation")
    r_best = scoring.score(Q, base)
    r_dk = scoring.score(Q, dict(base, **{x.id: orgs.dont_know(x)}))
    r_worst = scoring.score(Q, dict(base, **{x.id: orgs.worst(x)}))
    assert r_dk.tiers[0].score == 100 == r_best.tiers[0].score
    assert r_worst.tiers[0].score is not None and r_worst.tiers[0].score < 100
    assert r_dk.excluded == 1


def test_all_dont_know_keeps_its_1_0_0_result_but_is_flagged() -> None:
    """1.0.0 placed an all-"don't know" submission at phase 0 with overall 0 (a defect that
    2.0.0 fixes: not assessable). Stored 1.0.0 results are never re-scored, so the numbers
    stay; the coverage flag now says how little they rest on."""
    r = scoring.score(Q, orgs.build(Q, orgs.dont_know))
    assert r.phase == 0 and r.reached_tier is None and r.overall == 0
    assert all(t.score is None for t in r.tiers)
    assert r.metrics() == {"overall": 0, "phase": 0, "pyramid_level": 0}
    assert r.coverage.answered == 0 and r.coverage.low


def test_round_half_up() -> None:
    assert scoring.round_score(0.005) == 1
    assert scoring.round_score(0.125) == 13
    assert scoring.round_score(1.0) == 100
    assert scoring.round_score(0.0) == 0


# --- organisations from the seeds ---------------------------------------------------------------
def test_no_presence_company_is_phase_zero() -> None:
    """Phase 0: "phones are enough" – no presence, nothing planned."""
    answers = orgs.build(Q, orgs.worst, {"social_presence": "none"})
    r = scoring.score(Q, answers)
    assert r.phase == 0
    assert r.reached_tier is None
    assert r.recommendations and r.recommendations[0].target == "phase:1"


def test_broadcaster_with_comments_disabled_is_phase_three() -> None:
    """Phase 3: uploads corporate videos, comments and embedding disabled, counts views."""
    answers = orgs.up_to_phase(Q, 3, tiers=("foundation",))
    answers["comments_enabled"] = "no"
    r = scoring.score(Q, answers)
    assert r.phase == 3
    assert any(rec.question_id == "comments_enabled" for rec in r.recommendations)
    assert r.recommendations[0].target == "phase:4"


def test_campaign_company_that_abandons_accounts_is_phase_five() -> None:
    """Phase 5: six-week campaigns, accounts named after the campaign and abandoned afterwards
    (Coles, Deutsche Bahn's Chefticket)."""
    answers = orgs.up_to_phase(Q, 5, tiers=("foundation", "safety"))
    answers["accounts_continuity"] = "no"
    answers["co_creation"] = "no"
    r = scoring.score(Q, answers)
    assert r.phase == 5
    assert r.reached_tier == "safety"
    ids = [rec.question_id for rec in r.recommendations if rec.target == "phase:6"]
    assert "accounts_continuity" in ids


def test_enlightened_company_reaches_the_top() -> None:
    """Like Best Buy, Dell, Zappos: every employee talks to customers, decisions from social
    data in real time, a community platform."""
    answers = orgs.build(Q, orgs.best)
    r = scoring.score(Q, answers)
    assert r.phase == 7
    assert r.reached_tier == "enlightenment"
    assert r.blocked_by is None
    assert r.overall == 100
    assert r.recommendations == ()  # nothing left to close


def test_strong_top_on_a_weak_base_is_blocked() -> None:
    """Empowered employees and real-time decisions without guidelines or training: the pyramid
    is blocked by its foundation."""
    answers = orgs.up_to_phase(Q, 4, tiers=("formation", "enablement", "enlightenment"))
    r = scoring.score(Q, answers)
    assert r.reached_tier is None
    assert r.blocked_by == "foundation"
    assert any(rec.target == "tier:foundation" for rec in r.recommendations)


def test_jagged_profile_is_reported() -> None:
    """A phase-2 company that also runs a community platform: placement 2, phase 7 met above."""
    answers = orgs.up_to_phase(Q, 2)
    for x in Q.scored_questions:
        if x.phase == 7:
            answers[x.id] = orgs.best(x)
    r = scoring.score(Q, answers)
    assert r.phase == 2
    assert 7 in r.phases_met_above


def test_recommendations_follow_the_language() -> None:
    answers = orgs.up_to_phase(Q, 3)
    en = scoring.score(Q, answers, "en").recommendations
    de = scoring.score(Q, answers, "de").recommendations
    assert [r.question_id for r in en] == [r.question_id for r in de]
    assert en[0].text != de[0].text
    assert en[0].text == Q.question_index[en[0].question_id].recommendation.en  # type: ignore[union-attr]
