"""Fixtures of the fault tests: a PostgreSQL warehouse per test (and a second
one for an undisturbed reference run), a data directory, the demo's returns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pgutil import postgres_database


def _new_warehouse(prefix: str) -> Iterator[sa.Engine]:
    from huizong.pipeline import prepare_warehouse

    with postgres_database(prefix) as url:
        engine = sa.create_engine(url, pool_pre_ping=True)
        try:
            prepare_warehouse(engine)
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def warehouse() -> Iterator[sa.Engine]:
    yield from _new_warehouse("huizong_fault")


@pytest.fixture
def clean_warehouse() -> Iterator[sa.Engine]:
    """A second warehouse for the undisturbed reference run."""
    yield from _new_warehouse("huizong_fault_ref")


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    monkeypatch.setenv("HUIZONG_DATA_DIR", str(path))
    for name in ("HUIZONG_DROP_DIR", "HUIZONG_RAW_DIR", "HUIZONG_WAREHOUSE_URL"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture(scope="session")
def demo_returns():
    from huizong import demo_data

    return demo_data.build_demo_returns()
