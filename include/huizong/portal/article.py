"""An article page's title, publication date and main text.

Each is taken from the first source that has it, in this order:

1. the portal's configured selector (``title_selector``, ``date_selector``,
   ``main_text_selector``): the user looked at the site and said where it is;
2. the page's own metadata: ``<meta name="ArticleTitle">`` / ``og:title``,
   ``<meta name="PubDate">`` / ``article:published_time`` /
   ``<time class="… published" datetime>`` (TRS, Hanweb and WordPress write
   these reliably);
3. heuristics. Title: the element whose text best matches the list link's
   text (a list title cut with "…" is only a prefix; the link's ``title``
   attribute holds the whole one) and the ``<title>`` without its column and
   site suffixes. An ``<h1>`` that is the site's name matches neither, and a
   byline (``发布于… 作者 admin``) is never a title. Date: the date right after
   a 发布时间 / 发布日期 / 发布于 / 发表于 marker (更新时间 only when there is
   none), never after 成文日期 or 更新于, and never a date in running text;
   failing that, the date printed next to the link on the list page.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from bs4 import BeautifulSoup, Tag

from huizong.portal.htmltext import html_to_text
from huizong.portal.normalize import normalize
from huizong.portal.notice import NoticeMeta, find_dates, parse_notice

_ELLIPSIS = re.compile(r"\s*(?:\.{2,}|…+|。。。)\s*$")
# A <title> is "article_column_site" or "article - site" or "article|site".
_TITLE_SEPARATOR = re.compile(r"\s*(?:_|\||｜|\s-\s|\s–\s|\s—\s|-{2,})\s*")
_BYLINE = re.compile(
    r"发布于|发表于|发布时间|发布日期|更新时间|作者[:：\s]|来源[:：]|信息来源|浏览|点击|阅读[:：\d]|"
    r"字号|打印|分享到|编辑[:：]|责任编辑|【\s*[大中小]\s*】"
)
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_TITLEISH = re.compile(r"title|tit\b|tit_|biaoti|headline|^bt$|article-?head", re.I)
_BLOCK_CHILDREN = ("div", "p", "table", "ul", "ol", "li", "h1", "h2", "h3", "h4", "section")
_CANDIDATE_TAGS = (*_HEADING_TAGS, "div", "td", "p", "span", "strong", "b", "font", "center")
_TITLE_META = ("ArticleTitle", "og:title", "twitter:title")
_DATE_META = (
    "PubDate",
    "publishdate",
    "article:published_time",
    "og:published_time",
    "firstpublishedtime",
    "dc.date.issued",
)
# Markers of the publication date, strongest first.
_DATE_MARKERS = (
    re.compile(r"(?:发布|发表|公布|发稿)(?:时间|日期)\s*[:：]?\s*|(?:发布|发表)于\s*[:：]?\s*"),
    # 日期/时间 alone only opening a line or a byline field: not 会议时间, 成文日期.
    re.compile(r"(?:^|(?<=[\s|｜/\]】>]))(?:日期|时间)\s*[:：]\s*"),
    re.compile(r"更新(?:时间|日期)\s*[:：]\s*"),
)
_BYLINE_FIELDS = re.compile(r"来源\s*[:：]|作者\s*[:：]|点击|浏览|阅读次数|访问量")
_NOT_PUBLISHED = re.compile(r"成文|更新|修改|截止|截至|印发")
_MARKER_REACH = 24  # characters between a marker and its date


@dataclass(frozen=True)
class ArticleMeta:
    title: str | None
    title_source: str | None  # selector | meta | heading | link | page_title
    published: datetime.date | None
    published_source: str | None  # selector | meta | marker | byline | list
    text: str  # the main text, rendered by htmltext.html_to_text
    notes: tuple[str, ...] = field(default=())  # configured selectors that matched nothing


def read_article(
    html: str,
    *,
    link_title: str | None = None,
    link_date: datetime.date | None = None,
    title_selector: str | None = None,
    date_selector: str | None = None,
    main_text_selector: str | None = None,
    site_names: tuple[str, ...] = (),
) -> ArticleMeta:
    """Title, publication date and main text of one article page (see module doc)."""
    soup = BeautifulSoup(html, "lxml")
    notes: list[str] = []
    title, title_source = _title(soup, link_title, title_selector, site_names, notes)
    published, published_source = _published(soup, date_selector, notes)
    if published is None and link_date is not None:
        published, published_source = link_date, "list"
    if main_text_selector and soup.select_one(main_text_selector) is None:
        notes.append(f"main_text_selector {main_text_selector!r} matched nothing")
    text = html_to_text(html, selector=main_text_selector).text
    return ArticleMeta(title, title_source, published, published_source, text, tuple(notes))


def notice_of(article: ArticleMeta) -> NoticeMeta:
    """Document number, deadline and the rest of the notice metadata of an article."""
    return parse_notice(normalize(article.text).text, published=article.published)


def text_head(article: ArticleMeta, length: int = 60) -> str:
    """The first ``length`` characters of the main text, whitespace collapsed."""
    return re.sub(r"\s+", " ", article.text).strip()[:length]


# --- title ------------------------------------------------------------------


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u3000", " ")).strip()


def _element_text(tag: Tag) -> str:
    # No separator: a <br> or <span> inside a heading does not split its words.
    return _clean(tag.get_text(""))


def title_core(page_title: str | None, site_names: tuple[str, ...] = ()) -> str | None:
    """The ``<title>`` without trailing column and site names."""
    if not page_title:
        return None
    parts = [p for p in _TITLE_SEPARATOR.split(_clean(page_title)) if p]
    if not parts:
        return None
    names = {_clean(n) for n in site_names if n}
    head = [p for p in parts if p not in names] or parts
    return head[0]


def _site_name_texts(soup: BeautifulSoup, page_title: str | None, site_names: tuple[str, ...]):
    names = {_clean(n) for n in site_names if n}
    if page_title:
        parts = [p for p in _TITLE_SEPARATOR.split(_clean(page_title)) if p]
        if len(parts) > 1:
            # Column and site names around the article's own part (either side).
            core = title_core(page_title, site_names)
            names.update(part for part in parts if part != core)
    # The site's own header, not an article's <header class="entry-header">.
    for tag in soup.select(
        "body > header, header.site-header, #masthead, .header, #header, .logo, #logo, "
        ".top, #top, .banner"
    ):
        for heading in tag.find_all(_HEADING_TAGS):
            names.add(_element_text(heading))
    return names


def _title(
    soup: BeautifulSoup,
    link_title: str | None,
    selector: str | None,
    site_names: tuple[str, ...],
    notes: list[str],
) -> tuple[str | None, str | None]:
    if selector:
        tag = soup.select_one(selector)
        if tag is not None and _element_text(tag):
            return _element_text(tag), "selector"
        notes.append(f"title_selector {selector!r} matched nothing")
    page_title = soup.title.get_text() if soup.title else None
    excluded = _site_name_texts(soup, page_title, site_names)
    for name in _TITLE_META:
        content = _meta_content(soup, name)
        if content and not _BYLINE.search(content):
            # og:title is often "title - site": drop suffixes that are site names.
            parts = [p for p in _TITLE_SEPARATOR.split(content) if p]
            if len(parts) > 1 and all(part in excluded for part in parts[1:]):
                content = parts[0]
            if content not in excluded:
                return content, "meta"
    core = title_core(page_title, site_names)
    link = _clean(link_title) if link_title else None
    prefix = None
    if link and _ELLIPSIS.search(link):
        prefix, link = _ELLIPSIS.sub("", link), None
    references = [r for r in (link, core) if r and r not in excluded]
    best, best_score = None, 0.0
    for tag in soup.find_all(_CANDIDATE_TAGS):
        if tag.find_parent("a") is not None or tag.find_parent(["head", "script"]) is not None:
            continue
        heading = tag.name in _HEADING_TAGS
        titleish = _titleish(tag)
        if not (heading or titleish) and tag.find(_BLOCK_CHILDREN) is not None:
            continue
        texts = [_element_text(tag)]
        if heading or titleish:
            # PHPCMS writes <h1>title<br/><span>date 来源 点击</span></h1>: the
            # heading's own text is the title even when the whole reads as a byline.
            texts.append(_clean("".join(tag.find_all(string=True, recursive=False))))
        for text in texts:
            if not 4 <= len(text) <= 200 or text in excluded or _BYLINE.search(text):
                continue
            score = max((SequenceMatcher(None, text, r).ratio() for r in references), default=0.0)
            if prefix and len(prefix) >= 4 and text.startswith(prefix):
                score = max(score, 0.9)
            score += 0.05 if heading or titleish else 0.0
            if score > best_score:
                best, best_score = text, score
    if best is not None and best_score >= 0.6:
        return best, "heading"
    if link and link not in excluded:
        return link, "link"
    if core and core not in excluded and len(core) >= 4:
        return core, "page_title"
    if prefix:
        return prefix, "link"
    return None, None


def _meta_content(soup: BeautifulSoup, name: str) -> str:
    """``content`` of the ``<meta>`` whose name, property or itemprop is ``name`` (any case)."""
    wanted = name.lower()
    for meta in soup.find_all("meta"):
        for attr in ("name", "property", "itemprop"):
            if str(meta.get(attr) or "").lower() == wanted:
                return _clean(str(meta.get("content") or ""))
    return ""


def _titleish(tag: Tag) -> bool:
    names = " ".join([*tag.get("class", []), str(tag.get("id") or "")])
    return bool(names and _TITLEISH.search(names))


# --- date -------------------------------------------------------------------


def _first_date(text: str) -> datetime.date | None:
    for mention in find_dates(text):
        if mention.has_year and not mention.repaired:
            value = mention.value
            return value.date() if isinstance(value, datetime.datetime) else value
    return None


def _published(
    soup: BeautifulSoup, selector: str | None, notes: list[str]
) -> tuple[datetime.date | None, str | None]:
    if selector:
        tag = soup.select_one(selector)
        found = None
        if tag is not None:
            found = _first_date(str(tag.get("datetime") or "")) or _first_date(tag.get_text(" "))
        if found is not None:
            return found, "selector"
        notes.append(f"date_selector {selector!r} matched no date")
    for name in _DATE_META:
        found = _first_date(_meta_content(soup, name))
        if found is not None:
            return found, "meta"
    for tag in soup.find_all("time"):
        classes = set(tag.get("class", []))
        if ("published" in classes or tag.get("itemprop") == "datePublished") and (
            "updated" not in classes
        ):
            found = _first_date(str(tag.get("datetime") or "")) or _first_date(tag.get_text())
            if found is not None:
                return found, "meta"
    for tag in soup.find_all(["script", "style", "noscript"]):
        tag.decompose()
    lines = [_clean(line) for line in soup.get_text("\n").split("\n")]
    lines = [line for line in lines if line]
    for marker in _DATE_MARKERS:
        for index, line in enumerate(lines):
            # "发布时间：" and its date often sit in sibling <span>s: read on into the next line.
            following = lines[index + 1] if index + 1 < len(lines) else ""
            for match in marker.finditer(line):
                found = _date_at(f"{line} {following}", match.end())
                if found is not None:
                    return found, "marker"
    # A byline without a marker: "2024-07-02 09:30:00 来源：本站 点击：12".
    for line in lines:
        if len(line) <= 120 and _BYLINE_FIELDS.search(line) and not _NOT_PUBLISHED.search(line):
            found = _first_date(line)
            if found is not None:
                return found, "byline"
    return None, None


def _date_at(line: str, start: int) -> datetime.date | None:
    for mention in find_dates(line[start : start + _MARKER_REACH + 20]):
        if mention.start > _MARKER_REACH:
            return None
        if mention.has_year and not mention.repaired:
            value = mention.value
            return value.date() if isinstance(value, datetime.datetime) else value
        return None
    return None
