"""Statistics out of a federation page: every figure an analyst would tabulate.

A statistic is a number with a measure word (``136篇``, ``2.4万名``), a money
amount (``146.41万元`` → 1464100 元), a percentage (``98.13%``, ``九成``, ``2/3``),
or a 万/亿-scaled count without measure word (``观看量超200万``), each with:

- ``quote``: the clause that states it, from the clause start to the end of
  the figure (``全年完成“两癌”筛查人数79956人``), as offsets into the
  normalized text and into the raw page;
- ``value`` in base units and a canonical ``unit``: people are 人 whatever the
  measure word (名, 位), 场 is 场次, money is 元; otherwise the measure word
  itself (个, 家, 户, 人次, 次, 期, 件, 件次, 起, 例, 篇, 条, 份, …), ``%`` for
  rates, None for bare scaled counts (see ``numbers.CANONICAL_UNIT``);
- ``qualifier``: ``exact``; ``at_least`` (余, 多, 超, 超过, 逾, 突破, 以上, 不少于);
  ``approx`` (约, 左右, 来, 上下); ``at_most`` (近, 不到, 不足, 以内, 以下);
- ``indicator``: the FL-01 code (``R01``… for derived rates) when the words
  before the figure name one of the catalog's indicators or aliases and the
  unit fits; ``indicator_name`` says in words what is counted;
- ``org``/``org_code``: the page's organisation, or the level a scope word
  names (``全市`` on a town page is its city), or a subordinate division named
  in the clause; ``period``: ``全年`` → the report year, ``截至2月9日`` → an
  ISO date, ``7月30日起`` → an open range ``2021-07-30/``, else the page year.

Never statistics: dates, times, phone numbers, document numbers, hotline
numbers (12338), programme names (``3+1``), years, list numbering, ordinals
(``第二``, ``排名第二``), figures inside book titles ``《…》`` or short quoted
names (``“四个意识”``), a lone Chinese numeral with 个/位 (``两个维护``,
``三位一体``), ``一`` with any measure word (``一名``, ``一次``), and the
round-the-clock ``24小时``.

Tables (tab- or pipe-separated rows, space-aligned columns, or one cell per
line) give one statistic per numeric cell with its row and column headers;
total rows (合计/总计/全市…) are checked against the sum of their parts.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from bisect import bisect_left
from dataclasses import MISSING, dataclass, fields
from functools import cache, lru_cache

from huizong import catalog
from huizong.portal.normalize import NormalizedText, normalize
from huizong.portal.notice import (
    _MAX_NAME_LEN,
    Division,
    NoticeMeta,
    ancestor_at_level,
    chain_ending_at,
    is_within,
    name_ending_at,
    names_in,
    parse_notice,
    resolve,
)
from huizong.portal.numbers import (
    CANONICAL_UNIT,
    UNIT_WORDS,
    decimals_of,
    parse_amount,
    parse_percent,
    to_number,
)

FORM = "FL-01"

_UNITS = "|".join(UNIT_WORDS)
_CN = "零〇一二两三四五六七八九十百千万亿"
_FIGURE = re.compile(
    # percentages first: they share digits with counts
    r"(?P<pct>"
    r"(?P<pct_num>\d+(?:\.\d+)?)\s*%"
    f"|百分之[{_CN}\\d.点]+"
    r"|(?<![一\d])(?:[二三四五六七八九]|十)成(?![员立为果绩效功本熟长都就交型年人千])"
    f"|(?<![\\d/.])\\d{{1,3}}/\\d{{1,3}}(?![\\d/])"
    f"|[{_CN}]{{1,3}}分之[{_CN}]{{1,3}}"
    r")"
    r"|(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
    f"|[{_CN}]+(?=[余多来万亿]|{_UNITS}))"
    r"(?P<q1>余|多|来)?"
    r"(?P<mult>(?:十|百|千)?(?:万|亿)+|千|百)?"
    r"(?P<q2>余|多)?"
    f"(?P<unit>{_UNITS})?"
)
_NUMERAL_RUN = re.compile(f"[\\d{_CN}]+")
# What can follow a run of ASCII digits inside a _FIGURE match: a percent sign
# (spaces allowed before it), a decimal point, a thousands comma, a fraction
# slash, 余/多/来, a measure word. Most runs are bare digits followed by
# anything else (dates, years, phone and hotline numbers), which never make a
# figure, so they skip the full pattern.
_AFTER_DIGITS = frozenset("%.,/余多来" + "".join(word[0] for word in UNIT_WORDS))
_SPACED_PERCENT = re.compile(r"\s+%")
_SUFFIX_QUALIFIER = re.compile(r"(以上|左右|以内|以下|之多|上下|有余)")
_PREFIX_QUALIFIERS: tuple[tuple[str, str], ...] = (
    ("不超过", "at_most"),
    ("不多于", "at_most"),
    ("不高于", "at_most"),
    ("少于", "at_most"),
    ("不少于", "at_least"),
    ("不低于", "at_least"),
    ("超过了", "at_least"),
    ("超过", "at_least"),
    ("突破", "at_least"),
    ("至少", "at_least"),
    ("逾", "at_least"),
    ("超", "at_least"),
    ("上", "at_least"),
    ("大约", "approx"),
    ("约", "approx"),
    ("将近", "at_most"),
    ("接近", "at_most"),
    ("不足", "at_most"),
    ("不到", "at_most"),
    ("最多", "at_most"),
    ("近", "at_most"),
)
_PREFIX_QUALIFIERS = tuple(sorted(_PREFIX_QUALIFIERS, key=lambda item: len(item[0]), reverse=True))
_SUFFIX_TO_QUALIFIER = {
    "以上": "at_least",
    "之多": "at_least",
    "有余": "at_least",
    "左右": "approx",
    "上下": "approx",
    "以内": "at_most",
    "以下": "at_most",
}
_INFIX_TO_QUALIFIER = {"余": "at_least", "多": "at_least", "来": "approx"}
_STRONG_SINGLE_CN_UNITS = frozenset(
    [
        "人",
        "名",
        "户",
        "人次",
        "场",
        "场次",
        "期",
        "家",
        "次",
        "件",
        "篇",
        "条",
        "起",
        "例",
        "元",
        "批",
        "轮",
        "项",
        "支",
        "所",
    ]
)
_CLAUSE_DELIMS = "，,；;。！!？?：:\n、\t"
_SENTENCE_DELIMS = "。！!？?\n"
_LIST_JOIN = re.compile(r"^\s*(?:、|和|及|与|以及|,|，|至|到|-|~|—|～)\s*$")
# 个月/个人/名单/次日: the measure word starts another word.
_UNIT_IN_WORD = frozenset(
    [
        "个月",
        "个人",
        "名单",
        "次日",
        "次年",
        "期间",
        "家庭",
        "家长",
        "份额",
        "条件",
        "件事",
        "位于",
        "条例",
        "分钟",
        "场所",
        "期刊",
    ]
)
_TIGHT_LIST_JOIN = re.compile(r"^\s*(?:、|和|及|与|以及)\s*$")
_TIME_AFTER = re.compile(r"^(?:\d+\s*秒|钟|\d+\s*分)")
_PROGRAMME_ADJACENT = "+＋×*"
_HAN = re.compile(r"[\u4e00-\u9fff]")
_QUOTE_PAIRS = {"《": "》", "“": "”", "「": "」", "〈": "〉"}
_SHORT_QUOTE = 14
_SCOPE = re.compile(r"(?:全|我|本|该)(省|自治区|市|州|县|区|旗|镇|乡|街道)")
_SCOPE_LEVEL = {
    "省": "province",
    "自治区": "province",
    "市": "city",
    "州": "city",
    "县": "county",
    "旗": "county",
    "镇": "town",
    "乡": "town",
    "街道": "town",
}
_TOTAL_LABEL = re.compile(
    r"^(?:合\s*计|总\s*计|小\s*计|总\s*数|全(?:省|市|州|县|区|镇|乡)(?:合计|总计)?)$"
)
_BLANK_CELL = re.compile(r"^(?:|—+|-+|/|无|／|--|\\)$")
_CODE_HEADER = re.compile(r"代码|序号|编号|代号")
_UNIT_HEADER = re.compile(r"^(?:计量)?单位$")
_HEADER_UNIT = re.compile(
    r"[(（]\s*(?:单位\s*[:：]\s*)?(万元|亿元|千元|元|万人次|万人|万户|万个|%|"
    + _UNITS
    + r")\s*[)）]"
)
_TABLE_UNIT_LINE = re.compile(r"^\s*(?:计量)?单位\s*[:：]\s*(万元|亿元|元|%|" + _UNITS + r")\s*$")
_CELL_NUMBER = re.compile(
    r"^\s*(?P<pre>约|近|超过|超|逾|不足|不到)?\s*"
    r"(?P<num>-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?)\s*"
    r"(?P<q1>余|多)?\s*(?P<mult>万|亿|千)?\s*(?P<q2>余|多)?\s*"
    r"(?P<unit>%|" + _UNITS + r")?\s*(?P<post>以上|左右|以内|以下)?\s*$"
)
_MULTI_SPACE = re.compile(r" {2,}|\u3000+")
_PIPE_SEPARATOR_ROW = re.compile(r"^\s*\|?\s*:?-{2,}")
_YEAR_HEADER = re.compile(r"((?:19|20)\d{2})\s*年")
_PERIOD_PREFIX = re.compile(
    r"(?P<until>截至|截止到|截止|至)\s*(?:目前|今年|现在|当前|年底|年末)?"
    r"|(?P<since>自|从)?(?P<date_since>DATE)\s*(?:起|以来)"
    r"|(?P<year>(?:19|20)\d{2})\s*年(?![\d月])"
    r"|(?P<fullyear>全年|今年|本年度|本年|年内|年度)"
    r"|(?P<half>上半年|下半年)"
    r"|(?P<quarter>第?(?P<quarter_digit>[一二三四1-4])季度)"
)


@dataclass(frozen=True)
class Statistic:
    """One figure of a page with its provenance and meaning."""

    quote: str
    start: int
    end: int
    raw_start: int
    raw_end: int
    value: float | int
    unit: str | None
    qualifier: str
    indicator: str | None
    indicator_name: str | None
    org: str | None
    org_code: str | None
    period: str | None
    kind: str
    figure: str = ""
    row_header: str | None = None
    col_header: str | None = None
    checks: tuple[dict[str, object], ...] = ()
    form: str | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            out[item.name] = [dict(c) for c in value] if item.name == "checks" else value
        return out


_STATISTIC_DEFAULTS = {
    item.name: item.default for item in fields(Statistic) if item.default is not MISSING
}
if any(item.default_factory is not MISSING for item in fields(Statistic)):
    raise RuntimeError("_new_statistic fills defaults, not default factories")


def _new_statistic(values: dict[str, object]) -> Statistic:
    """``Statistic(**values)`` for the figure loop, which builds one per figure.

    The frozen dataclass ``__init__`` sets each of the 19 fields through
    ``object.__setattr__``; filling the instance dict at once costs a third of that.
    """
    statistic = object.__new__(Statistic)
    attributes = vars(statistic)
    attributes.update(_STATISTIC_DEFAULTS)
    attributes.update(values)
    return statistic


@dataclass(frozen=True)
class TextTable:
    """A table found in normalized text; cells carry their normalized offsets."""

    rows: tuple[tuple[tuple[str, int, int], ...], ...]
    start: int
    end: int
    unit: str | None = None


@dataclass(frozen=True)
class PageExtraction:
    normalized: NormalizedText
    notice: NoticeMeta
    statistics: list[Statistic]
    tables: tuple[TextTable, ...] = ()
    org: str | None = None
    org_code: str | None = None
    url: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "org": self.org,
            "org_code": self.org_code,
            "notice": self.notice.to_dict(),
            "statistics": [s.to_dict() for s in self.statistics],
        }


# --------------------------------------------------------------------------
# Indicator catalog
# --------------------------------------------------------------------------

_KEY_NOISE = re.compile(r"[\s“”\"'‘’「」『』《》]")
_UNIT_FAMILY: dict[str, frozenset[str]] = {
    "个": frozenset({"个", "家", "所", "处"}),
    "人": frozenset({"人"}),
    "人次": frozenset({"人次"}),
    "场次": frozenset({"场次", "次", "期"}),
    "元": frozenset({"元"}),
    "件次": frozenset({"件次", "件"}),
    "件": frozenset({"件", "件次"}),
    "起": frozenset({"起", "件", "例"}),
    "户": frozenset({"户"}),
    "条": frozenset({"条", "篇"}),
    "%": frozenset({"%"}),
}
_DERIVED_ALIASES = {"R01": ("换届完成率", "换届率"), "R02": ("办结率",), "R03": ("理赔率",)}


def _key(text: str) -> str:
    return _KEY_NOISE.sub("", unicodedata.normalize("NFKC", text))


@cache
def _aliases() -> tuple[tuple[str, str, str, str], ...]:
    """``(alias key, code, unit, name)`` longest first, from the catalog."""
    out: list[tuple[str, str, str, str]] = []
    for code, indicator in catalog.indicators(FORM).items():
        names = {indicator.name, *indicator.aliases}
        for name in names:
            key = _key(re.sub(r"^其中[:：]?", "", name))
            if len(key) >= 2:
                out.append((key, code, indicator.unit, indicator.name))
    for code, derived in catalog.derived_indicators(FORM).items():
        for alias in (derived.name, *_DERIVED_ALIASES.get(code, ())):
            out.append((_key(alias), code, "%", derived.name))
    out.sort(key=lambda item: len(item[0]), reverse=True)
    return tuple(out)


@cache
def _alias_index() -> tuple[re.Pattern[str], dict[str, tuple[tuple[str, str], ...]]]:
    """One pattern finding every alias start (overlapping), and alias → (code, unit)."""
    by_alias: dict[str, list[tuple[str, str]]] = {}
    for alias, code, unit, _name in _aliases():
        by_alias.setdefault(alias, []).append((code, unit))
    ordered = sorted(by_alias, key=len, reverse=True)
    pattern = re.compile("(?=(" + "|".join(re.escape(a) for a in ordered) + "))")
    return pattern, {alias: tuple(v) for alias, v in by_alias.items()}


@lru_cache(maxsize=8192)
def _match_indicator(description: str, unit: str | None, *, after: bool = False) -> str | None:
    """Code whose alias sits nearest the figure in ``description`` with a fitting unit."""
    if not description or unit is None:
        return None
    key = _key(description)
    pattern, by_alias = _alias_index()
    best: tuple[int, int, str] | None = None
    for match in pattern.finditer(key):
        alias = match.group(1)
        position = match.start()
        distance = position if after else len(key) - (position + len(alias))
        for code, indicator_unit in by_alias[alias]:
            if unit not in _UNIT_FAMILY.get(indicator_unit, (indicator_unit,)):
                continue
            rank = (distance, -len(alias), code)
            if best is None or rank < best:
                best = rank
    return best[2] if best else None


# --------------------------------------------------------------------------
# Page context: organisation, year, dates
# --------------------------------------------------------------------------

_ORG_MENTION = re.compile(r"(?:妇联|妇女联合会)")
# The page's own organisation shows in its first mentions; more only cost time.
_MAX_ORG_MENTIONS = 24
_PLACE_SUFFIX = re.compile(r"[省市县区旗州盟镇乡道]")
_OWN_PLACE = re.compile(
    r"(?:新|美丽|魅力|幸福|大美)(?P<name>[\u4e00-\u9fff]{2,4}?)(?=[、,，。!！]|工作|建设|发展)"
    r"|(?P<name2>[\u4e00-\u9fff]{2,4}?)(?=日报|晚报|电视台|广播电视台|新闻网|发布)"
)


@dataclass(frozen=True)
class _PageContext:
    division: Division | None
    org_name: str | None
    year: int | None
    published: datetime.date | None
    summary_year: bool


# chain_ending_at reads at most three names of _MAX_NAME_LEN characters back,
# so the window before a mention decides the chain; pages repeat their own
# organisation's name, and the window is a small cache key.
_CHAIN_WINDOW = 3 * _MAX_NAME_LEN


@lru_cache(maxsize=4096)
def _chain_end(window: str) -> Division | None:
    chain = chain_ending_at(window, len(window))
    return chain[-1] if chain else None


def _infer_division(
    text: str, org: str | None, notice: NoticeMeta, default_org: str | None = None
) -> Division | None:
    if org:
        division = resolve(org)
        if division is not None:
            return division
    if notice.issuer_code:
        return resolve(notice.issuer or "") or None
    votes: dict[str, int] = {}
    found: dict[str, Division] = {}
    for mention_count, match in enumerate(_ORG_MENTION.finditer(text)):
        if mention_count >= _MAX_ORG_MENTIONS:
            break
        start = match.start()
        division = _chain_end(text[max(0, start - _CHAIN_WINDOW) : start])
        if division is not None:
            votes[division.code] = votes.get(division.code, 0) + 1
            found[division.code] = division
    if votes:
        return found[max(votes, key=lambda code: votes[code])]
    # Last resort: places the page names as its own (北海日报, 建设新北海),
    # at the level its scope words speak of (全市 → a city).
    scope_levels = {_SCOPE_LEVEL.get(m.group(1)) for m in _SCOPE.finditer(text)}
    counts: dict[str, int] = {}
    for match in _OWN_PLACE.finditer(text):
        name = match.group("name") or match.group("name2")
        hit = name_ending_at(name, len(name))
        if hit is None:
            continue
        for candidate in hit[1]:
            if candidate.level in scope_levels or not scope_levels:
                counts[candidate.code] = counts.get(candidate.code, 0) + 1
                found[candidate.code] = candidate
    if counts:
        best = max(counts.values())
        leaders = [code for code, count in counts.items() if count == best]
        if len(leaders) == 1:
            return found[leaders[0]]
    # A portal carries articles of other federations; its owner is only the
    # answer when the page itself names no one.
    if default_org:
        return resolve(default_org)
    return None


def _org_display(division: Division | None, org: str | None) -> str | None:
    if division is not None:
        return division.name
    if org:
        return re.sub(r"(?:妇女联合会|妇联)$", "", org) or org
    return None


def _date_year(ctx: _PageContext, month: int, day: int, *, until: bool) -> int | None:
    if ctx.published is not None:
        year = ctx.published.year
        try:
            if datetime.date(year, month, day) > ctx.published:
                year -= 1
        except ValueError:
            return None
        return year
    if ctx.year is None:
        return None
    # A year-end summary is written early the next year; "截至2月9日" there
    # is a state at the time of writing.
    if until and ctx.summary_year and month <= 3:
        return ctx.year + 1
    return ctx.year


_DATE_PATTERN = r"(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*[日号]"
# The lookaheads name every character a match can start with: the scan then
# rejects a position with one class test instead of trying each alternative.
# A digit starts only a date or year (digits, then 年 or 月) or a quarter
# (1-4季); the digits of figures, most of those passing the first test, fail
# the second.
_PERIOD_RE = re.compile(
    "(?=[截至自从\\d全今本年上下第一二三四])(?=\\D|\\d{1,4}\\s*[年月]|[1-4]季)(?:"
    + _PERIOD_PREFIX.pattern.replace("DATE", _DATE_PATTERN)
    + ")"
)
_EVENT_DATE = re.compile(r"\s*(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*[日号]")
_DIGIT_SPLIT = re.compile(r"\d")
_MD = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_MONTH_RANGE = re.compile(r"(?=\d)(?:(\d{4})\s*年\s*)?(\d{1,2})\s*[-—~至到]\s*(\d{1,2})\s*月")


_NOW_WORD = re.compile(r"\s*(?:目前|现在|当前)")


def _iso_from_md(ctx: _PageContext, text: str, *, until: bool) -> str | None:
    match = _MD.search(text)
    if not match:
        return None
    month, day = int(match.group(2)), int(match.group(3))
    year = int(match.group(1)) if match.group(1) else _date_year(ctx, month, day, until=until)
    if year is None:
        return None
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None


def _last_before(matches: list[re.Match[str]], pos: int) -> re.Match[str] | None:
    last = None
    for match in matches:
        if match.end() > pos:
            break
        last = match
    return last


def _period(
    ctx: _PageContext,
    text: str,
    pos: int,
    period_matches: list[re.Match[str]],
    range_matches: list[re.Match[str]],
) -> str | None:
    """Period of a figure at ``pos`` from the time words before it in its sentence."""
    last = _last_before(period_matches, pos) if period_matches else None
    month_range = _last_before(range_matches, pos) if range_matches else None
    if month_range is not None and (last is None or month_range.start() >= last.start()):
        year = int(month_range.group(1)) if month_range.group(1) else ctx.year
        first, second = int(month_range.group(2)), int(month_range.group(3))
        if year and 1 <= first <= second <= 12:
            return f"{year}-{first:02d}/{year}-{second:02d}"
    if last is None:
        return str(ctx.year) if ctx.year else None
    if last.group("until"):
        tail = text[last.end() : min(pos, last.end() + 16)]
        iso = _iso_from_md(ctx, tail, until=True)
        if iso:
            return iso
        if _NOW_WORD.match(text[last.start() + 2 : min(pos, last.end() + 4)]):
            return (
                ctx.published.isoformat()
                if ctx.published
                else (str(ctx.year) if ctx.year else None)
            )
        return str(ctx.year) if ctx.year else None
    if last.group("date_since"):
        iso = _iso_from_md(ctx, last.group("date_since"), until=False)
        return f"{iso}/" if iso else (str(ctx.year) if ctx.year else None)
    if last.group("year"):
        return last.group("year")
    if last.group("fullyear"):
        return str(ctx.year) if ctx.year else None
    if last.group("half") and ctx.year:
        return (
            f"{ctx.year}-01/{ctx.year}-06"
            if last.group("half") == "上半年"
            else (f"{ctx.year}-07/{ctx.year}-12")
        )
    if last.group("quarter") and ctx.year:
        digit = last.group("quarter_digit")
        quarter = "一二三四".index(digit) + 1 if digit in "一二三四" else int(digit)
        return f"{ctx.year}Q{quarter}"
    return str(ctx.year) if ctx.year else None


@lru_cache(maxsize=4096)
def _subdivision_named(clause_prefix: str, division: Division) -> tuple[str, str] | None:
    """First division named in ``clause_prefix`` that lies inside ``division``, unambiguously."""
    for _start, _end, candidates in names_in(clause_prefix):
        inside = [c for c in candidates if c.code != division.code and is_within(c, division)]
        if len(inside) == 1:
            return inside[0].name, inside[0].code
    return None


def _scope_org(
    ctx: _PageContext, clause_prefix: str, scope_matches: list[re.Match[str]], pos: int
) -> tuple[str | None, str | None]:
    division = ctx.division
    if division is not None and _PLACE_SUFFIX.search(clause_prefix):
        named = _subdivision_named(clause_prefix, division)
        if named is not None:
            return named
    scope = _last_before(scope_matches, pos) if scope_matches else None
    if scope is not None and division is not None:
        level = _SCOPE_LEVEL.get(scope.group(1))
        if scope.group(1) == "区":
            level = "province" if division.level == "province" else "county"
        if level:
            target = ancestor_at_level(division, level)
            if target is not None:
                return target.name, target.code
    if division is not None:
        return division.name, division.code
    return ctx.org_name, None


# --------------------------------------------------------------------------
# Prose figures
# --------------------------------------------------------------------------


_CLAUSE_MARK = re.compile("[" + re.escape(_CLAUSE_DELIMS) + "]")
_SENTENCE_DELIM_SET = frozenset(_SENTENCE_DELIMS)
if not _SENTENCE_DELIM_SET.issubset(_CLAUSE_DELIMS):
    raise RuntimeError("sentence delimiters must also be clause delimiters")
if "\n" not in _SENTENCE_DELIM_SET:
    raise RuntimeError("a newline must end sentences (_delimiter_positions relies on it)")


def _delimiter_positions(text: str, figures: list[_Figure]) -> tuple[list[int], list[int]]:
    """Clause and sentence delimiter positions on the lines that hold figures.

    Sentence delimiters are clause ones too. A newline ends both, so the
    delimiters a figure looks for, before and after it, lie on its lines or
    are the newlines around them; the many lines without a figure are not
    scanned.
    """
    clause: list[int] = []
    scanned_to = 0
    for figure in figures:
        first = max(text.rfind("\n", 0, figure.start), scanned_to)
        last = text.find("\n", figure.end) + 1 or len(text)
        if first < last:
            clause.extend(m.start() for m in _CLAUSE_MARK.finditer(text, first, last))
            scanned_to = last
    return clause, [p for p in clause if text[p] in _SENTENCE_DELIM_SET]


def _start_after_delimiter(positions: list[int], pos: int, limit: int) -> int:
    """Start of the span ending at ``pos``: just after the last delimiter before it."""
    index = bisect_left(positions, pos) - 1
    lo = pos - limit if pos > limit else 0
    if index >= 0 and positions[index] >= lo:
        return positions[index] + 1
    return lo


def _end_at_delimiter(positions: list[int], pos: int, limit: int, text_len: int) -> int:
    index = bisect_left(positions, pos)
    hi = pos + limit if pos + limit < text_len else text_len
    if index < len(positions) and positions[index] < hi:
        return positions[index]
    return hi


def _quoted_positions(text: str) -> set[int]:
    """Positions inside 《…》 and inside short “…” names, where figures are names.

    A set, not spans: every candidate figure asks, and the quoted characters
    of a page are few (a quote closes within 80 characters).
    """
    positions: set[int] = set()
    for opener, closer in _QUOTE_PAIRS.items():
        start = text.find(opener)
        while start >= 0:
            end = text.find(closer, start + 1, start + 80)
            if end < 0:
                start = text.find(opener, start + 1)
                continue
            if opener == "《" or end - start - 1 <= _SHORT_QUOTE:
                positions.update(range(start + 1, end))
            start = text.find(opener, end + 1)
    return positions


def _inside_any(spans: list[tuple[int, int]], pos: int) -> bool:
    return any(start <= pos < end for start, end in spans)


# Built positionally where figures are found: keyword arguments cost a
# third of the call there.
@dataclass
class _Figure:
    start: int
    end: int
    number_start: int
    value: float
    unit: str | None
    qualifier: str
    has_unit: bool
    is_percent: bool
    mult: str | None
    decimals: int
    raw_number: str


_NOT_APPROX_BEFORE_YUE = frozenset("签合公预条制相节契履违特邀婚誓和")
_FRACTION_LEAD = re.compile(r"(?:占|达|超过|超|近|约|的|为|达到)\s*$")
_BARE_MULTIPLIER_LEAD = re.compile(r"(?:近|上|逾|超|约)$")
_ROUND_THE_CLOCK_LEAD = re.compile(r"(?:累计|共|时长|合计)\S{0,4}$")


# The same words keyed by length, longest first: a window lookup per length
# instead of an endswith per word (this runs for every candidate figure).
_PREFIX_BY_LENGTH: tuple[tuple[int, dict[str, str]], ...] = tuple(
    (length, {word: qualifier for word, qualifier in _PREFIX_QUALIFIERS if len(word) == length})
    for length in sorted({len(word) for word, _ in _PREFIX_QUALIFIERS}, reverse=True)
)

# The word ends right before the figure; most figures follow none of these.
_PREFIX_LAST_CHARS = frozenset(word[-1] for word, _qualifier in _PREFIX_QUALIFIERS)


def _prefix_qualifier(text: str, pos: int) -> tuple[str, int]:
    if not pos or text[pos - 1] not in _PREFIX_LAST_CHARS:
        return "exact", pos
    window = text[max(0, pos - 3) : pos]
    for length, words in _PREFIX_BY_LENGTH:
        if len(window) < length:
            continue
        word = window[-length:]
        qualifier = words.get(word)
        if qualifier is None:
            continue
        if word == "上" and text[pos : pos + 1] not in ("万", "千", "百"):
            continue
        if word == "约" and len(window) >= 2 and window[-2] in _NOT_APPROX_BEFORE_YUE:
            continue
        if word == "超" and len(window) >= 2 and window[-2] in "赶高":
            continue
        return qualifier, pos - length
    return "exact", pos


def _reject(text: str, match: re.Match[str], quoted: set[int]) -> bool:
    start, end = match.span()
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if start in quoted:
        return True
    # (before/after are "" at the ends of the text, and "" is in every string)
    if (before and before in _PROGRAMME_ADJACENT) or (after and after in _PROGRAMME_ADJACENT):
        return True
    if (before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha()):
        return True
    if before == "第" or text[max(0, start - 2) : start] in ("排名", "名列", "位列"):
        return True
    if before in ".-/:" and start >= 2 and text[start - 2].isdigit():
        return True
    return (
        after in "-/."
        and end + 1 < len(text)
        and text[end + 1].isdigit()
        and not match.group("unit")
    )


def _figure_from_match(text: str, match: re.Match[str], quoted: set[int]) -> _Figure | None:
    pct, _pct_num, number, q1, mult, q2, unit_word = match.groups()
    if (
        not pct
        and not unit_word
        and not mult
        and (number[0].isdigit() or not number.endswith(("万", "亿")))
    ):
        return None
    start, end = match.span()
    if pct:
        if _reject(text, match, quoted):
            return None
        if "/" in pct and not _FRACTION_LEAD.search(text[max(0, start - 3) : start]):
            return None
        value = parse_percent(pct)
        if value is None:
            return None
        qualifier, figure_start = _prefix_qualifier(text, start)
        suffix = _SUFFIX_QUALIFIER.match(text, end)
        if suffix:
            qualifier = _SUFFIX_TO_QUALIFIER[suffix.group(1)]
            end = suffix.end()
        return _Figure(
            figure_start, end, start, value, "%", qualifier, True, True, None, decimals_of(pct), pct
        )
    infix = q1 or q2
    is_chinese = not number[0].isdigit()
    if is_chinese:
        if number.startswith("一") and len(number) == 1:
            return None
        if len(number) == 1 and number in "十百千万亿":
            pre_window = text[max(0, start - 2) : start]
            if not infix and not _BARE_MULTIPLIER_LEAD.search(pre_window):
                return None
        elif len(number) == 1 and (unit_word is None or unit_word not in _STRONG_SINGLE_CN_UNITS):
            return None
        if unit_word is None and not mult and not number.endswith(("万", "亿")):
            return None
        if any(ch not in _CN for ch in number):
            return None
        if number[0] in "〇零":
            return None
    if unit_word is None and not mult and not (is_chinese and number.endswith(("万", "亿"))):
        return None
    # After the checks on the match alone: most candidates fail those cheaper.
    if _reject(text, match, quoted):
        return None
    if unit_word == "分" and (
        _TIME_AFTER.match(text[end : end + 4]) or text[max(0, start - 1) : start] in ("时", "点")
    ):
        return None
    if (
        unit_word == "小时"
        and number == "24"
        and not _ROUND_THE_CLOCK_LEAD.search(text[max(0, start - 6) : start])
    ):
        return None
    if unit_word is not None and text[end : end + 1] and unit_word + text[end] in _UNIT_IN_WORD:
        return None
    amount = parse_amount(number + mult if mult else number)
    if amount is None:
        return None
    if not is_chinese and unit_word is None and mult is None:
        return None
    qualifier, figure_start = _prefix_qualifier(text, start)
    if infix:
        qualifier = _INFIX_TO_QUALIFIER[infix]
    figure_end = end
    suffix = _SUFFIX_QUALIFIER.match(text, end)
    if suffix and (unit_word or mult):
        qualifier = _SUFFIX_TO_QUALIFIER[suffix.group(1)]
        figure_end = suffix.end()
    unit = CANONICAL_UNIT.get(unit_word) if unit_word else None
    if unit is None and number.isdigit() and len(number) == 4 and number[:2] in ("19", "20"):
        return None
    return _Figure(
        figure_start,
        figure_end,
        start,
        amount,
        unit,
        qualifier,
        unit_word is not None,
        False,
        mult,
        decimals_of(number),
        number,
    )


_LIST_JOIN_TAIL = re.compile(r"(、|和|及|与|以及|,|，|至|到|-|~|—|～)\s*$")
_RESPECTIVELY = re.compile(r"分别|依次")
_BARE_LIST_ITEM = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(?P<q>余|多)?(?P<mult>万|亿)?\s*$")


def _share_list_units(text: str, figures: list[_Figure]) -> list[_Figure]:
    """``分别为12、15、20人`` / ``3000-10000元``: bare numbers take the list's unit."""
    extra: list[_Figure] = []
    for figure in figures:
        if not figure.has_unit or figure.is_percent:
            continue
        cursor = figure.number_start
        while True:
            head = text[max(0, cursor - 16) : cursor]
            join = _LIST_JOIN_TAIL.search(head)
            if not join:
                break
            before = head[: join.start()]
            item = _BARE_LIST_ITEM.search(before)
            if not item:
                break
            item_start = cursor - len(head) + item.start()
            previous_char = text[item_start - 1] if item_start > 0 else ""
            if previous_char in ("第", "+") or (
                previous_char.isascii() and previous_char.isalpha()
            ):
                break
            value = parse_amount(item.group(1) + (item.group("mult") or figure.mult or ""))
            if value is None:
                break
            if join.group(1) in ",，" and not _RESPECTIVELY.search(
                text[max(0, item_start - 12) : item_start]
            ):
                break
            qualifier, prefix_start = _prefix_qualifier(text, item_start)
            if item.group("q"):
                qualifier = "at_least"
            extra.append(
                _Figure(
                    start=prefix_start,
                    end=cursor - len(head) + item.end(),
                    number_start=item_start,
                    value=value,
                    unit=figure.unit,
                    qualifier=qualifier,
                    has_unit=False,
                    is_percent=False,
                    mult=item.group("mult") or figure.mult,
                    decimals=decimals_of(item.group(1)),
                    raw_number=item.group(1),
                )
            )
            cursor = item_start
    return extra


