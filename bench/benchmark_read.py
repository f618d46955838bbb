"""Benchmark read on the embedded store: ``GET /v1/benchmarks/smm/1.0.0?industry=C&size=50-249
&region=dach&source=real`` through the Lambda handler, on a SQLite store holding ``stored``
synthetic assessments. The route reads the latest release's cells of the cohort's 8
roll-ups, picks the releasable cohort and computes its statistics. Also times reading the 8
cell aggregates alone (``cell_states``). The cells read give the cost model realistic
DynamoDB item sizes.

Synthetic assessments: a latent maturity (Beta(2.2, 2.0) x 100) drives correlated metrics;
industries uniform over NACE sections, sizes skewed to small firms, 60 % DACH (the product is
German-first) - an assumption, stated in docs/PERFORMANCE.md."""

from __future__ import annotations

import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any

from common import (
    LambdaContext,
    Progress,
    apply_env,
    proxy_event,
    section,
    sqlite_env,
    summary_ms,
    use_project_path,
)

MONTHS = [f"{2025 + m // 12}-{1 + m % 12:02d}" for m in range(24)]


def run(
    data_dir: Path, shards: int, stored: int = 10_000, reads: int = 1000
) -> dict[str, Any]:
    section(
        f"Benchmark read on SQLite: 8 roll-ups of one cohort, {stored} stored ({reads} reads)"
    )
    use_project_path()
    from common import ROOT

    from chalicelib import cohorts
    from chalicelib.aggregation import Grid
    from chalicelib.questionnaire import get_catalog
    from chalicelib.records import AssessmentRecord, Contribution
    from chalicelib.storage.sqlite import SqliteStore

    q = get_catalog(str(ROOT / "questionnaires")).get("smm")
    industries = [o.value or o.id for o in q.context_question("industry").options]
    sizes = [o.value or o.id for o in q.context_question("size").options]
    regions = sorted(
        {o.region for o in q.context_question("country").options if o.region}
    )
    region_w = [60.0 if r == "dach" else 40.0 / (len(regions) - 1) for r in regions]
    metrics = list(q.metric_names())
    rng = random.Random(20261123)

    def clamp(x: float, hi: int = 100) -> int:
        return max(0, min(hi, round(x)))

    def synthetic(i: int) -> tuple[AssessmentRecord, Contribution]:
        m = rng.betavariate(2.2, 2.0) * 100
        values: dict[str, int] = {}
        for k, name in enumerate(metrics):
            if name == "phase":
                values[name] = clamp(m / 13 + rng.gauss(0, 0.8), 7)
            elif name == "pyramid_level":
                values[name] = clamp(m / 20 + rng.gauss(0, 0.7), 5)
            elif name.startswith("tier_"):
                values[name] = clamp(m + 15 - 9 * k + rng.gauss(0, 10))
            else:
                values[name] = clamp(m + rng.gauss(0, 12))
        cohort = cohorts.Cohort(
            rng.choice(industries),
            rng.choices(sizes, weights=[4, 4, 3, 2, 1])[0],
            rng.choices(regions, weights=region_w)[0],
        )
        month = MONTHS[i % len(MONTHS)]
        rec = AssessmentRecord(
            id=f"{i:032x}",
            questionnaire_id=q.id,
            version=q.version,
            language="de",
            answers={},
            metrics=values,
            result={"phase": values["phase"], "overall": values["overall"]},
            industry=cohort.industry,
            size=cohort.size,
            country=None,
            region=cohort.region,
            month=month,
            created_at=f"{month}-15T10:00:00+00:00",
            consent=True,
            included=True,
            uses_social_media=True,  # the default population of the route
            exclusion_reasons=(),
            token_hash="0" * 64,
            request_hash="0" * 64,
        )
        con = Contribution(
            "real",
            q.id,
            q.version,
            cohorts.contribution_keys(cohort, rec.id, shards),
            values,
            month,
            ("all", "users"),
        )
        return rec, con

    db = data_dir / "benchmark-read.sqlite3"
    store = SqliteStore(str(db))
    progress = Progress("loaded", stored)
    chunk = 2000
    for start in range(0, stored, chunk):
        pairs = [synthetic(i) for i in range(start, min(stored, start + chunk))]
        store.bulk_load([p[0] for p in pairs], [p[1] for p in pairs])
        progress(start + len(pairs))

    target = cohorts.Cohort("C", "50-249", "dach")
    keys = [c.key for c in target.generalisations()]
    grid = Grid("real", q.id, q.version)
    # figures come from releases only: fold what bulk_load queued, publish one release
    from datetime import UTC, datetime

    from chalicelib.release_service import iso, release_id
    from chalicelib.releases import build_release

    for _ in range(10_000):
        if not store.aggregate_pending(5000).more:
            break
    now = datetime.now(UTC)
    store.put_release(
        build_release(store.read_grid(grid), 5, None, release_id(now), iso(now), grid)
    )

    # the route, through the Lambda handler, on this store
    apply_env(sqlite_env(data_dir))
    os.environ["SQLITE_PATH"] = str(db)
    os.environ["GLOBAL_SHARDS"] = str(shards)
    import app as app_module

    app_module.use_container(None)
    event = proxy_event(
        "GET",
        f"/v1/benchmarks/{q.id}/{q.version}",
        resource="/v1/benchmarks/{qid}/{version}",
        path_params={"qid": q.id, "version": q.version},
        query={**target_query(target), "source": "real", "lang": "en"},
    )
    ctx = LambdaContext()
    for _ in range(50):
        resp = app_module.app(event, ctx)
        assert resp["statusCode"] == 200, resp
    body = json.loads(resp["body"])
    assert body.get("release", {}).get("id"), body  # read from the published release
    assert body.get("status") == "released", body.get("status")  # figures, not a notice
    times: list[int] = []
    store_times: list[
        int
    ] = []  # of which: the store read alone (rows -> Aggregate counters)
    failures = 0
    progress = Progress("reads", reads)
    for i in range(reads):
        t0 = time.perf_counter_ns()
        resp = app_module.app(event, ctx)
        times.append(time.perf_counter_ns() - t0)
        failures += resp["statusCode"] != 200
        # interleaved, so both see the same machine load
        t0 = time.perf_counter_ns()
        cell_states(store, grid, target)
        store_times.append(time.perf_counter_ns() - t0)
        progress(i + 1)
    app_module.use_container(None)
    for name in ("SQLITE_PATH", "GLOBAL_SHARDS"):
        os.environ.pop(name, None)

    aggs = cell_states(store, grid, target)
    items = {k: aggregate_fields(a) for k, a in aggs.items()}
    # For the stream-aggregation alternative: distinct aggregate items a batch of B
    # submissions touches (no write sharding needed there), and the busiest items' shares.
    touched: dict[int, float] = {}
    for batch in (1, 10, 100, 1000, 10_000):
        trials = max(1, 2000 // batch)
        total = 0
        for t in range(trials):
            keys_hit: set[str] = set()
            for i in range(batch):
                sub_keys = synthetic(stored + t * batch + i)[1].cohorts
                keys_hit.update(re.sub(r"#s\d+$", "", k) for k in sub_keys)
            total += len(keys_hit)
        touched[batch] = total / trials
    hits: dict[str, int] = {}
    sample = 20_000
    for i in range(sample):
        for k in synthetic(10**7 + i)[1].cohorts:
            hits[k] = hits.get(k, 0) + 1
    hottest = sorted(hits.items(), key=lambda kv: -kv[1])[:4]
    counters = sum(len(v) for v in items.values())
    store.close()
    summary = summary_ms(times)
    store_summary = summary_ms(store_times)
    released = body.get("cohort") or body.get("released") or {}
    print(
        f"    GET /v1/benchmarks (handler): median {summary['median_ms']:.3f} ms, p99 "
        f"{summary['p99_ms']:.3f} ms ({failures} non-200); {len(keys)} items, {counters} "
        f"DynamoDB attributes per read; target cohort n = {aggs[target.key].count}"
    )
    print(
        f"    the 8 cell aggregates alone: median {store_summary['median_ms']:.3f} ms "
        f"({store_summary['median_ms'] / summary['median_ms']:.0%})"
    )
    return {
        "stored": stored,
        "shards": shards,
        "items_per_read": len(keys),
        "counters_per_read": counters,
        "released": released,
        "failures": failures,
        "read": summary,
        "store_read": store_summary,
        "items": items,  # counter name -> value per item, for the cost model (not in JSON)
        "distinct_items_per_batch": {str(k): round(v, 1) for k, v in touched.items()},
        "hottest_items": [
            {"key": k, "share": round(v / sample, 3)} for k, v in hottest
        ],
    }


def cell_states(store: Any, grid: Any, target: Any) -> dict[str, Any]:
    """The cell aggregates of the target's 8 roll-ups (population ``all``), one query."""
    from chalicelib.aggregation import CellKey
    from chalicelib.records import Aggregate

    wanted = [CellKey("all", c) for c in target.generalisations()]
    states = store._read_states(store._conn(), [(grid, c) for c in wanted])
    out: dict[str, Any] = {}
    for c in wanted:
        st = states.get((grid, c))
        out[c.cohort.key] = (
            Aggregate(
                st.count, {m: list(h) for m, h in st.bins.items()}, dict(st.months)
            )
            if st is not None
            else Aggregate()
        )
    return out


def aggregate_fields(agg: Any) -> dict[str, int]:
    """The attributes of an aggregate as the DynamoDB adapter stores them: count, months and
    the packed histogram words (chalicelib/storage/packed.py)."""
    from chalicelib.records import Deltas
    from chalicelib.storage import packed

    semantic = Deltas(
        agg.count, dict(agg.months), {m: dict(h) for m, h in agg.histograms.items()}
    )
    return packed.pack_deltas(semantic)


def target_query(cohort: Any) -> dict[str, str]:
    return {"industry": cohort.industry, "size": cohort.size, "region": cohort.region}
