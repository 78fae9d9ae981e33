"""Crawl each portal imitation in tests/data/portals/ and check it against its truth file.

One site per CMS family (see ``tests/data/portals/build_sites.py``), each
crawled with the ≤ 15-line config written for it. Checked: every article
found, nothing else kept (no list, calendar or dead page as an article), no
article twice (aliases land in ``also_at``), every title, date, document
number and deadline as the truth file says, dead links reported as errors,
no request off the site's host.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from huizong.portal.article import notice_of
from huizong.portal.config import load_portals
from huizong.portal.crawl import crawl_portal
from huizong.portal.fetch import Fetcher
from portal_http import LocalSite, Reply

SITES = Path(__file__).resolve().parents[1] / "data" / "portals"
FAMILIES = sorted(p.name for p in SITES.iterdir() if (p / "truth.json").is_file())
_TRACKING = ("utm_", "spm", "from")


def serve_directory(site: LocalSite, family: str) -> None:
    root = SITES / family / "site"
    content_type = json.loads((SITES / family / "serve.json").read_text())["content_type"]

    def reply(path: str, headers: dict[str, str]) -> Reply:
        query = urlsplit(headers.get(":target", path)).query
        # Like real sites: tracking parameters change nothing.
        kept = [(k, v) for k, v in parse_qsl(query) if not k.startswith(_TRACKING)]
        name = path.lstrip("/") + ("%3F" + urlencode(kept, safe="/") if kept else "")
        if not name or name.endswith("/"):
            name += "index.html"
        file = (root / name).resolve()
        if root.resolve() not in file.parents or not file.is_file():
            return Reply(status=404, body="<html><body>404 Not Found</body></html>")
        return Reply(body=file.read_bytes(), content_type=content_type)

    site.fallback = reply


def crawl_family(family: str, tmp_path: Path):
    asked_hosts: list[str] = []

    def resolver(host, port, **kwargs):  # only called for names, never for 127.0.0.1
        asked_hosts.append(host)
        raise OSError(f"test resolver: no lookups allowed ({host})")

    with LocalSite() as site:
        serve_directory(site, family)
        os.environ["PORTAL_BASE"] = site.url("/")
        try:
            [portal] = load_portals(SITES / family / "config.yaml")
        finally:
            del os.environ["PORTAL_BASE"]
        fetcher = Fetcher.for_portal(portal, resolver=resolver, max_retries=0)
        result = crawl_portal(
            portal, partition="2024-12-31", raw_store=None, state_store=None, fetcher=fetcher
        )
        seen = list(site.seen)
        base = site.url("")
    return result, base, seen, asked_hosts


@pytest.mark.parametrize("family", FAMILIES)
def test_imitation_is_crawled_exactly_as_its_truth_says(family, tmp_path):
    truth = json.loads((SITES / family / "truth.json").read_text(encoding="utf-8"))
    result, base, seen, asked_hosts = crawl_family(family, tmp_path)

    by_url = {page.url: page for page in result.pages}
    expected = {base + a["url"]: a for a in truth["articles"]}
    assert sorted(by_url) == sorted(expected), "articles found (no more, no less)"
    assert len(result.pages) == len(by_url), "no article twice"
    for url, want in expected.items():
        page = by_url[url]
        article = page.article
        notice = notice_of(article)
        got = {
            "title": article.title,
            "date": article.published.isoformat() if article.published else None,
            "doc_number": notice.doc_number,
            "deadline": notice.deadline.isoformat() if notice.deadline else None,
            "also_at": [u.removeprefix(base) for u in result.also_at.get(url, [])],
            "truncated": page.truncated,
        }
        assert got == {k: want[k] for k in got}, url
    assert sorted(e.url.removeprefix(base) for e in result.errors) == sorted(truth["dead_links"])
    assert all(e.status == 404 for e in result.errors)
    assert asked_hosts == [] and not any("allowlist" in e.reason for e in result.errors)
    assert all(r.headers.get("host", "").startswith("127.0.0.1") for r in seen)
    assert not [w for w in result.warnings if "longer than max_bytes" not in w]


def test_the_imitations_cover_eight_cms_families_with_short_configs():
    assert set(FAMILIES) >= {
        "trs", "hanweb", "dede", "phpcms", "ecms", "dongyi", "wordpress", "static"
    }
    for family in FAMILIES:
        lines = (SITES / family / "config.yaml").read_text(encoding="utf-8").splitlines()
        assert len(lines) <= 15, family


def test_portals_try_prints_list_pages_and_articles_and_writes_nothing(
    monkeypatch, capsys, tmp_path
):
    from huizong.cli import main
    from huizong.portal import rawstore

    def no_writes(*args, **kwargs):
        raise AssertionError("a dry run wrote to the raw store")

    monkeypatch.setattr(rawstore.RawPageStore, "put", no_writes)
    monkeypatch.chdir(tmp_path)
    truth = json.loads((SITES / "trs" / "truth.json").read_text(encoding="utf-8"))
    with LocalSite() as site:
        serve_directory(site, "trs")
        monkeypatch.setenv("PORTAL_BASE", site.url("/"))
        assert main(["portals", "try", str(SITES / "trs" / "config.yaml"), "--json"]) == 0
        base = site.url("")
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    lists = [r for r in records if "list_page" in r]
    articles = [r for r in records if "text_head" in r]
    assert [(r["list_page"].removeprefix(base), r["articles"]) for r in lists] == [
        ("/tzgg/index.html", 2), ("/tzgg/index_1.html", 3), ("/tzgg/index_2.html", 1)
    ]
    assert lists[0]["next"] == base + "/tzgg/index_1.html" and lists[-1]["next"] is None
    assert len(articles) == len(truth["articles"])  # the alias is not printed twice
    first = next(r for r in articles if r["url"] == base + truth["articles"][0]["url"])
    assert first["title"] == truth["articles"][0]["title"]
    assert first["published"] == "2024-04-02" and first["deadline"] == "2024-04-15"
    assert first["doc_number"] == "株妇发〔2024〕12号" and first["truncated"] is False
    assert 0 < len(first["text_head"]) <= 60
    aliased = next(r for r in articles if r["also_at"])
    assert aliased["also_at"] == [base + "/tzgg/202311/t20231108_2987.html?from=tzgg_list"]
    assert list(tmp_path.iterdir()) == []

    with LocalSite() as site:
        serve_directory(site, "trs")
        monkeypatch.setenv("PORTAL_BASE", site.url("/"))
        assert main(["portals", "try", str(SITES / "trs" / "config.yaml")]) == 0
    out = capsys.readouterr().out
    assert "dry run, nothing written" in out and "script: page 2 of 3" in out
    assert "truncated:  yes" in out and "also at:" in out


SUGGEST_STARTS = {
    "trs": "tzgg/index.html",
    "dede": "a/tzgg/index.html",
    "phpcms": "index.php?m=content&c=index&a=lists&catid=9",
    "ecms": "tzgg/index.html",
    "dongyi": "Article/ShowClass.asp?ClassID=5",
    "wordpress": "category/tzgg/",
    "static": "gonggao.htm",
}


@pytest.mark.parametrize("family", sorted(SUGGEST_STARTS))
def test_a_suggested_config_crawls_the_whole_site(family, capsys):
    import yaml
    from huizong.cli import main
    from huizong.portal.config import parse_portals

    truth = json.loads((SITES / family / "truth.json").read_text(encoding="utf-8"))
    with LocalSite() as site:
        serve_directory(site, family)
        start = site.url("/") + SUGGEST_STARTS[family]
        assert main(["portals", "suggest", start, "--allow-private"]) == 0
        proposal = capsys.readouterr().out
        document = yaml.safe_load(proposal)
        [entry] = document["portals"]
        assert entry["allowed_hosts"] == [f"127.0.0.1:{site.port}"]
        entry["allowed_hosts"] = [{"host": "127.0.0.1", "port": site.port, "allow_private": True}]
        entry["request_interval_seconds"] = 0
        [portal] = parse_portals(document)
        result = crawl_portal(portal, partition="x", raw_store=None, state_store=None)
        base = site.url("")
    assert len(proposal.splitlines()) <= 15
    found = {p.url.removeprefix(base): p.article for p in result.pages}
    assert sorted(found) == sorted(a["url"] for a in truth["articles"])
    for want in truth["articles"]:
        article = found[want["url"]]
        assert (article.title, str(article.published)) == (want["title"], want["date"])


def test_suggest_refuses_other_hosts_and_pages_without_a_list(capsys):
    from huizong.cli import main

    with LocalSite() as site:
        serve_directory(site, "trs")
        # Without --allow-private a loopback site is refused, as in a crawl.
        assert main(["portals", "suggest", site.url("/tzgg/index.html")]) == 1
        assert "non-public address" in capsys.readouterr().err
        article = site.url("/tzgg/202404/t20240402_3120.html")
        assert main(["portals", "suggest", article, "--allow-private"]) == 1
        assert "found no list of article links" in capsys.readouterr().err
