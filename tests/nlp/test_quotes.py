"""news_quotes: one attribution behaviour per test, on tiny articles written for the test.

`nlp` is the project pipeline from tests/conftest.py (build_nlp()).
"""
from __future__ import annotations

from spacy.tokens import Doc

from pipeline.nlp.quotes import find_quote_groups


def texts(doc, spans):
    return [doc.text[s:e] for s, e in spans]


def relation_with(doc, words):
    """The relation whose content contains `words`."""
    for relation in doc._.attributions:
        if any(words in doc.text[s:e] for s, e in relation["content"]):
            return relation
    raise AssertionError(f"no relation with {words!r} in {doc._.attributions}")


def test_straight_quotes_with_speaker_after(nlp):
    doc = nlp('"We will publish the full report next week," said Maria Lopez, the council leader.')
    relation = relation_with(doc, "full report")
    assert relation["kind"] == "direct"
    assert texts(doc, relation["cue"]) == ["said"]
    assert "Maria Lopez" in texts(doc, relation["source"])[0]
    assert texts(doc, relation["content"])[0].startswith('"We will')


def test_curly_quotes_with_speaker_before_and_colon(nlp):
    doc = nlp("The harbour master said: “Nobody was hurt and the ferry will sail again on Friday.”")
    relation = relation_with(doc, "Nobody was hurt")
    assert relation["kind"] == "direct"
    assert texts(doc, relation["source"]) == ["The harbour master"]


def test_single_quotes_inside_double_quotes_stay_one_quote(nlp):
    doc = nlp("“They told us the bridge was ‘perfectly safe’ a week before it closed,” said Tom Baker.")
    relation = relation_with(doc, "perfectly safe")
    assert len(relation["content"]) == 1
    assert texts(doc, relation["content"])[0].endswith("closed,”")


def test_guillemets_are_quotation_marks(nlp):
    doc = nlp("«We are not going to change the plan this year,» the mayor told reporters.")
    relation = relation_with(doc, "change the plan")
    assert relation["kind"] == "direct"
    assert texts(doc, relation["cue"]) == ["told"]


def test_unbalanced_quote_runs_to_paragraph_end():
    groups = find_quote_groups("He said: “The road stays closed until spring\n\nOther news follows.")
    assert len(groups) == 1
    assert groups[0].closed is False


def test_quote_over_several_paragraphs_is_one_relation_with_one_speaker(nlp):
    doc = nlp(
        "Anna Berg, who chairs the parish council, said the vote was close.\n\n"
        "“We counted every ballot twice,” she said.\n\n"
        "“Some people wanted a third count.\n\n"
        "“In the end the result did not change.”\n"
    )
    relation = relation_with(doc, "We counted every ballot")
    assert any("third count" in t for t in texts(doc, relation["content"]))
    assert any("did not change" in t for t in texts(doc, relation["content"]))
    assert relation["speaker"]["name"] == "Anna Berg"


def test_quote_interrupted_by_he_said_is_one_relation_with_two_spans(nlp):
    doc = nlp("“The budget is tight,” Peter Hall said, “but the school will stay open.”")
    relation = relation_with(doc, "budget is tight")
    assert len(relation["content"]) == 2
    assert "school will stay open" in texts(doc, relation["content"])[1]


def test_trailing_dash_and_name(nlp):
    doc = nlp("“Every station deserves a lift and a ramp for wheelchairs.” — Jane Smith, Access Now\n")
    relation = relation_with(doc, "Every station")
    assert texts(doc, relation["source"]) == ["Jane Smith"]
    assert texts(doc, relation["cue"]) == ["—"]


def test_colon_introduced_block(nlp):
    doc = nlp("The statement from the club read in full:\n\n“We regret the decision and will appeal.”\n")
    relation = relation_with(doc, "We regret")
    assert relation["kind"] == "direct"
    assert relation["cue"]


