"""Every table on the pages as CSV or Parquet, for analysts.

CSV is UTF-8 with a BOM (Excel opens Chinese text right) and formula-injection
safe: a text cell starting with ``= + - @``, a tab or a carriage return gets a
leading ``'`` so a spreadsheet shows it instead of evaluating it. Numbers stay
numbers (a negative difference is not a formula).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from huizong.decimals import exact_decimal
from huizong.textsafe import safe_text


def csv_safe(value: Any) -> Any:
    if isinstance(value, str):
        return safe_text(value)  # formulas inert, control/bidi shown (huizong.textsafe)
    return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value):
        # SQLite stores NUMERIC as binary floats: 0.30000000000000004 is 0.3 (as `huizong sql`).
        return format(exact_decimal(value), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    return csv_safe(value)


def to_csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_safe(c) for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in columns])
    return out.getvalue().encode("utf-8-sig")


def _arrow_type(values: list[Any]) -> pa.DataType:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.bool_()
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.int64()
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.float64()
    return pa.string()


def to_parquet(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> bytes:
    arrays = []
    for c in columns:
        values = [row.get(c) for row in rows]
        kind = _arrow_type(values)
        if kind == pa.string():
            values = [None if v is None else str(v) for v in values]
        arrays.append(pa.array(values, type=kind))
    table = pa.Table.from_arrays(arrays, names=list(columns))
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
