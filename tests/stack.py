"""Airflow's distributed path as processes on loopback: the harness.

``LoopbackStack`` creates its own PostgreSQL databases (Airflow metadata and
the warehouse), claims an empty Redis database, starts ``airflow api-server``,
``scheduler``, ``dag-processor``, ``triggerer`` and any number of ``airflow
celery worker`` processes with the CeleryExecutor, and on ``stop()`` ends
exactly the processes it started (by PID and their own process group), drops
its databases and flushes its Redis database.

Every component logs to ``<run_dir>/logs/<component>.log``; ``tails()``
returns the end of each, for failure messages.

Each worker reports its own name as the task instance ``hostname`` (see
``worker_hostname``), so a test can tell which worker ran which task even
though all of them share one machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pgutil

REPO = Path(__file__).resolve().parents[1]
TESTS_DIR = Path(__file__).resolve().parent
REDIS_HOST = os.environ.get("HUIZONG_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("HUIZONG_TEST_REDIS_PORT", "6379"))
# Databases tried in turn; the first with nothing in it is claimed.
REDIS_DB_CANDIDATES = (7, 8, 9, 10, 11, 12, 13, 14, 15)
_REDIS_CLAIM_KEY = "huizong:stack:claimed-by"
WORKER_ENV = "HUIZONG_STACK_WORKER"
# Fault detection and recovery settings, the same file production's compose reads.
FAULT_SETTINGS = REPO / "deploy" / "airflow-celery.env"


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines as docker compose's env_file reads them (no quoting, # comments)."""
    env = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def worker_hostname() -> str:
    """``[core] hostname_callable`` of the stack's workers: ``w1@<fqdn>``."""
    name = os.environ.get(WORKER_ENV)
    fqdn = socket.getfqdn()
    return f"{name}@{fqdn}" if name else fqdn


def redis_unavailable_reason() -> str | None:
    import redis

    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=5).ping()
    except redis.RedisError as exc:
        return f"Redis at {REDIS_HOST}:{REDIS_PORT} is not reachable: {exc}"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


@dataclass
class Component:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None

    def start(self, cwd: Path) -> None:
        log = self.log_path.open("ab")
        log.write(f"$ {' '.join(self.argv)}\n".encode())
        log.flush()
        # Its own session, so stop() can reach the children (Celery's pool,
        # the task supervisors, uvicorn) through the group this PID leads.
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])


