"""Tables written as text, in every form a copied or typed table takes (issue #13, B).

Each test builds a small page in one form and checks every numeric cell:
value, unit (from the header, a unit cell, a unit column or a unit line),
row label and column header.
"""

from __future__ import annotations

from huizong.portal.extract import Statistic, extract_page


def cells(text: str) -> list[tuple[str | None, str | None, float, str | None]]:
    return [
        (s.row_header, s.col_header, s.value, s.unit)
        for s in extract_page(text).statistics
        if s.kind == "table"
    ]


def table_stats(text: str) -> list[Statistic]:
    return [s for s in extract_page(text).statistics if s.kind == "table"]


def test_pipe_table_with_title_unit_line_and_per_column_units() -> None:
    text = (
        "二、乡镇常住人口户数情况\n"
        "表2-3 各乡镇常住人口户数 | ||||\n"
        "单位:人、人/户 | ||||\n"
        "乡镇 | 总户数 | 家庭户 | 平均家庭户规模 |\n"
        "文县 | 74411 | 73118 | 2.60 |\n"
        "城关镇 | 16001 | 15398 | 2.77 |\n"
    )
    assert cells(text) == [
        ("文县", "总户数", 74411, "户"),
        ("文县", "家庭户", 73118, "户"),
        ("文县", "平均家庭户规模", 2.6, "人/户"),
        ("城关镇", "总户数", 16001, "户"),
        ("城关镇", "家庭户", 15398, "户"),
        ("城关镇", "平均家庭户规模", 2.77, "人/户"),
    ]


def test_money_unit_line_scales_and_total_row_is_checked() -> None:
    text = (
        "单位：户、人、万元\n"
        "乡镇\t帮扶户数\t受益人数\t补贴资金\n"
        "城关镇\t12\t30\t1.5\n"
        "河西镇\t8\t20\t0.5\n"
        "合计\t20\t50\t2\n"
    )
    stats = table_stats(text)
    assert [(s.row_header, s.value, s.unit) for s in stats[:3]] == [
        ("城关镇", 12, "户"),
        ("城关镇", 30, "人"),
        ("城关镇", 15000, "元"),
    ]
    totals = [s for s in stats if s.row_header == "合计"]
    assert [c["status"] for s in totals for c in s.checks] == ["match", "match", "match"]


def test_unit_cells_are_row_units_and_sub_rows_inherit_them() -> None:
    text = (
        "| 指 标 | 金华市 | 市区 | |\n"
        "| 一、福利类收养性单位 | (个) | 96 | 21 |\n"
        "| #社会福利院 | 9 | 2 | |\n"
        "| 床位数 | (张) | 13740 | 3152 |\n"
    )
    assert cells(text) == [
        ("一、福利类收养性单位", "金华市", 96, "个"),
        ("一、福利类收养性单位", "市区", 21, "个"),
        ("#社会福利院", "金华市", 9, "个"),
        ("#社会福利院", "市区", 2, "个"),
        ("床位数", "金华市", 13740, "张"),
        ("床位数", "市区", 3152, "张"),
    ]


def test_single_space_rows_with_a_two_row_header() -> None:
    text = (
        "表2-1 各乡镇人口\n"
        "  单位:人、%\n"
        "地 区 人口数 比重\n"
        "2020年 2010年\n"
        "全 县 320801 100.00 100.00\n"
        "豫海镇 116912 36.44 26.37\n"
        "0-14岁 48533 19.50 18.20\n"
    )
    assert cells(text) == [
        ("全 县", "人口数", 320801, "人"),
        ("全 县", "比重/2020年", 100, "%"),
        ("全 县", "比重/2010年", 100, "%"),
        ("豫海镇", "人口数", 116912, "人"),
        ("豫海镇", "比重/2020年", 36.44, "%"),
        ("豫海镇", "比重/2010年", 26.37, "%"),
        ("0-14岁", "人口数", 48533, "人"),
        ("0-14岁", "比重/2020年", 19.5, "%"),
        ("0-14岁", "比重/2010年", 18.2, "%"),
    ]


def test_one_cell_per_line_across_blank_and_pipe_lines_with_a_spanning_header() -> None:
    text = (
        "2-1各镇人口性别构成\n\n地区\n\n占常住人口比重(%)\n\n性别比\n\n"
        "万安镇\n\n48.03\n\n51.97\n\n92.43\n\n"
        "鄢家镇\n|\n51.45\n|\n48.55\n|\n105.98\n"
    )
    assert cells(text) == [
        ("万安镇", "占常住人口比重(%)", 48.03, "%"),
        ("万安镇", "占常住人口比重(%)", 51.97, "%"),
        ("万安镇", "性别比", 92.43, None),
        ("鄢家镇", "占常住人口比重(%)", 51.45, "%"),
        ("鄢家镇", "占常住人口比重(%)", 48.55, "%"),
        ("鄢家镇", "性别比", 105.98, None),
    ]


def test_one_cell_per_line_with_year_header_and_trailing_pipes() -> None:
    text = (
        "人口主要指标\n指标 |\n2005年 |\n2004年 |\n"
        "总人口(人) |\n5957992 |\n5836016 |\n"
        "按性别分: |\n|\n|\n"
        "男 |\n3052448 |\n2997428 |\n"
    )
    assert cells(text) == [
        ("总人口(人)", "2005年", 5957992, "人"),
        ("总人口(人)", "2004年", 5836016, "人"),
        ("男", "2005年", 3052448, "人"),
        ("男", "2004年", 2997428, "人"),
    ]


