"""``huizong db migrate``, ``orgs load``, ``sql`` and ``quarantine`` against real warehouses."""

from __future__ import annotations

import argparse
import gzip
from decimal import Decimal

import pytest
from huizong.warehouse import cli, load
from wh_factories import TOWNS, add_hierarchy, held, scalar, submission


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="huizong")
    cli.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_db_migrate_prints_what_it_did_and_is_repeatable(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    code, out, _ = run(["db", "migrate", "--warehouse", url], capsys)
    assert code == 0
    assert "core/002_facts.sql" in out and "27 indicators" in out
    code, again, _ = run(["db", "migrate", "--warehouse", url], capsys)
    assert code == 0 and again == out


def test_orgs_load_reports_file_and_line(engine, tmp_path, capsys):
    good = tmp_path / "orgs.csv.gz"
    good.write_bytes(
        gzip.compress(
            "code,name,level,parent_code\n"
            "880000000000,某省,province,\n880100000000,某市,city,880000000000\n".encode()
        )
    )
    code, out, _ = run(["orgs", "load", str(good), "--warehouse", url_of(engine)], capsys)
    assert code == 0 and "loaded 2 org units" in out
    assert (
        scalar(engine, "SELECT name FROM dim_org_unit WHERE unit_code = '880100000000'") == "某市"
    )

    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,level,parent_code\n880000000000,某省,province,\n8801,某市,city,\n")
    code, _, err = run(["orgs", "load", str(bad), "--warehouse", url_of(engine)], capsys)
    assert code == 1
    assert f"{bad}:3:" in err and "not 12 digits" in err


def test_sql_prints_an_aligned_table(engine, capsys):
    add_hierarchy(engine)
    load.stage_returns(
        engine, "cli__1", [submission(t, "2024Q4", {"01": 3}) for t in TOWNS]
    )
    load.publish(engine)
    code, out, err = run(
        [
            "sql",
            "SELECT unit_code, unit_name, 12 AS n FROM v_indicator_values"
            " WHERE unit_code LIKE '9901010%' AND indicator_code = '01' ORDER BY unit_code",
            "--warehouse",
            url_of(engine),
        ],
        capsys,
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split("|")[1].strip() == "unit_name"
    assert len({line.index("|") for line in lines[:1] + lines[2:5]}) == 1
    assert lines[-1] == "(3 rows)"


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM dim_period",
        "UPDATE dim_period SET due_date = start_date",
        "CREATE TABLE sneaky (a INTEGER)",
        "INSERT INTO load_run (batch_id, dag_id, started_at) VALUES ('x', 'y', '2025-01-01')",
    ],
)
def test_sql_refuses_writes(engine, capsys, statement):
    periods = scalar(engine, "SELECT COUNT(*) FROM dim_period")
    code, out, err = run(["sql", statement, "--warehouse", url_of(engine)], capsys)
    assert code == 2, (out, err)
    assert "refused (read-only" in err
    assert scalar(engine, "SELECT COUNT(*) FROM dim_period") == periods
    assert scalar(engine, "SELECT COUNT(*) FROM load_run") == 0


def test_sql_refuses_to_switch_back_to_read_write(engine, capsys):
    code, _, err = run(["sql", "SET TRANSACTION READ WRITE", "--warehouse", url_of(engine)], capsys)
    assert code == 2 and "SET is not allowed" in err


def test_sql_csv_output_is_formula_safe(engine, capsys):
    code, out, _ = run(
        [
            "sql",
            "SELECT '=HYPERLINK(\"http://x\")' AS a, '+1' AS b, '@SUM(A1)' AS c,"
            " 'plain' AS d, -5 AS e",
            "--csv",
            "--warehouse",
            url_of(engine),
        ],
        capsys,
    )
    assert code == 0
    assert out.splitlines() == [
        "a,b,c,d,e",
        '"\'=HYPERLINK(""http://x"")",\'+1,\'@SUM(A1),plain,-5',
    ]


def test_quarantine_list_and_release(engine, capsys):
    add_hierarchy(engine)
    record = held(TOWNS[0], "2024Q4")
    load.quarantine(engine, [record])
    code, out, _ = run(["quarantine", "list", "--warehouse", url_of(engine)], capsys)
    assert code == 0 and record.quarantine_id[:12] in out and "unit_mismatch" in out

    code, out, _ = run(
        ["quarantine", "release", record.quarantine_id[:12], "--warehouse", url_of(engine)],
        capsys,
    )
    assert code == 0 and record.quarantine_id in out
    code, out, _ = run(["quarantine", "list", "--warehouse", url_of(engine)], capsys)
    assert "(0 rows)" in out
    code, _, err = run(
        ["quarantine", "release", "deadbeefdead", "--warehouse", url_of(engine)], capsys
    )
    assert code == 1 and "no quarantined return" in err


def _publish_float_trap(engine) -> None:
    """理赔金额 (元) 0.1 + 0.2 + 1.1 under a county reporting 2.51: as binary floats
    the towns sum to 1.4000000000000001 and the difference to 1.1099999999999997."""
    from decimal import Decimal

    from wh_factories import COUNTY

    add_hierarchy(engine)
    towns = dict(zip(TOWNS, ("0.1", "0.2", "1.1"), strict=True))
    load.stage_returns(
        engine,
        "cli__exact",
        [submission(t, "2024Q4", {"13": Decimal(v)}) for t, v in towns.items()]
        + [submission(COUNTY, "2024Q4", {"13": Decimal("2.51")})],
    )
    load.publish(engine)


EXACT_QUERIES = [
    # the view's own arithmetic
    (
        "SELECT sum_children, diff FROM v_consolidated"
        " WHERE unit_code = '990101000000' AND indicator_code = '13' AND period = '2024Q4'",
        ["1.4", "1.11"],
    ),
    # an analyst's own sum over the values
    (
        "SELECT SUM(value) AS total FROM v_indicator_values"
        " WHERE parent_code = '990101000000' AND indicator_code = '13'",
        ["1.4"],
    ),
]


@pytest.mark.parametrize(("statement", "expected"), EXACT_QUERIES)
def test_sql_prints_exact_decimals_not_float_noise(engine, capsys, statement, expected):
    from decimal import Decimal

    _publish_float_trap(engine)
    code, out, err = run(["sql", statement, "--warehouse", url_of(engine)], capsys)
    assert code == 0, err
    cells = [c.strip() for c in out.splitlines()[2].split("|")]
    # PostgreSQL keeps the stated scale (1.40); SQLite has none to keep (1.4).
    assert [Decimal(c) for c in cells] == [Decimal(e) for e in expected], out
    assert all(len(c.partition(".")[2]) <= 2 for c in cells), out

    code, out, err = run(["sql", statement, "--csv", "--warehouse", url_of(engine)], capsys)
    assert code == 0, err
    row = out.splitlines()[1].split(",")
    assert [Decimal(c) for c in row] == [Decimal(e) for e in expected], out
    assert all(len(c.partition(".")[2]) <= 2 for c in row), out


def test_float_cells_print_as_the_decimal_they_stand_for():
    assert cli.exact_decimal(0.1 + 0.2) == Decimal("0.3")
    assert cli.exact_decimal(168423.36000000002) == Decimal("168423.36")
    assert cli.exact_decimal(1.1099999999999994) == Decimal("1.11")
    assert str(cli.exact_decimal(12.0)) == "12"
    assert str(cli.exact_decimal(-0.0)) == "0"
    assert str(cli.exact_decimal(1e20)) == "100000000000000000000"
