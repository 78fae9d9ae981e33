"""Tables written as text, in every form a copied or typed table takes.

Forms: pipe-delimited rows (also rows copied one cell per line, ``全 县 |``),
tab-separated rows (what ``htmltext`` renders an HTML table as), columns
aligned by runs of spaces, rows of a label and numbers separated by single
spaces with their header lines above, one cell per line (blank or ``|``
lines between cells), and label/unit/value glued together under a glued
header (``指标名称单位数量``).

Every numeric cell is a statistic, with its row label as organisation and
its column header as indicator (header rows joined with ``/``). Units come
from the header (``参检人数(人)``), a unit cell (``(个)``) or unit column, a
label stating its unit (``总人口(人)``), or a unit line above the table
(``单位：户、人、万元``, assigned per column by the header's name); total rows
are checked against their parts.

Layouts of copied pages are read by rules that hold for any table, never by
page: two tables side by side on one line; rows of bare numbers under a
header too broken to align, which still names one unit per column in order;
empty label or trailing cells; group lines between rows; header rows split
over lines (years under the last column, a repeating lower row, or units in
order); rows that stop short; tables going on after a note or page break.
Where the unit of a cell is not stated, it stays open rather than guessed.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import unicodedata
from dataclasses import fields
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from huizong.portal.htmltext import HtmlTable
from huizong.portal.notice import (
    is_within,
    resolve,
)
from huizong.portal.numbers import (
    CANONICAL_UNIT,
    bounded_float,
    parse_amount,
    to_number,
)

_TOTAL_LABEL = re.compile(
    r"^(?:合\s*计|总\s*计|小\s*计|总\s*数|全(?:省|市|州|县|区|镇|乡)(?:合计|总计)?)$"
)
_BLANK_CELL = re.compile(r"^(?:|—+|-+|/|无|／|--|\\|…+)$")
_CODE_HEADER = re.compile(r"代码|序号|编号|代号")
_UNIT_HEADER = re.compile(r"^(?:计量)?单位$")
_SCALED_UNITS = r"万元|亿元|千元|元|万人次|万人|万户|万个|万张|万册|万件|%|‰"
_HEADER_UNIT = re.compile(
    r"[(（]\s*(?:单位\s*[:：]\s*)?(" + _SCALED_UNITS + "|" + UNIT_PATTERN + r")\s*[)）]"
)
# A cell holding only a unit, (个) or （人）: the unit of its row, not a column.
_UNIT_CELL = re.compile(
    r"^[(（]\s*(" + _SCALED_UNITS + "|" + UNIT_PATTERN + r"|[^\d()（）]{1,4})\s*[)）]$"
)
# 单位：户、人、万元 — alone on its line, in parentheses, or at the end of a title.
_UNIT_LINE = re.compile(
    # Not 编制单位：福建省民政厅 (the reporting body) nor 填报单位.
    r"(?<!编制)(?<!填报)(?<!报送)(?<!填表)(?<!制表)(?:计量)?单位\s*[:：]\s*"
    r"(?P<units>[^\s:：()（）|｜\d][^:：()（）|｜]{0,30}?)\s*[)）]?"
    # An English gloss after the units (单位:个 (unit), 单位:% (%)).
    r"(?:\s*[(（][A-Za-z%\s]*[)）])?\s*$"
)
# The currency named before a unit (新台币千元, 人民币万元): amounts are in 元 all the same.
_CURRENCY_PREFIX = re.compile(r"^(?:人民币|新台币|新臺幣)")
_UNIT_SPLIT = re.compile(r"[、,，;；\s]+")
_CELL_NUMBER = re.compile(
    r"^\s*(?P<pre>约|近|超过|超|逾|不足|不到)?\s*"
    r"(?P<num>[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-+]?\d+(?:\.\d+)?)\s*"
    r"(?P<q1>余|多)?\s*(?P<mult>万|亿|千)?\s*(?P<q2>余|多)?\s*"
    r"(?P<unit>%|‰|" + UNIT_PATTERN + r")?\s*(?P<post>以上|左右|以内|以下)?\s*"
    # A footnote mark after the figure (85*, 12.5※) refers to a note under the table.
    r"[*＊※△▲]?\s*$"
)
_MULTI_SPACE = re.compile(r" {2,}|\u3000+")
_PIPE_SEPARATOR_ROW = re.compile(r"^\s*[|｜]?\s*:?-{2,}")
_YEAR_HEADER = re.compile(r"((?:19|20)\d{2})\s*年")
_YEAR_CELL = re.compile(r"^(?:19|20)\d{2}\s*年?(?:底|末)?$")
# A row of a table typed with single spaces: a label, then numbers (全 县 320801 100.00).
_TOKEN = re.compile(r"[^ \u3000]+")
_SPACED_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?[%‰]?|-?\d+(?:\.\d+)?[%‰]?")
_NOT_A_ROW_LABEL = re.compile(
    r"(?<![通装])电话|传真|邮编|热线|手机|QQ|备案|ICP|地址|邮箱|日期|时间|第.{1,3}页"
)
# Lines that only separate cells when a web table is copied: blank, a lone |.
_SEPARATOR_LINE = re.compile(r"^[\s|｜]*$")
_SHORT_CELL_LINE = 24
_TAB = re.compile("\t")
_PIPE = re.compile(r"\s*[|｜]\s*")
_HAN = re.compile(r"[\u4e00-\u9fff]")

Cell = tuple[str, int, int]


def _is_numeric_cell(cell: str) -> bool:
    return bool(_CELL_NUMBER.match(cell))


def _split_cells(line: str, line_start: int, separator: re.Pattern[str]) -> tuple[Cell, ...]:
    cells = []
    position = 0
    for match in separator.finditer(line):
        cells.append((position, match.start()))
        position = match.end()
    cells.append((position, len(line)))
    out = []
    for start, end in cells:
        raw = line[start:end]
        stripped = raw.strip(" |｜\u3000")
        offset = raw.find(stripped) if stripped else 0
        out.append(
            (stripped, line_start + start + offset, line_start + start + offset + len(stripped))
        )
    return tuple(out)


def _unpacked(cells: tuple[Cell, ...]) -> tuple[Cell, ...]:
    """Cells holding several figures (2,269 2,003 4,272 under 男 女 合): one cell each."""
    if not any(" " in cell[0] for cell in cells):
        return cells
    out: list[Cell] = []
    for text, start, end in cells:
        tokens = text.split(" ")
        if len(tokens) > 1 and all(_SPACED_NUMBER.fullmatch(t) for t in tokens):
            out.extend(
                (m.group(), start + m.start(), start + m.end()) for m in _TOKEN.finditer(text)
            )
        else:
            out.append((text, start, end))
    return tuple(out)


def _spaced_cells(line: str, line_start: int, bilingual: bool = False) -> tuple[Cell, ...] | None:
    """Label and numbers of a single-space row, or None when the line is not one.

    The numbers are the trailing tokens that are numbers; the label is what
    comes before them (全 县, 0-14岁, 其中:65岁及以上) and must hold a Han character.
    """
    tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(line)]
    numbers = 0
    while numbers < len(tokens) and _SPACED_NUMBER.fullmatch(tokens[-1 - numbers][0]):
        numbers += 1
    if not numbers or numbers == len(tokens):
        return None
    label_tokens = tokens[: len(tokens) - numbers]
    label = line[label_tokens[0][1] : label_tokens[-1][2]]
    if not _valid_row_label(label, bilingual):
        return None
    cells: list[Cell] = [(label, line_start + label_tokens[0][1], line_start + label_tokens[-1][2])]
    cells.extend(
        (text, line_start + start, line_start + end) for text, start, end in tokens[-numbers:]
    )
    return tuple(cells)


# A row label's English translation (收养性社会福利单位 adopting social welfare institutions).
_LATIN_TAIL = re.compile(r"\s+[A-Za-z][A-Za-z\d ,.'‘’&()/—-]*$")
# A label in English only (total), accepted in a block that has Chinese labels too.
_LATIN_LABEL = re.compile(r"^[A-Za-z][A-Za-z ,.'’&()/-]{0,80}$")


def _valid_row_label(label: str, bilingual: bool = False) -> bool:
    """Whether ``label`` can head a row; ``bilingual`` lets English translations in
    (only under a unit line: a bilingual table's headers are seldom readable)."""
    if bilingual:
        if _LATIN_LABEL.match(label):
            return not _NOT_A_ROW_LABEL.search(label)
        label = _LATIN_TAIL.sub("", label)
    return not (
        not _HAN.search(label)
        or len(label) > 30
        or _NOT_A_ROW_LABEL.search(label)
        or label[-1] in "。，,；;：:"
        or "|" in label
        or "｜" in label
        or "\t" in label
    )


def _side_by_side_cells(line: str, line_start: int) -> list[tuple[Cell, ...]] | None:
    """Rows of two tables printed side by side.

    ``准予登记结婚对数 20970 21464  每千人结婚对数 9.3 9.4``: a label and numbers,

    then (after a gap of two or more spaces) another label and as many numbers:
    each part is a row of its own.
    """
    tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(line)]
    groups: list[tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]] = []
    for token in tokens:
        is_number = bool(_SPACED_NUMBER.fullmatch(token[0]))
        if is_number:
            if not groups:
                return None
            groups[-1][1].append(token)
        elif not groups or groups[-1][1]:
            groups.append(([token], []))
        else:
            groups[-1][0].append(token)
    if len(groups) < 2 or any(not numbers for _label, numbers in groups):
        return None
    if len({len(numbers) for _label, numbers in groups}) != 1:
        return None
    rows = []
    for position, (label_tokens, numbers) in enumerate(groups):
        if position and label_tokens[0][1] - groups[position - 1][1][-1][2] < 2:
            return None  # the parts of a row are set apart by a wide gap
        label = line[label_tokens[0][1] : label_tokens[-1][2]]
        if not _valid_row_label(label):
            return None
        rows.append(
            (
                (label, line_start + label_tokens[0][1], line_start + label_tokens[-1][2]),
                *((text, line_start + start, line_start + end) for text, start, end in numbers),
            )
        )
    return rows