def _propagate_list_qualifiers(text: str, figures: list[_Figure]) -> None:
    """``分别在70%、60%和40%以上``: a closing qualifier covers the whole list."""
    for index in range(len(figures) - 1, 0, -1):
        last = figures[index]
        if last.qualifier == "exact" or text[last.end - 2 : last.end] not in _SUFFIX_TO_QUALIFIER:
            continue
        cursor = index
        while cursor > 0:
            previous = figures[cursor - 1]
            between = text[previous.end : figures[cursor].start]
            if previous.unit != last.unit or not _TIGHT_LIST_JOIN.match(between):
                break
            if previous.qualifier == "exact":
                previous.qualifier = last.qualifier
            cursor -= 1


def _description(clause_prefix: str) -> str:
    desc = clause_prefix
    cut = desc.rfind("等")
    if 0 <= cut < len(desc) - 2:
        desc = desc[cut + 1 :]
    return desc


_QUOTE_LEAD = frozenset(" \u3000(（[【▲►▼◆●■□·-—*")
# Where the noun phrase after a figure ends: 1390个村(社区)|完成…
_FOLLOWING_VERB = re.compile(
    r"完成|开展|参与|参加|进行|实现|获得|通过|提供|发放|达到|收看|走访|接受|受益|始终|积极|"
    r"主动|及时|[为在到向对和与及并]"
)
_DESC_TRIM = re.compile(
    r"^(?:其中|全年|累计|共计|共|合计|总计|已|先后|目前|同时|全市|全县|全镇|全区|全省|我市|我县|我镇|我区|"
    r"并|还|再|又|为|达到|达|有)+|(?:达到|达|为|共计|共|累计|合计|总计|约|近|超过|超|逾|突破|有|了)+$"
)


