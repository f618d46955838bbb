"""Response bodies as pydantic models: the OpenAPI document's schemas come from here, and
tests validate real responses against them (extra fields forbidden), so they cannot drift."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FieldError(_Out):
    pointer: str | None = Field(default=None, description="JSON pointer into the body")
    parameter: str | None = Field(default=None, description="query parameter or header")
    detail: str


class Problem(_Out):
    """RFC 9457 problem details."""

    type: str = Field(examples=["urn:smm:problem:invalid-input"])
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


class QuestionnaireRef(_Out):
    id: str
    version: str


class QuestionnaireSummary(_Out):
    id: str
    version: str
    title: str
    questions: int
    href: str


class QuestionnaireList(_Out):
    items: list[QuestionnaireSummary]


class OptionDoc(_Out):
    id: str
    label: str
    excluded: bool = Field(
        description="a 'don't know' or 'not applicable' option: not scored"
    )
    kind: Literal["answer", "dont_know", "not_applicable"] | None = Field(
        default=None,
        description="scored questions only: 'dont_know' is missing evidence (lowers the "
        "coverage), 'not_applicable' removes the question from the coverage base",
    )
    region: str | None = None


class QuestionDoc(_Out):
    id: str
    kind: Literal["scored", "context"]
    text: str
    required: bool
    options: list[OptionDoc]
    role: str | None = None
    help: str | None = None
    phase: int | None = None
    tier: str | None = None
    dimensions: list[str] | None = None


class SectionDoc(_Out):
    id: str
    title: str
    description: str | None
    questions: list[QuestionDoc]


class Named(_Out):
    id: str
    name: str
    description: str


class PhaseDoc(_Out):
    number: int
    name: str
    description: str


class QuestionnaireDoc(_Out):
    id: str
    version: str
    language: Literal["de", "en"]
    title: str
    description: str
    phases: list[PhaseDoc]
    tiers: list[Named]
    dimensions: list[Named]
    sections: list[SectionDoc]


class Criterion(_Out):
    question_id: str
    text: str
    met: bool | None = Field(
        default=None, description="the best option is already chosen"
    )
    answer: str | None = Field(
        default=None, description="the option given (null: unanswered)"
    )
    answer_label: str | None = None
    needed_answer: str | None = Field(
        default=None, description="the least option that meets this criterion"
    )
    needed_label: str | None = None
    key: bool | None = Field(
        default=None,
        description="a key item (phase need): the criterion is met only with it",
    )


class NextPhase(_Out):
    number: int
    name: str
    criteria: list[Criterion]


Status = Literal["met", "not_met", "not_assessable"]


class PhaseProfile(_Out):
    phase: int
    name: str
    score: int | None
    threshold: int = Field(description="the score the criterion needs (0..100)")
    met: bool
    status: Status = Field(
        description="not_assessable: too few answered items, or the 'don't know' answers "
        "decide it (docs/SCORING.md)"
    )
    bridged: bool = Field(
        description="not met by a single sign, but counted for the placement"
    )
    answered: int
    items: int


class PhaseEvidence(_Out):
    question_id: str
    text: str
    answer: str
    label: str
    shows: bool = Field(description="this answer shows the phase's behaviour")


class PhaseResult(_Out):
    number: int | None = Field(ge=0, le=7, description="null: not assessable")
    status: Literal["placed", "not_assessable"]
    name: str
    description: str
    evidence: list[PhaseEvidence] = Field(
        description="what the answers show for the placed phase (scoring rules 2)"
    )
    jagged_note: str | None = Field(
        description="plain-language explanation when criteria above the placement are met"
    )
    bridged_note: str | None
    next: NextPhase | None
    profile: list[PhaseProfile]
    met_above: list[int]


class TierScore(_Out):
    id: str
    name: str
    score: int | None
    met: bool
    status: Status
    missing_needs: list[str] = Field(
        description="named needs of the tier that are not present (necessary conditions)"
    )


class Coverage(_Out):
    answered: int
    dont_know: int = Field(description="'don't know' or unanswered scored questions")
    not_applicable: int
    applicable: int = Field(description="scored questions minus 'not applicable'")
    share: float = Field(ge=0, le=1, description="answered / applicable")
    low: bool = Field(description="share below 0.5: the result rests on few answers")
    note: str | None = Field(description="the low-coverage flag as text, else null")


class PyramidResult(_Out):
    status: Literal["assessable", "not_assessable"]
    tiers: list[TierScore]
    reached: str | None
    reached_name: str | None
    blocked_by: str | None
    threshold: int


class DimensionScore(_Out):
    id: str
    name: str
    score: int | None


class RecommendationOut(_Out):
    rank: int
    question_id: str
    target: str
    text: str


class Result(_Out):
    """A scored result. ``coverage`` and the ``status`` of every criterion and tier say what
    it rests on; what cannot be assessed is ``null`` or ``not_assessable``, never a silent 0
    (docs/SCORING.md)."""

    scoring_rules: Literal["1", "2"] = Field(
        description="the scoring rules of the questionnaire version (docs/SCORING.md)"
    )
    assessable: bool = Field(
        description="false when neither the phase nor the pyramid can be placed"
    )
    coverage: Coverage
    phase: PhaseResult
    pyramid: PyramidResult
    dimensions: list[DimensionScore]
    overall: int | None = Field(
        ge=0, le=100, description="null: fewer than half the questions answered"
    )
    answered: int
    excluded: int
    metrics: dict[str, int]
    recommendations: list[RecommendationOut]


class ScoreCohort(_Out):
    industry: str | None
    size: str | None
    country: str | None
    region: str | None
    consent: bool


class ScoreOut(_Out):
    questionnaire: QuestionnaireRef
    language: Literal["de", "en"]
    cohort: ScoreCohort
    result: Result


class AssessmentCohort(_Out):
    industry: str | None
    size: str | None
    country: str | None
    region: str | None


class BenchmarkInclusion(_Out):
    consent: bool
    included: bool
    exclusion_reasons: list[str]


class AssessmentOut(_Out):
    id: str
    token: str | None = Field(
        default=None,
        description="the result token: only in the response that created it",
    )
    questionnaire: QuestionnaireRef
    language: Literal["de", "en"]
    created_at: str
    previous_id: str | None
    cohort: AssessmentCohort
    benchmark: BenchmarkInclusion
    answers: dict[str, str]
    result: Result
    reference: str | None = Field(
        default=None,
        description="partner reads only: the partner's own reference id sent with the "
        "submission (or bound to its session)",
    )


class DraftOut(_Out):
    id: str
    questionnaire: QuestionnaireRef
    language: Literal["de", "en"]
    answers: dict[str, str]
    updated_at: str
    expires_at: str
    elapsed_seconds: int = Field(
        description="time spent filling it in so far, across sessions"
    )


class CohortOut(_Out):
    industry: str
    size: str
    region: str
    key: str
    label: str
    n: str | None = Field(
        default=None, description="the released count as a band (5-9, 10-19, ...)"
    )


class FallbackStep(_Out):
    industry: str
    size: str
    region: str
    key: str
    label: str
    status: Literal[
        "released",
        "below_threshold",
        "no_data",
        "suppressed_complement",
        "withheld_pending_changes",
        "no_release",
    ]
    n: str | None = Field(description="the released count as a band, when released")
    reason: str


class Months(_Out):
    from_: str = Field(alias="from")
    to: str


class Interval(_Out):
    low: float | None
    high: float | None
    confidence: float
    method: str | None = None
    rank: float | None = None


class ReleaseOut(_Out):
    """The benchmark release the figures come from (docs/RELEASES.md): figures change only
    when a release is published (RELEASE_SCHEDULE), and a cell only after k changes."""

    id: str
    published_at: str
    next_release_at: str = Field(
        description="when the next release is due (RELEASE_SCHEDULE)"
    )
    age_seconds: int = Field(description="how old the release is at this answer")


class MetricOut(_Out):
    metric: str
    label: str
    n: str | None = Field(description="the metric's own count as a band, when released")
    status: Literal["released", "below_threshold", "suppressed_complement", "no_data"]
    mean: float | None = None
    p10: int | None = None
    p25: int | None = None
    median: int | None = None
    p75: int | None = None
    p90: int | None = None
    histogram_percent: dict[str, int] | None = Field(
        default=None, description="whole-percent shares of the bands (sum 100)"
    )
    value: int | None = None
    percentile_rank: int | None = Field(
        default=None,
        description="whole-percent mid-rank in the released shares",
    )
    distance_to_median: int | None = None
    distance_to_top_quartile: int | None = None
    median_ci: Interval | None = None
    percentile_rank_ci: Interval | None = None


class PopulationOut(_Out):
    """Which organisations the peers are: ``users`` (those that use social media, the
    default) or ``all`` (including non-users), with a localised label."""

    id: Literal["users", "all"]
    label: str


class BenchmarkOut(_Out):
    """Benchmark figures from the latest benchmark release of the source and questionnaire
    version (``release``; ``status`` ``no_release`` and no figures before the first): n as
    bands, whole numbers, histograms as whole-percent shares, percentile ranks against the
    release. Figures change only when a release is published, and a cohort's only after k
    organisations joined, left or changed (docs/RELEASES.md)."""

    questionnaire: QuestionnaireRef
    source: Literal["real", "reference"]
    source_label: str
    source_reason: str
    synthetic: bool
    population: PopulationOut
    status: Literal["released", "below_threshold", "no_data", "no_release"]
    k_min: int
    requested_cohort: CohortOut
    cohort: CohortOut | None
    fallback: list[FallbackStep]
    months: Months | None
    release: ReleaseOut | None
    metrics: list[MetricOut]


class ComparisonOut(BenchmarkOut):
    assessment_id: str
    peer_phases: dict[str, int] | None = None
    peer_pyramid: dict[str, int] | None = None


class Change(_Out):
    metric: str
    label: str
    before: int
    after: int
    delta: int
    comparable: bool = Field(
        default=True,
        description="false when the two questionnaire versions compute this metric "
        "differently (docs/VERSIONS.md)",
    )
    percentile_before: int | None = None
    percentile_after: int | None = None


class Versions(_Out):
    before: str
    after: str


class ProgressOut(_Out):
    """Change per metric since the linked previous assessment. Each side keeps the scoring of
    its own questionnaire version; ``versions``, ``version_note`` and each change's
    ``comparable`` say when they differ (docs/VERSIONS.md)."""

    assessment_id: str
    previous_id: str | None
    status: Literal["ok", "no_previous", "previous_erased"]
    changes: list[Change]
    previous_created_at: str | None = None
    same_version: bool | None = None
    versions: Versions | None = None
    version_note: str | None = Field(
        default=None,
        description="set when the two assessments used different questionnaire versions",
    )
    cohort: CohortOut | None = None
    source: str | None = None
    source_label: str | None = None
    population: PopulationOut | None = None
    release: ReleaseOut | None = None


class CohortSide(_Out):
    industry: str
    size: str
    region: str
    key: str
    label: str
    status: str
    n: str | None = Field(description="the released count as a band, when released")


class CohortTest(_Out):
    metric: str
    label: str
    u: float | None
    p_value: float | None
    rank_biserial: float | None
    common_language_effect: float | None = None
    n_a: int
    n_b: int
    method: str | None = None


class CohortComparisonOut(_Out):
    questionnaire: QuestionnaireRef
    source: str
    source_label: str
    synthetic: bool
    population: PopulationOut
    k_min: int
    a: CohortSide
    b: CohortSide
    release: ReleaseOut | None
    status: Literal["released", "not_released", "no_release"]
    metrics: list[CohortTest]


class PartnerKeyOut(_Out):
    key_id: str
    partner_id: str
    name: str
    scopes: list[str]
    origins: list[str]
    tier: str
    created_at: str
    revoked: bool
    type: Literal["secret", "publishable"] = Field(
        default="secret",
        description="secret (smmk_, server side) or publishable (smmp_, browser: submit "
        "only, from its origins only)",
    )


class PartnerKeyList(_Out):
    items: list[PartnerKeyOut] = Field(description="newest first")
    next_cursor: str | None = Field(
        default=None, description="send as ?cursor= for the next page; null at the end"
    )


class PartnerAssessmentSummary(_Out):
    """One of the partner's assessments as listed (no answers, no token)."""

    id: str
    questionnaire: QuestionnaireRef
    language: str
    created_at: str
    previous_id: str | None
    cohort: AssessmentCohort
    benchmark: BenchmarkInclusion
    phase: int | None = Field(description="engagement phase 0..7")
    pyramid_level: int | None = Field(description="pyramid level 0 (none) .. 5")
    overall: int | None = Field(description="overall index 0..100")


