"""Data-quality screening for the benchmark (pure). A flagged submission is kept and scored for
its owner, but excluded from the benchmark aggregates, and the response says why."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.questionnaire import Questionnaire

MIN_SECONDS_PER_QUESTION = (
    2.0  # reading and answering a question takes longer than this
)
STRAIGHT_LINE_SHARE = 0.9  # share of answers at the same option position

# pairs (question, option) that cannot both hold: a phase-7 community platform without any
# presence, or round-the-clock monitoring without any monitoring tools
_CONTRADICTIONS: tuple[tuple[tuple[str, str], tuple[str, str], str], ...] = (
    (
        ("social_presence", "none"),
        ("community_platform", "yes"),
        "no presence but a platform",
    ),
    (
        ("social_presence", "forbidden"),
        ("employees_empowered", "yes"),
        "forbidden yet empowered",
    ),
    (
        ("monitoring_tools", "no"),
        ("round_the_clock_monitoring", "yes"),
        "24/7 without tools",
    ),
    (
        ("publishes_content", "no"),
        ("interactive_campaigns", "yes"),
        "campaigns without content",
    ),
)


def screen(
    q: Questionnaire, answers: Mapping[str, str], duration_seconds: int | None
) -> tuple[str, ...]:
    """Reasons to keep this submission out of the benchmark (empty: it may be included)."""
    reasons: list[str] = []
    scored = [x for x in q.scored_questions if x.id in answers]
    if (
        duration_seconds is not None
        and scored
        and (duration_seconds < MIN_SECONDS_PER_QUESTION * len(scored))
    ):
        reasons.append("implausibly-fast")
    positions: dict[int, int] = {}
    extremes = {"worst": 0, "best": 0}
    known = 0
    for x in scored:
        opt = answers[x.id]
        s = x.scored_options.get(opt)
        if s is None:
            continue
        known += 1
        # straight-lining ticks the same column of the form every time
        pos = [o.id for o in x.options].index(opt)
        positions[pos] = positions.get(pos, 0) + 1
        values = [v for v in x.scored_options.values() if v is not None]
        extremes["worst"] += s == min(values)
        extremes["best"] += s == max(values)
    # Answers all at one end of the scale are consistent (an organisation without any social
    # media practice, or a leader): only a constant column elsewhere counts as straight-lining.
    constant_column = (
        known >= 10 and max(positions.values()) >= STRAIGHT_LINE_SHARE * known
    )
    if constant_column and max(extremes.values()) < STRAIGHT_LINE_SHARE * known:
        reasons.append("straight-lining")
    # "not applicable" is an answer; only "don't know" is missing evidence
    dont_know = sum(
        1 for x in scored if x.option_kinds.get(answers[x.id]) == "dont_know"
    )
    if scored and dont_know > 0.5 * len(scored):
        reasons.append("mostly-dont-know")
    for (qa, oa), (qb, ob), _why in _CONTRADICTIONS:
        if answers.get(qa) == oa and answers.get(qb) == ob:
            reasons.append("contradictory-answers")
            break
    return tuple(reasons)
