"""Load benchmark on PostgreSQL: huizong's stage + publish against the usual ways.

Generates a province of 14 cities, 120 counties and 1,500 towns reporting all
24 FL-01 indicators quarter after quarter, 1,000,000 facts in all, and times
in one run on one server:

* huizong: ``stage_returns`` (COPY into staging) + ``publish`` (keyed upsert
  into the facts, versions, ``is_latest``), on all N rows;
* ``pandas.DataFrame.to_sql`` (default) on the same N rows, into a new plain
  table as pandas creates it and, like for like, into a table shaped like
  ``fact_indicator_value`` (same keys and indexes); with ``method="multi"``
  on a subset (it runs at under 2,000 rows/s: a million rows would take ten
  minutes);
* a bare psycopg ``COPY`` of the same fact rows into a table shaped like
  ``fact_indicator_value``, on all N rows, and the same rows copied again
  inside the server (``INSERT … SELECT``): what writing them into that table
  costs with no client at all, a floor for any load into it;
* consolidating the whole hierarchy for one year: ``load.consolidate_year``,
  which reads ``v_consolidated`` for its four quarters and ``v_annual_values``.

Throughputs are compared as rows per second; each line says its N. The bench
creates its own database and drops it afterwards.

    .venv/bin/python bench/bench_load.py [--facts 1000000] [--to-sql-rows N]
        [--to-sql-multi-rows 50000]
"""

from __future__ import annotations

import argparse
import random
import resource
import secrets
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import Numeric

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "include"))
sys.path.insert(0, str(REPO / "tests"))

from huizong import catalog  # noqa: E402
from huizong.returns.model import ReceivedReturn, StagedSubmission  # noqa: E402
from huizong.warehouse import db, load, seed  # noqa: E402
from pgutil import admin_conninfo, drop_database, server_unavailable_reason, sqlalchemy_url  # noqa: E402

FORM = "FL-01"
PROVINCE = "770000000000"
CITIES, COUNTIES, TOWNS = 14, 120, 1500
FACT_COLUMNS = (
    "unit_code",
    "form",
    "indicator_code",
    "period",
    "source",
    "source_ref",
    "version",
    "is_latest",
    "value_current",
    "value_ytd",
    "value_last_year",
    "qualifier",
    "provenance",
    "has_warnings",
    "batch_id",
)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def hierarchy() -> list[dict]:
    """1 province → 14 cities → 120 counties → 1,500 towns, spread evenly."""
    units = [(PROVINCE, "基准省", "province", None)]
    cities = [f"77{c + 1:02d}00000000" for c in range(CITIES)]
    units += [(code, f"基准市{i}", "city", PROVINCE) for i, code in enumerate(cities)]
    counties = []
    for k in range(COUNTIES):
        city = cities[k % CITIES]
        code = f"{city[:4]}{k // CITIES + 1:02d}000000"
        counties.append(code)
        units.append((code, f"基准县{k}", "county", city))
    for t in range(TOWNS):
        county = counties[t % COUNTIES]
        code = f"{county[:6]}{t // COUNTIES + 1:03d}000"
        units.append((code, f"基准镇{t}", "town", county))
    return [seed.org_unit_row(*unit) for unit in units]


def quarters(first_year: int) -> Iterator[str]:
    year = first_year
    while True:
        for q in range(1, 5):
            yield f"{year}Q{q}"
        year += 1


