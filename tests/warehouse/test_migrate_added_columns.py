"""A warehouse created before a column existed gets it on the next migrate."""

from __future__ import annotations

import sqlalchemy as sa
from huizong.warehouse import db


def _columns(engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def test_claimed_at_is_added_to_an_existing_sqlite_warehouse(tmp_path):
    engine = db.get_engine(f"sqlite:///{tmp_path / 'old.db'}")
    db.migrate(engine)
    tables = ("raw_return", "return_submission", "quarantine")
    with engine.begin() as conn:
        # As the warehouse was before claimed_at (the views read these tables).
        for view in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'view'"):
            conn.exec_driver_sql(f"DROP VIEW {view[0]}")
        for table in tables:
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN claimed_at")
    assert all("claimed_at" not in _columns(engine, t) for t in tables)

    db.migrate(engine)
    db.migrate(engine)  # and again: adding is done once
    assert all("claimed_at" in _columns(engine, t) for t in tables)
