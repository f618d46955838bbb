"""Benchmark use cases: cohort statistics, comparing an assessment with its peers, progress
between linked assessments. Reads cost O(1) items: the 8 roll-ups of one cohort (the global one
summed over its write shards), never a scan of submissions. No scipy here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib import cohorts, histograms, privacy
from chalicelib.assessments import AssessmentService
from chalicelib.cohorts import ALL, Cohort
from chalicelib.config import Settings
from chalicelib.errors import InvalidInput
from chalicelib.questionnaire import Catalog, Questionnaire, comparable_metrics
from chalicelib.records import (
    POPULATION_ALL,
    POPULATION_USERS,
    POPULATIONS,
    Aggregate,
    AssessmentRecord,
    shard_index,
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


@dataclass
class Lattice:
    """Aggregates of a cohort and all its roll-ups from one source and population, and for a
    sub-population the counts of the same cohorts in ``all`` (``outer``, for differencing)."""

    source: str
    aggregates: dict[Cohort, Aggregate]
    population: str = POPULATION_ALL
    outer: dict[Cohort, int] | None = None

    def counts(self) -> dict[Cohort, int]:
        return {c: a.count for c, a in self.aggregates.items()}


def _sum(aggs: list[Aggregate]) -> Aggregate:
    total = Aggregate()
    for a in aggs:
        total.add(a)
    return total


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


class BenchmarkService:
    """Benchmark use cases over the store's roll-ups; ``assessments`` authorises the caller of
    an assessment's comparison or progress and looks questionnaires up by request."""

    def __init__(
        self,
        assessments: AssessmentService,
        store: Store,
        catalog: Catalog,
        settings: Settings,
    ) -> None:
        self.assessments = assessments
        self.store = store
        self.catalog = catalog
        self.settings = settings

    def questionnaire(
        self, qid: str, version: str | None, language: str
    ) -> Questionnaire:
        """An installed questionnaire (404 naming the field when unknown)."""
        return self.assessments.questionnaire(qid, version, language)

    def questionnaire_of(self, rec: AssessmentRecord) -> Questionnaire:
        return self.assessments.questionnaire_of(rec)

    # --- reading aggregates -------------------------------------------------------------
    def _aggregates(
        self,
        q: Questionnaire,
        cohort: Cohort,
        source: str,
        populations: tuple[str, ...],
    ) -> dict[str, dict[Cohort, Aggregate]]:
        """The cohort's roll-ups in each population, read in one request. The global one is
        the sum of every shard item stored, whatever GLOBAL_SHARDS wrote them (the setting
        only picks the shards of new submissions), so changing it never hides one."""
        wanted = cohort.generalisations()
        read = self.store.read_populations(
            source,
            q.id,
            q.version,
            [c.key for c in wanted if not c.is_global],
            populations,
            sharded=[cohorts.GLOBAL.key],
        )
        out: dict[str, dict[Cohort, Aggregate]] = {}
        for population, raw in read.items():
            aggs: dict[Cohort, Aggregate] = {}
            for c in wanted:
                if c.is_global:
                    parts = [
                        a for k, a in raw.items() if shard_index(k, c.key) is not None
                    ]
                else:
                    parts = [raw[c.key]] if c.key in raw else []
                aggs[c] = _sum(parts)
            out[population] = aggs
        return out

    def lattice(
        self,
        q: Questionnaire,
        cohort: Cohort,
        source: str,
        population: str = POPULATION_ALL,
    ) -> Lattice:
        """The cohort's roll-ups in one population; for ``users`` also the counts of the same
        cohorts in ``all`` (as many items more, in the same request), for the differencing
        rule."""
        if population == POPULATION_ALL:
            aggs = self._aggregates(q, cohort, source, (POPULATION_ALL,))
            return Lattice(source, aggs[POPULATION_ALL], population)
        both = self._aggregates(q, cohort, source, (population, POPULATION_ALL))
        outer = {c: a.count for c, a in both[POPULATION_ALL].items()}
        return Lattice(source, both[population], population, outer)

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

    def _choose(
        self, q: Questionnaire, cohort: Cohort, source: str, population: str
    ) -> tuple[Lattice, privacy.Release | None, list[privacy.Release], str]:
        """Pick source and cohort. ``auto`` uses real submissions when any cohort of the
        fallback chain can be released from them, and says so; otherwise the reference."""
        k = self.settings.k_min
        candidates = [source] if source != "auto" else ["real", "reference"]
        if source == "auto" and not self.settings.reference:
            candidates = ["real"]
        last: (
            tuple[Lattice, privacy.Release | None, list[privacy.Release], str] | None
        ) = None
        for i, src in enumerate(candidates):
            lat = self.lattice(q, cohort, src, population)
            chosen, steps = privacy.choose(cohort, lat.counts(), k, lat.outer)
            if source == "auto":
                why = (
                    "real submissions are used where a cohort is large enough"
                    if src == "real"
                    else "no cohort of real submissions is large enough yet; "
                    "the synthetic reference cohort is used instead"
                )
            else:
                why = f"{src} requested"
            last = (lat, chosen, steps, why)
            if chosen is not None or i == len(candidates) - 1:
                break
        assert last is not None
        return last

    # --- cohort statistics --------------------------------------------------------------
    def cohort_statistics(
        self,
        qid: str,
        version: str | None,
        params: dict[str, str] | None,
        language: str,
    ) -> CohortStatistics:
        q, frame, agg = self.released(qid, version, params, language)
        metrics: tuple[MetricStatistics, ...] = ()
        if agg is not None:
            metrics = tuple(
                self.metric_statistics(m, agg)
                for m in q.metric_names()
                if m in agg.bins
            )
        return CohortStatistics(frame, metrics)

    def released(
        self,
        qid: str,
        version: str | None,
        params: dict[str, str] | None,
        language: str,
    ) -> tuple[Questionnaire, Frame, Aggregate | None]:
        """The questionnaire, the frame (source, cohort used, fallback steps) and the
        aggregate of the released cohort (None when nothing may be released)."""
        q = self.questionnaire(qid, version, language)
        params = params or {}
        cohort = parse_cohort(params, q)
        source = self.source_param(params.get("source"))
        population = parse_population(params.get("population"))
        lat, chosen, steps, why = self._choose(q, cohort, source, population)
        frame = self._frame(q, lat, cohort, chosen, steps, why)
        return q, frame, (lat.aggregates[chosen.cohort] if chosen else None)

    def _frame(
        self,
        q: Questionnaire,
        lat: Lattice,
        requested: Cohort,
        chosen: privacy.Release | None,
        steps: list[privacy.Release],
        why: str,
    ) -> Frame:
        agg = lat.aggregates[chosen.cohort] if chosen else None
        months = sorted(m for m, v in (agg.months if agg else {}).items() if v > 0)
        return Frame(
            questionnaire=q,
            source=lat.source,
            source_reason=why,
            population=lat.population,
            status=privacy.RELEASED if chosen else privacy.overall_status(steps),
            k_min=self.settings.k_min,
            requested=requested,
            chosen=chosen,
            fallback=tuple(steps),
            months=(months[0], months[-1]) if months else None,
        )

    def metric_statistics(self, metric: str, agg: Aggregate) -> MetricStatistics:
        """One metric's released statistics (None below k)."""
        s = Summary.of(histograms.summary(agg.bins.get(metric, ()), metric))
        return MetricStatistics(metric, s if s.n >= self.settings.k_min else None)

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
    ) -> tuple[Comparison, Aggregate | None]:
        q = self.assessments.questionnaire_of(rec)
        params = dict(params or {})
        own = {"industry": rec.industry, "size": rec.size, "region": rec.region}
        for name, v in own.items():
            params.setdefault(name, v or ALL)
        cohort = parse_cohort(params, q)
        source = self.source_param(params.get("source"))
        population = parse_population(params.get("population"))
        lat, chosen, steps, why = self._choose(q, cohort, source, population)
        frame = self._frame(q, lat, cohort, chosen, steps, why)
        if chosen is None:
            return Comparison(frame, rec.id, (), None, None), None
        agg = lat.aggregates[chosen.cohort]
        metrics: list[MetricComparison] = []
        for m in q.metric_names():
            if m not in rec.metrics or m not in agg.bins:
                continue
            stats = self.metric_statistics(m, agg)
            value = rec.metrics[m]
            s = stats.summary
            if s is not None and s.median is not None and s.p75 is not None:
                rank = histograms.percentile_rank(agg.bins[m], value)
                metrics.append(
                    MetricComparison(
                        stats,
                        value,
                        None if rank is None else round(rank, 1),
                        value - s.median,
                        value - s.p75,
                    )
                )
            else:
                metrics.append(MetricComparison(stats, value, None, None, None))
        phases = histograms.banded(agg.bins.get("phase", ()), "phase")
        levels = histograms.banded(agg.bins.get("pyramid_level", ()), "pyramid_level")
        names = ["none"] + [t.id for t in q.tiers]
        pyramid = {names[int(k)]: v for k, v in levels.items()}
        return Comparison(frame, rec.id, tuple(metrics), phases, pyramid), agg

    # --- reference cohort ---------------------------------------------------------------
    def reference_size(self, q: Questionnaire, population: str = POPULATION_ALL) -> int:
        aggs = self._aggregates(q, Cohort(), "reference", (population,))
        return aggs[population][Cohort()].count

    def seed_reference(
        self,
        q: Questionnaire,
        n: int,
        seed: int,
        progress: Callable[[int, int], None] | None = None,
        replace: bool = False,
    ) -> int:
        """Load the synthetic reference cohort (populations ``all`` and ``users``) unless it
        is there already; returns how many synthetic organisations were added (0 when already
        seeded). A reference stored before populations existed (counted in ``all``, nothing
        in ``users``) is replaced, and so is any reference with ``replace`` (after a new
        ``reference.GENERATOR_VERSION``): its aggregates are deleted first, so re-seeding
        never counts an organisation twice."""
        from chalicelib import reference

        stored = self.reference_size(q)
        if stored > 0 and self.reference_size(q, POPULATION_USERS) > 0 and not replace:
            return 0
        population = list(reference.generate(q, n, seed))
        cons = reference.contributions(
            q, population, self.settings.global_shards, progress
        )
        if stored > 0 or replace:
            self.store.clear_aggregates("reference", q.id, q.version)
        self.store.bulk_load([], cons)
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
        peer ranking (both values ranked in the same current cohort)."""
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
        comparison, agg = self._compare(rec, params, language)
        hists = agg.histograms if agg is not None else {}
        changes = []
        for m in q.metric_names():
            if m not in rec.metrics or m not in prev.metrics:
                continue
            before, after = prev.metrics[m], rec.metrics[m]
            h = hists.get(m)
            if h and histograms.hist_count(h) >= self.settings.k_min:
                pb, pa = (
                    histograms.percentile_rank(h, before),
                    histograms.percentile_rank(h, after),
                )
                change = MetricChange(
                    m,
                    before,
                    after,
                    m in comparable,
                    True,
                    None if pb is None else round(pb, 1),
                    None if pa is None else round(pa, 1),
                )
            else:
                change = MetricChange(m, before, after, m in comparable, False)
            changes.append(change)
        return Progress(rec, q, "ok", prev, comparable, comparison, tuple(changes))


class ConsultantStatistics:
    """scipy-backed analytics over released cohorts (lazy import of chalicelib.stats)."""

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
        q, frame, agg = b.released(qid, version, params, language)
        if agg is None:
            return ConsultantCohortStatistics(frame, ())
        metrics: list[MetricConfidence] = []
        for m in q.metric_names():
            h = agg.histograms.get(m)
            if not h or histograms.hist_count(h) < b.settings.k_min:
                continue
            metrics.append(
                MetricConfidence(
                    b.metric_statistics(m, agg),
                    stats.median_ci(h),
                    None if value is None else stats.percentile_rank_ci(h, value),
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
        sides: list[tuple[privacy.Release, Aggregate]] = []
        for side in ("a", "b"):
            cohort = parse_cohort(params, q, prefix=f"{side}_")
            lat = b.lattice(q, cohort, source, population)
            rel = privacy.release(cohort, lat.counts(), b.settings.k_min, lat.outer)
            sides.append((rel, lat.aggregates[cohort]))
        (a, agg_a), (b_, agg_b) = sides

        def result(status: str, metrics: tuple[MetricTest, ...]) -> CohortComparison:
            return CohortComparison(
                q, source, population, b.settings.k_min, a, b_, status, metrics
            )

        if any(rel.status != privacy.RELEASED for rel, _ in sides):
            return result("not_released", ())
        tests: list[MetricTest] = []
        for m in q.metric_names():
            ha, hb = agg_a.histograms.get(m), agg_b.histograms.get(m)
            if not ha or not hb:
                continue
            if (
                min(histograms.hist_count(ha), histograms.hist_count(hb))
                < b.settings.k_min
            ):
                continue
            tests.append(MetricTest(m, stats.compare_cohorts(ha, hb)))
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