class PartnerAssessmentList(_Out):
    items: list[PartnerAssessmentSummary] = Field(description="newest first")
    next_cursor: str | None = Field(
        description="send as ?cursor= for the next page; null at the end"
    )


class NewPartnerKey(PartnerKeyOut):
    key: str = Field(description="the key itself: shown once, stored only as a hash")


class WebhookDeliveryOut(_Out):
    id: str = Field(description="the event id, also sent as webhook-id")
    event: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    created_at: str
    next_attempt_at: str | None
    delivered_at: str | None
    last_status: int | None = Field(description="HTTP status of the last attempt")
    last_error: str | None


class WebhookOut(_Out):
    url: str
    created_at: str
    events: list[str]
    enabled: bool = Field(description="false after the endpoint answered 410 Gone")
    disabled_at: str | None
    disabled_reason: str | None
    signature: str = Field(description="how events are signed (Standard Webhooks)")
    signatures: int = Field(
        description="signatures per delivery: 1, more during a secret rotation"
    )
    previous_secrets_expire_at: str | None = Field(
        description="end of the grace period of the previous secret(s), if any"
    )


class WebhookRegistered(WebhookOut):
    secret: str = Field(
        description="the current signing secret, whsec_<base64>; the HMAC-SHA256 key "
        "is the base64 part decoded"
    )


