"""Crawling a portal: pagination, link collection, failures per page, idempotence."""

from __future__ import annotations

import argparse
import shutil

import pytest
from huizong.portal import crawl_cli
from huizong.portal.config import PortalConfig, parse_portals
from huizong.portal.crawl import crawl_portal, extract_article_links, parse_page_script
from huizong.portal.fetch import Fetcher, JsonFileStateStore
from huizong.portal.rawstore import RawPageStore
from huizong.portal.sample_site import SamplePortal
from portal_http import LocalSite, Reply

PARTITION = "2024-05-01"


def portal_for(site: LocalSite, **overrides: object) -> PortalConfig:
    entry: dict[str, object] = {
        "id": "test-portal",
        "base_url": site.url("/"),
        "list_pages": ["tzgg/"],
        "pagination": {"kind": "numbered"},
        "article_selector": "ul.list li a",
        "organisation": {
            "name": "融安县妇女联合会",
            "level": "county",
            "division_code": "450224000000",
        },
        "max_pages": 5,
        "request_interval_seconds": 0,
        "allowed_hosts": [{"host": "127.0.0.1", "allow_private": True}],
    }
    entry.update(overrides)
    return parse_portals({"portals": [entry]}, source="test")[0]


def list_page(links: list[tuple[str, str]], extra: str = "") -> str:
    items = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    return (
        '<html><head><meta charset="utf-8"><title>通知公告</title></head><body>'
        '<ul class="nav"><li><a href="/">首页</a></li></ul>'
        f'<ul class="list">{items}</ul>{extra}</body></html>'
    )


def article(text: str) -> Reply:
    return Reply(body=f"<html><body><div id='zoom'><p>{text}</p></div></body></html>")


def quick_fetcher(portal: PortalConfig, **options: object) -> Fetcher:
    defaults: dict[str, object] = {
        "max_retries": 1,
        "backoff_seconds": 0.01,
        "max_backoff_seconds": 0.02,
        "read_timeout": 2,
    }
    defaults.update(options)
    return Fetcher.for_portal(portal, **defaults)  # type: ignore[arg-type]


def run_crawl(portal, tmp_path, partition=PARTITION, fetcher=None, **kwargs):
    return crawl_portal(
        portal,
        partition=partition,
        raw_store=RawPageStore(tmp_path / "raw"),
        state_store=JsonFileStateStore(tmp_path / "state.json"),
        fetcher=fetcher or quick_fetcher(portal),
        **kwargs,
    )


def raw_files(tmp_path) -> set[str]:
    return {str(p.relative_to(tmp_path)) for p in (tmp_path / "raw").rglob("*") if p.is_file()}


@pytest.fixture
def site():
    with LocalSite() as running:
        yield running


# --- pagination --------------------------------------------------------------


def test_numbered_pagination_until_404_with_relative_links_resolved(site, tmp_path):
    site.route(
        "/tzgg/index.html",
        Reply(body=list_page([("./202003/t1.html", "通知一"), ("../gzdt/t2.html#top", "动态二")])),
    )
    site.route(
        "/tzgg/index_1.html",
        Reply(body=list_page([("./202003/t1.html", "通知一"), ("/tzgg/t3.html", "通知三")])),
    )
    for path in ("/tzgg/202003/t1.html", "/gzdt/t2.html", "/tzgg/t3.html"):
        site.route(path, article(f"正文 {path}"))

    result = run_crawl(portal_for(site), tmp_path)

    assert result.errors == []
    assert [p.url for p in result.pages] == [
        site.url("/tzgg/202003/t1.html"),
        site.url("/gzdt/t2.html"),
        site.url("/tzgg/t3.html"),
    ]
    assert [p.title for p in result.pages] == ["通知一", "动态二", "通知三"]
    assert [p.list_page for p in result.pages] == [
        site.url("/tzgg/index.html"),
        site.url("/tzgg/index.html"),
        site.url("/tzgg/index_1.html"),
    ]
    assert site.hits("/tzgg/index_2.html") == 1 and site.hits("/tzgg/index_3.html") == 0
    assert site.hits("/tzgg/202003/t1.html") == 1  # linked twice, fetched once
    assert [p.title for p in result.list_pages] == ["通知公告", "通知公告"]
    page = result.pages[0]
    assert page.portal_id == "test-portal" and page.status == 200 and not page.unchanged
    assert page.org.division_code == "450224000000"
    assert "正文 /tzgg/202003/t1.html" in page.html
    assert page.raw_path.read_bytes().decode() == page.html