# Clause heads and the words after figures repeat across a page and across
# pages of one portal; both helpers are pure, so their results are cached.
@lru_cache(maxsize=8192)
def _indicator_name(description: str, following: str) -> str | None:
    name = _DESC_TRIM.sub("", description.strip(" \t“”"))
    name = name.strip(" ,，、:：")
    if len(_HAN.findall(name)) >= 2:
        return name
    following = following.strip(" “”")
    return following or (name or None)


@lru_cache(maxsize=8192)
def _name_han(description: str) -> int:
    return len(_HAN.findall(_DESC_TRIM.sub("", description)))


@dataclass
class _Sentence:
    start: int
    end: int
    periods: list[re.Match[str]]
    ranges: list[re.Match[str]]
    scopes: list[re.Match[str]]
    event: str | None


def _sentence_info(ctx: _PageContext, text: str, start: int, end: int) -> _Sentence:
    head = _EVENT_DATE.match(text, start, end)
    return _Sentence(
        start=start,
        end=end,
        periods=list(_PERIOD_RE.finditer(text, start, end)),
        # A month range names 月; most sentences have none.
        ranges=list(_MONTH_RANGE.finditer(text, start, end))
        if text.find("月", start, end) >= 0
        else [],
        scopes=list(_SCOPE.finditer(text, start, end)),
        event=_iso_from_md(ctx, head.group(0), until=False) if head else None,
    )


