"""Officials' pages: render times for a county with 30 towns on a demo-like warehouse.

Builds a fresh SQLite warehouse (migrate + seed + 8 quarters of returns of one
county and its 30 towns, findings, a notice deadline), then requests every page
through the ASGI app in-process and prints p50/p95 per page. Exits 1 if any
page's p95 is over the budget (300 ms).

    .venv/bin/python bench/bench_web.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from huizong.warehouse.db import get_engine, migrate
from huizong.warehouse.seed import seed_all
from huizong.web.app import WebConfig, create_app
from huizong.web.auth import Signer, make_link_token
from huizong.web.sample import SampleWarehouse, build_county

BUDGET_MS = 300.0
CITY = "621200000000"  # 陇南市
COUNTY = "621299000000"
PERIODS = [f"{y}Q{q}" for y in (2023, 2024) for q in (1, 2, 3, 4)]
PERIOD = PERIODS[-1]
SECRET = "bench-only-secret-" + "x" * 32


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="huizong-bench-web-"))
    engine = get_engine(f"sqlite:///{work / 'warehouse.db'}")
    started = time.perf_counter()
    migrate(engine)
    seed_all(engine)
    warehouse = SampleWarehouse(engine, work / "raw")
    towns = build_county(warehouse, COUNTY, "基准县", CITY, towns=30, periods=PERIODS)
    warehouse.deadline(COUNTY, PERIOD, date(2025, 1, 20))
    print(f"warehouse: 1 county + {len(towns)} towns x {len(PERIODS)} quarters, "
          f"built in {time.perf_counter() - started:.1f} s")

    app = create_app(WebConfig(lambda: engine, lambda: SECRET, lambda: work / "raw"))
    county = TestClient(app)
    county.get("/l/" + make_link_token(Signer(SECRET), "bench@county.cn", COUNTY),
               follow_redirects=False)
    q = f"period={PERIOD}"
    pages = {
        "subtree (county, 30 towns)": f"/subtree/{COUNTY}?{q}",
        "unit (county)": f"/unit/{COUNTY}?{q}",
        "unit (town)": f"/unit/{towns[1]}?{q}",
        "trend chart svg": f"/chart/trend/{COUNTY}/08.svg?{q}",
        "completeness chart svg": f"/chart/completeness/{COUNTY}.svg?{q}",
        "children.csv": f"/table/{COUNTY}/children.csv?{q}",
        "rows.parquet": f"/table/{COUNTY}/rows.parquet?{q}",
    }
    over = []
    print(f"{'page':32} {'first':>8} {'p50':>8} {'p95':>8}  (ms, {args.rounds} rounds)")
    for name, url in pages.items():
        t0 = time.perf_counter()
        first = county.get(url)
        first_ms = (time.perf_counter() - t0) * 1000
        if first.status_code != 200:
            print(f"{name}: HTTP {first.status_code}", file=sys.stderr)
            return 1
        samples = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            county.get(url)
            samples.append((time.perf_counter() - t0) * 1000)
        p50, p95 = statistics.median(samples), _percentile(samples, 0.95)
        print(f"{name:32} {first_ms:8.1f} {p50:8.1f} {p95:8.1f}")
        if p95 > BUDGET_MS:
            over.append(name)
    # Every indicator's chart of a town once (nothing cached), as a phone asks for them
    # while scrolling its unit page.
    samples = []
    for code in range(1, 25):
        t0 = time.perf_counter()
        assert county.get(f"/chart/trend/{towns[2]}/{code:02d}.svg?{q}").status_code == 200
        samples.append((time.perf_counter() - t0) * 1000)
    p50, p95 = statistics.median(samples), _percentile(samples, 0.95)
    name = "trend chart svg, uncached (x24)"
    print(f"{name:32} {samples[0]:8.1f} {p50:8.1f} {p95:8.1f}")
    if p95 > BUDGET_MS:
        over.append(name)
    if over:
        print(f"over the {BUDGET_MS:.0f} ms budget (p95): {', '.join(over)}", file=sys.stderr)
        return 1
    print(f"all pages within {BUDGET_MS:.0f} ms (p95)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
