"""Reporting periods: canonical spelling, kind, dates, previous period and due date.

A period is always carried as a string in one of three canonical spellings:
``"2024Q4"`` (quarter), ``"2024"`` (year) and ``"2024-10"`` (month). Workbooks
spell them in many ways (``2024年第四季度``, ``2024年10-12月``, ``2024年度`` …);
:func:`normalize_period` maps every spelling we accept onto the canonical one and
refuses anything else with a :class:`PeriodError` that says what it expected.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, datetime, timedelta

DEFAULT_DUE_DAYS = 10

QUARTER = "quarter"
YEAR = "year"
MONTH = "month"

_CN_DIGITS = {
    "〇": "0", "零": "0", "○": "0", "Ｏ": "0", "O": "0",
    "一": "1", "二": "2", "三": "3", "四": "4", "五": "5",
    "六": "6", "七": "7", "八": "8", "九": "9",
}  # fmt: skip
_CN_SMALL_NUMBERS = {
    "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6,
    "七": 7, "八": 8, "九": 9, "十": 10, "十一": 11, "十二": 12,
}  # fmt: skip

_CANONICAL = re.compile(r"^(?P<year>\d{4})(?:Q(?P<quarter>[1-4])|-(?P<month>0[1-9]|1[0-2]))?$")

_NUM = r"(?:\d{1,2}|十[一二]?|[一二三四五六七八九])"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
# Order matters: a quarter written with its months (2024年第四季度（10-12月）) must
# be read as the quarter, and a month span before a single month.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("quarter", re.compile(_YEAR + r"\s*[-_/.]?\s*[Qq]\s*(?P<q>[1-4])(?![0-9])")),
    ("quarter", re.compile(_YEAR + r"\s*年?\s*(?:第\s*)?(?P<q>[1-4一二三四])\s*季度?")),
    ("quarter", re.compile(r"[Qq](?P<q>[1-4])\s*[-_/ ]?\s*" + _YEAR)),
    (
        "span",
        re.compile(
            _YEAR + r"\s*年\s*(?P<m1>" + _NUM + r")\s*(?:月份?)?\s*(?:[-－—~～至到]+)\s*"
            r"(?P<m2>" + _NUM + r")\s*月份?"
        ),
    ),
    (
        "year",
        re.compile(_YEAR + r"\s*(?:年度|年全年|全年|年(?!\s*(?:第|[0-9一二三四五六七八九十])))"),
    ),
    ("month", re.compile(_YEAR + r"\s*年\s*(?P<m>" + _NUM + r")\s*月份?")),
    ("month", re.compile(_YEAR + r"\s*[-/.]\s*(?P<m>0?[1-9]|1[0-2])(?![0-9])")),
    ("year", re.compile(_YEAR + r"(?![0-9])")),
)


class PeriodError(ValueError):
    """A period text that is not one of the spellings huizong understands."""


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(
        _CN_DIGITS.get(ch, ch) if _is_year_digit_context(text, i) else ch
        for i, ch in enumerate(text)
    )
    return re.sub(r"\s+", " ", text).strip()


def _is_year_digit_context(text: str, index: int) -> bool:
    # Chinese digits are only rewritten inside a four-character year (二〇二四年);
    # 第四季度 and 十二月 keep their characters for the quarter and month patterns.
    for start in range(max(0, index - 3), index + 1):
        chunk = text[start : start + 4]
        if (
            len(chunk) == 4
            and all(c in _CN_DIGITS or c.isdigit() for c in chunk)
            and start + 4 < len(text)
            and text[start + 4] == "年"
        ):
            return True
    return False


def _small_number(token: str) -> int:
    token = token.strip()
    if token.isdigit():
        return int(token)
    return _CN_SMALL_NUMBERS[token]


def _from_match(kind: str, match: re.Match[str], original: str) -> str:
    year = int(match.group("year"))
    if kind == "quarter":
        return f"{year}Q{_small_number(match.group('q'))}"
    if kind == "year":
        return f"{year}"
    if kind == "month":
        month = _small_number(match.group("m"))
        if not 1 <= month <= 12:
            raise PeriodError(f"统计期月份无效 / invalid month in period {original!r}")
        return f"{year}-{month:02d}"
    first, last = _small_number(match.group("m1")), _small_number(match.group("m2"))
    if not (1 <= first <= last <= 12):
        raise PeriodError(f"统计期月份范围无效 / invalid month range in period {original!r}")
    if (first, last) == (1, 12):
        return f"{year}"
    if last - first == 2 and first % 3 == 1:
        return f"{year}Q{last // 3}"
    if first == 1 and last in (3, 6, 9):
        # 1-6月 / 1-9月 name a quarterly return by its cumulative span: the
        # convention of Chinese quarterly statistics, where 本期数 is the last quarter.
        return f"{year}Q{last // 3}"
    if first == last:
        return f"{year}-{first:02d}"
    raise PeriodError(
        f"统计期 {original!r} 不是季度、年度或月份 / period {original!r} is not a quarter, "
        "a year or a month: write e.g. 2024年第四季度, 2024年度 or 2024年10月"
    )


def _expected() -> str:
    return "expected e.g. 2024年第四季度, 2024年10-12月, 2024年度, 2024年10月, 2024Q4 or 2024-10"


def normalize_period(text: str | date | datetime) -> str:
    """Canonical period (``2024Q4`` | ``2024`` | ``2024-10``) for a typed period.

    The whole text must be a period (surrounding words such as 统计期 or 报表 are
    not accepted here; use :func:`find_period` for free text such as a title).
    A date (Excel turns a typed ``2024-10`` into 2024-10-01) is read as its month.
    """
    if isinstance(text, datetime | date):
        return f"{text.year}-{text.month:02d}"
    if not isinstance(text, str):
        raise PeriodError(f"统计期无法识别 / unrecognised period {text!r}: {_expected()}")
    cleaned = _clean(text)
    cleaned = re.sub(r"^(?:统计期|报告期|时间)\s*[:：]?\s*", "", cleaned)
    cleaned = re.sub(r"\s*(?:[(（][^)）]*[)）])$", "", cleaned)  # 2024年第四季度（10-12月）
    if _CANONICAL.match(cleaned):
        return cleaned
    for kind, pattern in _PATTERNS:
        match = pattern.fullmatch(cleaned)
        if match:
            return _from_match(kind, match, text)
    raise PeriodError(f"统计期无法识别 / unrecognised period {text!r}: {_expected()}")


def find_period(text: str) -> str | None:
    """The first period spelled anywhere in free text (a title row), or None."""
    cleaned = _clean(text)
    best: tuple[int, str, re.Match[str]] | None = None
    for kind, pattern in _PATTERNS[:-1]:  # a bare year inside a title is too weak
        match = pattern.search(cleaned)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), kind, match)
    if best is None:
        return None
    try:
        return _from_match(best[1], best[2], text)
    except PeriodError:
        return None


def _parts(period: str) -> tuple[int, int | None, int | None]:
    match = _CANONICAL.match(period)
    if not match:
        raise PeriodError(f"not a canonical period: {period!r} ({_expected()})")
    quarter = match.group("quarter")
    month = match.group("month")
    return (
        int(match.group("year")),
        int(quarter) if quarter else None,
        int(month) if month else None,
    )


def period_kind(period: str) -> str:
    """``"quarter"``, ``"year"`` or ``"month"``."""
    _, quarter, month = _parts(period)
    if quarter:
        return QUARTER
    if month:
        return MONTH
    return YEAR


def period_start(period: str) -> date:
    year, quarter, month = _parts(period)
    if quarter:
        return date(year, 3 * quarter - 2, 1)
    if month:
        return date(year, month, 1)
    return date(year, 1, 1)


def period_end(period: str) -> date:
    year, quarter, month = _parts(period)
    last_month = 3 * quarter if quarter else month if month else 12
    return date(year, last_month, calendar.monthrange(year, last_month)[1])


def previous_period(period: str) -> str:
    """The period just before, of the same kind (``2025Q1`` → ``2024Q4``)."""
    year, quarter, month = _parts(period)
    if quarter:
        return f"{year - 1}Q4" if quarter == 1 else f"{year}Q{quarter - 1}"
    if month:
        return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"
    return f"{year - 1}"


def same_period_last_year(period: str) -> str:
    year, quarter, month = _parts(period)
    if quarter:
        return f"{year - 1}Q{quarter}"
    if month:
        return f"{year - 1}-{month:02d}"
    return f"{year - 1}"


def due_date(period: str, days: int = DEFAULT_DUE_DAYS) -> date:
    """Default deadline: ``days`` after the period ends (a notice may set another)."""
    return period_end(period) + timedelta(days=days)


def period_year(period: str) -> int:
    return _parts(period)[0]


def quarters_of_year(year: int | str) -> list[str]:
    year = int(year)
    return [f"{year}Q{q}" for q in range(1, 5)]


def months_of_period(period: str) -> list[str]:
    """The months a period covers, in order."""
    start, end = period_start(period), period_end(period)
    return [f"{start.year}-{m:02d}" for m in range(start.month, end.month + 1)]


def quarter_of_month(period: str) -> str:
    year, _, month = _parts(period)
    if month is None:
        raise PeriodError(f"not a month: {period!r}")
    return f"{year}Q{(month - 1) // 3 + 1}"
