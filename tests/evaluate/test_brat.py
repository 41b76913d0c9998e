"""BRAT standoff reading on tiny annotations written for these tests."""
from pathlib import Path

from pipeline.evaluate.brat import (GoldRelation, content_kind, load_gold, load_texts, parse_standoff,
                                    reference_annotator)

TEXT = 'Ms Reyes said the ferry would run again by June. "It is ready," the captain told us.'


def at(phrase: str, text: str = TEXT) -> str:
    """BRAT offsets `start end` of the first occurrence of `phrase`."""
    start = text.index(phrase)
    return f"{start} {start + len(phrase)}"


ANN = f"""T1\tSource {at("Ms Reyes")}\tMs Reyes
T2\tCue {at("said")}\tsaid
T3\tContent {at("the ferry would run again by June")}\tthe ferry would run again by June
T4\tAttribution {at("said")}\tsaid
E1\tAttribution:T4 Source:T1 Cue:T2 Content:T3
T5\tContent {at('"It is ready,"')};{at("the captain")}\t"It is ready," the captain
T6\tCue {at("told")}\ttold
T7\tAttribution {at("told")}\ttold
E2\tAttribution-no-source:T7 Cue:T6 Content:T5
"""


def write_article(root: Path, split: str, name: str, text: str, annotations: dict[str, str]) -> None:
    """Lay out one article like PolNeAR: text file plus one `.ann` per annotator."""
    (root / split / "text").mkdir(parents=True, exist_ok=True)
    (root / split / "attributions").mkdir(parents=True, exist_ok=True)
    (root / split / "text" / f"{name}.txt").write_text(text, encoding="utf8")
    for annotator, ann in annotations.items():
        (root / split / "attributions" / f"{name}_{annotator}.ann").write_text(ann, encoding="utf8")


def write_metadata(root: Path, rows: list[tuple[str, str, str]]) -> None:
    """Write `metadata.tsv` with (compartment, filename, annotators) rows."""
    lines = ["compartment\tfilename\tannotators\ttitle"] + ["\t".join(row) + "\tA \"quoted\" title" for row in rows]
    (root / "metadata.tsv").write_text("\n".join(lines) + "\n", encoding="utf8")


def test_relation_spans_come_from_the_text_bound_lines():
    first = parse_standoff(ANN)[0]
    assert (first.source, first.cue, first.content) == (((0, 8),), ((9, 13),), ((14, 47),))
    assert first.relation_type == "Attribution"


def test_discontinuous_content_keeps_every_fragment():
    assert parse_standoff(ANN)[1].content == ((49, 63), (64, 75))


def test_relation_without_source_has_empty_source():
    assert parse_standoff(ANN)[1].source == ()


def test_numbered_roles_extend_their_base_role():
    ann = ANN + f"T8\tContent {at('us')}\tus\nE3\tAttribution-no-source:T7 Cue:T6 Content:T3 Content2:T8\n"
    assert parse_standoff(ann)[2].content == ((14, 47), (81, 83))


def test_relation_without_content_is_dropped():
    ann = "T1\tSource 0 8\tMs Reyes\nT2\tCue 9 13\tsaid\nE1\tAttribution:T2 Source:T1 Cue:T2\n"
    assert parse_standoff(ann) == []


def test_kind_is_computed_when_the_text_is_given():
    kinds = [relation.kind for relation in parse_standoff(ANN, TEXT)]
    assert kinds == ["indirect", "mixed"]


def test_content_fully_inside_double_quotes_is_direct():
    assert content_kind(TEXT, [(49, 63)]) == "direct"


def test_two_adjacent_quotations_are_still_direct():
    text = '"We won." "We will win again."'
    assert content_kind(text, [(0, 9), (10, 30)]) == "direct"


def test_single_quotes_do_not_make_a_quotation():
    assert content_kind("the plan was 'bold'", [(0, 19)]) == "indirect"


def test_reference_annotator_is_the_alphabetically_first():
    assert reference_annotator({"annotators": "d473|4b22|ef2d"}) == "4b22"


def test_load_gold_reads_only_the_reference_annotators_file(tmp_path):
    other = "T1\tContent 14 47\tthe ferry would run again by June\nT2\tCue 9 13\tsaid\nE1\tAttribution:T2 Cue:T2 Content:T1\n"
    write_article(tmp_path, "dev", "ferry", TEXT, {"bb01": ANN, "aa01": other})
    write_metadata(tmp_path, [("dev", "ferry", "bb01|aa01")])
    gold = load_gold(tmp_path, "dev")
    assert len(gold["ferry"]) == 1 and isinstance(gold["ferry"][0], GoldRelation)


def test_load_gold_keeps_to_the_requested_split(tmp_path):
    write_article(tmp_path, "dev", "ferry", TEXT, {"aa01": ANN})
    write_article(tmp_path, "train", "ferry2", TEXT, {"aa01": ANN})
    write_metadata(tmp_path, [("dev", "ferry", "aa01"), ("train", "ferry2", "aa01")])
    assert list(load_gold(tmp_path, "dev")) == ["ferry"]


def test_article_without_annotation_file_is_skipped(tmp_path):
    write_article(tmp_path, "dev", "ferry", TEXT, {"aa01": ANN})
    write_metadata(tmp_path, [("dev", "ferry", "aa01"), ("dev", "missing", "aa01")])
    assert list(load_texts(tmp_path, "dev")) == ["ferry"]
