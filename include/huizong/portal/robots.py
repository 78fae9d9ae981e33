"""robots.txt rules of the sites one crawl touches, read once per site per crawl.

Follows RFC 9309: a robots.txt that does not exist (HTTP 4xx) allows
everything; one that cannot be read (5xx, 429, a timeout, a refused redirect)
means "assume everything is disallowed" until the next crawl. The file is
fetched through the crawl's own :class:`~huizong.portal.fetch.Fetcher`, so it
is held to the same allowlist, deadline and size limit as any page.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

from huizong.portal.fetch import Fetcher, FetchError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _SiteRules:
    parser: RobotFileParser | None  # None: robots.txt unreadable, nothing may be fetched
    problem: str | None = None  # why it could not be read


class RobotsRules:
    """Answers "may the crawler fetch this URL?" from each site's robots.txt."""

    def __init__(self, fetcher: Fetcher, *, user_agent: str | None = None) -> None:
        self.fetcher = fetcher
        # robotparser matches the product token ("huizong") of the User-Agent.
        self.user_agent = user_agent or fetcher.user_agent
        self._sites: dict[str, _SiteRules] = {}
        self._lock = threading.Lock()

    def refusal(self, url: str) -> str | None:
        """Why robots.txt forbids ``url``, or None if it may be fetched."""
        parts = urlsplit(url)
        origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        robots_url = f"{origin}/robots.txt"
        if url == robots_url:
            return None
        rules = self._rules_for(origin, robots_url)
        if rules.parser is None:
            return (
                f"{robots_url} could not be read ({rules.problem}), so nothing on "
                "this site is fetched this crawl; set ignore_robots with a reason in "
                "the portal config only if the site owner agrees"
            )
        if not rules.parser.can_fetch(self.user_agent, url):
            token = self.user_agent.split("/", 1)[0]
            return f"disallowed by {robots_url} for user agent {token!r}"
        return None

    def _rules_for(self, origin: str, robots_url: str) -> _SiteRules:
        with self._lock:
            cached = self._sites.get(origin)
        if cached is not None:
            return cached
        rules = self._read(robots_url)
        with self._lock:
            return self._sites.setdefault(origin, rules)

    def _read(self, robots_url: str) -> _SiteRules:
        response = self.fetcher.fetch(robots_url, conditional=False)
        parser = RobotFileParser(robots_url)
        if isinstance(response, FetchError):
            status = response.status
            if status is not None and 400 <= status < 500 and status != 429:
                log.info("%s: HTTP %s, no robots.txt: everything allowed", robots_url, status)
                parser.allow_all = True
                return _SiteRules(parser)
            log.warning("%s could not be read: %s", robots_url, response.reason)
            return _SiteRules(None, problem=response.reason)
        parser.parse(response.body.decode("utf-8-sig", errors="replace").splitlines())
        return _SiteRules(parser)
