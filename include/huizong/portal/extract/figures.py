"""Figures in running text: numbers, units, multipliers and qualifiers.

A figure is a number with its measure word, percentage, 万/亿 multiplier and
the qualifier words around it (约, 余, 以上, …); this module finds them and
says what they are worth, nothing about what they count or whose they are.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left
from dataclasses import dataclass

from huizong.portal.numbers import (
    CANONICAL_UNIT,
    MULTIPLIERS,
    UNIT_WORDS,
    bounded_float,
    decimals_of,
    parse_amount,
    parse_percent,
    to_number,
)

UNIT_PATTERN = "|".join(UNIT_WORDS)


_CN = "零〇一二两三四五六七八九十百千万亿"


FIGURE = re.compile(
    # percentages first: they share digits with counts
    r"(?P<pct>"
    r"(?P<pct_num>\d+(?:\.\d+)?)\s*%"
    f"|百分之[{_CN}\\d.点]+"
    r"|(?<![一\d])(?:[二三四五六七八九]|十)成(?![员立为果绩效功本熟长都就交型年人千])"
    f"|(?<![\\d/.])\\d{{1,3}}/\\d{{1,3}}(?![\\d/])"
    f"|[{_CN}]{{1,3}}分之[{_CN}]{{1,3}}"
    r")"
    r"|(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
    f"|[{_CN}]+(?=[余多来万亿]|{UNIT_PATTERN}))"
    r"(?P<q1>余|多|来)?"
    r"(?P<mult>(?:十|百|千)?(?:万|亿)+|千|百)?"
    r"(?P<q2>余|多)?"
    f"(?P<unit>{UNIT_PATTERN})?"
)


NUMERAL_RUN = re.compile(f"[\\d{_CN}]+")


# What can follow a run of ASCII digits inside a _FIGURE match: a percent sign
# (spaces allowed before it), a decimal point, a thousands comma, a fraction
# slash, 余/多/来, a measure word. Most runs are bare digits followed by
# anything else (dates, years, phone and hotline numbers), which never make a
# figure, so they skip the full pattern.
AFTER_DIGITS = frozenset("%.,/余多来" + "".join(word[0] for word in UNIT_WORDS))


_SPACED_PERCENT = re.compile(r"\s+%")


_SUFFIX_QUALIFIER = re.compile(r"(以上|左右|以内|以下|之多|上下|有余)")


PREFIX_QUALIFIERS: tuple[tuple[str, str], ...] = (
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
    ("约占", "approx"),
    ("约合", "approx"),
    ("约为", "approx"),
    ("约有", "approx"),
    ("近占", "at_most"),
    ("约", "approx"),
    ("将近", "at_most"),
    ("接近", "at_most"),
    ("不足", "at_most"),
    ("不到", "at_most"),
    ("最多", "at_most"),
    ("近", "at_most"),
)


PREFIX_QUALIFIERS = tuple(sorted(PREFIX_QUALIFIERS, key=lambda item: len(item[0]), reverse=True))


SUFFIX_TO_QUALIFIER = {
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


_LIST_JOIN = re.compile(r"^\s*(?:、|和|及|与|以及|,|，|至|到|-|~|—|～)\s*$")


# 个月/个人/名单/次日: the measure word starts another word.
# 两个, 四个, 三位: counts when no fixed expression follows (see _FIXED_AFTER_NUMERAL).
_COUNTED_SINGLE_CN_UNITS = frozenset(["个", "位", "家", "所", "处", "份", "场次", "篇", "倍"])
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
        "次产",
    ]
)


_TIGHT_LIST_JOIN = re.compile(r"^\s*(?:、|和|及|与|以及)\s*$")


_TIME_AFTER = re.compile(r"^(?:\d+\s*秒|钟|\d+\s*分)")


_PROGRAMME_ADJACENT = "+＋×*"


_QUOTE_PAIRS = {"《": "》", "“": "”", "「": "」", "〈": "〉"}


_SHORT_QUOTE = 14


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
class Figure:
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
    (length, {word: qualifier for word, qualifier in PREFIX_QUALIFIERS if len(word) == length})
    for length in sorted({len(word) for word, _ in PREFIX_QUALIFIERS}, reverse=True)
)


# The word ends right before the figure; most figures follow none of these.
_PREFIX_LAST_CHARS = frozenset(word[-1] for word, _qualifier in PREFIX_QUALIFIERS)


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


# Page furniture: view counters (浏览次数：418, 阅读 1024).
_COUNTER_LEAD = re.compile(
    r"(?:浏览|阅读|点击|访问|访问量|浏览量|阅读量|点击量|点击率|次数|人气)"
    r"[ \t\u3000]*[:：]?[ \t\u3000]*"
)
# Quotas and requirements, not achievements: 名额3名, 限报1个, 一式两份, 每村推荐2户.
_QUOTA_LEAD = re.compile(
    r"(?:名额|限报|限额|限|一式|每人|每户|每组|每单位|每篇|每件|指标)"
    r"[ \t\u3000]*[:：为]?[ \t\u3000]*"
)
# Every word _COUNTER_LEAD / _QUOTA_LEAD starts with (a page without any needs no scan).
_COUNTER_FIRST = ("浏览", "阅读", "点击", "访问", "次数", "人气")
_QUOTA_FIRST = ("名额", "限", "一式", "每", "指标")
# A bound (不少于5人) is a requirement when the clause asks for it.
_BOUND_WORDS = frozenset(["不少于", "不低于", "不超过", "不多于", "不高于", "少于", "至少", "最多"])
_REQUIREMENT = re.compile(
    r"每|须|需|应|要求|不得|原则上|名额|限|推荐|报送|选送|选派|控制|确保|力争|争取|人数|规模|时长|篇幅"
)
_SHARE_ABOUT = re.compile(r"(约|大约|近)占[^，,。；;：:\d]{0,16}$")
# 每村至少推荐2户, 每县报送3个: what each body is asked for.
_PER_UNIT_QUOTA = re.compile(
    r"每(?:个|家|位|名)?(?:村|人|户|单位|县|市|区|镇|乡|街道|社区|组|队|校|学校|企业|协会)"
    r"[^，,。；;]{0,6}?(?:至少|最多|限|推荐|推选|报送|选送|选派|上报|申报|提交)"
)
# A quota or a standard per head (名额占10%, 每人将获得1万元), not a total.
_PER_HEAD = re.compile(r"名额|每人|每户|每名|每位|(?<!平均)每个|每家|每村")
# Selections announced (评选表彰…70名, 将至少占到20%以上): what will be, not what was.
_FUTURE = re.compile(r"将(?!近)|(?<![模虚])拟(?![定人])")
_SELECTION = re.compile(r"评选|表彰|推荐|自荐|举荐|申报|名额")
_EACH = re.compile(r"各(?:贷款|检查|补助|资助|奖励|奖|发放|获得|安排)?$")
_WIDGET_WORDS = frozenset(["点赞", "评论", "收藏", "转发", "分享", "阅读", "浏览"])
# Plans and targets (力争…, 目标是…), not what was done.
_PLAN = re.compile(
    r"力争|预计|计划(?!生育|单列|》)|(?<![模虚])拟(?![定人])|任务(?:为|是)|确保|(?<![即现特兹])将(?![近其之来])"
)
# A stated goal covers its whole sentence (目标是,巩固100%…、100%…).
_GOAL = re.compile(r"目标(?:是|为)")
# Ages count only as a statistic of a population (平均年龄42岁, 预期寿命75.08岁).
_AGE_CONTEXT = re.compile(r"年龄|寿命|岁数")
# A lone Chinese numeral before 个/位 in a fixed expression: 四个意识, 两个维护, 三位一体.
_FIXED_AFTER_NUMERAL = re.compile(
    r"意识|自信|维护|确立|代表|全面|一体|结合|方面|层面|环节|阶段|步骤|重点|坚持|必须|优先|到位|"
    r"聚焦|统筹|一批|清单|关键|着力|落实|注重|作风|服务|字|不|体系|机制|工程|行动|抓手|载体|平台|"
    r"强化|提升|融合|转变|明确|突出|同步|覆盖|主体|责任|战场|百年|大局|基本|规定|文明|建设|措施|举措"
)


# Greedy: the match ends just after the last delimiter of the window.
_THROUGH_LAST_SENTENCE_END = re.compile(r".*[。！!？?\n]", re.S)
_THROUGH_LAST_CLAUSE_END = re.compile(r".*[，,；;：:]", re.S)
# The first word of every sentence rule below, as plain words: the page is
# scanned for them once (a plain alternation scans fast), and a figure with
# none in the 80 characters before it needs no rule.
_SENTENCE_MARKERS = re.compile(
    "每|须|需|应|要求|不得|原则上|名额|限|推荐|报送|选送|选派|控制|确保|力争|人数|规模|时长|篇幅|"
    "将|拟|预计|计划|目标|年龄|寿命|岁数|评选|表彰|推选|任务"
)


@dataclass(frozen=True)
class PageMarkers:
    """Where a page's text has the words that make a figure no statistic, found once a page.

    ``counter_ends``/``quota_ends``: positions right after a counter (浏览：) or
    quota word (名额) where a number would start; ``sentence_words``: start of
    every word a sentence rule looks for, sorted.
    """

    counter_ends: frozenset[int]
    quota_ends: frozenset[int]
    sentence_words: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> PageMarkers:
        # Substring tests are far cheaper than a scan; most pages have no counter.
        counters = (
            frozenset(m.end() for m in _COUNTER_LEAD.finditer(text))
            if any(word in text for word in _COUNTER_FIRST)
            else frozenset()
        )
        quotas = (
            frozenset(m.end() for m in _QUOTA_LEAD.finditer(text))
            if any(word in text for word in _QUOTA_FIRST)
            else frozenset()
        )
        return cls(counters, quotas, tuple(m.start() for m in _SENTENCE_MARKERS.finditer(text)))


def _not_a_statistic(
    text: str,
    markers: PageMarkers,
    start: int,
    end: int,
    unit: str | None,
    qualifier_word: str,
    bound_after: bool,
) -> bool:
    """Figures that are furniture, quotas, plans or ages in a name, from the words around them."""
    # 阅读量突破1亿次 reports reach; 阅读 1024 under a title is the page's counter.
    if (not qualifier_word and start in markers.counter_ends) or start in markers.quota_ends:
        return True
    before = text[start - 1 : start]
    # 三届六次 (a session), 前三位 (a rank), 各贷款3万元 (each one's share).
    session = (
        before == "届" and start >= 2 and (text[start - 2] in _CN or text[start - 2].isdigit())
    )
    if (
        session
        or (before in "前后" and unit == "人" and before)
        or (
            text.find("各", start - 6 if start > 6 else 0, start) >= 0
            and _EACH.search(text, start - 6 if start > 6 else 0, start)
        )
    ):
        return True
    # 0人点赞, 0条评论: the page's widgets.
    if text[end : end + 2] in _WIDGET_WORDS:
        return True
    # 每10万人中, 每千户中: the base of a rate, not a count.
    if text[start - 1 : start] == "每" and text[end : end + 1] == "中":
        return True
    # The bounds of a range that selects what is counted (在3千人至5千人之间的乡镇有4个).
    range_low = bool(_RANGE_LOW_BOUND.match(text, end))
    range_high = text[end : end + 3] == "之间的"
    threshold = text[end : end + 1] == "的" or range_low or range_high
    if unit != "岁" and not threshold:
        words = markers.sentence_words
        first = bisect_left(words, start - 80)
        if first == len(words) or words[first] >= start:
            return False
    sentence = text[start - 80 if start > 80 else 0 : start]
    last = _THROUGH_LAST_SENTENCE_END.match(sentence)
    if last:
        sentence = sentence[last.end() :]
    clause = sentence[-40:]
    last = _THROUGH_LAST_CLAUSE_END.match(clause)
    if last:
        clause = clause[last.end() :]
    if qualifier_word in _BOUND_WORDS and _REQUIREMENT.search(sentence):
        return True
    if _PER_HEAD.search(clause):
        return True
    if (_FUTURE.search(sentence) or "要求" in clause) and (
        _SELECTION.search(sentence) or qualifier_word in _BOUND_WORDS or bound_after
    ):
        return True
    if _PER_UNIT_QUOTA.search(sentence):
        return True
    if _PLAN.search(clause) or _GOAL.search(sentence):
        return True
    if unit == "岁":
        if not _AGE_CONTEXT.search(sentence) or text[end : end + 1] in ("-", "~", "—", "至", "以"):
            return True
        if text[start - 1 : start] in ("-", "~", "—", "至", "满"):
            return True
    # A threshold inside a statistic: 增收额在2万元以上的占53%, 超过1万户的乡镇.
    if range_high and clause.endswith(_RANGE_MARKS) and "在" in clause[-16:]:
        return True
    return threshold and (clause.endswith("在") or qualifier_word in _THRESHOLD_WORDS)


# 超过1万户的乡镇, 少于2万人的有3个: a bound that selects, not a count.
_THRESHOLD_WORDS = frozenset(("超过", "超", "逾", "少于", "不足", "不到", "低于", "高于", "多于"))
_RANGE_MARKS = ("至", "到", "-", "—", "~", "～")
_RANGE_LOW_BOUND = re.compile(r"[至到\-—~～][^，,。；;]{0,10}?之间的")


def figure_from_match(
    text: str, match: re.Match[str], quoted: set[int], markers: PageMarkers | None = None
) -> Figure | None:
    """The figure ``match`` of ``FIGURE`` stands for, or None when it is no statistic.

    ``markers`` are the page's :class:`PageMarkers` (found here when not given).
    """
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
            qualifier = SUFFIX_TO_QUALIFIER[suffix.group(1)]
            end = suffix.end()
        if qualifier == "exact":
            # 约占信访总数的1%: the 约 of 约占 qualifies the share it introduces.
            share = _SHARE_ABOUT.search(text, start - 20 if start > 20 else 0, start)
            if share:
                qualifier = "approx" if share.group(1) != "近" else "at_most"
        bound_after = qualifier == "at_least" and suffix is not None
        if markers is None:
            markers = PageMarkers.of(text)
        if _not_a_statistic(
            text, markers, figure_start, end, "%", text[figure_start:start], bound_after
        ):
            return None
        return Figure(
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
        elif len(number) == 1 and (
            unit_word is None
            or (
                unit_word not in _STRONG_SINGLE_CN_UNITS
                and unit_word not in _COUNTED_SINGLE_CN_UNITS
            )
            or _FIXED_AFTER_NUMERAL.match(text, end)
        ):
            return None
        if unit_word is None and not mult and not number.endswith(("万", "亿")):
            return None
        if any(ch not in _CN for ch in number):
            return None
        if len(number) > 1 and not any(ch in "十百千万亿" for ch in number):
            # 唯一一个, 一二三: digits read one by one are no count.
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
        qualifier = SUFFIX_TO_QUALIFIER[suffix.group(1)]
        figure_end = suffix.end()
    unit = CANONICAL_UNIT.get(unit_word) if unit_word else None
    if unit is None and number.isdigit() and len(number) == 4 and number[:2] in ("19", "20"):
        return None
    if unit == "人" and text[figure_end : figure_end + 3] in ("(次)", "（次）"):
        unit, figure_end = "人次", figure_end + 3
    bound_after = figure_end > end and qualifier == "at_least"
    if markers is None:
        markers = PageMarkers.of(text)
    if _not_a_statistic(
        text, markers, figure_start, figure_end, unit, text[figure_start:start], bound_after
    ):
        return None
    return Figure(
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


def _share_list_units(text: str, figures: list[Figure]) -> list[Figure]:
    """``分别为12、15、20人`` / ``3000-10000元``: bare numbers take the list's unit."""
    extra: list[Figure] = []
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
                Figure(
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


def _propagate_list_qualifiers(text: str, figures: list[Figure]) -> None:
    """``分别在70%、60%和40%以上``: a closing qualifier covers the whole list."""
    for index in range(len(figures) - 1, 0, -1):
        last = figures[index]
        if last.qualifier == "exact" or text[last.end - 2 : last.end] not in SUFFIX_TO_QUALIFIER:
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


def _share_percentage_points(text: str, figures: list[Figure]) -> None:
    """``提高3个和0.8个百分点``: the 个 of a list ending in 个百分点 is 个百分点 too."""
    for index in range(len(figures) - 1, 0, -1):
        if figures[index].unit != "个百分点":
            continue
        cursor = index
        while cursor > 0:
            previous = figures[cursor - 1]
            between = text[previous.end : figures[cursor].start]
            if previous.unit != "个" or not _TIGHT_LIST_JOIN.match(between):
                break
            previous.unit = "个百分点"
            cursor -= 1


def find_figures(text: str, masked: list[tuple[int, int]]) -> list[Figure]:
    quoted = _quoted_positions(text)
    markers = PageMarkers.of(text)
    figures: list[Figure] = []
    resume = 0
    # A cheap scan for runs of numerals, then the full pattern anchored at each.
    for run in NUMERAL_RUN.finditer(text):
        start, end = run.span()
        if start < resume:
            continue
        numeral = run.group()
        if numeral == "一":
            continue
        if numeral.isascii() and numeral.isdigit():
            following = text[end : end + 1]
            if following not in AFTER_DIGITS and not (
                following.isspace() and _SPACED_PERCENT.match(text, end)
            ):
                continue
        match = FIGURE.match(text, start)
        if match is None:
            continue
        resume = match.end()
        if masked and _inside_any(masked, start):
            continue
        figure = figure_from_match(text, match, quoted, markers)
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
    special = [
        f for f in _special_figures(text, quoted, markers) if not _inside_any(masked, f.start)
    ]
    if special:
        # A rate per 10万 read as 10万 of something is replaced by the rate.
        figures = [
            f
            for f in figures
            if not any(x.number_start < f.end and f.number_start < x.end for x in special)
        ]
        figures.extend(special)
    figures.sort(key=lambda f: f.start)
    _propagate_list_qualifiers(text, figures)
    _share_percentage_points(text, figures)
    _range_bounds(text, figures)
    return figures


_RANGE_JOIN = re.compile(r"\s*(?:至|到|~|～|-|—)\s*$")


def _range_bounds(text: str, figures: list[Figure]) -> None:
    """A range something is kept in (保持在0.14%至0.28%): the lower bound is at_least,
    the upper at_most."""
    for low, high in itertools.pairwise(figures):
        if low.qualifier != "exact" or high.qualifier != "exact":
            continue
        if not _RANGE_JOIN.match(text, low.end, high.start) or not re.search(
            r"(?:保持|稳定|控制|维持|介于)在?$|之间$", text[max(0, low.start - 6) : low.start]
        ):
            continue
        low.qualifier, high.qualifier = "at_least", "at_most"


# Rates per population: 死亡率为39.49/10万.
_PER_POPULATION = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*/\s*(10万|十万|万|1000|千|100)(?![\d.])")
# Ratios stated bare: 性别比为98.39, 三次产业结构为9.2∶62.2∶28.8.
_RATIO_WORD = re.compile(r"性别比|结构为|结构比")
_BARE_RATIO = re.compile(r"(?<![\d.])(\d{2,3}(?:\.\d+)?|\d\.\d+)(?![\d.%‰])")
_RATIO_FOLLOWER = frozenset("。，,；;、∶:：)）(（\n下上增减降和与比")
# Years of schooling (平均受教育年限8.39年): 年 as a measure only where 年限 says so.
_YEARS_SPAN = re.compile(r"(?<![\d.])(\d{1,2}(?:\.\d+)?)年(?![度级代底末初前后来内间份月])")
_YEARS_CONTEXT = re.compile(r"年限|受教育")
# 数万名, 数千人: at least one of the multiplier.
_SEVERAL = re.compile(r"数(十|百|千|万|十万|百万)(余)?(" + UNIT_PATTERN + ")")


def _special_figures(text: str, quoted: set[int], markers: PageMarkers) -> list[Figure]:
    """Figures the main pattern does not read: per-population rates, bare ratios, 年, 数万."""
    out: list[Figure] = []
    if "/" in text:
        for match in _PER_POPULATION.finditer(text):
            start = match.start()
            if start in quoted or text[start - 1 : start] in ("/", "-", ":"):
                continue
            rate = bounded_float(match.group(1))
            if rate is None:
                continue
            denominator = match.group(2).replace("十万", "10万")
            qualifier, figure_start = _prefix_qualifier(text, start)
            out.append(
                Figure(
                    figure_start,
                    match.end(),
                    start,
                    rate,
                    "/" + denominator,
                    qualifier,
                    True,
                    False,
                    None,
                    decimals_of(match.group(1)),
                    match.group(1),
                )
            )
    ratio_words = _RATIO_WORD.finditer(text) if "性别比" in text or "结构" in text else ()
    for word in ratio_words:
        stop = len(text)
        for mark in ("。", "；", ";", "\n"):
            found = text.find(mark, word.end())
            if 0 <= found < stop:
                stop = found
        depth = 0
        for match in _BARE_RATIO.finditer(text, word.end(), stop):
            start, end = match.span()
            depth = (
                text.count("(", word.end(), start)
                + text.count("（", word.end(), start)
                - (text.count(")", word.end(), start) + text.count("）", word.end(), start))
            )
            if depth > 0 or (text[end : end + 1] not in _RATIO_FOLLOWER and end < len(text)):
                continue
            # 性别比在100至105之间: a threshold, not the ratio.
            if text[start - 1 : start] in ("在", "至", "到", "于") or text[end : end + 1] == " ":
                continue
            if _not_a_statistic(text, markers, start, end, None, "", False):
                continue
            out.append(
                Figure(
                    start,
                    end,
                    start,
                    float(match.group(1)),
                    None,
                    "exact",
                    False,
                    False,
                    None,
                    decimals_of(match.group(1)),
                    match.group(1),
                )
            )
    if "年限" in text or "受教育" in text:
        for match in _YEARS_SPAN.finditer(text):
            start = match.start()
            sentence = text[start - 40 if start > 40 else 0 : start]
            if not _YEARS_CONTEXT.search(sentence):
                continue
            qualifier, figure_start = _prefix_qualifier(text, start)
            end = match.end()
            suffix = _SUFFIX_QUALIFIER.match(text, end)
            if suffix:
                qualifier, end = SUFFIX_TO_QUALIFIER[suffix.group(1)], suffix.end()
            out.append(
                Figure(
                    figure_start,
                    end,
                    start,
                    float(match.group(1)),
                    "年",
                    qualifier,
                    True,
                    False,
                    None,
                    decimals_of(match.group(1)),
                    match.group(1),
                )
            )
    if "数十" in text or "数百" in text or "数千" in text or "数万" in text:
        for match in _SEVERAL.finditer(text):
            start = match.start()
            if start in quoted:
                continue
            unit = CANONICAL_UNIT.get(match.group(3))
            out.append(
                Figure(
                    start,
                    match.end(),
                    start,
                    float(MULTIPLIERS[match.group(1)]),
                    unit,
                    "at_least",
                    True,
                    False,
                    match.group(1),
                    0,
                    match.group(0),
                )
            )
    return out


def _figure_start(figure: Figure) -> int:
    return figure.start


def percentage_checks(
    figures: list[Figure], index: int, sentence_start: int
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
