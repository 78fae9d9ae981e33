"""Serve the Great Expectations Data Docs on the Airflow API server, behind its login.

At ``/huizong-docs/`` (the directory ``HUIZONG_DOCS_DIR``, default
``$HUIZONG_DATA_DIR/data_docs``, which consolidate_and_check's audit writes),
with a "Data Docs" entry in the Airflow menu. Every request needs an Airflow
login: the pages show returns' figures. The pages load their CSS/JS from
local copies (``huizong.quality.data_docs``), so this works without internet.
"""

from pathlib import Path

from airflow.plugins_manager import AirflowPlugin
from huizong.quality.data_docs import create_docs_app

URL_PREFIX = "/huizong-docs"


def _docs_dir() -> Path:
    from huizong.settings import get_settings

    return get_settings().docs_dir


def build_app():
    # Airflow's own login dependency: the UI's session cookie or a bearer token,
    # else 401. The same one the officials' engineer route uses.
    from airflow.api_fastapi.core_api.security import get_user

    return create_docs_app(_docs_dir, dependencies=[get_user])


class HuizongDataDocsPlugin(AirflowPlugin):
    name = "huizong_data_docs"
    fastapi_apps = [  # noqa: RUF012 - AirflowPlugin's interface is class attributes
        {
            "app": build_app(),
            "url_prefix": URL_PREFIX,
            "name": "huizong Data Docs",
        }
    ]
    external_views = [  # noqa: RUF012
        {
            "name": "Data Docs (数据质量)",
            "href": f"{URL_PREFIX}/index.html",
            "url_route": "data-docs",
            "destination": "nav",
            "category": "browse",
        }
    ]
