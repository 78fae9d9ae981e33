"""Notice metadata: title, issuer and level, dates, document number, deadline.

Also the two things the rest of the portal code needs to read a page: dates as
pages write them (including ``2020323日前`` and ``2020年33`` whose 年/月/日 were
lost in conversion) and division names → 12-digit statistical division codes.
The division data (``data/divisions_cn.csv.gz``) is read once per process;
names repeat across the country (many towns are called 新华镇), so a name
resolves only when it is unique or another name in the same string or page
pins the branch (``两当县站儿巷镇``).
"""

from __future__ import annotations

import csv
import datetime
import gzip
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import cache, lru_cache
from importlib import resources

from huizong.portal.numbers import parse_chinese

# --------------------------------------------------------------------------
# Divisions
# --------------------------------------------------------------------------

LEVELS = ("province", "city", "county", "town")
_NAME_SUFFIX_CHARS = frozenset("省市县区旗州盟镇乡道")
_NAME_SUFFIX = re.compile("[" + "".join(sorted(_NAME_SUFFIX_CHARS)) + "]")
MAX_NAME_LEN = 12
_ORG_SUFFIX = re.compile(
    r"(?:妇女联合会|妇联|妇女联合会文件|妇联文件|党组|委员会|人民政府|办公室|"
    r"女工委|执委会|主席团)+$"
)
_SHORT_STRIP = (
    ("province", re.compile(r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")),
    ("city", re.compile(r"(?:市|地区|盟|(?:[\u4e00-\u9fff]{1,8}族)*自治州)$")),
    ("county", re.compile(r"(?:市|县|区|旗|(?:[\u4e00-\u9fff]{1,8}族)*自治县)$")),
)


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str
    parent_code: str | None


@dataclass(frozen=True)
class _Index:
    by_code: dict[str, Division]
    by_name: dict[str, tuple[Division, ...]]
    by_short: dict[str, tuple[Division, ...]]


@cache
def _index() -> _Index:
    by_code: dict[str, Division] = {}
    by_name: dict[str, list[Division]] = {}
    by_short: dict[str, list[Division]] = {}
    path = resources.files("huizong.data").joinpath("divisions_cn.csv.gz")
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            division = Division(
                code=row["code"],
                name=row["name"],
                level=row["level"],
                parent_code=row["parent_code"] or None,
            )
            by_code[division.code] = division
            by_name.setdefault(division.name, []).append(division)
            for level, pattern in _SHORT_STRIP:
                if division.level != level:
                    continue
                short = pattern.sub("", division.name)
                if len(short) >= 2 and short != division.name:
                    by_short.setdefault(short, []).append(division)
    return _Index(
        by_code=by_code,
        by_name={k: tuple(v) for k, v in by_name.items()},
        by_short={k: tuple(v) for k, v in by_short.items()},
    )


def by_code(code: str) -> Division | None:
    return _index().by_code.get(code)


def parent(division: Division) -> Division | None:
    return by_code(division.parent_code) if division.parent_code else None


@lru_cache(maxsize=4096)
def _ancestor_chain(division: Division) -> tuple[Division, ...]:
    # Asked for every figure of a page about the same few divisions; the data
    # never changes within a process, so the walk is done once per division.
    chain = [division]
    current = parent(division)
    while current is not None and len(chain) < 6:
        chain.append(current)
        current = parent(current)
    return tuple(chain)


def ancestors(division: Division) -> list[Division]:
    """``division`` and its ancestors, most specific first."""
    return list(_ancestor_chain(division))


def ancestor_at_level(division: Division, level: str) -> Division | None:
    for item in _ancestor_chain(division):
        if item.level == level:
            return item
    return None


def is_within(child: Division, ancestor: Division) -> bool:
    code = ancestor.code
    return any(item.code == code for item in _ancestor_chain(child))


def level_from_suffix(name: str) -> str | None:
    """Level of an organisation name by its place suffix when the data cannot say."""
    core = _ORG_SUFFIX.sub("", name)
    if not core:
        return None
    if core.startswith("全国") or core == "中华全国":
        return "national"
    if re.search(r"(?:省|自治区)$", core):
        return "province"
    if re.search(r"(?:镇|乡|街道|苏木)$", core):
        return "town"
    if re.search(r"(?:县|区|旗)$", core):
        return "county"
    if re.search(r"(?:市|州|盟|地区)$", core):
        return "city"
    return None


def names_in(text: str, *, short: bool = False) -> list[tuple[int, int, tuple[Division, ...]]]:
    """Division names occurring in ``text`` as ``(start, end, candidates)``.

    Full names end in a place suffix, so only substrings ending at a suffix
    character are looked up; ``short`` also looks for 株洲 / 北海 style short
    names of provinces, cities and counties at every position (slower).
    """
    by_name = _index().by_name
    found: list[tuple[int, int, tuple[Division, ...]]] = []
    for suffix in _NAME_SUFFIX.finditer(text):
        end = suffix.end()
        for length in range(min(MAX_NAME_LEN, end), 1, -1):
            hit = by_name.get(text[end - length : end])
            if hit:
                found.append((end - length, end, hit))
                break
    if short:
        index = _index()
        covered = {i for s, e, _ in found for i in range(s, e)}
        for start in range(len(text) - 1):
            if start in covered:
                continue
            for length in (4, 3, 2):
                if start + length > len(text):
                    continue
                hit = index.by_short.get(text[start : start + length])
                if hit:
                    found.append((start, start + length, hit))
                    break
    found.sort()
    return found


def name_ending_at(
    text: str, end: int, *, short: bool = True
) -> tuple[int, tuple[Division, ...]] | None:
    """Longest division name (or short name) ending exactly at ``end`` in ``text``."""
    index = _index()
    for length in range(min(MAX_NAME_LEN, end), 1, -1):
        token = text[end - length : end]
        hit = index.by_name.get(token) or (index.by_short.get(token) if short else None)
        if hit:
            return end - length, hit
    return None


def chain_ending_at(text: str, end: int, *, limit: int = 3) -> list[Division]:
    """Nested names written together and ending at ``end``: 两当县站儿巷镇 → [两当县, 站儿巷镇]."""
    found: list[tuple[Division, ...]] = []
    cursor = end
    while len(found) < limit:
        hit = name_ending_at(text, cursor)
        if hit is None:
            break
        cursor, candidates = hit
        found.append(candidates)
    chain: list[Division] = []
    for candidates in reversed(found):
        chosen = pick(candidates, chain)
        if chosen is not None:
            chain.append(chosen)
    return chain


def pick(candidates: Iterable[Division], context: Iterable[Division] = ()) -> Division | None:
    """One division out of same-named candidates: unique, or pinned by ``context``."""
    options = list(candidates)
    if len(options) == 1:
        return options[0]
    context_codes = {d.code for d in context}
    if context_codes:
        pinned = [
            d for d in options if any(a.code in context_codes for a in _ancestor_chain(d)[1:])
        ]
        if len(pinned) == 1:
            return pinned[0]
    # Among same names at different levels the higher one is the likelier
    # subject of a federation page (a city, not a town of that name).
    by_level = sorted(options, key=lambda d: LEVELS.index(d.level) if d.level in LEVELS else 9)
    if len(by_level) > 1 and by_level[0].level != by_level[1].level:
        return by_level[0]
    return None


def resolve(name: str, context: Iterable[Division] = ()) -> Division | None:
    """Division an organisation name refers to: ``两当县站儿巷镇妇联`` → 站儿巷镇 (town).

    The most specific place named wins; earlier names in the string and
    ``context`` pin it among namesakes.
    """
    core = _ORG_SUFFIX.sub("", name.strip())
    if not core:
        return None
    index = _index()
    exact = index.by_name.get(core)
    context_list = list(context)
    if exact:
        return pick(exact, context_list)
    hits = names_in(core)
    if not hits:
        short = index.by_short.get(core)
        return pick(short, context_list) if short else None
    chosen: list[Division] = []
    for _start, _end, candidates in hits:
        division = pick(candidates, chosen + context_list)
        if division is not None:
            chosen.append(division)
    if not chosen:
        return None
    return max(chosen, key=lambda d: LEVELS.index(d.level) if d.level in LEVELS else -1)


# --------------------------------------------------------------------------
# Dates as pages write them
# --------------------------------------------------------------------------

_CN_DATE_DIGITS = "〇零一二三四五六七八九十"
# Patterns that open with a lookbehind get a leading (?=\d): the scan then
# rejects a non-digit position with one class test before the lookbehind.
_DATE_PATTERNS = (
    (
        "ymd_hm",
        re.compile(
            r"(?=\d)(?<!\d)(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?!\d)"
            r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
        ),
    ),
    (
        "dmy_hm",
        re.compile(
            r"(?=\d)(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d)(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
        ),
    ),
    ("ymd_cn", re.compile(r"(?=\d)(?<!\d)(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")),
    (
        "ymd_cn_numeral",
        re.compile(
            f"([{_CN_DATE_DIGITS}]{{4}})年([{_CN_DATE_DIGITS}]{{1,2}})月([{_CN_DATE_DIGITS}]{{1,3}})[日号]"
        ),
    ),
    # 2020323日: 年 and 月 lost in conversion; split the digits the one valid way.
    ("glued", re.compile(r"(?=\d)(?<![\d〔\[(])(\d{4})年?(\d{2,4})日")),
    # 2020年33: 月 and 日 lost at the end of a signature line.
    ("glued_tail", re.compile(r"(?=\d)(?<!\d)(\d{4})年(\d{2,4})(?=\s*$)", re.M)),
    ("md_cn", re.compile(r"(?=\d)(?<![\d年])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")),
)


@dataclass(frozen=True)
class DateMention:
    start: int
    end: int
    value: datetime.date | datetime.datetime
    has_year: bool
    repaired: bool = False
    ambiguous: bool = False


def _valid_date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def split_glued_date(year: int, digits: str) -> list[datetime.date]:
    """All valid dates whose month and day digits run together: ``323`` → 3-23."""
    options = []
    for cut in range(1, len(digits)):
        month_part, day_part = digits[:cut], digits[cut:]
        if len(month_part) > 2 or len(day_part) > 2:
            continue
        if month_part.startswith("0") and len(month_part) == 2 and month_part != "0":
            pass
        valid = _valid_date(year, int(month_part), int(day_part))
        if valid is not None and valid not in options:
            options.append(valid)
    return options


def _cn_date_number(token: str) -> int | None:
    if all(ch in "〇零一二三四五六七八九" for ch in token):
        return int(
            "".join(str("〇一二三四五六七八九".index(ch) if ch != "零" else 0) for ch in token)
        )
    value = parse_chinese(token)
    return int(value) if value is not None else None


def find_dates(text: str, *, default_year: int | None = None) -> list[DateMention]:
    """Every date mention in ``text``; year-less ones take ``default_year`` (or are skipped)."""
    mentions: list[DateMention] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    for kind, pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if not free(start, end):
                continue
            value: datetime.date | datetime.datetime | None = None
            has_year, repaired, ambiguous = True, False, False
            groups = match.groups()
            if kind in ("ymd_hm", "dmy_hm"):
                if kind == "ymd_hm":
                    year, month, day = int(groups[0]), int(groups[1]), int(groups[2])
                else:
                    day, month, year = int(groups[0]), int(groups[1]), int(groups[2])
                value = _valid_date(year, month, day)
                if value is not None and groups[3] is not None:
                    hour, minute = int(groups[3]), int(groups[4])
                    second = int(groups[5]) if groups[5] else 0
                    if hour < 24 and minute < 60 and second < 60:
                        value = datetime.datetime(year, month, day, hour, minute, second)
            elif kind == "ymd_cn":
                value = _valid_date(int(groups[0]), int(groups[1]), int(groups[2]))
            elif kind == "ymd_cn_numeral":
                parts = [_cn_date_number(g) for g in groups]
                if all(p is not None for p in parts):
                    value = _valid_date(*parts)  # type: ignore[arg-type]
            elif kind in ("glued", "glued_tail"):
                year = int(groups[0])
                if not 1949 <= year <= 2100:
                    continue
                options = split_glued_date(year, groups[1])
                repaired = True
                if len(options) == 1:
                    value = options[0]
                elif options:
                    ambiguous = True
                    value = options[0]
            elif kind == "md_cn":
                if default_year is None:
                    continue
                has_year = False
                value = _valid_date(default_year, int(groups[0]), int(groups[1]))
            if value is None:
                continue
            taken.append((start, end))
            mentions.append(
                DateMention(start, end, value, has_year, repaired=repaired, ambiguous=ambiguous)
            )
    mentions.sort(key=lambda m: m.start)
    return mentions


_REPORT_YEAR = (
    re.compile(r"回望\s*(\d{4})\s*年"),
    re.compile(r"(?<!\d)(\d{4})\s*年(?:是|，|,)?(?:极不平凡|不平凡|特殊|关键)"),
    re.compile(
        r"(?<!\d)(\d{4})\s*年(?:度)?(?:[\u4e00-\u9fff]{0,12})?(?:工作)?(?:总结|回顾|年报|年度报告)"
    ),
    re.compile(r"(?<!\d)(\d{4})\s*年以来"),
    re.compile(r"(?<!\d)(\d{4})\s*年[,，]"),
)


def report_year(text: str, published: datetime.date | None = None) -> int | None:
    """The year a page reports on: ``回望2024年`` / ``2020年是极不平凡的一年``, else publication."""
    head = text[:600]
    for pattern in _REPORT_YEAR:
        match = pattern.search(head)
        if match:
            year = int(match.group(1))
            if 1990 <= year <= 2100 and (published is None or year <= published.year):
                return year
    if published is not None:
        return published.year
    return None


# --------------------------------------------------------------------------
# Notice metadata
# --------------------------------------------------------------------------

_DOC_NUMBER = re.compile(
    r"([\u4e00-\u9fff]{1,10})\s*[〔\[［【(（]\s*((?:19|20)\d{2})\s*[〕\]］】)）]\s*第?\s*(\d{1,4})\s*号"
)
_DOC_NUMBER_LOST = re.compile(
    r"([\u4e00-\u9fff]{1,10}?(?:发|通|函|字|办|呈|报|报告|令|党|组|委|纪要|明电|电))"
    r"\s*[〔\[［【(（]\s*((?:19|20)\d{2})[〕\]］】)）]?\s*(\d{1,4})\s*号?(?!\d)"
)
_DOC_YEAR_ANCHOR = re.compile(r"[〔\[［【(（]\s*(?:19|20)\d{2}")
_TITLE_KEYWORDS = re.compile(
    r"通知|通报|意见|方案|办法|决定|公告|公示|函|总结|报告|要点|规定|细则|倡议书|讲话"
)
_LIST_NUMBERING = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+[、.]|\d+[、.．]|\(\w{1,2}\)|第[一二三四五六七八九十]+[,、，])"
)
# 信息来源|来源, not (?:信息)?来源: a pattern opening with literals is scanned for in C.
_META_SOURCE = re.compile(r"(?:信息来源|来源)\s*[:：]\s*([^\s|｜]+)")
_META_AUTHOR = re.compile(r"作者\s*[:：]\s*([^\s|｜]+)")
_META_PUBLISHED = re.compile(r"(?:发布|发表|更新)(?:日期|时间)\s*[:：]\s*")
_DATELINE_SOURCE = re.compile(r"^\s*([\u4e00-\u9fff]{2,12}(?:网|报|台|社))讯")
_BYLINE = re.compile(
    r"[(（]\s*((?:首席记者|记者|通讯员|供稿|撰稿|作者|文|摄影|实习生)[\s:：]+[^()（）]{1,80})[)）]\s*$",
    re.M,
)
_BYLINE_ROLE = re.compile(
    r"^(?:首席记者|记者|通讯员|供稿|撰稿|作者|摄影|实习生|编辑|文|图)$|^(?:首席记者|记者|通讯员|供稿|撰稿|作者|摄影|实习生)"
)
_RECIPIENTS = re.compile(
    r"^\s*((?:各|全[市县区省镇])[^\n:：]{1,160}?|[\u4e00-\u9fff]{2,30}(?:妇联|妇女联合会|女工委)"
    r"(?:[、,][^\n:：]{1,40})*)\s*[:：]\s*$",
    re.M,
)
_ISSUER_IN_TITLE = re.compile(
    r"^\s*(.{2,30}?(?:妇女联合会|妇联|委员会|办公室|人民政府|工作领导小组))\s*(?:党组)?\s*(?:关于|印发|转发)"
)
_LETTERHEAD = re.compile(r"^(.{2,30}?(?:妇女联合会|妇联|委员会|办公室|人民政府))(?:党组)?文件$")
_SIGNATURE_ORG = re.compile(r"^\s*(.{2,30}?(?:妇女联合会|妇联|委员会|办公室|人民政府))\s*$")
_REPORT_VERB = re.compile(
    r"报送至|报送到|报送|上报至|上报到|上报|报至|报到|报给|发送至|发送到|发至|发到|送至|送交|"
    r"提交至|提交到|提交|交至|传至|传到"
)
# Bare 报 ("报县妇联") only when it is not part of 报表/报告/报名…
_BARE_REPORT_VERB = re.compile(r"报(?![表告名道纸刊酬销备案])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_REPORT_TO_CONTINUES = re.compile(r"@|邮箱|OA|传真|发送|报送|电子版|纸质版")
_SENTENCE_STOP = re.compile(r"[。;；\n]")
_ORG_WORD = re.compile(r"^(?:妇联|本会|我会)")


@dataclass(frozen=True)
class NoticeMeta:
    """What a page says about itself; dates are ``date`` or ``datetime``."""

    title: str | None = None
    issuer: str | None = None
    level: str | None = None
    issuer_code: str | None = None
    published: datetime.date | datetime.datetime | None = None
    report_year: int | None = None
    source: str | None = None
    author: str | None = None
    doc_number: str | None = None
    recipients: str | None = None
    recipient_list: tuple[str, ...] = ()
    deadline: datetime.date | None = None
    deadline_task: str | None = None
    report_to: str | None = None
    report_email: str | None = None
    signature_date: datetime.date | None = None
    is_notice: bool = False
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, datetime.date):
                value = (
                    value.isoformat(timespec="minutes")
                    if isinstance(value, datetime.datetime)
                    else value.isoformat()
                )
            elif isinstance(value, tuple):
                value = list(value)
            out[item.name] = value
        # The warehouse loader reads the level under this name.
        out["issuer_level"] = self.level
        return out


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n")]


