"""Questionnaire definitions: load YAML files, validate them completely, look up texts.

A questionnaire file is data (question texts, option scores, weights, recommendations); no
Python module holds any of it. ``load_questionnaire`` validates a file with pydantic and raises
``QuestionnaireFileError`` naming the file and the field when anything is wrong.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

LANGUAGES: tuple[str, ...] = ("de", "en")
TIER_ORDER: tuple[str, ...] = (
    "foundation",
    "safety",
    "formation",
    "enablement",
    "enlightenment",
)
DIMENSION_IDS: tuple[str, ...] = (
    "strategy",
    "crisis",
    "measurement",
    "service",
    "content",
    "sociability",
)
CONTEXT_ROLES: tuple[str, ...] = ("industry", "size", "country", "consent")
_ID = r"^[a-z][a-z0-9_]{1,63}$"
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


class QuestionnaireFileError(ValueError):
    """A questionnaire file is broken; the message names the file and the field."""

    def __init__(self, path: str, field: str, message: str) -> None:
        super().__init__(f"{path}: {field}: {message}")
        self.path = path
        self.field = field
        self.detail = message


class UnknownQuestionnaire(LookupError):
    """No questionnaire with this id / version is installed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """A text in every supported language."""

    de: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, language: str) -> str:
        return self.de if language == "de" else self.en


class Phase(_Strict):
    number: int = Field(ge=0, le=7)
    name: Text
    description: Text
    # scoring rules 2: the share of weighted evidence that meets this phase's criterion
    # (default ``thresholds.phase``)
    threshold: int | None = Field(default=None, ge=1, le=100)


class Tier(_Strict):
    id: Literal["foundation", "safety", "formation", "enablement", "enlightenment"]
    name: Text
    description: Text


class Dimension(_Strict):
    id: str = Field(pattern=_ID)
    name: Text
    description: Text


OptionKind = Literal["answer", "dont_know", "not_applicable"]


