import pytest

from pipeline.normalise import claims_from_doc, entities_from_doc
from pipeline.records import Article, validate

SEED_ARTICLE = dict(id="seed", source="file", outlet="Seed Outlet", domain="seed.example", published="2024-03-25")


def _article(text: str, **fields) -> Article:
    return Article(**{**SEED_ARTICLE, "id": "example", "content_hash": "h", **fields, "text": text})


@pytest.fixture(scope="module")
def seed_claims(nlp, seed_doc, seed_text):
    article = _article(seed_text, id="seed")
    return [c.to_json() for c in claims_from_doc(seed_doc, article)]


def _claims_with(claims, words):
    return [c for c in claims if words in c["content"]["text"]]


def test_seed_entities_include_the_actors_of_the_story(seed_doc, seed_text):
    entities = entities_from_doc(seed_doc, _article(seed_text, id="seed"))
    names = {e.canonical for e in entities}
    assert {"National Cyber Security Centre", "APT31", "Electoral Commission", "Paul Chichester", "Al Lakhani"} <= names
    for entity in entities:
        validate(entity.to_json(), "entity")


def test_seed_claims_validate(seed_claims):
    assert seed_claims
    for claim in seed_claims:
        validate(claim, "claim")


def test_seed_register_size_is_a_normalised_figure(seed_claims):
    figures = [f for c in seed_claims for f in c["figures"] if f["text"].startswith("around 40 million")]
    assert figures and figures[0]["value"] == 40_000_000
    assert figures[0]["approx"] == "around" and figures[0]["unit"] == "individuals"


def test_seed_compromise_period_resolves_to_whole_years(seed_claims):
    dates = [d for c in seed_claims for d in c["dates"] if d["text"] == "between 2021 and 2022"]
    assert dates and (dates[0]["start"], dates[0]["end"], dates[0]["grain"]) == ("2021-01-01", "2022-12-31", "year")


def test_seed_dateline_resolves_to_the_day(seed_claims):
    dates = [d for c in seed_claims for d in c["dates"] if d["text"].startswith("Monday 25 March 2024")]
    assert dates and dates[0]["start"] == dates[0]["end"] == "2024-03-25"


def test_seed_highly_likely_sits_on_the_phia_yardstick(seed_claims):
    [claim] = [c for c in seed_claims if c["certainty"]["phrase"] == "highly likely"]
    assert (claim["certainty"]["low"], claim["certainty"]["high"]) == (0.8, 0.9)
    assert claim["source"]["speaker"]["canonical_id"] == "org:national-cyber-security-centre"


def test_seed_apt31_event_keeps_the_ncsc_as_attributing_source(seed_claims):
    events = [c for c in seed_claims if c["event"] and (c["event"]["agent"] or {}).get("canonical_id") == "threat-actor:apt31"]
    assert any(c["kind"] == "reported" and c["source"]["speaker"]["canonical_id"] == "org:national-cyber-security-centre" for c in events)


def test_almost_certainly_is_the_top_of_the_yardstick(nlp):
    text = "The agency said the group was almost certainly behind the attack on the ministry."
    [claim] = claims_from_doc(nlp(text), _article(text))
    assert claim.certainty.category == "almost certain"
    assert (claim.certainty.low, claim.certainty.high) == (0.95, 1.0)


def test_an_unattributed_sentence_with_a_figure_is_the_outlets_assertion(nlp):
    text = "The council will spend £4.5m on new buses next year."
    [claim] = claims_from_doc(nlp(text), _article(text, outlet="The Ledger", domain="ledger.example"))
    assert claim.kind == "assertion"
    assert claim.source.speaker.name == "The Ledger" and claim.source.speaker.resolution == "outlet"
    assert claim.figures[0].value == 4_500_000
    assert claim.dates[0].start == "2025-01-01"


def test_claim_ids_do_not_change_between_runs(nlp):
    text = '"We are ready," said Ann Lee, the mayor.'
    first = [c.id for c in claims_from_doc(nlp(text), _article(text))]
    second = [c.id for c in claims_from_doc(nlp(text), _article(text))]
    assert first == second and len(first) == 1


def test_a_date_without_a_publication_date_keeps_the_reason(nlp):
    text = "The bridge closed last year."
    [claim] = claims_from_doc(nlp(text), _article(text, published=None))
    assert claim.dates[0].start is None and claim.dates[0].reason == "no publication date"


def test_a_claims_sentence_holds_all_of_its_content(nlp):
    text = 'Council leader Ann Lee said: "We will rebuild the bridge by spring, whatever it costs."\nWork starts soon.'
    for claim in claims_from_doc(nlp(text), _article(text)):
        start, end = claim.sentence
        assert all(start <= s and e <= end for s, e in claim.content.spans)
