from __future__ import annotations

import io
import json
import os
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from huizong.returns.intake import (
    FUTURE_PERIOD,
    PERIOD_MISMATCH,
    RAW_MISSING,
    UNIT_MISMATCH,
    UNKNOWN_FORM,
    UNKNOWN_PERIOD,
    UNKNOWN_UNIT,
    UNREADABLE,
    poll_api,
    requeue_released,
    rows_from_api_values,
    scan_drop_folder,
    triage,
)
from huizong.returns.model import QuarantineRecord, StagedSubmission
from huizong.returns.samples import LayoutOptions, consistent_rows, write_return

from .conftest import OTHER_UNIT, TODAY, UNIT, api_item

NOW = datetime(2025, 1, 20, 8, 0, 0)


def received_from_drop(tmp_path, relative: str):
    result = scan_drop_folder(tmp_path / "drop", raw_dir=tmp_path / "raw", partition="p", now=NOW)
    [received] = [r for r in result.received if r.source_uri == relative]
    return received


def drop_path(tmp_path, name: str = "a.xlsx", *, unit: str = UNIT, period: str = "2024Q4"):
    return tmp_path / "drop" / unit / "FL-01" / period / name


def test_a_good_workbook_is_staged_with_its_figures(tmp_path, make_workbook):
    make_workbook(drop_path(tmp_path), seed=5)
    received = received_from_drop(tmp_path, f"{UNIT}/FL-01/2024Q4/a.xlsx")
    outcome = triage(received, as_of=TODAY)
    assert isinstance(outcome, StagedSubmission)
    expected = consistent_rows(5, period="2024Q4", null_fraction=0.0)
    assert outcome.rows == expected
    assert (outcome.unit_code, outcome.form, outcome.period) == (UNIT, "FL-01", "2024Q4")
    assert outcome.unit_name == "荷塘区妇联"
    assert outcome.reported_on == "2025-01-08"
    assert outcome.problems == []
    assert outcome.submission_id == received.submission_id


def test_cell_problems_travel_with_the_submission_and_name_their_cells(tmp_path):
    path = drop_path(tmp_path)
    path.parent.mkdir(parents=True)
    write_return(
        path,
        unit_code=UNIT,
        unit_name="荷塘区妇联",
        period="2024Q4",
        rows=consistent_rows(3, null_fraction=0.0),
        layout=LayoutOptions(percent_in=("03",)),
    )
    outcome = triage(received_from_drop(tmp_path, f"{UNIT}/FL-01/2024Q4/a.xlsx"), as_of=TODAY)
    assert isinstance(outcome, StagedSubmission)
    [problem] = outcome.problems
    assert (problem["row"], problem["column"]) == ("03", "current")
    assert outcome.rows["03"]["current"] is None
    assert outcome.cells["03"]["current"].startswith("Sheet1!D")


def test_a_workbook_declaring_another_unit_is_quarantined(tmp_path, make_workbook):
    make_workbook(drop_path(tmp_path), unit_code=OTHER_UNIT)
    received = received_from_drop(tmp_path, f"{UNIT}/FL-01/2024Q4/a.xlsx")
    outcome = triage(received, as_of=TODAY)
    assert isinstance(outcome, QuarantineRecord)
    assert outcome.reason == UNIT_MISMATCH
    assert outcome.declared_unit_code == OTHER_UNIT
    assert OTHER_UNIT in outcome.detail and UNIT in outcome.detail
    assert outcome.quarantine_id == received.submission_id


def test_a_workbook_without_a_unit_code_is_vouched_for_by_its_folder(tmp_path, make_workbook):
    make_workbook(drop_path(tmp_path, "a.csv"), unit_code=None)
    outcome = triage(received_from_drop(tmp_path, f"{UNIT}/FL-01/2024Q4/a.csv"), as_of=TODAY)
    assert isinstance(outcome, StagedSubmission)
    assert outcome.unit_code == UNIT


def test_a_workbook_for_another_period_than_its_folder_is_quarantined(tmp_path, make_workbook):
    make_workbook(drop_path(tmp_path), period="2024Q3")
    outcome = triage(received_from_drop(tmp_path, f"{UNIT}/FL-01/2024Q4/a.xlsx"), as_of=TODAY)
    assert isinstance(outcome, QuarantineRecord)
    assert outcome.reason == PERIOD_MISMATCH
    assert "2024Q3" in outcome.detail and "2024Q4" in outcome.detail


