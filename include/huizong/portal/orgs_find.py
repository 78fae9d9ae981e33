"""``huizong orgs find NAME``: the 12-digit division code of a place or federation.

A portal config names its organisation by division code; this looks the code
up in the bundled national list (``data/divisions_cn.csv.gz``, read through
:mod:`huizong.portal.notice`). ``两当县妇联`` → 两当县; ``株洲`` (a short name)
→ 株洲市; a name many places share (新华镇) lists every one with its parents,
and ``两当县站儿巷镇妇联`` picks the town inside the county it names.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

from huizong.portal.notice import (
    _ORG_SUFFIX,
    Division,
    _index,
    ancestors,
    names_in,
    pick,
)


@dataclass(frozen=True)
class DivisionMatch:
    division: Division
    path: tuple[Division, ...]  # province → … → the division

    def to_dict(self) -> dict[str, object]:
        parent = self.path[-2] if len(self.path) > 1 else None
        return {
            "code": self.division.code,
            "name": self.division.name,
            "level": self.division.level,
            "parent_code": parent.code if parent else None,
            "parent_name": parent.name if parent else None,
            "path": "".join(d.name for d in self.path),
        }


def find_divisions(name: str) -> list[DivisionMatch]:
    """Divisions ``name`` may mean, most likely first; empty if none."""
    core = _ORG_SUFFIX.sub("", name.strip().replace(" ", ""))
    if not core:
        return []
    index = _index()
    candidates: list[Division] = list(index.by_name.get(core, ()))
    if not candidates:
        candidates = list(index.by_short.get(core, ()))
    if not candidates:
        # Nested names written together (两当县站儿巷镇): the most specific one,
        # pinned by the names before it where it is ambiguous.
        chosen: list[Division] = []
        last: tuple[Division, ...] = ()
        for _start, _end, options in names_in(core, short=True):
            picked = pick(options, chosen)
            if picked is not None:
                chosen.append(picked)
            last = options
        if chosen and chosen[-1] in last:
            candidates = [chosen[-1]]
        elif last:
            candidates = list(last)
    level_order = {"province": 0, "city": 1, "county": 2, "town": 3}
    candidates.sort(key=lambda d: (level_order.get(d.level, 9), d.code))
    return [DivisionMatch(d, tuple(reversed(ancestors(d)))) for d in candidates]


def register_find(orgs_commands: argparse._SubParsersAction) -> None:
    find = orgs_commands.add_parser(
        "find",
        help="the division code(s) of a place or federation name",
        description=(
            "Look a place or federation name up in the bundled division list "
            "(no warehouse needed): 两当县妇联 → 两当县's 12-digit code, with its level "
            "and parent. A name several places share lists them all."
        ),
        epilog="Exit status: 0 found, 1 no match.",
    )
    find.add_argument("name", metavar="NAME", help="e.g. 两当县妇联, 株洲市, 站儿巷镇")
    find.add_argument("--json", action="store_true", help="one JSON object a line")
    find.set_defaults(func=cmd_orgs_find)


def cmd_orgs_find(args: argparse.Namespace) -> int:
    matches = find_divisions(args.name)
    if not matches:
        print(f"huizong orgs find: no division matches {args.name!r}", file=sys.stderr)
        return 1
    if not args.json and len(matches) > 1:
        print(f"{len(matches)} divisions match {args.name!r}:")
    for match in matches:
        record = match.to_dict()
        if args.json:
            print(json.dumps(record, ensure_ascii=False))
            continue
        parent = (
            f"parent {record['parent_code']} {record['parent_name']}"
            if record["parent_code"]
            else "no parent"
        )
        where = f"({record['path']})"
        print(f"{record['code']}  {record['name']}  {record['level']}  {parent}  {where}")
    return 0
