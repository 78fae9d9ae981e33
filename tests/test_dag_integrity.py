"""Every DAG file imports cleanly, has no cycle, and follows the project's policy."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DAG_FILES = sorted((REPO / "dags").glob("*.py"))
EXPECTED_DAGS = {"portal_notices", "submitted_returns", "consolidate_and_check"}
HEAVY_MODULES = ("great_expectations", "pandas", "openpyxl", "sqlalchemy", "psycopg", "numpy")
AIRFLOW2_IDIOMS = ("schedule_interval", "days_ago", "provide_context")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}, "\n".join(
        f"{path}: {err}" for path, err in dagbag.import_errors.items()
    )


def test_expected_dags_present(dagbag):
    assert set(dagbag.dag_ids) >= EXPECTED_DAGS


def test_one_dag_per_file(dagbag):
    files = [dag.fileloc for dag in dagbag.dags.values()]
    assert len(files) == len(set(files))


def test_no_cycles(dagbag):
    from airflow.utils.dag_cycle_tester import check_cycle

    for dag in dagbag.dags.values():
        check_cycle(dag)


def test_dag_policy(dagbag):
    from huizong_airflow.policy import OWNER, RETRIES

    for dag_id, dag in dagbag.dags.items():
        assert dag.doc_md and len(dag.doc_md.strip()) > 40, f"{dag_id}: doc_md missing"
        assert dag.tags and "huizong" in dag.tags, f"{dag_id}: tags missing"
        assert dag.catchup is False, f"{dag_id}: catchup must be explicit and off"
        if os.environ.get("HUIZONG_DEADLINE_ALERTS", "on") != "off":
            assert dag.deadline, f"{dag_id}: no deadline alert for the engineers"
        for t in dag.tasks:
            assert t.owner == OWNER, f"{dag_id}.{t.task_id}: owner {t.owner!r}"
            assert t.retries == RETRIES, f"{dag_id}.{t.task_id}: retries {t.retries}"
            assert t.on_failure_callback, f"{dag_id}.{t.task_id}: no failure alert"
            timeout = t.execution_timeout
            assert timeout is not None, f"{dag_id}.{t.task_id}: no execution_timeout"
            assert timedelta(0) < timeout <= MAX_TASK_TIMEOUT, f"{dag_id}.{t.task_id}: {timeout}"
            for alert in deadline_alerts(dag):
                assert timeout < alert.interval, (
                    f"{dag_id}.{t.task_id}: execution_timeout {timeout} does not fit in the "
                    f"run deadline {alert.interval}"
                )


MAX_TASK_TIMEOUT = timedelta(hours=3)  # nothing in huizong should run longer than a crawl


def deadline_alerts(dag) -> list:
    if not dag.deadline:
        return []
    return list(dag.deadline) if isinstance(dag.deadline, list | tuple) else [dag.deadline]


def test_default_args_refuse_a_missing_or_empty_time_limit():
    from huizong_airflow.policy import default_args

    with pytest.raises(TypeError):
        default_args()  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="must be positive"):
        default_args(task_timeout=timedelta(0))


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_files_have_no_heavy_module_level_imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert not name.startswith(HEAVY_MODULES), f"{path.name} imports {name} at parse time"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_no_airflow2_idioms(path):
    text = path.read_text(encoding="utf-8")
    for idiom in AIRFLOW2_IDIOMS:
        assert idiom not in text, f"{path.name} uses {idiom}"


# Airflow's own SDK already pulls in SQLAlchemy; only what the DAG files add counts.
PARSE_PROBE = r"""
import json, socket, sqlite3, sys, runpy
import airflow.sdk
baseline = set(sys.modules)
def refuse(*a, **k):
    raise RuntimeError("DAG file opened a connection at parse time")
socket.socket.connect = refuse
sqlite3.connect = refuse
for path in sys.argv[1:]:
    runpy.run_path(path)
heavy = sorted(m for m in set(sys.modules) - baseline if m.split(".")[0] in %r)
print(json.dumps(heavy))
"""


def test_parsing_opens_no_connection_and_loads_no_heavy_module():
    """Import every DAG file in a fresh interpreter with networking and sqlite refused."""
    path = os.pathsep.join([str(REPO / "include"), str(REPO / "plugins")])
    env = dict(os.environ, PYTHONPATH=path)
    proc = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE % (HEAVY_MODULES,), *map(str, DAG_FILES)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    heavy = json.loads(proc.stdout.strip().splitlines()[-1])
    assert heavy == [], f"parsing DAG files imported {heavy}"
