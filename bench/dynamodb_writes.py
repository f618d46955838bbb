"""Write units per submission on DynamoDB Local (issue 15), measured with
ReturnConsumedCapacity: the design before issue 15 (one TransactWriteItems of the assessment
and its 8 or 16 roll-up ADDs, ``old_create`` below: a faithful copy of that writer, kept here
as the comparison) against the compact PutItem plus the aggregator's writes amortised over a
batch of ``--batch`` (default 1,000) stream records; aggregator throughput; cost per million
submissions and benchmark reads at on-demand list prices (bench/cost.py); a modelled
sustained write rate on AWS (1,000 WCU per partition and second, the busiest key decides).

Run: ``.venv/bin/python bench/dynamodb_writes.py [--submissions N] [--batch N]`` (make bench
runs it). Figures go to docs/PERFORMANCE.md, "DynamoDB writes".
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from chalicelib.aggregation import CellKey, Grid
from chalicelib.cohorts import Cohort
from chalicelib.records import AssessmentRecord, Contribution
from chalicelib.storage import codec
from chalicelib.storage.dynamodb import DynamoStore
from chalicelib.storage.dynamodb.keys import assessment_key, s
from chalicelib.storage.dynamodb.rollups import contribution_updates
from chalicelib.storage.dynamodb.schema import ensure_table_from_template
from tests.dynamodb_local import TEMPLATE, dynamodb_local, local_client

WRU = 0.625 / 1e6  # bench/cost.py PRICES (us-east-1 on-demand, after the 2024-11 cut)
RRU = 0.125 / 1e6
PARTITION_WCU = 1000  # DynamoDB's per-partition write throughput (units per second)


class Metered:
    """A DynamoDB client proxy that asks every request for its consumed capacity and sums
    it per operation (write units, read units)."""

    OPS: ClassVar[set[str]] = {
        "put_item",
        "update_item",
        "delete_item",
        "transact_write_items",
        "batch_write_item",
        "batch_get_item",
        "get_item",
        "query",
    }

    def __init__(self, real: Any) -> None:
        self.real: Any = real
        self.write: Counter[str] = Counter()
        self.read: Counter[str] = Counter()

    def reset(self) -> None:
        self.write.clear()
        self.read.clear()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.real, name)
        if name not in self.OPS:
            return attr

        def call(**kwargs: Any) -> Any:
            resp = attr(**kwargs, ReturnConsumedCapacity="TOTAL")
            got = resp.get("ConsumedCapacity") or []
            kind = (
                self.read
                if name in ("batch_get_item", "get_item", "query")
                else self.write
            )
            for c in got if isinstance(got, list) else [got]:
                kind[name] += float(c.get("CapacityUnits", 0) or 0)
            return resp

        return call


def old_create(store: DynamoStore, rec: AssessmentRecord, con: Contribution) -> None:
    """The writer before issue 15 (chalicelib/storage/dynamodb/assessments.py at ad1677e):
    the full JSON item and one ADD Update per roll-up item, in one transaction."""
    item = {
        **assessment_key(rec.id),
        "body": s(codec.record_to_json(rec)),
        "questionnaire": s(rec.questionnaire_id),
        "version": s(rec.version),
        "source": s(rec.source),
        "month": s(rec.month),
        "created_at": s(rec.created_at),
        "included": {"BOOL": rec.included},
        "consent": {"BOOL": rec.consent},
        "write_id": s(uuid.uuid4().hex),
    }
    items = [
        {
            "Put": {
                "TableName": store.table_name,
                "Item": item,
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
    ]
    items.extend(contribution_updates(store.table_name, con, +1))
    store._transact(items)


def records(n: int, rng: random.Random) -> list[tuple[AssessmentRecord, Contribution]]:
    from chalicelib.assessments import AssessmentService
    from chalicelib.config import Settings
    from chalicelib.questionnaire import get_catalog
    from chalicelib.request_models import SubmissionIn
    from chalicelib.storage.sqlite import SqliteStore

    catalog = get_catalog(str(ROOT / "questionnaires"))
    q = catalog.get("smm")
    with tempfile.TemporaryDirectory() as tmp:
        svc = AssessmentService(
            SqliteStore(str(Path(tmp) / "x.sqlite3")),
            catalog,
            Settings(secret=b"b" * 32, global_shards=8),
        )
        out = []
        while len(out) < n:
            answers = {x.id: rng.choice([o.id for o in x.options]) for x in q.questions}
            answers[q.context_question("consent").id] = "yes"
            aid, token = svc._ids("public", None)
            rec = svc.build_record(
                q, SubmissionIn(answers=answers), aid, token, None, None
            )
            con = svc.contribution_for(rec)
            if con is not None:
                out.append((rec, con))
        return out


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size: names plus values (numbers ~ 1 + digits / 2)."""
    total = 0
    for name, value in item.items():
        ((kind, v),) = value.items()
        total += len(name.encode())
        if kind == "N":
            total += 1 + len(v.lstrip("-")) // 2
        elif kind in ("S", "B"):
            total += len(v)
        else:
            total += 1
    return total


