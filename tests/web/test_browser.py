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
    # Not wider than the phone: the tables scroll inside their cards.
    assert town_page.evaluate("document.documentElement.scrollWidth") <= 390

    # Back at the county: the explanation shows, and the county approves the town.
    page.reload()
    assert "已说明" in page.locator("table.children tbody tr").nth(1).inner_text()
    page.get_by_role("link", name="荷塘区第2镇").click()
    page.wait_for_url(f"**/unit/{town}?*")
    assert "本季度全镇集中开展宣讲培训" in page.locator("#findings").inner_text()
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