def _find_title(lines: list[str]) -> str | None:
    for line in lines[:25]:
        if not line:
            continue
        if len(line) > 80:
            return None
        if _LIST_NUMBERING.match(line) or _META_PUBLISHED.search(line) or _META_SOURCE.search(line):
            continue
        if re.fullmatch(r"[(（]?[\d年月日.\-/:\s]+[)）]?", line):
            continue
        if _SENTENCE_END_CHARS.search(line):
            continue
        if len(re.findall(r"[\u4e00-\u9fff]", line)) < 6:
            continue
        if _LETTERHEAD.match(line.replace(" ", "")) or _DOC_NUMBER.search(line):
            continue
        return re.sub(r"\s+", " ", line)
    return None


_SENTENCE_END_CHARS = re.compile(r"[。!?;]\s*$")


def _find_issuer(lines: list[str], title: str | None) -> tuple[str | None, str | None]:
    """Issuer and where it was read from (title, letterhead, signature)."""
    if title:
        match = _ISSUER_IN_TITLE.match(title)
        if match:
            return match.group(1).strip(), "title"
    compact = [line.replace(" ", "") for line in lines]
    head = [line for line in compact[:30] if line]
    for first, second in zip(head, [*head[1:], ""], strict=False):
        for candidate in (first, first + second):
            # _LETTERHEAD ends in 文件; most lines do not.
            match = _LETTERHEAD.match(candidate) if candidate.endswith("文件") else None
            if match:
                return match.group(1), "letterhead"
    tail = [line for line in compact if line][-6:]
    for index, line in enumerate(tail):
        match = _SIGNATURE_ORG.match(line)
        if match and index + 1 < len(tail) and re.search(r"\d{4}\s*年", tail[index + 1]):
            return match.group(1), "signature"
    return None, None


