"""A polite, bounded HTTP fetcher for government portals.

Politeness: a User-Agent that names us and a contact, a per-host request
interval, conditional GET so unchanged pages cost the site a 304, and bounded
retries with exponential backoff on 5xx, timeouts and connection errors.

Safety: only allowlisted hosts and ports are fetched, checked on every
redirect hop; hosts that resolve to loopback/private addresses are refused
unless their allowlist entry opts in, and the connection is made to the very
address that was checked (one DNS lookup per connection, so a DNS answer that
changes in between cannot redirect it); bodies are streamed and cut off at a
size limit (past it a fetch fails, or with ``truncate`` keeps the first
``max_bytes`` and says so); ``total_timeout`` is a wall-clock deadline for the whole fetch,
enforced while reading by closing the connection, so a server that drips
bytes cannot hold the crawler.

Failures are returned as :class:`FetchError` values so one bad page never stops
a crawl.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import random
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from huizong.portal.charset import (  # noqa: F401 - re-exported for callers of fetch
    CharsetError,
    DecodedText,
    charset_from_content_type,
    charset_from_meta,
    decode_html,
    normalize_charset,
)
from huizong.portal.config import DEFAULT_MAX_BYTES, DEFAULT_PORTS, HostRule

if TYPE_CHECKING:
    from huizong.portal.config import PortalConfig

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def _package_version() -> str:
    try:
        return metadata.version("huizong")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def default_user_agent() -> str:
    contact = os.environ.get("HUIZONG_CRAWLER_CONTACT", "mailto:crawler@huizong.invalid")
    return f"huizong/{_package_version()} (+{contact})"


# --- fetch state (conditional GET) -----------------------------------------


@dataclass(frozen=True)
class FetchState:
    """What we remember about a URL between crawls."""

    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None  # of the last body received


class FetchStateStore(Protocol):
    """Remembers validators per requested URL for conditional GET.

    ``get`` returns the state last ``put`` for a URL, or None if unknown.
    Implementations must be safe to call from several threads; the JSON-file
    one below serves the CLI and tests, the warehouse one the DAGs.
    """

    def get(self, url: str) -> FetchState | None: ...

    def put(self, url: str, state: FetchState) -> None: ...


class JsonFileStateStore:
    """Fetch state in one JSON file, rewritten atomically on every ``put``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._states: dict[str, FetchState] | None = None

    def _load(self) -> dict[str, FetchState]:
        if self._states is None:
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raw = {}
            self._states = {
                url: FetchState(
                    etag=entry.get("etag"),
                    last_modified=entry.get("last_modified"),
                    sha256=entry.get("sha256"),
                )
                for url, entry in raw.items()
            }
        return self._states

    def get(self, url: str) -> FetchState | None:
        with self._lock:
            return self._load().get(url)

    def put(self, url: str, state: FetchState) -> None:
        with self._lock:
            states = self._load()
            states[url] = state
            payload = json.dumps(
                {u: asdict(s) for u, s in sorted(states.items())}, ensure_ascii=False, indent=1
            )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(payload)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise


# --- results ---------------------------------------------------------------


@dataclass(frozen=True)
class FetchError:
    url: str
    reason: str
    status: int | None = None

    def __str__(self) -> str:
        status = f" (HTTP {self.status})" if self.status is not None else ""
        return f"{self.url}: {self.reason}{status}"


@dataclass(frozen=True)
class FetchResponse:
    url: str  # as requested
    final_url: str  # after redirects
    status: int  # the final status; 304 when the server said not modified
    headers: dict[str, str]
    body: bytes  # empty on 304: the caller has the previous body
    sha256: str  # of body, or on 304 the sha256 remembered for the URL
    fetched_at: datetime
    unchanged: bool  # 304, or the same sha256 as last time
    redirects: tuple[str, ...] = field(default=())
    truncated: bool = False  # body cut at max_bytes (only with Fetcher(truncate=True))

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str | None:
        return header(self.headers, "Content-Type")


def header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


# --- charset ---------------------------------------------------------------


# --- deadline and guarded connections ----------------------------------------