class Option(_Strict):
    """One answer option. ``score`` is 0..1 (the quality of the practice); an option without a
    score is "don't know" or "not applicable" (``kind``): the question is then excluded from
    every score, not counted as zero. ``evidence`` (scoring rules 2, ladder questions) is how
    far the option shows the behaviour of the question's phase, 0..1, however clumsily it is
    done; ``advice`` is the recommendation for an organisation that chose this option."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-+]{0,31}$")
    label: Text
    score: float | None = Field(default=None, ge=0.0, le=1.0)
    kind: OptionKind | None = None
    evidence: float | None = Field(default=None, ge=0.0, le=1.0)
    advice: Text | None = None
    # context questions only: the cohort value this option stands for (e.g. NACE "C", region "dach")
    value: str | None = None
    region: str | None = None

    @model_validator(mode="after")
    def _check_kind(self) -> Option:
        if self.kind in ("dont_know", "not_applicable") and (
            self.score is not None or self.evidence is not None
        ):
            raise ValueError(f"a {self.kind} option has no score and no evidence")
        if self.kind == "answer" and self.score is None:
            raise ValueError("an answer option needs a score")
        return self


class DimensionWeight(_Strict):
    id: str
    weight: float = Field(default=1.0, gt=0.0, le=10.0)


class Question(_Strict):
    id: str = Field(pattern=_ID)
    kind: Literal["scored", "context"] = "scored"
    role: Literal["industry", "size", "country", "consent"] | None = None
    text: Text
    help: Text | None = None
    required: bool = True
    options: list[Option] = Field(min_length=2)
    # model mapping (scored questions): at least one of phase / tier / dimensions
    phase: int | None = Field(default=None, ge=1, le=7)
    tier: str | None = None
    dimensions: list[DimensionWeight] = Field(default_factory=list)
    weight: float = Field(default=1.0, gt=0.0, le=10.0)
    recommendation: Text | None = None
    source: str | None = None  # seed file / figure this question is built from
    # scoring rules 2 (docs/SCORING.md)
    phase_need: bool = False  # the phase criterion is met only with evidence here
    tier_need: bool = False  # an Altimeter named need: necessary for its tier
    in_overall: bool = True  # False: describes behaviour only, not in the overall index
    campaign_indicator: bool = False  # evidence here marks a campaign organisation
    campaign_lesson: bool = (
        False  # always advised to campaign organisations (Coles / DB)
    )
    advice_min_size: str | None = None  # size option id: no advice for smaller ones

    @model_validator(mode="after")
    def _check_kind(self) -> Question:
        ids = [o.id for o in self.options]
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate option ids in question {self.id}")
        if self.kind == "context":
            if self.role is None:
                raise ValueError("context questions need a role")
            if self.phase is not None or self.tier is not None or self.dimensions:
                raise ValueError(
                    "context questions do not map to phases, tiers or dimensions"
                )
        else:
            if self.role is not None:
                raise ValueError("only context questions have a role")
            if self.phase is None and self.tier is None and not self.dimensions:
                raise ValueError(
                    "a scored question maps to a phase, a tier or a dimension"
                )
            scored = [o for o in self.options if o.score is not None]
            if len(scored) < 2:
                raise ValueError("a scored question needs at least two scored options")
            if self.recommendation is None:
                raise ValueError("a scored question needs a recommendation")
        return self

    @functools.cached_property
    def scored_options(self) -> dict[str, float | None]:
        return {o.id: o.score for o in self.options}

    @functools.cached_property
    def option_kinds(self) -> dict[str, str]:
        """``answer``, ``dont_know`` or ``not_applicable`` per option of a scored question
        (an option without score and kind is "don't know", as in version 1.0.0)."""
        return {
            o.id: o.kind or ("answer" if o.score is not None else "dont_know")
            for o in self.options
        }

    @functools.cached_property
    def option_evidence(self) -> dict[str, float | None]:
        """Ladder evidence per option (defaults to the score)."""
        return {
            o.id: o.evidence if o.evidence is not None else o.score
            for o in self.options
        }

    @functools.cached_property
    def option_index(self) -> dict[str, Option]:
        return {o.id: o for o in self.options}


class Section(_Strict):
    id: str = Field(pattern=_ID)
    title: Text
    description: Text | None = None
    questions: list[Question] = Field(min_length=1)


class Thresholds(_Strict):
    phase: int = Field(
        default=60, ge=1, le=100
    )  # a phase criterion is met at this score
    tier: int = Field(default=60, ge=1, le=100)  # a pyramid tier is met at this score
    # scoring rules 2: a named need counts as present at this score (0..100)
    need: int = Field(default=50, ge=1, le=100)
    # scoring rules 2: a criterion or tier is assessable with at least this many answered
    # items carrying at least this share (percent) of its weight
    evidence_items: int = Field(default=2, ge=1, le=10)
    evidence_weight: int = Field(default=67, ge=1, le=100)


class Population(_Strict):
    """Who counts as an organisation that uses social media: the answer to ``question`` is
    not one of ``non_user_options``. The practitioner figures (DOMAIN.md) describe that
    population, so benchmarks compare with it by default (docs/REFERENCE.md)."""

    question: str
    non_user_options: list[str] = Field(min_length=1)


class Questionnaire(_Strict):
    id: str = Field(pattern=_ID)
    version: str
    # "1": the rules of version 1.0.0, frozen so stored results never change; "2": behaviour
    # evidence, evidence rules and named needs (docs/SCORING.md)
    scoring_rules: Literal["1", "2"] = "1"
    title: Text
    description: Text
    thresholds: Thresholds = Thresholds()
    metric_labels: dict[str, Text]
    population: Population
    phases: list[Phase]
    tiers: list[Tier]
    dimensions: list[Dimension]
    sections: list[Section] = Field(min_length=1)

    @field_validator("version")
    @classmethod
    def _semver(cls, v: str) -> str:
        if not _SEMVER.match(v):
            raise ValueError("version must be a semantic version like 1.0.0")
        return v

    @model_validator(mode="after")
    def _check_references(self) -> Questionnaire:
        missing_labels = {"overall", "phase", "pyramid_level"} - set(self.metric_labels)
        if missing_labels:
            raise ValueError(f"metric_labels lacks {', '.join(sorted(missing_labels))}")
        if [p.number for p in self.phases] != list(range(8)):
            raise ValueError("phases must list numbers 0..7 in order")
        if tuple(t.id for t in self.tiers) != TIER_ORDER:
            raise ValueError(f"tiers must be {', '.join(TIER_ORDER)} in this order")
        dim_ids = [d.id for d in self.dimensions]
        if len(dim_ids) != len(set(dim_ids)):
            raise ValueError("duplicate dimension ids")
        seen: set[str] = set()
        for s in self.sections:
            if s.id in seen:
                raise ValueError(f"duplicate id {s.id}")
            seen.add(s.id)
        roles: dict[str, str] = {}
        for q in self.questions:
            if q.id in seen:
                raise ValueError(f"duplicate id {q.id}")
            seen.add(q.id)
            if q.tier is not None and q.tier not in TIER_ORDER:
                raise ValueError(f"question {q.id}: unknown tier {q.tier}")
            for d in q.dimensions:
                if d.id not in dim_ids:
                    raise ValueError(f"question {q.id}: unknown dimension {d.id}")
            if q.role:
                if q.role in roles:
                    raise ValueError(
                        f"role {q.role} is used by {roles[q.role]} and {q.id}"
                    )
                roles[q.role] = q.id
        missing = [r for r in CONTEXT_ROLES if r not in roles]
        if missing:
            raise ValueError(
                f"missing context questions for roles: {', '.join(missing)}"
            )
        for p in range(1, 8):
            if not any(q.phase == p for q in self.questions):
                raise ValueError(f"phase {p} has no criterion question")
        for t in TIER_ORDER:
            if not any(q.tier == t for q in self.questions):
                raise ValueError(f"tier {t} has no question")
        for dim_id in dim_ids:
            if not any(
                any(w.id == dim_id for w in q.dimensions) for q in self.questions
            ):
                raise ValueError(f"dimension {dim_id} has no question")
        pq = next((q for q in self.questions if q.id == self.population.question), None)
        if pq is None or pq.kind != "scored":
            raise ValueError(
                f"population.question {self.population.question} is not a scored question"
            )
        unknown = set(self.population.non_user_options) - {o.id for o in pq.options}
        if unknown:
            raise ValueError(
                f"population.non_user_options: {', '.join(sorted(unknown))} are not options of {pq.id}"
            )
        if self.scoring_rules == "2":
            self._check_rules_2()
        return self

    def _check_rules_2(self) -> None:
        sizes = {o.id for o in self.context_question("size").options}
        for q in self.scored_questions:
            kinds = q.option_kinds
            if q.phase_need and q.phase is None:
                raise ValueError(f"question {q.id}: phase_need without a phase")
            if q.tier_need and q.tier is None:
                raise ValueError(f"question {q.id}: tier_need without a tier")
            if q.advice_min_size is not None and q.advice_min_size not in sizes:
                raise ValueError(
                    f"question {q.id}: advice_min_size {q.advice_min_size} is no size option"
                )
            if (q.phase is not None or q.tier is not None) and (
                "not_applicable" in kinds.values()
            ):
                # "not applicable" must not move a placement: only dimension items offer it
                raise ValueError(
                    f"question {q.id}: ladder and pyramid questions cannot offer not_applicable"
                )
            if q.phase is not None:
                answers = sorted(
                    (o for o in q.options if kinds[o.id] == "answer"),
                    key=lambda o: o.score or 0.0,
                )
                for a in answers:
                    for b in answers:
                        if (b.score or 0) > (a.score or 0) and (
                            q.option_evidence[b.id] or 0.0
                        ) < (q.option_evidence[a.id] or 0.0):
                            raise ValueError(
                                f"question {q.id}: evidence must not fall as the score "
                                f"rises ({a.id} -> {b.id})"
                            )

    def uses_social_media(self, answers: Mapping[str, str]) -> bool | None:
        """True/False from the population question's answer; None when it is unanswered or
        has no score ("don't know"), so the organisation's population is unknown."""
        pq = self.question_index[self.population.question]
        opt = answers.get(pq.id)
        if opt is None or pq.scored_options.get(opt) is None:
            return None
        return opt not in self.population.non_user_options

    # --- lookups -------------------------------------------------------------------------
    @property
    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]

    @functools.cached_property
    def question_index(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    @functools.cached_property
    def scored_questions(self) -> list[Question]:
        return [q for q in self.questions if q.kind == "scored"]

    @functools.cached_property
    def scoring_plan(self) -> dict[str, list[tuple[str, float]]]:
        """(question id, weight) lists per aggregate: ``phase:N``, ``tier:ID``, ``dim:ID`` and
        ``overall``, computed once so scoring is a few dictionary look-ups."""
        plan: dict[str, list[tuple[str, float]]] = {"overall": []}
        for p in range(1, 8):
            plan[f"phase:{p}"] = []
        for t in TIER_ORDER:
            plan[f"tier:{t}"] = []
        for d in self.dimensions:
            plan[f"dim:{d.id}"] = []
        for x in self.scored_questions:
            if x.in_overall:
                plan["overall"].append((x.id, x.weight))
            if x.phase is not None:
                plan[f"phase:{x.phase}"].append((x.id, x.weight))
            if x.tier is not None:
                plan[f"tier:{x.tier}"].append((x.id, x.weight))
            for w in x.dimensions:
                plan[f"dim:{w.id}"].append((x.id, x.weight * w.weight))
        return plan

    def context_question(self, role: str) -> Question:
        for q in self.questions:
            if q.role == role:
                return q
        raise KeyError(role)  # unreachable for a validated file

    def metric_label(self, metric: str, language: str) -> str:
        """Localised name of a benchmark metric (overall, phase, tier_<id>, dim_<id>)."""
        if metric in self.metric_labels:
            return self.metric_labels[metric].get(language)
        if metric.startswith("tier_"):
            return next(t.name.get(language) for t in self.tiers if t.id == metric[5:])
        if metric.startswith("dim_"):
            return next(
                d.name.get(language) for d in self.dimensions if d.id == metric[4:]
            )
        raise KeyError(metric)

    def metric_names(self) -> list[str]:
        """Every benchmark metric of this questionnaire, in display order."""
        return (
            ["overall", "phase", "pyramid_level"]
            + [f"tier_{t.id}" for t in self.tiers]
            + [f"dim_{d.id}" for d in self.dimensions]
        )

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"


def comparable_metrics(a: Questionnaire, b: Questionnaire) -> list[str]:
    """Metrics of ``b`` whose value means the same in ``a``: computed by the same scoring
    rules from the same questions, option ids, option scores and weights (docs/VERSIONS.md).
    The phase and pyramid level also need the same rules and criteria."""
    if a.key == b.key:
        return b.metric_names()

    def plan(q: Questionnaire, key: str) -> list[tuple[str, float, tuple[Any, ...]]]:
        return sorted(
            (
                qid,
                w,
                tuple(
                    sorted(
                        (o, s) for o, s in q.question_index[qid].scored_options.items()
                    )
                ),
            )
            for qid, w in q.scoring_plan.get(key, [])
        )

    out: list[str] = []
    for m in b.metric_names():
        if m in ("phase", "pyramid_level"):
            keys = (
                [f"phase:{p}" for p in range(1, 8)]
                if m == "phase"
                else [f"tier:{t}" for t in TIER_ORDER]
            )
            same = a.scoring_rules == b.scoring_rules and a.thresholds == b.thresholds
        else:
            keys = [{"overall": "overall"}.get(m, m.replace("_", ":", 1))]
            same = True
        if same and all(plan(a, k) == plan(b, k) for k in keys):
            out.append(m)
    return out


def _field_path(loc: tuple[int | str, ...], data: object) -> str:
    """Turn a pydantic error location into a readable path with ids, e.g.
    ``sections[2](crisis).questions[0](crisis_team).options[1].score``."""
    parts: list[str] = []
    node: object = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node):
                node = node[item]
                if isinstance(node, dict) and "id" in node:
                    label += f"({node['id']})"
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts) or "<root>"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _compiled(path: Path, text: str) -> Any:
    """The build's JSON copy of a questionnaire (``<name>.json`` beside the YAML), used only
    when it was compiled from exactly this YAML text; json.loads is ~10x faster to load."""
    compiled = path.with_suffix(".json")
    if not compiled.exists():
        return None
    try:
        doc = json.loads(compiled.read_text(encoding="utf-8"))
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("source_sha256") != _digest(text):
        return None
    return doc.get("questionnaire")


