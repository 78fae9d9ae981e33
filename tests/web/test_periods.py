"""Issue 18 (1): every period with findings or returns is in the menu, years included; a
digest's link opens the page holding its findings; a year's status comes from its quarters."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from huizong.returns.periods import period_end
from huizong.web import queries

from tests.web.conftest import CITY, HETANG, LUSONG, SECRET, link_path

FORM = "FL-01"
YEAR = "2024"


def _options(html: str) -> list[str]:
    select = re.search(r'<select name="period">(.*?)</select>', html, re.S)[1]
    return re.findall(r'<option value="([^"]+)"', select)


def _year_warning(world, unit: str, text: str = "通知称全年筛查不少于 900 人，报表合计 640") -> str:
    return world.warehouse.finding(unit, YEAR, "notice_vs_return", "warn", indicator_code="08",
                                   message_zh=text, evidence="「全年筛查900余人」 http://portal/n1")


def test_menu_lists_years_and_periods_that_only_have_findings(world, login):
    town = world.hetang_towns[1]
    _year_warning(world, town)
    assert queries.unit_periods(world.engine, HETANG, FORM) == [YEAR, "2024Q4", "2024Q3"]
    html = login(HETANG).get(f"/subtree/{HETANG}").text
    assert _options(html) == [YEAR, "2024Q4", "2024Q3"]
    assert '<option value="2024">2024年（全年）</option>' in html
    assert "2024年第四季度" in html
    # Another county's periods are not offered (its findings are none of our business).
    world.warehouse.finding(world.lusong_towns[0], "2023Q2", "outlier_history", "warn")
    assert "2023Q2" not in _options(login(HETANG).get(f"/subtree/{HETANG}").text)
    assert "2023Q2" in queries.unit_periods(world.engine, LUSONG, FORM)


def test_year_page_shows_the_years_findings(world, login):
    town = world.hetang_towns[1]
    _year_warning(world, town)
    html = login(town).get(f"/unit/{town}", params={"period": YEAR}).text
    assert "通知称全年筛查不少于 900 人" in html
    assert "提交说明" in html  # the town can explain it where it finds it


def test_year_status_comes_from_the_quarters_returns(world, login):
    engine = world.engine
    county, town = "430211000000", "430211100000"
    world.warehouse.add_unit(county, "天元区", "county", CITY)
    world.warehouse.add_unit(town, "天元区第1镇", "town", county)
    values = {"01": 10.0, "08": 5.0}
    for q in range(1, 5):
        period = f"2023Q{q}"
        world.warehouse.submit(town, period, values,
                               submitted_on=period_end(period) + timedelta(days=3))
    status = queries.unit_status(engine, town, FORM, "2023", as_of=date(2025, 2, 1))
    assert status.timeliness == "on_time" and status.first_submitted_on == "2023-04-03"
    assert status.quarters == {f"2023Q{q}": "on_time" for q in range(1, 5)}
    html = login(county).get(f"/subtree/{county}", params={"period": "2023"}).text
    row = re.search(r"<tr class=\"state-[a-z_]+\">.*?天元区第1镇.*?</tr>", html, re.S)[0]
    assert "按时" in row and "未报" not in row
    # The year's figures: a stock is its fourth quarter, a flow the sum of four.
    rows = {r["indicator_code"]: r for r in queries.return_rows(engine, town, FORM, "2023")}
    assert rows["01"]["value_current"] == 10 and rows["08"]["value_current"] == 20
    county_rows = {r["indicator_code"]: r for r in queries.return_rows(engine, county, FORM,
                                                                        "2023")}
    assert county_rows["08"]["sum_children"] == 20

    # A sibling that returns the year itself is judged and counted by that return, and
    # the quarterly town stays judged by its quarters.
    annual = "430211101000"
    world.warehouse.add_unit(annual, "天元区第2镇", "town", county)
    world.warehouse.submit(annual, "2023", {"01": 3.0, "08": 7.0}, submitted_on=date(2024, 1, 5))
    assert queries.unit_status(engine, annual, FORM, "2023",
                               as_of=date(2025, 2, 1)).timeliness == "on_time"
    assert queries.unit_status(engine, town, FORM, "2023",
                               as_of=date(2025, 2, 1)).timeliness == "on_time"
    county_rows = {r["indicator_code"]: r for r in queries.return_rows(engine, county, FORM,
                                                                        "2023")}
    assert county_rows["08"]["sum_children"] == 27 and county_rows["08"]["children_reported"] == 2

    # A quarter missing makes the year missing; one late, late.
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM return_submission WHERE unit_code = :u "
                             "AND period = '2023Q2'"), {"u": town})
    status = queries.unit_status(engine, town, FORM, "2023", as_of=date(2025, 2, 1))
    assert status.timeliness == "missing"
    world.warehouse.submit(town, "2023Q2", values, submitted_on=date(2023, 8, 1))
    status = queries.unit_status(engine, town, FORM, "2023", as_of=date(2025, 2, 1))
    assert status.timeliness == "late"


def _digest_body(world, monkeypatch, email: str, unit: str) -> str:
    from huizong.alerts.digest import build_digests

    monkeypatch.setenv("HUIZONG_WEB_SECRET", SECRET)
    monkeypatch.setenv("HUIZONG_WEB_BASE_URL", "http://testserver")
    with world.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO recipient (email, name, unit_code, role) "
                             "VALUES (:e, '联络员', :u, '统计联络员')"), {"e": email, "u": unit})
    (digest,) = [d for d in build_digests(world.engine, run_id="scheduled__2025-02-01T00:00")
                 if d.recipient == email]
    return digest.body()


def test_digest_link_opens_the_page_holding_its_findings(world, app, monkeypatch):
    from fastapi.testclient import TestClient

    town = world.hetang_towns[1]
    for n in range(4):
        world.warehouse.finding(town, YEAR, f"notice_vs_return{n}", "warn",
                                message_zh=f"全年第{n + 1}条警告")
    body = _digest_body(world, monkeypatch, "town2@hetang.cn", town)
    assert "scheduled__" not in body  # the run id is for engineers, not in the text
    line = next(x for x in body.splitlines() if "2024年（全年）（4条）" in x)
    link = re.search(r"http://testserver(/l/\S+)", line)[1]
    assert parse_qs(urlsplit(link).query) == {"unit": [town], "period": [YEAR]}
    client = TestClient(app)
    landed = client.get(link)
    assert landed.status_code == 200
    assert urlsplit(str(landed.url)).path == f"/unit/{town}"
    assert parse_qs(urlsplit(str(landed.url)).query)["period"] == [YEAR]
    for n in range(4):
        assert f"全年第{n + 1}条警告" in landed.text


def test_a_link_cannot_open_a_unit_outside_its_scope_or_a_made_up_period(world, app):
    from fastapi.testclient import TestClient

    town = world.hetang_towns[1]
    for query in (f"unit={world.lusong_towns[0]}&period={YEAR}", "unit=../../etc&period=2024",
                  "unit=430200000000", "period=2099Q9", "period=//evil.example/"):
        client = TestClient(app)
        response = client.get(link_path("town2@hetang.cn", town) + "?" + query,
                              follow_redirects=False)
        assert response.status_code == 303, query
        target = response.headers["location"]
        assert target.startswith(f"/subtree/{town}") or target.startswith(f"/unit/{town}"), (
            query, target)
        assert "evil" not in target and "2099" not in target


def test_a_quarterly_forms_year_is_approved_quarter_by_quarter(world, login):
    from tests.web.conftest import csrf_of

    town = world.hetang_towns[1]
    client = login(HETANG)
    html = client.get(f"/unit/{town}", params={"period": YEAR}).text
    assert "请在各季度的页面分别审核" in html and 'name="confirm"' not in html
    assert "全年由各季度的报表组成" in html
    response = client.post(f"/unit/{town}/approve", data={
        "csrf_token": csrf_of(client, HETANG), "period": YEAR, "form": FORM, "confirm": "yes"})
    assert response.status_code == 409
    assert not queries.is_locked(world.engine, town, FORM, YEAR)
