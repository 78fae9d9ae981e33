"""``huizong portals suggest URL``: a portal config proposed from one list page.

Fetches the start page (and the first article it links to, to see where its
title and date come from) through the crawler's own :class:`Fetcher`, so the
allowlist is the URL's own host and port, robots.txt is honoured and the
size and time limits hold. Nothing is written. The proposal is YAML for the
user to review: the article selector (the container holding the most
similar links), the pagination kind (a pager script, a numbered next page
whose pattern is derived, or a next link), the main-text container, and the
title and date sources the article page offers.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from huizong.portal.article import read_article, title_core
from huizong.portal.config import DEFAULT_PORTS, HostRule
from huizong.portal.crawl import (
    _datastore_records,
    _decode,
    declared_page_count,
    extract_article_links,
    find_next_link,
    parse_page_script,
)
from huizong.portal.fetch import CharsetError, Fetcher, FetchError
from huizong.portal.orgs_find import find_divisions
from huizong.portal.robots import RobotsRules

_MAIN_TEXT_CANDIDATES = (
    "div.TRS_Editor", "#zoom", "#fontzoom", "div.entry-content", "div.article-content",
    "div.newstext", "div.content", "#content", "div.main-txt", "#zw", "article",
)
_HAN = re.compile(r"[\u4e00-\u9fff]")


class SuggestError(RuntimeError):
    """The start page could not be fetched or holds no list of articles."""


@dataclass
class Suggestion:
    url: str
    site_name: str | None
    article_selector: str
    article_count: int
    pagination: dict[str, object]
    main_text_selector: str | None = None
    title_source: str | None = None
    date_source: str | None = None
    sample: dict[str, str | None] = field(default_factory=dict)
    division: tuple[str, str, str] | None = None  # code, name, level

    def to_yaml(self) -> str:
        parts = urlsplit(self.url)
        base = f"{parts.scheme}://{parts.netloc}/"
        list_path = self.url[len(base) :] if self.url.startswith(base) else self.url
        host = parts.hostname or ""
        if parts.port and parts.port != DEFAULT_PORTS.get(parts.scheme):
            host = f"{host}:{parts.port}"
        slug = re.sub(r"[^a-z0-9]+", "-", (parts.hostname or "portal").lower()).strip("-")
        pagination = ", ".join(
            f"{k}: {_yaml_list(v) if isinstance(v, list) else _yaml_scalar(v)}"
            for k, v in self.pagination.items()
            if k != "note"
        )
        code, name, level = self.division or ("000000000000", "", "county")
        lines = [
            "# Proposed by `huizong portals suggest`: review it, then check it with "
            "`huizong portals try`.",
            f"# {self.article_count} article links on the start page; sample article: "
            f"{self.sample.get('url') or '-'}",
            f"#   title {self.sample.get('title')!r} (from {self.title_source or 'nothing'}), "
            f"date {self.sample.get('published')} (from {self.date_source or 'nothing'})",
            "portals:",
            f"  - id: {slug[:60] or 'portal'}",
            f"    name: {_yaml_scalar(self.site_name or slug)}",
            f"    base_url: {base}",
            f"    list_pages: [{_yaml_scalar(list_path or './')}]",
            f"    pagination: {{{pagination}}}",
            f"    article_selector: {_yaml_scalar(self.article_selector)}",
        ]
        if "note" in self.pagination:
            lines.insert(-2, f"    # pagination: {self.pagination['note']}")
        if self.main_text_selector:
            lines.append(f"    main_text_selector: {_yaml_scalar(self.main_text_selector)}")
        division_note = (
            "  # from the site name; confirm with `huizong orgs find`"
            if self.division
            else "  # unknown: look it up with `huizong orgs find NAME`"
        )
        lines += [
            f"    organisation: {{name: {_yaml_scalar(name or self.site_name or '?')}, "
            f'level: {level}, division_code: "{code}"}}{division_note}',
            f"    allowed_hosts: [{_yaml_scalar(host)}]",
        ]
        return "\n".join(lines) + "\n"


def _yaml_list(values: list[object]) -> str:
    return "[" + ", ".join(_yaml_scalar(v) for v in values) + "]"


def _yaml_scalar(value: object) -> str:
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if re.fullmatch(r"[\w./\u4e00-\u9fff-]+", text) and text[0] not in "-.":
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def suggest(url: str, *, allow_private: bool = False, fetcher: Fetcher | None = None) -> Suggestion:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SuggestError(f"{url!r} is not an absolute http(s) URL")
    port = parts.port if parts.port != DEFAULT_PORTS[parts.scheme] else None
    rule = HostRule(host=parts.hostname.lower(), allow_private=allow_private, port=port)
    own = fetcher is None
    fetcher = fetcher or Fetcher([rule], request_interval_seconds=1.0, truncate=True)
    robots = RobotsRules(fetcher)
    try:
        start_url, html = _get(fetcher, robots, url)
        soup = BeautifulSoup(html, "lxml")
        selector, count = article_selector(soup)
        records = _datastore_records(html)
        if records is not None:
            # Hanweb JCMS: the list is in a script's <datastore> records.
            record_selector, record_count = article_selector(records)
            if record_selector is not None and record_count > count:
                selector, count = record_selector, record_count
        if selector is None:
            raise SuggestError(
                f"{url}: found no list of article links (at least 2 title-like links in one "
                "container); is this a list page?"
            )
        links = extract_article_links(html, start_url, selector)
        page_title = soup.title.get_text() if soup.title else None
        site_name = _site_name(page_title)
        suggestion = Suggestion(
            url=url,
            site_name=site_name,
            article_selector=selector,
            article_count=count,
            pagination=pagination_of(html, start_url),
        )
        matches = find_divisions(site_name or "") if site_name else []
        if len(matches) == 1:
            division = matches[0].division
            suggestion.division = (division.code, site_name or division.name, division.level)
        same_host = [link for link in links if urlsplit(link.url).hostname == parts.hostname]
        if same_host:
            first = same_host[0]
            try:
                _, article_html = _get(fetcher, robots, first.url)
            except SuggestError as exc:
                suggestion.sample = {"url": first.url, "title": None, "published": str(exc)}
            else:
                main = main_text_selector(article_html)
                meta = read_article(
                    article_html,
                    link_title=first.title,
                    link_date=first.date,
                    main_text_selector=main,
                    site_names=(site_name or "",),
                )
                suggestion.main_text_selector = main
                suggestion.title_source = meta.title_source
                suggestion.date_source = meta.published_source
                suggestion.sample = {
                    "url": first.url,
                    "title": meta.title,
                    "published": meta.published.isoformat() if meta.published else None,
                }
        return suggestion
    finally:
        if own:
            fetcher.close()


def _get(fetcher: Fetcher, robots: RobotsRules, url: str) -> tuple[str, str]:
    response = fetcher.fetch(url, conditional=False, url_filter=robots.refusal)
    if isinstance(response, FetchError):
        raise SuggestError(str(response))
    try:
        decoded = _decode(response.body, response.content_type, response.truncated)
    except CharsetError as exc:
        raise SuggestError(f"{url}: {exc}") from exc
    return response.final_url, decoded.text


def _site_name(page_title: str | None) -> str | None:
    if not page_title:
        return None
    separators = r"\s*(?:_|\||｜|\s-\s|\s–\s|-{2,}|\s)\s*"
    parts = [p for p in re.split(separators, page_title.strip()) if p]
    named = [p for p in parts if re.search(r"妇联|妇女联合会|人民政府|政府|委员会", p)]
    return (named or parts or [title_core(page_title)])[-1]


def _css(tag: Tag) -> str:
    if tag.get("id") and re.fullmatch(r"[A-Za-z][\w-]*", str(tag["id"])):
        return f"{tag.name}#{tag['id']}"
    classes = [c for c in tag.get("class", []) if re.fullmatch(r"[A-Za-z_][\w-]*", c)]
    return tag.name + "".join(f".{c}" for c in classes[:2])


def article_selector(soup: BeautifulSoup) -> tuple[str | None, int]:
    """The CSS selector of the container whose children hold the most title-like links."""
    best: tuple[int, str] | None = None
    containers = ["ul", "ol", "table", "tbody", "div", "dl", "main", "section", "datastore"]
    for container in soup.find_all(containers):
        items = [c for c in container.find_all(recursive=False) if isinstance(c, Tag)]
        if container.name == "table":
            items = container.find_all("tr")
        titled = 0
        item_tags: Counter[str] = Counter()
        for item in items:
            anchor = item if item.name == "a" else item.find("a", href=True)
            if anchor is None:
                continue
            text = str(anchor.get("title") or "") or anchor.get_text(" ", strip=True)
            if len(_HAN.findall(text)) >= 6:
                titled += 1
                item_tags[item.name] += 1
        if titled < 2:
            continue
        item_tag = item_tags.most_common(1)[0][0]
        selector = f"{_css(container)} {item_tag}" if item_tag != "a" else f"{_css(container)} > a"
        if best is None or titled > best[0]:
            best = (titled, selector)
    if best is None:
        return None, 0
    return best[1], best[0]


def pagination_of(html: str, page_url: str) -> dict[str, object]:
    """The pagination kind (and its settings) a list page shows."""
    call = parse_page_script(html)
    if call is not None:
        return {"kind": "script"}
    found = find_next_link(html, page_url)
    numbered_links = _page_number_links(html, page_url)
    if found is None and 2 in numbered_links:
        found = (numbered_links[2], "page 2 link")
    if found is None:
        if numbered_links:
            pages = [_relative(page_url, url) for url in numbered_links.values()]
            return {"kind": "list", "pages": pages}
        count = declared_page_count(html)
        if count and count > 1:
            # The page says it has more pages but links none we can follow.
            return {"kind": "none", "note": f"the page says {count} pages: set page_pattern"}
        return {"kind": "none"}
    next_url, _ = found
    numbered = _numbered(page_url, next_url)
    if numbered is not None:
        return numbered
    return {"kind": "next"}


_PAGE_NUMBER = re.compile(r"^\s*(?:第\s*)?(\d{1,3})\s*页?\s*$")


def _page_number_links(html: str, page_url: str) -> dict[int, str]:
    """Links reading 2, 3, 第2页 … (page 1 and the page itself left out), by number."""
    soup = BeautifulSoup(html, "lxml")
    current = page_url.split("#", 1)[0]
    found: dict[int, str] = {}
    for anchor in soup.find_all("a", href=True):
        match = _PAGE_NUMBER.match(anchor.get_text(" ", strip=True))
        if not match or int(match.group(1)) < 2:
            continue
        url = urljoin(page_url, str(anchor["href"]).strip()).split("#", 1)[0]
        if url != current and urlsplit(url).netloc == urlsplit(page_url).netloc:
            found.setdefault(int(match.group(1)), url)
    return dict(sorted(found.items()))


def _relative(page_url: str, url: str) -> str:
    directory = page_url.split("?", 1)[0].rsplit("/", 1)[0] + "/"
    return url[len(directory) :] if url.startswith(directory) else url


def _numbered(page_url: str, next_url: str) -> dict[str, object] | None:
    """``index.html`` → ``index_1.html`` (TRS, n=1) or ``list_2.html`` / ``page/2/`` (n=2)."""
    here, there = urlsplit(page_url), urlsplit(next_url)
    if (here.scheme, here.netloc) != (there.scheme, there.netloc):
        return None
    directory = here.path.rsplit("/", 1)[0] + "/"
    target = there.path + (f"?{there.query}" if there.query else "")
    if not there.path.startswith(directory):
        return None
    relative = target[len(directory) :]
    numbers = list(re.finditer(r"\d+", relative))
    if not numbers:
        return None
    last = numbers[-1]
    number = int(last.group())
    if number not in (1, 2):
        return None
    pattern = relative[: last.start()] + "{n}" + relative[last.end() :]
    settings: dict[str, object] = {"kind": "numbered"}
    if here.path.endswith("/") and not here.query:
        settings["first_page"] = "./"  # the list is the directory itself (page/2/ style)
    if pattern != "index_{n}.html":
        settings["page_pattern"] = pattern
    if number != 1:
        settings["first_number"] = number
    return settings


def main_text_selector(html: str) -> str | None:
    soup = BeautifulSoup(html, "lxml")
    for selector in _MAIN_TEXT_CANDIDATES:
        tag = soup.select_one(selector)
        if tag is not None and len(_HAN.findall(tag.get_text())) >= 80:
            return selector
    return None
