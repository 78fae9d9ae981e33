"""Crawl one portal: walk its list pages, collect article links, fetch articles.

Every response is landed in the raw store before anything is parsed. Pages
come back decoded; failures come back as :class:`FetchError` values next to
them, so a 500, a timeout or an undecodable page costs only that page.

Each site's robots.txt is honoured (read once per crawl, see
:mod:`huizong.portal.robots`) for every page and every redirect hop, unless
the portal config sets ``ignore_robots`` with a reason, which is logged as a
warning on every crawl.

Pagination follows the list's configured kind (``numbered``, ``next``,
``script``, ``list`` or ``none``, see :mod:`huizong.portal.config`). A list
page that yields no article link, or a list that ends before the page count
it prints (``共5页``, ``createPageHTML(5, …)``), is a warning in the log and
in :attr:`CrawlResult.warnings`: a config that silently loses a page is the
failure this crawler must never have.

Every article is read for its title, date and main text
(:mod:`huizong.portal.article`); one met again under another URL (a tracking
query, a repost in a second column) is kept once and its other URLs listed in
:attr:`CrawlResult.also_at`.

Without a raw store (``raw_store=None``) nothing is written: the dry run of
``huizong portals try``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from huizong.portal.article import ArticleMeta, read_article
from huizong.portal.config import ListPage, Organisation, Pagination, PortalConfig
from huizong.portal.fetch import (
    CharsetError,
    DecodedText,
    Fetcher,
    FetchError,
    FetchResponse,
    FetchStateStore,
    decode_html,
    header,
)
from huizong.portal.notice import find_dates
from huizong.portal.rawstore import RawPageStore
from huizong.portal.robots import RobotsRules

log = logging.getLogger(__name__)

_END_OF_LIST_STATUSES = frozenset({404, 410})
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
_NOT_PAGES = ("javascript:", "mailto:", "tel:", "data:")


@dataclass(frozen=True)
class FetchedPage:
    portal_id: str
    url: str  # as linked
    final_url: str  # after redirects
    status: int  # 200, or 304 when the body came from the raw store
    sha256: str
    raw_path: Path | None  # None in a dry run (no raw store)
    html: str  # decoded text, ready for BeautifulSoup
    encoding: str  # the codec that decoded it
    declared_encoding: str | None
    fetched_at: datetime
    unchanged: bool  # same body as the previous crawl
    list_page: str | None  # the list page that linked to it; None for list pages
    title: str | None  # the link text (articles) or <title> (list pages)
    org: Organisation  # owner of the list it came from (the portal's unless overridden)
    etag: str | None = None  # validators the server sent, for the warehouse's page index
    last_modified: str | None = None
    truncated: bool = False  # the body was cut at the portal's max_bytes
    article: ArticleMeta | None = None  # title, date and main text (articles only)
    list_date: date | None = None  # the date the list page printed next to the link


@dataclass
class CrawlResult:
    portal_id: str
    partition: str
    pages: list[FetchedPage] = field(default_factory=list)  # articles
    list_pages: list[FetchedPage] = field(default_factory=list)
    errors: list[FetchError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # limits reached, loops stopped
    warnings: list[str] = field(default_factory=list)  # articles possibly missed; also logged
    list_visits: list[ListVisit] = field(default_factory=list)  # how each list page paginated
    also_at: dict[str, list[str]] = field(default_factory=dict)  # article URL -> its aliases
    raw_files_written: int = 0

    @property
    def unchanged_count(self) -> int:
        return sum(1 for page in self.pages if page.unchanged)


@dataclass
class ListVisit:
    url: str  # the list page as fetched (after redirects)
    articles: int  # article links on it not seen on an earlier page of the list
    next: str | None = None  # the page fetched after it, None at the end
    how: str = ""  # how the next page was found, or why the list ended


@dataclass(frozen=True)
class ArticleLink:
    url: str  # absolute, without fragment
    title: str | None  # the link's title attribute or text
    list_page: str  # URL of the list page it was found on
    date: date | None = None  # a date printed in the link's list item


def crawl_portal(
    portal: PortalConfig,
    *,
    partition: str,
    raw_store: RawPageStore | None,
    state_store: FetchStateStore | None,
    fetcher: Fetcher | None = None,
    max_articles: int | None = None,
) -> CrawlResult:
    """Crawl ``portal`` for the run ``partition`` (e.g. the data interval's date)."""
    own_fetcher = fetcher is None
    active_fetcher = fetcher or Fetcher.for_portal(portal)
    crawl = _Crawl(portal, partition, raw_store, state_store, active_fetcher)
    if portal.ignore_robots:
        where = portal.source or "the portal config"
        message = (
            f"robots.txt IGNORED for portal {portal.id} (ignore_robots in {where}): "
            f"{portal.ignore_robots_reason}"
        )
        log.warning(message)
        crawl.result.notes.append(message)
    try:
        links: dict[str, tuple[ArticleLink, Organisation]] = {}
        for list_page in portal.list_pages:
            for link in crawl.walk_list(list_page):
                links.setdefault(link.url, (link, list_page.org))
        selected = []
        for link, org in links.values():
            refusal = active_fetcher.policy_refusal(link.url)
            if refusal is None:
                selected.append((link, org))
            else:
                # A list that links a provincial or national site's article: not ours
                # to fetch, not an error of this portal, but said.
                crawl.result.notes.append(f"{link.url}: article link off the allowlist, skipped")
        if max_articles is not None and len(selected) > max_articles:
            crawl.result.notes.append(
                f"{len(selected)} article links found; fetched the first {max_articles} "
                "(max_articles)"
            )
            selected = selected[:max_articles]
        for link, org in selected:
            page = crawl.get_page(link.url, list_page=link.list_page, title=link.title, org=org)
            if isinstance(page, FetchError):
                crawl.result.errors.append(page)
            else:
                crawl.add_article(page, link)
    finally:
        if own_fetcher:
            active_fetcher.close()
    result = crawl.result
    log.info(
        "portal %s partition %s: %d articles (%d unchanged), %d list pages, %d errors, "
        "%d warnings",
        portal.id,
        partition,
        len(result.pages),
        result.unchanged_count,
        len(result.list_pages),
        len(result.errors),
        len(result.warnings),
    )
    return result


class _Crawl:
    def __init__(
        self,
        portal: PortalConfig,
        partition: str,
        raw_store: RawPageStore | None,
        state_store: FetchStateStore | None,
        fetcher: Fetcher,
    ) -> None:
        self.portal = portal
        self.partition = partition
        self.raw_store = raw_store
        self.state_store = state_store
        self.fetcher = fetcher
        self.result = CrawlResult(portal_id=portal.id, partition=partition)
        self.seen_list_urls: set[str] = set()
        self.robots = None if portal.ignore_robots else RobotsRules(fetcher)
        self.articles_by_key: dict[str, FetchedPage] = {}

    def warn(self, message: str) -> None:
        log.warning("portal %s: %s", self.portal.id, message)
        self.result.warnings.append(message)

    def add_article(self, page: FetchedPage, link: ArticleLink) -> None:
        """Keep ``page`` unless it is an article already kept under another URL."""
        article = read_article(
            page.html,
            link_title=link.title,
            link_date=link.date,
            title_selector=self.portal.title_selector,
            date_selector=self.portal.date_selector,
            main_text_selector=self.portal.main_text_selector,
            site_names=(self.portal.name, page.org.name),
        )
        for note in article.notes:
            self.warn(f"{page.url}: {note}")
        if page.truncated:
            self.warn(
                f"{page.url}: longer than max_bytes ({self.fetcher.max_bytes} bytes); "
                "cut there and kept, marked truncated"
            )
        page = replace(page, article=article, list_date=link.date)
        # Same bytes, or the same title, date and text under another page chrome.
        compact_text = re.sub(r"\s+", "", article.text)
        content = f"{article.title}\n{article.published}\n{compact_text}"
        keys = (
            f"final:{page.final_url}",
            f"sha:{page.sha256}",
            "text:" + hashlib.sha256(content.encode()).hexdigest(),
        )
        for key in keys:
            first = self.articles_by_key.get(key)
            if first is not None:
                self.result.also_at.setdefault(first.url, []).append(page.url)
                return
        for key in keys:
            self.articles_by_key[key] = page
        self.result.pages.append(page)

    def walk_list(self, list_page: ListPage) -> Iterator[ArticleLink]:
        """Article links of one list, following its pagination within bounds."""
        pagination = list_page.pagination
        max_pages = self.portal.max_pages
        url: str | None = list_page.url
        planned: list[str] = [urljoin(list_page.url, p) for p in pagination.pages]
        links_in_list: set[str] = set()
        declared: int | None = None
        index = 0
        visit: ListVisit | None = None
        while url is not None:
            if index >= max_pages:
                self.result.notes.append(
                    f"{list_page.url}: stopped after {max_pages} list pages (max_pages)"
                )
                _set_next(visit, None, f"stopped: max_pages {max_pages}")
                break
            if url in self.seen_list_urls:
                self.result.notes.append(f"{url}: list page already visited; pagination stopped")
                _set_next(visit, None, f"stopped: {url} already visited")
                break
            page = self.get_page(url, list_page=None, title=None, org=list_page.org)
            self.seen_list_urls.add(url)
            if isinstance(page, FetchError):
                if index > 0 and page.status in _END_OF_LIST_STATUSES:
                    # The normal end of numbered pagination.
                    _set_next(visit, None, f"end: {url} answered HTTP {page.status}")
                    break
                self.result.errors.append(page)
                _set_next(visit, None, f"stopped: {url} failed")
                break
            if page.final_url != url and page.final_url in self.seen_list_urls:
                # e.g. index_9.html redirecting back to index.html on sites that never 404
                self.result.notes.append(
                    f"{url}: redirected to already visited {page.final_url}; pagination stopped"
                )
                _set_next(visit, None, f"end: {url} redirects back to {page.final_url}")
                break
            self.seen_list_urls.add(page.final_url)
            self.result.list_pages.append(page)
            declared = declared or declared_page_count(page.html, pagination.script_function)
            found = extract_article_links(page.html, page.final_url, self.portal.article_selector)
            new_links = [link for link in found if link.url not in links_in_list]
            # An empty numbered/next page after full ones is how many sites end a
            # list (like a 404); anywhere else no links means articles are missed.
            expected_end = (
                index >= declared
                if declared is not None
                else index > 0 and pagination.kind in ("numbered", "next")
            )
            if not found and not expected_end:
                self.warn(
                    f"list page {page.final_url} yielded no article link "
                    f"(article_selector {self.portal.article_selector!r})"
                )
            visit = ListVisit(url=page.final_url, articles=len(new_links))
            self.result.list_visits.append(visit)
            if index > 0 and not new_links and pagination.kind in ("numbered", "next"):
                visit.how = "end: no new article links (the site repeats or pads its lists)"
                break  # a page that repeats earlier ones, or an empty padding page
            for link in new_links:
                links_in_list.add(link.url)
                yield link
            if index == 0 and pagination.kind == "script":
                planned = self._script_pages(page, pagination)
            url, visit.how = self._next_page(list_page, page, index, planned)
            visit.next = url
            index += 1
        if declared is not None and index < declared:
            self.warn(
                f"{list_page.url}: the list says it has {declared} pages but pagination "
                f"({pagination.kind}) reached only {index}; articles on the others are missed"
            )

    def _next_page(
        self, list_page: ListPage, page: FetchedPage, index: int, planned: list[str]
    ) -> tuple[str | None, str]:
        """The list page after ``page`` (the ``index``-th, from 0) and how it was found."""
        pagination = list_page.pagination
        kind = pagination.kind
        if kind == "numbered":
            number = pagination.first_number + index
            return (
                urljoin(list_page.url, pagination.page_pattern.format(n=number)),
                f"numbered: n={number}",
            )
        if kind in ("script", "list"):
            if index < len(planned):
                return planned[index], f"{kind}: page {index + 2} of {len(planned) + 1}"
            return None, f"end: {kind} has {len(planned) + 1} pages"
        if kind == "next":
            found = find_next_link(page.html, page.final_url, pagination.next_selector)
            if found is None:
                return None, "end: no next link"
            return found
        return None, "end: pagination none"

    def _script_pages(self, first: FetchedPage, pagination: Pagination) -> list[str]:
        call = parse_page_script(first.html, pagination.script_function)
        if call is None:
            self.warn(
                f"{first.url}: no {pagination.script_function}(…) call; treated as a single page"
            )
            return []
        page_count, prefix, extension = call
        return [
            urljoin(first.final_url, f"{prefix}_{pagination.first_number + k}.{extension}")
            for k in range(page_count - 1)
        ]

    def get_page(
        self,
        url: str,
        *,
        list_page: str | None,
        title: str | None,
        org: Organisation,
    ) -> FetchedPage | FetchError:
        url_filter = self.robots.refusal if self.robots is not None else None
        response = self.fetcher.fetch(url, state_store=self.state_store, url_filter=url_filter)
        if isinstance(response, FetchError):
            return response
        if response.not_modified and self.raw_store is not None:
            stored = self.raw_store.find(self.portal.id, response.sha256)
            if stored is not None:
                return self._page_from_store(response, stored, list_page, title, org)
            # The raw copy is gone (raw dir pruned or moved): fetch the body again.
            response = self.fetcher.fetch(
                url, conditional=False, state_store=self.state_store, url_filter=url_filter
            )
            if isinstance(response, FetchError):
                return response
        return self._page_from_response(response, list_page, title, org)

    def _page_from_response(
        self,
        response: FetchResponse,
        list_page: str | None,
        title: str | None,
        org: Organisation,
    ) -> FetchedPage | FetchError:
        content_type = response.content_type
        decoded = None
        decode_problem = None
        if _is_html(content_type):
            try:
                decoded = _decode(response.body, content_type, response.truncated)
            except CharsetError as exc:
                decode_problem = str(exc)
        raw_path: Path | None = None
        if self.raw_store is not None:
            record = self.raw_store.put(
                portal_id=self.portal.id,
                partition=self.partition,
                body=response.body,
                url=response.url,
                final_url=response.final_url,
                fetched_at=response.fetched_at,
                status=response.status,
                headers=response.headers,
                declared_encoding=decoded.declared_encoding if decoded else None,
                detected_encoding=decoded.detected_encoding if decoded else None,
            )
            raw_path = record.body_path
            if record.created:
                self.result.raw_files_written += 1
        if decoded is None:
            reason = decode_problem or f"not an HTML page (Content-Type {content_type})"
            kept = f"; raw body kept at {raw_path}" if raw_path is not None else ""
            return FetchError(response.url, f"{reason}{kept}", response.status)
        return FetchedPage(
            portal_id=self.portal.id,
            url=response.url,
            final_url=response.final_url,
            status=response.status,
            sha256=response.sha256,
            raw_path=raw_path,
            html=decoded.text,
            encoding=decoded.encoding,
            declared_encoding=decoded.declared_encoding,
            fetched_at=response.fetched_at,
            unchanged=response.unchanged,
            list_page=list_page,
            title=title if list_page is not None else _html_title(decoded.text),
            org=org,
            etag=header(response.headers, "ETag"),
            last_modified=header(response.headers, "Last-Modified"),
            truncated=response.truncated,
        )

    def _page_from_store(
        self,
        response: FetchResponse,
        stored: Path,
        list_page: str | None,
        title: str | None,
        org: Organisation,
    ) -> FetchedPage | FetchError:
        assert self.raw_store is not None  # only called with a raw store
        stored_headers = self.raw_store.read_meta(stored).get("headers") or {}
        body = self.raw_store.read(stored)
        try:
            decoded = decode_html(body, header(stored_headers, "Content-Type"))
        except CharsetError as exc:
            return FetchError(response.url, f"{exc}; raw body at {stored}", response.status)
        return FetchedPage(
            portal_id=self.portal.id,
            url=response.url,
            final_url=response.final_url,
            status=response.status,
            sha256=response.sha256,
            raw_path=stored,
            html=decoded.text,
            encoding=decoded.encoding,
            declared_encoding=decoded.declared_encoding,
            fetched_at=response.fetched_at,
            unchanged=True,
            list_page=list_page,
            title=title if list_page is not None else _html_title(decoded.text),
            org=org,
            etag=header(response.headers, "ETag") or header(stored_headers, "ETag"),
            last_modified=(
                header(response.headers, "Last-Modified") or header(stored_headers, "Last-Modified")
            ),
        )


def _is_html(content_type: str | None) -> bool:
    if not content_type:
        return True  # many old portals send none; let the decoder judge
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in _HTML_TYPES


def _decode(body: bytes, content_type: str | None, truncated: bool) -> DecodedText:
    """Decode a body; a truncated one may end inside a multi-byte character."""
    for cut in range(4 if truncated else 1):
        try:
            return decode_html(body[: len(body) - cut] if cut else body, content_type)
        except CharsetError:
            if cut == (3 if truncated else 0):
                raise
    raise AssertionError("unreachable")


def _set_next(visit: ListVisit | None, url: str | None, how: str) -> None:
    if visit is not None and visit.next is not None:
        # The page announced as next could not be used: say why the list ended.
        visit.how = f"{visit.how}; {how}"


def _html_title(html: str) -> str | None:
    match = re.search(r"<title[^>]*>(.*?)</title>", html, re.IGNORECASE | re.DOTALL)
    if not match:
        return None
    text = BeautifulSoup(match.group(1), "lxml").get_text(" ", strip=True)
    return text or None


def extract_article_links(html: str, page_url: str, selector: str) -> list[ArticleLink]:
    """Absolute, de-duplicated article links selected on a list page, in page order.

    The selector may pick the ``<a>`` itself or an element containing it. The
    link's ``title`` attribute wins over its text because list pages commonly
    truncate long titles with "…" and keep the full one in the attribute. A
    date printed in the link's list item (``<span>2024-01-05</span>``) comes
    along as the article's date of last resort.

    Hanweb JCMS pages carry their list in a script as
    ``<datastore><recordset><record><![CDATA[<li>…</li>]]></record>…``; those
    records are parsed too, inside a ``<datastore>`` element as in the source,
    so ``datastore li`` selects them.
    """
    soup = BeautifulSoup(html, "lxml")
    base_url = _base_url(soup, page_url)
    links: list[ArticleLink] = []
    seen: set[str] = set()
    elements = list(soup.select(selector))
    records = _datastore_records(html)
    if records is not None:
        elements.extend(records.select(selector))
    for element in elements:
        anchor = element if element.name == "a" else element.find("a", href=True)
        if anchor is None or not anchor.get("href"):
            continue
        url = _page_link(base_url, str(anchor["href"]))
        if url is None or url in seen:
            continue
        seen.add(url)
        title = link_tooltip_title(str(anchor.get("title") or "")) or anchor.get_text(
            " ", strip=True
        )
        links.append(
            ArticleLink(
                url=url, title=title or None, list_page=page_url, date=_item_date(anchor)
            )
        )
    return links


_TOOLTIP_LABEL = re.compile(r"^\s*(?:文章标题|新闻标题|信息标题|标题|主题)\s*[:：]\s*")
_TOOLTIP_FIELD = re.compile(
    r"\s*(?:作者|更新时间|发布时间|发布日期|点击数|点击|来源|文章来源)\s*[:：].*$", re.S
)


def link_tooltip_title(tooltip: str) -> str | None:
    """The title in a link's ``title`` attribute, without the byline old CMSs add.

    动易 and other ASP systems write ``文章标题：…\n作者：admin\n更新时间：…``.
    """
    first = next((line for line in re.split(r"[\r\n]+", tooltip) if line.strip()), "")
    title = _TOOLTIP_FIELD.sub("", _TOOLTIP_LABEL.sub("", first)).strip()
    return title or None


_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)


