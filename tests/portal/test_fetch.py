"""The polite fetcher against a local server: charsets, retries, allowlist, limits, 304."""

from __future__ import annotations

import socket
import time

import pytest
from huizong.portal.config import HostRule
from huizong.portal.fetch import (
    CharsetError,
    Fetcher,
    FetchError,
    FetchResponse,
    FetchState,
    JsonFileStateStore,
    decode_html,
    default_user_agent,
    normalize_charset,
)
from portal_http import LocalSite, Reply

LOOPBACK = (HostRule("127.0.0.1", allow_private=True),)
GBK_ONLY_TEXT = "推出居家抗疫·系列微课——株洲市渌口区南洲镇塅头村妇联"


def make_fetcher(**options: object) -> Fetcher:
    sleeps: list[float] = []
    defaults: dict[str, object] = {
        "request_interval_seconds": 0,
        "backoff_seconds": 0.01,
        "max_backoff_seconds": 0.05,
        "connect_timeout": 2,
        "read_timeout": 5,
        "sleep": sleeps.append,
    }
    defaults.update(options)
    fetcher = Fetcher(defaults.pop("allowed_hosts", LOOPBACK), **defaults)  # type: ignore[arg-type]
    fetcher.recorded_sleeps = sleeps  # type: ignore[attr-defined]
    return fetcher


def gbk_page(text: str, charset_label: str = "gb2312") -> bytes:
    html = (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset_label}">'
        f"<title>通知</title></head><body><p>{text}</p></body></html>"
    )
    return html.encode("gbk")


@pytest.fixture
def site():
    with LocalSite() as running:
        yield running


# --- charset -----------------------------------------------------------------


def test_gb2312_label_with_gbk_only_characters_decodes_exactly(site):
    body = gbk_page(GBK_ONLY_TEXT)
    with pytest.raises(UnicodeDecodeError):
        body.decode("gb2312")  # the trap: the label is narrower than the content
    site.route("/notice.html", Reply(body=body, content_type="text/html; charset=gb2312"))

    response = make_fetcher().fetch(site.url("/notice.html"))

    assert isinstance(response, FetchResponse)
    decoded = decode_html(response.body, response.content_type)
    assert GBK_ONLY_TEXT in decoded.text
    assert decoded.encoding == "gb18030"
    assert decoded.declared_encoding == "gb2312"
    assert decoded.detected_encoding is None


def test_meta_declaration_is_used_when_the_header_has_no_charset():
    decoded = decode_html(gbk_page(GBK_ONLY_TEXT, "GBK"), "text/html")
    assert GBK_ONLY_TEXT in decoded.text
    assert decoded.declared_encoding == "GBK"


def test_wrong_header_declaration_falls_through_to_meta():
    decoded = decode_html(gbk_page(GBK_ONLY_TEXT), "text/html; charset=utf-8")
    assert GBK_ONLY_TEXT in decoded.text
    assert decoded.encoding == "gb18030"


def test_undeclared_page_is_detected():
    text = "各乡(镇)妇联、泗顶矿区管理处、县直及驻融各单位女工委：请于2020年3月23日前报送。" * 8
    decoded = decode_html(f"<html><body><p>{text}</p></body></html>".encode("gb18030"), None)
    assert text in decoded.text
    assert decoded.declared_encoding is None
    assert decoded.detected_encoding is not None


def test_utf8_bom_and_aliases():
    assert (
        decode_html("<p>妇联</p>".encode("utf-8-sig"), "text/html; charset=gbk").text
        == "<p>妇联</p>"
    )
    assert normalize_charset("GB2312") == "gb18030"
    assert normalize_charset("x-gbk") == "gb18030"
    assert normalize_charset("no-such-charset") is None


def test_undecodable_body_raises_charset_error(monkeypatch):
    import huizong.portal.charset as charset_module

    class NoGuess:
        def best(self) -> None:
            return None

    monkeypatch.setattr(charset_module.charset_normalizer, "from_bytes", lambda body: NoGuess())
    with pytest.raises(CharsetError):
        decode_html(b"\xff\xfe\xfa<p>", "text/html; charset=utf-8")


# --- retries and timeouts ----------------------------------------------------


def test_500_then_success_is_retried_with_growing_backoff(site):
    site.route(
        "/flaky.html",
        [Reply(status=500, body="oops"), Reply(status=502), Reply(body="<p>好了</p>")],
    )
    fetcher = make_fetcher(max_retries=3, backoff_seconds=0.01, max_backoff_seconds=1)

    response = fetcher.fetch(site.url("/flaky.html"))

    assert isinstance(response, FetchResponse)
    assert response.status == 200
    assert response.body == "<p>好了</p>".encode()
    assert site.hits("/flaky.html") == 3
    first, second = fetcher.recorded_sleeps
    assert 0.01 <= first <= 0.0125 and 0.02 <= second <= 0.025


