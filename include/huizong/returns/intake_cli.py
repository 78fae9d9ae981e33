"""``huizong returns scan`` and ``huizong returns api-server``.

``scan`` is a dry run: the files are copied into a throw-away raw store, so it
shows what the next intake would receive, reject and ignore without writing
anything the pipeline keeps.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import date
from typing import Any

from huizong.returns.cli import returns_subcommands
from huizong.textsafe import safe_json, visible


def register(subparsers: argparse._SubParsersAction) -> None:
    commands = returns_subcommands(subparsers)
    scan = commands.add_parser(
        "scan",
        help="dry run: what a drop folder scan would receive, reject and ignore",
        description=(
            "List what the next intake of a drop folder would do with each file, without "
            "keeping anything. ROOT is a folder or an object-store URL (file://, s3://) laid "
            "out <unit code>/<form>/<period>/<file>. Exit 0 when nothing is rejected, 1 when "
            "something is."
        ),
    )
    scan.add_argument("root", metavar="ROOT", help="drop folder path or object-store URL")
    scan.add_argument(
        "--partition",
        default=date.today().isoformat(),
        help="raw partition the files would land in (default: today)",
    )
    scan.add_argument(
        "--triage",
        action="store_true",
        help="also read each received file and say whether it would be staged or quarantined",
    )
    scan.add_argument("--json", action="store_true", help="one JSON object per file")
    scan.set_defaults(func=run_scan)

    from huizong.returns import api_server

    server = commands.add_parser(
        "api-server",
        help="run the reference reporting-system API on 127.0.0.1 (tests, demo)",
        description=api_server.__doc__.split("\n\n")[0] if api_server.__doc__ else None,
    )
    api_server.add_arguments(server)
    server.set_defaults(func=api_server.run_from_args)


def _lines(args: argparse.Namespace, raw_dir: str) -> tuple[list[dict[str, Any]], int]:
    from huizong.returns.intake import scan_drop_folder, triage
    from huizong.returns.model import QuarantineRecord

    result = scan_drop_folder(args.root, raw_dir=raw_dir, partition=args.partition)
    lines: list[dict[str, Any]] = []
    held = len(result.rejected)
    for received in result.received:
        line: dict[str, Any] = {
            "outcome": "receive",
            "source": received.source_uri,
            "unit": received.submitted_unit_code,
            "form": received.form,
            "period": received.period,
            "sha256": received.raw_sha256,
        }
        if args.triage:
            outcome = triage(received)
            if isinstance(outcome, QuarantineRecord):
                held += 1
                line.update(outcome="quarantine", reason=outcome.reason, detail=outcome.detail)
            else:
                line.update(outcome="stage", problems=len(outcome.problems))
        lines.append(line)
    for record in result.rejected:
        lines.append(
            {
                "outcome": "reject",
                "source": record.received.source_uri,
                "reason": record.reason,
                "detail": record.detail,
            }
        )
    for notice in result.ignored:
        lines.append(
            {
                "outcome": "ignore",
                "source": notice.source_uri,
                "reason": notice.reason,
                "detail": notice.detail,
            }
        )
    return lines, held


def run_scan(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="huizong-scan-") as raw_dir:
        try:
            lines, held = _lines(args, raw_dir)
        except (FileNotFoundError, NotADirectoryError) as exc:
            print(f"huizong returns scan: {exc}", file=sys.stderr)
            return 2
    for line in lines:
        # file names, units and details come from submitters: shown, never obeyed
        line = safe_json(line)
        if args.json:
            print(json.dumps(line, ensure_ascii=False, allow_nan=False))
            continue
        line = {k: visible(v, one_line=True) if isinstance(v, str) else v for k, v in line.items()}
        where = line["source"] or "."
        if line["outcome"] in ("receive", "stage"):
            extra = f"  ({line['problems']} cell problems)" if line.get("problems") else ""
            print(
                f"{line['outcome']:<10} {where}  {line['unit']} {line['form']} "
                f"{line['period']}{extra}"
            )
        else:
            print(f"{line['outcome']:<10} {where}  [{line['reason']}] {line['detail']}")
    if not args.json:
        counts: dict[str, int] = {}
        for line in lines:
            counts[line["outcome"]] = counts.get(line["outcome"], 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing found"
        print(summary, file=sys.stderr)
    return 1 if held else 0