def _datastore_records(html: str) -> BeautifulSoup | None:
    """The CDATA records of a Hanweb JCMS ``<datastore>``, as one parsed fragment."""
    if "<record" not in html:
        return None
    records = _RECORD.findall(html)
    if not records:
        return None
    return BeautifulSoup("<datastore>" + "".join(records) + "</datastore>", "lxml")


def _base_url(soup: BeautifulSoup, page_url: str) -> str:
    base_tag = soup.find("base", href=True)
    return urljoin(page_url, str(base_tag["href"])) if base_tag else page_url


def _page_link(base_url: str, href: str) -> str | None:
    href = href.strip()
    if not href or href.startswith("#") or href.lower().startswith(_NOT_PAGES):
        return None
    url = urljoin(base_url, href).split("#", 1)[0]
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    return url


def _item_date(anchor: Tag) -> date | None:
    """The one dated mention in the list item around ``anchor``, outside its text."""
    item = anchor.find_parent(["li", "tr", "dd", "dl", "p"]) or anchor.parent
    if item is None:
        return None
    link_text = anchor.get_text(" ")
    outside = item.get_text(" ").replace(link_text, " ", 1)
    mentions = [m for m in find_dates(outside) if m.has_year and not m.repaired]
    if len(mentions) != 1:
        return None
    value = mentions[0].value
    return value.date() if isinstance(value, datetime) else value


