"""What the subtree and unit pages show, and the charts."""

from __future__ import annotations

import re
from datetime import date

from huizong.web import queries

from tests.web.conftest import CITY, HETANG, PERIOD

FORM = "FL-01"


def _row(html: str, name: str) -> str:
    match = re.search(r"<tr class=\"state-[a-z_]+\">(?:(?!</tr>).)*?" + name + r".*?</tr>",
                      html, re.S)
    assert match, name
    return match.group(0)


def test_subtree_lists_each_child_with_its_status(world, login):
    html = login(HETANG).get(f"/subtree/{HETANG}", params={"period": PERIOD}).text
    assert "逾期" in _row(html, "荷塘区第1镇") and "有错误" in _row(html, "荷塘区第1镇")
    assert "按时" in _row(html, "荷塘区第2镇") and "有警告" in _row(html, "荷塘区第2镇")
    assert "未报" in _row(html, "荷塘区第3镇")
    assert "应报 <b>3</b> · 已报 <b>2</b>" in html
    assert "2025-01-10" in html  # the period's default due date


def test_due_date_comes_from_the_parents_notice(world, login):
    world.warehouse.deadline(HETANG, PERIOD, date(2025, 1, 30))
    html = login(HETANG).get(f"/subtree/{HETANG}", params={"period": PERIOD}).text
    first = _row(html, "荷塘区第1镇")
    assert "2025-01-30" in first and "通知" in first
    assert "按时" in first  # submitted 2025-01-25: late by default, on time by the notice


def test_counts_roll_up_the_tree(world, login):
    world.warehouse.deadline(CITY, PERIOD, date(2025, 1, 15))
    report = queries.subtree_report(world.engine, CITY, FORM, PERIOD)
    by_code = {status.unit_code: (status, roll) for status, roll in report.children}
    _, hetang = by_code[HETANG]
    assert (hetang.expected, hetang.reported, hetang.missing, hetang.late) == (4, 3, 1, 1)
    assert hetang.with_errors == 1 and hetang.open_warnings == 2
    assert report.total.expected == 6 + 9  # 9 counties of 株洲市 and 6 towns
    status, _ = by_code["430204000000"]  # 石峰区: no returns at all
    assert status.timeliness == "missing" and status.due_date == "2025-01-15"
    html = login(CITY).get(f"/subtree/{CITY}", params={"period": PERIOD}).text
    assert "2/3" in _row(html, "荷塘区")


def test_pending_before_the_due_date(world):
    report = queries.subtree_report(world.engine, HETANG, FORM, PERIOD, as_of=date(2025, 1, 8))
    states = {s.unit_code: s.timeliness for s, _ in report.children}
    assert states[world.hetang_towns[2]] == "pending"


def test_unit_page_rows_children_sum_and_difference(world, login):
    client = login(HETANG)
    html = client.get(f"/unit/{HETANG}", params={"period": PERIOD}).text
    rows = queries.return_rows(world.engine, HETANG, FORM, PERIOD)
    assert [r["indicator_code"] for r in rows] == [f"{i:02d}" for i in range(1, 25)]
    screening = next(r for r in rows if r["indicator_code"] == "08")
    assert screening["diff"] == 17
    assert screening["sum_children"] + 17 == screening["value_current"]
    assert html.count('<tr class="diff">') == 1
    assert "两癌" in html and "下级合计" in html and "(2/3)" in html


def test_findings_show_their_evidence(world, login):
    html = login(world.hetang_towns[1]).get(f"/unit/{world.hetang_towns[1]}").text
    assert "Sheet1!D11 = 4,800（上年同期 300）" in html
    assert "提交说明" in html  # its own warning: the explain form is there


def test_versions_and_quarantine_are_listed(world, login):
    town = world.hetang_towns[1]
    world.warehouse.submit(town, PERIOD, {"01": 12.0}, version=2)
    world.warehouse.quarantine(town, PERIOD, "locked", "报表已审核，重新报送须先撤销审核")
    html = login(HETANG).get(f"/unit/{town}", params={"period": PERIOD}).text
    assert html.count("/raw/") == 2 and "已被新版本取代" in html and "superseded" not in html
    assert "报表已审核，重新报送须先撤销审核" in html
    subtree = login(HETANG).get(f"/subtree/{HETANG}", params={"period": PERIOD}).text
    assert "已隔离" in _row(subtree, "荷塘区第2镇")


