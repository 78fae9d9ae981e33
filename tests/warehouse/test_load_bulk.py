"""The bulk paths of the load (issue 6) keep the load's semantics.

publish writes return facts with a plain INSERT when their keys are new and
falls back to the keyed upsert when one exists; staging goes through a binary
COPY on PostgreSQL; ``consolidate_year`` returns what the views say.
"""

from __future__ import annotations

from decimal import Decimal

from huizong.warehouse import load
from wh_factories import (
    COUNTY,
    FORM,
    TOWNS,
    add_hierarchy,
    at,
    num,
    rows,
    scalar,
    submission,
)


def test_binary_staging_keeps_numbers_exact_and_null_null(engine):
    add_hierarchy(engine)
    load.stage_returns(
        engine,
        "b1",
        [
            submission(
                TOWNS[0],
                "2024Q4",
                {"01": 7, "08": Decimal("12.34"), "09": None, "10": "1,234.50", "11": 0},
            )
        ],
    )
    staged = dict(
        rows(engine, "SELECT indicator_code, value_current FROM stg_return_value ORDER BY 1")
    )
    assert {k: num(v) for k, v in staged.items()} == {
        "01": 7.0,
        "08": 12.34,
        "09": None,
        "10": 1234.5,
        "11": 0.0,
    }
    load.publish(engine)
    facts = dict(
        rows(engine, "SELECT indicator_code, value_current FROM fact_indicator_value ORDER BY 1")
    )
    assert {k: num(v) for k, v in facts.items()} == {k: num(v) for k, v in staged.items()}


def test_publish_falls_back_to_the_upsert_when_a_fact_key_exists(engine):
    """A staged submission whose facts exist (not reachable through the public
    functions today) is upserted, not duplicated or failed."""
    add_hierarchy(engine)
    v1 = submission(TOWNS[0], "2024Q4", {"01": 10}, tag="v1", received_at=at("2025-01-03 01:00"))
    v2 = submission(TOWNS[0], "2024Q4", {"01": 12}, tag="v2", received_at=at("2025-01-04 01:00"))
    fresh = submission(TOWNS[1], "2024Q4", {"01": 3}, tag="t1")
    load.stage_returns(engine, "b1", [v1, v2])
    load.publish(engine)
    with engine.begin() as conn:
        # v2 back to staged with a corrected staged value: its fact key exists.
        conn.exec_driver_sql(
            "UPDATE return_submission SET status = 'staged' WHERE submission_id = "
            f"'{v2.submission_id}'"
        )
        # (publish removed v2's staged rows, as it does for every decided return)
        conn.exec_driver_sql(
            "INSERT INTO stg_return_value (batch_id, submission_id, unit_code, form, period,"
            " version, indicator_code, value_current) VALUES"
            f" ('b1', '{v2.submission_id}', '{TOWNS[0]}', '{FORM}', '2024Q4', 2, '01', 13)"
        )
    load.stage_returns(engine, "b2", [fresh])
    result = load.publish(engine)

    assert result.return_facts == 2  # v2's row updated, fresh's row inserted
    facts = rows(
        engine,
        "SELECT unit_code, version, is_latest, value_current FROM fact_indicator_value"
        " ORDER BY unit_code, version",
    )
    assert [(u, v, bool(x), num(val)) for u, v, x, val in facts] == [
        (TOWNS[0], 1, False, 10.0),
        (TOWNS[0], 2, True, 13.0),
        (TOWNS[1], 1, True, 3.0),
    ]