def _published(lines: list[str], text: str) -> datetime.date | datetime.datetime | None:
    for line in lines[:40]:
        marker = _META_PUBLISHED.search(line)
        if marker:
            found = find_dates(line[marker.end() :])
            if found:
                return found[0].value
    for line in lines[:8]:
        if not line:
            continue
        stripped = line.strip("()（） ")
        found = find_dates(stripped)
        if not found or not found[0].has_year or found[0].repaired:
            continue
        # A line that is a date, or opens with one before 来源/作者 (dateline).
        rest = stripped[found[0].end :].strip()
        if found[0].start == 0 and (len(rest) <= 4 or _META_SOURCE.match(rest)):
            return found[0].value
    return None


def _author(lines: list[str], text: str) -> str | None:
    for line in lines[:40]:
        match = _META_AUTHOR.search(line)
        if match:
            return match.group(1)
    match = _BYLINE.search(text, max(0, len(text) - 600))
    if match is None:
        return None
    names = []
    for token in re.split(r"[\s:：,，、]+", match.group(1)):
        name = _BYLINE_ROLE.sub("", token)
        if name:
            names.append(name)
    return "、".join(names) or None


def _source(lines: list[str]) -> str | None:
    for line in lines[:40]:
        match = _META_SOURCE.search(line)
        if match:
            return match.group(1)
    for line in lines[:10]:
        match = _DATELINE_SOURCE.match(line)
        if match:
            return match.group(1)
    return None


