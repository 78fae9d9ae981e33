"""A real headless Chromium (Debian's, via Playwright's Python library) walks the
officials' flow: open a link, see the subtree, open a unit, explain a warning,
approve as the parent. Screenshots go to test-artifacts/web/.

Install the browser with scripts/install-browser.sh. Under CI=true a missing
Chromium fails the test; elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.conftest import HETANG, PERIOD, SECRET, link_path

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "web"
CHROMIUM = os.environ.get("HUIZONG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_chromium() -> str:
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if found is None:
        reason = f"Chromium not found at {CHROMIUM}: run scripts/install-browser.sh"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(app) -> Iterator[str]:
    """The app mounted at /huizong, as on the Airflow API server, on a loopback port."""
    import uvicorn
    from fastapi import FastAPI

    root = FastAPI()
    root.mount("/huizong", app)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(root, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("web server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/huizong"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser():
    executable = _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # launch() gives Chromium a fresh temporary --user-data-dir of its own (and
        # refuses one in args); each new_context() is a separate, empty profile.
        launched = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _link_from_alert_email(world, server: str, monkeypatch) -> str:
    """The sign-in link exactly as the county official's digest e-mail carries it."""
    import re

    import sqlalchemy as sa
    from huizong.alerts.digest import build_digests

    monkeypatch.setenv("HUIZONG_WEB_SECRET", SECRET)
    monkeypatch.setenv("HUIZONG_WEB_BASE_URL", server)
    with world.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO recipient (email, name, unit_code, role) "
                "VALUES ('county@hetang.cn', '县联络员', :u, '统计联络员')"
            ),
            {"u": HETANG},
        )
    (digest,) = [d for d in build_digests(world.engine, run_id="r1")
                 if d.recipient == "county@hetang.cn"]
    body = digest.to_message().get_body(("plain",)).get_content()
    return re.search(re.escape(server) + r"/l/\S+", body).group(0)


def test_official_explains_and_parent_approves(world, server, browser, monkeypatch):
    from huizong.web import queries

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    town = world.hetang_towns[1]

    # The county's official opens the link from the alert e-mail.
    county = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = county.new_page()
    page.goto(_link_from_alert_email(world, server, monkeypatch))
    assert page.url.endswith(f"/huizong/subtree/{HETANG}")
    page.get_by_role("heading", name="下级报送情况").wait_for()
    rows = page.locator("table.children tbody tr")
    assert rows.count() == 3
    assert "逾期" in rows.nth(0).inner_text() and "未报" in rows.nth(2).inner_text()
    page.locator("img.chart.wide").evaluate("img => img.decode()")
    assert page.locator("img.chart.wide").evaluate("img => img.naturalWidth") > 0
    page.screenshot(path=ARTIFACTS / "01-county-subtree.png", full_page=True)

    # The town's official, on a phone, explains its warning.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                is_mobile=True, has_touch=True, device_scale_factor=2)
    town_page = phone.new_page()
    town_page.goto(server + link_path("town2@hetang.cn", town))
    town_page.goto(f"{server}/unit/{town}?period={PERIOD}")
    assert town_page.locator("article.finding.warn").count() == 1
    town_page.screenshot(path=ARTIFACTS / "02-town-unit-phone.png", full_page=False)
    town_page.get_by_label("上报说明").fill("本季度全镇集中开展宣讲培训，人次属实。")
    town_page.get_by_role("button", name="提交说明").click()
    town_page.get_by_role("status").wait_for()
    assert "说明已保存" in town_page.get_by_role("status").inner_text()
    assert "本季度全镇集中开展宣讲培训" in town_page.locator("article.finding.warn").inner_text()
    town_page.locator("#findings").screenshot(path=ARTIFACTS / "03-town-explained.png")
    # Not wider than the phone: the tables stack into cards.
    assert town_page.evaluate("document.documentElement.scrollWidth") <= 390

    # Back at the county: the explanation shows, and the county approves the town.
    page.reload()
    assert "已说明" in page.locator("table.children tbody tr").nth(1).inner_text()
    page.get_by_role("link", name="荷塘区第2镇").click()
    page.wait_for_url(f"**/unit/{town}?*")
    assert "本季度全镇集中开展宣讲培训" in page.locator("#findings").inner_text()
    page.get_by_label("我已核对该报表").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="审核通过").click()
    page.get_by_role("status").wait_for()
    assert "已审核" in page.locator("#approval").inner_text()
    assert "county@hetang.cn" in page.locator("#audit").inner_text()
    page.screenshot(path=ARTIFACTS / "04-county-approved.png", full_page=True)
    assert queries.is_locked(world.engine, town, "FL-01", PERIOD)
    assert queries.explained_finding_ids(world.engine)

    # The charts render in the browser (server-side SVG).
    charts = page.locator("#trends img.chart")
    assert charts.count() == 24
    charts.evaluate_all(
        "imgs => Promise.all(imgs.map(i => { i.loading = 'eager'; return i.decode(); }))")
    assert min(charts.evaluate_all("imgs => imgs.map(i => i.naturalWidth)")) > 0
    page.locator("#trends").screenshot(path=ARTIFACTS / "05-trends.png")
    county.close()
    phone.close()
    assert SECRET not in (ARTIFACTS / "01-county-subtree.png").read_bytes().decode("latin-1")


def _phone(browser):
    return browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                               is_mobile=True, has_touch=True, device_scale_factor=2)


