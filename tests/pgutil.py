"""Throwaway PostgreSQL databases for tests that talk to the real server.

The server is the one on 127.0.0.1:5432 (trust auth). Outside CI a missing
server skips the test with the reason; under ``CI=true`` it fails, so a broken
CI service cannot turn the PostgreSQL tests into silent skips.

    from pgutil import postgres_database  # tests/ is on sys.path via tests/conftest.py

    @pytest.fixture(scope="session")
    def pg_url():
        with postgres_database("mything") as url:
            yield url
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

import pytest

PG_HOST = os.environ.get("HUIZONG_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("HUIZONG_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("HUIZONG_TEST_PG_USER", "postgres")
_ADMIN_DB = "postgres"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def admin_conninfo(dbname: str = _ADMIN_DB, user: str = PG_USER, port: int = PG_PORT) -> str:
    return f"host={PG_HOST} port={port} user={user} dbname={dbname} connect_timeout=5"


def sqlalchemy_url(dbname: str, user: str = PG_USER, port: int = PG_PORT) -> str:
    return f"postgresql+psycopg://{user}@{PG_HOST}:{port}/{dbname}"


def server_unavailable_reason() -> str | None:
    """None when the server answers, else why not."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a dependency
        return f"psycopg is not installed: {exc}"
    try:
        with psycopg.connect(admin_conninfo(), autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {PG_HOST}:{PG_PORT} is not reachable: {exc}".strip()
    return None


def require_server() -> None:
    """Skip (outside CI) or fail (under CI=true) when the server is missing."""
    reason = server_unavailable_reason()
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def drop_database(name: str, port: int = PG_PORT) -> None:
    import psycopg

    with psycopg.connect(admin_conninfo(port=port), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def postgres_database(prefix: str = "huizong_test") -> Iterator[str]:
    """Create an empty database named ``<prefix>_<random>``; yield its URL; drop it."""
    import psycopg

    require_server()
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield sqlalchemy_url(name)
    finally:
        drop_database(name)
