"""Legacy .xls and CSV returns (GBK, GB18030, UTF-8 with and without BOM)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fl01_builders import known_values, standard_sheet_rows
from huizong.returns.parse import parse_return

EXPECTED = known_values()


def _csv_bytes(encoding: str, delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in standard_sheet_rows():
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue().encode(encoding)


def _assert_return(parsed) -> None:
    assert parsed.unit_name == "站儿巷镇妇联"
    assert parsed.unit_code == "621228101000"
    assert parsed.period == "2024Q4"
    assert parsed.problems == []
    for code, columns in EXPECTED.items():
        for column, value in columns.items():
            assert parsed.rows[code][column] == pytest.approx(value)


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig", "utf-16"])
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "站儿巷镇.csv"
    path.write_bytes(_csv_bytes(encoding))
    parsed = parse_return(path)
    _assert_return(parsed)
    assert parsed.sheet == "站儿巷镇"


def test_tab_separated_text_and_bytes_source() -> None:
    parsed = parse_return(_csv_bytes("gbk", delimiter="\t"), filename="return.csv")
    _assert_return(parsed)


def test_csv_problem_cells_name_the_file_sheet(tmp_path: Path) -> None:
    rows = standard_sheet_rows()
    rows[3 + 6][3] = "95%"
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["" if v is None else v for v in row] for row in rows])
    path = tmp_path / "return.csv"
    path.write_bytes(buffer.getvalue().encode("gbk"))
    (problem,) = parse_return(path).problems
    assert problem.cell == "return!D10"


def test_legacy_xls(tmp_path: Path) -> None:
    xlwt = pytest.importorskip("xlwt")
    workbook = xlwt.Workbook(encoding="utf-8")
    hidden = workbook.add_sheet("隐藏")
    hidden.write(0, 0, "统计期：2023年第一季度")
    hidden.visibility = 1
    sheet = workbook.add_sheet("Sheet1", cell_overwrite_ok=True)
    percent = xlwt.easyxf(num_format_str="0%")
    rows = standard_sheet_rows()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if r == 0 and c == 0:
                sheet.write_merge(0, 0, 0, 6, value)
            elif value is not None:
                sheet.write(r, c, value)
    sheet.write(3 + 6, 3, 0.95, percent)  # 07 current typed as 95%
    path = tmp_path / "return.xls"
    workbook.save(str(path))
    parsed = parse_return(path)
    assert parsed.sheet == "Sheet1"
    assert parsed.period == "2024Q4"
    assert parsed.rows["07"]["current"] is None
    assert parsed.problem_rows == ["07"]
    assert parsed.problems[0].cell == "Sheet1!D10"
    assert parsed.problems[0].value == "95%"
    assert parsed.rows["01"] == EXPECTED["01"]