def test_later_publish_moves_is_latest_only_within_its_scope(engine):
    add_hierarchy(engine)
    q3 = submission(TOWNS[0], "2024Q3", {"01": 5}, tag="q3")
    v1 = submission(TOWNS[0], "2024Q4", {"01": 10}, tag="v1", received_at=at("2025-01-03 01:00"))
    v2 = submission(TOWNS[0], "2024Q4", {"01": 12}, tag="v2", received_at=at("2025-01-04 01:00"))
    late = submission(
        TOWNS[0], "2024Q4", {"01": 11}, tag="late", received_at=at("2025-01-03 12:00")
    )
    load.stage_returns(engine, "b1", [q3, v1])
    load.publish(engine)
    load.stage_returns(engine, "b2", [v2])
    load.publish(engine)
    load.stage_returns(engine, "b3", [late])  # submitted before v2: must not win
    load.publish(engine)
    latest = rows(
        engine,
        "SELECT period, value_current FROM fact_indicator_value WHERE is_latest ORDER BY period",
    )
    assert [(p, num(v)) for p, v in latest] == [("2024Q3", 5.0), ("2024Q4", 12.0)]
    assert rows(engine, "SELECT batch_id, rows_published FROM load_run ORDER BY 1") == [
        ("b1", 2),
        ("b2", 1),
        ("b3", 1),
    ]


def test_consolidate_year_is_what_the_views_say(engine):
    add_hierarchy(engine)
    subs = [
        submission(unit, f"2024Q{q}", {"01": q * (i + 1), "02": None, "08": 10 * q}, tag=unit)
        for q in range(1, 5)
        for i, unit in enumerate((COUNTY, *TOWNS))
    ]
    load.stage_returns(engine, "b1", subs)
    load.publish(engine)

    result = load.consolidate_year(engine, FORM, 2024)

    view = rows(
        engine,
        "SELECT * FROM v_consolidated WHERE form = :f AND period IN"
        " ('2024Q1', '2024Q2', '2024Q3', '2024Q4') ORDER BY period, unit_code, indicator_code",
        f=FORM,
    )
    annual = rows(
        engine,
        "SELECT * FROM v_annual_values WHERE form = :f AND period = '2024'"
        " ORDER BY unit_code, indicator_code",
        f=FORM,
    )
    assert [tuple(r.values()) for r in result["quarters"]] == [tuple(r) for r in view]
    assert [tuple(r.values()) for r in result["annual"]] == [tuple(r) for r in annual]
    assert len(view) > 0 and len(annual) > 0
    county_q4 = {
        r["indicator_code"]: r
        for r in result["quarters"]
        if r["unit_code"] == COUNTY and r["period"] == "2024Q4"
    }
    assert num(county_q4["01"]["sum_children"]) == 4 * (2 + 3 + 4)
    assert county_q4["02"]["sum_children"] is None  # NULL, never 0


def test_publish_empties_staging_of_the_returns_it_decided(engine):
    add_hierarchy(engine)
    good = submission(TOWNS[0], "2024Q4", {"01": 10, "02": 4})
    bad = submission(TOWNS[1], "2024Q4", {"01": 99})
    load.stage_returns(engine, "b1", [good, bad])
    assert scalar(engine, "SELECT COUNT(*) FROM stg_return_value") == 3

    load.publish(engine, blocked_submission_ids=[bad.submission_id])

    assert scalar(engine, "SELECT COUNT(*) FROM stg_return_value") == 0
    facts = rows(engine, "SELECT indicator_code, value_current FROM fact_indicator_value")
    assert sorted((code, num(v)) for code, v in facts) == [("01", 10.0), ("02", 4.0)]
    statuses = dict(rows(engine, "SELECT unit_code, status FROM return_submission"))
    assert statuses == {TOWNS[0]: "published", TOWNS[1]: "blocked"}


def test_one_publish_of_two_staged_batches_counts_each_batch(engine):
    add_hierarchy(engine)
    load.stage_returns(engine, "b1", [submission(TOWNS[0], "2024Q4", {"01": 1, "02": 2})])
    load.stage_returns(engine, "b2", [submission(TOWNS[1], "2024Q4", {"01": 3})])
    result = load.publish(engine)
    assert result.return_facts == 3
    assert rows(engine, "SELECT batch_id, rows_published FROM load_run ORDER BY 1") == [
        ("b1", 2),
        ("b2", 1),
    ]
    load.publish(engine)  # nothing staged: the counts stay
    assert rows(engine, "SELECT batch_id, rows_published FROM load_run ORDER BY 1") == [
        ("b1", 2),
        ("b2", 1),
    ]
