"""A polite, bounded HTTP fetcher for government portals.

Politeness: a User-Agent that names us and a contact, a per-host request
interval, conditional GET so unchanged pages cost the site a 304, and bounded
retries with exponential backoff on 5xx, timeouts and connection errors.

Safety: only allowlisted hosts are fetched, checked on every redirect hop;
hosts that resolve to loopback/private addresses are refused unless their
allowlist entry opts in; bodies are streamed and cut off at a size limit.

Failures are returned as :class:`FetchError` values so one bad page never stops
a crawl.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import random
import socket
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

from huizong.portal.charset import (  # noqa: F401 - re-exported for callers of fetch
    CharsetError,
    DecodedText,
    charset_from_content_type,
    charset_from_meta,
    decode_html,
    normalize_charset,
)
from huizong.portal.config import HostRule

if TYPE_CHECKING:
    from huizong.portal.config import PortalConfig

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
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


# --- fetcher ---------------------------------------------------------------


@dataclass(frozen=True)
class _Attempt:
    result: FetchResponse | FetchError
    retryable: bool = False
    retry_after: float | None = None


Resolver = Callable[..., list[tuple[Any, ...]]]


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
        resolver: Resolver = socket.getaddrinfo,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allowed_hosts = tuple(allowed_hosts)
        self.state_store = state_store
        self.session = session or requests.Session()
        self._owns_session = session is None
        self.user_agent = user_agent or default_user_agent()
        self.timeout = (connect_timeout, read_timeout)
        self.total_timeout = total_timeout
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.request_interval_seconds = request_interval_seconds
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self._resolver = resolver
        self._sleep = sleep
        self._clock = clock
        self._next_slot: dict[str, float] = {}
        self._slot_lock = threading.Lock()

    @classmethod
    def for_portal(cls, portal: PortalConfig, **options: Any) -> Fetcher:
        options.setdefault("request_interval_seconds", portal.request_interval_seconds)
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
    ) -> FetchResponse | FetchError:
        """GET ``url``; with ``conditional`` send the validators remembered for it.

        ``state_store`` overrides the fetcher's own for this call, so one
        fetcher can serve crawls that keep state in different places.
        """
        store = state_store if state_store is not None else self.state_store
        previous = store.get(url) if store else None
        validators = previous if conditional and previous and previous.sha256 else None
        attempt = _Attempt(FetchError(url, "not attempted"))
        for attempt_number in range(self.max_retries + 1):
            attempt = self._follow_redirects(url, validators)
            if not attempt.retryable or attempt_number == self.max_retries:
                break
            self._sleep(self._backoff(attempt_number, attempt.retry_after))
        result = attempt.result
        if isinstance(result, FetchError):
            if attempt.retryable and self.max_retries:
                return FetchError(
                    result.url,
                    f"{result.reason} (gave up after {self.max_retries + 1} attempts)",
                    result.status,
                )
            return result
        return self._remember(result, previous, store)

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

    def _follow_redirects(self, url: str, validators: FetchState | None) -> _Attempt:
        current = url
        hops: list[str] = []
        for _ in range(self.max_redirects + 1):
            refusal = self.check_url(current)
            if refusal is not None:
                where = f"redirect from {url} to " if hops else ""
                return _Attempt(FetchError(url, f"refused {where}{current}: {refusal}"))
            attempt = self._get_once(url, current, validators, tuple(hops))
            if isinstance(attempt, _Attempt):
                return attempt
            hops.append(current)
            next_url = attempt
            if next_url in hops:
                return _Attempt(FetchError(url, f"redirect loop at {next_url}"))
            current = next_url
        return _Attempt(FetchError(url, f"more than {self.max_redirects} redirects"))

    def _get_once(
        self, url: str, current: str, validators: FetchState | None, hops: tuple[str, ...]
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
        self._wait_for_slot(urlsplit(current).hostname or "")
        started = self._clock()
        try:
            response = self.session.get(
                current,
                headers=request_headers,
                timeout=self.timeout,
                stream=True,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            return _Attempt(FetchError(url, f"timed out: {_short(exc)}"), retryable=True)
        except requests.ConnectionError as exc:
            return _Attempt(FetchError(url, f"connection failed: {_short(exc)}"), retryable=True)
        except requests.RequestException as exc:
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
            body_or_error = self._read_body(url, response, started)
            if isinstance(body_or_error, _Attempt):
                return body_or_error
            return _Attempt(self._response(url, current, status, headers, body_or_error, hops))

    def _read_body(self, url: str, response: requests.Response, started: float) -> bytes | _Attempt:
        limit = self.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
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
        try:
            for chunk in response.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > limit:
                    return _Attempt(
                        FetchError(
                            url,
                            f"response too large: cut off after {size} bytes (limit {limit} bytes)",
                            response.status_code,
                        )
                    )
                chunks.append(chunk)
                if self._clock() - started > self.total_timeout:
                    return _Attempt(
                        FetchError(url, f"download took longer than {self.total_timeout:g} s"),
                        retryable=True,
                    )
        except requests.RequestException as exc:
            return _Attempt(
                FetchError(url, f"connection broke while reading: {_short(exc)}"),
                retryable=True,
            )
        return b"".join(chunks)

    def _response(
        self,
        url: str,
        final_url: str,
        status: int,
        headers: dict[str, str],
        body: bytes,
        hops: tuple[str, ...],
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
        )

    def _wait_for_slot(self, host: str) -> None:
        interval = self.request_interval_seconds
        if interval <= 0:
            return
        with self._slot_lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + interval
        if slot > now:
            self._sleep(slot - now)

    def check_url(self, url: str) -> str | None:
        """Why ``url`` may not be fetched, or None if it may."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return f"scheme {parts.scheme or '(none)'!r} is not http(s)"
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            return "no host in URL"
        rule = next((r for r in self.allowed_hosts if r.matches(host)), None)
        if rule is None:
            return f"host {host!r} is not on the allowlist"
        if rule.allow_private:
            return None
        try:
            addresses = _addresses(host, parts.port, self._resolver)
        except OSError as exc:
            return f"cannot resolve host {host!r}: {exc}"
        for address in addresses:
            if not address.is_global:
                return (
                    f"host {host!r} resolves to non-public address {address}; "
                    "its allowlist entry must set allow_private to fetch it"
                )
        return None


def _addresses(
    host: str, port: int | None, resolver: Resolver
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        infos = resolver(host, port or 80, type=socket.SOCK_STREAM)
        found = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    else:
        found = [literal]
    return [
        a.ipv4_mapped if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped else a
        for a in found
    ]


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
