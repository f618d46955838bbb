"""Questionnaire files: the real one is complete; a broken one fails with its path and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chalicelib.questionnaire import (
    TIER_ORDER,
    Catalog,
    QuestionnaireFileError,
    UnknownQuestionnaire,
    load_questionnaire,
)
from tests.conftest import ROOT

SOURCE = ROOT / "questionnaires" / "smm-1.0.0.yaml"


def test_real_questionnaire_is_complete(questionnaire) -> None:  # type: ignore[no-untyped-def]
    q = questionnaire
    assert 40 <= len(q.scored_questions) <= 100  # 2.0.0 splits double-barrelled items
    assert {x.phase for x in q.scored_questions if x.phase} == set(range(1, 8))
    assert {x.tier for x in q.scored_questions if x.tier} == set(TIER_ORDER)
    assert {d.id for d in q.dimensions} == {
        "strategy",
        "crisis",
        "measurement",
        "service",
        "content",
        "sociability",
    }
    for role in ("industry", "size", "country", "consent"):
        assert q.context_question(role).kind == "context"
    assert (
        len(q.context_question("industry").options) == 21
    )  # NACE Rev. 2 sections A..U
    for x in q.scored_questions:
        assert any(o.score is None for o in x.options), (
            f"{x.id} lacks a don't-know option"
        )
        assert x.recommendation is not None
    for x in q.questions:
        assert x.text.de != x.text.en, f"{x.id} is not translated"
    for gap in (
        "feedback_process",
        "crm_integration",
        "measurement_process",
        "standard_tools",
    ):
        assert gap in q.question_index


def _broken(tmp_path: Path, mutate) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    mutate(data)
    p = tmp_path / "smm-1.0.0.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


def _first_scored(data):  # type: ignore[no-untyped-def]
    for s in data["sections"]:
        for x in s["questions"]:
            if x.get("kind", "scored") == "scored":
                return x
    raise AssertionError


@pytest.mark.parametrize(
    ("mutate", "field_part", "message_part"),
    [
        (lambda d: _first_scored(d)["text"].pop("de"), ".text.de", "Field required"),
        (
            lambda d: _first_scored(d)["options"][0].update(score=1.5),
            ".score",
            "less than or equal",
        ),
        (lambda d: _first_scored(d).update(tier="penthouse"), "", "unknown tier"),
        (
            lambda d: _first_scored(d).update(dimensions=[{"id": "nope"}]),
            "",
            "unknown dimension",
        ),
        (
            lambda d: d["sections"][1]["questions"].append(
                d["sections"][0]["questions"][0]
            ),
            "",
            "duplicate id",
        ),
        (lambda d: d.update(version="1.0"), "version", "semantic version"),
        (lambda d: _first_scored(d).update(colour="red"), ".colour", "Extra inputs"),
        (lambda d: d["tiers"].reverse(), "", "tiers must be"),
        (
            lambda d: d["population"].update(question="nope"),
            "",
            "not a scored question",
        ),
        (
            lambda d: d["population"].update(non_user_options=["never"]),
            "",
            "are not options of",
        ),
    ],
)
def test_broken_file_names_path_and_field(
    tmp_path: Path, mutate, field_part, message_part
) -> None:  # type: ignore[no-untyped-def]
    p = _broken(tmp_path, mutate)
    with pytest.raises(QuestionnaireFileError) as info:
        load_questionnaire(p)
    assert str(p) in str(info.value)
    assert field_part in info.value.field
    assert message_part in str(info.value)


def test_field_path_names_the_question_id(tmp_path: Path) -> None:
    def mutate(d):  # type: ignore[no-untyped-def]
        _first_scored(d)["options"][0]["score"] = -1

    with pytest.raises(QuestionnaireFileError) as info:
        load_questionnaire(_broken(tmp_path, mutate))
    first_id = _first_scored(yaml.safe_load(SOURCE.read_text(encoding="utf-8")))["id"]
    assert f"({first_id})" in info.value.field
    assert info.value.field.endswith(".score")


def test_file_name_and_body_version_must_agree(tmp_path: Path) -> None:
    p = tmp_path / "smm-2.0.0.yaml"
    p.write_text(SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(QuestionnaireFileError, match="file name says 2.0.0"):
        load_questionnaire(p)


def test_not_yaml_fails_with_path(tmp_path: Path) -> None:
    p = tmp_path / "smm-1.0.0.yaml"
    p.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(QuestionnaireFileError, match=str(p)):
        load_questionnaire(p)


def test_catalog_versions(tmp_path: Path) -> None:
    data = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    (tmp_path / "smm-1.0.0.yaml").write_text(
        SOURCE.read_text(encoding="utf-8"), encoding="utf-8"
    )
    data["version"] = "1.10.0"
    (tmp_path / "smm-1.10.0.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
    )
    cat = Catalog(tmp_path)
    assert cat.get("smm").version == "1.10.0"  # numeric, not lexical, ordering
    assert cat.get("smm", "1.0.0").version == "1.0.0"
    with pytest.raises(UnknownQuestionnaire):
        cat.get("smm", "9.9.9")
    with pytest.raises(UnknownQuestionnaire):
        cat.get("other")


def test_compiled_copy_is_used_only_when_it_matches(tmp_path: Path) -> None:
    from chalicelib.questionnaire import compile_questionnaire

    p = tmp_path / "smm-1.0.0.yaml"
    p.write_text(SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
    out = compile_questionnaire(p)
    assert out.name == "smm-1.0.0.json"
    assert load_questionnaire(p) == load_questionnaire(SOURCE)
    # a tampered JSON copy with the right digest is what gets loaded (proves it is used) ...
    import json

    doc = json.loads(out.read_text(encoding="utf-8"))
    doc["questionnaire"]["title"]["en"] = "From the compiled copy"
    out.write_text(json.dumps(doc), encoding="utf-8")
    assert load_questionnaire(p).title.en == "From the compiled copy"
    # ... and once the YAML changes, the stale copy is ignored
    p.write_text(SOURCE.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert load_questionnaire(p).title.en == load_questionnaire(SOURCE).title.en


def test_population_is_declared_by_the_file(questionnaire) -> None:  # type: ignore[no-untyped-def]
    """Users of social media are told apart by the file's own population question."""
    pq = questionnaire.population.question
    non_user = questionnaire.population.non_user_options[0]
    user = next(
        o.id
        for o in questionnaire.question_index[pq].options
        if o.score is not None and o.id not in questionnaire.population.non_user_options
    )
    assert questionnaire.uses_social_media({pq: non_user}) is False
    assert questionnaire.uses_social_media({pq: user}) is True
    assert questionnaire.uses_social_media({}) is None