def submissions(units: list[str], n_facts: int, rng: random.Random) -> list[StagedSubmission]:
    codes = sorted(catalog.indicators(FORM))
    out: list[StagedSubmission] = []
    remaining = n_facts
    for period in quarters(2019):
        if remaining <= 0:
            break
        due = datetime(int(period[:4]), 1, 1, tzinfo=UTC) + timedelta(days=91 * int(period[-1]))
        for unit in units:
            if remaining <= 0:
                break
            take = codes[: min(len(codes), remaining)]
            remaining -= len(take)
            rows = {
                code: {
                    "current": None if rng.random() < 0.03 else rng.randint(0, 5000),
                    "ytd": None,
                    "last_year": rng.randint(0, 5000),
                }
                for code in take
            }
            raw = secrets.token_hex(32)
            received = ReceivedReturn(
                channel="drop",
                source_uri=f"{unit}/{FORM}/{period}/return.xlsx",
                submitted_unit_code=unit,
                form=FORM,
                period=period,
                raw_sha256=raw,
                raw_path=f"/raw/returns/drop/bench/{raw}.xlsx",
                received_at=due,
                claimed_at=due - timedelta(hours=rng.randint(1, 400)),
            )
            out.append(
                StagedSubmission(
                    received=received,
                    unit_code=unit,
                    unit_name=None,
                    form=FORM,
                    period=period,
                    rows=rows,
                )
            )
    return out


def fact_tuples(subs: list[StagedSubmission], batch_id: str) -> Iterator[tuple]:
    for s in subs:
        for code, v in s.rows.items():
            yield (
                s.unit_code,
                FORM,
                code,
                s.period,
                "return",
                s.submission_id,
                1,
                True,
                v["current"],
                v["ytd"],
                v["last_year"],
                None,
                s.received.source_uri,
                False,
                batch_id,
            )


