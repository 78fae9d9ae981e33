"""The polite fetcher against a local server: charsets, retries, allowlist, limits, 304."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from huizong.portal.config import HostRule, PortalConfig, parse_portals
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


def loopback(port: int | None) -> tuple[HostRule, ...]:
    """The allowlist of a test fetcher: the local site's address and port."""
    return (HostRule("127.0.0.1", allow_private=True, port=port),)

GBK_ONLY_TEXT = "推出居家抗疫·系列微课——株洲市渌口区南洲镇塅头村妇联"


def make_fetcher(port: int | None = None, **options: object) -> Fetcher:
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
    fetcher = Fetcher(defaults.pop("allowed_hosts", loopback(port)), **defaults)  # type: ignore[arg-type]
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

    response = make_fetcher(site.port).fetch(site.url("/notice.html"))

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
    fetcher = make_fetcher(site.port, max_retries=3, backoff_seconds=0.01, max_backoff_seconds=1)

    response = fetcher.fetch(site.url("/flaky.html"))

    assert isinstance(response, FetchResponse)
    assert response.status == 200
    assert response.body == "<p>好了</p>".encode()
    assert site.hits("/flaky.html") == 3
    first, second = fetcher.recorded_sleeps
    assert 0.01 <= first <= 0.0125 and 0.02 <= second <= 0.025


def test_persistent_5xx_gives_up_after_bounded_attempts(site):
    site.route("/down.html", Reply(status=503, body="busy"))
    response = make_fetcher(site.port, max_retries=2).fetch(site.url("/down.html"))
    assert isinstance(response, FetchError)
    assert response.status == 503
    assert "gave up after 3 attempts" in response.reason
    assert site.hits("/down.html") == 3


def test_retry_after_is_honoured_up_to_the_cap(site):
    site.route("/busy.html", [Reply(status=503, headers={"Retry-After": "7"}), Reply(body="ok")])
    fetcher = make_fetcher(site.port, max_retries=1, max_backoff_seconds=0.5)
    assert isinstance(fetcher.fetch(site.url("/busy.html")), FetchResponse)
    assert fetcher.recorded_sleeps == [0.5]


def test_404_is_not_retried(site):
    response = make_fetcher(site.port, max_retries=3).fetch(site.url("/missing.html"))
    assert isinstance(response, FetchError)
    assert response.status == 404
    assert site.hits("/missing.html") == 1


def test_read_timeout_is_retried_then_reported(site):
    site.route("/slow.html", Reply(body="late", delay=1.0))
    fetcher = make_fetcher(site.port, read_timeout=0.2, max_retries=1)
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
    response = make_fetcher(port, max_retries=1).fetch(f"http://127.0.0.1:{port}/")
    assert isinstance(response, FetchError)
    assert "connection failed" in response.reason


# --- allowlist and redirects -------------------------------------------------


def test_redirect_to_host_off_the_allowlist_is_refused(site):
    site.route(
        "/go.html", Reply(status=302, headers={"Location": f"http://localhost:{site.port}/x"})
    )
    site.route("/x", Reply(body="should not be fetched"))

    response = make_fetcher(site.port).fetch(site.url("/go.html"))

    assert isinstance(response, FetchError)
    assert "redirect" in response.reason
    assert "'localhost' is not on the allowlist" in response.reason
    assert site.hits("/x") == 0


def test_redirects_within_the_allowlist_are_followed(site):
    site.route("/old.html", Reply(status=301, headers={"Location": "/a/new.html"}))
    site.route("/a/new.html", Reply(status=302, headers={"Location": "newer.html#top"}))
    site.route("/a/newer.html", Reply(body="<p>到了</p>"))

    response = make_fetcher(site.port).fetch(site.url("/old.html"))

    assert isinstance(response, FetchResponse)
    assert response.url == site.url("/old.html")
    assert response.final_url == site.url("/a/newer.html")
    assert response.redirects == (site.url("/old.html"), site.url("/a/new.html"))


def test_redirect_chains_are_bounded(site):
    site.route("/r1", Reply(status=302, headers={"Location": "/r2"}))
    site.route("/r2", Reply(status=302, headers={"Location": "/r1"}))
    site.fallback = lambda path, headers: Reply(status=302, headers={"Location": f"{path}x"})

    looped = make_fetcher(site.port).fetch(site.url("/r1"))
    endless = make_fetcher(site.port, max_redirects=3).fetch(site.url("/e"))

    assert isinstance(looped, FetchError) and "redirect loop" in looped.reason
    assert isinstance(endless, FetchError) and "more than 3 redirects" in endless.reason
    assert site.hits("/exxx") == 1 and site.hits("/exxxx") == 0