def _find_figures(text: str, masked: list[tuple[int, int]]) -> list[_Figure]:
    quoted = _quoted_positions(text)
    figures: list[_Figure] = []
    resume = 0
    # A cheap scan for runs of numerals, then the full pattern anchored at each.
    for run in _NUMERAL_RUN.finditer(text):
        start, end = run.span()
        if start < resume:
            continue
        numeral = run.group()
        if numeral == "一":
            continue
        if numeral.isascii() and numeral.isdigit():
            following = text[end : end + 1]
            if following not in _AFTER_DIGITS and not (
                following.isspace() and _SPACED_PERCENT.match(text, end)
            ):
                continue
        match = _FIGURE.match(text, start)
        if match is None:
            continue
        resume = match.end()
        if masked and _inside_any(masked, start):
            continue
        figure = _figure_from_match(text, match, quoted)
        if figure is not None:
            figures.append(figure)
    shared = [f for f in _share_list_units(text, figures) if not _inside_any(masked, f.start)]
    if shared:
        # 10万-15万元: the bare 10万 found on its own now has the list's unit.
        figures = [
            f
            for f in figures
            if f.has_unit or not any(x.start <= f.number_start < x.end for x in shared)
        ]
        figures.extend(shared)
    figures.sort(key=lambda f: f.start)
    _propagate_list_qualifiers(text, figures)
    return figures


