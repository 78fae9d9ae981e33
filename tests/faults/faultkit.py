"""Table snapshots for the fault tests: every row of the warehouse tables that
matter, without what legitimately differs between two runs (timestamps, batch ids)."""

from __future__ import annotations

import sqlalchemy as sa

SNAPSHOT_TABLES = ("return_submission", "fact_indicator_value", "finding", "quarantine")
# Columns that record when or in which batch something happened, not what.
VOLATILE = ("batch_id", "run_id", "first_seen_at", "last_seen_at", "created_at")


def snapshot(engine: sa.Engine, tables=SNAPSHOT_TABLES) -> dict[str, list[tuple]]:
    """Every row of ``tables``, without timestamp and batch columns, sorted."""
    out = {}
    inspector = sa.inspect(engine)
    with engine.connect() as conn:
        for table in tables:
            columns = [
                c["name"]
                for c in inspector.get_columns(table)
                if c["name"] not in VOLATILE
                and not c["name"].endswith("_at")
                and not isinstance(c["type"], sa.DateTime)
            ]
            rows = conn.exec_driver_sql(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            out[table] = sorted(tuple(map(repr, r)) for r in rows)
    return out
