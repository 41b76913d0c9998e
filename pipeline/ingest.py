"""Any input file or WARC record -> `Article`: trafilatura for the body, page metadata with fallbacks.

The result of `article_from_html` depends only on the body bytes, the URL and the charset named by
the HTTP headers, so re-reading a fetched WARC gives the same article as the live fetch.
"""
from __future__ import annotations

import codecs
import csv
import datetime
import gzip
import hashlib
import json
import logging
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from html import unescape as unescape_entities
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import charset_normalizer
import courlan
import htmldate
import lxml.etree
import lxml.html
import py3langid
import trafilatura
from trafilatura.metadata import extract_author
from trafilatura.utils import load_html

from pipeline.records import Article, ErrorRecord
from pipeline.tables import read_table

LOGGER = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
HTML_SUFFIXES = (".html.gz", ".html", ".htm")
WARC_SUFFIXES = (".warc.gz", ".warc")
TEXT_SUFFIXES = (".txt",)
SUPPORTED_SUFFIXES = HTML_SUFFIXES + WARC_SUFFIXES + TEXT_SUFFIXES
# Language identification on a prefix is as accurate as on the whole text and much cheaper.
LANGUAGE_SAMPLE_CHARS = 400
# Signatures of common binary formats that sometimes arrive with an .html name.
BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF")
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.IGNORECASE)


class IngestError(Exception):
    """An input that cannot become an article; `reason` is short and machine-readable."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail or reason


# ---------------------------------------------------------------------------------------------
# Bytes -> text


def stable_id(value: str) -> str:
    """A short, stable identifier derived from a URL or a text."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def content_hash(text: str) -> str:
    """The sha256 hex digest of an article text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_size(data: bytes, max_bytes: int) -> None:
    """Refuse inputs larger than `max_bytes`."""
    if len(data) > max_bytes:
        raise IngestError("too-large", f"{len(data)} bytes exceeds the limit of {max_bytes} bytes")


def looks_binary(data: bytes) -> bool:
    """True for content that is not text: a known binary signature or NUL bytes near the start."""
    head = data[:8192]
    if head.startswith(BINARY_MAGIC):
        return True
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\x00" in head


def _codec_name(label: str | None) -> str | None:
    """Python codec name for a charset label, with the web's aliases (latin-1 means windows-1252)."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    # WHATWG: browsers decode iso-8859-1 and us-ascii labels as windows-1252.
    return "cp1252" if name in {"latin-1", "iso8859-1", "ascii"} else name


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode page bytes by BOM, then the declared charset (HTTP header or <meta>), then a detector."""
    if looks_binary(data):
        raise IngestError("binary-content", "the input is not text (binary signature or NUL bytes)")
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    candidates = [_codec_name(declared)]
    match = META_CHARSET.search(data[:4096])
    if match:
        candidates.append(_codec_name(match.group(1).decode("ascii", "ignore")))
    candidates.append("utf-8")
    for codec in filter(None, candidates):
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    best = charset_normalizer.from_bytes(data[:200_000]).best()
    if best is None:
        raise IngestError("decode-error", "no character encoding decodes the input")
    return data.decode(best.encoding, errors="replace")


def charset_from_content_type(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header value, if any."""
    if not content_type:
        return None
    match = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type, re.IGNORECASE)
    return match.group(1) if match else None


