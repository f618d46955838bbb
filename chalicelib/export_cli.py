"""The ``export`` command of the CLI: consultant exports from the configured store.

    python -m chalicelib.cli export assessment --id ID --token TOKEN --format pdf --lang de -o report.pdf
    python -m chalicelib.cli export assessment --id ID --token TOKEN --format pdf --label "Müller GmbH" -o report.pdf
    python -m chalicelib.cli export clients --tokens-file tokens.txt --format xlsx -o clients.xlsx
    python -m chalicelib.cli export clients --tokens-file tokens.txt --format csv --csv-locale de -o clients.csv
    python -m chalicelib.cli export cohorts --by industry --format csv --source reference -o cohorts.csv
    python -m chalicelib.cli export cohorts --by size --format xlsx --population all -o sizes.xlsx
    python -m chalicelib.cli export roadmap --id ID --token TOKEN --phase 4 --tier safety \
        --dimension crisis=70 --owner crisis_drills="Leitung PR" --format pdf -o roadmap.pdf

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


def _pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    """``KEY=VALUE`` arguments (``--dimension crisis=70``) as a dict."""
    out: dict[str, str] = {}
    for v in values or []:
        key, eq, value = v.partition("=")
        if not eq or not key:
            raise ValueError(f"{flag} {v!r}: expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def target_body(args: argparse.Namespace) -> dict[str, Any]:
    """The JSON body of a ``TargetIn`` from the command line's target arguments."""
    body: dict[str, Any] = {}
    if args.phase is not None:
        body["phase"] = args.phase
    if args.tier is not None:
        body["tier"] = args.tier
    dims = _pairs(args.dimension, "--dimension")
    if dims:
        try:
            body["dimensions"] = {k: int(v) for k, v in dims.items()}
        except ValueError:
            raise ValueError("--dimension: the score is an integer 0..100") from None
    if args.start_quarter is not None:
        body["start_quarter"] = args.start_quarter
    if args.pace is not None:
        body["pace"] = args.pace
    assignments: dict[str, dict[str, str]] = {}
    for qid, owner in _pairs(args.owner, "--owner").items():
        assignments.setdefault(qid, {})["owner"] = owner
    for qid, due in _pairs(args.due, "--due").items():
        assignments.setdefault(qid, {})["due_quarter"] = due
    if assignments:
        body["assignments"] = assignments
    return body


def cmd_roadmap(args: argparse.Namespace) -> int:
    """A roadmap of one assessment towards a target, with the history of the assessments
    it links to (docs/ROADMAP.md)."""
    from pydantic import ValidationError

    from chalicelib.errors import DomainError
    from chalicelib.exports.roadmap_export import assessment_roadmap
    from chalicelib.request_models import TargetIn
    from chalicelib.roadmap import target_of

    try:
        body = TargetIn.model_validate(target_body(args))
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            e = exc.errors()[0]
            where = "/".join(str(p) for p in e["loc"]) or "target"
            return _fail(f"invalid target ({where}: {e['msg']})", 2)
        return _fail(str(exc), 2)
    services = Container()
    try:
        rec = services.assessments.authorize(args.id, args.token)
        q = services.assessments.questionnaire_of(rec)
        export = assessment_roadmap(
            services.exports,
            rec,
            target_of(q, body),
            args.format,
            args.lang,
            _cohort_params(args),
            label=args.label,
            with_history=not args.no_history,
            format_pointer="/format",
        )
    except DomainError as exc:
        return _domain_error(exc)
    _write(export, args.output, f"roadmap of {rec.id}, {export.filename}")
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
    """Add ``export assessment|clients|cohorts|roadmap`` to the CLI's sub-commands."""
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

    r = sub.add_parser(
        "roadmap",
        help="one assessment's roadmap towards a target, with its history (xlsx, pdf)",
    )
    r.add_argument("--id", required=True, help="assessment id")
    r.add_argument("--token", required=True, help="its result token")
    r.add_argument("--format", choices=("xlsx", "pdf"), required=True)
    r.add_argument("--lang", choices=("de", "en"), default="en")
    r.add_argument(
        "-o", "--output", required=True, help="file to write, '-' for stdout"
    )
    r.add_argument("--label", default=None, help="display label (not stored)")
    r.add_argument("--phase", type=int, default=None, help="target phase 1..7")
    r.add_argument(
        "--tier",
        default=None,
        help="target pyramid tier: foundation, safety, formation, enablement, "
        "enlightenment",
    )
    r.add_argument(
        "--dimension",
        action="append",
        metavar="ID=SCORE",
        help="target score of a dimension (repeatable), e.g. crisis=70",
    )
    r.add_argument("--start-quarter", default=None, help="first quarter, YYYY-Qn")
    r.add_argument("--pace", type=int, default=None, help="steps a quarter (default 3)")
    r.add_argument(
        "--owner",
        action="append",
        metavar="QUESTION=NAME",
        help="owner of a step (repeatable)",
    )
    r.add_argument(
        "--due",
        action="append",
        metavar="QUESTION=YYYY-Qn",
        help="due quarter of a step (repeatable)",
    )
    r.add_argument(
        "--no-history",
        action="store_true",
        help="leave out the earlier assessments it links to",
    )
    r.add_argument("--source", choices=("auto", "real", "reference"), default=None)
    r.add_argument("--population", choices=("users", "all"), default=None)
    r.set_defaults(func=cmd_roadmap)


def main(argv: Sequence[str] | None = None) -> int:
    """The export command on its own (as ``chalicelib.cli.main`` runs it)."""
    parser = argparse.ArgumentParser(prog="smm")
    register(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
