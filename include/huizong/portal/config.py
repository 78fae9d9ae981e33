"""Portal configuration: which government sites are crawled, and how.

A portal is data in a YAML file (``portals.yaml`` in this package by default,
or the file named by ``HUIZONG_PORTALS_FILE``); adding one needs no code.

String values may contain ``${VAR}`` or ``${VAR:-default}`` placeholders,
expanded from the environment when the file is loaded, so that a deployment
can point the bundled sample portal at the port it was started on.

Shape of one entry::

    portals:
      - id: rongan-fulian                   # [a-z0-9][a-z0-9_-]*, unique
        name: 融安县妇女联合会
        base_url: http://www.rongan.gov.cn/
        list_pages:                         # relative to base_url, or absolute
          - zwgk/fnlh/                      # directory: pagination.first_page in it
          - path: tzgg/index.html           # or a mapping with overrides
            organisation: {name: …, level: town, division_code: "…"}
            pagination: {kind: script}      # fields not given come from the portal's
        pagination:
          kind: numbered                    # numbered | next | script | list | none
          first_page: index.html
          page_pattern: index_{n}.html      # numbered and script: the second page and on
          first_number: 1                   # n of the SECOND page: 1 (TRS index_1.html),
                                            # 2 for …_2.html, page/2/ (most other CMSs)
          next_selector: "a.next"           # next: optional; default rel=next or 下一页/下页
          script_function: createPageHTML   # script: createPageHTML(count, 0, "index", "html")
          pages: [index_1.html, old.html]   # list: the pages after the first, in order
        article_selector: "ul.list li a"
        main_text_selector: "div.TRS_Editor" # optional; where the article's text is
        title_selector: "div.title h2"      # optional; else page metadata, then heuristics
        date_selector: "span.pubdate"       # optional; likewise
        max_bytes: 10485760                 # optional; a longer page is cut here, kept, marked
        organisation: {name: 融安县妇女联合会, level: county, division_code: "450224000000"}
        max_pages: 10
        request_interval_seconds: 1.0       # per host, optional
        allowed_hosts:                      # optional; default: the host and port of base_url
          - www.rongan.gov.cn               # ports 80 (http) and 443 (https) only
          - www.rongan.gov.cn:8080          # or name the port
          - {host: 127.0.0.1, port: 8765, allow_private: true}
        ignore_robots: false                # optional; true needs ignore_robots_reason
        ignore_robots_reason: "…"           # why this site's robots.txt may be ignored

Pagination kinds. ``numbered``: ``first_page``, then ``page_pattern`` with
n = ``first_number``, ``first_number`` + 1, … until a 404/410, a page with no
new article link, or ``max_pages``. ``next``: follow the page's next link
(``next_selector``, else ``rel="next"`` or a 下一页/下页 link). ``script``:
read the page count from a pager call such as ``createPageHTML(5, 0, "index",
"html")`` and fetch ``index_{first_number}.html`` on. ``list``: ``pages``, as
given. ``none``: the first page only. A list page without article links, or
a list that ends before the count it prints (共5页), is a crawl warning.

Allowlist rules. A rule without a port allows only the scheme's default port
(80 for http, 443 for https); ``host:port`` (or ``port:`` in the mapping form)
allows that one port. Every redirect hop must stay on an allowed host *and*
port. The portal's own ``base_url`` (its host and port) is always allowed when
a rule names its host, with that rule's ``allow_private``, so a portal on a
non-default port needs no extra rule. ``allow_private: true`` lets the host
resolve to loopback/private addresses; without it such addresses are refused.
The address a host name resolves to is checked once and the connection is made
to that checked address (no second DNS lookup).

robots.txt. Every site a crawl touches has its ``/robots.txt`` read once per
crawl (through the same allowlist and deadlines) and honoured for the crawler's
User-Agent token ``huizong``. A robots.txt that is missing (4xx) allows
everything; one that cannot be read (5xx, 429, timeout, refused) stops the
crawl of that site. ``ignore_robots: true`` overrides this for one portal, only
together with a non-empty ``ignore_robots_reason`` (e.g. the site owner's
written agreement), and every crawl of it logs a warning naming the reason.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import soupsieve
import yaml

ORG_LEVELS = ("province", "city", "county", "town")
PAGINATION_KINDS = ("numbered", "next", "script", "list", "none")
# The download cap per page unless a portal sets max_bytes.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

_PORTAL_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DIVISION_CODE = re.compile(r"^\d{12}$")
_ENV_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_HOSTNAME = re.compile(r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$")
_HOST_AND_PORT = re.compile(r"^(?P<host>\[[^\]]*\]|[^:\[\]]*)(?::(?P<port>\d{1,5}))?$")
DEFAULT_PORTS = {"http": 80, "https": 443}


class PortalConfigError(ValueError):
    """A portals file that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Organisation:
    name: str
    level: str  # one of ORG_LEVELS
    division_code: str  # 12-digit statistical division code


