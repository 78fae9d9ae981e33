"""The demo path end to end through Airflow, on a temporary Airflow home.

Runs the three DAGs with ``airflow dags test --use-executor`` exactly as ``make demo`` does,
then checks what reached the warehouse and the outbox, and that a second run
changes nothing.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
SEED_PAGES = 5


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, monkeypatch_module):
    import socket

    from huizong.demo import run_demo

    base = tmp_path_factory.mktemp("demo")
    monkeypatch_module.setenv("HUIZONG_DATA_DIR", str(base / "var"))
    # One free port for both runs: page URLs carry it, and another demo on the
    # machine holding the usual 18765 during one run gave the rerun new URLs.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        monkeypatch_module.setattr("huizong.demo.SAMPLE_PORTAL_PORT", sock.getsockname()[1])
    out = io.StringIO()
    first = run_demo(REPO, airflow_home=base / "airflow_home", data_dir=base / "var", out=out)
    from huizong.warehouse.db import get_engine

    engine = get_engine(f"sqlite:///{base / 'var' / 'warehouse.db'}")
    with engine.connect() as conn:
        snapshot = _snapshot(conn)
    second = run_demo(REPO, airflow_home=base / "airflow_home", data_dir=base / "var", out=out)
    with engine.connect() as conn:
        snapshot_after = _snapshot(conn)
    return {
        "first": first,
        "second": second,
        "engine": engine,
        "out": out.getvalue(),
        "base": base,
        "snapshot": snapshot,
        "snapshot_after": snapshot_after,
    }


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _snapshot(conn) -> dict[str, list]:
    """What a rerun must leave alone: keys and values, not bookkeeping times or batch ids."""
    queries = {
        "fact_indicator_value": (
            "SELECT unit_code, form, indicator_code, period, source, source_ref, version, "
            "is_latest, value_current, value_ytd, value_last_year, has_warnings "
            "FROM fact_indicator_value ORDER BY 1, 2, 3, 4, 5, 6"
        ),
        "return_submission": (
            "SELECT submission_id, unit_code, period, version, status FROM return_submission "
            "ORDER BY 1"
        ),
        "notice": "SELECT notice_id, doc_number, deadline FROM notice ORDER BY 1",
        "notice_statistic": "SELECT statistic_id, value, unit, qualifier FROM notice_statistic "
        "ORDER BY 1",
        "finding": "SELECT finding_id, severity, observed, expected, resolved_at IS NULL "
        "FROM finding ORDER BY 1",
        # The sample portal's port may differ between runs when its usual one is taken.
        "raw_page": "SELECT portal_id, SUBSTR(url, INSTR(SUBSTR(url, 8), '/') + 7), sha256 "
        "FROM raw_page ORDER BY 1, 2, 3",
        "quarantine": "SELECT quarantine_id, reason, status FROM quarantine ORDER BY 1",
        "alert_sent": "SELECT finding_id, email, kind FROM alert_sent ORDER BY 1, 2, 3",
    }
    return {t: [tuple(r) for r in conn.exec_driver_sql(q)] for t, q in queries.items()}


pytestmark = pytest.mark.e2e


def test_every_seed_page_reaches_the_warehouse(demo_run):
    engine = demo_run["engine"]
    with engine.connect() as conn:
        per_page = conn.exec_driver_sql(
            "SELECT n.url, n.doc_number, n.deadline, COUNT(s.statistic_id) FROM notice n "
            "LEFT JOIN notice_statistic s ON s.notice_id = n.notice_id "
            "GROUP BY n.url, n.doc_number, n.deadline"
        ).fetchall()
    assert demo_run["first"]["pages_fetched"] >= SEED_PAGES
    assert len(per_page) == SEED_PAGES, per_page
    # Four seed pages are reports full of figures; the fifth is the 融安 notice,
    # whose yield is its document number and reporting deadline.
    with_figures = [row for row in per_page if row[3] > 0]
    assert len(with_figures) == SEED_PAGES - 1, per_page
    notice = next(row for row in per_page if row[1])
    assert notice[1] == "融妇通〔2020〕1号"
    assert str(notice[2]).startswith("2020-03-23")


def test_returns_from_both_channels_in_warehouse(demo_run):
    with demo_run["engine"].connect() as conn:
        channels = dict(
            conn.exec_driver_sql(
                "SELECT channel, COUNT(*) FROM return_submission GROUP BY channel"
            ).fetchall()
        )
        county = conn.execute(
            sa.text(
                "SELECT own_value, sum_children FROM v_consolidated "
                "WHERE unit_code = '621228000000' AND indicator_code = '01' AND period = '2024Q4'"
            )
        ).fetchone()
    assert channels.get("drop", 0) > 0 and channels.get("api", 0) > 0, channels
    assert county is not None and county.own_value is not None and county.sum_children > 0


def test_planted_problems_found(demo_run):
    with demo_run["engine"].connect() as conn:
        checks = {
            (row.check_name, row.unit_code)
            for row in conn.exec_driver_sql(
                "SELECT check_name, unit_code FROM finding WHERE resolved_at IS NULL"
            )
        }
    assert ("subtotal_le_parent", "621228104000") in checks  # 显龙镇: 其中 row above its parent
    assert ("notice_vs_return", "621228101000") in checks  # 站儿巷镇's review vs its returns
    assert ("parent_eq_sum_children", "621228000000") in checks  # 两当县 vs its towns
    assert ("completeness_missing", "621228208000") in checks  # 金洞乡 never reported
    assert ("completeness_late", "621228102000") in checks  # 西坡镇 reported late
    assert any(c.startswith("outlier") and u == "621228103000" for c, u in checks)  # 杨店镇


def test_alerts_written_to_outbox(demo_run):
    outbox = demo_run["base"] / "var" / "outbox"
    emails = list(outbox.rglob("*.eml"))
    assert emails, "no alert written"
    import email
    from email import policy

    bodies = [
        email.message_from_bytes(p.read_bytes(), policy=policy.default).get_body(("plain",))
        .get_content()
        for p in emails
    ]
    assert all("http://127.0.0.1:8080/huizong/l/" in body for body in bodies)
    assert demo_run["first"]["alerts_written"] >= 1


def test_second_run_changes_nothing(demo_run):
    assert demo_run["snapshot_after"] == demo_run["snapshot"]
    assert demo_run["second"]["alerts_written"] == demo_run["first"]["alerts_written"]


def test_summary_printed(demo_run):
    out = demo_run["out"]
    assert "statistics extracted" in out and "alerts written" in out
    assert "huizong sql" in out


def test_misfiled_return_quarantined_not_loaded(demo_run):
    with demo_run["engine"].connect() as conn:
        held = conn.exec_driver_sql(
            "SELECT submitted_unit_code, declared_unit_code, reason FROM quarantine "
            "WHERE status = 'held'"
        ).fetchall()
        loaded = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM return_submission WHERE unit_code = '621228100000' "
            "AND period = '2024Q3'"
        ).scalar()
    assert ("621228100000", "621228101000", "unit_mismatch") in [tuple(r) for r in held]
    assert loaded == 1  # 城关镇's own Q3 return, not the misfiled one


def _task_logs(base: Path) -> list[Path]:
    return sorted((base / "airflow_home" / "logs").glob("dag_id=*/run_id=*/task_id=*/**/*.log"))


def test_task_logs_land_where_the_ui_reads_them(demo_run):
    """`dags test` without an executor wrote no task log file: the UI then asked
    the task's host on port 8793 and showed "Could not read served logs"."""
    logs = _task_logs(demo_run["base"])
    dags = {p.relative_to(demo_run["base"] / "airflow_home" / "logs").parts[0] for p in logs}
    assert dags == {f"dag_id={d}" for d in ("portal_notices", "submitted_returns",
                                             "consolidate_and_check")}, logs
    report = [p for p in logs if "dag_id=portal_notices" in str(p) and "task_id=report" in str(p)]
    assert report and "portal_notices: portals=1" in report[0].read_text(encoding="utf-8")


