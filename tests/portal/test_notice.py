from __future__ import annotations

import datetime
from pathlib import Path

from huizong.portal.normalize import normalize
from huizong.portal.notice import find_dates, parse_notice, report_year, split_glued_date

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "include" / "huizong" / "data" / "corpus"
PAGES = REPO / "tests" / "gold" / "pages"


def notice_of(path: Path, **kwargs: object):
    return parse_notice(normalize(path.read_text(encoding="utf-8")).text, **kwargs)


def test_seed_notice_with_lost_characters() -> None:
    meta = notice_of(next(CORPUS.glob("001_*.txt")))
    assert meta.title is not None and meta.title.endswith("有关工作的通知")
    assert meta.issuer == "融安县妇女联合会"
    assert meta.level == "county"
    assert meta.issuer_code == "450224000000"
    assert meta.published == datetime.datetime(2020, 3, 10, 11, 43)
    assert meta.source == "妇联" and meta.author == "妇联"
    assert meta.doc_number == "融妇通〔2020〕1号"
    assert "doc_number_repaired" in meta.flags
    assert meta.recipients == "各乡(镇)妇联、泗顶矿区管理处、县直及驻融各单位女工委"
    assert meta.recipient_list[0] == "各乡(镇)妇联"
    assert meta.deadline == datetime.date(2020, 3, 23)
    assert meta.deadline_task == "组织开展活动的情况"
    assert meta.report_to == "县妇联OA或邮箱:ronganfulian@163.com"
    assert meta.report_email == "ronganfulian@163.com"
    assert meta.is_notice


def test_signature_date_with_lost_month_and_day_is_flagged() -> None:
    meta = notice_of(next(CORPUS.glob("001_*.txt")))
    # "2020年33" splits one valid way (3-3), before publication: kept, flagged.
    assert meta.signature_date == datetime.date(2020, 3, 3)
    assert "signature_date_repaired" in meta.flags


def test_unreadable_signature_date_is_not_invented() -> None:
    text = "关于开展活动的通知\n发布日期: 2020-03-10 11:43\n某某县妇女联合会\n2020年113"
    meta = parse_notice(text)
    # 1-13 and 11-3 are both valid: no date is better than a guessed one.
    assert meta.signature_date is None
    assert "signature_date_unreadable" in meta.flags


def test_dd_mm_yyyy_and_bracketed_publication_dates() -> None:
    assert notice_of(next(CORPUS.glob("000_*.txt"))).published == datetime.datetime(
        2021, 8, 11, 10, 41
    )
    assert notice_of(next(CORPUS.glob("002_*.txt"))).published == datetime.date(2021, 8, 10)


def test_byline_and_dateline_source() -> None:
    assert notice_of(next(CORPUS.glob("003_*.txt"))).author == "李卉、肖芳婷、李华迎、李文佳"
    meta = notice_of(next(CORPUS.glob("004_*.txt")))
    assert meta.source == "西部决策网"
    assert meta.author == "柏欢欢"
    assert meta.report_year == 2024


def test_province_notice_deadline_and_report_to() -> None:
    meta = notice_of(PAGES / "p01_province_notice.txt")
    assert meta.issuer == "湖南省妇联" and meta.level == "province"
    assert meta.doc_number == "湘妇发〔2023〕12号"
    assert meta.recipients == "各市州妇联"
    assert meta.deadline == datetime.date(2023, 9, 15)
    assert meta.deadline_task == "推荐材料及汇总表"
    assert meta.report_to is not None and meta.report_to.startswith("省妇联家庭和儿童工作部")
    assert meta.report_email == "hnfljtb@163.com"
    assert meta.signature_date == datetime.date(2023, 4, 10)


def test_year_less_deadline_takes_the_page_year() -> None:
    meta = notice_of(PAGES / "p05_county_notice_twice.txt")
    assert meta.deadline == datetime.date(2021, 4, 15)
    assert meta.report_to == "县妇联权益部"
    assert meta.doc_number == "盐妇〔2021〕8号"
    meta = notice_of(PAGES / "p09_county_tabs.txt")
    assert meta.deadline == datetime.date(2023, 10, 31)
    assert meta.deadline_task == "第四季度筛查计划"


