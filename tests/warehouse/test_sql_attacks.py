"""``huizong sql`` attacked as an analyst would, on SQLite and on the real PostgreSQL.

The PostgreSQL warehouse URL here logs in as the superuser ``postgres`` — the
worst case of a dev setup, where before the fix ``ROLLBACK; DROP TABLE …``
dropped a table and ``COPY … TO PROGRAM`` ran a shell command. Every attack
must fail with one clear line and leave the warehouse as it was.
"""

from __future__ import annotations

import secrets
import sqlite3

import psycopg
import pytest
from huizong.warehouse import load, readonly
from pgutil import admin_conninfo
from sqlalchemy.engine import make_url
from test_cli import run, url_of
from wh_factories import TOWNS, add_hierarchy, scalar, submission

SLOW = (
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 500000000) "
    "SELECT count(*) FROM r"
)


@pytest.fixture
def warehouse(engine):
    add_hierarchy(engine)
    load.stage_returns(engine, "attack__1", [submission(TOWNS[0], "2024Q4", {"01": 3})])
    load.publish(engine)
    return engine


def _state(engine) -> tuple:
    return (
        scalar(engine, "SELECT COUNT(*) FROM dim_period"),
        scalar(engine, "SELECT COUNT(*) FROM dim_org_unit"),
        scalar(engine, "SELECT COUNT(*) FROM fact_indicator_value"),
    )


def _attack(engine, capsys, statement: str, *extra: str) -> str:
    before = _state(engine)
    code, out, err = run(["sql", statement, "--warehouse", url_of(engine), *extra], capsys)
    assert code != 0, f"{statement!r} was run: {out}"
    assert out == ""
    assert err.startswith("huizong sql: ") and err.count("\n") == 1, err
    assert _state(engine) == before
    return err


@pytest.mark.parametrize(
    ("statement", "why"),
    [
        ("ROLLBACK; DROP TABLE dim_period", "one statement per call"),
        ("COMMIT; DELETE FROM dim_period", "one statement per call"),
        ("ROLLBACK", "ROLLBACK is not allowed"),
        ("COMMIT", "COMMIT is not allowed"),
        ("BEGIN", "BEGIN is not allowed"),
        ("SET ROLE postgres", "SET is not allowed"),
        ("RESET ROLE", "RESET is not allowed"),
        ("SET SESSION AUTHORIZATION postgres", "SET is not allowed"),
        ("SELECT set_config('role', 'postgres', false)", "set_config() is not allowed"),
        ("SELECT pg_read_file('/etc/hostname')", "pg_read_file() is not allowed"),
        ("SELECT lo_import('/etc/hostname')", "lo_import() is not allowed"),
        ("SELECT nextval('x')", "nextval() is not allowed"),
        ("SELECT pg_terminate_backend(1)", "pg_terminate_backend() is not allowed"),
        ("SELECT pg_sleep(10)", "pg_sleep() is not allowed"),
        ("SELECT query_to_xml('DELETE FROM dim_period', true, true, '')", "query_to_xml()"),
        ("SELECT pg_catalog.pg_read_file('/etc/hostname')", "schema-qualified"),
        ("SELECT * FROM fact_indicator_value", "fact_indicator_value is not an analyst view"),
        ("SELECT * FROM dim_org_unit", "dim_org_unit is not an analyst view"),
        ("SELECT * FROM consolidation_base", "consolidation_base is not an analyst view"),
        ("SELECT count(*) FROM raw_return", "raw_return is not an analyst view"),
        ("SELECT * FROM v_consolidated, dim_org_unit", "dim_org_unit is not an analyst view"),
        ("SELECT * FROM pg_roles", "pg_roles is not an analyst view"),
        ("SELECT * FROM sqlite_master", "sqlite_master is not an analyst view"),
        ("SELECT * FROM public.dim_org_unit", "without a schema"),
        ("WITH dim_org_unit AS (SELECT 1) SELECT * FROM dim_org_unit", "would shadow"),
        ("WITH d AS (DELETE FROM dim_period RETURNING 1) SELECT * FROM d", "DELETE"),
        ("SELECT * INTO scratch FROM v_consolidated", "INTO is not allowed"),
        ("SELECT * FROM v_consolidated FOR UPDATE", "UPDATE is not allowed"),
        ("EXPLAIN ANALYZE SELECT * FROM v_consolidated", "ANALYZE is not allowed"),
        ("SELECT 1; SELECT 2", "one statement per call"),
        ("SELECT 1 /* nested /* */ ; DROP TABLE dim_period */", "block comments"),
        ("SELECT '\\' , pg_read_file('/etc/hostname') --'", "backslashes"),
        ("SELECT $$x$$", "'$' is not accepted"),
        ("LOCK TABLE dim_period", "LOCK is not allowed"),
        ("LISTEN huizong", "LISTEN is not allowed"),
        ("NOTIFY huizong", "NOTIFY is not allowed"),
        ("DO 'BEGIN DROP TABLE dim_period; END'", "DO is not allowed"),
        ("CALL anything()", "CALL is not allowed"),
        ("DROP TABLE dim_period", "DROP is not allowed"),
        ("PRAGMA query_only = 0", "PRAGMA is not allowed"),
        ("VACUUM", "VACUUM is not allowed"),
    ],
)
def test_statement_policy_refuses(warehouse, capsys, statement, why):
    err = _attack(warehouse, capsys, statement)
    assert "refused (read-only, one SELECT over the v_* views)" in err and why in err, err


