"""A hostile portal: 500s, a hanging page, a redirect off the allowlist, a 50 MB
page and list pages that never end. The crawl is bounded in time and size,
every failure is reported with its URL, the good article still lands, and the
next portal is crawled as usual."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

# The scriptable loopback HTTP server the portal tests use.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "portal"))
from portal_http import LocalSite, Reply

pytestmark = pytest.mark.postgres

MAX_LIST_PAGES = 4
HUGE = 50 * 1024 * 1024


def _list_page(links: list[str]) -> str:
    items = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (
        '<html><head><meta charset="utf-8"></head><body>'
        f'<ul class="list">{items}</ul></body></html>'
    )


def _hostile_site(site: LocalSite) -> None:
    links = ["/a/ok.html", "/a/500.html", "/a/slow.html", "/a/away.html", "/a/huge.html"]
    site.route("/a/ok.html", Reply(body="<html><body><div id='zoom'><p>全县共有妇女之家120个。</p>"
                                        "</div></body></html>"))
    site.route("/a/500.html", Reply(status=500, body="boom"))
    site.route("/a/slow.html", Reply(delay=3, body="<p>late</p>"))
    site.route("/a/away.html", Reply(status=302, headers={"Location": "http://203.0.113.7/steal"}))
    site.route("/a/huge.html", Reply(stream_bytes=HUGE))

    def endless(path: str, headers: dict[str, str]) -> Reply:
        if path.startswith("/tzgg/index"):
            return Reply(body=_list_page([*links, f"/a/more{path[12:]}"]))
        return Reply(status=404, body="not found")

    site.fallback = endless


def test_hostile_portal_is_bounded_and_reported_and_the_next_portal_is_crawled(
    warehouse, data_dir, tmp_path, monkeypatch
):
    from huizong import pipeline
    from huizong.portal.config import parse_portals
    from huizong.portal.crawl import crawl_portal
    from huizong.portal.fetch import Fetcher, JsonFileStateStore
    from huizong.portal.rawstore import RawPageStore
    from huizong.portal.sample_site import SamplePortal

    with LocalSite() as site:
        _hostile_site(site)
        portal = parse_portals({"portals": [{
            "id": "hostile",
            "base_url": site.url("/"),
            "list_pages": ["tzgg/"],
            "pagination": {"kind": "numbered"},
            "article_selector": "ul.list li a",
            "organisation": {"name": "两当县妇联", "level": "county",
                             "division_code": "621228000000"},
            "max_pages": MAX_LIST_PAGES,
            "request_interval_seconds": 0,
            "allowed_hosts": [{"host": "127.0.0.1", "allow_private": True}],
        }]}, source="test")[0]
        fetcher = Fetcher.for_portal(portal, max_retries=1, backoff_seconds=0.01,
                                     max_backoff_seconds=0.02, read_timeout=1, total_timeout=10)
        started = time.monotonic()
        result = crawl_portal(portal, partition="2025-01-10",
                              raw_store=RawPageStore(tmp_path / "raw"),
                              state_store=JsonFileStateStore(tmp_path / "state.json"),
                              fetcher=fetcher)
        elapsed = time.monotonic() - started
        list_requests = [r.path for r in site.seen if r.path.startswith("/tzgg/index")]

    assert elapsed < 60, f"the hostile crawl took {elapsed:.0f} s"
    assert len(list_requests) == MAX_LIST_PAGES, list_requests
    assert any(str(MAX_LIST_PAGES) in note for note in result.notes), result.notes
    fetched = {p.url.rsplit("/", 1)[-1] for p in result.pages}
    assert "ok.html" in fetched
    failed = {e.url.rsplit("/", 1)[-1]: e for e in result.errors}
    for bad in ("500.html", "slow.html", "away.html"):
        assert bad in failed, f"{bad} not reported: {sorted(failed)}"
        assert bad not in fetched
    assert failed["500.html"].status == 500
    # The 50 MB page is cut at the portal's max_bytes, kept and marked truncated.
    [huge] = [p for p in result.pages if p.url.endswith("/huge.html")]
    assert huge.truncated and len(huge.raw_path.read_bytes()) == portal.max_bytes
    assert any("huge.html: longer than max_bytes" in w for w in result.warnings)
    stored = sum(p.stat().st_size for p in (tmp_path / "raw").rglob("*") if p.is_file())
    assert stored < HUGE / 4, f"{stored} bytes landed: the 50 MB page was kept whole"

    # The next portal, through the DAG's own step, is unaffected.
    with SamplePortal() as sample:
        monkeypatch.setenv("HUIZONG_SAMPLE_PORTAL_URL", sample.url)
        summary = pipeline.crawl_and_stage_portal(
            warehouse, "sample", batch_id="portal_notices__20250110T000000__sample",
            partition="2025-01-10",
        )
    assert summary.pages_fetched >= 5 and summary.statistics > 0, summary
