"""news_speakers: resolving local source mentions, plus the seed article as an acceptance case.

`nlp` and `seed_doc` (the seed run through build_nlp(); skipped when ../shared is absent) come from
tests/conftest.py.
"""
from __future__ import annotations


def relation_with(doc, words):
    for relation in doc._.attributions:
        if any(words in doc.text[s:e] for s, e in relation["content"]):
            return relation
    raise AssertionError(f"no relation with {words!r}")


def test_pronoun_takes_the_previous_speaker(nlp):
    doc = nlp("Sarah Jones, the head teacher, said the school would reopen.\n\n"
              "“We are ready for the children,” she said.")
    speaker = relation_with(doc, "ready for the children")["speaker"]
    assert speaker["name"] == "Sarah Jones"
    assert speaker["resolution"] == "pronoun"


def test_surname_takes_the_full_name(nlp):
    doc = nlp("Mark Ellis, a local farmer, lost his barn in the storm.\n\n"
              "“It was gone in minutes,” Ellis said.")
    speaker = relation_with(doc, "gone in minutes")["speaker"]
    assert speaker["name"] == "Mark Ellis"
    assert speaker["resolution"] == "surname"


def test_appositive_gives_role_and_affiliation(nlp):
    doc = nlp("Paul Reed, director of operations at Acme Corporation, said the outage was over.")
    speaker = relation_with(doc, "outage")["speaker"]
    assert speaker["name"] == "Paul Reed"
    assert speaker["role"] == "director of operations"
    assert speaker["affiliation"] == "Acme Corporation"


def test_possessive_organisation_leaves_no_mark_on_the_role(nlp):
    doc = nlp("Paul Reed, the Acme Corporation’s director of operations, said the outage was over.")
    speaker = relation_with(doc, "outage")["speaker"]
    assert speaker["role"] == "director of operations"
    assert speaker["affiliation"] == "Acme Corporation"


def test_organisation_named_by_its_owner_keeps_the_whole_phrase(nlp):
    doc = nlp("The minister met the ambassador on Monday.\n\n"
              "France’s embassy in Madrid rejected the report as inaccurate.")
    speaker = [r for r in doc._.attributions if r["cue_lemma"] == "reject"][0]["speaker"]
    assert speaker["name"] == "France’s embassy in Madrid"
    assert speaker["affiliation"] == "France"


def test_possessive_common_noun_owner_is_not_part_of_the_role(nlp):
    doc = nlp("Martin Ashdown, the council’s electoral registration officer, said the list was safe.")
    speaker = relation_with(doc, "list was safe")["speaker"]
    assert speaker["role"] == "electoral registration officer"


def test_descriptor_takes_the_named_agency(nlp):
    doc = nlp("The Food Standards Agency (FSA) withdrew the product on Monday.\n\n"
              "The agency said the recall was a precaution.")
    speaker = relation_with(doc, "recall")["speaker"]
    assert speaker["name"] == "Food Standards Agency"
    assert speaker["resolution"] == "descriptor"


def test_title_takes_the_named_minister(nlp):
    doc = nlp("Health minister Clara Wood, the minister for health, visited the hospital.\n\n"
              "The minister said the new ward would open in May.")
    speaker = relation_with(doc, "new ward")["speaker"]
    assert speaker["name"] == "Clara Wood"
    assert speaker["resolution"] == "title"


def test_unresolved_pronoun_is_explicit(nlp):
    doc = nlp("“The numbers do not add up,” they said.")
    speaker = relation_with(doc, "numbers")["speaker"]
    assert speaker["resolution"] == "unresolved"
    assert speaker["name"] is None


def test_seed_chichester_quotes_are_attributed_to_him(seed_doc):
    for words in ("malicious activities we have exposed today", "targeting of our democratic system"):
        speaker = relation_with(seed_doc, words)["speaker"]
        assert speaker["name"] == "Paul Chichester"
        assert speaker["affiliation"] in {"NCSC", "National Cyber Security Centre"}
        assert speaker["role"] == "director of operations"


def test_seed_pull_quotes_point_at_the_original(seed_doc):
    pulls = [r for r in seed_doc._.attributions if r["pull_quote_of"] is not None]
    assert len(pulls) == 3
    for pull in pulls:
        original = seed_doc._.attributions[pull["pull_quote_of"]]
        assert original["speaker"]["name"] == pull["speaker"]["name"]


def test_seed_lakhani_multi_paragraph_quote_has_one_speaker(seed_doc):
    relation = relation_with(seed_doc, "International relations are built on good faith")
    joined = " ".join(seed_doc.text[s:e] for s, e in relation["content"])
    assert "zero trust" in joined and "transitive trust" in joined
    assert relation["speaker"]["name"] == "Al Lakhani"


def test_seed_ncsc_attributes_the_campaign_to_apt31(seed_doc):
    relation = relation_with(seed_doc, "known as APT31 was responsible")
    assert relation["kind"] == "indirect"
    assert relation["speaker"]["name"] in {"NCSC", "National Cyber Security Centre"}


def test_seed_electoral_commission_statement(seed_doc):
    relation = relation_with(seed_doc, "did not have an impact on the security of UK elections")
    assert relation["kind"] == "mixed"
    assert relation["speaker"]["name"] == "Electoral Commission"


def test_government_is_not_an_agency_of_another_kind(nlp):
    doc = nlp("The Food Standards Agency (FSA) withdrew the product on Monday.\n\n"
              "The government said the recall was a precaution.")
    relation = relation_with(doc, "recall")
    assert relation["speaker"]["resolution"] == "unresolved"
    assert [doc.text[s:e] for s, e in relation["source"]] == ["The government"]


def test_government_is_the_state_that_already_spoke(nlp):
    doc = nlp("Britain has accused a foreign group of hacking its tax office.\n\n"
              "The National Cyber Security Centre (NCSC) said the group was well funded.\n\n"
              "The government said it would impose sanctions.")
    speaker = relation_with(doc, "impose sanctions")["speaker"]
    assert speaker["canonical_id"] == "gpe:united-kingdom"
    assert speaker["resolution"] == "descriptor"


def test_government_is_a_body_named_as_a_government_one(nlp):
    doc = nlp("The Home Office published new rules for visas on Monday.\n\n"
              "The government said the rules would cut waiting times.")
    speaker = relation_with(doc, "waiting times")["speaker"]
    assert speaker["name"] == "Home Office"


def test_descriptor_prefers_the_entity_named_as_that_kind(nlp):
    doc = nlp("The Electoral Commission asked the Food Standards Agency for its records.\n\n"
              "The commission said the records were incomplete.")
    speaker = relation_with(doc, "incomplete")["speaker"]
    assert speaker["name"] == "Electoral Commission"


def test_coordinated_second_speaker_does_not_pick_the_first(nlp):
    doc = nlp("The Electoral Commission met officials from Government Communications Headquarters (GCHQ).\n\n"
              "The records were kept for ten years, according to both the commission and the government.")
    speaker = relation_with(doc, "records were kept")["speaker"]
    assert speaker["name"] == "Electoral Commission"