def test_loopback_is_refused_unless_the_allowlist_opts_in(site):
    site.route("/p.html", Reply(body="private"))
    strict = make_fetcher(allowed_hosts=(HostRule("127.0.0.1", port=site.port),))

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

    response = make_fetcher(site.port, max_retries=0).fetch(site.url("/huge.html"))

    assert isinstance(response, FetchError)
    assert "cut off" in response.reason
    assert "10485760" in response.reason
    assert response.status == 200
    assert time.monotonic() - started < 10


def test_declared_oversize_is_not_downloaded(site):
    site.route("/big.html", Reply(body=b"x" * 2048))
    response = make_fetcher(site.port, max_bytes=1024).fetch(site.url("/big.html"))
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
    fetcher = make_fetcher(site.port, state_store=store)

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
    fetcher = make_fetcher(site.port, state_store=JsonFileStateStore(tmp_path / "s.json"))
    fetcher.fetch(site.url("/m.html"))
    second = fetcher.fetch(site.url("/m.html"))
    assert site.requests_to("/m.html")[1].headers["if-modified-since"] == stamp
    # the server ignored the condition and sent the same body again
    assert isinstance(second, FetchResponse) and second.status == 200 and second.unchanged


def test_unconditional_fetch_sends_no_validators(site, tmp_path):
    site.route("/u.html", Reply(body="<p>x</p>", headers={"ETag": '"e"'}))
    fetcher = make_fetcher(site.port, state_store=JsonFileStateStore(tmp_path / "s.json"))
    fetcher.fetch(site.url("/u.html"))
    fetcher.fetch(site.url("/u.html"), conditional=False)
    assert "if-none-match" not in site.requests_to("/u.html")[1].headers


def test_user_agent_names_the_project_and_a_contact(site, monkeypatch):
    monkeypatch.setenv("HUIZONG_CRAWLER_CONTACT", "mailto:data@fulian.example")
    site.route("/ua.html", Reply(body="ok"))
    make_fetcher(site.port, user_agent=None).fetch(site.url("/ua.html"))
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

    fetcher = make_fetcher(
        site.port, request_interval_seconds=2.0, sleep=sleep, clock=lambda: now[0]
    )
    for _ in range(3):
        assert isinstance(fetcher.fetch(site.url("/r.html")), FetchResponse)
    assert sleeps == [2.0, 2.0]


# --- wall-clock deadline -----------------------------------------------------


class DrippingServer:
    """Answers every request one byte every ``interval`` seconds, on loopback.

    ``phase`` "body" sends the status line and headers at once (Content-Length
    1000) and then drips the body; "headers" drips the header block itself.
    It stops after ``limit`` bytes and closes, so that a fetcher without a
    deadline fails a test after a few seconds instead of hanging it.
    """

    def __init__(self, phase: str, interval: float = 0.2, limit: int = 40) -> None:
        self.phase = phase
        self.interval = interval
        self.limit = limit
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n"
        with conn:
            try:
                conn.recv(65536)
                if self.phase == "body":
                    conn.sendall(head + b"\r\n")
                    dripped = b"x" * self.limit
                else:
                    dripped = (head + b"X-Slow: " + b"y" * self.limit)[: self.limit]
                for byte in dripped:
                    if self._stop.wait(self.interval):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return  # the fetcher hung up: what the deadline is for

    def __enter__(self) -> DrippingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self._listener.close()


@pytest.mark.parametrize("phase", ["body", "headers"])
def test_a_dripping_server_cannot_hold_the_fetcher_past_the_deadline(phase):
    """One byte every 0.2 s never trips a 5 s read timeout; the 2 s deadline must."""
    with DrippingServer(phase) as server:
        fetcher = make_fetcher(server.port, total_timeout=2, read_timeout=5, max_retries=2)
        started = time.monotonic()

        response = fetcher.fetch(server.url("/drip.html"))

        elapsed = time.monotonic() - started
    assert isinstance(response, FetchError)
    assert "2 s deadline" in response.reason
    assert elapsed < 2 + 1, f"held for {elapsed:.1f} s"
    assert server.connections == 1  # no retry starts once the deadline has passed


