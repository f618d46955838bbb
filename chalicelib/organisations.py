"""Pure domain of organisation workspaces (issue 18, docs/ORGANISATIONS.md): several
respondents of one organisation answer the questionnaire (or the sections they own), their
answers are combined into one organisation answer set by a documented rule, and the spread of
their views is reported per section and dimension (the "perception gap").

No I/O here: records, the combination rule and the gap view. The use cases are in
``organisation_service.py``; storage in the adapters (``OrganisationStore``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from chalicelib.questionnaire import Question, Questionnaire

Status = Literal["draft", "submitted"]


# --- records ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Organisation:
    """A workspace. ``profile`` holds the answers to the questionnaire's context questions
    (industry, size, country, consent): facts about the organisation the owner states once,
    not opinions to combine. ``current_round`` is the number of the open round (1-based)."""

    id: str
    name: str
    owner_token_hash: str
    created_at: str
    questionnaire_id: str
    version: str
    language: str
    profile: dict[str, str]
    partner_id: str | None = None
    current_round: int = 1


@dataclass(frozen=True)
class Respondent:
    """An invited respondent: a role label (``marketing``, ``IT``...; never a name or
    e-mail) and the sections they own (empty: every scored section)."""

    id: str
    organisation_id: str
    role: str
    sections: tuple[str, ...]
    token_hash: str
    created_at: str


@dataclass(frozen=True)
class RespondentAnswers:
    """One respondent's answers in one round (a draft until submitted)."""

    organisation_id: str
    respondent_id: str
    round: int
    answers: dict[str, str]
    status: Status
    updated_at: str


@dataclass(frozen=True)
class Round:
    """A closed assessment round: its combined answers were scored and submitted to the
    benchmark once, as the assessment ``assessment_id``; the summary is kept for the
    history (the assessment itself holds the answers)."""

    organisation_id: str
    number: int
    closed_at: str
    questionnaire_id: str
    version: str
    assessment_id: str
    respondents: int
    phase: int | None
    pyramid_level: str | None
    overall: int | None
    dimensions: dict[str, int | None] = field(default_factory=dict)
    included: bool = False  # counted in the benchmark (consent and data quality)


# --- sections ---------------------------------------------------------------------------------
def scored_sections(q: Questionnaire) -> list[str]:
    """Sections a respondent can own: those with at least one scored question (the context
    section is the organisation's profile)."""
    return [s.id for s in q.sections if any(x.kind == "scored" for x in s.questions)]


def section_of(q: Questionnaire) -> dict[str, str]:
    """Question id -> its section id."""
    return {x.id: s.id for s in q.sections for x in s.questions}


def owned_sections(q: Questionnaire, respondent: Respondent) -> list[str]:
    return list(respondent.sections) if respondent.sections else scored_sections(q)


def owned_questions(q: Questionnaire, respondent: Respondent) -> list[Question]:
    owned = set(owned_sections(q, respondent))
    return [
        x
        for s in q.sections
        if s.id in owned
        for x in s.questions
        if x.kind == "scored"
    ]


# --- the combination rule ---------------------------------------------------------------------
MEDIAN = "median"  # the lower median of the substantive answers
NO_ANSWER = "no_substantive_answer"  # everyone said "don't know" / "not applicable"


def option_rank(question: Question, option_id: str) -> tuple[float, float, int]:
    """Where an answer option stands on the question's ordinal scale: its score, then its
    evidence, then its position in the file (options of equal score keep the file's order,
    which lists the weaker practice first)."""
    opt = question.option_index[option_id]
    position = [o.id for o in question.options].index(option_id)
    score = opt.score if opt.score is not None else -1.0
    evidence = question.option_evidence.get(option_id)
    return (score, evidence if evidence is not None else score, position)


@dataclass(frozen=True)
class CombinedAnswer:
    question_id: str
    option_id: str
    method: str  # MEDIAN or NO_ANSWER
    respondents: int  # how many answered it
    substantive: int  # of which with a scored answer


