"""The reporting API client and reference server against a hostile or broken peer.

Each test performs the attack on loopback: a huge workbook, a server dripping
bytes, a redirect loop, cursors the server never handed out, an item naming a
file outside the items folder, a connection without a schema.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from huizong.returns.api_server import serve_in_thread
from huizong.returns.intake import (
    TOO_LARGE,
    UNREADABLE,
    ApiError,
    RetryPolicy,
    poll_api,
    reporting_api_base_url,
    triage,
)
from huizong.returns.model import QuarantineRecord, StagedSubmission

from .conftest import TODAY, api_item

TOKEN = "s3cret-token"
NO_RETRY = RetryPolicy(max_retries=0)
MiB = 1024 * 1024


def poll(url: str, tmp_path: Path, **kwargs):
    kwargs.setdefault("retry", NO_RETRY)
    kwargs.setdefault("cursor", None)
    return poll_api(url, TOKEN, raw_dir=tmp_path / "raw", partition="p", **kwargs)


@contextlib.contextmanager
def http_server(handle: Callable[[BaseHTTPRequestHandler], None]) -> Iterator[str]:
    """A loopback HTTP server answering every GET with ``handle(request)``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            with contextlib.suppress(OSError):
                handle(self)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------------- size


def _huge_page(request: BaseHTTPRequestHandler, workbook_bytes: int) -> None:
    """One item whose workbook is ``workbook_bytes`` long, generated while sending."""
    request.send_response(200)
    request.send_header("Content-Type", "application/json")
    request.end_headers()
    request.wfile.write(b'{"items": [{"id": "huge", "unit_code": "430202000000", '
                        b'"form": "FL-01", "period": "2024Q4", "workbook_b64": "')
    block = base64.b64encode(b"\0" * (3 * 256 * 1024))  # 1 MiB of base64
    for _ in range(workbook_bytes // (768 * 1024)):
        request.wfile.write(block)
    request.wfile.write(b'"}], "next_cursor": "o1", "has_more": false}')


def test_a_70_mib_workbook_is_refused_while_streaming_without_holding_it(tmp_path):
    with http_server(lambda r: _huge_page(r, 70 * MiB)) as url:
        tracemalloc.start()
        try:
            with pytest.raises(ApiError, match="HUIZONG_API_MAX_ITEM_MIB") as failure:
                poll(url, tmp_path, timeout=60)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert "cursor start" in str(failure.value)
    # Spooled to disk in chunks and dropped at the cap: nothing near 70 MiB in memory.
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB"
    assert failure.value.partial is not None and failure.value.partial.received == []
    assert not list((tmp_path / "raw").rglob("*.xlsx"))


def test_an_item_over_the_cap_is_quarantined_and_the_feed_goes_on(tmp_path, make_workbook):
    big = api_item(0)
    big["workbook_b64"] = base64.b64encode(b"PK" + b"\1" * int(1.2 * MiB)).decode()
    big["workbook_filename"] = "big.xlsx"
    items = [big, api_item(1), api_item(2)]
    with serve_in_thread(items, TOKEN) as url:
        result = poll(url, tmp_path, max_item_bytes=1 * MiB)
    assert [r.source_uri for r in result.received] == ["api:R0001", "api:R0002"]
    [refused] = result.rejected
    assert refused.reason == TOO_LARGE and refused.received.source_uri == "api:R0000"
    assert "1048576" in refused.detail and "HUIZONG_API_MAX_ITEM_MIB" in refused.detail
    assert Path(refused.received.raw_path).is_file()  # kept raw, as everything received
    assert result.exhausted


def test_a_page_too_large_as_a_whole_is_read_again_item_by_item(tmp_path):
    items = [api_item(n) for n in range(4)]
    for item in items:
        item["padding"] = "x" * (300 * 1024)  # ~0.3 MiB of JSON each
    with serve_in_thread(items, TOKEN) as url:
        result = poll(url, tmp_path, max_item_bytes=64 * 1024, max_page_bytes=1 * MiB)
    assert [r.source_uri for r in result.received] == [f"api:R{n:04d}" for n in range(4)]


# ------------------------------------------------------------------------- time


def _drip_body(request: BaseHTTPRequestHandler) -> None:
    body = json.dumps({"items": [], "next_cursor": "o0", "has_more": False}).encode()
    request.send_response(200)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    for byte in body:
        request.wfile.write(bytes([byte]))
        request.wfile.flush()
        time.sleep(0.2)  # well inside any per-read timeout, forever in total


def _drip_headers(request: BaseHTTPRequestHandler) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
        request.wfile.write(bytes([byte]))
        request.wfile.flush()
        time.sleep(0.2)


@pytest.mark.parametrize("drip", [_drip_body, _drip_headers], ids=["body", "headers"])
def test_a_dripping_server_cannot_hold_the_client_past_its_timeout(tmp_path, drip):
    with http_server(drip) as url:
        started = time.monotonic()
        with pytest.raises(ApiError, match="no complete response within 1 s"):
            poll(url, tmp_path, timeout=1.0)
        took = time.monotonic() - started
    # The body alone takes ~10 s at this pace and the headers never end.
    assert took < 2.0, f"client held for {took:.1f} s"


# -------------------------------------------------------------------- redirects


def test_a_redirect_loop_is_an_api_error_not_a_raw_requests_exception(tmp_path):
    def loop(request: BaseHTTPRequestHandler) -> None:
        request.send_response(302)
        request.send_header("Location", request.path)
        request.send_header("Content-Length", "0")
        request.end_headers()

    with (
        http_server(loop) as url,
        pytest.raises(ApiError, match="redirected more than 5 times") as failure,
    ):
        poll(url, tmp_path)
    assert not isinstance(failure.value, requests.RequestException)
    assert isinstance(failure.value.__cause__, requests.TooManyRedirects)


# ---------------------------------------------------------------------- cursors


@pytest.mark.parametrize("cursor", ["o²", "o١", "o-1", "o01", "x5"])
def test_the_reference_server_answers_400_to_a_malformed_cursor(cursor):
    with serve_in_thread([api_item(0)], TOKEN) as url:
        response = requests.get(
            f"{url}/api/v1/returns",
            params={"cursor": cursor},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=5,
        )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_cursor"


def test_a_cursor_past_the_end_of_the_log_is_refused_not_stored(tmp_path):
    with serve_in_thread([api_item(n) for n in range(3)], TOKEN) as url:
        response = requests.get(
            f"{url}/api/v1/returns",
            params={"cursor": "o999"},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=5,
        )
        assert response.status_code == 400 and "past the end" in response.json()["detail"]
        with pytest.raises(ApiError, match="refused the stored cursor 'o999'") as failure:
            poll(url, tmp_path, cursor="o999")
        assert failure.value.status == 400
        assert failure.value.partial.next_cursor == "o999"  # nothing to persist
        # The end of the log itself is a valid position: nothing new, no error.
        at_end = poll(url, tmp_path, cursor="o3")
    assert at_end.received == [] and at_end.next_cursor == "o3"


def test_a_bad_cursor_is_reported_as_a_cursor_problem(tmp_path):
    with (
        serve_in_thread([api_item(0)], TOKEN) as url,
        pytest.raises(ApiError, match="cursor file is damaged"),
    ):
        poll(url, tmp_path, cursor="o²")


# -------------------------------------------------------------------- traversal


def test_an_item_naming_a_file_outside_the_folder_is_quarantined_and_the_feed_goes_on(
    tmp_path, make_workbook
):
    items_dir = tmp_path / "items"
    items_dir.mkdir()
    make_workbook(tmp_path / "secret.xlsx")  # outside the items folder
    make_workbook(items_dir / "ok.xlsx", seed=3)
    escape = {**api_item(0), "workbook_path": "../secret.xlsx"}
    del escape["values"]
    missing = {**api_item(1), "workbook_path": "nowhere.xlsx"}
    fine = {**api_item(2), "workbook_path": "ok.xlsx"}
    for n, item in enumerate([escape, missing, fine]):
        (items_dir / f"{n}.json").write_text(json.dumps(item), encoding="utf-8")

    with serve_in_thread(items_dir, TOKEN) as url:
        result = poll(url, tmp_path)
    assert [r.source_uri for r in result.received] == ["api:R0000", "api:R0001", "api:R0002"]
    outcomes = [triage(r, as_of=TODAY) for r in result.received]
    held, also_held, staged = outcomes
    assert isinstance(held, QuarantineRecord) and held.reason == UNREADABLE
    assert "leaves the items folder" in held.detail
    assert isinstance(also_held, QuarantineRecord) and "cannot be read" in also_held.detail
    assert isinstance(staged, StagedSubmission)
    secret = (tmp_path / "secret.xlsx").read_bytes()
    assert all(secret not in Path(r.raw_path).read_bytes() for r in result.received)


# ----------------------------------------------------------------------- schema


@pytest.mark.parametrize(
    ("host", "port", "schema", "expected"),
    [
        ("reports.example.org", None, None, "https://reports.example.org"),
        ("reports.example.org", 8443, "", "https://reports.example.org:8443"),
        ("reports.example.org", 80, "http", "http://reports.example.org:80"),
        ("http://127.0.0.1:9000/", None, None, "http://127.0.0.1:9000"),
    ],
)
def test_a_connection_without_a_schema_is_https(host, port, schema, expected):
    assert reporting_api_base_url(host, port=port, schema=schema) == expected


def test_a_connection_with_another_schema_is_refused():
    with pytest.raises(ValueError, match="not http or https"):
        reporting_api_base_url("reports.example.org", schema="ftp")


def test_the_airflow_connection_without_a_schema_resolves_to_https(monkeypatch):
    from huizong_airflow import runtime

    class Conn:
        host, port, schema, password = "reports.example.org", 443, None, "a-token-issued-by-them"

    monkeypatch.setattr(runtime, "_connection", lambda conn_id: Conn())
    assert runtime.reporting_api() == ("https://reports.example.org:443", "a-token-issued-by-them")


def test_poll_api_given_a_bare_host_speaks_tls(tmp_path):
    # A plain-HTTP server on loopback: an https client cannot talk to it, which
    # is the point — the token is never sent in clear text.
    with serve_in_thread([api_item(0)], TOKEN) as url:
        bare = url.removeprefix("http://")
        with pytest.raises(ApiError, match=r"SSL|ssl|EOF|wrong version"):
            poll(bare, tmp_path, timeout=5)


def test_the_pipeline_quarantines_an_oversized_item_and_stages_the_rest(tmp_path, monkeypatch):
    from huizong import pipeline
    from huizong.settings import Settings
    from huizong.warehouse import db, load

    monkeypatch.setenv("HUIZONG_API_MAX_ITEM_MIB", "1")
    engine = db.get_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    pipeline.prepare_warehouse(engine)
    settings = Settings(
        data_dir=tmp_path, warehouse_url="", raw_dir=tmp_path / "raw", drop_dir=tmp_path / "d",
        outbox_dir=tmp_path / "o", docs_dir=tmp_path / "docs", portals_file=None,
    )  # fmt: skip
    big = api_item(0)
    big["workbook_b64"] = base64.b64encode(b"PK" + b"\1" * int(1.2 * MiB)).decode()
    with serve_in_thread([big, api_item(1)], TOKEN) as url:
        summary = pipeline.receive_reporting_api(
            engine, url, TOKEN, batch_id="b", partition="p", settings=settings
        )
    assert (summary.received, summary.staged, summary.quarantined) == (2, 1, 1)
    [held] = load.list_quarantine(engine, status="held")
    assert held.reason == TOO_LARGE and held.received.source_uri == "api:R0000"
