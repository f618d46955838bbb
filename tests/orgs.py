"""Hand-made organisations for tests, built from the real questionnaire by rules, so they stay
valid when questions are added."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.questionnaire import Question, Questionnaire

CONTEXT = {"industry": "C", "size": "50-249", "country": "DE", "consent": "yes"}


def best(x: Question) -> str:
    return max(
        (o for o in x.options if o.score is not None), key=lambda o: o.score or 0
    ).id


def worst(x: Question) -> str:
    return min(
        (o for o in x.options if o.score is not None), key=lambda o: o.score or 0
    ).id


def middle(x: Question) -> str:
    scored = sorted(
        (o for o in x.options if o.score is not None), key=lambda o: o.score or 0
    )
    return scored[len(scored) // 2].id


def dont_know(x: Question) -> str:
    return next(o.id for o in x.options if o.score is None)


def build(
    q: Questionnaire,
    rule: Callable[[Question], str],
    overrides: dict[str, str] | None = None,
    context: dict[str, str] | None = None,
) -> dict[str, str]:
    answers: dict[str, str] = {}
    ctx = {**CONTEXT, **(context or {})}
    for x in q.questions:
        if x.kind == "context":
            assert x.role is not None
            answers[x.id] = ctx[x.role]
        else:
            answers[x.id] = rule(x)
    answers.update(overrides or {})
    return answers


def middling(q: Questionnaire) -> dict[str, str]:
    return build(q, middle)


def up_to_phase(
    q: Questionnaire, phase: int, tiers: tuple[str, ...] = ()
) -> dict[str, str]:
    """Meets the criteria of phases 1..phase and of the given tiers, nothing else."""

    def rule(x: Question) -> str:
        if x.phase is not None:
            return best(x) if x.phase <= phase else worst(x)
        if x.tier is not None:
            return best(x) if x.tier in tiers else worst(x)
        return middle(x)

    return build(q, rule)
