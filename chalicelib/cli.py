"""Operator and consultant command line: ``python -m chalicelib.cli <command>``.

Commands are added per capability; each prints progress on long work and exits non-zero with
a one-line reason on failure."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chalicelib.console import progress, run
from chalicelib.container import Container


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


def cmd_seed_reference(args: argparse.Namespace) -> int:
    """Load the synthetic reference cohort into the configured store (once; a reference of an
    older layout, or any with --replace, is replaced without double counting)."""
    from chalicelib import reference

    services = Container()
    insights = services.benchmarks
    for q in services.catalog.all():
        for f, why in reference.skipped_figures(q):
            print(f"reference {q.key}: figure {f.key!r} not calibrated ({why})")
        before = insights.reference_size(q)
        added = insights.seed_reference(
            q,
            args.size,
            args.seed,
            progress(f"reference {q.key}"),
            replace=args.replace,
        )
        if added:
            users = insights.reference_size(q, "users")
            verb = f"replaced {before} with" if before else "seeded"
            print(
                f"{verb} {added} synthetic organisations as reference cohort of {q.key}"
                f" ({users} use social media)"
            )
        else:
            n = insights.reference_size(q)
            print(
                f"reference cohort of {q.key} already present ({n} synthetic organisations)"
            )
        from chalicelib.aggregation import Grid

        head = services.releases.latest(Grid("reference", q.id, q.version))
        if head is not None:
            print(
                f"reference release of {q.key}: {head.id} ({head.released} of"
                f" {head.cells} cells released)"
            )
    return 0


def _grid_arg(text: str) -> Any:
    """``source/questionnaire/version`` (e.g. ``real/smm/2.0.0``)."""
    from chalicelib.aggregation import Grid

    parts = text.split("/")
    if len(parts) != 3 or not all(parts):
        raise ValueError(
            f"a grid is source/questionnaire/version (real/smm/2.0.0), not {text!r}"
        )
    return Grid(*parts)


def cmd_releases(args: argparse.Namespace) -> int:
    """Publish benchmark releases now, list a grid's releases, or show one (docs/RELEASES.md)."""
    import json

    services = Container()
    releases = services.releases
    if args.action == "publish":
        grids = [_grid_arg(g) for g in args.grid] or None

        def report(s: Any) -> None:
            g = s.grid
            what = "published" if s.stored else "unchanged, still"
            print(
                f"{g.source}/{g.questionnaire_id}/{g.version}: {what} {s.release_id}"
                f" ({s.cells} cells: {s.released} released, {s.carried_over} carried"
                f" over, {s.suppressed} suppressed, {s.withheld} withheld)",
                flush=True,
            )

        print("folding pending submissions and erasures ...", file=sys.stderr)
        summary = releases.publish(grids=grids, progress=report)
        print(f"folded {summary.folded} stream records; {len(summary.grids)} grids")
        return 0
    store: Any = services.store
    grid = _grid_arg(args.grid)
    if args.action == "list":
        heads = store.list_releases(grid, args.limit)
        if not heads:
            print(f"no release of {args.grid} yet")
        for h in heads:
            print(f"{h.id}  {h.created_at}  k={h.k}  {h.released}/{h.cells} released")
        return 0
    head = store.latest_release(grid) if args.id in (None, "latest") else None
    rid = head.id if head is not None else args.id
    release = store.read_release(grid, rid) if rid else None
    if release is None:
        print(
            f"error: no release {args.id or 'latest'} of {args.grid}", file=sys.stderr
        )
        return 1
    from chalicelib.releases import public_cell

    cells = [public_cell(release, key) for key in release.cells]
    if args.released_only:
        cells = [c for c in cells if c["status"] == "released"]
    out = {"id": release.id, "created_at": release.created_at, "k": release.k}
    print(json.dumps({**out, "cells": cells}, indent=1, ensure_ascii=False))
    return 0


