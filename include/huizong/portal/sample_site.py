"""The bundled sample portal: the five seed pages served as a government site.

It looks like the portals the crawler meets: two paginated columns (通知公告
numbered ``index.html``/``index_1.html``; 工作动态 built by a
``createPageHTML(2, 0, "index", "html")`` script call), article pages with
navigation, a 来源/发布日期/作者 line above the body, share widgets and a
footer, one notice served in GBK while declaring ``gb2312`` (it contains the
GBK-only ``·``), and ETag/Last-Modified with 304 answers.

The seed text is served as given, typos and all; only HTML escaping is applied,
and characters GBK cannot encode become numeric character references, as on
real GBK sites.

Run it alone with ``python -m huizong.portal.sample_site --port 8765``.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

DEFAULT_PORT = 8765
SITE_NAME = "示例妇联门户"
LIST_PAGE_SIZE = 3
_CHINA_TIME = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Column:
    slug: str
    name: str
    pagination: str  # "numbered" or "script"


COLUMNS = (
    Column("tzgg", "通知公告", "numbered"),
    Column("gzdt", "工作动态", "script"),
)


@dataclass(frozen=True)
class SampleArticle:
    seed_file: str  # in huizong/data/corpus
    path: str  # where the site serves it
    title: str
    source: str  # 来源
    author: str | None  # 作者
    published: datetime  # China time
    show_time: bool  # whether the page prints the time of day
    charset: str  # label declared in header and <meta>
    codec: str  # codec the body is actually encoded with
    title_is_first_line: bool  # the seed's first line is the headline, not body text

    @property
    def published_text(self) -> str:
        return self.published.strftime("%Y-%m-%d %H:%M" if self.show_time else "%Y-%m-%d")


# Seeds 002-004 carry no headline of their own; theirs are composed from their text.
ARTICLES: tuple[SampleArticle, ...] = (
    SampleArticle(
        seed_file="000_5765cf71cd5532c1.txt",
        path="/gzdt/202108/t20210811_5765cf71.html",
        title="始终保持“赶考”状态 株洲妇联系统在防疫大考中彰显巾帼担当",
        source="株洲市妇联",
        author=None,
        published=datetime(2021, 8, 11, 10, 41, tzinfo=_CHINA_TIME),
        show_time=True,
        charset="utf-8",
        codec="utf-8",
        title_is_first_line=True,
    ),
    SampleArticle(
        seed_file="001_6b24093be0d5f536.txt",
        path="/tzgg/202003/t20200310_6b24093b.html",
        title="融安县妇女联合会关于疫情防控形势下做好纪念“三八”国际妇女节有关工作的通知",
        source="融安县妇女联合会",
        author="妇联",
        published=datetime(2020, 3, 10, 11, 43, tzinfo=_CHINA_TIME),
        show_time=True,
        charset="gb2312",
        codec="gbk",
        title_is_first_line=False,
    ),
    SampleArticle(
        seed_file="002_a97e58f28c234661.txt",
        path="/gzdt/202108/t20210810_a97e58f2.html",
        title="北海市妇联：以总书记讲话金句为旗 推动妇女儿童事业上台阶",
        source="北海市妇联",
        author=None,
        published=datetime(2021, 8, 10, 9, 0, tzinfo=_CHINA_TIME),
        show_time=False,
        charset="utf-8",
        codec="utf-8",
        title_is_first_line=False,
    ),
    SampleArticle(
        seed_file="003_4eae8feafdbcf8d2.txt",
        path="/tzgg/202102/t20210220_4eae8fea.html",
        title="株洲市妇联2020年工作年报：用拼搏与奋斗交出满意答卷",
        source="株洲市妇联",
        author="李卉",
        published=datetime(2021, 2, 20, 9, 0, tzinfo=_CHINA_TIME),
        show_time=False,
        charset="utf-8",
        codec="utf-8",
        title_is_first_line=False,
    ),
    SampleArticle(
        seed_file="004_917b64c738ccee84.txt",
        path="/gzdt/202501/t20250110_917b64c7.html",
        title="回望2024年 兩當縣站兒巷鎮婦聯凝聚巾幗力量",
        source="西部決策網",
        author="柏歡歡",
        published=datetime(2025, 1, 10, 9, 0, tzinfo=_CHINA_TIME),
        show_time=False,
        charset="utf-8",
        codec="utf-8",
        title_is_first_line=False,
    ),
)


@dataclass(frozen=True)
class _Resource:
    body: bytes
    content_type: str
    last_modified: datetime
    etag: str


def _seed_text(seed_file: str, corpus_dir: Path | None) -> str:
    if corpus_dir is not None:
        return (corpus_dir / seed_file).read_text(encoding="utf-8")
    corpus = resources.files("huizong.data").joinpath("corpus")
    return corpus.joinpath(seed_file).read_text(encoding="utf-8")


def _text(value: str) -> str:
    return html.escape(value, quote=False)


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _short_title(title: str, limit: int = 24) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


def _page(title: str, body: str, charset: str, location: str, head_meta: str = "") -> str:
    if charset == "utf-8":
        charset_meta = '<meta charset="utf-8">'
    else:
        charset_meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
    nav = "".join(f'<li><a href="/{c.slug}/">{_text(c.name)}</a></li>' for c in COLUMNS)
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
{charset_meta}
<meta name="SiteName" content="{SITE_NAME}">{head_meta}
<title>{_text(title)} - {SITE_NAME}</title>
<script type="text/javascript">
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt) {{
  if (_nPageCount == null || _nPageCount <= 1) return;
  var html = "";
  for (var i = 0; i < _nPageCount; i++) {{
    var name = i == 0 ? _sPageName + "." + _sPageExt : _sPageName + "_" + i + "." + _sPageExt;
    html += i == _nCurrIndex ? "<span>" + (i + 1) + "</span> "
                             : "<a href=\\"" + name + "\\">" + (i + 1) + "</a> ";
  }}
  document.write(html);
}}
</script>
</head>
<body>
<div class="top-bar">欢迎访问{SITE_NAME}！ 今天是：<span id="today"></span>
 <a href="javascript:void(0)">设为首页</a> | <a href="javascript:void(0)">加入收藏</a></div>
<div class="header">
 <div class="logo"><a href="/">{SITE_NAME}</a></div>
 <form class="search" action="/search" method="get"><input name="q" type="text">
 <button type="submit">搜索</button></form>
 <ul class="nav"><li><a href="/">首页</a></li>{nav}<li><a href="/">联系我们</a></li></ul>
</div>
<div class="location">当前位置：<a href="/">首页</a> &gt; {location}</div>
{body}
<div class="footer">
 <p>主办：{SITE_NAME}（演示站点） 地址：示例路1号 邮编：000000</p>
 <p>版权所有 © {SITE_NAME} 未经授权禁止复制或建立镜像</p>
 <p>ICP备案号：示例ICP备00000000号 技术支持：huizong</p>
</div>
</body>
</html>
"""


