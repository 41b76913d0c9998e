import jsonschema
import pytest

from pipeline.records import (
    Article,
    Certainty,
    Claim,
    Content,
    Cue,
    Entity,
    ErrorRecord,
    Extractor,
    Figure,
    Source,
    Speaker,
    validate,
)


def test_article_round_trips_through_json():
    article = Article(id="ledger-1", text="Body.", source="file", authors=["A. Writer"])
    data = article.to_json()
    validate(data, "article")
    assert Article.from_json(data) == article


def test_claim_with_nested_parts_validates():
    claim = Claim(
        id="claim:0123456789abcdef",
        article_id="ledger-1",
        kind="quote",
        sentence=[0, 40],
        content=Content(spans=[[1, 20], [30, 39]], text="We will respond. It matters."),
        source=Source(spans=[[22, 25]], text="she", speaker=Speaker(name="Ann Lee", resolution="pronoun")),
        cue=Cue(spans=[[26, 30]], text="said", lemma="say"),
        certainty=Certainty(phrase=None, category="reported"),
        figures=[Figure(text="40m", span=[5, 8], value=40_000_000, unit=None)],
        extractor=Extractor(component="news_quotes", version="0.1.0"),
    )
    validate(claim.to_json(), "claim")


def test_entity_ids_must_be_namespaced():
    entity = Entity(article_id="a", text="NCSC", label="AGENCY", canonical="NCSC", canonical_id="NCSC")
    with pytest.raises(jsonschema.ValidationError):
        validate(entity.to_json(), "entity")


def test_error_stage_is_one_of_the_pipeline_stages():
    with pytest.raises(jsonschema.ValidationError):
        validate(ErrorRecord(stage="somewhere", reason="x", input="y").to_json(), "error")
