"""``huizong returns parse`` contract."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from fl01_builders import SheetSpec, standard_sheet_rows, write_xlsx
from huizong.returns.cli import main, register, returns_subcommands

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    rows = standard_sheet_rows()
    rows[3 + 6][3] = "95%"
    return write_xlsx(tmp_path / "站儿巷镇.xlsx", SheetSpec("Sheet1", rows))


def test_json_output_is_exactly_the_contract(
    workbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["returns", "parse", "--json", str(workbook)]) == 0
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert list(doc) == [
        "unit_code",
        "unit_name",
        "form",
        "period",
        "rows",
        "problem_rows",
        "problems",
    ]
    assert doc["unit_code"] == "621228101000"
    assert doc["unit_name"] == "站儿巷镇妇联"
    assert doc["period"] == "2024Q4"
    assert doc["rows"]["07"]["current"] is None
    assert doc["problem_rows"] == ["07"]
    assert doc["problems"][0]["cell"] == "Sheet1!D10"
    assert "站儿巷镇妇联" in out  # ensure_ascii=False
    assert out.startswith('{\n  "unit_code"')  # indent 2


def test_table_output_lists_figures_and_problems(
    workbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["returns", "parse", str(workbook)]) == 0
    out = capsys.readouterr().out
    assert "站儿巷镇妇联" in out and "2024Q4" in out
    assert "村（社区）妇联组织数" in out
    assert "Sheet1!D10" in out and "percentage" in out


def test_unreadable_file_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 truncated")
    assert main(["returns", "parse", "--json", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert str(bad) in lines[0] and "send the file again" in lines[0]


def test_returns_group_is_extensible() -> None:
    parser = argparse.ArgumentParser(prog="huizong")
    subparsers = parser.add_subparsers()
    commands = register(subparsers)
    assert returns_subcommands(subparsers) is commands
    extra = returns_subcommands(subparsers).add_parser("load")
    extra.set_defaults(func=lambda args: 0)
    args = parser.parse_args(["returns", "load"])
    assert args.func(args) == 0
    assert parser.parse_args(["returns", "parse", "x.xlsx"]).file == "x.xlsx"


def test_runs_as_a_module(workbook: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "huizong.returns.cli", "returns", "parse", "--json", str(workbook)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO / "include"), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["period"] == "2024Q4"
