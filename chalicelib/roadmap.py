"""Pure: targets, the gap to a target and a prioritised roadmap towards it, and the history
of an organisation's rounds (issue 18, items 2 and 3; docs/ROADMAP.md has the formulas).

- A ``Target`` is a phase of the engagement ladder and/or a tier of the pyramid and/or a
  score per dimension, checked against the questionnaire (``target_of``).
- ``gap(result, target)`` says how far a score result is from it.
- ``roadmap(q, answers, target)`` lists the next steps: first what *blocks* the target, in
  the order the gates require (the staged ladder: phase 1 before 2; the gated pyramid:
  foundation before safety; at one level the tier first: "goals first"), each gate closed
  with as few changed answers as the scoring needs, key items (``phase_need`` /
  ``tier_need``) first, then by impact against effort; then the steps towards the dimension
  targets; then the further steps, by impact against effort. Every step names its question,
  the current and the needed answer, why, an ``owner`` (empty unless set) and a
  ``due_quarter`` (assigned in order at ``pace`` steps a quarter unless set).
- ``history(rounds)``: the series of rounds over time with questionnaire version changes
  marked.

Deterministic: ties are broken by questionnaire order, nothing depends on dict order or the
clock (``today`` is an argument).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from chalicelib.errors import InvalidInput
from chalicelib.questionnaire import (
    TIER_ORDER,
    Question,
    Questionnaire,
    Text,
    comparable_metrics,
)
from chalicelib.scoring import MET, ScoreResult, score

QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
DEFAULT_PACE = 3  # steps a quarter
BLOCKING, TOWARDS, FURTHER = "blocking", "target", "further"

WHY = {
    "phase": Text(
        de="Nötig für Phase {number} ({name}): Das Kriterium dieser Phase ist noch nicht "
        "erfüllt, und die Phasen werden nur der Reihe nach erreicht.",
        en="Needed for phase {number} ({name}): this phase's criterion is not met yet, "
        "and the phases are reached only in order.",
    ),
    "tier": Text(
        de="Nötig für die Pyramidenstufe {name}: Sie ist noch nicht erfüllt, und eine "
        "Stufe zählt nur, wenn alle darunter erfüllt sind.",
        en="Needed for the pyramid tier {name}: it is not met yet, and a tier counts only "
        "when every tier beneath it is met.",
    ),
    "dimension": Text(
        de="Hebt das Handlungsfeld {name} in Richtung des Ziels {target} (jetzt {now}).",
        en="Raises the dimension {name} towards its target {target} (now {now}).",
    ),
    "overall": Text(
        de="Weiterer Schritt: hebt den Gesamtindex.",
        en="Further step: raises the overall index.",
    ),
}


# --- quarters -------------------------------------------------------------------------------
def check_quarter(value: str, pointer: str = "/start_quarter") -> str:
    """``YYYY-Qn`` (n 1..4), else a 422 naming ``pointer``."""
    if not isinstance(value, str) or not QUARTER.match(value):
        raise InvalidInput(
            "a quarter is written YYYY-Qn", [(pointer, f"{value!r} is not YYYY-Q1..Q4")]
        )
    return value


def add_quarters(quarter: str, n: int) -> str:
    m = QUARTER.match(quarter)
    assert m is not None, quarter
    index = int(m.group(1)) * 4 + int(m.group(2)) - 1 + n
    return f"{index // 4}-Q{index % 4 + 1}"


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def next_quarter(day: date) -> str:
    """The quarter after the one ``day`` is in: where a roadmap made today starts."""
    return add_quarters(quarter_of(day), 1)


# --- targets --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Assignment:
    owner: str = ""
    due_quarter: str | None = None


@dataclass(frozen=True)
class Target:
    """A target phase (1..7) and/or pyramid tier and/or score (0..100) per dimension, with
    how the roadmap is scheduled: from ``start_quarter`` (None: the quarter after
    ``today``) at ``pace`` steps a quarter; ``assignments`` set a step's owner and due
    quarter by question id."""

    phase: int | None = None
    tier: str | None = None
    dimensions: Mapping[str, int] = field(default_factory=dict)
    start_quarter: str | None = None
    pace: int = DEFAULT_PACE
    assignments: Mapping[str, Assignment] = field(default_factory=dict)

    @property
    def tier_level(self) -> int | None:
        """The pyramid level the tier stands for (1 foundation .. 5 enlightenment)."""
        return None if self.tier is None else TIER_ORDER.index(self.tier) + 1

    def as_dict(self) -> dict[str, object]:
        """The target as plain data (what the API shows and the stores keep)."""
        return {
            "phase": self.phase,
            "tier": self.tier,
            "dimensions": dict(self.dimensions),
            "start_quarter": self.start_quarter,
            "pace": self.pace,
            "assignments": {
                qid: {"owner": a.owner, "due_quarter": a.due_quarter}
                for qid, a in sorted(self.assignments.items())
            },
        }


def target_of(q: Questionnaire, body: object) -> Target:
    """A ``Target`` from a validated ``request_models.TargetIn`` (or anything with its
    fields), checked against questionnaire ``q``: every dimension id is one of ``q``'s and
    every assignment names a scored question of ``q``; anything else is a 422 naming the
    field (``/dimensions/<id>``, ``/assignments/<id>``)."""
    errors: list[tuple[str, str]] = []
    dims = {d.id for d in q.dimensions}
    raw_dims: Mapping[str, int] = getattr(body, "dimensions", None) or {}
    for d in raw_dims:
        if d not in dims:
            errors.append(
                (f"/dimensions/{d}", f"not a dimension of {q.key}: {sorted(dims)}")
            )
    scored = {x.id for x in q.scored_questions}
    assignments: dict[str, Assignment] = {}
    raw_assign = getattr(body, "assignments", None) or {}
    for qid, a in raw_assign.items():
        if qid not in scored:
            errors.append((f"/assignments/{qid}", f"not a scored question of {q.key}"))
            continue
        due = getattr(a, "due_quarter", None)
        if due is not None and not QUARTER.match(due):
            errors.append((f"/assignments/{qid}/due_quarter", "not YYYY-Q1..Q4"))
            continue
        assignments[qid] = Assignment(getattr(a, "owner", "") or "", due)
    phase = getattr(body, "phase", None)
    tier = getattr(body, "tier", None)
    if phase is None and tier is None and not raw_dims:
        errors.append(("", "set a target phase, tier or dimension score"))
    if tier is not None and tier not in TIER_ORDER:
        errors.append(("/tier", f"one of {', '.join(TIER_ORDER)}"))
    start = getattr(body, "start_quarter", None)
    if start is not None and not QUARTER.match(start):
        errors.append(("/start_quarter", "not YYYY-Q1..Q4"))
    pace = getattr(body, "pace", DEFAULT_PACE)
    if not isinstance(pace, int) or pace < 1:
        errors.append(("/pace", "at least 1 step a quarter"))
    if errors:
        raise InvalidInput("invalid target", errors)
    return Target(
        phase=phase,
        tier=tier,
        dimensions={d.id: raw_dims[d.id] for d in q.dimensions if d.id in raw_dims},
        start_quarter=start,
        pace=pace,
        assignments=assignments,
    )


# --- gap ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DimensionGap:
    id: str
    current: int | None
    target: int
    gap: int  # points short of the target (0: reached); a missing score counts as 0


@dataclass(frozen=True)
class Gap:
    phase: int | None
    target_phase: int | None
    phase_gap: int  # phases short (0: reached or no target)
    pyramid_level: int | None  # None: the pyramid is not assessable
    target_level: int | None
    level_gap: int
    blocking_phases: tuple[int, ...]  # criteria of phases 1..target not met
    blocking_tiers: tuple[str, ...]  # tiers up to the target not met
    dimensions: tuple[DimensionGap, ...]

    @property
    def reached(self) -> bool:
        return (
            self.phase_gap == 0
            and self.level_gap == 0
            and all(d.gap == 0 for d in self.dimensions)
        )


def pyramid_level(result: ScoreResult) -> int | None:
    if not result.pyramid_assessable:
        return None
    return (
        0 if result.reached_tier is None else TIER_ORDER.index(result.reached_tier) + 1
    )


def gap(result: ScoreResult, target: Target) -> Gap:
    """How far ``result`` is from ``target``."""
    phase = result.phase
    level = pyramid_level(result)
    tp, tl = target.phase, target.tier_level
    phase_gap = 0 if tp is None else max(0, tp - (phase or 0))
    level_gap = 0 if tl is None else max(0, tl - (level or 0))
    blocking_phases: tuple[int, ...] = ()
    if tp is not None and phase_gap:
        blocking_phases = tuple(
            c.phase for c in result.phase_profile[:tp] if c.status != MET
        )
    blocking_tiers: tuple[str, ...] = ()
    if tl is not None and level_gap:
        blocking_tiers = tuple(t.id for t in result.tiers[:tl] if t.status != MET)
    dims = tuple(
        DimensionGap(
            d,
            result.dimensions.get(d),
            v,
            max(0, v - (result.dimensions.get(d) or 0)),
        )
        for d, v in target.dimensions.items()
    )
    return Gap(
        phase,
        tp,
        phase_gap,
        level,
        tl,
        level_gap,
        blocking_phases,
        blocking_tiers,
        dims,
    )


# --- roadmap --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One step of a roadmap: answer ``question_id`` with ``needed`` instead of
    ``current`` (None: unanswered)."""

    rank: int
    question_id: str
    question: str
    kind: str  # blocking / target / further
    gate: str  # phase:N, tier:ID, dimension:ID or overall (the first gate it serves)
    gates: tuple[str, ...]  # every gate it serves
    current: str | None
    current_label: str
    needed: str
    needed_label: str
    why: str
    advice: str
    impact: float  # points it adds towards its gates (0..100 scale each)
    effort: int  # answer steps from the current to the needed answer (at least 1)
    key_item: bool  # a phase_need / tier_need the gate cannot be met without
    owner: str = ""
    due_quarter: str = ""

    @property
    def priority(self) -> float:
        return round(self.impact / self.effort, 4)


