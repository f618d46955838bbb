"""Operator and consultant command line: ``python -m chalicelib.cli <command>``.

Commands are added per capability; each prints progress on long work and exits non-zero with
a one-line reason on failure."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="validate questionnaire files")
    p.add_argument(
        "paths", nargs="*", help="files to check (default: questionnaires/*.yaml)"
    )
    p.set_defaults(func=cmd_check)
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