def test_script_pagination_reads_the_page_count(site, tmp_path):
    pager = '<script>createPageHTML(3, 0, "index", "shtml");</script>'
    site.route("/gzdt/index.shtml", Reply(body=list_page([("a.html", "甲")], pager)))
    site.route("/gzdt/index_1.shtml", Reply(body=list_page([("b.html", "乙")], pager)))
    site.route("/gzdt/index_2.shtml", Reply(body=list_page([("a.html", "甲")], pager)))
    site.route("/gzdt/a.html", article("甲"))
    site.route("/gzdt/b.html", article("乙"))
    portal = portal_for(
        site,
        list_pages=["gzdt/"],
        pagination={"kind": "script", "first_page": "index.shtml"},
    )

    result = run_crawl(portal, tmp_path)

    assert result.errors == [] and len(result.list_pages) == 3
    assert [p.title for p in result.pages] == ["甲", "乙"]
    assert site.hits("/gzdt/index_3.shtml") == 0


def test_script_call_parsing():
    assert parse_page_script('createPageHTML(12, 0, "index", "html");') == (12, "index", "html")
    assert parse_page_script("createPageHTML( '4' ,'1','list','htm')") == (4, "list", "htm")
    assert parse_page_script("function createPageHTML(_nPageCount, _nCurrIndex)") is None
    assert parse_page_script("setPage(3, 0, 'index', 'html')", "setPage") == (3, "index", "html")


def test_endless_pagination_is_bounded_by_max_pages(site, tmp_path):
    def endless(path: str, headers: dict[str, str]) -> Reply:
        if path.startswith("/tzgg/index"):
            return Reply(body=list_page([(f"art-{path[6:]}", path)]))
        return article(path)

    site.fallback = endless
    result = run_crawl(portal_for(site, max_pages=4), tmp_path, max_articles=2)

    list_requests = [r.path for r in site.seen if r.path.startswith("/tzgg/index")]
    assert list_requests == [
        "/tzgg/index.html",
        "/tzgg/index_1.html",
        "/tzgg/index_2.html",
        "/tzgg/index_3.html",
    ]
    assert any("stopped after 4 list pages" in note for note in result.notes)
    assert any("fetched the first 2" in note for note in result.notes)
    assert len(result.pages) == 2 and result.errors == []


def test_pages_that_repeat_or_redirect_back_stop_the_walk(site, tmp_path):
    same = Reply(body=list_page([("a.html", "甲")]))
    site.route("/tzgg/index.html", same)
    site.fallback = lambda path, headers: same if "index_" in path else article(path)
    repeated = run_crawl(portal_for(site, max_pages=50), tmp_path / "one")
    assert site.hits("/tzgg/index_1.html") == 1 and site.hits("/tzgg/index_2.html") == 0
    assert len(repeated.pages) == 1

    site.fallback = lambda path, headers: (
        Reply(status=302, headers={"Location": "/tzgg/index.html"})
        if "index_" in path
        else article(path)
    )
    redirected = run_crawl(portal_for(site, max_pages=50), tmp_path / "two")
    assert any("already visited" in note for note in redirected.notes)
    assert site.hits("/tzgg/index_2.html") == 0


def test_first_list_page_failing_is_reported(site, tmp_path):
    result = run_crawl(portal_for(site), tmp_path)
    assert result.pages == []
    assert [(e.url, e.status) for e in result.errors] == [(site.url("/tzgg/index.html"), 404)]


def test_link_extraction_prefers_title_attribute_and_skips_non_pages():
    html = (
        '<html><head><base href="http://x.gov.cn/fl/"></head><body><ul class="list">'
        '<li><a href="t1.html" title="关于做好纪念“三八”国际妇女节有关工作的通知">'
        "关于做好纪念…</a></li>"
        '<li><a href="javascript:void(0)">打印</a></li><li><a href="mailto:a@b.cn">信箱</a></li>'
        '<li><span>无链接</span></li><li><div><a href="sub/t2.html">内嵌</a></div></li>'
        "</ul></body></html>"
    )
    links = extract_article_links(html, "http://x.gov.cn/other/index.html", "ul.list li")
    assert [(link.url, link.title) for link in links] == [
        ("http://x.gov.cn/fl/t1.html", "关于做好纪念“三八”国际妇女节有关工作的通知"),
        ("http://x.gov.cn/fl/sub/t2.html", "内嵌"),
    ]


# --- one bad page does not stop the others ---------------------------------


