"""Main text and data tables out of a portal HTML page.

Only what a reader sees is read. Before anything else the page is cut down to
its visible content (see :func:`prune_invisible`): elements that are never
rendered (``<script>`` and JSON-LD, ``<style>``, ``<template>``, form controls
and their values, ``<noscript>`` since readers run scripts, comments including
IE conditional comments), elements hidden by the ``hidden`` attribute or by
``display: none`` / ``visibility: hidden`` set inline or by the page's own
``<style>`` rules (:mod:`huizong.portal.htmlstyle`), and all they contain.
``aria-hidden`` hides only from screen readers, so its content stays. Content
between downlevel-revealed markers (``<![if !IE]>…<![endif]>``) is what every
current browser shows, so it stays too, as does the body of a closed
``<details>`` (one click shows it). Not modelled: external stylesheets,
scripts that hide or write content, and hiding by geometry or colour
(``opacity: 0``, ``font-size: 0``, off-screen positioning, text the colour of
its background).

The article body is then taken, in order of preference, from a CSS selector the
caller knows for the site, from the usual content containers of government CMSs
(TRS ``#zoom``, ``.TRS_Editor``, …), from a link-density heuristic, and last from
trafilatura (clean on long pages, but it prepends navigation on short notices,
see toolchain.md).

Tables stay tables: every data ``<table>`` becomes an :class:`HtmlTable` with
row and column spans expanded, and is rendered into the text as one line per
row with cells separated by tabs, so that the text pipeline (normalize, then
extract) sees the same structure as in a text page with tab-separated rows.
Layout tables (nested tables, long paragraphs in cells) are rendered as text.

The page is parsed with lxml and every pass over it is linear and iterative
(no recursion, no per-element subtree rescans), so a page of tens of megabytes
(a pasted base64 image, a hundred thousand related links) is read in seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from huizong.portal import htmlstyle

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
        "main",
        "address",
        "details",
        "summary",
        "caption",
    ]
)
# Never rendered, whatever the CSS says (or rendered as controls whose values
# are not page text): dropped with everything inside. <noscript> content shows
# only when scripts are off, which no reader of a portal page has; <rt>/<rp>
# are ruby annotations (pinyin above the characters, and the parentheses old
# browsers show), which would split the words they annotate.
_NEVER_RENDERED = (
    "script",
    "style",
    "template",
    "noscript",
    "noframes",
    "iframe",
    "frame",
    "canvas",
    "video",
    "audio",
    "datalist",
    "input",
    "select",
    "button",
    "option",
    "optgroup",
    "rp",
    "rt",
    "link",
    "meta",
    "base",
    "param",
    "source",
    "track",
)
# Page chrome rather than content: skipped when rendering the main text.
_CHROME_TAGS = frozenset(["nav", "aside"])
_CHROME_ATTR = re.compile(
    r"(?:^|[\s_-])(?:nav|menu|footer|foot|header|head|breadcrumb|crumb|share|copyright|"
    r"sidebar|side|related|relate|comment|pagination|pager|toolbar|print|ad|banner|"
    r"login|search|links|friendlink|bottom|top)(?:$|[\s_\d-])",
    re.I,
)
_CHROME_CANDIDATES = ("div", "ul", "section", "header", "footer", "p", "span", "td")
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
_TITLE_SELECTORS = ("h1", ".title", "#title", "h2", "title")
_META_LINE = re.compile(r"(?:发布(?:日期|时间)|来源|作者|信息来源|浏览次数)\s*[:：]")
_META_XPATH = (
    ".//text()[contains(., '发布') or contains(., '来源') or contains(., '作者')"
    " or contains(., '浏览次数')]"
)
_HAN = re.compile(r"[\u4e00-\u9fff]")
_MIN_MAIN_HAN = 40
_LAYOUT_CELL_LEN = 120
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_WHITESPACE = re.compile(r"[\s\u00a0\u3000]+")
_MAX_SPAN = 100
# Beyond this many grid cells a <table> is rendered as text: spans would
# multiply a hostile table's cells without adding anything to read.
_MAX_TABLE_CELLS = 1_000_000
# trafilatura re-parses and scores the whole page in Python; past this size of
# visible markup it is too slow to be the fallback, and the body is rendered.
_TRAFILATURA_MAX_CHARS = 5_000_000
# A cell of a data table: a number with an optional qualifier and short unit.
_NUMERIC_CELL = re.compile(
    r"[约近超逾<>≥≤＜＞]?\s*[-+−]?[\d０-９][\d０-９,，.．]*\s*"
    r"(?:%|％|‰|[\u4e00-\u9fff]{1,3})?(?:以上|左右)?"
)
_YEAR_CELL = re.compile(r"(?:19|20)\d{2}\s*年(?:度)?(?:\d{1,2}月)?")


@dataclass(frozen=True)
class HtmlTable:
    """A data table with spans expanded: ``rows[r][c]`` is the text of that grid cell.

    The grid is rectangular. The first ``header_rows`` rows are the header, with
    a cell spanning several columns or rows repeated in each, so every column's
    full header path is known (:attr:`column_headers`, e.g. ``两癌筛查/已完成``).
    """

    rows: tuple[tuple[str, ...], ...]
    header_rows: int
    caption: str | None = None

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    @property
    def header(self) -> tuple[tuple[str, ...], ...]:
        return self.rows[: self.header_rows]

    @property
    def body(self) -> tuple[tuple[str, ...], ...]:
        return self.rows[self.header_rows :]

    @property
    def column_headers(self) -> tuple[str, ...]:
        """Each column's header cells from top to bottom, repeats removed, joined by ``/``."""
        out = []
        for c in range(self.width):
            parts: list[str] = []
            for row in self.header:
                cell = row[c] if c < len(row) else ""
                if cell and cell not in parts:
                    parts.append(cell)
            out.append("/".join(parts))
        return tuple(out)


