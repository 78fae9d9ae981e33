from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from huizong.portal.extract import PageExtraction, Statistic, extract_page
from huizong.portal.extract.figures import AFTER_DIGITS, FIGURE, NUMERAL_RUN, figure_from_match
from huizong.portal.extract.model import new_statistic

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "include" / "huizong" / "data" / "corpus"
PAGES = REPO / "tests" / "gold" / "pages"


def seed(prefix: str) -> PageExtraction:
    return extract_page(next(CORPUS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8"))


def one(stats: list[Statistic], figure: str) -> Statistic:
    found = [s for s in stats if s.figure == figure]
    assert len(found) == 1, [s.figure for s in stats]
    return found[0]


def figures(text: str, **kwargs: object) -> list[tuple[float, str | None, str]]:
    return [(s.value, s.unit, s.qualifier) for s in extract_page(text, **kwargs).statistics]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("培训妇女群众3.19万人次。", [(31900, "人次", "exact")]),
        ("募集146.41万元防疫物资。", [(1464100, "元", "exact")]),
        ("发放贷款1.2亿元。", [(120_000_000, "元", "exact")]),
        ("表彰三十余人。", [(30, "人", "at_least")]),
        ("走访近千名妇女。", [(1000, "人", "at_most")]),
        ("其中三分之二以上为农村妇女。", [(66.67, "%", "at_least")]),
        ("占2/3。", [(66.67, "%", "exact")]),
        ("服务约8000人次。", [(8000, "人次", "approx")]),
        ("增收3000元左右。", [(3000, "元", "approx")]),
        ("化解九成以上。", [(90, "%", "at_least")]),
        ("办结率达百分之九十八。", [(98, "%", "exact")]),
        ("直播观看量超200万。", [(2_000_000, None, "at_least")]),
        # A bound on what was done qualifies it; a bound a notice asks for is a quota.
        (
            "帮扶困难家庭不少于10户,受益群众不超过3万人。",
            [(10, "户", "at_least"), (30000, "人", "at_most")],
        ),
        ("推荐不超过3户,不少于10户。", []),
        (
            "分别比2010年提高3个和0.8个百分点。",
            [(3, "个百分点", "exact"), (0.8, "个百分点", "exact")],
        ),
        (
            "分别提高1.2和0.4个百分点,增长2倍。",
            [(1.2, "个百分点", "exact"), (0.4, "个百分点", "exact"), (2, "倍", "exact")],
        ),
        (
            "新增两名执委,建成四个示范点,收到三十份材料。",
            [(2, "人", "exact"), (4, "个", "exact"), (30, "份", "exact")],
        ),
        (
            "吸引逾万人参与,上千名志愿者和近百人。",
            [(10000, "人", "at_least"), (1000, "人", "at_least"), (100, "人", "at_most")],
        ),
        ("服务对象127.46万人,约占50%。", [(1274600, "人", "exact"), (50, "%", "approx")]),
        ("平均预期寿命为75.08岁,年满18岁的妇女。", [(75.08, "岁", "exact")]),
        ("增强四个意识,做到两个维护,三位一体。", []),
        ("浏览次数：418 阅读 1024次 点击：33次", []),
        ("每村至少推荐2户,名额3名,一式两份,500字以内,限报1个。", []),
        ("力争全年培训妇女1000人次。", []),
        ("增收额在2万元以上的占53%。", [(53, "%", "exact")]),
        # The bounds of a range or a bound that selects what is counted are thresholds.
        ("常住人口在3千人至5千人之间的乡(镇)有4个。", [(4, "个", "exact")]),
        ("人口少于2万人的有3个。", [(3, "个", "exact")]),
        (
            "生长迟缓率保持在0.14%至0.28%的较低水平。",
            [(0.14, "%", "at_least"), (0.28, "%", "at_most")],
        ),
        (
            "每10万人中拥有大学文化程度的由2996人上升为3611人。",
            [(2996, "人", "exact"), (3611, "人", "exact")],
        ),
        ("财产权益共6件,约占信访总数的1%。", [(6, "件", "exact"), (1, "%", "approx")]),
        ("召开三届六次全委会,常住人口居前三位,已有0人点赞,0条评论,获奖家庭各奖500元。", []),
        (
            "吸引数万名群众参与,平均受教育年限8.39年。",
            [(10000, "人", "at_least"), (8.39, "年", "exact")],
        ),
        ("下达贷款指标6500万,今年将为6000名妇女免费检查。", []),
        (
            "死亡率下降至2.72/10万,性别比为98.39。",
            [(2.72, "/10万", "exact"), (98.39, None, "exact")],
        ),
        (
            "累计销售产品4800多份,销售额达230余万元。",
            [(4800, "份", "at_least"), (2_300_000, "元", "at_least")],
        ),
    ],
)
def test_values_units_and_qualifiers(text: str, expected: list[tuple[float, str, str]]) -> None:
    got = figures(text)
    assert [(pytest.approx(v), u, q) for v, u, q in expected] == got


