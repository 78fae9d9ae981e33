"""``huizong demo``: the whole pipeline once, through Airflow, on embedded defaults.

Starts the bundled sample portal and a reference reporting API on 127.0.0.1,
writes the sample returns into the drop folder, runs the three DAGs with
``airflow dags test --use-executor`` against a SQLite metadata DB and a SQLite
warehouse in the checkout (``airflow_home/``, ``var/``), prints what landed,
and stops everything it started.

Tasks run through the LocalExecutor, as under a scheduler: each in its own
supervised process that talks to an API server the demo starts on a free
loopback port, and writes its log to ``airflow_home/logs/dag_id=…/run_id=…/``,
where ``make ui``'s API server reads it. Plain ``dags test`` runs tasks inside
its own process and writes no log file, so the UI then looked for the log on
the task's host at port 8793 and showed "Could not read served logs".

Running it again changes nothing in the warehouse: every key is content- or
interval-derived.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

DAG_ORDER = ("portal_notices", "submitted_returns", "consolidate_and_check")
UI_URL = "http://127.0.0.1:8080"
SAMPLE_PORTAL_PORT = int(os.environ.get("HUIZONG_SAMPLE_PORTAL_PORT", "18765"))
CONSOLIDATED_QUERY = (
    "SELECT unit_name, indicator_name, period, own_value, sum_children, diff, coverage "
    "FROM v_consolidated WHERE period = '2024Q4' AND level = 'county' "
    "ORDER BY unit_code, indicator_code"
)


def project_root() -> Path:
    here = Path(__file__).resolve()
    root = here.parents[2]
    if (root / "dags").is_dir():
        return root
    return Path.cwd()


# Airflow signs its JWTs with HS512 when given a secret; PyJWT warns (on every
# token) about an HMAC key shorter than the hash, 64 bytes.
JWT_SECRET_BYTES = 64


def _secret(path: Path, min_length: int = JWT_SECRET_BYTES) -> str:
    """A per-checkout secret, generated once and kept out of git (airflow_home/).

    One shorter than ``min_length`` (written by an older demo) is replaced.
    """
    if not path.exists() or len(path.read_text().strip()) < min_length:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(min_length))
        path.chmod(0o600)
    return path.read_text().strip()


def airflow_env(root: Path, airflow_home: Path, data_dir: Path) -> dict[str, str]:
    """Environment of an embedded Airflow: SQLite metadata DB, LocalExecutor, repo DAGs."""
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
            "AIRFLOW__API_AUTH__JWT_SECRET": _secret(airflow_home / ".jwt_secret"),
            # The API server listens on loopback only (`huizong ui` passes the same
            # address); said in the config too, or the simple auth manager takes
            # the default 0.0.0.0 for a production deployment and warns.
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": "8080",
            # Task logs say what each task read, wrote and skipped (INFO); the
            # demo's own console output stays short because `dags test` output
            # goes to var/demo.log.
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            # `airflow dags test` cannot run DAGs with deadline alerts (3.3.2; with
            # --use-executor too: "'dict' object has no attribute 'hex'" when it
            # reads the DAG's deadline_alert row).
            "HUIZONG_DEADLINE_ALERTS": "off",
            # Digests carry sign-in links signed with the demo's own secret in
            # var/, the one `make ui` serves the officials' pages with.
            "HUIZONG_WEB_DEMO": "1",
            "HUIZONG_WEB_BASE_URL": f"{UI_URL}/huizong",
            "HUIZONG_DATA_DIR": str(data_dir),
            # The demo's files are complete when the DAGs run; settling stays on.
            "HUIZONG_DROP_SETTLE_SECONDS": "1",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(root / "include"), str(root / "plugins"), env.get("PYTHONPATH"))
                if p
            ),
        }
    )
    return env


def _airflow_bin() -> str:
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else (shutil.which("airflow") or "airflow")


def _run(cmd: list[str], env: dict[str, str], log_file: Path, what: str) -> None:
    with log_file.open("a", encoding="utf-8") as log:
        log.write(f"\n$ {' '.join(cmd)}\n")
        log.flush()
        proc = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        tail = log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
        raise RuntimeError(
            f"{what} failed (exit {proc.returncode}); last lines of {log_file}:\n"
            + "\n".join(tail)
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def execution_api(
    env: dict[str, str], log_file: Path, *, timeout_s: float = 240
) -> Iterator[dict[str, str]]:
    """An Airflow API server on a free loopback port for the executor's tasks.

    Yields the environment that points task processes at it; stopped on exit.
    Not 8080, so a running `make ui` (or anything else there) is left alone.
    """
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server_env = {
        **env,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
    }
    with log_file.open("a", encoding="utf-8") as log:
        log.write(f"\n$ airflow api-server --host 127.0.0.1 --port {port}\n")
        log.flush()
        server = subprocess.Popen(
            [_airflow_bin(), "api-server", "--host", "127.0.0.1", "--port", str(port)],
            env=server_env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if server.poll() is not None:
                raise RuntimeError(
                    f"the demo's API server exited ({server.returncode}); see {log_file}"
                )
            try:
                # http to the loopback port chosen above, nothing else.
                health = f"{url}/api/v2/monitor/health"
                with urllib.request.urlopen(health, timeout=5):  # noqa: S310
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the demo's API server did not answer on {url} within "
                        f"{timeout_s:.0f} s; see {log_file}"
                    ) from None
                time.sleep(1)
        yield {k: server_env[k] for k in ("AIRFLOW__CORE__EXECUTION_API_SERVER_URL",)}
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextlib.contextmanager
def sample_services(
    data_dir: Path, api_items: list[dict] | None = None
) -> Iterator[dict[str, str]]:
    """The sample portal and the reference reporting API, on free loopback ports.

    ``api_items`` is served as it grows (the demo publishes items over its
    replayed history); by default every demo item from the start.
    """
    from huizong import demo_data
    from huizong.portal.sample_site import SamplePortal
    from huizong.returns.api_server import serve_in_thread

    token = secrets.token_urlsafe(24)
    served = demo_data.api_items() if api_items is None else api_items
    with _sample_portal(SamplePortal) as portal, serve_in_thread(
        served, token=token
    ) as api_url:
        yield {
            "HUIZONG_SAMPLE_PORTAL_URL": portal.url,
            "HUIZONG_REPORTING_API_URL": api_url,
            "HUIZONG_REPORTING_API_TOKEN": token,
        }


@contextlib.contextmanager
def _sample_portal(portal_class) -> Iterator:
    # Page URLs include the port and key the raw landing index, so a rerun
    # should find the portal where it was; any free port if that one is taken.
    try:
        portal = portal_class(port=SAMPLE_PORTAL_PORT)
    except OSError:
        portal = portal_class(port=0)
    with portal:
        yield portal


def run_demo(
    root: Path | None = None,
    *,
    airflow_home: Path | None = None,
    data_dir: Path | None = None,
    logical_date: datetime | None = None,
    out=sys.stdout,
) -> dict[str, int]:
    from huizong import demo_data
    from huizong.warehouse.db import get_engine

    root = root or project_root()
    airflow_home = airflow_home or root / "airflow_home"
    data_dir = data_dir or root / "var"
    airflow_home.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file = data_dir / "demo.log"
    env = airflow_env(root, airflow_home, data_dir)
    # Runs dated now, so the UI shows their true durations (a midnight logical date
    # made a two-minute run look like "1d 8h"). Reruns still change nothing: every
    # warehouse key is content- or interval-derived, and the daily and hourly
    # timetables give a run dated now the same interval all day or hour.
    logical = logical_date or datetime.now(UTC).replace(microsecond=0)
    airflow = _airflow_bin()
    started = time.monotonic()

    print(f"huizong demo: Airflow home {airflow_home}, data {data_dir}", file=out)
    _run([airflow, "db", "migrate"], env, log_file, "airflow db migrate")

    os.environ["HUIZONG_DATA_DIR"] = str(data_dir)
    from huizong.pipeline import prepare_warehouse
    from huizong.settings import get_settings

    settings = get_settings()
    engine = get_engine(settings.warehouse_url)
    prepare_warehouse(engine)
    _load_recipients(engine)
    before = summarize(engine, settings.outbox_dir)
    api_served: list[dict] = []
    with sample_services(data_dir, api_served) as service_env, execution_api(
        env, log_file
    ) as api_env:
        files = demo_data.land_history(
            engine,
            settings.drop_dir,
            settings.raw_dir,
            demo_data.build_demo_returns(),
            api_url=service_env["HUIZONG_REPORTING_API_URL"],
            api_token=service_env["HUIZONG_REPORTING_API_TOKEN"],
            api_served=api_served,
        )
        print(f"  sample returns in {settings.drop_dir}: {len(files)} files", file=out)
        env.update(service_env)
        env.update(api_env)
        print(f"  sample portal at {service_env['HUIZONG_SAMPLE_PORTAL_URL']}", file=out)
        if f":{SAMPLE_PORTAL_PORT}/" not in service_env["HUIZONG_SAMPLE_PORTAL_URL"]:
            print(
                f"    (port {SAMPLE_PORTAL_PORT} was taken: page URLs carry the port, so this "
                "run stores the sample pages again under new URLs)",
                file=out,
            )
        print(f"  reporting API at {service_env['HUIZONG_REPORTING_API_URL']}", file=out)
        for dag_id in DAG_ORDER:
            t0 = time.monotonic()
            _run(
                [airflow, "dags", "test", "--use-executor", dag_id, logical.isoformat()],
                env,
                log_file,
                f"DAG {dag_id}",
            )
            print(f"  ran {dag_id} in {time.monotonic() - t0:.0f} s", file=out)

    summary = summarize(engine, settings.outbox_dir)
    print(
        _format_summary(
            summary, before, time.monotonic() - started, data_docs=settings.docs_dir
        ),
        file=out,
    )
    print(_format_pages(engine), file=out)
    print(f"  Official's page (after `make ui`): {_official_link(engine, data_dir)}", file=out)
    return summary


def _official_link(engine, data_dir: Path) -> str:
    from huizong.web.cli import official_link_for_demo

    return official_link_for_demo(engine, f"{UI_URL}/huizong", data_dir=data_dir)


def _load_recipients(engine) -> None:
    from huizong.alerts.recipients import load_recipients

    load_recipients(engine)


def summarize(engine, outbox: Path) -> dict[str, int]:
    queries = {
        "pages_fetched": "SELECT COUNT(DISTINCT url) FROM raw_page",
        "notices": "SELECT COUNT(*) FROM notice",
        "statistics_extracted": "SELECT COUNT(*) FROM notice_statistic",
        "returns_received": "SELECT COUNT(*) FROM return_submission",
        "returns_published": (
            "SELECT COUNT(*) FROM return_submission "
            "WHERE status IN ('published', 'published_with_warnings')"
        ),
        "returns_blocked": "SELECT COUNT(*) FROM return_submission WHERE status = 'blocked'",
        "returns_quarantined": "SELECT COUNT(*) FROM quarantine WHERE status = 'held'",
        "facts": "SELECT COUNT(*) FROM fact_indicator_value",
        "findings_open": "SELECT COUNT(*) FROM finding WHERE resolved_at IS NULL",
        "findings_error": (
            "SELECT COUNT(*) FROM finding WHERE resolved_at IS NULL AND severity = 'error'"
        ),
    }
    with engine.connect() as conn:
        out = {k: int(conn.exec_driver_sql(q).scalar() or 0) for k, q in queries.items()}
    out["alerts_written"] = len(list(outbox.rglob("*.eml"))) if outbox.exists() else 0
    return out


# (label, key) per line of the summary; counts of what this run added or
# changed beside the totals in the warehouse, so a rerun reads "0 new".
_SUMMARY_LINES = (
    ("pages stored", "pages_fetched"),
    ("notices", "notices"),
    ("statistics extracted", "statistics_extracted"),
    ("returns received", "returns_received"),
    ("  published", "returns_published"),
    ("  blocked", "returns_blocked"),
    ("  quarantined", "returns_quarantined"),
    ("facts", "facts"),
    ("open findings", "findings_open"),
    ("  of them errors", "findings_error"),
    ("alerts written", "alerts_written"),
)


def _format_summary(
    s: dict[str, int],
    before: dict[str, int],
    seconds: float,
    *,
    data_docs: Path | None = None,
) -> str:
    venv_bin = Path(sys.executable).parent
    lines = [
        f"huizong demo finished in {seconds:.0f} s",
        f"  {'':<22} {'this run':>9} {'in total':>9}",
    ]
    for label, key in _SUMMARY_LINES:
        change = s[key] - before.get(key, 0)
        lines.append(f"  {label:<22} {change:>+9d} {s[key]:>9d}")
    lines.append("  (alerts are in var/outbox/; this run = change in the warehouse since it began)")
    docs_index = data_docs / "index.html" if data_docs is not None else None
    docs_line = ""
    if docs_index is not None and docs_index.exists():
        docs_line = (
            f"  Data Docs      {docs_index.resolve().as_uri()}\n"
            f"                 (offline; also {UI_URL}/huizong-docs/ in `make ui`)\n"
        )
    return "\n" + "\n".join(lines) + f"""

