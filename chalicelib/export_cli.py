"""The ``export`` command of the CLI: consultant exports from the configured store.

    python -m chalicelib.cli export assessment --id ID --token TOKEN --format pdf --lang de -o report.pdf
    python -m chalicelib.cli export assessment --id ID --token TOKEN --format pdf --label "Müller GmbH" -o report.pdf
    python -m chalicelib.cli export clients --tokens-file tokens.txt --format xlsx -o clients.xlsx
    python -m chalicelib.cli export clients --tokens-file tokens.txt --format csv --csv-locale de -o clients.csv
    python -m chalicelib.cli export cohorts --by industry --format csv --source reference -o cohorts.csv
    python -m chalicelib.cli export cohorts --by size --format xlsx --population all -o sizes.xlsx

``chalicelib.cli.build_parser`` adds it with ``register(sub)``; ``main`` runs it on its own
(``python -m chalicelib.export_cli export ...``). Errors are one line on stderr with a
non-zero exit: 1 for unknown assessments or wrong tokens, 2 for invalid arguments. Tokens
are never printed. Display labels (``--label``, or after the token in the tokens file) name
the assessments in the export instead of their ids; they are used for the file only, never
stored and never printed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.console import progress, run
from chalicelib.container import Container

if TYPE_CHECKING:
    from chalicelib.assessments import AssessmentService
    from chalicelib.exports import Export
    from chalicelib.records import AssessmentRecord

FORMATS = ("csv", "xlsx", "pdf")


def _cohort_params(args: argparse.Namespace) -> dict[str, str]:
    return {
        name: value
        for name in ("source", "population", "industry", "size", "region")
        if (value := getattr(args, name, None))
    }


def _write(export: Export, output: str, what: str) -> None:
    if output == "-":
        sys.stdout.buffer.write(export.body)
        sys.stdout.buffer.flush()
    else:
        Path(output).write_bytes(export.body)
    target = "stdout" if output == "-" else output
    print(
        f"wrote {target}: {what}, {export.content_type.split(';')[0]}, "
        f"{len(export.body) / 1024:.0f} KiB",
        file=sys.stderr,
    )


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _domain_error(exc: Exception) -> int:
    """One line for a domain error: its detail and the offending fields."""
    from chalicelib.errors import DomainError, NotFound, Unauthorized

    if isinstance(exc, (NotFound, Unauthorized)):
        return _fail("unknown assessment or wrong token", 1)
    assert isinstance(exc, DomainError)
    fields = "; ".join(f"{p.rsplit('/', 1)[-1]}: {m}" for p, m in exc.errors)
    return _fail(f"{exc.detail}" + (f" ({fields})" if fields else ""), 2)


def cmd_assessment(args: argparse.Namespace) -> int:
    """One assessment against its cohort."""
    from chalicelib.errors import DomainError

    services = Container()
    try:
        rec = services.assessments.authorize(args.id, args.token)
        export = services.exports.assessment(
            rec,
            args.format,
            args.lang,
            _cohort_params(args),
            format_pointer="/format",
            label=args.label,
            csv_locale=args.csv_locale,
        )
    except DomainError as exc:
        return _domain_error(exc)
    _write(export, args.output, f"assessment {rec.id}")
    return 0


def read_tokens(path: str) -> list[tuple[int, str]]:
    """(line number, token) of every non-empty line that is not a ``#`` comment."""
    return [(n, token) for n, token, _ in read_token_lines(path)]


def read_token_lines(path: str) -> list[tuple[int, str, str | None]]:
    """(line number, token, display label or None) of every non-empty line that is not a
    ``#`` comment: a line is a token, optionally followed by whitespace and the label."""
    out: list[tuple[int, str, str | None]] = []
    text = Path(path).read_text(encoding="utf-8-sig")
    for number, line in enumerate(text.splitlines(), 1):
        parts = line.strip().split(None, 1)
        if parts and not parts[0].startswith("#"):
            label = parts[1].strip() if len(parts) > 1 else ""
            out.append((number, parts[0], label or None))
    return out


def authorize_tokens(
    assessments: AssessmentService, tokens: list[tuple[int, str]]
) -> tuple[list[AssessmentRecord], list[str]]:
    """Records of the valid tokens and one message per bad line (no token in any message).
    A token is ``<assessment id>.<secret>``."""
    from chalicelib.errors import DomainError

    records: list[AssessmentRecord] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, token in tokens:
        aid, dot, _ = token.partition(".")
        if not aid or not dot:
            problems.append(f"line {number}: not a result token (<id>.<secret>)")
            continue
        try:
            rec = assessments.authorize(aid, token)
        except DomainError:
            problems.append(f"line {number}: unknown assessment or wrong token")
            continue
        if rec.id in seen:
            problems.append(f"line {number}: assessment listed twice")
            continue
        seen.add(rec.id)
        records.append(rec)
    return records, problems


