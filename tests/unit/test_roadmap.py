"""Targets, gaps, roadmaps and history (chalicelib/roadmap.py, docs/ROADMAP.md): the blocking
steps reach the target under the real scoring, the order follows the gates and then impact
against effort, owners and due quarters, validation naming the field, version marks."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib import roadmap as rm
from chalicelib import scoring
from chalicelib.errors import InvalidInput
from chalicelib.questionnaire import TIER_ORDER, Questionnaire, get_catalog
from chalicelib.request_models import TargetIn
from tests import orgs
from tests.conftest import ROOT

CATALOG = get_catalog(str(ROOT / "questionnaires"))
Q2: Questionnaire = CATALOG.get("smm", "2.0.0")
Q1: Questionnaire = CATALOG.get("smm", "1.0.0")
TODAY = date(2026, 12, 3)
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def answer_sets(draw: st.DrawFn, q: Questionnaire) -> dict[str, str]:
    return {x.id: draw(st.sampled_from([o.id for o in x.options])) for x in q.questions}


targets = st.builds(
    rm.Target,
    phase=st.one_of(st.none(), st.integers(1, 7)),
    tier=st.one_of(st.none(), st.sampled_from(TIER_ORDER)),
)
dimension_targets = st.dictionaries(
    st.sampled_from([d.id for d in Q2.dimensions]), st.integers(0, 95), max_size=3
)


def _level(r: scoring.ScoreResult) -> int:
    return rm.pyramid_level(r) or 0


@FAST
@given(st.sampled_from([Q1, Q2]), st.data(), targets)
def test_blocking_steps_reach_the_target(
    q: Questionnaire, data: st.DataObject, target: rm.Target
) -> None:
    """Answering every blocking step with its needed answer places the organisation at
    (at least) the target phase and tier under ``scoring.score``; the further steps are
    not needed for it."""
    answers = data.draw(answer_sets(q))
    steps = rm.roadmap(q, answers, target, today=TODAY)
    blocking = [s for s in steps if s.kind == rm.BLOCKING]
    assert steps[: len(blocking)] == blocking  # blocking steps come first
    after = scoring.score(q, rm.apply(answers, blocking))
    if target.phase is not None:
        assert (after.phase or 0) >= target.phase
    if target.tier_level is not None:
        assert _level(after) >= target.tier_level
    before = scoring.score(q, answers)
    if rm.gap(before, target).reached:
        assert not blocking
    assert rm.gap(after, target).reached
    # every step improves its question: the needed answer is never a worse one
    for s in steps:
        x = q.question_index[s.question_id]
        assert (x.scored_options[s.needed] or 0) >= (
            x.scored_options.get(s.current or "") or 0
        )
        assert s.current != s.needed and s.effort >= 1


@FAST
@given(answer_sets(Q2), targets, dimension_targets)
def test_blocking_and_target_steps_reach_the_dimension_targets(
    answers: dict[str, str], target: rm.Target, dims: dict[str, int]
) -> None:
    target = rm.Target(target.phase, target.tier, dims)
    steps = rm.roadmap(Q2, answers, target, today=TODAY, further=False)
    assert {s.kind for s in steps} <= {rm.BLOCKING, rm.TOWARDS}
    after = scoring.score(Q2, rm.apply(answers, steps))
    assert rm.gap(after, target).reached, rm.gap(after, target)
    for s in steps:
        if s.kind == rm.TOWARDS:
            assert s.gate.partition(":")[2] in dims


@FAST
@given(answer_sets(Q2), targets, st.integers(1, 5))
def test_ordering_is_stable_and_quarters_follow_the_pace(
    answers: dict[str, str], target: rm.Target, pace: int
) -> None:
    target = rm.Target(target.phase, target.tier, {"crisis": 75}, "2027-Q1", pace)
    steps = rm.roadmap(Q2, answers, target, today=TODAY)
    again = rm.roadmap(Q2, dict(reversed(list(answers.items()))), target, today=TODAY)
    assert steps == again
    assert [s.rank for s in steps] == list(range(1, len(steps) + 1))
    kinds = [s.kind for s in steps]
    order = [rm.BLOCKING, rm.TOWARDS, rm.FURTHER]
    assert kinds == sorted(kinds, key=order.index)
    for i, s in enumerate(steps):
        assert s.due_quarter == rm.add_quarters("2027-Q1", i // pace)
        assert s.owner == ""
    further = [s for s in steps if s.kind == rm.FURTHER]
    ranked = [(-s.impact / s.effort) for s in further]
    assert ranked == sorted(ranked)


def test_gates_in_order_key_items_first() -> None:
    """From the bottom: the foundation's named needs first, the pyramid tier before the
    phase of the same level, phases in ladder order."""
    answers = orgs.build(Q2, orgs.worst)
    steps = rm.roadmap(
        Q2, answers, rm.Target(phase=4, tier="safety"), today=TODAY, further=False
    )
    gates = [s.gate for s in steps]
    seq = list(dict.fromkeys(gates))
    assert seq == [
        "tier:foundation",
        "tier:safety",
        "phase:2",
        "phase:3",
        "phase:4",
    ], seq
    assert gates == sorted(gates, key=seq.index)  # one gate's steps together
    found = [s for s in steps if s.gate == "tier:foundation"]
    assert found[0].key_item and found[0].question_id == "goals_alignment"
    keys = [s.key_item for s in found]
    assert keys == sorted(keys, reverse=True)  # needs before the rest
    s = found[0]
    assert s.current == "no" and s.needed == "yes"
    assert "Foundation" in s.why and s.advice
    assert s.current_label and s.needed_label
    assert s.due_quarter == "2027-Q1"  # the quarter after today


def test_reached_target_has_no_blocking_steps_and_impact_orders_further() -> None:
    answers = orgs.build(Q2, orgs.best)
    assert rm.roadmap(Q2, answers, rm.Target(phase=7, tier="enlightenment")) == []
    mid = orgs.middling(Q2)
    r = scoring.score(Q2, mid)
    assert r.phase == 7
    steps = rm.roadmap(Q2, mid, rm.Target(phase=3), today=TODAY)
    assert steps and all(s.kind == rm.FURTHER for s in steps)
    prios = [s.impact / s.effort for s in steps]
    assert prios == sorted(prios, reverse=True)


def test_dimension_target_is_reached_by_its_steps() -> None:
    mid = orgs.middling(Q2)
    before = scoring.score(Q2, mid).dimensions["crisis"] or 0
    target = rm.Target(dimensions={"crisis": 85})
    steps = rm.roadmap(Q2, mid, target, today=TODAY, further=False)
    assert steps and {s.kind for s in steps} == {rm.TOWARDS}
    assert all(s.gate == "dimension:crisis" for s in steps)
    after = scoring.score(Q2, rm.apply(mid, steps))
    assert (after.dimensions["crisis"] or 0) >= 85 > before
    g = rm.gap(scoring.score(Q2, mid), target)
    assert g.dimensions[0].gap == 85 - before and not g.reached


def test_owner_and_due_quarter_are_settable() -> None:
    answers = orgs.build(Q2, orgs.worst)
    body = TargetIn.model_validate(
        {
            "tier": "foundation",
            "start_quarter": "2027-Q3",
            "pace": 1,
            "assignments": {
                "social_guidelines": {"owner": "Leitung PR", "due_quarter": "2028-Q4"},
                "goals_alignment": {"owner": "Geschäftsführung"},
            },
        }
    )
    target = rm.target_of(Q2, body)
    steps = rm.roadmap(Q2, answers, target, further=False)
    by = {s.question_id: s for s in steps}
    assert by["goals_alignment"].owner == "Geschäftsführung"
    assert by["social_guidelines"].owner == "Leitung PR"
    assert by["social_guidelines"].due_quarter == "2028-Q4"
    auto = [s.due_quarter for s in steps if s.question_id != "social_guidelines"]
    assert auto == [rm.add_quarters("2027-Q3", i) for i in range(len(auto))]
    moved = rm.assign(steps, {"data_policy": rm.Assignment("IT", "2029-Q1")})
    assert next(s for s in moved if s.question_id == "data_policy").due_quarter == (
        "2029-Q1"
    )
    with pytest.raises(InvalidInput) as exc:
        rm.assign(steps, {"data_policy": rm.Assignment("IT", "2029-Q5")})
    assert exc.value.errors[0][0] == "/assignments/data_policy/due_quarter"


def _pointers(body: dict[str, object]) -> list[tuple[object, ...]]:
    with pytest.raises(ValidationError) as exc:
        TargetIn.model_validate(body)
    return [tuple(e["loc"]) for e in exc.value.errors()]


def test_target_validation_names_the_field() -> None:
    assert _pointers({"phase": 8}) == [("phase",)]
    assert _pointers({"phase": "3"}) == [("phase",)]
    assert _pointers({"tier": "roof"}) == [("tier",)]
    assert _pointers({"phase": 3, "start_quarter": "2027-Q5"}) == [("start_quarter",)]
    assert _pointers({"phase": 3, "pace": 0}) == [("pace",)]
    assert _pointers({"dimensions": {"crisis": 101}}) == [("dimensions", "crisis")]
    assert _pointers({"phase": 3, "colour": "red"}) == [("colour",)]
    assert _pointers(
        {"phase": 3, "assignments": {"goals_alignment": {"due_quarter": "Q1-2027"}}}
    ) == [("assignments", "goals_alignment", "due_quarter")]
    assert _pointers(
        {"phase": 3, "assignments": {"goals_alignment": {"owner": "a\nb"}}}
    ) == [("assignments", "goals_alignment", "owner")]
    assert _pointers({}) == [()]  # nothing to reach
    assert TargetIn.model_validate({"phase": 3.0}).phase == 3
    with pytest.raises(InvalidInput) as exc:
        rm.target_of(
            Q2,
            TargetIn.model_validate(
                {
                    "dimensions": {"crisis": 70, "luck": 50},
                    "assignments": {"industry": {"owner": "x"}},
                }
            ),
        )
    assert [p for p, _ in exc.value.errors] == [
        "/dimensions/luck",
        "/assignments/industry",
    ]


def test_quarters() -> None:
    assert rm.add_quarters("2026-Q4", 1) == "2027-Q1"
    assert rm.add_quarters("2027-Q1", 7) == "2028-Q4"
    assert rm.next_quarter(date(2026, 12, 31)) == "2027-Q1"
    assert rm.next_quarter(date(2027, 1, 1)) == "2027-Q2"
    assert rm.check_quarter("2027-Q2") == "2027-Q2"
    with pytest.raises(InvalidInput):
        rm.check_quarter("2027-2")


# --- history ------------------------------------------------------------------------------
def _round(
    q: Questionnaire, answers: dict[str, str], day: str, pct: float | None
) -> rm.Round:
    return rm.Round(day, q, scoring.score(q, answers), pct)


def test_history_is_a_series_with_version_changes_marked() -> None:
    low1 = orgs.build(Q1, orgs.worst)
    mid1 = orgs.middling(Q1)
    mid2 = orgs.middling(Q2)
    best2 = orgs.build(Q2, orgs.best)
    rounds = [
        _round(Q2, best2, "2027-09-01", 91.5),
        _round(Q1, low1, "2026-03-01", 4.0),
        _round(Q2, mid2, "2027-03-01", None),
        _round(Q1, mid1, "2026-09-01", 50.0),
    ]
    points = rm.history(rounds)
    assert [p.date for p in points] == [
        "2026-03-01",
        "2026-09-01",
        "2027-03-01",
        "2027-09-01",
    ]
    assert [p.version for p in points] == ["1.0.0", "1.0.0", "2.0.0", "2.0.0"]
    assert [p.version_changed for p in points] == [False, False, True, False]
    assert [p.percentile for p in points] == [4.0, 50.0, None, 91.5]
    r = scoring.score(Q2, best2)
    last = points[-1]
    assert (last.phase, last.pyramid_level, last.overall) == (7, 5, r.overall)
    assert last.dimensions == dict(r.dimensions)
    assert points[0].phase == scoring.score(Q1, low1).phase
    # across the version change only metrics that mean the same stay comparable
    assert set(points[2].comparable) < set(Q2.metric_names())
    assert "phase" not in points[2].comparable
    assert points[3].comparable == tuple(Q2.metric_names())
    assert rm.history([]) == []


def test_history_keeps_the_given_order_within_a_date() -> None:
    a = _round(Q2, orgs.middling(Q2), "2027-03-01", 10.0)
    b = _round(Q2, orgs.build(Q2, orgs.best), "2027-03-01", 90.0)
    assert [p.percentile for p in rm.history([a, b])] == [10.0, 90.0]
    assert [p.percentile for p in rm.history([b, a])] == [90.0, 10.0]
