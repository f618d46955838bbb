"""Scoring rules "2" (questionnaire 2.0.0): behaviour evidence on the ladder, evidence rules,
named needs, clear blocked-by, advice that follows the chosen option. The organisations from
the articles are in test_profiles.py."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import scoring
from chalicelib.questionnaire import TIER_ORDER, Questionnaire, get_catalog
from chalicelib.scoring import MET, NOT_ASSESSABLE
from tests import orgs
from tests.conftest import ROOT

Q: Questionnaire = get_catalog(str(ROOT / "questionnaires")).get("smm", "2.0.0")
FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def answer_sets(draw: st.DrawFn) -> dict[str, str]:
    return {x.id: draw(st.sampled_from([o.id for o in x.options])) for x in Q.questions}


def _rank(phase: int | None) -> int:
    return (
        -1 if phase is None else phase
    )  # "not assessable" is never a better placement


def _level(r: scoring.ScoreResult) -> int:
    if not r.pyramid_assessable:
        return -1
    return 0 if r.reached_tier is None else TIER_ORDER.index(r.reached_tier) + 1


def test_latest_questionnaire_uses_the_new_rules() -> None:
    latest = get_catalog(str(ROOT / "questionnaires")).get("smm")
    assert latest.version == "2.0.0" and latest.scoring_rules == "2"
    old = get_catalog(str(ROOT / "questionnaires")).get("smm", "1.0.0")
    assert old.scoring_rules == "1"


@FAST
@given(answer_sets())
def test_results_are_in_range_and_gated(answers: dict[str, str]) -> None:
    r = scoring.score(Q, answers)
    assert r.phase is None or 0 <= r.phase <= 7
    assert r.overall is None or 0 <= r.overall <= 100
    for m, v in r.metrics().items():
        assert isinstance(v, int) and 0 <= v <= {"phase": 7, "pyramid_level": 5}.get(
            m, 100
        )
    if r.phase is not None:
        for c in r.phase_profile[: r.phase]:
            assert c.status == MET or c.bridged
    if r.reached_tier is not None:
        idx = TIER_ORDER.index(r.reached_tier)
        assert all(t.status == MET for t in r.tiers[: idx + 1])
    if r.blocked_by is not None:
        b = TIER_ORDER.index(r.blocked_by)
        assert r.tiers[b].status == "not_met"
        assert any(t.status == MET for t in r.tiers[b + 1 :])


@FAST
@given(answer_sets(), st.data())
def test_dont_know_never_places_better_than_no(
    answers: dict[str, str], data: st.DataObject
) -> None:
    """Replacing any answer by "don't know" never gives a better phase or pyramid level than
    the worst real answer ("no") to the same question."""
    x = data.draw(st.sampled_from(Q.scored_questions))
    worst = orgs.worst(x)
    with_no = scoring.score(Q, dict(answers, **{x.id: worst}))
    with_dk = scoring.score(Q, dict(answers, **{x.id: orgs.dont_know(x)}))
    assert _rank(with_dk.phase) <= _rank(with_no.phase), x.id
    assert _level(with_dk) <= _level(with_no), x.id


@FAST
@given(answer_sets(), st.data())
def test_improving_an_answer_never_lowers_a_score(
    answers: dict[str, str], data: st.DataObject
) -> None:
    x = data.draw(st.sampled_from(Q.scored_questions))
    current = x.scored_options.get(answers[x.id])
    if current is None:
        return
    better = [o.id for o in x.options if o.score is not None and o.score > current]
    if not better:
        return
    improved = dict(answers, **{x.id: data.draw(st.sampled_from(better))})
    before, after = scoring.score(Q, answers), scoring.score(Q, improved)
    for a, b in zip(before.tiers, after.tiers, strict=True):
        if a.score is not None:
            assert b.score is not None and b.score >= a.score
    for d, v in before.dimensions.items():
        if v is not None:
            assert (after.dimensions[d] or 0) >= v
    if before.overall is not None:
        assert after.overall is not None and after.overall >= before.overall
    # a better answer never places lower; it may only turn a clear "none" (a failed need of
    # the base) into "not assessable" when the rest of the base is "don't know"
    for b, a in (
        (_level(before), _level(after)),
        (_rank(before.phase), _rank(after.phase)),
    ):
        assert a >= b or (a == -1 and b == 0), (b, a)


def test_all_dont_know_is_not_assessable() -> None:
    r = scoring.score(Q, orgs.build(Q, orgs.dont_know))
    assert r.phase is None and r.reached_tier is None and r.overall is None
    assert not r.assessable and not r.pyramid_assessable
    assert r.coverage.low and r.coverage.answered == 0
    assert r.metrics() == {}  # adds nothing to any benchmark histogram
    assert all(c.status == NOT_ASSESSABLE for c in r.phase_profile)


def test_not_applicable_does_not_lower_coverage_but_dont_know_does() -> None:
    base = orgs.build(Q, orgs.middle)
    x = next(
        x for x in Q.scored_questions if "not_applicable" in x.option_kinds.values()
    )
    na = scoring.score(Q, dict(base, **{x.id: "not_applicable"})).coverage
    dk = scoring.score(Q, dict(base, **{x.id: "dont_know"})).coverage
    assert na.applicable == dk.applicable - 1
    assert na.answered == dk.answered and na.share > dk.share
    assert na.not_applicable == 1 and dk.dont_know == 1


def test_ladder_and_pyramid_questions_offer_no_not_applicable() -> None:
    for x in Q.scored_questions:
        if x.phase is not None or x.tier is not None:
            assert "not_applicable" not in x.option_kinds.values(), x.id


def test_a_named_need_is_necessary_for_its_tier() -> None:
    """Enlightenment needs real-time decisions and empowered employees: feedback process and
    CRM integration ("even well-prepared companies lacked") cannot stand in for them."""
    answers = orgs.build(Q, orgs.best, {"realtime_decisions": "no"})
    r = scoring.score(Q, answers)
    top = r.tiers[-1]
    assert (
        top.score is not None and top.score >= Q.thresholds.tier
    )  # the mean is high ...
    assert top.status == "not_met" and top.missing_needs == ("realtime_decisions",)
    assert r.reached_tier == "enablement"


def test_blocked_by_needs_a_clear_gap() -> None:
    """A base tier one answer short of its threshold does not block; a clear gap does."""
    strong_top = {
        t: orgs.best for t in ("safety", "formation", "enablement", "enlightenment")
    }

    def rule(x):  # type: ignore[no-untyped-def]
        if x.tier == "foundation":
            return orgs.worst(x)
        return strong_top.get(x.tier or "", orgs.middle)(x)

    clear = scoring.score(Q, orgs.build(Q, rule))
    assert clear.blocked_by == "foundation" and clear.reached_tier is None
    near = orgs.build(Q, orgs.best, {"staff_training": "partly"})  # need just below 50
    r = scoring.score(Q, near)
    assert r.tiers[0].status == "not_met" and r.blocked_by is None


def test_blocker_reaches_phase_one_and_no_presence_stays_at_zero() -> None:
    nothing = orgs.build(
        Q,
        orgs.worst,
        {"social_presence": "none", "staff_public_speech": "not_settled"},
    )
    blocker = dict(
        nothing, social_presence="forbidden", staff_public_speech="forbidden"
    )
    assert scoring.score(Q, nothing).phase == 0
    assert scoring.score(Q, blocker).phase == 1


def test_advice_follows_the_chosen_option() -> None:
    from chalicelib.scoring_rules_2 import advice_text

    x = Q.question_index["monitoring_tools"]
    assert "routine" in advice_text(x, "mostly", "en")
    assert "Set up" not in advice_text(x, "mostly", "en")
    base = orgs.up_to_phase(Q, 1)

    def texts(opt: str) -> dict[str, str]:
        r = scoring.score(Q, dict(base, monitoring_tools=opt), "en")
        return {rec.question_id: rec.text for rec in r.recommendations}

    assert texts("no")["monitoring_tools"].startswith("Set up monitoring")
    assert texts("dont_know")["monitoring_tools"].startswith("Find out")
    # a tool without routine already shows the listening behaviour: no ladder advice
    assert "monitoring_tools" not in texts("mostly")
    # the same in the pyramid: a drill held once hears "repeat it", none at all "rehearse"
    tier_base = orgs.build(Q, orgs.best, {"round_the_clock_monitoring": "partly"})

    def drill(opt: str) -> str:
        r = scoring.score(Q, dict(tier_base, crisis_drills=opt), "en")
        return next(
            x.text for x in r.recommendations if x.question_id == "crisis_drills"
        )

    assert drill("partly").startswith("Repeat the crisis drill")
    assert drill("no").startswith("Rehearse a social media crisis")
    assert drill("dont_know").startswith("Find out")


def test_foundation_comes_first_at_phase_one_or_below() -> None:
    answers = orgs.build(Q, orgs.worst, {"social_presence": "forbidden"})
    r = scoring.score(Q, answers, "de")
    assert r.phase is not None and r.phase <= 1
    assert r.recommendations[0].target == "tier:foundation"
    assert r.recommendations[0].question_id == "goals_alignment"  # goals first


def test_advice_is_limited_to_the_next_phase_and_the_next_tier() -> None:
    r = scoring.score(Q, orgs.up_to_phase(Q, 3, tiers=("foundation",)))
    assert {rec.target for rec in r.recommendations} <= {"phase:4", "tier:safety"}
    assert len(r.recommendations) <= 8


def test_micro_firms_are_not_told_to_win_over_management() -> None:
    small = orgs.build(Q, orgs.worst, context={"size": "1-9"})
    big = orgs.build(Q, orgs.worst, context={"size": "1000+"})
    for answers in (small, big):
        answers.update(
            {
                "social_presence": "ad_hoc",
                "monitoring_tools": "yes",
                "monitoring_reports": "yes",
                "publishes_content": "yes",
            }
        )
    texts = " ".join(r.text for r in scoring.score(Q, small, "en").recommendations)
    assert "management" not in texts.lower() and "expert team" not in texts.lower()
    for x in Q.scored_questions:
        if x.advice_min_size:
            assert x.id not in {
                r.question_id for r in scoring.score(Q, small).recommendations
            }


def test_campaign_organisations_always_hear_the_coles_lesson() -> None:
    answers = orgs.build(
        Q,
        orgs.best,
        {
            "interactive_campaigns": "mostly",
            "campaign_account_naming": "campaign",
            "accounts_continuity": "no",
        },
    )
    r = scoring.score(Q, answers, "en")
    lessons = {
        rec.question_id: rec.text
        for rec in r.recommendations
        if rec.target == "campaign"
    }
    assert set(lessons) == {"campaign_account_naming", "accounts_continuity"}
    assert "Coles" in lessons["campaign_account_naming"]
    assert "Chefticket" in lessons["accounts_continuity"]
    quiet = orgs.build(
        Q, orgs.best, {"interactive_campaigns": "no", "distribution_campaigns": "no"}
    )
    quiet.update(
        {
            "campaign_account_naming": "not_applicable",
            "accounts_continuity": "not_applicable",
        }
    )
    assert not [
        x for x in scoring.score(Q, quiet).recommendations if x.target == "campaign"
    ]


def test_a_file_whose_evidence_falls_as_the_score_rises_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest
    import yaml

    from chalicelib.questionnaire import QuestionnaireFileError, load_questionnaire

    data = yaml.safe_load(
        (ROOT / "questionnaires" / "smm-2.0.0.yaml").read_text("utf-8")
    )
    for s in data["sections"]:
        for x in s["questions"]:
            if x["id"] == "social_presence":
                for o in x["options"]:
                    if o["id"] == "planned":
                        o["evidence"] = 0  # better than "forbidden" but shows less
    p = tmp_path / "smm-2.0.0.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(QuestionnaireFileError, match="evidence must not fall"):
        load_questionnaire(p)
