"""How long the DAG files take to parse, beside the cost of importing the Task SDK.

The DAG processor re-parses every file continuously, so a DAG file must cost
little more than ``import airflow.sdk`` itself. Prints, per file, the median
wall time of a fresh interpreter importing it, the SDK-only baseline, and the
ratio. Target: each DAG adds under 0.5 s over the baseline.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = 5
TARGET_EXTRA_SECONDS = 0.5


def _time(code: str, *args: str) -> float:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(REPO / "include"), str(REPO / "plugins")]),
        AIRFLOW_HOME=os.environ.get("AIRFLOW_HOME", "/tmp/huizong-bench-airflow"),
    )
    samples = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, *args], check=True, env=env)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> int:
    baseline = _time("import airflow.sdk")
    print(f"baseline  import airflow.sdk          {baseline:6.2f} s")
    worst = 0.0
    for path in sorted((REPO / "dags").glob("*.py")):
        t = _time("import runpy, sys; runpy.run_path(sys.argv[1])", str(path))
        extra = t - baseline
        worst = max(worst, extra)
        print(f"{path.name:<34} {t:6.2f} s   +{extra:5.2f} s   ratio {t / baseline:4.2f}×")
    verdict = "met" if worst < TARGET_EXTRA_SECONDS else "MISSED"
    print(f"target: each DAG adds < {TARGET_EXTRA_SECONDS} s over the baseline — {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
