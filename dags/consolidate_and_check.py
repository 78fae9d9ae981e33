"""Audit everything staged, publish what passes, check completeness, alert officials."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, get_current_context, task
from huizong_airflow.assets import PUBLISHED_FACTS, STAGED_NOTICES, STAGED_RETURNS
from huizong_airflow.policy import default_args, run_deadline

DOC = """\
### consolidate_and_check

Write-audit-publish for the warehouse. Runs whenever new returns or notices
are staged:

1. **audit**: Great Expectations suites from `expectations/` (Data Docs path in
   the log) and the form's rules (其中 ≤ parent, parent = sum of children,
   year-to-date, outliers, notice vs return). Findings are stored, keyed, so
   a rerun adds none.
2. **publish**: returns without errors become the latest version in
   `fact_indicator_value`; returns with errors stay blocked; warnings publish
   flagged.
3. **completeness**: expected units that have not reported by the due date
   (period end + 10 days, or the parent's notice deadline), and notice figures
   compared with the freshly published returns.
4. **alert**: one digest per official about their own subtree only, to SMTP
   (`huizong_smtp` / `HUIZONG_SMTP_URL`) or the outbox folder.
"""


@dag(
    dag_id="consolidate_and_check",
    schedule=(STAGED_RETURNS | STAGED_NOTICES),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    # audit and publish of one staging batch
    default_args=default_args(task_timeout=timedelta(minutes=40)),
    deadline=run_deadline(timedelta(hours=1)),
    tags=["huizong", "quality", "warehouse"],
    doc_md=DOC,
)
def consolidate_and_check():
    @task
    def audit() -> dict:
        from huizong.pipeline import audit_staged, prepare_warehouse
        from huizong_airflow.runtime import log_summary, warehouse_engine

        engine = warehouse_engine()
        prepare_warehouse(engine)
        summary = audit_staged(engine)
        # Counts, the blocked and warned submissions, and the Data Docs path.
        log_summary("audit", summary.to_dict())
        return summary.to_dict()

    @task(outlets=[PUBLISHED_FACTS])
    def publish(audit_summary: dict) -> dict:
        from huizong.pipeline import publish_staged
        from huizong_airflow.runtime import log_summary, warehouse_engine

        published = publish_staged(
            warehouse_engine(),
            blocked=audit_summary["blocked_submission_ids"],
            warned=audit_summary["warned_submission_ids"],
        )
        log_summary("publish", published)
        return published

    @task
    def completeness() -> dict:
        from huizong.pipeline import check_completeness
        from huizong_airflow.runtime import as_of_date, log_summary, warehouse_engine

        found = check_completeness(warehouse_engine(), as_of=as_of_date(get_current_context()))
        log_summary("completeness", found)
        return found

    @task
    def alert_officials() -> dict:
        from huizong.pipeline import alert_officials
        from huizong_airflow.runtime import log_summary, warehouse_engine

        sent = alert_officials(warehouse_engine(), run_id=get_current_context()["run_id"])
        log_summary("alert_officials", sent)
        return sent

    published = publish(audit())
    checked = completeness()
    published >> checked >> alert_officials()


consolidate_and_check()