_NEXT_TEXT = re.compile(
    r"^\s*[←«‹]?\s*(?:下一页|下页|下一頁|后一页|后页|较早的?文章|更早的文章|next(?:\s*page)?"
    r"|older posts)"
    r"\s*[>»›→]*\s*$",
    re.I,
)
_NEXT_CLASSES = ("a.next", "a.next_page", "a.nextpostslink", "a.page-next", "a.next-page")


def find_next_link(html: str, page_url: str, selector: str | None = None) -> tuple[str, str] | None:
    """(URL, how it was found) of the page after ``page_url``, or None at the end.

    ``selector`` when given, else ``<link rel="next">``, ``<a rel="next">``,
    an ``<a>`` reading 下一页 / 下页 / next, or a next-page class.
    """
    soup = BeautifulSoup(html, "lxml")
    base_url = _base_url(soup, page_url)
    candidates: list[tuple[Tag, str]] = []
    if selector:
        for element in soup.select(selector):
            anchor = element if element.get("href") else element.find(href=True)
            if anchor is not None:
                candidates.append((anchor, f"next: selector {selector!r}"))
    else:
        for element in soup.find_all(["link", "a"], href=True):
            if "next" in [r.lower() for r in element.get("rel", [])]:
                candidates.append((element, f'next: <{element.name} rel="next">'))
        for anchor in soup.find_all("a", href=True):
            text = anchor.get_text(" ", strip=True) or str(anchor.get("title") or "")
            if _NEXT_TEXT.match(text):
                candidates.append((anchor, f"next: link text {text!r}"))
        for css in _NEXT_CLASSES:
            candidates.extend((anchor, f"next: {css}") for anchor in soup.select(css))
    current = page_url.split("#", 1)[0]
    for anchor, how in candidates:
        url = _page_link(base_url, str(anchor.get("href") or ""))
        if url is not None and url != current:
            return url, how
    return None