@dataclass
class LoopbackStack:
    run_dir: Path
    workers: tuple[str, ...] = ("w1", "w2")
    worker_concurrency: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)
    # The servers: the session's own by default; a fault test passes private
    # ones it may stop and restart without disturbing anything else.
    pg_port: int = pgutil.PG_PORT
    redis_port: int = REDIS_PORT
    # Start a component again when it exits, as compose's `restart: always`
    # does in production (a triggerer exits when its database goes away).
    restart_exited: bool = False
    restarts: list[str] = field(default_factory=list, init=False)

    components: list[Component] = field(default_factory=list, init=False)
    metadata_db: str = field(default="", init=False)
    warehouse_db: str = field(default="", init=False)
    redis_db: int | None = field(default=None, init=False)
    api_port: int = field(default=0, init=False)
    admin_password: str = field(default="", init=False)
    env: dict[str, str] = field(default_factory=dict, init=False)
    _token: str | None = field(default=None, init=False)

    # --- lifecycle -------------------------------------------------------------

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "logs"

    @property
    def airflow_home(self) -> Path:
        return self.run_dir / "airflow_home"

    @property
    def data_dir(self) -> Path:
        return self.run_dir / "var"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def warehouse_url(self) -> str:
        return pgutil.sqlalchemy_url(self.warehouse_db, port=self.pg_port)

    def provision(self) -> None:
        """Databases, Redis DB, environment and ``airflow db migrate``; nothing runs yet."""
        import psycopg

        for path in (self.log_dir, self.airflow_home, self.data_dir):
            path.mkdir(parents=True, exist_ok=True)
        suffix = secrets.token_hex(4)
        with psycopg.connect(pgutil.admin_conninfo(port=self.pg_port), autocommit=True) as conn:
            for attr, name in (
                ("metadata_db", f"huizong_stack_{suffix}"),
                ("warehouse_db", f"huizong_stack_wh_{suffix}"),
            ):
                conn.execute(f'CREATE DATABASE "{name}"')
                setattr(self, attr, name)
        self.redis_db = self._claim_redis_db(suffix)
        self.api_port = free_port()
        self.admin_password = secrets.token_urlsafe(16)
        passwords_file = self.airflow_home / "simple_auth_manager_passwords.json"
        passwords_file.write_text(json.dumps({"admin": self.admin_password}))
        self.env = self._environment(passwords_file)
        self.run_cli("db", "migrate", timeout=600)

    def _claim_redis_db(self, owner: str) -> int:
        import redis

        for db in REDIS_DB_CANDIDATES:
            client = redis.Redis(host=REDIS_HOST, port=self.redis_port, db=db, socket_timeout=5)
            if client.dbsize() == 0 and client.set(_REDIS_CLAIM_KEY, owner, nx=True):
                return db
        raise RuntimeError(f"no empty Redis database among {REDIS_DB_CANDIDATES}")

    def _environment(self, passwords_file: Path) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "HUIZONG_"))
        }
        metadata = f"postgres@{pgutil.PG_HOST}:{self.pg_port}/{self.metadata_db}"
        env.update(read_env_file(FAULT_SETTINGS))
        env.update(
            {
                "AIRFLOW_HOME": str(self.airflow_home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{metadata}",
                "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS_HOST}:{self.redis_port}/{self.redis_db}",
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{metadata}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(48),  # 64 bytes: HS512
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
                "AIRFLOW__API__WORKERS": "1",
                # Alert log links point here, not at Airflow's localhost:8080 default.
                "AIRFLOW__API__BASE_URL": self.api_url,
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
                # Parse new DAG files within seconds, not the production minutes.
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.log_dir / "tasks"),
                "AIRFLOW_CONN_HUIZONG_WAREHOUSE": (
                    f"postgresql://postgres@{pgutil.PG_HOST}:{self.pg_port}/{self.warehouse_db}"
                ),
                "HUIZONG_DATA_DIR": str(self.data_dir),
                "PYTHONPATH": os.pathsep.join(
                    p
                    for p in (
                        str(REPO / "include"),
                        str(REPO / "plugins"),
                        str(TESTS_DIR),
                        os.environ.get("PYTHONPATH"),
                    )
                    if p
                ),
            }
        )
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        airflow = airflow_bin()
        self._spawn("api-server", [airflow, "api-server", "--host", "127.0.0.1",
                                   "--port", str(self.api_port)])
        self._spawn("scheduler", [airflow, "scheduler", "--skip-serve-logs"])
        self._spawn("dag-processor", [airflow, "dag-processor"])
        self._spawn("triggerer", [airflow, "triggerer", "--skip-serve-logs"])
        for name in self.workers:
            self.start_worker(name)

    def start_worker(self, name: str) -> Component:
        env = dict(self.env)
        env[WORKER_ENV] = name
        env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] = "stack.worker_hostname"
        return self._spawn(
            f"worker-{name}",
            [airflow_bin(), "celery", "worker", "-H", f"{name}@%h", "--skip-serve-logs",
             "--concurrency", str(self.worker_concurrency)],
            env=env,
        )

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Component:
        component = Component(name, argv, env or self.env, self.log_dir / f"{name}.log")
        component.start(self.run_dir)
        self.components.append(component)
        return component

    def component(self, name: str) -> Component:
        return next(c for c in self.components if c.name == name)

    def descendants(self) -> list:
        """Every live process below the components (pools, task supervisors, tasks).

        A task runs in a process group of its own, so killing a component's
        group does not reach it: the tree does.
        """
        import psutil

        found = []
        for c in self.components:
            if c.proc is None:
                continue
            with contextlib.suppress(psutil.Error):
                found.extend(psutil.Process(c.proc.pid).children(recursive=True))
        return found

    def stop(self, grace_seconds: float = 30) -> None:
        """Terminate what was started (reverse order), then kill what outlived the grace,
        descendants in their own process groups included."""
        import psutil

        running = [c for c in reversed(self.components) if c.proc is not None]
        below = self.descendants()
        for c in running:
            if c.alive:
                c.proc.terminate()
        deadline = time.monotonic() + grace_seconds
        for c in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                c.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            if c.alive:
                c.proc.kill()
                c.proc.wait(timeout=10)
            # Children left in the component's own process group (pool
            # processes, task supervisors) go with it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(c.proc.pid, signal.SIGKILL)
        for proc in below:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(below, timeout=10)

    def teardown(self) -> None:
        """stop(), then drop the databases and flush the Redis database."""
        try:
            self.stop()
        finally:
            for name in (self.metadata_db, self.warehouse_db):
                if name:
                    pgutil.drop_database(name, port=self.pg_port)
            if self.redis_db is not None:
                import redis

                redis.Redis(host=REDIS_HOST, port=self.redis_port, db=self.redis_db).flushdb()

    # --- readiness -------------------------------------------------------------

    def wait_until(
        self, what: str, probe: Callable[[], Any], *, timeout: float, interval: float = 2.0
    ) -> Any:
        """Poll ``probe`` until it returns something truthy; fail with logs after ``timeout``."""
        import psycopg

        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            dead = [c for c in self.components if c.proc is not None and not c.alive]
            if dead and self.restart_exited:
                for component in dead:
                    self.restarts.append(component.name)
                    component.start(self.run_dir)
            elif dead:
                names = ", ".join(c.name for c in dead)
                raise StackError(f"{names} exited while waiting for {what}", self)
            try:
                result = probe()
            # A server restarting (a fault test's doing) is a reason to ask again.
            except (OSError, urllib.error.URLError, ValueError, psycopg.OperationalError) as exc:
                last_error, result = exc, None
            if result:
                return result
            time.sleep(interval)
        raise StackError(f"timed out after {timeout:.0f} s waiting for {what} ({last_error})", self)

    def wait_ready(self, timeout: float = 180) -> None:
        self.wait_until("the API server", lambda: self.http("GET", "/api/v2/version"),
                        timeout=timeout)
        for name in self.workers:
            log = self.component(f"worker-{name}").log_path
            self.wait_until(
                f"worker {name}",
                lambda log=log, name=name: f"{name}@" in (text := log.read_text(errors="replace"))
                and " ready." in text,
                timeout=timeout,
            )

    # --- talking to it -----------------------------------------------------------

    def run_cli(self, *args: str, timeout: float = 180) -> str:
        log = self.log_dir / "cli.log"
        with log.open("a", encoding="utf-8") as out:
            out.write(f"\n$ airflow {' '.join(args)}\n")
            out.flush()
            proc = subprocess.run(
                [airflow_bin(), *args], env=self.env, cwd=self.run_dir, stdout=subprocess.PIPE,
                stderr=out, text=True, timeout=timeout, check=False,
            )
            out.write(proc.stdout)
        if proc.returncode != 0:
            raise StackError(f"`airflow {' '.join(args)}` exited {proc.returncode}", self)
        return proc.stdout

    def _access_token(self) -> str:
        if self._token is None:
            body = json.dumps({"username": "admin", "password": self.admin_password}).encode()
            request = urllib.request.Request(
                f"{self.api_url}/auth/token", data=body,
                headers={"Content-Type": "application/json"}, method="POST",
            )
            with urllib.request.urlopen(request, timeout=120) as response:
                self._token = json.load(response)["access_token"]
        return self._token

    def http(self, method: str, path: str, payload: Any = None, *, auth: bool = False) -> Any:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self._access_token()}"
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            f"{self.api_url}{path}", data=data, headers=headers, method=method
        )
        # Generous: on a loaded two-core machine the API server (one worker,
        # sharing the CPU with every other component) can take tens of seconds.
        with urllib.request.urlopen(request, timeout=120) as response:
            body = response.read()
        return json.loads(body) if body else {}

    def api(self, method: str, path: str, payload: Any = None) -> Any:
        return self.http(method, path, payload, auth=True)

    def metadata(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(pgutil.admin_conninfo(self.metadata_db, port=self.pg_port)) as conn:
            return conn.execute(sql, params).fetchall()

    def tails(self, lines: int = 40) -> str:
        parts = [f"--- {c.name} ({c.log_path}) ---\n{c.tail(lines)}" for c in self.components]
        cli = self.log_dir / "cli.log"
        if cli.exists():
            text = cli.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            parts.append(f"--- airflow CLI ({cli}) ---\n" + "\n".join(text))
        return "\n\n".join(parts)


class StackError(AssertionError):
    """A stack failure, with the tail of every component's log in the message."""

    def __init__(self, message: str, stack: LoopbackStack):
        super().__init__(f"{message}\n\n{stack.tails()}")


# --- the pipeline on the stack ---------------------------------------------------

PRODUCERS = ("portal_notices", "submitted_returns")
CONSUMER = "consolidate_and_check"
RUNS_TIMEOUT = 600
FAILED_STATES = ("failed", "up_for_retry", "upstream_failed")


def wait_for_dags(stack: LoopbackStack) -> None:
    for dag_id in (*PRODUCERS, CONSUMER):
        stack.wait_until(
            f"DAG {dag_id} to be parsed",
            lambda dag_id=dag_id: stack.api("GET", f"/api/v2/dags/{dag_id}"),
            timeout=180,
        )


def trigger_producers(stack: LoopbackStack) -> float:
    """The consumer is unpaused first so it sees every asset event the producers emit."""
    stack.api("PATCH", f"/api/v2/dags/{CONSUMER}", {"is_paused": False})
    started = time.monotonic()
    logical = datetime.now(UTC).replace(microsecond=0).isoformat()
    for dag_id in PRODUCERS:
        stack.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": logical})
        stack.run_cli("dags", "unpause", dag_id)
    return started


def failed_tasks(stack: LoopbackStack, states: tuple[str, ...] = FAILED_STATES) -> str | None:
    rows = stack.metadata(
        "SELECT dag_id, run_id, task_id, map_index, state, try_number, hostname "
        "FROM task_instance WHERE state = ANY(%s)",
        (list(states),),
    )
    if not rows:
        return None
    lines = []
    for dag_id, run_id, task_id, map_index, state, try_number, hostname in rows:
        lines.append(f"{dag_id}.{task_id}[{map_index}] {state} (try {try_number}, {hostname})")
        for log in sorted((stack.log_dir / "tasks").glob(
            f"dag_id={dag_id}/run_id={run_id}/task_id={task_id}/**/attempt=*.log"
        )):
            text = log.read_text(encoding="utf-8", errors="replace").splitlines()[-60:]
            lines.append(f"--- {log}\n" + "\n".join(text))
    return "\n".join(lines)


def runs_settled(stack: LoopbackStack, *, failing: tuple[str, ...] = FAILED_STATES) -> bool:
    """Both producers and every consumer run succeeded; a task in ``failing`` fails the wait."""
    failed = failed_tasks(stack, failing) if failing else None
    if failed:
        raise StackError(f"a task failed:\n{failed}", stack)
    runs = stack.metadata("SELECT dag_id, state, queued_at FROM dag_run")
    producers = [r for r in runs if r[0] in PRODUCERS]
    consumer = [r for r in runs if r[0] == CONSUMER]
    if {r[0] for r in producers} != set(PRODUCERS) or any(r[1] != "success" for r in producers):
        return False
    if not consumer or any(r[1] != "success" for r in consumer):
        return False
    pending = stack.metadata(
        "SELECT COUNT(*) FROM asset_dag_run_queue WHERE target_dag_id = %s", (CONSUMER,)
    )[0][0]
    last_event = stack.metadata(
        "SELECT MAX(timestamp) FROM asset_event WHERE source_dag_id = ANY(%s)", (list(PRODUCERS),)
    )[0][0]
    # The consumer's last run was queued after the producers' last asset event.
    return pending == 0 and last_event is not None and max(r[2] for r in consumer) >= last_event


def wait_for_runs(
    stack: LoopbackStack, *, failing: tuple[str, ...] = FAILED_STATES, timeout: float = RUNS_TIMEOUT
) -> None:
    stack.wait_until("every DAG run to succeed", lambda: runs_settled(stack, failing=failing),
                     timeout=timeout, interval=3)



@contextlib.contextmanager
def loopback_stack(run_dir: Path, **kwargs) -> Iterator[LoopbackStack]:
    """A provisioned, started and ready stack; torn down whatever happens."""
    stack = LoopbackStack(run_dir, **kwargs)
    try:
        stack.provision()
        stack.start()
        stack.wait_ready()
        yield stack
    finally:
        stack.teardown()
