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


# --------------------------------------------------------------------------
# Layouts of unseen pages (issue #13: table reading must generalise)
# --------------------------------------------------------------------------


def test_tab_rows_keep_an_empty_label_cell_and_empty_trailing_cells() -> None:
    # 南山乡\t\t (no figures) does not end the table; \t77 keeps its empty label,
    # so 77 stays in the 参检人数 column; a footnote mark (85*) and a minus sign
    # are read with the figure.
    text = (
        "2023年各乡镇妇女两癌筛查情况\n"
        "乡镇\t参检人数(人)\t完成率(%)\n"
        "城关镇\t186\t98.5\n"
        "南山乡\t\t\n"
        "\t77\t12.5\n"
        "北河乡\t85*\t—\n"
        "合计\t1,245\t-7.04\n"
    )
    assert cells(text) == [
        ("城关镇", "参检人数(人)", 186, "人"),
        ("城关镇", "完成率(%)", 98.5, "%"),
        (None, "参检人数(人)", 77, "人"),
        (None, "完成率(%)", 12.5, "%"),
        ("北河乡", "参检人数(人)", 85, "人"),
        ("合计", "参检人数(人)", 1245, "人"),
        ("合计", "完成率(%)", -7.04, "%"),
    ]


def test_two_tables_side_by_side_under_one_unit_line() -> None:
    text = (
        "单位:对\n"
        "         2009年 2010年            2009年 2010年\n"
        "准予登记结婚对数 20970 21464  每千人结婚对数 9.3 9.4\n"
        "离婚登记对数 2741 3140    平均每天离婚对数 7.5 8.6\n"
    )
    assert cells(text) == [
        ("准予登记结婚对数", "2009年", 20970, "对"),
        ("准予登记结婚对数", "2010年", 21464, "对"),
        # A rate per thousand people is no count of 对.
        ("每千人结婚对数", "2009年", 9.3, None),
        ("每千人结婚对数", "2010年", 9.4, None),
        ("离婚登记对数", "2009年", 2741, "对"),
        ("离婚登记对数", "2010年", 3140, "对"),
        ("平均每天离婚对数", "2009年", 7.5, "对"),
        ("平均每天离婚对数", "2010年", 8.6, "对"),
    ]


def test_rows_of_bare_numbers_under_a_broken_header_take_its_units_in_order() -> None:
    text = (
        "19-10  幼儿教育基本情况\n"
        " \n"
        "               园所个数(所)    \n"
        "(个)\n"
        "在园幼儿数\n"
        "(人)\n"
        "教职工数 (人)   小学附设学前班\n"
        "# 专任教师 班数(个)   幼儿数 ()\n"
        "        158 1243 34737 3946 2249 61 1098\n"
        "按城乡分\n"
        "        107 845 24240 3112 1740 5 250\n"
        "  其他部门办 14 110 3493 494 236\n"
    )
    got = cells(text)
    assert [(row, value, unit) for row, _col, value, unit in got[:7]] == [
        (None, 158, "所"),
        (None, 1243, "个"),
        (None, 34737, "人"),
        (None, 3946, "人"),
        (None, 2249, "人"),  # # 专任教师 takes its parent column's unit
        (None, 61, "个"),
        (None, 1098, None),  # 幼儿数 () states no unit
    ]
    assert [(row, value, unit) for row, _col, value, unit in got[14:]] == [
        ("其他部门办", 14, "所"),
        ("其他部门办", 110, "个"),
        ("其他部门办", 3493, "人"),
        ("其他部门办", 494, "人"),
        ("其他部门办", 236, "人"),
    ]


def test_rows_of_bare_numbers_without_a_unit_header_are_not_guessed() -> None:
    # Nothing says what the columns are: no statistics, rather than wrong units.
    text = "各项数据如下\n        158 1243 34737\n        107 845 24240\n        39 257 7404\n"
    assert cells(text) == []


