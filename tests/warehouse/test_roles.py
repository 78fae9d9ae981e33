"""The analyst role on PostgreSQL, proven with a real login."""

from __future__ import annotations

import secrets

import psycopg
import pytest
from huizong.warehouse import db, load
from pgutil import admin_conninfo
from sqlalchemy.engine import make_url
from wh_factories import TOWNS, add_hierarchy, submission

pytestmark = pytest.mark.postgres


@pytest.fixture
def analyst_conn(pg_engine, pg_warehouse_url):
    engine = pg_engine
    add_hierarchy(engine)
    load.stage_returns(engine, "roles__1", [submission(TOWNS[0], "2024Q4", {"01": 3})])
    load.publish(engine)
    dbname = make_url(pg_warehouse_url).database
    login = f"huizong_test_analyst_{secrets.token_hex(3)}"
    with psycopg.connect(admin_conninfo(dbname), autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{login}" LOGIN')
        admin.execute(f'GRANT huizong_analyst TO "{login}"')
    try:
        with psycopg.connect(admin_conninfo(dbname, user=login), autocommit=True) as conn:
            yield conn
    finally:
        with psycopg.connect(admin_conninfo(dbname), autocommit=True) as admin:
            admin.execute(f'DROP ROLE "{login}"')


def test_migration_creates_a_nologin_group_role(pg_warehouse_url):
    with psycopg.connect(admin_conninfo(make_url(pg_warehouse_url).database)) as conn:
        assert conn.execute(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'huizong_analyst'"
        ).fetchone() == (False,)
        db.migrate(db.get_engine(pg_warehouse_url))  # idempotent: role exists already


@pytest.mark.parametrize(
    "view",
    [
        "v_indicator_values",
        "v_consolidated",
        "v_annual_values",
        "v_completeness",
        "v_completeness_detail",
        "v_notice_vs_return",
    ],
)
def test_analyst_reads_every_view(analyst_conn, view):
    analyst_conn.execute(f"SELECT * FROM {view} LIMIT 5").fetchall()


def test_analyst_sees_the_published_value(analyst_conn):
    row = analyst_conn.execute(
        "SELECT own_value FROM v_consolidated WHERE unit_code = %s AND indicator_code = '01'",
        (TOWNS[0],),
    ).fetchone()
    assert row == (3,)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM fact_indicator_value",
        "SELECT * FROM return_submission",
        "SELECT * FROM raw_return",
        "SELECT * FROM stg_return_value",
        "SELECT * FROM dim_org_unit",
        "INSERT INTO fact_indicator_value (unit_code) VALUES ('x')",
        "UPDATE fact_indicator_value SET value_current = 0",
        "DELETE FROM fact_indicator_value",
        "UPDATE dim_period SET due_date = start_date",
        "CREATE TABLE public.analyst_scratch (a int)",
    ],
)
def test_analyst_cannot_write_or_read_tables(analyst_conn, statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        analyst_conn.execute(statement)
