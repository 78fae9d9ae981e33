"""The Airflow plugin: Airflow's plugins manager sees the app and the menu entry;
mounted under /huizong the pages work with their own sign-in, the engineer
route demands an Airflow login."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.conftest import HETANG, SECRET, link_path

REPO = Path(__file__).resolve().parents[2]


def test_airflow_lists_the_plugin_with_app_and_view(airflow_plugins):
    plugins = airflow_plugins
    web = plugins["huizong_web"]
    (app,) = web["fastapi_apps"]
    assert app["url_prefix"] == "/huizong" and app["app"].endswith("FastAPI")
    (view,) = web["external_views"]
    assert view["url_route"] == "huizong" and view["href"] == "/huizong/engineer"


def test_prefix_is_not_reserved_by_airflow():
    from airflow.api_fastapi.app import RESERVED_URL_PREFIXES
    from huizong_airflow.web_plugin import URL_PREFIX

    assert not any(URL_PREFIX.startswith(p) for p in RESERVED_URL_PREFIXES)


def test_mounted_app_signs_in_by_link_and_engineers_by_airflow(world, monkeypatch):
    from huizong_airflow import web_plugin

    monkeypatch.setenv("HUIZONG_WEB_SECRET", SECRET)
    monkeypatch.setattr(web_plugin, "_engine", lambda: world.engine)
    monkeypatch.setattr(web_plugin, "_raw_dir", lambda: world.warehouse.raw_dir)
    monkeypatch.setattr(web_plugin, "_secret", lambda: SECRET)
    root = FastAPI()
    root.mount(web_plugin.URL_PREFIX, web_plugin.build_app())
    client = TestClient(root)
    # Without an Airflow token the engineer route is refused by Airflow's own dependency.
    assert client.get("/huizong/engineer", follow_redirects=False).status_code == 401
    response = client.get("/huizong" + link_path("a@b.cn", HETANG), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/huizong/subtree/{HETANG}"
    assert "path=/huizong" in response.headers["set-cookie"].lower()
    page = client.get(f"/huizong/subtree/{HETANG}")
    assert page.status_code == 200
    assert 'href="/huizong/static/web.css"' in page.text
    assert f'href="/huizong/unit/{HETANG}' in page.text


def test_engineer_signed_in_by_airflow_sees_every_unit(world, monkeypatch):
    from airflow.api_fastapi.core_api.security import get_user
    from huizong_airflow import web_plugin

    class AirflowUser:
        def get_name(self) -> str:
            return "airflow-admin"

    monkeypatch.setattr(web_plugin, "_engine", lambda: world.engine)
    monkeypatch.setattr(web_plugin, "_raw_dir", lambda: world.warehouse.raw_dir)
    monkeypatch.setattr(web_plugin, "_secret", lambda: SECRET)
    app = web_plugin.build_app()
    app.dependency_overrides[get_user] = AirflowUser
    root = FastAPI()
    root.mount(web_plugin.URL_PREFIX, app)
    client = TestClient(root)
    response = client.get("/huizong/engineer", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/huizong/"
    home = client.get("/huizong/")
    assert "airflow-admin" in home.text and "湖南省" in home.text and "广西" in home.text
    assert client.get(f"/huizong/unit/{world.lusong_towns[0]}").status_code == 200