def test_spaced_rows_with_a_unit_after_the_label_and_a_change_column() -> None:
    text = (
        "社会服务统计月报表\n"
        "编制单位:福建省民政厅 2017年7月\n"
        "指标名称 单位 数量 上期 环比\n"
        "1 2 3\n"
        "一、综合\n"
        "社会服务事业费总支出 万元 406,996.1 345,892.7 17.67\n"
        "1.抚恤支出 万元 81,007.2 65,238.3 24.17\n"
        "二、社会工作\n"
        "(一)社会救助\n"
        "(1)城市低保人数 75,616 75,916 -0.40\n"
        "城市低保户数 47,396 47,596 -0.42\n"
    )
    assert cells(text) == [
        ("社会服务事业费总支出", "数量", 4069961000, "元"),
        ("社会服务事业费总支出", "上期", 3458927000, "元"),
        # 环比 holds a change, not an amount in 万元.
        ("社会服务事业费总支出", "环比", 17.67, None),
        ("1.抚恤支出", "数量", 810072000, "元"),
        ("1.抚恤支出", "上期", 652383000, "元"),
        ("1.抚恤支出", "环比", 24.17, None),
        # An empty unit cell leaves the unit open: no guess from the label.
        ("(1)城市低保人数", "数量", 75616, None),
        ("(1)城市低保人数", "上期", 75916, None),
        ("(1)城市低保人数", "环比", -0.4, None),
        ("城市低保户数", "数量", 47396, None),
        ("城市低保户数", "上期", 47596, None),
        ("城市低保户数", "环比", -0.42, None),
    ]


def test_one_cell_per_line_closed_by_lone_pipes_with_a_unit_column() -> None:
    text = (
        "2009年1月份民政事业统计月报\n"
        "指 标\n|\n单 位\n|\n数 量\n|\n"
        "1.优抚、安置\n|\n|\n|\n"
        "国家抚恤、补助各类优抚对象\n|\n万人\n|\n630.2\n|\n"
        "累计接收军队离退休干部\n|\n人\n|\n778\n|\n"
        "城市最低生活保障月人均支出水平\n|\n元/人、月\n|\n227\n|\n"
    )
    assert cells(text) == [
        ("国家抚恤、补助各类优抚对象", "数 量", 6302000, "人"),
        ("累计接收军队离退休干部", "数 量", 778, "人"),
        ("城市最低生活保障月人均支出水平", "数 量", 227, "元/人·月"),
    ]


def test_one_cell_per_line_form_with_code_row_and_code_column() -> None:
    text = (
        "发布时间:2024-09-30 作者:某某 | 【字体: 大 中 小】 | 【打印页面】 |\n"
        "指标名称 |\n单位 |\n代码 |\n数量 |\n上年数据 |\n同比 |\n"
        "甲 |\n乙 |\n丙 |\n1 |\n2 |\n3 |\n"
        "一、综合 |\n|\nJZH011000000 |\n|\n|\n|\n"
        "(一)乡级行政区划 |\n个 |\nJZH011110000 |\n77 |\n77 |\n|\n"
        "1.镇 |\n个 |\nJZH011111000 |\n43 |\n43 |\n|\n"
    )
    assert cells(text) == [
        ("(一)乡级行政区划", "数量", 77, "个"),
        ("(一)乡级行政区划", "上年数据", 77, "个"),
        ("1.镇", "数量", 43, "个"),
        ("1.镇", "上年数据", 43, "个"),
    ]


def test_one_cell_per_line_two_header_rows() -> None:
    years_under_last = (
        "单位:人、%\n\n地区\n\n常住人口\n\n比重\n\n2020年\n\n2010年\n\n"
        "南木达镇\n\n4818\n\n10.78\n\n11.32\n\n"
        "中壤塘镇\n\n5754\n\n12.88\n\n9.88\n"
    )
    assert cells(years_under_last) == [
        ("南木达镇", "常住人口", 4818, "人"),
        ("南木达镇", "比重/2020年", 10.78, "%"),
        ("南木达镇", "比重/2010年", 11.32, "%"),
        ("中壤塘镇", "常住人口", 5754, "人"),
        ("中壤塘镇", "比重/2020年", 12.88, "%"),
        ("中壤塘镇", "比重/2010年", 9.88, "%"),
    ]
    repeating_lower = (
        "地区 |\n18岁以下 |\n18-35岁 |\n"
        "人数 |\n占总人口% |\n人数 |\n占总人口% |\n"
        "|\n8020655  |\n16.62  |\n11099444  |\n22.99  |\n"
        "|\n1070115  |\n15.14  |\n1731896  |\n24.51  |\n"
    )
    assert cells(repeating_lower) == [
        (None, "18岁以下/人数", 8020655, "人"),
        (None, "18岁以下/占总人口%", 16.62, "%"),
        (None, "18-35岁/人数", 11099444, "人"),
        (None, "18-35岁/占总人口%", 22.99, "%"),
        (None, "18岁以下/人数", 1070115, "人"),
        (None, "18岁以下/占总人口%", 15.14, "%"),
        (None, "18-35岁/人数", 1731896, "人"),
        (None, "18-35岁/占总人口%", 24.51, "%"),
    ]


