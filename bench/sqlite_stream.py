"""The SQLite stream aggregation (issue 15; docs/STORAGE.md, "Stream aggregation"): what
folding costs a submission (service.submit with AGGREGATE_INLINE on and off), the folding
throughput of aggregate_pending on a backlog, and reference seeding (bulk_load folds in its
transaction). Prints figures; run ``.venv/bin/python bench/sqlite_stream.py [--backlog N]``."""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backlog", type=int, default=5000)
    parser.add_argument("--submissions", type=int, default=300)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("QUESTIONNAIRE_DIR", str(ROOT / "questionnaires"))
    from chalicelib import reference
    from chalicelib.config import Settings
    from chalicelib.container import Container
    from chalicelib.questionnaire import get_catalog
    from chalicelib.request_models import SubmissionIn
    from chalicelib.storage.sqlite import SqliteStore

    catalog = get_catalog(str(ROOT / "questionnaires"))
    q = catalog.get("smm")
    rng = random.Random(15)

    def answers() -> dict[str, str]:
        out = {x.id: rng.choice([o.id for o in x.options]) for x in q.questions}
        out[q.context_question("consent").id] = "yes"
        return out

    bodies = [
        SubmissionIn.model_validate({"answers": answers()})
        for _ in range(max(args.backlog, args.submissions))
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for inline in (False, True):
            store = SqliteStore(os.path.join(tmp, f"submit-{inline}.sqlite3"))
            c = Container(
                store=store,
                catalog=catalog,
                settings=Settings(secret=b"b" * 40, aggregate_inline=inline),
            )
            t0 = time.perf_counter()
            seeded = c.benchmarks.seed_reference(
                q, reference.DEFAULT_SIZE, reference.DEFAULT_SEED
            )
            seed_s = time.perf_counter() - t0
            for b in bodies[:20]:  # warm up
                c.assessments.submit(b)
            t0 = time.perf_counter()
            for b in bodies[: args.submissions]:
                c.assessments.submit(b)
            per = (time.perf_counter() - t0) / args.submissions * 1000
            print(
                f"service.submit, AGGREGATE_INLINE={int(inline)}: {per:.2f} ms per"
                f" submission ({args.submissions}); pending after: "
                f"{store.pending_records()}"
            )
            if inline:
                print(
                    f"seed_reference {seeded} organisations (scoring, legacy roll-ups,"
                    f" outbox rows and their fold): {seed_s:.2f} s"
                )
            store.close()

        store = SqliteStore(os.path.join(tmp, "backlog.sqlite3"))
        c = Container(
            store=store,
            catalog=catalog,
            settings=Settings(secret=b"b" * 40, aggregate_inline=False),
        )
        for b in bodies[: args.backlog]:
            c.assessments.submit(b)
        pending = store.pending_records()
        t0 = time.perf_counter()
        runs = records = applied = 0
        while True:
            run = store.aggregate_pending(limit=1000)
            runs += 1
            records += run.records
            applied += run.applied
            if not run.more:
                break
        took = time.perf_counter() - t0
        cells = sum(len(store.read_grid(g)) for g in store.list_grids())
        print(
            f"aggregate_pending on a backlog of {pending} records: {took:.2f} s in {runs}"
            f" runs of <= 1000 ({records / took:,.0f} records/s, {applied} cell"
            f" applications, {cells} cells)"
        )
        store.close()


if __name__ == "__main__":
    main()
