"""The ``huizong`` command: everything a person runs by hand.

Each stage registers its own subcommands; a stage whose module is missing or
broken is reported on stderr rather than taking the whole command down, so
``huizong --help`` always answers.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Stage modules that contribute subcommands, in the order --help lists them.
COMMAND_MODULES = (
    "huizong.portal.extract_cli",
    "huizong.portal.crawl_cli",
    "huizong.returns.cli",
    "huizong.returns.intake_cli",
    "huizong.warehouse.cli",
    "huizong.quality.cli",
    "huizong.web.cli",
    "huizong.secret_check",
    "huizong.demo",
)

DESCRIPTION = """\
huizong (汇总) consolidates the statistics of women's federations (妇联)
across levels: portal notices, FL-01 returns, quality checks, and a warehouse
of standardized indicators.

Typical uses:
  huizong extract page.html                 statistics of a notice, one JSON per line
  huizong returns parse --json return.xlsx  read an FL-01 workbook however messy
  huizong sql "SELECT * FROM v_consolidated LIMIT 5"
  huizong demo                              the whole pipeline once, through Airflow
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="huizong",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # stage without commands yet
            print(f"huizong: commands of {module_name} unavailable: {exc}", file=sys.stderr)
            continue
        module.register(subparsers)
    return parser


def _version() -> str:
    from huizong import __version__

    return f"huizong {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        given = sys.argv[1:] if argv is None else list(argv)
        return 0 if not given else 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