# ---------------------------------------------------------------------------------------------
# Metadata helpers


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language (py3langid), None for an empty text."""
    sample = text[:LANGUAGE_SAMPLE_CHARS].strip()
    if not sample:
        return None
    language, _score = py3langid.classify(sample)
    return language


def _clean_space(value: Any) -> str | None:
    """Collapse white space in a metadata string; None when empty or not a string."""
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def _json_ld_objects(tree: lxml.html.HtmlElement) -> Iterator[dict[str, Any]]:
    """Every JSON object in the page's JSON-LD scripts, flattening lists and @graph."""
    for script in tree.iterfind(".//script[@type]"):
        if script.get("type", "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                if isinstance(item.get("@graph"), list):
                    stack.extend(item["@graph"])


ARTICLE_TYPES = {
    "newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "blogposting",
    "opinionnewsarticle", "backgroundnewsarticle", "reviewnewsarticle", "liveblogposting",
    "socialmediaposting", "techarticle", "scholarlyarticle", "report", "webpage",
}


def _types(item: dict[str, Any]) -> set[str]:
    """Lower-cased schema.org types of a JSON-LD object."""
    value = item.get("@type")
    values = value if isinstance(value, list) else [value]
    return {v.lower() for v in values if isinstance(v, str)}


def _names(value: Any) -> list[str]:
    """Names in a JSON-LD author/publisher value (string, object, or list of either)."""
    values = value if isinstance(value, list) else [value]
    names = []
    for item in values:
        if isinstance(item, dict):
            item = item.get("name")
        name = _unescape(_first_string(item))
        if name:
            names.append(name)
    return names


@dataclass
class PageMetadata:
    """Metadata read from the page's JSON-LD, OpenGraph, <meta>, <link>, <title> and <h1> tags."""

    headline: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    modified: str | None = None
    article_body: str | None = None
    publisher: str | None = None
    og_title: str | None = None
    og_site_name: str | None = None
    og_url: str | None = None
    meta_published: str | None = None
    meta_modified: str | None = None
    canonical: str | None = None
    html_title: str | None = None
    meta_authors: list[str] = field(default_factory=list)
    h1s: list[str] = field(default_factory=list)


META_AUTHOR = {"author", "byl", "parsely-author", "sailthru.author", "dc.creator", "article:author_name"}
META_PUBLISHED = {"article:published_time", "datepublished", "og:published_time", "published_time",
                  "pubdate", "publishdate", "dc.date.issued", "sailthru.date"}
# schema.org microdata on visible elements: <time itemprop="datePublished" datetime="...">.
MICRODATA_DATES = lxml.etree.XPath(
    "//body//*[@itemprop='datePublished' or @itemprop='dateModified'][@datetime or @content]"
)
META_MODIFIED = {"article:modified_time", "datemodified", "og:updated_time", "modified_time", "dc.date.modified"}
BYLINE_XPATH = lxml.etree.XPath(
    "//body//*[self::p or self::div or self::span or self::small or self::address or self::li]"
    "[starts-with(normalize-space(.), 'By ') or starts-with(normalize-space(.), 'by ')]"
)
MAX_BYLINE_CHARS = 120


def _unescape(value: str | None) -> str | None:
    """Undo HTML entities left in metadata (often escaped twice), then collapse white space."""
    value = _clean_space(value)
    if value and "&" in value:
        value = _clean_space(unescape_entities(value))
    return value


def read_page_metadata(tree: lxml.html.HtmlElement) -> PageMetadata:
    """Article fields from JSON-LD, OpenGraph and the document head, read without modifying the tree."""
    meta = PageMetadata()
    articles = [item for item in _json_ld_objects(tree) if _types(item) & ARTICLE_TYPES]
    # A NewsArticle beats a generic WebPage when a page carries both.
    articles.sort(key=lambda item: "webpage" in _types(item))
    for item in articles:
        meta.headline = meta.headline or _unescape(_first_string(item.get("headline") or item.get("name")))
        meta.authors = meta.authors or _names(item.get("author") or item.get("creator"))
        meta.published = meta.published or _clean_space(_first_string(item.get("datePublished") or item.get("dateCreated")))
        meta.modified = meta.modified or _clean_space(_first_string(item.get("dateModified")))
        body = clean_article_body(item.get("articleBody"))
        if body and len(body) > len(meta.article_body or ""):
            meta.article_body = body
        publisher = _names(item.get("publisher"))
        meta.publisher = meta.publisher or (publisher[0] if publisher else None)
    for element in tree.iterfind(".//meta[@content]"):
        key = (element.get("property") or element.get("name") or element.get("itemprop") or "").strip().lower()
        content = _unescape(element.get("content"))
        if key == "og:title":
            meta.og_title = meta.og_title or content
        elif key in {"og:site_name", "application-name"}:
            meta.og_site_name = meta.og_site_name or content
        elif key == "og:url":
            meta.og_url = meta.og_url or content
        elif key in META_PUBLISHED:
            meta.meta_published = meta.meta_published or content
        elif key in META_MODIFIED:
            meta.meta_modified = meta.meta_modified or content
        elif key in META_AUTHOR and content and " " in content:
            meta.meta_authors.append(content)
    for element in MICRODATA_DATES(tree):
        stamp = _clean_space(element.get("datetime") or element.get("content"))
        if element.get("itemprop") == "datePublished":
            meta.meta_published = meta.meta_published or stamp
        else:
            meta.meta_modified = meta.meta_modified or stamp
    for element in tree.iterfind(".//link[@rel][@href]"):
        if "canonical" in element.get("rel", "").lower().split():
            meta.canonical = _clean_space(element.get("href"))
            break
    title = tree.find(".//title")
    meta.html_title = _unescape(title.text_content()) if title is not None else None
    meta.h1s = [text for text in (_clean_space(h1.text_content()) for h1 in tree.iter("h1")) if text]
    return meta


def _first_string(value: Any) -> Any:
    """The first string of a JSON-LD value that may be a list."""
    if isinstance(value, list):
        return next((v for v in value if isinstance(v, str)), None)
    return value


def read_byline(tree: lxml.html.HtmlElement) -> list[str]:
    """Author names from the first visible "By ..." line of the page."""
    for element in BYLINE_XPATH(tree):
        text = _clean_space(element.text_content()) or ""
        if len(text) > MAX_BYLINE_CHARS:
            continue
        names = split_byline(text)
        if names:
            return names
    return []


def clean_url(candidate: str | None, base: str | None = None) -> str | None:
    """An absolute, cleaned URL (tracking parameters and fragments removed), or None."""
    if not candidate:
        return None
    absolute = urljoin(base, candidate) if base else candidate
    if urlsplit(absolute).scheme not in {"http", "https"}:
        return None
    return courlan.clean_url(absolute) or None


def domain_of(url: str | None) -> str | None:
    """Host name of a URL without a leading www."""
    if not url:
        return None
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.") or None


def iso_date(value: str | None) -> str | None:
    """The ISO 8601 date or datetime at the start of a metadata value, else None."""
    if not value:
        return None
    match = re.match(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?", value.strip())
    return match.group(0).replace(" ", "T") if match else None


# ---------------------------------------------------------------------------------------------
# Choosing among candidate values

TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ", " » ", " // ")
TRUNCATION_MARKS = ("...", "…")
MAX_TITLE_CHARS = 300
# A section label or tag glued to the headline ("Opinion", "[Watch]") is at most this many words.
MAX_LABEL_WORDS = 2
AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|\||&|\band\b|\bund\b|\bet\b|\by\b)\s*", re.IGNORECASE)
NAME_SUFFIX = re.compile(r"^(?:jr|sr|ph\.?\s?d|m\.?d|ii|iii|iv)\.?$", re.IGNORECASE)
BYLINE_CUTS = re.compile(
    r"\s*(?:[•|·–—]|\b(?:updated|published|posted|on)\b|\b\d{1,2}[:/.]\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d)",
    re.IGNORECASE,
)
MAX_NAME_WORDS = 5
MAX_DATE_DISAGREEMENT = datetime.timedelta(days=7)
# A JSON-LD articleBody this long is the full text, not a summary (summaries run to a few sentences).
MIN_FULL_BODY_CHARS = 1000
SHINGLE_WORDS = 4
MAX_SHARED_WHEN_DISJOINT = 0.3
MIN_SHARED_WHEN_CONTAINED = 0.9
BLOATED_RATIO = 4


@lru_cache(maxsize=1)
def byline_noise() -> tuple[frozenset[str], tuple[str, ...]]:
    """Noise words and strippable prefixes for author names (pipeline/data/byline_noise.tsv)."""
    rows = read_table("byline_noise.tsv")
    words = frozenset(row["text"].lower() for row in rows if row["kind"] == "word")
    prefixes = tuple(sorted((row["text"].lower() for row in rows if row["kind"] == "prefix"), key=len, reverse=True))
    return words, prefixes


def compact(value: str | None) -> str:
    """Letters and digits only, case-folded: 'The Tehran-Times' -> 'thetehrantimes'."""
    return "".join(ch for ch in (value or "").casefold() if ch.isalnum())


def site_keys(site_names: Iterable[str | None], domain: str | None) -> set[str]:
    """Compact forms a site calls itself by: its names, and its domain with and without the TLD."""
    keys = {compact(name) for name in site_names if name}
    if domain:
        labels = domain.split(".")
        keys.add(compact(domain))
        keys.update(compact(label) for label in labels[:-1] if len(label) > 3)
    keys.discard("")
    return keys


def strip_site_affixes(title: str | None, keys: set[str]) -> str | None:
    """Remove a leading or trailing ' | Site' style segment that names the site."""
    if not title:
        return title
    for separator in TITLE_SEPARATORS:
        parts = title.split(separator)
        while len(parts) > 1 and compact(parts[-1]) in keys:
            parts.pop()
        while len(parts) > 1 and compact(parts[0]) in keys:
            parts.pop(0)
        title = separator.join(parts)
    return title.strip() or None


def _word_set(text: str) -> set[str]:
    """Case-folded words of a text."""
    return set(re.findall(r"\w+", text.casefold()))


def _overlap(first: str, second: str) -> float:
    """Jaccard overlap of the word sets of two strings."""
    a, b = _word_set(first), _word_set(second)
    return len(a & b) / len(a | b) if a | b else 0.0


def _label_around(h1: str, title: str) -> bool:
    """True when `h1` is `title` with a short label before or after it ("Opinion X", "X [Watch]")."""
    h1_words, title_words = re.findall(r"\w+", h1.casefold()), re.findall(r"\w+", title.casefold())
    extra = len(h1_words) - len(title_words)
    if not title_words or not 0 < extra <= MAX_LABEL_WORDS:
        return False
    return h1_words[extra:] == title_words or h1_words[: len(title_words)] == title_words


def choose_title(page: PageMetadata, keys: set[str]) -> str | None:
    """The displayed headline (<h1>) when there is a credible one, else the best metadata title.

    Metadata titles (JSON-LD headline, og:title, <title>) lose their site-name
    affixes; truncated ones ("...") are used last. An <h1> that is only a metadata title plus a
    short label gives way to that title.
    """
    candidates = [page.headline, page.og_title, page.html_title]
    stripped = [strip_site_affixes(_unescape(c), keys) for c in candidates]
    titles = [t for t in stripped if t and not t.endswith(TRUNCATION_MARKS)]
    titles += [t for t in stripped if t and t.endswith(TRUNCATION_MARKS)]
    h1s = [h for h in page.h1s if len(h) <= MAX_TITLE_CHARS and compact(h) not in keys]
    h1s = [h for h in h1s if len(h.split()) > 1 or any(compact(h) == compact(t) for t in titles)]
    if not h1s:
        return titles[0] if titles else None
    best = max(h1s, key=lambda h: max((_overlap(h, t) for t in titles), default=0.0)) if titles else h1s[0]
    if titles and max(_overlap(best, t) for t in titles) == 0.0:
        best = h1s[0]
    for title in titles:
        if _label_around(best, title):
            return title
    return best


def clean_author(name: str, keys: set[str], one_person: bool) -> str | None:
    """A person's name from a byline entry, or None for roles, desks, URLs, emails and site names.

    `one_person`: the entry names a single person (a JSON-LD author object), so anything after a
    comma is an affiliation ("Terry Pluto, cleveland.com").
    """
    noise_words, prefixes = byline_noise()
    name = _unescape(name) or ""
    if one_person:
        head, _, rest = name.partition(",")
        name = f"{head}, {rest.strip()}" if NAME_SUFFIX.match(rest.strip()) else head
    name = BYLINE_CUTS.split(name, maxsplit=1)[0].strip(" ,;|:-")
    lowered = name.casefold()
    for prefix in prefixes:
        if lowered.startswith(prefix + " "):
            name = name[len(prefix) + 1 :].strip()
            break
    if not name or "@" in name or "://" in name or name.lower().startswith("www.") or any(ch.isdigit() for ch in name):
        return None
    if compact(name) in keys or len(name.split()) > MAX_NAME_WORDS:
        return None
    if _word_set(name) & noise_words:
        return None
    return name


def split_byline(text: str) -> list[str]:
    """Names in a visible byline: 'By Ann Lee and Bo Park • 5 May 2024' -> ['Ann Lee', 'Bo Park']."""
    _, prefixes = byline_noise()
    lowered = text.casefold()
    prefix = next((p for p in prefixes if lowered.startswith(p + " ")), None)
    if prefix is None:
        return []
    body = BYLINE_CUTS.split(text[len(prefix) + 1 :], maxsplit=1)[0]
    return _join_suffixes(AUTHOR_SPLIT.split(body))


def _join_suffixes(parts: Iterable[str]) -> list[str]:
    """Re-attach 'Jr.'/'Ph.D.' parts that a comma split separated from their name."""
    names: list[str] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if names and NAME_SUFFIX.match(part):
            names[-1] = f"{names[-1]}, {part}"
        else:
            names.append(part)
    return names


def clean_authors(names: Iterable[str], keys: set[str], one_person: bool) -> list[str]:
    """Cleaned, de-duplicated author names (slug forms such as 'ann-lee' fold into 'Ann Lee')."""
    cleaned: list[str] = []
    for raw in names:
        name = clean_author(raw, keys, one_person)
        if name and all(compact(name) != compact(seen) for seen in cleaned):
            cleaned.append(name)
    return [
        name for name in cleaned
        if " " in name or not any(other != name and compact(name).startswith(compact(other)) for other in cleaned)
    ]


def choose_authors(page: PageMetadata, tree: lxml.html.HtmlElement, keys: set[str]) -> list[str]:
    """Authors from JSON-LD, else <meta> author tags, else trafilatura's byline search, else 'By ...'."""
    for names, one_person in ((page.authors, True), (page.meta_authors, True)):
        cleaned = clean_authors(names, keys, one_person)
        if cleaned:
            return cleaned
    found = extract_author(tree)
    cleaned = clean_authors(_join_suffixes(found.split(";")) if found else [], keys, one_person=False)
    # The "By ..." search walks the whole body, so it runs only when everything else failed.
    return cleaned or clean_authors(read_byline(tree), keys, one_person=False)


MONTH_NUMBERS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_MONTH = r"(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
# Dates as pages display them: "Dec. 21, 2023", "21 December 2023", "2023-12-21", "12/21/2023".
DISPLAYED_DATES = (
    re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})\b", re.IGNORECASE),
    re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>\d{4})\b", re.IGNORECASE),
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b"),
    re.compile(r"\b(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})\b"),
)
CLOCK = re.compile(r"(?<![\d:.])(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?![\d:])\s*(?P<half>[ap])?", re.IGNORECASE)
# A clock time this close to a displayed date belongs to it ("8:00 PM EST, Tue December 19, 2023").
CLOCK_REACH = 30
PUBLISHED_LABEL = re.compile(r"\b(?:published|posted)\b", re.IGNORECASE)
LABEL_REACH = 25
DATE_LABEL_BEFORE = re.compile(r"\b(?:published|posted|date)(?:\s+on)?\s*:?\s*$", re.IGNORECASE)
# Every UTC offset in use is a whole number of quarter hours within 14 hours of UTC.
MAX_UTC_OFFSET = datetime.timedelta(hours=14)
OFFSET_STEP_SECONDS = 15 * 60
# Compiled once, and returning plain strings: lxml's default "smart" strings cost a third of the time.
VISIBLE_TEXT = lxml.etree.XPath(
    "//body//text()[not(parent::script or parent::style or parent::noscript)]", smart_strings=False
)


