"""Normalize scraped portal text while keeping a map back to the raw offsets.

Every step rewrites the text through :class:`_Builder`, which carries for each
output character the raw span it came from. That is what lets a statistic quote
a span of clean text and still point at the bytes it was read from.

Steps, in order (each one assumes the ones before it):

1. zero-width characters out, line separators to ``\\n``;
2. symbols that NFKC would glue onto digits (``①3个`` → ``13个``) rewritten
   first, then NFKC (full-width digits and punctuation, composed tone marks);
3. pinyin inserted after Han characters removed (``婦聯(lián)``), bracketed
   words that are not pinyin kept (``(社区)``, ``(OA)``, ``(2020)``);
4. Traditional → Simplified (OpenCC ``t2s``);
5. OCR confusions of federation vocabulary repaired from ``data/ocr_lexicon.csv``;
6. spacing inside numbers collapsed (``400 余场次``, ``1.4 万名``) and
   letter-spaced letterheads joined (``融 安 县`` → ``融安县``);
7. site chrome and footers dropped, a second printed copy of the article
   dropped, a trailing list of unrelated headlines dropped.
"""

from __future__ import annotations

import csv
import difflib
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from itertools import accumulate, repeat
from operator import add
from typing import overload

from opencc import OpenCC

from huizong.portal.numbers import UNIT_WORDS

_HAN = "\u4e00-\u9fff\u3400-\u4dbf"

_ZERO_WIDTH_CHARS = (
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad"
)

_CIRCLED: dict[str, str] = {}
for _start in (0x2460, 0x2474, 0x2776, 0x2780, 0x278A):
    for _i in range(10 if _start >= 0x2776 else 20):
        _CIRCLED[chr(_start + _i)] = f"({_i + 1})"