def test_the_deadline_covers_retries_and_their_backoff(site):
    site.route("/down.html", Reply(status=503))
    fetcher = make_fetcher(
        site.port,
        total_timeout=0.5,
        max_retries=10,
        backoff_seconds=0.2,
        max_backoff_seconds=1,
        sleep=time.sleep,
    )
    started = time.monotonic()

    response = fetcher.fetch(site.url("/down.html"))

    assert isinstance(response, FetchError) and response.status == 503
    assert "total_timeout reached" in response.reason and "gave up after" in response.reason
    assert time.monotonic() - started < 1.5
    assert site.hits("/down.html") < 5


def test_the_deadline_never_cuts_the_request_interval_short(site):
    site.route("/r.html", Reply(body="ok"))
    fetcher = make_fetcher(site.port, request_interval_seconds=5.0, total_timeout=1)
    assert isinstance(fetcher.fetch(site.url("/r.html")), FetchResponse)

    second = fetcher.fetch(site.url("/r.html"))  # its slot is 5 s away, after the deadline

    assert isinstance(second, FetchError) and "1 s deadline" in second.reason
    assert site.hits("/r.html") == 1 and fetcher.recorded_sleeps == []


def test_a_finished_fetch_leaves_its_pooled_connection_alone(site):
    """The watchdog of a fetch that ended must not cut the keep-alive connection."""
    site.route("/a.html", Reply(body="<p>a</p>"))
    fetcher = make_fetcher(site.port, total_timeout=0.5)
    for _ in range(3):
        assert isinstance(fetcher.fetch(site.url("/a.html")), FetchResponse)
    time.sleep(0.6)  # past every one of those deadlines
    assert isinstance(fetcher.fetch(site.url("/a.html")), FetchResponse)
    assert len({r.peer for r in site.requests_to("/a.html")}) == 1  # one connection throughout


# --- ports and DNS rebinding -------------------------------------------------


def _portal_on(site: LocalSite) -> PortalConfig:
    return parse_portals(
        {
            "portals": [
                {
                    "id": "ports",
                    "base_url": site.url("/"),
                    "list_pages": ["tzgg/"],
                    "article_selector": "a",
                    "organisation": {
                        "name": "融安县妇联",
                        "level": "county",
                        "division_code": "450224000000",
                    },
                    "allowed_hosts": [{"host": "127.0.0.1", "allow_private": True}],
                }
            ]
        },
        source="test",
    )[0]


def test_a_redirect_to_another_port_of_an_allow_private_host_is_refused(site):
    with LocalSite() as internal:  # e.g. an admin API on the same machine
        internal.route("/admin", Reply(body="secret"))
        site.route("/go.html", Reply(status=302, headers={"Location": internal.url("/admin")}))
        portal = _portal_on(site)
        fetcher = Fetcher.for_portal(portal, max_retries=0)

        response = fetcher.fetch(site.url("/go.html"))

        assert isinstance(response, FetchError)
        hop = f"redirect from {site.url('/go.html')} to {internal.url('/admin')}"
        assert hop in response.reason
        assert f"port {internal.port} of host '127.0.0.1' is not on the allowlist" in (
            response.reason
        )
        assert internal.hits("/admin") == 0
        # The portal's own port is allowed without naming it.
        site.route("/ok.html", Reply(body="ok"))
        assert isinstance(fetcher.fetch(site.url("/ok.html")), FetchResponse)


def test_a_rule_naming_a_port_allows_that_port(site):
    with LocalSite() as other:
        other.route("/b.html", Reply(body="b"))
        site.route("/go.html", Reply(status=302, headers={"Location": other.url("/b.html")}))
        rules = (
            HostRule("127.0.0.1", allow_private=True, port=site.port),
            HostRule("127.0.0.1", allow_private=True, port=other.port),
        )
        response = make_fetcher(allowed_hosts=rules).fetch(site.url("/go.html"))
        assert isinstance(response, FetchResponse)
        assert response.final_url == other.url("/b.html")


def test_a_rule_without_a_port_allows_only_the_default_ports():
    public = make_fetcher(
        allowed_hosts=(HostRule("www.example.gov.cn"),),
        resolver=lambda host, port, **kw: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("202.96.0.1", port))
        ],
    )
    assert public.check_url("http://www.example.gov.cn/") is None
    assert public.check_url("https://www.example.gov.cn:443/") is None
    refusal = public.check_url("http://www.example.gov.cn:8080/")
    assert refusal is not None and "port 8080" in refusal


