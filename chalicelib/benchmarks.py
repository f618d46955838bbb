"""Benchmark use cases: cohort statistics, comparing an assessment with its peers, progress
between linked assessments, consultant statistics. Every published figure comes from the
latest benchmark release of its grid (docs/RELEASES.md): a read costs two items (the
grid's latest pointer and header, then the fallback chain's cells in one request), never a
scan of submissions or a read of aggregates. Every answer names its release. No scipy
here."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib import privacy
from chalicelib.aggregation import CellKey, Grid
from chalicelib.assessments import AssessmentService
from chalicelib.cohorts import ALL, Cohort
from chalicelib.config import Settings
from chalicelib.errors import InvalidInput
from chalicelib.questionnaire import Catalog, Questionnaire, comparable_metrics
from chalicelib.records import (
    POPULATION_ALL,
    POPULATION_USERS,
    POPULATIONS,
    AssessmentRecord,
)
from chalicelib.release_service import NO_RELEASE, ReleaseInfo
from chalicelib.releases import (
    WITHHELD,
    MetricFigures,
    Release,
    ReleasedCell,
    band_edges,
    n_band,
    n_band_floor,
    rank_against_release,
    released_histogram,
    released_quantiles,
)
from chalicelib.results import (
    CohortComparison,
    CohortStatistics,
    Comparison,
    ConsultantCohortStatistics,
    Frame,
    MetricChange,
    MetricComparison,
    MetricConfidence,
    MetricStatistics,
    MetricTest,
    Progress,
    Summary,
)
from chalicelib.storage import Store

if TYPE_CHECKING:
    from chalicelib.release_service import ReleaseService

SOURCES = ("real", "reference")
# Benchmarks compare with organisations that use social media by default: the population the
# practitioner figures describe (docs/REFERENCE.md); "all" includes non-users. Their labels
# are words of the edge (chalicelib/render.py).
DEFAULT_POPULATION = POPULATION_USERS


def parse_population(value: str | None, pointer: str = "/query/population") -> str:
    """``users`` (default) or ``all``; anything else is a 422 naming the parameter."""
    p = DEFAULT_POPULATION if value is None else value  # exact, like every parameter
    if p not in POPULATIONS:
        raise InvalidInput(
            "population must be users or all",
            [(pointer, f"{value!r} is not a population; one of users, all")],
        )
    return p


def cohort_values(q: Questionnaire) -> dict[str, set[str]]:
    """The values of the cohort parameters (besides ``*``), from the context questions; the
    OpenAPI document lists the same values as enums."""
    return {
        "industry": {o.value or o.id for o in q.context_question("industry").options},
        "size": {o.value or o.id for o in q.context_question("size").options},
        "region": {o.region for o in q.context_question("country").options if o.region},
    }


def parse_cohort(
    params: dict[str, str] | None, q: Questionnaire, prefix: str = ""
) -> Cohort:
    """A cohort from query parameters industry, size, region (each optional, ``*`` = all;
    an empty value is an error like any other unknown one), validated against the
    questionnaire's context options. ``prefix`` (``a_``, ``b_``) names the parameters."""
    params = params or {}
    valid = cohort_values(q)
    values: dict[str, str] = {}
    errors: list[tuple[str, str]] = []
    for name in ("industry", "size", "region"):
        v = params.get(prefix + name, ALL)
        if v != ALL and v not in valid[name]:
            errors.append((f"/query/{prefix}{name}", f"unknown {name} {v!r}"))
        values[name] = v
    if errors:
        raise InvalidInput("unknown cohort attribute", errors)
    return Cohort(values["industry"], values["size"], values["region"])


STEP_REASONS = {
    privacy.RELEASED: "released",
    privacy.NO_DATA: "no submissions in this cohort",
    privacy.BELOW_THRESHOLD: "fewer than {k} organisations",
    privacy.COMPLEMENT: "suppressed so that no group of fewer than {k} organisations"
    " follows from other released cohorts by subtraction",
    WITHHELD: "withheld until {k} organisations have joined, left or changed since its"
    " last release",
    NO_RELEASE: "no benchmark release has been published yet",
}


@dataclass(frozen=True)
class Choice:
    """The release and cell a benchmark answer uses: the fallback chain's cells looked up in
    the latest release of one source (``cell`` is the first released one, or None)."""

    source: str
    population: str
    release: Release | None  # the latest release, holding only the chain's cells
    info: ReleaseInfo | None
    cell: ReleasedCell | None
    chosen: privacy.Release | None
    steps: list[privacy.Release]
    why: str


