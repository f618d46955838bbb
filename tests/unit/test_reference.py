"""The reference cohort reproduces each published figure within sampling error, reproducibly."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from chalicelib import reference
from chalicelib.questionnaire import Questionnaire, get_catalog
from tests.conftest import ROOT

Q = get_catalog(str(ROOT / "questionnaires")).get("smm")


@pytest.fixture(scope="module")
def population() -> list[reference.Synthetic]:
    return list(reference.generate(Q))


@pytest.mark.parametrize(
    "figure", reference.CALIBRATION, ids=[f.key for f in reference.CALIBRATION]
)
def test_figure_reproduced_within_sampling_error(population, figure) -> None:  # type: ignore[no-untyped-def]
    """Each published figure on its own base: all organisations, or those that use social
    media according to the questionnaire's population question."""
    check = next(c for c in reference.calibration(Q, population) if c.figure == figure)
    base = [
        s
        for s in population
        if figure.base == "all" or Q.uses_social_media(s.answers) is True
    ]
    assert check.n == len(base) > 0
    se = math.sqrt(figure.share * (1 - figure.share) / check.n)
    assert abs(check.observed - figure.share) <= 3 * se, (
        figure.key,
        check.observed,
        figure.share,
        check.n,
    )
    assert check.met
    assert figure.question in Q.question_index
    assert set(figure.options) <= set(Q.question_index[figure.question].scored_options)


def test_users_are_the_questionnaires_population(population) -> None:  # type: ignore[no-untyped-def]
    users = [s for s in population if s.user]
    assert all(Q.uses_social_media(s.answers) is True for s in users)
    assert len(users) == round(0.43 * len(population))


def test_users_cohort_is_not_dominated_by_zeros(population) -> None:  # type: ignore[no-untyped-def]
    """The default comparison population: median metrics above 0, 2/100 a low percentile."""
    from chalicelib import histograms, scoring

    users = [scoring.score(Q, s.answers).metrics() for s in population if s.user]
    for metric in ("overall", "phase", "tier_foundation", "dim_strategy"):
        h: dict[int, int] = {}
        for m in users:
            if metric in m:
                h[m[metric]] = h.get(m[metric], 0) + 1
        assert (histograms.quantile(h, 0.5) or 0) > 0, metric
    overall: dict[int, int] = {}
    for m in users:
        overall[m["overall"]] = overall.get(m["overall"], 0) + 1
    assert (histograms.percentile_rank(overall, 2) or 0) < 5


def _variant(edit) -> Questionnaire:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(
        (ROOT / "questionnaires" / "smm-1.0.0.yaml").read_text(encoding="utf-8")
    )
    data["version"] = "9.0.0"
    edit(data)
    return Questionnaire.model_validate(data)


def _question(data, qid):  # type: ignore[no-untyped-def]
    return next(
        x for sec in data["sections"] for x in sec["questions"] if x["id"] == qid
    )


def test_figures_missing_in_a_version_are_skipped_and_reported() -> None:
    """Another version may rename a question or drop an option: its figures are left out
    and named, the rest is still met, and the generator still works."""

    def edit(data):  # type: ignore[no-untyped-def]
        _question(data, "own_community")["id"] = "customer_community"
        roi = _question(data, "roi_measurement")
        for o in roi["options"]:
            if o["id"] == "yes":
                o["id"] = "fully"

    q = _variant(edit)
    skipped = {f.key: why for f, why in reference.skipped_figures(q)}
    assert set(skipped) == {"community", "roi"}
    assert "own_community" in skipped["community"] and "yes" in skipped["roi"]
    pop = list(reference.generate(q, 1200))
    checks = reference.calibration(q, pop)
    assert {c.figure.key for c in checks} == {f.key for f in reference.CALIBRATION} - {
        "community",
        "roi",
    }
    assert all(c.met for c in checks), [(c.figure.key, c.observed) for c in checks]
    table = reference.calibration_markdown(q, pop)
    assert "skipped" in table and "customer_community" not in table


def test_population_comes_from_the_questionnaire_file() -> None:
    """Presence options with other ids: users are still 43% (IDC), by the file's
    non-user options."""

    def edit(data):  # type: ignore[no-untyped-def]
        presence = _question(data, "social_presence")
        for o in presence["options"]:
            o["id"] = {"none": "no_presence", "ad_hoc": "occasional"}.get(
                o["id"], o["id"]
            )
        data["population"]["non_user_options"] = ["forbidden", "no_presence"]

    q = _variant(edit)
    skipped = {f.key for f, _ in reference.skipped_figures(q)}
    assert skipped == {"no_use", "use"}
    pop = list(reference.generate(q, 1000))
    users = [s for s in pop if s.user]
    assert len(users) == 430
    assert all(
        s.answers["social_presence"] in ("occasional", "structured") for s in users
    )
    assert sum(s.answers["social_presence"] == "forbidden" for s in pop) == 50


def test_category_shares_follow_nested_figures() -> None:
    figs = [f for f in reference.CALIBRATION if f.question == "social_presence"]
    shares = reference.category_shares(
        ["forbidden", "none", "ad_hoc", "structured"], figs
    )
    assert shares == pytest.approx(
        {"forbidden": 0.05, "none": 0.52, "ad_hoc": 0.28, "structured": 0.15}
    )
    roi = [f for f in reference.CALIBRATION if f.key == "roi"]
    assert reference.category_shares(["no", "partly", "yes"], roi) == pytest.approx(
        {"no": 0.295, "partly": 0.295, "yes": 0.41}
    )


def test_contributions_count_users_in_both_populations(population) -> None:  # type: ignore[no-untyped-def]
    cons = reference.contributions(Q, population[:100], 4)
    for s, c in zip(population[:100], cons, strict=True):
        assert c.populations == (("all", "users") if s.user else ("all",))
        assert len(c.item_keys()) == (16 if s.user else 8)


def test_every_figure_is_documented_with_its_source() -> None:
    doc = (ROOT / "docs" / "REFERENCE.md").read_text(encoding="utf-8")
    for f in reference.CALIBRATION:
        assert f.source in doc and f"{round(f.share * 100)}%" in doc, f.key
        seeds = [Path(ROOT).parent / "shared", Path(ROOT).parent.parent / "shared"]
        assert any((d / "seeds" / f.source).exists() for d in seeds), f.source


@pytest.mark.parametrize(
    "q",
    get_catalog(str(ROOT / "questionnaires")).all(),
    ids=lambda q: q.version,
)
def test_calibration_table_in_the_docs_is_current(q) -> None:  # type: ignore[no-untyped-def]
    """docs/REFERENCE.md shows the table `cli reference-calibration` prints, per version."""
    doc = (ROOT / "docs" / "REFERENCE.md").read_text(encoding="utf-8")
    assert reference.calibration_markdown(q, list(reference.generate(q))) in doc


def test_reproducible_and_seed_dependent() -> None:
    a = [s.answers for s in reference.generate(Q, 50)]
    b = [s.answers for s in reference.generate(Q, 50)]
    c = [s.answers for s in reference.generate(Q, 50, seed=1)]
    assert a == b and a != c


def test_answers_are_valid(population) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.assessments import AssessmentService
    from chalicelib.config import Settings
    from chalicelib.storage.sqlite import SqliteStore

    svc = AssessmentService(
        SqliteStore(":memory:"),
        get_catalog(str(ROOT / "questionnaires")),
        Settings(secret=b"x"),
    )
    for s in population[:200]:
        svc.validate_answers(Q, s.answers)
