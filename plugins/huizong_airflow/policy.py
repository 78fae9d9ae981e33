"""Task policy every huizong DAG uses: owner, retries, failure alerts.

Retries are set here once, not per DAG, and the DAG integrity test checks that
every task carries them.
"""

from __future__ import annotations

from datetime import timedelta

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