class WebhookSecretRotated(WebhookRegistered):
    """The new secret; deliveries carry its signature and the previous secret's until
    ``previous_secrets_expire_at``."""


class WebhookState(WebhookOut):
    deliveries: list[WebhookDeliveryOut] = Field(description="most recent first")


class WebhookDeliveryList(_Out):
    items: list[WebhookDeliveryOut] = Field(description="newest first")
    next_cursor: str | None = Field(
        description="send as ?cursor= for the next page; null at the end"
    )


class SessionOut(_Out):
    """A session client secret for the widget (docs/PARTNERS.md, session flow)."""

    client_secret: str = Field(
        description="smms_...: give it to the one visitor's page (data-client-secret); it "
        "submits one assessment and expires at expires_at"
    )
    session_id: str = Field(
        description="also the idempotency key of its one submission"
    )
    partner_id: str = Field(description="for the embed snippet's data-partner")
    reference: str | None
    expires_at: str


class BrandingPublic(_Out):
    display_name: str
    primary_color: str | None = None
    text_color: str | None = Field(
        default=None, description="the text colour on primary_color (white)"
    )
    logo: str | None = Field(default=None, description="data:image/...;base64,...")
    imprint_url: str | None = None
    privacy_url: str | None = None
    language: Literal["de", "en"] | None = None


class BrandingOut(BrandingPublic):
    updated_at: str


class AssessmentBranding(_Out):
    branding: BrandingPublic | None = Field(
        description="the white label of the partner that created the assessment, or null"
    )