def test_dns_rebinding_cannot_swap_the_checked_address(site, monkeypatch):
    """The name answers a public address first and loopback after: the attack.

    A fetcher that checks with one lookup and connects with another would
    reach the loopback site. The fetcher must connect to the address it
    checked, so the site sees nothing and the name is looked up once.
    """
    site.route("/internal", Reply(body="internal only"))
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding_getaddrinfo(host, port, *args, **kwargs):
        if host != "rebind.example.gov.cn":
            return real_getaddrinfo(host, port, *args, **kwargs)
        lookups.append(host)
        # First a global address (the retired 6to4 relay anycast: nothing answers), then loopback.
        address = "192.88.99.1" if len(lookups) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_getaddrinfo)
    fetcher = make_fetcher(
        allowed_hosts=(HostRule("rebind.example.gov.cn", port=site.port),),
        resolver=rebinding_getaddrinfo,
        connect_timeout=0.5,
        max_retries=0,
    )

    response = fetcher.fetch(f"http://rebind.example.gov.cn:{site.port}/internal")

    assert isinstance(response, FetchError)
    assert site.hits("/internal") == 0
    assert lookups == ["rebind.example.gov.cn"]


def test_each_new_connection_checks_its_own_lookup(site, monkeypatch):
    """A later connection that resolves to loopback is refused, not trusted from before."""
    site.route("/p.html", Reply(body="p", headers={"Connection": "close"}))
    answers = iter(["192.88.99.1", "127.0.0.1"])

    def resolver(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    fetcher = make_fetcher(
        allowed_hosts=(HostRule("rebind.example.gov.cn", port=site.port),),
        resolver=resolver,
        connect_timeout=0.3,
        max_retries=0,
    )
    url = f"http://rebind.example.gov.cn:{site.port}/p.html"
    first = fetcher.fetch(url)
    second = fetcher.fetch(url)
    assert isinstance(first, FetchError) and "refused" not in first.reason  # unreachable
    assert isinstance(second, FetchError)
    assert "non-public address 127.0.0.1" in second.reason
    assert site.hits("/p.html") == 0


def test_proxies_from_the_environment_are_not_used(site, monkeypatch):
    """Through a proxy the address check would vet the proxy, not the site."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9/")
    monkeypatch.setenv("NO_PROXY", "")
    site.route("/d.html", Reply(body="direct"))
    response = make_fetcher(site.port).fetch(site.url("/d.html"))
    assert isinstance(response, FetchResponse) and response.body == b"direct"


def _certificate_for(hostname: str, directory) -> tuple[str, str, str]:
    """(CA file, certificate file, key file): a throwaway CA that signed ``hostname``."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "huizong test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = (directory / n for n in ("ca.pem", "cert.pem", "key.pem"))
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(ca_file), str(cert_file), str(key_file)


def test_tls_to_the_pinned_address_still_verifies_the_host_name(tmp_path, monkeypatch):
    """The socket goes to the checked IP; SNI, Host and the certificate stay on the name."""
    import ssl

    import requests

    for bundle in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # would override session.verify
        monkeypatch.delenv(bundle, raising=False)

    ca_file, cert_file, key_file = _certificate_for("tls.example.gov.cn", tmp_path)
    server_names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)

    def to_loopback(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    with LocalSite() as site:
        site._server.socket = context.wrap_socket(site._server.socket, server_side=True)
        site.route("/t.html", Reply(body="<p>tls</p>"))
        session = requests.Session()
        session.verify = ca_file
        rules = tuple(
            HostRule(name, allow_private=True, port=site.port)
            for name in ("tls.example.gov.cn", "other.example.gov.cn")
        )
        fetcher = make_fetcher(
            allowed_hosts=rules, resolver=to_loopback, session=session, max_retries=0
        )

        good = fetcher.fetch(f"https://tls.example.gov.cn:{site.port}/t.html")
        wrong_name = fetcher.fetch(f"https://other.example.gov.cn:{site.port}/t.html")

        assert isinstance(good, FetchResponse) and good.body == b"<p>tls</p>"
        assert site.requests_to("/t.html")[0].headers["host"] == f"tls.example.gov.cn:{site.port}"
        assert server_names[0] == "tls.example.gov.cn"
        # The certificate is for tls.example.gov.cn: the same address under another
        # name is refused, so verification is on the name, not the pinned IP.
        assert isinstance(wrong_name, FetchError)
        assert "certificate" in wrong_name.reason.lower()
        assert site.hits("/t.html") == 1
