"""What a figure is about: the page's organisation, the period, the indicator.

The page context (division, year, publication date) is read once per page;
per figure, the words before it name the indicator (catalog aliases), a
scope word or a subordinate division the organisation, time words the period.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from huizong import catalog
from huizong.portal.notice import (
    MAX_NAME_LEN,
    Division,
    NoticeMeta,
    ancestor_at_level,
    chain_ending_at,
    is_within,
    name_ending_at,
    names_in,
    resolve,
)

FORM = "FL-01"


_HAN = re.compile(r"[\u4e00-\u9fff]")


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


_PERIOD_PREFIX = re.compile(
    r"(?P<until>截至|截止到|截止|至)\s*(?:目前|今年|现在|当前|年底|年末)?"
    r"|(?P<since>自|从)?(?P<date_since>DATE)\s*(?:起|以来)"
    r"|(?P<year>(?:19|20)\d{2})\s*年(?![\d月])"
    r"|(?P<fullyear>全年|今年|本年度|本年|年内|年度)"
    r"|(?P<half>上半年|下半年)"
    r"|(?P<quarter>第?(?P<quarter_digit>[一二三四1-4])季度)"
)


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
def match_indicator(description: str, unit: str | None, *, after: bool = False) -> str | None:
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


_ORG_MENTION = re.compile(r"(?:妇联|妇女联合会)")


# The page's own organisation shows in its first mentions; more only cost time.
_MAX_ORG_MENTIONS = 24


_PLACE_SUFFIX = re.compile(r"[省市县区旗州盟镇乡道]")


_OWN_PLACE = re.compile(
    r"(?:新|美丽|魅力|幸福|大美)(?P<name>[\u4e00-\u9fff]{2,4}?)(?=[、,，。!！]|工作|建设|发展)"
    r"|(?P<name2>[\u4e00-\u9fff]{2,4}?)(?=日报|晚报|电视台|广播电视台|新闻网|发布)"
)


@dataclass(frozen=True)
class PageContext:
    division: Division | None
    org_name: str | None
    year: int | None
    published: datetime.date | None
    summary_year: bool


# chain_ending_at reads at most three names of MAX_NAME_LEN characters back,
# so the window before a mention decides the chain; pages repeat their own
# organisation's name, and the window is a small cache key.
_CHAIN_WINDOW = 3 * MAX_NAME_LEN


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


def _date_year(ctx: PageContext, month: int, day: int, *, until: bool) -> int | None:
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


_MD = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")


_MONTH_RANGE = re.compile(r"(?=\d)(?:(\d{4})\s*年\s*)?(\d{1,2})\s*[-—~至到]\s*(\d{1,2})\s*月")


_NOW_WORD = re.compile(r"\s*(?:目前|现在|当前)")


def _iso_from_md(ctx: PageContext, text: str, *, until: bool) -> str | None:
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


def figure_period(
    ctx: PageContext,
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


def scope_org(
    ctx: PageContext, clause_prefix: str, scope_matches: list[re.Match[str]], pos: int
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


def description_of(clause_prefix: str) -> str:
    desc = clause_prefix
    cut = desc.rfind("等")
    if 0 <= cut < len(desc) - 2:
        desc = desc[cut + 1 :]
    return desc


_DESC_TRIM = re.compile(
    r"^(?:其中|全年|累计|共计|共|合计|总计|已|先后|目前|同时|全市|全县|全镇|全区|全省|我市|我县|我镇|我区|"
    r"并|还|再|又|为|达到|达|有)+|(?:达到|达|为|共计|共|累计|合计|总计|约|近|超过|超|逾|突破|有|了)+$"
)


# Clause heads and the words after figures repeat across a page and across
# pages of one portal; both helpers are pure, so their results are cached.
@lru_cache(maxsize=8192)
def indicator_name_of(description: str, following: str) -> str | None:
    name = _DESC_TRIM.sub("", description.strip(" \t“”"))
    name = name.strip(" ,，、:：")
    if len(_HAN.findall(name)) >= 2:
        return name
    following = following.strip(" “”")
    return following or (name or None)


@lru_cache(maxsize=8192)
def name_han_count(description: str) -> int:
    return len(_HAN.findall(_DESC_TRIM.sub("", description)))


@dataclass
class Sentence:
    start: int
    end: int
    periods: list[re.Match[str]]
    ranges: list[re.Match[str]]
    scopes: list[re.Match[str]]
    event: str | None


def sentence_info(ctx: PageContext, text: str, start: int, end: int) -> Sentence:
    head = _EVENT_DATE.match(text, start, end)
    return Sentence(
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


def page_context(
    text: str,
    notice: NoticeMeta,
    org: str | None,
    published: datetime.date | None,
    default_org: str | None = None,
) -> PageContext:
    division = _infer_division(text, org, notice, default_org)
    if published is None and notice.published is not None:
        published = (
            notice.published.date()
            if isinstance(notice.published, datetime.datetime)
            else notice.published
        )
    year = notice.report_year
    summary_year = year is not None and (published is None or year != published.year)
    return PageContext(
        division=division,
        org_name=_org_display(division, org or notice.issuer or default_org),
        year=year,
        published=published,
        summary_year=summary_year,
    )
