"""Write units per submission, old design against new, measured in one run on DynamoDB Local.

Issue 15, item 5. DynamoDB Local reports ``ConsumedCapacity`` the way DynamoDB bills it (1 WCU
per started KB of the item written, twice inside a transaction; an ``UpdateItem`` is charged
on the size of the whole item after the update), so the units here are measured, not
modelled. A botocore hook adds ``ReturnConsumedCapacity=TOTAL`` to every request the store
makes and sums what comes back, per operation; it also counts the writes each partition key
receives, which is what caps a key's sustained rate (1,000 WCU/s per partition).

Both designs run through the public API (``POST /v1/assessments`` in Chalice's test client,
the container on a ``DynamoStore``) with the same generated organisations:

- **old**: the tree of ``LEGACY_COMMIT`` (the last commit with the 9-item transaction over
  roll-up items), extracted with ``git archive`` and run in a subprocess, so its code is the
  code that ran in production, not a copy;
- **new**: this tree; after the submissions, the stream aggregator drains the table's
  stream (``aggregate_pending``) in batches of ``--batch`` records, as the Lambda would with
  that batch size, and its units are added to the submissions' (amortised per submission).

Usage: .venv/bin/python bench/writes.py [--n 1000] [--batch 1000] [--json FILE]
Needs Java 17 (DynamoDB Local, tests/dynamodb_local.py) and git history for the old design
(a shallow clone without ``LEGACY_COMMIT`` measures the new design only and says so).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LEGACY_COMMIT = "ad1677ecaa7517127f2f884116c38082e068028a"
WRITE_OPS = (
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "TransactWriteItems",
    "BatchWriteItem",
)
READ_OPS = ("GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems")
COUNTRIES = [
    "DE",
    "AT",
    "CH",
    "NL",
    "BE",
    "SE",
    "DK",
    "IT",
    "ES",
    "GB",
    "IE",
    "PL",
    "CZ",
]


class Capacity:
    """Sums ConsumedCapacity per operation and counts writes per partition key."""

    def __init__(self, client: Any) -> None:
        self.units: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.key_writes: Counter[str] = Counter()
        events = client.meta.events
        for op in WRITE_OPS + READ_OPS:
            events.register(f"provide-client-params.dynamodb.{op}", self._ask)
            events.register(f"after-call.dynamodb.{op}", self._took)

    def _ask(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"
        for pk in _written_keys(model.name, params):
            self.key_writes[pk] += 1

    def _took(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity")
        if consumed is None:
            return
        rows = consumed if isinstance(consumed, list) else [consumed]
        self.units[model.name] += sum(float(r.get("CapacityUnits", 0)) for r in rows)
        self.calls[model.name] += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "units": dict(self.units),
            "calls": dict(self.calls),
            "key_writes": dict(self.key_writes),
        }


def _pk(attrs: dict[str, Any]) -> str:
    for name in ("PK", "pk"):
        if name in attrs:
            return str(next(iter(attrs[name].values())))
    return "?"


def _written_keys(op: str, params: dict[str, Any]) -> list[str]:
    if op == "PutItem":
        return [_pk(params.get("Item", {}))]
    if op in ("UpdateItem", "DeleteItem"):
        return [_pk(params.get("Key", {}))]
    if op == "TransactWriteItems":
        out = []
        for entry in params.get("TransactItems", []):
            for kind, body in entry.items():
                if kind == "ConditionCheck":
                    continue
                out.append(_pk(body.get("Item") or body.get("Key") or {}))
        return out
    if op == "BatchWriteItem":
        out = []
        for reqs in params.get("RequestItems", {}).values():
            for r in reqs:
                body = r.get("PutRequest") or r.get("DeleteRequest") or {}
                out.append(_pk(body.get("Item") or body.get("Key") or {}))
        return out
    return []


def _diff(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in ("units", "calls", "key_writes"):
        a, b = after[part], before[part]
        out[part] = {k: a[k] - b.get(k, 0) for k in a if a[k] - b.get(k, 0)}
    return out


# --- the probe: runs inside one tree (this one, or the extracted old one) -------------------
def probe(
    endpoint: str, n: int, batch: int, seed: int, idempotent: bool
) -> dict[str, Any]:
    """Submit ``n`` organisations through the API on a fresh table, then (new design)
    drain the stream; return the measured units. Uses only what both trees have."""
    sys.path.insert(0, os.getcwd())
    from chalice.test import Client

    import app as app_module
    from chalicelib.config import Settings
    from chalicelib.container import Container
    from chalicelib.questionnaire import get_catalog
    from chalicelib.storage.dynamodb import DynamoStore
    from chalicelib.storage.dynamodb.schema import ensure_table_from_template
    from tests.dynamodb_local import TEMPLATE, local_client

    client = local_client(endpoint)
    table = f"bench-writes-{uuid.uuid4().hex[:8]}"
    ensure_table_from_template(client, TEMPLATE, table)
    cap = Capacity(client)
    store = DynamoStore(table, client)
    catalog = get_catalog(str(Path("questionnaires")))
    q = catalog.get("smm")
    settings = Settings(
        secret=b"bench-writes-secret-0123456789abcdef", k_min=5, global_shards=8
    )
    app_module.use_container(Container(store=store, catalog=catalog, settings=settings))
    rng = random.Random(seed)
    contexts = {
        x.role: [o.id for o in x.options] for x in q.questions if x.kind == "context"
    }
    ok = 0
    before = cap.snapshot()
    t0 = time.perf_counter()
    with Client(app_module.app, stage_name="local") as c:
        for _ in range(n):
            answers: dict[str, str] = {}
            for x in q.questions:
                if x.kind != "context":
                    answers[x.id] = rng.choice([o.id for o in x.options])
            for role, options in contexts.items():
                answers[next(x.id for x in q.questions if x.role == role)] = (
                    "yes"
                    if role == "consent"
                    else rng.choice([c for c in COUNTRIES if c in options] or options)
                    if role == "country"
                    else rng.choice(options)
                )
            headers = {"Content-Type": "application/json"}
            if idempotent:
                headers["Idempotency-Key"] = str(
                    uuid.UUID(int=rng.getrandbits(128), version=4)
                )
            body = {"answers": answers, "duration_seconds": 900}
            r = c.http.post("/v1/assessments", body=json.dumps(body), headers=headers)
            if r.status_code == 201:
                ok += 1
            elif ok == 0 and _ < 3:
                print(
                    f"    submission refused: {r.status_code} {r.body[:300]!r}",
                    file=sys.stderr,
                )
    submit_s = time.perf_counter() - t0
    submitted = _diff(cap.snapshot(), before)
    out: dict[str, Any] = {
        "n": n,
        "accepted": ok,
        "submit_s": submit_s,
        "submit": submitted,
    }
    aggregate = getattr(store, "aggregate_pending", None)
    if aggregate is not None:
        before = cap.snapshot()
        t0 = time.perf_counter()
        runs = []
        for _ in range(10 * n // max(1, batch) + 10):  # bounded: a few passes per batch
            run = aggregate(batch)
            runs.append(getattr(run, "records", None))
            if not getattr(run, "records", 0):
                break
        out["aggregate_s"] = time.perf_counter() - t0
        out["aggregate"] = _diff(cap.snapshot(), before)
        out["aggregate_runs"] = runs
    app_module.use_container(None)
    client.delete_table(TableName=table)
    return out


# --- the aggregator's own work: the pure fold, no I/O ----------------------------------------
def fold_throughput(batch: int, runs: int, seed: int) -> dict[str, float]:
    """Records per second ``aggregation.fold`` applies on one core, for batches of
    ``batch`` inserts into fresh aggregates (the worst case: every key new)."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_dynamodb import synthetic

    from chalicelib.aggregation import fold, image_of

    rng = random.Random(seed)
    records = [
        {
            "id": f"A#{i}",
            "shard": "s0",
            "seq": i + 1,
            "op": "insert",
            "old": None,
            "new": image_of(synthetic(i, rng)),
        }
        for i in range(batch)
    ]
    times = []
    keys = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        res = fold({}, records)
        times.append(time.perf_counter() - t0)
        keys = len(res.deltas)
    times.sort()
    med = times[len(times) // 2]
    return {"batch": batch, "median_s": med, "records_per_s": batch / med, "keys": keys}


# Modelled sustained rate on AWS: what caps it is the busiest partition key (1,000 WCU/s per
# partition) and the table's on-demand ceiling (40,000 WCU/s per table, the default quota).
PARTITION_WCU_PER_S = 1000
TABLE_WCU_PER_S = 40000


def modelled_rate(p: dict[str, float]) -> dict[str, float]:
    """Submissions per second until the hottest key or the table's write quota saturates,
    from the measured units and hot-key writes per submission (units of one hot-key write
    taken as the mean units per write of the run)."""
    hot = p["hot_key_writes_per_submission"] * p["units_per_write"]
    by_key = PARTITION_WCU_PER_S / hot if hot else float("inf")
    by_table = TABLE_WCU_PER_S / p["total_wcu"] if p["total_wcu"] else float("inf")
    return {
        "by_hot_key": by_key,
        "by_table": by_table,
        "sustained": min(by_key, by_table),
    }


# --- the driver -----------------------------------------------------------------------------
def _old_tree(tmp: Path) -> Path | None:
    """Extract LEGACY_COMMIT into tmp/old; None when this clone does not have it."""
    have = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{LEGACY_COMMIT}^{{commit}}"],
        check=False,
        capture_output=True,
    )
    if have.returncode != 0:
        return None
    dest = tmp / "old"
    dest.mkdir()
    archive = tmp / "old.tar"
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "-o", str(archive), LEGACY_COMMIT],
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    # the compiled questionnaires are build output (make sync-questionnaires), not in git
    for src in (ROOT / "chalicelib" / "questionnaires").glob("*.json"):
        target = dest / "chalicelib" / "questionnaires" / src.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_bytes(src.read_bytes())
    return dest