@dataclass(frozen=True)
class HostRule:
    """One allowlisted host and port. ``*.example.gov.cn`` matches subdomains only.

    ``port`` None allows only the scheme's default port (80 for http, 443 for
    https), so a redirect to another service on the same machine (a database,
    an admin API on 127.0.0.1:8080) is refused unless a rule names that port.

    ``allow_private`` lets the host resolve to loopback/private addresses,
    which are otherwise refused so a hostile redirect or DNS entry cannot
    point the crawler at internal services.
    """

    host: str
    allow_private: bool = False
    port: int | None = None

    def matches(self, hostname: str) -> bool:
        """Whether ``hostname`` is this rule's host (ports are not considered)."""
        hostname = hostname.lower().rstrip(".")
        if self.host.startswith("*."):
            return hostname.endswith(self.host[1:])
        return hostname == self.host

    def allows(self, scheme: str, hostname: str, port: int | None) -> bool:
        """Whether a URL with this scheme, host and port (None: default) is allowed."""
        default = DEFAULT_PORTS.get(scheme)
        if default is None or not self.matches(hostname):
            return False
        return (port or default) == (self.port or default)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.port else host


@dataclass(frozen=True)
class Pagination:
    kind: str  # one of PAGINATION_KINDS
    first_page: str = "index.html"
    page_pattern: str = "index_{n}.html"
    script_function: str = "createPageHTML"
    # n of the second page. 1 keeps the TRS convention (index.html, index_1.html,
    # …) the bundled portals were written for; most other CMSs number it 2.
    first_number: int = 1
    next_selector: str | None = None  # kind next: the link to the following page
    pages: tuple[str, ...] = ()  # kind list: the pages after the first, as written


@dataclass(frozen=True)
class ListPage:
    url: str  # absolute URL of the first page of the list
    org: Organisation  # the list's own owner, else the portal's
    pagination: Pagination  # the list's own, else the portal's


@dataclass(frozen=True)
class PortalConfig:
    id: str
    name: str
    base_url: str
    list_pages: tuple[ListPage, ...]
    pagination: Pagination
    article_selector: str
    main_text_selector: str | None
    org: Organisation  # who runs the portal
    max_pages: int
    allowed_hosts: tuple[HostRule, ...]
    request_interval_seconds: float = 1.0
    source: str = ""  # the file this entry came from, for messages
    ignore_robots: bool = False  # crawl even what the site's robots.txt disallows
    ignore_robots_reason: str | None = None  # required with ignore_robots; logged each crawl
    title_selector: str | None = None  # where an article's title is, when metadata misleads
    date_selector: str | None = None  # where its publication date is
    max_bytes: int = DEFAULT_MAX_BYTES  # per page; a longer page is cut here and kept


def default_portals_path() -> Path:
    return Path(str(resources.files("huizong.portal").joinpath("portals.yaml")))