def _unlabelled_cells(line: str, line_start: int) -> tuple[Cell, ...] | None:
    """A row of numbers only (its label lost in the copy): an empty label, then the numbers."""
    tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(line)]
    if len(tokens) < 3 or not all(_SPACED_NUMBER.fullmatch(t[0]) for t in tokens):
        return None
    if all(re.fullmatch(r"(?:19|20)\d{2}", t[0]) for t in tokens):
        return None  # the years heading an indicator-by-year table (2019 2020 2021)
    first = line_start + tokens[0][1]
    return (("", first, first), *((t, line_start + a, line_start + b) for t, a, b in tokens))


_COMPOUND_UNIT = re.compile(r"[^\d\s/]{1,2}/[^\d\s]{1,4}")


def _unit_of_label(cell: Cell) -> tuple[Cell, Cell] | None:
    match = _LABEL_UNIT.match(cell[0])
    if match is None:
        return None
    # A unit, or a compound one (元/人·月, 人/村).
    if not _BARE_UNIT.match(match.group("unit")) and not _COMPOUND_UNIT.fullmatch(
        match.group("unit")
    ):
        return None
    label_end = cell[1] + match.end("label")
    unit_start = cell[1] + match.start("unit")
    return (match.group("label"), cell[1], label_end), (match.group("unit"), unit_start, cell[2])


def _with_unit_column(block: list[tuple[Cell, ...]]) -> list[tuple[Cell, ...]]:
    """Rows whose labels end in a unit (… 万元 406,996.1) get a unit column; the rows
    without one (城市低保人数 75,616) an empty cell there, so the columns line up."""
    split = {i: _unit_of_label(row[0]) for i, row in enumerate(block) if len(row) > 1}
    if sum(1 for parts in split.values() if parts) < 2:
        return block
    out = []
    for i, row in enumerate(block):
        if len(row) == 1:
            out.append(row)
            continue
        parts = split[i]
        if parts:
            out.append((parts[0], parts[1], *row[1:]))
        else:
            out.append((row[0], ("", row[0][2], row[0][2]), *row[1:]))
    return out


def _is_code_row(cells: tuple[Cell, ...]) -> bool:
    """The column-code row of a statistical form (1 2 3 …): numbers counting up by one."""
    numbers = [c[0] for c in cells if c[0]]
    if len(numbers) < 3 or not all(n.isdigit() and len(n) <= 2 for n in numbers):
        return False
    return all(int(b) - int(a) == 1 for a, b in itertools.pairwise(numbers))


# A short line naming a group of rows (按城乡分, 二、社会工作, (一)社会救助, 1.最低生活保障)
# between rows of numbers.
_SECTION_LINE = re.compile(
    r"^(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十\d]{1,2}[)）]|\d{1,2}[.、．])?"
    r"[\u4e00-\u9fff、()（）]{2,16}(?:[(（] ?[\u4e00-\u9fff%‰]{1,3} ?[)）])?[:：]?$"
)
_YEARS_LABEL = re.compile(r"^(?:年\s*度|年\s*份|年\s*别|时\s*间)$")
_LIST_NUMBER = re.compile(
    r"^(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十\d]{1,2}[)）]|\d{1,2}[.、．])"
)
# A row label ending in its unit (社会服务事业费总支出 万元): the unit is a cell of its own.
_LABEL_UNIT = re.compile(r"^(?P<label>.*\S)\s+(?P<unit>\S+)$")
# Columns of a header whose lines broke apart: 园所个数(所), (个), 教职工数 (人), # 专任教师.
_HEADER_ITEM = re.compile(
    r"(?P<sub>[#＃]\s*[^\s()（）#＃\d]+)"
    # (班) in 入园(班)人数 is part of the name, not the column's unit.
    r"|(?P<name>[^\s()（）#＃]*)\s*[(（](?P<unit>[^()（）\d]{0,8})[)）](?![\u4e00-\u9fff])"
)


def _header_items(lines: list[tuple[str, int]]) -> list[Cell]:
    """Column headers read in order from a broken header: each unit in parentheses ends one;
    a ``#`` (其中) column takes the unit of the column before it."""
    items: list[Cell] = []
    parent = ""
    for line, line_start in lines:
        for match in _HEADER_ITEM.finditer(line):
            start, end = line_start + match.start(), line_start + match.end()
            if match.group("sub"):
                text = (parent + "/" if parent else "") + match.group("sub")
            else:
                text = match.group()
                parent = text
            items.append((text, start, end))
    return items


