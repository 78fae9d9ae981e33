"""``huizong crawl`` and ``huizong sample-portal``."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from pathlib import Path

from huizong.portal.config import PortalConfig, PortalConfigError, get_portal, load_portals
from huizong.portal.crawl import CrawlResult, crawl_portal
from huizong.portal.fetch import JsonFileStateStore
from huizong.portal.rawstore import RawPageStore
from huizong.portal.sample_site import DEFAULT_PORT, serve
from huizong.settings import get_settings

_PARTITION = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    crawl = subparsers.add_parser(
        "crawl",
        help="crawl configured portals and keep every response raw",
        description=(
            "Walk each portal's list pages, fetch the articles they link to, and land "
            "every response unchanged under <raw dir>/portal/<id>/<partition>/. "
            "Pages the site reports unchanged (304 or same content) are not stored "
            "again. Prints what was fetched, what was unchanged and every failure "
            "with its URL and reason."
        ),
        epilog=(
            "The bundled portals file crawls the sample portal; start it first with "
            "`huizong sample-portal`. Exit status: 0 all pages fetched, 1 some pages "
            "failed, 2 the configuration is unusable."
        ),
    )
    crawl.add_argument(
        "--portals",
        metavar="FILE",
        type=Path,
        help="portals YAML file (default: $HUIZONG_PORTALS_FILE, else the bundled one)",
    )
    crawl.add_argument(
        "--portal",
        metavar="ID",
        action="append",
        dest="portal_ids",
        help="crawl only this portal; repeat for several (default: all)",
    )
    crawl.add_argument(
        "--partition",
        metavar="YYYY-MM-DD",
        default=None,
        help="run partition the raw files are filed under (default: today)",
    )
    crawl.add_argument(
        "--max-articles",
        metavar="N",
        type=int,
        default=None,
        help="fetch at most N articles per portal",
    )
    crawl.set_defaults(func=run_crawl)

    sample = subparsers.add_parser(
        "sample-portal",
        help="serve the bundled sample portal (the five seed pages) on loopback",
        description=(
            "Serve the sample government portal that the bundled portals file points "
            "at: paginated lists (numbered and createPageHTML), article pages in "
            "UTF-8 and GBK, ETag/Last-Modified. Stops on Ctrl-C or SIGTERM."
        ),
    )
    sample.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sample.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to listen on, 0 for a free one (default {DEFAULT_PORT})",
    )
    sample.set_defaults(func=run_sample_portal)


def run_crawl(args: argparse.Namespace) -> int:
    settings = get_settings()
    partition = args.partition or date.today().isoformat()
    if not _PARTITION.match(partition):
        print(f"huizong crawl: --partition {partition!r} is not YYYY-MM-DD", file=sys.stderr)
        return 2
    try:
        portals = load_portals(args.portals or settings.portals_file)
        if args.portal_ids:
            portals = [get_portal(portals, portal_id) for portal_id in args.portal_ids]
    except PortalConfigError as exc:
        print(f"huizong crawl: {exc}", file=sys.stderr)
        return 2
    raw_store = RawPageStore(settings.raw_dir)
    failed = False
    for portal in portals:
        state_store = JsonFileStateStore(settings.data_dir / "state" / f"portal_{portal.id}.json")
        result = crawl_portal(
            portal,
            partition=partition,
            raw_store=raw_store,
            state_store=state_store,
            max_articles=args.max_articles,
        )
        print_summary(portal, result, raw_store.partition_dir(portal.id, partition))
        failed = failed or bool(result.errors)
    return 1 if failed else 0


def print_summary(portal: PortalConfig, result: CrawlResult, raw_dir: Path) -> None:
    fetched = len(result.pages)
    unchanged = result.unchanged_count
    print(f"{portal.id} ({portal.name}) partition {result.partition}")
    print(
        f"  articles: {fetched} fetched, {fetched - unchanged} new or changed, "
        f"{unchanged} unchanged; list pages: {len(result.list_pages)}"
    )
    print(f"  raw files written: {result.raw_files_written} under {raw_dir}")
    for note in result.notes:
        print(f"  note: {note}")
    for warning in result.warnings:
        print(f"  warning: {warning}")
    for url, others in result.also_at.items():
        print(f"  same article: {url} also at {', '.join(others)}")
    print(f"  errors: {len(result.errors)}")
    for error in result.errors:
        status = f" [HTTP {error.status}]" if error.status is not None else ""
        print(f"    {error.url}{status}: {error.reason}")


def run_sample_portal(args: argparse.Namespace) -> int:
    return serve(args.host, args.port)
