"""Task policy every huizong DAG uses: owner, retries, time limit, failure and retry alerts.

Retries are set here once, not per DAG, and the DAG integrity test checks that
every task carries them. The time limit (``execution_timeout``) is required
here too but sized by each DAG, next to its run deadline: a hung task (a
stuck connection, a lock wait) fails and is retried instead of holding its
slot, and the limit must fit inside the DAG's deadline alert.

The first retry comes after 10-20 s (exponential backoff doubles a 10 s base;
Airflow adds up to one base of jitter), so a task whose worker died runs again
about a minute after the death: 40 s heartbeat timeout
(``deploy/airflow-celery.env``) + detection + this delay. Later retries back
off to at most 10 min, which spreads a portal's or the reporting API's outage
over a quarter of an hour before the task fails.
"""

from __future__ import annotations

import os
from datetime import timedelta

from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

from huizong_airflow.notifiers import EngineerAlertNotifier

OWNER = "huizong-data-engineering"
RETRIES = 3
RETRY_DELAY = timedelta(seconds=10)
MAX_RETRY_DELAY = timedelta(minutes=10)


def default_args(*, task_timeout: timedelta) -> dict:
    """Arguments for every task of a DAG; ``task_timeout`` is its ``execution_timeout``."""
    if task_timeout <= timedelta(0):
        raise ValueError(f"task_timeout must be positive, not {task_timeout}")
    return {
        "owner": OWNER,
        "retries": RETRIES,
        "execution_timeout": task_timeout,
        "retry_delay": RETRY_DELAY,
        # A multiplier since Airflow 3 (True would mean 1: no backoff at all).
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": MAX_RETRY_DELAY,
        "on_failure_callback": [EngineerAlertNotifier()],
        # A retry is news too: it says which task, on which worker, and why
        # (a lost worker shows up here, not only in the scheduler's log).
        "on_retry_callback": [EngineerAlertNotifier(event="task_retry")],
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