def _article_html(article: SampleArticle, seed_text: str, related: list[SampleArticle]) -> str:
    lines = seed_text.splitlines()
    if article.title_is_first_line:
        lines = lines[1:]
    paragraphs = "\n".join(f"<p>{_text(line)}</p>" for line in lines if line)
    info = [
        f"<span>来源：{_text(article.source)}</span>",
        f"<span>发布日期：{article.published_text}</span>",
    ]
    if article.author:
        info.append(f"<span>作者：{_text(article.author)}</span>")
    related_items = "\n".join(
        f'<li><a href="{r.path}" title="{_attr(r.title)}">{_text(_short_title(r.title))}</a></li>'
        for r in related
    )
    column = next(c for c in COLUMNS if article.path.startswith(f"/{c.slug}/"))
    body = f"""<div class="article">
 <h1 class="article-title">{_text(article.title)}</h1>
 <div class="article-info">{" | ".join(info)}
  <span class="font-size">字号：<a href="javascript:void(0)">大</a>
  <a href="javascript:void(0)">中</a> <a href="javascript:void(0)">小</a></span></div>
 <div class="article-content" id="zoom">
{paragraphs}
 </div>
 <div class="share">分享到：<a href="javascript:void(0)">微信</a>
  <a href="javascript:void(0)">微博</a> <a href="javascript:void(0)">QQ空间</a>
  <div class="qrcode">微信扫一扫在手机阅读、分享本文</div></div>
 <div class="article-tools"><a href="javascript:window.print()">打印本页</a>
  <a href="javascript:window.close()">关闭窗口</a></div>
 <div class="related"><h3>相关文章</h3><ul>
{related_items}
 </ul></div>
</div>"""
    location = f'<a href="/{column.slug}/">{_text(column.name)}</a> &gt; 正文'
    # The metadata tags China's government-website guideline asks every article page for.
    head_meta = "".join(
        f'\n<meta name="{name}" content="{_attr(value)}">'
        for name, value in (
            ("ColumnName", column.name),
            ("ArticleTitle", article.title),
            ("PubDate", article.published_text),
            ("ContentSource", article.source),
            ("Author", article.author or ""),
        )
        if value
    )
    return _page(article.title, body, article.charset, location, head_meta)


