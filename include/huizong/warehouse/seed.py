"""Reference data into the warehouse: indicators, periods, org units.

All loads are keyed upserts, so seeding twice changes nothing.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from huizong import catalog
from huizong.warehouse.db import is_postgres

LEVELS = ("province", "city", "county", "town", "village")
DEFAULT_DUE_DAYS = 10
_VALID_FROM = date(2000, 1, 1)


class OrgUnitFileError(ValueError):
    """A division-code list that cannot be loaded; the message names file and row."""


def federation_name(name: str, level: str) -> str:
    """``两当县`` → ``两当县妇联``: the federation that reports for a territory."""
    return name if name.endswith("妇联") else f"{name}妇联"


def org_unit_row(code: str, name: str, level: str, parent_code: str | None) -> dict:
    """A ``dim_org_unit`` row for a unit valid since the start of the division lists."""
    return {
        "unit_code": code,
        "valid_from": _VALID_FROM,
        "valid_to": None,
        "name": name,
        "federation_name": federation_name(name, level),
        "level": level,
        "parent_code": parent_code,
    }


def _period_rows(first_year: int, last_year: int) -> Iterator[dict]:
    for year in range(first_year, last_year + 1):
        start, end = date(year, 1, 1), date(year, 12, 31)
        yield _period(str(year), "year", year, None, None, start, end)
        for q in range(1, 5):
            q_start = date(year, 3 * q - 2, 1)
            q_end = (date(year + (q == 4), (3 * q) % 12 + 1, 1)) - timedelta(days=1)
            yield _period(f"{year}Q{q}", "quarter", year, q, None, q_start, q_end)
        for m in range(1, 13):
            m_start = date(year, m, 1)
            m_end = date(year + (m == 12), m % 12 + 1, 1) - timedelta(days=1)
            yield _period(f"{year}-{m:02d}", "month", year, (m - 1) // 3 + 1, m, m_start, m_end)


def _period(period, kind, year, quarter, month, start, end) -> dict:
    return {
        "period": period,
        "kind": kind,
        "year": year,
        "quarter": quarter,
        "month": month,
        "start_date": start,
        "end_date": end,
        "due_date": end + timedelta(days=DEFAULT_DUE_DAYS),
    }


def upsert(conn, table: str, rows: list[dict], key: Iterable[str]) -> int:
    """Portable keyed upsert (``ON CONFLICT … DO UPDATE``: SQLite ≥ 3.24 and PostgreSQL)."""
    if not rows:
        return 0
    key = list(key)
    cols = list(rows[0])
    updates = [c for c in cols if c not in key]
    action = (
        "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in updates)
        if updates
        else "DO NOTHING"
    )
    stmt = sa.text(
        f"INSERT INTO {table} ({', '.join(cols)}) "
        f"VALUES ({', '.join(':' + c for c in cols)}) "
        f"ON CONFLICT ({', '.join(key)}) {action}"
    )
    conn.execute(stmt, rows)
    return len(rows)


def seed_indicators(engine: Engine) -> int:
    rows: list[dict] = []
    for form in sorted(catalog.known_forms()):
        for ind in catalog.indicators(form).values():
            rows.append(
                {
                    "form": form,
                    "indicator_code": ind.code,
                    "name": ind.name,
                    "unit": ind.unit,
                    "temporal": ind.temporal,
                    "additive": ind.additive,
                    "bound_by": ind.bound_by,
                    "bound_severity": ind.bound_severity,
                    "numerator": None,
                    "denominator": None,
                    "scale": None,
                }
            )
        for d in catalog.derived_indicators(form).values():
            rows.append(
                {
                    "form": form,
                    "indicator_code": d.code,
                    "name": d.name,
                    "unit": d.unit,
                    "temporal": "derived",
                    "additive": False,
                    "bound_by": None,
                    "bound_severity": None,
                    "numerator": d.numerator,
                    "denominator": d.denominator,
                    "scale": d.scale,
                }
            )
    with engine.begin() as conn:
        return upsert(conn, "dim_indicator", rows, ["form", "indicator_code"])


def seed_periods(engine: Engine, first_year: int = 2015, last_year: int = 2030) -> int:
    rows = list(_period_rows(first_year, last_year))
    with engine.begin() as conn:
        return upsert(conn, "dim_period", rows, ["period"])


def read_org_units(source: Path | str | None = None) -> list[dict]:
    """Read a division-code list: CSV (optionally gzipped) with code,name,level,parent_code."""
    if source is None:
        raw = resources.files("huizong.data").joinpath("org_units_seed.csv").read_bytes()
        name = "org_units_seed.csv"
    else:
        path = Path(source)
        name = str(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise OrgUnitFileError(f"{name}: cannot read ({exc.strerror})") from exc
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    missing = {"code", "name", "level", "parent_code"} - set(reader.fieldnames or [])
    if missing:
        raise OrgUnitFileError(
            f"{name}: missing column(s) {', '.join(sorted(missing))}; "
            "expected a header code,name,level,parent_code"
        )
    rows = []
    for line_no, row in enumerate(reader, start=2):
        code, level = row["code"].strip(), row["level"].strip()
        parent = (row["parent_code"] or "").strip() or None
        if not (len(code) == 12 and code.isdigit()):
            raise OrgUnitFileError(f"{name}:{line_no}: code {code!r} is not 12 digits")
        if parent is not None and not (len(parent) == 12 and parent.isdigit()):
            raise OrgUnitFileError(f"{name}:{line_no}: parent_code {parent!r} is not 12 digits")
        if level not in LEVELS:
            raise OrgUnitFileError(
                f"{name}:{line_no}: level {level!r} is not one of {', '.join(LEVELS)}"
            )
        rows.append(org_unit_row(code, row["name"].strip(), level, parent))
    return rows


def seed_org_units(engine: Engine, source: Path | str | None = None) -> int:
    return load_org_units(engine, read_org_units(source))


def load_org_units(engine: Engine, rows: list[dict]) -> int:
    """Upsert ``dim_org_unit`` rows; returns how many were given."""
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            upsert(conn, "dim_org_unit", rows[start : start + 5000], ["unit_code", "valid_from"])
        if rows and is_postgres(engine):
            # Every consolidation query joins the hierarchy; planned on the
            # statistics of an empty or much smaller table, its joins come out
            # as nested loops over the facts.
            conn.exec_driver_sql("ANALYZE dim_org_unit")
    return len(rows)


def seed_all(engine: Engine) -> dict[str, int]:
    return {
        "indicators": seed_indicators(engine),
        "periods": seed_periods(engine),
        "org_units": seed_org_units(engine),
    }