_DECLARED_COUNT = (
    re.compile(r"共\s*(\d{1,4})\s*页"),
    re.compile(r"总页数\s*[:：]?\s*(\d{1,4})"),
    re.compile(r"<totalpage>\s*(\d{1,4})\s*</totalpage>", re.I),  # Hanweb JCMS datastore
    re.compile(r"页次\s*[:：]?\s*\d{1,4}\s*/\s*(\d{1,4})"),
    re.compile(r"第\s*\d{1,4}\s*/\s*(\d{1,4})\s*页"),
    re.compile(r"(?<![\d/])\d{1,4}\s*/\s*(\d{1,4})\s*页"),
)


def declared_page_count(html: str, script_function: str = "createPageHTML") -> int | None:
    """The page count a list page prints (``共5页``, ``1/5页``) or passes to its pager script."""
    call = parse_page_script(html, script_function)
    if call is not None:
        return call[0]
    text = BeautifulSoup(html, "lxml").get_text(" ")
    for pattern in _DECLARED_COUNT:
        match = pattern.search(html if "totalpage" in pattern.pattern else text)
        if match and 0 < int(match.group(1)) < 10000:
            return int(match.group(1))
    return None


_PAGE_EXTENSIONS = frozenset({"html", "htm", "shtml", "jsp", "asp", "aspx", "php", "xhtml"})
_SCRIPT_ARG = re.compile(r"""\s*(?:'([^']*)'|"([^"]*)"|([\w$.+-]+))\s*""")


