import json

from pipeline.jsonl import read_jsonl
from pipeline.records import Article, validate
from pipeline.run import extract_articles

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