def line(label: str, n: int, seconds: float) -> float:
    rate = n / seconds if seconds else float("inf")
    print(f"  {label:<44} N={n:>9,}  {seconds:8.2f} s  {rate:>11,.0f} rows/s")
    return rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--facts", type=int, default=1_000_000)
    # Same N as huizong's load by default: rates at different N are not
    # comparable (fixed costs, index and cache effects).
    parser.add_argument("--to-sql-rows", type=int, default=None)
    parser.add_argument("--to-sql-multi-rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=20260911)
    args = parser.parse_args(argv)

    reason = server_unavailable_reason()
    if reason:
        print(f"bench_load: {reason}", file=sys.stderr)
        return 2
    dbname = f"huizong_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_conninfo(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{dbname}"')
    url = sqlalchemy_url(dbname)
    engine = db.get_engine(url)
    try:
        return run(engine, dbname, args)
    finally:
        engine.dispose()
        drop_database(dbname)
        print(f"dropped database {dbname}")


def run(engine, dbname: str, args: argparse.Namespace) -> int:
    import pandas as pd

    rng = random.Random(args.seed)
    db.migrate(engine)
    seed.seed_indicators(engine)
    seed.seed_periods(engine)
    units = hierarchy()
    seed.load_org_units(engine, units)
    t0 = time.perf_counter()
    subs = submissions([u["unit_code"] for u in units], args.facts, rng)
    n = sum(len(s.rows) for s in subs)
    periods = sorted({s.period for s in subs})
    print(
        f"generated {n:,} facts: {len(units):,} units × {len(catalog.indicators(FORM))} "
        f"indicators × {len(periods)} quarters ({periods[0]}…{periods[-1]}), "
        f"{len(subs):,} returns, in {time.perf_counter() - t0:.1f} s"
    )
    print(f"database {dbname}, PostgreSQL via psycopg {psycopg.__version__}\n")

    print("load")
    t0 = time.perf_counter()
    staged = load.stage_returns(engine, "bench__20250101T000000", subs)
    t_stage = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = load.publish(engine)
    t_publish = time.perf_counter() - t0
    assert staged == len(subs) and result.return_facts == n, (staged, result)
    line("huizong stage_returns (COPY → staging)", n, t_stage)
    line("huizong publish (upsert → facts)", n, t_publish)
    huizong_rate = line("huizong stage + publish", n, t_stage + t_publish)
    rss_after_load = peak_rss_mb()

    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE bench_copy (LIKE fact_indicator_value INCLUDING ALL)")
    t0 = time.perf_counter()
    copy_sql = f"COPY bench_copy ({', '.join(FACT_COLUMNS)}) FROM STDIN"
    with (
        psycopg.connect(admin_conninfo(dbname)) as pg,
        pg.cursor() as cur,
        cur.copy(copy_sql) as copy,
    ):
        for row in fact_tuples(subs, "bench"):
            copy.write_row(row)
    copy_rate = line("bare psycopg COPY (same rows, same keys)", n, time.perf_counter() - t0)

    # What the database alone needs to write these rows into the keyed table,
    # with no client in the way: no load into that table can beat it.
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE bench_floor (LIKE fact_indicator_value INCLUDING ALL)")
        t0 = time.perf_counter()
        conn.exec_driver_sql(
            "INSERT INTO bench_floor SELECT * FROM bench_copy"
            " ORDER BY unit_code, form, indicator_code, period, source, source_ref"
        )
    floor_seconds = time.perf_counter() - t0
    line("server-side INSERT … SELECT (same rows, same keys)", n, floor_seconds)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bench_floor")

    m = n if args.to_sql_rows is None else min(args.to_sql_rows, n)
    frame = pd.DataFrame.from_records(
        (row for row, _ in zip(fact_tuples(subs, "bench"), range(m), strict=False)),
        columns=list(FACT_COLUMNS),
        nrows=m,
    )
    t0 = time.perf_counter()
    frame.to_sql("bench_to_sql", engine, index=False, if_exists="replace", chunksize=10_000)
    to_sql_rate = line("pandas to_sql (default), new plain table", m, time.perf_counter() - t0)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bench_to_sql")
        conn.exec_driver_sql("CREATE TABLE bench_to_sql (LIKE fact_indicator_value INCLUDING ALL)")
    t0 = time.perf_counter()
    frame.to_sql(
        "bench_to_sql",
        engine,
        index=False,
        if_exists="append",
        chunksize=10_000,
        # pandas sends an all-None column as text, which a NUMERIC column refuses.
        dtype={c: Numeric(20, 2) for c in ("value_current", "value_ytd", "value_last_year")},
    )
    to_sql_keyed_rate = line("pandas to_sql (default), same keys", m, time.perf_counter() - t0)
    m_multi = min(args.to_sql_multi_rows, m)
    frame = frame.iloc[:m_multi]
    t0 = time.perf_counter()
    frame.to_sql(
        "bench_to_sql_multi",
        engine,
        index=False,
        if_exists="replace",
        method="multi",
        chunksize=4_000,  # 15 columns × 4,000 rows stays under the 65,535 bind limit
    )
    multi_rate = line('pandas to_sql (method="multi")', m_multi, time.perf_counter() - t0)
    del frame

    print("\nconsolidation")
    year = periods[-1][:4] if periods[-1].endswith("Q4") else str(int(periods[-1][:4]) - 1)
    t0 = time.perf_counter()
    consolidated = load.consolidate_year(engine, FORM, year)
    t_cons = time.perf_counter() - t0
    print(
        f"  {'load.consolidate_year, ' + year + ', whole hierarchy':<44}"
        f" {len(consolidated['quarters']):>9,} quarter rows"
        f" + {len(consolidated['annual']):,} annual rows  {t_cons:8.2f} s"
    )

    print("\nratios (rows/s)")
    print(f"  huizong / to_sql default         {huizong_rate / to_sql_rate:6.1f}×   (target ≥ 5)")
    print(f"  huizong / to_sql, same keys      {huizong_rate / to_sql_keyed_rate:6.1f}×")
    print(f"  huizong / to_sql method=multi    {huizong_rate / multi_rate:6.1f}×   (target ≥ 5)")
    print(f"  huizong / bare COPY              {huizong_rate / copy_rate:6.2f}×   (target ≥ 0.5)")
    print(
        f"\npeak RSS: {rss_after_load:,.0f} MB after the huizong load (target < 1024), "
        f"{peak_rss_mb():,.0f} MB overall (the to_sql DataFrames included)"
    )
    print(f"consolidation: {t_cons:.2f} s (target < 10)")
    budget = n / (5 * to_sql_rate)
    print(
        f"\n5× to_sql means the whole load (staging, audit-ready keys, publish) in "
        f"{budget:.1f} s for N={n:,}; writing the same rows into the keyed fact table alone, "
        f"inside the server, takes {floor_seconds:.1f} s ({floor_seconds / budget:.0%} of it)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
