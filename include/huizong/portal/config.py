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
          kind: numbered                    # numbered | script | none
          first_page: index.html
          page_pattern: index_{n}.html      # numbered: n = 1, 2, …
          script_function: createPageHTML   # script: createPageHTML(count, 0, "index", "html")
        article_selector: "ul.list li a"
        main_text_selector: "div.TRS_Editor" # optional
        organisation: {name: 融安县妇女联合会, level: county, division_code: "450224000000"}
        max_pages: 10
        request_interval_seconds: 1.0       # per host, optional
        allowed_hosts:                      # optional; default: the host of base_url
          - www.rongan.gov.cn
          - {host: 127.0.0.1, allow_private: true}
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
PAGINATION_KINDS = ("numbered", "script", "none")

_PORTAL_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DIVISION_CODE = re.compile(r"^\d{12}$")
_ENV_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_HOSTNAME = re.compile(r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$")


class PortalConfigError(ValueError):
    """A portals file that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Organisation:
    name: str
    level: str  # one of ORG_LEVELS
    division_code: str  # 12-digit statistical division code


@dataclass(frozen=True)
class HostRule:
    """One allowlisted host. ``*.example.gov.cn`` matches subdomains only.

    ``allow_private`` lets the host resolve to loopback/private addresses,
    which are otherwise refused so a hostile redirect or DNS entry cannot
    point the crawler at internal services.
    """

    host: str
    allow_private: bool = False

    def matches(self, hostname: str) -> bool:
        hostname = hostname.lower().rstrip(".")
        if self.host.startswith("*."):
            return hostname.endswith(self.host[1:])
        return hostname == self.host


@dataclass(frozen=True)
class Pagination:
    kind: str  # one of PAGINATION_KINDS
    first_page: str = "index.html"
    page_pattern: str = "index_{n}.html"
    script_function: str = "createPageHTML"


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
    if node.has("max_pages") and not isinstance(node.child("max_pages").value, int):
        raise node.child("max_pages").error("must be a whole number")
    max_pages = int(node.child("max_pages").number(default=10, minimum=1))
    interval = node.child("request_interval_seconds").number(default=1.0, minimum=0)

    list_pages = tuple(
        _parse_list_page(item, base_url, pagination, organisation)
        for item in node.child("list_pages").items()
    )
    if node.has("allowed_hosts"):
        allowed = tuple(_parse_host_rule(item) for item in node.child("allowed_hosts").items())
    else:
        allowed = (HostRule(host=(urlsplit(base_url).hostname or "").lower()),)
    for list_page in list_pages:
        host = urlsplit(list_page.url).hostname or ""
        if not any(rule.matches(host) for rule in allowed):
            raise node.child("list_pages").error(
                f"{list_page.url} is on host {host!r}, which is not in allowed_hosts"
            )
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
    )


def _parse_url(node: _Node) -> str:
    url = node.string()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise node.error(f"{url!r} must be an absolute http(s) URL")
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
    kind = node.child("kind").string(default=defaults.kind)
    if kind not in PAGINATION_KINDS:
        raise node.child("kind").error(f"{kind!r} must be one of {', '.join(PAGINATION_KINDS)}")
    pattern = node.child("page_pattern").string(default=defaults.page_pattern)
    if kind == "numbered" and "{n}" not in pattern:
        raise node.child("page_pattern").error(f"{pattern!r} must contain {{n}}")
    function = node.child("script_function").string(default=defaults.script_function)
    if not re.fullmatch(r"[A-Za-z_$][\w$.]*", function):
        raise node.child("script_function").error(f"{function!r} is not a function name")
    return Pagination(
        kind=kind,
        first_page=node.child("first_page").string(default=defaults.first_page),
        page_pattern=pattern,
        script_function=function,
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
    if isinstance(node.value, Mapping):
        host = node.child("host").string()
        allow_private = node.child("allow_private").value
        if allow_private is None:
            allow_private = False
        if not isinstance(allow_private, bool):
            raise node.child("allow_private").error("must be true or false")
    else:
        host, allow_private = node.string(), False
    host = host.lower().rstrip(".")
    if not _HOSTNAME.match(host):
        raise node.error(f"{host!r} must be a bare host name (no scheme, port or path)")
    return HostRule(host=host.strip("[]"), allow_private=allow_private)
