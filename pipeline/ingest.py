"""Any input file or WARC record -> `Article`: trafilatura for the body, page metadata with fallbacks.

The result of `article_from_html` depends only on the body bytes, the URL and the charset named by
the HTTP headers, so re-reading a fetched WARC gives the same article as the live fetch.
"""
from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import json
import logging
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import charset_normalizer
import courlan
import lxml.html
import py3langid
import trafilatura
from trafilatura.utils import load_html

from pipeline.records import Article, ErrorRecord

LOGGER = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
HTML_SUFFIXES = (".html.gz", ".html", ".htm")
WARC_SUFFIXES = (".warc.gz", ".warc")
TEXT_SUFFIXES = (".txt",)
SUPPORTED_SUFFIXES = HTML_SUFFIXES + WARC_SUFFIXES + TEXT_SUFFIXES
# Language identification on a prefix is as accurate as on the whole text and much cheaper.
LANGUAGE_SAMPLE_CHARS = 3000
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
        if isinstance(item, list):
            item = next((v for v in item if isinstance(v, str)), None)
        name = _clean_space(item)
        if name:
            names.append(name)
    return names


@dataclass
class PageMetadata:
    """Metadata read from the page's JSON-LD, OpenGraph and <link>/<meta> tags."""

    headline: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    publisher: str | None = None
    og_title: str | None = None
    og_site_name: str | None = None
    og_url: str | None = None
    canonical: str | None = None


def read_page_metadata(tree: lxml.html.HtmlElement) -> PageMetadata:
    """JSON-LD article fields plus OpenGraph and rel=canonical, read without modifying the tree."""
    meta = PageMetadata()
    articles = [item for item in _json_ld_objects(tree) if _types(item) & ARTICLE_TYPES]
    # A NewsArticle beats a generic WebPage when a page carries both.
    articles.sort(key=lambda item: "webpage" in _types(item))
    for item in articles:
        meta.headline = meta.headline or _clean_space(item.get("headline") or item.get("name"))
        meta.authors = meta.authors or _names(item.get("author") or item.get("creator"))
        meta.published = meta.published or _clean_space(item.get("datePublished") or item.get("dateCreated"))
        publisher = _names(item.get("publisher"))
        meta.publisher = meta.publisher or (publisher[0] if publisher else None)
    for element in tree.iterfind(".//meta[@property]"):
        prop, content = element.get("property", "").lower(), _clean_space(element.get("content"))
        if prop == "og:title":
            meta.og_title = meta.og_title or content
        elif prop == "og:site_name":
            meta.og_site_name = meta.og_site_name or content
        elif prop == "og:url":
            meta.og_url = meta.og_url or content
    for element in tree.iterfind(".//link[@rel][@href]"):
        if "canonical" in element.get("rel", "").lower().split():
            meta.canonical = _clean_space(element.get("href"))
            break
    return meta


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
    document = trafilatura.bare_extraction(tree, url=url, include_comments=False, with_metadata=True)
    text = (document.text or "").strip() if document is not None else ""
    if not text:
        raise IngestError("empty-extraction", "trafilatura found no article text")
    canonical = clean_url(page.canonical, url) or clean_url(page.og_url, url) or clean_url(url)
    page_url = url or canonical
    authors = page.authors or _split_authors(document.author)
    article = Article(
        id=article_id or stable_id(canonical or text),
        text=text,
        source=source,
        url=page_url,
        canonical_url=canonical,
        outlet=page.og_site_name or page.publisher or document.sitename,
        domain=domain_of(page_url),
        title=page.headline or page.og_title or document.title,
        authors=authors,
        published=iso_date(page.published) or iso_date(document.date),
        language=detect_language(text),
        fetched_at=fetched_at,
        content_hash=content_hash(text),
    )
    return _apply_meta(article, meta)


def _split_authors(value: str | None) -> list[str]:
    """trafilatura joins authors with '; '."""
    if not value:
        return []
    return [name for name in (n.strip() for n in value.split(";")) if name]


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


def iter_inputs(paths: Iterable[Path | str]) -> Iterator[Path]:
    """Each given file, and every non-hidden file under each given folder (sorted, recursive).

    Unsupported and missing files are yielded too, so that `ingest_paths` reports them.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = (p for p in path.rglob("*") if p.is_file())
            yield from sorted(
                (p for p in files if not any(part.startswith(".") for part in p.relative_to(path).parts)),
                key=lambda p: p.as_posix(),
            )
        else:
            yield path


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
    """One Article per HTML response record of a WARC file, an ErrorRecord per failing record."""
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
                    if record.http_headers is None:
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
    """One Article per input file (per HTML record for WARCs); every failure becomes an ErrorRecord."""
    meta_rows = load_meta_csv(meta_csv) if meta_csv else {}
    for path in iter_inputs(paths):
        if input_kind(path) == "warc" and path.exists():
            yield from read_warc(path, max_bytes=max_bytes)
            continue
        meta = meta_rows.get(path.name) or meta_rows.get(local_id(path))
        try:
            yield ingest_file(path, meta=meta, max_bytes=max_bytes)
        except IngestError as error:
            yield ErrorRecord(stage="ingest", reason=error.reason, input=str(path), article_id=None, detail=error.detail)