def test_a_period_that_has_not_begun_is_quarantined(tmp_path, make_workbook):
    make_workbook(drop_path(tmp_path, period="2025Q2"), period="2025Q2")
    received = received_from_drop(tmp_path, f"{UNIT}/FL-01/2025Q2/a.xlsx")
    outcome = triage(received, as_of=TODAY)
    assert isinstance(outcome, QuarantineRecord) and outcome.reason == FUTURE_PERIOD
    # The current quarter may be reported before it ends (due the 25th of its last month).
    assert isinstance(triage(received, as_of=date(2025, 4, 1)), StagedSubmission)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated zip", "单位,代码\n".encode("gbk")])
def test_unreadable_files_are_quarantined(tmp_path, content):
    path = drop_path(tmp_path, "a.xlsx")
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    outcome = triage(received_from_drop(tmp_path, f"{UNIT}/FL-01/2024Q4/a.xlsx"), as_of=TODAY)
    assert isinstance(outcome, QuarantineRecord)
    assert outcome.reason == UNREADABLE
    assert outcome.detail


def test_identity_of_the_submission_itself_is_checked(tmp_path, make_workbook):
    make_workbook(drop_path(tmp_path))
    received = received_from_drop(tmp_path, f"{UNIT}/FL-01/2024Q4/a.xlsx")
    cases = {
        UNKNOWN_UNIT: replace(received, submitted_unit_code="4302"),
        UNKNOWN_FORM: replace(received, form="FL-99"),
        UNKNOWN_PERIOD: replace(received, period="2024Q5"),
    }
    for reason, changed in cases.items():
        outcome = triage(changed, as_of=TODAY)
        assert isinstance(outcome, QuarantineRecord) and outcome.reason == reason, reason


def test_a_missing_raw_copy_is_held(tmp_path, make_workbook):
    make_workbook(drop_path(tmp_path))
    received = received_from_drop(tmp_path, f"{UNIT}/FL-01/2024Q4/a.xlsx")
    outcome = triage(replace(received, raw_path=str(tmp_path / "gone.xlsx")), as_of=TODAY)
    assert isinstance(outcome, QuarantineRecord) and outcome.reason == RAW_MISSING


# --------------------------------------------------------------------------- API items


class _Page:
    """One page as a streamed HTTP response: its body is read from ``raw``."""

    status_code = 200

    def __init__(self, items):
        body = {"items": items, "next_cursor": "end", "has_more": False}
        self.raw = io.BytesIO(json.dumps(body).encode())
        self.headers: dict[str, str] = {}

    def close(self):
        self.raw.close()


class _OnePage:
    def __init__(self, items):
        self.items = items

    def get(self, *args, **kwargs):
        return _Page(self.items)


def received_from_api(tmp_path, *items):
    result = poll_api(
        "http://127.0.0.1:9",
        "t",
        cursor=None,
        raw_dir=tmp_path / "raw",
        partition="p",
        session=_OnePage(list(items)),
        now=NOW,
    )
    return result.received


def test_api_values_are_read_with_the_parser_value_rules(tmp_path):
    values = {
        "01": {"current": "1,234", "ytd": "１２３", "last_year": "—"},
        "10": {"current": 1.234, "ytd": "1.5万元", "last_year": 0},
        "03": {"current": "95%"},
        "7": {"current": 3},
        "99": {"current": 1},
        "05": 12,
    }
    [received] = received_from_api(tmp_path, api_item(0, values=values))
    outcome = triage(received, as_of=TODAY)
    assert isinstance(outcome, StagedSubmission)
    assert outcome.rows["01"] == {"current": 1234, "ytd": 123, "last_year": None}
    assert outcome.rows["10"] == {"current": None, "ytd": 15000.0, "last_year": 0.0}
    assert outcome.rows["03"]["current"] is None
    assert outcome.rows["07"]["current"] == 3
    assert "99" not in outcome.rows and "05" not in outcome.rows
    flagged = {(p["row"], p["column"]) for p in outcome.problems}
    assert flagged == {("10", "current"), ("03", "current"), ("99", "code"), ("05", "code")}
    assert all(p["message"] for p in outcome.problems)


def test_rows_from_api_values_refuses_negative_and_fractional_counts():
    rows, problems = rows_from_api_values({"01": {"current": -1, "ytd": 2.5}}, "FL-01")
    assert rows["01"] == {"current": None, "ytd": None, "last_year": None}
    assert [p["column"] for p in problems] == ["current", "ytd"]


def test_api_item_whose_workbook_declares_another_unit_is_quarantined(tmp_path, make_workbook):
    workbook = make_workbook(tmp_path / "wb.xlsx", unit_code=OTHER_UNIT)
    [received] = received_from_api(tmp_path, api_item(0, workbook=workbook))
    outcome = triage(received, as_of=TODAY)
    assert isinstance(outcome, QuarantineRecord)
    assert outcome.reason == UNIT_MISMATCH and outcome.declared_unit_code == OTHER_UNIT


