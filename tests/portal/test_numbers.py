from __future__ import annotations

import pytest
from huizong.portal.numbers import parse_amount, parse_chinese, parse_percent, to_number
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        ("3.19万", 31_900),
        ("146.41万", 1_464_100),
        ("1.2亿", 120_000_000),
        ("三十余", 30),
        ("230余万", 2_300_000),
        ("4800多", 4800),
        ("9万余", 90_000),
        ("1,234", 1234),
        ("两千五百", 2500),
        ("十三", 13),
        ("一百零三", 103),
        ("十二万", 120_000),
        ("千余", 1000),
        ("百余", 100),
    ],
)
def test_parse_amount(span: str, expected: float) -> None:
    assert parse_amount(span) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        ("98.13%", 98.13),
        ("百分之九十八", 98),
        ("百分之九十八点五", 98.5),
        ("九成", 90),
        ("2/3", 66.67),
        ("三分之二", 66.67),
    ],
)
def test_parse_percent(span: str, expected: float) -> None:
    assert parse_percent(span) == pytest.approx(expected)


def test_unparseable_spans_give_none() -> None:
    assert parse_amount("妇联") is None
    assert parse_percent("3/0") is None
    assert parse_percent("5/3") is None


def test_year_written_in_numerals() -> None:
    assert parse_chinese("二〇二〇") == 2020


def test_to_number_keeps_whole_values_integral() -> None:
    assert to_number(31900.0) == 31900
    assert isinstance(to_number(31900.0), int)
    assert to_number(98.13) == 98.13


@given(st.integers(min_value=0, max_value=10**9))
def test_separated_arabic_numbers_round_trip(value: int) -> None:
    assert parse_amount(f"{value:,}") == value


@given(st.integers(min_value=1, max_value=99_999), st.sampled_from(["万", "亿"]))
def test_multipliers_scale(value: int, multiplier: str) -> None:
    factor = 10_000 if multiplier == "万" else 100_000_000
    assert parse_amount(f"{value}{multiplier}") == value * factor