def combine_question(
    question: Question, answers: Sequence[str]
) -> CombinedAnswer | None:
    """The organisation's answer to one scored question from its respondents' answers.

    Rule (docs/ORGANISATIONS.md): the lower median of the substantive answers on the
    question's ordinal scale (``option_rank``): with an odd number the middle one, with an
    even number the lower of the two middle ones, so a tie goes to the more conservative
    answer and one optimist cannot lift the organisation. "Don't know" and "not applicable"
    are ignored while anyone gave a substantive answer; when nobody did, the most frequent
    of them is the answer (a tie goes to "don't know"). None when nobody answered."""
    if not answers:
        return None
    kinds = question.option_kinds
    substantive = sorted(
        (a for a in answers if kinds[a] == "answer"),
        key=lambda a: option_rank(question, a),
    )
    if substantive:
        chosen = substantive[(len(substantive) - 1) // 2]
        return CombinedAnswer(
            question.id, chosen, MEDIAN, len(answers), len(substantive)
        )
    counts = Counter(answers)
    chosen = max(
        counts,
        key=lambda a: (counts[a], kinds[a] == "dont_know", -answers.index(a)),
    )
    return CombinedAnswer(question.id, chosen, NO_ANSWER, len(answers), 0)


@dataclass(frozen=True)
class Contribution:
    """A respondent's submitted answers with the sections they own (only those count)."""

    respondent: Respondent
    answers: Mapping[str, str]


def answers_for(
    q: Questionnaire, contributions: Iterable[Contribution]
) -> dict[str, list[str]]:
    """Per scored question, the answers of the respondents who own its section (answers to
    questions outside a respondent's sections are ignored: the service refuses them)."""
    out: dict[str, list[str]] = {}
    for c in contributions:
        for x in owned_questions(q, c.respondent):
            chosen = c.answers.get(x.id)
            if chosen is not None and chosen in x.option_index:
                out.setdefault(x.id, []).append(chosen)
    return out


def combine(
    q: Questionnaire, contributions: Iterable[Contribution]
) -> dict[str, CombinedAnswer]:
    """The organisation's answer per scored question (questions nobody answered are
    absent), by ``combine_question``."""
    by_question = answers_for(q, contributions)
    out: dict[str, CombinedAnswer] = {}
    for x in q.scored_questions:
        combined = combine_question(x, by_question.get(x.id, []))
        if combined is not None:
            out[x.id] = combined
    return out


def uncovered_sections(
    q: Questionnaire, combined: Mapping[str, CombinedAnswer]
) -> list[str]:
    """Sections with a required scored question nobody answered (a round cannot close)."""
    missing: list[str] = []
    for s in q.sections:
        if any(
            x.kind == "scored" and x.required and x.id not in combined
            for x in s.questions
        ):
            missing.append(s.id)
    return missing


# --- the perception gap -----------------------------------------------------------------------
def weighted_score(
    q: Questionnaire, answers: Mapping[str, str], items: Iterable[tuple[str, float]]
) -> int | None:
    """The weighted mean (0..100, half up) of the option scores of the answered items;
    "don't know" and unanswered items are left out; None when none is answered."""
    total = weight = 0.0
    index = q.question_index
    for qid, w in items:
        chosen = answers.get(qid)
        if chosen is None:
            continue
        score = index[qid].scored_options.get(chosen)
        if score is None:
            continue
        total += score * w
        weight += w
    if weight == 0:
        return None
    return int(100 * total / weight + 0.5)


def section_items(q: Questionnaire, section_id: str) -> list[tuple[str, float]]:
    (section,) = [s for s in q.sections if s.id == section_id]
    return [(x.id, x.weight) for x in section.questions if x.kind == "scored"]


@dataclass(frozen=True)
class RespondentScore:
    respondent_id: str
    role: str
    score: int


@dataclass(frozen=True)
class Gap:
    """The spread of the respondents' scores on one section or dimension."""

    kind: Literal["section", "dimension"]
    id: str
    scores: tuple[RespondentScore, ...]  # each respondent who answered part of it
    combined: int | None  # the score of the combined answers
    min: int | None
    max: int | None
    range: int | None
    lowest: tuple[str, ...]  # role labels at the minimum
    highest: tuple[str, ...]  # role labels at the maximum
    questions: tuple[str, ...]  # the questions the respondents disagree on most


def _question_spread(
    q: Questionnaire, by_question: Mapping[str, list[str]], question_ids: Iterable[str]
) -> tuple[str, ...]:
    """Questions with the widest spread of substantive answer scores (at least 0.5 of the
    scale apart), widest first, at most five."""
    index = q.question_index
    spreads: list[tuple[float, str]] = []
    for qid in question_ids:
        scores = [
            s
            for a in by_question.get(qid, [])
            if (s := index[qid].scored_options.get(a)) is not None
        ]
        if len(scores) >= 2 and max(scores) - min(scores) >= 0.5:
            spreads.append((max(scores) - min(scores), qid))
    spreads.sort(key=lambda t: (-t[0], t[1]))
    return tuple(qid for _, qid in spreads[:5])


def _gap(
    kind: Literal["section", "dimension"],
    gid: str,
    scores: list[RespondentScore],
    combined: int | None,
    questions: tuple[str, ...],
) -> Gap:
    if not scores:
        return Gap(kind, gid, (), combined, None, None, None, (), (), questions)
    lo = min(s.score for s in scores)
    hi = max(s.score for s in scores)
    return Gap(
        kind,
        gid,
        tuple(scores),
        combined,
        lo,
        hi,
        hi - lo,
        tuple(sorted({s.role for s in scores if s.score == lo})),
        tuple(sorted({s.role for s in scores if s.score == hi})),
        questions,
    )


def perception_gap(
    q: Questionnaire, contributions: Sequence[Contribution]
) -> list[Gap]:
    """Per scored section and per dimension: each respondent's own score (from their own
    answers to the questions they own), the combined score, min, max, range and the role
    labels at both ends, and the questions they disagree on most. Roles, never identities:
    the view is for the owner, and the role is what a workshop discusses."""
    combined_answers = {k: v.option_id for k, v in combine(q, contributions).items()}
    by_question = answers_for(q, contributions)
    owned: list[tuple[Respondent, dict[str, str]]] = []
    for c in contributions:
        mine = {x.id for x in owned_questions(q, c.respondent)}
        owned.append((c.respondent, {k: v for k, v in c.answers.items() if k in mine}))
    gaps: list[Gap] = []
    for sid in scored_sections(q):
        items = section_items(q, sid)
        scores = [
            RespondentScore(r.id, r.role, score)
            for r, answers in owned
            if (score := weighted_score(q, answers, items)) is not None
        ]
        gaps.append(
            _gap(
                "section",
                sid,
                scores,
                weighted_score(q, combined_answers, items),
                _question_spread(q, by_question, (qid for qid, _ in items)),
            )
        )
    plan = q.scoring_plan
    for d in q.dimensions:
        items = plan.get(f"dim:{d.id}", [])
        scores = [
            RespondentScore(r.id, r.role, score)
            for r, answers in owned
            if (score := weighted_score(q, answers, items)) is not None
        ]
        gaps.append(
            _gap(
                "dimension",
                d.id,
                scores,
                weighted_score(q, combined_answers, items),
                _question_spread(q, by_question, (qid for qid, _ in items)),
            )
        )
    return gaps
