"""The attribution scorer: definitions on tiny articles, and agreement with the reference scorer."""
import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.evaluate.attributions import (TokenIndex, evaluate_attributions, export_predictions,
                                            merge_same_cue, predict, read_predictions, score)
from pipeline.evaluate.brat import GoldRelation, load_gold, load_texts

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
REFERENCE = SHARED / "tools" / "attribution_score.py"
POLNEAR = SHARED / "data" / "polnear"

HARBOUR = ('The harbour master said the pier would reopen in spring. "Repairs are on schedule," '
           'she added, "and the cost is lower." Residents remain doubtful, according to a council survey.')
SCHOOL = 'Teachers warned that class sizes keep growing. The minister disagreed.'


def span(text: str, phrase: str) -> list[int]:
    """[start, end] of the first occurrence of `phrase` in `text`."""
    start = text.index(phrase)
    return [start, start + len(phrase)]


def relation(text: str, content: list[str], source: str | None = None, cue: str | None = None) -> dict:
    """A prediction-format relation from phrases of `text`."""
    return {"source": [span(text, source)] if source else [], "cue": [span(text, cue)] if cue else [],
            "content": [span(text, phrase) for phrase in content]}


def gold(text: str, content: list[str], source: str | None = None, cue: str | None = None,
         kind: str = "indirect") -> GoldRelation:
    """A gold relation from phrases of `text`."""
    r = relation(text, content, source, cue)
    return GoldRelation("E1", "Attribution", tuple(map(tuple, r["source"])), tuple(map(tuple, r["cue"])),
                        tuple(map(tuple, r["content"])), kind)


HARBOUR_GOLD = [
    gold(HARBOUR, ["the pier would reopen in spring"], "The harbour master", "said"),
    gold(HARBOUR, ['"Repairs are on schedule,"', '"and the cost is lower."'], "she", "added", kind="direct"),
    gold(HARBOUR, ["Residents remain doubtful"], "a council survey", "according to"),
]


def score_one(pred: list[dict], gold_relations=HARBOUR_GOLD, text=HARBOUR):
    """Scores of one article."""
    return score({"a": gold_relations}, {"a": pred}, {"a": text})


def test_tokens_keep_abbreviations_and_contractions_whole():
    text = "U.S. officials didn't comment."
    index = TokenIndex(text)
    assert [text[s:e] for s, e in zip(index.starts, index.ends)] == ["U.S", ".", "officials", "didn't", "comment", "."]


def test_core_tokens_drop_quotes_and_punctuation_at_the_edges():
    text = '"Repairs are on schedule," she said.'
    index = TokenIndex(text)
    assert index.core([(0, 26)]) == index.covered([(1, 24)])


def test_span_covers_a_token_it_only_partly_overlaps():
    index = TokenIndex("the harbour master")
    assert index.covered([(6, 7)]) == {1}


def test_gold_scored_against_itself_is_perfect():
    pred = [relation(HARBOUR, ["the pier would reopen in spring"], "The harbour master", "said"),
            relation(HARBOUR, ['"Repairs are on schedule,"', '"and the cost is lower."'], "she", "added"),
            relation(HARBOUR, ["Residents remain doubtful"], "a council survey", "according to")]
    scores = score_one(pred)
    assert scores.measure("rel_all_exact") == {"p": 1.0, "r": 1.0, "f1": 1.0}


def test_partial_content_matches_but_is_not_exact():
    scores = score_one([relation(HARBOUR, ["the pier would reopen"], "The harbour master", "said")])
    assert (scores.counts["content_match"], scores.counts["content_exact"]) == (1, 0)


def test_content_below_half_dice_is_a_miss():
    scores = score_one([relation(HARBOUR, ["pier"], "The harbour master", "said")])
    assert scores.counts["content_match"] == 0


def test_quote_marks_do_not_stop_an_exact_content_match():
    quoted = [gold(HARBOUR, ['"Repairs are on schedule,"'], "she", "added", kind="direct")]
    scores = score_one([relation(HARBOUR, ["Repairs are on schedule"], "she", "added")], quoted)
    assert scores.counts["content_exact"] == 1


def test_wrong_source_matches_content_but_not_relation():
    scores = score_one([relation(HARBOUR, ["the pier would reopen in spring"], "Residents", "said")])
    assert (scores.counts["content_match"], scores.counts["rel_overlap"]) == (1, 0)


