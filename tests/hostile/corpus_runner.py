"""Run ``huizong returns parse --json FILE`` for many files, one child process each.

Importing the full ``huizong`` command costs seconds on a busy machine; paying
that once per file would make the corpus too slow for ``make test``. So this
driver imports ``huizong.cli`` once and forks a child per file: the child sets
its CPU-time, address-space and wall-clock limits, sends stdout/stderr to
files and runs ``huizong.cli.main(["returns", "parse", "--json", FILE])`` —
the very entry point of the ``huizong`` command — exiting with its code. An
uncaught exception prints its traceback and exits 1, as the real command would.

Usage: ``python corpus_runner.py CPU_SECONDS MEMORY_BYTES WALL_SECONDS FILE…``;
prints one JSON line per file: name, returncode, stdout, stderr, seconds.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import tempfile
import time
import traceback

WARM_MODULES = (
    "charset_normalizer",
    "lxml.etree",
    "lxml.html",
    "openpyxl.styles.numbers",
    "openpyxl.utils.cell",
    "openpyxl.utils.datetime",
    "xlrd",
)


def run_one(path: str, cpu: int, memory: int, wall: int, scratch: str) -> dict[str, object]:
    out_path = os.path.join(scratch, "stdout")
    err_path = os.path.join(scratch, "stderr")
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: limits, redirected output, the command
        code = 1
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            signal.alarm(wall)
            out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            err_fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(out_fd, 1)
            os.dup2(err_fd, 2)
            sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
            sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
            from huizong import cli

            code = int(cli.main(["returns", "parse", "--json", path]) or 0)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    seconds = time.monotonic() - started
    returncode = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    with open(out_path, encoding="utf-8", errors="replace") as fh:
        stdout = fh.read()
    with open(err_path, encoding="utf-8", errors="replace") as fh:
        stderr = fh.read()
    return {
        "name": os.path.basename(path),
        "returncode": returncode,
        "stdout": stdout,
        "stderr": stderr,
        "seconds": seconds,
    }


def main(argv: list[str]) -> int:
    cpu, memory, wall = int(argv[0]), int(argv[1]), int(argv[2])
    import importlib

    from huizong import cli

    # Import once what every child would import: the command modules and the
    # readers' libraries (imported lazily by the parser). Only imports: no parse
    # state is shared, each child still parses its file from nothing.
    cli.build_parser()
    for module in WARM_MODULES:
        importlib.import_module(module)

    with tempfile.TemporaryDirectory(prefix="corpus-run-") as scratch:
        for path in argv[3:]:
            print(json.dumps(run_one(path, cpu, memory, wall, scratch)))  # ASCII: one line each
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