def _prose_statistics(
    norm: NormalizedText, ctx: _PageContext, masked: list[tuple[int, int]]
) -> list[Statistic]:
    text = norm.text
    figures = _find_figures(text, masked)
    clause_marks, sentence_marks = _delimiter_positions(text, figures)
    sentences: dict[int, _Sentence] = {}
    default_period = str(ctx.year) if ctx.year else None

    text_len = len(text)
    stats: list[Statistic] = []
    previous_end = 0
    for index, figure in enumerate(figures):
        figure_start, figure_end = figure.start, figure.end
        # A list shares one clause head: 其中妇联69个、妇女之家292个 gives each its own.
        clause_start = _start_after_delimiter(clause_marks, figure_start, 60)
        if clause_start < previous_end <= figure_start:
            clause_start = previous_end
        sentence_start = _start_after_delimiter(sentence_marks, figure_start, 200)
        sentence = sentences.get(sentence_start)
        if sentence is None:
            sentence_end = _end_at_delimiter(sentence_marks, figure_start, 400, text_len)
            sentence = _sentence_info(ctx, text, sentence_start, sentence_end)
            sentences[sentence_start] = sentence
        clause_prefix = text[clause_start:figure_start]
        description = _description(clause_prefix)
        unit = figure.unit
        indicator = _match_indicator(description, unit)
        name_han = _name_han(description)
        quote_end = figure_end
        after_end = _end_at_delimiter(clause_marks, figure_end, 16, text_len)
        following = _DIGIT_SPLIT.split(text[figure_end:after_end], maxsplit=1)[0]
        if indicator is None and following:
            noun_phrase = _FOLLOWING_VERB.split(following, maxsplit=1)[0]
            indicator = _match_indicator(noun_phrase, unit, after=True)
        if name_han < 2:
            if following.strip():
                quote_end = figure_end + len(following.rstrip())
            if indicator is None and sentence_start < clause_start:
                earlier = text[max(sentence_start, clause_start - 40) : clause_start]
                indicator = _match_indicator(earlier, unit)
        if figure.is_percent and indicator is None:
            indicator = _match_indicator(text[clause_start:figure_end], "%")
        if (
            figure.is_percent
            and indicator is None
            and "占" in description
            and stats
            and stats[-1].indicator == "02"
            and stats[-1].start >= sentence_start
        ):
            indicator = "R01"
        org_name, org_code = _scope_org(ctx, clause_prefix, sentence.scopes, figure_start)
        period = _period(ctx, text, figure_start, sentence.periods, sentence.ranges)
        if period == default_period and sentence.event:
            period = sentence.event
        quote_start = clause_start
        while quote_start < figure_start and text[quote_start] in _QUOTE_LEAD:
            quote_start += 1
        raw_start, raw_end = norm.to_raw(quote_start, quote_end)
        checks = _percentage_checks(figures, index, sentence_start) if figure.is_percent else ()
        stats.append(
            _new_statistic(
                {
                    "quote": text[quote_start:quote_end],
                    "start": quote_start,
                    "end": quote_end,
                    "raw_start": raw_start,
                    "raw_end": raw_end,
                    "value": to_number(figure.value),
                    "unit": unit,
                    "qualifier": figure.qualifier,
                    "indicator": indicator,
                    "indicator_name": _indicator_name(description, following),
                    "org": org_name,
                    "org_code": org_code,
                    "period": period,
                    "kind": "prose",
                    "figure": text[figure_start:figure_end],
                    "checks": checks,
                    "form": FORM if indicator else None,
                }
            )
        )
        previous_end = figure_end
    return stats


