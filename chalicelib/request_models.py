"""Request bodies as pydantic models: validation here, JSON Schema for OpenAPI from here."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

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


def _json_integer(value: object) -> object:
    """A JSON integer: ``60`` or ``60.0`` (JSON Schema counts both), never ``"60"`` or
    ``true`` (strict validation refuses those)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_json_integer)]
"""An integer as JSON Schema defines it (``900`` and ``900.0``), never ``"900"`` or ``true``."""


class SubmissionIn(AnswersIn):
    """A completed questionnaire to score and store."""

    # the bounds before the validator, so the JSON Schema says minimum/maximum
    duration_seconds: (
        Annotated[
            int, Field(ge=0, le=60 * 60 * 24 * 30), BeforeValidator(_json_integer)
        ]
        | None
    ) = Field(default=None, description="time taken to fill it in")
    previous_token: str | None = Field(
        default=None,
        max_length=128,
        description="result token of an earlier assessment of the same organisation, to link them",
    )
    draft_id: str | None = Field(
        default=None, max_length=64, description="the draft this submission completes"
    )


REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/\-]{0,63}$"  # partners.REFERENCE


class PartnerSubmissionIn(SubmissionIn):
    """A submission through the partner API: it may carry the partner's reference id."""

    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=REFERENCE_PATTERN,
        description="the partner's own reference id (e.g. a CRM id), returned in its reads "
        "and webhook events, never in the benchmark",
        examples=["crm-4711"],
    )


def _display_label(value: str) -> str:
    from chalicelib.exports.model import label_problem

    problem = label_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value.strip()


DisplayLabel = Annotated[
    str, Field(min_length=1, max_length=80), AfterValidator(_display_label)
]
"""A consultant's name for an assessment: 1 to 80 characters, no control characters."""


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
    population: Literal["users", "all"] = Field(
        default="users",
        description="peers: organisations that use social media (default) or all",
    )
    labels: dict[Annotated[str, Field(max_length=64)], DisplayLabel] = Field(
        default_factory=dict,
        max_length=200,
        description="kind=assessments: display labels (assessment id -> label, 1 to 80 "
        "characters, no control characters) shown in the export instead of the ids; only "
        "ids of this export; used for this file only, never stored or logged",
        examples=[{"0123456789abcdef0123456789abcdef": "Müller GmbH, Workshop März"}],
    )
    csv_locale: Literal["de", "en"] | None = Field(
        default=None,
        description="format=csv: de (';' between fields, decimal comma) or en (',' and "
        "decimal point); by default the one of language",
    )

    @model_validator(mode="after")
    def _labels_name_assessments(self) -> ExportIn:
        if self.labels and self.kind != "assessments":
            raise ValueError("labels name assessments: only with kind=assessments")
        return self


class DraftIn(_In):
    """A partly filled-in questionnaire saved for later."""

    questionnaire: str = Field(default="smm", max_length=64)
    version: str | None = Field(default=None, max_length=32)
    language: Language = "en"
    answers: dict[str, str] = Field(default_factory=dict, max_length=MAX_ANSWERS)
    elapsed_seconds: Annotated[
        int, Field(ge=0, le=60 * 60 * 24 * 30), BeforeValidator(_json_integer)
    ] = Field(
        default=0,
        description="time spent filling it in so far, across sessions: a resumed draft "
        "keeps it, so the submission's duration_seconds counts every session",
    )


_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = "(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
URL_PATTERN = (  # documentation only: chalicelib/webhooks.check_url is the rule
    f"^https://(?:{_LABEL}\\.)+[A-Za-z](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\\.?"
    f'(?::{_PORT})?(?:[/?][!-"$-~]*)?$'
)


class WebhookIn(_In):
    """The partner's endpoint for events (``assessment.completed``)."""

    url: str = Field(
        min_length=1,
        max_length=2000,
        description="https:// URL on a public host name; receives signed JSON events. "
        "Printable ASCII only (punycode, percent-encoding), a port from 1 to 65535, no "
        "credentials or #fragment. The server also accepts public IP literals (and, in "
        "development, http:// loopback URLs); the host must resolve to public addresses",
        examples=["https://partner.example/hooks/smm"],
        json_schema_extra={"pattern": URL_PATTERN},
    )


class WebhookSecretIn(_In):
    """A secret rotation: how long the previous secret keeps signing deliveries."""

    grace_seconds: JsonInt = Field(
        default=86_400,
        ge=0,
        le=7 * 86_400,
        strict=True,
        description="seconds the previous secret(s) still sign deliveries alongside the new "
        "one (0: stop at once, e.g. after a leak); default one day",
    )


Scope = Literal[
    "submit", "read", "benchmarks", "export", "admin", "organisations"
]  # = partners.SCOPES


