"""The coded/vectorized paths give what the plain per-row versions gave (same rows, same text)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import sqlalchemy as sa
from huizong.quality.gx_runner import _canonical_text, _regex_columns_as_text, staged_frame
from huizong.quality.rules import STAGED_COLUMNS, _bulk_fetch, load_staged_values
from quality_warehouse import TOWNS

# The straightforward join the loader replaced (slow on SQLite for one big batch).
JOIN_SQL = f"""
SELECT {", ".join("v." + c for c in STAGED_COLUMNS)}
FROM stg_return_value AS v
INNER JOIN return_submission AS s
    ON v.submission_id = s.submission_id AND v.batch_id = s.batch_id
WHERE s.status = 'staged'
"""


def _reference_text(raw: pd.Series, number: pd.Series) -> list:
    out = []
    for stored, value in zip(raw, number, strict=True):
        if np.isnan(value):
            out.append(None if stored is None or pd.isna(stored) else str(stored))
        elif not np.isfinite(value):
            out.append(None)
        elif value == np.floor(value):
            out.append(str(int(value)))
        else:
            out.append(format(Decimal(repr(float(value))), "f"))
    return out


def test_loader_matches_the_join_and_skips_other_batches(wh):
    rng = np.random.default_rng(3)
    for n, town in enumerate(TOWNS):
        values = {f"{c:02d}": float(rng.integers(0, 500)) for c in range(1, 25)}
        values["10"] = round(float(rng.uniform(0, 1e5)), 2)
        wh.stage(town, "2025Q1", values, version=1 + n % 2)
    wh.publish(TOWNS[0], "2024Q4", {"01": 5})  # published: not staged
    with wh.engine.begin() as conn:  # a staged submission's row under another batch is not staged
        conn.execute(
            sa.text(
                "INSERT INTO stg_return_value (batch_id, submission_id, unit_code, form, period, "
                "version, indicator_code, value_current) SELECT 'other', submission_id, "
                "unit_code, form, period, version, '99', 1 FROM stg_return_value LIMIT 1"
            )
        )
    with wh.engine.connect() as conn:
        expected = pd.DataFrame(conn.execute(sa.text(JOIN_SQL)).fetchall(), columns=STAGED_COLUMNS)
    got = load_staged_values(wh.engine)
    key = ["submission_id", "indicator_code"]
    # categorical columns sort by category order, and an absent number is NaN in a
    # float column but None in an object one: compare as plain objects, nulls as None
    expected, got = (
        f.astype(object).where(f.notna(), None).sort_values(key).reset_index(drop=True)
        for f in (expected, got)
    )
    assert len(got) == len(TOWNS) * 24
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_canonical_text_per_distinct_value_equals_per_row():
    rng = np.random.default_rng(5)
    numbers = np.concatenate(
        [
            rng.integers(-50, 500, 2000).astype(float),
            np.round(rng.uniform(0, 1e6, 2000), 2),
            [0.0, -0.0, 0.1 + 0.2, 1e15, np.inf, -np.inf, np.nan, np.nan],
        ]
    )
    raw = pd.Series([*numbers.tolist(), "约30", None], dtype=object)
    number = pd.to_numeric(raw, errors="coerce").astype("float64")
    got = _canonical_text(raw, number)
    assert [None if pd.isna(v) else v for v in got] == _reference_text(raw, number)


def test_staged_frame_form_indicator_is_per_row(wh):
    wh.stage(TOWNS[0], "2025Q1", {"01": 20, "10": 1234.5, "99": 1})
    frame = staged_frame(load_staged_values(wh.engine))
    assert list(frame["form_indicator"].astype(str)) == [
        f"{f}:{c}" for f, c in zip(frame["form"], frame["indicator_code"], strict=True)
    ]
    assert frame.loc[frame["indicator_code"] == "10", "money_current_text"].tolist() == ["1234.5"]


def test_regex_columns_become_arrow_text_with_the_same_values_and_nulls():
    frame = pd.DataFrame(
        {
            "unit_code": pd.Categorical(["620102001", None, "62010200100x", "620102001"]),
            "form": pd.Categorical(["FL-01"] * 4),
        }
    )
    spec = {
        "expectations": [
            {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "unit_code"}},
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "form"}},
        ]
    }
    out = _regex_columns_as_text(frame, spec)
    assert isinstance(out["form"].dtype, pd.CategoricalDtype)  # not matched by regex: untouched
    assert out["unit_code"].dtype == "str"
    assert [None if pd.isna(v) else v for v in out["unit_code"]] == [
        None if pd.isna(v) else v for v in frame["unit_code"]
    ]
    # What GX evaluates is unchanged: the cast to str, then the regex on the non-null rows.
    regex = "^[0-9]{9}$"
    for column in (frame["unit_code"], out["unit_code"]):
        assert column[column.notna()].astype(str).str.contains(regex).tolist() == [
            True,
            False,
            True,
        ]
    assert isinstance(frame["unit_code"].dtype, pd.CategoricalDtype)  # the caller's frame kept


def test_bulk_fetch_restores_gc_state():
    import gc

    assert gc.isenabled()
    with _bulk_fetch():
        assert not gc.isenabled()
    assert gc.isenabled()
