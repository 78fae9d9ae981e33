"""Raw portal pages land once, as received, with their sidecar."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime

import pytest
from huizong.portal.rawstore import RawPageStore
from huizong.rawstore import RawStoreError

BODY = "<html><body><p>请于2020323日前将组织开展活动的情况报妇联OA</p></body></html>".encode("gbk")
FETCHED_AT = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)


def store_body(store: RawPageStore, body: bytes = BODY, partition: str = "2024-05-01", **overrides):
    fields = {
        "portal_id": "rongan",
        "partition": partition,
        "body": body,
        "url": "http://www.rongan.gov.cn/fl/t1.html",
        "final_url": "http://www.rongan.gov.cn/fl/t1.html",
        "fetched_at": FETCHED_AT,
        "status": 200,
        "headers": {"Content-Type": "text/html; charset=gb2312", "ETag": '"a1"'},
        "declared_encoding": "gb2312",
        "detected_encoding": None,
    }
    fields.update(overrides)
    return store.put(**fields)


def all_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_body_and_sidecar_land_under_portal_partition_sha(tmp_path):
    record = store_body(RawPageStore(tmp_path))
    sha = hashlib.sha256(BODY).hexdigest()

    assert record.sha256 == sha and record.created and record.size == len(BODY)
    assert record.body_path == tmp_path / "portal" / "rongan" / "2024-05-01" / f"{sha}.body"
    assert record.body_path.read_bytes() == BODY
    meta = json.loads(record.meta_path.read_text(encoding="utf-8"))
    assert meta["url"] == meta["final_url"] == "http://www.rongan.gov.cn/fl/t1.html"
    assert meta["fetched_at"] == "2024-05-01T08:30:00+00:00"
    assert meta["status"] == 200
    assert meta["headers"]["ETag"] == '"a1"'
    assert meta["declared_encoding"] == "gb2312" and meta["detected_encoding"] is None
    assert meta["sha256"] == sha and meta["size"] == len(BODY)
    assert meta["portal_id"] == "rongan" and meta["partition"] == "2024-05-01"


def test_storing_the_same_body_again_is_a_no_op(tmp_path):
    store = RawPageStore(tmp_path)
    first = store_body(store)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}

    again = store_body(store, url="http://www.rongan.gov.cn/other.html")

    assert not again.created and again.body_path == first.body_path
    after = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before
    assert store.read_meta(first.body_path)["url"] == "http://www.rongan.gov.cn/fl/t1.html"


def test_stored_files_are_read_only_and_no_temp_files_remain(tmp_path):
    record = store_body(RawPageStore(tmp_path))
    assert not os.access(record.body_path, os.W_OK) or os.geteuid() == 0
    assert record.body_path.stat().st_mode & 0o222 == 0
    assert all(not name.startswith(".") for name in os.listdir(record.body_path.parent))


def test_partitions_are_separate_and_find_prefers_the_latest(tmp_path):
    store = RawPageStore(tmp_path)
    old = store_body(store, partition="2024-04-30")
    new = store_body(store, partition="2024-05-01")
    assert old.created and new.created and old.body_path != new.body_path
    assert store.find("rongan", old.sha256) == new.body_path
    assert store.find("rongan", "0" * 64) is None
    assert store.find("unknown-portal", old.sha256) is None


def test_find_falls_back_to_earlier_partitions(tmp_path):
    store = RawPageStore(tmp_path)
    old = store_body(store, partition="2024-04-30")
    store_body(store, body=b"<p>other</p>", partition="2024-05-01")
    assert store.find("rongan", old.sha256) == old.body_path


@pytest.mark.parametrize(
    ("portal_id", "partition"),
    [("../etc", "2024-05-01"), ("rongan", "2024/05/01"), ("rongan", "..")],
)
def test_unsafe_names_are_refused(tmp_path, portal_id, partition):
    with pytest.raises(RawStoreError):
        store_body(RawPageStore(tmp_path), portal_id=portal_id, partition=partition)
    assert all_files(tmp_path) == []
