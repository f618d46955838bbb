"""Pure: what an export shows, built from the typed results the API itself renders.

An assessment report is made of an ``AssessmentView`` (``AssessmentService.view``: the record
and its score result) and a ``Comparison`` (``BenchmarkService.compare_record``); a cohort
table row of a ``CohortStatistics`` (``BenchmarkService.cohort_statistics``). Nothing here
reads the store or computes a benchmark figure: every number is copied from those results,
which ``chalicelib/render.py`` serialises for the API, so an export always equals the API.
Texts come from the questionnaire, from ``render.py`` (the API's words) or from
``labels.yaml`` (German and English).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chalicelib.cohorts import ALL, Cohort
from chalicelib.errors import InvalidInput
from chalicelib.questionnaire import Questionnaire
from chalicelib.render import (
    POPULATION_LABELS,
    SOURCE_LABELS,
    explain_profile,
    phase_texts,
)
from chalicelib.results import AssessmentView, CohortStatistics, Comparison, Frame

LANGUAGES = ("de", "en")
CSV_LOCALES = ("de", "en")  # de: ";" and decimal comma; en: "," and decimal point
LABEL_MAX = 80  # characters of a display label
RELEASED = "released"
ATTRIBUTES = ("industry", "size", "region")


# --- labels -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _label_data() -> dict[str, dict[str, dict[str, str]]]:
    path = Path(__file__).with_name("labels.yaml")
    data: dict[str, dict[str, dict[str, str]]] = yaml.safe_load(
        path.read_text(encoding="utf-8")
    )
    return data


@dataclass(frozen=True)
class Labels:
    """The report frame's words in one language (``labels.yaml``)."""

    language: str

    def _get(self, section: str, key: str) -> str:
        return _label_data()[section][key][self.language]

    def text(self, key: str, **values: Any) -> str:
        t = self._get("texts", key)
        return t.format(**values) if values else t

    def column(self, key: str) -> str:
        return self._get("columns", key)

    def status(self, key: str) -> str:
        return self._get("status", key) if key in _label_data()["status"] else key

    def sheet(self, key: str) -> str:
        return self._get("sheets", key)

    def region(self, region_id: str) -> str:
        regions = _label_data()["regions"]
        return regions[region_id][self.language] if region_id in regions else region_id


def labels(language: str) -> Labels:
    check_language(language)
    return Labels(language)


def check_language(language: str, pointer: str = "/query/lang") -> str:
    if language not in LANGUAGES:
        raise InvalidInput(
            "lang must be de or en", [(pointer, f"{language!r} is not supported")]
        )
    return language


def check_csv_locale(
    locale: str | None, language: str, pointer: str = "/query/csv_locale"
) -> str:
    """The CSV number format: ``de`` (``;`` separator, decimal comma) or ``en`` (``,`` and
    decimal point); by default the one of the export's language."""
    if locale is None or locale == "":
        return language
    if locale not in CSV_LOCALES:
        raise InvalidInput(
            "csv_locale must be de or en", [(pointer, f"{locale!r} is not supported")]
        )
    return locale


def label_problem(label: object) -> str | None:
    """Why a display label is refused (None: fine): 1 to 80 characters, no control or
    formatting characters (line breaks, tabs, bidi overrides, zero-width characters)."""
    if not isinstance(label, str):
        return "a display label is a string"
    if not label.strip() or len(label) > LABEL_MAX:
        return f"1 to {LABEL_MAX} characters"
    bad = next(
        (
            ch
            for ch in label
            if unicodedata.category(ch)[0] == "C" or ch in "\u2028\u2029"
        ),
        None,
    )
    if bad is not None:
        return f"control character U+{ord(bad):04X} is not allowed"
    return None


