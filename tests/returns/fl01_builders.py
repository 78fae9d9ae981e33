"""Hand-built FL-01 workbooks for the parser tests, independent of ``samples.py``."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huizong.catalog import indicators
from openpyxl import Workbook

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


IDENTITY = "填报单位（盖章）：站儿巷镇妇联  单位代码：621228101000  统计期：2024年第四季度"


def standard_sheet_rows(identity: str = IDENTITY) -> list[list[Any]]:
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


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE compound file (CFB v3) holding ``streams`` in regular sectors.

    Enough structure for readers to list the streams: an encrypted .xlsx is such
    a container with EncryptionInfo and EncryptedPackage streams.
    """
    sector = 512
    end_of_chain, free, fat_marker = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    names = list(streams)
    # streams below 4096 bytes would belong in the mini stream, which this omits
    streams = {n: data.ljust(4096, b"\0") for n, data in streams.items()}
    padded = {n: data + b"\0" * (-len(data) % sector) for n, data in streams.items()}
    dir_sectors = (len(names) + 1 + 3) // 4
    data_sectors = sum(len(b) // sector for b in padded.values())
    fat_sectors = 1
    while (fat_sectors + dir_sectors + data_sectors) > fat_sectors * (sector // 4):
        fat_sectors += 1
    fat = [fat_marker] * fat_sectors
    first_dir = len(fat)
    fat += [first_dir + i + 1 for i in range(dir_sectors - 1)] + [end_of_chain]
    starts: dict[str, int] = {}
    for n in names:
        count = len(padded[n]) // sector
        starts[n] = len(fat)
        fat += [starts[n] + i + 1 for i in range(count - 1)] + [end_of_chain]
    fat += [free] * (fat_sectors * (sector // 4) - len(fat))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (
            encoded.ljust(64, b"\0")
            + len(encoded).to_bytes(2, "little")
            + bytes([kind, 1])
            + (0xFFFFFFFF).to_bytes(4, "little")
            + right.to_bytes(4, "little")
            + child.to_bytes(4, "little")
            + b"\0" * 36
            + start.to_bytes(4, "little")
            + size.to_bytes(8, "little")
        )

    entries = [entry("Root Entry", 5, 1 if names else 0xFFFFFFFF, 0xFFFFFFFF, end_of_chain, 0)]
    for i, n in enumerate(names):
        right = i + 2 if i + 1 < len(names) else 0xFFFFFFFF
        entries.append(entry(n, 2, 0xFFFFFFFF, right, starts[n], len(streams[n])))
    directory = b"".join(entries).ljust(dir_sectors * sector, b"\0")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + (0x003E).to_bytes(2, "little")
        + (0x0003).to_bytes(2, "little")
        + (0xFFFE).to_bytes(2, "little")
        + (9).to_bytes(2, "little")
        + (6).to_bytes(2, "little")
        + b"\0" * 6
        + (0).to_bytes(4, "little")
        + fat_sectors.to_bytes(4, "little")
        + first_dir.to_bytes(4, "little")
        + (0).to_bytes(4, "little")
        + (4096).to_bytes(4, "little")
        + end_of_chain.to_bytes(4, "little")
        + (0).to_bytes(4, "little")
        + end_of_chain.to_bytes(4, "little")
        + (0).to_bytes(4, "little")
    )
    difat = [i for i in range(fat_sectors)] + [free] * (109 - fat_sectors)
    header += b"".join(x.to_bytes(4, "little") for x in difat)
    fat_bytes = b"".join(x.to_bytes(4, "little") for x in fat)
    return header + fat_bytes + directory + b"".join(padded[n] for n in names)