def test_a_share_column_under_a_percent_unit_line_is_percent() -> None:
    # 占总人口比重 mentions 人口, but the unit line says %.
    text = (
        "单位:%\n"
        "| 地区 | 占总人口比重 | |\n"
        "| | 0-14岁 | 15-59岁 |\n"
        "| 铜梁区 | 16.33 | 57.59 |\n"
        "| 巴川街道 | 16.61 | 66.80 |\n"
    )
    assert [unit for *_rest, unit in cells(text)] == ["%"] * 4


def test_bilingual_yearbook_table_under_a_unit_line() -> None:
    text = (
        "15-22  社会福利事业 企业单位机构情况\n"
        "单位:个       (unit)\n"
        "      item 2004 2005 2006\n"
        "         total 1970 1847 1990\n"
        "收养性社会福利单位 adopting social welfare institutions 894 806 815\n"
        "    光荣院          homes for disabled veterans 58 57 57\n"
    )
    got = cells(text)
    assert [(value, unit) for _row, _col, value, unit in got] == [
        (1970, "个"),
        (1847, "个"),
        (1990, "个"),
        (894, "个"),
        (806, "个"),
        (815, "个"),
        (58, "个"),
        (57, "个"),
        (57, "个"),
    ]
    assert [col for _row, col, _value, _unit in got[:3]] == ["2004", "2005", "2006"]


def test_unit_line_in_a_named_currency_and_per_thousand_headers() -> None:
    money = (
        "表1 性别预算彙计表 单位:新臺幣千元\n"
        "項目\n110年度\n111年度\n"
        "公務預算\n46,042,227\n67,150,670\n"
        "營業基金\n871,819\n864,348\n"
    )
    assert [(value, unit) for *_rest, value, unit in cells(money)] == [
        (46042227000, "元"),
        (67150670000, "元"),
        (871819000, "元"),
        (864348000, "元"),
    ]
    rates = (
        "by county 男Male(每千人 ) 女Female(每千人 ) 總計Both(每千人 )\n"
        "59170594 新北市 4.1 3.4 3.8\n"
        "59170595 臺北市 4 3.5 3.7\n"
    )
    assert [unit for *_rest, unit in cells(rates)] == ["‰"] * 6


def test_one_cell_per_line_row_missing_a_trailing_cell_fills_from_the_left() -> None:
    # 普通高中 lost its last cell in the copy: the next label starts the next row,
    # and the rows after it stay in their columns.
    text = (
        "类别 |\n学校数 |\n班级数 |\n师生比 |\n"
        "小学 |\n334 |\n8697 |\n19.57 |\n"
        "普通高中 |\n56 |\n1853 |\n"
        "特殊教育 |\n8 |\n122 |\n3.56 |\n"
        "总计 |\n398 |\n10672 |\n16.20 |\n"
    )
    assert [(row, col, value) for row, col, value, _unit in cells(text)] == [
        ("小学", "学校数", 334),
        ("小学", "班级数", 8697),
        ("小学", "师生比", 19.57),
        ("普通高中", "学校数", 56),
        ("普通高中", "班级数", 1853),
        ("特殊教育", "学校数", 8),
        ("特殊教育", "班级数", 122),
        ("特殊教育", "师生比", 3.56),
        ("总计", "学校数", 398),
        ("总计", "班级数", 10672),
        ("总计", "师生比", 16.2),
    ]


def test_one_cell_per_line_with_empty_and_space_lines_alternating() -> None:
    # A copied table alternates empty lines and lines of spaces (empty cells):
    # the run of cells goes on; a header cell split over two lines keeps its unit.
    text = (
        "4-3 各地区总人口和出生率(1997年)\n\n \n\n年底总人口\n\n(万人)\n\n出生率\n\n"
        " \n\n \n\n \n\n"
        "全国\n\n123626\n\n16.57\n\n \n\n北京\n\n1240\n\n7.91\n"
    )
    assert [(row, value, unit) for row, _col, value, unit in cells(text)] == [
        ("全国", 1236260000, "人"),
        ("全国", 16.57, None),
        ("北京", 12400000, "人"),
        ("北京", 7.91, None),
    ]


