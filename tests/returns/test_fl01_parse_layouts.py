"""One test per phenomenon of hand-typed FL-01 workbooks (returns-form.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fl01_builders import (
    HEADER,
    SheetSpec,
    known_values,
    standard_sheet_rows,
    table_rows,
    write_xlsx,
)
from huizong.catalog import indicators
from huizong.returns.parse import ParsedReturn, parse_return

EXPECTED = known_values()


def assert_all_figures(parsed: ParsedReturn, skip: set[tuple[str, str]] = frozenset()) -> None:
    for code, columns in EXPECTED.items():
        for column, value in columns.items():
            if (code, column) in skip:
                continue
            assert parsed.rows[code][column] == pytest.approx(value), (code, column)


def test_plain_workbook_gives_identity_and_all_figures(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "r.xlsx", SheetSpec("Sheet1", standard_sheet_rows()))
    parsed = parse_return(path)
    assert parsed.unit_code == "621228101000"
    assert parsed.unit_name == "站儿巷镇妇联"
    assert parsed.period == "2024Q4"
    assert parsed.form == "FL-01"
    assert parsed.sheet == "Sheet1"
    assert parsed.problems == []
    assert set(parsed.rows) == set(indicators())
    assert_all_figures(parsed)
    assert isinstance(parsed.rows["01"]["current"], int)
    assert isinstance(parsed.rows["10"]["current"], float)
    assert parsed.cells["01"] == {
        "current": "Sheet1!D4",
        "ytd": "Sheet1!E4",
        "last_year": "Sheet1!F4",
    }
    assert parsed.cells["24"]["current"] == "Sheet1!D27"


def test_title_rows_merged_across_the_sheet(tmp_path: Path) -> None:
    rows = standard_sheet_rows()
    path = write_xlsx(tmp_path / "r.xlsx", SheetSpec("Sheet1", rows, merges=["A1:G1", "A2:G2"]))
    parsed = parse_return(path)
    assert (parsed.unit_name, parsed.period) == ("站儿巷镇妇联", "2024Q4")
    assert_all_figures(parsed)


def test_identity_in_one_cell(tmp_path: Path) -> None:
    rows = standard_sheet_rows("填报单位（盖章）：站儿巷镇妇联  统计期：2024年第四季度")
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.unit_name == "站儿巷镇妇联"
    assert parsed.unit_code is None
    assert parsed.period == "2024Q4"


def test_identity_split_over_cells(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["基层妇联工作情况统计表"],
        ["填报单位：", "站儿巷镇妇联", None, None, "统计期", "2024年10-12月"],
        ["单位代码：", 621228101000, None, None, "报出日期：", "2025年1月8日"],
        HEADER,
        *table_rows(),
    ]
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.unit_name == "站儿巷镇妇联"
    assert parsed.unit_code == "621228101000"
    assert parsed.period == "2024Q4"
    assert str(parsed.reported_on) == "2025-01-08"
    assert_all_figures(parsed)


def test_identity_in_separate_labelled_cells(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["填报单位：两当县妇联", None, None, None, "统计期：2024年度", None, "单位代码：621228"],
        HEADER,
        *table_rows(),
    ]
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert (parsed.unit_name, parsed.period) == ("两当县妇联", "2024")
    assert parsed.unit_code == "621228000000"  # a 6-digit county code, padded as NBS does


@pytest.mark.parametrize(
    ("typed", "period"),
    [
        ("2024年第4季度", "2024Q4"),
        ("2024年四季度", "2024Q4"),
        ("2024年10-12月", "2024Q4"),
        ("2024年度", "2024"),
        ("2024年1-12月", "2024"),
        ("2024年10月", "2024-10"),
    ],
)
def test_period_spellings(tmp_path: Path, typed: str, period: str) -> None:
    rows = standard_sheet_rows(f"填报单位：站儿巷镇妇联  统计期：{typed}")
    assert parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows))).period == period


def test_period_only_in_the_title(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["站儿巷镇妇联2024年第四季度工作统计表"], HEADER, *table_rows()]
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.period == "2024Q4"
    assert not parsed.problems


def test_missing_period_is_a_problem_not_a_guess(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["填报单位：站儿巷镇妇联"], HEADER, *table_rows()]
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.period is None
    assert [p.column for p in parsed.problems] == ["period"]


def test_unreadable_period_is_a_problem_with_its_cell(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["统计期：", "上半年"], HEADER, *table_rows()]
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.period is None
    (problem,) = parsed.problems
    assert (problem.column, problem.cell, problem.value) == ("period", "S!B1", "上半年")


def test_two_row_header_with_merged_cells(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["基层妇联工作情况统计表"],
        ["填报单位：站儿巷镇妇联  统计期：2024年第四季度"],
        ["指标名称", "计量单位", "代码", "数量", None, None, "备注"],
        [None, None, None, "本期数", "本年累计数", "上年同期数", None],
        *table_rows(),
    ]
    merges = ["A1:G1", "A3:A4", "B3:B4", "C3:C4", "D3:F3", "G3:G4"]
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows, merges=merges)))
    assert parsed.problems == []
    assert_all_figures(parsed)


def test_header_variants_with_spaces_and_brackets(tmp_path: Path) -> None:
    header = ["指 标 名 称", "单位", "行次", "本期（1）", "本年累计\n(2)", "去年同期数", "说明"]
    rows: list[list[Any]] = [["统计期：2024年第四季度"], header, *table_rows()]
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert_all_figures(parsed)


def test_rows_reordered_and_columns_reordered(tmp_path: Path) -> None:
    body = table_rows()[::-1]
    reordered = [[r[2], r[0], r[1], r[5], r[3], r[4]] for r in body]  # 代码 first, 上年 before 本期
    header = ["代码", "指标名称", "计量单位", "上年同期数", "本期数", "本年累计数"]
    rows: list[list[Any]] = [["统计期：2024年第四季度"], header, *reordered]
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.problems == []
    assert_all_figures(parsed)


def test_blank_rows_and_section_rows(tmp_path: Path) -> None:
    body = table_rows()
    rows: list[list[Any]] = [["统计期：2024年第四季度"], HEADER, ["一、组织建设"]]
    for i, row in enumerate(body):
        if i == 5:
            rows.append(["二、宣传教育", None, None, None, None, None, None])
        rows.append(row)
        if i % 4 == 0:
            rows.append([])
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.problems == []
    assert_all_figures(parsed)


def test_names_with_other_brackets_spaces_and_numbering(tmp_path: Path) -> None:
    body = table_rows()
    variants = {
        "01": "村(社区)妇联组织数",
        "04": '"妇女之家"数',
        "07": "参加宣讲和培训的 妇女人次",
        "12": "其中:获得理赔人数",
        "15": "  其中：12338热线受理件数 ",
        "18": "（其中）化解",
        "20": "20.巾帼示范基地数",
    }
    for row in body:
        if row[2] in variants:
            row[0] = variants[row[2]]
        row[2] = None  # names alone must place the rows
    rows: list[list[Any]] = [["统计期：2024年第四季度"], HEADER, *body]
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.problems == []
    assert_all_figures(parsed)


def test_missing_code_column(tmp_path: Path) -> None:
    body = [[r[0], r[1], r[3], r[4], r[5]] for r in table_rows()]
    header = ["指标名称", "计量单位", "本期数", "本年累计数", "上年同期数"]
    rows: list[list[Any]] = [["统计期：2024年第四季度"], header, *body]
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.problems == []
    assert_all_figures(parsed)


def test_codes_typed_as_numbers_and_name_in_a_split_qizhong_cell(tmp_path: Path) -> None:
    body = table_rows()
    rows: list[list[Any]] = [["统计期：2024年第四季度"], ["指标名称", None, *HEADER[1:]]]
    for row in body:
        code = row[2]
        name = row[0]
        first, second = (
            ("其中：", name.removeprefix("其中：")) if name.startswith("其中") else (name, None)
        )
        rows.append([first, second, row[1], int(code), *row[3:]])
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows, merges=["A2:B2"])))
    assert parsed.problems == []
    assert_all_figures(parsed)


def test_numbers_as_text(tmp_path: Path) -> None:
    rows = standard_sheet_rows()
    data = rows[3:]
    data[0][3] = "1,234"  # 01 current
    data[1][3] = "１"  # 02 current, full width
    data[2][3] = "３０ "  # 03 current, full width with a trailing space
    data[6][4] = "12 "  # 07 ytd
    data[9][3] = "12,345.50"  # 10 current, money
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.problems == []
    assert parsed.rows["01"]["current"] == 1234
    assert parsed.rows["02"]["current"] == 1
    assert parsed.rows["03"]["current"] == 30
    assert parsed.rows["07"]["ytd"] == 12
    assert parsed.rows["10"]["current"] == 12345.5


def test_money_rows_in_wan_yuan(tmp_path: Path) -> None:
    rows = standard_sheet_rows()
    row_10, row_13 = rows[3 + 9], rows[3 + 12]
    row_10[1:7] = ["万元", "10", 1.2345, "2.5", 0.01, None]
    row_13[0] = "理赔金额（万元）"
    row_13[1] = None
    row_13[3] = 3
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.problems == []
    assert parsed.rows["10"] == {"current": 12345.0, "ytd": 25000.0, "last_year": 100.0}
    assert parsed.rows["13"]["current"] == 30000.0


def test_sheet_wide_money_unit_banner(tmp_path: Path) -> None:
    rows = standard_sheet_rows()
    rows.insert(1, [None, None, None, None, None, "金额单位：万元"])
    for row in rows:
        if len(row) > 2 and row[2] in ("10", "13"):
            row[1] = None
            row[3] = 2
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.rows["10"]["current"] == 20000.0
    assert parsed.rows["13"]["current"] == 20000.0
    assert parsed.rows["07"]["current"] == 7  # counts are never scaled


def test_percentages_typed_into_count_rows(tmp_path: Path) -> None:
    rows = standard_sheet_rows()
    rows[3 + 6][3] = "95%"  # 07 current as text
    rows[3 + 1][3] = 0.8  # 02 current as a number formatted 0% (how Excel stores 80%)
    path = write_xlsx(tmp_path / "r.xlsx", SheetSpec("Sheet1", rows, number_formats={"D5": "0%"}))
    parsed = parse_return(path)
    assert parsed.rows["07"]["current"] is None
    assert parsed.rows["02"]["current"] is None
    assert parsed.problem_rows == ["02", "07"]
    by_row = {p.row: p for p in parsed.problems}
    assert by_row["07"].cell == "Sheet1!D10"
    assert by_row["07"].value == "95%"
    assert by_row["07"].column == "current"
    assert "计数行不能填百分比" in by_row["07"].message
    assert "a count row cannot hold a percentage" in by_row["07"].message
    assert by_row["02"].value == "80%"
    assert_all_figures(parsed, skip={("07", "current"), ("02", "current")})


def test_footer_lines_are_ignored_and_reported_on_kept(tmp_path: Path) -> None:
    rows = standard_sheet_rows()
    rows += [
        [],
        ["单位负责人：", "王芳", "填表人：", "李娜", "联系电话：", 13993912345, "审核人：张强"],
        ["报出日期：2025年1月8日"],
        ["注：本表一式两份。"],
    ]
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.problems == []
    assert str(parsed.reported_on) == "2025-01-08"
    assert_all_figures(parsed)


def test_not_reported_and_zero_are_never_confused(tmp_path: Path) -> None:
    rows = standard_sheet_rows()
    markers = [None, "—", "-", "/", "无", "", " "]
    for i, marker in enumerate(markers):
        rows[3 + i][3] = marker
    rows[3 + 10][3] = 0
    rows[3 + 11][3] = "0"
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.problems == []
    for i in range(len(markers)):
        assert parsed.rows[f"{i + 1:02d}"]["current"] is None
    assert parsed.rows["11"]["current"] == 0
    assert parsed.rows["12"]["current"] == 0
    assert parsed.to_json_dict()["rows"]["01"]["current"] is None


def test_extra_hidden_and_instruction_sheets(tmp_path: Path) -> None:
    instructions = SheetSpec(
        "填表说明",
        [
            ["填表说明"],
            ["1. 本期数：指本季度内发生数。"],
            ["指标名称", "说明"],
            ["村（社区）妇联组织数", "期末数"],
        ],
    )
    decoy_rows = [
        ["统计期：2023年第一季度"],
        HEADER,
        *table_rows({c: {"current": 999, "ytd": 999, "last_year": 999} for c in EXPECTED}),
    ]
    hidden = SheetSpec("上期", decoy_rows, hidden=True)
    data = SheetSpec("FL-01", standard_sheet_rows())
    empty = SheetSpec("Sheet3", [])
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", instructions, hidden, data, empty))
    assert parsed.sheet == "FL-01"
    assert parsed.period == "2024Q4"
    assert_all_figures(parsed)


def test_formulas_count_by_their_cached_values(tmp_path: Path) -> None:
    rows = standard_sheet_rows()
    # ytd of row 01 (E4) = D4 + 0 with the saved result 10; ytd of 07 (E10) = D10+63 -> 70
    formulas = {"E4": ("D4+9", 10), "E10": ("D10+63", 70), "D13": ("1000.5*10", 10005.0)}
    for ref in formulas:
        col = "ABCDEFG".index(ref[0])
        rows[int(ref[1:]) - 1][col] = None
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows, formulas=formulas)))
    # a formula's saved result serves only as a plain number, and its row is flagged
    assert {(p.row, p.column, p.cell, p.value) for p in parsed.problems} == {
        ("01", "ytd", "S!E4", "=D4+9"),
        ("07", "ytd", "S!E10", "=D10+63"),
        ("10", "current", "S!D13", "=1000.5*10"),
    }
    assert all("never recalculated" in p.message for p in parsed.problems)
    assert_all_figures(parsed)


def test_formula_without_a_cached_value_is_a_problem_never_evaluated(tmp_path: Path) -> None:
    rows = standard_sheet_rows()
    rows[3][4] = None
    formulas = {"E4": ("D4*10", None)}
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows, formulas=formulas)))
    assert parsed.rows["01"]["ytd"] is None
    (problem,) = parsed.problems
    assert (problem.row, problem.column, problem.cell, problem.value) == (
        "01",
        "ytd",
        "S!E4",
        "=D4*10",
    )
    assert "saved result" in problem.message


@pytest.mark.parametrize(
    ("typed", "fragment"),
    [
        (-5, "negative"),
        (2.5, "fraction"),
        ("见附件", "text"),
        ("NaN", "not a number"),
        (10**12, "large"),
    ],
)
def test_invalid_count_values_become_null_with_a_named_cell(
    tmp_path: Path, typed: object, fragment: str
) -> None:
    rows = standard_sheet_rows()
    rows[3 + 2][4] = typed  # 03 ytd -> E6
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("Sheet1", rows)))
    assert parsed.rows["03"]["ytd"] is None
    (problem,) = parsed.problems
    assert (problem.row, problem.column, problem.cell) == ("03", "ytd", "Sheet1!E6")
    assert fragment in problem.message


def test_money_with_more_than_two_decimals(tmp_path: Path) -> None:
    rows = standard_sheet_rows()
    rows[3 + 9][3] = 12.345
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.rows["10"]["current"] is None
    assert parsed.problem_rows == ["10"]


def test_code_and_name_disagreeing_reads_by_code_and_says_so(tmp_path: Path) -> None:
    rows = standard_sheet_rows()
    rows[3 + 7][0] = "获得“两癌”救助人数"  # name of 09 on the row coded 08
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.rows["08"]["current"] == 8
    assert parsed.rows["09"]["current"] == 9
    (problem,) = parsed.problems
    assert (problem.row, problem.column, problem.cell) == ("08", "code", "S!C11")


def test_duplicate_and_unrecognised_rows_are_reported(tmp_path: Path) -> None:
    rows = standard_sheet_rows()
    rows.append(["村（社区）妇联组织数", "个", "01", 77, 77, 77, None])
    rows.append(["村妇联组织数量", "个", None, 5, 5, 5, None])
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.rows["01"]["current"] == 1
    messages = [p.message for p in parsed.problems]
    assert len(messages) == 2
    assert "twice" in messages[0]
    assert "unrecognised" in messages[1]
    assert parsed.problems[1].row is None


def test_column_numbering_row_under_the_header(tmp_path: Path) -> None:
    rows = standard_sheet_rows()
    rows.insert(3, ["甲", "乙", "丙", 1, 2, 3, "丁"])
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("S", rows)))
    assert parsed.problems == []
    assert_all_figures(parsed)


def test_to_json_dict_has_exactly_the_contract_shape(tmp_path: Path) -> None:
    rows = standard_sheet_rows()
    rows[3 + 6][3] = "95%"
    parsed = parse_return(write_xlsx(tmp_path / "r.xlsx", SheetSpec("Sheet1", rows)))
    doc = parsed.to_json_dict()
    assert list(doc) == [
        "unit_code",
        "unit_name",
        "form",
        "period",
        "rows",
        "problem_rows",
        "problems",
    ]
    assert list(doc["rows"]) == [f"{i:02d}" for i in range(1, 25)]
    assert all(list(v) == ["current", "ytd", "last_year"] for v in doc["rows"].values())
    assert doc["rows"]["01"] == {"current": 1, "ytd": 10, "last_year": 101}
    assert doc["problem_rows"] == ["07"]
    assert doc["problems"] == [
        {
            "row": "07",
            "column": "current",
            "cell": "Sheet1!D10",
            "value": "95%",
            "message": doc["problems"][0]["message"],
        }
    ]
