"""The fault settings in deploy/airflow-celery.env hold together.

They are read by production's compose file and by the loopback stack, so a
change that breaks one of these relations (a visibility timeout shorter than a
task may run, a broker outage budget under ten minutes) fails here rather than
in production.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from stack import FAULT_SETTINGS, read_env_file

REPO = Path(__file__).resolve().parents[1]
BROKER_OUTAGE_BUDGET = timedelta(minutes=10)


@pytest.fixture(scope="module")
def settings() -> dict[str, str]:
    return read_env_file(FAULT_SETTINGS)


def _seconds(settings, key: str) -> float:
    return float(settings[key])


def test_compose_reads_the_same_file():
    compose = yaml.safe_load((REPO / "docker-compose.yaml").read_text(encoding="utf-8"))
    common = compose["x-airflow-common"]
    assert "deploy/airflow-celery.env" in common["env_file"]
    assert (REPO / "deploy" / "airflow-celery.env").is_file()


def test_lost_worker_is_retried_within_about_a_minute(settings):
    from huizong_airflow.policy import RETRY_DELAY

    timeout = _seconds(settings, "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT")
    interval = _seconds(
        settings, "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL"
    )
    detection = timeout + interval
    # Exponential backoff's jitter can double the first delay at most.
    worst_first_retry = 2 * RETRY_DELAY.total_seconds()
    assert detection + worst_first_retry <= 90
    # The task supervisor heartbeats every 5 s (Airflow's default): several may be missed
    # under load before a live task is taken for lost.
    assert _seconds(settings, "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT") >= 6 * 5


def test_visibility_timeout_outlasts_every_task():
    from airflow.dag_processing.dagbag import DagBag

    visibility = timedelta(
        seconds=float(
            read_env_file(FAULT_SETTINGS)[
                "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT"
            ]
        )
    )
    dagbag = DagBag(dag_folder=str(REPO / "dags"))
    assert dagbag.dags
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            limit = task.execution_timeout
            if limit is not None:
                assert limit < visibility, f"{dag.dag_id}.{task.task_id}: {limit} >= {visibility}"


def test_a_ten_minute_broker_outage_spends_no_task_retry(settings):
    assert settings["AIRFLOW__CELERY__TASK_ACKS_LATE"] == "True"
    publish = _seconds(settings, "AIRFLOW__CELERY__OPERATION_TIMEOUT") * float(
        settings["AIRFLOW__CELERY__TASK_PUBLISH_MAX_RETRIES"]
    )
    requeue = _seconds(settings, "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT") * (
        1 + float(settings["AIRFLOW__SCHEDULER__NUM_STUCK_IN_QUEUED_RETRIES"])
    )
    budget = BROKER_OUTAGE_BUDGET.total_seconds()
    assert publish >= budget and requeue >= budget, (publish, requeue)
    # ...while a message lost with an unpersisted broker is sent again within minutes.
    assert _seconds(settings, "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT") <= 300


def test_celery_config_retries_the_publish_until_airflows_alarm():
    from huizong_airflow.celery_config import CELERY_CONFIG

    policy = CELERY_CONFIG["task_publish_retry_policy"]
    assert CELERY_CONFIG["task_publish_retry"] is True and policy["max_retries"] is None
    assert CELERY_CONFIG["task_acks_late"] is True