def parse_timestamp(value: str | None) -> datetime.datetime | None:
    """An ISO 8601 timestamp with a clock time (naive when it names no offset), else None."""
    stamp = iso_date(value)
    if not stamp or "T" not in stamp:
        return None
    stamp = re.sub(r"\.\d+", "", stamp).replace("Z", "+00:00")
    stamp = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", stamp)
    try:
        return datetime.datetime.fromisoformat(stamp)
    except ValueError:
        return None


def same_instant(shown: datetime.datetime, declared: datetime.datetime) -> bool:
    """True when two timestamps name the same minute, allowing a time zone shift when one lacks an offset."""
    if (shown.tzinfo is None) == (declared.tzinfo is None):
        return abs(shown - declared) < datetime.timedelta(minutes=1)
    gap = abs(shown.replace(tzinfo=None, second=0) - declared.replace(tzinfo=None, second=0))
    return gap <= MAX_UTC_OFFSET and gap.total_seconds() % OFFSET_STEP_SECONDS == 0


def displayed_dates(text: str) -> list[tuple[int, int, datetime.date]]:
    """(start, end, date) of every date written out in a text, in reading order."""
    found = []
    for pattern in DISPLAYED_DATES:
        for match in pattern.finditer(text):
            month = match.group("month")
            month_number = MONTH_NUMBERS.get(month[:3].lower()) if month.isalpha() else int(month)
            try:
                day = datetime.date(int(match.group("year")), month_number or 0, int(match.group("day")))
            except ValueError:
                continue
            found.append((match.start(), match.end(), day))
    return sorted(found, key=lambda item: item[0])