def _answers_by_score(x: Question) -> list[str]:
    """The answer options of ``x`` from the lowest score to the highest (options of equal
    score in questionnaire order)."""
    answers = [o for o in x.options if x.option_kinds[o.id] == "answer"]
    return [o.id for o in sorted(answers, key=lambda o: o.score or 0.0)]


def _value(q: Questionnaire, x: Question, opt: str | None, gate_kind: str) -> float:
    """What an answer is worth for one kind of gate: the ladder reads evidence (rules 2),
    everything else the score; an unanswered or "don't know" item counts as 0."""
    if opt is None or x.option_kinds.get(opt) != "answer":
        return 0.0
    if gate_kind == "phase" and q.scoring_rules == "2":
        return x.option_evidence.get(opt) or 0.0
    return x.scored_options.get(opt) or 0.0


def _needed(
    q: Questionnaire, x: Question, opt: str | None, gate_kind: str
) -> str | None:
    """The cheapest answer with the highest value for the gate, if it is better than
    ``opt`` (None: ``opt`` already has it)."""
    ordered = _answers_by_score(x)
    best = max(_value(q, x, o, gate_kind) for o in ordered)
    if opt in ordered and _value(q, x, opt, gate_kind) >= best - 1e-9:
        return None
    floor = ordered.index(opt) if opt in ordered else -1
    for i, o in enumerate(ordered):
        if i > floor and _value(q, x, o, gate_kind) >= best - 1e-9:
            return o
    return None


