"""A migrated, seeded SQLite warehouse per test and a helper that plants returns in it."""

from __future__ import annotations

from pathlib import Path

import pytest
from huizong.warehouse.db import get_engine, migrate
from huizong.warehouse.seed import seed_all
from quality_warehouse import Warehouse


@pytest.fixture
def engine(tmp_path: Path):
    engine = get_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    migrate(engine)
    seed_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def wh(engine) -> Warehouse:
    return Warehouse(engine)
