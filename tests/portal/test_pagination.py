"""Pagination kinds: numbered with a first number, next links, pager scripts, lists."""

from __future__ import annotations

import pytest
from huizong.portal.config import PortalConfigError, parse_portals
from huizong.portal.crawl import declared_page_count, find_next_link, parse_page_script
from portal_http import LocalSite, Reply
from test_crawl import article, list_page, portal_for, run_crawl


@pytest.fixture
def site():
    with LocalSite() as running:
        yield running


def serve_articles(site: LocalSite, prefix: str = "/news/") -> None:
    # Only article-like names: a list page that does not exist must 404.
    site.fallback = lambda path, headers: (
        article(f"正文{path}")
        if path.startswith(prefix) and not any(k in path for k in ("list", "index"))
        else Reply(status=404, body="no")
    )


def test_numbered_with_first_number_two_reaches_the_last_page(site, tmp_path):
    # WordPress/Dede style: page 2 is list_2.html. With the TRS default (n=1 for
    # page 2) the crawl would ask list_1.html, get 404 and lose pages 2 and 3.
    for n, path in enumerate(("/news/list.html", "/news/list_2.html", "/news/list_3.html")):
        site.route(path, Reply(body=list_page([(f"a{n}.html", f"文{n}")], "<p>共3页</p>")))
    serve_articles(site)
    pagination = {"kind": "numbered", "first_page": "list.html", "page_pattern": "list_{n}.html"}
    wrong = run_crawl(
        portal_for(site, list_pages=["news/"], pagination=pagination), tmp_path / "a"
    )
    assert len(wrong.pages) == 1
    assert any("says it has 3 pages but pagination (numbered) reached only 1" in w
               for w in wrong.warnings)

    right = run_crawl(
        portal_for(site, list_pages=["news/"], pagination={**pagination, "first_number": 2}),
        tmp_path / "b",
    )
    assert [p.title for p in right.pages] == ["文0", "文1", "文2"]
    assert right.warnings == []
    assert [(v.articles, v.how) for v in right.list_visits] == [
        (1, "numbered: n=2"),
        (1, "numbered: n=3"),
        (1, f"numbered: n=4; end: {site.url('/news/list_4.html')} answered HTTP 404"),
    ]


@pytest.mark.parametrize(
    "pager",
    [
        '<link rel="next" href="{next}">',
        '<div class="page"><a href="{next}" rel="next">›</a></div>',
        '<div class="page"><a href="list.html">首页</a><a href="{next}">下一页</a></div>',
        '<div class="page"><a href="{next}">下页&gt;&gt;</a></div>',
    ],
)
def test_next_link_kinds_are_followed(site, tmp_path, pager):
    pages = ["/news/list.html", "/news/p2.html", "/news/more/p3.html"]
    for index, path in enumerate(pages):
        following = site.url(pages[index + 1]) if index + 1 < len(pages) else None
        extra = pager.format(next=following) if following else ""
        site.route(path, Reply(body=list_page([(f"/news/a{index}.html", f"文{index}")], extra)))
    serve_articles(site)
    portal = portal_for(
        site, list_pages=["news/list.html"], pagination={"kind": "next"}
    )
    result = run_crawl(portal, tmp_path)
    assert [p.title for p in result.pages] == ["文0", "文1", "文2"]
    assert [v.next for v in result.list_visits] == [
        site.url("/news/p2.html"), site.url("/news/more/p3.html"), None
    ]
    assert result.list_visits[-1].how == "end: no next link"


def test_next_selector_wins_over_guessing(site, tmp_path):
    site.route(
        "/news/list.html",
        Reply(body=list_page([("a.html", "甲")], '<a href="trap.html">下一页</a>'
                             '<span class="pg"><a href="two.html">2</a></span>')),
    )
    site.route("/news/two.html", Reply(body=list_page([("b.html", "乙")])))
    serve_articles(site)
    portal = portal_for(site, list_pages=["news/list.html"],
                        pagination={"kind": "next", "next_selector": "span.pg a"})
    result = run_crawl(portal, tmp_path)
    assert [p.title for p in result.pages] == ["甲", "乙"] and site.hits("/news/trap.html") == 0


def test_script_pager_with_a_variable_count_and_the_newer_call_form(site, tmp_path):
    script = (
        "<script>var currentPage = 0;var countPage = 3//共多少页\n"
        'createPageHTML(countPage, currentPage, "index", "shtml");</script>'
    )
    for name, title in (("index", "甲"), ("index_1", "乙"), ("index_2", "丙")):
        body = list_page([(f"art{name[-1]}.htm", title)], script)
        site.route(f"/news/{name}.shtml", Reply(body=body))
    serve_articles(site)
    portal = portal_for(site, list_pages=["news/"],
                        pagination={"kind": "script", "first_page": "index.shtml"})
    result = run_crawl(portal, tmp_path)
    assert [p.title for p in result.pages] == ["甲", "乙", "丙"] and result.warnings == []
    assert parse_page_script("createPageHTML('page_div', 7, 1, 'index', 'html', 20);") == (
        7, "index", "html")
    assert parse_page_script("function createPageHTML(countPage, cur, a, b){}") is None


def test_explicit_list_of_pages(site, tmp_path):
    site.route("/news/index.html", Reply(body=list_page([("a.html", "甲")])))
    site.route("/news/old.html", Reply(body=list_page([("b.html", "乙")])))
    serve_articles(site)
    portal = portal_for(site, list_pages=["news/"],
                        pagination={"kind": "list", "pages": ["old.html"]})
    result = run_crawl(portal, tmp_path)
    assert [p.title for p in result.pages] == ["甲", "乙"]
    with pytest.raises(PortalConfigError, match=r"portals\[0\]\.pagination\.pages: is required"):
        portal_for(site, pagination={"kind": "list"})


