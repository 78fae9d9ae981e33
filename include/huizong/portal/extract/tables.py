"""Tables written as text: pipe-delimited, tab-separated, space-aligned, one cell per line.

Every numeric cell is a statistic, with its row label as organisation and
its column header as indicator; units come from the header, a unit column, or
a unit line above the table; total rows are checked against their parts.
"""

from __future__ import annotations

import re
from dataclasses import fields

from huizong import catalog
from huizong.portal.extract.context import (
    FORM,
    PageContext,
    match_indicator,
)
from huizong.portal.extract.figures import (
    PREFIX_QUALIFIERS,
    SUFFIX_TO_QUALIFIER,
    UNIT_PATTERN,
)
from huizong.portal.extract.model import (
    Statistic,
    TextTable,
)
from huizong.portal.normalize import NormalizedText
from huizong.portal.notice import (
    is_within,
    resolve,
)
from huizong.portal.numbers import (
    CANONICAL_UNIT,
    parse_amount,
    to_number,
)

_TOTAL_LABEL = re.compile(
    r"^(?:合\s*计|总\s*计|小\s*计|总\s*数|全(?:省|市|州|县|区|镇|乡)(?:合计|总计)?)$"
)


_BLANK_CELL = re.compile(r"^(?:|—+|-+|/|无|／|--|\\)$")


_CODE_HEADER = re.compile(r"代码|序号|编号|代号")


_UNIT_HEADER = re.compile(r"^(?:计量)?单位$")


_HEADER_UNIT = re.compile(
    r"[(（]\s*(?:单位\s*[:：]\s*)?(万元|亿元|千元|元|万人次|万人|万户|万个|%|"
    + UNIT_PATTERN
    + r")\s*[)）]"
)


_TABLE_UNIT_LINE = re.compile(
    r"^\s*(?:计量)?单位\s*[:：]\s*(万元|亿元|元|%|" + UNIT_PATTERN + r")\s*$"
)


_CELL_NUMBER = re.compile(
    r"^\s*(?P<pre>约|近|超过|超|逾|不足|不到)?\s*"
    r"(?P<num>-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?)\s*"
    r"(?P<q1>余|多)?\s*(?P<mult>万|亿|千)?\s*(?P<q2>余|多)?\s*"
    r"(?P<unit>%|" + UNIT_PATTERN + r")?\s*(?P<post>以上|左右|以内|以下)?\s*$"
)


_MULTI_SPACE = re.compile(r" {2,}|\u3000+")


_PIPE_SEPARATOR_ROW = re.compile(r"^\s*\|?\s*:?-{2,}")


_YEAR_HEADER = re.compile(r"((?:19|20)\d{2})\s*年")


def _is_numeric_cell(cell: str) -> bool:
    return bool(_CELL_NUMBER.match(cell))


def _split_cells(
    line: str, line_start: int, separator: re.Pattern[str]
) -> tuple[tuple[str, int, int], ...]:
    cells = []
    position = 0
    for match in separator.finditer(line):
        cells.append((position, match.start()))
        position = match.end()
    cells.append((position, len(line)))
    out = []
    for start, end in cells:
        raw = line[start:end]
        stripped = raw.strip(" |")
        offset = raw.find(stripped) if stripped else 0
        out.append(
            (stripped, line_start + start + offset, line_start + start + offset + len(stripped))
        )
    return tuple(out)


_TAB = re.compile("\t")


_PIPE = re.compile(r"\s*[|｜]\s*")