def test_each_failure_is_reported_and_the_rest_are_fetched(site, tmp_path):
    gbk_body = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head>'
        "<body><p>推出居家抗疫·系列微课——塅头村</p></body></html>"
    ).encode("gbk")
    links = [
        ("ok.html", "好"),
        ("error500.html", "坏"),
        ("slow.html", "慢"),
        ("away.html", "外"),
        ("huge.html", "大"),
        ("gbk.html", "国标"),
        ("file.pdf", "附件"),
        ("ok2.html", "也好"),
    ]
    site.route("/tzgg/index.html", Reply(body=list_page(links)))
    site.route("/tzgg/ok.html", article("第一篇"))
    site.route("/tzgg/error500.html", Reply(status=500, body="Internal Server Error"))
    site.route("/tzgg/slow.html", Reply(body="late", delay=1.0))
    site.route(
        "/tzgg/away.html", Reply(status=302, headers={"Location": "http://evil.example/x.html"})
    )
    site.route("/tzgg/huge.html", Reply(stream_bytes=3 * 1024 * 1024))
    site.route("/tzgg/gbk.html", Reply(body=gbk_body, content_type="text/html; charset=gb2312"))
    site.route("/tzgg/file.pdf", Reply(body=b"%PDF-1.4", content_type="application/pdf"))
    site.route("/tzgg/ok2.html", article("最后一篇"))
    portal = portal_for(site)
    fetcher = quick_fetcher(portal, read_timeout=0.2, max_bytes=1024 * 1024)

    result = run_crawl(portal, tmp_path, fetcher=fetcher)

    # The over-cap page is cut at max_bytes and kept, marked truncated.
    assert [p.title for p in result.pages] == ["好", "大", "国标", "也好"]
    huge = result.pages[1]
    assert huge.truncated and len(huge.raw_path.read_bytes()) == 1024 * 1024
    assert not any(p.truncated for p in result.pages if p is not huge)
    assert any("huge.html: longer than max_bytes (1048576 bytes)" in w for w in result.warnings)
    reasons = {e.url.rsplit("/", 1)[1]: (e.reason, e.status) for e in result.errors}
    assert set(reasons) == {"error500.html", "slow.html", "away.html", "file.pdf"}
    assert reasons["error500.html"][1] == 500
    assert "timed out" in reasons["slow.html"][0]
    assert "not on the allowlist" in reasons["away.html"][0]
    assert "not an HTML page" in reasons["file.pdf"][0]
    gbk_page = result.pages[2]
    assert "推出居家抗疫·系列微课——塅头村" in gbk_page.html
    assert gbk_page.encoding == "gb18030" and gbk_page.declared_encoding == "gb2312"
    assert gbk_page.raw_path.read_bytes() == gbk_body  # kept as received, not re-encoded


# --- idempotence and conditional GET ----------------------------------------


def test_recrawl_of_a_site_without_validators_writes_nothing_new(site, tmp_path):
    site.route("/tzgg/index.html", Reply(body=list_page([("a.html", "甲"), ("b.html", "乙")])))
    site.route("/tzgg/a.html", article("甲"))
    site.route("/tzgg/b.html", article("乙"))
    portal = portal_for(site)

    first = run_crawl(portal, tmp_path)
    files_after_first = raw_files(tmp_path)
    second = run_crawl(portal, tmp_path)

    assert first.raw_files_written == 3 and len(files_after_first) == 6  # bodies + sidecars
    assert second.raw_files_written == 0
    assert raw_files(tmp_path) == files_after_first
    assert [p.unchanged for p in first.pages] == [False, False]
    assert [p.unchanged for p in second.pages] == [True, True]
    assert [p.status for p in second.pages] == [200, 200]


def test_conditional_get_304_gives_unchanged_pages_from_the_raw_store(tmp_path):
    with SamplePortal() as sample:
        portal = portal_for_sample(sample)
        first = run_crawl(portal, tmp_path)
        files_after_first = raw_files(tmp_path)
        served_before = len(sample.requests)
        second = run_crawl(portal, tmp_path, partition="2024-05-02")
        statuses = [status for _, _, status in sample.requests[served_before:]]
    assert first.errors == [] and second.errors == []
    assert len(second.pages) == 5 and all(p.unchanged and p.status == 304 for p in second.pages)
    assert all(p.etag and p.last_modified for p in second.pages)
    assert statuses.count(304) == 9  # 4 list pages and 5 articles
    assert statuses.count(404) == 1  # tzgg/index_2.html, the end of numbered pagination
    assert raw_files(tmp_path) == files_after_first
    assert [p.html for p in second.pages] == [p.html for p in first.pages]
    assert [p.raw_path for p in second.pages] == [p.raw_path for p in first.pages]


