from __future__ import annotations

import hashlib
import io
import json
import os
import threading

import pytest
from huizong.rawstore import RawStore, RawStoreError, SourceTooLarge


def test_put_lands_bytes_under_their_hash_with_a_sidecar(tmp_path):
    store = RawStore(tmp_path)
    data = b"FL-01 return bytes"
    stored = store.put(
        data, area="returns/drop", partition="2025-01-20", suffix=".xlsx", meta={"who": "荷塘"}
    )
    sha = hashlib.sha256(data).hexdigest()
    assert stored.sha256 == sha
    assert stored.path == tmp_path / "returns" / "drop" / "2025-01-20" / f"{sha}.xlsx"
    assert stored.size == len(data) and stored.created
    assert stored.path.read_bytes() == data
    meta = json.loads(stored.meta_path.read_text(encoding="utf-8"))
    assert meta["who"] == "荷塘" and meta["sha256"] == sha and meta["size"] == len(data)
    assert store.read(stored.path) == data
    with store.open(stored.path) as fh:
        assert fh.read() == data
    assert store.read_meta(stored.path)["who"] == "荷塘"
    assert store.verify(stored.path)


def test_same_bytes_twice_is_a_no_op_and_first_meta_wins(tmp_path):
    store = RawStore(tmp_path)
    first = store.put(b"x", area="a", partition="p", suffix=".csv", meta={"source": "one"})
    mtime = first.path.stat().st_mtime_ns
    second = store.put(b"x", area="a", partition="p", suffix=".csv", meta={"source": "two"})
    assert second.path == first.path and not second.created
    assert first.path.stat().st_mtime_ns == mtime
    assert store.read_meta(first.path)["source"] == "one"
    assert sorted(p.name for p in first.path.parent.iterdir()) == sorted(
        [first.path.name, first.meta_path.name]
    )


def test_stored_objects_are_read_only_and_never_replaced(tmp_path):
    store = RawStore(tmp_path)
    stored = store.put(b"original", area="a", partition="p", suffix=".xlsx")
    assert not os.access(stored.path, os.W_OK) or os.geteuid() == 0
    assert stored.path.stat().st_mode & 0o222 == 0
    # A damaged copy under the same name is reported, not silently kept or overwritten.
    os.chmod(stored.path, 0o644)
    stored.path.write_bytes(b"damaged!!")
    with pytest.raises(RawStoreError, match="damaged"):
        store.put(b"original", area="a", partition="p", suffix=".xlsx")
    assert stored.path.read_bytes() == b"damaged!!"
    assert not store.verify(stored.path)


def test_a_crash_between_body_and_sidecar_heals_on_the_next_put(tmp_path):
    store = RawStore(tmp_path)
    stored = store.put(b"body", area="a", partition="p", suffix=".xls", meta={"n": 1})
    stored.meta_path.unlink()
    again = store.put(b"body", area="a", partition="p", suffix=".xls", meta={"n": 2})
    assert not again.created
    assert store.read_meta(stored.path)["n"] == 2


def test_stream_put_matches_put_and_leaves_no_temp_files(tmp_path):
    store = RawStore(tmp_path)
    data = os.urandom(3 * 1024 * 1024 + 17)  # several chunks
    streamed = store.put_stream(io.BytesIO(data), area="a", partition="p", suffix=".xlsx")
    assert streamed.sha256 == hashlib.sha256(data).hexdigest()
    assert streamed.size == len(data)
    assert streamed.path.read_bytes() == data
    assert store.put(data, area="a", partition="p", suffix=".xlsx").created is False
    assert not [p for p in streamed.path.parent.iterdir() if p.name.startswith(".")]


def test_stream_over_the_limit_raises_and_keeps_nothing(tmp_path):
    store = RawStore(tmp_path)
    with pytest.raises(SourceTooLarge):
        store.put_stream(
            io.BytesIO(b"x" * 100), area="a", partition="p", suffix=".xlsx", max_bytes=10
        )
    assert list((tmp_path / "a" / "p").iterdir()) == []


def test_spool_without_commit_discards(tmp_path):
    store = RawStore(tmp_path)
    with store.spool(io.BytesIO(b"maybe"), area="a", partition="p") as spooled:
        assert spooled.sha256 == hashlib.sha256(b"maybe").hexdigest()
    assert list((tmp_path / "a" / "p").iterdir()) == []


def test_concurrent_writers_of_the_same_bytes_store_one_copy(tmp_path):
    store = RawStore(tmp_path)
    data = b"same" * 10000
    results = []

    def put() -> None:
        results.append(store.put(data, area="a", partition="p", suffix=".xlsx"))

    threads = [threading.Thread(target=put) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.created for r in results) == 1
    assert len({r.path for r in results}) == 1
    assert sorted(p.suffix for p in (tmp_path / "a" / "p").iterdir()) == [".json", ".xlsx"]


@pytest.mark.parametrize(
    ("area", "partition", "suffix"),
    [
        ("../escape", "p", ".xlsx"),
        ("a", "..", ".xlsx"),
        ("a", "p/q", ".xlsx"),
        ("/abs", "p", ".xlsx"),
        ("a", "p", "/../x"),
        ("a", "p", ".json"),
        ("a", "", ".xlsx"),
    ],
)
def test_keys_that_could_escape_or_collide_are_refused(tmp_path, area, partition, suffix):
    with pytest.raises(RawStoreError):
        RawStore(tmp_path).put(b"x", area=area, partition=partition, suffix=suffix)


def test_reading_outside_the_store_is_refused(tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("no")
    store = RawStore(tmp_path / "raw")
    with pytest.raises(RawStoreError):
        store.read(outside)
    with pytest.raises(RawStoreError):
        store.read("../secret.txt")
