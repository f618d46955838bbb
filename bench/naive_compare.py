"""Benchmark read: releases (this product) vs a naive scan, at 1,000 and 50,000 stored.

Ours: ``BenchmarkService.compare_record`` - reads the latest release's header and the
fallback chain's cells (O(1) items) and ranks against the released shares (whole percent,
uniform within a band of ten). Naive: read every stored submission, keep those of the same
cohort and call ``scipy.stats.percentileofscore`` per metric. Both run on the same SQLite
file (a release is published after each load); before anything is timed, each of our ranks
is checked to be within the released share of its band (plus rounding) of the exact one."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from common import ROOT, median, section, use_project_path


def _records(q: Any, n: int, start: int, shards: int) -> tuple[list[Any], list[Any]]:
    from chalicelib import cohorts, reference, scoring
    from chalicelib.records import AssessmentRecord, Contribution

    population = list(reference.generate(q, n, seed=start + 1))
    regions = {o.id: o.region or "*" for o in q.context_question("country").options}
    recs, cons = [], []
    for i, s in enumerate(population):
        if not s.user:  # organisations that use social media, so metrics vary
            s.answers["social_presence"] = "ad_hoc"
        r = scoring.score(q, s.answers)
        a = s.answers
        rec = AssessmentRecord(
            id=f"b{start + i:031d}",
            questionnaire_id=q.id,
            version=q.version,
            language="en",
            answers=a,
            metrics=r.metrics(),
            result={},
            industry=a["industry"],
            size=a["size"],
            country=a["country"],
            region=regions[a["country"]],
            month=s.month,
            created_at=f"{s.month}-01T00:00:00+00:00",
            consent=True,
            included=True,
            exclusion_reasons=(),
            token_hash="0" * 64,
            request_hash="0" * 64,
        )
        cohort = cohorts.Cohort(rec.industry or "*", rec.size or "*", rec.region or "*")
        recs.append(rec)
        cons.append(
            Contribution(
                "real",
                q.id,
                q.version,
                cohorts.contribution_keys(cohort, rec.id, shards),
                dict(rec.metrics),
                rec.month,
            )
        )
    return recs, cons


def _naive(store: Any, rec: Any) -> dict[str, float]:
    from scipy import stats

    peers: list[dict[str, int]] = []
    for (body,) in store._conn().execute("SELECT body FROM assessments"):
        d = json.loads(body)
        if (d["industry"], d["size"], d["region"], d["included"]) == (
            rec.industry,
            rec.size,
            rec.region,
            True,
        ):
            peers.append(d["metrics"])
    out = {}
    for m, v in rec.metrics.items():
        values = [p[m] for p in peers if m in p]
        out[m] = round(float(stats.percentileofscore(values, v, kind="mean")), 1)
    return out


def _in_band(label: str, value: int) -> bool:
    lo, _, hi = label.partition("-")
    return int(lo) <= value <= int(hi or lo)


def run(
    sizes: tuple[int, ...] = (1_000, 10_000, 50_000),
    reads: int = 200,
    naive_reads: int = 5,
) -> dict[str, Any]:
    section(
        f"Benchmark read: histograms vs naive scan + scipy.percentileofscore, {sizes}"
    )
    use_project_path()
    from chalicelib.config import Settings
    from chalicelib.container import Container
    from chalicelib.questionnaire import get_catalog
    from chalicelib.render import comparison_json
    from chalicelib.storage.sqlite import SqliteStore

    catalog = get_catalog(str(ROOT / "questionnaires"))
    q = catalog.get("smm")
    settings = Settings(secret=b"bench", k_min=5, global_shards=4)
    tmp = Path(tempfile.mkdtemp(prefix="smm-naive-"))
    store = SqliteStore(str(tmp / "naive.sqlite3"))
    insights = Container(store=store, catalog=catalog, settings=settings).benchmarks
    stored, rows, probe = 0, [], None
    for size in sizes:
        t0 = time.perf_counter()
        while stored < size:
            n = min(5_000, size - stored)
            recs, cons = _records(q, n, stored, settings.global_shards)
            store.bulk_load(recs, cons)
            stored += n
            insights.releases.publish()  # figures come from releases only
            if probe is None:
                probe = recs[0]
            print(
                f"  loaded {stored}/{size} ({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
        assert probe is not None
        params = {
            "source": "real",
            "industry": probe.industry,
            "size": probe.size,
            "region": probe.region,
        }
        ours = comparison_json(insights.compare_record(probe, params, "en"), "en")
        naive = _naive(store, probe)
        if (
            ours["cohort"]
            and ours["cohort"]["key"] == f"{probe.industry}#{probe.size}#{probe.region}"
        ):
            value_of = probe.metrics
            for m in ours["metrics"]:
                if m.get("percentile_rank") is not None:
                    shares = m["histogram_percent"]
                    band = next(
                        s
                        for label, s in shares.items()
                        if _in_band(label, value_of[m["metric"]])
                    )
                    slack = band + len(shares)  # uniform within the band, rounding
                    assert abs(m["percentile_rank"] - naive[m["metric"]]) <= slack, (
                        m["metric"],
                        m,
                        naive,
                    )
        ours_ms = []
        for _ in range(reads):
            t = time.perf_counter_ns()
            insights.compare_record(probe, params, "en")
            ours_ms.append((time.perf_counter_ns() - t) / 1e6)
        naive_ms = []
        for _ in range(naive_reads):
            t = time.perf_counter_ns()
            _naive(store, probe)
            naive_ms.append((time.perf_counter_ns() - t) / 1e6)
        rows.append(
            {
                "stored": size,
                "cohort_n": ours["cohort"]["n"] if ours["cohort"] else None,
                "ours_median_ms": round(median(ours_ms), 3),
                "naive_median_ms": round(median(naive_ms), 1),
            }
        )
    print(
        f"  {'stored':>7} {'cohort n':>8} {'ours ms':>9} {'naive ms':>10} {'speed-up':>9}"
    )
    for r in rows:
        r["speed_up"] = round(r["naive_median_ms"] / r["ours_median_ms"], 1)
        print(
            f"  {r['stored']:>7} {r['cohort_n'] or '-':>8} {r['ours_median_ms']:>9.3f} "
            f"{r['naive_median_ms']:>10.1f} {r['speed_up']:>8.1f}x"
        )
    ratio = rows[-1]["ours_median_ms"] / rows[0]["ours_median_ms"]
    print(
        f"  ours: median at {rows[-1]['stored']} / at {rows[0]['stored']} = {ratio:.2f} "
        "(target within 1.2); ranks equal to scipy's on the same cohort"
    )
    store.close()
    return {"rows": rows, "ratio": round(ratio, 2)}


if __name__ == "__main__":
    run()
