"""Article extraction quality against the NAEB gold set: body, title, authors, date.

Run: `python -m pipeline.evaluate.articles --naeb ../shared/data/naeb [--out DIR]`.

Definitions (per page, then averaged over pages; a page our extractor fails on scores 0 on every
field, unless the gold value is empty and so is the prediction):

* body: precision/recall/F1 of the *sets* of word 4-gram shingles. Words are the `\\w+` runs of the
  NFKC-normalised, case-folded text, so punctuation, quote styles and line breaks do not count.
  Texts of fewer than four words give one shingle made of all their words.
* title: exact match after NFKC, mapping curly/prime quote marks to ' and ", every dash and minus
  to "-", collapsing white space and case-folding.
* authors: F1 of the sets of author names, each NFKC-normalised, case-folded, with white space
  collapsed and periods dropped ("Ralph D. Russo" == "RALPH D RUSSO"). Gold names are the
  comma-separated parts of the gold string; a part that is only a suffix ("Jr.", "Ph.D.") stays with
  the name before it. Both empty scores 1, exactly one empty scores 0.
* date: the first ten characters of the prediction (YYYY-MM-DD) equal the gold date.

Splits: pages sorted by id; "even" (indexes 0, 2, ...) is where rules were tuned, "odd" is held out.
Speed: pages per second of `article_from_html` against bare `trafilatura.extract` (include_comments
False, no metadata) over the same decoded pages, single process.
"""
from __future__ import annotations

import gzip
import json
import logging
import re
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trafilatura

from pipeline.ingest import IngestError, article_from_html, decode_bytes
from pipeline.jsonl import write_json_atomic

LOGGER = logging.getLogger(__name__)

FIELDS = ("body_p", "body_r", "body_f1", "title", "authors_f1", "date")
SHINGLE_SIZE = 4
QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
                        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
                        "\u00ab": '"', "\u00bb": '"'})
DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
NAME_SUFFIXES = {"jr", "sr", "phd", "md", "ii", "iii", "iv", "esq"}


@dataclass
class Prediction:
    """What one extractor produced for one page."""

    text: str = ""
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    date: str | None = None


# ---------------------------------------------------------------------------------------------
# Normalisation and per-field scores


def words(text: str) -> list[str]:
    """Case-folded word tokens of a text."""
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())


def shingles(text: str, size: int = SHINGLE_SIZE) -> set[tuple[str, ...]]:
    """The set of word n-grams of a text (one shingle of all words when shorter than n)."""
    tokens = words(text)
    if len(tokens) < size:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def prf(predicted: set, gold: set) -> tuple[float, float, float]:
    """Precision, recall and F1 of two sets (both empty: perfect)."""
    if not predicted and not gold:
        return 1.0, 1.0, 1.0
    common = len(predicted & gold)
    precision = common / len(predicted) if predicted else 0.0
    recall = common / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def normalise_title(title: str | None) -> str:
    """A title with quote marks, dashes, white space and case normalised."""
    text = unicodedata.normalize("NFKC", title or "").translate(QUOTES)
    return " ".join(DASHES.sub("-", text).split()).casefold()


def normalise_name(name: str) -> str:
    """An author name with case, white space and periods normalised."""
    return " ".join(unicodedata.normalize("NFKC", name).replace(".", " ").split()).casefold()


def gold_authors(value: str) -> list[str]:
    """Author names of a gold record: comma-separated, suffixes kept with the preceding name."""
    names: list[str] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        if names and normalise_name(part).replace(" ", "") in NAME_SUFFIXES:
            names[-1] = f"{names[-1]}, {part}"
        else:
            names.append(part)
    return names


def score_page(prediction: Prediction | None, gold: dict[str, Any]) -> dict[str, float]:
    """All field scores of one page (a missing prediction counts as empty on every field)."""
    prediction = prediction or Prediction()
    body_p, body_r, body_f1 = prf(shingles(prediction.text), shingles(gold.get("articleBody") or ""))
    predicted_names = {normalise_name(n) for n in prediction.authors if normalise_name(n)}
    gold_names = {normalise_name(n) for n in gold_authors(gold.get("authors") or "")}
    gold_date = (gold.get("date") or "")[:10]
    return {
        "body_p": body_p,
        "body_r": body_r,
        "body_f1": body_f1,
        "title": float(normalise_title(prediction.title) == normalise_title(gold.get("title"))),
        "authors_f1": prf(predicted_names, gold_names)[2],
        "date": float((prediction.date or "")[:10] == gold_date),
    }


def average(rows: Iterable[dict[str, float]]) -> dict[str, float]:
    """The mean of each field over pages."""
    rows = list(rows)
    return {name: round(sum(r[name] for r in rows) / len(rows), 4) if rows else 0.0 for name in FIELDS}


# ---------------------------------------------------------------------------------------------
# Extractors under test


def predict_ours(html: bytes, url: str | None) -> Prediction | None:
    """Our ingest stage on the page bytes (the URL as a fetch would know it)."""
    try:
        article = article_from_html(html, url=url)
    except IngestError as error:
        LOGGER.info("ours failed on %s: %s", url, error)
        return None
    return Prediction(article.text, article.title, list(article.authors), article.published)