class KeyIn(_In):
    """A new key of the calling partner. Everything that grants access is stated here and is
    at most what the calling key has; the tier (quota) is the calling key's."""

    scopes: list[Scope] = Field(
        min_length=1,
        max_length=len(get_args(Scope)),
        description="a subset of the calling key's scopes",
        examples=[["submit", "read"]],
    )
    origins: list[
        Annotated[
            str,
            Field(max_length=200, pattern=r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?/?$"),
        ]
    ] = Field(
        max_length=20,
        description="browser origins for CORS, a subset of the calling key's "
        "([] for a server-side key)",
        examples=[["https://shop.example"]],
    )
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="a label; the calling key's name when omitted",
    )
    type: Literal["secret", "publishable"] = Field(
        default="secret",
        description="secret (smmk_, server side only) or publishable (smmp_, safe in a web "
        "page: only starts and submits assessments, only from its origins; needs the scope "
        "submit only and at least one origin)",
    )


class SessionIn(_In):
    """A short-lived client secret for one visitor (the widget's session flow)."""

    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=REFERENCE_PATTERN,
        description="the partner's reference id for the assessment this session submits",
        examples=["crm-4711"],
    )
    ttl_seconds: Annotated[int, BeforeValidator(_json_integer)] = Field(
        default=3600,
        ge=60,
        le=4 * 3600,
        strict=True,
        description="lifetime in seconds (60 to 14400, default one hour)",
    )


# branding.check_https_url: https, printable ASCII, a host, a valid port, no user@
LINK_PATTERN = (
    r"^https://[A-Za-z0-9.\-]+"
    r"(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?"
    r"(?:[/?#][!-~]*)?$"
)


class BrandingIn(_In):
    """A partner's white label (replaces the previous settings)."""

    display_name: str = Field(
        min_length=1, max_length=80, description="shown instead of our product name"
    )
    primary_color: str | None = Field(
        default=None,
        max_length=7,
        pattern="^#[0-9a-fA-F]{6}$",
        description="#rrggbb; white text on it needs a contrast of at least 4.5:1",
        examples=["#0b5d3b"],
    )
    logo: str | None = Field(
        default=None,
        max_length=56_000,
        description="data:image/png|jpeg|gif|webp;base64,... at most 40 KiB and 2000 x "
        "2000 pixels (no SVG, no remote URL: the logo is served from our origin)",
    )
    imprint_url: str | None = Field(
        default=None,
        max_length=500,
        pattern=LINK_PATTERN,
        description="https:// link to the imprint",
    )
    privacy_url: str | None = Field(
        default=None,
        max_length=500,
        pattern=LINK_PATTERN,
        description="https:// link to the privacy policy",
    )
    language: Language | None = Field(
        default=None, description="the widget's language unless the page asks for one"
    )


QUARTER_PATTERN = r"^\d{4}-Q[1-4]$"  # roadmap.QUARTER


def _owner(value: str) -> str:
    from chalicelib.exports.model import label_problem

    if value == "":
        return value
    problem = label_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value.strip()


class AssignmentIn(_In):
    """Who does one roadmap step and by when."""

    owner: Annotated[str, Field(max_length=80), AfterValidator(_owner)] = Field(
        default="",
        description="who is responsible (a name or role, at most 80 characters, no "
        "control characters; empty: nobody yet)",
        examples=["Leitung Kundenservice"],
    )
    due_quarter: str | None = Field(
        default=None,
        pattern=QUARTER_PATTERN,
        description="YYYY-Qn; by default assigned in order at the target's pace",
        examples=["2027-Q2"],
    )


class TargetIn(_In):
    """An organisation's target: a phase and/or a pyramid tier and/or a score per
    dimension, and how its roadmap is scheduled (docs/ROADMAP.md). Checked against the
    questionnaire by ``roadmap.target_of`` (dimension and question ids)."""

    phase: Annotated[int, Field(ge=1, le=7), BeforeValidator(_json_integer)] | None = (
        Field(default=None, description="target engagement phase 1..7")
    )
    tier: (
        Literal["foundation", "safety", "formation", "enablement", "enlightenment"]
        | None
    ) = Field(
        default=None, description="target pyramid tier (reached with all beneath)"
    )
    dimensions: dict[
        Annotated[str, Field(max_length=64)],
        Annotated[int, Field(ge=0, le=100), BeforeValidator(_json_integer)],
    ] = Field(
        default_factory=dict,
        max_length=20,
        description="target score 0..100 per dimension id",
        examples=[{"crisis": 70}],
    )
    start_quarter: str | None = Field(
        default=None,
        pattern=QUARTER_PATTERN,
        description="the first step's quarter (YYYY-Qn); default: the next quarter",
    )
    pace: Annotated[int, Field(ge=1, le=50), BeforeValidator(_json_integer)] = Field(
        default=3, description="steps a quarter when due quarters are assigned"
    )
    assignments: dict[Annotated[str, Field(max_length=64)], AssignmentIn] = Field(
        default_factory=dict,
        max_length=MAX_ANSWERS,
        description="question id -> owner and due quarter of its step",
    )

    @model_validator(mode="after")
    def _something_to_reach(self) -> TargetIn:
        if self.phase is None and self.tier is None and not self.dimensions:
            raise ValueError("set a target phase, tier or dimension score")
        return self