def _figure_start(figure: _Figure) -> int:
    return figure.start


def _percentage_checks(
    figures: list[_Figure], index: int, sentence_start: int
) -> tuple[dict[str, object], ...]:
    """``1390个…完成1364个,占比98.13%``: recompute the rate from its parts."""
    stated = figures[index]
    # Figures are sorted by start: the sentence's ones are a slice, found by bisection.
    first = bisect_left(figures, sentence_start, 0, index, key=_figure_start)
    earlier = [f for f in figures[first:index] if not f.is_percent]
    if len(earlier) < 2:
        return ()
    part = earlier[-1]
    total = next(
        (f for f in reversed(earlier[:-1]) if f.unit == part.unit and f.value >= part.value > 0),
        None,
    )
    if total is None or total.value == 0:
        return ()
    computed = part.value / total.value * 100
    tolerance = 0.5 * 10 ** (-stated.decimals) + 1e-9
    status = "match" if abs(computed - stated.value) <= tolerance else "mismatch"
    return (
        {
            "check": "percentage_of_parts",
            "part": to_number(part.value),
            "total": to_number(total.value),
            "computed": round(computed, max(2, stated.decimals)),
            "stated": to_number(stated.value),
            "status": status,
        },
    )


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------


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


def _find_tables(text: str) -> list[TextTable]:
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
            r"(?:计量)?单位\s*[:：]\s*(万元|亿元|元|%|" + _UNITS + r")\s*[)）]?\s*$", line
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
        qualifier = dict(_PREFIX_QUALIFIERS).get(match.group("pre"), "exact")
    if match.group("q1") or match.group("q2"):
        qualifier = "at_least"
    if match.group("post"):
        qualifier = _SUFFIX_TO_QUALIFIER[match.group("post")]
    return value, unit, qualifier


