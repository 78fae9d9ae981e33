from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from huizong.returns.intake import (
    BAD_LAYOUT,
    BAD_UNIT_FOLDER,
    UNKNOWN_FORM,
    UNKNOWN_PERIOD,
    UNSUPPORTED_TYPE,
    scan_drop_folder,
)

from .conftest import UNIT

NOW = datetime(2025, 1, 20, 8, 0, 0)


class Ledger:
    """What the warehouse's raw_return/quarantine tables would remember."""

    def __init__(self) -> None:
        self.keys: set[tuple[str, str]] = set()

    def seen(self, source_uri: str, sha256: str) -> bool:
        return (source_uri, sha256) in self.keys

    def record(self, result) -> None:
        for received in [*result.received, *(r.received for r in result.rejected)]:
            self.keys.add((received.source_uri, received.raw_sha256))


def scan(root, tmp_path, ledger: Ledger | None = None, partition: str = "2025-01-20"):
    result = scan_drop_folder(
        root,
        raw_dir=tmp_path / "raw",
        partition=partition,
        seen=ledger.seen if ledger else None,
        now=NOW,
    )
    if ledger:
        ledger.record(result)
    return result


@pytest.fixture
def drop(tmp_path) -> Path:
    root = tmp_path / "drop"
    root.mkdir()
    return root


def test_a_well_placed_return_is_received_and_stored_raw(drop, tmp_path, make_workbook):
    path = make_workbook(drop / UNIT / "FL-01" / "2024Q4" / "荷塘区四季度.xlsx")
    result = scan(drop, tmp_path)
    assert result.rejected == [] and result.ignored == []
    [received] = result.received
    assert received.channel == "drop"
    assert received.source_uri == f"{UNIT}/FL-01/2024Q4/荷塘区四季度.xlsx"
    assert received.submitted_unit_code == UNIT
    assert (received.form, received.period) == ("FL-01", "2024Q4")
    assert received.filename == "荷塘区四季度.xlsx"
    assert received.received_at == NOW
    assert received.claimed_at is not None
    raw = Path(received.raw_path)
    assert raw.read_bytes() == path.read_bytes()
    assert raw.parent == tmp_path / "raw" / "returns" / "drop" / "2025-01-20"
    assert raw.name == f"{received.raw_sha256}.xlsx"


def test_period_folder_is_normalized(drop, tmp_path, make_workbook):
    make_workbook(drop / UNIT / "fl-01" / "2024年第四季度" / "a.csv")
    [received] = scan(drop, tmp_path).received
    assert (received.form, received.period) == ("FL-01", "2024Q4")
    assert received.source_uri == f"{UNIT}/fl-01/2024年第四季度/a.csv"


def test_unchanged_files_are_skipped_and_changed_ones_received_again(drop, tmp_path, make_workbook):
    ledger = Ledger()
    first = make_workbook(drop / UNIT / "FL-01" / "2024Q4" / "a.xlsx", seed=1)
    make_workbook(drop / "430203000000" / "FL-01" / "2024Q4" / "b.xlsx", seed=2)
    assert len(scan(drop, tmp_path, ledger).received) == 2

    again = scan(drop, tmp_path, ledger, partition="2025-01-21")
    assert again.received == [] and again.skipped == 2
    # An unchanged file costs no write in the new partition.
    assert not (tmp_path / "raw" / "returns" / "drop" / "2025-01-21").exists() or not any(
        p for p in (tmp_path / "raw" / "returns" / "drop" / "2025-01-21").iterdir()
    )

    make_workbook(first, seed=99)  # the unit corrects its figures in place
    changed = scan(drop, tmp_path, ledger, partition="2025-01-22")
    assert changed.skipped == 1
    [received] = changed.received
    assert received.source_uri.endswith("/a.xlsx")
    assert Path(received.raw_path).read_bytes() == first.read_bytes()


def test_rescanning_the_same_partition_is_idempotent(drop, tmp_path, make_workbook):
    make_workbook(drop / UNIT / "FL-01" / "2024Q4" / "a.xlsx")
    one = scan(drop, tmp_path)
    two = scan(drop, tmp_path)
    assert [r.submission_id for r in one.received] == [r.submission_id for r in two.received]
    files = list((tmp_path / "raw" / "returns" / "drop" / "2025-01-20").iterdir())
    assert len(files) == 2  # the workbook and its sidecar, once


