"""The DAG files' task code on its own: what a task does when a portal is dead or
nothing is new, without running a scheduler (the task's Python callable is
called directly, with a stand-in for Airflow's run context)."""

from __future__ import annotations

import socket
import sys
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


class OutletEvents(dict):
    def __missing__(self, key):
        self[key] = SimpleNamespace(extra={})
        return self[key]


def _context(monkeypatch, dag, **extra) -> dict:
    context = {
        "dag": dag,
        "run_id": "manual__2026-12-01T08:00:00+00:00",
        "data_interval_start": None,
        "logical_date": None,
        "dag_run": SimpleNamespace(run_after=datetime(2026, 12, 1)),
        "outlet_events": OutletEvents(),
        **extra,
    }
    # The DagBag imported the file under a module name of its own.
    module = next(
        m for m in list(sys.modules.values()) if getattr(m, "__file__", None) == dag.fileloc
    )
    monkeypatch.setattr(module, "get_current_context", lambda: context)
    return context


@pytest.fixture
def dead_portal(tmp_path, monkeypatch) -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port: every fetch is refused.
    monkeypatch.setenv("HUIZONG_SAMPLE_PORTAL_URL", f"http://127.0.0.1:{port}/")
    monkeypatch.setenv("HUIZONG_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUIZONG_WAREHOUSE", f"sqlite:///{tmp_path / 'var' / 'warehouse.db'}"
    )
    (tmp_path / "var").mkdir()
    return "sample"


def test_a_dead_portal_fails_its_task(dagbag, dead_portal, monkeypatch):
    """A portal that answers nothing is a failed task (retried, alerted), not a green run."""
    from huizong.pipeline import PortalUnreachableError

    dag = dagbag.dags["portal_notices"]
    _context(monkeypatch, dag)
    crawl = dag.get_task("crawl_portal").python_callable
    started = time.monotonic()
    with pytest.raises(PortalUnreachableError, match="portal sample: no page could be fetched"):
        crawl(dead_portal)
    assert time.monotonic() - started < 120


def _summary(fetched: int, unchanged: int, errors: int = 0) -> dict:
    return {
        "portal_id": "p", "list_pages": 1, "pages_fetched": fetched,
        "pages_unchanged": unchanged, "pages_extracted": fetched, "statistics": 3 * fetched,
        "notices": fetched, "errors": [{"url": f"http://x/{i}", "reason": "HTTP 404"}
                                       for i in range(errors)],
    }  # fmt: skip


def test_nothing_new_emits_no_asset_event(dagbag, monkeypatch):
    from airflow.sdk.exceptions import AirflowSkipException

    dag = dagbag.dags["portal_notices"]
    context = _context(monkeypatch, dag)
    report = dag.get_task("report").python_callable
    with pytest.raises(AirflowSkipException, match="nothing new staged"):
        report([_summary(5, 5)])
    assert not context["outlet_events"], "a skipped report must not touch its asset event"


def test_a_partial_crawl_succeeds_with_its_warnings_on_the_event(dagbag, monkeypatch, caplog):
    from huizong_airflow.assets import STAGED_NOTICES

    dag = dagbag.dags["portal_notices"]
    context = _context(monkeypatch, dag)
    report = dag.get_task("report").python_callable
    with caplog.at_level("INFO"):
        totals = report([_summary(4, 1, errors=2), _summary(2, 2)])
    assert totals["pages_new"] == 3 and len(totals["errors"]) == 2
    extra = context["outlet_events"][STAGED_NOTICES].extra
    assert extra["warnings"] == 2 and extra["pages_new"] == 3
    assert "portal_notices: portals=2, pages_fetched=6, pages_new=3" in caplog.text


def test_returns_report_skips_when_nothing_was_staged(dagbag, monkeypatch):
    from airflow.sdk.exceptions import AirflowSkipException

    dag = dagbag.dags["submitted_returns"]
    context = _context(monkeypatch, dag)
    report = dag.get_task("report").python_callable
    nothing = {"received": 2, "staged": 0, "quarantined": 2, "quarantine_reasons": ["a", "b"]}
    with pytest.raises(AirflowSkipException, match="2 received, 2 quarantined"):
        report(
            nothing, None, {"received": 0, "staged": 0, "quarantined": 0, "quarantine_reasons": []}
        )
    assert not context["outlet_events"]