def _doc_number(text: str) -> tuple[str | None, bool]:
    head = text[:3000]
    for anchor in _DOC_YEAR_ANCHOR.finditer(head):
        start = max(0, anchor.start() - 12)
        match = _DOC_NUMBER.match(head, start) or _DOC_NUMBER.search(head, start, anchor.end() + 8)
        if match:
            return f"{match.group(1)}〔{match.group(2)}〕{int(match.group(3))}号", False
        match = _DOC_NUMBER_LOST.search(head, start, anchor.end() + 8)
        if match:
            return f"{match.group(1)}〔{match.group(2)}〕{int(match.group(3))}号", True
    return None, False


def _recipients(text: str) -> str | None:
    head = text[:4000]
    # A match ends in a colon that closes its line; most pages have none.
    if not any(line.rstrip().endswith((":", "：")) for line in head.split("\n")):
        return None
    match = _RECIPIENTS.search(head)
    return match.group(1).strip() if match else None


def _split_recipients(recipients: str) -> tuple[str, ...]:
    parts = [p.strip() for p in re.split(r"[、,，;；]", recipients)]
    return tuple(p for p in parts if p)


# The first digit is taken out of the alternatives (\d{4} is \d\d{3}, \d{1,2} is
# \d\d?): a pattern opening with a character class is scanned for in C.
_DEADLINE_DATE = re.compile(
    r"\d(?:\d{3}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*[日号]?|\d{3}[-/.]\d{1,2}[-/.]\d{1,2}"
    r"|\d{3}年?\d{2,4}日|\d?\s*月\s*\d{1,2}\s*[日号])"
)
_DEADLINE_WORDS = ("前", "为止", "截止")
_DEADLINE_AFTER_DATE = re.compile(
    r"\s*(?:[(（][^)）]{0,12}[)）])?\s*(?:[上中下]午|晚上?)?\s*"
    r"(?:\d{1,2}\s*[:：点时]\s*(?:\d{1,2}\s*分?)?)?\s*(?:前|之前|以前|为止|截止)"
)


