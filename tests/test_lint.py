"""The code and SQL pass the project's linters (ruff with the AIR rules, sqlfluff)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_ruff():
    proc = subprocess.run(
        [str(BIN / "ruff"), "check", "--output-format", "concise",
         "dags", "plugins", "include", "tests", "bench"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_sqlfluff():
    proc = subprocess.run(
        [str(BIN / "sqlfluff"), "lint", "sql", "--disable-progress-bar", "--nocolor"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
