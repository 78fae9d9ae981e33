"""The Data Docs plugin: Airflow lists its app and menu entry; without an Airflow
login nothing is served, with one the pages and their local assets are."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

REPO = Path(__file__).resolve().parents[1]


def test_airflow_lists_the_data_docs_app_and_menu_entry(airflow_plugins):
    plugins = airflow_plugins
    docs = plugins["huizong_data_docs"]
    (app,) = docs["fastapi_apps"]
    assert app["url_prefix"] == "/huizong-docs"
    (view,) = docs["external_views"]
    assert view["href"] == "/huizong-docs/index.html" and view["destination"] == "nav"


def test_prefix_is_not_reserved_by_airflow():
    from airflow.api_fastapi.app import RESERVED_URL_PREFIXES
    from huizong_airflow.data_docs_plugin import URL_PREFIX

    assert not any(URL_PREFIX.startswith(p) for p in RESERVED_URL_PREFIXES)


def _client(tmp_path, monkeypatch, *, signed_in: bool) -> TestClient:
    from airflow.api_fastapi.core_api.security import get_user
    from huizong.quality.data_docs import localize
    from huizong_airflow import data_docs_plugin

    docs = tmp_path / "data_docs"
    docs.mkdir()
    (docs / "index.html").write_text(
        '<html><head><script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>'
        "</head><body>staged_returns</body></html>"
    )
    localize(docs)
    monkeypatch.setattr(data_docs_plugin, "_docs_dir", lambda: docs)
    app = data_docs_plugin.build_app()
    if signed_in:
        app.dependency_overrides[get_user] = lambda: object()
    root = FastAPI()
    root.mount(data_docs_plugin.URL_PREFIX, app)
    return TestClient(root)


def test_without_an_airflow_login_nothing_is_served(tmp_path, monkeypatch):
    client = _client(tmp_path, monkeypatch, signed_in=False)
    assert client.get("/huizong-docs/index.html").status_code == 401
    assert client.get("/huizong-docs/static/vendor/jquery.min.js").status_code == 401


def test_signed_in_the_pages_and_their_assets_are_served(tmp_path, monkeypatch):
    client = _client(tmp_path, monkeypatch, signed_in=True)
    index = client.get("/huizong-docs/index.html")
    assert index.status_code == 200 and "staged_returns" in index.text
    assert 'src="static/vendor/jquery.min.js"' in index.text
    asset = client.get("/huizong-docs/static/vendor/jquery.min.js")
    assert asset.status_code == 200 and "jQuery" in asset.text[:200]
