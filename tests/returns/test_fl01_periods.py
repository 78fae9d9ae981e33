from __future__ import annotations

from datetime import date, datetime

import pytest
from huizong.returns.periods import (
    PeriodError,
    due_date,
    find_period,
    months_of_period,
    normalize_period,
    period_end,
    period_kind,
    period_start,
    previous_period,
    quarters_of_year,
    same_period_last_year,
)


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("2024年第4季度", "2024Q4"),
        ("2024年四季度", "2024Q4"),
        ("2024年第四季度", "2024Q4"),
        ("2024年10-12月", "2024Q4"),
        ("2025年1-3月", "2025Q1"),
        ("2024年度", "2024"),
        ("2024年", "2024"),
        ("2024年1-12月", "2024"),
        ("2024年10月", "2024-10"),
        ("2024Q4", "2024Q4"),
        ("2024-10", "2024-10"),
        (" 2024 年 第 三 季度 ", "2024Q3"),
        ("２０２４年第４季度", "2024Q4"),
        ("二〇二四年第四季度", "2024Q4"),
        ("2024年第四季度（10-12月）", "2024Q4"),
        ("2024年7～9月", "2024Q3"),
        ("2024年1-9月", "2024Q3"),
        ("2024年十二月", "2024-12"),
        ("2024年3月份", "2024-03"),
        ("2024q2", "2024Q2"),
        ("2024.10", "2024-10"),
    ],
)
def test_spellings_normalize(typed: str, canonical: str) -> None:
    assert normalize_period(typed) == canonical


def test_a_date_cell_is_its_month() -> None:
    assert normalize_period(datetime(2024, 10, 1)) == "2024-10"
    assert normalize_period(date(2024, 3, 31)) == "2024-03"


@pytest.mark.parametrize("typed", ["", "上半年", "2024年1-2月", "2024年13月", "第四季度", "hello"])
def test_unknown_spellings_raise_a_clear_error(typed: str) -> None:
    with pytest.raises(PeriodError, match="period"):
        normalize_period(typed)


def test_find_period_in_a_title() -> None:
    assert find_period("两当县站儿巷镇妇联2024年第四季度工作统计表") == "2024Q4"
    assert find_period("统计期：2024年10-12月") == "2024Q4"
    assert find_period("基层妇联工作情况统计表") is None


def test_kinds_dates_and_neighbours() -> None:
    assert period_kind("2024Q4") == "quarter"
    assert period_kind("2024") == "year"
    assert period_kind("2024-10") == "month"
    assert period_start("2024Q4") == date(2024, 10, 1)
    assert period_end("2024Q4") == date(2024, 12, 31)
    assert period_end("2024-02") == date(2024, 2, 29)
    assert period_end("2024") == date(2024, 12, 31)
    assert previous_period("2025Q1") == "2024Q4"
    assert previous_period("2024Q3") == "2024Q2"
    assert previous_period("2025-01") == "2024-12"
    assert previous_period("2024") == "2023"
    assert same_period_last_year("2024Q4") == "2023Q4"
    assert quarters_of_year(2024) == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    assert months_of_period("2024Q4") == ["2024-10", "2024-11", "2024-12"]


def test_due_date_defaults_to_ten_days_after_the_period() -> None:
    assert due_date("2024Q4") == date(2025, 1, 10)
    assert due_date("2024-02") == date(2024, 3, 10)
    assert due_date("2024Q1", days=23) == date(2024, 4, 23)


def test_helpers_refuse_non_canonical_periods() -> None:
    with pytest.raises(PeriodError):
        period_end("2024年第四季度")
