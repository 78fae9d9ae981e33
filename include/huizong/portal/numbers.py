"""Numbers as Chinese pages write them: ``3.19万``, ``三十余``, ``百分之九十八``, ``九成``, ``2/3``.

cn2an does the arithmetic of Chinese numerals, but only on a span that holds a
bare number: it raises on qualifiers (``三千余``, ``4800多``), separators
(``12,345``) and percent words, and its sentence mode rewrites names such as
三八红旗手. So the caller cuts the span, this module strips what cn2an cannot
read, and 百分之/成/fractions are computed here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import cn2an

CN_DIGIT_CHARS = "零〇一二两三四五六七八九"
CN_UNIT_CHARS = "十百千万亿"
CN_NUMERAL_CHARS = CN_DIGIT_CHARS + CN_UNIT_CHARS + "壹贰叁肆伍陆柒捌玖拾佰仟"

MULTIPLIERS: dict[str, int] = {
    "十": 10,
    "百": 100,
    "千": 1000,
    "万": 10_000,
    "十万": 100_000,
    "百万": 1_000_000,
    "千万": 10_000_000,
    "亿": 100_000_000,
    "万亿": 1_000_000_000_000,
}

_SEPARATORS = re.compile(r"[,\s\u00a0\u2009\u202f']")
_ARABIC = re.compile(r"^\d+(?:\.\d+)?$")
_ARABIC_WITH_MULTIPLIER = re.compile(r"^(\d+(?:\.\d+)?)(十|百|千|万|亿)*$")
_SINGLE_MULTIPLIERS = frozenset("十百千万亿")
_CN_ONLY = re.compile(f"^[{CN_NUMERAL_CHARS}]+$")
_QUALIFIER_CHARS = re.compile(r"[余多来]")
_FRACTION = re.compile(r"^(\d+)\s*/\s*(\d+)$")
_CN_FRACTION = re.compile(f"^([{CN_NUMERAL_CHARS}]+)分之([{CN_NUMERAL_CHARS}\\d.]+)$")
_PERCENT_WORD = re.compile(f"^百分之([{CN_NUMERAL_CHARS}\\d.点]+)$")
_TENTHS = re.compile(f"^([{CN_DIGIT_CHARS}\\d]|十)(?:成)$")
_DECIMALS = re.compile(r"\.(\d+)")
_DIGIT_SINGLE = {c: i for i, c in enumerate("零一二三四五六七八九")}
_DIGIT_SINGLE.update({"〇": 0, "两": 2})


# No count, amount or share a page reports has more integer digits than this
# (10^15 元 is a thousand times a national budget); longer runs are IDs, phone
# lists or junk, and as floats they overflow to infinity.
MAX_INTEGER_DIGITS = 15
# A Chinese numeral longer than this (九千九百九十九亿…) is no figure either.
MAX_CHINESE_NUMERAL = 16


def bounded_float(number: str) -> float | None:
    """``float(number)`` for a plain decimal string, None when it is too long to be a figure."""
    whole = number.partition(".")[0].lstrip("-+").lstrip("0")
    if len(whole) > MAX_INTEGER_DIGITS or len(number) > 2 * MAX_INTEGER_DIGITS + 2:
        return None
    value = float(number)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class ParsedNumber:
    value: float
    is_percent: bool = False


def to_number(value: float) -> float | int:
    """An int when the value is whole, so JSON shows ``31900`` not ``31900.0``."""
    if isinstance(value, float) and value.is_integer():
        # Most values: rounding a whole float changes nothing.
        return int(value)
    rounded = round(value, 6)
    if rounded == int(rounded):
        return int(rounded)
    return rounded


def _cn2an_value(span: str) -> float | None:
    try:
        return float(cn2an.cn2an(span, "smart"))
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def _digit_string(span: str) -> float | None:
    """``二〇二〇`` / ``一三`` read digit by digit (cn2an handles this too, slower)."""
    if all(ch in _DIGIT_SINGLE for ch in span) and len(span) > 1:
        return float("".join(str(_DIGIT_SINGLE[ch]) for ch in span))
    return None


@lru_cache(maxsize=4096)
def parse_chinese(span: str) -> float | None:
    """Value of a bare Chinese numeral such as ``三十``, ``两千五百``, ``十三``."""
    if not span or len(span) > MAX_CHINESE_NUMERAL or not _CN_ONLY.match(span):
        return None
    if len(span) == 1:
        if span in _DIGIT_SINGLE:
            return float(_DIGIT_SINGLE[span])
        if span in MULTIPLIERS:
            # 百余人, 千余份: the multiplier alone stands for one of it.
            return float(MULTIPLIERS[span])
    digits = _digit_string(span)
    if digits is not None:
        return digits
    # 两 is read by cn2an only in some positions; as a digit it is always 2.
    return _cn2an_value(span.replace("两", "二"))


def parse_amount(span: str) -> float | None:
    """Value of a number span in base units, qualifiers and separators removed.

    ``3.19万`` → 31900, ``230余万`` → 2300000, ``4800多`` → 4800, ``1,234`` → 1234,
    ``三十余`` → 30, ``千余`` → 1000, ``1.2亿`` → 120000000. Percent forms are
    handled by :func:`parse_percent`.
    """
    if span.isdecimal():
        # Plain digits, the common case: nothing to strip, float() reads them.
        return bounded_float(span) if len(span) > MAX_INTEGER_DIGITS else float(span)
    if len(span) > 2 * MAX_INTEGER_DIGITS + 8:
        return None
    # Then 3.19 and 3.19万 (one multiplier), read as the patterns below read them.
    number, factor = span, 1
    if span[-1:] in _SINGLE_MULTIPLIERS:
        number, factor = span[:-1], MULTIPLIERS[span[-1]]
    whole, point, fraction = number.partition(".")
    if whole.isdecimal() and (not point or fraction.isdecimal()):
        if len(whole) <= MAX_INTEGER_DIGITS and len(fraction) <= MAX_INTEGER_DIGITS:
            return float(number) * factor
        value = bounded_float(number)
        return None if value is None else value * factor
    text = _SEPARATORS.sub("", span)
    text = _QUALIFIER_CHARS.sub("", text)
    if not text:
        return None
    if _ARABIC.match(text):
        return bounded_float(text)
    match = _ARABIC_WITH_MULTIPLIER.match(text)
    if match:
        base = bounded_float(match.group(1))
        if base is None:
            return None
        factor = 1
        for ch in text[match.end(1) :]:
            factor *= MULTIPLIERS[ch]
        return base * factor
    if _CN_ONLY.match(text):
        # A trailing 万/亿 after a complete Chinese numeral multiplies it
        # (三十万), which cn2an reads correctly; keep the explicit path for
        # 千余 where the qualifier sat between.
        return parse_chinese(text)
    return None


def parse_percent(span: str) -> float | None:
    """Percent value of ``98.13%``, ``百分之九十八``, ``九成``, ``2/3``, ``三分之二``."""
    if len(span) > 2 * MAX_INTEGER_DIGITS + 8:
        return None
    text = _SEPARATORS.sub("", span).rstrip("%").rstrip("％")
    if _ARABIC.match(text):
        return bounded_float(text)
    match = _PERCENT_WORD.match(text)
    if match:
        inner = match.group(1).replace("点", ".")
        if _ARABIC.match(inner):
            return bounded_float(inner)
        if "." in inner:
            whole, _, frac = inner.partition(".")
            whole_value = parse_chinese(whole) if whole else 0.0
            frac_digits = "".join(str(_DIGIT_SINGLE.get(ch, "")) for ch in frac)
            if whole_value is None or not frac_digits:
                return None
            return whole_value + float("0." + frac_digits)
        return parse_chinese(inner)
    match = _TENTHS.match(text)
    if match:
        digit = match.group(1)
        tenths = 10.0 if digit == "十" else float(_DIGIT_SINGLE.get(digit, digit))
        return tenths * 10
    match = _FRACTION.match(text)
    if match:
        numerator, denominator = int(match.group(1)), int(match.group(2))
        if denominator == 0 or numerator > denominator:
            return None
        return round(numerator / denominator * 100, 2)
    match = _CN_FRACTION.match(text)
    if match:
        denominator_value = parse_chinese(match.group(1))
        numerator_value = parse_amount(match.group(2))
        if not denominator_value or numerator_value is None:
            return None
        return round(numerator_value / denominator_value * 100, 2)
    return None


def decimals_of(span: str) -> int:
    """Number of decimals written in ``span`` (``98.13%`` → 2), for tolerance checks."""
    if "." not in span:
        return 0
    match = _DECIMALS.search(span)
    return len(match.group(1)) if match else 0


# Measure words as written → the canonical unit reported. People are 人 whatever
# the measure word (名, 位); 场 and 场次 are one unit; money is always 元 (万元
# and 亿元 are scaled). Everything else keeps its own measure word, because
# 件/起/篇/条 count different things and indicator units keep them apart.
CANONICAL_UNIT: dict[str, str] = {
    "人次": "人次",
    "人": "人",
    "名": "人",
    "位": "人",
    "户次": "户次",
    "户": "户",
    "个": "个",
    "家": "家",
    "所": "所",
    "场次": "场次",
    "场": "场次",
    "次": "次",
    "期": "期",
    "件次": "件次",
    "件": "件",
    "起": "起",
    "例": "例",
    "篇": "篇",
    "条": "条",
    "份": "份",
    "项": "项",
    "支": "支",
    "处": "处",
    "座": "座",
    "间": "间",
    "批": "批",
    "册": "册",
    "本": "本",
    "套": "套",
    "张": "张",
    "瓶": "瓶",
    "箱": "箱",
    "袋": "袋",
    "吨": "吨",
    "斤": "斤",
    "公斤": "公斤",
    "千克": "公斤",
    "亩": "亩",
    "平方米": "平方米",
    "公里": "公里",
    "元": "元",
    "课时": "课时",
    "小时": "小时",
    "对": "对",
    "轮": "轮",
    "节": "节",
    "堂": "堂",
    "分": "分",
    # Rates besides %: one unit each, never 个 (提高1.2个百分点).
    "个百分点": "个百分点",
    "百分点": "个百分点",
    "倍": "倍",
    "‰": "‰",
    "岁": "岁",
    "株": "株",
    "棵": "棵",
    "头": "头",
    "辆": "辆",
    "台": "台",
    "首": "首",
    "幅": "幅",
    "枚": "枚",
    "栋": "栋",
    "公顷": "公顷",
    "千米": "公里",
    "平方公里": "平方公里",
    "美元": "美元",
}
UNIT_WORDS: tuple[str, ...] = tuple(sorted(CANONICAL_UNIT, key=len, reverse=True))
PERCENT_UNIT = "%"
