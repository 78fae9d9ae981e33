"""Celery settings for huizong's CeleryExecutor: Airflow's defaults plus publish retries.

Selected by ``AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS`` (``deploy/airflow-celery.env``).

Airflow sends a task to the broker inside a ``[celery] operation_timeout``
alarm. Kombu's default publish retry gives up after three quick tries (about
0.6 s) and raises a connection error, which the executor turns into a failed
attempt: an eight-minute Redis outage failed a DAG run that way. Retrying the
publish until the alarm fires turns the same outage into a timeout instead,
which the executor retries on its next loop (``task_publish_max_retries``)
without touching the task's own retries.
"""

from __future__ import annotations

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

# Keep retrying until Airflow's operation_timeout alarm interrupts the send.
PUBLISH_RETRY_POLICY = {
    "max_retries": None,
    "interval_start": 0.2,
    "interval_step": 0.2,
    "interval_max": 1.0,
}

CELERY_CONFIG = {
    **DEFAULT_CELERY_CONFIG,
    "task_publish_retry": True,
    "task_publish_retry_policy": PUBLISH_RETRY_POLICY,
}