def test_source_sharing_one_token_counts_as_overlap():
    scores = score_one([relation(HARBOUR, ["the pier would reopen in spring"], "harbour", "said")])
    assert (scores.counts["rel_overlap"], scores.counts["rel_exact_source"]) == (1, 0)


def test_two_empty_sources_match():
    text = "Officials expect delays, according to reports."
    gold_relations = [gold(text, ["Officials expect delays"], None, "according to")]
    scores = score({"a": gold_relations}, {"a": [relation(text, ["Officials expect delays"])]}, {"a": text})
    assert scores.counts["rel_overlap"] == 1


def test_each_gold_relation_matches_at_most_one_prediction():
    pred = [relation(HARBOUR, ["the pier would reopen in spring"], "The harbour master", "said"),
            relation(HARBOUR, ["the pier would reopen in spring"], "The harbour master", "said")]
    scores = score_one(pred)
    assert scores.measure("content_match") == {"p": 0.5, "r": 1 / 3, "f1": 0.4}


def test_cue_accuracy_is_measured_on_matched_pairs_only():
    pred = [relation(HARBOUR, ["the pier would reopen in spring"], "The harbour master", "said"),
            relation(HARBOUR, ["Residents remain doubtful"], "a council survey", "remain")]
    assert score_one(pred).cue_accuracy == 0.5


def test_recall_is_broken_down_by_gold_kind():
    pred = [relation(HARBOUR, ['"Repairs are on schedule,"', '"and the cost is lower."'], "she", "added")]
    recall = score_one(pred).recall_by_kind()
    assert (recall["direct"]["content"], recall["indirect"]["content"]) == (1.0, 0.0)


def test_predictions_for_unknown_articles_are_ignored():
    scores = score({"a": HARBOUR_GOLD}, {"elsewhere": [relation(HARBOUR, ["the pier"])]}, {"a": HARBOUR})
    assert scores.counts["pred"] == 0


def test_split_quote_with_one_cue_is_merged_into_one_relation():
    halves = [relation(HARBOUR, ['"Repairs are on schedule,"'], "she", "added"),
              relation(HARBOUR, ['"and the cost is lower."'], "she", "added")]
    merged = merge_same_cue(halves)
    assert [r["content"] for r in merged] == [[span(HARBOUR, '"Repairs are on schedule,"'),
                                               span(HARBOUR, '"and the cost is lower."')]]


def test_relations_without_cue_are_never_merged():
    assert len(merge_same_cue([relation(HARBOUR, ["the pier"]), relation(HARBOUR, ["in spring"])])) == 2


def test_export_writes_the_reference_prediction_format(tmp_path):
    attribution = {**relation(HARBOUR, ["the pier would reopen in spring"], "The harbour master", "said"),
                   "kind": "indirect", "speaker": {"name": "Harbour Master", "resolution": "descriptor"}}
    export_predictions({"a": [attribution]}, tmp_path / "pred.jsonl")
    line = json.loads((tmp_path / "pred.jsonl").read_text())
    assert line == {"article": "a", "relations": [{"source": [span(HARBOUR, "The harbour master")],
                                                   "cue": [span(HARBOUR, "said")],
                                                   "content": [span(HARBOUR, "the pier would reopen in spring")],
                                                   "speaker_name": "Harbour Master"}]}


def test_exported_predictions_read_back_unchanged(tmp_path):
    pred = {"a": [{**relation(HARBOUR, ["the pier"], "she", "said"), "speaker_name": None}]}
    export_predictions(pred, tmp_path / "pred.jsonl")
    assert read_predictions(tmp_path / "pred.jsonl") == pred


# --- a small gold folder laid out like PolNeAR, shared by the runner and agreement tests ---

def brat(text: str, relations: list[dict]) -> str:
    """BRAT standoff for prediction-format relations (the first content role carries every span)."""
    lines, t = [], 0
    for number, rel in enumerate(relations, 1):
        args = []
        for role in ("source", "cue", "content"):
            if rel[role]:
                t += 1
                offsets = ";".join(f"{s} {e}" for s, e in rel[role])
                lines.append(f"T{t}\t{role.capitalize()} {offsets}\t{' '.join(text[s:e] for s, e in rel[role])}")
                args.append(f"{role.capitalize()}:T{t}")
        kind = "Attribution" if rel["source"] else "Attribution-no-source"
        lines.append(f"E{number}\t{kind}:T{t} " + " ".join(args))
    return "\n".join(lines) + "\n"


