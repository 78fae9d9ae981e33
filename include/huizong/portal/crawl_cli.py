"""``huizong crawl``, ``huizong portals try|suggest`` and ``huizong sample-portal``."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

from huizong.portal.article import notice_of, text_head
from huizong.portal.config import PortalConfig, PortalConfigError, get_portal, load_portals
from huizong.portal.crawl import CrawlResult, FetchedPage, crawl_portal
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

    portals = subparsers.add_parser(
        "portals",
        help="try a portal config without writing anything, or have one suggested",
        description="Write and check portal configs (the portals YAML file).",
    )
    portal_commands = portals.add_subparsers(title="portal commands", metavar="COMMAND")
    try_ = portal_commands.add_parser(
        "try",
        help="dry-run a portals file: what each list page and article yields",
        description=(
            "Crawl the portals of CONFIG as `huizong crawl` would (same allowlist, "
            "robots.txt, limits) but write nothing: no raw files, no fetch state, no "
            "warehouse rows. Prints per list page how many articles it found and how "
            "it paginated, and per article its title, date, document number, deadline "
            "and the first 60 characters of its text, then every warning and error."
        ),
        epilog="Exit status: 0 no errors, 1 some pages failed, 2 the config is unusable.",
    )
    try_.add_argument("config", metavar="CONFIG", type=Path, help="portals YAML file")
    try_.add_argument(
        "--id",
        metavar="ID",
        action="append",
        dest="portal_ids",
        help="only this portal; repeat for several (default: all in CONFIG)",
    )
    try_.add_argument(
        "--json",
        action="store_true",
        help=(
            'one JSON object a line: {"list_page","articles","next"} per list page, '
            '{"url","title","published","doc_number","deadline","truncated","text_head",'
            '"also_at"} per article, {"warning"} and {"error","url"} after them'
        ),
    )
    try_.add_argument(
        "--max-articles", metavar="N", type=int, default=None, help="read at most N articles"
    )
    try_.set_defaults(func=run_try)

    suggest = portal_commands.add_parser(
        "suggest",
        help="propose a portal config from one list page",
        description=(
            "Fetch the list page URL (and the first article it links to) under the "
            "crawler's rules — only URL's own host and port, robots.txt, size and time "
            "limits — and print a proposed portals YAML entry: list page, article "
            "selector, pagination kind, main-text selector, and where titles and dates "
            "come from. Nothing is written; review it, save it, then run "
            "`huizong portals try` on it."
        ),
        epilog="Exit status: 0 proposed, 1 the page could not be read or holds no list.",
    )
    suggest.add_argument("url", metavar="URL", help="a list page (通知公告, 工作动态 …)")
    suggest.add_argument(
        "--allow-private",
        action="store_true",
        help="allow a host on a loopback/private address (a local test site)",
    )
    suggest.set_defaults(func=run_suggest)

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


def run_try(args: argparse.Namespace) -> int:
    try:
        portals = load_portals(args.config)
        if args.portal_ids:
            portals = [get_portal(portals, portal_id) for portal_id in args.portal_ids]
    except PortalConfigError as exc:
        print(f"huizong portals try: {exc}", file=sys.stderr)
        return 2
    failed = False
    for portal in portals:
        result = crawl_portal(
            portal,
            partition=date.today().isoformat(),
            raw_store=None,
            state_store=None,
            max_articles=args.max_articles,
        )
        records = try_records(result)
        if args.json:
            for record in records:
                print(json.dumps(record, ensure_ascii=False), flush=True)
        else:
            print_try(portal, records)
        failed = failed or bool(result.errors)
    return 1 if failed else 0


def try_records(result: CrawlResult) -> list[dict[str, Any]]:
    """What a dry run found, as the JSON lines of ``huizong portals try --json``."""
    records: list[dict[str, Any]] = [
        {"list_page": visit.url, "articles": visit.articles, "next": visit.next, "how": visit.how}
        for visit in result.list_visits
    ]
    records.extend(article_record(page, result.also_at.get(page.url, [])) for page in result.pages)
    records.extend({"warning": warning} for warning in result.warnings)
    records.extend({"note": note} for note in result.notes)
    records.extend(
        {"error": error.reason, "url": error.url, "status": error.status} for error in result.errors
    )
    return records


def article_record(page: FetchedPage, also_at: list[str]) -> dict[str, Any]:
    article = page.article
    assert article is not None  # every kept article was read
    notice = notice_of(article)
    return {
        "url": page.url,
        "title": article.title,
        "title_from": article.title_source,
        "published": article.published.isoformat() if article.published else None,
        "published_from": article.published_source,
        "doc_number": notice.doc_number,
        "deadline": notice.deadline.isoformat() if notice.deadline else None,
        "truncated": page.truncated,
        "text_head": text_head(article),
        "also_at": also_at,
    }


def print_try(portal: PortalConfig, records: list[dict[str, Any]]) -> None:
    print(f"{portal.id} ({portal.name}): dry run, nothing written")
    for record in records:
        if "list_page" in record:
            print(f"list page {record['list_page']}: {record['articles']} articles")
            print(f"  next: {record['next'] or '-'} ({record['how']})")
        elif "url" in record and "title" in record:
            print(f"article {record['url']}")
            print(f"  title:      {record['title'] or '(none)'} [{record['title_from']}]")
            print(f"  published:  {record['published'] or '(none)'} [{record['published_from']}]")
            print(f"  doc number: {record['doc_number'] or '-'}")
            print(f"  deadline:   {record['deadline'] or '-'}")
            if record["truncated"]:
                print("  truncated:  yes (longer than max_bytes)")
            print(f"  text:       {record['text_head']}")
            for other in record["also_at"]:
                print(f"  also at:    {other}")
        elif "warning" in record:
            print(f"warning: {record['warning']}")
        elif "note" in record:
            print(f"note: {record['note']}")
        else:
            status = f" [HTTP {record['status']}]" if record["status"] is not None else ""
            print(f"error: {record['url']}{status}: {record['error']}")


def run_suggest(args: argparse.Namespace) -> int:
    from huizong.portal.suggest import SuggestError, suggest

    try:
        proposal = suggest(args.url, allow_private=args.allow_private)
    except SuggestError as exc:
        print(f"huizong portals suggest: {exc}", file=sys.stderr)
        return 1
    print(proposal.to_yaml(), end="")
    return 0


def run_sample_portal(args: argparse.Namespace) -> int:
    return serve(args.host, args.port)
