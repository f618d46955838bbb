"""The rendered result (issue 14 item 4): the phase text never asserts something the
organisation answered otherwise, a jagged profile is explained in plain language, coverage and
not-assessable statuses are in every result; a 1.0.0 result renders by its own rules."""

from __future__ import annotations

from chalicelib import scoring
from chalicelib.questionnaire import get_catalog
from chalicelib.render import render_result
from tests import orgs
from tests.conftest import ROOT

CAT = get_catalog(str(ROOT / "questionnaires"))
Q = CAT.get("smm", "2.0.0")


def _render(answers: dict[str, str], lang: str = "de") -> dict:  # type: ignore[type-arg]
    return render_result(Q, scoring.score(Q, answers, lang), lang, answers)


def test_phase_evidence_shows_the_organisations_own_answers() -> None:
    answers = orgs.build(
        Q,
        orgs.worst,
        {
            "social_presence": "ad_hoc",
            "staff_public_speech": "guidelines",
            "staff_access": "yes",  # networks are open: nothing may say they are blocked
        },
    )
    out = _render(answers)
    assert out["phase"]["number"] == 1
    shown = {e["question_id"]: e for e in out["phase"]["evidence"]}
    for qid, e in shown.items():
        opt = Q.question_index[qid].option_index[answers[qid]]
        assert e["label"] == opt.label.de
    assert shown["social_presence"]["shows"] and not shown["social_guidelines"]["shows"]
    # the description names what is typical of the phase, it does not assert it
    assert "Typisch für diese Phase" in out["phase"]["description"]


def test_a_jagged_profile_is_explained() -> None:
    answers = orgs.up_to_phase(Q, 2)
    for x in Q.scored_questions:
        if x.phase in (6, 7):
            answers[x.id] = orgs.best(x)
    out = _render(answers, "en")
    assert out["phase"]["number"] == 2 and 7 in out["phase"]["met_above"]
    note = out["phase"]["jagged_note"]
    assert (
        note
        and "phase 3 (Broadcast medium)" in note
        and "finding, not an error" in note
    )


def test_coverage_and_statuses_are_rendered() -> None:
    out = _render(orgs.build(Q, orgs.dont_know), "en")
    assert out["assessable"] is False and out["coverage"]["low"] is True
    assert out["coverage"]["note"].startswith("Low coverage")
    assert out["phase"]["status"] == "not_assessable" and out["phase"]["number"] is None
    assert {t["status"] for t in out["pyramid"]["tiers"]} == {"not_assessable"}
    good = _render(orgs.build(Q, orgs.best), "en")
    assert good["coverage"]["low"] is False and good["coverage"]["note"] is None
    assert good["phase"]["jagged_note"] is None


def test_a_1_0_0_result_renders_by_its_own_rules() -> None:
    old = CAT.get("smm", "1.0.0")
    answers = orgs.up_to_phase(old, 3)
    out = render_result(old, scoring.score(old, answers), "en", answers)
    assert out["scoring_rules"] == "1" and out["phase"]["number"] == 3
    assert out["phase"]["evidence"] == []  # rules 1 has no behaviour evidence
    assert out["coverage"]["answered"] > 0
