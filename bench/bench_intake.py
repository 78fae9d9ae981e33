"""Intake benchmark: a 10,000-unit batch of returns through the DAG's own drop-folder step.

    .venv/bin/python bench/bench_intake.py [--count 10000] [--seed 2024] [--csv-share 0.2]
                                           [--cache-dir /tmp/huizong-bench-intake] [--no-postgres]

Generates ``count`` typical FL-01 returns for 2024Q4 (.xlsx, with a share of
.csv), one per town drawn from the national division list, laid out as a drop
folder ``<root>/<unit>/FL-01/2024Q4/<file>``. Generating takes minutes, so the
folder is cached under ``--cache-dir`` keyed by seed, count and csv share, and
reused by later runs.

Each backend runs in a child process of its own, so one run's high-water mark
does not leak into the next one's RSS: a fresh SQLite warehouse (and, when the
server at 127.0.0.1:5432 answers, a throwaway ``huizong_bench_<random>``
database, dropped afterwards) is migrated and seeded with
``pipeline.prepare_warehouse`` plus the national org-unit list, then
``pipeline.receive_drop_folder`` runs once over the whole folder while a
thread samples VmRSS every 0.2 s. Progress is the number of returns triaged
(``intake.triage`` is wrapped to count calls; the step itself is unchanged).

Printed: returns/s through intake, RSS at start, after the scan, at 25/50/75/100 %
of the returns triaged and when the step returned, peak RSS, and whether memory
is flat: the peak of the last quarter (which includes staging) is less than
10 % above the peak of the first quarter. Targets (issue 5): memory flat; the
parse rate itself is bench/bench_parse.py's (>= 20 .xlsx returns/s).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "include"))
sys.path.insert(0, str(REPO / "tests"))

DIVISIONS = REPO / "include" / "huizong" / "data" / "divisions_cn.csv.gz"
FORM = "FL-01"
PERIOD = "2024Q4"
SAMPLE_EVERY = 0.2  # seconds between RSS samples
FLAT_LIMIT = 0.10  # growth first -> last quarter that still counts as flat


# --------------------------------------------------------------------------- the batch


def pick_units(count: int, seed: int) -> list[tuple[str, str]]:
    from huizong.warehouse.seed import read_org_units

    towns = [u for u in read_org_units(DIVISIONS) if u["level"] == "town"]
    if count > len(towns):
        raise SystemExit(f"only {len(towns)} towns in {DIVISIONS.name}, asked for {count}")
    chosen = random.Random(seed).sample(towns, count)
    return sorted((u["unit_code"], u["name"]) for u in chosen)


def _write_some(job: tuple[Path, int, float, list[tuple[int, str, str]]]) -> dict[str, int]:
    from huizong.returns.samples import LayoutOptions, consistent_rows, write_return

    root, seed, csv_share, items = job
    made: dict[str, int] = {}
    for index, unit_code, unit_name in items:
        # Per-return generator: the same seed gives the same file whatever the split.
        rng = random.Random(seed * 1_000_003 + index)
        fmt = "csv" if rng.random() < csv_share else "xlsx"
        folder = root / unit_code / FORM / PERIOD
        folder.mkdir(parents=True, exist_ok=True)
        write_return(
            folder / f"{unit_code}_{FORM}_{PERIOD}.{fmt}",
            unit_code=unit_code,
            unit_name=f"{unit_name}妇联",
            period=PERIOD,
            rows=consistent_rows(rng.randrange(1 << 30), period=PERIOD),
            layout=LayoutOptions(fmt=fmt, seed=index),
        )
        made[fmt] = made.get(fmt, 0) + 1
    return made


def ensure_batch(args: argparse.Namespace) -> Path:
    """The cached drop folder for these arguments, generated when missing."""
    key = f"seed{args.seed}-n{args.count}-csv{args.csv_share:g}"
    cache = args.cache_dir / key
    root = cache / "drop"
    marker = cache / "COMPLETE.json"  # outside the drop root, so the scan never sees it
    if marker.is_file():
        made = json.loads(marker.read_text())
        print(f"batch: reusing {root} {made}")
        return root
    units = pick_units(args.count, args.seed)
    root.mkdir(parents=True, exist_ok=True)
    items = [(i, code, name) for i, (code, name) in enumerate(units)]
    jobs = [
        (root, args.seed, args.csv_share, items[i : i + 250]) for i in range(0, len(items), 250)
    ]
    started = time.perf_counter()
    made: dict[str, int] = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for part in pool.map(_write_some, jobs):
            for fmt, n in part.items():
                made[fmt] = made.get(fmt, 0) + n
    marker.write_text(json.dumps(made))
    print(f"batch: generated {sum(made.values())} returns {made} into {root}"
          f" in {time.perf_counter() - started:.0f}s")  # fmt: skip
    return root


# --------------------------------------------------------------------------- memory


def rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class RssSampler(threading.Thread):
    """VmRSS every ``SAMPLE_EVERY`` seconds, tagged with the progress at that moment."""

    def __init__(self, progress: list[int]) -> None:
        super().__init__(daemon=True)
        self.progress = progress
        self.samples: list[tuple[float, int, int]] = []  # (time, triaged so far, rss)
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append((time.perf_counter(), self.progress[0], rss_bytes()))
            self._halt.wait(SAMPLE_EVERY)

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.samples.append((time.perf_counter(), self.progress[0], rss_bytes()))


def mib(n: float) -> str:
    return f"{n / 1024 / 1024:.0f} MiB"


# --------------------------------------------------------------------------- one run


def run_backend(backend: str, root: Path, count: int) -> int:
    """Migrate, seed, run the step once over ``root``; print the figures. In a child process."""
    from huizong.warehouse import db

    with tempfile.TemporaryDirectory(prefix="huizong-bench-intake-") as tmp:
        work = Path(tmp)
        dbname = None
        if backend == "sqlite":
            url = f"sqlite:///{work / 'warehouse.db'}"
        else:
            import psycopg
            from pgutil import admin_conninfo, sqlalchemy_url

            dbname = f"huizong_bench_{secrets.token_hex(4)}"
            with psycopg.connect(admin_conninfo(), autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{dbname}"')
            url = sqlalchemy_url(dbname)
        engine = db.get_engine(url)
        try:
            return _measure(backend, engine, root, count, work)
        finally:
            engine.dispose()
            if dbname is not None:
                from pgutil import drop_database

                drop_database(dbname)
                print(f"[{backend}] dropped database {dbname}")


def _measure(backend: str, engine: Any, root: Path, count: int, work: Path) -> int:
    import sqlalchemy as sa
    from huizong import pipeline
    from huizong.returns import intake
    from huizong.settings import Settings
    from huizong.warehouse import seed

    # The generated folder is complete: no file is waited for, however fresh.
    os.environ["HUIZONG_DROP_SETTLE_SECONDS"] = "0"
    started = time.perf_counter()
    pipeline.prepare_warehouse(engine)
    units = seed.seed_org_units(engine, DIVISIONS)
    print(f"[{backend}] warehouse ready: {units} org units seeded"
          f" in {time.perf_counter() - started:.1f}s")  # fmt: skip
    settings = Settings(
        data_dir=work,
        warehouse_url=str(engine.url),
        raw_dir=work / "raw",
        drop_dir=root,
        outbox_dir=work / "outbox",
        docs_dir=work / "docs",
        portals_file=None,
    )

    # Progress without touching the step: count triage calls as they happen.
    progress = [0]
    real_triage = intake.triage

    def counting_triage(*a, **kw):
        outcome = real_triage(*a, **kw)
        progress[0] += 1
        return outcome

    intake.triage = counting_triage
    sampler = RssSampler(progress)
    rss_start = rss_bytes()
    sampler.start()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        summary = pipeline.receive_drop_folder(
            engine, root, batch_id="bench_intake__2024Q4", partition="2024-12-31", settings=settings
        )
    finally:
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        sampler.stop()
        intake.triage = real_triage
    rss_end = rss_bytes()

    with engine.connect() as conn:
        staged_values = conn.execute(
            sa.text("SELECT COUNT(*) FROM stg_return_value WHERE batch_id = :b"),
            {"b": "bench_intake__2024Q4__drop"},
        ).scalar_one()

    samples = sampler.samples
    peak = max(r for _, _, r in samples)

    def rss_at(share: float) -> int:
        # The first sample at or past the share of returns triaged.
        goal = count * share
        return next((r for _, p, r in samples if p >= goal), samples[-1][2])

    def quarter_peak(low: float, high: float, *, to_end: bool = False) -> int:
        inside = [
            r
            for _, p, r in samples
            if count * low <= p < count * high or (to_end and p >= count * low)
        ]
        return max(inside) if inside else 0

    scan_done = next((r for _, p, r in samples if p >= 1), rss_start)
    first = quarter_peak(0.0, 0.25)
    # The last quarter runs to the end of the step: staging happens after triage.
    last = quarter_peak(0.75, 1.0, to_end=True)
    growth = (last - first) / first if first else float("inf")
    flat = growth < FLAT_LIMIT
    print(f"[{backend}] summary: received {summary.received}, staged {summary.staged},"
          f" quarantined {summary.quarantined}; {staged_values} staged values")  # fmt: skip
    figures = [
        ("throughput", f"{count / wall:.1f} returns/s through intake wall-clock,"
                       f" {count / cpu:.1f} per CPU-second ({count} in {wall:.1f}s wall,"
                       f" {cpu:.1f}s CPU)"),
        ("RSS at start", mib(rss_start)),
        ("RSS at triage", f"{mib(scan_done)} (first return triaged; the scan before it)"),
        *[(f"RSS at {int(s * 100)} %", mib(rss_at(s))) for s in (0.25, 0.5, 0.75, 1.0)],
        ("RSS at return", mib(rss_end)),
        ("peak RSS", f"{mib(peak)} ({len(samples)} samples every {SAMPLE_EVERY}s)"),
        ("memory flat", f"{'yes' if flat else 'NO'}: peak of last quarter {mib(last)} vs first"
                        f" {mib(first)}, {growth * 100:+.1f} % (limit < {FLAT_LIMIT * 100:.0f} %)"),
    ]  # fmt: skip
    for label, text in figures:
        print(f"[{backend}] {label + ':':<16}{text}")
    ok = flat and summary.staged == count and staged_values == count * 24
    return 0 if ok else 1


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--csv-share", type=float, default=0.2)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/huizong-bench-intake"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="generating only")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.backend:  # the child process: one measured run
        return run_backend(args.backend, args.root, args.count)

    root = ensure_batch(args)
    backends = ["sqlite"]
    if not args.no_postgres:
        from pgutil import server_unavailable_reason

        reason = server_unavailable_reason()
        if reason:
            print(f"postgres: skipped, {reason}")
        else:
            backends.append("postgres")
    status = 0
    for backend in backends:
        child = [sys.executable, __file__, "--backend", backend, "--root", str(root),
                 "--count", str(args.count)]  # fmt: skip
        status |= subprocess.run(child, check=False).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