def test_304_without_a_raw_copy_fetches_the_body_again(tmp_path):
    with SamplePortal() as sample:
        portal = portal_for_sample(sample)
        run_crawl(portal, tmp_path)
        shutil.rmtree(tmp_path / "raw")
        again = run_crawl(portal, tmp_path)
    assert again.errors == [] and len(again.pages) == 5
    assert all(p.raw_path.is_file() and p.html for p in again.pages)
    assert again.raw_files_written == 9


def portal_for_sample(sample: SamplePortal) -> PortalConfig:
    return parse_portals(
        {
            "portals": [
                {
                    "id": "sample",
                    "base_url": sample.url,
                    "list_pages": ["tzgg/", {"path": "gzdt/", "pagination": {"kind": "script"}}],
                    "article_selector": "ul.news-list li > a",
                    "organisation": {
                        "name": "株洲市妇联",
                        "level": "city",
                        "division_code": "430200000000",
                    },
                    "request_interval_seconds": 0,
                    "allowed_hosts": [{"host": "127.0.0.1", "allow_private": True}],
                }
            ]
        }
    )[0]


# --- robots.txt ---------------------------------------------------------------


def robots(text: str) -> Reply:
    return Reply(body=text, content_type="text/plain")


def test_a_list_page_disallowed_by_robots_txt_is_not_fetched(site, tmp_path):
    site.route("/robots.txt", robots("User-agent: *\nDisallow: /tzgg/\n"))
    site.route("/tzgg/index.html", Reply(body=list_page([("a.html", "甲")])))
    site.route("/tzgg/a.html", article("甲"))

    result = run_crawl(portal_for(site), tmp_path)

    assert site.hits("/tzgg/index.html") == 0 and site.hits("/tzgg/a.html") == 0
    assert result.pages == [] and result.list_pages == []
    [error] = result.errors
    assert error.url == site.url("/tzgg/index.html")
    assert f"disallowed by {site.url('/robots.txt')} for user agent 'huizong'" in error.reason


def test_robots_txt_is_read_once_per_crawl_and_applies_per_path(site, tmp_path):
    site.route(
        "/robots.txt",
        robots("User-agent: otherbot\nDisallow: /\n\nUser-agent: huizong\nDisallow: /private/\n"),
    )
    site.route(
        "/tzgg/index.html",
        Reply(body=list_page([("a.html", "甲"), ("b.html", "乙"), ("/private/c.html", "丙")])),
    )
    for path in ("/tzgg/a.html", "/tzgg/b.html", "/private/c.html"):
        site.route(path, article(path))

    result = run_crawl(portal_for(site), tmp_path)

    assert [p.url for p in result.pages] == [site.url("/tzgg/a.html"), site.url("/tzgg/b.html")]
    assert [e.url for e in result.errors] == [site.url("/private/c.html")]
    assert site.hits("/private/c.html") == 0
    assert site.hits("/robots.txt") == 1
    assert raw_files(tmp_path) and not any("robots" in f for f in raw_files(tmp_path))


def test_a_redirect_into_a_disallowed_path_is_not_followed(site, tmp_path):
    site.route("/robots.txt", robots("User-agent: *\nDisallow: /private/\n"))
    site.route("/tzgg/index.html", Reply(body=list_page([("a.html", "甲")])))
    site.route("/tzgg/a.html", Reply(status=302, headers={"Location": "/private/a.html"}))
    site.route("/private/a.html", article("secret"))

    result = run_crawl(portal_for(site), tmp_path)

    assert site.hits("/private/a.html") == 0
    [error] = result.errors
    assert f"redirect from {site.url('/tzgg/a.html')} to {site.url('/private/a.html')}" in (
        error.reason
    )
    assert "disallowed by" in error.reason


def test_an_unreadable_robots_txt_stops_the_site_and_says_how_to_override(site, tmp_path):
    site.route("/robots.txt", Reply(status=503, body="busy"))
    site.route("/tzgg/index.html", Reply(body=list_page([("a.html", "甲")])))

    result = run_crawl(portal_for(site), tmp_path)

    assert site.hits("/tzgg/index.html") == 0
    [error] = result.errors
    assert "robots.txt could not be read (HTTP 503" in error.reason
    assert "ignore_robots" in error.reason


