"""Crawl federation portals daily, keep every page raw, extract and stage statistics."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, get_current_context, task
from huizong_airflow.assets import STAGED_NOTICES
from huizong_airflow.policy import default_args, run_deadline

DOC = """\
### portal_notices

Daily crawl of the women's federation portals configured in
`include/huizong/portal/portals.yaml` (or `HUIZONG_PORTALS_FILE`). One mapped
task per portal: list pages → article pages → raw page stored as received
(content-hashed, immutable) → normalized text → statistics and notice
metadata (document number, reporting deadline) → warehouse staging.

A page that fails to fetch or parse is logged with its URL and reason and does
not stop the others; a portal that gives no page at all fails its task, so it
is retried and the engineers are alerted. Emits `huizong_staged_notices`
(which triggers `consolidate_and_check`) only when something new was staged;
the event's extra carries the counts and the number of warnings.
"""


@dag(
    dag_id="portal_notices",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    # per try: one portal's crawl, list and article pages × (interval + fetch deadline)
    default_args=default_args(task_timeout=timedelta(hours=2)),
    deadline=run_deadline(timedelta(hours=3)),
    tags=["huizong", "portal", "ingest"],
    doc_md=DOC,
)
def portal_notices():
    @task
    def list_portals() -> list[str]:
        from huizong.pipeline import list_portal_ids
        from huizong.settings import get_settings

        return list_portal_ids(get_settings().portals_file)

    @task(max_active_tis_per_dag=4)
    def crawl_portal(portal_id: str) -> dict:
        from huizong.pipeline import crawl_and_stage_portal, prepare_warehouse
        from huizong_airflow.runtime import batch_id, log_summary, partition, warehouse_engine

        context = get_current_context()
        engine = warehouse_engine()
        prepare_warehouse(engine)
        summary = crawl_and_stage_portal(
            engine,
            portal_id,
            batch_id=f"{batch_id(context)}__{portal_id}",
            partition=partition(context),
        )
        log_summary(f"crawl_portal {portal_id}", summary.to_dict())
        return summary.to_dict()

    @task(outlets=[STAGED_NOTICES])
    def report(summaries: list[dict]) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException
        from huizong_airflow.runtime import log_summary

        # One slice request for every mapped result: iterating the lazy sequence
        # asks for one item past the end, which the API answers 404 and the task
        # log shows as an "XCom not found" error on every successful run.
        summaries = summaries[:]
        totals = {
            "portals": len(summaries),
            "pages_fetched": sum(s["pages_fetched"] for s in summaries),
            "pages_new": sum(s["pages_fetched"] - s["pages_unchanged"] for s in summaries),
            "statistics": sum(s["statistics"] for s in summaries),
            "errors": [e for s in summaries for e in s["errors"]],
        }
        log_summary("portal_notices", totals)
        if not totals["pages_new"]:
            # No event, so consolidate_and_check is not triggered for nothing.
            raise AirflowSkipException(
                f"nothing new staged: {totals['pages_fetched']} page(s), all unchanged"
            )
        extra = {k: v for k, v in totals.items() if k != "errors"}
        extra["warnings"] = len(totals["errors"])
        get_current_context()["outlet_events"][STAGED_NOTICES].extra = extra
        return totals

    report(crawl_portal.expand(portal_id=list_portals()))


portal_notices()