Resolver = Callable[..., list[tuple[Any, ...]]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """A connection the allowlist forbids, refused before a packet is sent."""


class _Deadline:
    """The wall-clock end of one :meth:`Fetcher.fetch`, enforced while reading.

    Socket timeouts only bound the wait for the *next* byte, so a server
    dripping one byte a second never trips them. When the deadline passes a
    watchdog shuts down the socket of every connection the fetch is using;
    the blocked read wakes with an error or end of stream, and :attr:`cut`
    tells the fetcher why.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends_at = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._watched: list[Any] = []
        self._timer: threading.Timer | None = None
        self._finished = False
        self.cut = False

    def remaining(self) -> float:
        return self._ends_at - time.monotonic()

    @property
    def passed(self) -> bool:
        return self.cut or self.remaining() <= 0

    def watch(self, connection: Any) -> None:
        """Shut ``connection``'s socket down when the deadline passes."""
        with self._lock:
            if self._finished:
                return
            self._watched.append(connection)
            if self.cut or self.remaining() <= 0:
                self.cut = True
                _shut_down(connection)
            elif self._timer is None:
                self._timer = threading.Timer(self.remaining(), self._cut_connections)
                self._timer.daemon = True
                self._timer.start()

    def release(self) -> None:
        """The request is over; its connection may go back to the pool untouched."""
        with self._lock:
            self._watched.clear()

    def finish(self) -> None:
        with self._lock:
            self._finished = True
            self._watched.clear()
            if self._timer is not None:
                self._timer.cancel()

    def _cut_connections(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.cut = True
            for connection in self._watched:
                _shut_down(connection)


def _shut_down(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return
    # The base class's shutdown also works on a TLS socket without touching its
    # SSL state, which the reading thread is still using. OSError: already closed.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


_in_flight = threading.local()  # .deadline: the _Deadline of the fetch running on this thread


def _current_deadline() -> _Deadline | None:
    return getattr(_in_flight, "deadline", None)


class _ConnectionGuard:
    """Resolves a host once, checks every address, and hands out only checked ones.

    The connection is then made to one of exactly these addresses, so a DNS
    answer that changes between the check and the connect (DNS rebinding)
    cannot steer the crawler to an internal address.
    """

    def __init__(self, rules: tuple[HostRule, ...], resolver: Resolver | None) -> None:
        self.rules = rules
        self._resolver = resolver

    def rule_for(self, scheme: str, host: str, port: int | None) -> HostRule | None:
        return next((r for r in self.rules if r.allows(scheme, host, port)), None)

    def resolve(self, host: str, port: int) -> list[tuple[int, tuple[Any, ...], Address]]:
        """(address family, socket address, address) for each address of ``host``."""
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            # Looked up at call time so a test can stand in for the system resolver.
            resolver = self._resolver or socket.getaddrinfo
            infos = resolver(host, port, type=socket.SOCK_STREAM)
            return [(info[0], tuple(info[4]), _plain_address(info[4][0])) for info in infos]
        if literal.version == 6:
            return [(socket.AF_INET6, (host, port, 0, 0), _plain_address(host))]
        return [(socket.AF_INET, (host, port), literal)]

    def checked_addresses(
        self, scheme: str, host: str, port: int
    ) -> list[tuple[int, tuple[Any, ...], Address]]:
        host = host.lower().rstrip(".").strip("[]")
        rule = self.rule_for(scheme, host, port)
        if rule is None:
            raise AddressRefused(f"{host}:{port} is not on the allowlist")
        addresses = self.resolve(host, port)
        if not addresses:
            raise socket.gaierror(f"no address for {host!r}")
        if not rule.allow_private:
            for _, _, address in addresses:
                if not address.is_global:
                    raise AddressRefused(
                        f"host {host!r} resolves to non-public address {address}; "
                        "its allowlist entry must set allow_private to fetch it"
                    )
        return addresses


def _plain_address(text: str) -> Address:
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class _GuardedConnectionMixin:
    """urllib3 connection that connects only to addresses its guard checked.

    TLS is untouched: the certificate is still verified against, and SNI still
    names, the host in the URL; only the socket underneath is pinned.
    """

    url_scheme = "http"

    def __init__(self, *args: Any, connection_guard: _ConnectionGuard, **kwargs: Any) -> None:
        self._connection_guard = connection_guard
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        conn: Any = self
        deadline = _current_deadline()
        timeout = conn.timeout if isinstance(conn.timeout, int | float) else None
        if deadline is not None:
            remaining = deadline.remaining()
            if remaining <= 0:
                raise ConnectTimeoutError(conn, f"Connection to {conn.host}: deadline passed")
            timeout = remaining if timeout is None else min(timeout, remaining)
        try:
            addresses = self._connection_guard.checked_addresses(
                self.url_scheme, conn._dns_host, conn.port
            )
        except socket.gaierror as exc:
            raise NameResolutionError(conn.host, conn, exc) from exc
        last_error: OSError | None = None
        for family, sockaddr, _ in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                for option in conn.socket_options or ():
                    sock.setsockopt(*option)
                sock.settimeout(timeout)
                if conn.source_address:
                    sock.bind(conn.source_address)
                sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                last_error = exc
                continue
            sys.audit("http.client.connect", conn, conn.host, conn.port)
            return sock
        if isinstance(last_error, TimeoutError):
            raise ConnectTimeoutError(
                conn, f"Connection to {conn.host} timed out. (connect timeout={timeout})"
            ) from last_error
        raise NewConnectionError(
            conn, f"Failed to establish a new connection: {last_error}"
        ) from last_error

    def request(self, *args: Any, **kwargs: Any) -> Any:
        deadline = _current_deadline()
        if deadline is not None:
            deadline.watch(self)  # a reused keep-alive connection too
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _GuardedHTTPConnection(_GuardedConnectionMixin, urllib3.connection.HTTPConnection):
    url_scheme = "http"


class _GuardedHTTPSConnection(_GuardedConnectionMixin, urllib3.connection.HTTPSConnection):
    url_scheme = "https"


class _GuardedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection  # type: ignore[assignment]


class _GuardedPoolManager(urllib3.PoolManager):
    def __init__(self, *args: Any, connection_guard: _ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connection_guard = connection_guard
        self.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}

    def _new_pool(
        self,
        scheme: str,
        host: str,
        port: int,
        request_context: dict[str, Any] | None = None,
    ) -> urllib3.HTTPConnectionPool:
        # Handed to every connection of the pool; not part of the pool key.
        context = dict(request_context if request_context is not None else self.connection_pool_kw)
        context["connection_guard"] = self._connection_guard
        return super()._new_pool(scheme, host, port, context)


class _GuardedAdapter(HTTPAdapter):
    """Transport for the fetcher: guarded connections, no proxies.

    Proxies from the environment are not used: through a proxy the address
    check would apply to the proxy, not to the site, and the guarantee that
    the crawler talks only to checked addresses would be gone.
    """

    def __init__(self, connection_guard: _ConnectionGuard) -> None:
        self._connection_guard = connection_guard
        super().__init__(max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        self._pool_connections = connections
        self._pool_maxsize = maxsize
        self._pool_block = block
        self.poolmanager = _GuardedPoolManager(
            num_pools=connections,
            maxsize=maxsize,
            block=block,
            connection_guard=self._connection_guard,
            **pool_kwargs,
        )

    def send(self, request: Any, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["proxies"] = None
        return super().send(request, *args, **kwargs)


# --- fetcher ---------------------------------------------------------------


@dataclass(frozen=True)
class _Attempt:
    result: FetchResponse | FetchError
    retryable: bool = False
    retry_after: float | None = None


UrlFilter = Callable[[str], str | None]  # why a URL may not be fetched, or None


class Fetcher:
    """Fetches URLs on allowlisted hosts; see the module docstring."""

    def __init__(
        self,
        allowed_hosts: Iterable[HostRule],
        *,
        state_store: FetchStateStore | None = None,
        session: requests.Session | None = None,
        user_agent: str | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        total_timeout: float = 120.0,
        max_retries: int = 3,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 30.0,
        request_interval_seconds: float = 1.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = 5,
        truncate: bool = False,
        resolver: Resolver | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allowed_hosts = tuple(allowed_hosts)
        self.state_store = state_store
        self.session = session or requests.Session()
        self._owns_session = session is None
        # Every request goes through the guarded transport, also on a session
        # the caller passed in.
        self._guard = _ConnectionGuard(self.allowed_hosts, resolver)
        adapter = _GuardedAdapter(self._guard)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.user_agent = user_agent or default_user_agent()
        self.timeout = (connect_timeout, read_timeout)
        self.total_timeout = total_timeout
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.request_interval_seconds = request_interval_seconds
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        # Past max_bytes: False fails the fetch; True keeps the first max_bytes
        # (a portal article with an inline image can still be read) and marks it.
        self.truncate = truncate
        self._sleep = sleep
        self._clock = clock
        self._next_slot: dict[str, float] = {}
        self._slot_lock = threading.Lock()

    @classmethod
    def for_portal(cls, portal: PortalConfig, **options: Any) -> Fetcher:
        options.setdefault("request_interval_seconds", portal.request_interval_seconds)
        options.setdefault("max_bytes", portal.max_bytes)
        options.setdefault("truncate", True)
        return cls(portal.allowed_hosts, **options)

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def fetch(
        self,
        url: str,
        *,
        conditional: bool = True,
        state_store: FetchStateStore | None = None,
        url_filter: UrlFilter | None = None,
    ) -> FetchResponse | FetchError:
        """GET ``url``; with ``conditional`` send the validators remembered for it.

        ``state_store`` overrides the fetcher's own for this call, so one
        fetcher can serve crawls that keep state in different places.
        ``url_filter`` is asked about the URL and every redirect hop, after the
        allowlist (the crawl passes its robots.txt rules here).

        ``total_timeout`` bounds the whole call on the wall clock: every
        attempt, redirect hop, backoff pause and byte read.
        """
        store = state_store if state_store is not None else self.state_store
        previous = store.get(url) if store else None
        validators = previous if conditional and previous and previous.sha256 else None
        deadline = _Deadline(self.total_timeout)
        outer = _current_deadline()  # a fetch nested in a url_filter keeps the outer one
        _in_flight.deadline = deadline
        try:
            attempt, attempts = self._attempts(url, validators, deadline, url_filter)
        finally:
            deadline.finish()
            _in_flight.deadline = outer
        result = attempt.result
        if isinstance(result, FetchError):
            if attempt.retryable and self.max_retries:
                plural = "s" if attempts != 1 else ""
                stopped = "; total_timeout reached" if attempts <= self.max_retries else ""
                return FetchError(
                    result.url,
                    f"{result.reason} (gave up after {attempts} attempt{plural}{stopped})",
                    result.status,
                )
            return result
        return self._remember(result, previous, store)

    def _attempts(
        self,
        url: str,
        validators: FetchState | None,
        deadline: _Deadline,
        url_filter: UrlFilter | None,
    ) -> tuple[_Attempt, int]:
        """The last attempt and how many were made, within the retry and time budget."""
        attempt = _Attempt(FetchError(url, "not attempted"))
        for attempt_number in range(self.max_retries + 1):
            attempt = self._follow_redirects(url, validators, deadline, url_filter)
            if not attempt.retryable or attempt_number == self.max_retries:
                return attempt, attempt_number + 1
            pause = self._backoff(attempt_number, attempt.retry_after)
            if pause >= deadline.remaining():
                return attempt, attempt_number + 1
            self._sleep(pause)
        return attempt, self.max_retries + 1

    def _remember(
        self,
        response: FetchResponse,
        previous: FetchState | None,
        store: FetchStateStore | None,
    ) -> FetchResponse:
        etag = header(response.headers, "ETag")
        last_modified = header(response.headers, "Last-Modified")
        if response.not_modified:
            assert previous is not None  # a 304 is only accepted after sending validators
            response = replace(response, sha256=previous.sha256 or "", unchanged=True)
            etag = etag or previous.etag
            last_modified = last_modified or previous.last_modified
        elif previous is not None and previous.sha256 == response.sha256:
            response = replace(response, unchanged=True)
        if store is not None:
            store.put(
                response.url,
                FetchState(etag=etag, last_modified=last_modified, sha256=response.sha256),
            )
        return response

    def _backoff(self, attempt_number: int, retry_after: float | None) -> float:
        delay = self.backoff_seconds * (2**attempt_number)
        if retry_after is not None:
            delay = max(delay, retry_after)
        # Jitter keeps several workers that failed together from retrying in lockstep.
        delay *= 1 + random.random() * 0.25  # noqa: S311 - jitter, not a secret
        return min(delay, self.max_backoff_seconds)

    def _follow_redirects(
        self,
        url: str,
        validators: FetchState | None,
        deadline: _Deadline,
        url_filter: UrlFilter | None,
    ) -> _Attempt:
        current = url
        hops: list[str] = []
        for _ in range(self.max_redirects + 1):
            refusal = self._policy_refusal(current)
            if refusal is None and url_filter is not None:
                refusal = url_filter(current)
            if refusal is not None:
                where = f"redirect from {url} to " if hops else ""
                return _Attempt(FetchError(url, f"refused {where}{current}: {refusal}"))
            if deadline.passed:
                return _Attempt(self._deadline_error(url))
            attempt = self._get_once(url, current, validators, tuple(hops), deadline)
            if isinstance(attempt, _Attempt):
                return attempt
            hops.append(current)
            next_url = attempt
            if next_url in hops:
                return _Attempt(FetchError(url, f"redirect loop at {next_url}"))
            current = next_url
        return _Attempt(FetchError(url, f"more than {self.max_redirects} redirects"))

    def _deadline_error(self, url: str) -> FetchError:
        return FetchError(
            url, f"took longer than the {self.total_timeout:g} s deadline (total_timeout)"
        )

    def _get_once(
        self,
        url: str,
        current: str,
        validators: FetchState | None,
        hops: tuple[str, ...],
        deadline: _Deadline,
    ) -> _Attempt | str:
        """One request; a str result is the next redirect hop."""
        request_headers = {
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
            "Accept-Language": "zh-CN,zh;q=0.9",
        }
        if validators is not None:
            if validators.etag:
                request_headers["If-None-Match"] = validators.etag
            if validators.last_modified:
                request_headers["If-Modified-Since"] = validators.last_modified
        if not self._wait_for_slot(urlsplit(current).hostname or "", deadline):
            return _Attempt(self._deadline_error(url))
        try:
            return self._request(url, current, validators, hops, deadline, request_headers)
        finally:
            deadline.release()

    def _request(
        self,
        url: str,
        current: str,
        validators: FetchState | None,
        hops: tuple[str, ...],
        deadline: _Deadline,
        request_headers: dict[str, str],
    ) -> _Attempt | str:
        connect_timeout, read_timeout = self.timeout
        remaining = deadline.remaining()
        try:
            response = self.session.get(
                current,
                headers=request_headers,
                timeout=(min(connect_timeout, remaining), min(read_timeout, remaining)),
                stream=True,
                allow_redirects=False,
            )
        except AddressRefused as exc:
            where = f"redirect from {url} to " if hops else ""
            return _Attempt(FetchError(url, f"refused {where}{current}: {exc}"))
        except requests.RequestException as exc:
            if deadline.passed:
                return _Attempt(self._deadline_error(url))
            if isinstance(exc, requests.Timeout):
                return _Attempt(FetchError(url, f"timed out: {_short(exc)}"), retryable=True)
            if isinstance(exc, requests.ConnectionError):
                return _Attempt(
                    FetchError(url, f"connection failed: {_short(exc)}"), retryable=True
                )
            return _Attempt(FetchError(url, f"request failed: {_short(exc)}"))
        with response:
            status = response.status_code
            headers = dict(response.headers)
            if status in REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    return _Attempt(FetchError(url, "redirect without Location", status))
                return urljoin(current, location.strip()).split("#", 1)[0]
            if status == 304:
                if validators is None:
                    return _Attempt(FetchError(url, "304 without a conditional request", 304))
                return _Attempt(self._response(url, current, status, headers, b"", hops))
            if status >= 400:
                retryable = status >= 500 or status == 429
                reason = f"HTTP {status} {response.reason or ''}".strip()
                return _Attempt(
                    FetchError(url, reason, status),
                    retryable=retryable,
                    retry_after=_retry_after_seconds(headers) if retryable else None,
                )
            body_or_error = self._read_body(url, response, deadline)
            if isinstance(body_or_error, _Attempt):
                return body_or_error
            body, truncated = body_or_error
            return _Attempt(
                self._response(url, current, status, headers, body, hops, truncated=truncated)
            )

    def _read_body(
        self, url: str, response: requests.Response, deadline: _Deadline
    ) -> tuple[bytes, bool] | _Attempt:
        """The body and whether it was cut at ``max_bytes``."""
        limit = self.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit and not self.truncate:
            return _Attempt(
                FetchError(
                    url,
                    f"response too large: Content-Length {int(declared)} exceeds the "
                    f"{limit}-byte limit; not downloaded",
                    response.status_code,
                )
            )
        chunks: list[bytes] = []
        size = 0
        truncated = False
        try:
            for chunk in response.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > limit:
                    if not self.truncate:
                        return _Attempt(
                            FetchError(
                                url,
                                f"response too large: cut off after {size} bytes "
                                f"(limit {limit} bytes)",
                                response.status_code,
                            )
                        )
                    # Keep exactly max_bytes; closing the response drops the rest
                    # and the connection with it.
                    chunks.append(chunk[: len(chunk) - (size - limit)])
                    truncated = True
                    break
                chunks.append(chunk)
                if deadline.passed:
                    break
        except requests.RequestException as exc:
            if deadline.passed:
                return _Attempt(self._deadline_error(url))
            return _Attempt(
                FetchError(url, f"connection broke while reading: {_short(exc)}"),
                retryable=True,
            )
        if deadline.passed:
            # Also when the watchdog's cut looked like a normal end of the body.
            return _Attempt(self._deadline_error(url))
        return b"".join(chunks), truncated

    def _response(
        self,
        url: str,
        final_url: str,
        status: int,
        headers: dict[str, str],
        body: bytes,
        hops: tuple[str, ...],
        *,
        truncated: bool = False,
    ) -> FetchResponse:
        return FetchResponse(
            url=url,
            final_url=final_url,
            status=status,
            headers=headers,
            body=body,
            sha256=hashlib.sha256(body).hexdigest() if status != 304 else "",
            fetched_at=datetime.now(UTC),
            unchanged=False,
            redirects=hops,
            truncated=truncated,
        )

    def _wait_for_slot(self, host: str, deadline: _Deadline) -> bool:
        """Wait for the host's next request slot; False if it comes after the deadline."""
        interval = self.request_interval_seconds
        if interval <= 0:
            return True
        with self._slot_lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(host, now))
            if slot - now >= deadline.remaining():
                return False  # never cut the interval short to make the deadline
            self._next_slot[host] = slot + interval
        if slot > now:
            self._sleep(slot - now)
        return True

    def _policy_refusal(self, url: str) -> str | None:
        """Why ``url`` may not be fetched by scheme, host and port; no DNS lookup."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return f"scheme {parts.scheme or '(none)'!r} is not http(s)"
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            return "no host in URL"
        try:
            port = parts.port
        except ValueError as exc:
            return f"invalid port: {exc}"
        if self._guard.rule_for(parts.scheme, host, port) is not None:
            return None
        if any(rule.matches(host) for rule in self.allowed_hosts):
            allowed = ", ".join(str(r) for r in self.allowed_hosts if r.matches(host))
            shown = f"[{host}]" if ":" in host else host
            return (
                f"port {port or parts.scheme + ' default'} of host {shown!r} is not on the "
                f"allowlist (allowed: {allowed}; a rule without a port allows only 80/443)"
            )
        return f"host {host!r} is not on the allowlist"

    def policy_refusal(self, url: str) -> str | None:
        """Why ``url`` is off the allowlist by scheme, host and port; no DNS lookup."""
        return self._policy_refusal(url)

    def check_url(self, url: str) -> str | None:
        """Why ``url`` may not be fetched, or None if it may.

        A dry run of the checks a fetch makes, including resolving the host.
        A fetch resolves again when it connects and connects only to the
        addresses that lookup returned and that passed the same check.
        """
        refusal = self._policy_refusal(url)
        if refusal is not None:
            return refusal
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS[parts.scheme]
        try:
            self._guard.checked_addresses(parts.scheme, parts.hostname or "", port)
        except AddressRefused as exc:
            return str(exc)
        except OSError as exc:
            return f"cannot resolve host {parts.hostname!r}: {exc}"
        return None


def _retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    value = header(headers, "Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
