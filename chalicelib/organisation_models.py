"""Request and response bodies of the organisation workspace (issue 18), as pydantic models:
validation and the OpenAPI document's schemas (chalicelib/openapi.py) come from here, and
tests validate real responses against the response models (extra fields forbidden)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from chalicelib.request_models import QUARTER_PATTERN, Language, _owner

ROLE_PATTERN = r"^[^\x00-\x1f\x7f]{1,60}$"
MAX_RESPONDENTS = 50


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests ---------------------------------------------------------------------------------
class OrganisationIn(_In):
    """A new organisation workspace."""

    name: str = Field(
        min_length=1,
        max_length=120,
        pattern=ROLE_PATTERN.replace("{1,60}", "{1,120}"),
        description="the organisation's display name (owner data, never in the benchmark)",
        examples=["Acme GmbH"],
    )
    questionnaire: str = Field(default="smm", max_length=64)
    version: str | None = Field(
        default=None, max_length=32, description="the latest when omitted"
    )
    language: Language = "en"
    profile: dict[str, str] = Field(
        max_length=20,
        description="answers to the questionnaire's context questions (industry, size, "
        "country, consent): question id -> option id, all of them required",
        examples=[
            {"industry": "C", "size": "50-249", "country": "DE", "consent": "yes"}
        ],
    )


class RespondentIn(_In):
    """An invitation: a role label and the sections the respondent owns."""

    role: str = Field(
        pattern=ROLE_PATTERN,
        description="what the respondent speaks for (marketing, service, IT...); "
        "a label, not a name or e-mail",
        examples=["marketing"],
    )
    sections: list[str] = Field(
        default_factory=list,
        max_length=40,
        description="section ids the respondent answers; empty: every scored section",
    )


class RespondentAnswersIn(_In):
    """A respondent's answers (only questions of the sections they own)."""

    answers: dict[str, str] = Field(
        max_length=300, description="question id -> option id"
    )
    submit: bool = Field(
        default=False,
        description="true: the answers are final for this round (every required question "
        "of the owned sections answered); false: a draft",
    )


# --- responses --------------------------------------------------------------------------------
class QuestionnaireRefOut(_Out):
    id: str
    version: str


class RespondentOut(_Out):
    id: str
    role: str
    sections: list[str]
    created_at: str
    status: Literal["invited", "draft", "submitted"]
    updated_at: str | None = None


class InvitationOut(RespondentOut):
    invite_token: str = Field(
        description="shown once: the respondent's credential (header X-Respondent-Token)"
    )


class OrganisationSummaryOut(_Out):
    id: str
    name: str
    questionnaire: QuestionnaireRefOut
    language: str
    profile: dict[str, str]
    created_at: str
    current_round: int
    managed_by_partner: bool


class OrganisationListOut(_Out):
    items: list[OrganisationSummaryOut]


class OrganisationOut(_Out):
    id: str
    name: str
    questionnaire: QuestionnaireRefOut
    language: str
    profile: dict[str, str]
    created_at: str
    current_round: int
    managed_by_partner: bool
    respondents: list[RespondentOut]


class OrganisationCreatedOut(OrganisationOut):
    token: str = Field(
        description="shown once: the owner's credential (header X-Organisation-Token)"
    )


class RespondentAnswersOut(_Out):
    respondent: RespondentOut
    answers: dict[str, str]


class AnswersListOut(_Out):
    round: int
    items: list[RespondentAnswersOut]


class RespondentViewOut(_Out):
    organisation: str
    role: str
    sections: list[str]
    questionnaire: QuestionnaireRefOut
    language: str
    round: int
    status: Literal["invited", "draft", "submitted"]
    answers: dict[str, str]


class CombinedAnswerOut(_Out):
    option: str
    method: Literal["median", "no_substantive_answer"]
    respondents: int
    substantive: int


class RoleScoreOut(_Out):
    respondent: str
    role: str
    score: int