def _run_probe(
    tree: Path, endpoint: str, args: argparse.Namespace, idem: bool
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--probe",
        endpoint,
        "--n",
        str(args.n),
        "--batch",
        str(args.batch),
        "--seed",
        str(args.seed),
    ] + (["--idempotent"] if idem else [])
    env = {**os.environ, "PYTHONPATH": str(tree)}
    r = subprocess.run(
        cmd,
        check=False,
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if r.returncode != 0:
        raise RuntimeError(f"probe in {tree} failed:\n{r.stderr[-3000:]}")
    sys.stderr.write(r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


def per_submission(m: dict[str, Any]) -> dict[str, float]:
    n = max(1, m["accepted"])
    sub = sum(m["submit"]["units"].get(op, 0) for op in WRITE_OPS) / n
    agg = (
        sum(m.get("aggregate", {}).get("units", {}).get(op, 0) for op in WRITE_OPS) / n
    )
    writes = Counter(m["submit"]["key_writes"]) + Counter(
        m.get("aggregate", {}).get("key_writes", {})
    )
    hot_key, hot = writes.most_common(1)[0] if writes else ("-", 0)
    write_calls = sum(
        m[part].get("calls", {}).get(op, 0)
        for part in ("submit", "aggregate")
        if part in m
        for op in WRITE_OPS
    )
    items_written = sum(writes.values())
    return {
        "submission_wcu": sub,
        "aggregation_wcu": agg,
        "total_wcu": sub + agg,
        "hot_key": hot_key,
        "hot_key_writes_per_submission": hot / n,
        "distinct_keys_written": len(writes),
        "units_per_write": (sub + agg) * n / max(1, items_written),
        "write_requests": write_calls,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="submissions per design")
    ap.add_argument(
        "--batch", type=int, default=1000, help="stream batch size (new design)"
    )
    ap.add_argument("--seed", type=int, default=20261204)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--probe", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--idempotent", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.probe:
        print(
            json.dumps(
                probe(args.probe, args.n, args.batch, args.seed, args.idempotent)
            )
        )
        return {}

    sys.path.insert(0, str(ROOT))
    from tests.dynamodb_local import dynamodb_local

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-writes-") as tmp_s:
        tmp = Path(tmp_s)
        old = _old_tree(tmp)
        with dynamodb_local(tmp) as endpoint:
            for design, tree in (("old", old), ("new", ROOT)):
                if tree is None:
                    print(
                        f"    {design}: {LEGACY_COMMIT[:10]} is not in this clone: skipped"
                    )
                    continue
                for idem in (False, True):
                    label = f"{design}{' + Idempotency-Key' if idem else ''}"
                    print(f"    {label}: {args.n} submissions ...", flush=True)
                    m = _run_probe(tree, endpoint, args, idem)
                    m["per_submission"] = per_submission(m)
                    m["modelled"] = modelled_rate(m["per_submission"])
                    results[label] = m
    print()
    print(
        f"    {'design':32} {'accepted':>8} {'sub WCU':>8} {'agg WCU':>8} {'total':>8}"
        f" {'hot key writes/sub':>19}  hot key"
    )
    for label, m in results.items():
        p = m["per_submission"]
        print(
            f"    {label:32} {m['accepted']:>8} {p['submission_wcu']:>8.2f}"
            f" {p['aggregation_wcu']:>8.2f} {p['total_wcu']:>8.2f}"
            f" {p['hot_key_writes_per_submission']:>19.3f}  {p['hot_key']}"
        )
    print()
    for label, m in results.items():
        r = m["modelled"]
        agg = ""
        if m.get("aggregate_s"):
            agg = f"; aggregator on DynamoDB Local {m['accepted'] / m['aggregate_s']:.0f} records/s"
        print(
            f"    {label:32} modelled on AWS: {r['sustained']:.0f} submissions/s"
            f" (hot key {r['by_hot_key']:.0f}/s, table quota {r['by_table']:.0f}/s){agg}"
        )
    f = fold_throughput(args.batch, 5, args.seed)
    results["fold"] = f
    print(
        f"    aggregation.fold (pure, one core): {f['records_per_s']:.0f} records/s"
        f" at a batch of {f['batch']} ({f['keys']} keys)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