# Pager functions of the same shape (count …, prefix, extension) on other sites.
_SCRIPT_KIN = ("createPageHTML", "createPage", "setPage", "showPage", "pageNav")


def parse_page_script(html: str, function: str = "createPageHTML") -> tuple[int, str, str] | None:
    """(page count, file prefix, extension) from a pager script call.

    Reads the TRS ``createPageHTML(12, 0, "index", "html")``, its newer form
    ``createPageHTML('page_div', 12, 0, 'index', 'html', 20)`` and calls whose
    count is a variable (``var countPage = 12 … createPageHTML(countPage, …)``),
    under any function name (``setPage``, ``createPage``…). The count is the
    first whole number before the (prefix, extension) pair. With the default
    name, the kin in ``_SCRIPT_KIN`` are tried too.
    """
    names = _SCRIPT_KIN if function == "createPageHTML" else (function,)
    for name in names:
        found = _parse_script_call(html, name)
        if found is not None:
            return found
    return None


def _parse_script_call(html: str, function: str) -> tuple[int, str, str] | None:
    for match in re.finditer(re.escape(function) + r"\s*\(([^()]*)\)", html):
        if re.search(r"function\s*$", html[max(0, match.start() - 12) : match.start()]):
            continue  # the function's definition, not a call
        args: list[tuple[str, bool]] = []  # (value, was quoted)
        for raw in match.group(1).split(","):
            arg = _SCRIPT_ARG.fullmatch(raw)
            if arg is None:
                break
            single, double, bare = arg.groups()
            value = single if single is not None else double if double is not None else bare
            args.append((value or "", bare is None))
        for position in range(1, len(args)):
            prefix, extension = args[position - 1][0], args[position][0]
            if extension.lower() not in _PAGE_EXTENSIONS or not re.fullmatch(r"[\w.-]+", prefix):
                continue
            for value, quoted in args[: position - 1]:
                count = _script_number(html, value, quoted)
                if count is not None:
                    return count, prefix, extension
            break
    return None


def _script_number(html: str, value: str, quoted: bool) -> int | None:
    if value.isdigit():
        return int(value)
    if quoted or not re.fullmatch(r"[A-Za-z_$][\w$]*", value):
        return None
    assigned = re.search(
        r"(?:var|let|const)?\s*\b" + re.escape(value) + r"\s*=\s*['\"]?(\d+)", html
    )
    return int(assigned.group(1)) if assigned else None
