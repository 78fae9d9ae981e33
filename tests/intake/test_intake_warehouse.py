"""Intake against the loader's real tables (SQLite): the keys and records line up."""

from __future__ import annotations

from datetime import datetime

import pytest
from huizong.returns.intake import UNIT_MISMATCH, requeue_released, scan_drop_folder, triage
from huizong.returns.model import QuarantineRecord, StagedSubmission

from .conftest import OTHER_UNIT, TODAY, UNIT

NOW = datetime(2025, 1, 20, 8, 0, 0)


@pytest.fixture
def engine(tmp_path):
    from huizong.warehouse import db

    engine = db.get_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    db.migrate(engine)
    return engine


def test_drop_scan_round_trips_through_the_warehouse(tmp_path, engine, make_workbook):
    from huizong.warehouse import load

    drop = tmp_path / "drop"
    make_workbook(drop / UNIT / "FL-01" / "2024Q4" / "good.xlsx")
    make_workbook(drop / UNIT / "FL-01" / "2024Q4" / "other.xlsx", unit_code=OTHER_UNIT, seed=2)
    make_workbook(drop / "bad" / "FL-01" / "2024Q4" / "x.xlsx", seed=3)

    def run(partition: str):
        return scan_drop_folder(
            drop,
            raw_dir=tmp_path / "raw",
            partition=partition,
            seen=load.raw_return_seen(engine),  # the loader's key set, as the pipeline passes it
            now=NOW,
        )

    first = run("2025-01-20")
    assert len(first.received) == 2 and len(first.rejected) == 1
    load.record_raw_returns(engine, first.received + [r.received for r in first.rejected])
    outcomes = [triage(r, as_of=TODAY) for r in first.received]
    held = [o for o in outcomes if isinstance(o, QuarantineRecord)]
    assert [h.reason for h in held] == [UNIT_MISMATCH]
    load.quarantine(engine, held + first.rejected)
    # Landed but not yet staged is not "seen": a run that died here must retry.
    half = run("2025-01-21")
    assert [r.source_uri for r in half.received] == [f"{UNIT}/FL-01/2024Q4/good.xlsx"]
    load.stage_returns(engine, "b1", [o for o in outcomes if not isinstance(o, QuarantineRecord)])

    again = run("2025-01-21")
    assert again.received == [] and again.rejected == [] and again.skipped == 3

    mismatch = next(e for e in load.list_quarantine(engine) if e.reason == UNIT_MISMATCH)
    load.release_quarantine(engine, mismatch.quarantine_id)
    released = load.list_quarantine(engine, status="released")
    [outcome] = requeue_released(released, as_of=TODAY)
    # Releasing does not make a return that speaks for another unit loadable.
    assert isinstance(outcome, QuarantineRecord) and outcome.reason == UNIT_MISMATCH
    assert outcome.quarantine_id == mismatch.quarantine_id


def test_released_api_item_is_rebuilt_from_the_table(tmp_path, engine):
    from huizong.warehouse import load

    from .test_triage import api_item, received_from_api

    [received] = received_from_api(tmp_path, api_item(1, period="2025Q3"))
    held = triage(received, as_of=TODAY)
    assert isinstance(held, QuarantineRecord)
    load.record_raw_returns(engine, [received])
    load.quarantine(engine, [held])
    load.release_quarantine(engine, held.quarantine_id)
    [outcome] = requeue_released(
        load.list_quarantine(engine, status="released"), as_of=datetime(2025, 7, 2).date()
    )
    assert isinstance(outcome, StagedSubmission)
    assert outcome.received.api_version == 1
    assert outcome.rows["01"]["current"] == 11