def clock_beside(text: str, start: int, end: int, day: datetime.date) -> datetime.datetime | None:
    """The local time a displayed date shows when a clock time stands right after or before it."""
    after = CLOCK.search(text, end, end + CLOCK_REACH)
    before = [m for m in CLOCK.finditer(text, max(0, start - CLOCK_REACH), start)]
    match = after or (before[-1] if before else None)
    if match is None:
        return None
    hour, minute = int(match.group("hour")), int(match.group("minute"))
    half = (match.group("half") or "").lower()
    if half and hour <= 12:
        hour = hour % 12 + (12 if half == "p" else 0)
    if hour > 23 or minute > 59:
        return None
    return datetime.datetime.combine(day, datetime.time(hour, minute))


def declared_times(page: PageMetadata) -> list[str]:
    """The publication and modification timestamps the page declares (JSON-LD, then <meta>)."""
    values = (page.published, page.modified, page.meta_published, page.meta_modified)
    return [stamp for stamp in map(iso_date, values) if stamp]


def match_declared(day: datetime.date, shown: datetime.datetime | None, declared: list[str]) -> str | None:
    """The declared timestamp a displayed date stands for, or the displayed day when it is the
    declared instant in the reader's time zone; None when the displayed date is some other date."""
    for stamp in declared:
        if stamp[:10] == day.isoformat():
            return stamp
    instants = [t for t in map(parse_timestamp, declared) if t]
    if shown is not None and any(same_instant(shown, instant) for instant in instants):
        return day.isoformat()
    return None


