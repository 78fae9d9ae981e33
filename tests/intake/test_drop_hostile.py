"""The drop folder against a submitter who controls the files' times, contents and links.

Each test performs the attack: a backdated modification time, a file still
being copied (a CSV cut at 60 %, an xlsx written in two steps), a file swapped
for a symbolic link between the check and the read.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from huizong.returns import intake
from huizong.returns.intake import UNREADABLE, scan_drop_folder, triage, utc_now
from huizong.returns.model import QuarantineRecord, StagedSubmission
from huizong.returns.samples import LayoutOptions, consistent_rows, write_return
from huizong.settings import Settings

from .conftest import TODAY, UNIT

FOLDER = Path(UNIT) / "FL-01" / "2024Q4"
LONG_AGO = datetime(2025, 1, 5, 1, 0)  # before 2024Q4's due date (2025-01-10)


@pytest.fixture(autouse=True)
def _settled_at_once(monkeypatch):
    # Files here are complete when written; the settling tests turn it back on.
    monkeypatch.setenv("HUIZONG_DROP_SETTLE_SECONDS", "0")


@pytest.fixture
def drop(tmp_path) -> Path:
    root = tmp_path / "drop"
    (root / FOLDER).mkdir(parents=True)
    return root


@pytest.fixture
def engine(tmp_path):
    from huizong.pipeline import prepare_warehouse
    from huizong.warehouse import db

    engine = db.get_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    prepare_warehouse(engine)  # the schema and the seed hierarchy
    return engine


def settings_for(tmp_path: Path, drop: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        warehouse_url=f"sqlite:///{tmp_path / 'warehouse.db'}",
        raw_dir=tmp_path / "raw",
        drop_dir=drop,
        outbox_dir=tmp_path / "outbox",
        docs_dir=tmp_path / "docs",
        portals_file=None,
    )


def workbook_bytes(tmp_path: Path, *, fmt: str, seed: int = 1) -> bytes:
    path = tmp_path / f"source-{seed}.{fmt}"
    write_return(
        path,
        unit_code=UNIT,
        unit_name="荷塘区妇联",
        period="2024Q4",
        rows=consistent_rows(seed, period="2024Q4", null_fraction=0.0),
        layout=LayoutOptions(fmt=fmt, null_marker=""),
    )
    return path.read_bytes()


def backdate(path: Path, when: datetime) -> None:
    stamp = when.replace(tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))


def scan(drop: Path, tmp_path: Path, **kwargs):
    kwargs.setdefault("partition", "p")
    return scan_drop_folder(drop, raw_dir=tmp_path / "raw", **kwargs)


# ---------------------------------------------------------------- received time


def test_a_backdated_modification_time_is_kept_only_as_the_claim(drop, tmp_path):
    path = drop / FOLDER / "a.xlsx"
    path.write_bytes(workbook_bytes(tmp_path, fmt="xlsx"))
    before = utc_now() - timedelta(seconds=2)
    backdate(path, LONG_AGO)
    [received] = scan(drop, tmp_path).received
    assert received.claimed_at == LONG_AGO
    # The change time the kernel kept: when the file reached the folder, not its claim.
    assert received.received_at >= before
    assert received.received_at <= utc_now()


def test_a_backdated_resubmission_becomes_the_newest_version_and_is_late(
    drop, tmp_path, engine
):
    from huizong import pipeline

    settings = settings_for(tmp_path, drop)
    path = drop / FOLDER / "a.xlsx"
    path.write_bytes(workbook_bytes(tmp_path, fmt="xlsx", seed=1))
    first = pipeline.receive_drop_folder(
        engine, drop, batch_id="b1", partition="p1", settings=settings
    )
    assert first.staged == 1
    pipeline.publish_staged(engine)
    # The unit replaces its return and sets the file's time back before the due date.
    replacement = drop / FOLDER / "b.xlsx"
    replacement.write_bytes(workbook_bytes(tmp_path, fmt="xlsx", seed=2))
    backdate(replacement, LONG_AGO)
    second = pipeline.receive_drop_folder(
        engine, drop, batch_id="b2", partition="p2", settings=settings
    )
    assert second.staged == 1
    pipeline.publish_staged(engine)
    with engine.connect() as conn:
        versions = conn.execute(
            sa.text(
                "SELECT source_uri, version, status, claimed_at, submitted_on"
                " FROM return_submission ORDER BY version"
            )
        ).all()
        status = conn.execute(
            sa.text("SELECT status FROM v_completeness_detail WHERE unit_code = :u"), {"u": UNIT}
        ).scalar_one()
    assert [(Path(v.source_uri).name, v.version, v.status) for v in versions] == [
        ("a.xlsx", 1, "superseded"),
        ("b.xlsx", 2, "published"),
    ]
    assert str(versions[1].claimed_at).startswith("2025-01-05 01:00")
    assert str(versions[1].submitted_on) > "2025-01-10"
    assert status == "late"


def test_a_rerun_keeps_the_time_the_return_was_first_received(drop, tmp_path, engine):
    from huizong import pipeline
    from huizong.warehouse import load

    settings = settings_for(tmp_path, drop)
    (drop / FOLDER / "a.xlsx").write_bytes(workbook_bytes(tmp_path, fmt="xlsx"))
    # A run landed it raw at LONG_AGO and died before staging it.
    landed = scan(drop, tmp_path, partition="p0", now=LONG_AGO)
    load.record_raw_returns(engine, landed.received)
    assert landed.received[0].received_at == LONG_AGO
    summary = pipeline.receive_drop_folder(
        engine, drop, batch_id="b1", partition="p1", settings=settings
    )
    assert summary.staged == 1
    with engine.connect() as conn:
        received_at, submitted_on = conn.execute(
            sa.text("SELECT received_at, submitted_on FROM return_submission")
        ).one()
    assert str(received_at).startswith("2025-01-05 01:00")
    assert str(submitted_on) == "2025-01-05"


def test_an_api_rerun_keeps_the_time_of_the_first_fetch(tmp_path, engine):
    from huizong import pipeline
    from huizong.returns.api_server import serve_in_thread
    from huizong.returns.intake import poll_api
    from huizong.warehouse import load

    from .conftest import api_item

    settings = settings_for(tmp_path, tmp_path / "drop")
    items = [api_item(0)]
    with serve_in_thread(items, "tok") as url:
        landed = poll_api(
            url, "tok", cursor=None, raw_dir=tmp_path / "raw", partition="p0", now=LONG_AGO
        )
        load.record_raw_returns(engine, landed.received)  # and the run died here
        summary = pipeline.receive_reporting_api(
            engine, url, "tok", batch_id="b1", partition="p1", settings=settings
        )
    assert summary.staged == 1
    with engine.connect() as conn:
        received_at, claimed_at = conn.execute(
            sa.text("SELECT received_at, claimed_at FROM return_submission")
        ).one()
    assert str(received_at).startswith("2025-01-05 01:00")
    assert str(claimed_at).startswith("2025-01-01 01:30")  # the item's own submitted_at


# -------------------------------------------------------------------- settling


def test_a_csv_cut_at_60_percent_waits_until_it_is_complete(drop, tmp_path, engine, monkeypatch):
    from huizong import pipeline

    monkeypatch.delenv("HUIZONG_DROP_SETTLE_SECONDS")  # the default: on, 30 s
    settings = settings_for(tmp_path, drop)
    whole = workbook_bytes(tmp_path, fmt="csv")
    path = drop / FOLDER / "a.csv"
    path.write_bytes(whole[: len(whole) * 6 // 10])

    def run(batch: str, after: float):
        return pipeline.receive_drop_folder(
            engine, drop, batch_id=batch, partition=batch, settings=settings,
            now=utc_now() + timedelta(seconds=after),
        )  # fmt: skip

    copying = run("b1", 0)
    assert (copying.received, copying.skipped) == (0, 1)
    assert not list((tmp_path / "raw").rglob("*.csv"))  # the 60 % never landed
    with path.open("ab") as out:
        out.write(whole[len(whole) * 6 // 10 :])
    assert run("b2", 5).received == 0  # changed 5 s ago: still settling
    later = run("b3", 31)
    assert (later.received, later.staged, later.quarantined) == (1, 1, 0)
    with engine.connect() as conn:
        raw_path = conn.execute(sa.text("SELECT raw_path FROM return_submission")).scalar_one()
    assert Path(raw_path).read_bytes() == whole


def test_the_scan_reports_a_file_changed_too_recently_as_settling(drop, tmp_path):
    (drop / FOLDER / "a.csv").write_bytes(workbook_bytes(tmp_path, fmt="csv"))
    result = scan(drop, tmp_path, settle_seconds=30)
    assert result.received == [] and result.rejected == []
    assert [(n.reason, n.source_uri) for n in result.ignored] == [
        ("settling", f"{UNIT}/FL-01/2024Q4/a.csv")
    ]
    assert "unchanged for 30s" in result.ignored[0].detail


def test_a_backdated_half_written_file_still_waits(drop, tmp_path):
    # Setting the modification time back does not make a file look settled.
    whole = workbook_bytes(tmp_path, fmt="csv")
    path = drop / FOLDER / "a.csv"
    path.write_bytes(whole[: len(whole) // 2])
    backdate(path, LONG_AGO)
    assert [n.reason for n in scan(drop, tmp_path, settle_seconds=30).ignored] == ["settling"]


def test_an_xlsx_written_in_two_steps_is_not_quarantined_while_copying(
    drop, tmp_path, engine, monkeypatch
):
    from huizong import pipeline

    settings = settings_for(tmp_path, drop)
    whole = workbook_bytes(tmp_path, fmt="xlsx")
    path = drop / FOLDER / "a.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    monkeypatch.delenv("HUIZONG_DROP_SETTLE_SECONDS")  # the default is on
    first = pipeline.receive_drop_folder(
        engine, drop, batch_id="b1", partition="p1", settings=settings
    )
    assert (first.received, first.quarantined, first.skipped) == (0, 0, 1)
    with path.open("ab") as out:
        out.write(whole[len(whole) // 2 :])
    second = pipeline.receive_drop_folder(
        engine, drop, batch_id="b2", partition="p2", settings=settings,
        now=utc_now() + timedelta(seconds=31),
    )  # fmt: skip
    assert (second.received, second.staged, second.quarantined) == (1, 1, 0)


def test_a_quarantined_unreadable_file_is_taken_again_once_it_changes(drop, tmp_path, engine):
    from huizong import pipeline
    from huizong.warehouse import load

    # Settling off (as in the fixture): the half file is read and held as unreadable.
    settings = settings_for(tmp_path, drop)
    whole = workbook_bytes(tmp_path, fmt="xlsx")
    path = drop / FOLDER / "a.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    first = pipeline.receive_drop_folder(
        engine, drop, batch_id="b1", partition="p1", settings=settings
    )
    assert first.quarantined == 1 and first.quarantine_reasons[0]["reason"] == UNREADABLE
    unchanged = pipeline.receive_drop_folder(
        engine, drop, batch_id="b2", partition="p2", settings=settings
    )
    assert unchanged.received == 0  # the same bytes are not read into quarantine again
    path.write_bytes(whole)
    fixed = pipeline.receive_drop_folder(
        engine, drop, batch_id="b3", partition="p3", settings=settings
    )
    assert (fixed.received, fixed.staged, fixed.quarantined) == (1, 1, 0)
    # The half file's entry does not stay held once the whole file is in.
    assert load.list_quarantine(engine, status="held") == []
    [done] = load.list_quarantine(engine)
    assert done.status == "requeued" and "superseded" in done.detail
    # Nor is it read again by a later run.
    again = pipeline.receive_drop_folder(
        engine, drop, batch_id="b4", partition="p4", settings=settings
    )
    assert again.received == 0 and load.list_quarantine(engine, status="held") == []


def test_the_settle_interval_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("HUIZONG_DROP_SETTLE_SECONDS", raising=False)
    assert intake.drop_settle_seconds_from_env() == 30
    monkeypatch.setenv("HUIZONG_DROP_SETTLE_SECONDS", "2.5")
    assert intake.drop_settle_seconds_from_env() == 2.5
    monkeypatch.setenv("HUIZONG_DROP_SETTLE_SECONDS", "soon")
    with pytest.raises(ValueError, match="HUIZONG_DROP_SETTLE_SECONDS='soon'"):
        intake.drop_settle_seconds_from_env()


# -------------------------------------------------------------- symlink swaps


@pytest.fixture
def secret(tmp_path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    path = outside / "secret.xlsx"
    path.write_bytes(b"PK secret bytes that must never be stored")
    return path


def swap_after_check(monkeypatch, swap):
    original = intake._check_local

    def check_then_swap(local, root_real):
        checked = original(local, root_real)
        swap(Path(local))
        return checked

    monkeypatch.setattr(intake, "_check_local", check_then_swap)


def test_a_symlink_swapped_in_after_the_check_is_not_followed(
    drop, tmp_path, secret, monkeypatch
):
    path = drop / FOLDER / "a.xlsx"
    path.write_bytes(workbook_bytes(tmp_path, fmt="xlsx"))

    def to_symlink(local: Path) -> None:
        local.unlink()
        local.symlink_to(secret)

    swap_after_check(monkeypatch, to_symlink)
    result = scan(drop, tmp_path)
    assert result.received == [] and result.rejected == []
    assert [n.reason for n in result.ignored] == ["swapped"]
    stored = [p.read_bytes() for p in (tmp_path / "raw").rglob("*") if p.is_file()]
    assert all(b"secret bytes" not in data for data in stored)


def test_a_file_renamed_over_the_checked_one_is_not_read(drop, tmp_path, secret, monkeypatch):
    path = drop / FOLDER / "a.xlsx"
    path.write_bytes(workbook_bytes(tmp_path, fmt="xlsx"))

    def rename_over(local: Path) -> None:
        os.link(secret, local.with_name("tmp-link"))
        os.replace(local.with_name("tmp-link"), local)  # another inode, same name

    swap_after_check(monkeypatch, rename_over)
    result = scan(drop, tmp_path)
    assert result.received == [] and [n.reason for n in result.ignored] == ["swapped"]


def test_a_symlink_inside_the_folder_is_still_read_at_its_target(drop, tmp_path):
    target = drop / FOLDER / "real.xlsx"
    target.write_bytes(workbook_bytes(tmp_path, fmt="xlsx"))
    (drop / FOLDER / "link.xlsx").symlink_to(target)
    result = scan(drop, tmp_path)
    assert sorted(Path(r.source_uri).name for r in result.received) == ["link.xlsx", "real.xlsx"]


def test_a_symlink_out_of_the_folder_found_at_the_check_is_refused(drop, tmp_path, secret):
    (drop / FOLDER / "a.xlsx").symlink_to(secret)
    result = scan(drop, tmp_path)
    assert result.received == [] and [n.reason for n in result.ignored] == ["symlink_escape"]


def test_the_object_storage_path_reads_through_its_own_open(drop, tmp_path):
    from airflow.sdk import ObjectStoragePath

    (drop / FOLDER / "a.xlsx").write_bytes(workbook_bytes(tmp_path, fmt="xlsx"))
    [received] = scan(ObjectStoragePath(f"file://{drop}"), tmp_path).received
    assert received.source_uri == f"{UNIT}/FL-01/2024Q4/a.xlsx"
    assert isinstance(triage(received, as_of=TODAY), StagedSubmission)
    assert not isinstance(triage(received, as_of=TODAY), QuarantineRecord)


def test_a_folder_swapped_for_a_link_out_after_the_walk_is_not_read(
    drop, tmp_path, secret, monkeypatch
):
    (drop / FOLDER / "secret.xlsx").write_bytes(workbook_bytes(tmp_path, fmt="xlsx"))
    original_walk = intake._walk

    def walk_then_swap(root, notices):
        for entry in original_walk(root, notices):
            # The period folder is replaced by a link to a folder outside the
            # drop folder that holds a file of the same name.
            period = drop / FOLDER
            period.rename(tmp_path / "moved-away")
            period.symlink_to(secret.parent, target_is_directory=True)
            yield entry

    monkeypatch.setattr(intake, "_walk", walk_then_swap)
    result = scan(drop, tmp_path)
    assert result.received == [] and [n.reason for n in result.ignored] == ["symlink_escape"]
    stored = [p.read_bytes() for p in (tmp_path / "raw").rglob("*") if p.is_file()]
    assert all(b"secret bytes" not in data for data in stored)
