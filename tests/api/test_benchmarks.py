"""Benchmarks over the API: cohort statistics, comparison, fallback, privacy attacks,
reference labelling, progress, consultant statistics."""

from __future__ import annotations

import json
import re

import pytest

from tests import orgs
from tests.cells import drain
from tests.fresh_process import heavy_modules_after

JSON = {"Content-Type": "application/json"}


def submit(client, answers, **extra):  # type: ignore[no-untyped-def]
    r = client.http.post(
        "/v1/assessments", body=json.dumps({"answers": answers, **extra}), headers=JSON
    )
    assert r.status_code == 201, r.body
    return r.json_body


def variants(q, n, **ctx):  # type: ignore[no-untyped-def]
    """n distinct plausible organisations in one cohort (phases 1..7 cycling)."""
    return [
        orgs.up_to_phase(q, 1 + i % 7) | {k: v for k, v in ctx.items()}
        for i in range(n)
    ]


def whole_rank(shares: dict[str, int], value: int) -> int:
    """The whole-percent mid-rank of ``value`` in released shares (bands of ten, the top
    one 90-100), uniform within its band: the oracle of ``rank_against_release``."""
    below = 0.0
    for label, share in shares.items():
        lo, hi = (int(x) for x in label.split("-"))
        if value > hi:
            below += share
        elif lo <= value:
            below += share * (value - lo + 0.5) / (hi - lo + 1)
    return int(below + 0.5)


def test_below_threshold_then_released(client, questionnaire, publish) -> None:  # type: ignore[no-untyped-def]
    fresh = client.http.get("/v1/benchmarks/smm/2.0.0?source=real").json_body
    assert fresh["status"] == "no_release" and fresh["release"] is None
    assert {s["status"] for s in fresh["fallback"]} == {"no_release"}
    for a in variants(questionnaire, 4, industry="J", size="10-49", country="AT"):
        submit(client, a)
    publish()
    r = client.http.get(
        "/v1/benchmarks/smm/2.0.0?industry=J&size=10-49&region=dach&source=real"
    )
    body = r.json_body
    assert r.status_code == 200
    assert body["status"] == "below_threshold" and body["cohort"] is None
    assert body["metrics"] == []
    assert body["release"]["id"].startswith("r20261123T100000Z-")
    assert all(
        s["n"] is None for s in body["fallback"]
    )  # sizes below k are not disclosed
    empty = client.http.get("/v1/benchmarks/smm/2.0.0?industry=B&source=real").json_body
    assert empty["fallback"][0]["status"] == "no_data"  # industry B: nothing at all
    assert (
        empty["status"] == "below_threshold"
    )  # the roll-up has data, but fewer than k
    submit(
        client, variants(questionnaire, 5, industry="J", size="10-49", country="AT")[4]
    )
    unpublished = client.http.get(
        "/v1/benchmarks/smm/2.0.0?industry=J&size=10-49&region=dach&source=real"
    ).json_body
    assert unpublished == body  # nothing changes before the next release
    publish()
    body = client.http.get(
        "/v1/benchmarks/smm/2.0.0?industry=J&size=10-49&region=dach&source=real"
    ).json_body
    assert body["status"] == "released"
    assert body["cohort"]["key"] == "J#10-49#dach" and body["cohort"]["n"] == "5-9"
    overall = next(m for m in body["metrics"] if m["metric"] == "overall")
    assert (
        overall["n"] == "5-9" and overall["p10"] <= overall["median"] <= overall["p90"]
    )
    assert sum(overall["histogram_percent"].values()) == 100
    assert all(isinstance(v, int) for v in overall["histogram_percent"].values())
    assert isinstance(overall["mean"], int)
    assert body["months"] == {"from": "2026-11", "to": "2026-11"}
    assert body["source_label"] == "real submissions" and body["synthetic"] is False
    assert body["release"] == {
        "id": body["release"]["id"],
        "published_at": "2026-11-23T10:00:00Z",
        "next_release_at": "2026-11-23T11:00:00Z",
        "age_seconds": 0,
    }


def test_differencing_attack_over_the_api(client, questionnaire, publish) -> None:  # type: ignore[no-untyped-def]
    """7 in J/10-49/dach, 2 more in J/10-49/other regions: the region cohort (7) and its
    parent (9) must not both be released, or the 2 could be computed by subtraction."""
    for a in variants(questionnaire, 7, industry="J", size="10-49", country="AT"):
        submit(client, a)
    for a in variants(questionnaire, 2, industry="J", size="10-49", country="FR"):
        submit(client, a)
    publish()
    body = client.http.get(
        "/v1/benchmarks/smm/2.0.0?industry=J&size=10-49&region=dach&source=real"
    ).json_body
    first = body["fallback"][0]
    assert first["status"] == "suppressed_complement" and first["n"] is None
    released = [s for s in body["fallback"] if s["status"] == "released"]
    assert released and released[0]["key"] == "J#10-49#*" and released[0]["n"] == "5-9"
    # a direct request for the parent gives the parent; the child is never released alongside
    parent = client.http.get(
        "/v1/benchmarks/smm/2.0.0?industry=J&size=10-49&source=real"
    )
    assert parent.json_body["cohort"]["n"] == "5-9"