def test_copy_to_program_runs_nothing(warehouse, capsys, tmp_path):
    marker = tmp_path / "pwned"
    err = _attack(warehouse, capsys, f"COPY (SELECT 1) TO PROGRAM 'touch {marker}'")
    assert "COPY is not allowed" in err
    assert not marker.exists()


def test_attach_creates_no_database(warehouse, capsys, tmp_path):
    other = tmp_path / "other.db"
    err = _attack(warehouse, capsys, f"ATTACH DATABASE '{other}' AS other")
    assert "ATTACH is not allowed" in err
    assert not other.exists()


def test_slow_query_is_cancelled_at_the_timeout(warehouse, capsys):
    err = _attack(warehouse, capsys, SLOW, "--timeout", "0.5")
    assert "cancelled after 0.5 s (statement timeout)" in err


def test_analyst_reads_every_view_with_ctes_and_functions(warehouse, capsys):
    code, out, err = run(
        [
            "sql",
            "WITH t AS (SELECT unit_code, value FROM v_indicator_values "
            "WHERE indicator_code = '01') "
            "SELECT count(*) AS n, round(sum(value), 0) AS total, max(substr(unit_code, 1, 6)) "
            "AS county FROM t",
            "--warehouse",
            url_of(warehouse),
        ],
        capsys,
    )
    assert code == 0, err
    assert "990101" in out and "(1 row)" in out
    for view in ("v_consolidated", "v_completeness", "v_notice_vs_return", "v_annual_values"):
        code, _, err = run(
            ["sql", f"SELECT * FROM {view} LIMIT 1", "--warehouse", url_of(warehouse)], capsys
        )
        assert code == 0, (view, err)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT v.unit_code, c.coverage FROM v_indicator_values AS v LEFT JOIN "
        "(SELECT unit_code, coverage FROM v_consolidated) AS c ON c.unit_code = v.unit_code",
        "SELECT unit_code, rank() OVER (PARTITION BY period ORDER BY value DESC) AS r "
        "FROM v_indicator_values",
        "SELECT CASE WHEN value > 1 THEN 'big' ELSE 'small' END AS size, coalesce(value, 0) "
        "FROM v_indicator_values WHERE unit_code IN (SELECT unit_code FROM v_consolidated)",
        "SELECT count(*) FROM v_indicator_values WHERE unit_name LIKE '%镇' -- towns",
        "SELECT a.unit_code FROM v_consolidated a, v_completeness b WHERE a.period = b.period",
        "EXPLAIN SELECT * FROM v_completeness",
        "VALUES (1, 'a');",
    ],
)
def test_ordinary_analyst_queries_run(warehouse, capsys, statement):
    code, out, err = run(["sql", statement, "--warehouse", url_of(warehouse)], capsys)
    assert code == 0, err
    assert out.rstrip().endswith(("row)", "rows)"))


# --- defence in depth: the database session holds without the statement policy ----


@pytest.fixture
def no_policy(monkeypatch):
    """Let every statement through the policy, to prove the session's own limits."""
    monkeypatch.setattr(readonly, "check_statement", lambda text, _warehouse: text)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM fact_indicator_value",
        "SELECT name FROM dim_org_unit",
        "DELETE FROM dim_period",
        "CREATE TABLE scratch (a INTEGER)",
    ],
)
def test_session_alone_refuses_tables_and_writes(warehouse, capsys, no_policy, statement):
    err = _attack(warehouse, capsys, statement)
    assert "the warehouse refused it" in err, err


