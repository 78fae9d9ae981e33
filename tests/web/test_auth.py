"""Sign-in by signed, expiring, revocable link; sessions; the secret."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from huizong.web import auth
from huizong.web.auth import SESSION_COOKIE, Signer, make_link_token

from tests.web.conftest import HETANG, SECRET, csrf_of, link_path


def test_link_signs_in_and_scopes_session_to_unit(app):
    client = TestClient(app)
    response = client.get(link_path("Li.Hua@hetang.cn", HETANG), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/subtree/{HETANG}"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "_token=" not in cookie.split(";")[0]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    page = client.get(f"/subtree/{HETANG}")
    assert page.status_code == 200
    assert "li.hua@hetang.cn" in page.text
    assert "荷塘区" in page.text


def test_every_page_needs_a_session(app, world):
    client = TestClient(app)
    for url in ("/", f"/subtree/{HETANG}", f"/unit/{HETANG}",
                f"/chart/trend/{HETANG}/01.svg", f"/table/{HETANG}/rows.csv"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 401, url
        assert "请先登录" in response.text


def test_tampered_link_is_refused(app):
    token = link_path("a@b.cn", HETANG).removeprefix("/l/")
    body, mac = token.split(".")
    other = link_path("a@b.cn", "430203000000").removeprefix("/l/")
    forged = f"{other.split('.')[0]}.{mac}"  # someone else's unit under this signature
    for bad in (forged, body + ".AAAA", body, "garbage"):
        response = TestClient(app).get(f"/l/{bad}", follow_redirects=False)
        assert response.status_code == 401, bad
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_expired_link_is_refused(app):
    old = time.time() - 20 * 86400
    token = make_link_token(Signer(SECRET), "a@b.cn", HETANG, timedelta(days=14), now=old)
    response = TestClient(app).get(f"/l/{token}", follow_redirects=False)
    assert response.status_code == 401
    assert "过期" in response.text


def test_link_signed_with_another_secret_is_refused(app):
    token = make_link_token(Signer("another-secret-" + "x" * 32), "a@b.cn", HETANG)
    assert TestClient(app).get(f"/l/{token}", follow_redirects=False).status_code == 401


def test_link_cannot_stand_in_for_a_session_cookie(app):
    token = link_path("a@b.cn", HETANG).removeprefix("/l/")
    client = TestClient(app, cookies={SESSION_COOKIE: token})
    assert client.get(f"/subtree/{HETANG}").status_code == 401


def test_session_expires_with_the_link(app):
    signer = Signer(SECRET)
    token = make_link_token(signer, "a@b.cn", HETANG, timedelta(seconds=60))
    session = auth.session_from_link(signer, token)
    assert session.expires_at <= time.time() + 61
    with pytest.raises(auth.LinkInvalid):
        auth.session_from_cookie(signer, auth.session_cookie(signer, session),
                                 now=time.time() + 120)


def _sign_out(client: TestClient) -> None:
    csrf = csrf_of(client, HETANG)
    response = client.post("/signout", data={"csrf_token": csrf})
    assert response.status_code == 200 and "已退出" in response.text


def test_a_copied_cookie_stops_working_after_sign_out(app, login):
    official = login(HETANG)
    stolen = official.cookies[SESSION_COOKIE]
    thief = TestClient(app, cookies={SESSION_COOKIE: stolen})
    assert thief.get(f"/subtree/{HETANG}").status_code == 200
    _sign_out(official)
    for client in (thief, TestClient(app, cookies={SESSION_COOKIE: stolen})):
        response = client.get(f"/subtree/{HETANG}")
        assert response.status_code == 401 and "登录已失效" in response.text
        assert client.get(f"/table/{HETANG}/rows.csv").status_code == 401
    # The form token of the ended session is no use either.
    replay = thief.post(f"/unit/{HETANG}/approve", data={"csrf_token": "x"})
    assert replay.status_code == 401


def test_sign_out_ends_only_that_session(app, login):
    laptop, phone = login(HETANG, "li@hetang.cn"), login(HETANG, "li@hetang.cn")
    _sign_out(laptop)
    assert laptop.get(f"/subtree/{HETANG}").status_code == 401
    assert phone.get(f"/subtree/{HETANG}").status_code == 200


def test_a_validly_signed_cookie_without_a_server_session_is_refused(app):
    # What a cookie minted before sign-out was recorded server-side, or forged by
    # someone holding the secret without the warehouse, looks like.
    signer = Signer(SECRET)
    session = auth.session_from_link(signer, link_path("a@b.cn", HETANG).removeprefix("/l/"))
    client = TestClient(app, cookies={SESSION_COOKIE: auth.session_cookie(signer, session)})
    assert client.get(f"/subtree/{HETANG}").status_code == 401


def test_cookie_is_secure_when_the_setting_forces_it(world, monkeypatch):
    from huizong.web.app import WebConfig, create_app

    def cookie_for(value: str | None) -> str:
        if value is None:
            monkeypatch.delenv(auth.COOKIE_SECURE_ENV, raising=False)
        else:
            monkeypatch.setenv(auth.COOKIE_SECURE_ENV, value)
        app = create_app(WebConfig(lambda: world.engine, lambda: SECRET,
                                   lambda: world.warehouse.raw_dir))
        # Plain HTTP, as a TLS-terminating proxy forwards it.
        response = TestClient(app, base_url="http://testserver").get(
            link_path("a@b.cn", HETANG), follow_redirects=False)
        return response.headers["set-cookie"].lower()

    assert "; secure" in cookie_for("1")
    assert "; secure" not in cookie_for(None)
    assert "; secure" not in cookie_for("0")
    with pytest.raises(ValueError, match=auth.COOKIE_SECURE_ENV):
        cookie_for("maybe")


def test_revoking_a_link_ends_its_sessions(app, world, login):
    client = TestClient(app)
    path = link_path("a@b.cn", HETANG)
    assert client.get(path, follow_redirects=False).status_code == 303
    assert client.get(f"/subtree/{HETANG}").status_code == 200
    auth.revoke_link(world.engine, auth.link_id_of(path), reason="邮件误发")
    assert client.get(f"/subtree/{HETANG}").status_code == 401
    assert TestClient(app).get(path, follow_redirects=False).status_code == 401
    # Another link of the same official still works.
    assert login(HETANG, "a@b.cn").get(f"/subtree/{HETANG}").status_code == 200


def test_revoking_an_address_ends_its_earlier_links_only(app, world):
    client = TestClient(app)
    early = link_path("leaver@b.cn", HETANG, now=time.time() - 60)
    assert client.get(early, follow_redirects=False).status_code == 303
    auth.revoke_links_of(world.engine, "Leaver@b.cn", reason="调离")
    assert client.get(f"/subtree/{HETANG}").status_code == 401
    later = link_path("leaver@b.cn", HETANG, now=time.time() + 5)
    fresh = TestClient(app)
    assert fresh.get(later, follow_redirects=False).status_code == 303
    assert fresh.get(f"/subtree/{HETANG}").status_code == 200


def test_secret_is_required_outside_demo_mode(monkeypatch, tmp_path):
    monkeypatch.delenv(auth.SECRET_ENV, raising=False)
    monkeypatch.delenv(auth.DEMO_ENV, raising=False)
    with pytest.raises(auth.SecretMissing):
        auth.resolve_secret(data_dir=tmp_path)
    monkeypatch.setenv(auth.SECRET_ENV, "short")
    with pytest.raises(auth.SecretMissing):
        auth.resolve_secret(data_dir=tmp_path)
    assert not (tmp_path / "web_secret").exists()


def test_demo_mode_generates_one_private_secret_per_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv(auth.SECRET_ENV, raising=False)
    monkeypatch.setenv(auth.DEMO_ENV, "1")
    first = auth.resolve_secret(data_dir=tmp_path)
    assert first == auth.resolve_secret(data_dir=tmp_path)
    assert len(first) >= auth.MIN_SECRET_LENGTH
    assert (tmp_path / "web_secret").stat().st_mode & 0o777 == 0o600
    assert auth.resolve_secret(data_dir=tmp_path / "other") != first


def test_environment_secret_wins_over_demo_file(monkeypatch, tmp_path):
    monkeypatch.setenv(auth.SECRET_ENV, SECRET)
    assert auth.resolve_secret(demo=True, data_dir=tmp_path) == SECRET


def test_app_without_secret_answers_503_not_500(world):
    from huizong.web.app import WebConfig, create_app

    def no_secret() -> str:
        raise auth.SecretMissing("none")

    app = create_app(WebConfig(lambda: world.engine, no_secret, lambda: world.warehouse.raw_dir))
    response = TestClient(app).get(link_path("a@b.cn", HETANG), follow_redirects=False)
    assert response.status_code == 503


def test_cli_link_signs_in_and_server_refuses_without_secret(app, monkeypatch, capsys, tmp_path):
    from huizong.cli import main

    monkeypatch.setenv(auth.SECRET_ENV, SECRET)
    assert main(["web", "link", "--email", "w@b.cn", "--unit", HETANG, "--days", "2",
                 "--base-url", "http://127.0.0.1:9/huizong"]) == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith("http://127.0.0.1:9/huizong/l/")
    client = TestClient(app)
    assert client.get(url.removeprefix("http://127.0.0.1:9/huizong"),
                      follow_redirects=False).status_code == 303

    monkeypatch.delenv(auth.SECRET_ENV)
    monkeypatch.delenv(auth.DEMO_ENV, raising=False)
    monkeypatch.setenv("HUIZONG_DATA_DIR", str(tmp_path))
    assert main(["web", "--port", "9"]) == 2
    assert "HUIZONG_WEB_SECRET" in capsys.readouterr().err
    assert main(["web", "link", "--email", "w@b.cn", "--unit", "12"]) == 2


def test_security_headers(login):
    response = login(HETANG).get(f"/subtree/{HETANG}")
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    # Scripts only from the app itself (the approval's confirm() dialog), none inline.
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["referrer-policy"] == "no-referrer"


def test_demo_link_opens_a_county_officials_subtree(app, world, monkeypatch):
    import sqlalchemy as sa
    from huizong.web.cli import official_link_for_demo

    monkeypatch.setenv(auth.SECRET_ENV, SECRET)
    url = official_link_for_demo(world.engine, "http://127.0.0.1:8080/huizong")
    assert url.startswith("http://127.0.0.1:8080/huizong/l/")
    client = TestClient(app)
    response = client.get(url.removeprefix("http://127.0.0.1:8080/huizong"),
                          follow_redirects=False)
    assert response.headers["location"] == f"/subtree/{HETANG}"
    with world.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO recipient VALUES ('lu@lusong.cn', '芦淞区妇联', "
                             "'430203000000', 'official')"))
    url = official_link_for_demo(world.engine, "")
    response = TestClient(app).get(url, follow_redirects=False)
    assert response.headers["location"] == "/subtree/430203000000"


def test_cli_revokes_a_printed_link(app, world, monkeypatch, capsys):
    from huizong.cli import main

    monkeypatch.setenv(auth.SECRET_ENV, SECRET)
    monkeypatch.setenv("HUIZONG_WAREHOUSE_URL", str(world.engine.url))
    assert main(["web", "link", "--email", "x@b.cn", "--unit", HETANG, "--base-url", ""]) == 0
    path = capsys.readouterr().out.strip()
    client = TestClient(app)
    assert client.get(path, follow_redirects=False).status_code == 303
    assert main(["web", "revoke", "--link", path, "--reason", "误发"]) == 0
    assert client.get(f"/subtree/{HETANG}").status_code == 401
