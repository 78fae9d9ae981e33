"""Task policy every huizong DAG uses: owner, retries, time limit, failure alerts.

Retries are set here once, not per DAG, and the DAG integrity test checks that
every task carries them. The time limit (``execution_timeout``) is required
here too but sized by each DAG, next to its run deadline: a hung task (a
stuck connection, a lock wait) fails and is retried instead of holding its
slot, and the limit must fit inside the DAG's deadline alert.
"""

from __future__ import annotations

import os
from datetime import timedelta

from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

from huizong_airflow.notifiers import EngineerAlertNotifier

OWNER = "huizong-data-engineering"
RETRIES = 2


def default_args(*, task_timeout: timedelta) -> dict:
    """Arguments for every task of a DAG; ``task_timeout`` is its ``execution_timeout``."""
    if task_timeout <= timedelta(0):
        raise ValueError(f"task_timeout must be positive, not {task_timeout}")
    return {
        "owner": OWNER,
        "retries": RETRIES,
        "execution_timeout": task_timeout,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        "on_failure_callback": [EngineerAlertNotifier()],
    }


def run_deadline(within: timedelta) -> DeadlineAlert | None:
    """Engineers hear about a run still unfinished ``within`` after it was queued.

    ``HUIZONG_DEADLINE_ALERTS=off`` leaves them out: the embedded demo runs its
    DAGs with ``airflow dags test``, which in Airflow 3.3.2 fails on any DAG
    that has a deadline (it looks the alert up by a dict instead of its id).

    The notifier reads its channels (``HUIZONG_ENGINEER_EMAILS``, the webhook) from
    the environment where the triggerer runs it.
    """
    if os.environ.get("HUIZONG_DEADLINE_ALERTS", "on").lower() in ("off", "0", "false"):
        return None
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=within,
        callback=AsyncCallback(EngineerAlertNotifier),
    )
