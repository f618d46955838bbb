"""Operator and consultant command line: ``python -m chalicelib.cli <command>``.

Commands are added per capability; each prints progress on long work and exits non-zero with
a one-line reason on failure."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def cmd_check(args: argparse.Namespace) -> int:
    """Validate questionnaire files (all installed ones by default)."""
    from chalicelib.questionnaire import (
        QuestionnaireFileError,
        load_questionnaire,
        questionnaire_dir,
    )

    root = Path(__file__).resolve().parent.parent
    paths = [Path(p) for p in args.paths] or sorted(
        (root / "questionnaires").glob("*.yaml")
    )
    if not paths:
        paths = sorted(questionnaire_dir().glob("*.yaml"))
    failed = 0
    for p in paths:
        try:
            q = load_questionnaire(p)
        except QuestionnaireFileError as exc:
            print(f"FAIL {exc}", file=sys.stderr)
            failed += 1
            continue
        print(
            f"ok   {p}: {q.key}, {len(q.scored_questions)} scored + "
            f"{len(q.questions) - len(q.scored_questions)} context questions"
        )
    return 1 if failed else 0


def _progress(label: str) -> Any:
    def report(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        end = "\n" if done >= total else ""
        print(
            f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
            end=end,
            file=sys.stderr,
            flush=True,
        )

    return report


def cmd_seed_reference(args: argparse.Namespace) -> int:
    """Load the synthetic reference cohort into the configured store (once)."""
    from chalicelib.config import Settings
    from chalicelib.insights import BenchmarkService
    from chalicelib.questionnaire import get_catalog
    from chalicelib.service import AssessmentService
    from chalicelib.storage import store_from_env

    catalog = get_catalog()
    insights = BenchmarkService(
        AssessmentService(store_from_env(), catalog, Settings.from_env())
    )
    for q in catalog.all():
        added = insights.seed_reference(
            q, args.size, args.seed, _progress(f"reference {q.key}")
        )
        if added:
            print(
                f"seeded {added} synthetic organisations as reference cohort of {q.key}"
            )
        else:
            n = insights.reference_size(q)
            print(
                f"reference cohort of {q.key} already present ({n} synthetic organisations)"
            )
    return 0


def cmd_reliability(args: argparse.Namespace) -> int:
    """Cronbach's alpha per dimension over the reference population."""
    from chalicelib import reference
    from chalicelib.config import Settings
    from chalicelib.insights import BenchmarkService, ConsultantStatistics
    from chalicelib.questionnaire import get_catalog
    from chalicelib.service import AssessmentService
    from chalicelib.storage.sqlite import SqliteStore

    catalog = get_catalog()
    q = catalog.get(args.questionnaire, args.version)
    pool = [s.answers for s in reference.generate(q, args.size, args.seed)]
    svc = AssessmentService(
        SqliteStore(":memory:"), catalog, Settings(secret=b"unused")
    )
    result = ConsultantStatistics(BenchmarkService(svc)).reliability(q, pool)
    print(
        f"Cronbach's alpha per dimension, reference (synthetic) pool of {len(pool)}, {q.key}"
    )
    for dim, r in result.items():
        alpha = "n/a" if r["alpha"] is None else f"{r['alpha']:.3f}"
        print(
            f"  {dim:<12} alpha={alpha}  items={r['items']}  complete cases={r['respondents']}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="validate questionnaire files")
    p.add_argument(
        "paths", nargs="*", help="files to check (default: questionnaires/*.yaml)"
    )
    p.set_defaults(func=cmd_check)
    from chalicelib.reference import DEFAULT_SEED, DEFAULT_SIZE

    p = sub.add_parser(
        "seed-reference", help="load the synthetic reference cohort (once)"
    )
    p.add_argument("--size", type=int, default=DEFAULT_SIZE)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.set_defaults(func=cmd_seed_reference)
    p = sub.add_parser(
        "reliability", help="Cronbach's alpha per dimension (reference pool)"
    )
    p.add_argument("--questionnaire", default="smm")
    p.add_argument("--version", default=None)
    p.add_argument("--size", type=int, default=DEFAULT_SIZE)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.set_defaults(func=cmd_reliability)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