def _effort(x: Question, current: str | None, needed: str) -> int:
    """Answer distance: the steps from the current answer to the needed one on the
    question's answer scale; unanswered / "don't know" starts below the lowest answer."""
    ordered = _answers_by_score(x)
    start = ordered.index(current) if current in ordered else -1
    return max(1, ordered.index(needed) - start)


def _gate_items(q: Questionnaire, gate: str) -> list[tuple[Question, float]]:
    """(question, its weight in the gate's score) for ``phase:N``, ``tier:ID``,
    ``dimension:ID`` or ``overall``; rules 2 count every sign of a phase once."""
    kind, _, ident = gate.partition(":")
    plan_key = {"dimension": f"dim:{ident}", "overall": "overall"}.get(kind, gate)
    index = q.question_index
    items = [(index[qid], w) for qid, w in q.scoring_plan[plan_key]]
    if kind == "phase" and q.scoring_rules == "2":
        items = [(x, 1.0) for x, _ in items]
    return items


def _points(
    q: Questionnaire,
    gate: str,
    x: Question,
    answers: Mapping[str, str],
    current: str | None,
    needed: str,
) -> float:
    """Points (0..100 scale) the change adds to the gate's score: its weight share times
    the value it gains (importance x maturity gap)."""
    kind = gate.partition(":")[0]
    items = _gate_items(q, gate)
    total = sum(
        w
        for y, w in items
        if y.option_kinds.get(answers.get(y.id, ""), "dont_know") != "not_applicable"
    )
    weight = next((w for y, w in items if y.id == x.id), 0.0)
    if not total or not weight:
        return 0.0
    gain = _value(q, x, needed, kind) - _value(q, x, current, kind)
    return round(100 * weight * max(gain, 0.0) / total, 4)


