def test_a_headline_without_a_full_stop_is_its_own_sentence(nlp):
    doc = nlp("Hackers blamed for council outage\nThe council said on Friday that its systems were back.")
    assert [s.text.strip() for s in doc.sents] == [
        "Hackers blamed for council outage",
        "The council said on Friday that its systems were back.",
    ]


def test_sentences_within_a_paragraph_are_left_to_the_parser(nlp):
    doc = nlp("The bridge reopened. Drivers were relieved.")
    assert len(list(doc.sents)) == 2
