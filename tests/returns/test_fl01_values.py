from __future__ import annotations

import math

import pytest
from huizong.returns.values import is_not_reported, parse_value, unit_scale
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (12, 12),
        (12.0, 12),
        ("12", 12),
        ("1,234", 1234),
        ("１２３", 123),
        ("１，２３４", 1234),
        ("12 ", 12),
        ("12\u3000", 12),
        (" 12\t", 12),
        ("12人", 12),
        ("0", 0),
        (0, 0),
        ("1 234", 1234),
    ],
)
def test_counts_read_from_numbers_and_text(raw: object, expected: int) -> None:
    result = parse_value(raw, money=False, indicator_unit="人")
    assert result.problem is None
    assert result.value == expected
    assert isinstance(result.value, int)


@pytest.mark.parametrize("raw", [None, "", " ", "—", "-", "/", "无", "——", "－", "／"])
def test_not_reported_markers_are_null_without_a_problem(raw: object) -> None:
    assert is_not_reported(raw)
    result = parse_value(raw, money=False)
    assert result.value is None
    assert result.problem is None


def test_zero_is_never_not_reported() -> None:
    assert parse_value(0, money=False).value == 0
    assert parse_value("0", money=True).value == 0.0
    assert not is_not_reported(0)
    assert not is_not_reported("0")


@pytest.mark.parametrize(
    ("raw", "money", "scale", "expected"),
    [
        (1234.5, True, 1, 1234.5),
        ("1,234.56", True, 1, 1234.56),
        (1.2345, True, 10_000, 12345.0),
        ("1.234567", True, 10_000, 12345.67),
        ("1.5万元", True, 1, 15000.0),
        (0.1 + 0.2, True, 1, 0.3),
    ],
)
def test_money_in_yuan_and_wan(raw: object, money: bool, scale: int, expected: float) -> None:
    result = parse_value(raw, money=money, indicator_unit="元", scale=scale)
    assert result.problem is None
    assert result.value == pytest.approx(expected)
    assert isinstance(result.value, float)


@pytest.mark.parametrize(
    ("raw", "money", "percent_format", "fragment"),
    [
        ("95%", False, False, "percentage"),
        ("95％", False, False, "percentage"),
        (0.95, False, True, "percentage"),
        (1, False, True, "percentage"),
        ("见附件", False, False, "text"),
        ("-3", False, False, "negative"),
        (-3, True, False, "negative"),
        (12.5, False, False, "fraction"),
        ("12.345", True, False, "2 decimals"),
        (float("nan"), False, False, "not a number"),
        (float("inf"), True, False, "not a number"),
        ("NaN", False, False, "not a number"),
        ("Infinity", False, False, "not a number"),
        ("1e400", False, False, "large"),
        (123456789012345, False, False, "large"),
        (10**13, True, False, "large"),
        ("#DIV/0!", False, False, "formula error"),
        (True, False, False, "logical"),
        ("12,34", False, False, "text"),
    ],
)
def test_impossible_values_are_refused_with_a_reason(
    raw: object, money: bool, percent_format: bool, fragment: str
) -> None:
    result = parse_value(raw, money=money, percent_format=percent_format)
    assert result.value is None
    assert result.problem is not None
    assert fragment in result.problem
    assert " / " in result.problem  # Chinese and English


def test_unit_scale() -> None:
    assert unit_scale("万元", "元") == (10_000, None)
    assert unit_scale("（万元）", "元") == (10_000, None)
    assert unit_scale("元", "元") == (1, None)
    assert unit_scale(None, "人") == (1, None)
    assert unit_scale("%", "人")[1] is not None
    assert unit_scale("元", "人")[1] is not None


@given(st.integers(min_value=0, max_value=10**9))
def test_any_whole_count_round_trips_in_every_spelling(n: int) -> None:
    for typed in (
        n,
        float(n),
        str(n),
        f"{n:,}",
        str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        f"{n} ",
    ):
        assert parse_value(typed, money=False).value == n


@given(st.one_of(st.text(max_size=12), st.floats(allow_nan=True), st.integers()))
def test_parse_value_never_raises(raw: object) -> None:
    result = parse_value(raw, money=False)
    assert result.value is None or (isinstance(result.value, int) and result.value >= 0)
    result = parse_value(raw, money=True, scale=10_000)
    assert result.value is None or (math.isfinite(result.value) and result.value >= 0)