def test_lists_share_unit_and_closing_qualifier() -> None:
    assert figures("女性成员占比分别在70%、60%和40%以上。") == [
        (70, "%", "at_least"),
        (60, "%", "at_least"),
        (40, "%", "at_least"),
    ]
    assert figures("占比达到18.26%、19.09%。") == [(18.26, "%", "exact"), (19.09, "%", "exact")]
    assert figures("分别为12、15、19个。") == [
        (12, "个", "exact"),
        (15, "个", "exact"),
        (19, "个", "exact"),
    ]
    assert figures("链接资金10万-15万元。") == [(100000, "元", "exact"), (150000, "元", "exact")]


@pytest.mark.parametrize(
    "text",
    [
        "2021年8月10日,市妇联召开会议。",
        "联系电话:0731-82251234,传真:0573-86012346。",
        "融妇通〔2020〕1号",
        "将12338维权服务热线并入12345政府服务热线。",
        "组建“3+1姐妹帮帮团”,推行“3+N接访模式”和“1+1”结对。",
        "一、提高政治站位。1. 推动理论学习。第一,深入学习。",
        "在全省排名第二,增强“四个意识”,做到“两个维护”。",
        "全国三八红旗手,党的十九大,实现“十三五”规划,三位一体。",
        "《湖南加油!株洲一名妇联执委的“抗疫15小时”》",
        "提供24小时公益咨询服务,2分45秒卖出,用一次性口罩。",
        "抓住反家庭暴力法实施四周年契机,纪念110周年。",
        "千家万户,万众一心,进一步发挥作用。",
        "积极推动9-14岁女童HPV疫苗接种,99公益日,84消毒液。",
    ],
)
def test_never_statistics(text: str) -> None:
    assert extract_page(text).statistics == []


def test_seed_000_scope_period_and_indicators() -> None:
    page = seed("000")
    assert page.org == "株洲市" and page.org_code == "430200000000"
    stats = page.statistics
    assert len(stats) == 18  # 四个隔离点 counts (docs/labelling.md: Chinese numerals count)
    executives = one(stats, "2.4万名")
    assert (executives.value, executives.unit, executives.indicator) == (24000, "人", "03")
    assert executives.org == "株洲市" and executives.org_code == "430200000000"
    assert one(stats, "136篇").indicator == "24"
    assert one(stats, "46场次").period == "2021-07-30/"
    assert one(stats, "100多名").qualifier == "at_least"


def test_seed_003_percentage_with_its_parts() -> None:
    stats = seed("003").statistics
    rate = one(stats, "98.13%")
    assert rate.period == "2021-02-09"
    assert rate.indicator == "R01"
    (check,) = rate.checks
    assert check["part"] == 1364 and check["total"] == 1390
    assert check["status"] == "match"
    assert one(stats, "98.92%").checks[0]["total"] == 1390
    screening = one(stats, "79956人")
    assert screening.indicator == "08"
    assert screening.quote == "全年完成“两癌”筛查人数79956人"
    assert screening.period == "2020"
    assert one(stats, "146.41万元").value == 1464100


def test_seed_004_town_traditional() -> None:
    page = seed("004")
    assert page.org == "站儿巷镇" and page.org_code == "621228101000"
    stats = page.statistics
    assert [s.figure for s in stats if s.indicator == "06"] == ["8场次", "2场次", "3场次"]
    assert one(stats, "200余人").qualifier == "at_least"
    assert {s.period for s in stats} == {"2024"}


def test_seed_001_notice_has_no_statistics() -> None:
    assert seed("001").statistics == []


def test_quotes_map_back_to_raw_text() -> None:
    raw = next(CORPUS.glob("004_*.txt")).read_text(encoding="utf-8")
    page = extract_page(raw)
    stat = one(page.statistics, "588人")
    assert page.normalized.text[stat.start : stat.end] == stat.quote
    assert raw[stat.raw_start : stat.raw_end].endswith("588人")
    assert "群眾" in raw[stat.raw_start : stat.raw_end]


def test_scope_word_on_a_town_page_means_its_county() -> None:
    text = "回望2024年,站儿巷镇妇联工作。全县完成“两癌”免费筛查1200人,全镇完成“两癌”免费筛查9人。"
    stats = extract_page(text, org="两当县站儿巷镇妇联").statistics
    assert [(s.org, s.org_code) for s in stats] == [
        ("两当县", "621228000000"),
        ("站儿巷镇", "621228101000"),
    ]


