"""Findings across runs: keyed, not duplicated, resolved once when the return is fixed."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from huizong.quality.findings import (
    blocking_submission_ids,
    load_findings,
    record,
    warned_submission_ids,
)
from huizong.quality.rules import check_staged, staged_scope
from quality_warehouse import TOWNS

BAD = {"17": (12, 12, None), "18": (13, 13, None), "08": (500, 500, None), "09": (600, 600, None)}
FIXED = {"17": (12, 12, None), "18": (10, 10, None), "08": (500, 500, None), "09": (600, 600, None)}


def _open(engine):
    return {(f["check_name"], f["indicator_code"]) for f in load_findings(engine, open_only=True)}


def test_rerun_adds_nothing_and_fix_resolves_once(wh):
    sid = wh.stage(TOWNS[0], "2025Q1", BAD)
    first = check_staged(wh.engine)
    delta = record(wh.engine, first, seen_at=datetime(2025, 4, 1, 8), scope=staged_scope(wh.engine))
    assert len(delta.new) == 2 and delta.resolved == []
    assert blocking_submission_ids(first) == {sid}  # 18 > 17 is an error
    assert warned_submission_ids(first) == set()  # warned only if not blocked

    again = record(wh.engine, check_staged(wh.engine), seen_at=datetime(2025, 4, 2, 8))
    assert again.new == [] and len(again.still_open) == 2 and again.resolved == []
    with wh.engine.connect() as conn:
        seen = conn.execute(sa.text("SELECT first_seen, last_seen FROM finding")).fetchall()
    assert {str(r.first_seen)[:10] for r in seen} == {"2025-04-01"}
    assert {str(r.last_seen)[:10] for r in seen} == {"2025-04-02"}

    wh.mark_published()
    fixed_sid = wh.stage(TOWNS[0], "2025Q1", FIXED, version=2)
    fixed = check_staged(wh.engine)
    delta = record(wh.engine, fixed, seen_at=datetime(2025, 4, 3, 8))
    assert delta.new == [] and len(delta.resolved) == 1
    assert _open(wh.engine) == {("subtotal_le_parent", "09")}
    assert warned_submission_ids(fixed) == {fixed_sid} and blocking_submission_ids(fixed) == set()

    delta = record(wh.engine, fixed, seen_at=datetime(2025, 4, 4, 8))
    assert delta.resolved == [] and delta.new == []


def test_findings_outside_the_scope_stay_open(wh):
    wh.stage(TOWNS[0], "2025Q1", BAD)
    record(wh.engine, check_staged(wh.engine), seen_at=datetime(2025, 4, 1))
    wh.mark_published()
    wh.stage(TOWNS[1], "2025Q1", FIXED)  # another town checked, 城关镇 not re-checked
    delta = record(wh.engine, check_staged(wh.engine), seen_at=datetime(2025, 4, 2))
    assert delta.resolved == []
    assert len(_open(wh.engine)) == 2


def test_check_scoped_keys_and_families_limit_resolution(wh):
    wh.stage(TOWNS[0], "2025Q1", BAD)
    record(wh.engine, check_staged(wh.engine), seen_at=datetime(2025, 4, 1))
    key = (TOWNS[0], "FL-01", "2025Q1")
    delta = record(wh.engine, [], seen_at=datetime(2025, 4, 2), scope={(*key, "outlier_history")})
    assert delta.resolved == []
    delta = record(
        wh.engine, [], seen_at=datetime(2025, 4, 2), scope={key}, checks={"completeness"}
    )
    assert delta.resolved == []
    delta = record(wh.engine, [], seen_at=datetime(2025, 4, 2), scope={key}, checks={"subtotal"})
    assert len(delta.resolved) == 2


def test_reappearing_finding_is_reopened_as_new(wh):
    wh.stage(TOWNS[0], "2025Q1", BAD)
    found = check_staged(wh.engine)
    record(wh.engine, found, seen_at=datetime(2025, 4, 1))
    record(wh.engine, [], seen_at=datetime(2025, 4, 2), scope=found.scope)
    assert _open(wh.engine) == set()
    delta = record(wh.engine, found, seen_at=datetime(2025, 4, 3))
    assert len(delta.new) == 2
    assert len(_open(wh.engine)) == 2