def cmd_reference_calibration(args: argparse.Namespace) -> int:
    """The calibration table of docs/REFERENCE.md: every figure's target, observed share,
    standard error and base in the generated population (nothing is stored)."""
    from chalicelib import reference
    from chalicelib.questionnaire import get_catalog

    q = get_catalog().get(args.questionnaire, args.version)
    population = list(reference.generate(q, args.size, args.seed))
    print(reference.calibration_markdown(q, population))
    return 0 if all(c.met for c in reference.calibration(q, population)) else 1


def cmd_reliability(args: argparse.Namespace) -> int:
    """Cronbach's alpha per dimension over the reference population."""
    from chalicelib import reference
    from chalicelib.config import Settings
    from chalicelib.storage.sqlite import SqliteStore

    services = Container(
        store=SqliteStore(":memory:"), settings=Settings(secret=b"unused")
    )
    q = services.catalog.get(args.questionnaire, args.version)
    pool = [s.answers for s in reference.generate(q, args.size, args.seed)]
    result = services.statistics.reliability(q, pool)
    print(
        f"Cronbach's alpha per dimension, reference (synthetic) pool of {len(pool)}, {q.key}"
    )
    for dim, r in result.items():
        alpha = "n/a" if r["alpha"] is None else f"{r['alpha']:.3f}"
        print(
            f"  {dim:<12} alpha={alpha}  items={r['items']}  complete cases={r['respondents']}"
        )
    return 0


def _usage_id(partner_id: str, tier: str) -> str:
    from chalicelib.partners import usage_identifier

    return usage_identifier(Container().settings.secret, partner_id, tier)


def _print_usage_commands(partner_id: str, tier: str) -> None:
    usage = _usage_id(partner_id, tier)
    print(f"usage id   : {usage}")
    print(
        "On AWS, API Gateway meters this partner by its usage id (not by the key), once per"
        " partner and tier; rotated keys keep it. If not registered yet:"
    )
    print(
        f"  aws apigateway create-api-key --name smm-{partner_id}-{tier} --enabled"
        f" --value '{usage}'"
    )
    print(
        "  aws apigateway create-usage-plan-key --usage-plan-id <id of the"
        f" '{tier}' plan> --key-type API_KEY --key-id <id printed above>"
    )


def _print_key(key: str, record: Any) -> None:
    print(f"partner id : {record.partner_id}")
    print(f"key id     : {record.key_id}")
    print(f"scopes     : {' '.join(record.scopes)}")
    print(f"origins    : {' '.join(record.origins) or '-'}")
    print(f"tier       : {record.tier}")
    print(f"type       : {record.kind}")
    print(f"key        : {key}")
    print(
        "This key is shown once and stored only as a hash. Give it to the partner now."
    )
    if record.kind == "publishable":
        print(
            "A publishable key may be in web pages (the widget's data-partner): it only"
            " submits assessments, only from the origins above (docs/PARTNERS.md)."
        )
    _print_usage_commands(record.partner_id, record.tier)


def _logo_data_url(path: str) -> str:
    """A logo file as the data: URL the branding stores (its type from its first bytes)."""
    import base64
    from pathlib import Path

    data = Path(path).read_bytes()
    kinds = {
        b"\x89PNG": "image/png",
        b"\xff\xd8\xff": "image/jpeg",
        b"GIF8": "image/gif",
        b"RIFF": "image/webp",
    }
    mime = next((m for magic, m in kinds.items() if data.startswith(magic)), None)
    if mime is None:
        raise ValueError(f"{path}: not a PNG, JPEG, GIF or WebP image")
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def cmd_branding(args: argparse.Namespace) -> int:
    import json

    svc = Container().brandings
    if args.branding_command == "set":
        body = {
            "display_name": args.display_name,
            "primary_color": args.color,
            "logo": _logo_data_url(args.logo) if args.logo else None,
            "imprint_url": args.imprint,
            "privacy_url": args.privacy,
            "language": args.language,
        }
        out = svc.set(args.partner_id, body)
    elif args.branding_command == "remove":
        svc.remove(args.partner_id)
        print(f"removed the white label of partner {args.partner_id}")
        return 0
    else:
        out = svc.read(args.partner_id)
    if out.get("logo"):
        out["logo"] = out["logo"][:40] + f"... ({len(out['logo'])} characters)"
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


