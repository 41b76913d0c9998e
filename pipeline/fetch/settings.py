"""The fetch stage's settings: one object holding every politeness and safety knob, with safe defaults."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from pipeline import __version__

DEFAULT_USER_AGENT = f"newsclaims/{__version__} (+https://example.org/newsclaims; contact: newsclaims@example.org)"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class FetchSettings:
    """How politely and how defensively to fetch; tests shrink the delays, deployments change the contact."""

    user_agent: str = DEFAULT_USER_AGENT
    # Seconds between two requests to one host; robots.txt Crawl-delay raises it up to `max_crawl_delay`.
    delay: float = 1.0
    max_crawl_delay: float = 30.0
    per_host_concurrency: int = 1
    workers: int = 4
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    # Wall-clock limit for one response, so a server trickling bytes cannot hold a worker forever.
    total_timeout: float = 60.0
    retries: int = 3
    backoff: float = 1.0
    # Longest wait honoured for Retry-After or backoff; a server asking for more gets this much.
    max_retry_wait: float = 120.0
    retry_statuses: frozenset[int] = RETRY_STATUSES
    max_redirects: int = 5
    max_body_bytes: int = 10 * 1024 * 1024
    article_types: frozenset[str] = HTML_TYPES
    max_sitemaps: int = 200
    # courlan's strict mode keeps only whitelisted query keys; off, only tracking keys are dropped.
    strict_url_params: bool = False
    # Jaccard similarity of word shingles above which a text counts as a syndicated copy.
    near_duplicate_threshold: float = 0.8
    shingle_words: int = 5
    minhash_permutations: int = 128
    # Timeouts, 5xx and connection failures are tried again by the next run; 404s and the like are not.
    retry_transient_on_rerun: bool = True
    extra_headers: dict[str, str] = field(
        default_factory=lambda: {
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "en;q=1.0, *;q=0.5",
        }
    )

    @property
    def robots_agent(self) -> str:
        """The product token robots.txt groups are matched against ("newsclaims")."""
        return self.user_agent.split("/", 1)[0].split()[0]

    def override(self, **values: object) -> FetchSettings:
        """A copy with the given values, ignoring those that are None (options the user did not pass)."""
        return replace(self, **{key: value for key, value in values.items() if value is not None})
