"""Each rule finds a planted inconsistency and stays quiet on clean data."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from huizong.quality.rules import (
    check_completeness,
    check_staged,
    link_notice_deadlines,
    period_for_deadline,
    staged_scope,
)
from quality_warehouse import COUNTY, OTHER_COUNTY, TOWNS

CLEAN = {
    "01": 20, "02": 5, "03": 100, "04": 20, "05": 3, "06": 10, "07": 300, "08": 500,
    "09": 10, "10": 20000.5, "11": 1000, "12": 5, "13": 8000, "14": 40, "15": 10,
    "16": 35, "17": 12, "18": 10, "19": 50, "20": 2, "21": 80, "22": 300, "23": 5, "24": 60,
}  # fmt: skip


def q1(values: dict) -> dict:
    """A first-quarter return: year to date equals current."""
    return {code: (v, v, None) for code, v in values.items()}


def by_check(findings, check):
    return [f for f in findings if f.check_name == check]


def test_clean_return_has_no_findings(wh):
    wh.stage(TOWNS[0], "2025Q1", q1(CLEAN))
    assert list(check_staged(wh.engine)) == []


def test_subtotal_rows_never_exceed_their_parent_row(wh):
    values = q1(CLEAN | {"18": 13, "09": 600})  # 18 > 17 (error), 09 > 08 (warn)
    sid = wh.stage(TOWNS[0], "2025Q1", values)
    found = by_check(check_staged(wh.engine), "subtotal_le_parent")
    got = {(f.indicator_code, f.severity) for f in found}
    assert got == {("18", "error"), ("09", "warn")}
    f18 = next(f for f in found if f.indicator_code == "18")
    assert f18.submission_id == sid and f18.observed == 13 and f18.expected == 12
    assert "第17行" in f18.message_zh and "Sheet1!" in f18.evidence


def test_rate_above_100_percent_is_an_error(wh):
    wh.stage(TOWNS[0], "2025Q1", q1(CLEAN | {"16": 50}))  # 办结率 50/40 = 125 %
    found = by_check(check_staged(wh.engine), "rate_le_100")
    assert [(f.indicator_code, f.severity, f.observed) for f in found] == [("R02", "error", 125.0)]


def test_year_to_date_must_equal_current_in_q1_and_for_stocks(wh):
    values = q1(CLEAN)
    values["06"] = (10, 14, None)  # flow, Q1: ytd must be 10
    wh.stage(TOWNS[0], "2025Q1", values)
    found = by_check(check_staged(wh.engine), "ytd_equals_current")
    assert [(f.indicator_code, f.observed, f.expected) for f in found] == [("06", 14, 10)]


def test_year_to_date_continues_from_previous_quarter(wh):
    wh.publish(TOWNS[0], "2025Q1", q1(CLEAN))
    q2 = {code: (v, v * 2 if code not in ("01", "03", "04", "05", "11", "20", "23") else v, None)
          for code, v in CLEAN.items()}  # fmt: skip
    q2["07"] = (300, 700, None)  # should be 300 + 300 = 600
    wh.stage(TOWNS[0], "2025Q2", q2)
    found = check_staged(wh.engine)
    assert [(f.indicator_code, f.observed, f.expected, f.severity) for f in found] == [
        ("07", 700, 600, "warn")
    ]
    assert found[0].check_name == "ytd_continuity"


def test_stock_year_to_date_is_the_current_value(wh):
    wh.publish(TOWNS[0], "2025Q1", q1(CLEAN))
    q2 = {code: (v, None, None) for code, v in CLEAN.items()}
    q2["01"] = (20, 40, None)  # a stock does not accumulate
    wh.stage(TOWNS[0], "2025Q2", q2)
    found = by_check(check_staged(wh.engine), "ytd_equals_current")
    assert [f.indicator_code for f in found] == ["01"]


def _towns_summing_to(county_total: dict, towns: list[str]) -> list[dict]:
    share = {
        code: v // len(towns) if isinstance(v, int) else None for code, v in county_total.items()
    }
    rows = []
    for i, _ in enumerate(towns):
        town = {c: s for c, s in share.items() if s is not None}
        if i == 0:  # the first town takes the remainder so the sum is exact
            for code, v in county_total.items():
                if code in town:
                    town[code] = v - share[code] * (len(towns) - 1)
        rows.append(town)
    return rows


COUNTY_TOTAL = {"01": 240, "03": 1200, "06": 120, "08": 6000, "14": 480, "16": 400}


def test_parent_equals_sum_of_children_when_all_reported(wh):
    for town, values in zip(TOWNS, _towns_summing_to(COUNTY_TOTAL, TOWNS), strict=True):
        wh.publish(town, "2025Q1", values)
    wh.stage(COUNTY, "2025Q1", COUNTY_TOTAL)
    assert by_check(check_staged(wh.engine), "parent_eq_sum_children") == []

    wh.stage(COUNTY, "2025Q1", COUNTY_TOTAL | {"08": 6100}, version=2)
    found = by_check(check_staged(wh.engine), "parent_eq_sum_children")
    assert [(f.indicator_code, f.severity, f.observed, f.expected) for f in found] == [
        ("08", "error", 6100, 6000)
    ]
    assert "下级已全部报送" in found[0].message_zh
    assert "城关镇(621228100000)" in found[0].evidence


def test_parent_above_partial_sum_warns_not_all_children_reported(wh):
    reported = TOWNS[:9]
    for town, values in zip(reported, _towns_summing_to(COUNTY_TOTAL, TOWNS)[:9], strict=True):
        wh.publish(town, "2025Q1", values)
    sid = wh.stage(COUNTY, "2025Q1", COUNTY_TOTAL)
    found = by_check(check_staged(wh.engine), "parent_eq_sum_children")
    # One warning for the county and quarter, not one per row.
    assert [(f.unit_code, f.indicator_code, f.severity) for f in found] == [(COUNTY, None, "warn")]
    assert found[0].submission_id == sid
    assert "尚未报齐" in found[0].message_zh and "金洞乡" in found[0].message_zh
    assert "9/12" in found[0].message_zh
    assert "not all children reported" in found[0].message_en
    assert all(f"第{code}行" in found[0].evidence for code in COUNTY_TOTAL)


def test_a_wrong_row_is_its_own_error_beside_the_waiting_warning(wh):
    reported = TOWNS[:9]
    for town, values in zip(reported, _towns_summing_to(COUNTY_TOTAL, TOWNS)[:9], strict=True):
        wh.publish(town, "2025Q1", values)
    sums = {
        code: sum(v[code] for v in _towns_summing_to(COUNTY_TOTAL, TOWNS)[:9])
        for code in COUNTY_TOTAL
    }
    wh.stage(COUNTY, "2025Q1", COUNTY_TOTAL | {"03": sums["03"] - 1})
    found = by_check(check_staged(wh.engine), "parent_eq_sum_children")
    assert sorted((f.indicator_code or "", f.severity) for f in found) == [
        ("", "warn"),
        ("03", "error"),
    ]
    warning = next(f for f in found if f.severity == "warn")
    assert "第03行" not in warning.evidence


def test_partial_sum_already_above_parent_is_an_error(wh):
    for town in TOWNS[:3]:
        wh.publish(town, "2025Q1", {"03": 500})
    wh.stage(COUNTY, "2025Q1", {"03": 1200})
    found = by_check(check_staged(wh.engine), "parent_eq_sum_children")
    assert [(f.severity, f.observed, f.expected) for f in found] == [("error", 1200, 1500)]


def test_child_arrival_rechecks_a_published_parent(wh):
    wh.publish(COUNTY, "2025Q1", {"03": 1200})
    wh.stage(TOWNS[0], "2025Q1", {"03": 100})
    found = by_check(check_staged(wh.engine), "parent_eq_sum_children")
    assert [(f.unit_code, f.severity, f.submission_id) for f in found] == [(COUNTY, "warn", None)]
    assert (COUNTY, "FL-01", "2025Q1", "parent_eq_sum_children") in staged_scope(wh.engine)


def test_history_outlier_uses_median_and_mad(wh):
    history = [40, 42, 38, 41, 39]
    for year, value in zip(range(2020, 2025), history, strict=True):
        wh.publish(TOWNS[0], f"{year}Q1", {"06": value})
    wh.stage(TOWNS[0], "2025Q1", {"06": 43})
    assert by_check(check_staged(wh.engine), "outlier_history") == []
    wh.stage(TOWNS[0], "2025Q1", {"06": 400}, version=2)
    found = by_check(check_staged(wh.engine), "outlier_history")
    assert [(f.observed, f.expected, f.severity) for f in found] == [(400, 40, "warn")]


def test_history_outlier_needs_four_points(wh):
    for year in (2023, 2024):
        wh.publish(TOWNS[0], f"{year}Q1", {"06": 40})
    wh.stage(TOWNS[0], "2025Q1", {"06": 4000})
    assert by_check(check_staged(wh.engine), "outlier_history") == []


def test_last_year_ratio_outlier_with_minimum_magnitude(wh):
    wh.stage(TOWNS[0], "2025Q1", {"07": (900, 900, 250), "06": (9, 9, 2), "24": (60, 60, 30)})
    found = by_check(check_staged(wh.engine), "outlier_last_year")
    assert [(f.indicator_code, f.observed, f.expected) for f in found] == [("07", 900, 250)]


def _notice_fact(engine, unit, code, period, value, qualifier):
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO notice (notice_id, portal_id, url, raw_sha256, title, first_seen) "
                "VALUES (:n, 'p', 'https://fl.example.org/n/1.html', :n, '通报', '2025-04-20')"
            ),
            {"n": "n" * 64},
        )
        conn.execute(
            sa.text(
                "INSERT INTO notice_statistic (statistic_id,"
                " notice_id, quote, quote_start, quote_end, "
                "value, qualifier, kind) VALUES (:s, :n, :q, 0, 10, :v, :ql, 'count')"
            ),
            {
                "s": "s" * 64,
                "n": "n" * 64,
                "q": f"全县完成两癌筛查{value}余人",
                "v": value,
                "ql": qualifier,
            },
        )
        conn.execute(
            sa.text(
                "INSERT INTO fact_indicator_value (unit_co"
                "de, form, indicator_code, period, source, "
                "source_ref, version, is_latest, value_current, qualifier, has_warnings, batch_id) "
                "VALUES (:u, 'FL-01', :c, :p, 'notice', :s, 1, TRUE, :v, :ql, FALSE, 'n1')"
            ),
            {"u": unit, "c": code, "p": period, "s": "s" * 64, "v": value, "ql": qualifier},
        )


def test_notice_figure_checked_against_its_qualifier(wh):
    wh.publish(COUNTY, "2025Q1", {"08": 5800})
    _notice_fact(wh.engine, COUNTY, "08", "2025Q1", 6000, "at_least")  # "6000余人" but 5800
    found = by_check(check_staged(wh.engine), "notice_vs_return")
    assert [(f.unit_code, f.observed, f.expected, f.severity) for f in found] == [
        (COUNTY, 5800, 6000, "warn")
    ]
    assert "6000余人" in found[0].evidence


def test_notice_approx_within_five_percent_passes(wh):
    wh.publish(COUNTY, "2025Q1", {"08": 5800})
    _notice_fact(wh.engine, COUNTY, "08", "2025Q1", 6000, "approx")
    assert by_check(check_staged(wh.engine), "notice_vs_return") == []


def test_completeness_missing_and_late_children(wh):
    on_time, late = TOWNS[0], TOWNS[1]
    wh.stage(on_time, "2024Q4", {"01": 1}, submitted_at="2025-01-08 10:00:00")
    wh.stage(late, "2024Q4", {"01": 1}, submitted_at="2025-01-20 10:00:00")
    assert list(check_completeness(wh.engine, as_of=date(2025, 1, 10))) == []  # not due yet

    found = check_completeness(wh.engine, as_of=date(2025, 2, 1))
    missing = by_check(found, "completeness_missing")
    assert {f.unit_code for f in missing} == set(TOWNS[2:])
    assert [f.unit_code for f in by_check(found, "completeness_late")] == [late]
    summary = by_check(found, "completeness_summary")
    assert [(f.unit_code, f.observed, f.expected) for f in summary] == [(COUNTY, 2, 12)]
    assert (on_time, "FL-01", "2024Q4", "completeness_missing") in found.scope
    assert all(f.unit_code != OTHER_COUNTY for f in found)  # nobody in 融安县 was asked


def test_notice_deadline_overrides_default_due_date(wh):
    with wh.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO notice (notice_id, portal_id, url, raw_sha256, title, issuer_code, "
                "deadline, first_seen) VALUES (:n, 'p', 'u', :n, '关于报送统计报表的通知', :c, "
                "'2025-01-06', '2024-12-20')"
            ),
            {"n": "d" * 64, "c": COUNTY},
        )
    assert link_notice_deadlines(wh.engine) == 1
    wh.stage(TOWNS[0], "2024Q4", {"01": 1}, submitted_at="2025-01-08 10:00:00")
    found = check_completeness(wh.engine, as_of=date(2025, 1, 9))
    assert [f.unit_code for f in by_check(found, "completeness_late")] == [TOWNS[0]]
    assert len(by_check(found, "completeness_missing")) == 11


def test_period_for_deadline_heuristic():
    assert period_for_deadline(date(2020, 3, 23)) == "2019Q4"
    assert period_for_deadline(date(2020, 4, 5)) == "2020Q1"
    assert period_for_deadline(date(2020, 3, 31)) == "2019Q4"
    assert period_for_deadline(date(2020, 7, 10), hint="请报送2020年一季度报表") == "2020Q1"
    assert period_for_deadline(date(2020, 1, 15), kind="year") == "2019"
