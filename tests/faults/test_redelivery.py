"""The same return delivered twice, and an old version delivered after a new one:
the newest version stays the published figure, nothing is counted twice.

Publishing here runs without the quality audit so the outcome depends only on
intake and the warehouse's versioning, not on which checks a return trips.
"""

from __future__ import annotations

import copy
import os
import secrets
from datetime import datetime

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.postgres

UNIT, NAME, PERIOD = "621228000000", "两当县妇联", "2024Q3"


def _latest(engine, unit: str, period: str) -> dict[str, float]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT indicator_code, value_current, COUNT(*) OVER (PARTITION BY indicator_code)"
                " FROM fact_indicator_value WHERE unit_code = :u AND period = :p"
                " AND source = 'return' AND is_latest"
            ),
            {"u": unit, "p": period},
        ).fetchall()
    assert all(n == 1 for _, _, n in rows), "more than one latest figure for an indicator"
    return {code: float(value) for code, value, _ in rows if value is not None}


def _drop(folder, filename, rows, submitted: datetime):
    from huizong.returns.samples import write_return

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    write_return(path, unit_code=UNIT, unit_name=NAME, period=PERIOD, rows=rows)
    os.utime(path, (submitted.timestamp(), submitted.timestamp()))
    return path


def _intake_and_publish(engine, data_dir, batch):
    from huizong import pipeline

    summary = pipeline.receive_drop_folder(
        engine, data_dir / "drop", batch_id=f"submitted_returns__{batch}", partition="2025-01-30"
    )
    pipeline.publish_staged(engine)
    return summary


def test_drop_folder_old_version_after_new_and_a_second_copy(warehouse, data_dir, demo_returns):
    original = next(r for r in demo_returns if r.unit_code == UNIT and r.period == PERIOD)
    old_rows = copy.deepcopy(original.rows)
    new_rows = copy.deepcopy(original.rows)
    for code in ("01", "07", "08"):
        new_rows[code]["current"] = old_rows[code]["current"] + 5
    folder = data_dir / "drop" / UNIT / "FL-01" / PERIOD

    _drop(folder, "FL-01_v2.xlsx", new_rows, datetime(2025, 1, 20, 9, 0))
    _intake_and_publish(warehouse, data_dir, "r1")
    published = _latest(warehouse, UNIT, PERIOD)
    assert published["08"] == pytest.approx(new_rows["08"]["current"])

    # Late: the version submitted first arrives now, and the new one once more.
    _drop(folder, "FL-01_v1.xlsx", old_rows, datetime(2025, 1, 6, 9, 30))
    _drop(folder, "FL-01_v2_resent.xlsx", new_rows, datetime(2025, 1, 20, 9, 0))
    second = _intake_and_publish(warehouse, data_dir, "r2")
    assert second.received == 2 and second.quarantined == 0, second

    assert _latest(warehouse, UNIT, PERIOD) == published
    with warehouse.connect() as conn:
        submissions = conn.execute(
            sa.text("SELECT COUNT(*) FROM return_submission WHERE unit_code = :u AND period = :p"),
            {"u": UNIT, "p": PERIOD},
        ).scalar()
    assert submissions == 3  # every delivery is on record, one figure is published


def test_api_version_1_after_version_2_does_not_win(warehouse, data_dir):
    from huizong import demo_data, pipeline
    from huizong.returns.api_server import serve_in_thread

    v1 = next(
        i for i in demo_data.api_items()
        if i["unit_code"] == demo_data.RONGAN[0] and i["period"] == "2024Q4"
    )
    v2 = copy.deepcopy(v1)
    v2["version"] = 2
    v2["submitted_at"] = "2025-01-15T10:00:00+08:00"
    v2["values"]["08"]["current"] = v1["values"]["08"]["current"] + 11
    items = [v2, copy.deepcopy(v2)]  # the new version, served twice
    token = secrets.token_urlsafe(16)
    with serve_in_thread(items, token=token) as url:
        first = pipeline.receive_reporting_api(
            warehouse, url, token, batch_id="submitted_returns__a", partition="2025-01-16"
        )
        pipeline.publish_staged(warehouse)
        items.append(v1)  # the old version shows up afterwards
        second = pipeline.receive_reporting_api(
            warehouse, url, token, batch_id="submitted_returns__b", partition="2025-01-17"
        )
        pipeline.publish_staged(warehouse)
    assert first.staged == 1, first
    assert second.received == 1, second
    latest = _latest(warehouse, v1["unit_code"], v1["period"])
    assert latest["08"] == pytest.approx(v2["values"]["08"]["current"])