def check_display_labels(
    display_labels: Mapping[str, str] | None,
    ids: list[str],
    pointer: str = "/labels",
) -> dict[str, str]:
    """Display labels for assessments of this export only: every key an id in ``ids``,
    every label valid (``label_problem``); returned stripped. They exist only for the
    export being built: nothing stores or logs them."""
    if not display_labels:
        return {}
    known = set(ids)
    errors: list[tuple[str, str]] = []
    out: dict[str, str] = {}
    for aid, label in display_labels.items():
        where = f"{pointer}/{aid}"
        if aid not in known:
            errors.append((where, "not an assessment of this export"))
            continue
        problem = label_problem(label)
        if problem is not None:
            errors.append((where, problem))
            continue
        out[aid] = label.strip()
    if errors:
        raise InvalidInput("invalid display labels", errors)
    return out


# --- dates --------------------------------------------------------------------------------
MONTHS = {
    "de": [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


def long_date(iso: str | None, lab: Labels) -> str:
    """``2026-12-03`` as a reader writes it: "3. Dezember 2026" / "3 December 2026"."""
    if not iso:
        return lab.text("not_available")
    try:
        y, m, d = (int(p) for p in iso[:10].split("-"))
        month = MONTHS[lab.language][m - 1]
    except (ValueError, IndexError):
        return iso
    return f"{d}. {month} {y}" if lab.language == "de" else f"{d} {month} {y}"


def month_name(ym: str | None, lab: Labels) -> str:
    """``2026-11`` as "November 2026"."""
    if not ym:
        return lab.text("not_available")
    try:
        y, m = (int(p) for p in ym[:7].split("-"))
        return f"{MONTHS[lab.language][m - 1]} {y}"
    except (ValueError, IndexError):
        return ym


def month_range(first: str | None, last: str | None, lab: Labels) -> str:
    """The months a cohort covers, "Januar 2016 – Dezember 2016" (one month: its name)."""
    if not first:
        return lab.text("not_available")
    if not last or last == first:
        return month_name(first, lab)
    return f"{month_name(first, lab)} – {month_name(last, lab)}"


def data_age(c: CohortInfo, lab: Labels, today: str) -> str:
    """How old the benchmark figures are: the release they come from when the service names
    one, else that they were computed when the export was made (``today``, YYYY-MM-DD), with
    the most recent month the cohort covers."""
    if c.release_id:
        return lab.text(
            "data_release",
            release=c.release_id,
            date=long_date(c.released_at, lab),
            month=month_name(c.months_to, lab),
        )
    return lab.text(
        "data_as_of", date=long_date(today, lab), month=month_name(c.months_to, lab)
    )


# --- cohorts ------------------------------------------------------------------------------
def attribute_values(q: Questionnaire, by: str) -> list[str]:
    """Every value of one cohort attribute, in questionnaire order."""
    if by == "industry":
        return [o.value or o.id for o in q.context_question("industry").options]
    if by == "size":
        return [o.value or o.id for o in q.context_question("size").options]
    regions = [o.region for o in q.context_question("country").options if o.region]
    return list(dict.fromkeys(regions))


def attribute_label(q: Questionnaire, by: str, value: str | None, lab: Labels) -> str:
    """The localised name of one attribute value (industry and size options from the
    questionnaire, regions from labels.yaml)."""
    if value is None or value == ALL:
        return lab.text(f"all_{by}")
    if by == "region":
        return lab.region(value)
    role = "industry" if by == "industry" else "size"
    for o in q.context_question(role).options:
        if (o.value or o.id) == value:
            return o.label.get(lab.language)
    return value


def country_label(q: Questionnaire, country: str | None, lab: Labels) -> str:
    if not country:
        return lab.text("not_given")
    for o in q.context_question("country").options:
        if (o.value or o.id) == country:
            return o.label.get(lab.language)
    return country


def cohort_label(q: Questionnaire, cohort: Cohort, lab: Labels) -> str:
    """``C – Manufacturing · 50–249 employees · DACH``, or "All organisations"."""
    parts = [
        attribute_label(q, a, getattr(cohort, a), lab)
        for a in ATTRIBUTES
        if getattr(cohort, a) not in (None, ALL)
    ]
    return " · ".join(parts) if parts else lab.text("all_organisations")


@dataclass(frozen=True)
class FallbackStep:
    key: str
    label: str
    status: str
    n: str | None  # n band


@dataclass(frozen=True)
class CohortInfo:
    """Which cohort an assessment was compared with, and under which rules."""

    status: str  # released / below_threshold / no_data / suppressed_complement / ...
    key: str | None  # None when nothing could be released
    label: str | None
    n: str | None  # n band
    requested_key: str
    requested_label: str
    source: str
    source_label: str
    synthetic: bool
    source_reason: str
    k_min: int
    months_from: str | None
    months_to: str | None
    fallback: tuple[FallbackStep, ...]
    population: str = "users"  # users (use social media) or all (including non-users)
    population_label: str = ""
    # the benchmark release the figures come from (none yet: issue 15's releases fill it)
    release_id: str | None = None
    released_at: str | None = None  # YYYY-MM-DD

    @property
    def months(self) -> str:
        if not self.months_from:
            return ""
        if self.months_from == self.months_to:
            return self.months_from
        return f"{self.months_from} – {self.months_to}"


def cohort_info(q: Questionnaire, frame: Frame, lab: Labels) -> CohortInfo:
    chosen = frame.chosen
    months_from, months_to = frame.months or (None, None)
    return CohortInfo(
        status=frame.status,
        key=chosen.cohort.key if chosen else None,
        label=cohort_label(q, chosen.cohort, lab) if chosen else None,
        n=chosen.n if chosen else None,
        requested_key=frame.requested.key,
        requested_label=cohort_label(q, frame.requested, lab),
        source=frame.source,
        source_label=SOURCE_LABELS[frame.source][lab.language],
        synthetic=frame.synthetic,
        source_reason=frame.source_reason,
        k_min=frame.k_min,
        months_from=months_from,
        months_to=months_to,
        fallback=tuple(
            FallbackStep(s.cohort.key, cohort_label(q, s.cohort, lab), s.status, s.n)
            for s in frame.fallback
        ),
        population=frame.population,
        population_label=POPULATION_LABELS[frame.population][lab.language],
        release_id=frame.release.id if frame.release else None,
        released_at=frame.release.published_at[:10] if frame.release else None,
    )


# --- one assessment -----------------------------------------------------------------------
@dataclass(frozen=True)
class MetricRow:
    metric: str
    label: str
    value: int
    percentile_rank: float | None
    median: int | None
    p25: int | None
    p75: int | None
    distance_to_median: int | None
    distance_to_top_quartile: int | None
    n: str | None  # n band
    status: str


@dataclass(frozen=True)
class Step:
    number: int
    name: str
    score: int | None  # phase criterion score (phase 0 has none)
    state: str  # passed / current / met_above / open


@dataclass(frozen=True)
class TierRow:
    id: str
    name: str
    score: int | None
    met: bool
    reached: bool


@dataclass(frozen=True)
class DimensionRow:
    id: str
    name: str
    score: int | None
    cohort_median: int | None


@dataclass(frozen=True)
class RecommendationRow:
    rank: int
    target: str
    target_label: str
    text: str


@dataclass(frozen=True)
class AssessmentReport:
    id: str
    questionnaire_id: str
    questionnaire_title: str
    version: str
    language: str
    completed: str  # YYYY-MM-DD
    industry: str
    size: str
    region: str
    country: str
    included: bool
    phase: int | None  # None: not assessable
    phase_name: str
    phase_description: str
    phase_threshold: int
    ladder: tuple[Step, ...]
    tiers: tuple[TierRow, ...]
    tier_threshold: int
    pyramid_level: int
    reached_tier_name: str | None
    blocked_by_name: str | None
    overall: int | None  # None: coverage too low for an index
    dimensions: tuple[DimensionRow, ...]
    metrics: tuple[MetricRow, ...]
    recommendations: tuple[RecommendationRow, ...]
    cohort: CohortInfo
    # evidence behind the result (docs/SCORING.md): shown as a flag in every format
    assessable: bool = True
    pyramid_assessable: bool = True
    coverage_answered: int = 0
    coverage_applicable: int = 0
    coverage_share: float = 1.0
    low_coverage: bool = False
    jagged_note: str | None = None
    # the consultant's name for the assessment (export request only, never stored)
    label: str | None = None

    @property
    def display_name(self) -> str:
        """What the report calls the assessment: its display label, else its id."""
        return self.label or self.id

    def metric(self, name: str) -> MetricRow | None:
        return next((m for m in self.metrics if m.metric == name), None)

    def evidence_flag(self, lab: Labels) -> str | None:
        """The visible warning of a not-assessable or low-coverage result, else None."""
        parts = []
        if not self.assessable:
            parts.append(lab.text("flag_not_assessable"))
        elif self.phase is None:
            parts.append(lab.text("flag_phase_not_assessable"))
        if self.low_coverage:
            parts.append(
                lab.text(
                    "flag_low_coverage",
                    answered=self.coverage_answered,
                    applicable=self.coverage_applicable,
                    percent=round(100 * self.coverage_share),
                )
            )
        return " ".join(parts) or None

    def phase_text(self, lab: Labels) -> str:
        return (
            lab.text("not_assessable")
            if self.phase is None
            else lab.text("phase_of", number=self.phase)
        )


def _metric_rows(
    q: Questionnaire,
    values: Mapping[str, int],
    comparison: Comparison,
    language: str,
) -> tuple[MetricRow, ...]:
    released = comparison.frame.status == RELEASED
    rows: list[MetricRow] = []
    for name in q.metric_names():
        if name not in values:
            continue
        entry = comparison.metric(name)
        summary = entry.statistics.summary if entry is not None else None
        if not released:
            status = comparison.frame.status
        elif entry is None:
            status = "no_data"
        elif summary is None:
            status = "below_threshold"
        else:
            status = RELEASED
        shown = entry if status == RELEASED else None
        s = summary if shown is not None else None
        rows.append(
            MetricRow(
                metric=name,
                label=q.metric_label(name, language),
                value=int(values[name]),
                percentile_rank=shown.percentile_rank if shown else None,
                median=s.median if s else None,
                p25=s.p25 if s else None,
                p75=s.p75 if s else None,
                distance_to_median=shown.distance_to_median if shown else None,
                distance_to_top_quartile=shown.distance_to_top_quartile
                if shown
                else None,
                n=s.n if s else None,
                status=status,
            )
        )
    return tuple(rows)


def _target_label(q: Questionnaire, target: str, lab: Labels) -> str:
    kind, _, ident = target.partition(":")
    lang = lab.language
    if kind == "phase":
        number = int(ident)
        name = next(p.name.get(lang) for p in q.phases if p.number == number)
        return lab.text("target_phase", number=number, name=name)
    if kind == "tier":
        name = next(t.name.get(lang) for t in q.tiers if t.id == ident)
        return lab.text("target_tier", name=name)
    if kind == "dimension":
        name = next(d.name.get(lang) for d in q.dimensions if d.id == ident)
        return lab.text("target_dimension", name=name)
    if kind == "campaign":
        return lab.text("target_campaign")
    return target


def build_report(
    q: Questionnaire,
    view: AssessmentView,
    comparison: Comparison,
    lab: Labels,
) -> AssessmentReport:
    """One assessment: ``view`` from ``AssessmentService.view`` (scored in
    ``lab.language``), ``comparison`` from ``compare_record``."""
    lang = lab.language
    rec, r = view.record, view.score
    cov = r.coverage
    metrics = _metric_rows(q, r.metrics(), comparison, lang)
    by_name = {m.metric: m for m in metrics}
    phase = r.phase
    above = set(r.phases_met_above)
    profile = {c.phase: c.score for c in r.phase_profile}
    ladder = tuple(
        Step(
            number=p.number,
            name=p.name.get(lang),
            score=profile.get(p.number),
            state="current"
            if p.number == phase
            else "passed"
            if phase is not None and p.number < phase
            else "met_above"
            if p.number in above
            else "open",
        )
        for p in q.phases
    )
    tier_names: dict[str, str] = {t.id: t.name.get(lang) for t in q.tiers}
    order = [t.id for t in r.tiers]
    reached_index = order.index(r.reached_tier) if r.reached_tier else -1
    tiers = tuple(
        TierRow(t.id, tier_names[t.id], t.score, bool(t.met), i <= reached_index)
        for i, t in enumerate(r.tiers)
    )
    dim_names = {d.id: d.name.get(lang) for d in q.dimensions}
    dims = tuple(
        DimensionRow(
            d,
            dim_names[d],
            score,
            row.median if (row := by_name.get(f"dim_{d}")) else None,
        )
        for d, score in r.dimensions.items()
    )
    recs = tuple(
        RecommendationRow(i, x.target, _target_label(q, x.target, lab), x.text)
        for i, x in enumerate(r.recommendations, 1)
    )
    phase_name, phase_description = phase_texts(q, r, lang)
    return AssessmentReport(
        id=rec.id,
        questionnaire_id=q.id,
        questionnaire_title=q.title.get(lang),
        version=q.version,
        language=lang,
        completed=(rec.created_at or "")[:10],
        industry=attribute_label(q, "industry", rec.industry, lab),
        size=attribute_label(q, "size", rec.size, lab),
        region=attribute_label(q, "region", rec.region, lab),
        country=country_label(q, rec.country, lab),
        included=rec.included,
        phase=phase,
        phase_name=phase_name,
        phase_description=phase_description,
        phase_threshold=q.thresholds.phase,
        ladder=ladder,
        tiers=tiers,
        tier_threshold=q.thresholds.tier,
        pyramid_level=reached_index + 1,
        reached_tier_name=tier_names[r.reached_tier] if r.reached_tier else None,
        blocked_by_name=next((t.name for t in tiers if t.id == r.blocked_by), None),
        overall=r.overall,
        dimensions=dims,
        metrics=metrics,
        recommendations=recs,
        cohort=cohort_info(q, comparison.frame, lab),
        assessable=r.assessable,
        pyramid_assessable=r.pyramid_assessable,
        coverage_answered=cov.answered,
        coverage_applicable=cov.applicable,
        coverage_share=round(cov.share, 2),  # as the API reports it
        low_coverage=cov.low,
        jagged_note=explain_profile(q, r, lang)["jagged"],
    )


@dataclass(frozen=True)
class SummaryRow:
    """The few figures of one assessment in a side-by-side overview."""

    id: str
    version: str
    month: str
    phase: int | None
    phase_name: str
    tier_name: str
    overall: int | None
    overall_percentile: float | None
    cohort_label: str
    cohort_n: str | None  # n band
    source_label: str
    synthetic: bool
    population_label: str = ""
    flag: str | None = None  # not assessable / low coverage
    label: str | None = None  # display label (export request only)


def summary_row(report: AssessmentReport, lab: Labels) -> SummaryRow:
    overall = report.metric("overall")
    c = report.cohort
    return SummaryRow(
        id=report.id,
        version=report.version,
        month=report.completed[:7],
        phase=report.phase,
        phase_name=report.phase_name,
        tier_name=report.reached_tier_name or lab.text("no_tier"),
        overall=report.overall,
        overall_percentile=overall.percentile_rank if overall else None,
        cohort_label=c.label or lab.status(c.status),
        cohort_n=c.n,
        source_label=c.source_label,
        synthetic=c.synthetic,
        population_label=c.population_label,
        flag=report.evidence_flag(lab),
        label=report.label,
    )


# --- methods ------------------------------------------------------------------------------
def methods_rows(
    q_id: str,
    version: str,
    cohort: CohortInfo | None,
    lab: Labels,
    today: str | None = None,
) -> list[tuple[str, str]]:
    """The methods box: version, cohort, n, months, k, source, how old the figures are
    (with ``today``, the export's date), how and under which rules."""
    na = lab.text("not_available")
    rows = [(lab.text("questionnaire"), f"{q_id} {version}")]
    if cohort is not None:
        rows += [
            (lab.text("requested_cohort"), cohort.requested_label),
            (
                lab.text("cohort"),
                cohort.label if cohort.label is not None else lab.status(cohort.status),
            ),
            (lab.text("population"), cohort.population_label),
            (lab.text("cohort_n"), str(cohort.n) if cohort.n is not None else na),
            (
                lab.text("months"),
                month_range(cohort.months_from, cohort.months_to, lab),
            ),
            *([(lab.text("data_age"), data_age(cohort, lab, today))] if today else []),
            (lab.text("k_min"), str(cohort.k_min)),
            (lab.text("source"), cohort.source_label),
            (lab.text("source_reason"), source_reason(cohort, lab)),
            (
                lab.text("fallback"),
                "; ".join(
                    f"{s.label}: {lab.status(s.status)}"
                    + (f" (n = {s.n})" if s.n is not None else "")
                    for s in cohort.fallback
                ),
            ),
        ]
    rows += [
        (lab.text("scores"), lab.text("method_scores")),
        (lab.column("percentile_rank"), lab.text("method_percentiles")),
        (lab.text("privacy"), lab.text("method_privacy")),
    ]
    if cohort is None or cohort.synthetic:
        rows.append((lab.text("reference_cohort"), lab.text("method_reference")))
    return rows


def source_reason(cohort: CohortInfo, lab: Labels) -> str:
    """The service states why a source was used in English; the report says it in its
    language (the three cases of ``BenchmarkService._choose``)."""
    reason = cohort.source_reason
    if reason == f"{cohort.source} requested":
        return lab.text("reason_requested")
    if reason.startswith("real submissions are used"):
        return lab.text("reason_auto_real")
    if reason.startswith("no cohort of real submissions"):
        return lab.text("reason_auto_reference")
    return reason


# --- cohort tables ------------------------------------------------------------------------
@dataclass(frozen=True)
class CohortStat:
    metric: str
    label: str
    n: str | None  # n band
    median: int | None
    p25: int | None
    p75: int | None
    mean: float | None
    status: str


@dataclass(frozen=True)
class CohortRow:
    by: str
    value: str  # "*" for the row of all values
    key: str
    label: str
    status: str
    n: str | None  # n band
    source: str
    source_label: str
    synthetic: bool
    months_from: str | None
    months_to: str | None
    k_min: int
    stats: tuple[CohortStat, ...]
    population: str = "users"
    population_label: str = ""


def cohort_row(
    q: Questionnaire, by: str, value: str, stats: CohortStatistics, lab: Labels
) -> CohortRow:
    """One row of a cohort table from ``cohort_statistics`` of exactly that cohort. The
    service falls back to broader cohorts; a table row must not: when the cohort used is not
    the requested one, the row shows the requested cohort's own status and nothing else."""
    frame = stats.frame
    requested = frame.requested
    own = frame.fallback[0] if frame.fallback else None
    chosen = frame.chosen
    released = chosen is not None and chosen.cohort.key == requested.key
    if released:
        status = RELEASED
    elif own is not None:
        status = own.status
    else:
        status = frame.status
    months_from, months_to = (frame.months if released else None) or (None, None)
    out_stats: list[CohortStat] = []
    if released:
        for m in stats.metrics:
            s = m.summary
            out_stats.append(
                CohortStat(
                    metric=m.metric,
                    label=q.metric_label(m.metric, lab.language),
                    n=s.n if s else None,
                    median=s.median if s else None,
                    p25=s.p25 if s else None,
                    p75=s.p75 if s else None,
                    mean=s.mean if s else None,
                    status=RELEASED if s else "below_threshold",
                )
            )
    return CohortRow(
        by=by,
        value=value,
        key=requested.key,
        label=attribute_label(q, by, value, lab),
        status=status,
        n=chosen.n if released and chosen else None,
        source=frame.source,
        source_label=SOURCE_LABELS[frame.source][lab.language],
        synthetic=frame.synthetic,
        months_from=months_from,
        months_to=months_to,
        k_min=frame.k_min,
        stats=tuple(out_stats),
        population=frame.population,
        population_label=POPULATION_LABELS[frame.population][lab.language],
    )
