"""URL hygiene: one canonical form per page (courlan), so the same article is fetched once."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import courlan


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    parts = urlsplit(url.strip())
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def canonical_url(url: str, strict: bool = False) -> str:
    """Lower-cased scheme and host, no default port, fragment or tracking parameters (utm_*, fbclid, gclid...).

    `strict` keeps only courlan's whitelist of query keys (id, page, p, story...), which also merges
    pages told apart by other keys (`?article=9`), so it is opt-in.

    >>> canonical_url("HTTPS://News.example:443/a?utm_source=x&id=3#top")
    'https://news.example/a?id=3'
    """
    url = url.strip()
    cleaned = courlan.clean_url(url) or url
    # A fragment never reaches the server, so it never names a different page.
    return urldefrag(courlan.normalize_url(cleaned, strict=strict)).url


def host_key(url: str) -> str:
    """scheme://host[:port], the unit that robots.txt, delays and concurrency limits apply to."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def read_url_list(path: str | Path) -> list[str]:
    """URLs of a text file, one per line; blank lines and lines starting with # are skipped."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