def test_floating_quote_continues_previous_speaker(nlp):
    doc = nlp(
        "“The harvest was the worst in ten years,” said farmer Lucy Grant.\n\n"
        "“We lost nearly half of the wheat to the rain in August.”\n"
    )
    relation = relation_with(doc, "lost nearly half")
    assert relation["speaker"]["name"] == "Lucy Grant"


def test_pull_quote_is_linked_to_its_original(nlp):
    doc = nlp(
        "Water prices will rise by a fifth in every part of the region next year\n\n"
        "Karen Doyle, Water Watch\n\n"
        "Karen Doyle, director of Water Watch, said: “Water prices will rise by a fifth in every part of "
        "the region next year. Families will feel it.”\n"
    )
    pulls = [r for r in doc._.attributions if r["pull_quote_of"] is not None]
    assert len(pulls) == 1
    original = doc._.attributions[pulls[0]["pull_quote_of"]]
    assert "Families will feel it" in " ".join(texts(doc, original["content"]))


def test_indirect_that_clause(nlp):
    doc = nlp("The minister said that the new tax would raise ten billion pounds.")
    relation = relation_with(doc, "new tax")
    assert relation["kind"] == "indirect"
    assert texts(doc, relation["content"])[0].startswith("that the new tax")
    assert texts(doc, relation["source"]) == ["The minister"]


def test_relative_clause_is_not_part_of_the_source(nlp):
    doc = nlp("Several farmers who lost their crops said the compensation came too late.")
    relation = relation_with(doc, "compensation")
    assert texts(doc, relation["source"]) == ["Several farmers"]


def test_source_of_a_cue_inside_a_relative_clause_is_the_noun_phrase(nlp):
    doc = nlp("Several teachers who say they were never consulted called for a new vote.")
    relation = relation_with(doc, "never consulted")
    assert texts(doc, relation["source"]) == ["Several teachers"]


def test_said_it_believes_is_one_relation_by_the_outer_speaker(nlp):
    doc = nlp("The agency said it believes a foreign group was behind the attack.")
    assert len(doc._.attributions) == 1
    relation = doc._.attributions[0]
    assert texts(doc, relation["cue"]) == ["said"]
    assert texts(doc, relation["content"])[0].startswith("it believes")


def test_according_to(nlp):
    doc = nlp("According to the fire service, the blaze started in a kitchen on the third floor.")
    relation = relation_with(doc, "blaze started")
    assert relation["cue_lemma"] == "according to"
    assert texts(doc, relation["source"]) == ["the fire service"]


def test_passive_attribution_with_agent(nlp):
    doc = nlp("The breach is believed by investigators to have started with a phishing email.")
    relation = relation_with(doc, "phishing email")
    assert texts(doc, relation["source"]) == ["investigators"]
    assert relation["cue_lemma"] == "believe"


def test_assessment_language(nlp):
    doc = nlp("The centre assesses it is highly likely that the group will try again.")
    relation = relation_with(doc, "try again")
    assert relation["cue_lemma"] == "assess"
    assert texts(doc, relation["source"]) == ["The centre"]


def test_mixed_quote_inside_reported_clause(nlp):
    doc = nlp("The regulator said the merger was “a bad deal for customers” and would be reviewed.")
    relation = relation_with(doc, "bad deal")
    assert relation["kind"] == "mixed"


def test_scare_quotes_alone_make_no_relation(nlp):
    doc = nlp("The so-called “smart” meters arrived in March.")
    assert doc._.attributions == []


def test_extensions_are_plain_data(nlp):
    doc = nlp("“It works,” she said.")
    restored = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert restored._.attributions == doc._.attributions


def test_said_in_a_statement_that_is_cued_by_the_verb(nlp):
    doc = nlp("The railway company said in a statement that all trains would run on Sunday.")
    relation = relation_with(doc, "all trains")
    assert texts(doc, relation["cue"]) == ["said"]
    assert texts(doc, relation["source"]) == ["The railway company"]
