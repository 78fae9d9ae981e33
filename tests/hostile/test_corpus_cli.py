"""Every file of the hostile corpus through ``huizong returns parse --json``.

Each file runs in its own child process under a CPU-time and address-space
limit (what a submitter's file may cost), and must end one of two ways:

* exit 0 with strict JSON on stdout (no ``NaN``/``Infinity`` tokens), in which
  no string looks like a formula or carries a control/bidi character, and every
  problem names its cell (and row/column keys), or
* exit 2 with nothing on stdout and exactly one line on stderr naming the file,
  saying why it is refused and what the submitter should do.

Never a traceback, never a hang. The corpus and its per-file expectations are in
``build_corpus.py``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_corpus import Case, build, cases
from huizong.textsafe import has_controls, looks_like_formula

REPO = Path(__file__).resolve().parents[2]
CPU_SECONDS = 30
MEMORY_BYTES = 3 * 2**29  # 1.5 GiB
WALL_SECONDS = 120
MIN_CORPUS = 80
CASES = {case.name: case for case in cases()}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def _limits() -> None:  # runs in the child, before exec
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def _run(path: Path) -> Run:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "include"), str(REPO / "plugins")])
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "huizong.cli", "returns", "parse", "--json", str(path)],
        capture_output=True,
        timeout=WALL_SECONDS,
        preexec_fn=_limits,
        env=env,
        cwd=path.parent,
    )
    return Run(
        done.returncode,
        done.stdout.decode("utf-8"),
        done.stderr.decode("utf-8"),
        time.monotonic() - started,
    )


def _forked_runs(paths: list[Path]) -> list[Run]:
    """``huizong returns parse --json`` per file, forked from one driver (corpus_runner)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "include"), str(REPO / "plugins")])
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("corpus_runner.py")), str(CPU_SECONDS),
         str(MEMORY_BYTES), str(WALL_SECONDS), *map(str, paths)],
        capture_output=True, timeout=WALL_SECONDS * 10, env=env, check=True,
    )  # fmt: skip
    runs = [json.loads(line) for line in done.stdout.decode().split("\n") if line]
    assert [r["name"] for r in runs] == [p.name for p in paths], done.stderr[-2000:]
    return [Run(r["returncode"], r["stdout"], r["stderr"], r["seconds"]) for r in runs]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Run]]:
    folder = tmp_path_factory.mktemp("hostile-corpus")
    built = build(folder, list(CASES.values()))
    paths = [folder / case.name for case in built]
    halves = [paths[0::2], paths[1::2]]  # two drivers: the machine has two cores
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(
            [p.name for half in halves for p in half],
            [run for batch in pool.map(_forked_runs, halves) for run in batch],
            strict=True,
        ))  # fmt: skip
    return {path.name: (path, results[path.name]) for path in paths}


def _strict(token: str) -> Any:
    raise AssertionError(f"non-strict JSON token {token}")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (_strings(k) + _strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= MIN_CORPUS, len(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_file(name: str, runs: dict[str, tuple[Path, Run]]) -> None:
    case: Case = CASES[name]
    path, run = runs[name]
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode in (0, 2), (run.returncode, run.stderr[-2000:])
    if run.returncode == 0:
        doc = json.loads(run.stdout, parse_constant=_strict)
        for text in _strings(doc):
            assert not looks_like_formula(text), text
            assert not has_controls(text), ascii(text)
        for problem in doc["problems"]:
            assert set(problem) == {"row", "column", "cell", "value", "message"}, problem
            assert problem["cell"] and problem["column"] and problem["message"], problem
            if problem["column"] in ("current", "ytd", "last_year"):
                assert problem["row"] in doc["problem_rows"], problem
        assert case.expect != "refused", f"{name} was read, but must be refused: {case.why}"
        if case.check:
            case.check(doc)
    else:
        lines = run.stderr.splitlines()
        assert len(lines) == 1, run.stderr
        line = lines[0]
        assert line.startswith(f"huizong returns parse: {path}: "), line
        reason = line.removeprefix(f"huizong returns parse: {path}: ")
        assert " / " in reason and ":" in reason.split(" / ", 1)[1], line  # why: what to do
        assert not has_controls(line), ascii(line)
        assert run.stdout == ""
        assert case.expect != "ok", f"{name} was refused, but must be read: {line}"
        if case.refusal:
            assert case.refusal in line, line
    assert run.seconds < WALL_SECONDS


EXEC_SAMPLES = [
    "xlsx_number_nan.xlsx",
    "oa_export_gbk.xls",
    "csv_formula_text_unit_name_dde_cmd.csv",
    "zip_bomb.xlsx",
]


@pytest.mark.parametrize("name", EXEC_SAMPLES)
def test_the_installed_command_path_agrees(name: str, runs: dict[str, tuple[Path, Run]]) -> None:
    """A few files through a fresh ``python -m huizong.cli`` process, as a user runs it."""
    path, forked = runs[name]
    fresh = _run(path)
    assert (fresh.returncode, fresh.stdout, fresh.stderr) == (
        forked.returncode,
        forked.stdout,
        forked.stderr,
    )
