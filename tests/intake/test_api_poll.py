from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pytest
import requests
from huizong.returns.api_server import Faults, serve_in_thread
from huizong.returns.intake import (
    ApiAuthError,
    ApiError,
    JsonFileCursorStore,
    RetryPolicy,
    poll_api,
)

from .conftest import UNIT, api_item

TOKEN = "s3cret-token"
FAST = RetryPolicy(max_retries=5, backoff_base=0.001, backoff_max=0.01)
NOW = datetime(2025, 1, 20, 8, 0, 0)


def poll(url, tmp_path, cursor=None, **kwargs):
    kwargs.setdefault("retry", FAST)
    return poll_api(
        url,
        TOKEN,
        cursor=cursor,
        raw_dir=tmp_path / "raw",
        partition="2025-01-20",
        now=NOW,
        **kwargs,
    )


def test_all_pages_are_fetched_and_every_item_stored_raw(tmp_path):
    items = [api_item(n) for n in range(7)]
    with serve_in_thread(items, TOKEN) as url:
        result = poll(url, tmp_path, limit=3)
    assert [r.source_uri for r in result.received] == [f"api:R{n:04d}" for n in range(7)]
    assert result.pages == 3 and result.exhausted and result.duplicates == 0
    first = result.received[0]
    assert first.channel == "api" and first.submitted_unit_code == UNIT
    assert (first.form, first.period, first.api_version) == ("FL-01", "2024Q4", 1)
    assert first.claimed_at == datetime(2025, 1, 1, 1, 30)  # 09:30 China time in UTC
    assert first.received_at == NOW
    assert first.api_values == items[0]["values"]
    raw = Path(first.raw_path)
    assert raw.parent == tmp_path / "raw" / "returns" / "api" / "2025-01-20"
    assert json.loads(raw.read_bytes()) == items[0]


def test_polling_from_the_returned_cursor_gets_only_new_items(tmp_path):
    items = [api_item(n) for n in range(4)]
    store = JsonFileCursorStore(tmp_path / "state" / "cursor.json")
    with serve_in_thread(items, TOKEN) as url:
        first = poll(url, tmp_path, cursor=store.get(), limit=3)
        store.put(first.next_cursor)
        nothing = poll(url, tmp_path, cursor=store.get(), limit=3)
        assert nothing.received == [] and nothing.next_cursor == first.next_cursor
        items.append(api_item(4, version=2))
        later = poll(url, tmp_path, cursor=store.get(), limit=3)
    assert len(first.received) == 4
    assert [(r.source_uri, r.api_version) for r in later.received] == [("api:R0004", 2)]


def test_rate_limit_then_server_errors_then_success(tmp_path):
    faults = Faults(rate_limited=2, retry_after="3", server_errors=2)
    slept: list[float] = []
    with serve_in_thread([api_item(n) for n in range(2)], TOKEN, faults=faults) as url:
        result = poll(url, tmp_path, sleep=slept.append)
    assert len(result.received) == 2
    assert faults.statuses() == [429, 429, 503, 503, 200]
    # Retry-After is honoured for 429; 5xx back off exponentially.
    assert slept[:2] == [3.0, 3.0]
    assert slept[2] < slept[3] <= FAST.backoff_max


def test_retry_after_is_bounded(tmp_path):
    faults = Faults(rate_limited=1, retry_after="86400")
    slept: list[float] = []
    policy = RetryPolicy(backoff_base=0.001, max_retry_after=2.5)
    with serve_in_thread([api_item(0)], TOKEN, faults=faults) as url:
        poll(url, tmp_path, sleep=slept.append, retry=policy)
    assert slept == [2.5]


def test_retries_are_bounded(tmp_path):
    faults = Faults(server_errors=100)
    with (
        serve_in_thread([api_item(0)], TOKEN, faults=faults) as url,
        pytest.raises(ApiError, match="gave up after 3 attempts"),
    ):
        poll(url, tmp_path, sleep=lambda _s: None, retry=RetryPolicy(max_retries=2))
    assert faults.statuses() == [503, 503, 503]


def test_a_duplicated_page_is_deduplicated_by_id_and_version(tmp_path):
    items = [api_item(n) for n in range(6)]
    faults = Faults(duplicate_pages=1)
    with serve_in_thread(items, TOKEN, faults=faults) as url:
        result = poll(url, tmp_path, limit=2)
    assert [r.source_uri for r in result.received] == [f"api:R{n:04d}" for n in range(6)]
    assert result.duplicates == 2
    assert result.pages == 4


def test_a_new_version_of_an_item_is_not_a_duplicate(tmp_path):
    items = [api_item(0), api_item(0, version=2, values={"01": {"current": 99}})]
    with serve_in_thread(items, TOKEN) as url:
        result = poll(url, tmp_path)
    assert [(r.source_uri, r.api_version) for r in result.received] == [
        ("api:R0000", 1),
        ("api:R0000", 2),
    ]
    assert len({r.submission_id for r in result.received}) == 2