def _is_key(q: Questionnaire, x: Question, opt: str | None, gate: str) -> bool:
    """A named need of the gate that is not present (rules 2)."""
    kind = gate.partition(":")[0]
    need = (kind == "phase" and x.phase_need) or (kind == "tier" and x.tier_need)
    return bool(need) and 100 * _value(q, x, opt, kind) < q.thresholds.need


def _gate_met(result: ScoreResult, gate: str, target: Target) -> bool:
    kind, _, ident = gate.partition(":")
    if kind == "phase":
        return result.phase_profile[int(ident) - 1].status == MET
    if kind == "tier":
        return result.tiers[TIER_ORDER.index(ident)].status == MET
    if kind == "dimension":
        now = result.dimensions.get(ident)
        return now is not None and now >= target.dimensions[ident]
    return False


def _gates(result: ScoreResult, target: Target) -> list[str]:
    """The gates to pass, in the order they are passed: level by level, the pyramid tier
    before the phase of the same level (goals and guidelines first); none for a part of
    the target the result already reaches."""
    out: list[tuple[int, int, str]] = []
    if target.phase is not None and (result.phase or 0) < target.phase:
        out += [(p, 1, f"phase:{p}") for p in range(1, target.phase + 1)]
    level = pyramid_level(result) or 0
    tl = target.tier_level
    if tl is not None and level < tl:
        out += [(i + 1, 0, f"tier:{t}") for i, t in enumerate(TIER_ORDER[:tl])]
    return [g for _, _, g in sorted(out)]


@dataclass
class _Draft:
    x: Question
    current: str | None
    needed: str
    kind: str
    gates: list[str]
    impact: float
    key_item: bool
    order: int


def _why(
    q: Questionnaire, gate: str, result: ScoreResult, target: Target, lang: str
) -> str:
    kind, _, ident = gate.partition(":")
    if kind == "phase":
        name = q.phases[int(ident)].name.get(lang)
        return WHY["phase"].get(lang).format(number=ident, name=name)
    if kind == "tier":
        name = next(t.name.get(lang) for t in q.tiers if t.id == ident)
        return WHY["tier"].get(lang).format(name=name)
    if kind == "dimension":
        name = next(d.name.get(lang) for d in q.dimensions if d.id == ident)
        now = result.dimensions.get(ident)
        return (
            WHY["dimension"]
            .get(lang)
            .format(
                name=name,
                target=target.dimensions[ident],
                now="–" if now is None else now,
            )
        )
    return WHY["overall"].get(lang)


def _advice(q: Questionnaire, x: Question, opt: str | None, lang: str) -> str:
    if q.scoring_rules == "2":
        from chalicelib.scoring_rules_2 import advice_text

        return advice_text(x, opt, lang)
    assert x.recommendation is not None  # validated: scored questions have one
    return x.recommendation.get(lang)