def test_persistent_5xx_gives_up_after_bounded_attempts(site):
    site.route("/down.html", Reply(status=503, body="busy"))
    response = make_fetcher(max_retries=2).fetch(site.url("/down.html"))
    assert isinstance(response, FetchError)
    assert response.status == 503
    assert "gave up after 3 attempts" in response.reason
    assert site.hits("/down.html") == 3


def test_retry_after_is_honoured_up_to_the_cap(site):
    site.route("/busy.html", [Reply(status=503, headers={"Retry-After": "7"}), Reply(body="ok")])
    fetcher = make_fetcher(max_retries=1, max_backoff_seconds=0.5)
    assert isinstance(fetcher.fetch(site.url("/busy.html")), FetchResponse)
    assert fetcher.recorded_sleeps == [0.5]


def test_404_is_not_retried(site):
    response = make_fetcher(max_retries=3).fetch(site.url("/missing.html"))
    assert isinstance(response, FetchError)
    assert response.status == 404
    assert site.hits("/missing.html") == 1


def test_read_timeout_is_retried_then_reported(site):
    site.route("/slow.html", Reply(body="late", delay=1.0))
    fetcher = make_fetcher(read_timeout=0.2, max_retries=1)
    started = time.monotonic()

    response = fetcher.fetch(site.url("/slow.html"))

    assert isinstance(response, FetchError)
    assert "timed out" in response.reason
    assert response.status is None
    assert site.hits("/slow.html") == 2
    assert time.monotonic() - started < 2.5


def test_connection_refused_is_an_error_value():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    response = make_fetcher(max_retries=1).fetch(f"http://127.0.0.1:{port}/")
    assert isinstance(response, FetchError)
    assert "connection failed" in response.reason


# --- allowlist and redirects -------------------------------------------------


def test_redirect_to_host_off_the_allowlist_is_refused(site):
    site.route(
        "/go.html", Reply(status=302, headers={"Location": f"http://localhost:{site.port}/x"})
    )
    site.route("/x", Reply(body="should not be fetched"))

    response = make_fetcher().fetch(site.url("/go.html"))

    assert isinstance(response, FetchError)
    assert "redirect" in response.reason
    assert "'localhost' is not on the allowlist" in response.reason
    assert site.hits("/x") == 0


def test_redirects_within_the_allowlist_are_followed(site):
    site.route("/old.html", Reply(status=301, headers={"Location": "/a/new.html"}))
    site.route("/a/new.html", Reply(status=302, headers={"Location": "newer.html#top"}))
    site.route("/a/newer.html", Reply(body="<p>到了</p>"))

    response = make_fetcher().fetch(site.url("/old.html"))

    assert isinstance(response, FetchResponse)
    assert response.url == site.url("/old.html")
    assert response.final_url == site.url("/a/newer.html")
    assert response.redirects == (site.url("/old.html"), site.url("/a/new.html"))


def test_redirect_chains_are_bounded(site):
    site.route("/r1", Reply(status=302, headers={"Location": "/r2"}))
    site.route("/r2", Reply(status=302, headers={"Location": "/r1"}))
    site.fallback = lambda path, headers: Reply(status=302, headers={"Location": f"{path}x"})

    looped = make_fetcher().fetch(site.url("/r1"))
    endless = make_fetcher(max_redirects=3).fetch(site.url("/e"))

    assert isinstance(looped, FetchError) and "redirect loop" in looped.reason
    assert isinstance(endless, FetchError) and "more than 3 redirects" in endless.reason
    assert site.hits("/exxx") == 1 and site.hits("/exxxx") == 0


def test_loopback_is_refused_unless_the_allowlist_opts_in(site):
    site.route("/p.html", Reply(body="private"))
    strict = make_fetcher(allowed_hosts=(HostRule("127.0.0.1"),))

    response = strict.fetch(site.url("/p.html"))

    assert isinstance(response, FetchError)
    assert "non-public address 127.0.0.1" in response.reason
    assert "allow_private" in response.reason
    assert site.hits("/p.html") == 0


