"""CSV (formula-injection safe) and Parquet downloads; raw files never outside the raw dir."""

from __future__ import annotations

import csv
import io
import os
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from huizong.web import queries
from huizong.web.app import safe_raw_path
from huizong.web.export import csv_safe, to_csv

from tests.web.conftest import HETANG, PERIOD, csrf_of


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+86 138", "'+86 138"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("两当县", "两当县"),
        (-17, -17),
        (3.5, 3.5),
        (None, None),
    ],
)
def test_csv_safe(cell, expected):
    assert csv_safe(cell) == expected


def test_csv_keeps_numbers_and_escapes_text():
    body = to_csv(["name", "diff"], [{"name": '=HYPERLINK("http://x")', "diff": -17}])
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [["name", "diff"], ['\'=HYPERLINK("http://x")', "-17"]]


def test_audit_csv_neutralizes_an_officials_formula(world, login):
    town = world.hetang_towns[1]
    client = login(town)
    warning = next(f["finding_id"] for f in queries.unit_findings(world.engine, town, "FL-01",
                                                                   PERIOD)
                   if f["severity"] == "warn")
    client.post(f"/unit/{town}/explain", data={
        "csrf_token": csrf_of(client, town), "period": PERIOD, "finding_id": warning,
        "explanation": "=cmd|' /C calc'!A0"})
    body = client.get(f"/table/{town}/audit.csv").content.decode("utf-8-sig")
    assert "'=cmd|" in body
    assert ",=cmd" not in body


def test_every_table_downloads_as_csv_and_parquet(world, login):
    client = login(HETANG)
    for table in ("children", "rows", "findings", "versions", "audit"):
        for fmt in ("csv", "parquet"):
            response = client.get(f"/table/{HETANG}/{table}.{fmt}", params={"period": PERIOD})
            assert response.status_code == 200, (table, fmt)
            assert f"{HETANG}_{table}_{PERIOD}.{fmt}" in response.headers["content-disposition"]
    rows = pq.read_table(io.BytesIO(
        client.get(f"/table/{HETANG}/rows.parquet", params={"period": PERIOD}).content))
    assert rows.num_rows == 24
    frame = rows.to_pylist()
    assert next(r for r in frame if r["行次"] == "08")["差额"] == 17
    children = pq.read_table(io.BytesIO(
        client.get(f"/table/{HETANG}/children.parquet", params={"period": PERIOD}).content))
    assert sorted(children.column("单位代码").to_pylist()) == world.hetang_towns
    assert client.get(f"/table/{HETANG}/secrets.csv").status_code == 404
    assert client.get(f"/table/{HETANG}/rows.xlsx").status_code == 404


def test_raw_file_downloads(world, login):
    town = world.hetang_towns[1]
    version = queries.unit_versions(world.engine, town, "FL-01", PERIOD)[0]
    response = login(HETANG).get(f"/raw/{version['submission_id']}")
    assert response.status_code == 200
    with world.engine.connect() as conn:
        raw_path = conn.execute(sa.text(
            "SELECT raw_path FROM return_submission WHERE submission_id = :s"),
            {"s": version["submission_id"]}).scalar_one()
    assert response.content == Path(raw_path).read_bytes()
    assert "attachment" in response.headers["content-disposition"]
    assert "return_v1.csv" in response.headers["content-disposition"]


def test_raw_paths_outside_the_raw_dir_are_never_served(world, login, tmp_path):
    town = world.hetang_towns[1]
    sid = queries.unit_versions(world.engine, town, "FL-01", PERIOD)[0]["submission_id"]
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    link = world.warehouse.raw_dir / "returns" / "evil-link.csv"
    os.symlink(outside, link)
    client = login(HETANG)
    for bad in (str(outside), "../outside.txt", "returns/../../outside.txt", str(link),
                "/etc/passwd", str(world.warehouse.raw_dir), "returns/missing.csv"):
        with world.engine.begin() as conn:
            conn.execute(sa.text(
                "UPDATE return_submission SET raw_path = :p WHERE submission_id = :s"),
                {"p": bad, "s": sid})
        response = client.get(f"/raw/{sid}")
        assert response.status_code == 404, bad
        assert "secret" not in response.text
    assert client.get("/raw/nope").status_code == 404


def test_safe_raw_path_accepts_relative_paths_inside(tmp_path):
    (tmp_path / "returns").mkdir()
    (tmp_path / "returns" / "a.csv").write_text("x")
    assert safe_raw_path(tmp_path, "returns/a.csv") == (tmp_path / "returns" / "a.csv").resolve()
    assert safe_raw_path(tmp_path, str(tmp_path / "returns" / "a.csv")) is not None
    assert safe_raw_path(tmp_path, "returns/../../x") is None


def test_csv_writes_sqlite_floats_as_the_decimals_they_stand_for(world, login):
    # SQLite keeps NUMERIC as binary floats: a value stored as 0.1 + 0.2 reads back
    # as 0.30000000000000004; the download must say 0.3, as `huizong sql` does.
    with world.engine.begin() as conn:
        changed = conn.execute(sa.text(
            "UPDATE fact_indicator_value SET value_current = 0.1 + 0.2 "
            "WHERE unit_code = :u AND period = :p AND indicator_code = '05' "
            "AND source = 'return'"), {"u": HETANG, "p": PERIOD}).rowcount
        stored = conn.execute(sa.text(
            "SELECT value_current FROM fact_indicator_value WHERE unit_code = :u "
            "AND period = :p AND indicator_code = '05' AND source = 'return'"),
            {"u": HETANG, "p": PERIOD}).scalar()
    assert changed >= 1 and stored == 0.1 + 0.2 != 0.3
    client = login(HETANG)
    body = client.get(f"/table/{HETANG}/rows.csv", params={"period": PERIOD}).content
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    row = next(r for r in rows if r["行次"] == "05")
    assert "0.3" in row.values(), row
    assert "0.30000000000000004" not in body.decode("utf-8-sig")


def test_csv_numbers_are_exact_decimals():
    body = to_csv(["a", "b", "c", "d"], [{"a": 0.1 + 0.2, "b": 168423.36000000002,
                                          "c": Decimal("12.50"), "d": -17.0}])
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[1] == ["0.3", "168423.36", "12.50", "-17"]
