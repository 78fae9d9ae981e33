"""Issue 18 (2): a finding, the table beside it, the charts and the e-mail count the same.

The scenario of the issue, through the real intake, checks and publish: 两当县
has 12 towns; 10 have published, one sends a return the checks block, one
never reports. The parent-sum findings the rules write must quote exactly
the figures the county's page shows, and the page says what it counted.
"""

from __future__ import annotations

import hashlib
import random
import re
from datetime import date, datetime

import sqlalchemy as sa
from huizong.quality import findings as findings_store
from huizong.quality import rules
from huizong.returns import readback
from huizong.returns.intake import triage
from huizong.returns.model import ReceivedReturn, StagedSubmission
from huizong.warehouse import load
from huizong.web import queries
from huizong.web.sample import town_values

FORM = "FL-01"
PERIOD = "2024Q4"
COUNTY = "621228000000"  # 两当县


def _towns(engine) -> list[str]:
    return [str(u["unit_code"]).strip() for u in queries.children(engine, COUNTY)]


def _through_the_pipeline(world, unit: str, values: dict) -> str:
    """Intake → staging → every rule → findings → publish, as the DAGs run them."""
    engine = world.engine
    raw = world.warehouse.write_raw(unit, PERIOD, values, 1, None)
    moment = datetime(2025, 1, 6, 1, 0)
    received = ReceivedReturn(
        channel="drop", source_uri=f"{unit}/{FORM}/{PERIOD}/{raw.name}",
        submitted_unit_code=unit, form=FORM, period=PERIOD,
        raw_sha256=hashlib.sha256(raw.read_bytes()).hexdigest(), raw_path=str(raw),
        received_at=moment, claimed_at=moment, filename=raw.name,
    )  # fmt: skip
    staged = triage(received, as_of=date(2025, 1, 6))
    assert isinstance(staged, StagedSubmission), staged
    load.begin_batch(engine, "test-batch", "submitted_returns", moment, moment)
    load.record_raw_returns(engine, [received])
    load.stage_returns(engine, "test-batch", [staged])
    found = rules.check_staged(engine)
    findings_store.record(engine, found, seen_at=moment)
    load.publish(
        engine,
        blocked_submission_ids=findings_store.blocking_submission_ids(found),
        warned_submission_ids=findings_store.warned_submission_ids(found),
    )
    return staged.submission_id


def _issue_scenario(world):
    """10 towns published, the 11th blocked by the checks, the 12th missing."""
    rng = random.Random(18)  # reproducible figures
    towns = _towns(world.engine)
    assert len(towns) == 12
    sums: dict[str, float] = {}
    per_town = []
    for _town in towns[:11]:
        values = town_values(rng)
        per_town.append(values)
        for k, v in values.items():
            sums[k] = sums.get(k, 0) + v
    bad = dict(per_town[10])
    bad["02"] = bad["01"] + 5  # 其中 > 总数: an error, the return is blocked
    sums["02"] += 5
    own = dict(sums)
    own["08"] += 10  # above the partial sum: "not all children reported" warning
    own["03"] -= 7  # below the partial sum: an error on the county
    for town, values in zip(towns[:10], per_town[:10], strict=True):
        world.warehouse.submit(town, PERIOD, values)
    world.warehouse.submit(COUNTY, PERIOD, own)
    blocked_sid = _through_the_pipeline(world, towns[10], bad)
    return towns, blocked_sid


def _numbers(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"-?\d[\d,]*(?:\.\d+)?", text)]


