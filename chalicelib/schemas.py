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
        description="a 'don't know / not applicable' option: not scored"
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


class NextPhase(_Out):
    number: int
    name: str
    criteria: list[Criterion]


class PhaseProfile(_Out):
    phase: int
    name: str
    score: int | None
    met: bool


class PhaseResult(_Out):
    number: int = Field(ge=0, le=7)
    name: str
    description: str
    next: NextPhase | None
    profile: list[PhaseProfile]
    met_above: list[int]


class TierScore(_Out):
    id: str
    name: str
    score: int | None
    met: bool


class PyramidResult(_Out):
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
    phase: PhaseResult
    pyramid: PyramidResult
    dimensions: list[DimensionScore]
    overall: int = Field(ge=0, le=100)
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


class CohortOut(_Out):
    industry: str
    size: str
    region: str
    key: str
    label: str
    n: int | None = None


class FallbackStep(_Out):
    industry: str
    size: str
    region: str
    key: str
    label: str
    status: Literal["released", "below_threshold", "no_data", "suppressed_differencing"]
    n: int | None
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


class MetricOut(_Out):
    metric: str
    label: str
    n: int | None
    status: str | None = None
    mean: float | None = None
    p10: int | None = None
    p25: int | None = None
    median: int | None = None
    p75: int | None = None
    p90: int | None = None
    histogram: dict[str, int] | None = None
    value: int | None = None
    percentile_rank: float | None = None
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
    questionnaire: QuestionnaireRef
    source: Literal["real", "reference"]
    source_label: str
    source_reason: str
    synthetic: bool
    population: PopulationOut
    status: Literal["released", "below_threshold", "no_data"]
    k_min: int
    requested_cohort: CohortOut
    cohort: CohortOut | None
    fallback: list[FallbackStep]
    months: Months | None
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
    percentile_before: float | None = None
    percentile_after: float | None = None


class ProgressOut(_Out):
    assessment_id: str
    previous_id: str | None
    status: Literal["ok", "no_previous", "previous_erased"]
    changes: list[Change]
    previous_created_at: str | None = None
    same_version: bool | None = None
    cohort: CohortOut | None = None
    source: str | None = None
    source_label: str | None = None
    population: PopulationOut | None = None


class CohortSide(_Out):
    industry: str
    size: str
    region: str
    key: str
    label: str
    status: str
    n: int | None


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
    status: str
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
    items: list[PartnerKeyOut]


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
