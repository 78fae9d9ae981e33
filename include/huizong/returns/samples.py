"""FL-01 workbooks as units really type them, generated from known figures.

Tests, the parsing benchmark and the demo need returns with every quirk of
hand-made workbooks (see the FL-01 form description) *and* the answer the
parser must give. :func:`write_return` lays out a return according to
:class:`LayoutOptions` and returns a :class:`SampleAnswer`; :func:`consistent_rows`
makes plausible figures; :func:`random_layout` draws a messy layout. Everything
is deterministic from the seeds given.

Legacy ``.xls`` needs the ``xlwt`` package (only to *write* samples; parsing uses
xlrd). openpyxl writes no cached value for a formula, so formula cells are
patched into the saved sheet XML afterwards.
"""

from __future__ import annotations

import csv
import io
import random
import re
import zipfile
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from huizong.catalog import indicators
from huizong.returns.periods import period_kind, period_start

FORM = "FL-01"
VALUE_COLUMNS = ("current", "ytd", "last_year")
COLUMN_KINDS = ("name", "unit", "code", "current", "ytd", "last_year", "note")

HEADER_TEXT = {
    "name": "指标名称",
    "unit": "计量单位",
    "code": "代码",
    "current": "本期数",
    "ytd": "本年累计数",
    "last_year": "上年同期数",
    "note": "备注",
}
HEADER_VARIANTS = {
    "name": ("指 标 名 称", "指标", "项目"),
    "unit": ("单位", "计量\n单位"),
    "code": ("行次", "代 码"),
    "current": ("本期", "本 期 数", "本季度数"),
    "ytd": ("本年累计", "累计数", "本年累计数（1-本期）"),
    "last_year": ("上年同期", "去年同期数"),
    "note": ("备 注", "说明"),
}
SECTIONS = {
    "01": "一、组织建设",
    "06": "二、宣传教育",
    "08": "三、健康关爱",
    "14": "四、维权服务",
    "19": "五、发展服务",
}
PERIOD_STYLES = ("standard", "digits", "short", "months", "compact")
NULL_MARKERS = ("", "—", "-", "/", "无")
NUMBER_TEXT_STYLES = ("none", "plain", "thousands", "fullwidth", "trailing_space", "mixed")
IDENTITY_STYLES = ("one_cell", "split", "separate", "title_only")

_NON_DATA_SHEETS = frozenset({"填表说明", "Sheet2", "Sheet3"})
_CN_QUARTER = {1: "一", 2: "二", 3: "三", 4: "四"}
_FULL_WIDTH = str.maketrans("0123456789.,-", "０１２３４５６７８９．，－")


@dataclass(frozen=True)
class LayoutOptions:
    """How one sample workbook is laid out; each field is one real-world quirk."""

    fmt: str = "xlsx"  # "xlsx" | "xls" | "csv"
    csv_encoding: str = "utf-8-sig"  # "utf-8" | "utf-8-sig" | "gbk" | "gb18030"
    sheet_name: str = "Sheet1"
    merged_title: bool = True
    identity: str = "one_cell"  # one of IDENTITY_STYLES
    include_unit_code: bool = True
    period_style: str = "standard"  # one of PERIOD_STYLES
    two_row_header: bool = False  # 数量 merged over 本期数/本年累计数/上年同期数
    numbering_row: bool = False  # 甲 乙 丙 1 2 3 under the header
    header_variants: bool = False  # 本期 / 本 期 数 / 行次 …
    column_order: tuple[str, ...] = COLUMN_KINDS
    code_column: bool = True
    code_as_number: bool = False  # 代码 typed as 1 instead of "01"
    shuffle_rows: bool = False
    blank_rows: int = 0
    section_rows: bool = False
    name_variants: bool = False  # 村(社区) 妇联组织数, "妇女之家"数 …
    numbered_names: bool = False  # 1.村（社区）妇联组织数
    number_text: str = "none"  # one of NUMBER_TEXT_STYLES
    null_marker: str = ""  # one of NULL_MARKERS, or "mixed"
    money_in_wan: bool = False  # money rows typed in 万元 with the unit cell saying so
    percent_in: tuple[str, ...] = ()  # codes whose 本期数 is typed as a percentage
    percent_as_format: bool = False  # 0.95 formatted 0% (what Excel stores for 95%)
    footer: str = "one_cell"  # "none" | "one_cell" | "split"
    reported_on: date | None = date(2025, 1, 8)
    instruction_sheet: bool = False
    hidden_sheet: bool = False  # a hidden copy of the table with other figures
    extra_sheets: bool = False
    formulas: bool = False  # 本年累计数 as =D+previous, with the cached value saved
    uncached_formula_in: tuple[str, ...] = ()  # codes whose 本年累计数 formula has no value
    seed: int = 0  # drives shuffling, mixed styles and name variants


