"""Benchmark of the FL-01 parser on messy generated returns with known answers.

    PYTHONPATH=include python bench/bench_parse.py [--count 240] [--seed 2024] [--keep DIR]

Generates ``count`` workbooks combining random layout quirks (``random_layout``),
parses each, and prints: cell accuracy over all figures (24 rows x 3 columns)
plus identity, problem-flag agreement, crashes, throughput on typical .xlsx
returns (one process, one core) and peak memory. Targets: accuracy >= 0.995,
zero crashes, >= 20 .xlsx returns/s.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from huizong.returns.parse import ReturnFileError, parse_return
from huizong.returns.samples import SampleAnswer, consistent_rows, random_layout, write_return

UNITS = [
    ("621228101000", "站儿巷镇妇联"),
    ("621228100000", "城关镇妇联"),
    ("621228000000", "两当县妇联"),
    ("450224000000", "融安县妇联"),
    ("450224101000", "浮石镇妇联"),
]
PERIODS = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2024", "2024-10"]


def generate(directory: Path, count: int, seed: int) -> list[SampleAnswer]:
    rng = random.Random(seed)
    answers = []
    for i in range(count):
        layout = random_layout(rng)
        unit_code, unit_name = rng.choice(UNITS)
        period = rng.choice(PERIODS)
        rows = consistent_rows(
            rng.randrange(1 << 30),
            period=period,
            size=rng.uniform(5, 15) if unit_code.endswith("000000") else 1.0,
            null_fraction=rng.choice([0.0, 0.05, 0.2]),
        )
        path = directory / f"{i:04d}_{unit_code}.{layout.fmt}"
        unit = {"unit_code": unit_code, "unit_name": unit_name}
        answers.append(write_return(path, period=period, rows=rows, layout=layout, **unit))
    return answers


def score(answers: list[SampleAnswer]) -> dict[str, float]:
    cells = cells_right = identity = identity_right = 0
    flags = flags_right = crashes = 0
    failures: list[str] = []
    for answer in answers:
        try:
            parsed = parse_return(answer.path)
        except ReturnFileError as exc:
            crashes += 1
            failures.append(f"{answer.path.name}: refused: {exc.message}")
            continue
        except Exception as exc:  # a crash is what the benchmark counts
            crashes += 1
            failures.append(f"{answer.path.name}: CRASH {type(exc).__name__}: {exc}")
            continue
        for code, columns in answer.rows.items():
            for column, expected in columns.items():
                cells += 1
                if parsed.rows[code][column] == expected:
                    cells_right += 1
                elif len(failures) < 20:
                    failures.append(
                        f"{answer.path.name}: {code}.{column} expected {expected!r} "
                        f"got {parsed.rows[code][column]!r}"
                    )
        for field in ("unit_code", "unit_name", "period"):
            identity += 1
            if getattr(parsed, field) == getattr(answer, field):
                identity_right += 1
            elif len(failures) < 20:
                failures.append(f"{answer.path.name}: {field} {getattr(parsed, field)!r}")
        got = {(p.row, p.column) for p in parsed.problems if p.row}
        flags += 1
        flags_right += got == set(answer.problem_cells)
    for line in failures[:20]:
        print("  miss:", line)
    return {
        "returns": len(answers),
        "cells": cells,
        "cell_accuracy": cells_right / cells if cells else 0.0,
        "identity_accuracy": identity_right / identity if identity else 0.0,
        "problem_flags_exact": flags_right / flags if flags else 0.0,
        "crashes": crashes,
    }


def throughput(paths: list[Path], rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for path in paths:
            parse_return(path)
        best = min(best, time.process_time() - start)
    return len(paths) / best if best > 0 else float("inf")


def peak_memory(paths: list[Path]) -> int:
    tracemalloc.start()
    for path in paths:
        parse_return(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=240)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--keep", type=Path, help="write the workbooks here and keep them")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="huizong-bench-") as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        answers = generate(directory, args.count, args.seed)
        generated_in = time.perf_counter() - started
        by_format: dict[str, int] = {}
        for answer in answers:
            by_format[answer.layout.fmt] = by_format.get(answer.layout.fmt, 0) + 1
        print(f"generated {len(answers)} messy returns in {generated_in:.1f}s: {by_format}")
        result = score(answers)
        xlsx = [a.path for a in answers if a.layout.fmt == "xlsx"]
        rate_xlsx = throughput(xlsx)
        rate_all = throughput([a.path for a in answers], rounds=1)
        peak = peak_memory(xlsx[:50])
        avg_size = sum(p.stat().st_size for p in xlsx) / max(1, len(xlsx))
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = [
        ("cell accuracy", f"{result['cell_accuracy']:.4f} over {result['cells']} figures"
         " (target >= 0.995)"),
        ("identity accuracy", f"{result['identity_accuracy']:.4f} (unit code, name, period)"),
        ("problem flags exact", f"{result['problem_flags_exact']:.4f} of returns"),
        ("crashes", f"{result['crashes']} (target 0)"),
        ("throughput .xlsx", f"{rate_xlsx:.1f} returns/s CPU on one core, {len(xlsx)} files"
         f" of {avg_size / 1024:.1f} KiB on average (target >= 20)"),
        ("throughput all kinds", f"{rate_all:.1f} returns/s"),
        ("peak memory", f"{peak / 1024 / 1024:.1f} MiB traced while parsing 50 .xlsx;"
         f" max RSS {rss_mib:.0f} MiB"),
    ]  # fmt: skip
    for label, text in figures:
        print(f"{label + ':':<22}{text}")
    ok = result["cell_accuracy"] >= 0.995 and result["crashes"] == 0 and rate_xlsx >= 20
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