def test_names_resolving_to_private_addresses_are_refused():
    def resolver_for(address: str):
        return lambda host, port, **kw: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
        ]

    rules = (HostRule("www.example.gov.cn"), HostRule("*.gov.cn"))
    internal = make_fetcher(allowed_hosts=rules, resolver=resolver_for("10.1.2.3"))
    public = make_fetcher(allowed_hosts=rules, resolver=resolver_for("202.96.0.1"))

    assert "non-public address 10.1.2.3" in internal.check_url("http://www.example.gov.cn/")
    assert public.check_url("http://www.example.gov.cn/a.html") is None
    assert public.check_url("https://fl.rongan.gov.cn/") is None
    assert "not on the allowlist" in public.check_url("http://gov.cn.evil.example/")
    assert "scheme 'ftp'" in public.check_url("ftp://www.example.gov.cn/")


# --- size limit --------------------------------------------------------------


def test_oversize_stream_is_cut_off_not_loaded(site):
    site.route("/huge.html", Reply(stream_bytes=50 * 1024 * 1024))
    started = time.monotonic()

    response = make_fetcher(max_retries=0).fetch(site.url("/huge.html"))

    assert isinstance(response, FetchError)
    assert "cut off" in response.reason
    assert "10485760" in response.reason
    assert response.status == 200
    assert time.monotonic() - started < 10


def test_declared_oversize_is_not_downloaded(site):
    site.route("/big.html", Reply(body=b"x" * 2048))
    response = make_fetcher(max_bytes=1024).fetch(site.url("/big.html"))
    assert isinstance(response, FetchError)
    assert "Content-Length 2048" in response.reason


# --- conditional GET and politeness -----------------------------------------


def test_etag_conditional_get_gives_unchanged(site, tmp_path):
    body = "<p>通知正文</p>"

    def with_etag(headers: dict[str, str]) -> Reply:
        if headers.get("if-none-match") == '"v1"':
            return Reply(status=304, headers={"ETag": '"v1"'})
        return Reply(body=body, headers={"ETag": '"v1"'})

    site.route("/n.html", with_etag)
    store = JsonFileStateStore(tmp_path / "state.json")
    fetcher = make_fetcher(state_store=store)

    first = fetcher.fetch(site.url("/n.html"))
    second = fetcher.fetch(site.url("/n.html"))

    assert isinstance(first, FetchResponse) and isinstance(second, FetchResponse)
    assert first.status == 200 and not first.unchanged
    assert second.status == 304 and second.not_modified and second.unchanged
    assert second.sha256 == first.sha256 and second.body == b""
    assert site.requests_to("/n.html")[1].headers["if-none-match"] == '"v1"'
    reloaded = JsonFileStateStore(tmp_path / "state.json").get(site.url("/n.html"))
    assert reloaded == FetchState(etag='"v1"', last_modified=None, sha256=first.sha256)


def test_last_modified_is_sent_as_if_modified_since(site, tmp_path):
    stamp = "Wed, 11 Aug 2021 02:41:00 GMT"
    site.route("/m.html", Reply(body="<p>x</p>", headers={"Last-Modified": stamp}))
    fetcher = make_fetcher(state_store=JsonFileStateStore(tmp_path / "s.json"))
    fetcher.fetch(site.url("/m.html"))
    second = fetcher.fetch(site.url("/m.html"))
    assert site.requests_to("/m.html")[1].headers["if-modified-since"] == stamp
    # the server ignored the condition and sent the same body again
    assert isinstance(second, FetchResponse) and second.status == 200 and second.unchanged


def test_unconditional_fetch_sends_no_validators(site, tmp_path):
    site.route("/u.html", Reply(body="<p>x</p>", headers={"ETag": '"e"'}))
    fetcher = make_fetcher(state_store=JsonFileStateStore(tmp_path / "s.json"))
    fetcher.fetch(site.url("/u.html"))
    fetcher.fetch(site.url("/u.html"), conditional=False)
    assert "if-none-match" not in site.requests_to("/u.html")[1].headers


def test_user_agent_names_the_project_and_a_contact(site, monkeypatch):
    monkeypatch.setenv("HUIZONG_CRAWLER_CONTACT", "mailto:data@fulian.example")
    site.route("/ua.html", Reply(body="ok"))
    make_fetcher(user_agent=None).fetch(site.url("/ua.html"))
    sent = site.requests_to("/ua.html")[0].headers["user-agent"]
    assert sent == default_user_agent()
    assert sent.startswith("huizong/0.1.0 (+mailto:data@fulian.example)")


def test_requests_to_one_host_are_spaced(site):
    site.route("/r.html", Reply(body="ok"))
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    fetcher = make_fetcher(request_interval_seconds=2.0, sleep=sleep, clock=lambda: now[0])
    for _ in range(3):
        assert isinstance(fetcher.fetch(site.url("/r.html")), FetchResponse)
    assert sleeps == [2.0, 2.0]
