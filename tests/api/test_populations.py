"""Benchmark populations over the public API: organisations that use social media (default)
or all organisations including non-users; labelled in every response, 422 for other values,
counted and erased exactly, protected against differencing between the two."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import pytest

from chalicelib.container import Container
from chalicelib.records import Contribution
from tests import orgs
from tests.cells import cell

JSON = {"Content-Type": "application/json"}
USERS_EN = "organisations that use social media"


def submit(client, answers, **extra):  # type: ignore[no-untyped-def]
    r = client.http.post(
        "/v1/assessments", body=json.dumps({"answers": answers, **extra}), headers=JSON
    )
    assert r.status_code == 201, r.body
    return r.json_body


def low_user(q):  # type: ignore[no-untyped-def]
    """Uses social media ad hoc, worst option everywhere else: an overall score near 2."""
    return orgs.build(q, orgs.worst, {q.population.question: "ad_hoc"})


def metric(body, name):  # type: ignore[no-untyped-def]
    return next(m for m in body["metrics"] if m["metric"] == name)


@pytest.fixture
def seeded(service, questionnaire):  # type: ignore[no-untyped-def]
    Container.of(service).benchmarks.seed_reference(questionnaire, 2400, 20161123)
    return service


def test_users_by_default_all_on_request(client, seeded, questionnaire) -> None:  # type: ignore[no-untyped-def]
    mine = submit(client, low_user(questionnaire))
    h = {"X-Result-Token": mine["token"]}
    users = client.http.get(
        f"/v1/assessments/{mine['id']}/comparison?source=reference", headers=h
    ).json_body
    assert users["population"] == {"id": "users", "label": USERS_EN}
    overall = metric(users, "overall")
    assert overall["value"] <= 5
    assert overall["percentile_rank"] < 5  # was the 52nd percentile among everyone
    # (the median pyramid level may be 0: most users lack a named need of the foundation)
    for name in ("overall", "phase", "tier_foundation", "dim_strategy"):
        assert metric(users, name)["median"] > 0, name
    everyone = client.http.get(
        f"/v1/assessments/{mine['id']}/comparison?source=reference&population=all&lang=de",
        headers=h,
    ).json_body
    assert everyone["population"]["id"] == "all"
    assert "auch ohne" in everyone["population"]["label"]

    def floor(band: str) -> int:
        return int(band.split("-")[0].rstrip("+"))

    assert floor(everyone["cohort"]["n"]) > floor(users["cohort"]["n"])  # n bands
    assert metric(everyone, "overall")["histogram_percent"]["0-9"] > 50  # 57% non-users
    assert metric(everyone, "overall")["median"] <= 9  # inside the lowest band
    # ranked within the lowest band (uniform there: the release has no finer shares)
    assert metric(everyone, "overall")["percentile_rank"] > overall["percentile_rank"]
    # so does the report
    r = client.http.get(
        f"/v1/assessments/{mine['id']}/report?format=csv&source=reference&population=all",
        headers=h,
    )
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.body.decode("utf-8-sig"))))
    assert rows and {row["population"] for row in rows} == {"all"}
    # the cohort statistics say the same
    stats = client.http.get(
        f"/v1/benchmarks/smm/{questionnaire.version}?source=reference"
    ).json_body
    assert stats["population"]["id"] == "users" and stats["cohort"]["n"] == "1000-2499"
    stats = client.http.get(
        f"/v1/benchmarks/smm/{questionnaire.version}?source=reference&population=all"
    ).json_body
    assert stats["population"]["id"] == "all" and stats["cohort"]["n"] == "1000-2499"


def test_bad_population_is_a_422_naming_the_parameter(
    client, service, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.partners import PartnerService

    mine = submit(client, low_user(questionnaire))
    h = {"X-Result-Token": mine["token"]}
    key, _ = PartnerService(service.store).create(
        "Consultancy", ["read", "benchmarks", "export", "submit"]
    )
    ph = {"Authorization": f"Bearer {key}"}
    r = client.http.post(
        "/v1/partner/assessments",
        body=json.dumps({"answers": low_user(questionnaire)}),
        headers={**JSON, **ph},
    )
    assert r.status_code == 201, r.body
    pid = r.json_body["id"]
    routes = [
        ("/v1/benchmarks/smm/1.0.0", {}),
        (f"/v1/assessments/{mine['id']}/comparison", h),
        (f"/v1/assessments/{mine['id']}/progress", h),
        (f"/v1/assessments/{mine['id']}/report?format=csv", h),
        ("/v1/partner/benchmarks/smm/1.0.0", ph),
        ("/v1/partner/benchmarks/smm/1.0.0/statistics", ph),
        ("/v1/partner/benchmarks/smm/1.0.0/cohort-comparison", ph),
        (f"/v1/partner/assessments/{pid}/comparison", ph),
        (f"/v1/partner/assessments/{pid}/progress", ph),
    ]
    for path, headers in routes:
        sep = "&" if "?" in path else "?"
        r = client.http.get(f"{path}{sep}population=nonusers", headers=headers)
        assert r.status_code == 422, (path, r.body)
        assert r.json_body["errors"][0]["parameter"] == "population", path
    r = client.http.post(
        "/v1/partner/exports",
        body=json.dumps({"kind": "cohorts", "format": "csv", "population": "everyone"}),
        headers={**JSON, **ph},
    )
    assert r.status_code == 422
    assert r.json_body["errors"][0]["pointer"] == "/population"


def test_non_users_and_dont_know_count_in_all_only(
    client, service, questionnaire, publish
) -> None:  # type: ignore[no-untyped-def]
    pq = questionnaire.population.question
    dont_know = orgs.dont_know(questionnaire.question_index[pq])
    ctx = {"industry": "J", "size": "10-49", "country": "AT"}
    for presence in ("ad_hoc", "structured") * 3:  # 6 users
        submit(client, orgs.build(questionnaire, orgs.middle, {pq: presence}, ctx))
    for presence in ("none", "forbidden", dont_know) * 2:  # 6 others
        submit(client, orgs.build(questionnaire, orgs.middle, {pq: presence}, ctx))
    publish()
    base = f"/v1/benchmarks/smm/{questionnaire.version}?source=real&industry=J&size=10-49&region=dach"
    users = client.http.get(base).json_body
    everyone = client.http.get(base + "&population=all").json_body
    assert users["cohort"]["key"] == everyone["cohort"]["key"] == "J#10-49#dach"
    assert (users["cohort"]["n"], everyone["cohort"]["n"]) == ("5-9", "10-19")  # 6, 12


def test_users_cohort_that_would_reveal_few_non_users_is_suppressed(
    client, questionnaire, publish
) -> None:  # type: ignore[no-untyped-def]
    """6 users and 2 non-users in one cohort: users (6) and all (8) must not both be
    released, or the 2 non-users' figures follow by subtraction."""
    pq = questionnaire.population.question
    ctx = {"industry": "J", "size": "10-49", "country": "AT"}
    for _ in range(6):
        submit(client, orgs.build(questionnaire, orgs.middle, {pq: "ad_hoc"}, ctx))
    for _ in range(2):
        submit(client, orgs.build(questionnaire, orgs.middle, {pq: "none"}, ctx))
    publish()
    base = f"/v1/benchmarks/smm/{questionnaire.version}?source=real&industry=J&size=10-49&region=dach"
    everyone = client.http.get(base + "&population=all").json_body
    users = client.http.get(base).json_body
    # at most one of the two is released: never both (8 - 6 = 2 non-users)
    shown = [
        b
        for b in (everyone, users)
        if b["status"] == "released" and b["cohort"]["key"] == "J#10-49#dach"
    ]
    assert len(shown) <= 1
    suppressed = [
        b["fallback"][0]
        for b in (everyone, users)
        if b["fallback"][0]["status"] != "released"
    ]
    assert suppressed and all(
        s["status"] == "suppressed_complement" and s["n"] is None for s in suppressed
    )
    assert "subtraction" in suppressed[0]["reason"]


