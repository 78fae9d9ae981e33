"""Warehouse commands: ``db migrate``, ``orgs load``, ``sql``, ``quarantine``."""

from __future__ import annotations

import argparse
import csv
import sys
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.engine import Engine

from huizong.decimals import exact_decimal
from huizong.textsafe import safe_text, visible


def _warehouse_url(args: argparse.Namespace) -> str:
    if getattr(args, "warehouse", None):
        return args.warehouse
    from huizong.settings import get_settings

    return get_settings().warehouse_url


def _engine(args: argparse.Namespace) -> Engine:
    from huizong.warehouse.db import get_engine

    return get_engine(_warehouse_url(args))


def _add_warehouse_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--warehouse",
        metavar="URL",
        help="warehouse database URL (default: HUIZONG_WAREHOUSE_URL or var/warehouse.db)",
    )


# --- db migrate ---------------------------------------------------------------


def cmd_db_migrate(args: argparse.Namespace) -> int:
    from huizong.warehouse import db, seed

    engine = _engine(args)
    applied = db.migrate(engine)
    counts = seed.seed_all(engine)
    print(f"warehouse: {engine.url.render_as_string(hide_password=True)}")
    print(f"applied {len(applied)} migration file(s):")
    for name in applied:
        print(f"  {name}")
    print(
        "seeded (keyed upserts, unchanged rows stay as they were): "
        + ", ".join(f"{n} {what}" for what, n in counts.items())
    )
    return 0


# --- orgs load ----------------------------------------------------------------


def cmd_orgs_load(args: argparse.Namespace) -> int:
    from huizong.warehouse import seed

    try:
        count = seed.seed_org_units(_engine(args), Path(args.file))
    except seed.OrgUnitFileError as exc:
        print(f"huizong orgs load: {exc}", file=sys.stderr)
        return 1
    print(f"loaded {count} org units from {args.file}")
    return 0


# --- sql ----------------------------------------------------------------------


def _driver_errors() -> tuple[type[Exception], ...]:
    import sqlite3

    errors: list[type[Exception]] = [sqlite3.Error]
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pass
    else:
        errors.append(psycopg.Error)
    return tuple(errors)


def _analyst_url(args: argparse.Namespace) -> str:
    """``--warehouse``, else ``HUIZONG_ANALYST_URL`` (an analyst login), else the warehouse."""
    import os

    from huizong.warehouse.readonly import ANALYST_URL_ENV

    if getattr(args, "warehouse", None):
        return args.warehouse
    return os.environ.get(ANALYST_URL_ENV) or _warehouse_url(args)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return format(exact_decimal(value), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def csv_safe(value: Any) -> str:
    """A cell for CSV that a spreadsheet will not run as a formula.

    Text starting with ``= + - @``, tab or carriage return gets a leading
    ``'``. Numbers stay as they are: ``-5`` cannot carry a formula.
    """
    text = _cell_text(value)
    if isinstance(value, str):
        return safe_text(text)  # also shows control/bidi characters (huizong.textsafe)
    return text


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _display_width(text))
    return gap + text if right else text + gap


def write_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO) -> None:
    """An aligned text table; numbers right-aligned, CJK counted as double width."""
    texts = [
        [visible(_cell_text(v).replace("\n", " "), one_line=True) for v in row] for row in rows
    ]
    widths = [
        max([_display_width(c)] + [_display_width(r[i]) for r in texts])
        for i, c in enumerate(columns)
    ]
    numeric = [
        bool(rows)
        and all(isinstance(r[i], int | float | Decimal) or r[i] is None for r in rows)
        and not all(isinstance(r[i], bool) for r in rows)
        for i in range(len(columns))
    ]
    out.write(" | ".join(_pad(c, w, False) for c, w in zip(columns, widths, strict=True)) + "\n")
    out.write("-+-".join("-" * w for w in widths) + "\n")
    for row in texts:
        cells = (_pad(t, w, n) for t, w, n in zip(row, widths, numeric, strict=True))
        out.write(" | ".join(cells) + "\n")
    out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")


def write_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_safe(c) for c in columns])
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])


def cmd_sql(args: argparse.Namespace) -> int:
    from huizong.warehouse import readonly

    try:
        columns, rows = readonly.run_analyst_query(
            _analyst_url(args), args.statement, timeout_s=args.timeout
        )
    except readonly.Refused as exc:
        print(
            f"huizong sql: refused (read-only, one SELECT over the v_* views): {exc}",
            file=sys.stderr,
        )
        return 2
    except (readonly.Timeout, readonly.AnalystRoleUnavailable) as exc:
        print(f"huizong sql: {exc}", file=sys.stderr)
        return 1
    except (*_driver_errors(), ValueError, FileNotFoundError) as exc:
        message = (str(exc).strip() or repr(exc)).splitlines()[0]
        print(f"huizong sql: {message}", file=sys.stderr)
        return 1
    if not columns:
        print("(statement returned no rows)")
        return 0
    if args.csv:
        write_csv(columns, rows, sys.stdout)
    else:
        write_table(columns, rows, sys.stdout)
    return 0


