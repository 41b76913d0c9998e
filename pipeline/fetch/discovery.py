"""Article URLs from RSS/Atom feeds and XML sitemaps (indexes, Google News), within a date window.

Feeds and sitemaps are fetched with our polite client and parsed here with lxml: trafilatura's
`feeds`/`sitemaps` modules download by themselves and drop the dates the window needs.
"""
from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from lxml import etree

from pipeline.fetch.client import Exchange
from pipeline.fetch.errors import FetchError
from pipeline.fetch.urls import is_http_url
from pipeline.records import ErrorRecord

LOGGER = logging.getLogger(__name__)

# The sitemaps protocol caps a sitemap at 50 MB uncompressed; feeds are far smaller.
MAX_XML_BYTES = 50 * 1024 * 1024
XML_PARSER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
FEED_ITEMS = {"item", "entry"}
# Preference order when an item carries several dates: first publication beats last update.
FEED_DATES = ("published", "pubDate", "issued", "date", "created", "updated", "modified")


@dataclass(frozen=True)
class Candidate:
    """A URL to fetch, with the publication date its feed or sitemap gave (if any)."""

    url: str
    published: datetime | None = None
    origin: str | None = None


@dataclass
class Sitemap:
    """One parsed sitemap: pages (urlset) and child sitemaps (sitemapindex)."""

    pages: list[Candidate] = field(default_factory=list)
    children: list[Candidate] = field(default_factory=list)


def _local(tag: object) -> str:
    """Element name without its namespace ('' for comments and processing instructions)."""
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    """Direct children with the given local name, whatever their namespace."""
    return (child for child in element if _local(child.tag) == name)


def _text(element: etree._Element | None) -> str:
    """Stripped text of an element ('' for None)."""
    return (element.text or "").strip() if element is not None else ""


def parse_date(value: str | None) -> datetime | None:
    """A timezone-aware datetime from a W3C/ISO 8601 or RFC 822 date string, None when unreadable.

    >>> parse_date("2024-03-25").isoformat()
    '2024-03-25T00:00:00+00:00'
    >>> parse_date("Mon, 25 Mar 2024 10:30:00 GMT").isoformat()
    '2024-03-25T10:30:00+00:00'
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def window_start(since: date | datetime | None) -> datetime | None:
    """The first instant of the window: a date means from its midnight UTC."""
    if since is None:
        return None
    if not isinstance(since, datetime):
        since = datetime.combine(since, time.min)
    return since if since.tzinfo else since.replace(tzinfo=timezone.utc)


def window_end(until: date | datetime | None) -> datetime | None:
    """The first instant after the window: a date includes that whole day."""
    if until is None:
        return None
    if not isinstance(until, datetime):
        until = datetime.combine(until + timedelta(days=1), time.min)
    return until if until.tzinfo else until.replace(tzinfo=timezone.utc)


def in_window(published: datetime | None, since: date | datetime | None, until: date | datetime | None) -> bool:
    """True when `published` is in [since, until]; undated items are kept (nothing says they are outside)."""
    if published is None:
        return True
    start, end = window_start(since), window_end(until)
    if start is not None and published < start:
        return False
    if end is not None and published >= end:
        return False
    return True


def _gunzip(data: bytes) -> bytes:
    """Decompress a gzipped sitemap, refusing more than MAX_XML_BYTES (a gzip bomb stays small on the wire)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(data, MAX_XML_BYTES + 1)
    except zlib.error as error:
        raise FetchError("sitemap-unreadable", f"bad gzip data: {error}") from error
    if len(plain) > MAX_XML_BYTES:
        raise FetchError("too-large", f"gzipped sitemap expands past {MAX_XML_BYTES} bytes")
    return plain


def _parse_xml(data: bytes) -> etree._Element | None:
    """The root element of an XML document (gzipped or not), None when it is not XML at all."""
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data)
    try:
        root = etree.fromstring(data.lstrip(), parser=XML_PARSER)
    except etree.XMLSyntaxError:
        return None
    return root


def _item_link(item: etree._Element, base: str) -> str | None:
    """The article link of an RSS item or Atom entry, made absolute."""
    for link in _children(item, "link"):
        href = link.get("href")
        if href is not None:
            if link.get("rel", "alternate") == "alternate":
                return urljoin(base, href.strip())
        elif _text(link):
            return urljoin(base, _text(link))
    for guid in _children(item, "guid"):
        if guid.get("isPermaLink", "true").lower() != "false" and is_http_url(_text(guid)):
            return _text(guid)
    return None


def _item_date(item: etree._Element) -> datetime | None:
    """The publication date of a feed item, by FEED_DATES preference."""
    dates = {_local(child.tag): _text(child) for child in item}
    for name in FEED_DATES:
        parsed = parse_date(dates.get(name))
        if parsed is not None:
            return parsed
    return None


