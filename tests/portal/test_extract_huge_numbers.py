"""Numbers too long to be figures (issue #15): no traceback, no Infinity/NaN, bounded time.

A 100,000-digit run, ``1e400万元``, 5,000 full-width digits, 3,000 Chinese
numerals or 20,000 thousands groups overflowed ``float`` to infinity, and
``to_number(inf)`` raised; the JSONL writer would have printed ``Infinity``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import pytest
from huizong.portal.extract import extract_page
from huizong.portal.extract_cli import register
from huizong.portal.numbers import bounded_float, parse_amount, parse_chinese, parse_percent

HUGE = {
    "digits_100k": "全年培训妇女" + "1" * 100_000 + "人。",
    "exponent_400": "发放贷款1e400万元,服务1.8e308人。",
    "fullwidth_5000": "培训" + "１" * 5_000 + "人次。",
    "chinese_3000": "培训" + "九" * 3_000 + "人,表彰" + "九千九百" * 750 + "名。",
    "groups_20000": "培训" + "1" + ",000" * 20_000 + "人。",
    "scaled": "资金" + "9" * 400 + "万元,占" + "9" * 400 + "%,死亡率" + "9" * 400 + "/10万。",
    "table_cells": "乡镇\t人数\t比例(%)\n城关镇\t"
    + "9" * 400
    + "\t"
    + "9" * 400
    + "\n合计\t5\t6\n",
}


def _no_constants(name: str) -> float:
    raise AssertionError(f"JSON output holds {name}")


@pytest.mark.parametrize("name", sorted(HUGE))
def test_huge_numbers_are_no_statistics(name: str) -> None:
    started = time.process_time()
    stats = extract_page(HUGE[name]).statistics
    assert time.process_time() - started < 2.0
    for stat in stats:
        assert math.isfinite(float(stat.value))
        assert len(str(int(float(stat.value)))) <= 16, stat.figure[:40]
    json.loads(
        json.dumps([s.to_dict() for s in stats], ensure_ascii=False, allow_nan=False),
        parse_constant=_no_constants,
    )
    if name == "table_cells":
        # The ordinary cells of the same table are still read.
        assert sorted(s.value for s in stats) == [5, 6]
    else:
        assert stats == []


def test_cli_writes_strict_json_for_huge_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "huge.txt"
    page.write_text("\n".join(HUGE.values()) + "\n全年培训妇女216人。\n", encoding="utf-8")
    root = argparse.ArgumentParser(prog="huizong")
    register(root.add_subparsers())
    args = root.parse_args(["extract", str(page)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "Infinity" not in out and "NaN" not in out
    rows = [json.loads(line, parse_constant=_no_constants) for line in out.splitlines()]
    assert [(r["value"], r["unit"]) for r in rows if r.get("value") == 216] == [(216, "人")]


def test_number_parsers_refuse_overlong_numbers() -> None:
    assert bounded_float("1" * 16) is None
    assert bounded_float("9" * 15) == float("9" * 15)
    assert bounded_float("0" * 40 + "12") is None  # too long to be written by a person
    assert parse_amount("1" * 400) is None
    assert parse_amount("1" * 400 + "万") is None
    assert parse_amount("12,345") == 12345
    assert parse_percent("9" * 400 + "%") is None
    assert parse_chinese("九" * 3000) is None
    assert parse_chinese("九千九百") == 9900
