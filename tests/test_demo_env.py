"""The demo's Airflow environment makes none of the noise `make demo` and
`make ui` used to print: PyJWT's HMAC key-length warning (ten times) and the
simple auth manager's "looks like production" warning on a loopback SQLite demo."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import jwt
from huizong.demo import JWT_SECRET_BYTES, _secret, airflow_env

REPO = Path(__file__).resolve().parents[1]


def test_the_jwt_secret_is_long_enough_for_hs512(tmp_path):
    env = airflow_env(REPO, tmp_path / "airflow_home", tmp_path / "var")
    secret = env["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert len(secret.encode()) >= JWT_SECRET_BYTES
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # InsecureKeyLengthWarning would raise here
        jwt.encode({"sub": "1"}, secret, algorithm="HS512")  # Airflow's choice for a secret


def test_a_short_secret_from_an_older_demo_is_replaced(tmp_path):
    path = tmp_path / ".jwt_secret"
    path.write_text("x" * 43)  # what the demo used to write: token_urlsafe(32)
    assert len(_secret(path)) >= JWT_SECRET_BYTES
    kept = path.read_text()
    assert _secret(path) == kept  # generated once, then kept


def test_the_simple_auth_manager_does_not_take_the_demo_for_production(tmp_path):
    env = airflow_env(REPO, tmp_path / "airflow_home", tmp_path / "var")
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    probe = (
        "from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import "
        "SimpleAuthManager as M; print(M._looks_like_production())"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True,
        timeout=120, check=True,
    ).stdout
    assert out.strip().splitlines()[-1] == "False"
    # Without the setting, Airflow's default host 0.0.0.0 looks like production.
    bare = {k: v for k, v in env.items() if k != "AIRFLOW__API__HOST"}
    bare.pop("AIRFLOW__API__PORT", None)
    out = subprocess.run(
        [sys.executable, "-c", probe], env={**bare, "PATH": os.environ.get("PATH", "")},
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    assert out.strip().splitlines()[-1] == "True"
