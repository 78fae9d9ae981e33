"""The demo path end to end through Airflow, on a temporary Airflow home.

Runs the three DAGs with ``airflow dags test`` exactly as ``make demo`` does,
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
    from huizong.demo import run_demo

    base = tmp_path_factory.mktemp("demo")
    monkeypatch_module.setenv("HUIZONG_DATA_DIR", str(base / "var"))
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
    tables = {
        "fact_indicator_value": "unit_code, form, indicator_code, period, source, source_ref",
        "return_submission": "submission_id",
        "notice": "notice_id",
        "notice_statistic": "statistic_id",
        "finding": "finding_id",
        "raw_page": "portal_id, url, sha256",
        "alert_sent": "finding_id, email, kind",
    }
    return {
        t: conn.exec_driver_sql(f"SELECT * FROM {t} ORDER BY {k}").fetchall()
        for t, k in tables.items()
    }


pytestmark = pytest.mark.e2e


def test_figures_from_every_seed_page(demo_run):
    engine = demo_run["engine"]
    with engine.connect() as conn:
        per_page = conn.exec_driver_sql(
            "SELECT n.url, COUNT(s.statistic_id) FROM notice n "
            "JOIN notice_statistic s ON s.notice_id = n.notice_id GROUP BY n.url"
        ).fetchall()
    assert len(per_page) >= SEED_PAGES, per_page
    assert all(count > 0 for _, count in per_page)
    assert demo_run["first"]["pages_fetched"] >= SEED_PAGES


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
    assert county is not None and county.own_value is not None


def test_planted_problems_found(demo_run):
    with demo_run["engine"].connect() as conn:
        checks = {
            (row.check_name, row.unit_code)
            for row in conn.exec_driver_sql(
                "SELECT check_name, unit_code FROM finding WHERE resolved_at IS NULL"
            )
        }
    units = {u for _, u in checks}
    assert "621228101000" in units  # 站儿巷镇: 其中 row above its parent
    assert "621228000000" in units  # 两当县: own figure differs from its towns' sum


def test_alerts_written_to_outbox(demo_run):
    outbox = demo_run["base"] / "var" / "outbox"
    emails = list(outbox.rglob("*.eml"))
    assert emails, "no alert written"
    assert demo_run["first"]["alerts_written"] >= 1


def test_second_run_changes_nothing(demo_run):
    assert demo_run["snapshot_after"] == demo_run["snapshot"]
    assert demo_run["second"]["alerts_written"] == demo_run["first"]["alerts_written"]


def test_summary_printed(demo_run):
    out = demo_run["out"]
    assert "statistics extracted" in out and "alerts written" in out
    assert "huizong sql" in out