@dataclass(frozen=True)
class HtmlPage:
    text: str
    tables: tuple[HtmlTable, ...]
    title: str | None
    method: str  # "selector", "container", "heuristic", "trafilatura" or "body"


def looks_like_html(text: str) -> bool:
    head = text[:2048].lower()
    return any(tag in head for tag in ("<html", "<!doctype html", "<body", "<table", "<div", "<p>"))


# --- parsing and visibility -------------------------------------------------------------


def parse_document(html: str) -> etree._Element | None:
    """The lxml tree of a decoded page, comments and processing instructions removed.

    The text is handed to libxml2 as UTF-8 with the encoding stated, so a
    ``<meta charset>`` in the page (already applied when it was decoded) is not
    applied twice. ``huge_tree`` lifts libxml2's 10 MB limit on one text node
    or attribute, which a pasted base64 image exceeds (the parser would stop
    there and lose the rest of the page). Plain ``etree`` elements, not
    ``lxml.html`` ones: those look up their Python class on every access,
    which on a page of half a million elements costs seconds.
    """
    data = html.replace("\x00", "\ufffd").encode("utf-8", "replace")
    parser = etree.HTMLParser(
        encoding="utf-8", huge_tree=True, remove_comments=True, remove_pis=True
    )
    try:
        return etree.fromstring(data, parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None


def _elements(node: etree._Element) -> Iterable[etree._Element]:
    return (child for child in node if isinstance(child.tag, str))


def prune_invisible(root: etree._Element) -> None:
    """Remove from ``root`` every element, and blank every text, a reader cannot see."""
    styles = htmlstyle.cascade(root)
    for element in styles.display_none:
        _drop(element)
    for element in list(root.iter(*_NEVER_RENDERED)):
        _drop(element)
    hidden_roots = [
        el
        for el, visible in styles.visibility.items()
        if not visible and not _inside_hidden(el, styles.visibility)
    ]
    for element in hidden_roots:
        _blank_hidden_text(element, styles.visibility)
    # A pasted image's base64 is no text; freeing it keeps big pages small.
    for element in root.iter("img"):
        if (element.get("src") or "").lstrip()[:5].lower() == "data:":
            del element.attrib["src"]


def _drop(element: etree._Element) -> None:
    """Remove ``element`` and its content, keeping the text that follows it."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    previous = element.getprevious()
    parent.remove(element)
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


def _inside_hidden(element: etree._Element, declared: dict[etree._Element, bool]) -> bool:
    for ancestor in element.iterancestors():
        if ancestor in declared:
            return not declared[ancestor]
    return False


def _blank_hidden_text(top: etree._Element, declared: dict[etree._Element, bool]) -> None:
    """Blank the text under a ``visibility: hidden`` element, except where a
    descendant sets ``visibility: visible`` again (visibility is inherited and
    can be overridden, unlike ``display: none``). Boxes stay, so a hidden
    table cell still holds its place in the grid."""
    stack = [(top, False)]
    while stack:
        element, inherited = stack.pop()
        visible = declared.get(element, inherited)
        if not visible:
            element.text = None
        for child in _elements(element):
            if not visible:
                child.tail = None
            stack.append((child, visible))


# --- tables -------------------------------------------------------------------------------


def _cell_text(cell: etree._Element) -> str:
    return _WHITESPACE.sub(" ", " ".join(s.strip() for s in cell.itertext() if s.strip())).strip()


_SPAN_VALUE = re.compile(r"\s*\+?(\d+)")


def _span(cell: etree._Element, name: str) -> int:
    # Browsers read the leading digits ("2px" is 2) and treat anything else as 1.
    match = _SPAN_VALUE.match(cell.get(name) or "")
    return max(1, min(int(match.group(1)), _MAX_SPAN)) if match else 1


def _table_rows(table: etree._Element) -> list[tuple[etree._Element, bool]]:
    """The table's own rows in display order (head, body, foot), each with whether
    it sits in ``<thead>``; rows of nested tables are not the table's."""
    head: list[etree._Element] = []
    body: list[etree._Element] = []
    foot: list[etree._Element] = []
    for child in _elements(table):
        if child.tag == "tr":
            body.append(child)
        elif child.tag in ("thead", "tbody", "tfoot"):
            group = {"thead": head, "tbody": body, "tfoot": foot}[child.tag]
            group.extend(tr for tr in _elements(child) if tr.tag == "tr")
    return [(tr, True) for tr in head] + [(tr, False) for tr in body + foot]


def _is_numeric_cell(text: str) -> bool:
    return bool(_NUMERIC_CELL.fullmatch(text)) and not _YEAR_CELL.fullmatch(text)


def _as_element(table: Any) -> etree._Element:
    if isinstance(table, etree._Element):
        return table
    # A BeautifulSoup Tag (the interface before lxml): parse its markup.
    return lxml_html.fragment_fromstring(str(table))


def parse_table(table: Any) -> HtmlTable:
    """Grid of a ``<table>`` with rowspan/colspan copied into every covered cell.

    ``table`` is an lxml element (a BeautifulSoup ``Tag`` is accepted too).
    Header rows are the leading rows in ``<thead>`` or made of ``<th>`` only,
    extended down by the row spans of their cells, or, when the markup does
    not say, the leading rows holding no figures (above a row that does). A
    first row that is one cell across the whole table is its title: it
    becomes the caption when the table has none.
    """
    table = _as_element(table)
    grid: dict[tuple[int, int], str] = {}
    explicit: list[bool] = []
    reach: list[int] = []  # per row: the last row its cells' row spans cover, plus one
    rows = _table_rows(table)
    for row_index, (tr, in_thead) in enumerate(rows):
        cells = [c for c in _elements(tr) if c.tag in ("td", "th")]
        explicit.append(in_thead or (bool(cells) and all(c.tag == "th" for c in cells)))
        reach.append(row_index + 1)
        col = 0
        for cell in cells:
            while (row_index, col) in grid:
                col += 1
            text = _cell_text(cell)
            rowspan = _span(cell, "rowspan")
            if str(cell.get("rowspan", "")).strip() == "0":  # to the end of the table
                rowspan = max(1, min(len(rows) - row_index, _MAX_SPAN))
            colspan = _span(cell, "colspan")
            for dr in range(rowspan):
                for dc in range(colspan):
                    grid[(row_index + dr, col + dc)] = text
            reach[row_index] = max(reach[row_index], row_index + rowspan)
            col += colspan
    n_rows = max((r for r, _ in grid), default=-1) + 1
    n_cols = max((c for _, c in grid), default=-1) + 1
    grid_rows = [tuple(grid.get((r, c), "") for c in range(n_cols)) for r in range(n_rows)]
    explicit += [False] * (n_rows - len(explicit))
    reach += [r + 1 for r in range(len(reach), n_rows)]

    caption_tag = next((c for c in _elements(table) if c.tag == "caption"), None)
    caption = _cell_text(caption_tag) if caption_tag is not None else None
    keep = [r for r in range(n_rows) if any(grid_rows[r])]
    if len(keep) > 1 and n_cols > 1 and len(set(grid_rows[keep[0]])) == 1:
        # One cell across the whole first row: the table's title, not a header.
        caption = caption or grid_rows[keep[0]][0]
        keep = keep[1:]

    kept_rows = [grid_rows[r] for r in keep]
    header_rows = 0
    covered = 0
    for r in keep:
        if not (explicit[r] or r < covered):
            break
        header_rows += 1
        covered = max(covered, reach[r])
    looking = 0
    for row in kept_rows:
        if any(_is_numeric_cell(cell) for cell in row[1:]):
            break
        looking += 1
    if looking < len(kept_rows):
        header_rows = max(header_rows, looking)
    return HtmlTable(rows=tuple(kept_rows), header_rows=header_rows, caption=caption or None)


def _is_layout_table(table: etree._Element) -> bool:
    if table.get("role", "").strip().lower() in ("presentation", "none"):
        return True
    if table.find(".//table") is not None:
        return True
    cells = list(table.iter("td", "th"))
    if not cells:
        return True
    spans = sum(_span(c, "rowspan") * _span(c, "colspan") for c in cells)
    if spans > _MAX_TABLE_CELLS:
        return True
    long_cells = sum(1 for c in cells if len(_cell_text(c)) > _LAYOUT_CELL_LEN)
    return (long_cells > 0 and len(cells) <= 4) or long_cells > len(cells) / 3


# --- rendering ----------------------------------------------------------------------------


def _render_text(
    node: etree._Element, skip: frozenset[etree._Element] | set[etree._Element] = frozenset()
) -> tuple[str, list[HtmlTable]]:
    """Text of ``node``'s content, blocks on their own lines, data tables as tab rows.

    Iterative, so no nesting depth a page can have overflows Python's stack.
    """
    out: list[str] = []
    tables: list[HtmlTable] = []
    # Work items: an element to render, or text to emit as it is.
    stack: list[etree._Element | str] = []

    def push_content(element: etree._Element, closing: str | None) -> None:
        if closing:
            stack.append(closing)
        for child in reversed(element):
            tail = child.tail
            if tail:
                stack.append(_inline_text(tail))
            if isinstance(child.tag, str):
                stack.append(child)
        if element.text:
            stack.append(_inline_text(element.text))

    if node.tag == "table":
        stack.append(node)  # a selected table is read as a table
    else:
        push_content(node, None)
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item:
                out.append(item)
            continue
        name = item.tag
        if name in _CHROME_TAGS or name == "head" or item in skip:
            continue
        if name == "table" and not _is_layout_table(item):
            table = parse_table(item)
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
        if name in _BLOCK_TAGS:
            out.append("\n")
            push_content(item, "\n")
        elif name in ("td", "th"):
            push_content(item, "\n")
        else:
            push_content(item, None)
    text = "".join(out)
    lines = [line.strip(" ") for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    return text, tables


def _inline_text(text: str) -> str:
    if text.isspace():
        return ""
    if "\n" in text or "\r" in text:
        text = text.replace("\r", " ").replace("\n", " ")
    if not text.isalnum():  # only then can it hold runs of spaces to collapse
        text = _SPACES.sub(" ", text)
    return text


# --- main content -------------------------------------------------------------------------


def _han_count(text: str | None) -> int:
    if not text or text.isascii():
        return 0
    # Not findall: on a long text that builds millions of one-character strings.
    return len(text) - len(_HAN.sub("", text))


def _text_of(element: etree._Element) -> str:
    return etree.tostring(element, method="text", encoding="unicode", with_tail=False)


def _first_matches(
    root: etree._Element, selectors: tuple[str, ...]
) -> dict[str, etree._Element | None]:
    """The first element matching each selector, from one index of the page."""
    index = htmlstyle.ElementIndex(root)
    return {selector: index.first(selector) for selector in selectors}


_CHROME_XPATH = etree.XPath(
    "descendant-or-self::*[(@id or @class) and ("
    + " or ".join(f"self::{tag}" for tag in _CHROME_CANDIDATES)
    + ")]"
)


def _chrome_elements(root: etree._Element) -> set[etree._Element]:
    chrome = set()
    for element in _CHROME_XPATH(root):
        attrs = " ".join([element.get("id") or "", element.get("class") or ""])
        if attrs.strip() and _CHROME_ATTR.search(attrs):
            chrome.add(element)
    return chrome


_CANDIDATE_BLOCKS = ("div", "td", "article", "section")


def _density_pick(root: etree._Element, skip: set[etree._Element]) -> etree._Element | None:
    """The block holding most non-link Han text, favouring paragraph containers.

    One post-order pass computes every element's Han count, link Han count and
    own text (its direct strings and direct ``<p>``/``<tr>``/``<table>``
    children) from its children's, instead of re-reading each candidate's whole
    subtree. Subtrees holding no candidate block and no chrome (a list of a
    hundred thousand links) are counted whole, by libxml2, not element by element.
    """
    descend: set[etree._Element] = set()
    for marked in (*root.iter(*_CANDIDATE_BLOCKS), *skip):
        parent = marked.getparent()
        while parent is not None and parent not in descend:
            descend.add(parent)
            parent = parent.getparent()
    totals: dict[etree._Element, tuple[int, int]] = {}  # element -> (han, link han)
    best: etree._Element | None = None
    best_score = 0.0
    best_rank = -1
    order = 0
    ranks: dict[etree._Element, int] = {}
    stack: list[tuple[etree._Element, bool]] = [(root, False)]
    while stack:
        element, children_done = stack.pop()
        if not children_done:
            ranks[element] = order
            order += 1
            stack.append((element, True))
            for child in reversed(element):
                if not isinstance(child.tag, str) or child in skip:
                    continue
                if child in descend or child.tag in _CANDIDATE_BLOCKS:
                    stack.append((child, False))
                else:
                    total = _han_count(_text_of(child))
                    # Not an XPath "//a//text()": libxml2 merges such node
                    # sets in quadratic time (minutes on a long link list).
                    links = _han_count("".join(_text_of(a) for a in child.iter("a")))
                    totals[child] = (total, links)
            continue
        own = _han_count(element.text)
        total = own
        links = 0
        paragraphs = 0
        for child in element:
            if not isinstance(child.tag, str):
                continue
            tail = _han_count(child.tail)
            own += tail
            total += tail
            child_total, child_links = totals.pop(child, (0, 0))
            total += child_total
            links += child_links
            if child.tag in ("p", "tr", "table"):
                own += child_total
            if child.tag in ("p", "br", "tr"):
                paragraphs += 1
        if element.tag == "a":
            links = total
        totals[element] = (total, links)
        rank = ranks.pop(element)
        if element.tag in _CANDIDATE_BLOCKS and own >= 20:
            score = own - 2 * links + 0.1 * total + 5 * paragraphs
            # Ties go to the element first in the page, as a pre-order scan would.
            tie_first = score == best_score and best is not None and rank < best_rank
            if score > best_score or tie_first:
                best, best_score, best_rank = element, score, rank
    return best


def _trafilatura_text(html: str) -> str | None:
    import trafilatura

    return trafilatura.extract(html, include_tables=True, favor_recall=True)


def _page_title(found: dict[str, etree._Element | None]) -> str | None:
    for selector in _TITLE_SELECTORS:
        tag = found[selector]
        if tag is not None:
            text = _cell_text(tag)
            if _han_count(text) >= 4:
                return text
    return None


def _meta_line(root: etree._Element) -> str | None:
    # One regex over the whole text first: most pages of links have no such line,
    # and finding where it is costs a pass over every text node.
    if not _META_LINE.search(_text_of(root)):
        return None
    for string in root.xpath(_META_XPATH):
        if not _META_LINE.search(string):
            continue
        parent = string.getparent()
        if parent is not None and string.is_tail:
            parent = parent.getparent()
        if parent is None:
            continue
        # 来源 / 发布日期 / 作者 usually sit in sibling <span>s of one line: take
        # the whole line, not just the span that matched.
        block = parent
        while block.getparent() is not None and block.tag not in ("div", "p", "td", "li"):
            block = block.getparent()
        text = _cell_text(block)
        if len(text) <= 160:
            return text
    return None


def html_to_text(html: str, *, selector: str | None = None) -> HtmlPage:
    """Render the visible main content of ``html`` as text, with its data tables.

    ``selector`` is a CSS selector of the article body (the subset of
    :mod:`huizong.portal.htmlstyle`; anything else raises
    :class:`htmlstyle.UnsupportedSelector`, a ``ValueError``).
    """
    root = parse_document(html)
    if root is None:
        return HtmlPage(text="", tables=(), title=None, method="body")
    prune_invisible(root)
    body = root.find("body")
    scope = body if body is not None else root
    found = _first_matches(root, _TITLE_SELECTORS + _CONTENT_SELECTORS)
    title = _page_title(found)
    meta = _meta_line(scope)

    main: etree._Element | None = None
    method = "body"
    if selector:
        main = htmlstyle.select_one(root, selector)
        method = "selector"
    if main is None:
        for candidate in _CONTENT_SELECTORS:
            tag = found[candidate]
            if tag is not None and _han_count(_text_of(tag)) >= _MIN_MAIN_HAN:
                main, method = tag, "container"
                break
    chrome: set[etree._Element] = set()
    if main is None:
        chrome = _chrome_elements(scope)
        main = _density_pick(scope, chrome)
        method = "heuristic"
    text = ""
    tables: list[HtmlTable] = []
    if main is not None:
        text, tables = _render_text(main, chrome)
    if _han_count(text) < _MIN_MAIN_HAN and not tables:
        visible_html = lxml_html.tostring(root, encoding="unicode")
        extracted = (
            _trafilatura_text(visible_html) if len(visible_html) <= _TRAFILATURA_MAX_CHARS else None
        )
        if extracted and _han_count(extracted) > _han_count(text):
            text, method = extracted, "trafilatura"
        elif not text:
            text, tables = _render_text(scope, chrome)
            method = "body"

    header = []
    if title and title not in text[: len(title) + 200]:
        header.append(title)
    if meta and meta not in text:
        header.append(meta)
    if header:
        text = "\n".join(header) + "\n\n" + text
    return HtmlPage(text=text, tables=tuple(tables), title=title, method=method)
