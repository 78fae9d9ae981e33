"""Take FL-01 returns from the drop folder and the reporting API into staging."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, get_current_context, task
from huizong_airflow.assets import STAGED_RETURNS
from huizong_airflow.policy import default_args, run_deadline

DOC = """\
### submitted_returns

Hourly intake of form FL-01 returns from two channels:

* the **drop folder** `<root>/<unit code>/<form>/<period>/<file>` (local or
  S3-compatible through `ObjectStoragePath`; `HUIZONG_DROP_URL`, default the
  data directory's `drop/`), new and changed files by content hash;
* the **reporting system API** (connection `huizong_reporting_api`), polled
  from the stored cursor.

Every file or item is stored raw before parsing. A return whose declared unit
differs from the submitting account, or whose form or period is unknown, goes
to quarantine with its reason (`huizong quarantine list`). Resubmissions
become new versions. Emits `huizong_staged_returns`.
"""


@dag(
    dag_id="submitted_returns",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    # an hourly intake: done well inside the hour, before the next run
    default_args=default_args(task_timeout=timedelta(minutes=30)),
    deadline=run_deadline(timedelta(minutes=50)),
    tags=["huizong", "returns", "ingest"],
    doc_md=DOC,
)
def submitted_returns():
    @task
    def receive_drop_folder() -> dict:
        from huizong.pipeline import prepare_warehouse, receive_drop_folder
        from huizong_airflow.runtime import (
            batch_id,
            drop_root,
            log_summary,
            partition,
            warehouse_engine,
        )

        context = get_current_context()
        engine = warehouse_engine()
        prepare_warehouse(engine)
        summary = receive_drop_folder(
            engine, drop_root(), batch_id=batch_id(context), partition=partition(context)
        )
        log_summary("receive_drop_folder", summary.to_dict())
        return summary.to_dict()

    @task
    def receive_reporting_api() -> dict:
        from airflow.sdk.exceptions import AirflowSkipException
        from huizong.pipeline import prepare_warehouse, receive_reporting_api
        from huizong_airflow.runtime import (
            batch_id,
            log_summary,
            partition,
            reporting_api,
            warehouse_engine,
        )

        api = reporting_api()
        if api is None:
            raise AirflowSkipException("no huizong_reporting_api connection configured")
        context = get_current_context()
        engine = warehouse_engine()
        prepare_warehouse(engine)
        summary = receive_reporting_api(
            engine, *api, batch_id=batch_id(context), partition=partition(context)
        )
        log_summary("receive_reporting_api", summary.to_dict())
        return summary.to_dict()

    @task
    def requeue_released() -> dict:
        from huizong.pipeline import prepare_warehouse, requeue_released
        from huizong_airflow.runtime import batch_id, log_summary, warehouse_engine

        engine = warehouse_engine()
        prepare_warehouse(engine)
        requeued = requeue_released(engine, batch_id=batch_id(get_current_context())).to_dict()
        log_summary("requeue_released", requeued)
        return requeued

    @task(outlets=[STAGED_RETURNS], trigger_rule="none_failed")
    def report(drop: dict, api: dict | None, requeued: dict) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException
        from huizong_airflow.runtime import log_summary

        channels = [s for s in (drop, api, requeued) if s]
        totals = {
            "received": sum(s["received"] for s in channels),
            "staged": sum(s["staged"] for s in channels),
            "quarantined": sum(s["quarantined"] for s in channels),
            "quarantine": [q for s in channels for q in s["quarantine_reasons"]],
        }
        log_summary("submitted_returns", totals)
        if not totals["staged"]:
            # No event, so consolidate_and_check is not triggered for nothing.
            raise AirflowSkipException(
                f"nothing new staged: {totals['received']} received, "
                f"{totals['quarantined']} quarantined"
            )
        get_current_context()["outlet_events"][STAGED_RETURNS].extra = {
            k: v for k, v in totals.items() if k != "quarantine"
        }
        return totals

    report(receive_drop_folder(), receive_reporting_api(), requeue_released())


submitted_returns()