def _list_html(column: Column, page_index: int, page_count: int, items: list[SampleArticle]) -> str:
    entries = "\n".join(
        f'<li><a href="{_relative_link(column, a)}" title="{_attr(a.title)}" target="_blank">'
        f'{_text(_short_title(a.title))}</a><span class="date">{a.published:%Y-%m-%d}</span></li>'
        for a in items
    )
    if column.pagination == "script":
        pager = (
            '<script type="text/javascript">\n'
            f'createPageHTML({page_count}, {page_index}, "index", "html");\n'
            "</script>"
        )
    else:
        pager = _numbered_pager(page_index, page_count)
    hot = "\n".join(
        f'<li><a href="{a.path}">{_text(_short_title(a.title, 14))}</a></li>' for a in ARTICLES[:3]
    )
    body = f"""<div class="main">
 <div class="column-title">{_text(column.name)}</div>
 <ul class="news-list">
{entries}
 </ul>
 <div class="page">{pager}</div>
</div>
<div class="sidebar"><h3>热点推荐</h3><ul class="side-list">
{hot}
</ul></div>"""
    return _page(column.name, body, "utf-8", _text(column.name))


def _relative_link(column: Column, article: SampleArticle) -> str:
    # TRS-style relative links: ./YYYYMM/… within the column, ../other/… across.
    if article.path.startswith(f"/{column.slug}/"):
        return "." + article.path[len(column.slug) + 1 :]
    return ".." + article.path


def _numbered_pager(page_index: int, page_count: int) -> str:
    def name(i: int) -> str:
        return "index.html" if i == 0 else f"index_{i}.html"

    parts = [f'<a href="{name(0)}">首页</a>']
    if page_index > 0:
        parts.append(f'<a href="{name(page_index - 1)}">上一页</a>')
    if page_index < page_count - 1:
        parts.append(f'<a href="{name(page_index + 1)}">下一页</a>')
    parts.append(f'<a href="{name(page_count - 1)}">尾页</a>')
    parts.append(f"<span>共{page_count}页</span>")
    return " ".join(parts)


def _home_html(newest: list[SampleArticle]) -> str:
    items = "\n".join(
        f'<li><a href="{a.path}" title="{_attr(a.title)}">{_text(_short_title(a.title))}</a>'
        f'<span class="date">{a.published:%Y-%m-%d}</span></li>'
        for a in newest
    )
    body = f"""<div class="main"><h2>最新发布</h2><ul class="home-list">
{items}
</ul></div>"""
    return _page("首页", body, "utf-8", "首页")