def test_api_item_whose_workbook_is_for_another_period_is_quarantined(tmp_path, make_workbook):
    workbook = make_workbook(tmp_path / "wb.xlsx", period="2024Q3")
    [received] = received_from_api(tmp_path, api_item(0, workbook=workbook))
    outcome = triage(received, as_of=TODAY)
    assert isinstance(outcome, QuarantineRecord) and outcome.reason == PERIOD_MISMATCH


def test_api_item_with_only_a_workbook_uses_its_figures(tmp_path, make_workbook):
    workbook = make_workbook(tmp_path / "wb.xlsx", seed=8)
    item = api_item(0, workbook=workbook)
    del item["values"]
    [received] = received_from_api(tmp_path, item)
    outcome = triage(received, as_of=TODAY)
    assert isinstance(outcome, StagedSubmission)
    assert outcome.rows == consistent_rows(8, null_fraction=0.0)


def test_api_item_with_an_unreadable_workbook_keeps_its_values(tmp_path):
    item = api_item(0)
    item["workbook_b64"] = "bm90IGEgd29ya2Jvb2s="  # "not a workbook"
    item["workbook_filename"] = "a.xlsx"
    [received] = received_from_api(tmp_path, item)
    outcome = triage(received, as_of=TODAY)
    assert isinstance(outcome, StagedSubmission)
    assert outcome.rows["01"]["current"] == 10
    assert any("unreadable" in p["message"] for p in outcome.problems)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"form": "FL-99"}, UNKNOWN_FORM),
        ({"period": "2024Q5"}, UNKNOWN_PERIOD),
        ({"period": "2026Q1"}, FUTURE_PERIOD),
        ({"unit_code": "43020200"}, UNKNOWN_UNIT),
        ({"values": {}}, UNREADABLE),
    ],
)
def test_api_item_identity_problems_are_quarantined(tmp_path, change, reason):
    [received] = received_from_api(tmp_path, {**api_item(0), **change})
    outcome = triage(received, as_of=TODAY)
    assert isinstance(outcome, QuarantineRecord)
    assert outcome.reason == reason


def test_api_item_that_is_not_an_object_is_kept_and_quarantined(tmp_path):
    [received] = received_from_api(tmp_path, ["not", "an", "item"])
    assert received.source_uri.startswith("api:sha256:")
    assert Path(received.raw_path).exists()
    outcome = triage(received, as_of=TODAY)
    assert isinstance(outcome, QuarantineRecord)


# --------------------------------------------------------------------------- requeue


def test_requeue_re_triages_released_records_from_their_raw_copies(tmp_path, make_workbook):
    make_workbook(drop_path(tmp_path, period="2025Q2"), period="2025Q2")
    received = received_from_drop(tmp_path, f"{UNIT}/FL-01/2025Q2/a.xlsx")
    held = triage(received, as_of=TODAY)
    assert isinstance(held, QuarantineRecord) and held.reason == FUTURE_PERIOD

    still = requeue_released([held], as_of=TODAY)
    assert [o.reason for o in still] == [FUTURE_PERIOD]
    [staged] = requeue_released([held], as_of=date(2025, 4, 2))
    assert isinstance(staged, StagedSubmission)
    assert staged.submission_id == held.quarantine_id


def test_requeue_accepts_quarantine_table_rows(tmp_path):
    [received] = received_from_api(tmp_path, api_item(3, version=4))
    row = {
        "quarantine_id": received.submission_id,
        "channel": "api",
        "source_uri": received.source_uri,
        "raw_sha256": received.raw_sha256,
        "raw_path": received.raw_path,
        "submitted_unit_code": received.submitted_unit_code,
        "declared_unit_code": None,
        "form": "FL-01",
        "period": "2024Q4",
        "reason": "unit_mismatch",
        "detail": "…",
        "created_at": NOW,
        "released_at": NOW,
        "status": "released",
    }
    [outcome] = requeue_released([row], as_of=TODAY)
    assert isinstance(outcome, StagedSubmission)
    assert outcome.received.api_version == 4
    assert outcome.received.api_values == api_item(3, version=4)["values"]
    assert outcome.submission_id == received.submission_id


def test_requeue_refuses_a_raw_copy_that_changed(tmp_path, make_workbook):
    make_workbook(drop_path(tmp_path))
    received = received_from_drop(tmp_path, f"{UNIT}/FL-01/2024Q4/a.xlsx")
    record = QuarantineRecord(received, UNIT_MISMATCH, "released by hand")
    raw = Path(received.raw_path)
    os.chmod(raw, 0o644)
    raw.write_bytes(raw.read_bytes() + b"tampered")
    [outcome] = requeue_released([record], as_of=TODAY)
    assert isinstance(outcome, QuarantineRecord) and outcome.reason == RAW_MISSING
