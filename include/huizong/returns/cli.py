"""``huizong returns …`` commands.

``register(subparsers)`` adds the ``returns`` command group with ``parse`` and
returns the group's subparsers. Another module adds its own ``returns``
subcommand from its own ``register(subparsers)``, whichever module runs first::

    from huizong.returns.cli import returns_subcommands

    def register(subparsers):
        load = returns_subcommands(subparsers).add_parser("load", help="…")
        load.set_defaults(func=run_load)  # func(args) -> int exit code

``returns_subcommands`` creates the ``returns`` group on first use and hands
back the same subparsers object afterwards.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from huizong.catalog import indicators
from huizong.returns.parse import FORM, ParsedReturn, ReturnFileError, parse_return
from huizong.textsafe import safe_json, safe_text, visible

EXIT_OK = 0
EXIT_UNREADABLE = 2

_GROUP_ATTRIBUTE = "_huizong_returns_subcommands"


def returns_subcommands(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The subparsers of the ``returns`` command group, created on first call."""
    group = subparsers.choices.get("returns")
    if group is None:
        group = subparsers.add_parser(
            "returns",
            help="FL-01 returns: parse a workbook, dry-run a drop scan, serve the reference API",
            description="Work with FL-01 returns (the standard form units report upward).",
        )
        group.set_defaults(func=lambda _args: _print_group_help(group))
    existing = getattr(group, _GROUP_ATTRIBUTE, None)
    if existing is None:
        existing = group.add_subparsers(title="returns commands", metavar="SUBCOMMAND")
        setattr(group, _GROUP_ATTRIBUTE, existing)
    return existing


def _print_group_help(group: argparse.ArgumentParser) -> int:
    group.print_help()
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """Add ``returns parse``; returns the ``returns`` subparsers for further commands."""
    commands = returns_subcommands(subparsers)
    parse = commands.add_parser(
        "parse",
        help="read one FL-01 workbook (.xlsx, .xls, .csv) however messy",
        description=(
            "Read one FL-01 return and print its unit, period and figures by 代码. "
            "Figures that cannot be valid are left empty and listed as problems. "
            "Exit 0 when the file was read (even with problems), 2 when it cannot be."
        ),
    )
    parse.add_argument("file", metavar="FILE", help="the return workbook")
    parse.add_argument("--json", action="store_true", help="print the parsed return as JSON")
    parse.set_defaults(func=run_parse)
    return commands


def run_parse(args: argparse.Namespace) -> int:
    try:
        parsed = parse_return(args.file)
    except ReturnFileError as exc:
        # one line: the file, why it is refused, what to do — nothing a terminal obeys
        line = f"huizong returns parse: {exc.path}: {exc.message}"
        print(visible(line, one_line=True), file=sys.stderr)
        return EXIT_UNREADABLE
    except (Exception, MemoryError) as exc:  # a file no rule foresaw: still one clear line
        line = (
            f"huizong returns parse: {args.file}: 文件无法读取 / huizong failed on this file "
            f"({type(exc).__name__}): open it in Excel or WPS, save it as .xlsx and resend; "
            "if that fails too, send the file to the data engineer"
        )
        print(visible(line, one_line=True), file=sys.stderr)
        return EXIT_UNREADABLE
    if args.json:
        # strict JSON: no NaN/Infinity, no formula-looking or control text
        json.dump(
            safe_json(parsed.to_json_dict()), sys.stdout, ensure_ascii=False, indent=2,
            allow_nan=False,
        )  # fmt: skip
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_table(parsed))
    return EXIT_OK


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}"


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


def _term(text: object) -> str:
    """Submitted text for a terminal line: controls shown, formulas inert."""
    return safe_text(str(text), one_line=True)


def format_table(parsed: ParsedReturn) -> str:
    """The parsed return as a readable table, problems listed below it."""
    catalog = indicators(parsed.form)
    unit_line = f"{_term(parsed.unit_name or '—')} ({_term(parsed.unit_code or 'no 单位代码')})"
    lines = [
        f"填报单位 unit:   {unit_line}",
        f"表号 form:       {parsed.form}",
        f"统计期 period:   {parsed.period or '—'}",
        f"工作表 sheet:    {_term(parsed.sheet or '—')}"
        + (f"    报出日期 reported on: {parsed.reported_on}" if parsed.reported_on else ""),
        "",
    ]
    name_width = max(_width(ind.name) for ind in catalog.values()) + 2
    header = (
        _pad("代码", 6) + _pad("指标名称", name_width) + _pad("单位", 6)
        + _pad("本期数", 16, True) + _pad("本年累计数", 16, True) + _pad("上年同期数", 16, True)
    )  # fmt: skip
    lines.append(header)
    lines.append("-" * _width(header))
    flagged = set(parsed.problem_rows)
    for code, values in parsed.rows.items():
        indicator = catalog.get(code)
        name = indicator.name if indicator else ""
        unit = indicator.unit if indicator else ""
        lines.append(
            _pad(code + ("!" if code in flagged else ""), 6)
            + _pad(name, name_width)
            + _pad(unit, 6)
            + "".join(
                _pad(_shown(values.get(k)), 16, True) for k in ("current", "ytd", "last_year")
            )
        )
    lines.append("")
    if parsed.problems:
        lines.append(f"问题 problems ({len(parsed.problems)}):")
        for problem in parsed.problems:
            where = _term(problem.cell or "-")
            row = f"{problem.row} {problem.column}" if problem.row else problem.column or ""
            shown = f" [{_term(problem.value)}]" if problem.value is not None else ""
            lines.append(f"  {where} {row}{shown}: {_term(problem.message)}")
    else:
        lines.append("问题 problems: none")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m huizong.returns.cli returns parse FILE`` without the full ``huizong``."""
    parser = argparse.ArgumentParser(prog="huizong")
    register(parser.add_subparsers(title="commands", metavar="COMMAND"))
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_UNREADABLE
    return int(func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["FORM", "format_table", "main", "register", "returns_subcommands", "run_parse"]
