import functools
import http.server
import json
import threading

import pytest

from pipeline.fetch import FetchSettings
from pipeline.jsonl import read_jsonl
from pipeline.records import Article, validate
from pipeline.run import default_inputs, extract_articles, gather_default_articles

LEDGER = Article(
    id="ledger-budget",
    source="file",
    outlet="The Ledger",
    domain="ledger.example",
    published="2024-03-26",
    content_hash="h-ledger",
    text=(
        "The council approved a budget of £12m on Monday.\n\n"
        '"We had no choice," said Mary Stone, the council leader. "The money has run out."\n\n'
        "Opposition members said the plan would cut around 300 jobs."
    ),
)
HERALD = Article(
    id="herald-bridge",
    source="file",
    outlet="The Herald",
    domain="herald.example",
    published="2024-03-25",
    content_hash="h-herald",
    text="Engineers said the bridge would reopen in May. Its repair cost more than $3 million, the agency added.",
)


def _outputs(folder):
    return {name: list(read_jsonl(folder / f"{name}.jsonl")) for name in ("entities", "claims", "errors")}


def test_every_written_record_validates(nlp, tmp_path):
    extract_articles([LEDGER, HERALD], tmp_path, nlp=nlp)
    outputs = _outputs(tmp_path)
    assert outputs["claims"], "the example articles carry quotes and figures"
    for name, schema in (("entities", "entity"), ("claims", "claim"), ("errors", "error")):
        for record in outputs[name]:
            validate(record, schema)
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["counts"]["articles"] == 2 and run["versions"]["newsclaims"]


def test_a_failing_article_becomes_one_error_line_and_the_run_goes_on(nlp, tmp_path):
    empty = Article(id="blank", source="file", text="  \n", content_hash="h-blank")
    summary = extract_articles([empty, HERALD], tmp_path, nlp=nlp)
    errors = _outputs(tmp_path)["errors"]
    assert [(e["article_id"], e["stage"], e["reason"]) for e in errors] == [("blank", "nlp", "empty-text")]
    assert summary.failed
    assert {c["article_id"] for c in _outputs(tmp_path)["claims"]} == {"herald-bridge"}


def test_an_oversized_text_is_refused_with_a_clear_reason(nlp, tmp_path):
    huge = Article(id="huge", source="file", text="word " * (nlp.max_length // 5 + 1), content_hash="h-huge")
    extract_articles([huge], tmp_path, nlp=nlp)
    [error] = _outputs(tmp_path)["errors"]
    assert error["reason"] == "too-long" and "max_length" in error["detail"]


def test_a_rerun_after_an_interruption_resumes_without_duplicates(nlp, tmp_path):
    extract_articles([LEDGER], tmp_path, nlp=nlp)
    first = _outputs(tmp_path)["claims"]
    summary = extract_articles([LEDGER, HERALD], tmp_path, nlp=nlp)
    claims = _outputs(tmp_path)["claims"]
    assert summary.counts["resumed"] == 1
    assert len({c["id"] for c in claims}) == len(claims)
    assert [c for c in claims if c["article_id"] == LEDGER.id] == first


def test_claim_ids_are_stable_across_runs_and_worker_counts(nlp, tmp_path):
    extract_articles([LEDGER, HERALD], tmp_path / "one", nlp=nlp, workers=1)
    extract_articles([LEDGER, HERALD], tmp_path / "two", nlp=nlp, workers=2)
    assert _outputs(tmp_path / "one") == _outputs(tmp_path / "two")


PAGE = """<html><head><title>Bridge reopens</title></head><body><article><h1>Bridge reopens</h1>
<p>The river bridge reopened on Tuesday after a repair that cost more than $3 million, the county said.</p>
<p>"Traffic is moving again," said Joan Price, the county engineer, who oversaw the work for two years.</p>
</article></body></html>"""


@pytest.fixture
def local_site(tmp_path):
    """A real HTTP server on 127.0.0.1 serving one article page."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "bridge.html").write_text(PAGE, encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_default_inputs_are_the_inbox_and_listed_urls_fetched_once(local_site, tmp_path):
    corpora = tmp_path / "corpora"
    (corpora / "inbox").mkdir(parents=True)
    (corpora / "inbox" / "note.txt").write_text("The mayor said the budget was balanced.\n", encoding="utf-8")
    (corpora / "urls.txt").write_text(f"# to fetch\n{local_site}/bridge.html\n", encoding="utf-8")
    out = tmp_path / "out"
    settings = FetchSettings(delay=0.0)

    articles, errors = gather_default_articles(out, corpora, fetch_settings=settings)
    assert sorted(a.source for a in articles) == ["file", "http"] and not errors
    again, _ = gather_default_articles(out, corpora, fetch_settings=settings)
    assert [a.id for a in again] == [a.id for a in articles]
    assert [a["id"] for a in read_jsonl(out / "articles.jsonl")] == [a.id for a in articles]


def test_the_sample_is_used_when_inbox_and_url_list_are_empty(tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "sample").mkdir()
    (tmp_path / "sample" / "a.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "urls.txt").write_text("# nothing yet\n", encoding="utf-8")
    inputs = default_inputs(tmp_path)
    assert [p.name for p in inputs.files] == ["a.html"] and inputs.urls_file is None