@pytest.fixture()
def corpus(tmp_path) -> Path:
    """Two dev articles (one with two annotators) and one train article."""
    harbour = [relation(HARBOUR, ["the pier would reopen in spring"], "The harbour master", "said"),
               relation(HARBOUR, ['"Repairs are on schedule,"', '"and the cost is lower."'], "she", "added"),
               relation(HARBOUR, ["Residents remain doubtful"], "a council survey", "according to")]
    school = [relation(SCHOOL, ["class sizes keep growing"], "Teachers", "warned"),
              relation(SCHOOL, ["The minister disagreed"])]
    files = {("dev", "harbour", "ab12"): (HARBOUR, harbour), ("dev", "harbour", "cd34"): (HARBOUR, harbour[:1]),
             ("dev", "school", "cd34"): (SCHOOL, school), ("train", "other", "ab12"): (SCHOOL, school)}
    for (split, name, annotator), (text, rels) in files.items():
        (tmp_path / split / "text").mkdir(parents=True, exist_ok=True)
        (tmp_path / split / "attributions").mkdir(parents=True, exist_ok=True)
        (tmp_path / split / "text" / f"{name}.txt").write_text(text, encoding="utf8")
        (tmp_path / split / "attributions" / f"{name}_{annotator}.ann").write_text(brat(text, rels), encoding="utf8")
    (tmp_path / "metadata.tsv").write_text("compartment\tfilename\tannotators\n"
                                           "dev\tharbour\tcd34|ab12\ndev\tschool\tcd34\ntrain\tother\tab12\n")
    return tmp_path


SMALL_PREDICTIONS = [
    {"article": "harbour", "relations": [
        relation(HARBOUR, ["the pier would reopen"], "master", "said"),
        relation(HARBOUR, ['"Repairs are on schedule,"'], "she", "added"),
        relation(HARBOUR, ['"and the cost is lower."'], "she", "added"),
        relation(HARBOUR, ["Residents remain doubtful"], "a council survey", "according to")]},
    {"article": "school", "relations": [relation(SCHOOL, ["class sizes keep growing"], None, "warned"),
                                        relation(SCHOOL, ["The minister"], "The minister", "disagreed")]},
]


def test_runner_writes_scores_json(corpus, tmp_path):
    pred_path = tmp_path / "pred.jsonl"
    pred_path.write_text("".join(json.dumps(line) + "\n" for line in SMALL_PREDICTIONS))
    evaluate_attributions(corpus, "dev", pred_path=pred_path, out_dir=tmp_path / "eval")
    written = json.loads((tmp_path / "eval" / "scores.json").read_text())
    assert (written["gold"], written["pred"]) == (5, 6)


def test_predict_reads_attributions_from_the_pipeline(corpus):
    if not Doc.has_extension("attributions"):
        Doc.set_extension("attributions", default=None)
    nlp = spacy.blank("en")
    nlp.add_pipe("test_whole_text_attribution")
    pred = predict(corpus, "dev", nlp)
    assert pred["school"][0]["content"] == [[0, len(SCHOOL)]]


@Language.component("test_whole_text_attribution")
def whole_text_attribution(doc: Doc) -> Doc:
    """A stand-in attribution component: the whole text is one uncued content."""
    doc._.attributions = [{"source": [], "cue": [], "content": [[0, len(doc.text)]]}]
    return doc


# --- agreement with ../shared/tools/attribution_score.py ---

def reference_scores(data: Path, pred_path: Path, tmp_path: Path, *options: str) -> tuple[dict, str]:
    """Run the reference scorer; return its JSON and its printed report."""
    if not REFERENCE.exists():
        pytest.skip("../shared not present: reference scorer unavailable")
    out = tmp_path / "reference.json"
    run = subprocess.run([sys.executable, str(REFERENCE), "--data", str(data), "--split", "dev",
                          "--pred", str(pred_path), "--json", str(out), *options],
                         capture_output=True, text=True, check=True)
    return json.loads(out.read_text()), run.stdout