def load_portals(path: str | os.PathLike[str] | None = None) -> list[PortalConfig]:
    """Read and validate a portals file (default: the packaged ``portals.yaml``)."""
    file = Path(path) if path is not None else default_portals_path()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise PortalConfigError(f"{file}: cannot read: {exc.strerror or exc}") from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PortalConfigError(f"{file}: not valid YAML: {exc}") from exc
    return parse_portals(document, source=str(file))


def parse_portals(document: Any, *, source: str = "<portals>") -> list[PortalConfig]:
    if not isinstance(document, Mapping) or "portals" not in document:
        raise PortalConfigError(f"{source}: portals: a top-level 'portals' list is required")
    entries = document["portals"]
    if not isinstance(entries, list):
        raise PortalConfigError(f"{source}: portals: must be a list")
    portals: list[PortalConfig] = []
    seen_ids: set[str] = set()
    for index, entry in enumerate(entries):
        portal = _parse_portal(_Node(entry, f"portals[{index}]", source))
        if portal.id in seen_ids:
            raise PortalConfigError(
                f"{source}: portals[{index}].id: duplicate portal id {portal.id!r}"
            )
        seen_ids.add(portal.id)
        portals.append(portal)
    return portals


def get_portal(portals: list[PortalConfig], portal_id: str) -> PortalConfig:
    for portal in portals:
        if portal.id == portal_id:
            return portal
    known = ", ".join(p.id for p in portals) or "none"
    raise PortalConfigError(f"no portal with id {portal_id!r} (configured: {known})")


class _Node:
    """A value in the YAML tree together with its key path, for error messages."""

    def __init__(self, value: Any, key: str, source: str) -> None:
        self.value = value
        self.key = key
        self.source = source

    def error(self, message: str) -> PortalConfigError:
        return PortalConfigError(f"{self.source}: {self.key}: {message}")

    def child(self, name: str) -> _Node:
        return _Node(self.mapping().get(name), f"{self.key}.{name}", self.source)

    def mapping(self) -> Mapping[str, Any]:
        if not isinstance(self.value, Mapping):
            raise self.error("must be a mapping")
        return self.value

    def has(self, name: str) -> bool:
        return self.mapping().get(name) is not None

    def string(self, *, default: str | None = None) -> str:
        if self.value is None:
            if default is None:
                raise self.error("is required")
            return default
        if not isinstance(self.value, str | int) or isinstance(self.value, bool):
            raise self.error(f"must be a string, not {type(self.value).__name__}")
        text = _expand_env(str(self.value), self)
        if not text.strip():
            raise self.error("must not be empty")
        return text.strip()

    def boolean(self, *, default: bool) -> bool:
        if self.value is None:
            return default
        if not isinstance(self.value, bool):
            raise self.error("must be true or false")
        return self.value

    def number(self, *, default: float, minimum: float) -> float:
        if self.value is None:
            return default
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise self.error("must be a number")
        if self.value < minimum:
            raise self.error(f"must be at least {minimum}")
        return float(self.value)

    def items(self) -> list[_Node]:
        if not isinstance(self.value, list) or not self.value:
            raise self.error("must be a non-empty list")
        return [_Node(v, f"{self.key}[{i}]", self.source) for i, v in enumerate(self.value)]


def _expand_env(text: str, node: _Node) -> str:
    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = os.environ.get(name)
        if value:
            return value
        if default is not None:
            return default
        raise node.error(f"environment variable {name} is not set (used in {text!r})")

    return _ENV_PLACEHOLDER.sub(replace, text)