def test_the_parent_sum_finding_and_the_page_count_the_same_returns(world, login):
    towns, blocked_sid = _issue_scenario(world)
    engine = world.engine
    with engine.connect() as conn:
        status = conn.execute(sa.text("SELECT status FROM return_submission "
                                      "WHERE submission_id = :s"), {"s": blocked_sid}).scalar()
    assert status == "blocked"

    stored = {f["indicator_code"]: f for f in queries.unit_findings(engine, COUNTY, FORM, PERIOD)
              if f["check_name"] == "parent_eq_sum_children"}
    cons = queries.consolidation(engine, COUNTY, FORM, PERIOD)
    rows = {r["indicator_code"]: r for r in cons.rows}

    # The error on row 03: "本级报表 X，下级合计 Y（11/12 个下级已报），相差 D".
    error = stored["03"]
    own, total, reported, expected, diff = _numbers(error["message_zh"].split("」", 1)[1])[:5]
    assert (reported, expected) == (11, 12)
    assert (rows["03"]["value_current"], rows["03"]["sum_children"], rows["03"]["diff"]) == (
        own, total, diff)
    assert rows["03"]["children_reported"] == 11

    # The aggregated warning: evidence "第08行 本级 A 下级合计 B；…".
    waiting = stored[None]
    quoted = re.search(r"第08行 本级 ([\d.]+) 下级合计 ([\d.]+)", waiting["evidence"])
    assert (rows["08"]["value_current"], rows["08"]["sum_children"]) == (
        float(quoted[1]), float(quoted[2]))
    assert "11/12" in waiting["message_zh"]

    # The analysts' view counts published figures only: that is the other definition.
    with engine.connect() as conn:
        view = conn.execute(sa.text(
            "SELECT children_reported FROM v_consolidated WHERE unit_code = :u "
            "AND period = :p AND indicator_code = '08'"), {"u": COUNTY, "p": PERIOD}).scalar()
    assert view == 10

    # The page says what it counted, and its finding table shows the same figures.
    html = login(COUNTY).get(f"/unit/{COUNTY}", params={"period": PERIOD}).text
    assert "含1份未通过审核的报表" in html
    name = queries.unit(engine, towns[10])["name"]
    assert name in re.search(r'class="muted count-note">(.*?)</p>', html, re.S)[1]
    assert "(11/12)" in html and "(10/12)" not in html
    subtree = login(COUNTY).get(f"/subtree/{COUNTY}", params={"period": PERIOD}).text
    assert "已报 <b>11</b>（含1份未通过审核的报表）" in subtree
    table = "".join(re.findall(r'<table class="finding-rows stack">.*?</table>', html, re.S))
    assert f"{int(rows['08']['value_current']):,}" in table
    assert f"{int(rows['08']['sum_children']):,}" in table


def test_a_blocked_towns_page_shows_its_own_figures(world, login):
    towns, _ = _issue_scenario(world)
    town = towns[10]
    html = login(COUNTY).get(f"/unit/{town}", params={"period": PERIOD}).text
    rows = queries.return_rows(world.engine, town, FORM, PERIOD)
    assert all(r["value_current"] is not None for r in rows)
    assert "未通过审核的报表" in html
    body = re.search(r'<table class="rows stack">.*?</table>', html, re.S)[0]
    assert f"{int(rows[0]['value_current']):,}" in body
    # Its finding's figures are in the table too.
    finding = next(f for f in queries.unit_findings(world.engine, town, FORM, PERIOD)
                   if f["check_name"] == "subtotal_le_parent")
    assert f"{int(finding['observed']):,}" in body


def test_a_blocked_return_with_an_altered_raw_copy_is_not_trusted(world):
    towns, blocked_sid = _issue_scenario(world)
    with world.engine.connect() as conn:
        raw_path = conn.execute(sa.text("SELECT raw_path FROM return_submission "
                                        "WHERE submission_id = :s"), {"s": blocked_sid}).scalar()
    readback.clear_cache()
    with open(raw_path, "ab") as fh:
        fh.write(b"\n01,999999\n")
    counted = queries.counted_returns(world.engine, towns[10], FORM, [PERIOD],
                                      with_children=False)
    (figures,) = counted.values()
    assert figures.blocked and not figures.readable and figures.values == {}


def test_trend_chart_counts_as_the_table(world, login):
    _issue_scenario(world)
    series = queries.trend(world.engine, COUNTY, FORM, "08", [PERIOD])
    row = next(r for r in queries.return_rows(world.engine, COUNTY, FORM, PERIOD)
               if r["indicator_code"] == "08")
    assert series[PERIOD] == {"own": row["value_current"], "children": row["sum_children"]}


def test_a_later_check_of_the_parent_still_counts_the_blocked_return(world):
    towns, _ = _issue_scenario(world)
    _through_the_pipeline(world, towns[11], town_values(random.Random(5)))
    rows = {r["indicator_code"]: r for r in queries.return_rows(world.engine, COUNTY, FORM,
                                                                 PERIOD)}
    assert rows["03"]["children_reported"] == 12
    for f in queries.unit_findings(world.engine, COUNTY, FORM, PERIOD):
        if f["check_name"] == "parent_eq_sum_children" and f["resolved_at"] is None:
            assert "11/12" not in f["message_zh"], f["message_zh"]
