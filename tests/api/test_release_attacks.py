"""The four attacks of issue 15 against the public API on the SQLite store, one test each:
an attacker who can only send requests (and submit or erase assessments) tries to learn
about one organisation. Each test first shows, on the exact aggregates the old read path
answered from (``read_grid``: what the routes served before releases, under the old rule
``tests/naive_privacy.release``), that the attack recovers the organisation, then that the
API, answering from releases only, gives nothing below k. Plus: an erasure flows through,
the next release after k changes excludes the erased organisation."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.aggregation import CellKey, Grid
from chalicelib.cohorts import ALL, Cohort
from chalicelib.partners import PartnerService
from tests import naive_privacy, orgs

JSON = {"Content-Type": "application/json"}
K = 5
REAL = Grid("real", "smm", "2.0.0")
BASE = "/v1/benchmarks/smm/2.0.0?source=real"


def submit(client: Any, answers: dict[str, str]) -> dict[str, Any]:
    r = client.http.post(
        "/v1/assessments", body=json.dumps({"answers": answers}), headers=JSON
    )
    assert r.status_code == 201, r.body
    body = r.json_body
    assert body["benchmark"]["included"], body["benchmark"]
    return body


def org(q: Any, i: int, **ctx: str) -> dict[str, str]:
    """A plausible organisation with its own scores (phases cycle) in one cohort."""
    return orgs.up_to_phase(q, 1 + i % 7) | ctx


def crowd(client: Any, q: Any, n: int, **ctx: str) -> list[dict[str, Any]]:
    return [submit(client, org(q, i, **ctx)) for i in range(n)]


def get(client: Any, query: str = "", headers: Any = None) -> dict[str, Any]:
    r = client.http.get(BASE + query, headers=headers or {})
    assert r.status_code == 200, r.body
    body: dict[str, Any] = r.json_body
    return body


def own_step(body: dict[str, Any]) -> dict[str, Any]:
    """The requested cohort's own status (the first fallback step)."""
    step: dict[str, Any] = body["fallback"][0]
    return step


def exact(service: Any, cohort: Cohort, population: str = "users") -> Any:
    return service.store.read_grid(REAL).get(CellKey(population, cohort))


def counts(service: Any, population: str = "users") -> dict[Cohort, int]:
    return {
        key.cohort: s.count
        for key, s in service.store.read_grid(REAL).items()
        if key.population == population
    }


def diff(a: list[int], *bs: list[int]) -> dict[int, int]:
    out = list(a)
    for b in bs:
        out = [x - y for x, y in zip(out, b, strict=True)]
    return {v: c for v, c in enumerate(out) if c}


# --- (a) sibling differencing across separate requests --------------------------------------
def sibling_population(client: Any, q: Any) -> dict[str, Any]:
    """C/dach: 6 of 1-9, 6 of 10-49, one 50-249 (the target); crowds elsewhere keep every
    cohort of C/dach at least k away from each of its roll-ups (the old rule releases all)."""
    dach = {"industry": "C", "country": "DE"}
    crowd(client, q, 6, size="1-9", **dach)
    crowd(client, q, 6, size="10-49", **dach)
    target = submit(client, org(q, 3, size="50-249", **dach))
    for size in ("1-9", "10-49", "50-249"):
        crowd(client, q, 5, industry="J", size=size, country="DE")
        crowd(client, q, 5, industry="C", size=size, country="FR")
    return target