NOISE = ("XCom not found", "InsecureKeyLengthWarning", "HMAC key", "looks like production")


def test_a_clean_demo_logs_none_of_the_known_noise(demo_run):
    paths = [*_task_logs(demo_run["base"]), demo_run["base"] / "var" / "demo.log"]
    texts = {p: p.read_text(encoding="utf-8", errors="replace") for p in paths}
    found = [(str(p), n) for p, text in texts.items() for n in NOISE if n in text]
    assert not found, found


def test_rerun_summary_separates_this_run_from_totals(demo_run):
    second = demo_run["out"].rsplit("huizong demo finished", 1)[1]
    assert "this run" in second and "in total" in second
    facts = next(line for line in second.splitlines() if line.strip().startswith("facts"))
    change, total = facts.split()[-2:]
    assert change == "+0" and int(total) == demo_run["second"]["facts"] > 0


def test_summary_links_data_docs_that_work_offline(demo_run):
    docs = demo_run["base"] / "var" / "data_docs"
    assert (docs / "index.html").as_uri() in demo_run["out"]
    assert "/huizong-docs/" in demo_run["out"]
    for page in docs.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert '<script src="http' not in text and 'rel="stylesheet" href="http' not in text, page


@pytest.mark.browser
def test_a_task_log_page_shows_the_log_lines_in_the_ui(demo_run):
    """The Airflow UI on the demo's home, as `make ui` serves it, in headless Chromium."""
    import os
    import signal
    import socket
    import sqlite3
    import subprocess
    import time
    import urllib.request

    from huizong.demo import _airflow_bin, airflow_env

    chromium = os.environ.get("HUIZONG_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Chromium not found at {chromium}: run scripts/install-browser.sh")
        pytest.skip(f"Chromium not found at {chromium}")
    from playwright.sync_api import sync_playwright

    base = demo_run["base"]
    env = airflow_env(REPO, base / "airflow_home", base / "var")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # No login form to drive: every visitor is an admin on this throwaway server.
    env.update({"AIRFLOW__API__PORT": str(port),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True"})
    with sqlite3.connect(base / "airflow_home" / "airflow.db") as db:
        (run_id,) = db.execute(
            "SELECT run_id FROM dag_run WHERE dag_id = 'portal_notices' "
            "ORDER BY logical_date DESC LIMIT 1"
        ).fetchone()
    log = (base / "ui-api-server.log").open("w")
    server = subprocess.Popen(
        [_airflow_bin(), "api-server", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "API server did not start"
                time.sleep(1)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium,
                                         args=["--headless", "--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
                page.goto(f"http://127.0.0.1:{port}/dags/portal_notices/runs/{run_id}"
                          "/tasks/report")
                page.get_by_text("portal_notices: portals=1").first.wait_for(timeout=120_000)
                artifacts = REPO / "test-artifacts" / "demo"
                artifacts.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=artifacts / "task-log.png")
                assert "Could not read served logs" not in page.inner_text("body")
            finally:
                browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
