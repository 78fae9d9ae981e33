"""One normal form for what comes out of any spreadsheet reader.

The .xlsx stream, xlrd for .xls, the HTML-table reader and the CSV reader each
hand every cell value through :func:`normalise_cell` before the parser looks at
it, so the parser sees only:

* ``None`` for an empty cell (also a cell that held nothing but control
  characters);
* a ``str`` with no control or bidirectional characters (ESC, BEL, BS, NEL,
  RLO, the isolates …) and, for .xlsx text, Excel's ``_x001B_`` escapes decoded
  first and so removed the same way — tabs and line breaks stay, they are
  ordinary cell layout;
* a finite ``int`` or ``float``;
* :class:`BadNumber` for a numeric cell that holds no finite number — ``NaN``,
  ``INF``, ``-INF``, ``1E+400`` (overflows to infinity) are all valid
  ``xsd:double`` in sheet XML and reach us from generators and other tools. The
  parser turns it into a problem for that one cell instead of refusing the
  workbook;
* ``bool``, ``datetime`` as the format stores them.

:func:`number_from_xml` reads the ``<v>`` text of a numeric .xlsx cell without
the ``int()``-then-fail path that makes other readers refuse ``NaN`` outright.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from huizong.textsafe import without_controls

_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_INTEGER = re.compile(r"[+-]?\d{1,18}")
_SHOWN_LIMIT = 40


@dataclass(frozen=True)
class BadNumber:
    """A numeric cell whose content is no finite number; ``text`` is as written."""

    text: str

    def __str__(self) -> str:
        return self.text


def _unescape(match: re.Match[str]) -> str:
    return chr(int(match.group(1), 16))


def decode_excel_escapes(text: str) -> str:
    """``_x001B_`` → ESC, ``_x005F_`` → ``_`` (ECMA-376 ST_Xstring), as Excel reads them."""
    if "_x" not in text:
        return text
    return _EXCEL_ESCAPE.sub(_unescape, text)


def clean_cell_text(text: str, *, excel_escapes: bool = False) -> str:
    """Cell text without control/bidi characters; ``excel_escapes`` for .xlsx text."""
    if excel_escapes:
        text = decode_excel_escapes(text)
    return without_controls(text)


def number_from_xml(text: str | None) -> int | float | BadNumber | None:
    """The number in an .xlsx ``<v>`` of a numeric cell, or :class:`BadNumber`."""
    if text is None:
        return None
    stripped = text.strip()
    if not stripped:
        return None
    if _INTEGER.fullmatch(stripped):
        return int(stripped)
    try:
        number = float(stripped)
    except ValueError:
        return BadNumber(clean_cell_text(stripped)[:_SHOWN_LIMIT])
    if not math.isfinite(number):
        return BadNumber(clean_cell_text(stripped)[:_SHOWN_LIMIT])
    return number


def normalise_cell(value: Any, *, excel_escapes: bool = False) -> Any:
    """Any reader's cell value in the normal form described in the module doc."""
    if value is None or isinstance(value, bool | int | BadNumber):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return BadNumber({"nan": "NaN", "inf": "INF", "-inf": "-INF"}[repr(value)])
    if isinstance(value, str):
        text = clean_cell_text(value, excel_escapes=excel_escapes)
        return text if text.strip() else None
    return value


def is_plain_number(value: Any) -> bool:
    """A finite int or float, not a bool: the only formula result huizong will use."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


__all__ = [
    "BadNumber",
    "clean_cell_text",
    "decode_excel_escapes",
    "is_plain_number",
    "normalise_cell",
    "number_from_xml",
]
