"""Pure: what an export shows, built from the dictionaries the API itself returns.

An assessment report is made of ``AssessmentService.render_assessment`` (its result) and
``BenchmarkService.compare_record`` (the comparison); a cohort table row of
``BenchmarkService.cohort_statistics``. Nothing here reads the store or computes a benchmark
figure: every number is copied from those dictionaries, so an export always equals the API.
Texts come from the questionnaire or from ``labels.yaml`` (German and English).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chalicelib.benchmark import ALL
from chalicelib.errors import InvalidInput
from chalicelib.questionnaire import Questionnaire

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


def cohort_label(q: Questionnaire, cohort: Mapping[str, Any], lab: Labels) -> str:
    """``C – Manufacturing · 50–249 employees · DACH``, or "All organisations"."""
    parts = [
        attribute_label(q, a, cohort.get(a), lab)
        for a in ATTRIBUTES
        if cohort.get(a) not in (None, ALL)
    ]
    return " · ".join(parts) if parts else lab.text("all_organisations")


@dataclass(frozen=True)
class FallbackStep:
    key: str
    label: str
    status: str
    n: int | None


@dataclass(frozen=True)
class CohortInfo:
    """Which cohort an assessment was compared with, and under which rules."""

    status: str  # released / below_threshold / no_data / suppressed_differencing
    key: str | None  # None when nothing could be released
    label: str | None
    n: int | None
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
    # the benchmark release the figures come from, when the service names one
    release_id: str | None = None
    released_at: str | None = None  # YYYY-MM-DD

    @property
    def months(self) -> str:
        if not self.months_from:
            return ""
        if self.months_from == self.months_to:
            return self.months_from
        return f"{self.months_from} – {self.months_to}"


def cohort_info(q: Questionnaire, frame: Mapping[str, Any], lab: Labels) -> CohortInfo:
    chosen = frame.get("cohort")
    months = frame.get("months") or {}
    requested = frame["requested_cohort"]
    return CohortInfo(
        status=str(frame["status"]),
        key=chosen["key"] if chosen else None,
        label=cohort_label(q, chosen, lab) if chosen else None,
        n=chosen["n"] if chosen else None,
        requested_key=requested["key"],
        requested_label=cohort_label(q, requested, lab),
        source=frame["source"],
        source_label=frame["source_label"],
        synthetic=bool(frame["synthetic"]),
        source_reason=frame["source_reason"],
        k_min=int(frame["k_min"]),
        months_from=months.get("from"),
        months_to=months.get("to"),
        fallback=tuple(
            FallbackStep(s["key"], cohort_label(q, s, lab), s["status"], s["n"])
            for s in frame.get("fallback", [])
        ),
        population=frame["population"]["id"],
        population_label=frame["population"]["label"],
        release_id=(frame.get("release") or {}).get("id"),
        released_at=(frame.get("release") or {}).get("date"),
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
    n: int | None
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
    comparison: Mapping[str, Any],
    language: str,
) -> tuple[MetricRow, ...]:
    compared = {m["metric"]: m for m in comparison.get("metrics", [])}
    released = comparison["status"] == RELEASED
    rows: list[MetricRow] = []
    for name in q.metric_names():
        if name not in values:
            continue
        entry = compared.get(name)
        if not released:
            status = str(comparison["status"])
        elif entry is None:
            status = "no_data"
        elif entry.get("n") is None:
            status = str(entry.get("status", "below_threshold"))
        else:
            status = RELEASED
        shown = entry if status == RELEASED and entry is not None else {}
        rows.append(
            MetricRow(
                metric=name,
                label=q.metric_label(name, language),
                value=int(values[name]),
                percentile_rank=shown.get("percentile_rank"),
                median=shown.get("median"),
                p25=shown.get("p25"),
                p75=shown.get("p75"),
                distance_to_median=shown.get("distance_to_median"),
                distance_to_top_quartile=shown.get("distance_to_top_quartile"),
                n=shown.get("n"),
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
    rendered: Mapping[str, Any],
    comparison: Mapping[str, Any],
    lab: Labels,
) -> AssessmentReport:
    """One assessment: ``rendered`` from ``render_assessment``, ``comparison`` from
    ``compare_record`` (both in ``lab.language``)."""
    lang = lab.language
    result = rendered["result"]
    cov = result.get("coverage") or {}
    cohort = rendered["cohort"]
    metrics = _metric_rows(q, result["metrics"], comparison, lang)
    by_name = {m.metric: m for m in metrics}
    number = result["phase"]["number"]
    phase = None if number is None else int(number)
    above = set(result["phase"]["met_above"])
    profile = {c["phase"]: c["score"] for c in result["phase"]["profile"]}
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
    pyramid = result["pyramid"]
    order = [t["id"] for t in pyramid["tiers"]]
    reached_index = order.index(pyramid["reached"]) if pyramid["reached"] else -1
    tiers = tuple(
        TierRow(t["id"], t["name"], t["score"], bool(t["met"]), i <= reached_index)
        for i, t in enumerate(pyramid["tiers"])
    )
    blocked = pyramid["blocked_by"]
    dims = tuple(
        DimensionRow(
            d["id"],
            d["name"],
            d["score"],
            row.median if (row := by_name.get(f"dim_{d['id']}")) else None,
        )
        for d in result["dimensions"]
    )
    recs = tuple(
        RecommendationRow(
            r["rank"], r["target"], _target_label(q, r["target"], lab), r["text"]
        )
        for r in result["recommendations"]
    )
    return AssessmentReport(
        id=rendered["id"],
        questionnaire_id=q.id,
        questionnaire_title=q.title.get(lang),
        version=q.version,
        language=lang,
        completed=str(rendered.get("created_at") or "")[:10],
        industry=attribute_label(q, "industry", cohort.get("industry"), lab),
        size=attribute_label(q, "size", cohort.get("size"), lab),
        region=attribute_label(q, "region", cohort.get("region"), lab),
        country=country_label(q, cohort.get("country"), lab),
        included=bool(rendered.get("benchmark", {}).get("included")),
        phase=phase,
        phase_name=result["phase"]["name"],
        phase_description=result["phase"]["description"],
        phase_threshold=q.thresholds.phase,
        ladder=ladder,
        tiers=tiers,
        tier_threshold=int(pyramid["threshold"]),
        pyramid_level=reached_index + 1,
        reached_tier_name=pyramid["reached_name"],
        blocked_by_name=next((t.name for t in tiers if t.id == blocked), None),
        overall=None if result["overall"] is None else int(result["overall"]),
        dimensions=dims,
        metrics=metrics,
        recommendations=recs,
        cohort=cohort_info(q, comparison, lab),
        assessable=bool(result.get("assessable", True)),
        pyramid_assessable=pyramid.get("status", "assessable") == "assessable",
        coverage_answered=int(cov.get("answered", 0)),
        coverage_applicable=int(cov.get("applicable", 0)),
        coverage_share=float(cov.get("share", 1.0)),
        low_coverage=bool(cov.get("low", False)),
        jagged_note=result["phase"].get("jagged_note"),
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
    cohort_n: int | None
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
    n: int | None
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
    n: int | None
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
    q: Questionnaire, by: str, value: str, stats: Mapping[str, Any], lab: Labels
) -> CohortRow:
    """One row of a cohort table from ``cohort_statistics`` of exactly that cohort. The
    service falls back to broader cohorts; a table row must not: when the cohort used is not
    the requested one, the row shows the requested cohort's own status and nothing else."""
    requested = stats["requested_cohort"]
    own = stats["fallback"][0] if stats.get("fallback") else None
    chosen = stats.get("cohort")
    released = chosen is not None and chosen["key"] == requested["key"]
    if released:
        status = RELEASED
    elif own is not None:
        status = str(own["status"])
    else:
        status = str(stats["status"])
    months = (stats.get("months") or {}) if released else {}
    out_stats: list[CohortStat] = []
    if released:
        for m in stats.get("metrics", []):
            ok = m.get("n") is not None
            out_stats.append(
                CohortStat(
                    metric=m["metric"],
                    label=m["label"],
                    n=m["n"] if ok else None,
                    median=m.get("median") if ok else None,
                    p25=m.get("p25") if ok else None,
                    p75=m.get("p75") if ok else None,
                    mean=m.get("mean") if ok else None,
                    status=RELEASED if ok else str(m.get("status", "below_threshold")),
                )
            )
    return CohortRow(
        by=by,
        value=value,
        key=requested["key"],
        label=attribute_label(q, by, value, lab),
        status=status,
        n=int(chosen["n"]) if released and chosen else None,
        source=stats["source"],
        source_label=stats["source_label"],
        synthetic=bool(stats["synthetic"]),
        months_from=months.get("from"),
        months_to=months.get("to"),
        k_min=int(stats["k_min"]),
        stats=tuple(out_stats),
        population=stats["population"]["id"],
        population_label=stats["population"]["label"],
    )