def _choose_shown(candidates: list[tuple[str, str]]) -> str | None:
    """The first (date, label text) candidate, or the first labelled as the publication date."""
    labelled = [value for value, context in candidates if PUBLISHED_LABEL.search(context)]
    return (labelled or [value for value, _ in candidates] or [None])[0]


def date_in_time_elements(tree: lxml.html.HtmlElement, declared: list[str]) -> str | None:
    """The declared date a <time> element shows (its text, else its datetime attribute's instant)."""
    candidates = []
    for element in tree.iter("time"):
        text = _clean_space(element.text_content()) or ""
        dates = displayed_dates(text)
        if not dates:
            continue
        start, end, day = dates[0]
        shown = parse_timestamp(element.get("datetime")) or clock_beside(text, start, end, day)
        if shown is not None and shown.date() != day:
            shown = clock_beside(text, start, end, day)
        value = match_declared(day, shown, declared)
        if value:
            candidates.append((value, text))
    return _choose_shown(candidates)


def visible_text(tree: lxml.html.HtmlElement) -> str:
    """The text a reader sees in the page body, white space collapsed."""
    return " ".join(" ".join(VISIBLE_TEXT(tree)).split())


def date_in_page_text(text: str, declared: list[str]) -> str | None:
    """The first declared date written out in the page's visible text ("Published" ones first)."""
    candidates = []
    for start, end, day in displayed_dates(text):
        value = match_declared(day, clock_beside(text, start, end, day), declared)
        if value:
            candidates.append((value, text[max(0, start - LABEL_REACH) : start]))
    return _choose_shown(candidates)


