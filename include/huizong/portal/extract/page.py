"""A page's statistics: prose figures with their clause, and table cells."""

from __future__ import annotations

import datetime
import re
from bisect import bisect_left
from typing import TYPE_CHECKING

from huizong.portal.extract.context import (
    FORM,
    PageContext,
    Sentence,
    description_of,
    figure_period,
    indicator_name_of,
    match_indicator,
    name_han_count,
    page_context,
    scope_org,
    sentence_info,
)
from huizong.portal.extract.figures import (
    Figure,
    find_figures,
    percentage_checks,
)
from huizong.portal.extract.model import (
    PageExtraction,
    Statistic,
    new_statistic,
)
from huizong.portal.extract.tables import (
    find_tables,
    table_statistics,
    with_html_headers,
)
from huizong.portal.normalize import NormalizedText, normalize
from huizong.portal.notice import (
    NoticeMeta,
    parse_notice,
)
from huizong.portal.numbers import (
    to_number,
)

if TYPE_CHECKING:
    from huizong.portal.htmltext import HtmlTable

_CLAUSE_DELIMS = "，,；;。！!？?：:\n、\t"


_SENTENCE_DELIMS = "。！!？?\n"


_DIGIT_SPLIT = re.compile(r"\d")


_CLAUSE_MARK = re.compile("[" + re.escape(_CLAUSE_DELIMS) + "]")


_SENTENCE_DELIM_SET = frozenset(_SENTENCE_DELIMS)


if not _SENTENCE_DELIM_SET.issubset(_CLAUSE_DELIMS):
    raise RuntimeError("sentence delimiters must also be clause delimiters")


if "\n" not in _SENTENCE_DELIM_SET:
    raise RuntimeError("a newline must end sentences (_delimiter_positions relies on it)")


def _delimiter_positions(text: str, figures: list[Figure]) -> tuple[list[int], list[int]]:
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


_QUOTE_LEAD = frozenset(" \u3000(（[【▲►▼◆●■□·-—*")


# Where the noun phrase after a figure ends: 1390个村(社区)|完成…
_FOLLOWING_VERB = re.compile(
    r"完成|开展|参与|参加|进行|实现|获得|通过|提供|发放|达到|收看|走访|接受|受益|始终|积极|"
    r"主动|及时|[为在到向对和与及并]"
)


def _prose_statistics(
    norm: NormalizedText, ctx: PageContext, masked: list[tuple[int, int]]
) -> list[Statistic]:
    text = norm.text
    figures = find_figures(text, masked)
    clause_marks, sentence_marks = _delimiter_positions(text, figures)
    sentences: dict[int, Sentence] = {}
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
            sentence = sentence_info(ctx, text, sentence_start, sentence_end)
            sentences[sentence_start] = sentence
        clause_prefix = text[clause_start:figure_start]
        description = description_of(clause_prefix)
        unit = figure.unit
        indicator = match_indicator(description, unit)
        name_han = name_han_count(description)
        quote_end = figure_end
        after_end = _end_at_delimiter(clause_marks, figure_end, 16, text_len)
        following = _DIGIT_SPLIT.split(text[figure_end:after_end], maxsplit=1)[0]
        if indicator is None and following:
            noun_phrase = _FOLLOWING_VERB.split(following, maxsplit=1)[0]
            indicator = match_indicator(noun_phrase, unit, after=True)
        if name_han < 2:
            if following.strip():
                quote_end = figure_end + len(following.rstrip())
            if indicator is None and sentence_start < clause_start:
                earlier = text[max(sentence_start, clause_start - 40) : clause_start]
                indicator = match_indicator(earlier, unit)
        if figure.is_percent and indicator is None:
            indicator = match_indicator(text[clause_start:figure_end], "%")
        if (
            figure.is_percent
            and indicator is None
            and "占" in description
            and stats
            and stats[-1].indicator == "02"
            and stats[-1].start >= sentence_start
        ):
            indicator = "R01"
        org_name, org_code = scope_org(ctx, clause_prefix, sentence.scopes, figure_start)
        period = figure_period(ctx, text, figure_start, sentence.periods, sentence.ranges)
        if period == default_period and sentence.event:
            period = sentence.event
        quote_start = clause_start
        while quote_start < figure_start and text[quote_start] in _QUOTE_LEAD:
            quote_start += 1
        raw_start, raw_end = norm.to_raw(quote_start, quote_end)
        checks = percentage_checks(figures, index, sentence_start) if figure.is_percent else ()
        stats.append(
            new_statistic(
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
                    "indicator_name": indicator_name_of(description, following),
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


def extract_statistics(
    normalized: NormalizedText,
    *,
    notice: NoticeMeta | None = None,
    org: str | None = None,
    published: datetime.date | None = None,
) -> list[Statistic]:
    """Statistics of already normalized text, prose and tables, in text order."""
    notice = notice or parse_notice(normalized.text, published=published)
    ctx = page_context(normalized.text, notice, org, published)
    tables = find_tables(normalized.text)
    masked = sorted((t.start, t.end) for t in tables)
    stats = _prose_statistics(normalized, ctx, masked)
    for table in tables:
        stats.extend(table_statistics(normalized, ctx, table))
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
    html_tables: tuple[HtmlTable, ...] = ()
    if is_html:
        # bs4 is imported only for HTML pages.
        from huizong.portal.htmltext import html_to_text

        html_page = html_to_text(content, selector=selector)
        content, html_tables = html_page.text, html_page.tables
    normalized = normalize(content)
    notice = parse_notice(normalized.text, published=published)
    ctx = page_context(normalized.text, notice, org, published, default_org)
    found = find_tables(normalized.text)
    tables = tuple(with_html_headers(found, html_tables) if html_tables else found)
    masked = sorted((t.start, t.end) for t in tables)
    stats = _prose_statistics(normalized, ctx, masked)
    for table in tables:
        stats.extend(table_statistics(normalized, ctx, table))
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