Look further:
  Airflow UI     make ui            (then {UI_URL}, user admin; task logs under each run)
{docs_line}  Warehouse      {venv_bin / 'huizong'} sql "{CONSOLIDATED_QUERY}"
  Findings       {venv_bin / 'huizong'} findings --open
  Quarantine     {venv_bin / 'huizong'} quarantine list
"""


def _format_pages(engine) -> str:
    """Per page: what the portal crawl yielded, so every seed page can be traced."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT n.title, n.issuer, n.doc_number, n.deadline, COUNT(s.statistic_id), "
            "COUNT(s.indicator_code) FROM notice AS n "
            "LEFT JOIN notice_statistic AS s ON s.notice_id = n.notice_id "
            "GROUP BY n.notice_id, n.title, n.issuer, n.doc_number, n.deadline "
            "ORDER BY n.published_at"
        ).fetchall()
    lines = ["Pages in the warehouse:"]
    for title, issuer, doc_number, deadline, stats, mapped in rows:
        name = (title or issuer or "(untitled)")[:28]
        extra = f"  {doc_number}, deadline {str(deadline)[:10]}" if doc_number or deadline else ""
        lines.append(f"  {stats:>4} statistics ({mapped:>2} on FL-01 rows)  {name}{extra}")
    return "\n".join(lines)