@pytest.mark.parametrize(
    ("relative", "reason"),
    [
        ("a.xlsx", BAD_LAYOUT),
        (f"{UNIT}/a.xlsx", BAD_LAYOUT),
        (f"{UNIT}/FL-01/a.xlsx", BAD_LAYOUT),
        (f"{UNIT}/FL-01/2024Q4/补报/a.xlsx", BAD_LAYOUT),
        ("43020200000/FL-01/2024Q4/a.xlsx", BAD_UNIT_FOLDER),
        ("荷塘区/FL-01/2024Q4/a.xlsx", BAD_UNIT_FOLDER),
        ("４３０２０２００００００/FL-01/2024Q4/a.xlsx", BAD_UNIT_FOLDER),  # full-width digits
        (f"{UNIT}/FL-99/2024Q4/a.xlsx", UNKNOWN_FORM),
        (f"{UNIT}/FL-01/四季度/a.xlsx", UNKNOWN_PERIOD),
        (f"{UNIT}/FL-01/2024Q5/a.xlsx", UNKNOWN_PERIOD),
        (f"{UNIT}/FL-01/2024Q4/a.pdf", UNSUPPORTED_TYPE),
        (f"{UNIT}/FL-01/2024Q4/a", UNSUPPORTED_TYPE),
    ],
)
def test_misplaced_files_are_kept_raw_and_quarantined(
    drop, tmp_path, make_workbook, relative, reason
):
    path = drop / relative
    if path.suffix == ".xlsx":
        make_workbook(path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4 not a workbook")
    result = scan(drop, tmp_path)
    assert result.received == []
    [record] = result.rejected
    assert record.reason == reason
    assert record.detail
    assert record.received.source_uri == relative
    assert Path(record.received.raw_path).read_bytes() == path.read_bytes()


def test_misplaced_files_are_not_quarantined_again_once_seen(drop, tmp_path, make_workbook):
    ledger = Ledger()
    make_workbook(drop / "bad" / "FL-01" / "2024Q4" / "a.xlsx")
    assert len(scan(drop, tmp_path, ledger).rejected) == 1
    again = scan(drop, tmp_path, ledger)
    assert again.rejected == [] and again.skipped == 1


@pytest.mark.parametrize(
    "name",
    [
        "~$a.xlsx",
        ".~lock.a.xlsx#",
        "a.xlsx.tmp",
        "a.xlsx.bak",
        ".hidden.xlsx",
        "Thumbs.db",
        "a.xlsx~",
    ],
)
def test_temp_and_lock_files_are_ignored_not_stored(drop, tmp_path, make_workbook, name):
    make_workbook(drop / UNIT / "FL-01" / "2024Q4" / "a.xlsx")
    (drop / UNIT / "FL-01" / "2024Q4" / name).write_bytes(b"lock")
    result = scan(drop, tmp_path)
    assert [r.filename for r in result.received] == ["a.xlsx"]
    assert result.rejected == []
    [notice] = result.ignored
    assert notice.source_uri.endswith(name)
    assert notice.reason in {"temp_file", "system_file"}
    stored = list((tmp_path / "raw" / "returns" / "drop" / "2025-01-20").iterdir())
    assert len(stored) == 2


def test_symlink_escaping_the_root_is_not_followed(drop, tmp_path, make_workbook):
    secret = tmp_path / "outside" / "secret.xlsx"
    make_workbook(secret)
    folder = drop / UNIT / "FL-01" / "2024Q4"
    folder.mkdir(parents=True)
    os.symlink(secret, folder / "link.xlsx")
    os.symlink(tmp_path / "outside", drop / UNIT / "FL-01" / "2024Q3")
    result = scan(drop, tmp_path)
    assert result.received == [] and result.rejected == []
    assert sorted(n.reason for n in result.ignored) == ["symlink_escape", "symlink_escape"]
    assert not (tmp_path / "raw").exists() or not list((tmp_path / "raw").rglob("*.xlsx"))


def test_symlink_inside_the_root_is_read(drop, tmp_path, make_workbook):
    real = make_workbook(drop / UNIT / "FL-01" / "2024Q4" / "a.xlsx")
    os.symlink(real, drop / UNIT / "FL-01" / "2024Q4" / "b.xlsx")
    result = scan(drop, tmp_path)
    assert sorted(r.filename for r in result.received) == ["a.xlsx", "b.xlsx"]


def test_a_symlink_loop_inside_the_root_terminates(drop, tmp_path, make_workbook):
    make_workbook(drop / UNIT / "FL-01" / "2024Q4" / "a.xlsx")
    os.symlink(drop / UNIT, drop / UNIT / "FL-01" / "2024Q4" / "loop")
    result = scan(drop, tmp_path)
    assert [r.filename for r in result.received] == ["a.xlsx"]
    assert result.rejected == [] and result.ignored == []


def test_object_store_keys_with_dot_dot_are_not_read(tmp_path):
    class Key:
        """An object-store listing whose key segments are taken literally."""

        def __init__(self, name: str, children=(), data: bytes | None = None) -> None:
            self.name, self.children, self.data = name, list(children), data

        def iterdir(self):
            return iter(self.children)

        def is_dir(self) -> bool:
            return self.data is None

        def is_file(self) -> bool:
            return self.data is not None

        def is_symlink(self) -> bool:
            raise NotImplementedError

        def open(self, mode: str = "rb"):
            raise AssertionError(f"{self.name} must not be read")

    root = Key("drop", [Key(UNIT, [Key("FL-01", [Key("..", [Key("x.xlsx", data=b"x")])])])])
    result = scan_drop_folder(root, raw_dir=tmp_path / "raw", partition="p", now=NOW)
    assert result.received == [] and result.rejected == []
    assert [n.reason for n in result.ignored] == ["unsafe_name"]


def test_missing_root_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        scan_drop_folder(tmp_path / "nope", raw_dir=tmp_path / "raw", partition="p")


def test_object_storage_path_over_file_url_gives_the_same_result(drop, tmp_path, make_workbook):
    from airflow.sdk import ObjectStoragePath

    make_workbook(drop / UNIT / "FL-01" / "2024Q4" / "a.xlsx")
    make_workbook(drop / "bad" / "FL-01" / "2024Q4" / "b.xlsx")
    (drop / UNIT / "FL-01" / "2024Q4" / "~$a.xlsx").write_bytes(b"lock")
    plain = scan(drop, tmp_path)
    for root in (ObjectStoragePath(f"file://{drop}"), f"file://{drop}"):
        via_store = scan(root, tmp_path)
        assert [(r.source_uri, r.raw_sha256) for r in via_store.received] == [
            (r.source_uri, r.raw_sha256) for r in plain.received
        ]
        assert [(r.received.source_uri, r.reason) for r in via_store.rejected] == [
            (r.received.source_uri, r.reason) for r in plain.rejected
        ]
        assert [n.reason for n in via_store.ignored] == ["temp_file"]
        assert via_store.received[0].claimed_at == plain.received[0].claimed_at


def test_object_storage_path_does_not_follow_escaping_symlinks(drop, tmp_path, make_workbook):
    from airflow.sdk import ObjectStoragePath

    secret = make_workbook(tmp_path / "outside" / "secret.xlsx")
    folder = drop / UNIT / "FL-01" / "2024Q4"
    folder.mkdir(parents=True)
    os.symlink(secret, folder / "link.xlsx")
    result = scan(ObjectStoragePath(f"file://{drop}"), tmp_path)
    assert result.received == []
    assert [n.reason for n in result.ignored] == ["symlink_escape"]


def test_an_object_store_without_local_paths(tmp_path, make_workbook):
    """fsspec's in-memory store stands in for S3: no local path, no symlinks, no mtime."""
    from upath import UPath

    local = make_workbook(tmp_path / "src" / "a.xlsx")
    root = UPath(f"memory://huizong-test-{os.getpid()}/drop")
    try:
        for relative in (f"{UNIT}/FL-01/2024Q4/a.xlsx", "bad/FL-01/2024Q4/a.xlsx"):
            target = root.joinpath(*relative.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(local.read_bytes())
        root.joinpath(UNIT, "FL-01", "2024Q4", "~$a.xlsx").write_bytes(b"lock")
        ledger = Ledger()
        result = scan(root, tmp_path, ledger)
        assert [r.source_uri for r in result.received] == [f"{UNIT}/FL-01/2024Q4/a.xlsx"]
        assert [r.reason for r in result.rejected] == [BAD_UNIT_FOLDER]
        assert [n.reason for n in result.ignored] == ["temp_file"]
        assert Path(result.received[0].raw_path).read_bytes() == local.read_bytes()
        assert scan(root, tmp_path, ledger).skipped == 2
    finally:
        root.fs.rm(root.path, recursive=True)