def _header_words(line: str, line_start: int) -> tuple[Cell, ...]:
    """Words of a header typed with spaces; single characters spaced out (地 区) are one word."""
    words: list[Cell] = []
    bilingual = bool(_HAN.search(line))
    for match in re.finditer(r"\S+", line):
        word, start, end = match.group(), line_start + match.start(), line_start + match.end()
        if bilingual and re.fullmatch(r"[A-Za-z][A-Za-z,.'’&()/:-]*", word):
            continue  # the English translation of a Chinese header (项目 Item)
        if words and len(word) == 1 and _HAN.match(word) and len(words[-1][0]) == 1:
            previous = words[-1]
            words[-1] = (previous[0] + word, previous[1], end)
            continue
        words.append((word, start, end))
    return tuple(words)


def _row_form(line: str) -> re.Pattern[str] | None:
    stripped = line.strip()
    if not stripped:
        return None
    if "\t" in stripped:
        return _TAB
    if stripped.count("|") + stripped.count("｜") >= 2:
        return _PIPE
    if ("  " in stripped or "\u3000" in stripped) and len(_MULTI_SPACE.split(stripped)) >= 3:
        return _MULTI_SPACE
    return None


def _lines_of(text: str) -> list[tuple[str, int]]:
    lines: list[tuple[str, int]] = []
    position = 0
    for line in text.split("\n"):
        lines.append((line, position))
        position += len(line) + 1
    return lines


def find_tables(text: str) -> list[TextTable]:
    """Tables in normalized text, in every form a copied or typed table takes."""
    lines = _lines_of(text)
    tables: list[TextTable] = []
    # Most pages hold none of the separators; their lines skip the tests.
    separated = any(mark in text for mark in ("\t", "|", "｜", "  ", "\u3000"))
    index = 0
    while index < len(lines):
        line = lines[index][0]
        separator = _row_form(line) if separated else None
        if separator is not None:
            table, next_index = _separated_block(lines, index, separator)
            if table is not None:
                tables.append(table)
                index = next_index
                continue
        stripped = line.strip()
        if stripped.startswith(("指标", "项目")) and _GLUED_HEADER.match(stripped):
            table, next_index = _glued_block(lines, index)
            if table is not None:
                tables.append(table)
                index = next_index
                continue
        if stripped and " " in stripped and stripped[-1].isdigit():
            table, next_index = _spaced_block(lines, index)
            if table is not None:
                tables.append(table)
                index = next_index
                continue
        if stripped and len(stripped) <= _SHORT_CELL_LINE and stripped[-1] not in "。;；":
            table, consumed = _one_cell_per_line(lines, index)
            if table is not None:
                tables.append(table)
                index += consumed
                continue
            # A run of short lines that is no table is not looked at again line by line.
            index += max(1, consumed - 1)
            continue
        index += 1
    return _joined_continuations(text, tables) if len(tables) > 1 else tables


# Lines a table may run across: a note, a page number or page break, 续表.
_BREAK_LINE = re.compile(
    r"^(?:注|说明|备注)\s*\d?\s*[:：]"
    r"|^[-—－–\s]*\d{1,3}[-—－–\s]*$"
    r"|^第\s*\d+\s*页|^共\s*\d+\s*页"
    r"|^[(（]?续(?:表|上表)?[)）]?"
)


def _joined_continuations(text: str, tables: list[TextTable]) -> list[TextTable]:
    """Tables that go on after a note line or a page break, joined with their first part.

    The second part has the same number of columns and either no header of its
    own or the first part's header repeated (续表); between the parts there are
    only blank lines and at most three note, page-number or 续表 lines.
    """
    out: list[TextTable] = []
    for table in tables:
        body = _continuation_rows(text, out[-1], table) if out else None
        if body is None:
            out.append(table)
            continue
        first = out[-1]
        out[-1] = dataclasses.replace(first, rows=first.rows + body, end=table.end)
    return out


def _continuation_rows(
    text: str, first: TextTable, second: TextTable
) -> tuple[tuple[Cell, ...], ...] | None:
    if first.spaced != second.spaced or (second.unit and second.unit != first.unit):
        return None
    gap = [line.strip() for line in text[first.end : second.start].split("\n")]
    gap = [line.strip("|｜ ") for line in gap if line.strip("|｜ ")]
    if (
        not gap
        or len(gap) > 3
        or not all(len(line) <= 80 and _BREAK_LINE.match(line) for line in gap)
    ):
        return None
    rows = second.rows
    leading = 0
    while leading < len(rows) and not _is_data_row(list(rows[leading])):
        leading += 1
    if leading:
        # Only the first part's header repeated may head the second part.
        repeated = [[c[0] for c in row] for row in rows[:leading]]
        if repeated != [[c[0] for c in row] for row in first.rows[:leading]]:
            return None
        rows = rows[leading:]
    width = max(len(row) for row in first.rows)
    if not rows or max(len(row) for row in rows) != width:
        return None
    return rows


def _separated_block(
    lines: list[tuple[str, int]], index: int, separator: re.Pattern[str]
) -> tuple[TextTable | None, int]:
    block: list[tuple[Cell, ...]] = []
    if separator is _PIPE and index + 1 < len(lines):
        # A line of links or page tools (【字体: 大 中 小】 | 【打印】 |) right above a
        # table copied one cell per line (指标名称 |, 单位 |): not that table's header.
        first, following = lines[index][0].strip(), lines[index + 1][0].strip()
        if (
            following.endswith(("|", "｜"))
            and following.count("|") + following.count("｜") == 1
            and len(following) > 1
            and not any(_is_numeric_cell(c) for c in _PIPE.split(first.strip("|｜")))
            and re.search(r"[:：【】]", first)
        ):
            return None, index + 1
    if separator is _MULTI_SPACE and index > 0:
        # The header above space-aligned rows may have one gap only (      人口数      比重).
        above = lines[index - 1][0].strip()
        if len(_MULTI_SPACE.split(above)) == 2 and above[-1] not in "。;；:：":
            index -= 1
    cursor = index
    pending = False
    while cursor < len(lines):
        current, current_start = lines[cursor]
        if separator is _PIPE and _PIPE_SEPARATOR_ROW.match(current):
            cursor += 1
            continue
        # Tabs are cell boundaries, not padding: a row whose label cell is empty
        # (\t77\t12.5) or whose trailing cells are (城关镇\t\t) keeps its cells.
        stripped = current.strip(" \u3000\r") if separator is _TAB else current.strip()
        if separator is _TAB and "\t" not in stripped:
            break
        # A one-cell row of a pipe table (| 三、革命伤残人员 |, a wrapped label 二、… |)
        # keeps the block going.
        if (
            separator is _PIPE
            and stripped.count("|") + stripped.count("｜") < 2
            and (not block or not stripped or ("|" not in stripped and "｜" not in stripped))
        ):
            break
        if separator is _MULTI_SPACE and len(_MULTI_SPACE.split(stripped)) < 2:
            break
        leading = len(current) - len(
            current.lstrip(" \u3000\r") if separator is _TAB else current.lstrip()
        )
        is_pipe = separator is _PIPE
        body = stripped.strip("|｜") if is_pipe else stripped
        cells = _split_cells(
            body,
            current_start
            + leading
            + (len(stripped) - len(stripped.lstrip("|｜")) if is_pipe else 0),
            separator,
        )
        if separator is not _MULTI_SPACE:
            cells = _unpacked(cells)
        # A row copied one cell per line (全 县 |, 181286 |, 100 |): its cells join
        # the row the first of them started.
        single = is_pipe and stripped.count("|") + stripped.count("｜") == 1
        if single and pending:
            block[-1] = block[-1] + cells
        else:
            block.append(cells)
        pending = single and stripped.endswith(("|", "｜")) and not stripped.startswith(("|", "｜"))
        cursor += 1
    numeric_rows = sum(1 for row in block if any(_is_numeric_cell(c[0]) for c in row[1:]))
    if len(block) >= 2 and numeric_rows >= 1:
        aligned = separator is _MULTI_SPACE
        if aligned:
            block = _indented_rows(block, lines, index)
        cells_with_text = [cell for row in block for cell in row if cell[0]]
        return (
            TextTable(
                rows=tuple(block),
                start=cells_with_text[0][1],
                end=cells_with_text[-1][2],
                unit=_unit_line_before(lines, index),
                # Space-aligned headers lose their column positions, like single-spaced ones.
                spaced=aligned,
            ),
            cursor,
        )
    return None, index + 1