def _deadline(
    text: str,
    year: int | None,
    issuer_level: str | None,
    flags: list[str],
    published: datetime.date | None = None,
) -> tuple[datetime.date | None, str | None, str | None, str | None]:
    # _DEADLINE_AFTER_DATE needs one of these; most pages are not notices.
    if not any(word in text for word in _DEADLINE_WORDS):
        return None, None, None, None
    for date_match in _DEADLINE_DATE.finditer(text):
        match = _DEADLINE_AFTER_DATE.match(text, date_match.end())
        if match is None or text[max(0, date_match.start() - 2) : date_match.start()] in (
            "截至",
            "截止",
        ):
            continue
        dates = find_dates(date_match.group(0), default_year=year)
        if not dates:
            continue
        mention = dates[0]
        if mention.ambiguous:
            flags.append("deadline_ambiguous")
            deadline = None
        else:
            deadline = mention.value
            if isinstance(deadline, datetime.datetime):
                deadline = deadline.date()
            if mention.repaired:
                flags.append("deadline_repaired")
            if (
                not mention.has_year
                and published is not None
                and year == published.year
                and deadline < published
            ):
                # "1月10日前" in a notice of 20 December: the January after it.
                deadline = _next_year(deadline)
                flags.append("deadline_next_year")
        stop = _SENTENCE_STOP.search(text, match.end())
        rest = text[match.end() : stop.start() if stop else len(text)]
        task, report_to = None, None
        verb = _REPORT_VERB.search(rest) or _BARE_REPORT_VERB.search(rest)
        if verb is not None:
            task = (
                re.sub(r"^[\s,，]*(?:将|把|报送|上报)?", "", rest[: verb.start()]).strip(" ,，")
                or None
            )
            report_to = rest[verb.end() :].strip(" ,，") or None
            if report_to:
                head, _, tail = report_to.partition(",")
                if tail and not _REPORT_TO_CONTINUES.search(tail):
                    report_to = head
        if report_to and _ORG_WORD.match(report_to) and issuer_level:
            prefix = {"province": "省", "city": "市", "county": "县", "town": "镇"}.get(
                issuer_level
            )
            if prefix and report_to.startswith("妇联"):
                report_to = prefix + report_to
                flags.append("report_to_level_added")
        return deadline, task, report_to, None
    return None, None, None, None