def roadmap(
    q: Questionnaire,
    answers: Mapping[str, str],
    target: Target,
    *,
    language: str = "en",
    today: date | None = None,
    further: bool = True,
) -> list[Step]:
    """The next steps from ``answers`` towards ``target`` (module docstring; the formula
    of impact, effort and priority is in docs/ROADMAP.md). ``today`` (default: the date)
    fixes where the schedule starts when the target has no ``start_quarter``;
    ``further=False`` leaves out the steps that serve no part of the target."""
    order = {x.id: i for i, x in enumerate(q.scored_questions)}
    tentative = dict(answers)
    original = score(q, answers, language)
    result = original
    drafts: dict[str, _Draft] = {}

    def take(x: Question, needed: str, gate: str, kind: str, impact: float) -> None:
        nonlocal result
        key = _is_key(q, x, tentative.get(x.id), gate)
        if x.id in drafts:
            d = drafts[x.id]
            d.needed = needed
            d.gates.append(gate)
            d.impact = round(d.impact + impact, 4)
            d.key_item = d.key_item or key
        else:
            drafts[x.id] = _Draft(
                x, answers.get(x.id), needed, kind, [gate], impact, key, len(drafts)
            )
        tentative[x.id] = needed
        result = score(q, tentative, language)

    def candidates(
        gate: str,
    ) -> list[tuple[tuple[bool, float, int], Question, str, float]]:
        kind = gate.partition(":")[0]
        out = []
        for x, _ in _gate_items(q, gate):
            opt = tentative.get(x.id)
            if x.option_kinds.get(opt or "", "dont_know") == "not_applicable":
                continue
            need = _needed(q, x, opt, kind)
            if need is None:
                continue
            pts = _points(q, gate, x, tentative, opt, need)
            if pts <= 0 and not _is_key(q, x, opt, gate):
                continue
            eff = _effort(x, opt, need)
            rank = (not _is_key(q, x, opt, gate), -pts / eff, order[x.id])
            out.append((rank, x, need, pts))
        out.sort(key=lambda c: c[0])
        return out

    # 1. what blocks the target phase / tier, gate by gate
    for gate in _gates(original, target):
        while not _gate_met(result, gate, target):
            cands = candidates(gate)
            if not cands:
                break  # the questionnaire cannot meet this gate: left as it is
            _, x, need, pts = cands[0]
            take(x, need, gate, BLOCKING, pts)
    # 2. the dimension targets, the best impact against effort first
    for dim in target.dimensions:
        gate = f"dimension:{dim}"
        while not _gate_met(result, gate, target):
            before = result.dimensions.get(dim) or 0
            moved = False
            for _, x, need, pts in candidates(gate):
                trial = score(q, dict(tentative, **{x.id: need}), language)
                if (trial.dimensions.get(dim) or 0) > before:
                    take(x, need, gate, TOWARDS, pts)
                    moved = True
                    break
            if not moved:
                break
    # 3. further steps: everything else short of its best answer, for the overall index
    if further:
        rest = []
        for x in q.scored_questions:
            if x.id in drafts:
                continue
            opt = tentative.get(x.id)
            if x.option_kinds.get(opt or "", "dont_know") == "not_applicable":
                continue
            top = _needed(q, x, opt, "overall")
            if top is None:
                continue
            gate = "overall" if x.in_overall else _dimension_gate(x)
            pts = _points(q, gate, x, tentative, opt, top)
            rest.append((-pts / _effort(x, opt, top), order[x.id], x, top, gate, pts))
        rest.sort(key=lambda r: (r[0], r[1]))
        for _, _, x, need, gate, pts in rest:
            drafts[x.id] = _Draft(
                x, answers.get(x.id), need, FURTHER, [gate], pts, False, len(drafts)
            )

    lang = language
    start = target.start_quarter or next_quarter(today or date.today())
    steps: list[Step] = []
    auto = 0
    for rank, d in enumerate(sorted(drafts.values(), key=lambda d: d.order), 1):
        x = d.x
        assigned = target.assignments.get(x.id, Assignment())
        due = assigned.due_quarter or ""
        if not due:
            due = add_quarters(start, auto // max(target.pace, 1))
            auto += 1
        cur = x.option_index.get(d.current or "")
        steps.append(
            Step(
                rank=rank,
                question_id=x.id,
                question=x.text.get(lang),
                kind=d.kind,
                gate=d.gates[0],
                gates=tuple(dict.fromkeys(d.gates)),
                current=d.current,
                current_label=cur.label.get(lang) if cur is not None else "",
                needed=d.needed,
                needed_label=x.option_index[d.needed].label.get(lang),
                why=_why(q, d.gates[0], original, target, lang),
                advice=_advice(q, x, d.current, lang),
                impact=d.impact,
                effort=_effort(x, d.current, d.needed),
                key_item=d.key_item,
                owner=assigned.owner,
                due_quarter=due,
            )
        )
    return steps


def _dimension_gate(x: Question) -> str:
    """The gate of a question outside the overall index: its weightiest dimension (a
    scored question maps to a phase, tier or dimension; without one, its phase/tier)."""
    if x.dimensions:
        best = max(x.dimensions, key=lambda w: w.weight)
        return f"dimension:{best.id}"
    if x.tier is not None:
        return f"tier:{x.tier}"
    return f"phase:{x.phase}"


def apply(answers: Mapping[str, str], steps: Iterable[Step]) -> dict[str, str]:
    """``answers`` with the needed answer of every step (what the roadmap leads to)."""
    out = dict(answers)
    for s in steps:
        out[s.question_id] = s.needed
    return out


def assign(steps: Sequence[Step], assignments: Mapping[str, Assignment]) -> list[Step]:
    """The steps with owners / due quarters set by question id (after the fact, e.g. an
    owner edits one step); every due quarter is checked (``YYYY-Qn``)."""
    out = []
    for s in steps:
        a = assignments.get(s.question_id)
        if a is None:
            out.append(s)
            continue
        if a.due_quarter is not None:
            check_quarter(a.due_quarter, f"/assignments/{s.question_id}/due_quarter")
        out.append(
            replace(s, owner=a.owner, due_quarter=a.due_quarter or s.due_quarter)
        )
    return out


# --- history --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Round:
    """One assessment round of an organisation: when, on which questionnaire, its result,
    and its peer percentile (overall index) when a benchmark comparison released one."""

    date: str  # YYYY-MM-DD
    questionnaire: Questionnaire
    result: ScoreResult
    percentile: float | None = None
    label: str | None = None  # e.g. the round's name or assessment id


@dataclass(frozen=True)
class HistoryPoint:
    date: str
    questionnaire_id: str
    version: str
    phase: int | None
    pyramid_level: int | None
    dimensions: Mapping[str, int | None]
    overall: int | None
    percentile: float | None
    version_changed: bool  # the questionnaire version differs from the previous point's
    comparable: tuple[str, ...]  # metrics that mean the same as at the previous point
    label: str | None = None


def history(rounds: Iterable[Round]) -> list[HistoryPoint]:
    """The rounds as a series over time (by date; rounds of one date in the order given),
    each point marked where the questionnaire version changed against the previous one,
    with the metrics that stay comparable across that change (docs/VERSIONS.md)."""
    ordered = sorted(enumerate(rounds), key=lambda t: (t[1].date, t[0]))
    out: list[HistoryPoint] = []
    prev: Questionnaire | None = None
    for _, r in ordered:
        q, res = r.questionnaire, r.result
        changed = prev is not None and prev.key != q.key
        comparable = tuple(
            q.metric_names() if prev is None else comparable_metrics(prev, q)
        )
        out.append(
            HistoryPoint(
                date=r.date,
                questionnaire_id=q.id,
                version=q.version,
                phase=res.phase,
                pyramid_level=pyramid_level(res),
                dimensions=dict(res.dimensions),
                overall=res.overall,
                percentile=r.percentile,
                version_changed=changed,
                comparable=comparable,
                label=r.label,
            )
        )
        prev = q
    return out
