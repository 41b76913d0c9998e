"""The NAEB article scorer: field definitions on hand-written gold, and a smoke run on real pages."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from pipeline.evaluate.articles import (
    Prediction,
    evaluate_articles,
    format_table,
    gold_authors,
    normalise_title,
    score_page,
    shingles,
)

NAEB = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "naeb"

GOLD = {
    "title": "Council \u201capproves\u201d new cycle lanes \u2014 at last",
    "authors": "Mira Okafor, Tom J. Reyes",
    "date": "2024-05-02",
    "articleBody": "The city council approved three new cycle lanes on Thursday evening after a long debate.",
    "url": "https://paper.example/cycle-lanes",
    "site": "http://paper.example",
}


def test_a_perfect_prediction_scores_one_everywhere() -> None:
    prediction = Prediction(
        text=GOLD["articleBody"],
        title='council "approves" new cycle lanes - at  last',
        authors=["MIRA OKAFOR", "Tom J Reyes"],
        date="2024-05-02T18:30:00+01:00",
    )
    assert set(score_page(prediction, GOLD).values()) == {1.0}


def test_extra_boilerplate_lowers_body_precision_only() -> None:
    prediction = Prediction(text=GOLD["articleBody"] + " Sign up for our newsletter to get the latest stories.")
    scores = score_page(prediction, GOLD)
    assert scores["body_r"] == 1.0
    assert 0.5 < scores["body_p"] < 1.0


def test_missing_prediction_scores_zero() -> None:
    scores = score_page(None, GOLD)
    assert scores == {"body_p": 0.0, "body_r": 0.0, "body_f1": 0.0, "title": 0.0, "authors_f1": 0.0, "date": 0.0}


def test_author_f1_counts_each_name() -> None:
    assert score_page(Prediction(authors=["Mira Okafor"]), GOLD)["authors_f1"] == pytest.approx(2 / 3)


def test_no_gold_author_and_no_prediction_is_correct() -> None:
    assert score_page(Prediction(), {**GOLD, "authors": ""})["authors_f1"] == 1.0


def test_gold_authors_keep_suffixes_with_their_name() -> None:
    assert gold_authors("Ana Lima, Ph.D., Joe Burr Jr") == ["Ana Lima, Ph.D.", "Joe Burr Jr"]


def test_title_normalisation_maps_quotes_dashes_space_and_case() -> None:
    assert normalise_title("It\u2019s  \u2018Over\u2019 \u2013 Now") == normalise_title("it's 'over' - now")


def test_short_texts_give_one_shingle() -> None:
    assert shingles("Hello, world!") == {("hello", "world")}


def test_evaluate_articles_on_a_tiny_gold_folder(tmp_path: Path) -> None:
    body = " ".join(f"<p>{GOLD['articleBody']} Paragraph {n} adds more detail on the plan.</p>" for n in range(4))
    page = (
        f"<html><head><title>{GOLD['title']} | Paper</title>"
        "<meta name='author' content='Mira Okafor'>"
        f"<meta property='article:published_time' content='{GOLD['date']}T08:00:00Z'></head>"
        f"<body><article><h1>{GOLD['title']}</h1>{body}</article></body></html>"
    )
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "p1.html.gz").write_bytes(gzip.compress(page.encode("utf-8")))
    (tmp_path / "articles.json").write_text(json.dumps({"p1": GOLD, "p2": GOLD}), encoding="utf-8")
    result = evaluate_articles(tmp_path, speed=False)
    assert result["pages"] == 1
    ours = result["scores"]["ours"]["all"]
    assert ours["title"] == 1.0 and ours["date"] == 1.0
    assert "ours" in format_table(result)


def test_smoke_run_on_five_naeb_pages() -> None:
    if not NAEB.exists():
        pytest.skip("../shared not present")
    result = evaluate_articles(NAEB, limit=5, speed=False)
    assert result["pages"] == 5
    assert result["scores"]["ours"]["all"]["body_f1"] > 0.5
