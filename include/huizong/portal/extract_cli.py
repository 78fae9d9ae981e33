"""``huizong extract``: statistics (or notice metadata) of saved pages."""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import sys
from pathlib import Path
from typing import Any, TextIO

STATISTIC_COLUMNS = (
    "file",
    "quote",
    "value",
    "unit",
    "qualifier",
    "indicator",
    "indicator_name",
    "org",
    "org_code",
    "period",
    "kind",
    "row_header",
    "col_header",
    "start",
    "end",
    "raw_start",
    "raw_end",
    "figure",
    "checks",
)
NOTICE_COLUMNS = (
    "file",
    "title",
    "issuer",
    "level",
    "issuer_code",
    "published",
    "source",
    "author",
    "doc_number",
    "recipients",
    "deadline",
    "deadline_task",
    "report_to",
    "report_email",
    "signature_date",
    "is_notice",
    "flags",
)

DESCRIPTION = """\
Read saved portal pages (.txt, or .html/.htm in any charset) and print every
statistic found: one JSON object per line, or CSV with a header row.

Each statistic carries its quote with offsets into the normalized and raw
text, the value in base units (3.19万人次 → 31900), the unit, a qualifier
(exact, at_least, approx, at_most), the FL-01 indicator when it maps, the
organisation and period it describes, and any consistency checks.
"""

EPILOG = """\
examples:
  huizong extract page.html
  huizong extract --org 株洲市妇联 --published 2021-01-20 report.txt
  huizong extract --format csv pages/*.html > statistics.csv
  huizong extract --notice notice.txt      title, issuer, deadline, …

exit status: 0 on success, 2 when a file cannot be read or an option is invalid.
"""


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc


def _css_selector(value: str) -> str:
    from huizong.portal.htmlstyle import UnsupportedSelector, compile_selector_list

    try:
        compile_selector_list(value)
    except UnsupportedSelector as exc:
        raise argparse.ArgumentTypeError(
            f"cannot use CSS selector {value!r} ({exc}); use tags, #id, .class, "
            "[attribute] and combinators, e.g. 'div.article' or '#zoom'"
        ) from exc
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "extract",
        help="statistics and notice metadata of saved pages",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE", type=Path, help="page saved as .txt or .html"
    )
    parser.add_argument(
        "--org",
        metavar="NAME",
        help="organisation that published the pages, e.g. 株洲市妇联 (else inferred)",
    )
    parser.add_argument(
        "--published",
        metavar="DATE",
        type=_date,
        help="publication date YYYY-MM-DD; gives year-less dates their year",
    )
    parser.add_argument(
        "--format",
        choices=("jsonl", "csv"),
        default="jsonl",
        help="output format (default: jsonl)",
    )
    parser.add_argument(
        "--notice",
        action="store_true",
        help="print each page's notice metadata instead of its statistics",
    )
    parser.add_argument(
        "--selector",
        metavar="CSS",
        type=_css_selector,
        help="CSS selector of the article body in HTML pages (else found heuristically)",
    )
    parser.set_defaults(func=run)


def read_page(path: Path) -> tuple[str, bool]:
    """Decoded text of ``path`` and whether it is HTML."""
    from huizong.portal.charset import decode_html
    from huizong.portal.htmltext import looks_like_html

    data = path.read_bytes()
    declared_html = path.suffix.lower() in (".html", ".htm", ".shtml", ".xhtml")
    text = decode_html(data).text
    return text, declared_html or looks_like_html(text)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    if value is None:
        return ""
    return value


def _write(records: list[dict[str, Any]], columns: tuple[str, ...], fmt: str, out: TextIO) -> None:
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for record in records:
            writer.writerow({k: _csv_cell(record.get(k)) for k in columns})
        return
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False, default=_jsonable, allow_nan=False) + "\n")


def run(args: argparse.Namespace) -> int:
    from huizong.portal.charset import CharsetError
    from huizong.portal.extract import extract_page

    pages: list[tuple[Path, str, bool]] = []
    for path in args.files:
        try:
            text, is_html = read_page(path)
        except FileNotFoundError:
            print(f"huizong extract: {path}: no such file", file=sys.stderr)
            return 2
        except IsADirectoryError:
            print(f"huizong extract: {path}: is a directory, not a page", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"huizong extract: {path}: cannot read: {exc.strerror or exc}", file=sys.stderr)
            return 2
        except CharsetError as exc:
            print(
                f"huizong extract: {path}: not readable text ({exc}); "
                "save the page as UTF-8 or GBK and try again",
                file=sys.stderr,
            )
            return 2
        pages.append((path, text, is_html))

    records: list[dict[str, Any]] = []
    for path, text, is_html in pages:
        extraction = extract_page(
            text,
            is_html=is_html,
            org=args.org,
            published=args.published,
            url=str(path),
            selector=getattr(args, "selector", None),
        )
        if args.notice:
            records.append({"file": str(path), **extraction.notice.to_dict()})
        else:
            records.extend({"file": str(path), **s.to_dict()} for s in extraction.statistics)
    columns = NOTICE_COLUMNS if args.notice else STATISTIC_COLUMNS
    _write(records, columns, args.format, sys.stdout)
    return 0