def summary_of(metric: str, f: MetricFigures, k: int) -> Summary:
    """Released statistics of one metric: n as a band, the mean and the quantiles as whole
    numbers, the histogram as whole-percent shares (docs/RELEASES.md, "Rounding")."""
    q = released_quantiles(metric, f)
    return Summary(
        n=n_band(f.n, k),
        mean=f.mean,
        p10=q["p10"],
        p25=q["p25"],
        median=q["median"],
        p75=q["p75"],
        p90=q["p90"],
        histogram={
            label: share
            for (_, _, label), share in zip(band_edges(metric), f.shares, strict=True)
        },
    )


def metric_statistics(metric: str, cell: ReleasedCell, k: int) -> MetricStatistics:
    f = cell.metrics.get(metric)
    if isinstance(f, MetricFigures):
        return MetricStatistics(metric, summary_of(metric, f, k), privacy.RELEASED)
    return MetricStatistics(metric, None, f or privacy.NO_DATA)


class BenchmarkService:
    """Benchmark use cases over the latest benchmark releases (never the aggregates):
    ``releases`` reads them, ``assessments`` authorises the caller of an assessment's
    comparison or progress and looks questionnaires up by request."""

    def __init__(
        self,
        assessments: AssessmentService,
        store: Store,
        catalog: Catalog,
        settings: Settings,
        releases: ReleaseService | None = None,
    ) -> None:
        self.assessments = assessments
        self.store = store
        self.catalog = catalog
        self.settings = settings
        if releases is None:
            from chalicelib.release_service import ReleaseService

            releases = ReleaseService(store, catalog, settings, assessments.clock)
        self.releases = releases

    def questionnaire(
        self, qid: str, version: str | None, language: str
    ) -> Questionnaire:
        """An installed questionnaire (404 naming the field when unknown)."""
        return self.assessments.questionnaire(qid, version, language)

    def questionnaire_of(self, rec: AssessmentRecord) -> Questionnaire:
        return self.assessments.questionnaire_of(rec)

    def source_param(self, source: str | None) -> str:
        """The ``source`` query parameter checked: auto, real or reference (if enabled)."""
        s = "auto" if source is None else source
        if s not in ("auto", *SOURCES):
            raise InvalidInput(
                "source must be auto, real or reference",
                [("/query/source", f"{source!r} is not a source")],
            )
        if s == "reference" and not self.settings.reference:
            raise InvalidInput(
                "the reference cohort is switched off",
                [("/query/source", "not available")],
            )
        return s

    # --- reading the latest release -----------------------------------------------------
    def lookup(
        self,
        q: Questionnaire,
        cohorts_: list[Cohort],
        source: str,
        population: str,
    ) -> tuple[Release | None, ReleaseInfo | None]:
        """The named cells of the latest release of (source, questionnaire version), read in
        one request, as a partial ``Release`` (None when the grid has no release yet)."""
        grid = Grid(source, q.id, q.version)
        keys = [CellKey(population, c) for c in cohorts_]
        head, cells = self.releases.cells(grid, keys)
        if head is None:
            return None, None
        return (
            Release(head.id, head.created_at, head.k, cells, grid),
            self.releases.info(head),
        )

    def _steps(
        self, release: Release | None, chain: list[Cohort], population: str
    ) -> tuple[privacy.Release | None, list[privacy.Release]]:
        k = release.k if release is not None else self.settings.k_min
        steps: list[privacy.Release] = []
        for c in chain:
            if release is None:
                status = NO_RELEASE
            else:
                status = release.cell(CellKey(population, c)).status
            cell = release.released(CellKey(population, c)) if release else None
            step = privacy.Release(
                c,
                status,
                n_band(cell.n, k) if cell else None,
                STEP_REASONS.get(status, status).format(k=k),
            )
            steps.append(step)
            if cell is not None:
                return step, steps
        return None, steps

    def _choose(
        self, q: Questionnaire, cohort: Cohort, source: str, population: str
    ) -> Choice:
        """Pick source and cohort. ``auto`` uses real submissions when their latest release
        has a cohort of the fallback chain released, and says so; otherwise the reference."""
        candidates = [source] if source != "auto" else ["real", "reference"]
        if source == "auto" and not self.settings.reference:
            candidates = ["real"]
        chain = privacy.fallback_chain(cohort)
        last: Choice | None = None
        for i, src in enumerate(candidates):
            release, info = self.lookup(q, chain, src, population)
            chosen, steps = self._steps(release, chain, population)
            if source == "auto":
                why = (
                    "real submissions are used where a cohort is large enough"
                    if src == "real"
                    else "no cohort of real submissions is large enough yet; "
                    "the synthetic reference cohort is used instead"
                )
            else:
                why = f"{src} requested"
            cell = (
                release.released(CellKey(population, chosen.cohort))
                if release is not None and chosen is not None
                else None
            )
            last = Choice(src, population, release, info, cell, chosen, steps, why)
            if chosen is not None or i == len(candidates) - 1:
                break
        assert last is not None
        return last

    def _frame(self, q: Questionnaire, requested: Cohort, choice: Choice) -> Frame:
        if choice.chosen is not None:
            status = privacy.RELEASED
        elif choice.release is None:
            status = NO_RELEASE
        else:
            status = privacy.overall_status(choice.steps)
        cell = choice.cell
        return Frame(
            questionnaire=q,
            source=choice.source,
            source_reason=choice.why,
            population=choice.population,
            status=status,
            k_min=choice.release.k if choice.release else self.settings.k_min,
            requested=requested,
            chosen=choice.chosen,
            fallback=tuple(choice.steps),
            months=cell.months if cell else None,
            release=choice.info,
        )

    # --- cohort statistics --------------------------------------------------------------
    def cohort_statistics(
        self,
        qid: str,
        version: str | None,
        params: dict[str, str] | None,
        language: str,
    ) -> CohortStatistics:
        q, frame, choice = self.released(qid, version, params, language)
        metrics: tuple[MetricStatistics, ...] = ()
        if choice.cell is not None:
            k = frame.k_min
            metrics = tuple(
                metric_statistics(m, choice.cell, k)
                for m in q.metric_names()
                if m in choice.cell.metrics
            )
        return CohortStatistics(frame, metrics)

    def released(
        self,
        qid: str,
        version: str | None,
        params: dict[str, str] | None,
        language: str,
    ) -> tuple[Questionnaire, Frame, Choice]:
        """The questionnaire, the frame (source, cohort used, fallback steps, release) and
        the choice (its ``cell`` is None when nothing is released)."""
        q = self.questionnaire(qid, version, language)
        params = params or {}
        cohort = parse_cohort(params, q)
        source = self.source_param(params.get("source"))
        population = parse_population(params.get("population"))
        choice = self._choose(q, cohort, source, population)
        return q, self._frame(q, cohort, choice), choice

    # --- one assessment against its peers -----------------------------------------------
    def compare(
        self,
        assessment_id: str,
        token: str | None,
        params: dict[str, str] | None,
        language: str,
        partner_id: str | None = None,
    ) -> Comparison:
        rec = self.assessments.authorize(assessment_id, token, partner_id)
        return self.compare_record(rec, params, language)

    def compare_record(
        self, rec: AssessmentRecord, params: dict[str, str] | None, language: str
    ) -> Comparison:
        return self._compare(rec, params, language)[0]

    def _compare(
        self, rec: AssessmentRecord, params: dict[str, str] | None, language: str
    ) -> tuple[Comparison, Choice]:
        """The record's scores ranked against the latest release (``rank_against_release``:
        whole-percent mid-ranks in the released shares)."""
        q = self.assessments.questionnaire_of(rec)
        params = dict(params or {})
        own = {"industry": rec.industry, "size": rec.size, "region": rec.region}
        for name, v in own.items():
            params.setdefault(name, v or ALL)
        cohort = parse_cohort(params, q)
        source = self.source_param(params.get("source"))
        population = parse_population(params.get("population"))
        choice = self._choose(q, cohort, source, population)
        frame = self._frame(q, cohort, choice)
        cell, release = choice.cell, choice.release
        if cell is None or release is None or choice.chosen is None:
            return Comparison(frame, rec.id, (), None, None), choice
        k = release.k
        metrics: list[MetricComparison] = []
        for m in q.metric_names():
            if m not in rec.metrics or m not in cell.metrics:
                continue
            stats = metric_statistics(m, cell, k)
            value = rec.metrics[m]
            s = stats.summary
            if s is not None and s.median is not None and s.p75 is not None:
                rank = rank_against_release(
                    release, choice.chosen.cohort, m, value, population
                )
                metrics.append(
                    MetricComparison(
                        stats, value, rank, value - s.median, value - s.p75
                    )
                )
            else:
                metrics.append(MetricComparison(stats, value, None, None, None))
        phase, level = cell.figures("phase"), cell.figures("pyramid_level")
        phases = summary_of("phase", phase, k).histogram if phase else None
        pyramid = None
        if level is not None:
            names = ["none"] + [t.id for t in q.tiers]
            shares = summary_of("pyramid_level", level, k).histogram
            pyramid = {names[int(b)]: v for b, v in shares.items()}
        return Comparison(frame, rec.id, tuple(metrics), phases, pyramid), choice

    # --- reference cohort ---------------------------------------------------------------
    def reference_size(self, q: Questionnaire, population: str = POPULATION_ALL) -> int:
        """Organisations in the stored reference cohort (its cell aggregate, not a release:
        for seeding)."""
        cells = self.store.read_grid(Grid("reference", q.id, q.version))
        state = cells.get(CellKey(population, Cohort()))
        return state.count if state is not None else 0

    def seed_reference(
        self,
        q: Questionnaire,
        n: int,
        seed: int,
        progress: Callable[[int, int], None] | None = None,
        replace: bool = False,
    ) -> int:
        """Load the synthetic reference cohort (populations ``all`` and ``users``) unless it
        is there already, and publish a release of it, so a fresh installation shows the
        labelled reference cohort at once; returns how many synthetic organisations were
        added (0 when already seeded). A reference stored before populations existed
        (counted in ``all``, nothing in ``users``) is replaced, and so is any reference with
        ``replace`` (after a new ``reference.GENERATOR_VERSION``): its cells are
        emptied first (``clear_aggregates``), so re-seeding never counts an organisation
        twice."""
        from chalicelib import reference

        grid = Grid("reference", q.id, q.version)
        stored = self.reference_size(q)
        if stored > 0 and self.reference_size(q, POPULATION_USERS) > 0 and not replace:
            if self.releases.latest(grid) is None:
                self.releases.publish(grids=[grid])
            return 0
        population = list(reference.generate(q, n, seed))
        cons = reference.contributions(
            q, population, self.settings.global_shards, progress
        )
        if stored > 0 or replace:
            self.store.clear_aggregates("reference", q.id, q.version)
        self.store.bulk_load([], cons)
        self.releases.publish(grids=[grid])
        return len(cons)

    # --- progress over time -------------------------------------------------------------
    def progress(
        self,
        assessment_id: str,
        token: str | None,
        params: dict[str, str] | None,
        language: str,
        partner_id: str | None = None,
    ) -> Progress:
        """Change per metric since the linked previous assessment, and the movement in the
        peer ranking (both values ranked against the same latest release)."""
        rec = self.assessments.authorize(assessment_id, token, partner_id)
        q = self.assessments.questionnaire_of(rec)
        # the parameters are checked even when there is nothing to compare
        parse_cohort(params, q)
        self.source_param((params or {}).get("source"))
        parse_population((params or {}).get("population"))
        prev = self.store.get_assessment(rec.previous_id) if rec.previous_id else None
        if prev is None:
            status = "no_previous" if rec.previous_id is None else "previous_erased"
            return Progress(rec, q, status)
        # different questionnaire versions: which metrics still compare (docs/VERSIONS.md);
        # stored results are never re-scored to the other version
        prev_q = self.assessments.questionnaire_of(prev)
        comparable = frozenset(comparable_metrics(prev_q, q))
        comparison, choice = self._compare(rec, params, language)
        changes = []
        for m in q.metric_names():
            if m not in rec.metrics or m not in prev.metrics:
                continue
            before, after = prev.metrics[m], rec.metrics[m]
            pb = pa = None
            if choice.release is not None and choice.chosen is not None:
                cohort, pop = choice.chosen.cohort, choice.population
                pb = rank_against_release(choice.release, cohort, m, before, pop)
                pa = rank_against_release(choice.release, cohort, m, after, pop)
            if pb is not None and pa is not None:
                change = MetricChange(m, before, after, m in comparable, True, pb, pa)
            else:
                change = MetricChange(m, before, after, m in comparable, False)
            changes.append(change)
        return Progress(rec, q, "ok", prev, comparable, comparison, tuple(changes))