_CIRCLED.update({chr(0x24EB + i): f"({11 + i})" for i in range(10)})
_PRE_NFKC_SYMBOLS: dict[str, str] = {
    **_CIRCLED,
    "㎡": "平方米",
    "m²": "平方米",
    "㎥": "立方米",
    "m³": "立方米",
    "㎞": "公里",
    "㎏": "千克",
    "½": "1/2",
    "⅓": "1/3",
    "⅔": "2/3",
    "¼": "1/4",
    "¾": "3/4",
}
# A cluster NFKC may change: a non-ASCII, non-Han character with its combining
# marks, or an ASCII letter carrying decomposed tone marks.
_NFKC_CLUSTER = re.compile(
    f"[^\\x00-\\x7f{_HAN}][\\u0300-\\u036f]*|[\\x00-\\x7f][\\u0300-\\u036f]+"
)

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_PINYIN_LETTERS = f"a-zü{_TONED}"
_TONED_SYLLABLE = f"[{_PINYIN_LETTERS}]*[{_TONED}][{_PINYIN_LETTERS}]*"
_TONED_CHAR = re.compile(f"[{_TONED}]")
# The ruby patterns open with the bracket (or the space before it) and look back
# for the Han character: the scan for a pattern's first character runs in C, a
# pattern that opens with a lookaround is tried at every position.
_RUBY_TONED = re.compile(
    f"[ (](?:(?<=[{_HAN}] )\\(|(?<=[{_HAN}]\\())({_TONED_SYLLABLE}(?:[ '’]{_TONED_SYLLABLE})*)\\)"
)
# Neutral-tone syllables carry no mark; only removed on pages that clearly
# carry ruby pinyin, and only when the bracket holds a valid syllable.
_TONELESS_SYLLABLE = (
    "(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    "(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|ai|ei|ao|ou|an|en|er|in|un|"
    "ia|ie|iu|ua|uo|ui|üe|ve|a|o|e|i|u|ü|v)"
)
_RUBY_TONELESS = re.compile(f"\\((?<=[{_HAN}]\\()({_TONELESS_SYLLABLE})\\)")
_RUBY_PAGE_THRESHOLD = 3

_UNIT_ALTERNATION = "|".join(sorted(UNIT_WORDS, key=len, reverse=True))
# Starts with the (rare) space and looks back for the number, so the scan skips
# ahead in C.
_NUMBER_SPACING = re.compile(
    rf"([ \u00a0](?<=[\d余多万亿][ \u00a0])[ \u00a0]*)"
    rf"(?=[余多万亿千百%年月日号]|(?:{_UNIT_ALTERNATION}))"
)
_LETTER_SPACED_LINE = re.compile(f"^[ \\t]*(?:[{_HAN}][ \\t]+){{2,}}[{_HAN}][ \\t]*$", re.M)
_INNER_SPACES = re.compile(r"[ \t]+")

_CHROME_LINE = re.compile(
    r"^\s*(?:"
    r"欢迎访问|欢迎光临|当前所在位置|当前位置|您当前的位置|您的位置|您现在的位置|所在位置|"
    r"今日是|今天是|(?:网站)?首页\s*[>»›/]|"
    r"微信扫一扫|扫一扫|用微信扫|手机扫一扫|分享到|分享至|"
    r"【?打印(?:本页|此页|文章)】?|【?打印】?\s*$|【?关闭(?:窗口|本页)?】?\s*$|关闭窗口|"
    r"返回顶部|收藏本页|"
    r"字号[:：]|字体[:：]|【字体|【大\s*中\s*小】|"
    r"上一篇|下一篇|版权声明|版权所有|Copyright|©|主办单位[:：]|承办单位[:：]|技术支持[:：]|"
    r"网站标识码|网站地图|联系我们\s*$|联系客服|微信订阅号|微信公众号\s*$|"
    r"浏览次数|阅读次数|点击数[:：]|访问量[:：]|.*ICP备|.*公网安备|作者原创,?不允许|"
    r"责任编辑[:：]|编辑[:：]\S{0,6}$|审核[:：]\S{0,6}$|"
    r"[×✕xX]\s*$"
    r")"
)
# Markers after which a page carries only footer and other articles.
_FOOTER_START = re.compile(
    r"^\s*(?:微信扫一扫|扫一扫在手机|版权声明|版权所有|联系客服|"
    r"相关(?:文章|阅读|新闻|链接|推荐|报道)|推荐阅读|延伸阅读|热点推荐|热门文章|猜你喜欢|"
    r"更多(?:新闻|文章)|上一篇|下一篇)"
)
_SENTENCE_END = re.compile(r"[。!?;:)”」』》\]…]\s*$|\.\s*$")
_DATE_LIKE = re.compile(r"\d{4}\s*[年.\-/]|\d{1,2}月\d{1,2}日|\d{4}\s*$")
_ORG_SIGNATURE = re.compile(
    r"(?:妇联|妇女联合会|联合会|委员会|办公室|人民政府|工会|团委|党委|党组)\s*$"
)
# A row of a table ends in its figures (大安街道 48.29 51.71, 最低生活保障人数万人7.1).
_ENDS_IN_FIGURES = re.compile(r"\d[%‰]?\s*$")
_BRACKETED_LINE = re.compile(r"^\s*[(（【\[].*[)）】\]]\s*$")
_MIN_DUP_LINE = 8
_MIN_DUP_RUN = 3


class _OffsetMap:
    """The raw span of every character of a text, kept as runs, not per character.

    Run ``k`` covers the text from ``out[k]`` to the next run's ``out``; the
    character at ``out[k] + d`` came from raw ``start[k] + step[k] * d`` to
    ``end[k] + step[k] * d``. Text copied through is one step-1 run; the
    characters of a replacement all carry the replaced span (step 0). A page
    holds a few dozen runs where per-character lists hold its length twice,
    rebuilt by every step that changes the text.
    """

    __slots__ = ("end", "length", "out", "start", "step")

    def __init__(self) -> None:
        self.out: list[int] = []
        self.start: list[int] = []
        self.end: list[int] = []
        self.step: list[int] = []
        self.length = 0

    @classmethod
    def identity(cls, length: int) -> _OffsetMap:
        offsets = cls()
        offsets.append(0, 0, 1, 1, length)
        return offsets

    def append(self, out: int, start: int, end: int, step: int, length: int) -> None:
        """Add ``length`` characters at ``out`` (the current end), merging a continued run."""
        if length <= 0:
            return
        if step and self.step and self.step[-1]:
            shift = out - self.out[-1]
            if self.start[-1] + shift == start and self.end[-1] + shift == end:
                self.length = out + length
                return
        self.out.append(out)
        self.start.append(start)
        self.end.append(end)
        self.step.append(step)
        self.length = out + length

    def start_at(self, index: int) -> int:
        run = bisect_right(self.out, index) - 1
        return self.start[run] + self.step[run] * (index - self.out[run])

    def end_at(self, index: int) -> int:
        run = bisect_right(self.out, index) - 1
        return self.end[run] + self.step[run] * (index - self.out[run])

    def copy_to(self, target: _OffsetMap, first: int, last: int, out: int) -> None:
        """Append the offsets of characters ``first..last-1`` to ``target`` at ``out``."""
        run = bisect_right(self.out, first) - 1
        runs = len(self.out)
        while first < last:
            run_end = self.out[run + 1] if run + 1 < runs else self.length
            taken = min(run_end, last) - first
            shift = self.step[run] * (first - self.out[run])
            target.append(
                out, self.start[run] + shift, self.end[run] + shift, self.step[run], taken
            )
            first += taken
            out += taken
            run += 1


class _OffsetColumn(Sequence[int]):
    """Per-character raw starts (or ends) read off an :class:`_OffsetMap` on demand."""

    __slots__ = ("_ends", "offsets")

    def __init__(self, offsets: _OffsetMap, *, ends: bool) -> None:
        self.offsets = offsets
        self._ends = ends

    def __len__(self) -> int:
        return self.offsets.length

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> list[int]: ...

    def __getitem__(self, index: int | slice) -> int | list[int]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        offsets = self.offsets
        if index < 0:
            index += offsets.length
        if not 0 <= index < offsets.length:
            raise IndexError("offset index out of range")
        run = bisect_right(offsets.out, index) - 1
        shift = offsets.step[run] * (index - offsets.out[run])
        return (offsets.end if self._ends else offsets.start)[run] + shift

    def __iter__(self) -> Iterator[int]:
        offsets = self.offsets
        if not offsets.out:
            return
        values = offsets.end if self._ends else offsets.start
        bounds = [*offsets.out[1:], offsets.length]
        for value, step, first, last in zip(values, offsets.step, offsets.out, bounds, strict=True):
            yield from range(value, value + last - first) if step else repeat(value, last - first)

    def __eq__(self, other: object) -> bool:
        # Compares like the lists it stands for.
        if isinstance(other, _OffsetColumn | list):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(list(self))


@dataclass(frozen=True)
class NormalizedText:
    """Clean text plus, for every character, the raw span it came from."""

    text: str
    raw: str
    starts: Sequence[int] = field(repr=False)
    ends: Sequence[int] = field(repr=False)
    repairs: tuple[str, ...] = ()

    def to_raw(self, start: int, end: int) -> tuple[int, int]:
        """Raw ``(start, end)`` of the normalized span ``text[start:end]``."""
        if not 0 <= start <= end <= len(self.text):
            raise IndexError(f"span {start}:{end} outside 0:{len(self.text)}")
        if start == end:
            point = self.starts[start] if start < len(self.text) else len(self.raw)
            return point, point
        starts, ends = self.starts, self.ends
        if isinstance(starts, _OffsetColumn) and isinstance(ends, _OffsetColumn):
            # Straight off the run map: a statistic asks for every quote.
            return starts.offsets.start_at(start), ends.offsets.end_at(end - 1)
        return starts[start], ends[end - 1]

    def raw_slice(self, start: int, end: int) -> str:
        raw_start, raw_end = self.to_raw(start, end)
        return self.raw[raw_start:raw_end]


class _Mapped:
    __slots__ = ("offsets", "raw_len", "text")

    def __init__(self, text: str, offsets: _OffsetMap, raw_len: int) -> None:
        self.text = text
        self.offsets = offsets
        self.raw_len = raw_len


class _Builder:
    """Assembles the next text from kept slices and replacements of ``source``."""

    __slots__ = ("offsets", "out", "pieces", "pos", "source")

    def __init__(self, source: _Mapped) -> None:
        self.source = source
        self.pieces: list[str] = []
        self.offsets = _OffsetMap()
        self.out = 0
        self.pos = 0

    def keep_to(self, end: int) -> None:
        if end > self.pos:
            src = self.source
            self.pieces.append(src.text[self.pos : end])
            src.offsets.copy_to(self.offsets, self.pos, end, self.out)
            self.out += end - self.pos
            self.pos = end

    def replace(self, start: int, end: int, new: str) -> None:
        self.keep_to(start)
        src = self.source
        if new:
            if end - start == len(new):
                src.offsets.copy_to(self.offsets, start, end, self.out)
            elif end > start:
                self.offsets.append(
                    self.out,
                    src.offsets.start_at(start),
                    src.offsets.end_at(end - 1),
                    0,
                    len(new),
                )
            else:
                point = src.offsets.start_at(start) if start < len(src.text) else src.raw_len
                self.offsets.append(self.out, point, point, 0, len(new))
            self.pieces.append(new)
            self.out += len(new)
        self.pos = end

    def finish(self) -> _Mapped:
        self.keep_to(len(self.source.text))
        return _Mapped("".join(self.pieces), self.offsets, self.source.raw_len)


def _rewrite(
    mapped: _Mapped,
    pattern: re.Pattern[str],
    repl: Callable[[re.Match[str]], str | None],
    group: int = 0,
) -> tuple[_Mapped, int]:
    builder: _Builder | None = None
    count = 0
    for match in pattern.finditer(mapped.text):
        new = repl(match)
        if new is None or new == match.group(group):
            continue
        if builder is None:
            builder = _Builder(mapped)
        builder.replace(match.start(group), match.end(group), new)
        count += 1
    return (builder.finish() if builder else mapped), count


def _delete_ranges(mapped: _Mapped, ranges: list[tuple[int, int]]) -> _Mapped:
    if not ranges:
        return mapped
    builder = _Builder(mapped)
    for start, end in sorted(ranges):
        if start < builder.pos:
            start = builder.pos
        if end > start:
            builder.replace(start, end, "")
    return builder.finish()


@cache
def _t2s() -> OpenCC:
    return OpenCC("t2s")


@dataclass(frozen=True)
class _OcrRule:
    wrong: str
    right: str
    before: re.Pattern[str] | None
    after: re.Pattern[str] | None


@cache
def _ocr_rules() -> tuple[re.Pattern[str], dict[str, list[_OcrRule]]]:
    rules: dict[str, list[_OcrRule]] = {}
    path = resources.files("huizong.data").joinpath("ocr_lexicon.csv")
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            rule = _OcrRule(
                wrong=row["wrong"],
                right=row["right"],
                before=re.compile(row["before"] + "$") if row["before"] else None,
                after=re.compile("^" + row["after"]) if row["after"] else None,
            )
            rules.setdefault(rule.wrong, []).append(rule)
    pattern = re.compile("|".join(re.escape(w) for w in sorted(rules, key=len, reverse=True)))
    return pattern, rules


def _line_spans(text: str) -> list[tuple[int, int]]:
    # Called by several steps on every page: offsets by C-level accumulation
    # rather than a Python loop over the lines.
    lengths = list(map(len, text.split("\n")))
    starts = list(accumulate(map(add, lengths, repeat(1)), initial=0))
    starts.pop()
    return list(zip(starts, map(add, starts, lengths), strict=True))


def _whole_lines(
    spans: list[tuple[int, int]], first: int, last: int, text_len: int
) -> tuple[int, int]:
    """Character range covering lines ``first..last`` and the newline after them."""
    start = spans[first][0]
    end = spans[last][1]
    return start, min(end + 1, text_len)


def _drop_chrome(mapped: _Mapped) -> tuple[_Mapped, int]:
    text = mapped.text
    text_len = len(text)
    half = text_len // 2
    ranges = []
    start = 0
    for line in text.split("\n"):
        if start >= half and _FOOTER_START.match(line):
            ranges.append((start, text_len))
            break
        if _CHROME_LINE.match(line):
            # The line and the newline after it.
            ranges.append((start, min(start + len(line) + 1, text_len)))
        start += len(line) + 1
    return _delete_ranges(mapped, ranges), len(ranges)


def _drop_second_copy(mapped: _Mapped) -> tuple[_Mapped, bool]:
    """Drop a second printing of the article (print view appended to the page)."""
    text = mapped.text
    # A line's key is the line without whitespace and table pipes; str.split
    # drops whitespace much faster than a regex substitution.
    unpiped = text.replace("|", "").replace("｜", "") if "|" in text or "｜" in text else text
    keys = ["".join(line.split()) for line in unpiped.split("\n")]
    keyed = [(index, key) for index, key in enumerate(keys) if len(key) >= _MIN_DUP_LINE]
    first_seen: dict[str, int] = {}
    for position, (_line_index, key) in enumerate(keyed):
        earlier = first_seen.get(key)
        if earlier is None:
            first_seen[key] = position
            continue
        run = 0
        while (
            position + run < len(keyed)
            and earlier + run < position
            and keyed[earlier + run][1] == keyed[position + run][1]
        ):
            run += 1
        reaches_end = position + run == len(keyed)
        if run >= _MIN_DUP_RUN and (reaches_end or run >= 0.5 * (len(keyed) - position)):
            spans = _line_spans(text)
            first_line = keyed[position][0]
            last_line = keyed[position + run - 1][0]
            # Short chrome just before the copy (``部门文件``, ``×``) belongs to it.
            while first_line > 0:
                previous = text[spans[first_line - 1][0] : spans[first_line - 1][1]].strip()
                if len(previous) <= 6 and not re.search(r"\d", previous):
                    first_line -= 1
                else:
                    break
            if reaches_end:
                last_line = len(spans) - 1
            start, end = _whole_lines(spans, first_line, last_line, len(text))
            return _delete_ranges(mapped, [(start, end)]), True
    return mapped, False


def _is_headline_like(line: str) -> bool:
    stripped = line.strip()
    if len(stripped) < 12 or _SENTENCE_END.search(stripped):
        return False
    if _BRACKETED_LINE.match(stripped) or "\t" in stripped:
        return False
    # A table row (| 城关镇 | 16001 | 2.77 |, 大安街道 48.29 51.71) closes many statistical pages.
    if stripped.count("|") + stripped.count("｜") >= 2 or _ENDS_IN_FIGURES.search(stripped):
        return False
    if _DATE_LIKE.search(stripped):
        return False
    if len(stripped) < 20 and _ORG_SIGNATURE.search(stripped):
        return False
    return not re.fullmatch(r"[\d.,%\s]+", stripped)


def _drop_trailing_headlines(mapped: _Mapped) -> tuple[_Mapped, int]:
    """Drop a block of other articles' headlines and teasers closing the page."""
    text = mapped.text
    spans = _line_spans(text)
    block: list[int] = []
    for index in range(len(spans) - 1, -1, -1):
        start, end = spans[index]
        line = text[start:end]
        if not line.strip():
            continue
        if not _is_headline_like(line):
            break
        block.append(index)
    if len(block) < 2:
        return mapped, 0
    # Counted only when needed (most pages end in no such block): a page of
    # nothing but headlines keeps them.
    if len(block) >= sum(1 for start, end in spans if text[start:end].strip()):
        return mapped, 0
    first = min(block)
    start = spans[first][0]
    return _delete_ranges(mapped, [(start, len(text))]), len(block)


def _join_letter_spaced(mapped: _Mapped) -> _Mapped:
    text = mapped.text
    ranges = []
    # Only lines with a space can be letter-spaced: go from space to space.
    space = text.find(" ")
    while space >= 0:
        start = text.rfind("\n", 0, space) + 1
        end = text.find("\n", space)
        if end < 0:
            end = len(text)
        if end - start <= 60 and _LETTER_SPACED_LINE.match(text, start, end):
            line = text[start:end]
            ranges.extend(
                (start + m.start(), start + m.end())
                for m in re.finditer(f"(?<=[{_HAN}])[ \t]+(?=[{_HAN}])", line)
            )
        space = text.find(" ", end)
    return _delete_ranges(mapped, ranges)


def _ocr_repair(mapped: _Mapped) -> tuple[_Mapped, list[str]]:
    pattern, rules = _ocr_rules()
    # No search first: _rewrite scans once and returns the text as it was
    # when nothing matches.
    applied: list[str] = []
    text = mapped.text

    def repl(match: re.Match[str]) -> str | None:
        for rule in rules[match.group(0)]:
            if rule.before and not rule.before.search(
                text[max(0, match.start() - 8) : match.start()]
            ):
                continue
            if rule.after and not rule.after.search(text[match.end() : match.end() + 8]):
                continue
            applied.append(f"ocr:{rule.wrong}->{rule.right}")
            return rule.right
        return None

    result, _ = _rewrite(mapped, pattern, repl)
    return result, applied


def _convert_t2s(mapped: _Mapped) -> tuple[_Mapped, bool]:
    converter = _t2s()
    converted = converter.convert(mapped.text)
    if converted == mapped.text:
        return mapped, False
    if len(converted) == len(mapped.text):
        return _Mapped(converted, mapped.offsets, mapped.raw_len), True
    # OpenCC phrase rules changed a length somewhere: align line by line.
    builder = _Builder(mapped)
    for start, end in _line_spans(mapped.text):
        line = mapped.text[start:end]
        new_line = converter.convert(line)
        if new_line == line:
            continue
        if len(new_line) == len(line):
            builder.replace(start, end, new_line)
            continue
        matcher = difflib.SequenceMatcher(None, line, new_line, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                builder.replace(start + i1, start + i2, new_line[j1:j2])
    return builder.finish(), True


@cache
def _char_tables() -> tuple[dict[int, str], re.Pattern[str], dict[str, str], re.Pattern[str]]:
    """NFKC split by effect: one-to-one (``str.translate``, offsets unchanged) and
    the characters that vanish or expand, rewritten with offsets tracked."""
    one_to_one: dict[int, str] = {}
    special: dict[str, str] = {}
    for code_point in range(0x80, 0x10000):
        if 0x4E00 <= code_point <= 0x9FFF or 0xD800 <= code_point <= 0xDFFF:
            continue
        char = chr(code_point)
        if char in _PRE_NFKC_SYMBOLS:
            continue
        normalized = unicodedata.normalize("NFKC", char)
        if normalized == char:
            continue
        if len(normalized) == 1 and not unicodedata.combining(char):
            one_to_one[code_point] = normalized
        else:
            special[char] = normalized
    for char in _ZERO_WIDTH_CHARS:
        special[char] = ""
    for char in "\r\u2028\u2029\x0b\x0c\x85":
        special[char] = "\n"
    special.update(_PRE_NFKC_SYMBOLS)
    special["\r\n"] = "\n"
    keys = sorted(special, key=len, reverse=True)
    # Longer keys first, as an alternation would try them, but the pattern
    # opens with one character class (first characters of all keys), which
    # the scan looks for in C.
    firsts = "".join(re.escape(c) for c in sorted({k[0] for k in keys}))
    longer = [f"(?<={re.escape(k[0])}){re.escape(k[1:])}" for k in keys if len(k) > 1]
    singles = "".join(re.escape(k) for k in keys if len(k) == 1)
    pattern = re.compile(f"[{firsts}](?:" + "|".join([*longer, f"(?<=[{singles}])"]) + ")")
    one_to_one_run = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(one_to_one)) + "]+")
    return one_to_one, one_to_one_run, special, pattern


