"""Cost model: AWS list prices x measured durations and request counts of this run.

Prices: us-east-1 on-demand list prices as known on 2026-11-23 (no free tier, no savings
plans); check https://aws.amazon.com/lambda/pricing/, /api-gateway/pricing/ and
/dynamodb/pricing/on-demand/ before quoting. eu-central-1 (Frankfurt) is ~5-20 % higher.

DynamoDB request units (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/
read-write-operations.html):
- a write consumes 1 WRU per started KB of the item; an UpdateItem is charged for the LARGER of
  the item before and after, however few attributes it changes; in TransactWriteItems every
  item costs twice that (2 WRU per KB);
- a strongly consistent read 1 RRU per started 4 KB of each item (BatchGetItem rounds every
  item up separately); the adapter reads with ConsistentRead.
Item sizes are estimated from the items the adapter builds (attribute name bytes + value
bytes; a number is 1 byte + 1 per two significant digits), not measured on AWS.

Lambda duration model: billed ms = measured local CPU ms x CPU scale + assumed DynamoDB
round trip. Lambda gives a function CPU in proportion to memory (one vCPU at 1,769 MB), so at
M MB CPU-bound work takes 1769 / M times as long as on one core here (assumes a core of this
machine is as fast as a Lambda vCPU). The DynamoDB round trips are assumptions (same-region,
typical), not measurements: DynamoDB Local's latencies say nothing about AWS.
"""

from __future__ import annotations

import math
from typing import Any

from common import section, stage_config, use_project_path

PRICES = {
    "as_of": "2026-11-23, us-east-1 list prices (verify before quoting)",
    "lambda_gb_second_x86": 0.0000166667,
    "lambda_request": 0.20 / 1e6,
    "api_gateway_rest_request": 3.50 / 1e6,  # first 333 million per month
    "dynamodb_on_demand_wru": 0.625 / 1e6,  # since the 2024-11-01 on-demand price cut
    "dynamodb_on_demand_rru": 0.125 / 1e6,
    "cloudwatch_logs_ingest_gb": 0.50,
}
ASSUMPTIONS = {
    "dynamodb_transact_write_ms": 25.0,  # TransactWriteItems of 9 items (2-phase)
    "dynamodb_put_item_ms": 6.0,
    "dynamodb_update_item_ms": 6.0,
    "dynamodb_batch_get_ms": 20.0,  # BatchGetItem of 15 items (~110 KB: fixed-size items)
    "log_bytes_per_invocation": 500,  # START/END/REPORT lines + one application line
    "vcpu_memory_mb": 1769,
    "partition_wcu_per_second": 1000,  # per partition, and so per item
    "stream_batch_sizes": [1, 10, 100, 1000],
}
# month counters on a mature aggregate item (one per month with submissions)
MONTHS_KEPT = 24


def number_bytes(v: int) -> int:
    digits = str(abs(v)).strip("0") or "0"
    return 1 + math.ceil(len(digits) / 2)


def typed_item_bytes(item: dict[str, dict[str, Any]]) -> int:
    """Size of an item in DynamoDB's typed JSON (S, N, BOOL attributes)."""
    total = 0
    for name, typed in item.items():
        total += len(name.encode())
        (kind, value), *_ = typed.items()
        if kind == "S":
            total += len(value.encode())
        elif kind == "N":
            total += number_bytes(int(value))
        else:  # BOOL, NULL
            total += 1
    return total


def aggregate_bytes(pk: str, sk: str, counters: dict[str, int]) -> int:
    size = len("PK") + len(pk.encode()) + len("SK") + len(sk.encode())
    return size + sum(len(n.encode()) + number_bytes(v) for n, v in counters.items())


def wru_transactional(nbytes: int) -> int:
    return 2 * math.ceil(nbytes / 1024)


def wru(nbytes: int) -> int:
    return math.ceil(nbytes / 1024)


def rru_consistent(nbytes: int) -> int:
    return math.ceil(nbytes / 4096)


def per_million(parts: dict[str, float]) -> dict[str, float]:
    return {k: round(v * 1e6, 2) for k, v in parts.items()} | {
        "total": round(sum(parts.values()) * 1e6, 2)
    }


