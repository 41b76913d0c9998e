"""The benchmark runs end to end on a tiny shared-like folder (speed itself is not tested)."""
import gzip
import json
from pathlib import Path

import pytest
import spacy
from spacy.language import Language

from pipeline.bench import component_report, format_bench, run_bench, time_components

TEXTS = {
    "ferry": "The ferry company said crossings would resume on Monday after the storm.",
    "budget": "Council leaders warned that the budget gap could reach four million pounds next year.",
    "museum": "A spokesperson confirmed the museum will stay closed while the roof is repaired.",
}

PAGE = """<html><head><title>{title}</title></head><body><article><h1>{title}</h1>
<p>{body}</p><p>Local residents told reporters they expected the work to take several weeks,
and the council promised regular updates on its website throughout the repairs.</p></article></body></html>"""


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Path:
    """A folder laid out like ../shared with three PolNeAR dev texts and three NAEB pages."""
    root = tmp_path_factory.mktemp("shared")
    polnear, naeb = root / "data" / "polnear", root / "data" / "naeb"
    (polnear / "dev" / "text").mkdir(parents=True)
    (polnear / "dev" / "attributions").mkdir(parents=True)
    (naeb / "html").mkdir(parents=True)
    rows, gold = ["compartment\tfilename\tannotators"], {}
    for name, text in TEXTS.items():
        (polnear / "dev" / "text" / f"{name}.txt").write_text(text)
        (polnear / "dev" / "attributions" / f"{name}_a1.ann").write_text("")
        rows.append(f"dev\t{name}\ta1")
        page = PAGE.format(title=name.title(), body=text)
        (naeb / "html" / f"{name}.html.gz").write_bytes(gzip.compress(page.encode()))
        gold[name] = {"url": f"https://news.example/{name}", "title": name.title(), "articleBody": text}
    (polnear / "metadata.tsv").write_text("\n".join(rows) + "\n")
    (naeb / "articles.json").write_text(json.dumps(gold))
    return root


@pytest.fixture(scope="module")
def bench(shared, tmp_path_factory) -> tuple[dict, Path]:
    """One benchmark run on the three documents, and its output folder."""
    out = tmp_path_factory.mktemp("bench")
    return run_bench(out, n=3, shared=shared), out


def test_bench_json_is_written(bench):
    result, out = bench
    assert json.loads((out / "bench.json").read_text()) == result


def test_bare_model_throughput_is_reported(bench):
    bare = bench[0]["nlp"]["bare"]
    assert bench[0]["nlp"]["docs"] == 3 and bare["docs_per_s"] > 0 and bare["words_per_s"] > 0


def test_full_pipeline_overhead_and_our_components_are_reported(bench):
    nlp = bench[0]["nlp"]
    assert "overhead_percent" in nlp["full"], nlp["full"]
    assert "overhead_percent" in nlp["components"]["news_quotes"]


def test_ingest_throughput_is_reported(bench):
    ingest = bench[0]["ingest"]
    assert ingest["pages"] == 3 and ingest["ours_pages_per_s"] > 0


def test_summary_names_both_benchmarks(bench):
    summary = format_bench(bench[0])
    assert "docs/s" in summary and "pages/s" in summary


@Language.component("test_bench_noop")
def noop(doc):
    """A stand-in component that does nothing."""
    return doc


def test_each_component_gets_its_own_clock():
    nlp = spacy.blank("en")
    nlp.add_pipe("test_bench_noop", name="news_noop")
    assert set(time_components(nlp, list(TEXTS.values()), batch_size=2)) == {"tokenizer", "news_noop"}


def test_our_component_overhead_is_relative_to_the_model_time():
    report = component_report({"tokenizer": 1.0, "parser": 3.0, "news_quotes": 1.0})
    assert report["news_quotes"] == {"seconds": 1.0, "share_percent": 20.0, "overhead_percent": 25.0}
