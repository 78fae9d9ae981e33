"""Main text and data tables out of a portal HTML page.

The article body is taken, in order of preference, from a CSS selector the
caller knows for the site, from the usual content containers of government CMSs
(TRS ``#zoom``, ``.TRS_Editor``, …), from a link-density heuristic, and last from
trafilatura (clean on long pages, but it prepends navigation on short notices,
see toolchain.md).

Tables stay tables: every data ``<table>`` becomes an :class:`HtmlTable` with
row and column spans expanded, and is rendered into the text as one line per
row with cells separated by tabs, so that the text pipeline (normalize, then
extract) sees the same structure as in a text page with tab-separated rows.
Layout tables (nested tables, long paragraphs in cells) are rendered as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup, NavigableString, Tag

_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "header",
        "footer",
        "tr",
        "table",
        "blockquote",
        "pre",
        "dd",
        "dt",
        "dl",
        "figure",
        "figcaption",
        "center",
        "hr",
        "form",
    ]
)
_DROP_TAGS = ("script", "style", "noscript", "iframe", "nav", "aside", "form", "select", "button")
_CHROME_ATTR = re.compile(
    r"(?:^|[\s_-])(?:nav|menu|footer|foot|header|head|breadcrumb|crumb|share|copyright|"
    r"sidebar|side|related|relate|comment|pagination|pager|toolbar|print|ad|banner|"
    r"login|search|links|friendlink|bottom|top)(?:$|[\s_\d-])",
    re.I,
)
_CONTENT_SELECTORS = (
    "#zoom",
    ".TRS_Editor",
    "#UCAP-CONTENT",
    ".article-content",
    ".article_content",
    ".articleContent",
    ".content_text",
    ".pages_content",
    "#content",
    ".content",
    "article",
)
_META_LINE = re.compile(r"(?:发布(?:日期|时间)|来源|作者|信息来源|浏览次数)\s*[:：]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_MIN_MAIN_HAN = 40
_LAYOUT_CELL_LEN = 120
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")


@dataclass(frozen=True)
class HtmlTable:
    """A data table with spans expanded: ``rows[r][c]`` is the text of that grid cell."""

    rows: tuple[tuple[str, ...], ...]
    header_rows: int
    caption: str | None = None

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


@dataclass(frozen=True)
class HtmlPage:
    text: str
    tables: tuple[HtmlTable, ...]
    title: str | None
    method: str  # "selector", "container", "heuristic", "trafilatura" or "body"


def looks_like_html(text: str) -> bool:
    head = text[:2048].lower()
    return any(tag in head for tag in ("<html", "<!doctype html", "<body", "<table", "<div", "<p>"))


def _cell_text(cell: Tag) -> str:
    return _SPACES.sub(" ", cell.get_text(" ", strip=True)).strip()


def _span(cell: Tag, name: str) -> int:
    try:
        return max(1, min(int(str(cell.get(name, "1")).strip() or "1"), 100))
    except ValueError:
        return 1


def _is_layout_table(table: Tag) -> bool:
    if table.find("table") is not None:
        return True
    cells = table.find_all(["td", "th"])
    if not cells:
        return True
    long_cells = sum(1 for c in cells if len(c.get_text(strip=True)) > _LAYOUT_CELL_LEN)
    return (long_cells > 0 and len(cells) <= 4) or long_cells > len(cells) / 3


def parse_table(table: Tag) -> HtmlTable:
    """Grid of a ``<table>`` with rowspan/colspan copied into every covered cell."""
    grid: dict[tuple[int, int], str] = {}
    header_flags: list[bool] = []
    row_index = 0
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table:
            continue
        col = 0
        cells = tr.find_all(["td", "th"], recursive=False)
        all_th = bool(cells) and all(c.name == "th" for c in cells)
        in_thead = tr.find_parent("thead") is not None
        header_flags.append(all_th or in_thead)
        for cell in cells:
            while (row_index, col) in grid:
                col += 1
            text = _cell_text(cell)
            for dr in range(_span(cell, "rowspan")):
                for dc in range(_span(cell, "colspan")):
                    grid[(row_index + dr, col + dc)] = text
            col += _span(cell, "colspan")
        row_index += 1
    n_rows = max((r for r, _ in grid), default=-1) + 1
    n_cols = max((c for _, c in grid), default=-1) + 1
    rows = tuple(tuple(grid.get((r, c), "") for c in range(n_cols)) for r in range(n_rows))
    rows = tuple(row for row in rows if any(cell for cell in row))
    header_rows = 0
    for flag in header_flags:
        if not flag:
            break
        header_rows += 1
    caption_tag = table.find("caption")
    caption = _cell_text(caption_tag) if caption_tag else None
    return HtmlTable(rows=rows, header_rows=header_rows, caption=caption or None)


def _render(node: Tag, out: list[str], tables: list[HtmlTable]) -> None:
    for child in node.children:
        if isinstance(child, NavigableString):
            if child.__class__.__name__ in ("Comment", "Doctype", "Declaration"):
                continue
            text = _SPACES.sub(" ", str(child).replace("\n", " "))
            if text.strip():
                out.append(text)
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name
        if name in _DROP_TAGS:
            continue
        if name == "table" and not _is_layout_table(child):
            table = parse_table(child)
            if table.rows:
                tables.append(table)
                out.append("\n\n")
                if table.caption:
                    out.append(table.caption + "\n")
                out.append("\n".join("\t".join(row) for row in table.rows))
                out.append("\n\n")
            continue
        if name == "br":
            out.append("\n")
            continue
        if name in ("td", "th"):
            _render(child, out, tables)
            out.append("\n")
            continue
        block = name in _BLOCK_TAGS
        if block:
            out.append("\n")
        _render(child, out, tables)
        if block:
            out.append("\n")


def _render_text(node: Tag) -> tuple[str, list[HtmlTable]]:
    out: list[str] = []
    tables: list[HtmlTable] = []
    _render(node, out, tables)
    text = "".join(out)
    lines = [line.strip(" ") for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    return text, tables


def _han_count(text: str) -> int:
    return len(_HAN.findall(text))


def _strip_chrome(soup: BeautifulSoup) -> None:
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(["div", "ul", "section", "header", "footer", "p", "span", "td"]):
        if tag.decomposed:
            continue
        attrs = " ".join([tag.get("id") or "", " ".join(tag.get("class") or [])])
        if attrs.strip() and _CHROME_ATTR.search(attrs):
            tag.decompose()


def _density_pick(soup: BeautifulSoup) -> Tag | None:
    """The block holding most non-link Han text, favouring paragraph containers."""
    best: Tag | None = None
    best_score = 0.0
    for tag in soup.find_all(["div", "td", "article", "section"]):
        paragraphs = tag.find_all(["p", "br", "tr"], recursive=False)
        own_text = sum(_han_count(p.get_text()) for p in tag.find_all(["p", "tr"], recursive=False))
        own_text += sum(_han_count(str(s)) for s in tag.find_all(string=True, recursive=False))
        if own_text < 20:
            continue
        link_text = sum(_han_count(a.get_text()) for a in tag.find_all("a"))
        total = _han_count(tag.get_text())
        score = own_text - 2 * link_text + 0.1 * total + 5 * len(paragraphs)
        if score > best_score:
            best, best_score = tag, score
    return best


def _trafilatura_text(html: str) -> str | None:
    import trafilatura

    return trafilatura.extract(html, include_tables=True, favor_recall=True)


def _page_title(soup: BeautifulSoup) -> str | None:
    for selector in ("h1", ".title", "#title", "h2", "title"):
        tag = soup.select_one(selector)
        if tag is not None:
            text = _cell_text(tag)
            if _han_count(text) >= 4:
                return text
    return None


def _meta_line(soup: BeautifulSoup, main: Tag | None) -> str | None:
    for string in soup.find_all(string=_META_LINE):
        parent = string.parent
        if parent is None or (main is not None and main in parent.parents):
            continue
        # 来源 / 发布日期 / 作者 usually sit in sibling <span>s of one line: take
        # the whole line, not just the span that matched.
        block = parent
        while block.parent is not None and block.name not in ("div", "p", "td", "li"):
            block = block.parent
        text = _cell_text(block)
        if len(text) <= 160:
            return text
    return None


def html_to_text(html: str, *, selector: str | None = None) -> HtmlPage:
    """Render the main content of ``html`` as text, with its data tables."""
    soup = BeautifulSoup(html, "lxml")
    title = _page_title(soup)
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    meta = _meta_line(soup, None)

    main: Tag | None = None
    method = "body"
    if selector:
        main = soup.select_one(selector)
        method = "selector"
    if main is None:
        for candidate in _CONTENT_SELECTORS:
            tag = soup.select_one(candidate)
            if tag is not None and _han_count(tag.get_text()) >= _MIN_MAIN_HAN:
                main, method = tag, "container"
                break
    if main is None:
        _strip_chrome(soup)
        main = _density_pick(soup)
        method = "heuristic"
    text = ""
    tables: list[HtmlTable] = []
    if main is not None:
        text, tables = _render_text(main)
    if _han_count(text) < _MIN_MAIN_HAN and not tables:
        extracted = _trafilatura_text(html)
        if extracted and _han_count(extracted) > _han_count(text):
            text, method = extracted, "trafilatura"
        elif soup.body is not None and not text:
            text, tables = _render_text(soup.body)
            method = "body"

    header = []
    if title and title not in text[: len(title) + 200]:
        header.append(title)
    if meta and meta not in text:
        header.append(meta)
    if header:
        text = "\n".join(header) + "\n\n" + text
    return HtmlPage(text=text, tables=tuple(tables), title=title, method=method)