class ConsultantStatistics:
    """scipy-backed analytics over released cohorts (lazy import of chalicelib.stats). Every
    input is a released histogram (``released_histogram``: the n band's floor spread over
    the released shares), never an aggregate, so nothing here is finer than the release."""

    def __init__(self, benchmarks: BenchmarkService) -> None:
        self.benchmarks = benchmarks

    def statistics(
        self,
        qid: str,
        version: str | None,
        params: dict[str, str] | None,
        language: str,
    ) -> ConsultantCohortStatistics:
        from chalicelib import stats

        b = self.benchmarks
        value = _int_param(params or {}, "value")
        q, frame, choice = b.released(qid, version, params, language)
        cell, release = choice.cell, choice.release
        if cell is None or release is None or choice.chosen is None:
            return ConsultantCohortStatistics(frame, ())
        k = release.k
        metrics: list[MetricConfidence] = []
        for m in q.metric_names():
            f = cell.figures(m)
            if f is None:
                continue
            h = released_histogram(m, f, k)
            rank_ci: dict[str, Any] | None = None
            if value is not None:
                rank = rank_against_release(
                    release, choice.chosen.cohort, m, value, choice.population
                )
                if rank is not None:
                    ci = stats.wilson_interval(rank / 100, n_band_floor(f.n, k))
                    rank_ci = {
                        **ci,
                        "rank": rank,
                        "low": math.floor(ci["low"]),
                        "high": math.ceil(ci["high"]),
                        "method": "Wilson score interval around the rank against the"
                        " release, n the floor of its band",
                    }
            metrics.append(
                MetricConfidence(
                    metric_statistics(m, cell, k),
                    _banded_ci(m, stats.median_ci(h)),
                    rank_ci,
                )
            )
        return ConsultantCohortStatistics(frame, tuple(metrics))

    def compare_cohorts(
        self,
        qid: str,
        version: str | None,
        params: dict[str, str] | None,
        language: str,
    ) -> CohortComparison:
        from chalicelib import stats

        b = self.benchmarks
        q = b.questionnaire(qid, version, language)
        params = params or {}
        source = b.source_param(params.get("source"))
        if source == "auto":
            source = "real"
        population = parse_population(params.get("population"))
        sides = [parse_cohort(params, q, prefix=f"{side}_") for side in ("a", "b")]
        release, info = b.lookup(q, sides, source, population)
        k = release.k if release is not None else b.settings.k_min
        steps = [b._steps(release, [c], population)[1][0] for c in sides]
        cells = [
            release.released(CellKey(population, c)) if release else None for c in sides
        ]

        def result(status: str, metrics: tuple[MetricTest, ...]) -> CohortComparison:
            return CohortComparison(
                q, source, population, k, steps[0], steps[1], status, metrics, info
            )

        if release is None:
            return result(NO_RELEASE, ())
        ca, cb = cells
        if ca is None or cb is None:
            return result("not_released", ())
        tests: list[MetricTest] = []
        for m in q.metric_names():
            fa, fb = ca.figures(m), cb.figures(m)
            if fa is None or fb is None:
                continue
            tests.append(
                MetricTest(
                    m,
                    stats.compare_cohorts(
                        released_histogram(m, fa, k), released_histogram(m, fb, k)
                    ),
                )
            )
        return result(privacy.RELEASED, tuple(tests))

    def reliability(
        self, q: Questionnaire, answer_sets: list[dict[str, str]]
    ) -> dict[str, Any]:
        """Cronbach's alpha per dimension over a pool of answer sets."""
        from chalicelib import stats

        out: dict[str, Any] = {}
        for d in q.dimensions:
            items = [
                x for x in q.scored_questions if any(w.id == d.id for w in x.dimensions)
            ]
            rows = [
                [x.scored_options.get(a.get(x.id, ""), None) for x in items]
                for a in answer_sets
            ]
            out[d.id] = stats.cronbach_alpha(rows)
        return out


def _banded_ci(metric: str, ci: dict[str, Any]) -> dict[str, Any]:
    """A median interval from a released histogram (values at band middles) widened to
    the edges of the bands it falls in: no finer than the release."""
    if ci["low"] is None or ci["high"] is None:
        return ci
    edges = band_edges(metric)

    def band(x: float) -> tuple[int, int]:
        return next(((lo, hi) for lo, hi, _ in edges if x <= hi), edges[-1][:2])

    return {
        **ci,
        "low": band(ci["low"])[0],
        "high": band(ci["high"])[1],
        "method": f"{ci['method']}, over the released histogram, widened to its bands",
    }


def _int_param(params: dict[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3):  # no "+5", " 5", "5_0"
        raise InvalidInput(
            f"{name} must be an integer", [(f"/query/{name}", "not an integer")]
        )
    v = int(raw)
    if not 0 <= v <= 100:
        raise InvalidInput(
            f"{name} must be 0..100", [(f"/query/{name}", "out of range")]
        )
    return v