def predict_defaults(html: bytes, url: str | None) -> Prediction | None:
    """trafilatura 2.3.1 `bare_extraction` with its defaults (metadata on, no URL)."""
    document = trafilatura.bare_extraction(html, with_metadata=True)
    if document is None:
        return None
    authors = [a.strip() for a in (document.author or "").split(";") if a.strip()]
    return Prediction(document.text or "", document.title, authors, document.date)


SYSTEMS: dict[str, Callable[[bytes, str | None], Prediction | None]] = {
    "ours": predict_ours,
    "trafilatura-defaults": predict_defaults,
}


# ---------------------------------------------------------------------------------------------
# The run


def load_naeb(naeb_dir: Path | str, limit: int | None = None) -> list[tuple[str, bytes, dict[str, Any]]]:
    """(id, page bytes, gold record) for every gold article that has its HTML file, sorted by id."""
    naeb_dir = Path(naeb_dir)
    gold = json.loads((naeb_dir / "articles.json").read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(gold):
        path = naeb_dir / "html" / f"{page_id}.html.gz"
        if path.exists():
            pages.append((page_id, gzip.decompress(path.read_bytes()), gold[page_id]))
    return pages[:limit] if limit else pages


def measure_speed(pages: list[tuple[str, bytes, dict[str, Any]]]) -> dict[str, float]:
    """Pages per second of bare trafilatura.extract and of our article_from_html, same pages.

    The two are timed page by page in alternation, so load from other processes on the machine
    falls on both alike, after one untimed warm-up page each.
    """
    # One untimed page first: both sides load lazily built state (py3langid's model, trafilatura's
    # caches) on their first call, a one-off cost that says nothing about throughput.
    for _, html, gold in pages[:1]:
        trafilatura.extract(decode_bytes(html), include_comments=False)
        predict_ours(html, gold.get("url"))
    bare = ours = 0.0
    for _, html, gold in pages:
        decoded = decode_bytes(html)
        started = time.perf_counter()
        trafilatura.extract(decoded, include_comments=False)
        bare += time.perf_counter() - started
        started = time.perf_counter()
        predict_ours(html, gold.get("url"))
        ours += time.perf_counter() - started
    return {
        "trafilatura_extract_pages_per_s": round(len(pages) / bare, 2),
        "ours_pages_per_s": round(len(pages) / ours, 2),
        "overhead_percent": round(100 * (ours - bare) / bare, 1),
    }


def evaluate_articles(
    naeb_dir: Path | str,
    systems: Iterable[str] = tuple(SYSTEMS),
    limit: int | None = None,
    speed: bool = True,
) -> dict[str, Any]:
    """Scores of each system on all pages and on the tuning (even) and held-out (odd) halves."""
    pages = load_naeb(naeb_dir, limit)
    result: dict[str, Any] = {"pages": len(pages), "definitions": __doc__.split("Definitions", 1)[1].strip(),
                              "scores": {}, "failures": {}}
    per_page: dict[str, dict[str, dict[str, float]]] = {}
    for name in systems:
        predict = SYSTEMS[name]
        rows = {}
        failures = []
        for page_id, html, gold in pages:
            prediction = predict(html, gold.get("url"))
            if prediction is None:
                failures.append(page_id)
            rows[page_id] = score_page(prediction, gold)
        per_page[name] = rows
        order = [page_id for page_id, _, _ in pages]
        result["scores"][name] = {
            "all": average(rows[i] for i in order),
            "even": average(rows[i] for i in order[0::2]),
            "odd": average(rows[i] for i in order[1::2]),
        }
        result["failures"][name] = failures
    result["per_page"] = per_page
    if speed:
        result["speed"] = measure_speed(pages)
    return result


def format_table(result: dict[str, Any]) -> str:
    """A plain-text table: one row per system and split, one column per field."""
    lines = [f"NAEB article extraction, {result['pages']} pages (even = tuned on, odd = held out)",
             f"{'system':<22} {'split':<5} " + " ".join(f"{name:>10}" for name in FIELDS)]
    for system, splits in result["scores"].items():
        for split, scores in splits.items():
            lines.append(f"{system:<22} {split:<5} " + " ".join(f"{scores[name]:>10.3f}" for name in FIELDS))
    speed = result.get("speed")
    if speed:
        lines.append(
            f"speed: trafilatura.extract {speed['trafilatura_extract_pages_per_s']} pages/s, "
            f"ours {speed['ours_pages_per_s']} pages/s, overhead {speed['overhead_percent']}%"
        )
    return "\n".join(lines)


def write_report(result: dict[str, Any], out_dir: Path | str) -> Path:
    """Write the scores (without per-page rows) and the per-page rows as JSON; return the summary path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {k: v for k, v in result.items() if k != "per_page"}
    path = out_dir / "articles.json"
    write_json_atomic(path, summary)
    write_json_atomic(out_dir / "articles_per_page.json", result.get("per_page", {}))
    (out_dir / "articles.txt").write_text(format_table(result) + "\n", encoding="utf-8")
    return path
