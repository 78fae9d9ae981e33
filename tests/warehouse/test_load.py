"""Migrations, staging, versions and write-audit-publish, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from huizong.returns.model import QuarantineRecord
from huizong.warehouse import db, load, seed
from wh_factories import (
    COUNTY,
    FORM,
    TOWNS,
    add_hierarchy,
    at,
    held,
    num,
    received,
    rows,
    scalar,
    submission,
)

FACTS = (
    "SELECT unit_code, form, indicator_code, period, source, source_ref, version, is_latest,"
    " value_current, value_ytd, value_last_year, has_warnings, batch_id"
    " FROM fact_indicator_value ORDER BY unit_code, period, indicator_code, source_ref"
)


def _snapshot(engine) -> dict[str, list[tuple]]:
    tables = ["return_submission", "fact_indicator_value", "stg_return_value", "load_run"]
    out = {}
    for table in tables:
        cols = [
            c["name"]
            for c in sa.inspect(engine).get_columns(table)
            if c["name"] not in ("started_at", "finished_at")
        ]
        out[table] = rows(engine, f"SELECT {', '.join(cols)} FROM {table} ORDER BY 1, 2, 3")
    return out


def test_migrate_twice_is_a_no_op(engine):
    inspector = sa.inspect(engine)
    tables_before = sorted(inspector.get_table_names())
    views_before = sorted(inspector.get_view_names())
    counts_before = {t: scalar(engine, f"SELECT COUNT(*) FROM {t}") for t in tables_before}

    applied = db.migrate(engine)
    again = seed.seed_all(engine)

    inspector = sa.inspect(engine)
    assert sorted(inspector.get_table_names()) == tables_before
    assert sorted(inspector.get_view_names()) == views_before
    assert {t: scalar(engine, f"SELECT COUNT(*) FROM {t}") for t in tables_before} == counts_before
    assert "marts/001_views.sql" in applied
    assert again == {"indicators": 27, "periods": 272, "org_units": 42}
    assert {"v_consolidated", "v_annual_values", "v_notice_vs_return"} <= set(views_before)


def test_stage_and_publish_twice_changes_nothing(engine):
    add_hierarchy(engine)
    subs = [
        submission(TOWNS[0], "2024Q4", {"01": 10, "08": 120, "10": "1,234.50"}),
        submission(TOWNS[1], "2024Q4", {"01": 7, "08": 0, "10": None}),
    ]
    assert load.stage_returns(engine, "dag__20250105T000000", subs) == 2
    first = load.publish(engine)
    snapshot = _snapshot(engine)

    assert load.stage_returns(engine, "dag__20250105T000000", subs) == 2
    second = load.publish(engine)

    assert first.published == 2 and first.return_facts == 6
    assert second.published == 0 and second.return_facts == 0
    assert _snapshot(engine) == snapshot
    assert num(
        scalar(
            engine,
            "SELECT value_current FROM fact_indicator_value"
            " WHERE unit_code = :u AND indicator_code = '10'",
            u=TOWNS[0],
        )
    ) == pytest.approx(1234.5)
    assert scalar(engine, "SELECT rows_staged FROM load_run") == 6


def test_null_is_never_stored_as_zero(engine):
    add_hierarchy(engine)
    load.stage_returns(
        engine,
        "b1",
        [
            submission(TOWNS[0], "2024Q4", {"08": None, "09": 0}),
            submission(TOWNS[1], "2024Q4", {"08": None, "09": None}),
        ],
    )
    load.publish(engine)
    values = dict(
        rows(
            engine,
            "SELECT indicator_code, value_current FROM fact_indicator_value WHERE unit_code = :u",
            u=TOWNS[0],
        )
    )
    assert values["08"] is None
    assert values["09"] == 0
    consolidated = rows(
        engine,
        "SELECT indicator_code, sum_children, children_reported FROM v_consolidated"
        " WHERE unit_code = :u AND period = '2024Q4' ORDER BY indicator_code",
        u=COUNTY,
    )
    assert [(c, num(s), n) for c, s, n in consolidated] == [("08", None, 0), ("09", 0.0, 1)]


def test_resubmission_supersedes_and_old_version_stays(engine):
    add_hierarchy(engine)
    v1 = submission(TOWNS[0], "2024Q4", {"01": 10}, tag="v1", received_at=at("2025-01-03 01:00"))
    v2 = submission(TOWNS[0], "2024Q4", {"01": 12}, tag="v2", received_at=at("2025-01-04 01:00"))
    load.stage_returns(engine, "b1", [v1])
    load.publish(engine)
    load.stage_returns(engine, "b2", [v2])
    result = load.publish(engine)

    assert result.published == 1 and result.superseded == 1
    subs = rows(
        engine, "SELECT version, status FROM return_submission ORDER BY version", u=TOWNS[0]
    )
    assert subs == [(1, "superseded"), (2, "published")]
    facts = rows(
        engine,
        "SELECT version, is_latest, value_current FROM fact_indicator_value ORDER BY version",
    )
    assert [(v, bool(latest), num(x)) for v, latest, x in facts] == [
        (1, False, 10.0),
        (2, True, 12.0),
    ]
    assert (
        scalar(engine, "SELECT own_value FROM v_consolidated WHERE unit_code = :u", u=TOWNS[0])
        == 12
    )


def test_out_of_order_api_version_does_not_win(engine):
    add_hierarchy(engine)
    newer = submission(TOWNS[0], "2024Q4", {"01": 12}, channel="api", tag="2", api_version=2)
    older = submission(TOWNS[0], "2024Q4", {"01": 10}, channel="api", tag="1", api_version=1)
    load.stage_returns(engine, "b1", [newer])
    load.publish(engine)
    load.stage_returns(engine, "b2", [older])
    result = load.publish(engine)

    assert result.published == 1
    assert rows(engine, "SELECT version, status FROM return_submission ORDER BY version") == [
        (1, "superseded"),
        (2, "published"),
    ]
    assert scalar(engine, "SELECT value_current FROM fact_indicator_value WHERE is_latest") == 12


def test_a_return_received_earlier_but_staged_later_does_not_win(engine):
    add_hierarchy(engine)
    first = submission(TOWNS[0], "2024Q4", {"01": 10}, tag="a", received_at=at("2025-01-02 01:00"))
    third = submission(TOWNS[0], "2024Q4", {"01": 30}, tag="c", received_at=at("2025-01-06 01:00"))
    # Within one batch the order of receipt decides, not the list order.
    load.stage_returns(engine, "b1", [third, first])
    load.publish(engine)
    # Received on the 4th (its first landing), staged only after the 6th (a run
    # that died before staging it): it is the older return.
    second = submission(TOWNS[0], "2024Q4", {"01": 20}, tag="b", received_at=at("2025-01-04 01:00"))
    load.stage_returns(engine, "b2", [second])
    load.publish(engine)

    assert scalar(engine, "SELECT value_current FROM fact_indicator_value WHERE is_latest") == 30
    by_value = {
        int(v): (version, status)
        for v, version, status in rows(
            engine,
            "SELECT f.value_current, s.version, s.status FROM fact_indicator_value AS f"
            " INNER JOIN return_submission AS s ON f.source_ref = s.submission_id",
        )
    }
    assert by_value[10][0] == 1 and by_value[30][0] == 2
    assert by_value[20][1] == "superseded" and by_value[30][1] == "published"
    # Restaging keeps the versions it assigned once.
    load.stage_returns(engine, "b2", [second])
    assert scalar(
        engine, "SELECT version FROM return_submission WHERE submission_id = :s",
        s=second.submission_id,
    ) == by_value[20][0]  # fmt: skip


def test_a_backdated_file_is_ordered_and_judged_by_when_it_was_received(engine):
    """The attack: a resubmission claiming an old time must not pass for an old version,
    and a late return claiming a time before the due date must not look on time."""
    add_hierarchy(engine)
    v1 = submission(TOWNS[0], "2024Q4", {"01": 10}, tag="v1", received_at=at("2025-01-03 01:00"))
    v2 = submission(TOWNS[0], "2024Q4", {"01": 12}, tag="v2", received_at=at("2025-01-04 01:00"))
    load.stage_returns(engine, "b1", [v1, v2])
    load.publish(engine)
    backdated = submission(
        TOWNS[0], "2024Q4", {"01": 99}, tag="bd",
        received_at=at("2025-01-08 01:00"), claimed_at=at("2025-01-01 01:00"),
    )  # fmt: skip
    late = submission(
        TOWNS[1], "2024Q4", {"01": 5}, tag="late",
        received_at=at("2025-01-20 03:00"), claimed_at=at("2025-01-05 01:00"),
    )  # fmt: skip
    load.stage_returns(engine, "b2", [backdated, late])
    load.publish(engine)

    assert rows(
        engine,
        "SELECT version, status FROM return_submission WHERE unit_code = :u ORDER BY version",
        u=TOWNS[0],
    ) == [(1, "superseded"), (2, "superseded"), (3, "published")]
    assert scalar(
        engine,
        "SELECT value_current FROM fact_indicator_value WHERE is_latest AND unit_code = :u",
        u=TOWNS[0],
    ) == 99
    claimed = rows(
        engine,
        "SELECT claimed_at, submitted_on FROM return_submission WHERE submission_id = :s",
        s=late.submission_id,
    )
    assert str(claimed[0][0]).startswith("2025-01-05 01:00")  # kept, as information
    assert str(claimed[0][1]) == "2025-01-20"
    detail = dict(
        rows(
            engine,
            "SELECT unit_code, status FROM v_completeness_detail WHERE parent_code = :p",
            p=COUNTY,
        )
    )
    assert detail[TOWNS[1]] == "late"


def test_blocked_and_warned_submissions(engine):
    add_hierarchy(engine)
    bad = submission(TOWNS[0], "2024Q4", {"01": 10, "02": 99})
    warned = submission(TOWNS[1], "2024Q4", {"08": 5, "09": 9})
    fine = submission(TOWNS[2], "2024Q4", {"01": 3})
    load.stage_returns(engine, "b1", [bad, warned, fine])
    result = load.publish(
        engine,
        blocked_submission_ids={bad.submission_id},
        warned_submission_ids={warned.submission_id},
    )
    assert (result.published, result.published_with_warnings, result.blocked) == (1, 1, 1)
    status = dict(rows(engine, "SELECT submission_id, status FROM return_submission"))
    assert status == {
        bad.submission_id: "blocked",
        warned.submission_id: "published_with_warnings",
        fine.submission_id: "published",
    }
    assert scalar(
        engine, "SELECT COUNT(*) FROM fact_indicator_value WHERE source_ref = :s",
        s=bad.submission_id,
    ) == 0  # fmt: skip
    flags = rows(
        engine,
        "SELECT DISTINCT unit_code, has_warnings FROM fact_indicator_value ORDER BY unit_code",
    )
    assert [(u, bool(w)) for u, w in flags] == [(TOWNS[1], True), (TOWNS[2], False)]

    # Fixed by the unit and restaged, the same submission publishes.
    load.stage_returns(engine, "b1", [bad, warned, fine])
    again = load.publish(engine)
    assert again.published == 1 and again.blocked == 0
    assert scalar(
        engine, "SELECT status FROM return_submission WHERE submission_id = :s",
        s=bad.submission_id,
    ) == "published"  # fmt: skip


def test_restaging_replaces_a_submissions_rows_and_keeps_the_rest(engine):
    add_hierarchy(engine)
    one = submission(TOWNS[0], "2024Q4", {"01": 10, "02": 3})
    two = submission(TOWNS[1], "2024Q4", {"01": 4})
    load.stage_returns(engine, "b1", [one, two])
    per_submission = "SELECT submission_id, COUNT(*) FROM stg_return_value GROUP BY submission_id"
    before = sorted(rows(engine, per_submission))
    # A rerun that sees only `one` again (`two` was already received) must not
    # drop `two`, and must not duplicate `one`, in the same batch or another.
    load.stage_returns(engine, "b1", [one])
    load.stage_returns(engine, "b2", [one])
    assert sorted(rows(engine, per_submission)) == before
    assert len(before) == 2
    assert sorted(rows(engine, "SELECT submission_id FROM return_submission")) == sorted(
        [(one.submission_id,), (two.submission_id,)]
    )


def test_consolidated_own_vs_children_with_diff_and_coverage(engine):
    add_hierarchy(engine)
    load.stage_returns(
        engine,
        "b1",
        [
            submission(TOWNS[0], "2024Q4", {"01": 10, "08": 100}),
            submission(TOWNS[1], "2024Q4", {"01": 5, "08": None}),
            submission(COUNTY, "2024Q4", {"01": 16, "08": 100}),
        ],
    )
    load.publish(engine)
    got = {
        code: (num(own), num(total), num(diff), reported, expected, num(coverage))
        for code, own, total, diff, reported, expected, coverage in rows(
            engine,
            "SELECT indicator_code, own_value, sum_children, diff, children_reported,"
            " children_expected, coverage FROM v_consolidated"
            " WHERE unit_code = :u AND period = '2024Q4' AND indicator_code IN ('01', '08')",
            u=COUNTY,
        )
    }
    assert got["01"] == (16.0, 15.0, 1.0, 2, 3, pytest.approx(0.6667))
    assert got["08"] == (100.0, 100.0, 0.0, 1, 3, pytest.approx(0.3333))
    city = rows(
        engine,
        "SELECT own_value, sum_children, children_reported, children_expected"
        " FROM v_consolidated WHERE unit_code = :u AND indicator_code = '01'",
        u="990100000000",
    )
    assert [(o, num(s), r, e) for o, s, r, e in city] == [(None, 16.0, 1, 1)]
    assert load.consolidate(engine, FORM, "2024Q4")[0]["period"] == "2024Q4"


def test_derived_rates_come_from_summed_parts(engine):
    add_hierarchy(engine)
    load.stage_returns(
        engine,
        "b1",
        [
            submission(TOWNS[0], "2024Q4", {"14": 10, "16": 10}),  # 100 %
            submission(TOWNS[1], "2024Q4", {"14": 90, "16": 45}),  # 50 %
        ],
    )
    load.publish(engine)
    rate = {
        unit: (num(own), num(children))
        for unit, own, children in rows(
            engine,
            "SELECT unit_code, own_value, sum_children FROM v_consolidated"
            " WHERE indicator_code = 'R02' ORDER BY unit_code",
        )
    }
    assert rate[TOWNS[0]] == (100.0, None)
    assert rate[TOWNS[1]] == (50.0, None)
    # 55 / 100, not 100 % + 50 % and not their mean.
    assert rate[COUNTY] == (None, 55.0)


def test_completeness_on_time_late_missing(engine):
    add_hierarchy(engine)
    # 2024Q4 is due 2025-01-10 (Beijing calendar).
    load.stage_returns(
        engine,
        "b1",
        [
            submission(TOWNS[0], "2024Q4", {"01": 1}, received_at=at("2025-01-10 15:00")),
            # 16:30 UTC on the 10th is 00:30 on the 11th in Beijing: late.
            submission(TOWNS[1], "2024Q4", {"01": 1}, received_at=at("2025-01-10 16:30")),
        ],
    )
    load.publish(engine)
    detail = dict(
        rows(
            engine,
            "SELECT unit_code, status FROM v_completeness_detail WHERE parent_code = :p",
            p=COUNTY,
        )
    )
    assert detail == {TOWNS[0]: "on_time", TOWNS[1]: "late", TOWNS[2]: "missing"}
    summary = rows(
        engine,
        "SELECT expected, received, on_time, late, missing FROM v_completeness"
        " WHERE parent_code = :p AND period = '2024Q4'",
        p=COUNTY,
    )
    assert summary == [(3, 2, 1, 1, 1)]

    # A notice from the county that set an earlier deadline makes both late.
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO reporting_deadline VALUES (:p, :f, '2024Q4', :d, :n)"),
            {"p": COUNTY, "f": FORM, "d": at("2025-01-05 00:00").date(), "n": "0" * 64},
        )
    assert (
        rows(
            engine,
            "SELECT late, due_date FROM v_completeness WHERE parent_code = :p",
            p=COUNTY,
        )[0][0]
        == 2
    )


def test_annual_roll_up_flows_sum_stocks_take_q4(engine):
    add_hierarchy(engine)
    quarters = {"2024Q1": (5, 100), "2024Q2": (6, 110), "2024Q3": (7, 120), "2024Q4": (8, 130)}
    subs = [
        submission(TOWNS[0], q, {"01": stock, "08": flow}) for q, (stock, flow) in quarters.items()
    ]
    subs += [submission(TOWNS[1], q, {"08": 1}) for q in ("2024Q1", "2024Q2", "2024Q3")]
    load.stage_returns(engine, "b1", subs)
    load.publish(engine)
    annual = {
        (unit, code): (num(own), reported, num(children))
        for unit, code, own, reported, children in rows(
            engine,
            "SELECT unit_code, indicator_code, own_value, quarters_reported, sum_children"
            " FROM v_annual_values WHERE period = '2024'",
        )
    }
    assert annual[(TOWNS[0], "01")] == (8.0, 4, None)
    assert annual[(TOWNS[0], "08")] == (460.0, 4, None)
    assert annual[(TOWNS[1], "08")] == (None, 3, None)  # a year of three quarters is no year
    assert annual[(COUNTY, "08")] == (None, 0, 463.0)
    assert annual[(COUNTY, "01")] == (None, 0, 8.0)


def test_quarantine_hold_list_release(engine):
    add_hierarchy(engine)
    record = held(TOWNS[0], "2024Q4")
    assert load.quarantine(engine, [record]) == 1
    [entry] = load.list_quarantine(engine, status="held")
    assert entry.quarantine_id == record.quarantine_id
    assert entry.received == record.received
    assert entry.record.declared_unit_code == TOWNS[1]

    released = load.release_quarantine(engine, record.quarantine_id[:10])
    assert released.status == "released" and released.released_at is not None
    # Triage rejects the same raw again: it stays released, not re-held.
    load.quarantine(engine, [record])
    assert load.list_quarantine(engine, status="held") == []
    # A corrected file is different raw, so a new entry.
    load.quarantine(engine, [held(TOWNS[0], "2024Q4", tag="fixed")])
    assert len(load.list_quarantine(engine, status="held")) == 1
    assert len(load.list_quarantine(engine)) == 2
    with pytest.raises(KeyError):
        load.release_quarantine(engine, "ffffffffffff")


def test_raw_index_is_insert_once(engine):
    items = [received(TOWNS[0], "2024Q4"), received(TOWNS[1], "2024Q4", channel="api")]
    assert load.record_raw_returns(engine, items) == 2
    assert load.record_raw_returns(engine, items) == 0
    key = (items[0].raw_sha256, "drop", items[0].source_uri)
    # Landed is not yet seen: only staged or quarantined returns are skipped next time.
    assert key not in load.raw_return_seen(engine)
    load.quarantine(engine, [QuarantineRecord(items[0], "unreadable", "test")])
    assert key in load.raw_return_seen(engine)
    page = {
        "portal_id": "p",
        "url": "http://x.gov.cn/a.html",
        "sha256": "ab" * 32,
        "raw_path": "/raw/portal/p/2025-01-05/" + "ab" * 32 + ".body",
        "fetched_at": at("2025-01-05 00:00"),
        "status": 200,
    }
    assert load.record_raw_pages(engine, [page, page]) == 1
    assert load.record_raw_pages(engine, [page]) == 0
    assert rows(engine, "SELECT partition_key, final_url FROM raw_page") == [
        ("2025-01-05", "http://x.gov.cn/a.html")
    ]


def test_batches_are_recorded(engine):
    load.begin_batch(engine, "returns__20250105T000000", "returns", at("2025-01-05 00:00"), None)
    load.stage_returns(engine, "returns__20250105T000000", [])
    load.finish_batch(engine, "returns__20250105T000000", rows_published=0)
    [(dag, start, staged, finished)] = rows(
        engine, "SELECT dag_id, data_interval_start, rows_staged, finished_at FROM load_run"
    )
    assert dag == "returns" and staged == 0 and finished is not None
    assert str(start).startswith("2025-01-05 00:00")


def test_first_receipt_and_a_fixed_file_ends_its_held_entry(engine):
    from dataclasses import replace

    add_hierarchy(engine)
    half = received(TOWNS[0], "2024Q4", tag="a", received_at=at("2025-01-03 01:00"))
    load.record_raw_returns(engine, [half])
    load.quarantine(engine, [QuarantineRecord(half, "unreadable", "cut off")])
    # The same bytes landed again later keep their first receipt.
    again = replace(half, received_at=at("2025-01-09 01:00"))
    load.record_raw_returns(engine, [again])
    assert load.first_received(engine, [again]) == {
        (half.raw_sha256, "drop", half.source_uri): at("2025-01-03 01:00").replace(tzinfo=None)
    }
    whole = submission(TOWNS[0], "2024Q4", {"01": 10}, tag="a", received_at=at("2025-01-04 01:00"))
    whole = replace(whole, received=replace(whole.received, raw_sha256="f" * 64))
    load.stage_returns(engine, "b1", [whole])
    assert load.supersede_held(engine, [whole]) == 1
    [entry] = load.list_quarantine(engine)
    assert entry.status == "requeued" and entry.detail.startswith("cut off — ")
    assert load.supersede_held(engine, [whole]) == 0