def test_one_cell_per_line_years_down_the_rows_under_a_three_row_header() -> None:
    # The years name the rows (never statistics); the header's rows cannot be
    # aligned cell by cell, but it states one unit per figure column, in order.
    text = (
        "2-4 历年市区户籍人口变动情况 |\n|\n年 份 |\n出 生 |\n人 口 |\n|\n"
        "出生人口 |\n人口出生 |\n人 口 |\n密 度 |\n|\n"
        "数(人) |\n率(‰) |\n(人/平方 |\n|\n|\n公里) |\n"
        "1978 |\n10005 |\n10.80 |\n591 |\n"
        "1979 |\n10202 |\n11.00 |\n594 |\n"
    )
    assert [(row, value, unit) for row, _col, value, unit in cells(text)] == [
        ("1978", 10005, "人"),
        ("1978", 10.8, "‰"),
        ("1978", 591, "人/平方公里"),
        ("1979", 10202, "人"),
        ("1979", 11.0, "‰"),
        ("1979", 594, "人/平方公里"),
    ]


def test_spaced_table_headed_by_a_row_of_years() -> None:
    # 年度 108 109 110 (Minguo years) heads the columns: the years are no statistics.
    text = (
        "表9-2 近3年寄養家庭一覽表\n年度 108 109 110\n"
        "家庭數(户) 1,027 1,042 1,012\n兒少數(人) 762 782 846\n"
    )
    assert cells(text) == [
        ("家庭数(户)", "108", 1027, "户"),
        ("家庭数(户)", "109", 1042, "户"),
        ("家庭数(户)", "110", 1012, "户"),
        ("儿少数(人)", "108", 762, "人"),
        ("儿少数(人)", "109", 782, "人"),
        ("儿少数(人)", "110", 846, "人"),
    ]


def test_one_cell_per_line_last_row_cut_off_by_the_end_of_the_page() -> None:
    text = "地区 |\n人数 |\n占比% |\n城关镇 |\n120 |\n12.5 |\n南山乡 |\n98 |\n10.1 |\n北河乡 |\n77"
    assert cells(text) == [
        ("城关镇", "人数", 120, "人"),
        ("城关镇", "占比%", 12.5, "%"),
        ("南山乡", "人数", 98, "人"),
        ("南山乡", "占比%", 10.1, "%"),
        ("北河乡", "人数", 77, "人"),
    ]


def test_one_cell_per_line_group_lines_between_rows() -> None:
    text = (
        "项目\n2020年\n2021年\n增减数\n"
        "医院\n34349\n35519\n1170\n"
        "按登记注册类型分\n"
        "公立医院\n11916\n11840\n-76\n"
        "民营医院\n22433\n23679\n1246\n"
    )
    assert [(row, value) for row, _col, value, _unit in cells(text)] == [
        ("医院", 34349),
        ("医院", 35519),
        ("医院", 1170),
        ("公立医院", 11916),
        ("公立医院", 11840),
        ("公立医院", -76),
        ("民营医院", 22433),
        ("民营医院", 23679),
        ("民营医院", 1246),
    ]


def test_table_continued_after_a_note_line_and_a_page_number() -> None:
    text = (
        "各乡镇妇女两癌筛查情况\n"
        "乡镇\t参检人数(人)\t完成率(%)\n"
        "城关镇\t186\t98.5\n"
        "注:完成率按年度任务计算\n"
        "— 2 —\n"
        "南山乡\t77\t12.5\n"
        "合计\t263\t55.5\n"
    )
    assert cells(text) == [
        ("城关镇", "参检人数(人)", 186, "人"),
        ("城关镇", "完成率(%)", 98.5, "%"),
        ("南山乡", "参检人数(人)", 77, "人"),
        ("南山乡", "完成率(%)", 12.5, "%"),
        ("合计", "参检人数(人)", 263, "人"),
        ("合计", "完成率(%)", 55.5, "%"),
    ]


