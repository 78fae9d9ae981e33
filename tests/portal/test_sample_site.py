"""The bundled sample portal serves the seed pages like a government site."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
import requests
from bs4 import BeautifulSoup
from huizong.portal.config import load_portals
from huizong.portal.crawl import crawl_portal, parse_page_script
from huizong.portal.fetch import Fetcher, JsonFileStateStore, decode_html
from huizong.portal.rawstore import RawPageStore
from huizong.portal.sample_site import ARTICLES, SamplePortal

SEEDS = {a.seed_file[:3]: a for a in ARTICLES}
EXPECTED_DATES = {
    "000": "2021-08-11 10:41",
    "001": "2020-03-10 11:43",
    "002": "2021-08-10",
    "003": "2021-02-20",
    "004": "2025-01-10",
}


@pytest.fixture(scope="module")
def sample():
    with SamplePortal() as portal:
        yield portal


def get(sample: SamplePortal, path: str, **headers: str) -> requests.Response:
    return requests.get(sample.url + path.lstrip("/"), headers=headers, timeout=5)


def seed_lines(seed_file: str) -> list[str]:
    text = resources.files("huizong.data").joinpath("corpus", seed_file).read_text("utf-8")
    return [line for line in text.splitlines() if line]


def article_soup(sample: SamplePortal, code: str) -> BeautifulSoup:
    response = get(sample, SEEDS[code].path)
    decoded = decode_html(response.content, response.headers["Content-Type"])
    return BeautifulSoup(decoded.text, "lxml")


def test_url_names_a_free_loopback_port(sample):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", sample.url)
    assert sample.port != 0


@pytest.mark.parametrize("code", sorted(EXPECTED_DATES))
def test_article_pages_carry_the_seed_text_unchanged(sample, code):
    soup = article_soup(sample, code)
    article = SEEDS[code]
    paragraphs = [p.get_text() for p in soup.select("#zoom p")]
    expected = seed_lines(article.seed_file)
    if article.title_is_first_line:
        assert expected[0] == article.title
        expected = expected[1:]
    assert paragraphs == expected
    info = soup.select_one(".article-info").get_text(" ", strip=True)
    assert f"来源：{article.source}" in info
    assert f"发布日期：{EXPECTED_DATES[code]}" in info
    assert soup.select_one("h1.article-title").get_text() == article.title
    assert soup.find("meta", attrs={"name": "PubDate"})["content"] == EXPECTED_DATES[code]
    assert soup.find("meta", attrs={"name": "ContentSource"})["content"] == article.source
    assert soup.select_one(".share") is not None and soup.select_one(".footer") is not None
    assert "微信扫一扫" in soup.get_text()


def test_seed_typos_survive(sample):
    assert "融妇通〔20201" in article_soup(sample, "001").get_text()
    assert "2020323日前" in article_soup(sample, "001").get_text()
    text_002 = article_soup(sample, "002").get_text()
    assert "巾相思想领航工程" in text_002 and "殷股关怀" in text_002
    assert "婦聯(lián)" in article_soup(sample, "004").get_text()


def test_rongan_notice_is_gbk_declared_gb2312(sample):
    response = get(sample, SEEDS["001"].path)
    assert response.headers["Content-Type"] == "text/html; charset=gb2312"
    assert b'content="text/html; charset=gb2312"' in response.content
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("gb2312")  # contains GBK-only characters
    assert "居家抗疫·系列微课".encode("gbk") in response.content
    decoded = decode_html(response.content, response.headers["Content-Type"])
    assert "居家抗疫·系列微课" in decoded.text
    # characters GBK lacks travel as character references, as real GBK sites send them
    assert b"&#160;" in response.content
    assert "\xa0" in BeautifulSoup(decoded.text, "lxml").get_text()


def test_numbered_list_pages_and_their_end(sample):
    first = BeautifulSoup(get(sample, "/tzgg/index.html").text, "lxml")
    second = BeautifulSoup(get(sample, "/tzgg/index_1.html").text, "lxml")
    links = [a["href"] for a in first.select("ul.news-list li > a")]
    links += [a["href"] for a in second.select("ul.news-list li > a")]
    assert len(links) == 5
    assert any(href.startswith("./") for href in links)
    assert any(href.startswith("../gzdt/") for href in links)
    assert "index_1.html" in str(first.select_one(".page"))
    assert get(sample, "/tzgg/index_2.html").status_code == 404
    assert get(sample, "/tzgg/").text == get(sample, "/tzgg/index.html").text


def test_script_paginated_list(sample):
    first = get(sample, "/gzdt/index.html").text
    second = get(sample, "/gzdt/index_1.html").text
    assert 'createPageHTML(2, 0, "index", "html")' in first
    assert parse_page_script(first) == (2, "index", "html")
    assert parse_page_script(second) == (2, "index", "html")
    titles = [
        a["title"]
        for html in (first, second)
        for a in BeautifulSoup(html, "lxml").select("ul.news-list li > a")
    ]
    assert sorted(titles) == sorted(a.title for a in ARTICLES)


def test_etag_and_last_modified_answer_304(sample):
    path = SEEDS["000"].path
    first = get(sample, path)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert last_modified == "Wed, 11 Aug 2021 02:41:00 GMT"
    assert get(sample, path, **{"If-None-Match": etag}).status_code == 304
    assert get(sample, path, **{"If-Modified-Since": last_modified}).status_code == 304
    assert get(sample, path, **{"If-None-Match": '"other"'}).status_code == 200
    assert get(sample, path, **{"If-Modified-Since": "Tue, 10 Aug 2021 00:00:00 GMT"}).ok


def test_packaged_portal_entry_crawls_the_sample(sample, tmp_path, monkeypatch):
    monkeypatch.setenv("HUIZONG_SAMPLE_PORTAL_URL", sample.url)
    portal = next(p for p in load_portals() if p.id == "sample")

    result = crawl_portal(
        portal,
        partition="2024-05-01",
        raw_store=RawPageStore(tmp_path),
        state_store=JsonFileStateStore(tmp_path / "state.json"),
        fetcher=Fetcher.for_portal(portal),
    )

    assert result.errors == [] and result.notes == []
    assert sorted(p.title for p in result.pages) == sorted(a.title for a in ARTICLES)
    assert len(result.list_pages) == 4
    rongan = next(p for p in result.pages if p.url.endswith(SEEDS["001"].path))
    assert rongan.declared_encoding == "gb2312" and rongan.encoding == "gb18030"
    assert "居家抗疫·系列微课" in rongan.html


def test_module_runs_standalone_and_stops_on_sigterm():
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "include")}
    process = subprocess.Popen(
        [sys.executable, "-m", "huizong.portal.sample_site", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first_line, second_line = process.stdout.readline(), process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", first_line).group(0)
        assert second_line.strip() == f"export HUIZONG_SAMPLE_PORTAL_URL={url}"
        assert requests.get(url + "tzgg/index.html", timeout=5).status_code == 200
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "sample portal stopped" in out