def _indented_rows(
    block: list[tuple[Cell, ...]], lines: list[tuple[str, int]], index: int
) -> list[tuple[Cell, ...]]:
    """Space-aligned rows whose first column is blank (an indented header) get that cell back."""
    width = max(len(row) for row in block)
    out = []
    for row in block:
        if len(row) < width and row and row[0][0]:
            line_start = next(
                start for line, start in lines[index:] if start <= row[0][1] <= start + len(line)
            )
            if row[0][1] - line_start >= 4:
                row = (("", row[0][1], row[0][1]), *row)
        out.append(row)
    return out


def _spaced_block(lines: list[tuple[str, int]], index: int) -> tuple[TextTable | None, int]:
    """Rows of a label and numbers separated by single spaces, with their header lines above."""
    block: list[tuple[Cell, ...]] = []
    cursor = index
    segments = 1
    unlabelled = False
    # English translations are let into row labels only where the units are
    # stated: by a unit line, or by the first row's own label (乡(镇)个数(个) …).
    bilingual = _unit_line_before(lines, index) is not None
    if not bilingual:
        first_row = _spaced_cells(*lines[index], True)
        bilingual = bool(first_row and _header_unit(_LATIN_TAIL.sub("", first_row[0][0])))
    while cursor < len(lines):
        line, line_start = lines[cursor]
        side = _side_by_side_cells(line, line_start)
        if side is not None:
            segments = max(segments, len(side))
            block.extend(side)
            cursor += 1
            continue
        cells = _spaced_cells(line, line_start, bilingual) or _unlabelled_cells(line, line_start)
        if (
            cells is None
            and block
            and len(block[-1]) > 1
            and _LATIN_LABEL.match(line.strip())
            and " " in line.strip()
            and cursor + 1 < len(lines)
            and _spaced_cells(*lines[cursor + 1], bilingual)
        ):
            cursor += 1  # the English translation of the row above (College and Higher Level)
            continue
        if cells is None:
            # Group lines (按城乡分; 二、社会工作 then (一)社会救助) between rows belong
            # to the table when rows follow them.
            ahead = cursor
            while (
                block
                and ahead < len(lines)
                and ahead - cursor < 3
                and _SECTION_LINE.match(lines[ahead][0].strip())
            ):
                ahead += 1
            if (
                ahead > cursor
                and ahead < len(lines)
                and (_spaced_cells(*lines[ahead], bilingual) or _unlabelled_cells(*lines[ahead]))
            ):
                for section, section_start in lines[cursor:ahead]:
                    stripped = section.strip()
                    first = section_start + section.find(stripped)
                    block.append(((stripped, first, first + len(stripped)),))
                cursor = ahead
                continue
            break
        unlabelled = unlabelled or not cells[0][0]
        block.append(cells)
        cursor += 1
    rows_with_numbers = [row for row in block if len(row) > 1]
    if len(rows_with_numbers) < 2 or not any(_HAN.search(row[0][0]) for row in block):
        return None, index + 1
    widths = [len(row) for row in rows_with_numbers]
    width = max(widths)
    # Rows may lack trailing cells (no third-child births); most rows are full.
    if (
        width < 2
        or min(widths) < 2
        or (max(widths) - min(widths) > 1 and widths.count(width) * 2 < len(widths))
    ):
        return None, cursor
    if block and _is_code_row(block[0]):
        block = block[1:]
    year_header = None
    if block and len(block[0]) > 2 and _YEARS_LABEL.match(block[0][0][0]):
        years = [cell[0] for cell in block[0][1:]]
        if all(y.isdigit() for y in years) and all(
            int(b) > int(a) for a, b in itertools.pairwise(years)
        ):
            # 年度 108 109 110 (years of the Minguo calendar too) heads the columns.
            year_header, block = block[0], block[1:]
    unlabelled = any(len(row) > 1 and not row[0][0] for row in block)
    block = _with_unit_column(block)
    width = max(len(row) for row in block)
    # Group lines right above the first row (一、村干部基本情况) belong to the table.
    top = index
    while (
        top > 0
        and index - top < 3
        and _SECTION_LINE.match(lines[top - 1][0].strip())
        and _LIST_NUMBER.match(lines[top - 1][0].strip())
    ):
        # Only numbered ones: a bare word above the rows (地区, 项目) heads the labels.
        top -= 1
    if top < index:
        sections = []
        for section, section_start in lines[top:index]:
            stripped = section.strip()
            first = section_start + section.find(stripped)
            sections.append(((stripped, first, first + len(stripped)),))
        block = sections + block
        index = top
    headers: list[tuple[Cell, ...]] = []
    # The lines above: the header, however broken (at most 8 lines, up to a
    # blank line, a title, a unit line or prose).
    region: list[tuple[str, int]] = []
    back = index - 1
    while back >= 0 and len(region) < 8:
        line, line_start = lines[back]
        stripped = line.strip()
        if line and not stripped and region == [] and back > 0 and index - back < 3:
            back -= 1  # a line of spaces between a table's header and its rows
            continue
        if not stripped or len(stripped) > 60 or stripped[-1] in "。;；:：" or "," in stripped:
            break
        if _UNIT_LINE.search(stripped) or stripped.startswith("表") or _TITLE_CELL.search(stripped):
            break
        region.insert(0, (line, line_start))
        back -= 1
    limit = 2 if segments == 1 else 1
    if year_header is not None:
        headers, limit = [year_header], 0
    for line, line_start in reversed(region):
        if len(headers) >= limit:
            break
        words = _header_words(line, line_start)
        if segments > 1 and len(words) in ((width - 1) * segments, width * segments):
            # The header of side-by-side tables repeats: one copy heads the rows.
            words = words[: len(words) // segments]
        if (len(words) < 2 and headers) or len(words) > width:
            break
        headers.insert(0, words)
    back = index - 1 - len(headers)
    if segments > 1 and headers and len(headers[-1]) == width - 1:
        corner = headers[-1][0][1]
        headers[-1] = (("", corner, corner), *headers[-1])
    if (
        len(headers) == 2
        and len(headers[0]) + len(headers[1]) == width
        and 1
        in (
            len(headers[0]),
            len(headers[1]),
        )
    ):
        # The corner (项目) on a line of its own above or below the column words.
        corner, words = sorted(headers, key=len)
        headers = [(*corner, *words)]
    elif headers and len(headers[-1]) == width - 1 and _UNIT_HEADER.match(headers[-1][0][0]):
        # 单位 合计 村委会 居委会: the label column's header is left blank.
        corner = headers[-1][0][1]
        headers[-1] = (("", corner, corner), *headers[-1])
    aligned = bool(headers) and len(headers[-1]) in (width - 1, width)
    by_units = False
    if not aligned or unlabelled:
        # A header too broken to align word by word may still name one unit per
        # figure column (园所个数(所), (个), 在园幼儿数 (人) …): the columns take them in order.
        items = _header_items(region)
        if items and len(items) == width - 1:
            first = items[0][1]
            headers = [(("", first, first), *items)]
            back = index - 1 - len(region)
            by_units = True
    if unlabelled and not by_units:
        # Rows of bare numbers are a table's only under a header that gives each
        # column its unit; without one they are dropped, not guessed at.
        # The lines are read again from the next one, as if they were no rows.
        return None, index + 1
    rows = tuple(headers) + tuple(block)
    start = rows[0][0][1]
    return (
        TextTable(
            rows=rows,
            start=start,
            end=block[-1][-1][2],
            unit=_unit_line_before(lines, back + 1),
            spaced=True,
            # A header of numbers (年度 108 109) is told apart from rows here.
            header_rows=len(headers) if year_header is not None else 0,
        ),
        cursor,
    )


# A table whose cells lost their separators: 指标名称单位数量, then 最低生活保障人数万人7.1.
_GLUED_HEADER = re.compile(
    r"^(?P<name>(?:指标|项目)(?:名称)?)\s*(?P<unit>(?:计量)?单位)\s*"
    r"(?P<value>数量|数值|指标值|合计|本期|本年|总计|\d{4}年)$"
)
_GLUED_ROW = re.compile(
    r"^(?P<label>\S.*?)(?P<unit>"
    + _SCALED_UNITS
    + r"|元/[^\d\s]{1,4}|"
    + UNIT_PATTERN
    + r")?(?P<num>-?\d[\d,]*(?:\.\d+)?)$"
)


def _glued_block(lines: list[tuple[str, int]], index: int) -> tuple[TextTable | None, int]:
    """Rows of label, unit and value with nothing between them, under their glued header."""
    line, line_start = lines[index]
    leading = len(line) - len(line.lstrip())
    header = _GLUED_HEADER.match(line.strip())
    if header is None:
        return None, index + 1
    base = line_start + leading
    rows: list[tuple[Cell, ...]] = [
        tuple(
            (header.group(name), base + header.start(name), base + header.end(name))
            for name in ("name", "unit", "value")
        )
    ]
    cursor = index + 1
    while cursor < len(lines):
        current, current_start = lines[cursor]
        stripped = current.strip()
        if not stripped:
            cursor += 1
            continue
        if len(stripped) > 40 or stripped[-1] in "。;；":
            break
        base = current_start + len(current) - len(current.lstrip())
        match = _GLUED_ROW.match(stripped)
        if match is None or not _HAN.search(match.group("label")):
            # A section line (二、乡级行政区划单位) between rows.
            rows.append(((stripped, base, base + len(stripped)),))
            cursor += 1
            continue
        rows.append(
            tuple(
                (match.group(name) or "", base + match.start(name), base + match.end(name))
                if match.group(name)
                else ("", 0, 0)
                for name in ("label", "unit", "num")
            )
        )
        cursor += 1
    if sum(1 for row in rows if len(row) == 3) < 3:
        return None, index + 1
    last = next(row for row in reversed(rows) if row[-1][0])
    return TextTable(rows=tuple(rows), start=rows[0][0][1], end=last[-1][2]), cursor


def _digits(cells: list[str]) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", "".join(cells)) if ch.isdigit())


def with_html_headers(
    tables: list[TextTable], html_tables: tuple[HtmlTable, ...]
) -> list[TextTable]:
    """Text tables rendered from HTML tables, with the header rows the markup declares.

    ``htmltext`` renders each data table as tab-separated rows; a text table
    is that rendering when it has the same rows and the same digits in order.
    """
    out: list[TextTable] = []
    unused = list(html_tables)
    for table in tables:
        key = _digits([cell[0] for row in table.rows for cell in row])
        match = next(
            (
                html
                for html in unused
                if len(html.rows) == len(table.rows)
                and _digits([cell for row in html.rows for cell in row]) == key
            ),
            None,
        )
        if match is None:
            out.append(table)
            continue
        unused.remove(match)
        out.append(dataclasses.replace(table, header_rows=match.header_rows))
    return out


def _unit_line_before(lines: list[tuple[str, int]], index: int) -> str | None:
    """Units of a 单位： line above a table, over its title and broken header lines.

    Looks back over short lines (blank ones skipped) and stops at prose.
    """
    looked = 0
    for back in range(index - 1, -1, -1):
        line = lines[back][0].strip().strip("|｜ ")
        if not line:
            continue
        match = _UNIT_LINE.search(line)
        if match:
            return match.group("units")
        looked += 1
        if looked >= 8 or len(line) > 40 or line[-1] in "。；;":
            break
    return None


def _one_cell_per_line(lines: list[tuple[str, int]], index: int) -> tuple[TextTable | None, int]:
    """A table copied from a web page: one cell per line, header cells then rows.

    Lines that only separate cells (blank, a lone ``|``) are skipped, except
    where cells end in ``|`` (``2005年 |``, or ``2005年`` then a lone ``|``):
    there a ``|`` closes the cell before it, and a ``|`` with no cell to close
    is an empty cell. Returns the table (or None) and how many lines were
    looked at, so the caller never rescans a block of short lines.
    """
    run: list[tuple[str, int]] = []
    cursor = index
    blank_streak = 0
    # Cells ending in | (2005年 |): most of the first lines of the run say so.
    ahead = [line.strip() for line, _ in lines[index : index + 12] if line.strip()]
    piped = sum(1 for line in ahead if line.endswith(("|", "｜"))) * 2 >= len(ahead)
    open_cell = False  # the last cell's line had no | of its own
    while cursor < len(lines):
        line, start = lines[cursor]
        stripped = line.strip()
        if piped and stripped in ("|", "｜"):
            if not open_cell:
                run.append(("", start + line.find(stripped)))
            open_cell = False
            cursor += 1
            continue
        if _SEPARATOR_LINE.match(line):
            # Only empty lines in a row end the run; a line of spaces between
            # them is an empty cell's line (copied tables alternate the two).
            blank_streak = blank_streak + 1 if not line else 0
            if blank_streak > 2:
                break
            cursor += 1
            continue
        blank_streak = 0
        if (
            piped
            and stripped.endswith(("|", "｜"))
            and stripped.count("|") + stripped.count("｜") == 1
        ):
            stripped = stripped[:-1].rstrip()
            if not stripped:
                run.append(("", start + len(line) - len(line.lstrip())))
                cursor += 1
                continue
        if len(stripped) > _SHORT_CELL_LINE or stripped[-1] in "。;；":
            break
        if _row_form(stripped) is not None or (
            " " in stripped and (_spaced_cells(line, start) or _unlabelled_cells(line, start))
        ):
            # A row of a separated or spaced table: that table's own reader takes it.
            break
        leading = len(line) - len(line.lstrip())
        run.append((stripped, start + leading))
        open_cell = piped and not line.rstrip().endswith(("|", "｜"))
        cursor += 1
    consumed = max(1, cursor - index)
    run = _without_code_row(run)
    if len(run) < 6:
        return None, consumed
    found = _cell_grid(run)
    if found is None:
        return None, consumed
    header_start, data_start, width, row_lengths = found
    header = run[header_start:data_start]
    body = run[data_start : data_start + sum(row_lengths)]
    two_rows = _two_row_header(run, data_start, width) or _header_by_units(run, data_start, width)
    if two_rows is not None:
        header_rows, first = two_rows
        header = run[first:data_start]
    else:
        header_rows = (tuple((c, s, s + len(c)) for c, s in header),) if header else ()
    cells_run = header + body
    starts = list(itertools.accumulate(row_lengths, initial=0))
    rows = header_rows + tuple(
        tuple((c, s, s + len(c)) for c, s in body[start : start + length])
        for start, length in zip(starts, row_lengths, strict=False)
    )
    unit = None
    for cell, _start in run[max(0, header_start - 3) : header_start]:
        match = _UNIT_LINE.search(cell)
        if match:
            unit = match.group("units")
    table = TextTable(
        rows=rows,
        start=cells_run[0][1],
        end=cells_run[-1][1] + len(cells_run[-1][0]),
        unit=unit or _unit_line_before(lines, index),
        # A header cell may span two columns (比重 over 男, 女): spread as for spaced rows.
        spaced=two_rows is None and len(header) < width,
    )
    # The lines after the table are looked at again: prose or another table.
    last_line = next(
        i
        for i in range(index, len(lines))
        if lines[i][1] <= cells_run[-1][1] < lines[i][1] + len(lines[i][0]) + 1
    )
    return table, last_line - index + 1


_AGE_CELL = re.compile(r"^\d{1,3}(?:\s*[-~～至]\s*\d{1,3})?\s*(?:周)?岁(?:以下|以上|及以上)?$")
_YEAR_WORD = re.compile(r"^(?:19|20)\d{2}\s*年")
_FORM_CODES = frozenset("甲乙丙丁戊己")


def _without_code_row(run: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The run without the column-code row of a statistical form (甲 乙 丙 1 2 3)."""
    for i in range(len(run) - 2):
        if run[i][0] != "甲" or run[i + 1][0] != "乙":
            continue
        end = i + 2
        while end < len(run) and run[end][0] in _FORM_CODES:
            end += 1
        number = 1
        while end < len(run) and run[end][0] == str(number):
            end += 1
            number += 1
        return run[:i] + run[end:]
    return run


def _header_cells_before(run: list[tuple[str, int]], data_start: int, limit: int) -> int:
    """How many header-like cells (no figures, no title) come right before ``data_start``."""
    available = 0
    while (
        available < data_start
        and available < limit
        and _cell_kind(run[data_start - available - 1][0]) != "number"
        and not _TITLE_CELL.search(run[data_start - available - 1][0])
    ):
        available += 1
    return available


def _header_by_units(
    run: list[tuple[str, int]], data_start: int, width: int
) -> tuple[tuple[tuple[Cell, ...], ...], int] | None:
    """A header of three or more rows read one cell per line (出 生 / 出生人口 / 数(人)):
    when it states one unit per figure column, in order, the columns take them."""
    available = _header_cells_before(run, data_start, 4 * width)
    if available <= width:
        return None
    first = data_start - available
    text = " ".join(cell for cell, _start in run[first:data_start] if cell)
    items = _header_items([(text, run[first][1])])
    if len(items) != width - 1:
        return None
    corner = run[first]
    return (((corner[0], corner[1], corner[1] + len(corner[0])), *items),), first


def _two_row_header(
    run: list[tuple[str, int]], data_start: int, width: int
) -> tuple[tuple[tuple[Cell, ...], ...], int] | None:
    """Two header rows read one cell per line, spread over the columns, and where they start.

    Two shapes are recognised, both only when the cells say so: the lower row is
    a run of years under the last upper cell (常住人口, 比重 over 2020年, 2010年),
    or the lower row fills every figure column and repeats (人数, 占总人口% under
    each of 18岁以下, 18-35岁 …), each upper cell spanning one repeat.
    """
    available = _header_cells_before(run, data_start, 3 * width)
    if available <= width:
        return None
    cells = [(c, s, s + len(c)) for c, s in run[data_start - available : data_start]]
    empty: Cell = ("", 0, 0)
    years = 0
    while years < len(cells) and _YEAR_WORD.match(cells[len(cells) - 1 - years][0]):
        years += 1
    if 2 <= years < width - 1:
        upper_count = width - years + 1
        if upper_count >= 2 and upper_count + years <= len(cells):
            upper = cells[len(cells) - years - upper_count : len(cells) - years]
            lower = cells[len(cells) - years :]
            upper_row = (*upper[:-1], *([upper[-1]] * years))
            lower_row = (*([empty] * (width - years)), *lower)
            return (upper_row, lower_row), data_start - years - upper_count
    lower_count = width - 1
    lower = cells[len(cells) - lower_count :] if lower_count < len(cells) else []
    for period in range(2, lower_count // 2 + 1):
        if lower_count % period or not lower:
            continue
        if any(lower[i][0] != lower[i + period][0] for i in range(lower_count - period)):
            continue
        upper_count = 1 + lower_count // period
        if upper_count + lower_count > len(cells):
            break
        upper = cells[len(cells) - lower_count - upper_count : len(cells) - lower_count]
        upper_row = (upper[0], *(cell for cell in upper[1:] for _ in range(period)))
        return (upper_row, (empty, *lower)), data_start - lower_count - upper_count
    return None


def _cell_kind(cell: str) -> str:
    if _BLANK_CELL.match(cell):
        return "blank"
    if _YEAR_CELL.match(cell):
        return "year"
    if _AGE_CELL.match(cell):
        return "text"  # an age group (18岁以下, 15-19岁) heads a row or column
    if _is_numeric_cell(cell):
        return "number"
    # A unit (万人, 元/人、月) or an indicator code (JZH011110000) in a row of figures.
    if _BARE_UNIT.match(cell) or re.fullmatch(r"元/[^\d\s]{1,4}", cell):
        return "unit"
    if re.fullmatch(r"[A-Za-z]{1,6}\d{4,}", cell):
        return "code"
    return "text"


# A table's title or number (表2-3 …, 2-1各镇人口性别构成, …情况表), not a column header.
_TITLE_CELL = re.compile(
    r"^(?:表\s*)?\d+(?:[-－—.]\d+)+(?![\d.]*\s*岁)|^表|(?:表|情况|统计)$|单位\s*[:：]"
)


def _cell_grid(run: list[tuple[str, int]]) -> tuple[int, int, int, list[int]] | None:
    """Header start, data start, width and the data rows' lengths of the table in a run of cells.

    Each data row is a text label then numbers (or blanks); the header is the
    text (or year) cells just before the first row, at most one per column.
    A row may lack trailing cells (the next row's label follows its last
    figure); its cells fill the columns from the left. The table covering
    most cells wins.
    """
    kinds = [_cell_kind(cell) for cell, _ in run]
    best: tuple[int, int, int, list[int]] | None = None
    best_cells = 0
    for data_start in range(1, len(run) - 3):
        # A table's rows follow its header: the cell before the first label is a header cell.
        if kinds[data_start] not in ("text", "blank", "year") or kinds[data_start - 1] == "number":
            continue
        for width in range(2, 11):
            row_lengths: list[int] = []
            short_rows = 0
            tail = 0
            cursor = data_start
            while cursor + 2 <= len(run):
                row = kinds[cursor : cursor + width]
                if row[0] not in ("text", "blank", "year"):
                    break
                length = len(row)
                if "text" in row[1:]:
                    label_next = row.index("text", 1)
                    if not row_lengths or row[0] != "text":
                        break
                    if (
                        label_next == 1
                        and _HAN.search(run[cursor][0])
                        and _HAN.search(run[cursor + 1][0])
                    ):
                        # A group line (按登记注册类型分) between rows: a row of one cell.
                        row_lengths.append(1)
                        cursor += 1
                        continue
                    if "number" not in row[1:label_next]:
                        break
                    length = label_next
                    short_rows += 1
                elif length < width:
                    # Only the run's last row may stop short (the page ends there); it
                    # is kept, but does not count when choosing the grid.
                    if cursor + length == len(run) and "number" in row[1:] and row_lengths:
                        tail = length
                    break
                # A section row (按性别分: then blanks) sits between data rows.
                if "number" not in row[1:length] and (row[0] != "text" or not row_lengths):
                    break
                row_lengths.append(length)
                cursor += length
            rows = len(row_lengths)
            cells = sum(row_lengths)
            if rows < 2 or cells <= best_cells or short_rows * 2 > rows:
                continue
            if tail:
                row_lengths.append(tail)
            first_row = data_start
            # Section rows (1.优抚、安置 then blanks) before the first row of figures.
            while (
                first_row - width > 0
                and kinds[first_row - width] == "text"
                and all(
                    kind in ("blank", "code", "unit")
                    for kind in kinds[first_row - width + 1 : first_row]
                )
            ):
                first_row -= width
                row_lengths.insert(0, width)
            header_start = first_row
            while (
                header_start > 0
                and first_row - header_start < width
                and kinds[header_start - 1] != "number"
                and not _TITLE_CELL.search(run[header_start - 1][0])
            ):
                header_start -= 1
            if first_row - header_start < width - 1:
                continue
            best = (header_start, first_row, width, row_lengths)
            best_cells = cells
    return best


_HEADER_COMPOUND_UNIT = re.compile(r"[(（]\s*([^\d()（）/\s]{1,3}/[^\d()（）/]{1,8}?)\s*[)）]")


def _header_unit(header: str) -> str | None:
    """The unit a header states: 参检人数(人), 完成率(%), 2005年为上年%."""
    match = _HEADER_UNIT.search(header)
    if match:
        return match.group(1)
    if header.endswith(("%", "％")):
        return "%"
    if re.search(r"[(（]\s*每千人\s*[)）]", header):
        return "‰"  # a rate per thousand people
    compound = _HEADER_COMPOUND_UNIT.search(header)
    if compound:
        return re.sub(r"\s+", "", compound.group(1))  # (人/平方 公里) → 人/平方公里
    return None


# Which unit of a unit line a column takes, by its header (…户数 → 户, …人数 → 人).
_UNIT_BY_NAME: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"人次"), "人次"),
    (re.compile(r"户数|户$|家庭数"), "户"),
    (re.compile(r"人数|人口|人员|人$|职工|妇女$|儿童$"), "人"),
    (re.compile(r"金额|资金|补贴|经费|费$|支出|收入|预算|决算|投入|贷款|款$"), "元"),
    (re.compile(r"率|比重|比例|占比|%"), "%"),
)


# Rows that are ratios, not counts: 性别比(以女性为100), 每千人结婚对数, 出生率.
_RATE_ROW = re.compile(r"性别比|每(?:十万|百|千|万)人|率$|率[(（]")
_COUNT_HEADER = re.compile(r"(?:人口数|人数|人口|户数|人次)$")
# Columns of changes (环比, 同比, 比上年增长): a figure there is no amount of the row's unit.
_CHANGE_HEADER = re.compile(r"环比|同比|增减|增长|增幅|比上年|±")


def _count_unit(label: str) -> str | None:
    counted = _COUNT_HEADER.search(label)
    if counted is None:
        return None
    word = counted.group()
    return "人次" if word == "人次" else ("户" if "户" in word else "人")


def _column_unit(header: str, units: list[str]) -> str | None:
    explicit = _header_unit(header)
    if explicit:
        return explicit
    if not units:
        # A count says what it counts (人口数, 户数) even without a unit line.
        return _count_unit(header)
    named = [base for pattern, base in _UNIT_BY_NAME if pattern.search(header)]
    # A unit of the unit line the header names (占总人口比重 under 单位:% is %, though
    # it mentions 人口): the line's units come first.
    for base in named:
        if base in units:
            return base
        scaled = next((u for u in units if u in ("万" + base, "亿" + base, "千" + base)), None)
        if scaled:
            return scaled
    if "/" in "".join(units) and re.search(r"平均|规模|人均|户均", header):
        return next(u for u in units if "/" in u)
    if len(units) == 1:
        return units[0]
    # A rate column takes % only from the unit line (单位：人、%); a count says what it counts.
    return next((base for base in named if base != "%"), None)


def _cell_value(cell: str, unit_hint: str | None) -> tuple[float, str | None, str] | None:
    match = _CELL_NUMBER.match(cell)
    if not match:
        return None
    number = match.group("num").replace(",", "").lstrip("+")  # +12: the magnitude as written
    mult = match.group("mult") or ""
    unit_word = match.group("unit")
    hint = unit_hint or ""
    if not unit_word and hint:
        for scaled in ("万", "亿", "千"):
            if hint.startswith(scaled) and len(hint) > 1:
                mult = mult or scaled
                hint = hint[len(scaled) :]
        unit_word = hint or None
    if unit_word in ("%", "‰"):
        rate = bounded_float(number)
        if rate is None:
            return None
        value = rate
        unit: str | None = unit_word
    else:
        # A printed minus sign is part of the value (环比 -7.04, decision B).
        negative = number.startswith("-")
        parsed = parse_amount(number.lstrip("-") + mult)
        if parsed is None:
            return None
        value = -parsed if negative else parsed
        unit = CANONICAL_UNIT.get(unit_word, unit_word) if unit_word else None
        if unit and "/" in unit:
            # 元/人、月 and 元/人.月 are written 元/人·月.
            unit = re.sub(r"[、.．•]", "·", unit)
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


_NO_FIGURE = frozenset(("blank", "code"))


def _is_data_row(row: list[Cell]) -> bool:
    kinds = [_cell_kind(cell[0]) for cell in row[1:]]
    # A row of years only (项目 2013 2014 …) heads the columns.
    return "number" in kinds


def _without_trailing_blanks(row: list[Cell]) -> list[Cell]:
    end = len(row)
    while end > 1 and not row[end - 1][0]:
        end -= 1
    return row[:end]


def _aligned_headers(headers: list[list[Cell]], width: int) -> list[list[Cell]]:
    """Header rows of a spaced table spread over the data columns.

    A lower header row sits under the last columns; the word of the upper
    row above them spans them (比重 over 2020年, 2010年). Without a lower row,
    the share column (比重, %) is the one spanning two.
    """
    empty: Cell = ("", 0, 0)
    out: list[list[Cell]] = []
    lower = len(headers[-1]) if len(headers) > 1 else 0
    for position, words in enumerate(headers):
        words = list(words)
        if len(words) >= width:
            out.append(words[:width])
            continue
        if position > 0:
            out.append([empty] * (width - len(words)) + words)
            continue
        row = [words[0]]
        values = words[1:]
        extra = (width - 1) - len(values)
        if not values:
            out.append(row + [empty] * (width - 1))
            continue
        if lower and len(headers) > 1:
            spanning = len(values) - 1
        else:
            spanning = next((i for i, w in enumerate(values) if re.search(r"比重|%|占", w[0])), 0)
        for i, word in enumerate(values):
            row.extend([word] * (1 + (extra if i == spanning else 0)))
        out.append(row[:width])
    return out


_BARE_UNIT = re.compile(r"^(?:" + _SCALED_UNITS + "|" + UNIT_PATTERN + r")$")


def _unwrapped(data: list[list[Cell]]) -> list[list[Cell]]:
    """Rows whose label wrapped onto the line before (一、民政事业费累计支出 | then 万元 | 57324.8).

    In a table with a unit column second, a row starting with a unit lost its
    label to the previous one-cell row: the label comes back, the cells move right.
    """
    out: list[list[Cell]] = []
    for row in data:
        if _BARE_UNIT.match(row[0][0]) and out and sum(1 for c in out[-1] if c[0]) == 1:
            label = out.pop()[0]
            out.append([label, *row[: len(row) - 1]] if not row[-1][0] else [label, *row])
            continue
        out.append(row)
    width = max(len(row) for row in out)
    for row in out:
        while len(row) < width:
            row.append(("", 0, 0))
    return out


def table_statistics(norm: NormalizedText, ctx: PageContext, table: TextTable) -> list[Statistic]:
    units = [_CURRENCY_PREFIX.sub("", u) for u in _UNIT_SPLIT.split(table.unit or "") if u]
    rows: list[list[Cell]] = []
    row_units: list[str | None] = []
    for raw_row in table.rows:
        cells = [cell for cell in raw_row]
        if not any(cell[0] for cell in cells):
            continue
        line = " ".join(cell[0] for cell in cells if cell[0])
        unit_line = _UNIT_LINE.search(line)
        if unit_line and not any(_is_numeric_cell(c[0]) for c in cells):
            units = [u for u in _UNIT_SPLIT.split(unit_line.group("units")) if u]
            continue
        row_unit = None
        kept: list[Cell] = []
        # A unit cell states its row's unit only in a row of figures; in a header
        # row it heads a column ((个) under a broken header).
        has_figures = any(_is_numeric_cell(c[0]) for c in cells)
        for position, cell in enumerate(cells):
            unit_cell = _UNIT_CELL.match(cell[0]) if position and has_figures else None
            if unit_cell and row_unit is None:
                row_unit = unit_cell.group(1)
                continue
            kept.append(cell)
        rows.append(kept)
        row_units.append(row_unit)
    header_count = 0
    headed = False  # a header row of several cells was seen (one cell is a title)
    for row in rows:
        if _is_data_row(row):
            break
        if headed and row[0][0] and all(_cell_kind(c[0]) in _NO_FIGURE for c in row[1:]):
            break  # a section row (一、综合, then blanks) opens the body
        headed = headed or sum(1 for c in row if c[0]) > 1
        header_count += 1
    if table.header_rows:
        # The page's markup says which rows head the table (栏次 rows of 1 2 3 too).
        header_count = max(header_count, min(table.header_rows, len(rows) - 1))
    if header_count == len(rows):
        return []
    if (
        header_count > 1
        and _BARE_UNIT.match(rows[header_count][0][0])
        and sum(1 for c in rows[header_count - 1] if c[0]) == 1
    ):
        # The first row's label wrapped onto the line above it (see _unwrapped).
        header_count -= 1
    # Titles (one cell: 表2-3 各乡镇常住人口户数) are captions, not column headers.
    header_rows = [row for row in rows[:header_count] if sum(1 for c in row if c[0]) > 1]
    data = rows[header_count:]
    data_units = row_units[header_count:]
    width = max(len(row) for row in data)
    if header_rows:
        header_rows = [_without_trailing_blanks(row) for row in header_rows]
        if table.spaced or any(len(row) < width for row in header_rows[1:]):
            header_rows = _aligned_headers(header_rows, width)
    for row in header_rows + data:
        while len(row) < width:
            row.append(("", 0, 0))
    col_headers = [_join_unique([h[c][0] for h in header_rows]) for c in range(width)]

    code_cols = {c for c in range(width) if col_headers[c] and _CODE_HEADER.search(col_headers[c])}
    unit_cols = {
        c
        for c in range(width)
        if col_headers[c] and _UNIT_HEADER.match(re.sub(r"\s+", "", col_headers[c] or ""))
    }
    if unit_cols == {1}:
        data = _unwrapped(data)
    label_cols = []
    # Section rows (三、革命伤残人员) and wrapped labels hold no figures: the rows
    # with figures decide which columns are labels.
    figure_rows = [row for row in data if any(_is_numeric_cell(cell[0]) for cell in row[1:])]
    # Years down the first column (1978, 1979 …) name the rows; a year is no statistic.
    year_rows = bool(figure_rows) and all(_YEAR_CELL.match(row[0][0]) for row in figure_rows)
    for c in range(width):
        if c in code_cols or c in unit_cols:
            continue
        numeric = sum(1 for row in figure_rows if _is_numeric_cell(row[c][0]))
        if numeric <= len(figure_rows) / 2 or (c == 0 and year_rows):
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
    column_units = [_column_unit(col_headers[c] or "", units) for c in range(width)]
    stats: list[Statistic] = []
    cells_by_col: dict[int, list[tuple[int, float, Statistic]]] = {}
    inherited_unit: str | None = None
    labelled_unit: str | None = None
    for r, row in enumerate(data):
        labels = [row[c][0] for c in label_cols if row[c][0]]
        row_header = _join_unique(labels)
        row_unit = (
            data_units[r]
            or next((row[c][0] for c in unit_cols if row[c][0]), None)
            or (_header_unit(row_header) if row_header else None)
        )
        if row_unit is None and row_header and row_header.lstrip().startswith(("#", "其中", "＃")):
            row_unit = inherited_unit
        elif row_unit is None and labelled_unit and not data_units[r]:
            # 总人口(人) then 非农业人口, 男, 女: the rows under a stated unit count the same.
            row_unit = labelled_unit
        elif row_unit is not None:
            inherited_unit = row_unit
        elif row_header and not any(_is_numeric_cell(c[0]) for c in row[1:]):
            inherited_unit = None
        if row_header and _header_unit(row_header):
            labelled_unit = _header_unit(row_header)
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
                or row_unit
                or _header_unit(row_header or "")
                or column_units[c]
            )
            if _CHANGE_HEADER.search(col_headers[c] or "") and not _header_unit(
                col_headers[c] or ""
            ):
                # 环比/同比 columns hold changes, never amounts of the row's unit.
                hint = None
            rate_row = bool(
                row_header
                and _RATE_ROW.search(row_header)
                and not _header_unit(row_header)
                and not _header_unit(col_headers[c] or "")
            )
            if rate_row:
                # A ratio row (性别比, 每千人结婚对数) is no count of the unit the rows
                # around it or the unit line give: a rate takes % only from the unit line.
                hint = "%" if "率" in (row_header or "") and "%" in units else None
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