def parse_feed(data: bytes, base_url: str) -> list[Candidate]:
    """Article links with dates from an RSS 2.0, RSS 1.0 (RDF) or Atom feed; FetchError when it is none of them."""
    root = _parse_xml(data)
    if root is None or _local(root.tag) not in {"rss", "feed", "RDF"}:
        raise FetchError("feed-unreadable", f"{base_url} is not an RSS or Atom feed")
    found = []
    for item in root.iter():
        if _local(item.tag) not in FEED_ITEMS:
            continue
        link = _item_link(item, base_url)
        if link and is_http_url(link):
            found.append(Candidate(link, _item_date(item), origin=base_url))
    return found


def parse_sitemap(data: bytes, base_url: str) -> Sitemap:
    """Pages and child sitemaps of an XML sitemap (news:publication_date preferred over lastmod) or a text sitemap."""
    root = _parse_xml(data)
    if root is None:
        return _parse_text_sitemap(data, base_url)
    kind = _local(root.tag)
    if kind not in {"urlset", "sitemapindex"}:
        raise FetchError("sitemap-unreadable", f"{base_url} is neither a urlset nor a sitemapindex")
    sitemap = Sitemap()
    entries = sitemap.pages if kind == "urlset" else sitemap.children
    for entry in root:
        if _local(entry.tag) not in {"url", "sitemap"}:
            continue
        loc = next((_text(e) for e in _children(entry, "loc")), "")
        if not loc:
            continue
        news_dates = [_text(d) for news in _children(entry, "news") for d in _children(news, "publication_date")]
        lastmod = next((_text(e) for e in _children(entry, "lastmod")), None)
        published = parse_date(news_dates[0] if news_dates else None) or parse_date(lastmod)
        url = urljoin(base_url, loc)
        if is_http_url(url):
            entries.append(Candidate(url, published, origin=base_url))
    return sitemap


def _parse_text_sitemap(data: bytes, base_url: str) -> Sitemap:
    """A plain-text sitemap: one absolute URL per line."""
    lines = data.decode("utf-8", errors="replace").split()
    urls = [line for line in lines if is_http_url(line)]
    if not urls or len(urls) < len(lines):
        raise FetchError("sitemap-unreadable", f"{base_url} is not an XML or text sitemap")
    return Sitemap(pages=[Candidate(url, None, origin=base_url) for url in urls])


Getter = Callable[..., Exchange]


def _error(url: str, error: FetchError) -> ErrorRecord:
    """The errors.jsonl line for a feed or sitemap that failed."""
    return ErrorRecord(stage="fetch", reason=error.reason, input=url, detail=error.detail)


def discover_feeds(
    get: Getter, feeds: Iterable[str], since: date | datetime | None, until: date | datetime | None
) -> tuple[list[Candidate], list[ErrorRecord]]:
    """Items of each feed inside the date window, and one error per feed that failed."""
    found: list[Candidate] = []
    errors: list[ErrorRecord] = []
    for feed_url in feeds:
        try:
            items = parse_feed(get(feed_url, max_bytes=MAX_XML_BYTES).body, feed_url)
        except FetchError as error:
            errors.append(_error(feed_url, error))
            continue
        found.extend(item for item in items if in_window(item.published, since, until))
        LOGGER.info("%s: %d items", feed_url, len(items))
    return found, errors


def discover_sitemaps(
    get: Getter,
    sitemaps: Iterable[str],
    since: date | datetime | None,
    until: date | datetime | None,
    max_sitemaps: int,
) -> tuple[list[Candidate], list[ErrorRecord]]:
    """Pages of the sitemaps and their children (breadth first, each read once), inside the date window."""
    queue = list(dict.fromkeys(sitemaps))
    seen = set(queue)
    found: list[Candidate] = []
    errors: list[ErrorRecord] = []
    start = window_start(since)
    read = 0
    while queue and read < max_sitemaps:
        sitemap_url = queue.pop(0)
        read += 1
        try:
            sitemap = parse_sitemap(get(sitemap_url, max_bytes=MAX_XML_BYTES).body, sitemap_url)
        except FetchError as error:
            errors.append(_error(sitemap_url, error))
            continue
        found.extend(page for page in sitemap.pages if in_window(page.published, since, until))
        for child in sitemap.children:
            # A child sitemap last changed before the window starts cannot list anything inside it.
            stale = start is not None and child.published is not None and child.published < start
            if child.url not in seen and not stale:
                seen.add(child.url)
                queue.append(child.url)
    if queue:
        LOGGER.warning("stopped after %d sitemaps; %d left unread", read, len(queue))
    return found, errors