def cmd_partner(args: argparse.Namespace) -> int:
    svc = Container().partners
    if args.partner_command == "create":
        key, record = svc.create(
            args.name,
            args.scopes.split(","),
            [o for o in args.origins.split(",") if o],
            args.tier,
        )
        _print_key(key, record)
    elif args.partner_command == "rotate":
        key, record = svc.rotate(
            args.key,
            None if args.scopes is None else args.scopes.split(","),
            None if args.origins is None else [o for o in args.origins.split(",") if o],
            args.name,
        )
        _print_key(key, record)
        print(
            "Both keys are active now; revoke the old one once the partner has switched."
        )
    elif args.partner_command == "publishable":
        active = [
            k for k in svc.store.list_partner_keys(args.partner_id) if not k.revoked
        ]
        if not active:
            raise ValueError(f"partner {args.partner_id} has no active key")
        key, record = svc.create(
            args.name or f"{active[0].name} (widget)",
            ["submit"],
            [o for o in args.origins.split(",") if o],
            active[0].tier,
            partner_id=args.partner_id,
            kind="publishable",
        )
        _print_key(key, record)
    elif args.partner_command == "usage-id":
        _print_usage_commands(args.partner_id, args.tier)
    elif args.partner_command == "revoke":
        record = svc.revoke(args.key_id)
        print(f"revoked key {record.key_id} of partner {record.partner_id}")
    else:
        rows = svc.list(args.partner_id)
        if not rows:
            print("no partner keys")
        for r in rows:
            state = "revoked" if r["revoked"] else "active"
            print(
                f"{r['partner_id']}  {r['key_id']}  {state:<7}  {r['type']:<11}  {r['tier']:<8}  "
                f"{','.join(r['scopes'])}  {','.join(r['origins']) or '-'}  {r['name']}"
            )
    return 0


def cmd_webhooks(args: argparse.Namespace) -> int:
    svc = Container().webhooks
    if args.webhook_command == "set":
        out = svc.register(args.partner_id, args.url)
        print(f"url    : {out['url']}")
        print(f"secret : {out['secret']}")
        print("Events are POSTed as JSON with " + out["signature"])
    elif args.webhook_command == "show":
        state = svc.state(args.partner_id, args.limit)
        print(f"url: {state['url']} (since {state['created_at']})")
        if not state["enabled"]:
            print(f"DISABLED since {state['disabled_at']}: {state['disabled_reason']}")
            print("  (register the URL again with `webhooks set` to enable it)")
        if state["previous_secrets_expire_at"]:
            print(
                f"signing with {state['signatures']} secrets until "
                f"{state['previous_secrets_expire_at']} (rotation)"
            )
        if not state["deliveries"]:
            print("no deliveries yet")
        for d in state["deliveries"]:
            when = d["delivered_at"] or d["next_attempt_at"] or d["created_at"]
            print(
                f"{d['id']}  {d['state']:<9}  attempts={d['attempts']}  "
                f"status={d['last_status'] or '-'}  {when}  {d['last_error'] or ''}"
            )
    elif args.webhook_command == "remove":
        svc.unregister(args.partner_id)
        print(f"removed the webhook of partner {args.partner_id}")
    elif args.webhook_command == "rotate-secret":
        out = svc.rotate_secret(args.partner_id, args.grace)
        print(f"secret : {out['secret']}")
        if out["previous_secrets_expire_at"]:
            print(
                f"the previous secret signs too until {out['previous_secrets_expire_at']}"
            )
        else:
            print("the previous secret no longer signs")
    elif args.webhook_command == "replay":
        d = svc.replay(args.partner_id, args.delivery_id)
        print(
            f"{d['id']}  {d['state']}  attempts={d['attempts']}  "
            f"status={d['last_status'] or '-'}  {d['last_error'] or ''}".rstrip()
        )
        return 0 if d["state"] == "delivered" else 1
    else:
        done = svc.deliver_due(args.limit)
        ok = sum(d.state == "delivered" for d in done)
        failed = sum(d.state == "failed" for d in done)
        print(
            f"{len(done)} due: {ok} delivered, {failed} failed for good, "
            f"{len(done) - ok - failed} to retry"
        )
    return 0