def find_tables(text: str) -> list[TextTable]:
    lines: list[tuple[str, int]] = []
    position = 0
    for line in text.split("\n"):
        lines.append((line, position))
        position += len(line) + 1
    tables: list[TextTable] = []
    # Most pages hold none of the separators; their lines skip the tests.
    separated = any(mark in text for mark in ("\t", "|", "｜", "  ", "\u3000"))
    index = 0
    while index < len(lines):
        line, _ = lines[index]
        separator = None
        if separated:
            if "\t" in line.strip("\t "):
                separator = _TAB
            elif line.count("|") + line.count("｜") >= 2:
                separator = _PIPE
            elif ("  " in line or "\u3000" in line) and len(_MULTI_SPACE.split(line.strip())) >= 3:
                separator = _MULTI_SPACE
        if separator is None:
            stripped = line.strip()
            if not stripped or len(stripped) > _SHORT_CELL_LINE or stripped[-1] in "。;；":
                # A prose line starts no one-cell-per-line table; most lines are prose.
                index += 1
                continue
            table, consumed = _one_cell_per_line(lines, index)
            if table is not None:
                tables.append(table)
                index += consumed
                continue
            index += 1
            continue
        block: list[tuple[tuple[str, int, int], ...]] = []
        cursor = index
        while cursor < len(lines):
            current, current_start = lines[cursor]
            if separator is _PIPE and _PIPE_SEPARATOR_ROW.match(current):
                cursor += 1
                continue
            stripped = current.strip()
            if separator is _TAB and "\t" not in stripped:
                break
            if separator is _PIPE and stripped.count("|") + stripped.count("｜") < 2:
                break
            if separator is _MULTI_SPACE and len(_MULTI_SPACE.split(stripped)) < 2:
                break
            leading = len(current) - len(current.lstrip())
            cells = _split_cells(
                stripped.strip("|｜") if separator is _PIPE else stripped,
                current_start
                + leading
                + (1 if separator is _PIPE and stripped.startswith(("|", "｜")) else 0),
                separator,
            )
            block.append(cells)
            cursor += 1
        numeric_rows = sum(1 for row in block if any(_is_numeric_cell(c[0]) for c in row[1:]))
        if len(block) >= 2 and numeric_rows >= 1:
            unit = _unit_line_before(lines, index)
            tables.append(
                TextTable(
                    rows=tuple(block),
                    start=block[0][0][1] if block[0] else lines[index][1],
                    end=block[-1][-1][2],
                    unit=unit,
                )
            )
            index = cursor
        else:
            index += 1
    return tables


def _unit_line_before(lines: list[tuple[str, int]], index: int) -> str | None:
    for back in range(index - 1, max(-1, index - 3), -1):
        line = lines[back][0].strip()
        if not line:
            continue
        match = _TABLE_UNIT_LINE.match(line) or re.search(
            r"(?:计量)?单位\s*[:：]\s*(万元|亿元|元|%|" + UNIT_PATTERN + r")\s*[)）]?\s*$", line
        )
        return match.group(1) if match else None
    return None


_SHORT_CELL_LINE = 24


def _one_cell_per_line(lines: list[tuple[str, int]], index: int) -> tuple[TextTable | None, int]:
    """A table typed one cell per line: header cells, then label + numbers per row.

    Returns the table (or None) and how many lines were looked at, so the caller
    never rescans a block of short lines.
    """
    run: list[tuple[str, int]] = []
    cursor = index
    while cursor < len(lines):
        line, start = lines[cursor]
        stripped = line.strip()
        if not stripped or len(stripped) > _SHORT_CELL_LINE or stripped[-1] in "。;；":
            break
        leading = len(line) - len(line.lstrip())
        run.append((stripped, start + leading))
        cursor += 1
    consumed = max(1, len(run))
    if len(run) < 6:
        return None, consumed
    unit = None
    if _TABLE_UNIT_LINE.match(run[0][0]):
        unit = _TABLE_UNIT_LINE.match(run[0][0]).group(1)  # type: ignore[union-attr]
        run = run[1:]
    numeric_all = [_is_numeric_cell(cell) or bool(_BLANK_CELL.match(cell)) for cell, _ in run]
    # A title or note line may precede the header cells.
    for offset in range(0, 3):
        cells_run = run[offset:]
        numeric = numeric_all[offset:]
        for width in range(2, 8):
            if len(cells_run) % width or len(cells_run) // width < 3:
                continue
            flags = [numeric[i : i + width] for i in range(0, len(cells_run), width)]
            if any(flags[0]):
                continue
            data = flags[1:]
            good = sum(1 for row in data if not row[0] and all(row[1:]))
            if good >= max(2, int(0.8 * len(data))):
                rows = [cells_run[i : i + width] for i in range(0, len(cells_run), width)]
                cells = tuple(tuple((c, s, s + len(c)) for c, s in row) for row in rows)
                table = TextTable(
                    rows=cells,
                    start=cells_run[0][1],
                    end=cells_run[-1][1] + len(cells_run[-1][0]),
                    unit=unit or _unit_line_before(lines, index),
                )
                return table, consumed
    return None, consumed