def compile_questionnaire(path: str | os.PathLike[str]) -> Path:
    """Validate a YAML questionnaire and write its JSON copy beside it (build step)."""
    p = Path(path)
    load_questionnaire(p)  # a broken file fails here, with its path and field
    text = p.read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc = {
        "source_sha256": _digest(text),
        "questionnaire": yaml.load(text, Loader=loader),
    }
    out = p.with_suffix(".json")
    out.write_text(json.dumps(doc, ensure_ascii=False, default=str), encoding="utf-8")
    return out


def load_questionnaire(path: str | os.PathLike[str]) -> Questionnaire:
    """Load and validate one questionnaire file; raise ``QuestionnaireFileError`` if broken."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        raw = _compiled(p, text)
        if raw is None:
            # libyaml's C loader when present: parsing YAML is most of a cold start
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            raw = yaml.load(text, Loader=loader)
    except (OSError, yaml.YAMLError) as exc:
        raise QuestionnaireFileError(str(p), "<file>", str(exc)) from exc
    if not isinstance(raw, dict):
        raise QuestionnaireFileError(str(p), "<root>", "the file must hold a mapping")
    try:
        q = Questionnaire.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise QuestionnaireFileError(
            str(p), _field_path(tuple(err["loc"]), raw), err["msg"]
        ) from exc
    stem_version = p.stem.rsplit("-", 1)[-1] if "-" in p.stem else None
    if stem_version and _SEMVER.match(stem_version) and stem_version != q.version:
        raise QuestionnaireFileError(
            str(p), "version", f"file name says {stem_version}, body says {q.version}"
        )
    return q


def questionnaire_dir() -> Path:
    """Where questionnaire files live: $QUESTIONNAIRE_DIR, else ``chalicelib/questionnaires``
    (the deployed copy, synced from the top-level ``questionnaires/`` by the build), else the
    project's ``questionnaires/``."""
    env = os.environ.get("QUESTIONNAIRE_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    bundled = here / "questionnaires"
    if bundled.is_dir() and any(bundled.glob("*.yaml")):
        return bundled
    return here.parent / "questionnaires"


class Catalog:
    """All installed questionnaires, loaded once and validated."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._by_key: dict[tuple[str, str], Questionnaire] = {}
        files = sorted(directory.glob("*.yaml"))
        if not files:
            raise QuestionnaireFileError(
                str(directory), "<dir>", "no questionnaire files found"
            )
        for f in files:
            q = load_questionnaire(f)
            if (q.id, q.version) in self._by_key:
                raise QuestionnaireFileError(
                    str(f), "version", f"{q.key} is defined twice"
                )
            self._by_key[(q.id, q.version)] = q

    def all(self) -> list[Questionnaire]:
        return sorted(
            self._by_key.values(), key=lambda q: (q.id, _version_tuple(q.version))
        )

    def get(self, questionnaire_id: str, version: str | None = None) -> Questionnaire:
        if version in (None, "latest"):
            candidates = [q for q in self.all() if q.id == questionnaire_id]
            if not candidates:
                raise UnknownQuestionnaire(questionnaire_id)
            return candidates[-1]
        q = self._by_key.get((questionnaire_id, str(version)))
        if q is None:
            raise UnknownQuestionnaire(f"{questionnaire_id}@{version}")
        return q


def _version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


@functools.lru_cache(maxsize=4)
def get_catalog(directory: str | None = None) -> Catalog:
    """The process-wide catalog (lazy, cached: loaded on first use, not at import)."""
    return Catalog(Path(directory) if directory else questionnaire_dir())