def _parse_portal(node: _Node) -> PortalConfig:
    node.mapping()
    portal_id = node.child("id").string()
    if not _PORTAL_ID.match(portal_id):
        raise node.child("id").error(
            f"{portal_id!r} must be lower-case letters, digits, '-' or '_' (it names directories)"
        )
    base_url = _parse_url(node.child("base_url"))
    if not base_url.endswith("/"):
        base_url += "/"  # so that relative list paths resolve below it, not beside it
    organisation = _parse_organisation(node.child("organisation"))
    pagination = _parse_pagination(node.child("pagination"))
    article_selector = _parse_selector(node.child("article_selector"))
    main_text_selector = (
        _parse_selector(node.child("main_text_selector"))
        if node.has("main_text_selector")
        else None
    )
    title_selector, date_selector = (
        _parse_selector(node.child(key)) if node.has(key) else None
        for key in ("title_selector", "date_selector")
    )
    max_pages = _whole_number(node.child("max_pages"), default=10, minimum=1)
    max_bytes = _whole_number(node.child("max_bytes"), default=DEFAULT_MAX_BYTES, minimum=1024)
    interval = node.child("request_interval_seconds").number(default=1.0, minimum=0)

    list_pages = tuple(
        _parse_list_page(item, base_url, pagination, organisation)
        for item in node.child("list_pages").items()
    )
    allowed = _allowed_hosts(node, base_url)
    for list_page in list_pages:
        parts = urlsplit(list_page.url)
        host = parts.hostname or ""
        if not any(rule.allows(parts.scheme, host, parts.port) for rule in allowed):
            where = f"{host}:{parts.port}" if parts.port else host
            raise node.child("list_pages").error(
                f"{list_page.url} is on host {where!r}, which is not in allowed_hosts"
            )
    ignore_robots = node.child("ignore_robots").boolean(default=False)
    reason_node = node.child("ignore_robots_reason")
    ignore_robots_reason = reason_node.string() if reason_node.value is not None else None
    if ignore_robots and ignore_robots_reason is None:
        raise reason_node.error(
            "is required when ignore_robots is true: say why this site's robots.txt may be "
            "ignored (for example the site owner's written agreement)"
        )
    if ignore_robots_reason is not None and not ignore_robots:
        raise reason_node.error("is only used together with ignore_robots: true")
    return PortalConfig(
        id=portal_id,
        name=node.child("name").string(default=portal_id),
        base_url=base_url,
        list_pages=list_pages,
        pagination=pagination,
        article_selector=article_selector,
        main_text_selector=main_text_selector,
        org=organisation,
        max_pages=max_pages,
        allowed_hosts=allowed,
        request_interval_seconds=interval,
        source=node.source,
        ignore_robots=ignore_robots,
        ignore_robots_reason=ignore_robots_reason,
        title_selector=title_selector,
        date_selector=date_selector,
        max_bytes=max_bytes,
    )


def _whole_number(node: _Node, *, default: int, minimum: int) -> int:
    if node.value is not None and (isinstance(node.value, bool) or not isinstance(node.value, int)):
        raise node.error("must be a whole number")
    return int(node.number(default=default, minimum=minimum))


def _allowed_hosts(node: _Node, base_url: str) -> tuple[HostRule, ...]:
    """The portal's rules, plus base_url's own host and port when a rule names its host."""
    base = urlsplit(base_url)
    base_host = (base.hostname or "").lower().rstrip(".")
    base_port = base.port if base.port != DEFAULT_PORTS[base.scheme] else None
    if not node.has("allowed_hosts"):
        return (HostRule(host=base_host, port=base_port),)
    rules = tuple(_parse_host_rule(item) for item in node.child("allowed_hosts").items())
    if any(rule.allows(base.scheme, base_host, base.port) for rule in rules):
        return rules
    naming_base = next((rule for rule in rules if rule.matches(base_host)), None)
    if naming_base is None:
        return rules
    return (
        *rules,
        HostRule(host=base_host, allow_private=naming_base.allow_private, port=base_port),
    )


def _parse_url(node: _Node) -> str:
    url = node.string()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise node.error(f"{url!r} must be an absolute http(s) URL")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError as exc:
        raise node.error(f"{url!r} has an invalid port: {exc}") from exc
    return url


def _parse_organisation(node: _Node) -> Organisation:
    node.mapping()
    level = node.child("level").string()
    if level not in ORG_LEVELS:
        raise node.child("level").error(f"{level!r} must be one of {', '.join(ORG_LEVELS)}")
    code = node.child("division_code").string()
    if not _DIVISION_CODE.match(code):
        raise node.child("division_code").error(
            f"{code!r} must be a 12-digit division code (quote it in YAML)"
        )
    return Organisation(name=node.child("name").string(), level=level, division_code=code)