def test_comparison_ranks_against_the_release(client, questionnaire, publish) -> None:  # type: ignore[no-untyped-def]
    peers = variants(questionnaire, 12, industry="C", size="50-249", country="DE")
    created = [submit(client, a) for a in peers]
    mine = created[3]
    publish()
    r = client.http.get(
        f"/v1/assessments/{mine['id']}/comparison?source=real",
        headers={"X-Result-Token": mine["token"]},
    )
    assert r.status_code == 200
    body = r.json_body
    assert body["cohort"]["key"] == "C#50-249#dach" and body["cohort"]["n"] == "10-19"
    assert body["release"]["published_at"] == "2026-11-23T10:00:00Z"
    overall = next(m for m in body["metrics"] if m["metric"] == "overall")
    value = mine["result"]["overall"]
    assert overall["percentile_rank"] == whole_rank(overall["histogram_percent"], value)
    assert isinstance(overall["percentile_rank"], int)
    assert overall["distance_to_median"] == value - overall["median"]
    assert overall["distance_to_top_quartile"] == value - overall["p75"]
    assert sum(body["peer_phases"].values()) == 100  # whole-percent shares
    assert set(body["peer_pyramid"]) == {
        "none",
        "foundation",
        "safety",
        "formation",
        "enablement",
        "enlightenment",
    }
    assert sum(body["peer_pyramid"].values()) == 100
    # without the token: nothing
    assert (
        client.http.get(f"/v1/assessments/{mine['id']}/comparison").status_code == 401
    )