# --- quarantine ---------------------------------------------------------------


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    from huizong.warehouse.load import list_quarantine

    status = None if args.status == "all" else args.status
    entries = list_quarantine(_engine(args), status=status)
    columns = ["id", "status", "reason", "unit", "form", "period", "source", "held since"]
    rows = [
        (
            e.quarantine_id[:12],
            e.status,
            e.reason,
            e.received.submitted_unit_code,
            e.received.form,
            e.received.period,
            f"{e.received.channel}:{e.received.source_uri}",
            e.created_at.strftime("%Y-%m-%d %H:%M"),
        )
        for e in entries
    ]
    write_table(columns, rows, sys.stdout)
    if args.verbose:
        for e in entries:
            detail = visible(e.detail, one_line=True)  # quotes what the submitter sent
            print(f"\n{e.quarantine_id}\n  {detail}\n  raw: {e.received.raw_path}")
    return 0


def cmd_quarantine_release(args: argparse.Namespace) -> int:
    from huizong.warehouse.load import release_quarantine

    try:
        entry = release_quarantine(_engine(args), args.id)
    except KeyError as exc:
        print(f"huizong quarantine release: {exc.args[0]}", file=sys.stderr)
        return 1
    r = entry.received
    print(
        f"released {entry.quarantine_id} ({r.channel}:{r.source_uri}, was: {entry.reason}); "
        "intake triages it again on its next run"
    )
    return 0


# --- registration -------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:
    db_parser = subparsers.add_parser("db", help="warehouse schema")
    db_sub = db_parser.add_subparsers(title="db commands", metavar="COMMAND", required=True)
    migrate = db_sub.add_parser(
        "migrate",
        help="create or update the warehouse tables and views, seed reference data",
        description=(
            "Apply sql/ (tables IF NOT EXISTS, views re-created, analyst role on "
            "PostgreSQL) and seed the indicator catalog, periods and the seed org "
            "units. Running it again changes nothing."
        ),
    )
    _add_warehouse_option(migrate)
    migrate.set_defaults(func=cmd_db_migrate)

    orgs = subparsers.add_parser("orgs", help="organisation units (division codes)")
    orgs_sub = orgs.add_subparsers(title="orgs commands", metavar="COMMAND", required=True)
    load = orgs_sub.add_parser(
        "load",
        help="load a division-code list (CSV or CSV.gz: code,name,level,parent_code)",
        description=(
            "Upsert every row of a division-code list into dim_org_unit. A bad row "
            "stops the load and names FILE:LINE."
        ),
    )
    load.add_argument("file", metavar="FILE", help="e.g. include/huizong/data/divisions_cn.csv.gz")
    _add_warehouse_option(load)
    load.set_defaults(func=cmd_orgs_load)
    from huizong.portal.orgs_find import register_find

    register_find(orgs_sub)

    sql = subparsers.add_parser(
        "sql",
        help="run one read-only SQL query over the analyst views (v_*)",
        description=(
            "Run one SELECT, WITH ... SELECT, VALUES or EXPLAIN over the v_* views "
            "(sql/marts/README.md) and print an aligned table, or CSV with --csv. "
            "Anything else is refused: writes, SET/RESET, transaction control, COPY, "
            "DO, CALL, LOCK, ATTACH, PRAGMA, base tables and functions that are not "
            "pure computations. PostgreSQL: runs as the role huizong_analyst in a "
            "READ ONLY transaction, logged in as HUIZONG_ANALYST_URL when set; "
            "SQLite: opened read-only with an authorizer. See "
            "huizong.warehouse.readonly and SECURITY.md."
        ),
    )
    sql.add_argument("statement", metavar="SQL", help='e.g. "SELECT * FROM v_completeness"')
    sql.add_argument(
        "--csv",
        action="store_true",
        help="CSV output; text cells starting with = + - @ get a leading ' for spreadsheets",
    )
    sql.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="cancel the query after this long (default 60)",
    )
    _add_warehouse_option(sql)
    sql.set_defaults(func=cmd_sql)

    q = subparsers.add_parser("quarantine", help="returns held back from loading")
    q_sub = q.add_subparsers(title="quarantine commands", metavar="COMMAND", required=True)
    q_list = q_sub.add_parser("list", help="list quarantined returns and why they are held")
    q_list.add_argument(
        "--status",
        choices=("held", "released", "requeued", "all"),
        default="held",
        help="which entries to show (default: held)",
    )
    q_list.add_argument("-v", "--verbose", action="store_true", help="also print details")
    _add_warehouse_option(q_list)
    q_list.set_defaults(func=cmd_quarantine_list)
    q_release = q_sub.add_parser(
        "release",
        help="release a held return so intake triages it again",
        description=(
            "Mark a quarantined return released; the next intake run reads it "
            "again. The same file is never held twice; a corrected file is new."
        ),
    )
    q_release.add_argument("id", metavar="ID", help="quarantine id, or a unique prefix (≥ 8)")
    _add_warehouse_option(q_release)
    q_release.set_defaults(func=cmd_quarantine_release)