def test_attack_a_sibling_differencing(client, questionnaire, service, publish) -> None:  # type: ignore[no-untyped-def]
    target = sibling_population(client, questionnaire)
    x, x1, x2 = (
        Cohort("C", ALL, "dach"),
        Cohort("C", "1-9", "dach"),
        Cohort("C", "10-49", "dach"),
    )
    # the old path: all three released, and X - X/1-9 - X/10-49 is the target exactly
    n = counts(service)
    assert all(naive_privacy.release(c, n, K).status == "released" for c in (x, x1, x2))
    left = diff(
        exact(service, x).bins["overall"],
        exact(service, x1).bins["overall"],
        exact(service, x2).bins["overall"],
    )
    assert left == {target["result"]["overall"]: 1}

    publish()
    answers = [
        get(client, "&industry=C&region=dach"),
        get(client, "&industry=C&size=1-9&region=dach"),
        get(client, "&industry=C&size=10-49&region=dach"),
    ]
    shown = [own_step(b)["status"] == "released" for b in answers]
    assert not all(shown), "X and both siblings released: X minus them is one org"
    assert any(own_step(b)["status"] == "suppressed_complement" for b in answers)
    # the single organisation's own cohort is never released
    alone = get(client, "&industry=C&size=50-249&region=dach")
    assert own_step(alone)["status"] == "below_threshold"
    for b in answers:  # exact counts never leave the API
        assert all(s["n"] is None or "-" in s["n"] for s in b["fallback"])


# --- (b) metric-level differencing through "don't know" --------------------------------------
def dont_know_dimension(q: Any) -> tuple[str, dict[str, str]]:
    """A dimension and the answers that leave it unscored ("don't know" to its questions)
    while the assessment still counts."""
    d = min(
        q.dimensions,
        key=lambda d: sum(
            any(w.id == d.id for w in x.dimensions) for x in q.scored_questions
        ),
    )
    return f"dim_{d.id}", {
        x.id: orgs.dont_know(x)
        for x in q.scored_questions
        if any(w.id == d.id for w in x.dimensions)
    }


def test_attack_b_metric_differencing(client, questionnaire, service, publish) -> None:  # type: ignore[no-untyped-def]
    """P = C/*/dach holds 10: the 5 of C/10-49/dach (the child) and 5 of 1-9, of which 4
    answered the dimension "don't know". The counts differ by 5 (the old rule releases
    both), but the dimension's n differs by one: P minus the child is the target's score."""
    metric, unknown = dont_know_dimension(questionnaire)
    dach = {"industry": "C", "country": "DE"}
    crowd(client, questionnaire, 5, size="10-49", **dach)
    for i in range(4):
        unsure = submit(client, org(questionnaire, i, size="1-9", **dach) | unknown)
        assert metric not in service.store.get_assessment(unsure["id"]).metrics
    target = submit(client, org(questionnaire, 5, size="1-9", **dach))
    assert metric in service.store.get_assessment(target["id"]).metrics
    for size in ("1-9", "10-49"):
        crowd(client, questionnaire, 5, industry="J", size=size, country="DE")
        crowd(client, questionnaire, 5, industry="C", size=size, country="FR")
    p, child = Cohort("C", ALL, "dach"), Cohort("C", "10-49", "dach")
    n = counts(service)
    assert naive_privacy.release(p, n, K).status == "released"
    assert naive_privacy.release(child, n, K).status == "released"
    left = diff(exact(service, p).bins[metric], exact(service, child).bins[metric])
    assert sum(left.values()) == 1  # the old path: one organisation's score

    publish()
    parent_body = get(client, "&industry=C&region=dach")
    child_body = get(client, "&industry=C&size=10-49&region=dach")
    assert (
        own_step(parent_body)["status"] == own_step(child_body)["status"] == "released"
    )

    def status(body: dict[str, Any]) -> str:
        m = next(m for m in body["metrics"] if m["metric"] == metric)
        return str(m["status"])

    both = (status(parent_body), status(child_body))
    assert "released" in both  # not everything is suppressed
    assert both != ("released", "released"), both  # never both: one differs by one
    assert set(both) <= {"released", "suppressed_complement", "below_threshold"}


# --- (c) time differencing: read, submit or erase one org, publish, read again --------------
def strip_release(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "release"}


