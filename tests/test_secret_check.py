"""Placeholder and weak secrets are refused wherever huizong reads one."""

from __future__ import annotations

import secrets

import pytest
from cryptography.fernet import Fernet
from huizong import secret_check
from huizong.secret_check import FERNET, ISSUED, PASSWORD, SIGNING_KEY, WeakSecret, check_secret

from tests.test_compose import env_example


@pytest.mark.parametrize(
    "value",
    [
        *(v for k, v in env_example().items() if "PASSWORD" in k or "SECRET" in k),
        "CHANGE_ME",
        "change-me-please-change-me-please-0123",
        "changeme",
        "secret",
        "password",
        "Password",
        "admin",
        "<your secret here, at least 32 characters long>",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ],
)
def test_placeholders_are_refused(value):
    assert secret_check.problem(value, SIGNING_KEY) == "is still a placeholder"


@pytest.mark.parametrize(
    ("value", "kind", "why"),
    [
        ("", SIGNING_KEY, "is not set"),
        (None, PASSWORD, "is not set"),
        ("Zq8-rT4_mW2", SIGNING_KEY, "is too short (11 characters; at least 32)"),
        ("Zq8-rT4_mW2", PASSWORD, "is too short (11 characters; at least 16)"),
        ("abc1", ISSUED, "is too short (4 characters; at least 8)"),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", SIGNING_KEY, "has too little variety"),
        ("0101010101010101", PASSWORD, "has too little variety"),
        ("abcdefghijk1abcdefghijk1abcdefghijk1", SIGNING_KEY, "is one short pattern repeated"),
        (secrets.token_urlsafe(33), FERNET, "is not a Fernet key"),
    ],
)
def test_weak_secrets_are_refused(value, kind, why):
    assert (secret_check.problem(value, kind) or "").startswith(why)


def test_generated_secrets_pass():
    assert secret_check.problem(secrets.token_urlsafe(48), SIGNING_KEY) is None
    assert secret_check.problem(secrets.token_urlsafe(32), PASSWORD) is None
    assert secret_check.problem(Fernet.generate_key().decode(), FERNET) is None


def test_message_names_the_variable_and_how_to_generate():
    with pytest.raises(WeakSecret) as caught:
        check_secret("HUIZONG_WEB_SECRET", "CHANGE_ME-officials-link-secret-of-at-least-32-chars")
    message = str(caught.value)
    assert message.startswith("HUIZONG_WEB_SECRET is still a placeholder")
    assert 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"' in message


# --- where the app reads secrets -----------------------------------------------------


def test_the_example_web_secret_signs_no_working_link(monkeypatch, tmp_path):
    """The attack: the .env.example value, used as the secret, signed working links."""
    from fastapi.testclient import TestClient
    from huizong.warehouse.db import get_engine, migrate
    from huizong.web import auth
    from huizong.web.app import WebConfig, create_app

    placeholder = env_example()["HUIZONG_WEB_SECRET"]
    monkeypatch.setenv(auth.SECRET_ENV, placeholder)
    monkeypatch.delenv(auth.DEMO_ENV, raising=False)
    with pytest.raises(auth.SecretMissing, match="HUIZONG_WEB_SECRET is still a placeholder"):
        auth.resolve_secret(data_dir=tmp_path)
    engine = get_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    app = create_app(WebConfig(lambda: engine, auth.resolve_secret, lambda: tmp_path / "raw"))
    token = auth.make_link_token(auth.Signer(placeholder), "a@b.cn", "430202000000")
    response = TestClient(app).get(f"/l/{token}", follow_redirects=False)
    assert response.status_code == 503
    assert auth.SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_web_command_refuses_to_start_on_a_placeholder(monkeypatch, capsys, tmp_path):
    from huizong.cli import main
    from huizong.web import auth

    monkeypatch.setenv(auth.SECRET_ENV, "changeme")
    monkeypatch.setenv("HUIZONG_DATA_DIR", str(tmp_path))
    assert main(["web", "--port", "9"]) == 2
    assert "HUIZONG_WEB_SECRET is still a placeholder" in capsys.readouterr().err


def test_smtp_url_with_a_placeholder_password_is_refused():
    from huizong.alerts.transport import smtp_from_url

    with pytest.raises(WeakSecret, match="the password in HUIZONG_SMTP_URL is still a placeholder"):
        smtp_from_url("smtp://relay:CHANGE_ME@mail.example.gov.cn:587")
    assert smtp_from_url("smtp://mailpit:1025").password is None


def test_warehouse_url_with_a_placeholder_password_is_refused():
    from huizong.warehouse.db import get_engine

    with pytest.raises(WeakSecret, match="the password in the warehouse URL"):
        get_engine("postgresql://huizong:CHANGE_ME-warehouse-password@db:5432/warehouse")


def test_reporting_api_token_placeholder_is_refused(monkeypatch):
    from huizong_airflow import runtime

    monkeypatch.setattr(runtime, "_connection", lambda _conn_id: None)
    monkeypatch.setenv("HUIZONG_REPORTING_API_URL", "https://reporting.example.gov.cn")
    monkeypatch.setenv("HUIZONG_REPORTING_API_TOKEN", "CHANGE_ME-token")
    with pytest.raises(WeakSecret, match="HUIZONG_REPORTING_API_TOKEN is still a placeholder"):
        runtime.reporting_api()
    good = secrets.token_urlsafe(24)
    monkeypatch.setenv("HUIZONG_REPORTING_API_TOKEN", good)
    assert runtime.reporting_api() == ("https://reporting.example.gov.cn", good)