def _next_year(value: datetime.date) -> datetime.date:
    try:
        return value.replace(year=value.year + 1)
    except ValueError:  # 29 February
        return value.replace(year=value.year + 1, day=28)


def _signature_date(
    lines: list[str], published: datetime.date | None, flags: list[str]
) -> datetime.date | None:
    tail = "\n".join(line for line in lines if line)[-200:]
    mentions = [m for m in find_dates(tail) if m.has_year]
    if not mentions:
        return None
    mention = mentions[-1]
    value = mention.value
    if isinstance(value, datetime.datetime):
        value = value.date()
    if not mention.repaired:
        return value
    plausible = not mention.ambiguous and (
        published is None or value <= published <= value + datetime.timedelta(days=366)
    )
    if plausible:
        flags.append("signature_date_repaired")
        return value
    flags.append("signature_date_unreadable")
    return None


def parse_notice(
    normalized_text: str, *, published: datetime.date | datetime.datetime | None = None
) -> NoticeMeta:
    """Metadata of a page (any page; notice-only fields stay None elsewhere).

    ``published`` is the publication date known from the crawl; it wins over a
    date printed on the page and gives year-less dates their year.
    """
    text = normalized_text
    lines = _lines(text)
    flags: list[str] = []
    title = _find_title(lines)
    issuer, issuer_from = _find_issuer(lines, title)
    page_published = _published(lines, text)
    published_value = published if published is not None else page_published
    published_date = (
        published_value.date()
        if isinstance(published_value, datetime.datetime)
        else published_value
    )
    year = report_year(text, published_date)
    level: str | None = None
    issuer_code: str | None = None
    if issuer:
        division = resolve(issuer)
        if division is not None:
            level, issuer_code = division.level, division.code
        else:
            level = level_from_suffix(issuer)
    doc_number, doc_repaired = _doc_number(text)
    if doc_repaired:
        flags.append("doc_number_repaired")
    recipients = _recipients(text)
    deadline_year = published_date.year if published_date else year
    deadline, task, report_to, _ = _deadline(
        text, deadline_year, level, flags, published_date
    )
    email_match = _EMAIL.search(report_to or "")
    signature = _signature_date(lines, published_date, flags)
    is_notice = bool(
        doc_number or deadline or recipients or (title and re.search(r"通知|通报|函|公告", title))
    )
    return NoticeMeta(
        title=title,
        issuer=issuer,
        level=level,
        issuer_code=issuer_code,
        published=published_value,
        report_year=year,
        source=_source(lines),
        author=_author(lines, text),
        doc_number=doc_number,
        recipients=recipients,
        recipient_list=_split_recipients(recipients) if recipients else (),
        deadline=deadline,
        deadline_task=task,
        report_to=report_to,
        report_email=email_match.group(0) if email_match else None,
        signature_date=signature,
        is_notice=is_notice,
        flags=tuple(dict.fromkeys(flags + ([f"issuer_from_{issuer_from}"] if issuer_from else []))),
    )