def _global(store, q, population):  # type: ignore[no-untyped-def]
    """The global cell of one population (after folding what is pending)."""
    return cell(store, "real", q.id, q.version, "*#*#*", population)


def test_erasure_reverses_both_populations(client, service, questionnaire) -> None:  # type: ignore[no-untyped-def]
    store = service.store
    mine = submit(client, low_user(questionnaire))
    assert (
        _global(store, questionnaire, "all").count,
        _global(store, questionnaire, "users").count,
    ) == (1, 1)
    r = client.http.delete(
        f"/v1/assessments/{mine['id']}", headers={"X-Result-Token": mine["token"]}
    )
    assert r.status_code == 204
    for population in ("all", "users"):
        agg = _global(store, questionnaire, population)
        assert agg.count == 0 and not any(any(h) for h in agg.bins.values())


def test_record_stored_before_populations_is_erased_from_all_only(
    client, service, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    """A record of the old layout (no population verdict) was added to ``all`` only; its
    erasure must not subtract from ``users``."""
    from chalicelib.request_models import SubmissionIn

    store = service.store
    other = submit(client, low_user(questionnaire))  # one user counted in both
    body = SubmissionIn.model_validate({"answers": low_user(questionnaire)})
    token = "00000000000000000000000000000abc.secret"
    rec = service.build_record(
        questionnaire, body, token.split(".")[0], token, None, None
    )
    old = dataclasses.replace(rec, uses_social_media=None)
    assert service.contribution_for(old).populations == ("all",)  # type: ignore[union-attr]
    assert store.create_assessment(old, service.contribution_for(old))
    assert _global(store, questionnaire, "all").count == 2
    assert _global(store, questionnaire, "users").count == 1
    r = client.http.delete(
        f"/v1/assessments/{old.id}", headers={"X-Result-Token": token}
    )
    assert r.status_code == 204
    assert _global(store, questionnaire, "all").count == 1
    assert _global(store, questionnaire, "users").count == 1
    assert other["id"]


def test_reseeding_replaces_a_reference_of_the_old_layout(
    service, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    """A reference seeded before populations existed (all only) is replaced, not added to."""
    from chalicelib import reference

    b = Container.of(service).benchmarks
    population = list(reference.generate(questionnaire, 300, 7))
    cons = reference.contributions(questionnaire, population, 4)
    service.store.bulk_load(
        [], [dataclasses.replace(c, populations=("all",)) for c in cons]
    )
    assert (
        b.reference_size(questionnaire),
        b.reference_size(questionnaire, "users"),
    ) == (300, 0)
    assert b.seed_reference(questionnaire, 300, 7) == 300
    users = sum(s.user for s in population)
    assert b.reference_size(questionnaire) == 300
    assert b.reference_size(questionnaire, "users") == users > 0
    assert b.seed_reference(questionnaire, 300, 7) == 0  # present now
    assert b.seed_reference(questionnaire, 300, 7, replace=True) == 300
    assert b.reference_size(questionnaire) == 300
    assert b.reference_size(questionnaire, "users") == users


def test_progress_and_cohort_comparison_name_the_population(
    client, seeded, questionnaire
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.partners import PartnerService

    before = submit(client, low_user(questionnaire))
    after = submit(
        client, orgs.up_to_phase(questionnaire, 3), previous_token=before["token"]
    )
    body = client.http.get(
        f"/v1/assessments/{after['id']}/progress?source=reference&population=all",
        headers={"X-Result-Token": after["token"]},
    ).json_body
    assert body["status"] == "ok" and body["population"]["id"] == "all"
    key, _ = PartnerService(seeded.store).create("Consultancy", ["benchmarks"])
    cmp = client.http.get(
        f"/v1/partner/benchmarks/smm/{questionnaire.version}/cohort-comparison?source=reference"
        "&a_size=1-9&b_size=10-49",
        headers={"Authorization": f"Bearer {key}"},
    ).json_body
    assert cmp["population"] == {"id": "users", "label": USERS_EN}


def test_contribution_keys_per_population() -> None:
    c = Contribution("real", "smm", "1.0.0", ("C#1-9#dach", "*#*#*#s1"), {}, "2026-11")
    assert c.item_keys() == ("C#1-9#dach", "*#*#*#s1")
    c = dataclasses.replace(c, populations=("all", "users"))
    assert c.item_keys() == (
        "C#1-9#dach",
        "*#*#*#s1",
        "users:C#1-9#dach",
        "users:*#*#*#s1",
    )