class GapOut(_Out):
    kind: Literal["section", "dimension"]
    id: str
    label: str
    combined: int | None
    min: int | None
    max: int | None
    range: int | None
    lowest: list[str]
    highest: list[str]
    scores: list[RoleScoreOut]
    questions: list[str]


class ScoreSummaryOut(_Out):
    phase: int | None
    pyramid_level: str | None
    blocked_by: str | None
    overall: int | None
    dimensions: dict[str, int | None]


class ResultOut(_Out):
    round: int
    respondents_submitted: int
    combined: dict[str, CombinedAnswerOut]
    uncovered_sections: list[str]
    score: ScoreSummaryOut | None
    gaps: list[GapOut]
    plan: PlanOut = Field(description="the target, its gap and the roadmap")


class RoundOut(_Out):
    number: int
    closed_at: str
    questionnaire: QuestionnaireRefOut
    version_changed: bool
    assessment_id: str
    respondents: int
    phase: int | None
    pyramid_level: str | None
    overall: int | None
    dimensions: dict[str, int | None]
    included: bool


class RoundClosedOut(RoundOut):
    result_token: str = Field(
        description="the combined assessment's result token (X-Result-Token), for its "
        "comparison, progress and report routes"
    )


class RoundListOut(_Out):
    items: list[RoundOut]


# --- targets, roadmap, history (docs/ROADMAP.md) -------------------------------------------------
class StepAssignmentIn(_In):
    """Who does one roadmap step and by when. Only the fields sent change; ``due_quarter``
    null goes back to the quarter assigned at the target's pace."""

    owner: Annotated[str, Field(max_length=80), AfterValidator(_owner)] | None = Field(
        default=None,
        description="who is responsible (a name or role, at most 80 characters, no "
        "control characters; empty: nobody yet)",
        examples=["Leitung Kundenservice"],
    )
    due_quarter: str | None = Field(
        default=None,
        pattern=QUARTER_PATTERN,
        description="YYYY-Qn; null: assigned in order at the target's pace",
        examples=["2027-Q2"],
    )


class AssignmentOut(_Out):
    owner: str
    due_quarter: str | None


class TargetOut(_Out):
    phase: int | None
    tier: str | None
    dimensions: dict[str, int]
    start_quarter: str | None
    pace: int
    assignments: dict[str, AssignmentOut]


class DimensionGapOut(_Out):
    id: str
    label: str
    current: int | None
    target: int
    gap: int


class TargetGapOut(_Out):
    phase: int | None
    target_phase: int | None
    phase_gap: int
    pyramid_level: int | None = Field(description="0..5; null: not assessable")
    target_level: int | None
    level_gap: int
    blocking_phases: list[int]
    blocking_tiers: list[str]
    dimensions: list[DimensionGapOut]
    reached: bool


class StepOut(_Out):
    rank: int
    question_id: str
    question: str
    kind: Literal["blocking", "target", "further"]
    gate: str
    gates: list[str]
    current: str | None
    current_label: str
    needed: str
    needed_label: str
    why: str
    advice: str
    impact: float
    effort: int
    priority: float
    key_item: bool
    owner: str
    due_quarter: str


class PlanOut(_Out):
    target: TargetOut | None
    basis: Literal["open_round", "closed_round", "none"] = Field(
        description="the answers the roadmap starts from: the open round's combined "
        "answers when every section is covered, else the last closed round's, else none"
    )
    round: int | None
    gap: TargetGapOut | None
    steps: list[StepOut]


class HistoryPointOut(_Out):
    round: int
    date: str
    questionnaire: QuestionnaireRefOut
    phase: int | None
    pyramid_level: int | None = Field(description="0..5; null: not assessable")
    overall: int | None
    dimensions: dict[str, int | None]
    percentile: float | None = Field(
        description="the overall index's peer percentile rank (null: none released)"
    )
    version_changed: bool
    comparable: list[str]


class HistoryOut(_Out):
    dimension_names: dict[str, str]
    items: list[HistoryPointOut]


ResultOut.model_rebuild()