def test_period_defaults_to_latest_and_unknown_period_is_404(login):
    client = login(HETANG)
    assert "2024Q4" in client.get(f"/subtree/{HETANG}").text
    assert client.get(f"/subtree/{HETANG}", params={"period": "2099Q9"}).status_code == 404


def test_trend_and_completeness_charts_are_svg(world, login):
    client = login(HETANG)
    trend = client.get(f"/chart/trend/{HETANG}/08.svg", params={"period": PERIOD})
    assert trend.status_code == 200 and trend.headers["content-type"] == "image/svg+xml"
    assert trend.text.lstrip().startswith("<?xml") and "<svg" in trend.text
    assert "24Q4" in trend.text and "24Q3" in trend.text
    completeness = client.get(f"/chart/completeness/{HETANG}.svg", params={"period": PERIOD})
    assert completeness.status_code == 200 and "逾期" in completeness.text


def test_trend_series_reads_own_and_children(world):
    periods = queries.previous_periods(world.engine, PERIOD, 3)
    assert periods == ["2024Q2", "2024Q3", "2024Q4"]
    series = queries.trend(world.engine, HETANG, FORM, "08", periods)
    assert series["2024Q2"] == {"own": None, "children": None}
    assert series["2024Q4"]["own"] - series["2024Q4"]["children"] == 17
    assert series["2024Q3"]["own"] == series["2024Q3"]["children"]


def test_engineer_session_sees_every_top_unit(world, app):
    from fastapi.testclient import TestClient
    from huizong.web.auth import (
        SESSION_COOKIE,
        Signer,
        engineer_session,
        session_cookie,
        start_session,
    )

    from tests.web.conftest import SECRET

    session = engineer_session("airflow-admin")
    start_session(world.engine, session)
    cookie = session_cookie(Signer(SECRET), session)
    client = TestClient(app, cookies={SESSION_COOKIE: cookie})
    home = client.get("/").text
    assert "湖南省" in home and "甘肃省" in home
    page = client.get(f"/unit/{world.lusong_towns[0]}").text
    assert "审核通过" not in page and "提交说明" not in page  # engineers only read


def test_return_rows_agree_with_v_consolidated_plus_blocked_returns(world):
    """The page counts what the view counts, and also the blocked returns it leaves out."""
    import sqlalchemy as sa

    world.warehouse.submit(world.hetang_towns[2], PERIOD, {"01": 5.0, "02": None})
    blocked_town = world.hetang_towns[0]  # its 2024Q4 return was blocked: no facts
    blocked = queries.consolidation(world.engine, blocked_town, FORM, PERIOD)
    assert blocked.own_blocked and blocked.rows[0]["value_current"] is not None
    for code in (HETANG, blocked_town, CITY):
        rows = {r["indicator_code"]: r for r in queries.return_rows(world.engine, code, FORM,
                                                                     PERIOD)}
        with world.engine.connect() as conn:
            view = conn.execute(sa.text(
                "SELECT indicator_code, own_value, sum_children, diff, children_reported, "
                "children_expected FROM v_consolidated WHERE unit_code = :u AND period = :p "
                "AND temporal <> 'derived'"), {"u": code, "p": PERIOD}).all()
        assert view or code in (CITY, blocked_town)
        for r in view:
            mine = rows[r.indicator_code]
            extra = blocked.rows[int(r.indicator_code) - 1]["value_current"] or 0
            counted_blocked = code == HETANG
            assert mine["value_current"] == queries._plain(r.own_value), (code, r)
            assert mine["children_expected"] == r.children_expected
            assert mine["children_reported"] == r.children_reported + (
                1 if counted_blocked and extra else 0)
            if counted_blocked and r.sum_children is not None:
                assert mine["sum_children"] == queries._plain(r.sum_children) + extra, r
                assert mine["diff"] == queries._plain(r.diff) - extra, r
            elif r.sum_children is not None:
                assert mine["sum_children"] == queries._plain(r.sum_children), r