def test_an_empty_list_page_and_a_short_pagination_are_warnings(site, tmp_path):
    site.route("/news/index.html", Reply(body=list_page([], "<div>共 4 页</div>")))
    site.route("/other/index.html", Reply(body=list_page([("x.html", "甲")], "第1页/共4页")))
    site.route("/other/index_1.html", Reply(status=500, body="busy"))
    serve_articles(site, "/other/")
    result = run_crawl(portal_for(site, list_pages=["news/", "other/"]), tmp_path)
    assert any("list page " + site.url("/news/index.html") + " yielded no article link" in w
               for w in result.warnings)
    assert any("has 4 pages but pagination (numbered) reached only 1" in w and "/other/" in w
               for w in result.warnings)


def test_declared_count_and_next_link_parsing():
    assert declared_page_count("<p>共5页 当前第1页</p>") == 5
    assert declared_page_count("<p>页次：1/12 每页20</p>") == 12
    assert declared_page_count("<p>1/8页</p>") == 8
    assert declared_page_count("<p>no pager</p>") is None
    assert find_next_link('<a href="javascript:next()">下一页</a>', "http://x/a.html") is None
    assert find_next_link('<a href="a.html">下一页</a>', "http://x/a.html") is None


def test_pagination_fields_are_checked_with_their_key_path():
    entry = {
        "id": "x", "base_url": "http://x.gov.cn/", "list_pages": ["a/"],
        "article_selector": "a", "organisation": {
            "name": "融安县妇联", "level": "county", "division_code": "450224000000"},
        "pagination": {"kind": "numbered", "first_number": "two"},
    }
    with pytest.raises(PortalConfigError, match=r"pagination\.first_number: must be a whole"):
        parse_portals({"portals": [entry]}, source="t")
    entry["pagination"] = {"kind": "next", "next_selector": "a[["}
    with pytest.raises(PortalConfigError, match=r"pagination\.next_selector: .* not a valid CSS"):
        parse_portals({"portals": [entry]}, source="t")
    entry["pagination"] = {"kind": "next"}
    entry["max_bytes"] = 10
    with pytest.raises(PortalConfigError, match=r"portals\[0\]\.max_bytes: must be at least"):
        parse_portals({"portals": [entry]}, source="t")


def test_hanweb_datastore_records_script_kin_and_totalpage():
    from huizong.portal.crawl import extract_article_links

    html = (
        '<html><body><ul class="nav"><li><a href="/">首页</a></li></ul>'
        '<script type="text/xml"><datastore><recordset>'
        '<record><![CDATA[<li><a href="/art/2024/3/5/art_1_2.html" title="关于甲的通知">关于甲…</a>'
        "<span>[2024-03-05]</span></li>]]></record>"
        '<record><![CDATA[<li><a href="/art/2024/3/1/art_1_1.html">乙</a></li>]]></record>'
        "</recordset><totalrecord>2</totalrecord><totalpage>7</totalpage></datastore></script>"
        "</body></html>"
    )
    links = extract_article_links(html, "http://x.gov.cn/col/col1/index.html", "datastore li")
    assert [(link.url, link.title, str(link.date)) for link in links] == [
        ("http://x.gov.cn/art/2024/3/5/art_1_2.html", "关于甲的通知", "2024-03-05"),
        ("http://x.gov.cn/art/2024/3/1/art_1_1.html", "乙", "None"),
    ]
    assert declared_page_count(html) == 7
    assert parse_page_script("<script>createPage(4, 0, 'list', 'shtml')</script>") == (
        4, "list", "shtml")


def test_an_article_link_to_another_host_is_skipped_with_a_note(site, tmp_path):
    site.route(
        "/news/index.html",
        Reply(body=list_page([("a.html", "甲"), ("http://www.example.gov.cn/x/1.html", "外站")])),
    )
    serve_articles(site)
    result = run_crawl(portal_for(site, list_pages=["news/"]), tmp_path)
    assert [p.title for p in result.pages] == ["甲"] and result.errors == []
    assert any("www.example.gov.cn/x/1.html: article link off the allowlist" in n
               for n in result.notes)


def test_an_empty_page_ends_a_numbered_list_but_is_a_warning_in_an_explicit_list(site, tmp_path):
    site.route("/news/index.html", Reply(body=list_page([("a.html", "甲")])))
    site.route("/news/index_1.html", Reply(body=list_page([])))  # padding past the end
    serve_articles(site)
    numbered = run_crawl(portal_for(site, list_pages=["news/"]), tmp_path / "a")
    assert [p.title for p in numbered.pages] == ["甲"] and numbered.warnings == []
    assert numbered.list_visits[-1].how.startswith("end: no new article links")

    explicit = {"kind": "list", "pages": ["index_1.html"]}
    listed = run_crawl(portal_for(site, list_pages=["news/"], pagination=explicit), tmp_path / "b")
    assert any("index_1.html yielded no article link" in w for w in listed.warnings)


def test_wordpress_older_posts_link_is_a_next_link():
    html = '<div class="nav-previous"><a href="/page/2/">← 较早文章</a></div>'
    assert find_next_link(html, "http://x.gov.cn/") == (
        "http://x.gov.cn/page/2/", "next: link text '← 较早文章'")
    assert find_next_link('<a href="/page/1/">上一页</a>', "http://x.gov.cn/page/2/") is None