def test_year_row_heads_columns_and_is_no_data() -> None:
    text = (
        "项目\n\n2013\n\n2014\n\n \n\n"
        "婴儿死亡率()\n\n2.33\n\n2.42\n\n新生儿死亡率()\n\n1.52\n\n1.46\n"
    )
    assert [(row, col, value) for row, col, value, _unit in cells(text)] == [
        ("婴儿死亡率()", "2013", 2.33),
        ("婴儿死亡率()", "2014", 2.42),
        ("新生儿死亡率()", "2013", 1.52),
        ("新生儿死亡率()", "2014", 1.46),
    ]


def test_glued_label_unit_value_rows() -> None:
    text = (
        "指标名称单位数量\n"
        "一、民政事业费累计支出亿元30.4\n"
        "二、乡级行政区划单位\n"
        "        镇143\n"
        "        最低生活保障人数万人7.1\n"
        "        最低生活保障平均标准元/人·月1,245.0\n"
    )
    assert [(row, value, unit) for row, _col, value, unit in cells(text)] == [
        ("一、民政事业费累计支出", 3_040_000_000, "元"),
        ("镇", 143, None),
        ("最低生活保障人数", 71000, "人"),
        ("最低生活保障平均标准", 1245, "元/人·月"),
    ]


def test_pipe_rows_copied_one_cell_per_line_join_their_row() -> None:
    text = (
        "地区 | 人口数 | 比重 | |\n"
        "2020年 | 2010年 | ||\n"
        "全 县 |\n181286 |\n100 |\n100 |\n"
        "城关镇 | 63573 | 35.1 | 25.6 |\n"
    )
    assert cells(text) == [
        ("全 县", "人口数", 181286, "人"),
        ("全 县", "比重/2020年", 100, None),
        ("全 县", "比重/2010年", 100, None),
        ("城关镇", "人口数", 63573, "人"),
        ("城关镇", "比重/2020年", 35.1, None),
        ("城关镇", "比重/2010年", 25.6, None),
    ]


def test_table_rows_closing_a_page_are_not_dropped_as_headlines() -> None:
    text = (
        "全县常住人口总户数74411户。\n"
        "乡镇 | 总户数 | 家庭户 |\n"
        "城关镇 | 16001 | 15398 |\n"
        "碧口镇 | 7005 | 6872 |\n"
        "尚德镇 | 3310 | 3285 |\n"
    )
    assert [value for _row, _col, value, _unit in cells(text)] == [
        16001,
        15398,
        7005,
        6872,
        3310,
        3285,
    ]


def test_prose_lines_ending_in_numbers_make_no_table() -> None:
    text = "联系电话 0731 2222222\n传真 0731 3333333\n浏览次数 418\n"
    assert extract_page(text).statistics == []


def test_unit_column_rows_with_wrapped_labels_and_section_rows() -> None:
    text = (
        "指标 | 单位 | 数量 | |||\n"
        "一、民政事业费累计支出 二、乡级行政区划单位 |\n"
        "万元 | 57324.8 | |||\n"
        "#镇 | 个 | 179 | |||\n"
        "乡 | 个 | 21 | |||\n"
        "三、社会救助 |\n"
        "|||||\n"
        "最低生活保障人数 | 人 | 59,395 | |||\n"
    )
    assert [(value, unit) for _row, _col, value, unit in cells(text)] == [
        (573_248_000, "元"),
        (179, "个"),
        (21, "个"),
        (59395, "人"),
    ]


def test_html_table_header_rows_come_from_the_markup() -> None:
    # The 栏次 row (甲 1 2) is numbered, not data: <thead> says it heads the table.
    html = (
        "<html><body><div id='zoom'><p>全县妇女儿童工作统计表如下,请各乡镇对照填报。</p>"
        "<table><thead><tr><th>乡镇</th><th>培训人数(人)</th><th>帮扶户数(户)</th></tr>"
        "<tr><th>甲</th><th>1</th><th>2</th></tr></thead>"
        "<tbody><tr><td>城关镇</td><td>120</td><td>35</td></tr>"
        "<tr><td>河西镇</td><td>80</td><td>20</td></tr></tbody></table></div></body></html>"
    )
    stats = [s for s in extract_page(html, is_html=True).statistics if s.kind == "table"]
    assert [(s.row_header, s.value, s.unit) for s in stats] == [
        ("城关镇", 120, "人"),
        ("城关镇", 35, "户"),
        ("河西镇", 80, "人"),
        ("河西镇", 20, "户"),
    ]
    # The same table as text has no markup: the numbered row reads as data.
    text = "乡镇\t培训人数(人)\t帮扶户数(户)\n甲\t1\t2\n城关镇\t120\t35\n河西镇\t80\t20\n"
    assert len([s for s in extract_page(text).statistics if s.kind == "table"]) == 6


def test_space_aligned_table_with_an_indented_header() -> None:
    text = (
        "              人口数      比重(%)\n"
        "全县          320801      100.00\n"
        "城关镇        116912      36.44\n"
    )
    assert cells(text) == [
        ("全县", "人口数", 320801, "人"),
        ("全县", "比重(%)", 100, "%"),
        ("城关镇", "人口数", 116912, "人"),
        ("城关镇", "比重(%)", 36.44, "%"),
    ]