def test_a_missing_robots_txt_allows_everything(site, tmp_path):
    site.route("/tzgg/index.html", Reply(body=list_page([("a.html", "甲")])))
    site.route("/tzgg/a.html", article("甲"))
    result = run_crawl(portal_for(site), tmp_path)
    assert result.errors == [] and len(result.pages) == 1
    assert site.hits("/robots.txt") == 1


def test_ignore_robots_with_a_reason_crawls_and_warns_every_crawl(site, tmp_path, caplog):
    site.route("/robots.txt", robots("User-agent: *\nDisallow: /\n"))
    site.route("/tzgg/index.html", Reply(body=list_page([("a.html", "甲")])))
    site.route("/tzgg/a.html", article("甲"))
    reason = "县妇联书面同意抓取（2024-03-01 函）"
    portal = portal_for(site, ignore_robots=True, ignore_robots_reason=reason)

    with caplog.at_level("WARNING", logger="huizong.portal.crawl"):
        result = run_crawl(portal, tmp_path)

    assert result.errors == [] and len(result.pages) == 1
    assert site.hits("/robots.txt") == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("robots.txt IGNORED for portal test-portal" in w and reason in w for w in warnings)
    assert any(reason in note for note in result.notes)


# --- command line -----------------------------------------------------------


def test_crawl_command_crawls_the_bundled_sample_portal(tmp_path, monkeypatch, capsys):
    parser = argparse.ArgumentParser(prog="huizong")
    crawl_cli.register(parser.add_subparsers())
    monkeypatch.setenv("HUIZONG_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HUIZONG_RAW_DIR", raising=False)
    monkeypatch.delenv("HUIZONG_PORTALS_FILE", raising=False)
    with SamplePortal() as sample:
        monkeypatch.setenv("HUIZONG_SAMPLE_PORTAL_URL", sample.url)
        args = parser.parse_args(["crawl", "--portal", "sample", "--partition", PARTITION])
        exit_code = args.func(args)
    out = capsys.readouterr().out
    assert exit_code == 0
    assert "articles: 5 fetched, 5 new or changed, 0 unchanged; list pages: 4" in out
    assert "errors: 0" in out
    assert len(list((tmp_path / "raw" / "portal" / "sample" / PARTITION).glob("*.body"))) == 9


def test_crawl_command_reports_failures_and_bad_configuration(tmp_path, monkeypatch, capsys):
    parser = argparse.ArgumentParser(prog="huizong")
    crawl_cli.register(parser.add_subparsers())
    monkeypatch.setenv("HUIZONG_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HUIZONG_RAW_DIR", raising=False)
    with LocalSite() as down:  # serves 404 for everything
        monkeypatch.setenv("HUIZONG_SAMPLE_PORTAL_URL", down.url("/"))
        args = parser.parse_args(["crawl", "--partition", PARTITION])
        assert args.func(args) == 1
    assert "[HTTP 404]: HTTP 404 Not Found" in capsys.readouterr().out

    args = parser.parse_args(["crawl", "--portal", "nope"])
    assert args.func(args) == 2
    assert "no portal with id 'nope'" in capsys.readouterr().err


def test_crawl_command_prints_warnings_and_merged_articles(tmp_path, monkeypatch, capsys):
    parser = argparse.ArgumentParser(prog="huizong")
    crawl_cli.register(parser.add_subparsers())
    monkeypatch.setenv("HUIZONG_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HUIZONG_RAW_DIR", raising=False)
    portals_file = tmp_path / "portals.yaml"
    with LocalSite() as site:
        site.route(
            "/tzgg/index.html",
            Reply(body=list_page([("a.html", "甲"), ("a.html?from=top", "甲")], "<p>共2页</p>")),
        )
        site.route("/tzgg/a.html", article("正文甲"))
        portals_file.write_text(
            "portals:\n  - id: short\n"
            f"    base_url: {site.url('/')}\n"
            "    list_pages: [tzgg/]\n    pagination: {kind: none}\n"
            '    article_selector: "ul.list li a"\n'
            '    organisation: {name: 融安县妇联, level: county, division_code: "450224000000"}\n'
            "    request_interval_seconds: 0\n"
            "    allowed_hosts: [{host: 127.0.0.1, allow_private: true}]\n",
            encoding="utf-8",
        )
        args = parser.parse_args(
            ["crawl", "--portals", str(portals_file), "--partition", PARTITION]
        )
        assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "warning: " in out and "says it has 2 pages but pagination (none) reached only 1" in out
    first, alias = site.url("/tzgg/a.html"), site.url("/tzgg/a.html?from=top")
    assert f"same article: {first} also at {alias}" in out
