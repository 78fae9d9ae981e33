"""Drop folders, workbooks and API items for the intake tests."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from huizong.returns.samples import LayoutOptions, consistent_rows, write_return

UNIT = "430202000000"  # 荷塘区 in the seed hierarchy
OTHER_UNIT = "430203000000"  # 芦淞区
TODAY = date(2025, 1, 20)

MakeWorkbook = Callable[..., Path]


@pytest.fixture
def make_workbook() -> MakeWorkbook:
    """Write an FL-01 workbook where the test says; returns its path."""

    def make(
        path: Path,
        *,
        unit_code: str | None = UNIT,
        period: str = "2024Q4",
        seed: int = 1,
        fmt: str | None = None,
        unit_name: str = "荷塘区妇联",
    ) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        layout = LayoutOptions(
            fmt=fmt or path.suffix.lstrip(".") or "xlsx",
            include_unit_code=unit_code is not None,
            null_marker="",
        )
        write_return(
            path,
            unit_code=unit_code or UNIT,
            unit_name=unit_name,
            period=period,
            rows=consistent_rows(seed, period=period, null_fraction=0.0),
            layout=layout,
        )
        return path

    return make


def api_item(
    n: int,
    *,
    unit_code: str = UNIT,
    period: str = "2024Q4",
    version: int = 1,
    values: dict[str, Any] | None = None,
    workbook: Path | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": f"R{n:04d}",
        "unit_code": unit_code,
        "form": "FL-01",
        "period": period,
        "version": version,
        "submitted_at": f"2025-01-0{1 + n % 9}T09:30:00+08:00",
        "values": values
        if values is not None
        else {"01": {"current": 10 + n, "ytd": 10 + n, "last_year": 9}, "10": {"current": 1500.5}},
    }
    if workbook is not None:
        item["workbook_b64"] = base64.b64encode(workbook.read_bytes()).decode("ascii")
        item["workbook_filename"] = workbook.name
    return item
