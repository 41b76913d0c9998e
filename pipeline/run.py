"""Running the stages over a corpus: ingest to articles.jsonl, then the NLP stage, resumable and loss-free."""
from __future__ import annotations

import logging
import platform
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import __version__
from pipeline.jsonl import append_jsonl, read_jsonl, write_json_atomic, write_jsonl_atomic
from pipeline.records import Article, ErrorRecord

if TYPE_CHECKING:
    from spacy.language import Language

LOGGER = logging.getLogger(__name__)

RESULTS_FILE = ".work/results.jsonl"
OUTPUT_FILES = ("entities.jsonl", "claims.jsonl", "errors.jsonl", "run.json")


@dataclass
class RunSummary:
    """What one extract run did, written to run.json."""

    versions: dict[str, str]
    model: str
    workers: int
    counts: Counter = field(default_factory=Counter)
    timings: dict[str, float] = field(default_factory=dict)
    started: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def failed(self) -> bool:
        """True when any input ended in errors.jsonl."""
        return self.counts["errors"] > 0

    def to_json(self) -> dict[str, Any]:
        return {
            "versions": self.versions,
            "model": self.model,
            "workers": self.workers,
            "counts": dict(sorted(self.counts.items())),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "started": self.started,
        }


def versions(model: str, nlp=None) -> dict[str, str]:
    """The versions that decide what the run produces."""
    import spacy

    found = {"newsclaims": __version__, "spacy": spacy.__version__, "python": platform.python_version()}
    if nlp is not None:
        found["model"] = f"{nlp.meta.get('lang', '')}_{nlp.meta.get('name', model)}-{nlp.meta.get('version', '?')}"
    return found


@dataclass
class DefaultInputs:
    """What `make extract` reads when no input is named: inbox files and listed URLs, else the sample."""

    files: list[Path]
    manifest: Path | None = None
    urls_file: Path | None = None


def default_inputs(corpora: str | Path = "corpora") -> DefaultInputs:
    """Article files in the inbox and URLs in urls.txt; the bundled sample corpus when both are empty."""
    from pipeline.fetch.urls import read_url_list
    from pipeline.ingest import SUPPORTED_SUFFIXES

    def article_files(folder: Path) -> list[Path]:
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.rglob("*") if p.is_file() and p.name.lower().endswith(SUPPORTED_SUFFIXES))

    def manifest_of(folder: Path) -> Path | None:
        return folder / "MANIFEST.csv" if (folder / "MANIFEST.csv").exists() else None

    root = Path(corpora)
    urls_file = root / "urls.txt"
    has_urls = urls_file.exists() and bool(read_url_list(urls_file))
    inbox = article_files(root / "inbox")
    if inbox or has_urls:
        return DefaultInputs(inbox, manifest_of(root / "inbox"), urls_file if has_urls else None)
    return DefaultInputs(article_files(root / "sample"), manifest_of(root / "sample"))


def run_fetch_list(urls_file: str | Path, out_dir: str | Path, settings=None) -> tuple[list[Article], list[ErrorRecord]]:
    """Fetch the URLs listed in `urls_file` into `out_dir/fetch/` (state kept there, so only new URLs are fetched).

    Returns every article fetched so far, by this run or earlier ones, and the errors of this run.
    """
    from pipeline.fetch import fetch
    from pipeline.fetch.urls import read_url_list

    folder = Path(out_dir) / "fetch"
    errors_path = folder / "errors.jsonl"
    earlier = sum(1 for _ in read_jsonl(errors_path)) if errors_path.exists() else 0
    fetch(read_url_list(urls_file), [], [], folder, settings=settings)
    articles = read_articles(folder / "articles.jsonl") if (folder / "articles.jsonl").exists() else []
    errors = [ErrorRecord.from_json(e) for e in read_jsonl(errors_path)][earlier:] if errors_path.exists() else []
    return articles, errors


def gather_default_articles(
    out_dir: str | Path,
    corpora: str | Path = "corpora",
    *,
    fetch_settings=None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Article], list[ErrorRecord]]:
    """Ingest the default inputs and fetch corpora/urls.txt; write the union to `out_dir/articles.jsonl`."""
    inputs = default_inputs(corpora)
    articles: list[Article] = []
    errors: list[ErrorRecord] = []
    if inputs.urls_file:
        articles, errors = run_fetch_list(inputs.urls_file, out_dir, settings=fetch_settings)
    if inputs.files:
        ingested, failed = run_ingest(inputs.files, out_dir, meta_csv=inputs.manifest, progress=progress)
        articles, errors = ingested + articles, failed + errors
    write_jsonl_atomic(Path(out_dir) / "articles.jsonl", articles)
    return articles, errors


def run_ingest(
    paths: Iterable[str | Path],
    out_dir: str | Path,
    *,
    meta_csv: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Article], list[ErrorRecord]]:
    """Ingest files and folders into `out_dir/articles.jsonl`; return the articles and the inputs that failed."""
    from pipeline.ingest import ingest_paths

    articles: list[Article] = []
    errors: list[ErrorRecord] = []
    for record in ingest_paths([Path(p) for p in paths], meta_csv=Path(meta_csv) if meta_csv else None):
        (articles if isinstance(record, Article) else errors).append(record)
        if progress:
            progress(1)
    write_jsonl_atomic(Path(out_dir) / "articles.jsonl", articles)
    return articles, errors


def read_articles(path: str | Path) -> list[Article]:
    """Articles from an articles.jsonl file."""
    return [Article.from_json(row) for row in read_jsonl(path)]


