"""Test-wide environment: an Airflow home and a data directory per session.

Set before anything imports Airflow, so no test touches a developer's
``~/airflow`` or the demo's ``var/``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

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
