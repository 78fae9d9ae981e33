"""Task policy every huizong DAG uses: owner, retries, failure alerts.

Retries are set here once, not per DAG, and the DAG integrity test checks that
every task carries them.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

from huizong_airflow.notifiers import EngineerAlertNotifier

OWNER = "huizong-data-engineering"
RETRIES = 2


def default_args() -> dict:
    return {
        "owner": OWNER,
        "retries": RETRIES,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        "on_failure_callback": [EngineerAlertNotifier()],
    }


def run_deadline(within: timedelta) -> DeadlineAlert:
    """Engineers hear about a run still unfinished ``within`` after it was queued.

    The notifier reads its channels (``HUIZONG_ENGINEER_EMAILS``, the webhook) from
    the environment where the triggerer runs it.
    """
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=within,
        callback=AsyncCallback(EngineerAlertNotifier),
    )
