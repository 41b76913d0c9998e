"""The fetch stage end to end: discover, fetch politely, archive, ingest, de-duplicate, record state."""
from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain, zip_longest
from pathlib import Path

from pipeline.fetch.client import Exchange, PoliteClient
from pipeline.fetch.dedupe import DuplicateFinder
from pipeline.fetch.discovery import Candidate, discover_feeds, discover_sitemaps
from pipeline.fetch.errors import FetchError
from pipeline.fetch.settings import FetchSettings
from pipeline.fetch.state import FetchState, PageState
from pipeline.fetch.urls import canonical_url, host_key, is_http_url
from pipeline.fetch.warc import WarcArchive, new_warc_path
from pipeline.ingest import IngestError, article_from_html, charset_from_content_type
from pipeline.jsonl import append_jsonl, read_jsonl
from pipeline.records import Article, ErrorRecord

LOGGER = logging.getLogger(__name__)

ARTICLES_FILE = "articles.jsonl"
ERRORS_FILE = "errors.jsonl"
STATE_FILE = "fetch_state.sqlite"
RAW_DIR = "raw"

Progress = Callable[[int, int], None]


@dataclass
class FetchReport:
    """What one fetch run did: `fetched` = `articles` + `already_stored` + page errors."""

    discovered: int = 0
    skipped_known: int = 0
    fetched: int = 0
    articles: int = 0
    duplicates: int = 0
    # Pages whose article id was already in articles.jsonl: written by an interrupted run, or a
    # page whose rel=canonical names an article fetched under another URL.
    already_stored: int = 0
    errors: int = 0
    error_reasons: Counter = field(default_factory=Counter)
    warc_path: Path | None = None

    def summary(self) -> str:
        """One line for the command line."""
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(self.error_reasons.items()))
        return (
            f"{self.discovered} URLs, {self.skipped_known} already done, {self.fetched} fetched: "
            f"{self.articles} articles ({self.duplicates} near-duplicates), {self.already_stored} already stored, "
            f"{self.errors} errors"
            + (f" ({reasons})" if reasons else "")
        )


@dataclass
class PageOutcome:
    """What fetching one candidate gave: an article or an error."""

    candidate: Candidate
    canonical: str
    exchange: Exchange | None = None
    article: Article | None = None
    error: FetchError | None = None


def fetch(
    urls: Iterable[str],
    feeds: Iterable[str],
    sitemaps: Iterable[str],
    out_dir: str | Path,
    *,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    settings: FetchSettings | None = None,
    progress: Progress | None = None,
) -> FetchReport:
    """Fetch the given URLs plus those found in feeds and sitemaps into out_dir (articles, errors, WARC, state)."""
    settings = settings or FetchSettings()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = FetchReport()
    archive = WarcArchive(new_warc_path(out / RAW_DIR), settings.user_agent)
    client = PoliteClient(settings, on_exchange=archive.write)
    state = FetchState(out / STATE_FILE)
    try:
        candidates, errors = _discover(client, urls, feeds, sitemaps, since, until)
        _write_errors(out, errors, report)
        todo = _new_candidates(candidates, state, settings, report)
        known_ids, finder = _load_articles(out / ARTICLES_FILE, settings)
        for outcome in _fetch_all(client, todo, settings, progress):
            _store(outcome, out, state, known_ids, finder, report)
    finally:
        archive.close()
        state.close()
    report.warc_path = archive.path if archive.records else None
    LOGGER.info("fetch: %s", report.summary())
    return report


def _discover(
    client: PoliteClient,
    urls: Iterable[str],
    feeds: Iterable[str],
    sitemaps: Iterable[str],
    since: date | datetime | None,
    until: date | datetime | None,
) -> tuple[list[Candidate], list[ErrorRecord]]:
    """Given URLs first (never date-filtered), then feed items, then sitemap pages."""
    get = client.get
    feed_found, feed_errors = discover_feeds(get, feeds, since, until)
    map_found, map_errors = discover_sitemaps(get, sitemaps, since, until, client.settings.max_sitemaps)
    given = [Candidate(url.strip()) for url in urls if url.strip()]
    return given + feed_found + map_found, feed_errors + map_errors


def _new_candidates(
    candidates: list[Candidate], state: FetchState, settings: FetchSettings, report: FetchReport
) -> list[tuple[Candidate, str]]:
    """Each canonical URL once, minus those an earlier run finished; invalid URLs become errors later."""
    todo: list[tuple[Candidate, str]] = []
    seen: set[str] = set()
    for candidate in candidates:
        canonical = canonical_url(candidate.url, settings.strict_url_params) if is_http_url(candidate.url) else candidate.url
        if canonical in seen:
            continue
        seen.add(canonical)
        if state.should_fetch(canonical, settings.retry_transient_on_rerun):
            todo.append((candidate, canonical))
        else:
            report.skipped_known += 1
    report.discovered = len(seen)
    return _interleave_hosts(todo)


