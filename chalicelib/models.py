"""Request bodies as pydantic models: validation here, JSON Schema for OpenAPI from here."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["de", "en"]
MAX_ANSWERS = 300


class _In(BaseModel):
    """Request bodies are JSON, which has a type for everything: nothing is coerced (no "900"
    for 900, no 1 or 0 for a boolean, no 900.0 for an integer) and unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", strict=True)


class AnswersIn(_In):
    """Answers to score without storing them."""

    questionnaire: str = Field(
        default="smm", max_length=64, description="questionnaire id"
    )
    version: str | None = Field(
        default=None,
        max_length=32,
        description="semantic version; the latest when omitted",
    )
    language: Language = "en"
    answers: dict[str, str] = Field(
        max_length=MAX_ANSWERS,
        description="question id -> option id (context questions included)",
        examples=[{"social_presence": "structured", "industry": "C", "size": "50-249"}],
    )


class SubmissionIn(AnswersIn):
    """A completed questionnaire to score and store."""

    duration_seconds: int | None = Field(
        default=None, ge=0, le=60 * 60 * 24 * 30, description="time taken to fill it in"
    )
    previous_token: str | None = Field(
        default=None,
        max_length=128,
        description="result token of an earlier assessment of the same organisation, to link them",
    )
    draft_id: str | None = Field(
        default=None, max_length=64, description="the draft this submission completes"
    )


class ExportIn(_In):
    """A partner's export: its own assessments side by side, or a cohort table."""

    kind: Literal["assessments", "cohorts"]
    format: Literal["pdf", "xlsx", "csv"]
    language: Language = "en"
    assessment_ids: list[str] = Field(
        default_factory=list,
        max_length=200,
        description="kind=assessments: ids of assessments this partner created (at most 200 "
        "per request, so a PDF stays within API Gateway's 29 s; the CLI has no limit)",
    )
    by: Literal["industry", "size", "region"] = Field(
        default="industry", description="kind=cohorts: the attribute the rows vary by"
    )
    questionnaire: str = Field(default="smm", max_length=64)
    version: str | None = Field(default=None, max_length=32)
    source: Literal["auto", "real", "reference"] = "auto"


class DraftIn(_In):
    """A partly filled-in questionnaire saved for later."""

    questionnaire: str = Field(default="smm", max_length=64)
    version: str | None = Field(default=None, max_length=32)
    language: Language = "en"
    answers: dict[str, str] = Field(default_factory=dict, max_length=MAX_ANSWERS)


class WebhookIn(_In):
    """The partner's endpoint for events (``assessment.completed``)."""

    url: str = Field(
        min_length=1,
        max_length=2000,
        description="https:// URL on a public address; receives signed JSON events",
        examples=["https://partner.example/hooks/smm"],
    )
