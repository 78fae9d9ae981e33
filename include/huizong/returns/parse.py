"""Parse one FL-01 return workbook (.xlsx, legacy .xls or .csv) into figures by 代码.

The parser never guesses and never crashes on a bad value: a figure that cannot
be valid becomes ``None`` with a :class:`Problem` naming the sheet, cell, row code
and what is wrong. A file that cannot be read as a return at all (not a
workbook, encrypted, truncated, a zip bomb, XML with entity declarations, no
FL-01 table) raises :class:`ReturnFileError`.

Reading is bounded: the file size, the zip members' declared sizes and ratios
are checked before anything is decompressed, .xlsx sheets are streamed with
openpyxl's read-only mode (merged ranges and formulas without a cached value are
read by a separate streaming pass over the sheet XML, since read-only mode does
not expose them), and at most :data:`MAX_ROWS` × :data:`MAX_COLUMNS` cells of a
sheet are looked at.

Problem ``column`` values: ``current`` / ``ytd`` / ``last_year`` for a figure,
``code`` for a row that cannot be placed (unknown label, duplicate, 代码 and
name disagreeing), ``unit_code`` / ``period`` for the return's identity.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from huizong.catalog import Indicator, code_for_name, indicators, normalize_name
from huizong.returns.periods import PeriodError, find_period, normalize_period, period_start
from huizong.returns.sheet_values import (
    BadNumber,
    clean_cell_text,
    is_plain_number,
    normalise_cell,
    number_from_xml,
)
from huizong.returns.values import clean_text, is_not_reported, parse_value, unit_scale

FORM = "FL-01"
VALUE_COLUMNS = ("current", "ytd", "last_year")

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_TOTAL_UNCOMPRESSED = 128 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100  # real sheet XML compresses ~10-30x; bombs 1000x+
RATIO_CHECK_FLOOR = 1024 * 1024
MAX_SHEETS = 64
MAX_ROWS = 2000
MAX_COLUMNS = 64
MAX_MERGED_CELLS = 200_000
HEADER_SEARCH_ROWS = 40

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


class ReturnFileError(Exception):
    """The file cannot be read as a return at all; ``message`` says what to do."""

    def __init__(self, path: str | Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = str(path)
        self.message = message


_VALUE_LIMIT = 200


def _brief(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass(frozen=True)
class Problem:
    row: str | None
    column: str | None
    cell: str | None
    value: str | None
    message: str

    def __post_init__(self) -> None:
        # a 100,000-character cell is named, not repeated, in the problem
        if self.value is not None and len(self.value) > _VALUE_LIMIT:
            object.__setattr__(self, "value", _brief(self.value, _VALUE_LIMIT))

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "cell": self.cell,
            "value": self.value,
            "message": self.message,
        }


@dataclass
class ParsedReturn:
    unit_code: str | None
    unit_name: str | None
    period: str | None
    rows: dict[str, dict[str, int | float | None]]
    problems: list[Problem] = field(default_factory=list)
    form: str = FORM
    sheet: str | None = None
    reported_on: date | None = None
    source: str | None = None
    # where each figure was read: code -> column -> "Sheet1!D12" (rows found only)
    cells: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def problem_rows(self) -> list[str]:
        return sorted({p.row for p in self.problems if p.row is not None})

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "form": self.form,
            "period": self.period,
            "rows": {code: dict(values) for code, values in self.rows.items()},
            "problem_rows": self.problem_rows,
            "problems": [p.to_json_dict() for p in self.problems],
        }


# --------------------------------------------------------------------------- reading


@dataclass
class _Sheet:
    """A sheet as a grid of raw cell values (0-based), with what the grid cannot say."""

    name: str
    hidden: bool
    cells: list[list[Any]]
    percent_cells: set[tuple[int, int]] = field(default_factory=set)
    # every formula cell -> its text; the value is the saved result only when
    # that is a plain number (sheet_values.is_plain_number), else None
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    merged_origin: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    active: bool = False
    _texts: dict[tuple[int, int], str] = field(default_factory=dict, repr=False)

    def raw(self, r: int, c: int) -> Any:
        if 0 <= r < len(self.cells):
            row = self.cells[r]
            if 0 <= c < len(row):
                return row[c]
        return None

    def resolved(self, r: int, c: int) -> Any:
        """Value shown at (r, c): a merged range shows its top-left cell everywhere."""
        origin = self.merged_origin.get((r, c))
        return self.raw(*origin) if origin else self.raw(r, c)

    def text(self, r: int, c: int) -> str:
        origin = self.merged_origin.get((r, c), (r, c))
        return self.raw_text(*origin)

    def raw_text(self, r: int, c: int) -> str:
        """_cell_text of the cell, computed once: a 3-MB 备注 is normalised one time."""
        key = (r, c)
        cached = self._texts.get(key)
        if cached is None:
            cached = self._texts[key] = _cell_text(self.raw(r, c))
        return cached

    def ref(self, r: int, c: int) -> str:
        return f"{self.name}!{_column_letter(c)}{r + 1}"


def _column_letter(c: int) -> str:
    letters = ""
    c += 1
    while c:
        c, rem = divmod(c - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, float):
        return format(value, ".15g")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    return clean_text(str(value))


def _load_bytes(source: str | Path | bytes, filename: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = filename or "<bytes>"
        if len(data) > MAX_FILE_BYTES:
            raise ReturnFileError(name, _too_large(len(data)))
        return data, name
    path = Path(source)
    name = filename or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ReturnFileError(name, _too_large(size))
        return path.read_bytes(), name
    except OSError as exc:
        raise ReturnFileError(name, f"cannot read the file ({exc.strerror or exc})") from exc


def _too_large(size: int) -> str:
    return (
        f"文件过大 / file is {size // 1024 // 1024} MiB, far larger than a return "
        f"(limit {MAX_FILE_BYTES // 1024 // 1024} MiB): send only the FL-01 sheet"
    )


def _read_sheets(data: bytes, name: str) -> list[_Sheet]:
    if not data:
        raise ReturnFileError(name, "空文件 / the file is empty: send the filled-in workbook")
    if data.startswith(_ZIP_MAGICS):
        return _read_xlsx(data, name)
    if data.startswith(_OLE_MAGIC):
        return _read_ole(data, name)
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"%pdf"):
        raise ReturnFileError(name, "不是Excel表格 / this is a PDF, not a workbook: send the .xlsx")
    if _is_html_table_export(head):
        try:
            return _read_html_tables(data, name)
        except ReturnFileError:
            raise
        except Exception as exc:  # lxml on hopeless markup
            raise ReturnFileError(
                name,
                "不是Excel表格 / a web page saved with a spreadsheet name that cannot be read "
                f"({type(exc).__name__}): open it in Excel or WPS and save it as .xlsx",
            ) from exc
    if head.startswith(b"<") and (b"<html" in head or b"<table" in head or b"<?xml" in head):
        raise ReturnFileError(
            name,
            "不是Excel表格 / a web page or XML saved with a spreadsheet name, not a real "
            "workbook: open it in Excel or WPS and save it as .xlsx",
        )
    if name.lower().endswith((".xlsx", ".xlsm", ".xls")) and data.startswith(b"PK"):
        raise ReturnFileError(name, _truncated())
    return _read_csv(data, name)


def _truncated() -> str:
    return (
        "文件已损坏或不完整 / the workbook is truncated or damaged: "
        "ask the unit to send the file again"
    )


def _not_a_workbook(what: str) -> str:
    return f"不是Excel表格 / {what}: send the return as .xlsx, .xls or .csv"


# ----- .xlsx


_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_ENTITY_MARKERS = tuple(
    marker.encode(enc)
    for marker in ("<!DOCTYPE", "<!ENTITY", "<!doctype", "<!entity")
    for enc in ("ascii", "utf-16-le", "utf-16-be")
)


def _check_zip(zf: zipfile.ZipFile, name: str) -> None:
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise ReturnFileError(name, _bomb(f"{len(infos)} archive members"))
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > MAX_MEMBER_BYTES:
            raise ReturnFileError(name, _bomb(f"{info.filename} unpacks to {info.file_size} bytes"))
        if info.file_size > RATIO_CHECK_FLOOR and info.file_size > MAX_COMPRESSION_RATIO * max(
            info.compress_size, 1
        ):
            raise ReturnFileError(
                name,
                _bomb(f"{info.filename} expands {info.file_size // max(info.compress_size, 1)}x"),
            )
        if info.flag_bits & 0x1:
            raise ReturnFileError(name, _encrypted())
    if total > MAX_TOTAL_UNCOMPRESSED:
        raise ReturnFileError(name, _bomb(f"the archive unpacks to {total} bytes"))
    for info in infos:
        if info.filename.lower().endswith((".xml", ".rels", ".vml")):
            _refuse_entity_declarations(zf, info, name)


def _bomb(detail: str) -> str:
    return (
        f"文件疑似压缩炸弹 / refused: {detail}, far beyond any return (possible zip bomb): "
        "send the workbook as saved by Excel or WPS"
    )


def _encrypted() -> str:
    return (
        "文件已加密 / the workbook is password-protected (encrypted): "
        "remove the password (文件→信息→保护工作簿) and send it again"
    )


def _refuse_entity_declarations(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> None:
    # OOXML parts never carry a DTD; one that does is an entity-expansion attack
    # (billion laughs) or an external-entity probe, refused before any parser sees it.
    tail = b""
    with zf.open(info) as fh:
        while chunk := fh.read(65536):
            window = tail + chunk
            if any(marker in window for marker in _ENTITY_MARKERS):
                raise ReturnFileError(
                    name,
                    f"文件含有不安全的XML声明 / refused: {info.filename} declares XML entities "
                    "(a DTD), which no Excel file does: send the workbook as saved by Excel or WPS",
                )
            tail = window[-24:]


def _xml_root(zf: zipfile.ZipFile, member: str) -> Any:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(zf.read(member), parser=parser)


def _part_path(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    joined = PurePosixPath(base).parent / target
    parts: list[str] = []
    for part in joined.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def _relationship_id(sheet: Any) -> str:
    # r:id in transitional OOXML, the purl.oclc.org namespace in strict OOXML
    for name, value in sheet.attrib.items():
        if name.endswith("}id"):
            return value
    return ""


@dataclass
class _XlsxSheetInfo:
    name: str
    hidden: bool
    path: str | None


def _xlsx_sheet_infos(zf: zipfile.ZipFile, name: str) -> tuple[list[_XlsxSheetInfo], int, str]:
    names = set(zf.namelist())
    workbook_part = "xl/workbook.xml"
    if "_rels/.rels" in names:
        for rel in _xml_root(zf, "_rels/.rels").iter(f"{{{_PKG_REL_NS}}}Relationship"):
            if rel.get("Type", "").endswith("/officeDocument"):
                workbook_part = _part_path("", rel.get("Target", workbook_part))
    if workbook_part not in names:
        if "word/document.xml" in names:
            raise ReturnFileError(name, _not_a_workbook("a Word document"))
        raise ReturnFileError(name, _not_a_workbook("a zip archive without a workbook"))
    rels_part = _part_path(workbook_part, "_rels/" + PurePosixPath(workbook_part).name + ".rels")
    targets: dict[str, str] = {}
    if rels_part in names:
        for rel in _xml_root(zf, rels_part).iter(f"{{{_PKG_REL_NS}}}Relationship"):
            targets[rel.get("Id", "")] = _part_path(workbook_part, rel.get("Target", ""))
    root = _xml_root(zf, workbook_part)
    active = 0
    for view in root.iter("{*}workbookView"):
        try:
            active = int(view.get("activeTab", "0") or 0)
        except ValueError:
            active = 0
        break
    infos = [
        _XlsxSheetInfo(
            name=sheet.get("name", ""),
            hidden=sheet.get("state", "visible") != "visible",
            path=targets.get(_relationship_id(sheet)),
        )
        for sheet in root.iter("{*}sheet")
    ]
    return infos, active, workbook_part


def _merge_map(
    merges: list[tuple[int, int, int, int]], n_rows: int
) -> dict[tuple[int, int], tuple[int, int]]:
    origin: dict[tuple[int, int], tuple[int, int]] = {}
    budget = MAX_MERGED_CELLS
    for r1, c1, r2, c2 in merges:
        r2, c2 = min(r2, n_rows, MAX_ROWS), min(c2, MAX_COLUMNS)
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1):
                    origin[(r, c)] = (r1, c1)
                    budget -= 1
                    if budget <= 0:
                        return origin
    return origin


def _read_xlsx(data: bytes, name: str) -> list[_Sheet]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ReturnFileError(name, _truncated()) from exc
    with zf:
        try:
            _check_zip(zf, name)
            return _read_xlsx_cells(zf, name)
        except ReturnFileError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise ReturnFileError(name, _truncated()) from exc
        except Exception as exc:  # openpyxl and lxml raise many kinds on damaged parts
            raise ReturnFileError(
                name,
                "文件已损坏 / the workbook cannot be read "
                f"({type(exc).__name__}: {str(exc)[:120]}): open it in Excel or WPS, "
                "save it again as .xlsx and resend",
            ) from exc


def _sheet_order(count: int, active: int) -> list[int]:
    """Indexes of the sheets to read: the active one first, then the rest in order.

    A workbook of hundreds of sheets is read only to :data:`MAX_SHEETS`, and the
    active sheet (where the submitter left the FL-01) is never the one cut off.
    """
    active = active if 0 <= active < count else 0
    order = [active] + [i for i in range(count) if i != active]
    return order[:MAX_SHEETS]


@dataclass
class _XlsxStyles:
    percent_xf: set[int] = field(default_factory=set)
    date_xf: set[int] = field(default_factory=set)


def _xlsx_styles(zf: zipfile.ZipFile, names: set[str]) -> _XlsxStyles:
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    styles = _XlsxStyles()
    if "xl/styles.xml" not in names:
        return styles
    root = _xml_root(zf, "xl/styles.xml")
    formats: dict[int, str] = dict(BUILTIN_FORMATS)
    for fmt in root.iter("{*}numFmt"):
        try:
            formats[int(fmt.get("numFmtId", ""))] = fmt.get("formatCode", "")
        except ValueError:
            continue
    for cell_xfs in root.iter("{*}cellXfs"):
        for index, xf in enumerate(cell_xfs.iter("{*}xf")):
            try:
                code = formats.get(int(xf.get("numFmtId", "0") or 0), "")
            except ValueError:
                continue
            if "%" in code:
                styles.percent_xf.add(index)
            elif code and is_date_format(code):
                styles.date_xf.add(index)
        break
    return styles


def _xml_text(elem: Any) -> str:
    """Text of an <si> or <is>: its <t> runs, without phonetic (<rPh>) guides."""
    from lxml import etree

    parts: list[str] = []
    for t in elem.iter("{*}t"):
        parent = t.getparent()
        if parent is not None and etree.QName(parent).localname == "rPh":
            continue
        parts.append(t.text or "")
    return "".join(parts)


def _shared_strings(zf: zipfile.ZipFile, member: str | None) -> list[str]:
    from lxml import etree

    if member is None:
        return []
    strings: list[str] = []
    with zf.open(member) as fh:
        for _, elem in etree.iterparse(
            fh, events=("end",), tag="{*}si", resolve_entities=False, no_network=True
        ):
            strings.append(_xml_text(elem))
            elem.clear(keep_tail=True)
            while elem.getprevious() is not None:  # keep memory flat over a huge table
                del elem.getparent()[0]
    return strings


_CELL_REF = re.compile(r"([A-Za-z]{1,3})(\d{1,7})$")


def _cell_position(ref: str | None, row: int, previous_col: int) -> tuple[int, int]:
    if ref:
        match = _CELL_REF.match(ref)
        if match:
            col = 0
            for ch in match.group(1).upper():
                col = col * 26 + ord(ch) - 64
            return int(match.group(2)) - 1, col - 1
    return row, previous_col + 1


@dataclass
class _XlsxContext:
    shared: list[str]
    styles: _XlsxStyles
    date1904: bool


def _xlsx_cell_value(elem: Any, ctx: _XlsxContext) -> tuple[Any, str | None, bool]:
    """(normalised value, formula text or None, percent-formatted) of one <c>."""
    from lxml import etree

    kind = elem.get("t", "n")
    formula: str | None = None
    raw: str | None = None
    inline: Any = None
    for child in elem:
        local = etree.QName(child).localname
        if local == "f":
            formula = "=" + (child.text or "(shared formula)")
        elif local == "v":
            raw = child.text
        elif local == "is":
            inline = child
    try:
        style = int(elem.get("s", "0") or 0)
    except ValueError:
        style = 0
    value: Any
    if kind == "s":
        try:
            value = ctx.shared[int((raw or "").strip())]
        except (ValueError, IndexError):
            value = None
        value = normalise_cell(value, excel_escapes=True)
    elif kind == "inlineStr":
        value = normalise_cell(
            _xml_text(inline) if inline is not None else None, excel_escapes=True
        )
    elif kind in ("str", "e"):
        value = normalise_cell(raw, excel_escapes=True)
    elif kind == "b":
        value = (raw or "").strip() in ("1", "true")
    elif kind == "d":
        value = _iso_datetime(raw)
    else:
        value = number_from_xml(raw)
        if is_plain_number(value) and style in ctx.styles.date_xf:
            value = _excel_datetime(value, ctx.date1904)
    percent = is_plain_number(value) and style in ctx.styles.percent_xf
    return value, formula, percent


def _iso_datetime(text: str | None) -> Any:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.strip().rstrip("Z"))
    except ValueError:
        return normalise_cell(text)


def _excel_datetime(number: float, date1904: bool) -> Any:
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

    try:
        moment = from_excel(number, CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900)
    except (ValueError, OverflowError, TypeError):
        return number
    return moment if moment is not None else number


def _read_xlsx_sheet(zf: zipfile.ZipFile, member: str, ctx: _XlsxContext) -> dict[str, Any]:
    """Cells (to MAX_ROWS × MAX_COLUMNS), merged ranges and formulas of one sheet,
    streamed from its XML so a huge sheet costs no more memory than a small one."""
    from lxml import etree

    grid: dict[int, dict[int, Any]] = {}
    percent: set[tuple[int, int]] = set()
    formulas: dict[tuple[int, int], str] = {}
    merges: list[tuple[int, int, int, int]] = []
    row_index, col_index = -1, -1
    with zf.open(member) as fh:
        for event, elem in etree.iterparse(
            fh,
            events=("start", "end"),
            tag=("{*}c", "{*}mergeCell", "{*}row"),
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
        ):
            local = etree.QName(elem).localname
            if local == "row":
                if event == "start":
                    try:
                        row_index = int(elem.get("r", "")) - 1
                    except ValueError:
                        row_index += 1
                    col_index = -1
                else:
                    elem.clear(keep_tail=True)
                    parent = elem.getparent()
                    while parent is not None and elem.getprevious() is not None:
                        del parent[0]
                continue
            if event != "end":
                continue
            if local == "c":
                r, c = _cell_position(elem.get("r"), max(row_index, 0), col_index)
                col_index = c
                if 0 <= r < MAX_ROWS and 0 <= c < MAX_COLUMNS:
                    value, formula, is_percent = _xlsx_cell_value(elem, ctx)
                    if formula is not None and not is_plain_number(value):
                        value = None  # a formula's text result is never taken as data
                    if value is not None:
                        grid.setdefault(r, {})[c] = value
                    if formula is not None:
                        formulas[(r, c)] = formula
                    if is_percent:
                        percent.add((r, c))
            elif local == "mergeCell":
                from openpyxl.utils.cell import range_boundaries

                try:
                    c1, r1, c2, r2 = range_boundaries(elem.get("ref", ""))
                except (ValueError, TypeError):
                    continue
                if None not in (c1, r1, c2, r2):
                    merges.append((r1 - 1, c1 - 1, r2 - 1, c2 - 1))
    n_rows = max(grid, default=-1) + 1
    cells: list[list[Any]] = []
    for r in range(n_rows):
        row = grid.get(r, {})
        width = max(row, default=-1) + 1
        cells.append([row.get(c) for c in range(width)])
    return {"cells": cells, "percent": percent, "formulas": formulas, "merges": merges}


def _check_content_types(
    zf: zipfile.ZipFile, names: set[str], workbook_part: str, name: str
) -> None:
    # Excel, WPS and openpyxl find the workbook through [Content_Types].xml; a
    # package whose content types do not declare a spreadsheet is damaged.
    if "[Content_Types].xml" not in names:
        raise ReturnFileError(name, _truncated())
    root = _xml_root(zf, "[Content_Types].xml")
    extension = PurePosixPath(workbook_part).suffix.lstrip(".").lower()
    for entry in root:
        part = entry.get("PartName", "").lstrip("/")
        applies = part == workbook_part or (
            entry.get("Extension", "").lower() == extension and extension != "xml"
        )
        content_type = entry.get("ContentType", "")
        if applies and ("spreadsheetml" in content_type or "ms-excel" in content_type):
            return
    raise ReturnFileError(
        name,
        "文件已损坏 / the workbook's [Content_Types].xml declares no spreadsheet: "
        "open it in Excel or WPS, save it again as .xlsx and resend",
    )


def _read_xlsx_cells(zf: zipfile.ZipFile, name: str) -> list[_Sheet]:
    infos, active, workbook_part = _xlsx_sheet_infos(zf, name)
    names = set(zf.namelist())
    _check_content_types(zf, names, workbook_part, name)
    root = _xml_root(zf, workbook_part)
    date1904 = any(pr.get("date1904", "0") in ("1", "true") for pr in root.iter("{*}workbookPr"))
    shared_part = _related_part(zf, names, workbook_part, "/sharedStrings")
    ctx = _XlsxContext(
        shared=_shared_strings(zf, shared_part), styles=_xlsx_styles(zf, names), date1904=date1904
    )
    sheets: list[_Sheet] = []
    for index in _sheet_order(len(infos), active):
        info = infos[index]
        content: dict[str, Any] = {"cells": [], "percent": set(), "formulas": {}, "merges": []}
        if info.path and info.path in names:
            content = _read_xlsx_sheet(zf, info.path, ctx)
        sheets.append(
            _Sheet(
                name=clean_cell_text(info.name) or f"Sheet{index + 1}",
                hidden=info.hidden,
                cells=content["cells"],
                percent_cells=content["percent"],
                formulas=content["formulas"],
                merged_origin=_merge_map(content["merges"], len(content["cells"])),
                active=index == active,
            )
        )
    return sheets


def _related_part(
    zf: zipfile.ZipFile, names: set[str], workbook_part: str, type_suffix: str
) -> str | None:
    rels_part = _part_path(workbook_part, "_rels/" + PurePosixPath(workbook_part).name + ".rels")
    if rels_part in names:
        for rel in _xml_root(zf, rels_part).iter(f"{{{_PKG_REL_NS}}}Relationship"):
            if rel.get("Type", "").endswith(type_suffix):
                target = _part_path(workbook_part, rel.get("Target", ""))
                return target if target in names else None
    return None


# ----- legacy .xls and OLE containers


def _read_ole(data: bytes, name: str) -> list[_Sheet]:
    # An encrypted .xlsx is an OLE compound file holding EncryptionInfo and
    # EncryptedPackage streams; directory entries store names in UTF-16LE.
    if (
        "EncryptedPackage".encode("utf-16-le") in data
        or "EncryptionInfo".encode("utf-16-le") in data
    ):
        raise ReturnFileError(name, _encrypted())
    import xlrd

    try:
        book = xlrd.open_workbook(
            file_contents=data, formatting_info=True, on_demand=True, logfile=io.StringIO()
        )
    except xlrd.biffh.XLRDError as exc:
        text = str(exc).lower()
        if "encrypt" in text:
            raise ReturnFileError(name, _encrypted()) from exc
        if "workbook" in text and "ole2" in text:
            raise ReturnFileError(
                name, _not_a_workbook("an Office file that holds no Excel workbook")
            ) from exc
        raise ReturnFileError(name, _truncated()) from exc
    except Exception as exc:  # xlrd raises assorted errors on damaged BIFF
        raise ReturnFileError(name, _truncated()) from exc
    try:
        return _read_xls_book(book, name)
    except ReturnFileError:
        raise
    except Exception as exc:
        raise ReturnFileError(name, _truncated()) from exc
    finally:
        book.release_resources()


def _read_xls_book(book: Any, name: str) -> list[_Sheet]:
    import xlrd

    percent_xf: set[int] = set()
    for index, xf in enumerate(book.xf_list):
        fmt = book.format_map.get(xf.format_key)
        if fmt is not None and "%" in fmt.format_str:
            percent_xf.add(index)
    active = 0
    for index in range(book.nsheets):
        if book.sheet_by_index(index).sheet_selected:
            active = index
            break
        book.unload_sheet(index)
    sheets: list[_Sheet] = []
    for index in _sheet_order(book.nsheets, active):
        sheet = book.sheet_by_index(index)
        cells: list[list[Any]] = []
        percent: set[tuple[int, int]] = set()
        for r in range(min(sheet.nrows, MAX_ROWS)):
            values: list[Any] = []
            for c in range(min(sheet.row_len(r), MAX_COLUMNS)):
                cell = sheet.cell(r, c)
                ctype = cell.ctype
                value: Any
                if ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    value = None
                elif ctype == xlrd.XL_CELL_DATE:
                    try:
                        value = xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
                    except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                        value = cell.value
                elif ctype == xlrd.XL_CELL_ERROR:
                    value = xlrd.error_text_from_code.get(cell.value, "#VALUE!")
                elif ctype == xlrd.XL_CELL_BOOLEAN:
                    value = bool(cell.value)
                else:
                    value = cell.value
                    if ctype == xlrd.XL_CELL_NUMBER and cell.xf_index in percent_xf:
                        percent.add((r, c))
                values.append(normalise_cell(value))
            cells.append(values)
        merges = [(r1, c1, r2 - 1, c2 - 1) for r1, r2, c1, c2 in sheet.merged_cells]
        sheets.append(
            _Sheet(
                name=clean_cell_text(sheet.name) or f"Sheet{index + 1}",
                hidden=bool(sheet.visibility),
                cells=cells,
                percent_cells=percent,
                merged_origin=_merge_map(merges, len(cells)),
                active=index == active,
            )
        )
        book.unload_sheet(index)
    return sheets


# ----- .xls that is an HTML table (OA systems and Excel's "Web page" export)

_HTML_HEAD = re.compile(
    rb"^(?:<!--.*?-->\s*|<!doctype[^>]*>\s*|<\?xml[^>]*>\s*)*<(?:html|table|head|meta|body)\b",
    re.S,
)
_HTML_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_ENCODING_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030"}
MAX_HTML_TABLES = MAX_SHEETS


def _is_html_table_export(head: bytes) -> bool:
    """True when the (lower-cased) start of the file is an HTML document or table."""
    return bool(_HTML_HEAD.match(head))


def _html_encoding(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    declared = _HTML_CHARSET.search(data[:8192])
    if declared:
        encoding = declared.group(1).decode("ascii").lower()
        encoding = _ENCODING_ALIASES.get(encoding, encoding)
        try:
            codecs.lookup(encoding)
            return encoding
        except LookupError:
            pass
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def _read_html_tables(data: bytes, name: str) -> list[_Sheet]:
    """Each <table> of an HTML ".xls" as a sheet, with colspan/rowspan as merges.

    OA systems export reports this way (GB2312 <meta>, GBK bytes, Excel's
    ``xmlns:x="urn:schemas-microsoft-com:office:excel"``); Excel opens them as a
    workbook, so they are read as the table they are. Excel's own ``x:num``
    attribute carries the unformatted number of a cell and is preferred.
    """
    import lxml.html

    encoding = _html_encoding(data)
    text = data.decode(encoding, errors="replace")
    text = re.sub(r"^\s*<\?xml[^>]*>", "", text)  # lxml refuses a str with an encoding decl
    if not text.strip():
        raise ReturnFileError(name, "空文件 / the file is empty: send the filled-in workbook")
    try:
        document = lxml.html.document_fromstring(text)
    except Exception as exc:  # lxml raises ParserError/ValueError on hopeless markup
        raise ReturnFileError(
            name,
            "不是Excel表格 / a web page saved with a spreadsheet name that cannot be read: "
            "open it in Excel or WPS and save it as .xlsx",
        ) from exc
    tables = document.xpath("//table")
    if not tables:
        raise ReturnFileError(
            name,
            "不是Excel表格 / a web page saved with a spreadsheet name, holding no table: "
            "open it in Excel or WPS and save it as .xlsx",
        )
    stem = PurePosixPath(name.replace("\\", "/")).stem if name != "<bytes>" else "Sheet"
    sheets: list[_Sheet] = []
    for index, table in enumerate(tables[:MAX_HTML_TABLES]):
        sheets.append(_html_table_sheet(table, f"{clean_cell_text(stem) or 'Sheet'}#{index + 1}"))
        sheets[-1].active = index == 0
    return sheets


def _html_cell_value(cell: Any) -> Any:
    number = cell.get("x:num")
    if number is not None and number.strip():
        value = number_from_xml(number)
        if value is not None:
            return value
    for br in cell.iter("br"):
        br.tail = "\n" + (br.tail or "")
    return normalise_cell(cell.text_content())


def _span(cell: Any, attribute: str, limit: int) -> int:
    try:
        return max(1, min(int(cell.get(attribute, "1") or 1), limit))
    except ValueError:
        return 1


def _html_table_sheet(table: Any, sheet_name: str) -> _Sheet:
    grid: dict[tuple[int, int], Any] = {}
    percent: set[tuple[int, int]] = set()
    formulas: dict[tuple[int, int], str] = {}
    merges: list[tuple[int, int, int, int]] = []
    occupied: set[tuple[int, int]] = set()
    rows = table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")
    n_rows = 0
    for r, tr in enumerate(rows[:MAX_ROWS]):
        c = 0
        for cell in tr.xpath("./td|./th"):
            while (r, c) in occupied:
                c += 1
            if c >= MAX_COLUMNS:
                break
            colspan = _span(cell, "colspan", MAX_COLUMNS - c)
            rowspan = _span(cell, "rowspan", MAX_ROWS - r)
            value = _html_cell_value(cell)
            formula = cell.get("x:fmla")  # Excel's export keeps a formula beside its result
            if formula is not None:
                formulas[(r, c)] = formula if formula.startswith("=") else "=" + formula
                if not is_plain_number(value):
                    value = None
            if value is not None:
                grid[(r, c)] = value
            style = (cell.get("style") or "") + (cell.get("class") or "")
            if is_plain_number(value) and cell.get("x:num") is not None and "%" in style:
                percent.add((r, c))
            if colspan > 1 or rowspan > 1:
                merges.append((r, c, r + rowspan - 1, c + colspan - 1))
                for dr in range(rowspan):
                    for dc in range(colspan):
                        if len(occupied) < MAX_MERGED_CELLS:
                            occupied.add((r + dr, c + dc))
            c += colspan
        n_rows = r + 1
    by_row: dict[int, dict[int, Any]] = {}
    for (r, c), value in grid.items():
        by_row.setdefault(r, {})[c] = value
    n_rows = max([n_rows, *(r + 1 for r in by_row)])
    cells = [
        [by_row.get(r, {}).get(c) for c in range(max(by_row.get(r, {}), default=-1) + 1)]
        for r in range(n_rows)
    ]
    return _Sheet(
        name=sheet_name,
        hidden=False,
        cells=cells,
        percent_cells=percent,
        formulas=formulas,
        merged_origin=_merge_map(merges, len(cells)),
    )


# ----- .csv


def _decode_text(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if b"\x00" in data[:4096]:
        raise ReturnFileError(name, _not_a_workbook("a binary file of an unknown kind"))
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data[:65536]).best()
    if best is None or best.encoding is None:
        raise ReturnFileError(name, _not_a_workbook("neither a workbook nor readable text"))
    return data.decode(best.encoding, errors="replace")


def _read_csv(data: bytes, name: str) -> list[_Sheet]:
    text = _decode_text(data, name)
    sample = text[:8192]
    delimiter = max(",\t;", key=sample.count)
    if sample.count(delimiter) == 0:
        delimiter = ","
    # A 备注 may be longer than the csv module's default field limit (128 KiB);
    # the file itself is bounded by MAX_FILE_BYTES, so that is the field bound.
    if csv.field_size_limit() < MAX_FILE_BYTES:
        csv.field_size_limit(MAX_FILE_BYTES)
    cells: list[list[Any]] = []
    r = -1
    try:
        for r, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter)):
            if r >= MAX_ROWS:
                break
            cells.append([normalise_cell(value) for value in row[:MAX_COLUMNS]])
    except csv.Error as exc:
        raise ReturnFileError(
            name,
            f"CSV无法读取 / the CSV cannot be read at line {r + 2} ({exc}): "
            "save the return from Excel or WPS as .xlsx and resend",
        ) from exc
    stem = PurePosixPath(name.replace("\\", "/")).stem if name != "<bytes>" else "Sheet1"
    return [_Sheet(name=clean_cell_text(stem) or "Sheet1", hidden=False, cells=cells, active=True)]


# --------------------------------------------------------------------------- layout


_HEADER_LABELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (labels, weaker labels used only when no column has a proper label)
    "name": (("指标名称", "指标", "指标项目", "项目名称", "统计指标", "指标名"), ("项目", "名称")),
    "unit": (("计量单位", "单位", "计算单位"), ()),
    "code": (("代码", "行次", "编码", "指标代码", "行号", "代号", "编号"), ()),
    "current": (
        (
            "本期数", "本期", "本期实际数", "本期完成数", "本期发生数", "本季度数", "本季度",
            "本季数", "本季", "本月数", "本月", "本期值",
        ),
        ("本年数", "全年数", "年度数", "数量", "数值", "填报数"),
    ),
    "ytd": (
        (
            "本年累计数", "本年累计", "累计数", "累计", "本年度累计数", "本年度累计", "年累计数",
            "年初至本期累计", "本年至本期累计数", "1至本期累计数",
        ),
        (),
    ),
    "last_year": (
        ("上年同期数", "上年同期", "去年同期数", "去年同期", "上年同期累计数", "上年同期值"),
        (),
    ),
    "note": (("备注", "说明"), ()),
}  # fmt: skip


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[(\[【][^)\]】]*[)\]】]", "", text)  # 本期数(1), 本期数（个）
    return re.sub(r"[\s:：*]", "", text)


_LABEL_RANK: dict[str, tuple[str, int]] = {}
for _kind, (_strong, _weak) in _HEADER_LABELS.items():
    for _label in _strong:
        _LABEL_RANK[_header_key(_label)] = (_kind, 2)
    for _label in _weak:
        _LABEL_RANK.setdefault(_header_key(_label), (_kind, 1))


@dataclass
class _Header:
    first_row: int
    last_row: int
    columns: dict[str, int]  # kind -> column index


def _classify(text: str) -> tuple[str, int] | None:
    if not text or len(text) > 24:
        return None
    return _LABEL_RANK.get(_header_key(text))


def _header_at(sheet: _Sheet, r: int, width: int) -> _Header | None:
    best: dict[int, tuple[str, int, int]] = {}  # column -> (kind, rank, band row)
    used_rows: set[int] = set()
    for band_row in (r, r + 1):
        for c in range(width):
            origin = sheet.merged_origin.get((band_row, c))
            if band_row == r + 1 and origin is not None and origin[0] <= r:
                continue  # 指标名称 merged down over both rows is one cell, of the upper row
            found = _classify(sheet.text(band_row, c))
            if band_row == r + 1 and sheet.text(r, c) and sheet.text(band_row, c):
                # 上年 spanning 同期数, 本年 spanning 累计数: the two rows make one label
                spanned = _classify(sheet.text(r, c) + sheet.text(band_row, c))
                if spanned is not None and (found is None or spanned[1] >= found[1]):
                    found = spanned
            if found is None:
                continue
            kind, rank = found
            # Prefer the lower row of a two-row header: the upper one holds group
            # titles (数量) over the specific column labels (本期数 …).
            current = best.get(c)
            if current is None or rank >= current[1]:
                best[c] = (kind, rank, band_row)
    columns: dict[str, int] = {}
    ranks: dict[str, int] = {}
    for c in sorted(best):
        kind, rank, band_row = best[c]
        if kind not in columns or rank > ranks[kind]:
            columns[kind], ranks[kind] = c, rank
    for c in columns.values():
        used_rows.add(best[c][2])
    if not ({"name", "code"} & columns.keys()) or not (set(VALUE_COLUMNS) & columns.keys()):
        return None
    if r not in used_rows:
        return None
    return _Header(first_row=r, last_row=max(used_rows), columns=columns)


def _find_header(sheet: _Sheet) -> _Header | None:
    width = min(MAX_COLUMNS, max((len(row) for row in sheet.cells), default=0))
    best: _Header | None = None
    for r in range(min(HEADER_SEARCH_ROWS, len(sheet.cells))):
        header = _header_at(sheet, r, width)
        if header and (best is None or len(header.columns) > len(best.columns)):
            best = header
    return best


# ----- row labels

_LEADING_NUMBERING = re.compile(
    r"^\s*(?:[(（]?[一二三四五六七八九十]+[)）]?[、.．]?|[(（]\d{1,2}[)）]|\d{1,2}\s*[、.．)）]|"
    r"\d{1,2}\s+)\s*"
)
_TRAILING_BRACKET = re.compile(r"[(（]([^()（）]*)[)）]\s*$")
_SECTION_ROW = re.compile(r"^\s*[一二三四五六七八九十]+\s*[、.．]")
_COLUMN_NUMBERING = frozenset("甲乙丙丁戊己")
_UNIT_IN_NAME = re.compile(r"^(?:单位[:：])?(万元|千元|元|个|人次|人|场次|场|件次|件|起|户|条|%)$")


@cache
def _label_index(form: str) -> dict[str, str]:
    """Normalized row label -> code: catalog names, plus aliases no two codes share."""
    alias_codes: dict[str, set[str]] = {}
    for code, indicator in indicators(form).items():
        for alias in indicator.aliases:
            alias_codes.setdefault(normalize_name(alias), set()).add(code)
    index = {key: next(iter(codes)) for key, codes in alias_codes.items() if len(codes) == 1}
    for code, indicator in indicators(form).items():
        index[normalize_name(indicator.name)] = code
    index.pop("", None)
    return index


def _code_for_label(label: str, form: str = FORM) -> tuple[str | None, str | None]:
    """(code, unit written in the label) for a typed row label such as ``1.理赔金额（万元）``."""
    text = clean_text(label)
    if not text:
        return None, None
    index = _label_index(form)
    unit: str | None = None
    candidates = [text]
    bracket = _TRAILING_BRACKET.search(text)
    if bracket and _UNIT_IN_NAME.match(bracket.group(1).replace(" ", "")):
        unit = _UNIT_IN_NAME.match(bracket.group(1).replace(" ", "")).group(1)  # type: ignore[union-attr]
        candidates.append(text[: bracket.start()])
    for candidate in list(candidates):
        stripped = _LEADING_NUMBERING.sub("", candidate, count=1)
        if stripped != candidate:
            candidates.append(stripped)
    for candidate in candidates:
        code = code_for_name(candidate, form) or index.get(normalize_name(candidate))
        if code:
            return code, unit
    return None, None


def _code_from_cell(value: Any, form: str = FORM) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        number = int(value) if value.is_integer() else None
    else:
        match = re.fullmatch(r"0*(\d{1,3})", clean_text(str(value)).replace(" ", ""))
        number = int(match.group(1)) if match else None
    if number is None:
        return None
    code = f"{number:02d}"
    return code if code in indicators(form) else None


def _suggestion(label: str, form: str = FORM) -> str:
    names = {normalize_name(ind.name): (code, ind.name) for code, ind in indicators(form).items()}
    close = difflib.get_close_matches(normalize_name(label), list(names), n=1, cutoff=0.6)
    if not close:
        return ""
    code, name = names[close[0]]
    return f" (是否为 {code} {name}? / did you mean {code} {name}?)"


# ----- identity


_IDENTITY_LABELS: dict[str, tuple[str, ...]] = {
    "unit_name": ("填报单位", "报送单位", "填表单位", "单位名称", "报表单位", "填报机构"),
    "unit_code": (
        "统计用区划代码", "行政区划代码", "区划代码", "单位代码", "单位编码", "机构代码",
        "组织机构代码",
    ),
    "period": (
        "统计期间", "统计期", "报告期", "统计时间", "统计时期", "填报期间", "报表期", "所属期",
        "报告时间", "所属时期", "时间", "期间",
    ),
    "reported_on": ("报出日期", "报送日期", "填报日期", "填表日期", "报出时间", "报送时间"),
    "money_unit": ("金额单位",),
    "footer": (
        "单位负责人", "统计负责人", "填表人", "制表人", "审核人", "联系电话", "电话", "负责人",
        "手机",
    ),
}  # fmt: skip
_LABEL_FIELD = {label: fld for fld, labels in _IDENTITY_LABELS.items() for label in labels}
_LABEL_ALTERNATIVES = "|".join(sorted(map(re.escape, _LABEL_FIELD), key=len, reverse=True))
_LABEL_IN_TEXT = re.compile(
    rf"(?P<label>{_LABEL_ALTERNATIVES})\s*(?:[(（][^)）]{{0,12}}[)）])?\s*[:：]\s*"
)
_LABEL_ONLY = re.compile(
    rf"^(?P<label>{_LABEL_ALTERNATIVES})\s*(?:[(（][^)）]{{0,12}}[)）])?\s*[:：]?$"
)
_FOOTER_ROW = re.compile(
    "|".join(map(re.escape, _IDENTITY_LABELS["footer"] + _IDENTITY_LABELS["reported_on"]))
)


@dataclass
class _IdentityField:
    field: str
    value: Any
    r: int
    c: int


def _identity_fields(sheet: _Sheet, rows: list[int]) -> list[_IdentityField]:
    found: list[_IdentityField] = []
    for r in rows:
        row = sheet.cells[r] if r < len(sheet.cells) else []
        c = 0
        while c < len(row):
            if sheet.merged_origin.get((r, c), (r, c)) != (r, c):
                c += 1
                continue
            text = sheet.raw_text(r, c)
            if not text:
                c += 1
                continue
            only = _LABEL_ONLY.match(text)
            if only:
                target = _next_value_cell(sheet, r, c)
                if target is not None:
                    found.append(
                        _IdentityField(
                            _LABEL_FIELD[only.group("label")], sheet.raw(r, target), r, target
                        )
                    )
                    c = target + 1
                    continue
            matches = list(_LABEL_IN_TEXT.finditer(text))
            for i, match in enumerate(matches):
                end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
                piece = text[match.end() : end].strip()
                if piece:
                    found.append(_IdentityField(_LABEL_FIELD[match.group("label")], piece, r, c))
            c += 1
    return found


def _next_value_cell(sheet: _Sheet, r: int, c: int) -> int | None:
    row = sheet.cells[r]
    for target in range(c + 1, min(len(row), c + 8)):
        if sheet.merged_origin.get((r, target), (r, target)) != (r, target):
            continue
        text = sheet.raw_text(r, target)
        if not text and (r, target) in sheet.formulas:
            return target  # a formula where a name or code belongs: reported, not skipped
        if not text:
            continue
        if _LABEL_ONLY.match(text) or _LABEL_IN_TEXT.match(text):
            return None
        return target
    return None


def _clean_unit_name(text: str) -> tuple[str | None, str | None]:
    """(unit name, 12-digit code written inside it) without 盖章 notes and punctuation."""
    text = re.sub(r"[(（]\s*盖\s*章\s*[)）]|盖章", "", clean_text(text))
    code_match = re.search(r"(?<!\d)\d{12}(?!\d)", text)
    code = code_match.group(0) if code_match else None
    if code_match:
        text = text.replace(code_match.group(0), "")
        text = re.sub(r"[(（]\s*[)）]", "", text)
    text = text.strip(" :：,，;；。")
    return (text or None), code


def _unit_code(value: Any) -> str | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    digits = re.sub(r"[\s\-]", "", clean_text(str(value)))
    if not digits.isdigit():
        return None
    if len(digits) == 12:
        return digits
    if len(digits) in (6, 9):  # a county (GB/T 2260) or town code, padded as NBS does
        return digits.ljust(12, "0")
    return None


_DATE_TEXT = re.compile(r"((?:19|20)\d{2})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})\s*日?")


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 20000 < value < 80000:
        return date(1899, 12, 30) + timedelta(days=int(value))  # an Excel serial date
    match = _DATE_TEXT.search(clean_text(str(value)))
    if match:
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return None
    return None


# ----- analysis of one sheet


@dataclass
class _SheetResult:
    parsed: ParsedReturn
    matched_rows: int


def _row_is_empty(sheet: _Sheet, r: int) -> bool:
    return all(sheet.raw_text(r, c) == "" for c in range(len(sheet.cells[r])))


def _analyse(sheet: _Sheet, header: _Header, form: str = FORM) -> _SheetResult:
    catalog = indicators(form)
    columns = header.columns
    rows: dict[str, dict[str, int | float | None]] = {
        code: dict.fromkeys(VALUE_COLUMNS) for code in catalog
    }
    problems: list[Problem] = []
    cells: dict[str, dict[str, str]] = {}
    seen: dict[str, int] = {}
    other_rows: list[int] = list(range(header.first_row))
    name_col = columns.get("name")
    label_stop = min(
        (c for c in columns.values() if name_col is not None and c > name_col),
        default=(name_col or 0) + 1,
    )
    value_cols = [(kind, columns[kind]) for kind in VALUE_COLUMNS if kind in columns]
    money_scale = 1
    for item in _identity_fields(sheet, other_rows):
        if item.field == "money_unit":
            money_scale, _ = unit_scale(_cell_text(item.value), "元")

    for r in range(header.last_row + 1, len(sheet.cells)):
        if _row_is_empty(sheet, r):
            continue
        row_text = " ".join(
            sheet.raw_text(r, c) for c, v in enumerate(sheet.cells[r]) if v is not None
        )
        if _FOOTER_ROW.search(row_text) or _LABEL_IN_TEXT.search(row_text):
            other_rows.append(r)
            continue
        labels: list[str] = []
        if name_col is not None:
            for c in range(name_col, max(label_stop, name_col + 1)):
                text = sheet.text(r, c)
                if text and text not in labels:
                    labels.append(text)
        code_cell = sheet.resolved(r, columns["code"]) if "code" in columns else None
        by_code = _code_from_cell(code_cell, form)
        by_name: str | None = None
        unit_in_name: str | None = None
        for candidate in [*labels, "".join(labels)] if len(labels) > 1 else labels:
            by_name, unit_in_name = _code_for_label(candidate, form)
            if by_name:
                break
        has_values = any(not is_not_reported(sheet.raw(r, c)) for _, c in value_cols)
        code = by_code or by_name
        label = "".join(labels)
        label_ref = sheet.ref(r, name_col if name_col is not None else columns.get("code", 0))
        if code is None:
            numbering_row = label in _COLUMN_NUMBERING or re.fullmatch(r"[A-Za-z]", label)
            if has_values and not numbering_row:
                shown = _brief(label or _cell_text(code_cell))
                problems.append(
                    Problem(
                        row=None,
                        column="code",
                        cell=label_ref,
                        value=shown or None,
                        message=(
                            f"无法识别的指标行“{shown}”，本行数据未读入 / unrecognised row "
                            f"{shown!r}: its figures were not read; use the 指标名称 or 代码 of "
                            f"form {form}{_suggestion(shown, form)}"
                        ),
                    )
                )
            elif not has_values and not _SECTION_ROW.match(label):
                other_rows.append(r)
            continue
        if by_code and by_name and by_code != by_name:
            problems.append(
                Problem(
                    row=code,
                    column="code",
                    cell=sheet.ref(r, columns["code"]),
                    value=_cell_text(code_cell),
                    message=(
                        f"代码{by_code}与指标名称“{_brief(label)}”（{by_name}）不符，按代码读入 / "
                        f"代码 {by_code} does not match the name {_brief(label)!r} "
                        f"(row {by_name}); "
                        "read as the 代码 says: check which is right"
                    ),
                )
            )
        if code in seen:
            if has_values:
                problems.append(
                    Problem(
                        row=code,
                        column="code",
                        cell=label_ref,
                        value=label or _cell_text(code_cell),
                        message=(
                            f"指标{code}重复出现（第{seen[code] + 1}行和第{r + 1}行），"
                            "只读入第一行 / "
                            f"row {code} appears twice (rows {seen[code] + 1} and {r + 1}); "
                            "only the first was read: delete the duplicate"
                        ),
                    )
                )
            continue
        seen[code] = r
        indicator = catalog[code]
        unit_text = sheet.text(r, columns["unit"]) if "unit" in columns else ""
        scale, unit_problem = unit_scale(unit_text or unit_in_name, indicator.unit)
        if not unit_text and not unit_in_name and indicator.is_money:
            scale = money_scale
        cells[code] = {kind: sheet.ref(r, c) for kind, c in value_cols}
        for kind, c in value_cols:
            rows[code][kind] = _read_figure(
                sheet, r, c, code, kind, indicator, scale, unit_problem, problems
            )

    identity = _identity_fields(sheet, other_rows)
    parsed = ParsedReturn(
        unit_code=None,
        unit_name=None,
        period=None,
        rows=rows,
        problems=problems,
        form=form,
        sheet=sheet.name,
        cells=cells,
    )
    _apply_identity(parsed, sheet, header, identity)
    return _SheetResult(parsed=parsed, matched_rows=len(seen))


def _read_figure(
    sheet: _Sheet,
    r: int,
    c: int,
    code: str,
    kind: str,
    indicator: Indicator,
    scale: int,
    unit_problem: str | None,
    problems: list[Problem],
) -> int | float | None:
    raw = sheet.raw(r, c)
    formula = sheet.formulas.get((r, c))
    if formula is not None and not is_plain_number(raw):
        problems.append(
            Problem(
                row=code,
                column=kind,
                cell=sheet.ref(r, c),
                value=formula,
                message=(
                    "公式没有保存数字结果 / the formula has no saved result that is a number, and "
                    "huizong never recalculates: open the file in Excel or WPS, let it "
                    "calculate, save, resend — or type the figure instead of the formula"
                ),
            )
        )
        return None
    if isinstance(raw, BadNumber):
        problems.append(
            Problem(
                code,
                kind,
                sheet.ref(r, c),
                raw.text,
                f"{indicator.name}：非数字 / the cell holds {raw.text}, which is not a finite "
                "number (NaN, infinity or beyond any double): enter the figure",
            )
        )
        return None
    if is_not_reported(raw):
        return None
    if unit_problem:
        problems.append(Problem(code, kind, sheet.ref(r, c), _shown(raw, False), unit_problem))
        return None
    result = parse_value(
        raw,
        money=indicator.is_money,
        indicator_unit=indicator.unit,
        scale=scale,
        percent_format=(r, c) in sheet.percent_cells,
    )
    if result.problem:
        problems.append(
            Problem(
                code,
                kind,
                sheet.ref(r, c),
                _shown(raw, (r, c) in sheet.percent_cells),
                f"{indicator.name}：{result.problem}",
            )
        )
    elif formula is not None and result.value is not None:
        # The saved result of a formula is used only because it is a plain
        # number; the row is flagged so a person confirms what was never recalculated.
        problems.append(
            Problem(
                code,
                kind,
                sheet.ref(r, c),
                formula,
                f"{indicator.name}：本格为公式，已读入其保存的结果 {_shown(raw, False)} / the cell "
                f"is a formula; its saved result {_shown(raw, False)} was read, never "
                "recalculated: check the figure, or type it as a number",
            )
        )
    return result.value


def _shown(raw: Any, percent: bool) -> str:
    if percent and isinstance(raw, int | float):
        return f"{raw * 100:g}%"
    if isinstance(raw, float) and abs(raw) >= 1e16:
        return format(raw, ".15g")  # 1e308 as written, not its 309 digits
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


_FIELD_NAMES = {"unit_name": "填报单位", "unit_code": "单位代码", "period": "统计期"}


def _apply_identity(
    parsed: ParsedReturn, sheet: _Sheet, header: _Header, identity: list[_IdentityField]
) -> None:
    period_problem: Problem | None = None
    period_ref: str | None = None
    for item in identity:
        text = _cell_text(item.value)
        formula = sheet.formulas.get((item.r, item.c))
        if formula is not None and item.field in ("unit_name", "unit_code", "period"):
            parsed.problems.append(
                Problem(
                    None,
                    item.field,
                    sheet.ref(item.r, item.c),
                    formula,
                    f"{_FIELD_NAMES[item.field]}是公式，未读入 / the {item.field} cell holds a "
                    "formula, which huizong never evaluates: type the text itself",
                )
            )
            continue
        if item.field == "unit_name" and parsed.unit_name is None:
            name, embedded_code = _clean_unit_name(text)
            parsed.unit_name = name
            if embedded_code and parsed.unit_code is None:
                parsed.unit_code = embedded_code
        elif item.field == "unit_code" and parsed.unit_code is None:
            parsed.unit_code = _unit_code(item.value)
            if parsed.unit_code is None:
                parsed.problems.append(
                    Problem(
                        None,
                        "unit_code",
                        sheet.ref(item.r, item.c),
                        text,
                        f"单位代码应为12位统计用区划代码 / 单位代码 {text!r} is not a 12-digit "
                        "statistical division code",
                    )
                )
        elif item.field == "period" and parsed.period is None:
            period_ref = sheet.ref(item.r, item.c)
            try:
                parsed.period = normalize_period(item.value)
            except PeriodError as exc:
                parsed.period = find_period(text)
                if parsed.period is None and period_problem is None:
                    period_problem = Problem(None, "period", period_ref, text, str(exc))
        elif item.field == "reported_on" and parsed.reported_on is None:
            parsed.reported_on = _parse_date(item.value)
    if parsed.period is None:
        for r in range(header.first_row):
            for c in range(len(sheet.cells[r])):
                text = sheet.raw_text(r, c)
                if text and (found := find_period(text)):
                    parsed.period, period_ref = found, sheet.ref(r, c)
                    break
            if parsed.period:
                break
    if parsed.period is None:
        parsed.period = find_period(sheet.name)
        period_ref = f"{sheet.name}!(sheet name)"
    if parsed.period is None:
        parsed.problems.append(
            period_problem
            or Problem(
                None,
                "period",
                sheet.ref(0, 0),
                None,
                "未填写统计期 / the return states no period: fill in 统计期, e.g. 2024年第四季度",
            )
        )
    elif period_start(parsed.period) > date.today():
        parsed.problems.append(
            Problem(
                None,
                "period",
                period_ref,
                parsed.period,
                f"统计期{parsed.period}尚未开始，未读入 / the period {parsed.period} has not begun "
                "yet, so no return can be for it: correct 统计期 (e.g. 2024年第四季度)",
            )
        )
        parsed.period = None


# --------------------------------------------------------------------------- entry point


def parse_return(source: str | Path | bytes, *, filename: str | None = None) -> ParsedReturn:
    """Parse one FL-01 return; raises :class:`ReturnFileError` if it is not a readable return."""
    data, name = _load_bytes(source, filename)
    sheets = _read_sheets(data, name)
    candidates: list[tuple[tuple[bool, bool, int, bool], int, _SheetResult]] = []
    for index, sheet in enumerate(sheets):
        header = _find_header(sheet)
        if header is None:
            continue
        result = _analyse(sheet, header)
        key = (result.matched_rows >= 3, not sheet.hidden, result.matched_rows, sheet.active)
        candidates.append((key, -index, result))
    is_html = _is_html_table_export(data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower())
    if not candidates and is_html:
        raise ReturnFileError(
            name,
            f"未找到{FORM}报表 / this web page saved as a spreadsheet holds no {FORM} table "
            "(a header row with 指标名称 or 代码 and 本期数): send the filled-in FL-01 form",
        )
    if (
        not candidates
        and not data.startswith((*_ZIP_MAGICS, _OLE_MAGIC))
        and not name.lower().endswith((".csv", ".txt", "<bytes>"))
    ):
        raise ReturnFileError(name, _not_a_workbook("plain text, not a workbook"))
    if not candidates:
        raise ReturnFileError(
            name,
            f"未找到{FORM}报表 / no sheet holds the {FORM} table (a header row with 指标名称 or "
            "代码 and 本期数): send the filled-in FL-01 form",
        )
    best = max(candidates, key=lambda item: (item[0], item[1]))[2]
    best.parsed.source = name
    return best.parsed