def _interleave_hosts(todo: list[tuple[Candidate, str]]) -> list[tuple[Candidate, str]]:
    """Round-robin over hosts, so workers are not all queued behind one host's delay."""
    by_host: dict[str, list[tuple[Candidate, str]]] = defaultdict(list)
    for item in todo:
        by_host[host_key(item[1]) if is_http_url(item[1]) else ""].append(item)
    rounds = zip_longest(*by_host.values())
    return [item for item in chain.from_iterable(rounds) if item is not None]


def _load_articles(path: Path, settings: FetchSettings) -> tuple[set[str], DuplicateFinder]:
    """Ids already in articles.jsonl, and a duplicate finder primed with its originals (resume, rerun)."""
    finder = DuplicateFinder(settings.near_duplicate_threshold, settings.minhash_permutations, settings.shingle_words)
    known: set[str] = set()
    if path.exists():
        for row in read_jsonl(path):
            known.add(row["id"])
            if not row.get("duplicate_of"):
                finder.add(row["id"], row.get("text") or "", row.get("content_hash"))
    return known, finder


def _fetch_all(
    client: PoliteClient, todo: list[tuple[Candidate, str]], settings: FetchSettings, progress: Progress | None
) -> Iterator[PageOutcome]:
    """Fetch and ingest in a thread pool; outcomes come back in `todo` order, so "first" is deterministic."""
    executor = ThreadPoolExecutor(max_workers=max(1, settings.workers), thread_name_prefix="fetch")
    try:
        futures: list[Future[PageOutcome]] = [
            executor.submit(fetch_page, client, candidate, canonical) for candidate, canonical in todo
        ]
        for done, future in enumerate(futures, start=1):
            yield future.result()
            if progress is not None:
                progress(done, len(futures))
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def fetch_page(client: PoliteClient, candidate: Candidate, canonical: str) -> PageOutcome:
    """Download one article page and turn it into an Article; every failure is caught into the outcome."""
    outcome = PageOutcome(candidate, canonical)
    try:
        outcome.exchange = client.get(candidate.url, html_only=True)
        # read_warc re-reads exactly these inputs (body, final URL, header charset, WARC-Date).
        outcome.article = article_from_html(
            outcome.exchange.body,
            url=outcome.exchange.url,
            source="http",
            fetched_at=outcome.exchange.fetched_at,
            charset=charset_from_content_type(outcome.exchange.content_type),
        )
    except FetchError as error:
        outcome.error = error
    except IngestError as error:
        outcome.error = FetchError(error.reason, error.detail)
    except Exception as error:  # noqa: BLE001 - one bad page must not stop the run
        LOGGER.exception("unexpected failure on %s", candidate.url)
        outcome.error = FetchError("unexpected-error", f"{type(error).__name__}: {error}")
    return outcome


def _store(
    outcome: PageOutcome,
    out: Path,
    state: FetchState,
    known_ids: set[str],
    finder: DuplicateFinder,
    report: FetchReport,
) -> None:
    """Append the article (or error), then record the URL's state: a crash between the two is healed on resume."""
    url, canonical = outcome.candidate.url, outcome.canonical
    report.fetched += 1
    exchange = outcome.exchange
    final_url = exchange.url if exchange else None
    fetched_at = exchange.fetched_at if exchange else None
    if outcome.error is not None or outcome.article is None:
        error = outcome.error or FetchError("unexpected-error", "no article and no error")
        _write_errors(out, [ErrorRecord(stage="fetch", reason=error.reason, input=url, detail=error.detail)], report)
        state.record(PageState(canonical, url, final_url, "error", error.reason, fetched_at, None, None))
        return
    article = outcome.article
    if article.id in known_ids:
        # Already written by an interrupted run, or the page names an already fetched canonical URL.
        state.record(PageState(canonical, url, final_url, "duplicate", None, fetched_at, article.id, article.content_hash))
        report.already_stored += 1
        return
    article.duplicate_of = finder.original_of(article.text, article.content_hash)
    if article.duplicate_of is None:
        finder.add(article.id, article.text, article.content_hash)
    else:
        report.duplicates += 1
    append_jsonl(out / ARTICLES_FILE, [article])
    known_ids.add(article.id)
    report.articles += 1
    status = "duplicate" if article.duplicate_of else "article"
    state.record(PageState(canonical, url, final_url, status, None, fetched_at, article.id, article.content_hash))


def _write_errors(out: Path, errors: list[ErrorRecord], report: FetchReport) -> None:
    """Append error lines and count them by reason."""
    if not errors:
        return
    append_jsonl(out / ERRORS_FILE, errors)
    report.errors += len(errors)
    report.error_reasons.update(error.reason for error in errors)