def cmd_clients(args: argparse.Namespace) -> int:
    """Several assessments side by side, from a file of result tokens."""
    from chalicelib.errors import DomainError

    services = Container()
    lines = read_token_lines(args.tokens_file)
    records, problems = authorize_tokens(
        services.assessments, [(n, t) for n, t, _ in lines]
    )
    if problems:
        for p in problems:
            print(f"error: {args.tokens_file}: {p}", file=sys.stderr)
        return 1
    if not records:
        return _fail(f"{args.tokens_file}: no result tokens", 2)
    display = {
        token.partition(".")[0]: label for _, token, label in lines if label is not None
    }
    try:
        export = services.exports.side_by_side(
            records,
            args.format,
            args.lang,
            _cohort_params(args),
            progress=progress(f"export {args.format}"),
            format_pointer="/format",
            display_labels=display,
            csv_locale=args.csv_locale,
        )
    except DomainError as exc:
        return _domain_error(exc)
    _write(export, args.output, f"{len(records)} assessments")
    return 0


def cmd_cohorts(args: argparse.Namespace) -> int:
    """Released statistics of every value of one cohort attribute."""
    from chalicelib.errors import DomainError

    try:
        export = Container().exports.cohort_table(
            args.questionnaire,
            args.version,
            args.by,
            args.format,
            args.lang,
            _cohort_params(args),
            format_pointer="/format",
            by_pointer="/by",
            csv_locale=args.csv_locale,
        )
    except DomainError as exc:
        return _domain_error(exc)
    _write(export, args.output, f"cohorts by {args.by}")
    return 0


def _common(p: argparse.ArgumentParser, cohort: bool = True) -> None:
    p.add_argument("--format", choices=FORMATS, required=True)
    p.add_argument("--lang", choices=("de", "en"), default="en")
    p.add_argument(
        "--csv-locale",
        choices=("de", "en"),
        default=None,
        help="CSV number format: de (';' and decimal comma) or en (',' and decimal "
        "point); default: the one of --lang",
    )
    p.add_argument(
        "-o", "--output", required=True, help="file to write, '-' for stdout"
    )
    p.add_argument(
        "--source",
        choices=("auto", "real", "reference"),
        default=None,
        help="benchmark source (default auto: real where a cohort is large enough)",
    )
    p.add_argument(
        "--population",
        choices=("users", "all"),
        default=None,
        help="peers: organisations that use social media (default users) or all,"
        " including non-users",
    )
    if cohort:
        for name in ("industry", "size", "region"):
            p.add_argument(
                f"--{name}", default=None, help=f"compare with this {name} instead"
            )


def register(subparsers: Any) -> None:
    """Add ``export assessment|clients|cohorts`` to the CLI's sub-commands."""
    p = subparsers.add_parser(
        "export", help="consultant exports (CSV, XLSX, PDF); see docs/EXPORTS.md"
    )
    sub = p.add_subparsers(dest="export_command", required=True)

    a = sub.add_parser("assessment", help="one assessment against its cohort")
    a.add_argument("--id", required=True, help="assessment id")
    a.add_argument("--token", required=True, help="its result token")
    a.add_argument(
        "--label",
        default=None,
        help="display label shown instead of the id (not stored)",
    )
    _common(a)
    a.set_defaults(func=cmd_assessment)

    c = sub.add_parser(
        "clients", help="several assessments side by side (one result token a line)"
    )
    c.add_argument(
        "--tokens-file",
        required=True,
        help="file with one <id>.<secret> per line, optionally followed by a space and "
        "the display label shown instead of the id (not stored)",
    )
    _common(c)
    c.set_defaults(func=cmd_clients)

    h = sub.add_parser("cohorts", help="released statistics of every cohort value")
    h.add_argument("--by", choices=("industry", "size", "region"), required=True)
    h.add_argument("--questionnaire", default="smm")
    h.add_argument("--version", default=None, help="default: the latest")
    _common(h, cohort=False)
    for name in ("industry", "size", "region"):
        h.add_argument(
            f"--{name}", default=None, help=f"only cohorts within this {name}"
        )
    h.set_defaults(func=cmd_cohorts)


def main(argv: Sequence[str] | None = None) -> int:
    """The export command on its own (as ``chalicelib.cli.main`` runs it)."""
    parser = argparse.ArgumentParser(prog="smm")
    register(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