def labelled_date_in_page_text(text: str) -> str | None:
    """The first date the visible text labels as the publication date ("Posted on May 2, 2024")."""
    for start, _end, day in displayed_dates(text):
        if DATE_LABEL_BEFORE.search(text, max(0, start - LABEL_REACH), start):
            return day.isoformat()
    return None


def displayed_published(tree: lxml.html.HtmlElement, page: PageMetadata) -> str | None:
    """The publication or update date the page shows its readers.

    Pages declare both a first-publication and a last-update time, in UTC or in local time; the
    date written next to the byline says which one the outlet presents and in which time zone.
    A page that declares no time at all may still label one date as its publication date.
    """
    declared = declared_times(page)
    if not declared:
        return labelled_date_in_page_text(visible_text(tree))
    shown = date_in_time_elements(tree, declared)
    if shown or not _ambiguous(declared):
        return shown
    return date_in_page_text(visible_text(tree), declared)


def _ambiguous(declared: list[str]) -> bool:
    """False when the declared times all fall on one local day that they state with its UTC offset.

    Only then can the date a page shows not differ from the declared one, so reading the whole
    visible text (the costliest step of ingest after trafilatura) would be wasted.
    """
    instants = [parse_timestamp(stamp) for stamp in declared]
    local_offsets = all(t is not None and t.utcoffset() not in (None, datetime.timedelta(0)) for t in instants)
    return len({stamp[:10] for stamp in declared}) > 1 or not local_offsets


def choose_published(page: PageMetadata, extracted_date: str | None, shown: str | None = None) -> str | None:
    """The date the page shows, else its declared publication time checked against htmldate's date.

    The declared timestamp is kept as written, so its date is the outlet's local date. When
    htmldate reads a date from the page that is more than a week away from the declared one, the
    page shows a different date (usually an update of the text), and that visible date wins.
    """
    if shown:
        return shown
    declared = iso_date(page.published) or iso_date(page.meta_published)
    found = iso_date(extracted_date)
    if not declared or not found:
        return declared or found
    try:
        gap = abs(datetime.date.fromisoformat(declared[:10]) - datetime.date.fromisoformat(found[:10]))
    except ValueError:
        return declared
    return found if gap > MAX_DATE_DISAGREEMENT else declared


# ---------------------------------------------------------------------------------------------
# Articles


def _apply_meta(article: Article, meta: dict[str, Any] | None) -> Article:
    """Let non-empty values of a metadata row (url, outlet, published) override the page's."""
    if not meta:
        return article
    for key in ("url", "outlet", "published", "title"):
        value = meta.get(key)
        if isinstance(value, str) and value.strip():
            setattr(article, key, value.strip())
    if meta.get("url") and not article.domain:
        article.domain = domain_of(article.url)
    return article


def parse_html(text: str) -> lxml.html.HtmlElement:
    """An lxml tree of a page, parsed the way trafilatura parses it, or IngestError."""
    tree = load_html(text)
    if tree is None:
        raise IngestError("empty-extraction", "the input is not an HTML document")
    return tree


def clean_article_body(value: Any) -> str | None:
    """A JSON-LD articleBody as plain text: entities and tags undone, one paragraph per line."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = unescape_entities(value)
    if "<" in text:
        text = lxml.html.fromstring(f"<div>{text}</div>").text_content()
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line) or None


def word_shingles(text: str) -> set[tuple[str, ...]]:
    """The set of word 4-grams of a text, case-folded."""
    tokens = re.findall(r"\w+", text.casefold())
    return {tuple(tokens[i : i + SHINGLE_WORDS]) for i in range(len(tokens) - SHINGLE_WORDS + 1)}


def choose_body(extracted: str, article_body: str | None) -> str:
    """trafilatura's text, unless the page's full JSON-LD articleBody shows it took the wrong block.

    A long articleBody is the article's whole text as the outlet stored it. When trafilatura's text
    shares almost none of it and is shorter, trafilatura picked another block; when it contains the
    articleBody but is several times longer, it kept listings or comments around the article.
    """
    if not article_body or len(article_body) < MIN_FULL_BODY_CHARS:
        return extracted
    if not extracted:
        return article_body
    body_shingles = word_shingles(article_body)
    shared = len(body_shingles & word_shingles(extracted)) / len(body_shingles) if body_shingles else 0.0
    if len(article_body) > len(extracted) and shared < MAX_SHARED_WHEN_DISJOINT:
        return article_body
    if len(extracted) > BLOATED_RATIO * len(article_body) and shared >= MIN_SHARED_WHEN_CONTAINED:
        return article_body
    return extracted


def drop_headline(text: str, headlines: list[str]) -> str:
    """The body text without a first line that repeats the page's <h1> (the title has its own field)."""
    first, newline, rest = text.partition("\n")
    if newline and rest.strip() and compact(first) in {compact(h) for h in headlines}:
        return rest.strip()
    return text