def cmd_compile(args: argparse.Namespace) -> int:
    """Write the JSON copies the deployed app loads at cold start."""
    from chalicelib.questionnaire import compile_questionnaire

    for path in sorted(Path(args.directory).glob("*.yaml")):
        print(f"compiled {compile_questionnaire(path)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="validate questionnaire files")
    p.add_argument(
        "paths", nargs="*", help="files to check (default: questionnaires/*.yaml)"
    )
    p.set_defaults(func=cmd_check)
    p = sub.add_parser(
        "compile", help="write JSON copies of questionnaires (build step)"
    )
    p.add_argument("directory", help="folder of questionnaire YAML files")
    p.set_defaults(func=cmd_compile)
    from chalicelib.reference import DEFAULT_SEED, DEFAULT_SIZE

    p = sub.add_parser(
        "seed-reference", help="load the synthetic reference cohort (once)"
    )
    p.add_argument("--size", type=int, default=DEFAULT_SIZE)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument(
        "--replace",
        action="store_true",
        help="delete the stored reference aggregates first (after a generator change)",
    )
    p.set_defaults(func=cmd_seed_reference)
    p = sub.add_parser(
        "releases",
        help="benchmark releases: publish now, list, show (docs/RELEASES.md)",
    )
    rsub = p.add_subparsers(dest="action", required=True)
    c = rsub.add_parser(
        "publish", help="fold pending submissions, then publish a release per grid"
    )
    c.add_argument(
        "--grid",
        action="append",
        default=[],
        help="source/questionnaire/version (repeatable; default: every grid)",
    )
    c = rsub.add_parser("list", help="a grid's releases, newest first")
    c.add_argument("grid", help="source/questionnaire/version, e.g. real/smm/2.0.0")
    c.add_argument("--limit", type=int, default=20)
    c = rsub.add_parser("show", help="one release's public figures as JSON")
    c.add_argument("grid", help="source/questionnaire/version, e.g. real/smm/2.0.0")
    c.add_argument("id", nargs="?", default=None, help="release id (default: latest)")
    c.add_argument(
        "--released-only", action="store_true", help="only cells with figures"
    )
    p.set_defaults(func=cmd_releases)
    p = sub.add_parser(
        "reference-calibration",
        help="print the reference cohort's calibration table (docs/REFERENCE.md)",
    )
    p.add_argument("--questionnaire", default="smm")
    p.add_argument("--version", default=None)
    p.add_argument("--size", type=int, default=DEFAULT_SIZE)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.set_defaults(func=cmd_reference_calibration)
    p = sub.add_parser(
        "reliability", help="Cronbach's alpha per dimension (reference pool)"
    )
    p.add_argument("--questionnaire", default="smm")
    p.add_argument("--version", default=None)
    p.add_argument("--size", type=int, default=DEFAULT_SIZE)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.set_defaults(func=cmd_reliability)
    from chalicelib.partners import SCOPES, TIERS

    p = sub.add_parser("partner", help="manage partner API keys")
    psub = p.add_subparsers(dest="partner_command", required=True)
    c = psub.add_parser(
        "create", help="create a partner and its first key (shown once)"
    )
    c.add_argument("--name", required=True)
    c.add_argument(
        "--scopes", default="submit,read", help=f"comma-separated: {','.join(SCOPES)}"
    )
    c.add_argument(
        "--origins", default="", help="comma-separated browser origins for CORS"
    )
    c.add_argument("--tier", default="free", choices=TIERS)
    c = psub.add_parser(
        "publishable",
        help="add a publishable key (smmp_, for the widget in web pages) to a partner",
    )
    c.add_argument("partner_id")
    c.add_argument(
        "--origins",
        required=True,
        help="comma-separated origins of the partner's pages (at least one)",
    )
    c.add_argument("--name", default=None)
    c = psub.add_parser(
        "rotate",
        help="add a second active key of the same partner and tier: the settings of the "
        "chosen key, or the ones given",
    )
    c.add_argument(
        "key",
        metavar="key_id",
        help="the key to replace (or a partner id that has exactly one active key)",
    )
    c.add_argument(
        "--scopes", default=None, help="comma-separated (default: the chosen key's)"
    )
    c.add_argument(
        "--origins",
        default=None,
        help="comma-separated, '' for none (default: the chosen key's)",
    )
    c.add_argument("--name", default=None, help="default: the chosen key's")
    c = psub.add_parser(
        "usage-id",
        help="print the API Gateway usage id of a partner and tier (needs SMM_SECRET)",
    )
    c.add_argument("partner_id")
    c.add_argument("--tier", choices=TIERS, default="free")
    c = psub.add_parser("revoke", help="revoke a key")
    c.add_argument("key_id")
    c = psub.add_parser("list", help="list keys (never the keys themselves)")
    c.add_argument("--partner-id", default=None)
    p.set_defaults(func=cmd_partner)
    p = sub.add_parser("branding", help="a partner's white label (widget, result, PDF)")
    bsub = p.add_subparsers(dest="branding_command", required=True)
    c = bsub.add_parser("set", help="set (replace) a partner's white label")
    c.add_argument("partner_id")
    c.add_argument("--display-name", required=True)
    c.add_argument("--color", default=None, help="primary colour #rrggbb")
    c.add_argument("--logo", default=None, help="PNG, JPEG, GIF or WebP file (40 KiB)")
    c.add_argument("--imprint", default=None, help="https:// link")
    c.add_argument("--privacy", default=None, help="https:// link")
    c.add_argument("--language", default=None, choices=("de", "en"))
    c = bsub.add_parser("show", help="a partner's white label")
    c.add_argument("partner_id")
    c = bsub.add_parser("remove", help="back to the product's own look")
    c.add_argument("partner_id")
    p.set_defaults(func=cmd_branding)
    p = sub.add_parser("webhooks", help="partner webhooks: register, inspect, deliver")
    wsub = p.add_subparsers(dest="webhook_command", required=True)
    c = wsub.add_parser("set", help="register (or replace) a partner's endpoint")
    c.add_argument("partner_id")
    c.add_argument("url")
    c = wsub.add_parser("show", help="endpoint and recent deliveries")
    c.add_argument("partner_id")
    c.add_argument("--limit", type=int, default=20)
    c = wsub.add_parser("remove", help="stop sending events to a partner")
    c.add_argument("partner_id")
    c = wsub.add_parser(
        "rotate-secret",
        help="new signing secret; the previous one signs too for a grace period",
    )
    c.add_argument("partner_id")
    c.add_argument(
        "--grace",
        type=int,
        default=86_400,
        help="seconds the previous secret keeps signing (0: stop now; at most 604800)",
    )
    c = wsub.add_parser(
        "replay", help="one more attempt of a failed delivery, now (exit 1 if it fails)"
    )
    c.add_argument("partner_id")
    c.add_argument("delivery_id")
    c = wsub.add_parser(
        "deliver", help="retry the deliveries that are due (what AWS runs every minute)"
    )
    c.add_argument("--limit", type=int, default=200)
    p.set_defaults(func=cmd_webhooks)
    from chalicelib.export_cli import register as register_export

    register_export(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