def _parse_pagination(node: _Node, inherited: Pagination | None = None) -> Pagination:
    defaults = inherited or Pagination(kind="numbered")
    if node.value is None:
        return defaults
    node.mapping()
    kind = node.child("kind").string(default=defaults.kind)
    if kind not in PAGINATION_KINDS:
        raise node.child("kind").error(f"{kind!r} must be one of {', '.join(PAGINATION_KINDS)}")
    pattern = node.child("page_pattern").string(default=defaults.page_pattern)
    if kind == "numbered" and "{n}" not in pattern:
        raise node.child("page_pattern").error(f"{pattern!r} must contain {{n}}")
    function = node.child("script_function").string(default=defaults.script_function)
    if not re.fullmatch(r"[A-Za-z_$][\w$.]*", function):
        raise node.child("script_function").error(f"{function!r} is not a function name")
    first_number = _whole_number(
        node.child("first_number"), default=defaults.first_number, minimum=0
    )
    next_selector = (
        _parse_selector(node.child("next_selector"))
        if node.has("next_selector")
        else defaults.next_selector
    )
    pages = defaults.pages
    if node.has("pages"):
        pages = tuple(item.string() for item in node.child("pages").items())
    if kind == "list" and not pages:
        raise node.child("pages").error(
            "is required with kind list: the list pages after the first, in order"
        )
    return Pagination(
        kind=kind,
        first_page=node.child("first_page").string(default=defaults.first_page),
        page_pattern=pattern,
        script_function=function,
        first_number=first_number,
        next_selector=next_selector,
        pages=pages,
    )


def _parse_selector(node: _Node) -> str:
    selector = node.string()
    try:
        soupsieve.compile(selector)
    except (soupsieve.SelectorSyntaxError, ValueError) as exc:
        raise node.error(f"{selector!r} is not a valid CSS selector: {exc}") from exc
    return selector


def _parse_list_page(
    node: _Node, base_url: str, pagination: Pagination, organisation: Organisation
) -> ListPage:
    if isinstance(node.value, Mapping):
        path = node.child("path").string()
        if node.has("organisation"):
            organisation = _parse_organisation(node.child("organisation"))
        pagination = _parse_pagination(node.child("pagination"), inherited=pagination)
    else:
        path = node.string()
    url = urljoin(base_url, path)
    if urlsplit(url).scheme not in ("http", "https"):
        raise node.error(f"{path!r} does not resolve to an http(s) URL")
    if url.endswith("/"):
        url = urljoin(url, pagination.first_page)
    return ListPage(url=url, org=organisation, pagination=pagination)


def _parse_host_rule(node: _Node) -> HostRule:
    port_node: _Node | None = None
    if isinstance(node.value, Mapping):
        text = node.child("host").string()
        allow_private = node.child("allow_private").boolean(default=False)
        if node.has("port"):
            port_node = node.child("port")
    else:
        text, allow_private = node.string(), False
    written = text
    match = _HOST_AND_PORT.match(text.strip())
    host = match.group("host").lower().rstrip(".") if match else ""
    if match is None or not _HOSTNAME.match(host):
        raise node.error(
            f"{written!r} must be a bare host name or host:port (no scheme or path)"
        )
    port: int | None = int(match.group("port")) if match.group("port") else None
    if port_node is not None:
        if port is not None:
            raise port_node.error(f"the port is already given in host {written!r}")
        value = port_node.value
        if isinstance(value, str):  # e.g. "${SAMPLE_PORT}", expanded here
            value = port_node.string()
            if not value.isdigit():
                raise port_node.error(f"{value!r} must be a whole number")
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise port_node.error("must be a whole number")
        port = value
    if port is not None and not 1 <= port <= 65535:
        raise node.error(f"{written!r}: port {port} must be between 1 and 65535")
    return HostRule(host=host.strip("[]"), allow_private=allow_private, port=port)
