"""A scriptable HTTP server on 127.0.0.1 for the crawler tests.

Each path is given a reply, a list of replies (served in turn, the last one
repeating), or a function of the request headers. Every request is recorded
so tests can assert what the crawler sent and how often.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering, to provoke read timeouts
    stream_bytes: int | None = None  # send this many filler bytes, no Content-Length

    def payload(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


RouteValue = Reply | list[Reply] | Callable[[dict[str, str]], Reply]


@dataclass
class SeenRequest:
    path: str
    headers: dict[str, str]
    peer: tuple[str, int] | None = None  # the client's address: one per connection


class LocalSite:
    def __init__(self) -> None:
        self.routes: dict[str, RouteValue] = {}
        self.fallback: Callable[[str, dict[str, str]], Reply] | None = None
        self.seen: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._served: dict[str, int] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, value: RouteValue) -> None:
        self.routes[path] = value

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self.seen if r.path == path)

    def requests_to(self, path: str) -> list[SeenRequest]:
        with self._lock:
            return [r for r in self.seen if r.path == path]

    def reply_for(
        self, path: str, headers: dict[str, str], peer: tuple[str, int] | None = None
    ) -> Reply:
        with self._lock:
            self.seen.append(SeenRequest(path, headers, peer))
            value = self.routes.get(path)
            if isinstance(value, list):
                index = self._served.get(path, 0)
                self._served[path] = index + 1
                return value[min(index, len(value) - 1)]
        if isinstance(value, Reply):
            return value
        if callable(value):
            return value(headers)
        if self.fallback is not None:
            return self.fallback(path, headers)
        return Reply(status=404, body="not found")

    def __enter__(self) -> LocalSite:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def _make_handler(site: LocalSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            headers = {k.lower(): v for k, v in self.headers.items()}
            headers[":target"] = self.path  # path and query, for sites that route by query
            reply = site.reply_for(path, headers, tuple(self.client_address[:2]))
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                if reply.content_type:
                    self.send_header("Content-Type", reply.content_type)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.stream_bytes is not None:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self._stream(reply.stream_bytes)
                    self.close_connection = True
                    return
                body = reply.payload() if reply.status != 304 else b""
                if reply.status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _stream(self, total: int) -> None:
            chunk = b"<p>" + b"x" * 65530 + b"</p>"
            sent = 0
            while sent < total:
                piece = chunk[: min(len(chunk), total - sent)]
                self.wfile.write(piece)
                sent += len(piece)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