def test_postgres_server_refuses_a_second_command(warehouse, capsys, no_policy):
    if warehouse.dialect.name != "postgresql":
        pytest.skip("sqlite3 refuses a second statement in its own way")
    err = _attack(warehouse, capsys, "SELECT 1; DROP TABLE dim_period")
    assert "multiple commands" in err


def test_sqlite_authorizer_refuses_attach_and_pragma(tmp_path):
    path = tmp_path / "w.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (a INTEGER)")
        conn.execute("CREATE VIEW v_t AS SELECT a, abs(a) AS b FROM t")
        conn.execute("INSERT INTO t VALUES (-1)")
    conn = sqlite3.connect(path)
    conn.set_authorizer(readonly.sqlite_authorizer({"v_t"}))
    assert conn.execute("SELECT a, b FROM v_t").fetchall() == [(-1, 1)]
    for statement in (
        f"ATTACH DATABASE '{tmp_path / 'x.db'}' AS x",
        "PRAGMA query_only = 0",
        "PRAGMA writable_schema = 1",
        "SELECT a FROM t",
        "SELECT load_extension('x')",
        "INSERT INTO t VALUES (2)",
        "CREATE TEMP TABLE s (a)",
        "BEGIN",
    ):
        with pytest.raises(sqlite3.DatabaseError, match=r"not authorized|prohibited"):
            conn.execute(statement)
    conn.close()
    assert not (tmp_path / "x.db").exists()


# --- the analyst login ------------------------------------------------------------


@pytest.mark.postgres
def test_analyst_url_is_used_and_holds(pg_engine, pg_warehouse_url, capsys, monkeypatch):
    add_hierarchy(pg_engine)
    dbname = make_url(pg_warehouse_url).database
    login = f"huizong_test_analyst_{secrets.token_hex(3)}"
    with psycopg.connect(admin_conninfo(dbname), autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{login}" LOGIN')
        admin.execute(f'GRANT huizong_analyst TO "{login}"')
    try:
        analyst_url = make_url(pg_warehouse_url).set(username=login)
        monkeypatch.setenv(readonly.ANALYST_URL_ENV, analyst_url.render_as_string(False))
        monkeypatch.setenv("HUIZONG_WAREHOUSE_URL", "sqlite:////nonexistent/warehouse.db")
        code, out, err = run(["sql", "SELECT count(*) AS n FROM v_indicator_values"], capsys)
        assert code == 0 and "(1 row)" in out, err
        # Even past the policy, the analyst login cannot read a table nor go back to a
        # role it does not have.
        monkeypatch.setattr(readonly, "check_statement", lambda text, _w: text)
        code, _, err = run(["sql", "SELECT * FROM dim_org_unit"], capsys)
        assert code == 2 and "permission denied" in err
        code, _, err = run(["sql", "SET ROLE postgres"], capsys)
        assert code != 0 and "permission denied" in err
    finally:
        with psycopg.connect(admin_conninfo(dbname), autocommit=True) as admin:
            admin.execute(f'DROP ROLE "{login}"')


@pytest.mark.postgres
def test_a_login_without_the_analyst_role_is_refused_clearly(pg_engine, pg_warehouse_url, capsys):
    dbname = make_url(pg_warehouse_url).database
    login = f"huizong_test_other_{secrets.token_hex(3)}"
    with psycopg.connect(admin_conninfo(dbname), autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{login}" LOGIN')
    try:
        url = make_url(pg_warehouse_url).set(username=login).render_as_string(False)
        code, out, err = run(["sql", "SELECT 1", "--warehouse", url], capsys)
        assert code == 1 and out == ""
        assert f"the login {login} cannot act as huizong_analyst" in err
        assert err.count("\n") == 1
    finally:
        with psycopg.connect(admin_conninfo(dbname), autocommit=True) as admin:
            admin.execute(f'DROP ROLE "{login}"')



def test_policy_admits_every_column_of_every_view(warehouse):
    """No documented view column collides with a refused keyword or function name."""
    import sqlalchemy as sa

    inspector = sa.inspect(warehouse)
    views = sorted(v for v in inspector.get_view_names() if v.startswith("v_"))
    assert len(views) >= 6
    known = readonly.Warehouse(frozenset(views), frozenset(views))
    for view in views:
        for column in inspector.get_columns(view):
            statement = f"SELECT {column['name']} FROM {view} ORDER BY {column['name']}"
            assert readonly.check_statement(statement, known) == statement