def test_continued_table_repeating_its_header_and_a_different_table_stay_apart() -> None:
    repeated = (
        "乡镇 | 参检人数(人) |\n城关镇 | 186 |\n南山乡 | 77 |\n"
        "续表\n"
        "乡镇 | 参检人数(人) |\n北河乡 | 85 |\n西坡镇 | 64 |\n"
    )
    assert [(row, value, unit) for row, _col, value, unit in cells(repeated)] == [
        ("城关镇", 186, "人"),
        ("南山乡", 77, "人"),
        ("北河乡", 85, "人"),
        ("西坡镇", 64, "人"),
    ]
    other = (
        "乡镇 | 参检人数(人) |\n城关镇 | 186 |\n南山乡 | 77 |\n"
        "注:数据截至年底\n"
        "乡镇 | 培训场次(场) |\n北河乡 | 12 |\n西坡镇 | 9 |\n"
    )
    assert [(col, value, unit) for _row, col, value, unit in cells(other)][2:] == [
        ("培训场次(场)", 12, "场次"),
        ("培训场次(场)", 9, "场次"),
    ]


def test_cell_number_formats() -> None:
    text = (
        "| 地区 | 人数(人) | 占比 | 增减(个) | 金额(万元) |\n"
        "| 城关镇 | 1,245 | 12.5% | -76 | 1,245.0 |\n"
        "| 南山乡 | — | - | +12 | 3.5 |\n"
        "| 北河乡 | 85* | 9.1％ | 0 | -- |\n"
    )
    assert [(value, unit) for _row, _col, value, unit in cells(text)] == [
        (1245, "人"),
        (12.5, "%"),
        (-76, "个"),
        (12450000, "元"),
        (12, "个"),
        (35000, "元"),
        (85, "人"),
        (9.1, "%"),
        (0, "个"),
    ]


def test_bilingual_rows_whose_labels_state_their_units() -> None:
    text = (
        "人口与就业 Population and Employment\n"
        "  年末总人口(万人)   Total Population(year—end)(10000 persons) 7.7 7.9\n"
        "         Population of Female 3.8 4.0\n"
        "  年末总户数(户)   Number of Households(year—end)(household) 20542 22627\n"
        "    乡村户数      Number of Rural Households 13698 13014\n"
    )
    assert [(value, unit) for _row, _col, value, unit in cells(text)] == [
        (77000, "人"),
        (79000, "人"),
        (38000, "人"),
        (40000, "人"),  # a sub-row counts in its parent row's unit
        (20542, "户"),
        (22627, "户"),
        (13698, "户"),
        (13014, "户"),
    ]


def test_a_row_counting_villages_with_telephone_is_no_phone_line() -> None:
    text = "单位:个\n项目 2019 2020\n自来水受益村 30 75\n通电话的村 25 75\n联系电话 0731 2222\n"
    assert [(row, value) for row, _col, value, _unit in cells(text)] == [
        ("自来水受益村", 30),
        ("自来水受益村", 75),
        ("通电话的村", 25),
        ("通电话的村", 75),
    ]


def test_a_word_in_parentheses_inside_a_header_name_is_no_unit() -> None:
    # 入园(班)人数 (人): the column counts 人; (班) belongs to the name.
    text = (
        "园数(所)\n入园(班)人数\n(人)\n在园(班)人数\n(人)\n合计\n"
        "北京\n1899\n18770\n221767\n"
        "天津\n2075\n11873\n259442\n"
    )
    assert [(value, unit) for _row, _col, value, unit in cells(text)] == [
        (1899, "所"),
        (18770, "人"),
        (221767, "人"),
        (2075, "所"),
        (11873, "人"),
        (259442, "人"),
    ]


def test_a_group_line_stating_its_unit_gives_the_rows_below_it() -> None:
    text = "年度 108 109\n家庭數(户) 1,027 1,042\n兒少數( 人 )\n女 788 799\n"
    assert [(row, value, unit) for row, _col, value, unit in cells(text)] == [
        ("家庭数(户)", 1027, "户"),
        ("家庭数(户)", 1042, "户"),
        ("女", 788, "人"),
        ("女", 799, "人"),
    ]


def test_pipe_cells_packing_several_figures_are_one_cell_each() -> None:
    text = (
        "年龄区间 | 性别 |\n"
        "总计 | 识字者 |\n"
        "15~19岁 | 男 女 合 |\n"
        "2,269 2,003 4,272 | 2,269 2,002 4,271 |\n"
        "20~24岁 | 男 女 合 |\n"
        "3,101 2,792 5,893 | 0 0 0 |\n"
    )
    assert [value for _row, _col, value, _unit in cells(text)] == [
        2269,
        2003,
        4272,
        2269,
        2002,
        4271,
        3101,
        2792,
        5893,
        0,
        0,
        0,
    ]
