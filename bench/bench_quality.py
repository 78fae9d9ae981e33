"""Quality checks over a staged batch of ~1,000,000 facts: GX vs the rules, and peak memory.

Builds a throw-away SQLite warehouse with the national division list (~42,000
units, province → town), stages one 2025Q1 FL-01 return per unit (24 rows each,
parents equal to the sum of their children), publishes 2024 history for a
sample of units, plants a few hundred errors, then times:

* loading the staged rows once (shared by both),
* ``validate_staged`` (Great Expectations, Data Docs included),
* ``check_staged`` (all rules) and ``check_completeness``.

Target: < 30 s for all checks on a 2-core machine. Each step prints wall and CPU
time. ``--db PATH --reuse`` times the checks on a warehouse an earlier run built
(the checks only read it), skipping the ~90 s setup.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import sqlite3
import tempfile
import time
from datetime import date
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from huizong import catalog
from huizong.warehouse.db import get_engine, migrate
from huizong.warehouse.seed import seed_indicators, seed_org_units, seed_periods


def _sid(*parts) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def build(db: Path, *, history_units: int, planted: int, seed: int = 7) -> int:
    engine = get_engine(f"sqlite:///{db}")
    migrate(engine)
    seed_indicators(engine)
    seed_periods(engine)
    divisions = resources.files("huizong.data").joinpath("divisions_cn.csv.gz")
    with resources.as_file(divisions) as path:
        seed_org_units(engine, path)
    units = pd.read_sql("SELECT unit_code, parent_code, level FROM dim_org_unit", engine)
    codes = list(catalog.indicators("FL-01"))
    inds = catalog.indicators("FL-01")
    rng = np.random.default_rng(seed)

    # Leaves get random values that respect the 其中 bounds; parents sum their children.
    has_children = set(units["parent_code"].dropna())
    leaves = units[~units["unit_code"].isin(has_children)]["unit_code"].to_numpy()
    values = pd.DataFrame(index=pd.Index(leaves, name="unit_code"))
    for code in codes:
        ind = inds[code]
        if ind.bound_by is None:
            values[code] = rng.integers(20, 400, len(leaves)).astype(float)
    for code in codes:
        ind = inds[code]
        if ind.bound_by is not None:
            values[code] = np.floor(values[ind.bound_by] * rng.uniform(0.3, 0.9, len(leaves)))
    for money in ("10", "13"):
        values[money] = np.round(values[money] * 100 + rng.integers(0, 100, len(leaves)) / 100, 2)
    parent_of = units.set_index("unit_code")["parent_code"]
    level_order = ["town", "county", "city", "province"]
    all_values = values
    frontier = values
    for _ in level_order[1:]:
        grouped = frontier.groupby(parent_of.reindex(frontier.index).to_numpy()).sum()
        grouped.index.name = "unit_code"
        grouped = grouped[~grouped.index.isin(all_values.index)]
        if grouped.empty:
            break
        all_values = pd.concat([all_values, grouped])
        frontier = grouped
    # a parent whose children are partly leaves and partly parents: recompute bottom-up properly
    all_values = all_values[~all_values.index.duplicated()]

    long = all_values.reset_index().melt(
        id_vars="unit_code", var_name="indicator_code", value_name="v"
    )
    long["sid"] = long["unit_code"].map({u: _sid("bench", u) for u in all_values.index})
    long["ly"] = np.round(long["v"] * rng.uniform(0.8, 1.2, len(long)), 0)
    for code in ("10", "13"):
        mask = long["indicator_code"] == code
        long.loc[mask, "ly"] = np.round(long.loc[mask, "v"] * 0.9, 2)

    bad = long.sample(planted, random_state=seed).index
    kinds = np.array(["negative", "fraction", "subtotal", "outlier"])[np.arange(planted) % 4]
    for idx, kind in zip(bad, kinds, strict=True):
        if kind == "negative":
            long.at[idx, "v"] = -5
        elif kind == "fraction" and long.at[idx, "indicator_code"] not in ("10", "13"):
            long.at[idx, "v"] = long.at[idx, "v"] + 0.5
        elif kind == "outlier":
            long.at[idx, "v"] = long.at[idx, "v"] * 50
        else:
            long.at[idx, "v"] = long.at[idx, "v"] + 10_000

    con = sqlite3.connect(db)
    subs = [
        (sid, unit, "FL-01", "2025Q1", 1, "api", f"api:{sid[:12]}", _sid("raw", sid), "/raw",
         "2025-04-05 08:00:00", "2025-04-05 08:00:00", "2025-04-05", "staged", "bench")
        for unit, sid in long.drop_duplicates("unit_code")[["unit_code", "sid"]].itertuples(
            index=False
        )
    ]  # fmt: skip
    con.executemany(
        "INSERT INTO return_submission (submission_id, unit_code, form, period, version, channel, "
        "source_uri, raw_sha256, raw_path, received_at,"
        " submitted_at, submitted_on, status, batch_id) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        subs,
    )
    con.executemany(
        "INSERT INTO stg_return_value (batch_id, submission_id, unit_code, form, period, version, "
        "indicator_code, value_current, value_ytd, value_last_year, cell_current) "
        "VALUES ('bench', ?, ?, 'FL-01', '2025Q1', 1, ?, ?, ?, ?, ?)",
        (
            (r.sid, r.unit_code, r.indicator_code, r.v, r.v, r.ly, f"D{int(r.indicator_code) + 5}")
            for r in long.itertuples(index=False)
        ),
    )
    sample = long[long["unit_code"].isin(all_values.index[:history_units])]
    facts = []
    for quarter, year in [(q, y) for y in (2023, 2024) for q in (1, 2, 3, 4)]:
        period = f"{year}Q{quarter}"
        scale = rng.uniform(0.9, 1.1, len(sample))
        for r, s in zip(sample.itertuples(index=False), scale, strict=True):
            facts.append(
                (r.unit_code, "FL-01", r.indicator_code, period, "return",
                 _sid(period, r.unit_code), 1, 1, round(abs(r.v) * s), "bench-h")
            )  # fmt: skip
    con.executemany(
        "INSERT INTO fact_indicator_value (unit_code, form, indicator_code, period, source, "
        "source_ref, version, is_latest, value_current, has_warnings, batch_id) "
        "VALUES (?,?,?,?,?,?,?,?,?,0,?)",
        facts,
    )
    con.commit()
    con.close()
    return len(long)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history-units", type=int, default=5000)
    parser.add_argument("--planted", type=int, default=400)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="--db is a warehouse an earlier run built: skip the ~90 s setup (checks only read it)",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="huizong-bench-quality-"))
    db = args.db or workdir / "warehouse.db"
    t0 = time.perf_counter()
    if args.reuse:
        if args.db is None or not db.exists():
            parser.error("--reuse needs --db pointing at an existing bench warehouse")
        print(f"setup: reusing {db}")
    else:
        staged = build(db, history_units=args.history_units, planted=args.planted)
        print(f"setup: {staged:,} staged facts in {time.perf_counter() - t0:.1f}s ({db})")

    from huizong.quality.gx_runner import validate_staged
    from huizong.quality.rules import check_completeness, check_staged, load_staged_values

    engine = get_engine(f"sqlite:///{db}")
    # Wall and CPU per step: on the shared 2-core box wall time alone swings with
    # whatever else runs; CPU time shows whether a change did less work.
    timings: dict[str, tuple[float, float]] = {}

    def timed(name, fn):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        timings[name] = (time.perf_counter() - wall, time.process_time() - cpu)
        return out

    raw = timed("load staged rows", lambda: load_staged_values(engine))
    gx = timed(
        "great expectations (incl. import, Data Docs)",
        lambda: validate_staged(engine, docs_dir=workdir / "docs", staged_raw=raw),
    )
    rules = timed("rules", lambda: check_staged(engine, staged_raw=raw))
    complete = timed("completeness", lambda: check_completeness(engine, as_of=date(2025, 4, 30)))

    print(f"{'':<46} {'wall':>7} {'cpu':>7}")
    for name, (wall, cpu) in timings.items():
        print(f"{name:<46} {wall:6.1f}s {cpu:6.1f}s")
    total_wall = sum(w for w, _ in timings.values())
    total_cpu = sum(c for _, c in timings.values())
    print(f"{'total':<46} {total_wall:6.1f}s {total_cpu:6.1f}s  (target < 30 s)")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak_mb:,.0f} MB")
    print(
        f"GX: success={gx.success} blocked={len(gx.failed_submission_ids)} "
        f"findings={len(gx.findings)}; rules: {len(rules)} findings "
        f"({sum(f.severity == 'error' for f in rules)} errors); completeness: {len(complete)}"
    )
    print(f"Data Docs: {gx.docs_index_path}")


if __name__ == "__main__":
    main()
