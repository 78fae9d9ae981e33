"""Resolve huizong's settings inside a running task.

Production passes the warehouse and the reporting API as Airflow connections
(``huizong_warehouse``, ``huizong_reporting_api``); the embedded demo sets
``HUIZONG_*`` environment variables. Looked up at run time only, never while a
DAG file is parsed.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

WAREHOUSE_CONN_ID = "huizong_warehouse"
REPORTING_API_CONN_ID = "huizong_reporting_api"


def _connection(conn_id: str):
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def warehouse_url() -> str:
    conn = _connection(WAREHOUSE_CONN_ID)
    if conn is not None:
        uri = conn.get_uri()
        if uri.startswith("postgres://"):
            uri = "postgresql+psycopg://" + uri.removeprefix("postgres://")
        return uri
    from huizong.settings import get_settings

    return get_settings().warehouse_url


def warehouse_engine():
    from huizong.warehouse.db import get_engine

    return get_engine(warehouse_url())


def reporting_api() -> tuple[str, str] | None:
    """(base URL, bearer token) of the reporting system, or None if not configured."""
    from huizong.returns.intake import reporting_api_base_url
    from huizong.secret_check import ISSUED, check_secret

    conn = _connection(REPORTING_API_CONN_ID)
    if conn is not None:
        # No schema means https: the token must not go out in clear text by omission.
        base = reporting_api_base_url(conn.host or "", port=conn.port, schema=conn.schema)
        token = check_secret(f"the {REPORTING_API_CONN_ID} connection's password (the API "
                             "token)", conn.password, ISSUED)
        return base, token
    url = os.environ.get("HUIZONG_REPORTING_API_URL")
    if url:
        token_env = "HUIZONG_REPORTING_API_TOKEN"  # noqa: S105 - a variable's name
        return reporting_api_base_url(url), check_secret(
            token_env, os.environ.get(token_env), ISSUED
        )
    return None


def batch_id(context: dict[str, Any]) -> str:
    """Key a load batch on the data interval so a rerun replaces, never appends."""
    dag_id = context["dag"].dag_id
    start: datetime | None = context.get("data_interval_start")
    if start is None:
        # Asset-triggered runs have no data interval; the run itself is the batch.
        return f"{dag_id}__{context['run_id']}"
    return f"{dag_id}__{start:%Y%m%dT%H%M%S}"


def partition(context: dict[str, Any]) -> str:
    """Raw landing partition: the data interval's day (immutable, by run)."""
    start: datetime | None = context.get("data_interval_start")
    stamp = start or context.get("logical_date") or context["dag_run"].run_after
    return f"{stamp:%Y-%m-%d}"


def drop_root():
    """The returns drop folder: ``HUIZONG_DROP_URL`` (any ObjectStoragePath URL,
    e.g. ``s3://bucket/fl01`` with ``HUIZONG_DROP_CONN_ID``) or the local folder."""
    url = os.environ.get("HUIZONG_DROP_URL")
    if url:
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(url, conn_id=os.environ.get("HUIZONG_DROP_CONN_ID"))
    from huizong.settings import get_settings

    return get_settings().drop_dir


def as_of_date(context: dict[str, Any]):
    """The date completeness is judged at: the end of the run's data interval."""
    end: datetime | None = context.get("data_interval_end")
    stamp = end or context["dag_run"].run_after
    return stamp.date()


def log_summary(what: str, summary: dict[str, Any]) -> None:
    """One INFO line a task: what it read, wrote and skipped, where engineers look (the task log).

    Lists (error details, quarantine reasons) are counted here; the items are
    logged by the step that met them.
    """
    import logging

    parts = [
        f"{key}={len(value) if isinstance(value, list | tuple | set | dict) else value}"
        for key, value in summary.items()
    ]
    logging.getLogger("huizong.task").info("%s: %s", what, ", ".join(parts))
