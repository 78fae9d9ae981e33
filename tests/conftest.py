"""Test-wide environment: an Airflow home and a data directory per session.

Set before anything imports Airflow, so no test touches a developer's
``~/airflow`` or the demo's ``var/``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="huizong-tests-"))

os.environ.setdefault("AIRFLOW_HOME", str(_SESSION_DIR / "airflow_home"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(REPO / "plugins"))
os.environ.setdefault("AIRFLOW__API_AUTH__JWT_SECRET", "huizong-tests-only")
os.environ.setdefault("HUIZONG_DATA_DIR", str(_SESSION_DIR / "var"))
# Test files are complete when written; tests of settling set it themselves.
os.environ.setdefault("HUIZONG_DROP_SETTLE_SECONDS", "0")


@pytest.fixture(scope="session")
def airflow_plugins(tmp_path_factory) -> dict[str, dict]:
    """What Airflow's plugins manager lists for this repository, by plugin name.

    One `airflow plugins -o json` run (about 15 s) for every plugin test.
    """
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path_factory.mktemp("plugins") / "airflow_home"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": os.pathsep.join([str(REPO / "include"), str(REPO / "plugins")]),
    }
    airflow = Path(sys.executable).with_name("airflow")
    out = subprocess.run([str(airflow), "plugins", "-o", "json"], env=env, capture_output=True,
                         text=True, timeout=300, check=True)
    return {p["name"]: p for p in json.loads(out.stdout[out.stdout.index("["):])}
