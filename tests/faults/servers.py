"""Private PostgreSQL and Redis servers on loopback that a fault test may stop and restart.

The session's own servers (127.0.0.1:5432 and :6379) are shared with every
other test, so a fault test never touches them: it starts its own on free
ports, from the same binaries, and removes them afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stack import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _pg_tool(name: str) -> str:
    path = PG_BIN / name
    return str(path) if path.exists() else (shutil.which(name) or name)


def _as_postgres(argv: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; CI and sessions here run as root.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class PrivatePostgres:
    data_dir: Path
    port: int

    @property
    def _ctl(self) -> list[str]:
        return _as_postgres([_pg_tool("pg_ctl"), "-D", str(self.data_dir), "-w", "-t", "60"])

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir}"
        subprocess.run(
            [*self._ctl, "-o", options, "-l", str(self.data_dir / "server.log"), "start"],
            check=True,
            capture_output=True,
        )

    def restart_fast(self) -> None:
        """Stop ``-m fast`` (every connection is cut) and start again, as a restart does.

        Not ``pg_ctl restart``: it cannot take ``-l``, so the new server would
        write into (and hold open) the pipe this call reads.
        """
        subprocess.run([*self._ctl, "-m", "fast", "stop"], check=True, capture_output=True)
        self.start()

    def stop(self) -> None:
        subprocess.run([*self._ctl, "-m", "immediate", "stop"], check=False, capture_output=True)


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    # Not under pytest's tmp_path: that is private to root, and the server runs
    # as postgres.
    base = Path(tempfile.mkdtemp(prefix="huizong-fault-pg-"))
    data_dir = base / "pgdata"
    data_dir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(data_dir, "postgres")
    initdb = [_pg_tool("initdb"), "-D", str(data_dir), "-U", "postgres", "-A", "trust",
              "--no-sync", "-E", "UTF8", "--locale", "C"]  # fmt: skip
    try:
        done = subprocess.run(_as_postgres(initdb), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.strip()}")
        server = PrivatePostgres(data_dir, free_port())
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class PrivateRedis:
    work_dir: Path
    port: int
    process: subprocess.Popen | None = None

    def start(self) -> None:
        # Append-only file on, as in production's compose: the broker must persist.
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.work_dir),
                "--appendonly",
                "yes",
                "--save",
                "",
            ],
            stdout=(self.work_dir / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        import redis

        deadline = time.monotonic() + 30
        while True:
            try:
                redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM: Redis flushes its append-only file and exits, as a restart would."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@contextlib.contextmanager
def private_redis(base: Path) -> Iterator[PrivateRedis]:
    work_dir = base / "redis"
    work_dir.mkdir(parents=True)
    server = PrivateRedis(work_dir, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
