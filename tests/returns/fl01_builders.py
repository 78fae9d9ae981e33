"""Hand-built FL-01 workbooks for the parser tests, independent of ``samples.py``."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from huizong.catalog import indicators

HEADER = ["指标名称", "计量单位", "代码", "本期数", "本年累计数", "上年同期数", "备注"]


def known_values() -> dict[str, dict[str, int | float]]:
    """Distinct figures per row: current = n, ytd = 10n, last_year = n + 100."""
    out: dict[str, dict[str, int | float]] = {}
    for code, indicator in indicators().items():
        n = int(code)
        if indicator.is_money:
            out[code] = {"current": n * 1000.5, "ytd": n * 10005.25, "last_year": n + 100.75}
        else:
            out[code] = {"current": n, "ytd": 10 * n, "last_year": n + 100}
    return out


def table_rows(values: dict[str, dict[str, Any]] | None = None) -> list[list[Any]]:
    values = values or known_values()
    return [
        [ind.name, ind.unit, code, values[code]["current"], values[code]["ytd"],
         values[code]["last_year"], None]
        for code, ind in indicators().items()
    ]  # fmt: skip


def standard_sheet_rows(
    identity: str = "填报单位（盖章）：站儿巷镇妇联  单位代码：621228101000  统计期：2024年第四季度",
) -> list[list[Any]]:
    return [["基层妇联工作情况统计表"], [identity], HEADER, *table_rows()]


@dataclass
class SheetSpec:
    name: str
    rows: list[list[Any]]
    merges: list[str] = field(default_factory=list)
    hidden: bool = False
    number_formats: dict[str, str] = field(default_factory=dict)
    formulas: dict[str, tuple[str, Any]] = field(default_factory=dict)  # ref -> (formula, cached)


def xlsx_bytes(*sheets: SheetSpec) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for spec in sheets:
        ws = workbook.create_sheet(spec.name)
        if spec.hidden:
            ws.sheet_state = "hidden"
        for r, row in enumerate(spec.rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(row=r, column=c, value=value)
        for ref, fmt in spec.number_formats.items():
            ws[ref].number_format = fmt
        for ref, (formula, _) in spec.formulas.items():
            ws[ref] = "=" + formula
        for ref in spec.merges:
            ws.merge_cells(ref)
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    if any(spec.formulas for spec in sheets):
        data = _with_cached_values(data, sheets)
    return data


def _with_cached_values(data: bytes, sheets: tuple[SheetSpec, ...]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            match = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            if match:
                xml = content.decode()
                for ref, (_, cached) in sheets[int(match.group(1)) - 1].formulas.items():
                    if cached is not None:
                        xml = re.sub(
                            rf'(<c r="{ref}"[^>]*><f>[^<]*</f>)<v\s*/?>(</v>)?',
                            rf"\g<1><v>{cached}</v>",
                            xml,
                        )
                content = xml.encode()
            target.writestr(info, content)
    return out.getvalue()


def write_xlsx(path: Path, *sheets: SheetSpec) -> Path:
    path.write_bytes(xlsx_bytes(*sheets))
    return path
