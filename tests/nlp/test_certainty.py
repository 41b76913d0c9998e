"""certainty_of: hedge phrases mapped onto the PHIA yardstick and the ICD 203 scale."""
from __future__ import annotations

import pytest

from pipeline.nlp.certainty import certainty_of, load_scale


def test_highly_likely_is_phia_80_to_90():
    found = certainty_of("Officials judged it highly likely that the stolen records would be misused.")
    assert found == {"phrase": "highly likely", "category": "highly likely", "scale": "PHIA", "low": 0.80, "high": 0.90}


def test_almost_certainly_is_phia_95_to_100():
    found = certainty_of("The group almost certainly acted for a state intelligence service.")
    assert (found["category"], found["scale"], found["low"], found["high"]) == ("almost certain", "PHIA", 0.95, 1.0)


def test_longest_phrase_wins_over_its_parts():
    assert certainty_of("It is very unlikely the vote was affected.")["phrase"] == "very unlikely"


def test_probability_phrase_beats_a_longer_reporting_verb():
    assert certainty_of("The agency believes it is likely the hackers were paid.")["category"] == "likely"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("The minister said the servers were patched.", "reported"),
        ("The agency believes the group is state-backed.", "believed"),
        ("The firm claimed the leak was small.", "claimed"),
        ("Beijing denied any role.", "denied"),
    ],
)
def test_reporting_verbs_carry_a_category_but_no_number(text, category):
    found = certainty_of(text)
    assert (found["category"], found["low"], found["high"]) == (category, None, None)


def test_claim_without_hedge_is_asserted():
    assert certainty_of("The breach exposed the names of voters.")["category"] == "asserted"


def test_icd_only_phrase_is_read_on_icd_scale():
    found = certainty_of("There is a roughly even chance of another intrusion.")
    assert (found["scale"], found["low"], found["high"]) == ("ICD203", 0.45, 0.55)


def test_preferred_scale_can_be_switched_to_icd():
    found = certainty_of("The attack was likely opportunistic.", preferred_scale="ICD203")
    assert (found["scale"], found["low"], found["high"]) == ("ICD203", 0.55, 0.80)


def test_phrase_inside_a_hyphenated_word_is_not_a_hedge():
    assert certainty_of("An unlikely-looking suspect was named.")["category"] == "asserted"


def test_table_is_loaded_once():
    assert load_scale() is load_scale()