def _header_unit(header: str) -> str | None:
    match = _HEADER_UNIT.search(header)
    if match:
        return match.group(1)
    if re.search(r"(?:率|比例|占比|比重)\s*$", header):
        return "%"
    return None


def _cell_value(cell: str, unit_hint: str | None) -> tuple[float, str | None, str] | None:
    match = _CELL_NUMBER.match(cell)
    if not match:
        return None
    number = match.group("num").replace(",", "")
    mult = match.group("mult") or ""
    unit_word = match.group("unit")
    hint = unit_hint or ""
    if not unit_word and hint:
        for scaled in ("万", "亿", "千"):
            if hint.startswith(scaled) and len(hint) > 1:
                mult = mult or scaled
                hint = hint[len(scaled) :]
        unit_word = hint or None
    if unit_word == "%":
        value = float(number)
        unit: str | None = "%"
    else:
        parsed = parse_amount(number + mult)
        if parsed is None:
            return None
        value = parsed
        unit = CANONICAL_UNIT.get(unit_word, unit_word) if unit_word else None
    qualifier = "exact"
    if match.group("pre"):
        qualifier = dict(PREFIX_QUALIFIERS).get(match.group("pre"), "exact")
    if match.group("q1") or match.group("q2"):
        qualifier = "at_least"
    if match.group("post"):
        qualifier = SUFFIX_TO_QUALIFIER[match.group("post")]
    return value, unit, qualifier


def _join_unique(parts: list[str]) -> str | None:
    out: list[str] = []
    for part in parts:
        if part and part not in out:
            out.append(part)
    return "/".join(out) or None


def table_statistics(norm: NormalizedText, ctx: PageContext, table: TextTable) -> list[Statistic]:
    rows = [list(row) for row in table.rows]
    width = max(len(row) for row in rows)
    for row in rows:
        while len(row) < width:
            row.append(("", 0, 0))
    header_count = 0
    for row in rows:
        if any(_is_numeric_cell(cell[0]) for cell in row[1:]) and not all(
            _YEAR_HEADER.fullmatch(cell[0].strip()) or not cell[0] for cell in row[1:]
        ):
            break
        header_count += 1
    if header_count == len(rows):
        return []
    headers = rows[:header_count]
    data = rows[header_count:]
    col_headers = [_join_unique([h[c][0] for h in headers]) for c in range(width)]

    code_cols = {c for c in range(width) if col_headers[c] and _CODE_HEADER.search(col_headers[c])}
    unit_cols = {c for c in range(width) if col_headers[c] and _UNIT_HEADER.match(col_headers[c])}
    label_cols = []
    for c in range(width):
        if c in code_cols or c in unit_cols:
            continue
        numeric = sum(1 for row in data if _is_numeric_cell(row[c][0]))
        if numeric <= len(data) / 2:
            label_cols.append(c)
        else:
            break
    # Serial numbers in the first column are labels, not figures.
    if (
        not label_cols
        and width > 1
        and all(re.fullmatch(r"\d{1,3}", row[0][0] or "x") for row in data)
    ):
        code_cols.add(0)
    stats: list[Statistic] = []
    cells_by_col: dict[int, list[tuple[int, float, Statistic]]] = {}
    for r, row in enumerate(data):
        labels = [row[c][0] for c in label_cols if row[c][0]]
        row_header = _join_unique(labels)
        row_unit = next((row[c][0] for c in unit_cols if row[c][0]), None)
        code = next(
            (
                row[c][0].zfill(2)
                for c in code_cols
                if re.fullmatch(r"\d{1,2}", row[c][0])
                and _CODE_HEADER.search(col_headers[c] or "")
                and "代码" in (col_headers[c] or "")
            ),
            None,
        )
        row_division = None
        if row_header and ctx.division is not None:
            resolved = resolve(row_header, [ctx.division])
            if resolved is not None and is_within(resolved, ctx.division):
                row_division = resolved
        for c in range(width):
            if c in label_cols or c in code_cols or c in unit_cols:
                continue
            text_cell, cell_start, cell_end = row[c]
            if not text_cell or _BLANK_CELL.match(text_cell):
                continue
            hint = (
                _header_unit(col_headers[c] or "")
                or (row_unit if row_unit else None)
                or _header_unit(row_header or "")
                or table.unit
            )
            parsed = _cell_value(text_cell, hint)
            if parsed is None:
                continue
            value, unit, qualifier = parsed
            indicator = None
            if code and code in catalog.indicators(FORM):
                indicator = code
            if indicator is None and row_header:
                indicator = catalog.code_for_name(row_header, FORM) or match_indicator(
                    row_header, unit or catalog_unit_guess(row_header)
                )
            if indicator is None and col_headers[c]:
                indicator = catalog.code_for_name(col_headers[c] or "", FORM) or match_indicator(
                    col_headers[c] or "", unit or catalog_unit_guess(col_headers[c] or "")
                )
            if unit is None and indicator in catalog.indicators(FORM):
                unit = catalog.indicators(FORM)[indicator].unit
            if row_division is not None:
                org_name, org_code = row_division.name, row_division.code
            else:
                org_name, org_code = (
                    (ctx.division.name, ctx.division.code) if ctx.division else (ctx.org_name, None)
                )
            period = _column_period(ctx, col_headers[c] or "")
            raw_start, raw_end = norm.to_raw(cell_start, cell_end)
            stat = Statistic(
                quote=norm.text[cell_start:cell_end],
                start=cell_start,
                end=cell_end,
                raw_start=raw_start,
                raw_end=raw_end,
                value=to_number(value),
                unit=unit,
                qualifier=qualifier,
                indicator=indicator,
                indicator_name=row_header
                if indicator or not col_headers[c]
                else _join_unique([row_header or "", col_headers[c] or ""]),
                org=org_name,
                org_code=org_code,
                period=period,
                kind="table",
                figure=text_cell,
                row_header=row_header,
                col_header=col_headers[c],
                form=FORM if indicator else None,
            )
            stats.append(stat)
            cells_by_col.setdefault(c, []).append((r, value, stat))
    return _with_total_checks(stats, data, label_cols, cells_by_col)


