"""The reader layer (returns.sheet_values) and what the parser does with its output.

The hostile corpus (tests/hostile/test_corpus_cli.py) runs whole files through
the command; these are the layer's rules one by one, in process.
"""

from __future__ import annotations

import math
from datetime import date

import pytest
from fl01_builders import SheetSpec, known_values, standard_sheet_rows, table_rows, xlsx_bytes
from huizong.returns import parse as parse_module
from huizong.returns.parse import parse_return
from huizong.returns.sheet_values import (
    BadNumber,
    clean_cell_text,
    decode_excel_escapes,
    is_plain_number,
    normalise_cell,
    number_from_xml,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1", 1),
        ("-7", -7),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("1e308", 1e308),
        ("123456789012345678901", 1.2345678901234568e20),
        (" 42 ", 42),
        ("", None),
        (None, None),
    ],
)
def test_numbers_from_sheet_xml(text: str | None, expected: object) -> None:
    assert number_from_xml(text) == expected


@pytest.mark.parametrize("text", ["NaN", "nan", "INF", "-INF", "Infinity", "1E+400", "9" * 5000])
def test_non_finite_xml_numbers_become_bad_numbers(text: str) -> None:
    value = number_from_xml(text)
    assert isinstance(value, BadNumber)
    assert len(value.text) <= 40 and value.text == text[:40]


def test_garbage_in_a_numeric_cell_is_a_bad_number() -> None:
    assert number_from_xml("12a") == BadNumber("12a")


def test_normalise_cell() -> None:
    assert normalise_cell(float("nan")) == BadNumber("NaN")
    assert normalise_cell(float("-inf")) == BadNumber("-INF")
    assert normalise_cell(2.5) == 2.5 and normalise_cell(True) is True
    assert normalise_cell("站\x1b[31m联\u202e\x85") == "站[31m联"
    assert normalise_cell("\x07\x08") is None  # nothing but controls: an empty cell
    assert normalise_cell("a_x001B_b", excel_escapes=True) == "ab"
    assert normalise_cell("a_x001B_b") == "a_x001B_b"  # CSV text is not Excel-escaped
    assert normalise_cell("两行\n文字\t") == "两行\n文字\t"  # cell layout stays


def test_excel_escapes() -> None:
    assert decode_excel_escapes("_x0041__x005F_x0041_") == "A_x0041_"
    assert clean_cell_text("_x2066_站_x2069_", excel_escapes=True) == "站"


def test_plain_numbers_only() -> None:
    assert is_plain_number(3) and is_plain_number(2.5)
    assert not any(map(is_plain_number, [True, math.nan, math.inf, "3", None, BadNumber("x")]))


def test_the_active_sheet_is_read_first_and_never_cut_off(monkeypatch) -> None:
    assert parse_module._sheet_order(5, 3) == [3, 0, 1, 2, 4]
    assert parse_module._sheet_order(3, 9) == [0, 1, 2]
    monkeypatch.setattr(parse_module, "MAX_SHEETS", 2)
    assert parse_module._sheet_order(300, 299) == [299, 0]


def test_a_two_row_header_with_last_year_over_its_column() -> None:
    upper = ["指标名称", "计量单位", "代码", "本年", None, "上年", "备注"]
    lower = [None, None, None, "本期数", "累计数", "同期数", None]
    rows = [["基层妇联工作情况统计表"], ["统计期：2024年第四季度"], upper, lower, *table_rows()]
    spec = SheetSpec("S", rows, merges=["D3:E3", "A3:A4", "B3:B4", "C3:C4", "G3:G4"])
    parsed = parse_return(xlsx_bytes(spec), filename="r.xlsx")
    assert parsed.rows == known_values()
    assert parsed.cells["01"] == {"current": "S!D5", "ytd": "S!E5", "last_year": "S!F5"}


def test_a_future_period_is_a_problem_not_a_period() -> None:
    rows = standard_sheet_rows("填报单位：站儿巷镇妇联 统计期：2099年第1季度")
    parsed = parse_return(xlsx_bytes(SheetSpec("S", rows)), filename="r.xlsx")
    assert parsed.period is None
    (problem,) = [p for p in parsed.problems if p.column == "period"]
    assert (problem.cell, problem.value) == ("S!A2", "2099Q1")
    this_quarter = f"{date.today().year}年第{(date.today().month - 1) // 3 + 1}季度"
    rows = standard_sheet_rows(f"填报单位：站儿巷镇妇联 统计期：{this_quarter}")
    assert parse_return(xlsx_bytes(SheetSpec("S", rows)), filename="r.xlsx").period


def test_a_csv_note_longer_than_the_csv_field_limit() -> None:
    import csv
    import io

    rows = standard_sheet_rows()
    rows[4][6] = "备" * 200_000
    out = io.StringIO()
    csv.writer(out).writerows([["" if v is None else v for v in row] for row in rows])
    parsed = parse_return(out.getvalue().encode(), filename="r.csv")
    assert parsed.rows == known_values() and parsed.problems == []


def test_a_huge_value_is_named_not_repeated() -> None:
    rows = standard_sheet_rows()
    rows[3][3] = "9" * 100_000
    parsed = parse_return(xlsx_bytes(SheetSpec("S", rows)), filename="r.xlsx")
    (problem,) = parsed.problems
    assert problem.cell == "S!D4" and len(problem.value) <= 201 and len(problem.message) < 400


def test_a_formula_in_the_unit_name_cell_is_reported_not_read() -> None:
    rows = [["填报单位：", None, "统计期：", "2024年第四季度"], *standard_sheet_rows()[2:]]
    spec = SheetSpec("S", rows, formulas={"B1": ('HYPERLINK("http://e.example","站儿巷镇")', None)})
    data = xlsx_bytes(spec).replace(b"<f>", b'<f t="normal">')
    parsed = parse_return(data, filename="r.xlsx")
    assert parsed.unit_name is None
    (problem,) = [p for p in parsed.problems if p.column == "unit_name"]
    assert problem.cell == "S!B1" and problem.value.startswith("=HYPERLINK(")


def test_a_failure_no_rule_foresaw_is_still_one_clear_line(monkeypatch, capsys) -> None:
    from huizong.returns import cli

    def explode(path):
        raise RuntimeError("boom\x1b[2J")

    monkeypatch.setattr(cli, "parse_return", explode)
    assert cli.main(["returns", "parse", "--json", "r\u202e.xlsx"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert "RuntimeError" in line and "resend" in line and "\u202e" not in line
