"""A worker killed in the middle of publishing: the retry leaves the warehouse
exactly as an undisturbed run does.

The steps run in child processes as a Celery worker would run them. The first
publish is SIGKILLed while its transaction is inserting facts (a hook parks the
process there and signals the parent), so the kill lands mid-load by
construction rather than by timing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faultkit import snapshot

pytestmark = pytest.mark.postgres

STEP = r"""
import json, os, sys, time
import sqlalchemy as sa
from huizong import pipeline
from huizong.settings import get_settings

mode, url, audit_file = sys.argv[1:4]
engine = sa.create_engine(url)
marker = os.environ.get("HUIZONG_FAULT_PARK_MARKER")
if marker:
    @sa.event.listens_for(engine, "before_cursor_execute")
    def park(conn, cursor, statement, parameters, context, executemany):
        if "fact_indicator_value" in statement and statement.lstrip().upper().startswith("INSERT"):
            open(marker, "w").write(str(os.getpid()))
            time.sleep(120)
if mode == "intake_audit":
    settings = get_settings()
    pipeline.receive_drop_folder(
        engine, settings.drop_dir, batch_id="submitted_returns__20250110T000000",
        partition="2025-01-10")
    audit = pipeline.audit_staged(engine)
    json.dump(audit.to_dict(), open(audit_file, "w"))
else:
    audit = json.load(open(audit_file))
    print(json.dumps(pipeline.publish_staged(
        engine, blocked=audit["blocked_submission_ids"], warned=audit["warned_submission_ids"])))
"""


def _step(mode: str, engine, audit_file: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", STEP, mode, engine.url.render_as_string(hide_password=False),
         str(audit_file)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(mode: str, engine, audit_file: Path) -> str:
    proc = _step(mode, engine, audit_file)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    return out


def test_killed_publish_is_retried_to_the_same_warehouse_as_a_clean_run(
    warehouse, clean_warehouse, data_dir, demo_returns, tmp_path
):
    from huizong import demo_data

    demo_data.write_drop_folder(data_dir / "drop", demo_returns)

    reference_audit = tmp_path / "reference_audit.json"
    _run("intake_audit", clean_warehouse, reference_audit)
    _run("publish", clean_warehouse, reference_audit)
    expected = snapshot(clean_warehouse)
    assert expected["return_submission"], "the reference run received nothing"

    audit = tmp_path / "audit.json"
    _run("intake_audit", warehouse, audit)
    before_publish = snapshot(warehouse)
    marker = tmp_path / "parked"
    victim = _step("publish", warehouse, audit, {"HUIZONG_FAULT_PARK_MARKER": str(marker)})
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert victim.poll() is None, victim.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "publish never reached the fact insert"
        time.sleep(0.1)
    os.kill(victim.pid, signal.SIGKILL)
    victim.communicate(timeout=30)
    assert victim.returncode == -signal.SIGKILL

    # The killed transaction left nothing behind: not a fact, not a status change.
    assert snapshot(warehouse) == before_publish

    result = json.loads(_run("publish", warehouse, audit).strip().splitlines()[-1])
    assert snapshot(warehouse) == expected
    assert result["return_facts"] == len(expected["fact_indicator_value"])

    # And a second retry (the task retried once more) changes nothing.
    _run("publish", warehouse, audit)
    assert snapshot(warehouse) == expected