def ui(root: Path | None = None) -> int:
    """Airflow's API server, scheduler, dag-processor and triggerer on the demo's home."""
    root = root or project_root()
    env = airflow_env(root, root / "airflow_home", root / "var")
    env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = "admin:admin"
    # The officials' pages sign links with the demo's own secret in var/.
    env["HUIZONG_WEB_DEMO"] = "1"
    env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] = str(
        root / "airflow_home" / "simple_auth_manager_passwords.json"
    )
    airflow = _airflow_bin()
    procs = [
        subprocess.Popen([airflow, "api-server", "--host", "127.0.0.1", "--port", "8080"], env=env),
        subprocess.Popen([airflow, "scheduler", "--skip-serve-logs"], env=env),
        subprocess.Popen([airflow, "dag-processor"], env=env),
        subprocess.Popen([airflow, "triggerer", "--skip-serve-logs"], env=env),
    ]
    print(
        "Airflow UI on http://127.0.0.1:8080 (password in "
        f"{env['AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE']}); Ctrl-C stops it."
    )
    def _stop(signum, frame):
        raise KeyboardInterrupt

    # SIGTERM (a service manager, `timeout`) stops the components too, as Ctrl-C
    # does; otherwise they outlived `huizong ui` holding port 8080.
    signal.signal(signal.SIGTERM, _stop)
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="run the whole pipeline once through Airflow on embedded defaults",
        description=(
            "Start the sample portal and reporting API on 127.0.0.1, drop sample FL-01 "
            "returns, run the three DAGs with `airflow dags test --use-executor` (SQLite "
            "metadata and warehouse under the checkout; task logs in airflow_home/logs, "
            "readable in `huizong ui`), print a summary and stop everything. "
            "Rerunning changes nothing in the warehouse."
        ),
    )
    demo.set_defaults(func=lambda args: (run_demo(), 0)[1])
    ui_parser = subparsers.add_parser(
        "ui", help="Airflow UI, scheduler, dag-processor and triggerer on the demo's Airflow home"
    )
    ui_parser.set_defaults(func=lambda args: ui())