def test_failure_mid_way_resumes_from_the_stored_cursor(tmp_path):
    items = [api_item(n) for n in range(6)]
    faults = Faults(fail_cursor="o2")  # the second page keeps failing
    store = JsonFileCursorStore(tmp_path / "cursor.json")
    received = []
    with serve_in_thread(items, TOKEN, faults=faults) as url:
        with pytest.raises(ApiError) as failure:
            poll(
                url,
                tmp_path,
                cursor=store.get(),
                limit=2,
                retry=RetryPolicy(max_retries=1),
                sleep=lambda _s: None,
            )
        partial = failure.value.partial
        assert partial is not None
        assert [r.source_uri for r in partial.received] == ["api:R0000", "api:R0001"]
        assert partial.next_cursor == "o2"  # points at the page that failed
        assert all(Path(r.raw_path).exists() for r in partial.received)
        received += partial.received
        store.put(partial.next_cursor)

        faults.fail_cursor = None
        resumed = poll(url, tmp_path, cursor=store.get(), limit=2)
        received += resumed.received
    assert [r.source_uri for r in received] == [f"api:R{n:04d}" for n in range(6)]
    cursors = [r["cursor"] for r in faults.requests if r["status"] == 200]
    assert cursors == [None, "o2", "o4"]


def test_seen_items_are_skipped_without_writing_them_again(tmp_path):
    items = [api_item(n) for n in range(3)]
    with serve_in_thread(items, TOKEN) as url:
        first = poll(url, tmp_path)
        known = {(r.source_uri, r.raw_sha256) for r in first.received}
        again = poll_api(
            url,
            TOKEN,
            cursor=None,
            raw_dir=tmp_path / "raw",
            partition="2025-01-21",
            seen=lambda uri, sha: (uri, sha) in known,
        )
    assert again.received == [] and again.skipped == 3
    assert not (tmp_path / "raw" / "returns" / "api" / "2025-01-21").exists()


def test_bad_token_fails_at_once_without_retrying(tmp_path):
    faults = Faults()
    with serve_in_thread([api_item(0)], TOKEN, faults=faults) as url:
        with pytest.raises(ApiAuthError) as failure:
            poll_api(url, "wrong", cursor=None, raw_dir=tmp_path / "raw", partition="p")
        response = requests.get(f"{url}/api/v1/returns", timeout=5)
    assert failure.value.status == 401
    assert "wrong" not in str(failure.value)
    assert faults.statuses() == [401, 401]
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_workbook_attached_to_an_item_is_stored_too(tmp_path, make_workbook):
    workbook = make_workbook(tmp_path / "src" / "a.xlsx")
    with serve_in_thread([api_item(0, workbook=workbook)], TOKEN) as url:
        [received] = poll(url, tmp_path).received
    assert received.filename == "a.xlsx"
    folder = Path(received.raw_path).parent
    stored = [p for p in folder.iterdir() if p.suffix == ".xlsx"]
    assert [p.read_bytes() for p in stored] == [workbook.read_bytes()]


def test_items_served_from_a_folder_with_workbooks(tmp_path, make_workbook):
    folder = tmp_path / "items"
    make_workbook(folder / "wb" / "a.xlsx")
    item = api_item(0)
    item["workbook_path"] = "wb/a.xlsx"
    (folder / "001.json").write_text(json.dumps(item), encoding="utf-8")
    (folder / "002.json").write_text(json.dumps([api_item(1), api_item(2)]), encoding="utf-8")
    with serve_in_thread(folder, TOKEN) as url:
        result = poll(url, tmp_path)
    assert [r.source_uri for r in result.received] == ["api:R0000", "api:R0001", "api:R0002"]
    assert result.received[0].filename == "a.xlsx"


def test_a_malformed_response_is_an_error(tmp_path):
    class Broken:
        status_code = 200
        headers = None
        raw = io.BytesIO(b'{"data": []}')

        def close(self):
            pass

    class Session:
        def get(self, *args, **kwargs):
            return Broken()

    with pytest.raises(ApiError, match="no 'items' list"):
        poll_api(
            "http://127.0.0.1:9",
            TOKEN,
            cursor=None,
            raw_dir=tmp_path,
            partition="p",
            session=Session(),
        )


def test_max_pages_stops_with_a_resumable_cursor(tmp_path):
    items = [api_item(n) for n in range(5)]
    with serve_in_thread(items, TOKEN) as url:
        first = poll(url, tmp_path, limit=2, max_pages=1)
        rest = poll(url, tmp_path, cursor=first.next_cursor, limit=2)
    assert not first.exhausted and first.next_cursor == "o2"
    assert len(first.received) + len(rest.received) == 5


def test_cursor_store_round_trip(tmp_path):
    store = JsonFileCursorStore(tmp_path / "deep" / "cursor.json")
    assert store.get() is None
    store.put("o10")
    assert JsonFileCursorStore(tmp_path / "deep" / "cursor.json").get() == "o10"
    store.put(None)
    assert store.get() is None
    assert [p.name for p in (tmp_path / "deep").iterdir()] == ["cursor.json"]
