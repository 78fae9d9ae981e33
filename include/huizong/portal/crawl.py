"""Crawl one portal: walk its list pages, collect article links, fetch articles.

Every response is landed in the raw store before anything is parsed. Pages
come back decoded; failures come back as :class:`FetchError` values next to
them, so a 500, a timeout or an undecodable page costs only that page.

Each site's robots.txt is honoured (read once per crawl, see
:mod:`huizong.portal.robots`) for every page and every redirect hop, unless
the portal config sets ``ignore_robots`` with a reason, which is logged as a
warning on every crawl.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup

from huizong.portal.config import ListPage, Organisation, Pagination, PortalConfig
from huizong.portal.fetch import (
    CharsetError,
    Fetcher,
    FetchError,
    FetchResponse,
    FetchStateStore,
    decode_html,
    header,
)
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
    raw_path: Path
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


@dataclass
class CrawlResult:
    portal_id: str
    partition: str
    pages: list[FetchedPage] = field(default_factory=list)  # articles
    list_pages: list[FetchedPage] = field(default_factory=list)
    errors: list[FetchError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # limits reached, loops stopped
    raw_files_written: int = 0

    @property
    def unchanged_count(self) -> int:
        return sum(1 for page in self.pages if page.unchanged)


@dataclass(frozen=True)
class ArticleLink:
    url: str  # absolute, without fragment
    title: str | None  # the link's title attribute or text
    list_page: str  # URL of the list page it was found on


def crawl_portal(
    portal: PortalConfig,
    *,
    partition: str,
    raw_store: RawPageStore,
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
        selected = list(links.values())
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
                crawl.result.pages.append(page)
    finally:
        if own_fetcher:
            active_fetcher.close()
    result = crawl.result
    log.info(
        "portal %s partition %s: %d articles (%d unchanged), %d list pages, %d errors",
        portal.id,
        partition,
        len(result.pages),
        result.unchanged_count,
        len(result.list_pages),
        len(result.errors),
    )
    return result


class _Crawl:
    def __init__(
        self,
        portal: PortalConfig,
        partition: str,
        raw_store: RawPageStore,
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

    def walk_list(self, list_page: ListPage) -> Iterator[ArticleLink]:
        """Article links of one list, following its pagination within bounds."""
        pagination = list_page.pagination
        max_pages = self.portal.max_pages
        planned: list[str] = [list_page.url]
        links_in_list: set[str] = set()
        index = 0
        while index < len(planned) or pagination.kind == "numbered":
            if index >= max_pages:
                self.result.notes.append(
                    f"{list_page.url}: stopped after {max_pages} list pages (max_pages)"
                )
                return
            if index < len(planned):
                url = planned[index]
            else:
                url = urljoin(planned[0], pagination.page_pattern.format(n=index))
            if url in self.seen_list_urls:
                self.result.notes.append(f"{url}: list page already visited; pagination stopped")
                return
            page = self.get_page(url, list_page=None, title=None, org=list_page.org)
            self.seen_list_urls.add(url)
            if isinstance(page, FetchError):
                if index > 0 and page.status in _END_OF_LIST_STATUSES:
                    return  # the normal end of numbered pagination
                self.result.errors.append(page)
                return
            if page.final_url != url and page.final_url in self.seen_list_urls:
                # e.g. index_9.html redirecting back to index.html on sites that never 404
                self.result.notes.append(
                    f"{url}: redirected to already visited {page.final_url}; pagination stopped"
                )
                return
            self.seen_list_urls.add(page.final_url)
            self.result.list_pages.append(page)
            found = extract_article_links(page.html, page.final_url, self.portal.article_selector)
            new_links = [link for link in found if link.url not in links_in_list]
            if index > 0 and not new_links and pagination.kind == "numbered":
                return  # a page that repeats earlier ones: the site is looping
            for link in new_links:
                links_in_list.add(link.url)
                yield link
            if index == 0 and pagination.kind == "script":
                planned.extend(self._script_pages(page, pagination))
            index += 1

    def _script_pages(self, first: FetchedPage, pagination: Pagination) -> list[str]:
        call = parse_page_script(first.html, pagination.script_function)
        if call is None:
            self.result.notes.append(
                f"{first.url}: no {pagination.script_function}(…) call; treated as a single page"
            )
            return []
        page_count, prefix, extension = call
        return [urljoin(first.final_url, f"{prefix}_{n}.{extension}") for n in range(1, page_count)]

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
        if response.not_modified:
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
                decoded = decode_html(response.body, content_type)
            except CharsetError as exc:
                decode_problem = str(exc)
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
        if record.created:
            self.result.raw_files_written += 1
        if decoded is None:
            reason = decode_problem or f"not an HTML page (Content-Type {content_type})"
            return FetchError(
                response.url, f"{reason}; raw body kept at {record.body_path}", response.status
            )
        return FetchedPage(
            portal_id=self.portal.id,
            url=response.url,
            final_url=response.final_url,
            status=response.status,
            sha256=response.sha256,
            raw_path=record.body_path,
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
        )

    def _page_from_store(
        self,
        response: FetchResponse,
        stored: Path,
        list_page: str | None,
        title: str | None,
        org: Organisation,
    ) -> FetchedPage | FetchError:
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
    truncate long titles with "…" and keep the full one in the attribute.
    """
    soup = BeautifulSoup(html, "lxml")
    base_tag = soup.find("base", href=True)
    base_url = urljoin(page_url, str(base_tag["href"])) if base_tag else page_url
    links: list[ArticleLink] = []
    seen: set[str] = set()
    for element in soup.select(selector):
        anchor = element if element.name == "a" else element.find("a", href=True)
        if anchor is None or not anchor.get("href"):
            continue
        href = str(anchor["href"]).strip()
        if not href or href.startswith("#") or href.lower().startswith(_NOT_PAGES):
            continue
        url = urljoin(base_url, href).split("#", 1)[0]
        if urlsplit(url).scheme not in ("http", "https") or url in seen:
            continue
        seen.add(url)
        title = str(anchor.get("title") or "").strip() or anchor.get_text(" ", strip=True)
        links.append(ArticleLink(url=url, title=title or None, list_page=page_url))
    return links


def parse_page_script(html: str, function: str = "createPageHTML") -> tuple[int, str, str] | None:
    """(page count, file prefix, extension) from a ``createPageHTML(n, cur, "index", "html")``."""
    pattern = (
        re.escape(function)
        + r"\s*\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?\d+['\"]?\s*,"
        + r"\s*['\"]([\w.-]+)['\"]\s*,\s*['\"](\w+)['\"]"
    )
    match = re.search(pattern, html)
    if not match:
        return None
    return int(match.group(1)), match.group(2), match.group(3)
