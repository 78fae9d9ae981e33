"""A migrated, seeded warehouse per test, on SQLite and on the real PostgreSQL.

SQLite gets a fresh file per test. PostgreSQL gets one throwaway database per
session (``huizong_test_<random>``, dropped at the end) that each test starts
from empty: data tables cleared, reference data re-seeded.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from huizong.warehouse import db, seed
from pgutil import postgres_database
from sqlalchemy.engine import Engine

_REFERENCE_TABLES = {"dim_indicator", "dim_period", "schema_migration"}


@pytest.fixture(scope="session")
def pg_warehouse_url() -> Iterator[str]:
    with postgres_database("huizong_test") as url:
        engine = db.get_engine(url)
        db.migrate(engine)
        seed.seed_all(engine)
        try:
            yield url
        finally:
            engine.dispose()


def _clear(engine: Engine) -> None:
    tables = [t for t in sa.inspect(engine).get_table_names() if t not in _REFERENCE_TABLES]
    with engine.begin() as conn:
        for table in tables:
            conn.exec_driver_sql(f"DELETE FROM {table}")
    seed.seed_org_units(engine)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = db.get_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
        db.migrate(eng)
        seed.seed_all(eng)
        yield eng
        eng.dispose()
    else:
        eng = db.get_engine(request.getfixturevalue("pg_warehouse_url"))
        _clear(eng)
        yield eng


@pytest.fixture
def pg_engine(pg_warehouse_url: str) -> Engine:
    """The session's PostgreSQL warehouse, emptied for this test."""
    eng = db.get_engine(pg_warehouse_url)
    _clear(eng)
    return eng
