"""Mount the officials' pages (huizong.web) on the Airflow API server.

Served at ``/huizong`` without Airflow's login: the app checks its own signed
links. Engineers reach it from the Airflow menu (``external_views``) through
``/huizong/engineer``, which does require an Airflow login and then shows
every unit. The signing secret is ``HUIZONG_WEB_SECRET``, else the password
of the ``huizong_web`` connection, else (``HUIZONG_WEB_DEMO=1`` only) the
demo's per-data-dir secret. Everything is resolved on first request, so
loading the plugin touches no database.
"""

import logging
from collections.abc import Callable
from pathlib import Path

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI, Request, Response
from huizong.web.app import WebConfig, create_app

log = logging.getLogger(__name__)

URL_PREFIX = "/huizong"
WEB_CONN_ID = "huizong_web"


def _secret() -> str:
    import os

    from huizong.web.auth import SECRET_ENV, resolve_secret

    if not os.environ.get(SECRET_ENV):
        try:
            from airflow.sdk import BaseHook

            password = BaseHook.get_connection(WEB_CONN_ID).password
        except Exception:  # no such connection, or no secrets backend to ask
            log.debug("no %s connection; falling back to the environment", WEB_CONN_ID)
            password = None
        if password:
            from huizong.secret_check import WeakSecret, check_secret
            from huizong.web.auth import SecretMissing

            try:
                return check_secret(f"the {WEB_CONN_ID} connection's password", password)
            except WeakSecret as exc:
                raise SecretMissing(str(exc)) from exc
    return resolve_secret()


def _engine():
    from huizong_airflow.runtime import warehouse_engine

    return warehouse_engine()


def _raw_dir() -> Path:
    from huizong.settings import get_settings

    return get_settings().raw_dir


def _install_engineer_route(
    app: FastAPI, sign_in_engineer: Callable[[Request, str], Response]
) -> None:
    # Imported here, not at module top: only the API server needs Airflow's auth.
    from airflow.api_fastapi.core_api.security import GetUserDep

    @app.get("/engineer")
    def engineer(request: Request, user: GetUserDep) -> Response:
        return sign_in_engineer(request, user.get_name())


def build_app() -> FastAPI:
    return create_app(
        WebConfig(engine_provider=_engine, secret_provider=_secret, raw_dir_provider=_raw_dir),
        install_engineer_route=_install_engineer_route,
    )


class HuizongWebPlugin(AirflowPlugin):
    name = "huizong_web"
    fastapi_apps = [  # noqa: RUF012 - AirflowPlugin's interface is class attributes
        {"app": build_app(), "url_prefix": URL_PREFIX, "name": "huizong officials' pages"}
    ]
    external_views = [  # noqa: RUF012
        {
            "name": "妇联报表 (officials' pages)",
            "href": f"{URL_PREFIX}/engineer",
            "url_route": "huizong",
            "destination": "nav",
            "category": "browse",
        }
    ]