def extract_articles(
    articles: Iterable[Article],
    out_dir: str | Path,
    *,
    model: str | None = None,
    nlp: Language | None = None,
    workers: int = 1,
    batch_size: int = 16,
    earlier_errors: Iterable[ErrorRecord] = (),
    progress: Callable[[int], None] | None = None,
) -> RunSummary:
    """Run the spaCy pipeline over `articles` and write entities, claims, errors and run.json to `out_dir`.

    Finished articles are appended to `.work/results.jsonl` as they complete, so a rerun after a crash
    skips them (same id and content hash) and the final files hold each article once. Pass `nlp` to
    reuse a pipeline built by `build_nlp`; otherwise `model` is loaded.
    """
    from pipeline.nlp import DEFAULT_MODEL, build_nlp

    out = Path(out_dir)
    model = model or DEFAULT_MODEL
    started = time.perf_counter()
    nlp = nlp or build_nlp(model)
    summary = RunSummary(versions=versions(model, nlp), model=model, workers=workers)
    summary.timings["load_model"] = time.perf_counter() - started

    results_path = out / RESULTS_FILE
    done = _finished(results_path, summary.versions)
    order: list[str] = []
    todo: list[Article] = []
    for article in articles:
        order.append(article.id)
        if done.get(article.id) == article.content_hash:
            summary.counts["resumed"] += 1
            if progress:
                progress(1)
        else:
            todo.append(article)

    nlp_started = time.perf_counter()
    for result in _process(nlp, todo, workers, batch_size):
        append_jsonl(results_path, [{**result, "versions": summary.versions}])
        if progress:
            progress(1)
    summary.timings["nlp"] = time.perf_counter() - nlp_started

    _write_outputs(out, order, results_path, list(earlier_errors), summary)
    summary.timings["total"] = time.perf_counter() - started
    write_json_atomic(out / "run.json", summary.to_json())
    return summary


def _process(nlp, articles: list[Article], workers: int, batch_size: int) -> Iterator[dict[str, Any]]:
    """Yield one result (entities, claims, errors) per article, in input order."""
    from pipeline.normalise import claims_from_doc, entities_from_doc

    failures: dict[str, str] = {}

    def remember_failure(name, _proc, docs, error):
        for doc in docs:
            failures[doc._context] = f"{name}: {type(error).__name__}: {error}"

    # Language.pipe hands this to every component without its own pipe(); set_error_handler would also
    # touch the compiled parser, which has no error_handler attribute in spaCy 3.8.
    nlp.default_error_handler = remember_failure
    by_id = {a.id: a for a in articles}
    runnable = []
    for article in articles:
        problem = _unprocessable(article, nlp.max_length)
        if problem:
            yield _failed(article, problem)
        else:
            runnable.append(article)

    produced = nlp.pipe(((a.text, a.id) for a in runnable), as_tuples=True, n_process=workers, batch_size=batch_size)
    expected = iter(runnable)
    for doc, article_id in produced:
        for skipped in _until(expected, article_id):
            yield _failed(skipped, failures.get(skipped.id, "nlp-failed: the article was dropped by a worker"))
        article = by_id[article_id]
        try:
            yield {
                "article_id": article.id,
                "content_hash": article.content_hash,
                "entities": [e.to_json() for e in entities_from_doc(doc, article)],
                "claims": [c.to_json() for c in claims_from_doc(doc, article)],
                "errors": [],
            }
        except Exception as error:  # one bad article must not stop the run
            LOGGER.exception("normalising %s failed", article.id)
            yield _failed(article, f"normalise: {type(error).__name__}: {error}", stage="normalise")
    for skipped in expected:
        yield _failed(skipped, failures.get(skipped.id, "nlp-failed: the article was dropped by a worker"))


def _until(expected: Iterator[Article], article_id: str) -> Iterator[Article]:
    """Articles the pipeline dropped before it returned `article_id`."""
    for article in expected:
        if article.id == article_id:
            return
        yield article


def _unprocessable(article: Article, max_length: int) -> str | None:
    if not article.text.strip():
        return "empty-text: the article has no text"
    if len(article.text) > max_length:
        return f"too-long: {len(article.text)} characters exceeds the pipeline's max_length {max_length}"
    return None


def _failed(article: Article, reason: str, stage: str = "nlp") -> dict[str, Any]:
    code, _, detail = reason.partition(": ")
    error = ErrorRecord(stage=stage, reason=code, input=article.url or article.id, article_id=article.id, detail=detail)
    return {
        "article_id": article.id,
        "content_hash": article.content_hash,
        "entities": [],
        "claims": [],
        "errors": [error.to_json()],
    }


def _finished(results_path: Path, current_versions: dict[str, str]) -> dict[str, str | None]:
    """Article id -> content hash of results from an earlier run with the same versions and no error."""
    if not results_path.exists():
        return {}
    done = {}
    for result in read_jsonl(results_path):
        if result.get("versions") == current_versions and not result["errors"]:
            done[result["article_id"]] = result["content_hash"]
    return done


def _write_outputs(
    out: Path, order: list[str], results_path: Path, earlier_errors: list[ErrorRecord], summary: RunSummary
) -> None:
    latest: dict[str, dict[str, Any]] = {}
    if results_path.exists():
        for result in read_jsonl(results_path):
            latest[result["article_id"]] = result
    ordered = [latest[i] for i in dict.fromkeys(order) if i in latest]
    summary.counts["articles"] = len(ordered)
    summary.counts["entities"] = write_jsonl_atomic(out / "entities.jsonl", (e for r in ordered for e in r["entities"]))
    claims = [c for r in ordered for c in r["claims"]]
    summary.counts["claims"] = write_jsonl_atomic(out / "claims.jsonl", claims)
    summary.counts.update(f"claims.{c['kind']}" for c in claims)
    errors = [e.to_json() for e in earlier_errors] + [e for r in ordered for e in r["errors"]]
    summary.counts["errors"] = write_jsonl_atomic(out / "errors.jsonl", errors)