def lambda_cost(billed_ms: float, memory_mb: int) -> float:
    gb_s = memory_mb / 1024 * billed_ms / 1000
    return gb_s * PRICES["lambda_gb_second_x86"] + PRICES["lambda_request"]


def log_cost() -> float:
    return (
        ASSUMPTIONS["log_bytes_per_invocation"]
        / 1e9
        * PRICES["cloudwatch_logs_ingest_gb"]
    )


def run(results: dict[str, Any]) -> dict[str, Any]:
    section("Cost model (prices and assumptions in bench/cost.py, docs/PERFORMANCE.md)")
    use_project_path()
    from chalicelib import cohorts
    from chalicelib.records import Deltas, metric_bins
    from chalicelib.storage import packed
    from chalicelib.storage.dynamodb import DynamoStore, bench_pk, cohort_sk

    prod = stage_config("prod")
    memory = int(prod.get("lambda_memory_size", 128))
    shards = int(prod["environment_variables"].get("GLOBAL_SHARDS", 4))
    scale = max(1.0, ASSUMPTIONS["vcpu_memory_mb"] / memory)

    sub = results["submission"]
    read = results["benchmark_read"]
    scoring = results["scoring"]
    record = sub["record"]
    pk = bench_pk("real", record.questionnaire_id, record.version)
    metrics = list(record.metrics)

    # --- item sizes -----------------------------------------------------------------------
    assessment = typed_item_bytes(
        DynamoStore("t", None)._assessment_item(record, "0" * 32)
    )
    target = cohorts.Cohort("C", "50-249", "dach")
    measured = {
        k: aggregate_bytes(pk, cohort_sk(k), v) for k, v in read["items"].items()
    }
    written = [k for k in cohorts.contribution_keys(target, "0" * 32, shards)]
    # the adapter's layout: count, months and packed histogram words (storage/packed.py)
    young = packed.pack_deltas(
        Deltas(
            1, {"2026-11": 1}, {m: {min(50, metric_bins(m) - 1): 1} for m in metrics}
        )
    )
    bound = packed.pack_deltas(  # every bin of every word at its capacity
        Deltas(
            999_999,
            {f"2026-{i:02d}": 99_999 for i in range(MONTHS_KEPT)},
            {m: {b: packed.CAPACITY for b in range(metric_bins(m))} for m in metrics},
        )
    )
    young_bytes = aggregate_bytes(pk, cohort_sk(target.key), young)
    bound_bytes = aggregate_bytes(pk, cohort_sk("*#*#*#s0"), bound)
    sizes = {
        "assessment_item_bytes": assessment,
        "aggregate_young_bytes": young_bytes,
        "aggregate_measured_bytes": {
            "min": min(measured.values()),
            "max": max(measured.values()),
            "stored": read["stored"],
        },
        "aggregate_bound_bytes": bound_bytes,
    }

    # --- submissions: one TransactWriteItems (assessment put + 8 roll-up ADDs) ---------------
    def submission_wru(agg_bytes: list[int]) -> int:
        return wru_transactional(assessment) + sum(
            wru_transactional(b) for b in agg_bytes
        )

    # the global roll-up's shard items (an upper bound: the read now returns the whole,
    # unsharded global cell, as no store write-shards any more)
    shard_keys = [k for k in measured if k.startswith("*#*#*")]
    avg_shard = sum(measured[k] for k in shard_keys) / len(shard_keys)
    measured_written = [measured.get(k, avg_shard) for k in written]
    wru_cases = {
        "young": submission_wru([young_bytes] * len(written)),
        "measured": submission_wru([int(b) for b in measured_written]),
        "bound": submission_wru([bound_bytes] * len(written)),
    }
    sub_cpu_ms = sub["handler"]["median_ms"]
    sub_billed = math.ceil(
        sub_cpu_ms * scale + ASSUMPTIONS["dynamodb_transact_write_ms"]
    )
    submission_cost = {}
    for case, units in wru_cases.items():
        submission_cost[case] = per_million(
            {
                "lambda": lambda_cost(sub_billed, memory),
                "api_gateway": PRICES["api_gateway_rest_request"],
                "dynamodb": units * PRICES["dynamodb_on_demand_wru"],
                "logs": log_cost(),
            }
        )

    # --- benchmark reads: one BatchGetItem of 7 + shards items ------------------------------
    rru = sum(rru_consistent(b) for b in measured.values())
    rru_bound = len(measured) * rru_consistent(bound_bytes)
    # GET /v1/benchmarks through the handler on SQLite; with DynamoDB the store read is a
    # BatchGetItem whose client-side work (botocore parsing ~counters/read attributes, summing)
    # the DynamoDB Local bench measures as read median - HTTP median: swap it in when present.
    read_cpu_ms = read["read"]["median_ms"]
    read_cpu_source = "SQLite handler median"
    ddb_rows = results.get("dynamodb", {}).get("rows") or []
    if ddb_rows and {"read med ms", "http med ms"} <= ddb_rows[-1].keys():
        client_ms = ddb_rows[-1]["read med ms"] - ddb_rows[-1]["http med ms"]
        rest = max(0.0, read_cpu_ms - read["store_read"]["median_ms"])
        read_cpu_ms = rest + client_ms
        read_cpu_source = (
            f"SQLite handler median - SQLite store read + DynamoDB Local client work "
            f"({client_ms:.1f} ms at n={int(ddb_rows[-1]['stored'])})"
        )
    read_billed = math.ceil(read_cpu_ms * scale + ASSUMPTIONS["dynamodb_batch_get_ms"])
    read_cost = {
        case: per_million(
            {
                "lambda": lambda_cost(read_billed, memory),
                "api_gateway": PRICES["api_gateway_rest_request"],
                "dynamodb": units * PRICES["dynamodb_on_demand_rru"],
                "logs": log_cost(),
            }
        )
        for case, units in (("measured", rru), ("bound", rru_bound))
    }

    # --- scoring without storing (no DynamoDB) ----------------------------------------------
    score_billed = math.ceil(scoring["handler"]["median_ms"] * scale)
    score_cost = per_million(
        {
            "lambda": lambda_cost(score_billed, memory),
            "api_gateway": PRICES["api_gateway_rest_request"],
            "logs": log_cost(),
        }
    )

    # --- alternative: stream aggregation ----------------------------------------------------
    # The API puts the assessment (plain PutItem); a Lambda on the table's stream sums a batch
    # of B submissions and applies one non-transactional UpdateItem per distinct aggregate item
    # (stream reads by a Lambda trigger are free).
    put_billed = math.ceil(sub_cpu_ms * scale + ASSUMPTIONS["dynamodb_put_item_ms"])
    stream = {}
    for batch in ASSUMPTIONS["stream_batch_sizes"]:
        touched = read["distinct_items_per_batch"][str(batch)]
        per_case = {}
        for case, agg in (("measured", max(measured.values())), ("bound", bound_bytes)):
            agg_billed = math.ceil(touched * ASSUMPTIONS["dynamodb_update_item_ms"])
            per_case[case] = per_million(
                {
                    "lambda": lambda_cost(put_billed, memory)
                    + lambda_cost(agg_billed, memory) / batch,
                    "api_gateway": PRICES["api_gateway_rest_request"],
                    "dynamodb": (wru(assessment) + touched * wru(agg) / batch)
                    * PRICES["dynamodb_on_demand_wru"],
                    "logs": log_cost() * (1 + 1 / batch),
                }
            )
        stream[str(batch)] = {"items_per_batch": touched, **per_case}

    # --- switch-over: per-item (per-partition) write limit ----------------------------------
    limit = ASSUMPTIONS["partition_wcu_per_second"]
    hottest = next(
        h for h in read["hottest_items"] if not h["key"].startswith("*#*#*#s")
    )
    switch = {}
    for case, agg in (("measured", max(measured.values())), ("bound", bound_bytes)):
        per_update = wru_transactional(agg)
        switch[case] = {
            "wru_per_roll_up_update": per_update,
            "hottest_unsharded_item": hottest["key"],
            "hottest_share": hottest["share"],
            "max_submissions_per_s_hottest_item": round(
                limit / per_update / hottest["share"], 1
            ),
            "max_submissions_per_s_if_one_region": round(limit / per_update, 1),
            "max_submissions_per_s_global_shards": round(
                limit * shards / per_update, 1
            ),
            "max_submissions_per_s_one_partition": round(
                limit / (per_update * len(written)), 1
            ),
        }

    out = {
        "prices": PRICES,
        "assumptions": ASSUMPTIONS
        | {"memory_mb": memory, "cpu_scale": round(scale, 3)},
        "item_sizes": sizes,
        "submission": {
            "cpu_ms_local": sub_cpu_ms,
            "billed_ms": sub_billed,
            "wru": wru_cases,
            "usd_per_million": submission_cost,
        },
        "benchmark_read": {
            "cpu_ms_local": round(read_cpu_ms, 4),
            "cpu_ms_source": read_cpu_source,
            "billed_ms": read_billed,
            "items": len(measured),
            "rru": {"measured": rru, "bound": rru_bound},
            "usd_per_million": read_cost,
        },
        "score_only": {"billed_ms": score_billed, "usd_per_million": score_cost},
        "stream_alternative": stream,
        "switch_over": switch,
    }
    print_report(out)
    return out


