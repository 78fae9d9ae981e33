"""``huizong check``, ``huizong findings``, ``huizong alerts send``."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime


def register(subparsers) -> None:
    check = subparsers.add_parser(
        "check",
        help="re-check staged returns, completeness and notices; print findings and how they "
        "compare with the stored open ones",
    )
    check.add_argument("--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD (today)")
    check.add_argument("--record", action="store_true", help="also store the findings")
    check.add_argument("--json", action="store_true", help="one JSON object per finding")
    check.set_defaults(func=_check)

    findings = subparsers.add_parser(
        "findings", help="list stored findings (--open: those not yet resolved) and count them"
    )
    findings.add_argument("--unit", help="12-digit unit code: that unit and its subtree")
    findings.add_argument("--open", action="store_true", help="only findings not yet resolved")
    findings.add_argument("--json", action="store_true", help="one JSON object per finding")
    findings.set_defaults(func=_findings)

    alerts = subparsers.add_parser("alerts", help="officials' digests: build and send them")
    alerts_sub = alerts.add_subparsers(title="alerts commands", metavar="ACTION")
    send = alerts_sub.add_parser("send", help="build and send the digests of new/resolved findings")
    send.add_argument("--outbox", help="write .eml files here instead of the configured transport")
    send.add_argument("--run-id", default=None, help="digest run id (default: cli-<timestamp>)")
    send.add_argument("--recipients", help="load this recipients CSV first")
    send.set_defaults(func=_alerts_send)
    alerts.set_defaults(func=lambda args: alerts.print_help() or 2)


def _engine():
    from huizong.warehouse.db import get_engine

    return get_engine()


def _print(rows: list[dict], as_json: bool) -> None:
    for row in rows:
        if as_json:
            print(json.dumps(row, ensure_ascii=False, default=str))
        else:
            state = "resolved" if row.get("resolved_at") else "open"
            print(
                f"{row['severity']:<5} {row['check_name']:<24} {row['unit_code']} {row['period']} "
                f"{row.get('indicator_code') or '-':<3} [{state}] {row['message_zh']}"
            )


def _check(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from huizong.quality.findings import record
    from huizong.quality.rules import check_completeness, check_staged, link_notice_deadlines

    engine = _engine()
    link_notice_deadlines(engine)
    as_of = args.as_of or date.today()
    found = check_staged(engine) + check_completeness(engine, as_of=as_of)
    rows = [{**asdict(f), "finding_id": f.finding_id} for f in found]
    _print(rows, args.json)
    if args.record:
        delta = record(engine, found, seen_at=datetime.now(UTC))
        print(json.dumps(delta.summary()))
    errors = sum(1 for f in found if f.severity == "error")
    print(f"{len(found)} finding(s), {errors} error(s), as of {as_of.isoformat()}")
    _compare_with_stored(engine, {f.finding_id for f in found})
    return 1 if errors else 0


def _compare_with_stored(engine, found_ids: set[str]) -> None:
    """Say how this check relates to the open findings `huizong findings --open` lists.

    A check re-evaluates what is staged, completeness and notices; the audit of
    each run also stored findings about returns it then published or blocked,
    which are no longer staged. Without this line `check` said 7 where
    `findings --open` listed 17, and nothing said why.
    """
    from huizong.quality.findings import load_findings

    stored = {r["finding_id"] for r in load_findings(engine, open_only=True)}
    again, not_rechecked, unstored = stored & found_ids, stored - found_ids, found_ids - stored
    print(
        f"{len(stored)} open finding(s) stored (as `huizong findings --open` lists): "
        f"{len(again)} found again now, {len(not_rechecked)} not found by this check "
        "(about returns already published or blocked, checked when they were staged; "
        "or resolved since: `--record` resolves those in its scope), "
        f"{len(unstored)} new here and not stored (`--record` stores them)"
    )


def _findings(args: argparse.Namespace) -> int:
    from huizong.alerts.recipients import subtree
    from huizong.quality.findings import load_findings

    engine = _engine()
    units = subtree(engine, args.unit) if args.unit else None
    rows = load_findings(engine, unit_codes=units, open_only=args.open)
    _print(rows, args.json)
    if not args.json:
        errors = sum(1 for r in rows if r["severity"] == "error")
        what = "open finding(s)" if args.open else "finding(s)"
        print(f"{len(rows)} {what}, {errors} error(s)")
    return 0


def _alerts_send(args: argparse.Namespace) -> int:
    from huizong.alerts.digest import build_digests
    from huizong.alerts.recipients import load_recipients
    from huizong.alerts.transport import OutboxTransport, deliver, transport_from_env

    engine = _engine()
    if args.recipients:
        load_recipients(engine, args.recipients)
    transport = OutboxTransport(args.outbox) if args.outbox else transport_from_env()
    run_id = args.run_id or f"cli-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    sent = deliver(build_digests(engine, run_id=run_id), transport, engine=engine)
    print(f"{len(sent)} digest(s) sent: {', '.join(sent) or '-'}")
    return 0