def catalog_unit_guess(label: str) -> str | None:
    """Unit implied by a row label when the cell has none (``…人数`` → 人)."""
    for suffix, unit in (
        ("人次", "人次"),
        ("人数", "人"),
        ("金额", "元"),
        ("户数", "户"),
        ("场次", "场次"),
        ("件数", "件"),
        ("条数", "条"),
        ("个数", "个"),
        ("数", "个"),
    ):
        if label.endswith(suffix):
            return unit
    return None


def _column_period(ctx: PageContext, header: str) -> str | None:
    match = _YEAR_HEADER.search(header)
    if match:
        return match.group(1)
    if ctx.year and re.search(r"上年|去年", header):
        return str(ctx.year - 1)
    return str(ctx.year) if ctx.year else None


def _with_total_checks(
    stats: list[Statistic],
    data: list[list[tuple[str, int, int]]],
    label_cols: list[int],
    cells_by_col: dict[int, list[tuple[int, float, Statistic]]],
) -> list[Statistic]:
    if not label_cols:
        return stats
    total_rows = {
        r
        for r, row in enumerate(data)
        if any(_TOTAL_LABEL.match(row[c][0].replace(" ", "")) for c in label_cols)
    }
    sub_rows = {
        r for r, row in enumerate(data) if any(row[c][0].startswith("其中") for c in label_cols)
    }
    if not total_rows:
        return stats
    replaced: dict[int, Statistic] = {}
    for _column, cells in cells_by_col.items():
        for total_row in total_rows:
            total_cell = next((cell for cell in cells if cell[0] == total_row), None)
            if total_cell is None:
                continue
            parts = [
                value for r, value, _stat in cells if r not in total_rows and r not in sub_rows
            ]
            if len(parts) < 2 or total_cell[2].unit == "%":
                continue
            summed = sum(parts)
            stated = total_cell[1]
            status = "match" if abs(summed - stated) <= 1e-6 * max(1.0, abs(stated)) else "mismatch"
            stat = total_cell[2]
            check = {
                "check": "table_total",
                "parts": len(parts),
                "sum_of_parts": to_number(summed),
                "stated": to_number(stated),
                "difference": to_number(stated - summed),
                "status": status,
            }
            replaced[id(stat)] = _with_check(stat, check)
    return [replaced.get(id(s), s) for s in stats]


def _with_check(stat: Statistic, check: dict[str, object]) -> Statistic:
    values = {item.name: getattr(stat, item.name) for item in fields(stat)}
    values["checks"] = (*stat.checks, check)
    return Statistic(**values)
