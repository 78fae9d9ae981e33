"""The sample generator: every quirk alone and in combination parses to its answer."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest
from huizong.catalog import indicators
from huizong.returns.parse import parse_return
from huizong.returns.samples import (
    IDENTITY_STYLES,
    NULL_MARKERS,
    NUMBER_TEXT_STYLES,
    PERIOD_STYLES,
    LayoutOptions,
    SampleAnswer,
    consistent_rows,
    random_layout,
    write_return,
)

UNIT = {"unit_code": "621228101000", "unit_name": "站儿巷镇妇联"}


def _check(answer: SampleAnswer) -> None:
    parsed = parse_return(answer.path)
    assert parsed.unit_code == answer.unit_code
    assert parsed.unit_name == answer.unit_name
    assert parsed.period == answer.period
    assert parsed.rows == answer.rows
    got = {(p.row, p.column) for p in parsed.problems}
    assert got == set(answer.problem_cells), [p.message for p in parsed.problems]


def _write(
    tmp_path: Path, layout: LayoutOptions, period: str = "2024Q4", seed: int = 3
) -> SampleAnswer:
    rows = consistent_rows(seed, period=period)
    suffix = {"xlsx": ".xlsx", "xls": ".xls", "csv": ".csv"}[layout.fmt]
    return write_return(tmp_path / f"r{suffix}", period=period, rows=rows, layout=layout, **UNIT)


def test_consistent_rows_respect_the_form_rules() -> None:
    catalog = indicators()
    for seed in range(50):
        rows = consistent_rows(seed, period="2024Q3", null_fraction=0)
        assert set(rows) == set(catalog)
        for code, indicator in catalog.items():
            values = rows[code]
            assert all(v is not None and v >= 0 for v in values.values())
            if indicator.is_money:
                assert all(round(v, 2) == v for v in values.values())
            else:
                assert all(isinstance(v, int) for v in values.values())
            assert values["ytd"] >= values["current"]
            if indicator.bound_by and indicator.bound_severity == "error":
                for column in values:
                    assert values[column] <= rows[indicator.bound_by][column]


def test_generation_is_deterministic(tmp_path: Path) -> None:
    assert consistent_rows(7) == consistent_rows(7)
    assert consistent_rows(7) != consistent_rows(8)
    layout = random_layout(random.Random(5), fmt="xlsx")
    assert layout == random_layout(random.Random(5), fmt="xlsx")
    first = _write(tmp_path, layout)
    (tmp_path / "a").mkdir()
    second = write_return(
        tmp_path / "a" / "r.xlsx", period="2024Q4", rows=consistent_rows(3), layout=layout, **UNIT
    )
    assert parse_return(first.path).to_json_dict() == parse_return(second.path).to_json_dict()


QUIRKS = {
    "merged_title": LayoutOptions(merged_title=True),
    "identity_split": LayoutOptions(identity="split"),
    "identity_separate": LayoutOptions(identity="separate", include_unit_code=False),
    "identity_title_only": LayoutOptions(identity="title_only"),
    "two_row_header": LayoutOptions(two_row_header=True),
    "numbering_row": LayoutOptions(numbering_row=True),
    "header_variants": LayoutOptions(header_variants=True, seed=11),
    "shuffled": LayoutOptions(shuffle_rows=True, seed=2),
    "blank_and_sections": LayoutOptions(blank_rows=4, section_rows=True),
    "name_variants": LayoutOptions(name_variants=True, code_column=False, seed=4),
    "numbered_names": LayoutOptions(numbered_names=True, code_column=False),
    "code_first": LayoutOptions(
        column_order=("code", "name", "unit", "current", "ytd", "last_year")
    ),
    "code_as_number": LayoutOptions(code_as_number=True),
    "money_in_wan": LayoutOptions(money_in_wan=True),
    "percent_text": LayoutOptions(percent_in=("07", "15")),
    "percent_format": LayoutOptions(percent_in=("07",), percent_as_format=True),
    "footer_split": LayoutOptions(footer="split"),
    "instruction_hidden_extra": LayoutOptions(
        instruction_sheet=True, hidden_sheet=True, extra_sheets=True
    ),
    "formulas": LayoutOptions(formulas=True),
    "uncached_formula": LayoutOptions(formulas=True, uncached_formula_in=("03",)),
    "xls": LayoutOptions(
        fmt="xls",
        two_row_header=True,
        hidden_sheet=True,
        percent_in=("02",),
        percent_as_format=True,
    ),
    "csv_gbk": LayoutOptions(fmt="csv", csv_encoding="gbk", number_text="mixed"),
    "csv_utf8_bom": LayoutOptions(fmt="csv", csv_encoding="utf-8-sig", percent_in=("09",)),
}


@pytest.mark.parametrize("name", list(QUIRKS))
def test_each_quirk_parses_to_its_answer(tmp_path: Path, name: str) -> None:
    layout = QUIRKS[name]
    if layout.fmt == "xls":
        pytest.importorskip("xlwt")
    _check(_write(tmp_path, layout))


@pytest.mark.parametrize("style", PERIOD_STYLES)
@pytest.mark.parametrize("period", ["2024Q4", "2025Q1", "2024", "2024-10"])
def test_period_styles(tmp_path: Path, style: str, period: str) -> None:
    _check(_write(tmp_path, LayoutOptions(period_style=style), period=period))


@pytest.mark.parametrize("style", NUMBER_TEXT_STYLES)
@pytest.mark.parametrize("marker", [*NULL_MARKERS, "mixed"])
def test_number_spellings_and_null_markers(tmp_path: Path, style: str, marker: str) -> None:
    layout = LayoutOptions(number_text=style, null_marker=marker, money_in_wan=style == "thousands")
    rows = consistent_rows(9, null_fraction=0.3, zero_fraction=0.2)
    answer = write_return(tmp_path / "r.xlsx", period="2024Q4", rows=rows, layout=layout, **UNIT)
    _check(answer)
    assert any(v is None for r in answer.rows.values() for v in r.values())
    assert any(v == 0 for r in answer.rows.values() for v in r.values())


def test_everything_at_once(tmp_path: Path) -> None:
    layout = LayoutOptions(
        merged_title=True, identity="split", period_style="months", two_row_header=True,
        numbering_row=True, header_variants=True, shuffle_rows=True, blank_rows=3,
        name_variants=True, number_text="mixed", null_marker="mixed", money_in_wan=True,
        percent_in=("07",), footer="split", instruction_sheet=True, hidden_sheet=True,
        extra_sheets=True, formulas=True, uncached_formula_in=("20",), seed=99,
    )  # fmt: skip
    _check(_write(tmp_path, layout))
    _check(
        _write(tmp_path, replace(layout, code_column=False, shuffle_rows=False, section_rows=True))
    )


@pytest.mark.parametrize("seed", range(30))
def test_random_combinations(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    layout = random_layout(rng)
    if layout.fmt == "xls":
        pytest.importorskip("xlwt")
    period = rng.choice(["2024Q4", "2025Q1", "2024", "2024-10"])
    _check(_write(tmp_path, layout, period=period, seed=seed))


def test_identity_styles_are_all_covered() -> None:
    assert {q.identity for q in QUIRKS.values()} | {"one_cell"} == set(IDENTITY_STYLES)
