"""The reference cohort reproduces each published figure within sampling error, reproducibly."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from chalicelib import reference
from chalicelib.questionnaire import get_catalog
from tests.conftest import ROOT

Q = get_catalog(str(ROOT / "questionnaires")).get("smm")


@pytest.fixture(scope="module")
def population() -> list[reference.Synthetic]:
    return list(reference.generate(Q))


@pytest.mark.parametrize(
    "figure", reference.CALIBRATION, ids=[f.key for f in reference.CALIBRATION]
)
def test_figure_reproduced_within_sampling_error(population, figure) -> None:  # type: ignore[no-untyped-def]
    observed, n = reference.observed_share(population, figure)
    se = math.sqrt(figure.share * (1 - figure.share) / n)
    assert abs(observed - figure.share) <= 3 * se, (
        figure.key,
        observed,
        figure.share,
        n,
    )
    assert figure.question in Q.question_index
    assert set(figure.options) <= set(Q.question_index[figure.question].scored_options)


def test_every_figure_is_documented_with_its_source() -> None:
    doc = (ROOT / "docs" / "REFERENCE.md").read_text(encoding="utf-8")
    for f in reference.CALIBRATION:
        assert f.source in doc and f"{round(f.share * 100)}%" in doc, f.key
        assert (Path(ROOT).parent / "shared" / "seeds" / f.source).exists(), f.source


def test_reproducible_and_seed_dependent() -> None:
    a = [s.answers for s in reference.generate(Q, 50)]
    b = [s.answers for s in reference.generate(Q, 50)]
    c = [s.answers for s in reference.generate(Q, 50, seed=1)]
    assert a == b and a != c


def test_answers_are_valid(population) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.config import Settings
    from chalicelib.service import AssessmentService
    from chalicelib.storage.sqlite import SqliteStore

    svc = AssessmentService(
        SqliteStore(":memory:"),
        get_catalog(str(ROOT / "questionnaires")),
        Settings(secret=b"x"),
    )
    for s in population[:200]:
        svc.validate_answers(Q, s.answers)
