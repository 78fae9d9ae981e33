"""The reporting API answers 429, then 5xx, then replays a page, then fails on a
page until it recovers: every item arrives exactly once and polling resumes at
the stored cursor."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.postgres

FAST_RETRY = {"max_retries": 4, "backoff_base": 0.01, "backoff_max": 0.05}


def _stage(engine, received, batch_id):
    from huizong.returns.intake import triage
    from huizong.returns.model import QuarantineRecord
    from huizong.warehouse import load

    load.record_raw_returns(engine, received)
    outcomes = [triage(r) for r in received]
    held = [o for o in outcomes if isinstance(o, QuarantineRecord)]
    load.quarantine(engine, held)
    load.stage_returns(engine, batch_id, [o for o in outcomes if o not in held])


def test_rate_limits_errors_and_a_replayed_page_lose_and_duplicate_nothing(warehouse, data_dir):
    from huizong import demo_data
    from huizong.returns.api_server import Faults, serve_in_thread
    from huizong.returns.intake import ApiError, JsonFileCursorStore, RetryPolicy, poll_api

    items = demo_data.api_items()
    assert len(items) >= 6, "too few items to page through"
    token = secrets.token_urlsafe(16)
    faults = Faults(rate_limited=2, server_errors=2, duplicate_pages=1)
    cursor_store = JsonFileCursorStore(data_dir / "state" / "reporting_api_cursor.json")
    raw_dir = data_dir / "raw"
    retry = RetryPolicy(**FAST_RETRY)
    received = []
    with serve_in_thread(items, token=token, faults=faults) as url:

        def poll(**kwargs):
            return poll_api(url, token, cursor=cursor_store.get(), raw_dir=raw_dir,
                            partition="2025-01-10", limit=2, retry=retry, sleep=lambda s: None,
                            **kwargs)

        # Two pages through 429, 429, 503, 503; the cursor is stored after staging.
        first = poll(max_pages=2)
        assert not first.exhausted
        _stage(warehouse, first.received, "submitted_returns__a__api")
        cursor_store.put(first.next_cursor)
        received += first.received

        # The next page keeps failing: what came before it is kept, the cursor
        # points at the failing page.
        faults.fail_cursor = cursor_store.get()
        with pytest.raises(ApiError) as failure:
            poll()
        partial = failure.value.partial
        assert partial is not None and partial.next_cursor == cursor_store.get()

        # Recovered: resume from the stored cursor, through a replayed page.
        faults.fail_cursor = None
        rest = poll()
        assert rest.exhausted
        _stage(warehouse, rest.received, "submitted_returns__b__api")
        cursor_store.put(rest.next_cursor)
        received += rest.received

        # Polling again from the final cursor brings nothing new.
        again = poll()
        assert again.received == []

    assert first.duplicates + rest.duplicates >= 1, "the replayed page was never served"
    statuses = faults.statuses()
    assert statuses.count(429) == 2 and statuses.count(503) == 2 and 500 in statuses
    ids = [r.source_uri for r in received]
    assert sorted(ids) == sorted(f"api:{item['id']}" for item in items), ids
    with warehouse.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT source_uri, COUNT(*) FROM return_submission "
                    "WHERE channel = 'api' GROUP BY source_uri")
        ).fetchall()
    assert {uri: n for uri, n in rows} == {f"api:{item['id']}": 1 for item in items}
