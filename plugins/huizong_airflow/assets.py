"""Assets that connect the huizong DAGs: producers stage, the checker publishes."""

from airflow.sdk import Asset

STAGED_NOTICES = Asset(name="huizong_staged_notices", uri="x-huizong://warehouse/stg_notice_statistic")
STAGED_RETURNS = Asset(name="huizong_staged_returns", uri="x-huizong://warehouse/stg_return_value")
PUBLISHED_FACTS = Asset(
    name="huizong_published_facts", uri="x-huizong://warehouse/fact_indicator_value"
)