# A class search runs in C; frozenset.isdisjoint(text) hashes every character.
_COMBINING = re.compile("[\u0300-\u036f\u3099\u309a]")


def _nfkc(mapped: _Mapped) -> _Mapped:
    one_to_one, one_to_one_run, special, pattern = _char_tables()
    result, _ = _rewrite(mapped, pattern, lambda m: special[m.group(0)])
    # Same-length replacements keep every offset: rebuild the text only.
    pieces = []
    position = 0
    text = result.text
    for match in one_to_one_run.finditer(text):
        pieces.append(text[position : match.start()])
        pieces.append(match.group(0).translate(one_to_one))
        position = match.end()
    if pieces:
        pieces.append(text[position:])
        result = _Mapped("".join(pieces), result.offsets, result.raw_len)
    if _COMBINING.search(result.text):
        result, _ = _rewrite(
            result, _NFKC_CLUSTER, lambda m: unicodedata.normalize("NFKC", m.group(0))
        )
    return result


def normalize(raw: str) -> NormalizedText:
    """Clean ``raw`` page text; see the module docstring for the steps."""
    mapped = _Mapped(raw, _OffsetMap.identity(len(raw)), len(raw))
    repairs: list[str] = []

    mapped = _nfkc(mapped)

    toned = 0
    if "(" in mapped.text and _TONED_CHAR.search(mapped.text):
        mapped, toned = _rewrite(mapped, _RUBY_TONED, lambda m: "")
    if toned:
        repairs.append("pinyin_removed")
        if toned >= _RUBY_PAGE_THRESHOLD:
            mapped, _ = _rewrite(mapped, _RUBY_TONELESS, lambda m: "")

    mapped, converted = _convert_t2s(mapped)
    if converted:
        repairs.append("t2s")
    mapped, ocr_applied = _ocr_repair(mapped)
    repairs.extend(dict.fromkeys(ocr_applied))

    if " " in mapped.text or "\u00a0" in mapped.text:
        mapped, _ = _rewrite(mapped, _NUMBER_SPACING, lambda m: "", group=1)
        mapped = _join_letter_spaced(mapped)

    mapped, footer_or_chrome = _drop_chrome(mapped)
    if footer_or_chrome:
        repairs.append("chrome_removed")
    mapped, duplicated = _drop_second_copy(mapped)
    if duplicated:
        repairs.append("second_copy_removed")
        mapped, _ = _drop_chrome(mapped)
    mapped, headlines = _drop_trailing_headlines(mapped)
    if headlines:
        repairs.append("trailing_headlines_removed")

    return NormalizedText(
        text=mapped.text,
        raw=raw,
        starts=_OffsetColumn(mapped.offsets, ends=False),
        ends=_OffsetColumn(mapped.offsets, ends=True),
        repairs=tuple(repairs),
    )
