"""Warehouse connection and migrations, the same code on SQLite and PostgreSQL.

DDL lives in ``sql/<layer>/NNN_name.sql``. ``migrate()`` applies the layers in
dependency order; tables are ``IF NOT EXISTS`` and views are dropped and
re-created, so migrating twice is a no-op. A column added to an existing table
is written ``ALTER TABLE t ADD COLUMN IF NOT EXISTS c …`` after its ``CREATE
TABLE``; SQLite lacks that clause, so there the column is added only when
missing. Each applied file is recorded in ``schema_migration`` with its checksum.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

LAYERS = ("raw", "staging", "core", "quality", "marts")
_POSTGRES_ONLY_LAYERS = ("roles",)


def sql_dir() -> Path:
    """The ``sql/`` tree: next to the package in a checkout, or bundled."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "sql", here.parents[1] / "sql"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        "sql/ directory not found next to the huizong package; "
        "run from a checkout or set HUIZONG_SQL_DIR"
    )


@cache
def _engine(url: str) -> Engine:
    from huizong.secret_check import check_url_password

    check_url_password("the warehouse URL", url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            # WAL lets the analyst CLI read while a DAG task writes.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return sa.create_engine(url, pool_pre_ping=True)


def get_engine(url: str | None = None) -> Engine:
    if url is None:
        from huizong.settings import get_settings

        url = get_settings().warehouse_url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return _engine(url)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


_STATEMENT_END = re.compile(r";\s*$", re.MULTILINE)
_ADD_COLUMN_IF_MISSING = re.compile(
    r"^ALTER\s+TABLE\s+(\w+)\s+ADD\s+COLUMN\s+IF\s+NOT\s+EXISTS\s+(\w+)\s+(.+)$",
    re.IGNORECASE | re.DOTALL,
)


def _apply(conn: sa.Connection, statement: str, postgres: bool) -> None:
    added = None if postgres else _ADD_COLUMN_IF_MISSING.match(statement)
    if added is None:
        conn.exec_driver_sql(statement)
        return
    table, column, definition = added.groups()
    present = {
        row[1] for row in conn.exec_driver_sql(f"PRAGMA table_info({table})")
    }
    if column not in present:
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")


def split_statements(sql: str) -> Iterator[str]:
    """Split a DDL file on statement-ending semicolons.

    Our DDL files keep ``$$``-quoted PL/pgSQL blocks in ``roles/`` only, which
    are applied whole; everything else ends each statement with ``;`` at the end
    of a line.
    """
    lines = [ln for ln in sql.splitlines() if not ln.lstrip().startswith("--")]
    for chunk in _STATEMENT_END.split("\n".join(lines)):
        if chunk.strip():
            yield chunk.strip()


def migration_files(engine: Engine) -> list[Path]:
    root = sql_dir()
    layers = LAYERS + (_POSTGRES_ONLY_LAYERS if is_postgres(engine) else ())
    files: list[Path] = []
    for layer in layers:
        files.extend(sorted((root / layer).glob("*.sql")))
    return files


def pending_migrations(engine: Engine) -> list[str]:
    """Migration files not yet applied as they are now (new or changed since)."""
    inspector = sa.inspect(engine)
    recorded: dict[str, str] = {}
    if inspector.has_table("schema_migration"):
        with engine.connect() as conn:
            recorded = {
                f: str(h).strip()
                for f, h in conn.exec_driver_sql("SELECT file, sha256 FROM schema_migration")
            }
    pending = []
    for path in migration_files(engine):
        rel = f"{path.parent.name}/{path.name}"
        if recorded.get(rel) != hashlib.sha256(path.read_bytes()).hexdigest():
            pending.append(rel)
    return pending


def migrate(engine: Engine | None = None) -> list[str]:
    """Create or update the warehouse model; returns the files applied."""
    engine = engine or get_engine()
    applied: list[str] = []
    with engine.begin() as conn:
        if is_postgres(engine):
            # One migrator at a time across workers and the API server.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727270001)")
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS schema_migration ("
            " file TEXT PRIMARY KEY, sha256 CHAR(64) NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
        for path in migration_files(engine):
            text = path.read_text(encoding="utf-8")
            rel = f"{path.parent.name}/{path.name}"
            if path.parent.name == "roles":
                conn.exec_driver_sql(text)
            else:
                for statement in split_statements(text):
                    _apply(conn, statement, is_postgres(engine))
            digest = hashlib.sha256(text.encode()).hexdigest()
            conn.execute(sa.text("DELETE FROM schema_migration WHERE file = :f"), {"f": rel})
            conn.execute(
                sa.text("INSERT INTO schema_migration VALUES (:f, :s, :t)"),
                {"f": rel, "s": digest, "t": datetime.now(UTC).replace(tzinfo=None)},
            )
            applied.append(rel)
    return applied
