"""The warehouse connection is killed (pg_terminate_backend) while publish is
inserting facts: the batch rolls back whole and the retry publishes it whole."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa
from faultkit import snapshot
from pgutil import admin_conninfo

pytestmark = pytest.mark.postgres


def _intake_and_audit(engine, data_dir):
    from huizong import pipeline

    pipeline.receive_drop_folder(
        engine, data_dir / "drop", batch_id="submitted_returns__20250110T000000",
        partition="2025-01-10",
    )
    return pipeline.audit_staged(engine)


def test_terminated_backend_rolls_the_batch_back_and_the_retry_publishes_it_whole(
    warehouse, clean_warehouse, data_dir, demo_returns
):
    from huizong import demo_data, pipeline

    demo_data.write_drop_folder(data_dir / "drop", demo_returns)
    ref = _intake_and_audit(clean_warehouse, data_dir)
    pipeline.publish_staged(
        clean_warehouse, blocked=ref.blocked_submission_ids, warned=ref.warned_submission_ids
    )
    expected = snapshot(clean_warehouse)

    audit = _intake_and_audit(warehouse, data_dir)
    before = snapshot(warehouse)
    database = warehouse.url.database
    terminated: list[int] = []

    def terminate_own_backend(conn, cursor, statement, parameters, context, executemany):
        if terminated or "fact_indicator_value" not in statement:
            return
        if not statement.lstrip().upper().startswith("INSERT"):
            return
        pid = conn.connection.dbapi_connection.info.backend_pid
        with psycopg.connect(admin_conninfo(database), autocommit=True) as admin:
            killed = admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
        assert killed
        terminated.append(pid)

    sa.event.listen(warehouse, "before_cursor_execute", terminate_own_backend)
    try:
        with pytest.raises(sa.exc.OperationalError):
            pipeline.publish_staged(
                warehouse, blocked=audit.blocked_submission_ids, warned=audit.warned_submission_ids
            )
    finally:
        sa.event.remove(warehouse, "before_cursor_execute", terminate_own_backend)
    assert terminated, "publish never inserted a fact"
    assert snapshot(warehouse) == before, "a partial batch survived the dropped connection"

    pipeline.publish_staged(
        warehouse, blocked=audit.blocked_submission_ids, warned=audit.warned_submission_ids
    )
    assert snapshot(warehouse) == expected