def print_report(c: dict[str, Any]) -> None:
    a, s = c["assumptions"], c["item_sizes"]
    print(
        f"    Lambda {a['memory_mb']} MB x86, CPU scale x{a['cpu_scale']} "
        f"(1 vCPU = {a['vcpu_memory_mb']} MB); prices {c['prices']['as_of']}"
    )
    print(
        f"    item sizes: assessment {s['assessment_item_bytes']} B; aggregate young "
        f"{s['aggregate_young_bytes']} B, measured {s['aggregate_measured_bytes']['min']}-"
        f"{s['aggregate_measured_bytes']['max']} B at {s['aggregate_measured_bytes']['stored']} "
        f"stored, bound {s['aggregate_bound_bytes']} B"
    )
    sub, rd = c["submission"], c["benchmark_read"]
    print(
        f"    submission: billed {sub['billed_ms']} ms; WRU young/measured/bound "
        f"{sub['wru']['young']}/{sub['wru']['measured']}/{sub['wru']['bound']}"
    )
    print(
        f"    benchmark read: billed {rd['billed_ms']} ms ({rd['cpu_ms_local']:.1f} ms CPU here: "
        f"{rd['cpu_ms_source']}); {rd['items']} items, RRU measured/bound "
        f"{rd['rru']['measured']}/{rd['rru']['bound']}"
    )
    print()
    print(
        f"    {'USD per million':<38}{'Lambda':>9}{'API GW':>9}{'DynamoDB':>10}{'logs':>7}{'total':>9}"
    )
    rows = [
        (
            f"submissions, young roll-ups ({sub['wru']['young']} WRU)",
            sub["usd_per_million"]["young"],
        ),
        (
            f"submissions, measured ({sub['wru']['measured']} WRU)",
            sub["usd_per_million"]["measured"],
        ),
        (
            f"submissions, bound ({sub['wru']['bound']} WRU)",
            sub["usd_per_million"]["bound"],
        ),
        (
            f"benchmark reads, measured ({rd['rru']['measured']} RRU)",
            rd["usd_per_million"]["measured"],
        ),
        (
            f"benchmark reads, bound ({rd['rru']['bound']} RRU)",
            rd["usd_per_million"]["bound"],
        ),
        ("scores (POST /v1/scores)", c["score_only"]["usd_per_million"]),
    ]
    for batch, alt in c["stream_alternative"].items():
        rows.append((f"stream alt. B={batch}, measured", alt["measured"]))
        rows.append((f"stream alt. B={batch}, bound", alt["bound"]))
    for label, r in rows:
        print(
            f"    {label:<38}{r['lambda']:>9.2f}{r['api_gateway']:>9.2f}"
            f"{r.get('dynamodb', 0.0):>10.2f}{r['logs']:>7.2f}{r['total']:>9.2f}"
        )
    print()
    for case, sw in c["switch_over"].items():
        print(
            f"    switch-over ({case} roll-ups, {sw['wru_per_roll_up_update']} WRU per "
            f"transactional roll-up update, 1,000 WCU/s per item): hottest unsharded item "
            f"{sw['hottest_unsharded_item']} ({sw['hottest_share']:.0%} of submissions) "
            f"saturates at {sw['max_submissions_per_s_hottest_item']}/s "
            f"({sw['max_submissions_per_s_if_one_region']}/s if all in one region); global "
            f"shards at {sw['max_submissions_per_s_global_shards']}/s; all roll-ups in one "
            f"partition (before DynamoDB splits it) at "
            f"{sw['max_submissions_per_s_one_partition']}/s"
        )