def assert_agrees(ours: dict, reference: dict, printed: str) -> None:
    """Every number the reference reports (resolved names aside: PolNeAR has none) equals ours."""
    for key, value in reference.items():
        if key == "rel_resolved_name":
            continue
        if isinstance(value, dict):
            assert {k: ours[key][k] for k in value} == value, key
        else:
            assert ours[key] == value, key
    soft = re.search(r"soft token overlap.*?P=\s*([\d.]+)% R=\s*([\d.]+)% F1=\s*([\d.]+)%", printed).groups()
    assert [f"{ours['tokens'][k]:.1%}".rstrip("%") for k in ("p", "r", "f1")] == list(soft)


def ours_on(data: Path, pred_path: Path, merge: bool = False) -> dict:
    """Our scores for a prediction file, as JSON."""
    return evaluate_attributions(data, "dev", pred_path=pred_path, merge=merge).to_json()


@pytest.mark.parametrize("merge", [False, True])
def test_agrees_with_reference_on_a_small_corpus(corpus, tmp_path, merge):
    pred_path = tmp_path / "pred.jsonl"
    pred_path.write_text("".join(json.dumps(line) + "\n" for line in SMALL_PREDICTIONS))
    reference, printed = reference_scores(corpus, pred_path, tmp_path, *(["--merge-same-cue"] if merge else []))
    assert_agrees(ours_on(corpus, pred_path, merge), reference, printed)


def perturbed(text: str, relations: list[GoldRelation], rng: random.Random) -> list[dict]:
    """Gold relations damaged the ways a system errs: trimmed or widened content, lost or wrong
    sources and cues, quotes split around their cue, missed and spurious relations."""
    out = []
    for rel in relations:
        r = {"source": [list(s) for s in rel.source], "cue": [list(s) for s in rel.cue],
             "content": [list(s) for s in rel.content]}
        roll = rng.random()
        if roll < 0.1:
            continue
        if roll < 0.3:
            start, end = r["content"][0]
            r["content"][0] = [min(end, start + rng.randint(0, 25)), end]
        elif roll < 0.4:
            r["content"][-1][1] = min(len(text), r["content"][-1][1] + rng.randint(1, 40))
        elif roll < 0.5:
            r["source"] = []
        elif roll < 0.55:
            r["source"], r["cue"] = r["cue"], []
        elif roll < 0.6:
            for role in ("source", "cue"):
                r[role] = [[max(0, s - rng.randint(1, 15)), e] for s, e in r[role]]
        elif roll < 0.7 and len(r["content"]) > 1:
            out.append({**r, "content": r["content"][:1]})
            r["content"] = r["content"][1:]
        out.append(r)
        if rng.random() < 0.1:
            start = rng.randrange(len(text) - 80)
            out.append({"source": [], "cue": [], "content": [[start, start + rng.randint(5, 80)]]})
    return out


@pytest.mark.parametrize("merge", [False, True])
def test_agrees_with_reference_on_perturbed_polnear_dev(tmp_path, merge):
    if not POLNEAR.exists():
        pytest.skip("../shared not present: PolNeAR unavailable")
    rng = random.Random(20240325)
    gold_relations, texts = load_gold(POLNEAR, "dev"), load_texts(POLNEAR, "dev")
    articles = sorted(gold_relations)[::6]
    pred_path = tmp_path / "pred.jsonl"
    pred_path.write_text("".join(json.dumps({"article": a, "relations": perturbed(texts[a], gold_relations[a], rng)})
                                 + "\n" for a in articles))
    reference, printed = reference_scores(POLNEAR, pred_path, tmp_path, *(["--merge-same-cue"] if merge else []))
    assert_agrees(ours_on(POLNEAR, pred_path, merge), reference, printed)


def test_command_line_prints_the_table_and_writes_json(corpus, tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import main

    pred_path = tmp_path / "pred.jsonl"
    pred_path.write_text("".join(json.dumps(line) + "\n" for line in SMALL_PREDICTIONS))
    result = CliRunner().invoke(main, ["evaluate", "attributions", "--gold", str(corpus), "--split", "dev",
                                       "--pred", str(pred_path), "--json", str(tmp_path / "scores.json")])
    assert result.exit_code == 0 and "content match" in result.output
    assert json.loads((tmp_path / "scores.json").read_text())["gold"] == 5
