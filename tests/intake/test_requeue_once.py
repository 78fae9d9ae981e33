"""A released return is requeued once, not re-read on every intake run."""

from __future__ import annotations

import sqlalchemy as sa


def test_released_return_requeued_once_and_held_again_if_still_wrong(tmp_path, monkeypatch):
    from huizong import demo_data, pipeline
    from huizong.warehouse import load
    from huizong.warehouse.db import get_engine

    monkeypatch.setenv("HUIZONG_DATA_DIR", str(tmp_path / "var"))
    engine = get_engine(f"sqlite:///{tmp_path / 'wh.db'}")
    pipeline.prepare_warehouse(engine)
    misfiled = [r for r in demo_data.build_demo_returns() if r.folder_unit_code]
    drop = tmp_path / "drop"
    demo_data.write_drop_folder(drop, misfiled)
    pipeline.receive_drop_folder(engine, drop, batch_id="b1", partition="2026-11-22")
    (held,) = load.list_quarantine(engine, status="held")
    assert held.reason == "unit_mismatch"

    load.release_quarantine(engine, held.quarantine_id)
    first = pipeline.requeue_released(engine, batch_id="b2")
    second = pipeline.requeue_released(engine, batch_id="b3")

    assert first.received == 1 and first.quarantined == 1  # still declares another unit
    assert second.received == 0
    with engine.connect() as conn:
        status = conn.execute(
            sa.text("SELECT status FROM quarantine WHERE quarantine_id = :q"),
            {"q": held.quarantine_id},
        ).scalar()
    assert status == "held"
