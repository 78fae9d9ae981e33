"""Tables read from the DOM: spans, multi-row headers, header paths, layout tables."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

from bs4 import BeautifulSoup
from huizong.cli import main as huizong_main
from huizong.portal.htmltext import html_to_text, parse_document, parse_table

DATA = Path(__file__).resolve().parents[1] / "data" / "html"


def extract_rows(path: Path) -> list[dict]:
    out = io.StringIO()
    with redirect_stdout(out):
        assert huizong_main(["extract", str(path)]) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def first_table(html: str):
    root = parse_document(html)
    assert root is not None
    return parse_table(root.find(".//table"))


def test_header_cell_spanning_two_rows_and_columns() -> None:
    page = html_to_text((DATA / "rowspan_header_table.html").read_text(encoding="utf-8"))
    (table,) = page.tables
    # The one-cell first row is the table's title, not part of the header.
    assert table.caption == "2023年各乡镇两癌筛查完成情况"
    assert table.header_rows == 2
    assert table.column_headers == (
        "乡镇",
        "两癌筛查/已完成(例)",
        "两癌筛查/完成率(%)",
        "妇女之家(个)",
    )
    assert table.header == (
        ("乡镇", "两癌筛查", "两癌筛查", "妇女之家(个)"),
        ("乡镇", "已完成(例)", "完成率(%)", "妇女之家(个)"),
    )
    # The display:none row is gone; the grid is rectangular.
    assert table.body == (
        ("城关镇", "1,230", "96.5", "12"),
        ("新华镇", "860", "91.2", "8"),
        ("合计", "2,090", "94.1", "20"),
    )
    assert {len(row) for row in table.rows} == {4}


def test_spanned_header_paths_reach_the_extracted_statistics() -> None:
    rows = extract_rows(DATA / "rowspan_header_table.html")
    cells = {(r["row_header"], r["col_header"]): r for r in rows if r["kind"] == "table"}
    done = cells[("城关镇", "两癌筛查/已完成(例)")]
    assert done["value"] == 1230 and done["unit"] == "例"
    rate = cells[("新华镇", "两癌筛查/完成率(%)")]
    assert rate["value"] == 91.2 and rate["unit"] == "%"
    assert cells[("合计", "妇女之家(个)")]["value"] == 20
    assert len(cells) == 9
    assert not any("9,999" in r["quote"] or r["value"] == 9999 for r in rows)


def test_thead_of_plain_cells_with_year_groups_and_tfoot_last() -> None:
    page = html_to_text((DATA / "thead_td_header_table.html").read_text(encoding="utf-8"))
    (table,) = page.tables
    assert table.caption == "全市妇联基层组织建设情况"
    assert table.header_rows == 2
    assert table.column_headers == ("县(市、区)", "本年/本期数", "本年/累计数", "上年/同期数")
    assert table.body[-1] == ("全市合计", "24", "218", "201")
    rows = extract_rows(DATA / "thead_td_header_table.html")
    last_year = [r for r in rows if r["col_header"] == "上年/同期数"]
    assert [(r["row_header"], r["value"]) for r in last_year] == [
        ("东区", 110),
        ("西区", 91),
        ("全市合计", 201),
    ]


def test_header_rows_without_th_or_thead_are_recognised_by_having_no_figures() -> None:
    table = first_table(
        "<table><tr><td>乡镇</td><td colspan=2>妇女之家</td></tr>"
        "<tr><td></td><td>已建(个)</td><td>在建(个)</td></tr>"
        "<tr><td>城关镇</td><td>12</td><td>3</td></tr>"
        "<tr><td>新华镇</td><td>8</td><td>1</td></tr></table>"
    )
    assert table.header_rows == 2
    assert table.column_headers == ("乡镇", "妇女之家/已建(个)", "妇女之家/在建(个)")


def test_year_header_cells_are_headers_not_figures() -> None:
    table = first_table(
        "<table><tr><td>指标</td><td>2022年</td><td>2023年</td></tr>"
        "<tr><td>妇女之家(个)</td><td>120</td><td>128</td></tr></table>"
    )
    assert table.header_rows == 1
    assert table.column_headers == ("指标", "2022年", "2023年")


def test_row_label_spanning_rows_is_repeated_in_the_body() -> None:
    table = first_table(
        "<table><tr><th>片区</th><th>乡镇</th><th>人数</th></tr>"
        "<tr><td rowspan=2>东片</td><td>城关镇</td><td>30</td></tr>"
        "<tr><td>新华镇</td><td>21</td></tr>"
        "<tr><td>西片</td><td colspan=2>无</td></tr></table>"
    )
    assert table.body == (
        ("东片", "城关镇", "30"),
        ("东片", "新华镇", "21"),
        ("西片", "无", "无"),
    )


def test_rows_of_nested_tables_are_not_the_outer_tables() -> None:
    outer = first_table(
        "<table><tr><th>a</th><th>b</th></tr>"
        "<tr><td>1</td><td><table><tr><td>x</td><td>9</td></tr></table></td></tr></table>"
    )
    assert outer.rows == (("a", "b"), ("1", "x 9"))


def test_hostile_spans_are_bounded() -> None:
    table = first_table(
        "<table><tr><th colspan=100000>a</th></tr>"
        "<tr><td rowspan=99999>1</td><td>2</td></tr></table>"
    )
    assert table.width <= 101 and len(table.rows) <= 101


def test_layout_table_stays_text() -> None:
    paragraph = "全县各级妇联组织围绕中心工作，共举办各类培训班46期，培训妇女3560人次。" * 4
    html = (
        "<html><body><table width='100%'><tr>"
        "<td class='left'><a href='/'>首页</a></td>"
        f"<td><h1>某县妇联工作总结</h1><p>{paragraph}</p></td>"
        "</tr></table></body></html>"
    )
    page = html_to_text(html)
    assert page.tables == ()
    assert "培训妇女3560人次" in page.text
    assert "\t" not in page.text


def test_parse_table_still_takes_a_beautifulsoup_tag() -> None:
    soup = BeautifulSoup(
        "<table><tr><th>乡镇</th><th>人数</th></tr><tr><td>城关镇</td><td>30</td></tr></table>",
        "lxml",
    )
    table = parse_table(soup.find("table"))
    assert table.rows == (("乡镇", "人数"), ("城关镇", "30")) and table.header_rows == 1


def test_cell_text_with_line_breaks_stays_one_cell() -> None:
    table = first_table(
        "<table><tr><th>乡镇</th><th>两癌\n筛查<br>人数</th></tr>"
        "<tr><td>城关\t镇</td><td>30</td></tr></table>"
    )
    assert table.rows == (("乡镇", "两癌 筛查 人数"), ("城关 镇", "30"))


def test_selector_option_picks_the_body_and_refuses_what_it_cannot_match(capsys) -> None:
    page = DATA / "thead_td_header_table.html"
    out = io.StringIO()
    with redirect_stdout(out):
        assert huizong_main(["extract", "--selector", "div#zoom > table", str(page)]) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {r["row_header"] for r in rows} == {"东区", "西区", "全市合计"}
    try:
        huizong_main(["extract", "--selector", "a:hover", str(page)])
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("an unsupported selector was accepted")
    assert "cannot use CSS selector 'a:hover'" in capsys.readouterr().err
