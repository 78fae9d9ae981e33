"""Notices and their statistics: staging, reposts, publishing, notice vs return."""

from __future__ import annotations

from huizong.warehouse import load
from wh_factories import (
    COUNTY,
    TOWNS,
    add_hierarchy,
    extraction,
    num,
    page,
    rows,
    scalar,
    submission,
)

TEXT = "测试县妇联2024年工作总结。全年完成“两癌”筛查人数460人，第四季度筛查130人。"


def _stat(start: int, end: int, value: float, **kw):
    return {
        "quote": TEXT[start:end],
        "start": start,
        "end": end,
        "raw_start": start,
        "raw_end": end,
        "value": value,
        "unit": "人",
        "qualifier": "exact",
        "indicator": "08",
        "indicator_name": "“两癌”免费筛查人数",
        "org": "测试县",
        "org_code": COUNTY,
        "period": "2024",
        "kind": "total",
        **kw,
    }


def _extraction():
    return extraction(
        TEXT,
        [
            _stat(12, 26, 470),  # the notice says 470 for the year
            _stat(27, 37, 130, period="2024Q4"),
            _stat(0, 5, 3, indicator=None),  # counts something not in the catalog
            _stat(5, 9, 7, org_code=None),  # no org the warehouse can name
            _stat(9, 11, 9, period="2024-13"),  # no such period
        ],
        issuer_code=COUNTY,
        recipients=["各乡镇妇联", "各村妇联"],
        deadline="2025-01-08",
        published="2025-01-02T09:30:00",
    )


def test_reposts_collapse_and_only_mapped_statistics_are_staged(engine):
    add_hierarchy(engine)
    original = page("http://county.gov.cn/a.html", TEXT)
    repost = page("http://city.gov.cn/b.html", TEXT, portal_id="city")
    staged = load.stage_notices(
        engine, "notices__1", [(original, _extraction()), (repost, _extraction())]
    )

    assert staged == 2
    assert rows(engine, "SELECT url, recipients, deadline FROM notice") == [
        ("http://county.gov.cn/a.html", "各乡镇妇联、各村妇联", _date("2025-01-08", engine))
    ]
    assert scalar(engine, "SELECT COUNT(*) FROM notice_statistic") == 5
    # Rerunning the batch replaces its staging rows.
    load.stage_notices(engine, "notices__1", [(original, _extraction())])
    assert scalar(engine, "SELECT COUNT(*) FROM stg_notice_statistic") == 2
    # A later batch re-extracting the same notice takes the statistic over.
    load.stage_notices(engine, "notices__2", [(original, _extraction())])
    assert rows(engine, "SELECT DISTINCT batch_id FROM stg_notice_statistic") == [("notices__2",)]


def _date(text: str, engine):
    from datetime import date

    return date.fromisoformat(text) if engine.dialect.name == "postgresql" else text


def test_notice_vs_return_difference_for_quarter_and_year(engine):
    add_hierarchy(engine)
    flows = {"2024Q1": 100, "2024Q2": 110, "2024Q3": 120, "2024Q4": 130}
    load.stage_returns(engine, "r1", [submission(COUNTY, q, {"08": v}) for q, v in flows.items()])
    load.stage_returns(engine, "r2", [submission(TOWNS[0], "2024Q4", {"08": 125})])
    load.stage_notices(engine, "n1", [(page("http://county.gov.cn/a.html", TEXT), _extraction())])
    result = load.publish(engine)
    assert result.notice_facts == 2
    assert load.publish(engine).notice_facts == 0

    got = {
        period: (num(notice), num(ret), basis, num(diff))
        for period, notice, ret, basis, diff in rows(
            engine,
            "SELECT period, notice_value, return_value, return_basis, difference"
            " FROM v_notice_vs_return WHERE unit_code = :u",
            u=COUNTY,
        )
    }
    assert got == {
        "2024": (470.0, 460.0, "own_return", 10.0),  # the year rolled up from four quarters
        "2024Q4": (130.0, 130.0, "own_return", 0.0),
    }
    quote = scalar(engine, "SELECT notice_quote FROM v_notice_vs_return WHERE period = '2024'")
    assert quote == TEXT[12:26]