def fold_all(store: DynamoStore, expected: int, seconds: float = 120.0) -> int:
    """Poll the stream until ``expected`` records are folded (DynamoDB Local, like the
    service, can answer an open shard with an empty page before its newest records), for at
    most ``seconds``; the number folded."""
    folded = 0
    deadline = time.monotonic() + seconds
    while folded < expected and time.monotonic() < deadline:
        run = store.aggregate_pending(expected)
        folded += run.records
        if not run.records and not run.more:
            time.sleep(0.05)
    return folded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=300)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(15)
    recs = records(max(args.submissions, 2 * args.batch), rng)
    with tempfile.TemporaryDirectory() as logs, dynamodb_local(Path(logs)) as endpoint:
        real = local_client(endpoint, max_pool_connections=16)
        metered = Metered(real)

        def table() -> DynamoStore:
            name = f"bench-writes-{uuid.uuid4().hex[:8]}"
            ensure_table_from_template(real, TEMPLATE, name)
            return DynamoStore(name, metered)

        # --- the design before issue 15 -----------------------------------------------
        old = table()
        metered.reset()
        t0 = time.perf_counter()
        for rec, con in recs[: args.submissions]:
            old_create(old, rec, con)
        old_s = time.perf_counter() - t0
        old_wcu = sum(metered.write.values()) / args.submissions
        users = sum(1 for _, c in recs[: args.submissions] if "users" in c.populations)

        # --- compact PutItem + the aggregator -----------------------------------------
        new = table()
        metered.reset()
        t0 = time.perf_counter()
        for rec, con in recs[: args.batch]:
            assert new.create_assessment(rec, con)
        put_s = time.perf_counter() - t0
        put_wcu = sum(metered.write.values()) / args.batch
        metered.reset()
        t0 = time.perf_counter()
        folded = 0
        folded = fold_all(new, args.batch)
        fold_s = time.perf_counter() - t0
        agg_wcu = sum(metered.write.values()) / args.batch
        agg_rcu = sum(metered.read.values()) / args.batch
        assert folded == args.batch, folded
        # AWS charges an UpdateItem for the larger of the item before and after, per
        # started KB (DynamoDB Local charges less): model it from the stored cells
        from chalicelib.storage.dynamodb.cells import cell_key

        grids = new.list_grids()
        cell_keys = [cell_key(g, c) for g in grids for c in new.read_grid(g)]
        sizes = []
        for i in range(0, len(cell_keys), 100):
            sizes.extend(item_bytes(x) for x in new._batch_get(cell_keys[i : i + 100]))
        aws_agg_wru = (sum(-(-b // 1024) for b in sizes) + 2 * len(sizes)) / args.batch

        # --- a second batch on the same table: the steady state ---------------------------
        # (most cells exist: no index items, and the cells it touches are charged at their
        # grown size); the first batch above started from an empty table
        from chalicelib.aggregation import image_of, parse_image

        existing = {(g, c) for g in grids for c in new.read_grid(g)}
        second = recs[args.batch : 2 * args.batch]
        metered.reset()
        for rec, con in second:
            assert new.create_assessment(rec, con)
        put2_wcu = sum(metered.write.values()) / args.batch
        metered.reset()
        folded2 = 0
        t0 = time.perf_counter()
        folded2 = fold_all(new, args.batch)
        fold2_s = time.perf_counter() - t0
        assert folded2 == args.batch, folded2
        agg2_wcu = sum(metered.write.values()) / args.batch
        touched = sorted(
            {
                k
                for rec, _ in second
                for k in parse_image(image_of(rec)).aggregate_keys()
            },
            key=lambda gc: (gc[0].questionnaire_id, gc[0].version, gc[1].key),
        )
        touched_keys = [cell_key(g, c) for g, c in touched]
        sizes2 = []
        for i in range(0, len(touched_keys), 100):
            sizes2.extend(
                item_bytes(x) for x in new._batch_get(touched_keys[i : i + 100])
            )
        new_cells2 = sum(1 for gc in touched if gc not in existing)
        aws_agg2_wru = (
            sum(-(-b // 1024) for b in sizes2) + 2 * new_cells2
        ) / args.batch

        # --- a benchmark read (8 cells, one BatchGetItem) ------------------------------
        first = recs[0][0]  # the cohort of the first organisation and its roll-ups
        version = first.version
        cohort = Cohort(first.industry or "*", first.size or "*", first.region or "*")
        keys = [c.key for c in cohort.generalisations()]
        grid = Grid("real", "smm", version)
        cells = [(grid, CellKey("all", c)) for c in cohort.generalisations()]
        metered.reset()
        for _ in range(args.reads):
            got = new._read_cells(cells)
            assert got[(grid, CellKey("all", Cohort()))].count == 2 * args.batch
        read_rcu = sum(metered.read.values()) / args.reads
        old_read = old  # the old design's read: its 7 roll-ups + 8 global shard items
        metered.reset()
        for _ in range(args.reads):
            items = [
                {"PK": {"S": f"BENCH#real#smm#{version}"}, "SK": {"S": f"COHORT#{k}"}}
                for k in keys
                if k != "*#*#*"
            ]
            list(old_read._batch_get(items))
            list(
                old_read._query_partition(f"BENCH#real#smm#{version}", "COHORT#*#*#*#s")
            )
        old_read_rcu = sum(metered.read.values()) / args.reads

    new_wcu = put_wcu + agg_wcu
    print(
        "DynamoDB writes per submission (DynamoDB Local, ReturnConsumedCapacity TOTAL)"
    )
    print(
        f"  old: one TransactWriteItems (item + 8/16 roll-ups; {users}/{args.submissions} in users): "
        f"{old_wcu:.1f} WCU/submission, {args.submissions / old_s:.0f} submissions/s single-threaded"
    )
    print(
        f"  new: PutItem {put_wcu:.2f} WCU + aggregation {agg_wcu:.2f} WCU "
        f"(+ {agg_rcu:.2f} RCU) amortised over a batch of {args.batch} = {new_wcu:.2f} WCU/submission "
        f"({old_wcu / new_wcu:.0f}x fewer)"
    )
    print(
        "  modelled on AWS (UpdateItem charged by the larger item image, per started KB; "
        f"{len(sizes)} cells of {min(sizes)}-{max(sizes)} B, each written once by the "
        f"batch, + 2 index items per new cell): aggregation {aws_agg_wru:.2f} WRU, "
        f"{1 + aws_agg_wru:.2f} WRU/submission with the PutItem"
    )
    print(
        f"  steady state (a second batch of {args.batch} on the same table: {len(touched)} cells"
        f" touched, {new_cells2} of them new, {min(sizes2)}-{max(sizes2)} B): PutItem"
        f" {put2_wcu:.2f} WCU + aggregation {agg2_wcu:.2f} WCU on DynamoDB Local;"
        f" modelled on AWS aggregation {aws_agg2_wru:.2f} WRU, {put2_wcu + aws_agg2_wru:.2f}"
        " WRU/submission with the PutItem"
    )
    print(
        f"  submissions: {args.batch / put_s:.0f}/s single-threaded; aggregator:"
        f" {folded / fold_s:.0f} records/s (first batch), {folded2 / fold2_s:.0f} records/s"
        " (steady state)"
    )
    print(
        f"  cost per million submissions (writes): old ${old_wcu * WRU * 1e6:.2f}, "
        f"new ${(new_wcu * WRU + agg_rcu * RRU) * 1e6:.2f}"
    )
    print(
        f"  benchmark read: new {read_rcu:.1f} RCU (${read_rcu * RRU * 1e6:.2f}/million), "
        f"old {old_read_rcu:.1f} RCU (${old_read_rcu * RRU * 1e6:.2f}/million)"
    )
    # the busiest key: old design, every submission writes the questionnaire's partition
    # (all roll-ups share BENCH#...) at old_wcu; new: a submission's own item (1 WCU, its
    # own partition); the global cell takes one update per batch
    print(
        "  modelled sustained rate on AWS (1,000 WCU per partition and second): old "
        f"{PARTITION_WCU / (2 * old_wcu):.0f}/s at Local's units x 2 for the transaction "
        "(every roll-up in one partition); new: each submission its own partition, and the "
        f"hottest key, the global cell ({max(sizes)} B), takes one UpdateItem of "
        f"{-(-max(sizes) // 1024)} WRU per batch: {PARTITION_WCU // -(-max(sizes) // 1024)} "
        f"batches/s, {PARTITION_WCU // -(-max(sizes) // 1024) * args.batch} submissions/s at "
        "full batches (the cap is the aggregator's throughput, one Lambda per stream shard)"
    )
    # the aggregator's capacity on AWS: one Lambda invocation at a time per stream shard
    # and ParallelizationFactor lane (up to 10; records of one item stay in one lane). A
    # batch costs the fold's CPU time plus its conditional UpdateItems (one per touched
    # cell) on the adapter's bulk_workers threads at UPDATE_MS each (bench/cost.py).
    lanes, update_ms, threads = 10, 6.0, new.bulk_workers
    from chalicelib.aggregation import fold

    raw = [
        {"id": r.id, "shard": "s", "seq": i + 1, "op": "insert", "new": image_of(r)}
        for i, (r, _) in enumerate(second)
    ]
    t0 = time.perf_counter()
    fold({}, raw)
    fold_cpu_s = time.perf_counter() - t0
    batch_s = fold_cpu_s + len(touched) * update_ms / 1000 / threads
    per_lane = args.batch / batch_s
    print(
        f"  aggregator: here {folded2 / fold2_s:.0f} records/s per poller on DynamoDB Local;"
        f" modelled on AWS a batch of {args.batch} = fold {fold_cpu_s * 1000:.0f} ms CPU"
        f" (measured) + {len(touched)} UpdateItems x {update_ms:.0f} ms / {threads} threads"
        f" = {batch_s:.2f} s: {per_lane:.0f} records/s per lane, x {lanes} lanes ="
        f" {lanes * per_lane:.0f} submissions/s per stream shard"
    )


if __name__ == "__main__":
    main()