@dataclass(frozen=True)
class SampleAnswer:
    """What a correct parser reports for a generated workbook."""

    path: Path
    unit_code: str | None
    unit_name: str | None
    period: str
    rows: dict[str, dict[str, int | float | None]]
    problem_cells: frozenset[tuple[str, str]]  # (code, column) refused with a problem
    layout: LayoutOptions


# --------------------------------------------------------------------------- figures


def _money(rng: random.Random, low: float, high: float) -> float:
    return round(rng.uniform(low, high), 2)


def consistent_rows(
    seed: int,
    *,
    period: str = "2024Q4",
    size: float = 1.0,
    null_fraction: float = 0.05,
    zero_fraction: float = 0.05,
) -> dict[str, dict[str, int | float | None]]:
    """Plausible figures for all 24 rows: 其中 rows ≤ parents, 本年累计数 ≥ 本期数.

    ``size`` scales a town-sized unit up (a county is ~10-20 towns).
    """
    rng = random.Random(seed)
    catalog = indicators(FORM)
    share_of_year = 1.0
    if period_kind(period) == "quarter":
        share_of_year = period_start(period).month // 3 + 1
    elif period_kind(period) == "month":
        share_of_year = period_start(period).month / 3

    def count(low: int, high: int) -> int:
        return int(rng.randint(low, high) * size)

    current: dict[str, int | float] = {}
    current["01"] = max(1, count(3, 30))
    current["02"] = rng.randint(0, int(current["01"]))
    current["03"] = int(current["01"]) * rng.randint(5, 9)
    current["04"] = rng.randint(0, int(current["01"]))
    current["05"] = count(0, 12)
    current["06"] = count(1, 40)
    current["07"] = int(current["06"]) * rng.randint(10, 60)
    current["08"] = count(0, 900)
    current["09"] = rng.randint(0, max(1, int(current["08"]) // 20))
    current["10"] = round(int(current["09"]) * rng.uniform(2000, 10000), 2)
    current["11"] = count(20, 3000)
    current["12"] = rng.randint(0, max(0, int(current["11"]) // 30))
    current["13"] = round(int(current["12"]) * rng.uniform(500, 8000), 2)
    current["14"] = count(0, 80)
    current["15"] = rng.randint(0, int(current["14"]))
    current["16"] = rng.randint(0, int(current["14"]))
    current["17"] = count(0, 60)
    current["18"] = rng.randint(0, int(current["17"]))
    current["19"] = count(0, 400)
    current["20"] = count(0, 6)
    current["21"] = count(0, 600)
    current["22"] = count(0, 2500)
    current["23"] = count(0, 10)
    current["24"] = count(0, 300)

    rows: dict[str, dict[str, int | float | None]] = {}
    for code, indicator in catalog.items():
        value = current[code]
        if rng.random() < zero_fraction and indicator.bound_by is None:
            value = 0.0 if indicator.is_money else 0
        if indicator.temporal == "stock":
            ytd: int | float = value
        else:
            earlier = value * max(0.0, share_of_year - 1) * rng.uniform(0.7, 1.3)
            ytd = round(value + earlier, 2) if indicator.is_money else int(value + earlier)
        last = value * rng.uniform(0.6, 1.4)
        last_year: int | float = round(last, 2) if indicator.is_money else int(last)
        rows[code] = {"current": value, "ytd": ytd, "last_year": last_year}
    # 其中 rows must stay within their parents in every column
    for code, indicator in catalog.items():
        if indicator.bound_by and indicator.bound_severity == "error":
            parent = rows[indicator.bound_by]
            for column in VALUE_COLUMNS:
                rows[code][column] = min(rows[code][column], parent[column])  # type: ignore[type-var]
    for code in catalog:
        for column in VALUE_COLUMNS:
            if rng.random() < null_fraction:
                rows[code][column] = None
    return rows


# --------------------------------------------------------------------------- layout model


@dataclass
class _Grid:
    name: str
    hidden: bool = False
    cells: dict[tuple[int, int], Any] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    percent: set[tuple[int, int]] = field(default_factory=set)
    formulas: dict[tuple[int, int], tuple[str, Any]] = field(default_factory=dict)

    def put(self, r: int, c: int, value: Any) -> None:
        if value is not None and value != "":
            self.cells[(r, c)] = value

    def merge(self, r1: int, c1: int, r2: int, c2: int) -> None:
        if (r1, c1) != (r2, c2):
            self.merges.append((r1, c1, r2, c2))


def period_text(period: str, style: str) -> str:
    """``period`` spelled the way a unit might type it (``style`` in PERIOD_STYLES)."""
    kind = period_kind(period)
    start = period_start(period)
    year = start.year
    if kind == "quarter":
        q = (start.month - 1) // 3 + 1
        return {
            "standard": f"{year}年第{_CN_QUARTER[q]}季度",
            "digits": f"{year}年第{q}季度",
            "short": f"{year}年{_CN_QUARTER[q]}季度",
            "months": f"{year}年{3 * q - 2}-{3 * q}月",
            "compact": f"{year}Q{q}",
        }[style]
    if kind == "year":
        return {
            "standard": f"{year}年度",
            "digits": f"{year}年",
            "short": f"{year}年全年",
            "months": f"{year}年1-12月",
            "compact": f"{year}",
        }[style]
    return {
        "standard": f"{year}年{start.month}月",
        "digits": f"{year}年{start.month}月份",
        "short": f"{year}年{start.month}月",
        "months": f"{year}年{start.month}月",
        "compact": f"{year}-{start.month:02d}",
    }[style]


def _name_variant(name: str, rng: random.Random) -> str:
    variant = name
    if rng.random() < 0.7:
        variant = variant.replace("（", "(").replace("）", ")")
    if rng.random() < 0.5:
        variant = variant.replace("“", '"').replace("”", '"')
    if rng.random() < 0.4:
        variant = variant.replace("其中：", "其中:") if "其中：" in variant else variant
    if rng.random() < 0.4 and len(variant) > 3:
        cut = rng.randint(1, len(variant) - 1)
        variant = variant[:cut] + rng.choice([" ", "\u3000"]) + variant[cut:]
    if rng.random() < 0.3:
        variant = " " + variant + " "
    return variant


def _null(layout: LayoutOptions, rng: random.Random) -> str:
    if layout.null_marker == "mixed":
        return rng.choice(NULL_MARKERS)
    return layout.null_marker


def _as_typed(value: int | float, layout: LayoutOptions, rng: random.Random, money: bool) -> Any:
    style = layout.number_text
    if style == "mixed":
        style = rng.choice(NUMBER_TEXT_STYLES[:-1])
    if style == "none":
        return value
    if money:
        text = f"{Decimal(str(value)).normalize():f}"
        grouped = f"{Decimal(text):,}"
    else:
        text = str(int(value))
        grouped = f"{int(value):,}"
    if style == "plain":
        return text
    if style == "thousands":
        return grouped
    if style == "fullwidth":
        return text.translate(_FULL_WIDTH)
    return text + rng.choice([" ", "  ", "\u3000", "\t"])


def _money_typed(value: float, in_wan: bool) -> float:
    if not in_wan:
        return value
    return float(Decimal(str(value)) / Decimal(10000))


def _layout_table(
    grid: _Grid,
    top: int,
    rows: dict[str, dict[str, int | float | None]],
    layout: LayoutOptions,
    rng: random.Random,
    answer_rows: dict[str, dict[str, int | float | None]],
    problem_cells: set[tuple[str, str]],
) -> int:
    """Header and data rows from row ``top``; returns the next free row."""
    catalog = indicators(FORM)
    order = [k for k in layout.column_order if layout.code_column or k != "code"]
    col = {kind: i for i, kind in enumerate(order)}

    def header_label(kind: str) -> str:
        if layout.header_variants and rng.random() < 0.6:
            return rng.choice(HEADER_VARIANTS[kind])
        return HEADER_TEXT[kind]

    r = top
    if layout.two_row_header:
        value_cols = sorted(col[k] for k in VALUE_COLUMNS if k in col)
        for kind, c in col.items():
            if kind in VALUE_COLUMNS:
                grid.put(r + 1, c, header_label(kind))
            else:
                grid.put(r, c, header_label(kind))
                grid.merge(r, c, r + 1, c)
        # 数量 over each run of adjacent value columns
        runs: list[list[int]] = []
        for c in value_cols:
            if runs and runs[-1][-1] == c - 1:
                runs[-1].append(c)
            else:
                runs.append([c])
        for run in runs:
            grid.put(r, run[0], "数量")
            grid.merge(r, run[0], r, run[-1])
        r += 2
    else:
        for kind, c in col.items():
            grid.put(r, c, header_label(kind))
        r += 1
    if layout.numbering_row:
        letters = iter("甲乙丙丁戊")
        numbers = iter(range(1, 10))
        for kind, c in col.items():
            grid.put(r, c, str(next(numbers)) if kind in VALUE_COLUMNS else next(letters))
        r += 1

    codes = list(catalog)
    if layout.shuffle_rows:
        rng.shuffle(codes)
    blank_after = set(rng.sample(codes, min(layout.blank_rows, len(codes))))
    for index, code in enumerate(codes):
        indicator = catalog[code]
        if layout.section_rows and not layout.shuffle_rows and code in SECTIONS:
            grid.put(r, col["name"], SECTIONS[code])
            r += 1
        name = indicator.name
        if layout.name_variants:
            name = _name_variant(name, rng)
        if layout.numbered_names:
            name = f"{index + 1}.{name}"
        grid.put(r, col["name"], name)
        unit = indicator.unit
        in_wan = indicator.is_money and layout.money_in_wan
        if in_wan:
            unit = "万元"
        grid.put(r, col["unit"], unit)
        if "code" in col:
            grid.put(r, col["code"], int(code) if layout.code_as_number else code)
        for column in VALUE_COLUMNS:
            value = rows[code][column]
            answer_rows[code][column] = value
            c = col[column]
            if column == "current" and code in layout.percent_in and value is not None:
                answer_rows[code][column] = None
                problem_cells.add((code, column))
                shown_percent = rng.randint(50, 100)
                if layout.percent_as_format and layout.fmt != "csv":
                    grid.put(r, c, shown_percent / 100)
                    grid.percent.add((r, c))
                else:
                    grid.put(r, c, f"{shown_percent}%")
                continue
            if column == "ytd" and code in layout.uncached_formula_in and layout.fmt == "xlsx":
                answer_rows[code][column] = None
                problem_cells.add((code, column))
                grid.formulas[(r, c)] = (f"{_ref(r, col['current'])}*1", None)
                continue
            if value is None:
                grid.put(r, c, _null(layout, rng))
                continue
            typed_number = _money_typed(value, in_wan) if indicator.is_money else value
            current = rows[code]["current"]
            if (
                column == "ytd"
                and layout.formulas
                and layout.fmt == "xlsx"
                and current is not None
                and code not in layout.percent_in
            ):
                typed_current = _money_typed(current, in_wan) if indicator.is_money else current
                earlier = Decimal(str(typed_number)) - Decimal(str(typed_current))
                grid.formulas[(r, c)] = (f"{_ref(r, col['current'])}+{earlier}", typed_number)
                # the parser reads the saved result and flags the row (never recalculated)
                problem_cells.add((code, column))
                # the current cell is referenced by the formula, so keep it numeric
                continue
            if column == "current" and layout.formulas and layout.fmt == "xlsx":
                grid.put(r, c, typed_number)
                continue
            grid.put(r, c, _as_typed(typed_number, layout, rng, indicator.is_money))
        r += 1
        if code in blank_after:
            r += 1
    return r


def _ref(r: int, c: int) -> str:
    letters = ""
    c += 1
    while c:
        c, rem = divmod(c - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{r + 1}"


def _identity_rows(
    grid: _Grid,
    r: int,
    width: int,
    *,
    unit_code: str,
    unit_name: str,
    period_shown: str,
    layout: LayoutOptions,
) -> int:
    code_part = f"单位代码：{unit_code}" if layout.include_unit_code else ""
    if layout.identity == "one_cell":
        text = f"填报单位（盖章）：{unit_name}  {code_part}  统计期：{period_shown}"
        grid.put(r, 0, re.sub(r"\s{3,}", "  ", text))
        if layout.merged_title:
            grid.merge(r, 0, r, width - 1)
        return r + 1
    if layout.identity == "separate":
        grid.put(r, 0, f"填报单位：{unit_name}")
        grid.put(r, max(2, width - 3), f"统计期：{period_shown}")
        if layout.include_unit_code:
            grid.put(r + 1, 0, code_part)
            return r + 2
        return r + 1
    if layout.identity == "split":
        grid.put(r, 0, "填报单位：")
        grid.put(r, 1, unit_name)
        grid.put(r, max(3, width - 3), "统计期")
        grid.put(r, max(4, width - 2), period_shown)
        if layout.include_unit_code:
            grid.put(r + 1, 0, "单位代码")
            grid.put(r + 1, 1, unit_code)
            return r + 2
        return r + 1
    return r  # title_only: the identity is in the title


def _footer_rows(grid: _Grid, r: int, layout: LayoutOptions) -> int:
    if layout.footer == "none":
        return r
    reported = layout.reported_on
    reported_text = f"{reported.year}年{reported.month}月{reported.day}日" if reported else ""
    if layout.footer == "one_cell":
        grid.put(
            r + 1,
            0,
            f"单位负责人：王芳   填表人：李娜   联系电话：0939-5521234   报出日期：{reported_text}",
        )
        return r + 2
    for c, value in enumerate(
        ["单位负责人：", "王芳", "填表人：", "李娜", "联系电话：", 13993912345]
    ):
        grid.put(r + 1, c, value)
    grid.put(r + 2, 0, "报出日期：")
    grid.put(r + 2, 1, reported_text)
    return r + 3


def _instruction_grid() -> _Grid:
    grid = _Grid(name="填表说明")
    lines = [
        "填表说明",
        "1. 本表由乡镇（街道）妇联填报，县级妇联汇总后报市妇联。",
        "2. 本期数：指本季度内发生的数量；本年累计数：指本年初至本期末的累计数。",
        "3. 村（社区）妇联组织数：指期末实有的村（社区）妇联组织数量。",
        "4. 金额单位为元，保留两位小数；未发生的填0，无法统计的填“—”。",
    ]
    for r, line in enumerate(lines):
        grid.put(r, 0, line)
    return grid


def build_grids(
    *,
    unit_code: str,
    unit_name: str,
    period: str,
    rows: dict[str, dict[str, int | float | None]],
    layout: LayoutOptions,
) -> tuple[list[_Grid], SampleAnswer]:
    """The sheets of a sample return as grids, and the answer a parser must give."""
    rng = random.Random(layout.seed)
    catalog = indicators(FORM)
    answer_rows: dict[str, dict[str, int | float | None]] = {
        code: dict.fromkeys(VALUE_COLUMNS) for code in catalog
    }
    problem_cells: set[tuple[str, str]] = set()
    width = len([k for k in layout.column_order if layout.code_column or k != "code"])
    style = layout.period_style
    if layout.identity == "title_only" and style == "compact" and period_kind(period) == "year":
        style = "standard"  # a bare 2024 in a title does not say it is the period
    period_shown = period_text(period, style)

    grid = _Grid(name=layout.sheet_name)
    r = 0
    title = "基层妇联工作情况统计表"
    if layout.identity == "title_only":
        title = f"{unit_name}{period_shown}工作情况统计表"
    grid.put(r, 0, title)
    if layout.merged_title:
        grid.merge(r, 0, r, width - 1)
    r += 1
    grid.put(r, width - 1, "表号：FL-01")
    r += 1
    r = _identity_rows(
        grid, r, width, unit_code=unit_code, unit_name=unit_name,
        period_shown=period_shown, layout=layout,
    )  # fmt: skip
    r = _layout_table(grid, r, rows, layout, rng, answer_rows, problem_cells)
    _footer_rows(grid, r, layout)

    grids: list[_Grid] = []
    if layout.instruction_sheet:
        grids.append(_instruction_grid())
    grids.append(grid)
    if layout.hidden_sheet:
        decoy_rows = consistent_rows(layout.seed + 7919, period=period)
        decoy = _Grid(name="上期数据", hidden=True)
        decoy_layout = replace(layout, percent_in=(), uncached_formula_in=(), formulas=False)
        scratch: dict[str, dict[str, int | float | None]] = {
            code: dict.fromkeys(VALUE_COLUMNS) for code in catalog
        }
        decoy.put(0, 0, "填报单位：其他单位  统计期：2023年第一季度")
        _layout_table(decoy, 1, decoy_rows, decoy_layout, rng, scratch, set())
        grids.insert(0, decoy)
    if layout.extra_sheets:
        extra = _Grid(name="Sheet2")
        extra.put(0, 0, "备用")
        grids.append(extra)
        grids.append(_Grid(name="Sheet3"))

    answer = SampleAnswer(
        path=Path(),
        unit_code=unit_code
        if layout.include_unit_code and layout.identity != "title_only"
        else None,
        unit_name=unit_name if layout.identity != "title_only" else None,
        period=period,
        rows=answer_rows,
        problem_cells=frozenset(problem_cells),
        layout=layout,
    )
    return grids, answer


# --------------------------------------------------------------------------- writers


def _write_xlsx(grids: list[_Grid], path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for grid in grids:
        ws = workbook.create_sheet(grid.name)
        if grid.hidden:
            ws.sheet_state = "hidden"
        for (r, c), value in grid.cells.items():
            cell = ws.cell(row=r + 1, column=c + 1, value=value)
            if (r, c) in grid.percent:
                cell.number_format = "0%"
        for (r, c), (formula, _) in grid.formulas.items():
            ws.cell(row=r + 1, column=c + 1, value="=" + formula)
        for r1, c1, r2, c2 in grid.merges:
            ws.merge_cells(start_row=r1 + 1, start_column=c1 + 1, end_row=r2 + 1, end_column=c2 + 1)
    workbook.active = _data_grid_index(grids)
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    if any(grid.formulas for grid in grids):
        data = _add_cached_values(data, grids)
    path.write_bytes(_reproducible_zip(data))


_CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _reproducible_zip(data: bytes) -> bytes:
    """The same workbook as the same bytes: fixed member times and document dates.

    openpyxl stamps the save time into the zip and ``docProps/core.xml``; a
    sample written twice must hash the same, or a rerun would look like a
    resubmission.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _CORE_DATES.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, content)
    return out.getvalue()


def _add_cached_values(data: bytes, grids: list[_Grid]) -> bytes:
    """Put ``<v>`` cached results into formula cells, as Excel does on save."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            match = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            if match:
                grid = grids[int(match.group(1)) - 1]
                content = _patch_formulas(content.decode("utf-8"), grid).encode("utf-8")
            target.writestr(info, content)
    return out.getvalue()


def _patch_formulas(xml: str, grid: _Grid) -> str:
    for (r, c), (_, cached) in grid.formulas.items():
        if cached is None:
            continue
        ref = _ref(r, c)
        pattern = re.compile(rf'(<c r="{ref}"[^>]*>)<f>(.*?)</f>(?:<v\s*/>|<v>\s*</v>)?')
        xml = pattern.sub(lambda m, v=cached: f"{m.group(1)}<f>{m.group(2)}</f><v>{v}</v>", xml)
    return xml


def _write_xls(grids: list[_Grid], path: Path) -> None:
    try:
        import xlwt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("writing legacy .xls samples needs the xlwt package") from exc
    workbook = xlwt.Workbook(encoding="utf-8")
    percent_style = xlwt.easyxf(num_format_str="0%")
    for grid in grids:
        ws = workbook.add_sheet(grid.name, cell_overwrite_ok=True)
        if grid.hidden:
            ws.visibility = 1
        merged_cells = set()
        for r1, c1, r2, c2 in grid.merges:
            value = grid.cells.get((r1, c1), "")
            ws.write_merge(r1, r2, c1, c2, value)
            merged_cells.add((r1, c1))
        for (r, c), value in grid.cells.items():
            if (r, c) in merged_cells:
                continue
            if (r, c) in grid.percent:
                ws.write(r, c, value, percent_style)
            else:
                ws.write(r, c, value)
    workbook.save(str(path))


def _data_grid_index(grids: list[_Grid]) -> int:
    return next(i for i, g in enumerate(grids) if not g.hidden and g.name not in _NON_DATA_SHEETS)


def _write_csv(grids: list[_Grid], path: Path, encoding: str) -> None:
    grid = grids[_data_grid_index(grids)]
    n_rows = max(r for r, _ in grid.cells) + 1
    n_cols = max(c for _, c in grid.cells) + 1
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for r in range(n_rows):
        writer.writerow(["" if (v := grid.cells.get((r, c))) is None else v for c in range(n_cols)])
    path.write_bytes(buffer.getvalue().encode(encoding))


def write_return(
    path: str | Path,
    *,
    unit_code: str,
    unit_name: str,
    period: str,
    rows: dict[str, dict[str, int | float | None]],
    layout: LayoutOptions | None = None,
) -> SampleAnswer:
    """Write one FL-01 return laid out as ``layout`` says; return the expected parse."""
    layout = layout or LayoutOptions()
    path = Path(path)
    grids, answer = build_grids(
        unit_code=unit_code, unit_name=unit_name, period=period, rows=rows, layout=layout
    )
    if layout.fmt == "xlsx":
        _write_xlsx(grids, path)
    elif layout.fmt == "xls":
        _write_xls(grids, path)
    elif layout.fmt == "csv":
        _write_csv(grids, path, layout.csv_encoding)
    else:
        raise ValueError(f"unknown sample format {layout.fmt!r}: use xlsx, xls or csv")
    return replace(answer, path=path)


def random_layout(rng: random.Random, *, fmt: str | None = None) -> LayoutOptions:
    """A layout combining a random selection of real-world quirks."""
    chosen_fmt = fmt or rng.choices(["xlsx", "xls", "csv"], weights=[7, 2, 1])[0]
    order = list(COLUMN_KINDS)
    if rng.random() < 0.2:
        order.remove("code")
        order.insert(0, "code")
    if rng.random() < 0.1:
        order.remove("note")
    codes = list(indicators(FORM))
    count_codes = [c for c, ind in indicators(FORM).items() if not ind.is_money]
    return LayoutOptions(
        fmt=chosen_fmt,
        csv_encoding=rng.choice(["utf-8", "utf-8-sig", "gbk", "gb18030"]),
        sheet_name=rng.choice(["Sheet1", "FL-01", "表1", "季报"]),
        merged_title=rng.random() < 0.7,
        identity=rng.choice(IDENTITY_STYLES[:3] * 3 + IDENTITY_STYLES[3:]),
        include_unit_code=rng.random() < 0.7,
        period_style=rng.choice(PERIOD_STYLES),
        two_row_header=rng.random() < 0.4,
        numbering_row=rng.random() < 0.2,
        header_variants=rng.random() < 0.4,
        column_order=tuple(order),
        code_column=rng.random() < 0.8,
        code_as_number=rng.random() < 0.3,
        shuffle_rows=rng.random() < 0.3,
        blank_rows=rng.choice([0, 0, 1, 3]),
        section_rows=rng.random() < 0.4,
        name_variants=rng.random() < 0.5,
        numbered_names=rng.random() < 0.15,
        number_text=rng.choice(NUMBER_TEXT_STYLES),
        null_marker=rng.choice([*NULL_MARKERS, "mixed"]),
        money_in_wan=rng.random() < 0.3,
        percent_in=tuple(rng.sample(count_codes, 1)) if rng.random() < 0.2 else (),
        percent_as_format=rng.random() < 0.5,
        footer=rng.choice(["none", "one_cell", "split"]),
        instruction_sheet=rng.random() < 0.3,
        hidden_sheet=rng.random() < 0.2,
        extra_sheets=rng.random() < 0.3,
        formulas=rng.random() < 0.3,
        uncached_formula_in=tuple(rng.sample(codes, 1)) if rng.random() < 0.1 else (),
        seed=rng.randrange(1 << 30),
    )