def test_explicit_publication_date_wins() -> None:
    text = "关于报送材料的通知\n各镇妇联:\n请于3月5日前将材料报县妇联。"
    meta = parse_notice(text, published=datetime.date(2019, 2, 20))
    assert meta.deadline == datetime.date(2019, 3, 5)
    assert meta.published == datetime.date(2019, 2, 20)


def test_news_page_is_not_a_notice() -> None:
    meta = notice_of(next(CORPUS.glob("003_*.txt")))
    assert not meta.is_notice
    assert meta.deadline is None and meta.doc_number is None
    assert meta.report_year == 2020


def test_glued_date_splits() -> None:
    assert split_glued_date(2020, "323") == [datetime.date(2020, 3, 23)]
    assert split_glued_date(2020, "33") == [datetime.date(2020, 3, 3)]
    assert len(split_glued_date(2020, "113")) == 2
    assert split_glued_date(2020, "99") == [datetime.date(2020, 9, 9)]


def test_find_dates_kinds() -> None:
    values = [m.value for m in find_dates("2020-03-10 11:43 与 11.08.2021 及 2021年8月10日")]
    assert values == [
        datetime.datetime(2020, 3, 10, 11, 43),
        datetime.date(2021, 8, 11),
        datetime.date(2021, 8, 10),
    ]
    assert find_dates("7月30日起")[0:] == []
    assert find_dates("7月30日起", default_year=2021)[0].value == datetime.date(2021, 7, 30)


def test_report_year() -> None:
    assert report_year("2020年是极不平凡的一年") == 2020
    assert report_year("回望2024年,全镇") == 2024
    assert report_year("没有年份", datetime.date(2022, 5, 1)) == 2022


def test_to_dict_is_json_ready() -> None:
    data = notice_of(next(CORPUS.glob("001_*.txt"))).to_dict()
    assert data["deadline"] == "2020-03-23"
    assert data["published"] == "2020-03-10T11:43"
    assert data["issuer_level"] == "county"
    assert isinstance(data["recipient_list"], list)


def test_html_notice_report_verb_is_not_read_inside_words() -> None:
    from huizong.portal.htmltext import html_to_text

    html = (PAGES / "p10_city_notice.html").read_text(encoding="utf-8")
    meta = parse_notice(normalize(html_to_text(html).text).text)
    assert meta.title == "长沙市妇联关于做好2024年度妇联统计年报工作的通知"
    assert meta.issuer_code == "430100000000"
    assert meta.published == datetime.datetime(2024, 12, 2, 10, 15)
    assert meta.doc_number == "长妇字〔2024〕35号"
    assert meta.deadline == datetime.date(2024, 12, 20)
    assert meta.deadline_task == "统计报表及填报说明"
    assert meta.report_to == "市妇联组织部"


def test_year_less_deadline_before_the_notice_date_is_next_year() -> None:
    text = "关于报送年报的通知\n各县区妇联:\n请于1月10日前将年报报市妇联。"
    meta = parse_notice(text, published=datetime.date(2024, 12, 20))
    assert meta.deadline == datetime.date(2025, 1, 10)
    assert "deadline_next_year" in meta.flags
    # Later in the same year stays in it; a written year is never moved.
    later = parse_notice(text.replace("1月10日", "12月28日"), published=datetime.date(2024, 12, 20))
    assert later.deadline == datetime.date(2024, 12, 28)
    written = parse_notice(
        text.replace("1月10日", "2024年1月10日"), published=datetime.date(2024, 12, 20)
    )
    assert written.deadline == datetime.date(2024, 1, 10)


def test_lost_characters_in_a_deadline_are_still_repaired() -> None:
    text = "关于报送统计数据的通知\n各镇妇联:\n请于2024612日前将数据报县妇联。"
    meta = parse_notice(text, published=datetime.date(2024, 6, 1))
    assert meta.deadline == datetime.date(2024, 6, 12)
    assert "deadline_repaired" in meta.flags