def find_page_date(tree: lxml.html.HtmlElement, url: str | None) -> str | None:
    """htmldate's original (not updated) publication date of the page, quick search, up to today."""
    return htmldate.find_date(tree, url=url, original_date=True, extensive_search=False,
                              max_date=datetime.date.today().isoformat())


def article_from_html(
    html: str | bytes,
    *,
    article_id: str | None = None,
    url: str | None = None,
    source: str = "file",
    fetched_at: str | None = None,
    meta: dict[str, Any] | None = None,
    charset: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Article:
    """Extract the article text and metadata from one HTML page (`charset`: from HTTP headers)."""
    if isinstance(html, bytes):
        check_size(html, max_bytes)
        html = decode_bytes(html, charset)
    else:
        check_size(html.encode("utf-8", "replace"), max_bytes)
    if not html.strip():
        raise IngestError("empty-extraction", "the page is empty")
    tree = parse_html(html)
    page = read_page_metadata(tree)
    # Metadata comes from our own readers and htmldate: trafilatura's metadata pass costs more than
    # the rest of ingest together and its title and date are the fields we have to correct anyway.
    # Tables are left out: on news pages they are listings and widgets far more often than prose.
    document = trafilatura.bare_extraction(
        tree, url=url, include_comments=False, favor_precision=True, include_tables=False
    )
    extracted = (document.text or "").strip() if document is not None else ""
    text = drop_headline(choose_body(extracted, page.article_body), page.h1s)
    if not text:
        raise IngestError("empty-extraction", "trafilatura found no article text")
    canonical = clean_url(page.canonical, url) or clean_url(page.og_url, url) or clean_url(url)
    page_url = url or canonical
    domain = domain_of(page_url)
    outlet = page.og_site_name or page.publisher
    keys = site_keys((page.og_site_name, page.publisher), domain)
    article = Article(
        id=article_id or stable_id(canonical or text),
        text=text,
        source=source,
        url=page_url,
        canonical_url=canonical,
        outlet=outlet,
        domain=domain,
        title=choose_title(page, keys),
        authors=choose_authors(page, tree, keys),
        published=choose_published(page, find_page_date(tree, page_url), displayed_published(tree, page)),
        language=detect_language(text),
        fetched_at=fetched_at,
        content_hash=content_hash(text),
    )
    return _apply_meta(article, meta)


def article_from_text(
    text: str,
    *,
    article_id: str,
    url: str | None = None,
    source: str = "file",
    fetched_at: str | None = None,
    meta: dict[str, Any] | None = None,
) -> Article:
    """A plain-text article kept exactly as given (offsets stay valid); title = first non-empty line."""
    if not text.strip():
        raise IngestError("empty-extraction", "the text is empty")
    title = next((line.strip() for line in text.splitlines() if line.strip()), None)
    article = Article(
        id=article_id,
        text=text,
        source=source,
        url=url,
        canonical_url=clean_url(url),
        domain=domain_of(url),
        title=title,
        language=detect_language(text),
        fetched_at=fetched_at,
        content_hash=content_hash(text),
    )
    return _apply_meta(article, meta)


# ---------------------------------------------------------------------------------------------
# Files, folders and WARCs


def input_kind(path: Path) -> str | None:
    """'html', 'text' or 'warc' for a supported file name, else None."""
    name = path.name.lower()
    if name.endswith(HTML_SUFFIXES):
        return "html"
    if name.endswith(WARC_SUFFIXES):
        return "warc"
    if name.endswith(TEXT_SUFFIXES):
        return "text"
    return None


def local_id(path: Path) -> str:
    """The file name without its supported extension(s): foo.html.gz -> foo."""
    name = path.name
    for suffix in SUPPORTED_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


# A folder's own documentation and metadata, not articles: folder expansion passes them over.
FOLDER_COMPANIONS = ("MANIFEST.csv", "README.md", "README.txt")


def iter_inputs(paths: Iterable[Path | str]) -> Iterator[Path]:
    """Each given file, and every non-hidden file under each given folder (sorted, recursive).

    Unsupported and missing files are yielded too, so that `ingest_paths` reports them; only a
    folder's companion files (its MANIFEST.csv and README) are passed over.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = (p for p in path.rglob("*") if p.is_file() and p.name not in FOLDER_COMPANIONS)
            yield from sorted(
                (p for p in files if not any(part.startswith(".") for part in p.relative_to(path).parts)),
                key=lambda p: p.as_posix(),
            )
        else:
            yield path


def folder_manifests(paths: Iterable[Path | str]) -> dict[str, dict[str, str]]:
    """Metadata rows from the MANIFEST.csv of each given folder that has one."""
    rows: dict[str, dict[str, str]] = {}
    for raw in paths:
        manifest = Path(raw) / "MANIFEST.csv"
        if Path(raw).is_dir() and manifest.exists():
            rows.update(load_meta_csv(manifest))
    return rows


def read_limited(path: Path, max_bytes: int) -> bytes:
    """A file's bytes (gunzipped for .gz), refusing anything above `max_bytes` once decompressed."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as error:
        if isinstance(error, FileNotFoundError):
            raise IngestError("not-found", f"no such file: {path}") from error
        raise IngestError("decode-error", f"cannot read {path}: {error}") from error
    check_size(data, max_bytes)
    return data


def decode_text_file(data: bytes) -> str:
    """A .txt file's text: UTF-8 exactly as stored, else the detected encoding."""
    if looks_binary(data):
        raise IngestError("binary-content", "the input is not text (binary signature or NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        best = charset_normalizer.from_bytes(data).best()
        if best is None:
            raise IngestError("decode-error", "the text file is neither UTF-8 nor a detectable encoding") from None
        LOGGER.warning("text file is not UTF-8, decoded as %s", best.encoding)
        return str(best)


def read_warc(path: Path | str, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Article | ErrorRecord]:
    """One Article per successful (2xx) HTML response record of a WARC file, an ErrorRecord per failing one."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    path = Path(path)
    try:
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type not in {"response", "resource"}:
                    continue
                target = record.rec_headers.get_header("WARC-Target-URI") or ""
                if record.rec_type == "response":
                    # Error pages and redirects are archived too; the fetch stage has reported them.
                    if record.http_headers is None or not record.http_headers.get_statuscode().startswith("2"):
                        continue
                    content_type = record.http_headers.get_header("Content-Type") or ""
                else:
                    content_type = record.rec_headers.get_header("Content-Type") or ""
                if "html" not in content_type.lower():
                    continue
                try:
                    body = record.content_stream().read(max_bytes + 1)
                    yield article_from_html(
                        body,
                        url=target or None,
                        source="warc",
                        fetched_at=record.rec_headers.get_header("WARC-Date"),
                        charset=charset_from_content_type(content_type),
                        max_bytes=max_bytes,
                    )
                except IngestError as error:
                    yield ErrorRecord(stage="ingest", reason=error.reason, input=target or str(path), detail=error.detail)
    except FileNotFoundError:
        yield ErrorRecord(stage="ingest", reason="not-found", input=str(path), detail=f"no such file: {path}")
    except (ArchiveLoadFailed, OSError, EOFError, zlib.error) as error:
        yield ErrorRecord(stage="ingest", reason="decode-error", input=str(path), detail=f"unreadable WARC: {error}")


def load_meta_csv(path: Path | str) -> dict[str, dict[str, str]]:
    """Rows of a metadata CSV (columns file,url,outlet,published), keyed by file name and by stem."""
    rows: dict[str, dict[str, str]] = {}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            name = (row.get("file") or "").strip()
            if not name:
                continue
            values = {k: (v or "").strip() for k, v in row.items() if k and k != "file"}
            rows[name] = values
            rows.setdefault(local_id(Path(name)), values)
    return rows


def ingest_file(path: Path, meta: dict[str, Any] | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """One Article from a local .html/.htm/.html.gz/.txt file (IngestError when it cannot be)."""
    kind = input_kind(path)
    if not path.exists():
        raise IngestError("not-found", f"no such file: {path}")
    if kind not in {"html", "text"}:
        raise IngestError("unsupported-type", f"unsupported file type: {path.name}")
    data = read_limited(path, max_bytes)
    url = (meta or {}).get("url") or None
    if kind == "text":
        return article_from_text(decode_text_file(data), article_id=local_id(path), url=url, meta=meta)
    return article_from_html(data, article_id=local_id(path), url=url, meta=meta, max_bytes=max_bytes)


def ingest_paths(
    paths: Iterable[Path | str],
    meta_csv: Path | str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[Article | ErrorRecord]:
    """One Article per input file (per HTML record for WARCs); every failure becomes an ErrorRecord.

    A folder's MANIFEST.csv supplies metadata for its files; `meta_csv` rows take precedence.
    """
    paths = list(paths)
    meta_rows = {**folder_manifests(paths), **(load_meta_csv(meta_csv) if meta_csv else {})}
    for path in iter_inputs(paths):
        if input_kind(path) == "warc" and path.exists():
            yield from read_warc(path, max_bytes=max_bytes)
            continue
        meta = meta_rows.get(path.name) or meta_rows.get(local_id(path))
        try:
            yield ingest_file(path, meta=meta, max_bytes=max_bytes)
        except IngestError as error:
            yield ErrorRecord(stage="ingest", reason=error.reason, input=str(path), article_id=None, detail=error.detail)