def _join_unique(parts: list[str]) -> str | None:
    out: list[str] = []
    for part in parts:
        if part and part not in out:
            out.append(part)
    return "/".join(out) or None


def _table_statistics(norm: NormalizedText, ctx: _PageContext, table: TextTable) -> list[Statistic]:
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
                indicator = catalog.code_for_name(row_header, FORM) or _match_indicator(
                    row_header, unit or catalog_unit_guess(row_header)
                )
            if indicator is None and col_headers[c]:
                indicator = catalog.code_for_name(col_headers[c] or "", FORM) or _match_indicator(
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


def _column_period(ctx: _PageContext, header: str) -> str | None:
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


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------


def _context(
    text: str,
    notice: NoticeMeta,
    org: str | None,
    published: datetime.date | None,
    default_org: str | None = None,
) -> _PageContext:
    division = _infer_division(text, org, notice, default_org)
    if published is None and notice.published is not None:
        published = (
            notice.published.date()
            if isinstance(notice.published, datetime.datetime)
            else notice.published
        )
    year = notice.report_year
    summary_year = year is not None and (published is None or year != published.year)
    return _PageContext(
        division=division,
        org_name=_org_display(division, org or notice.issuer or default_org),
        year=year,
        published=published,
        summary_year=summary_year,
    )


def extract_statistics(
    normalized: NormalizedText,
    *,
    notice: NoticeMeta | None = None,
    org: str | None = None,
    published: datetime.date | None = None,
) -> list[Statistic]:
    """Statistics of already normalized text, prose and tables, in text order."""
    notice = notice or parse_notice(normalized.text, published=published)
    ctx = _context(normalized.text, notice, org, published)
    tables = _find_tables(normalized.text)
    masked = sorted((t.start, t.end) for t in tables)
    stats = _prose_statistics(normalized, ctx, masked)
    for table in tables:
        stats.extend(_table_statistics(normalized, ctx, table))
    stats.sort(key=lambda s: (s.start, s.end))
    return stats


def extract_page(
    content: str,
    *,
    is_html: bool = False,
    org: str | None = None,
    published: datetime.date | None = None,
    url: str | None = None,
    selector: str | None = None,
    default_org: str | None = None,
) -> PageExtraction:
    """Normalize a page (text or decoded HTML), read its metadata and statistics.

    For HTML the raw offsets refer to the text rendered from the page's main
    content (``htmltext.html_to_text``), since that is what was read.

    ``org`` states whose page this is and overrides what the text says;
    ``default_org`` (a crawler's portal owner) is used only when the page
    names no organisation of its own.
    """
    if is_html:
        from huizong.portal.htmltext import html_to_text

        content = html_to_text(content, selector=selector).text
    normalized = normalize(content)
    notice = parse_notice(normalized.text, published=published)
    ctx = _context(normalized.text, notice, org, published, default_org)
    tables = tuple(_find_tables(normalized.text))
    masked = sorted((t.start, t.end) for t in tables)
    stats = _prose_statistics(normalized, ctx, masked)
    for table in tables:
        stats.extend(_table_statistics(normalized, ctx, table))
    stats.sort(key=lambda s: (s.start, s.end))
    return PageExtraction(
        normalized=normalized,
        notice=notice,
        statistics=stats,
        tables=tables,
        org=ctx.division.name if ctx.division else ctx.org_name,
        org_code=ctx.division.code if ctx.division else None,
        url=url,
    )