def build_site(corpus_dir: Path | None = None) -> dict[str, _Resource]:
    """Every path the sample portal serves, rendered once."""
    newest_first = sorted(ARTICLES, key=lambda a: a.published, reverse=True)
    site: dict[str, _Resource] = {}

    def add(paths: Sequence[str], text: str, codec: str, charset: str, modified: datetime) -> None:
        body = text.encode(codec, errors="xmlcharrefreplace")
        resource = _Resource(
            body=body,
            content_type=f"text/html; charset={charset}",
            last_modified=modified,
            etag='"' + hashlib.sha256(body).hexdigest()[:20] + '"',
        )
        for path in paths:
            site[path] = resource

    for article in ARTICLES:
        related = [a for a in newest_first if a is not article][:3]
        text = _article_html(article, _seed_text(article.seed_file, corpus_dir), related)
        add([article.path], text, article.codec, article.charset, article.published)
    page_count = -(-len(newest_first) // LIST_PAGE_SIZE)
    for column in COLUMNS:
        for page_index in range(page_count):
            items = newest_first[page_index * LIST_PAGE_SIZE : (page_index + 1) * LIST_PAGE_SIZE]
            name = "index.html" if page_index == 0 else f"index_{page_index}.html"
            paths = [f"/{column.slug}/{name}"] + ([f"/{column.slug}/"] if page_index == 0 else [])
            text = _list_html(column, page_index, page_count, items)
            add(paths, text, "utf-8", "utf-8", newest_first[0].published)
    add(["/", "/index.html"], _home_html(newest_first), "utf-8", "utf-8", newest_first[0].published)
    return site


class _Handler(BaseHTTPRequestHandler):
    server: _SampleServer
    protocol_version = "HTTP/1.1"
    server_version = "SamplePortal/1.0"

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, *, send_body: bool) -> None:
        path = urlsplit(self.path).path
        if path == "/robots.txt":
            self._send(HTTPStatus.OK, b"User-agent: *\nAllow: /\n", "text/plain", send_body)
            return
        resource = self.server.site.get(path)
        if resource is None:
            body = "<html><body><h1>404 页面不存在</h1></body></html>".encode()
            self._send(HTTPStatus.NOT_FOUND, body, "text/html; charset=utf-8", send_body)
            return
        last_modified = format_datetime(resource.last_modified.astimezone(UTC), True)
        validators = {"ETag": resource.etag, "Last-Modified": last_modified}
        if self._not_modified(resource):
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, False, validators)
            return
        self._send(HTTPStatus.OK, resource.body, resource.content_type, send_body, validators)

    def _not_modified(self, resource: _Resource) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
            return "*" in tags or resource.etag in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since:
            try:
                since = parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            return resource.last_modified.replace(microsecond=0) <= since
        return False

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str | None,
        send_body: bool,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        self.server.record(self.command, self.path, int(status))
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Requests are kept in ``SamplePortal.requests`` instead of stderr."""


class _SampleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], site: dict[str, _Resource]) -> None:
        super().__init__(address, _Handler)
        self.site = site
        self.requests: list[tuple[str, str, int]] = []
        self._requests_lock = threading.Lock()

    def record(self, method: str, path: str, status: int) -> None:
        with self._requests_lock:
            self.requests.append((method, path, status))

    def served(self) -> list[tuple[str, str, int]]:
        with self._requests_lock:
            return list(self.requests)


class SamplePortal:
    """The sample portal on ``host:port`` (port 0 picks a free one), in a thread.

    Use as a context manager, or ``start()`` / ``stop()``; ``url`` is the base
    URL with a trailing slash, ``requests`` the (method, path, status) served.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, corpus_dir: Path | None = None
    ) -> None:
        self._server = _SampleServer((host, port), build_site(corpus_dir))
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        return self._server.served()

    def article_url(self, article: SampleArticle) -> str:
        return self.url + article.path.lstrip("/")

    def start(self) -> SamplePortal:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},  # so stop() returns promptly
                name="sample-portal",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> SamplePortal:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> int:
    """Run the sample portal until SIGTERM or SIGINT; returns an exit code."""
    try:
        portal = SamplePortal(host, port)
    except OSError as exc:
        print(f"sample portal: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        portal.start()
        print(f"sample portal serving at {portal.url}", flush=True)
        print(f"export HUIZONG_SAMPLE_PORTAL_URL={portal.url}", flush=True)
        while not stop_requested.wait(0.5):
            pass
    finally:
        portal.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("sample portal stopped", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m huizong.portal.sample_site",
        description="Serve the bundled sample portal (the five seed pages) over HTTP.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port, 0 for a free one (default {DEFAULT_PORT})",
    )
    args = parser.parse_args(argv)
    return serve(args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