def test_auto_uses_reference_and_labels_it(
    client, service, questionnaire, publish
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.container import Container

    Container.of(service).benchmarks.seed_reference(questionnaire, 600, 1)
    mine = submit(client, orgs.up_to_phase(questionnaire, 3))
    body = client.http.get(
        f"/v1/assessments/{mine['id']}/comparison?lang=de",
        headers={"X-Result-Token": mine["token"]},
    ).json_body
    assert body["source"] == "reference" and body["synthetic"] is True
    assert body["source_label"] == "Referenz (synthetisch)"
    assert "reference" in body["source_reason"]
    assert body["status"] == "released"
    assert body["release"] is not None  # seeding published a reference release
    assert all(m["label"] for m in body["metrics"])
    # seeding twice adds nothing
    assert Container.of(service).benchmarks.seed_reference(questionnaire, 600, 1) == 0
    # the real source is untouched by the reference
    real = client.http.get("/v1/benchmarks/smm/2.0.0?source=real").json_body
    assert real["status"] == "no_release"
    publish()
    real = client.http.get("/v1/benchmarks/smm/2.0.0?source=real").json_body
    assert real["status"] == "below_threshold"


def test_progress_between_linked_assessments(client, questionnaire, publish) -> None:  # type: ignore[no-untyped-def]
    for a in variants(questionnaire, 10, industry="C", size="50-249", country="DE"):
        submit(client, a)
    before = submit(client, orgs.up_to_phase(questionnaire, 2))
    after = submit(
        client,
        orgs.up_to_phase(questionnaire, 5, tiers=("foundation",)),
        previous_token=before["token"],
    )
    assert after["previous_id"] == before["id"]
    publish()
    body = client.http.get(
        f"/v1/assessments/{after['id']}/progress?source=real",
        headers={"X-Result-Token": after["token"]},
    ).json_body
    assert body["status"] == "ok" and body["previous_id"] == before["id"]
    assert body["release"]["published_at"] == "2026-11-23T10:00:00Z"
    phase = next(c for c in body["changes"] if c["metric"] == "phase")
    assert (phase["before"], phase["after"], phase["delta"]) == (2, 5, 3)
    overall = next(c for c in body["changes"] if c["metric"] == "overall")
    assert isinstance(overall["percentile_after"], int)
    assert overall["percentile_after"] >= overall["percentile_before"]
    first = client.http.get(
        f"/v1/assessments/{before['id']}/progress",
        headers={"X-Result-Token": before["token"]},
    ).json_body
    assert first["status"] == "no_previous"


def test_consultant_statistics(client, service, questionnaire) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.container import Container
    from chalicelib.partners import PartnerService

    Container.of(service).benchmarks.seed_reference(questionnaire, 800, 3)
    key, _ = PartnerService(service.store).create("Consultancy", ["benchmarks"])
    h = {"Authorization": f"Bearer {key}"}
    r = client.http.get(
        "/v1/partner/benchmarks/smm/2.0.0/statistics?source=reference&value=40",
        headers=h,
    )
    assert r.status_code == 200
    overall = next(m for m in r.json_body["metrics"] if m["metric"] == "overall")
    ci = overall["median_ci"]
    assert ci["low"] <= overall["median"] <= ci["high"]
    assert ci["low"] % 10 == 0 and ci["high"] % 10 in (9, 0)  # band edges, no finer
    pr = overall["percentile_rank_ci"]
    assert pr["low"] <= pr["rank"] <= pr["high"]
    assert all(isinstance(pr[x], int) for x in ("rank", "low", "high"))
    assert pr["rank"] == whole_rank(overall["histogram_percent"], 40)
    cmp = client.http.get(
        "/v1/partner/benchmarks/smm/2.0.0/cohort-comparison?source=reference&a_size=1000%2B&b_size=1-9",
        headers=h,
    ).json_body
    assert cmp["status"] == "released" and cmp["synthetic"] is True
    m = next(x for x in cmp["metrics"] if x["metric"] == "overall")
    assert -1 <= m["rank_biserial"] <= 1 and 0 <= m["p_value"] <= 1
    bad = client.http.get("/v1/benchmarks/smm/2.0.0?industry=ZZ")
    assert (
        bad.status_code == 422 and bad.json_body["errors"][0]["parameter"] == "industry"
    )
    bad = client.http.get("/v1/benchmarks/smm/2.0.0?source=everything")
    assert bad.status_code == 422


def test_benchmark_data_holds_no_personal_fields(
    client, questionnaire, sqlite_store
) -> None:  # type: ignore[no-untyped-def]
    """Scan every stored cell aggregate: only counters of cohort, metric bins, months and
    stream checkpoints."""
    for a in variants(questionnaire, 6, industry="C", size="50-249", country="DE"):
        submit(client, a)
    # clients cannot smuggle personal data in: unknown fields are refused
    r = client.http.post(
        "/v1/assessments",
        body=json.dumps(
            {"answers": orgs.middling(questionnaire), "email": "ceo@example.com"}
        ),
        headers=JSON,
    )
    assert r.status_code == 422
    drain(sqlite_store)
    rows = (
        sqlite_store._conn()
        .execute("SELECT cell, body FROM cell_aggregates")
        .fetchall()
    )
    assert rows
    metric = re.compile(r"^[a-z_]+$")
    for cell, body in rows:
        assert re.match(r"^(all|users):[A-Z*]#[^#]+#[a-z_*]+$", cell), cell
        item = json.loads(body)
        assert set(item) <= {"n", "h", "mo", "ch", "rm", "ap"}, item.keys()
        assert {"n", "ch", "rm"} <= set(item), item.keys()
        assert all(isinstance(item[k], int) for k in ("n", "ch", "rm"))
        assert all(re.match(r"^\d{4}-\d{2}$", m) for m in item.get("mo", {}))
        assert all(isinstance(v, int) for v in item.get("ap", {}).values())
        for name, bins in item.get("h", {}).items():
            assert metric.match(name), name
            assert all(isinstance(v, int) for v in bins)
            assert len(bins) in (101, 8, 6), (name, len(bins))
    dump = " ".join(f"{c} {b}" for c, b in rows)
    for forbidden in ("@", "T10:", "127.0.0.1", "name", "mail"):
        assert forbidden not in dump


def test_scipy_stays_off_the_request_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    requests = """
    h = {'Content-Type': 'application/json'}
    scored = c.http.post('/v1/scores', body=json.dumps({'answers': body['answers'], 'version': body['version']}), headers=h)
    assert scored.status_code == 200, scored.body
    r = c.http.post('/v1/assessments', body=json.dumps(body), headers=h)
    assert r.status_code == 201
    a = json.loads(r.body)
    assert c.http.get('/v1/benchmarks/smm/1.0.0').status_code == 200
    t = {'X-Result-Token': a['token']}
    assert c.http.get('/v1/assessments/' + a['id'] + '/comparison', headers=t).status_code == 200
    """
    assert heavy_modules_after(requests, tmp_path) == []


@pytest.mark.parametrize(
    "path",
    [
        "/v1/benchmarks/smm/9.9.9",
        "/v1/benchmarks/nope/1.0.0",
    ],
)
def test_unknown_questionnaire_benchmark(client, path) -> None:  # type: ignore[no-untyped-def]
    r = client.http.get(path)
    assert (
        r.status_code == 404 and r.headers["Content-Type"] == "application/problem+json"
    )
