"""Typed results of the use cases (``assessments.py``, ``benchmarks.py``).

The use cases return these frozen dataclasses; ``render.py`` turns them into the public JSON
(only the edge serialises) and ``exports/model.py`` builds its report model from them, so an
export and an API response come from the same values and nothing re-parses JSON. Texts that
depend on the language (names, labels, notes) are looked up when rendering; a result holds
the language only where its values already depend on it (a score result's recommendations).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from chalicelib.cohorts import Cohort
from chalicelib.privacy import Release
from chalicelib.questionnaire import Questionnaire
from chalicelib.records import AssessmentRecord
from chalicelib.release_service import ReleaseInfo
from chalicelib.scoring import ScoreResult


# --- assessments ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CohortAttributes:
    """The cohort an answer set belongs to (from its context questions) and its consent."""

    industry: str | None
    size: str | None
    country: str | None
    region: str | None
    consent: bool


@dataclass(frozen=True)
class ScoreView:
    """``POST /v1/scores``: answers scored, nothing stored."""

    questionnaire: Questionnaire
    language: str
    answers: Mapping[str, str]
    score: ScoreResult
    cohort: CohortAttributes


@dataclass(frozen=True)
class AssessmentView:
    """A stored assessment with its result, scored once in ``language``."""

    record: AssessmentRecord
    questionnaire: Questionnaire
    score: ScoreResult
    language: str
    token: str | None = None  # only in the response to its submission
    for_partner: bool = False  # the creating partner reads its own reference id

    @property
    def id(self) -> str:
        return self.record.id


# --- benchmarks -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Summary:
    """Released statistics of one metric in one cohort, as the release rounds them: n as
    a band (``10-19``), whole numbers, the histogram as whole-percent shares."""

    n: str
    mean: float | None
    p10: int | None
    p25: int | None
    median: int | None
    p75: int | None
    p90: int | None
    histogram: Mapping[str, int]

    @classmethod
    def of(cls, d: Mapping[str, object]) -> Summary:
        v = cast(Mapping[str, Any], d)
        return cls(
            n=v["n"],
            mean=v["mean"],
            p10=v["p10"],
            p25=v["p25"],
            median=v["median"],
            p75=v["p75"],
            p90=v["p90"],
            histogram=v["histogram"],
        )


@dataclass(frozen=True)
class MetricStatistics:
    metric: str
    summary: Summary | None  # None: not released (``status`` says why)
    status: str = "released"


@dataclass(frozen=True)
class Frame:
    """Which source, population and cohort a benchmark answer used, and why."""

    questionnaire: Questionnaire
    source: str  # real / reference
    source_reason: str
    population: str  # users / all
    status: str  # released, or the fallback chain's overall status
    k_min: int
    requested: Cohort
    chosen: Release | None  # None: nothing may be released
    fallback: tuple[Release, ...]
    months: tuple[str, str] | None  # first and last month of the released cohort
    release: ReleaseInfo | None = None  # the release the figures come from

    @property
    def synthetic(self) -> bool:
        return self.source == "reference"


@dataclass(frozen=True)
class CohortStatistics:
    frame: Frame
    metrics: tuple[MetricStatistics, ...]


@dataclass(frozen=True)
class MetricComparison:
    statistics: MetricStatistics
    value: int
    percentile_rank: int | None  # whole-percent mid-rank against the release
    distance_to_median: int | None  # None (with percentile_rank) when below threshold
    distance_to_top_quartile: int | None


@dataclass(frozen=True)
class Comparison:
    frame: Frame
    assessment_id: str
    metrics: tuple[MetricComparison, ...]
    peer_phases: Mapping[str, int] | None  # None when nothing was released
    peer_pyramid: Mapping[str, int] | None

    def metric(self, name: str) -> MetricComparison | None:
        return next((m for m in self.metrics if m.statistics.metric == name), None)


@dataclass(frozen=True)
class MetricChange:
    metric: str
    before: int
    after: int
    comparable: bool
    ranked: bool  # the current cohort holds at least k values of the metric
    percentile_before: int | None = None
    percentile_after: int | None = None

    @property
    def delta(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class Progress:
    record: AssessmentRecord
    questionnaire: Questionnaire
    status: str  # ok / no_previous / previous_erased
    previous: AssessmentRecord | None = None
    comparable: frozenset[str] = frozenset()
    comparison: Comparison | None = None  # the current cohort (status ok)
    changes: tuple[MetricChange, ...] = ()


# --- consultant statistics ------------------------------------------------------------------
@dataclass(frozen=True)
class MetricConfidence:
    statistics: MetricStatistics
    median_ci: Mapping[str, Any]  # chalicelib.stats.median_ci
    percentile_rank_ci: Mapping[str, Any] | None  # only when a value was asked for


@dataclass(frozen=True)
class ConsultantCohortStatistics:
    frame: Frame
    metrics: tuple[MetricConfidence, ...]


@dataclass(frozen=True)
class MetricTest:
    metric: str
    test: Mapping[str, Any]  # chalicelib.stats.compare_cohorts


@dataclass(frozen=True)
class CohortComparison:
    questionnaire: Questionnaire
    source: str
    population: str
    k_min: int
    a: Release
    b: Release
    status: str  # released / not_released / no_release
    metrics: tuple[MetricTest, ...]
    release: ReleaseInfo | None = None

    @property
    def synthetic(self) -> bool:
        return self.source == "reference"
