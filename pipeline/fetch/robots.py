"""robots.txt per host (Protego: wildcards, Allow/Disallow precedence, Crawl-delay), fetched once per run.

Follows RFC 9309: a robots.txt that is missing (4xx) allows everything; one that cannot be reached
(5xx after retries, network failure) disallows everything on that host for this run.
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from protego import Protego

from pipeline.fetch.errors import FetchError
from pipeline.fetch.settings import FetchSettings
from pipeline.fetch.urls import host_key

if TYPE_CHECKING:
    from pipeline.fetch.client import PoliteClient

LOGGER = logging.getLogger(__name__)

# RFC 9309 asks crawlers to read at least 500 KiB of a robots.txt; more than that is ignored.
MAX_ROBOTS_CHARS = 512 * 1024
ALLOW_ALL = ""


class RobotsRules:
    """Answers "may we fetch this URL?" and sets each host's delay from its Crawl-delay."""

    def __init__(self, client: PoliteClient, settings: FetchSettings) -> None:
        self._client = client
        self._settings = settings
        self._parsed: dict[str, Protego | FetchError] = {}
        self._host_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def check(self, url: str) -> None:
        """Return when robots.txt allows `url`; raise FetchError("robots-disallowed" or why it is unknown)."""
        rules = self._rules_for(url)
        if isinstance(rules, FetchError):
            raise FetchError(rules.reason, f"robots.txt of {host_key(url)} unreachable: {rules.detail}")
        if not rules.can_fetch(url, self._settings.robots_agent):
            raise FetchError("robots-disallowed", f"robots.txt of {host_key(url)} disallows {url}")

    def _rules_for(self, url: str) -> Protego | FetchError:
        """The parsed robots.txt of the URL's host, fetched by the first thread that needs it."""
        host = host_key(url)
        with self._lock:
            host_lock = self._host_locks.setdefault(host, threading.Lock())
        with host_lock:
            if host not in self._parsed:
                self._parsed[host] = self._load(host)
            return self._parsed[host]

    def _load(self, host: str) -> Protego | FetchError:
        """Fetch and parse `host`/robots.txt, applying its Crawl-delay to the host's gate."""
        robots_url = f"{host}/robots.txt"
        try:
            exchange = self._client.get(robots_url, obey_robots=False)
        except FetchError as error:
            if error.reason.startswith("http-4") or error.reason in {"too-many-redirects", "too-large"}:
                return Protego.parse(ALLOW_ALL)
            if error.reason.startswith("http-5"):
                return FetchError("robots-unreachable", error.detail)
            return error
        text = exchange.body.decode("utf-8", errors="replace")[:MAX_ROBOTS_CHARS]
        rules = Protego.parse(text)
        crawl_delay = rules.crawl_delay(self._settings.robots_agent)
        if crawl_delay:
            delay = max(self._settings.delay, min(float(crawl_delay), self._settings.max_crawl_delay))
            self._client.gate(robots_url).delay = delay
            LOGGER.info("%s: Crawl-delay %s, waiting %.2fs between requests", host, crawl_delay, delay)
        return rules