def test_attack_c_time_differencing_and_erasure(  # type: ignore[no-untyped-def]
    client, questionnaire, service, publish, clock
) -> None:
    from datetime import timedelta

    q = questionnaire
    crowd(client, q, 8, industry="J", size="10-49", country="AT")
    crowd(client, q, 6, industry="C", size="10-49", country="AT")
    publish()
    queries = ["", "&industry=J", "&industry=J&size=10-49&region=dach"]
    before = [get(client, s) for s in queries]
    assert get(client, "&industry=J")["status"] == "released"
    old_bins = exact(service, Cohort("J", ALL, ALL)).bins["overall"]

    # one organisation joins J; the next release is published
    target = submit(client, org(q, 4, industry="J", size="10-49", country="AT"))
    clock.now += timedelta(hours=1)
    publish()
    after = [get(client, s) for s in queries]
    # the old path: the live aggregates change by exactly the target's score
    new_bins = exact(service, Cohort("J", ALL, ALL)).bins["overall"]
    assert diff(new_bins, old_bins) == {target["result"]["overall"]: 1}
    # the releases: every figure unchanged (fewer than k changes since its publication)
    assert [strip_release(b) for b in after] == [strip_release(b) for b in before]

    # the target erases itself; the next release withholds what contained it
    r = client.http.delete(
        f"/v1/assessments/{target['id']}", headers={"X-Result-Token": target["token"]}
    )
    assert r.status_code == 204
    clock.now += timedelta(hours=1)
    publish()
    j = get(client, "&industry=J&size=10-49&region=dach")
    assert own_step(j)["status"] == "withheld_pending_changes", own_step(j)
    assert all(
        s["status"] != "released" or s["key"] not in ("J#10-49#dach", "J#*#*")
        for s in j["fallback"]
    )

    # k more changes: recomputed without the erased organisation
    newcomers = crowd(client, q, K, industry="J", size="10-49", country="AT")
    clock.now += timedelta(hours=1)
    publish()
    j = get(client, "&industry=J&size=10-49&region=dach")
    assert own_step(j)["status"] == "released"
    assert j["cohort"]["n"] == "10-19"  # 8 + 5: the erased organisation is not counted
    state = exact(service, Cohort("J", "10-49", "dach"))
    assert state.count == 8 + len(newcomers)
    assert j["release"]["published_at"] == clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- (d) the consultant statistics endpoint cannot rebuild the exact histogram --------------
def test_attack_d_statistics_ranks_are_whole_and_only_from_released_shares(  # type: ignore[no-untyped-def]
    client, questionnaire, service, publish
) -> None:
    from tests.api.test_benchmarks import whole_rank

    crowd(client, questionnaire, 12, industry="C", size="50-249", country="DE")
    publish()
    key, _ = PartnerService(service.store).create("Consultancy", ["benchmarks"])
    h = {"Authorization": f"Bearer {key}"}
    path = "/v1/partner/benchmarks/smm/2.0.0/statistics?source=real&industry=C"
    ranks: dict[int, int] = {}
    shares: dict[str, int] = {}
    for value in range(101):
        r = client.http.get(f"{path}&value={value}", headers=h)
        assert r.status_code == 200, r.body
        overall = next(m for m in r.json_body["metrics"] if m["metric"] == "overall")
        assert r.json_body["release"] is not None
        ci = overall["percentile_rank_ci"]
        assert isinstance(ci["rank"], int) and isinstance(ci["low"], int)
        ranks[value] = ci["rank"]
        shares = overall["histogram_percent"]
        # each rank is a function of the released shares alone
        assert ci["rank"] == whole_rank(shares, value)
    # what two-decimal ranks gave: the exact histogram, from differences of ranks
    exact_bins = exact(service, Cohort("C", ALL, ALL)).bins["overall"]
    n = sum(exact_bins)
    rebuilt = {
        v: round((ranks.get(v + 1, 100) - ranks[v]) * n / 100)
        for v in range(100)
        if ranks.get(v + 1, 100) != ranks[v]
    }
    assert rebuilt != {v: c for v, c in enumerate(exact_bins) if c}
    # a band's share is spread evenly: no value inside a band stands out
    for label, share in shares.items():
        lo, hi = (int(x) for x in label.split("-"))
        steps = [ranks[v + 1] - ranks[v] for v in range(lo, min(hi, 99))]
        assert max(steps, default=0) - min(steps, default=0) <= 1, (label, share)
