"""The combination rule and the perception gap (chalicelib/organisations.py) on the real
questionnaire: examples for the documented rule, properties for what must always hold."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib import organisations as domain
from chalicelib.organisations import Contribution, Respondent
from chalicelib.questionnaire import Question, Questionnaire, get_catalog
from tests import orgs
from tests.conftest import ROOT

Q: Questionnaire = get_catalog(str(ROOT / "questionnaires")).get("smm")
QUESTION: Question = Q.question_index[
    "monitoring_tools"
]  # no, partly, mostly, yes, dont_know


def respondent(
    n: int, role: str = "marketing", sections: tuple[str, ...] = ()
) -> Respondent:
    return Respondent(
        f"{n:032x}", "o" * 32, role, sections, "h" * 64, "2026-12-01T10:00:00+00:00"
    )


def score_of(x: Question, option: str) -> float:
    s = x.scored_options[option]
    assert s is not None
    return s


def test_the_median_of_an_odd_number_is_the_middle_answer() -> None:
    got = domain.combine_question(QUESTION, ["yes", "no", "mostly"])
    assert got is not None and (got.option_id, got.method) == ("mostly", "median")
    assert (got.respondents, got.substantive) == (3, 3)


def test_an_even_number_ties_to_the_more_conservative_answer() -> None:
    got = domain.combine_question(QUESTION, ["yes", "partly"])
    assert got is not None and got.option_id == "partly"
    got = domain.combine_question(QUESTION, ["yes", "yes", "no", "partly"])
    assert got is not None and got.option_id == "partly"


def test_dont_know_is_ignored_unless_everyone_says_it() -> None:
    got = domain.combine_question(QUESTION, ["dont_know", "dont_know", "yes"])
    assert got is not None and (got.option_id, got.substantive) == ("yes", 1)
    got = domain.combine_question(QUESTION, ["dont_know", "dont_know"])
    assert got is not None and (got.option_id, got.method) == (
        "dont_know",
        "no_substantive_answer",
    )
    assert domain.combine_question(QUESTION, []) is None


def test_not_applicable_and_dont_know_tie_to_dont_know() -> None:
    x = Q.question_index["service_sla"]  # has both
    got = domain.combine_question(x, ["not_applicable", "dont_know"])
    assert got is not None and got.option_id == "dont_know"
    got = domain.combine_question(x, ["not_applicable", "not_applicable", "dont_know"])
    assert got is not None and got.option_id == "not_applicable"


def test_options_of_equal_score_are_ordered_by_evidence() -> None:
    # both score 0; "forbidden" is a decision (phase evidence 1.0), "none" shows nothing
    x = Q.question_index["social_presence"]
    got = domain.combine_question(x, ["forbidden", "none"])
    assert got is not None and got.option_id == "none"
    assert domain.option_rank(x, "none") < domain.option_rank(x, "forbidden")


def test_respondents_count_only_in_the_sections_they_own() -> None:
    listening = respondent(1, "IT", ("listening",))
    everything = respondent(2, "marketing")
    contributions = [
        Contribution(listening, orgs.build(Q, orgs.best)),  # answers outside: ignored
        Contribution(everything, orgs.build(Q, orgs.worst)),
    ]
    combined = domain.combine(Q, contributions)
    # in listening both count: the lower median is the worst; elsewhere only "everything"
    assert combined["monitoring_tools"].respondents == 2
    assert combined["publishes_content"].respondents == 1
    assert combined["publishes_content"].option_id == orgs.worst(
        Q.question_index["publishes_content"]
    )
    assert domain.uncovered_sections(Q, combined) == []
    only = domain.combine(Q, contributions[:1])
    assert set(domain.uncovered_sections(Q, only)) == set(domain.scored_sections(Q)) - {
        "listening"
    }


def test_the_gap_names_the_roles_at_both_ends() -> None:
    low, high, mid = (
        respondent(1, "IT"),
        respondent(2, "marketing"),
        respondent(3, "service"),
    )
    contributions = [
        Contribution(low, orgs.build(Q, orgs.worst)),
        Contribution(high, orgs.build(Q, orgs.best)),
        Contribution(mid, orgs.build(Q, orgs.middle)),
    ]
    gaps = {(g.kind, g.id): g for g in domain.perception_gap(Q, contributions)}
    assert {k for k, _ in gaps} == {"section", "dimension"}
    assert len([g for g in gaps.values() if g.kind == "section"]) == len(
        domain.scored_sections(Q)
    )
    g = gaps[("section", "listening")]
    assert (g.min, g.max, g.range) == (0, 100, 100)
    assert (g.lowest, g.highest) == (("IT",), ("marketing",))
    assert g.questions and "monitoring_tools" in g.questions
    assert g.combined is not None and 0 < g.combined < 100  # the middle respondent's
    assert all(s.role in ("IT", "marketing", "service") for s in g.scores)


def test_agreeing_respondents_have_no_gap() -> None:
    answers = orgs.build(Q, orgs.middle)
    gaps = domain.perception_gap(
        Q, [Contribution(respondent(1), answers), Contribution(respondent(2), answers)]
    )
    assert all(g.range == 0 and not g.questions for g in gaps if g.range is not None)


SCORED = [x for x in Q.scored_questions]
answer_lists = st.sampled_from(SCORED).flatmap(
    lambda x: st.tuples(
        st.just(x),
        st.lists(st.sampled_from([o.id for o in x.options]), min_size=1, max_size=9),
    )
)


@settings(max_examples=300, deadline=None)
@given(answer_lists, st.randoms(use_true_random=False))
def test_the_combined_answer_is_order_independent_and_within_the_answers(
    case: tuple[Question, list[str]], rnd: object
) -> None:
    x, answers = case
    got = domain.combine_question(x, answers)
    assert got is not None
    shuffled = list(answers)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    again = domain.combine_question(x, shuffled)
    assert again is not None and again.option_id == got.option_id
    assert got.option_id in answers
    substantive = [a for a in answers if x.option_kinds[a] == "answer"]
    if substantive:  # a substantive answer between the lowest and the highest
        scores = [score_of(x, a) for a in substantive]
        assert min(scores) <= score_of(x, got.option_id) <= max(scores)
        # at least half of the substantive answers are at or above it (conservative)
        at_or_above = [s for s in scores if s >= score_of(x, got.option_id)]
        assert 2 * len(at_or_above) >= len(scores)
    else:
        assert x.option_kinds[got.option_id] != "answer"


@settings(max_examples=300, deadline=None)
@given(answer_lists, st.data())
def test_a_better_answer_never_lowers_the_combined_answer(
    case: tuple[Question, list[str]], data: st.DataObject
) -> None:
    x, answers = case
    substantive = [o.id for o in x.options if o.score is not None]
    answers = [a for a in answers if a in substantive] or [substantive[0]]
    i = data.draw(st.integers(0, len(answers) - 1))
    better = [
        o
        for o in substantive
        if domain.option_rank(x, o) > domain.option_rank(x, answers[i])
    ]
    if not better:
        return
    raised = list(answers)
    raised[i] = data.draw(st.sampled_from(better))
    before = domain.combine_question(x, answers)
    after = domain.combine_question(x, raised)
    assert before is not None and after is not None
    assert domain.option_rank(x, after.option_id) >= domain.option_rank(
        x, before.option_id
    )


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SCORED), st.data())
def test_unanimous_respondents_are_the_organisation(
    x: Question, data: st.DataObject
) -> None:
    option = data.draw(st.sampled_from([o.id for o in x.options]))
    n = data.draw(st.integers(1, 7))
    got = domain.combine_question(x, [option] * n)
    assert got is not None and got.option_id == option