def test_published_date_gives_year_less_dates_their_year() -> None:
    text = "截至2月9日,全市完成换届1364个。7月30日起,开展心理疏导46场次。"
    stats = extract_page(text, published=datetime.date(2021, 8, 11)).statistics
    assert [s.period for s in stats] == ["2021-02-09", "2021-07-30/"]


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("2024年第三季度，全市开展培训300场次。", "2024Q3"),
        ("第3季度全县举办宣讲400余场次。", "2024Q3"),
        ("一季度共接待来访45件次。", "2024Q1"),
    ],
)
def test_a_quarter_in_the_sentence_is_the_period(text: str, period: str) -> None:
    stats = extract_page(text, published=datetime.date(2024, 10, 15)).statistics
    assert [s.period for s in stats] == [period]


@pytest.mark.parametrize("text", ["培训妇女300人", "300人参加培训"])
def test_a_figure_at_either_end_of_the_text_counts(text: str) -> None:
    stats = extract_page(text).statistics
    assert [(s.value, s.unit) for s in stats] == [(300, "人")]


def test_html_table_cells_with_headers_and_totals() -> None:
    html = (PAGES / "p02_city_table_gbk.html").read_bytes().decode("gb18030")
    page = extract_page(html, is_html=True)
    table = [s for s in page.statistics if s.kind == "table"]
    assert len(table) == 19
    first = table[0]
    assert first.row_header == "南湖区" and first.org_code == "330402000000"
    assert first.col_header == "村(社区)妇联组织数(个)/应建"
    assert (first.value, first.unit, first.indicator) == (120, "个", "01")
    money = [s for s in table if s.unit == "元"]
    assert money[0].value == 125000 and money[0].indicator == "10"
    totals = {s.figure: s.checks[0] for s in table if s.row_header == "合计"}
    assert totals["473"]["status"] == "match"
    assert totals["5,917"]["status"] == "mismatch"
    assert totals["5,917"]["difference"] == 10


def test_text_table_one_cell_per_line() -> None:
    page = extract_page((PAGES / "p04_town_onecell_table.txt").read_text(encoding="utf-8"))
    table = [s for s in page.statistics if s.kind == "table"]
    assert [(s.row_header, s.value, s.unit) for s in table[:2]] == [
        ("秋江村", 186, "人"),
        ("秋江村", 3, "人"),
    ]
    assert table[0].indicator == "08" and table[1].indicator == "09"
    assert all(c["status"] == "match" for s in table for c in s.checks)
    assert sum(1 for s in table if s.checks) == 2


def test_tab_table_rates_are_not_summed() -> None:
    page = extract_page((PAGES / "p09_county_tabs.txt").read_text(encoding="utf-8"))
    totals = [s for s in page.statistics if s.kind == "table" and s.row_header == "合计"]
    assert [(s.value, s.unit, bool(s.checks)) for s in totals] == [
        (10000, "人", True),
        (8236, "人", True),
        (82.4, "%", False),
    ]


def test_code_column_gives_the_indicator() -> None:
    html = (PAGES / "p07_province_traditional_table.html").read_text(encoding="utf-8")
    page = extract_page(html, is_html=True)
    table = [s for s in page.statistics if s.kind == "table"]
    assert [s.indicator for s in table] == ["01", "01", "04", "04", "08", "08", "10", "10", "14"]
    money = [s for s in table if s.indicator == "10"]
    assert [s.value for s in money] == [35605000, 32110000]
    assert [s.period for s in money] == ["2021", "2020"]


def test_statistic_to_dict_is_json_serializable() -> None:
    for stat in seed("003").statistics:
        data = stat.to_dict()
        json.dumps(data, ensure_ascii=False)
        assert set(data) >= {"quote", "value", "unit", "qualifier", "indicator", "org", "period"}


def test_digit_runs_skipped_by_the_prefilter_make_no_figure() -> None:
    # _find_figures skips a run of ASCII digits unless the character after it
    # can continue a figure; for every other character that ends the run the
    # full pattern must agree: the match ends with the run and gives no figure.
    for code_point in range(0x20, 0x10000):
        char = chr(code_point)
        if 0xD800 <= code_point <= 0xDFFF or char in AFTER_DIGITS or NUMERAL_RUN.match(char):
            continue
        text = f"共2021{char}项"
        match = FIGURE.match(text, 1)
        assert match is not None and match.end() == 5, repr(char)
        assert figure_from_match(text, match, set()) is None, repr(char)


def test_statistic_built_for_the_figure_loop_equals_the_dataclass() -> None:
    values: dict[str, object] = {
        "quote": "全年培训妇女3人",
        "start": 0,
        "end": 8,
        "raw_start": 0,
        "raw_end": 8,
        "value": 3,
        "unit": "人",
        "qualifier": "exact",
        "indicator": None,
        "indicator_name": "培训妇女",
        "org": None,
        "org_code": None,
        "period": "2021",
        "kind": "prose",
    }
    fast = new_statistic(values)
    slow = Statistic(**values)  # type: ignore[arg-type]
    assert fast == slow and vars(fast) == vars(slow) and hash(fast) == hash(slow)
