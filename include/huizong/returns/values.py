"""Reading one typed cell of a return into a number, or refusing it with a reason.

Hand-typed workbooks hold numbers as numbers, as text with separators, in
full-width digits, with trailing spaces, in 万元 instead of 元, and sometimes
hold things that cannot be a figure at all (``95%`` in a count row, ``见附件``).
:func:`parse_value` turns what can be read without guessing into an ``int``
(counts) or a 2-decimal ``float`` (money, in 元) and returns ``None`` plus a
bilingual message for the rest. ``None`` without a message means *not reported*;
``0`` is a reported zero. The two are never confused.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

# Figures beyond these are typing accidents (a phone number, an ID number pasted
# into the wrong cell), not statistics of one federation: China has 1.4e9 people.
MAX_COUNT = 10**9
MAX_MONEY_YUAN = Decimal(10**12)

NULL_MARKERS = frozenset({"", "-", "--", "—", "——", "–", "－", "/", "\\", "无", "空", "—/—", "-/-"})

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_GROUPED_NUMBER = re.compile(r"[+-]?\d{1,3}(?:(?P<sep>[, '])\d{3})(?:(?P=sep)\d{3})*(?:\.\d+)?")
_UNIT_MULTIPLIERS = (("百万", 1_000_000), ("亿", 100_000_000), ("万", 10_000), ("千", 1_000))
_UNIT_WORDS = ("人次", "场次", "件次", "万元", "元", "个", "人", "场", "件", "起", "户", "条", "家")
_ERROR_VALUES = frozenset(
    {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!"}
)


@dataclass(frozen=True)
class ParsedValue:
    """A cell read for one indicator: a value, or None with ``problem`` saying why."""

    value: int | float | None
    problem: str | None = None

    @property
    def reported(self) -> bool:
        return self.value is not None


NOT_REPORTED = ParsedValue(None)


def _refuse(message: str) -> ParsedValue:
    return ParsedValue(None, message)


def clean_text(raw: str) -> str:
    """NFKC (full-width digits and punctuation to ASCII) without invisible characters."""
    text = unicodedata.normalize("NFKC", raw).translate(_INVISIBLE)
    return text.strip()


def is_not_reported(raw: object) -> bool:
    """Blank, ``—``, ``-``, ``/`` or ``无``: the unit did not report this figure."""
    if raw is None:
        return True
    if isinstance(raw, str):
        return clean_text(raw).replace(" ", "") in NULL_MARKERS
    return False


def unit_scale(unit_text: str | None, indicator_unit: str) -> tuple[int, str | None]:
    """Multiplier that turns figures typed in ``unit_text`` into ``indicator_unit``.

    ``万元`` in a money row gives 10000. Returns a problem message when the unit
    cell contradicts the indicator (a ``%`` unit, money unit on a count row).
    """
    if not unit_text:
        return 1, None
    text = clean_text(unit_text).replace(" ", "")
    text = re.sub(r"^[(\[]|[)\]]$", "", text)
    if not text:
        return 1, None
    if "%" in text or text in {"百分比", "百分率"}:
        return 1, (
            f"计量单位为“{unit_text}”，本行应填数量 / the unit cell says {unit_text!r} "
            f"but this row is counted in {indicator_unit}: enter the figure in {indicator_unit}"
        )
    for prefix, multiplier in _UNIT_MULTIPLIERS:
        if text.startswith(prefix) and text[len(prefix) :] == indicator_unit:
            return multiplier, None
    if indicator_unit == "元" and text.endswith("元") and text != "元":
        return 1, (
            f"无法识别的金额单位“{unit_text}” / unknown money unit {unit_text!r}: use 元 or 万元"
        )
    if indicator_unit != "元" and text.endswith("元"):
        return 1, (
            f"计数行的计量单位不能是“{unit_text}” / a count row ({indicator_unit}) cannot be "
            f"measured in {unit_text!r}"
        )
    return 1, None


def _decimal_from_float(number: float) -> Decimal:
    # Excel keeps 15 significant digits; repr of a computed double (0.1+0.2)
    # carries noise beyond that which must not count as extra decimals.
    return Decimal(format(number, ".15g"))


def _strip_unit_suffix(text: str, indicator_unit: str) -> tuple[str, int | None]:
    """``12人`` → ``12``; ``1.5万元`` → (``1.5``, 10000) on a money row."""
    for word in _UNIT_WORDS:
        if text.endswith(word) and len(text) > len(word):
            head = text[: -len(word)].strip()
            if word == "万元":
                return head, 10_000 if indicator_unit == "元" else None
            if word == indicator_unit or (indicator_unit != "元" and word != "元"):
                return head, 1
            return text, None
    return text, 1


def _text_to_decimal(text: str) -> Decimal | None:
    if _PLAIN_NUMBER.fullmatch(text):
        return Decimal(text)
    grouped = _GROUPED_NUMBER.fullmatch(text)
    if grouped:
        return Decimal(text.replace(grouped.group("sep"), ""))
    return None


_DISPLAY_LIMIT = 60


def _display(raw: object) -> str:
    """The cell as a message shows it: 1e308 not its 309 digits, long text cut short."""
    if isinstance(raw, float) and raw.is_integer() and abs(raw) < 1e16:
        return str(int(raw))
    if isinstance(raw, float):
        return format(raw, ".15g")
    text = str(raw)
    return text if len(text) <= _DISPLAY_LIMIT else text[:_DISPLAY_LIMIT] + "…"


def parse_value(
    raw: object,
    *,
    money: bool,
    indicator_unit: str | None = None,
    scale: int = 1,
    percent_format: bool = False,
) -> ParsedValue:
    """Read one cell of a count row (``money=False``) or a money row (in 元).

    ``scale`` converts the typed unit (10000 for a row in 万元); ``percent_format``
    is True when the spreadsheet cell is formatted as a percentage, which is how
    Excel stores a typed ``95%``.
    """
    unit = indicator_unit or ("元" if money else "")
    if is_not_reported(raw):
        return NOT_REPORTED
    if isinstance(raw, bool):
        return _refuse(f"逻辑值不是数字 / {raw} is a logical value, not a figure: enter a number")
    if isinstance(raw, datetime | date | time):
        return _refuse(
            f"日期不是数字 / a date ({raw}) is not a figure: the cell may be formatted as a date; "
            "format it as a number and enter the figure"
        )
    number: Decimal | None
    if isinstance(raw, float) and (math.isnan(raw) or math.isinf(raw)):
        return _refuse(f"非数字 / {raw} is not a number: enter the figure")
    if percent_format and isinstance(raw, int | float):
        return _percent_problem(f"{raw * 100:g}%", money)
    if isinstance(raw, int):
        number = Decimal(raw)
    elif isinstance(raw, float):
        number = _decimal_from_float(raw)
    elif isinstance(raw, Decimal):
        number = raw
    elif isinstance(raw, str):
        text = clean_text(raw)
        if text.upper() in _ERROR_VALUES:
            return _refuse(f"公式错误值 / the cell shows the formula error {text}: fix the formula")
        if text.endswith("%") or text.endswith("‰"):
            return _percent_problem(text, money)
        text, suffix_scale = _strip_unit_suffix(text, unit)
        if suffix_scale is None:
            return _refuse(
                f"单位与本行不符 / {_display(raw)!r} carries a unit that does not fit this row "
                f"({unit or 'count'}): enter the figure in {unit or 'the row unit'}"
            )
        if suffix_scale != 1:
            scale = suffix_scale
        number = _text_to_decimal(text.strip())
        if number is None:
            lowered = text.lower().lstrip("+-")
            if lowered in {"nan", "inf", "infinity"}:
                return _refuse(f"非数字 / {_display(raw)!r} is not a number: enter the figure")
            kind = "金额" if money else "计数"
            return _refuse(
                f"{kind}行不能填文字 / a {'money' if money else 'count'} row cannot hold text "
                f"{_display(raw)!r}: enter a number, or leave it blank if not reported"
            )
    else:
        return _refuse(f"无法读取的单元格 / unreadable cell value {_display(raw)!r}")

    if not number.is_finite():
        return _refuse(f"非数字 / {_display(raw)} is not a number: enter the figure")
    if number.adjusted() > 20:
        return _refuse(f"数值过大 / {_display(raw)} is implausibly large: check the digits")
    if number.adjusted() < -20 and number != 0:
        number = Decimal("0.1")  # a vanishing fraction is refused like any fraction below
    number = number * scale
    if number < 0:
        return _refuse(f"不能为负数 / {_display(raw)} is negative: figures are never below zero")
    if money:
        if number > MAX_MONEY_YUAN:
            return _refuse(
                f"金额过大 / {_display(raw)} is implausibly large for a money figure in 元: "
                "check the unit and the digits"
            )
        if number != number.quantize(Decimal("0.01")):
            return _refuse(
                f"金额最多两位小数 / {_display(raw)} has more than 2 decimals (in 元): round to fen"
            )
        return ParsedValue(float(number.quantize(Decimal("0.01"))))
    if number != number.to_integral_value():
        return _refuse(
            f"计数必须为整数 / {_display(raw)} is a fraction but this row counts whole "
            f"{unit or 'items'}: enter a whole number"
        )
    if number > MAX_COUNT:
        return _refuse(
            f"数值过大 / {_display(raw)} is implausibly large for a count: check the digits"
        )
    return ParsedValue(int(number))


def _percent_problem(shown: str, money: bool) -> ParsedValue:
    if money:
        return _refuse(
            f"金额行不能填百分比 / a money row cannot hold a percentage ({shown}): "
            "enter the amount in 元"
        )
    return _refuse(
        f"计数行不能填百分比 / a count row cannot hold a percentage ({shown}): enter the count"
    )
