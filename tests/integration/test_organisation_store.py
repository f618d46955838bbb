"""The OrganisationStore contract (issue 18) on both adapters: SQLite and DynamoDB Local."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from chalicelib.organisations import Organisation, Respondent, RespondentAnswers, Round

ADAPTERS = ["sqlite", "dynamodb"]


@pytest.fixture(params=ADAPTERS)
def store(request, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        from chalicelib.storage.sqlite import SqliteStore

        s = SqliteStore(str(tmp_path / "orgs.sqlite3"))
        yield s
        s.close()
    else:
        yield request.getfixturevalue("dynamo_store")


def org(n: int = 1, **kw) -> Organisation:  # type: ignore[no-untyped-def]
    base = Organisation(
        id=f"{n:032x}",
        name=f"Org {n}",
        owner_token_hash="ab" * 32,
        created_at="2026-12-01T10:00:00+00:00",
        questionnaire_id="smm",
        version="2.0.0",
        language="en",
        profile={"industry": "C", "size": "50-249", "country": "DE", "consent": "yes"},
        partner_id=None,
    )
    return replace(base, **kw)


def respondent(
    o: Organisation, n: int, created: str = "2026-12-01T10:00:0"
) -> Respondent:
    return Respondent(
        id=f"{n:032x}",
        organisation_id=o.id,
        role=f"role {n}",
        sections=("listening",) if n % 2 else (),
        token_hash="cd" * 32,
        created_at=f"{created}{n % 10}+00:00",
    )


def answers(
    o: Organisation, r: Respondent, rnd: int = 1, status: str = "draft"
) -> RespondentAnswers:
    return RespondentAnswers(
        o.id,
        r.id,
        rnd,
        {"monitoring_tools": "yes"},
        status,
        "2026-12-01T11:00:00+00:00",
    )  # type: ignore[arg-type]


def closed(o: Organisation, number: int, aid: str = "a" * 32) -> Round:
    return Round(
        organisation_id=o.id,
        number=number,
        closed_at="2026-12-02T10:00:00+00:00",
        questionnaire_id="smm",
        version="2.0.0",
        assessment_id=aid,
        respondents=3,
        phase=3,
        pyramid_level="foundation",
        overall=55,
        dimensions={"crisis": 40, "roi": None},
        included=True,
    )


def test_organisations_are_created_once_and_read_back(store) -> None:  # type: ignore[no-untyped-def]
    o = org(partner_id="p_0123456789ab")
    assert store.get_organisation(o.id) is None
    assert store.create_organisation(o) is True
    assert store.create_organisation(replace(o, name="other")) is False
    assert store.get_organisation(o.id) == o


def test_a_partner_lists_the_organisations_it_created(store) -> None:  # type: ignore[no-untyped-def]
    pid = "p_0123456789ab"
    mine = [
        org(n, partner_id=pid, created_at=f"2026-12-0{n}T10:00:00+00:00")
        for n in (2, 1)
    ]
    for o in (*mine, org(3), org(4, partner_id="p_ffffffffffff")):
        store.create_organisation(o)
    assert [o.id for o in store.list_partner_organisations(pid)] == [
        f"{1:032x}",
        f"{2:032x}",
    ]
    store.close_round(closed(mine[0], 1))
    assert store.list_partner_organisations(pid)[1].current_round == 2
    store.delete_organisation(mine[1].id)
    assert [o.id for o in store.list_partner_organisations(pid)] == [f"{2:032x}"]
    assert store.list_partner_organisations("p_000000000000") == []


def test_respondents_belong_to_an_existing_organisation(store) -> None:  # type: ignore[no-untyped-def]
    o = org()
    r = respondent(o, 1)
    assert store.add_respondent(r) is False  # no such organisation
    store.create_organisation(o)
    assert store.add_respondent(r) is True
    assert store.add_respondent(r) is False  # its id exists
    store.add_respondent(respondent(o, 2))
    assert store.get_respondent(o.id, r.id) == r
    assert store.get_respondent(org(2).id, r.id) is None  # another organisation's key
    assert [x.id for x in store.list_respondents(o.id)] == [f"{1:032x}", f"{2:032x}"]


def test_answers_are_kept_per_round_only_while_it_is_open(store) -> None:  # type: ignore[no-untyped-def]
    o = org()
    store.create_organisation(o)
    r1, r2 = respondent(o, 1), respondent(o, 2)
    store.add_respondent(r1)
    store.add_respondent(r2)
    assert store.put_respondent_answers(answers(o, r1)) is True
    final = answers(o, r1, status="submitted")
    assert store.put_respondent_answers(final) is True  # replaces the draft
    assert store.put_respondent_answers(answers(o, r2)) is True
    assert store.get_respondent_answers(o.id, r1.id, 1) == final
    assert {a.respondent_id for a in store.list_respondent_answers(o.id, 1)} == {
        r1.id,
        r2.id,
    }
    assert store.put_respondent_answers(answers(o, r1, rnd=2)) is False  # not open
    assert store.put_respondent_answers(answers(org(9), r1)) is False  # no organisation
    assert store.close_round(closed(o, 1)) is True
    assert store.get_organisation(o.id).current_round == 2
    assert store.put_respondent_answers(answers(o, r1, rnd=1)) is False  # closed
    assert store.get_respondent_answers(o.id, r1.id, 1) == final  # history kept
    assert store.put_respondent_answers(answers(o, r1, rnd=2)) is True
    assert store.list_respondent_answers(o.id, 2)[0].round == 2


def test_a_round_closes_once_even_concurrently(store) -> None:  # type: ignore[no-untyped-def]
    o = org()
    store.create_organisation(o)
    results: list[bool] = []
    lock = threading.Lock()

    def close() -> None:
        ok = store.close_round(closed(o, 1))
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=close) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert store.close_round(closed(o, 3)) is False  # round 3 is not open
    assert store.close_round(closed(o, 2, "b" * 32)) is True
    assert [(r.number, r.assessment_id) for r in store.list_rounds(o.id)] == [
        (1, "a" * 32),
        (2, "b" * 32),
    ]
    assert store.list_rounds(o.id)[0] == closed(o, 1)
    assert store.get_organisation(o.id).current_round == 3


def test_erasing_an_organisation_removes_all_of_it_and_nothing_else(store) -> None:  # type: ignore[no-untyped-def]
    o, other = org(1), org(2)
    for x in (o, other):
        store.create_organisation(x)
        for n in range(1, 16):  # more than one BatchWriteItem of 25
            r = respondent(x, n)
            store.add_respondent(r)
            store.put_respondent_answers(answers(x, r))
        store.close_round(closed(x, 1))
    assert store.delete_organisation(o.id) == 1 + 15 + 15 + 1
    assert store.get_organisation(o.id) is None
    assert store.list_respondents(o.id) == []
    assert store.list_respondent_answers(o.id, 1) == []
    assert store.list_rounds(o.id) == []
    assert store.get_respondent(o.id, f"{1:032x}") is None
    assert store.delete_organisation(o.id) == 0
    assert len(store.list_respondents(other.id)) == 15  # the other is untouched
    assert len(store.list_respondent_answers(other.id, 1)) == 15
    assert store.get_organisation(other.id).current_round == 2


def test_a_whole_round_on_dynamodb_counts_once_and_erases(
    dynamo_store, catalog, settings, clock
) -> None:  # type: ignore[no-untyped-def]
    """The service on DynamoDB Local: three respondents, one round closed twice (the second
    close replays the same assessment), the organisation erased with its contribution."""
    from chalicelib.container import Container
    from chalicelib.organisation_models import (
        OrganisationIn,
        RespondentAnswersIn,
        RespondentIn,
    )
    from tests import orgs

    services = Container(
        store=dynamo_store, catalog=catalog, settings=settings, clock=clock
    )
    svc = services.organisations
    q = catalog.get("smm")
    view = svc.create(OrganisationIn(name="Acme", profile=dict(orgs.CONTEXT)))
    o = view.organisation
    for role, rule in (("a", orgs.best), ("b", orgs.middle), ("c", orgs.worst)):
        r, _ = svc.invite(o, RespondentIn(role=role))
        answers = {x.id: rule(x) for x in q.scored_questions}
        svc.save_answers(o, r, RespondentAnswersIn(answers=answers, submit=True))
    result = svc.result(o)
    assert result.submitted == 3 and not result.uncovered
    done = svc.close_round(o)
    rec = dynamo_store.get_assessment(done.round.assessment_id)
    assert rec is not None
    assert rec.answers == dict(
        sorted(
            {
                **orgs.CONTEXT,
                **{x.id: orgs.middle(x) for x in q.scored_questions},
            }.items()
        )
    )
    again = svc.close_round(
        o
    )  # the stale view of round 1: the same assessment replayed
    assert again.round.assessment_id == done.round.assessment_id
    assert [r.number for r in svc.rounds(o)] == [1]
    svc.erase(o)
    assert dynamo_store.get_assessment(done.round.assessment_id) is None
    assert dynamo_store.get_organisation(o.id) is None
    assert dynamo_store.list_respondents(o.id) == []


def test_an_erasure_that_stops_part_way_can_be_repeated(dynamo_store) -> None:  # type: ignore[no-untyped-def]
    """DynamoDB: the organisation item is closed to writes first and deleted last, so a
    failure between the batches leaves it readable (the owner repeats the erasure) and no
    respondent or answer can be added behind the erasure."""
    o = org()
    dynamo_store.create_organisation(o)
    r = respondent(o, 1)
    dynamo_store.add_respondent(r)
    real = dynamo_store._batch_write

    def fail(requests):  # type: ignore[no-untyped-def]
        raise RuntimeError("lost")

    dynamo_store._batch_write = fail
    try:
        with pytest.raises(RuntimeError):
            dynamo_store.delete_organisation(o.id)
    finally:
        dynamo_store._batch_write = real
    assert dynamo_store.get_organisation(o.id) is not None  # still there to erase again
    assert dynamo_store.add_respondent(respondent(o, 2)) is False  # closed to writes
    assert dynamo_store.put_respondent_answers(answers(o, r)) is False
    assert dynamo_store.close_round(closed(o, 1)) is False
    assert dynamo_store.delete_organisation(o.id) == 2
    assert dynamo_store.get_organisation(o.id) is None
    assert dynamo_store.list_respondents(o.id) == []


def test_a_target_is_stored_replaced_and_erased_with_its_organisation(store) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.roadmap import Assignment, Target

    o, other = org(41), org(42)
    assert store.create_organisation(o) and store.create_organisation(other)
    assert store.get_target(o.id) is None
    first = Target(phase=4, tier="formation", dimensions={"crisis": 70})
    assert store.put_target(o.id, first)
    assert store.get_target(o.id) == first
    second = Target(
        tier="safety",
        start_quarter="2027-Q2",
        pace=2,
        assignments={"goals_alignment": Assignment("Leitung", "2027-Q4")},
    )
    assert store.put_target(o.id, second)  # replaces the first
    assert store.get_target(o.id) == second
    assert store.put_target(other.id, first)
    assert store.delete_organisation(o.id) >= 2
    assert store.get_target(o.id) is None
    assert not store.put_target(o.id, first)  # erased: no target without organisation
    assert store.get_target(o.id) is None
    assert store.get_target(other.id) == first  # another organisation's stays
    assert not store.put_target(org(43).id, first)  # never created