def _no_sideways_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth"
        " && document.body.scrollWidth <= window.innerWidth")


def test_period_menu_offers_the_year_holding_the_emails_warnings(world, server, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    town = world.hetang_towns[1]
    for n in range(4):
        world.warehouse.finding(town, "2024", f"notice_vs_return{n}", "warn",
                                message_zh=f"全年第{n + 1}条警告")
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(server + link_path("town2@hetang.cn", town))
    page.goto(f"{server}/unit/{town}")
    menu = page.get_by_label("统计期")
    labels = menu.locator("option").all_inner_texts()
    assert labels[:3] == ["2024年（全年）", "2024年第四季度", "2024年第三季度"]
    menu.select_option("2024")
    page.get_by_role("button", name="查看").click()
    page.wait_for_url("**period=2024*")
    assert page.locator("article.finding.warn").count() == 4
    assert "未报" not in page.locator("#approval").inner_text()
    page.screenshot(path=ARTIFACTS / "06-year-findings.png", full_page=True)
    context.close()


def test_counts_agree_between_finding_table_and_return_table(world, server, browser):
    from tests.web.test_consistency import COUNTY, _issue_scenario
    from tests.web.test_consistency import PERIOD as Q4

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _issue_scenario(world)
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(server + link_path("county@liangdang.cn", COUNTY))
    page.goto(f"{server}/unit/{COUNTY}?period={Q4}")
    assert "含1份未通过审核的报表" in page.locator("#rows .count-note").inner_text()
    for finding_row in page.locator("table.finding-rows tbody tr").all():
        label = finding_row.locator("td").nth(0).inner_text()
        code = label[1:3]
        own, total, diff = (finding_row.locator("td").nth(i).inner_text() for i in (1, 2, 3))
        table_row = page.locator("table.rows tbody tr").filter(
            has=page.locator(f"td:text-is('{code}')"))
        cells = table_row.locator("td")
        assert cells.nth(3).inner_text() == own
        assert cells.nth(6).inner_text().split(" ")[0] == total
        assert "(11/12)" in cells.nth(6).inner_text()
        assert cells.nth(7).inner_text() == diff
    page.locator("#findings").screenshot(path=ARTIFACTS / "07-consistent-counts.png")
    context.close()


def test_phone_layout_has_no_sideways_scrolling(world, server, browser):
    from tests.web.test_consistency import COUNTY, _issue_scenario
    from tests.web.test_consistency import PERIOD as Q4

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    towns, _ = _issue_scenario(world)
    context = _phone(browser)
    page = context.new_page()
    page.goto(server + link_path("county@liangdang.cn", COUNTY))
    for n, path in enumerate((f"/subtree/{COUNTY}?period={Q4}", f"/unit/{COUNTY}?period={Q4}",
                              f"/unit/{towns[10]}?period={Q4}", f"/unit/{towns[0]}?period=2024")):
        page.goto(server + path)
        assert page.evaluate("window.innerWidth") == 390
        assert _no_sideways_scroll(page), path
        page.screenshot(path=ARTIFACTS / f"08-phone-{n}.png", full_page=True)
    # Stacked rows: each cell carries its heading, numbers still right-aligned.
    cell = page.locator("table.rows tbody tr").first.locator("td.n").first
    assert cell.evaluate("td => getComputedStyle(td).textAlign") == "right"
    assert cell.evaluate("td => getComputedStyle(td, '::before').content") == '"本期数"'
    context.close()


def test_approval_asks_for_confirmation(world, server, browser):
    from huizong.web import queries

    town = world.hetang_towns[1]
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(server + link_path("county@hetang.cn", HETANG))
    page.goto(f"{server}/unit/{town}?period={PERIOD}")
    button = page.get_by_role("button", name="审核通过")

    # Without the ticked box the browser does not submit (and the server would refuse).
    button.click()
    page.wait_for_timeout(300)
    assert page.get_by_role("status").count() == 0
    assert not queries.is_locked(world.engine, town, "FL-01", PERIOD)

    # Ticked, the confirm() dialog says what approving does; cancelling changes nothing.
    page.get_by_label("我已核对该报表").check()
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    button.click()
    page.wait_for_timeout(300)
    assert asked and "锁定" in asked[0]
    assert not queries.is_locked(world.engine, town, "FL-01", PERIOD)

    page.once("dialog", lambda dialog: dialog.accept())
    button.click()
    page.get_by_role("status").wait_for()
    assert "已审核" in page.locator("#approval").inner_text()
    assert queries.is_locked(world.engine, town, "FL-01", PERIOD)

    # Without JavaScript the ticked box alone is the confirmation step.
    from tests.web.conftest import LUSONG

    nojs = browser.new_context(java_script_enabled=False, locale="zh-CN")
    other = nojs.new_page()
    other.goto(server + link_path("county@lusong.cn", LUSONG))
    clean = world.lusong_towns[1]
    other.goto(f"{server}/unit/{clean}?period={PERIOD}")
    other.get_by_role("button", name="审核通过").click()
    other.wait_for_timeout(300)
    assert not queries.is_locked(world.engine, clean, "FL-01", PERIOD)
    other.get_by_label("我已核对该报表").check()
    other.get_by_role("button", name="审核通过").click()
    other.get_by_role("status").wait_for()
    assert queries.is_locked(world.engine, clean, "FL-01", PERIOD)
    nojs.close()
    context.close()
