"""news_entities: domain gazetteers, canonical ids and within-article entity clusters.

Runs after the statistical ``ner``. It relabels threat actors and agencies found in the
gazetteer tables (the small model calls APT31 a PERSON or GPE), trims ragged entity edges,
then groups the article's mentions into one cluster per real-world entity:
"National Cyber Security Centre (NCSC)" defines an acronym, "Mr Lakhani" and "Lakhani"
join "Al Lakhani", and "Paul Chichester, NCSC director of operations" gives a role and an
affiliation. Ids are deterministic (``person:paul-chichester``, ``org:idee``,
``threat-actor:apt31``) so articles from different outlets can be joined on them.
"""

from __future__ import annotations

import csv
import logging
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

LOGGER = logging.getLogger(__name__)

PACKAGE_DATA = Path(__file__).resolve().parents[1] / "data"
GAZETTEER_DIR = Path(__file__).resolve().parents[2] / "corpora" / "gazetteers"
DEFAULT_TABLES = {
    "threat_actors": GAZETTEER_DIR / "threat_actors.tsv",
    "agencies": GAZETTEER_DIR / "agencies.tsv",
    "known_bodies": PACKAGE_DATA / "known_bodies.tsv",
    "cues": PACKAGE_DATA / "entity_cues.tsv",
}

CLUSTER_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP", "THREAT_ACTOR", "AGENCY",
                            "LOC", "FAC", "PRODUCT", "EVENT"})
ID_PREFIX = {"PERSON": "person", "ORG": "org", "AGENCY": "org", "THREAT_ACTOR": "threat-actor",
             "GPE": "gpe", "NORP": "norp", "LOC": "loc", "FAC": "fac", "PRODUCT": "product",
             "EVENT": "event"}
# Labels whose rows the phrase matcher looks for; GPE rows only unify names of mentions the model found.
MATCHED_LABELS = frozenset({"THREAT_ACTOR", "AGENCY", "ORG"})
# Labels a lone surname may wrongly carry ("Chichester" is also a city).
SURNAME_CONFUSABLE = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT"})
MISLABELLED_ORGANISATION = frozenset({"GPE", "PERSON", "NORP", "LOC", "FAC", "PRODUCT"})
NAME_LINKERS = frozenset({"of", "and", "for", "the", "&", "on", "in"})
DETERMINERS = frozenset({"the", "a", "an"})
POSSESSIVE = frozenset({"'s", "’s", "'", "’"})
# Labels whose mentions may be relabelled when the same name carries several in one article, by priority.
LABEL_PRIORITY = ("GPE", "ORG", "LOC", "FAC", "NORP", "PRODUCT", "PERSON")
COUNCIL_HEADS = frozenset({"District", "Borough", "County", "City"})
# Internal label of role phrases ("the minister") joined to a person; they are mentions, not names.
ROLE_MENTION = "ROLE"
CODE_NAME = re.compile(r"^([A-Z]{2,5})-?(\d{1,4})$")
ACRONYM_TOKEN = re.compile(r"^[A-Z][A-Za-z]?[A-Z]{1,7}$")

if not Doc.has_extension("entities"):
    Doc.set_extension("entities", default=None)


@dataclass(frozen=True)
class GazetteerEntry:
    """One canonical entity from the gazetteer tables."""

    canonical_id: str
    canonical: str
    label: str
    country: str | None
    aliases: tuple[str, ...]


@dataclass
class Cluster:
    """Mentions of one entity inside one article, while they are being grouped."""

    key: str
    label: str
    mentions: list[Span] = field(default_factory=list)
    entry: GazetteerEntry | None = None
    expansion: str | None = None
    role: str | None = None
    affiliation: str | None = None


def slugify(name: str) -> str:
    """Lower-case ASCII slug: "Paul Chichester" -> "paul-chichester"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = ascii_name.replace("'", "").replace("’", "")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def alias_key(name: str) -> str:
    """Comparison key that ignores case, spaces and punctuation: "APT 31" == "apt31"."""
    return re.sub(r"\W+", "", name.casefold())


def entity_id(label: str, canonical: str) -> str:
    """Deterministic id from a label and a canonical name: ("ORG", "IDEE") -> "org:idee"."""
    return f"{ID_PREFIX.get(label, label.lower())}:{slugify(canonical)}"


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a TSV table whose leading '#' lines are comments."""
    with path.open(encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


def split_aliases(text: str) -> tuple[str, ...]:
    """Aliases of a table cell, '|'-separated."""
    return tuple(a.strip() for a in (text or "").split("|") if a.strip())


@lru_cache(maxsize=8)
def load_gazetteer(threat_actors: str, agencies: str, known_bodies: str) -> tuple[GazetteerEntry, ...]:
    """All gazetteer entries; a known-bodies row adds its aliases to the gazetteer row of the same name."""
    entries: dict[str, GazetteerEntry] = {}
    for path in (threat_actors, agencies):
        for row in read_tsv(Path(path)):
            entries[row["canonical_id"]] = GazetteerEntry(
                row["canonical_id"], row["canonical"], row["label"], row["country"] or None,
                split_aliases(row["aliases"]))
    by_name = {alias_key(e.canonical): e for e in entries.values()}
    for row in read_tsv(Path(known_bodies)):
        hand_aliases = (row["canonical"], *split_aliases(row["aliases"]))
        existing = by_name.get(alias_key(row["canonical"]))
        if existing:
            aliases = tuple(dict.fromkeys((*existing.aliases, *hand_aliases)))
            entries[existing.canonical_id] = GazetteerEntry(
                existing.canonical_id, existing.canonical, row["label"], existing.country, aliases)
        else:
            canonical_id = entity_id(row["label"], row["canonical"])
            entries[canonical_id] = GazetteerEntry(
                canonical_id, row["canonical"], row["label"], row["country"] or None, hand_aliases)
    return tuple(entries.values())


@lru_cache(maxsize=8)
def hand_written_aliases(known_bodies: str) -> frozenset[str]:
    """Alias keys of the hand-written table, which win over gazetteer aliases."""
    keys = set()
    for row in read_tsv(Path(known_bodies)):
        keys.update(alias_key(a) for a in (row["canonical"], *split_aliases(row["aliases"])))
    return frozenset(keys)


@lru_cache(maxsize=8)
def alias_index(threat_actors: str, agencies: str, known_bodies: str) -> dict[str, GazetteerEntry]:
    """Alias key -> entry; an alias of the hand-written table belongs to its row only."""
    preferred = hand_written_aliases(known_bodies)
    index: dict[str, GazetteerEntry] = {}
    for entry in load_gazetteer(threat_actors, agencies, known_bodies):
        hand_row = alias_key(entry.canonical) in preferred
        for alias in entry.aliases:
            key = alias_key(alias)
            if key in index and (key in preferred) and not hand_row:
                continue
            index[key] = entry
    return index


@lru_cache(maxsize=8)
def load_cues(path: str) -> dict[str, frozenset[str]]:
    """Cue words by kind: honorific, role, organisation."""
    kinds: dict[str, set[str]] = defaultdict(set)
    for row in read_tsv(Path(path)):
        kinds[row["kind"]].add(row["word"] if row["kind"] == "honorific" else row["word"].lower())
    return {kind: frozenset(words) for kind, words in kinds.items()}


def alias_variants(alias: str) -> set[str]:
    """Spellings news uses for an alias: "JUDGMENT PANDA" -> +"Judgment Panda"; "APT31" -> +"APT 31"."""
    variants = {alias}
    words = alias.split()
    if len(words) > 1 and alias.isupper():
        variants.add(" ".join(w.capitalize() for w in words))
    code = CODE_NAME.match(alias)
    if code:
        variants.update({f"{code[1]}{code[2]}", f"{code[1]} {code[2]}", f"{code[1]}-{code[2]}"})
    return variants


def table_paths(threat_actors: str | None, agencies: str | None, known_bodies: str | None,
                cues: str | None) -> dict[str, str]:
    """Configured table paths, the bundled tables where a path is not given."""
    given = {"threat_actors": threat_actors, "agencies": agencies, "known_bodies": known_bodies, "cues": cues}
    return {name: str(path or DEFAULT_TABLES[name]) for name, path in given.items()}


@Language.factory(
    "news_entities",
    default_config={"threat_actors_table": None, "agencies_table": None, "known_bodies_table": None,
                    "cues_table": None, "overwrite_ents": True},
)
def make_news_entities(nlp: Language, name: str, threat_actors_table: str | None, agencies_table: str | None,
                       known_bodies_table: str | None, cues_table: str | None,
                       overwrite_ents: bool) -> "NewsEntities":
    """Factory for the news_entities component (tables default to the bundled ones)."""
    paths = table_paths(threat_actors_table, agencies_table, known_bodies_table, cues_table)
    return NewsEntities(nlp, paths, overwrite_ents)


class NewsEntities:
    """Relabel gazetteer entities in doc.ents and store entity clusters on doc._.entities."""

    def __init__(self, nlp: Language, paths: dict[str, str], overwrite_ents: bool = True) -> None:
        """Build the phrase matcher once from the cached tables."""
        tables = (paths["threat_actors"], paths["agencies"], paths["known_bodies"])
        self.aliases = alias_index(*tables)
        self.cues = load_cues(paths["cues"])
        self.overwrite_ents = overwrite_ents
        self.phrase_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.entries_by_id = {e.canonical_id: e for e in self.aliases.values() if e.label in MATCHED_LABELS}
        patterns: dict[str, set[str]] = defaultdict(set)
        for entry in self.entries_by_id.values():
            for alias in entry.aliases:
                if self.aliases.get(alias_key(alias)) is entry:
                    patterns[entry.canonical_id].update(alias_variants(alias))
        for canonical_id, texts in patterns.items():
            self.phrase_matcher.add(canonical_id, list(nlp.tokenizer.pipe(sorted(texts))))
        self.title_matcher = Matcher(nlp.vocab)
        self.title_matcher.add("TITLED", [[{"ORTH": {"IN": sorted(self.cues.get("honorific", ()))}},
                                            {"ORTH": ".", "OP": "?"},
                                            {"IS_TITLE": True, "OP": "+"}]], greedy="LONGEST")

    def __call__(self, doc: Doc) -> Doc:
        """Fix doc.ents with the gazetteers, then cluster the mentions."""
        doc.ents = self.corrected_ents(doc)
        doc._.entities = [cluster_record(c) for c in self.clusters(doc)]
        return doc

    def gazetteer_spans(self, doc: Doc) -> list[Span]:
        """Longest non-overlapping gazetteer matches, labelled and carrying their canonical id."""
        spans = []
        for match_id, start, end in self.phrase_matcher(doc):
            entry = self.entries_by_id[doc.vocab.strings[match_id]]
            spans.append(Span(doc, start, end, label=entry.label, kb_id=entry.canonical_id))
        return filter_spans(spans)

    def titled_name_spans(self, doc: Doc) -> list[Span]:
        """Names after an honorific ("Mr Lakhani" -> "Lakhani") as PERSON spans, title excluded."""
        spans = []
        for _, start, end in self.title_matcher(doc):
            name_start = start + 1 + (doc[start + 1].text == ".")
            if name_start < end:
                spans.append(Span(doc, name_start, end, label="PERSON"))
        return spans

    def corrected_ents(self, doc: Doc) -> list[Span]:
        """Model entities trimmed, with gazetteer and titled-name spans laid over them."""
        model = [s for s in (trim_span(e) for e in doc.ents) if s is not None]
        preferred = self.gazetteer_spans(doc) + self.titled_name_spans(doc)
        kept = [e for e in model if not any(overlaps(e, p) and self.yields_to(e, p) for p in preferred)]
        preferred = [p for p in preferred if not any(overlaps(p, e) for e in kept)]
        return sorted(filter_spans(kept + preferred), key=lambda s: s.start)

    def yields_to(self, model_ent: Span, preferred: Span) -> bool:
        """Whether a model entity gives way to an overlapping gazetteer or titled-name span."""
        if not self.overwrite_ents:
            return False
        inside = model_ent.start <= preferred.start and preferred.end <= model_ent.end
        longer_name = any(t.is_title or t.is_upper for t in model_ent
                          if not preferred.start <= t.i < preferred.end and t.is_alpha)
        # A longer proper name around a gazetteer alias ("Bank of America") keeps its own span.
        return not (inside and longer_name and model_ent.label_ in {"ORG", "FAC", "PRODUCT", "EVENT"})

    def clusters(self, doc: Doc) -> list[Cluster]:
        """Group the article's mentions into one cluster per entity."""
        mentions = [e for e in doc.ents if e.label_ in CLUSTER_LABELS]
        mentions = clean_mentions(doc, mentions, self.cues)
        acronyms = acronym_definitions(doc)
        mentions = add_definition_mentions(doc, mentions, acronyms)
        mentions = add_introduced_organisations(doc, mentions, self.cues)
        mentions = relabel_role_organisations(doc, mentions, self.cues)
        surname_owner = full_name_surnames(mentions, self.cues)
        mentions = agree_labels(doc, mentions, surname_owner, self.cues)
        surname_owner.update(first_name_owners(mentions, surname_owner, self.cues))
        clusters: dict[str, Cluster] = {}
        for mention in mentions:
            key, label, entry, expansion = self.mention_identity(mention, acronyms, surname_owner)
            cluster = clusters.setdefault(key, Cluster(key=key, label=label, entry=entry))
            cluster.expansion = cluster.expansion or expansion
            cluster.mentions.append(mention)
        ordered = merge_head_nouns(sorted(clusters.values(), key=lambda c: c.mentions[0].start))
        attach_roles(doc, ordered, self.cues)
        link_descriptors(doc, ordered, self.cues)
        link_role_mentions(doc, ordered, self.cues)
        return ordered

    def mention_identity(self, mention: Span, acronyms: dict[str, Span], surname_owner: dict[str, str]
                         ) -> tuple[str, str, GazetteerEntry | None, str | None]:
        """Cluster key, label, gazetteer entry and acronym expansion of one mention."""
        text = mention.text
        if mention.label_ in SURNAME_CONFUSABLE and len(mention) == 1 and text in surname_owner:
            return surname_owner[text], "PERSON", None, None
        expansion = acronyms.get(text)
        entry = self.lookup(mention, expansion)
        if entry is not None:
            return entry.canonical_id, entry.label, entry, None
        if expansion is not None:
            return entity_id(expansion.label_, expansion.text), expansion.label_, None, expansion.text
        if mention.label_ == "PERSON":
            return entity_id("PERSON", text), "PERSON", None, None
        return entity_id(mention.label_, text), mention.label_, None, None

    def lookup(self, mention: Span, expansion: Span | None) -> GazetteerEntry | None:
        """Gazetteer entry of a mention by its kb_id, its text or its acronym's expansion."""
        if mention.kb_id_:
            return self.entries_by_id.get(mention.kb_id_)
        if mention.label_ in {"GPE", "ORG", "AGENCY", "THREAT_ACTOR", "NORP", "LOC"}:
            entry = self.aliases.get(alias_key(mention.text))
            if entry is not None and compatible(mention.label_, entry.label):
                return entry
        if expansion is not None:
            return self.aliases.get(alias_key(expansion.text))
        return None


def compatible(model_label: str, table_label: str) -> bool:
    """Whether a model label may take a table row's identity (GPE names stay GPE, bodies stay bodies)."""
    bodies = {"ORG", "AGENCY", "THREAT_ACTOR", "PERSON", "GPE"}
    if table_label == "GPE":
        return model_label in {"GPE", "LOC"}
    return model_label in bodies


def overlaps(a: Span, b: Span) -> bool:
    """Whether two spans share a token."""
    return a.start < b.end and b.start < a.end


def trim_span(span: Span) -> Span | None:
    """Cut an entity at a line break or a parenthesis; drop a leading article or a trailing possessive."""
    doc = span.doc
    start, end = span.start, span.end
    for token in span:
        if token.text == "(":
            end = token.i
            break
        if "\n" in token.text or "\n" in token.whitespace_:
            end = token.i + (0 if "\n" in token.text else 1)
            break
    while start < end and (doc[start].lower_ in DETERMINERS or doc[start].is_punct or doc[start].is_space):
        start += 1
    while end > start and (doc[end - 1].text in POSSESSIVE or doc[end - 1].is_punct or doc[end - 1].is_space):
        end -= 1
    if start >= end:
        return None
    return Span(doc, start, end, label=span.label_, kb_id=span.kb_id_)


def starts_sentence(token: Token) -> bool:
    """Whether a token opens a sentence or a line."""
    return token.is_sent_start or token.i == 0 or "\n" in token.doc[token.i - 1].whitespace_ \
        or "\n" in token.doc[token.i - 1].text


def clean_mentions(doc: Doc, mentions: list[Span], cues: dict[str, frozenset[str]]) -> list[Span]:
    """Drop mentions that are no names, trim a role word or a stray first word, complete council names."""
    texts = Counter(m.text for m in mentions)
    not_entity = cues.get("not_entity", frozenset())
    cleaned = []
    for mention in mentions:
        if not any(c.isupper() for c in mention.text) or mention.text.lower() in not_entity:
            continue
        first = mention[0]
        if len(mention) == 1 and starts_sentence(first) and first.pos_ == "ADJ" \
                and mention.label_ in {"ORG", "PERSON", "GPE"}:
            continue  # "Coastal authorities ...": an adjective opening the sentence
        if len(mention) > 1 and mention.label_ != "PERSON" and starts_sentence(first) and texts[mention.text] == 1 \
                and texts[mention[1:].text] > 0:
            mention = Span(doc, mention.start + 1, mention.end, label=mention.label_, kb_id=mention.kb_id_)
        elif len(mention) > 2 and mention.label_ == "PERSON" and first.lower_ in cues.get("role", ()):
            mention = Span(doc, mention.start + 1, mention.end, label="PERSON")
        cleaned.append(extend_council_name(doc, mention))
    return cleaned


def extend_council_name(doc: Doc, mention: Span) -> Span:
    """"Westmarch and District Council": the model's span starts at "District"."""
    start = mention.start
    if mention.label_ == "ORG" and mention[0].text in COUNCIL_HEADS and start >= 2 \
            and doc[start - 1].lower_ == "and" and doc[start - 2].is_title:
        return Span(doc, start - 2, mention.end, label="ORG")
    return mention


def relabel_role_organisations(doc: Doc, mentions: list[Span], cues: dict[str, frozenset[str]]) -> list[Span]:
    """A name right before "boss Phil Gannon" or "manager Kevin Doherty" is an organisation."""
    person_starts = {m.start for m in mentions if m.label_ == "PERSON"}

    def before_role_and_person(end: int) -> bool:
        role_next = end < len(doc) and doc[end].is_lower and doc[end].lower_ in cues.get("role", ())
        return role_next and any(end < start <= end + 4 for start in person_starts)

    relabelled = []
    for mention in mentions:
        misread = mention.label_ in {"PERSON", "FAC", "PRODUCT"} \
            or (mention.label_ == "NORP" and mention[-1].pos_ != "ADJ")
        if misread and before_role_and_person(mention.end):
            mention = Span(doc, mention.start, mention.end, label="ORG")
        relabelled.append(mention)
    # The model may miss "Rovers" here and label it elsewhere; a name seen in the article is enough.
    taken = {t for m in mentions for t in range(m.start, m.end)}
    names = {m.text for m in mentions if len(m) == 1}
    for token in doc[:-1]:
        if token.i not in taken and token.is_title and token.text in names and before_role_and_person(token.i + 1):
            relabelled.append(Span(doc, token.i, token.i + 1, label="ORG"))
    return sorted(relabelled, key=lambda s: s.start)


def agree_labels(doc: Doc, mentions: list[Span], surname_owner: dict[str, str],
                 cues: dict[str, frozenset[str]]) -> list[Span]:
    """One label per name in an article: "Rovers" is not a PERSON twice and an ORG once."""
    name_words = {t.text for m in mentions if m.label_ == "PERSON" and len(m) > 1 for t in m}
    labels: dict[str, set[str]] = defaultdict(set)
    for mention in mentions:
        labels[mention.text].add(mention.label_)
    agreed = []
    for mention in mentions:
        found = labels[mention.text]
        if len(found) > 1 and found <= set(LABEL_PRIORITY) and mention.text not in surname_owner \
                and mention.text not in name_words and mention.text not in cues.get("honorific", ()):
            label = next(label for label in LABEL_PRIORITY if label in found)
            mention = Span(doc, mention.start, mention.end, label=label, kb_id=mention.kb_id_)
        agreed.append(mention)
    return agreed


def first_name_owners(mentions: list[Span], surname_owner: dict[str, str],
                      cues: dict[str, frozenset[str]]) -> dict[str, str]:
    """First name -> person id, for a lone "Sam" when one full name in the article starts with it."""
    owners: dict[str, set[str]] = defaultdict(set)
    lone_labels: dict[str, set[str]] = defaultdict(set)
    for mention in mentions:
        words = [t.text for t in mention if t.text not in cues.get("honorific", ()) and t.is_alpha]
        if mention.label_ == "PERSON" and len(words) >= 2:
            owners[words[0]].add(entity_id("PERSON", " ".join(words)))
        elif len(mention) == 1:
            lone_labels[mention.text].add(mention.label_)
    return {name: next(iter(ids)) for name, ids in owners.items()
            if len(ids) == 1 and name not in surname_owner and lone_labels.get(name) == {"PERSON"}}


def acronym_definitions(doc: Doc) -> dict[str, Span]:
    """Acronyms defined in the text: "National Cyber Security Centre (NCSC)" -> {"NCSC": span}."""
    definitions: dict[str, Span] = {}
    for token in doc[2:-1]:
        if doc[token.i - 1].text != "(" or doc[token.i + 1].text != ")":
            continue
        if not ACRONYM_TOKEN.match(token.text) or token.text in definitions:
            continue
        expansion = expansion_before(doc, token.i - 1, token.text)
        if expansion is not None:
            definitions[token.text] = expansion
    return definitions


def expansion_before(doc: Doc, paren: int, acronym: str) -> Span | None:
    """The capitalised name ending just before a parenthesis whose initials spell the acronym."""
    letters = [c for c in acronym if c.isupper()]
    start = paren
    while start > 0 and (doc[start - 1].is_title or doc[start - 1].is_upper
                         or doc[start - 1].lower_ in NAME_LINKERS):
        start -= 1
        words = [t for t in doc[start:paren] if t.lower_ not in NAME_LINKERS]
        if words and words[0].i == start and [t.text[0] for t in words] == letters:
            label = next((e.label_ for e in doc.ents if e.start <= start < e.end), "ORG")
            return Span(doc, start, paren, label=label if label in CLUSTER_LABELS else "ORG")
    return None


def add_definition_mentions(doc: Doc, mentions: list[Span], acronyms: dict[str, Span]) -> list[Span]:
    """Add acronym definitions and acronym uses the model missed as mentions."""
    added = list(mentions)
    taken = {t for m in mentions for t in range(m.start, m.end)}
    for acronym, expansion in acronyms.items():
        if not any(i in taken for i in range(expansion.start, expansion.end)):
            added.append(expansion)
            taken.update(range(expansion.start, expansion.end))
    for token in doc:
        if token.text in acronyms and token.i not in taken:
            added.append(Span(doc, token.i, token.i + 1, label=acronyms[token.text].label_))
            taken.add(token.i)
    return sorted(added, key=lambda s: s.start)


def add_introduced_organisations(doc: Doc, mentions: list[Span], cues: dict[str, frozenset[str]]) -> list[Span]:
    """Add names the model missed after an organisation noun: "cyber security firm IDEE" -> ORG "IDEE"."""
    taken = {t for m in mentions for t in range(m.start, m.end)}
    starts = {m.start: m for m in mentions}
    added = list(mentions)
    for token in doc[:-1]:
        if token.lower_ not in cues.get("organisation", ()) or not token.is_lower:
            continue
        end = token.i + 1
        while end < len(doc) and (doc[end].is_title or doc[end].is_upper) and doc[end].is_alpha \
                and end not in taken and not doc[end].is_sent_start:
            end += 1
        if end > token.i + 1:
            added.append(Span(doc, token.i + 1, end, label="ORG"))
            taken.update(range(token.i + 1, end))
        elif end < len(doc) and end in starts and starts[end].label_ in MISLABELLED_ORGANISATION:
            # "software company Brightlane": the noun outranks the model's GPE or PERSON guess.
            mislabelled = starts[end]
            added[added.index(mislabelled)] = Span(doc, mislabelled.start, mislabelled.end, label="ORG")
    return sorted(added, key=lambda s: s.start)


def full_name_surnames(mentions: list[Span], cues: dict[str, frozenset[str]]) -> dict[str, str]:
    """Surname -> person id, for surnames that belong to exactly one full name in the article."""
    owners: dict[str, set[str]] = defaultdict(set)
    for mention in mentions:
        words = [t.text for t in mention if t.text not in cues.get("honorific", ()) and t.is_alpha]
        if mention.label_ == "PERSON" and len(words) >= 2:
            owners[words[-1]].add(entity_id("PERSON", " ".join(words)))
    return {surname: ids.pop() for surname, ids in owners.items() if len(ids) == 1}


def merge_head_nouns(clusters: list[Cluster]) -> list[Cluster]:
    """Fold a later one-word "Commission" or "House" into the one earlier "Electoral Commission" or
    "House of Commons" it shortens."""
    merged = []
    for cluster in clusters:
        texts = {m.text for m in cluster.mentions}
        word = next(iter(texts)) if len(texts) == 1 else ""
        longer = [c for c in merged if c.label in {"ORG", "AGENCY"} and word in head_nouns(cluster_name(c))]
        if cluster.label == "ORG" and cluster.entry is None and word.istitle() and " " not in word \
                and len(longer) == 1:
            longer[0].mentions = sorted(longer[0].mentions + cluster.mentions, key=lambda s: s.start)
            continue
        merged.append(cluster)
    return merged


def head_nouns(name: str) -> set[str]:
    """Words a multi-word name is shortened to: its last word, and the word before "of"."""
    words = name.split()
    if len(words) < 2:
        return set()
    heads = {words[-1]}
    if "of" in words[1:]:
        heads.add(words[words.index("of", 1) - 1])
    return heads


def attach_roles(doc: Doc, clusters: list[Cluster], cues: dict[str, frozenset[str]]) -> None:
    """Fill role and affiliation of person clusters from role phrases before or appositions after a mention."""
    cluster_of = {m.start: c for c in clusters for m in c.mentions}
    for cluster in [c for c in clusters if c.label == "PERSON"]:
        for mention in cluster.mentions:
            for segment in (role_phrase_before(doc, mention, cluster_of, cues), apposition_after(doc, mention)):
                if segment is None:
                    continue
                role, affiliation = read_apposition(segment, cluster_of, cues)
                cluster.role = cluster.role or role
                cluster.affiliation = cluster.affiliation or affiliation
            if cluster.role and cluster.affiliation:
                break


def role_phrase_before(doc: Doc, mention: Span, cluster_of: dict[int, Cluster],
                       cues: dict[str, frozenset[str]]) -> Span | None:
    """"NCSC director of operations" before "Paul Chichester", or "the Foreign Secretary," before ", David Cameron,"."""
    end = mention.start
    while end > 0 and doc[end - 1].text in cues.get("honorific", ()):
        end -= 1
    if end > 0 and doc[end - 1].text == ",":
        # Only a name closed by a comma too is an apposition; "Leeds, Tom Reed and ..." is a list.
        if mention.end >= len(doc) or doc[mention.end].text != ",":
            return None
        end -= 1
    entity_tokens = {i: c for c in cluster_of.values() if c.label in {"ORG", "AGENCY", "GPE"}
                     for m in c.mentions for i in range(m.start, m.end)}
    start = end
    while start > 0 and end - start < 8 and part_of_role_phrase(doc[start - 1], entity_tokens) \
            and not starts_sentence(doc[start]):
        start -= 1
    while start < end and (doc[start].lower_ in {"of", "for", "and"} or doc[start].i in entity_tokens
                           and doc[start].i not in cluster_of):
        start += 1  # the phrase may not begin inside an organisation's name or on a linking word
    segment = doc[start:end]
    if not any(t.lower_ in cues.get("role", ()) for t in segment):
        return None
    return segment


def part_of_role_phrase(token: Token, entity_tokens: dict[int, Cluster]) -> bool:
    """Whether a token can belong to a job title before a name (nouns, adjectives, organisations, "of")."""
    if "\n" in token.whitespace_ or token.ent_type_ == "PERSON":
        return False
    if token.i in entity_tokens:
        return True
    return token.pos_ in {"NOUN", "PROPN", "ADJ"} or token.tag_ in {"POS", "PRP$"} \
        or token.lower_ in {"of", "for", "and", "-"}


def apposition_after(doc: Doc, mention: Span) -> Span | None:
    """Tokens between ", " after a mention and the next comma, line end or sentence end."""
    comma = mention.end
    if comma >= len(doc) or doc[comma].text != "," or "\n" in doc[comma].whitespace_:
        return None
    end = comma + 1
    while end < len(doc) and doc[end].text not in {",", ";", ":", "(", ")", "\u201c", '"'} \
            and not doc[end].is_sent_start and "\n" not in doc[end].text:
        end += 1
        if "\n" in doc[end - 1].whitespace_:
            break
    if end == comma + 1 or end - comma > 16:
        return None
    if doc[comma + 1].tag_ in {"VBG", "VBD", "VBZ", "VBP"}:
        return None  # "said Oliver Dowden, adding that ..." continues the sentence, it names no role
    return doc[comma + 1:end]


def read_apposition(segment: Span, cluster_of: dict[int, Cluster],
                    cues: dict[str, frozenset[str]]) -> tuple[str | None, str | None]:
    """Role and affiliation id of "NCSC director of operations" or "founder of firm IDEE"."""
    doc = segment.doc
    organisation = None
    role_tokens: list[Token] = []
    i = segment.start
    while i < segment.end:
        cluster = cluster_of.get(i)
        if cluster is not None and cluster.label in {"ORG", "AGENCY", "GPE"} and organisation is None:
            organisation = cluster
            i = next(m.end for m in cluster.mentions if m.start == i)
            continue
        role_tokens.append(doc[i])
        i += 1
    role_tokens = cut_organisation_tail(role_tokens, cues, organisation is not None)
    role_words = {t.lower_ for t in role_tokens}
    role = None
    if role_words & cues.get("role", frozenset()):
        role = "".join(t.text_with_ws for t in role_tokens).strip() or None
    affiliation = cluster_id(organisation) if organisation else None
    return role, affiliation


def cut_organisation_tail(tokens: list[Token], cues: dict[str, frozenset[str]], found: bool) -> list[Token]:
    """Drop "of/at [descriptor]" before an organisation and any trailing determiners from a role."""
    for index, token in enumerate(tokens):
        if token.lower_ in {"of", "at", "for", "with"}:
            tail = tokens[index + 1:]
            described = all(t.is_lower or t.lower_ in cues.get("organisation", ()) for t in tail) \
                and any(t.lower_ in cues.get("organisation", ()) for t in tail)
            if found and (described or not tail):
                tokens = tokens[:index]
                break
    while tokens and (tokens[-1].lower_ in DETERMINERS | {"of", "at", "'s", "’s"} or tokens[-1].is_punct):
        tokens = tokens[:-1]
    while tokens and (tokens[0].lower_ in DETERMINERS | {"'s", "’s"} or tokens[0].tag_ == "PRP$"):
        tokens = tokens[1:]
    return tokens


def link_descriptors(doc: Doc, clusters: list[Cluster], cues: dict[str, frozenset[str]]) -> None:
    """Add "the UK's cyber security agency" to the one body whose name holds all its content words."""
    bodies = [c for c in clusters if c.label in {"AGENCY", "ORG"}]
    taken = {t for c in clusters for m in c.mentions for t in range(m.start, m.end)}
    for start, end, words in descriptor_phrases(doc, cues):
        if any(i in taken for i in range(end - len(words) - 1, end)):
            continue
        matches = [c for c in bodies if words <= set(cluster_name(c).lower().split())]
        if len(matches) == 1:
            matches[0].mentions.append(Span(doc, start, end, label=matches[0].label))
            matches[0].mentions.sort(key=lambda s: s.start)


def descriptor_phrases(doc: Doc, cues: dict[str, frozenset[str]]) -> list[tuple[int, int, set[str]]]:
    """Definite "the [GPE's] <lower-case words> agency" phrases with their content words."""
    heads = {"agency", "body", "centre", "center", "watchdog", "regulator", "authority", "service"}
    found = []
    for token in doc:
        if token.lower_ not in heads:
            continue
        start = token.i
        while start > 0 and doc[start - 1].is_lower and doc[start - 1].is_alpha and doc[start - 1].lower_ != "the":
            start -= 1
        modifiers = {t.lower_ for t in doc[start:token.i]}
        if start > 1 and doc[start - 1].text in POSSESSIVE and doc[start - 2].ent_type_ == "GPE":
            start = doc[start - 2].i
            while start > 0 and doc[start - 1].ent_iob_ == "I":
                start -= 1
        if start == 0 or doc[start - 1].lower_ != "the" or len(modifiers) < 2:
            continue
        found.append((start - 1, token.i + 1, modifiers))
    return found


def link_role_mentions(doc: Doc, clusters: list[Cluster], cues: dict[str, frozenset[str]]) -> None:
    """Add "the minister" or "the NCSC director" to the one person in the article who holds that role."""
    people = [c for c in clusters if c.label == "PERSON" and c.role]
    if not people:
        return
    cluster_of = {m.start: (c, m) for c in clusters for m in c.mentions}
    taken = {t for c in clusters for m in c.mentions for t in range(m.start, m.end)}
    for token in doc:
        if token.lower_ != "the" or token.i in taken:
            continue
        phrase = role_phrase_at(doc, token.i + 1, cluster_of, cues)
        if phrase is None:
            continue
        end, words, organisation = phrase
        holders = [c for c in people if holds_role(c, words, organisation, cues)]
        if len(holders) != 1 or any(i in taken for i in range(end - len(words), end)) \
                or next_to_mention(holders[0], token.i, end):
            continue
        holders[0].mentions.append(Span(doc, token.i, end, label=ROLE_MENTION))
        holders[0].mentions.sort(key=lambda s: s.start)
        taken.update(range(token.i, end))


def role_phrase_at(doc: Doc, start: int, cluster_of: dict[int, tuple[Cluster, Span]],
                   cues: dict[str, frozenset[str]]) -> tuple[int, list[str], Cluster | None] | None:
    """End, lower-case words and organisation of "[NCSC] deputy prime minister" starting at a token."""
    organisation = None
    if start in cluster_of and cluster_of[start][0].label in {"ORG", "AGENCY", "GPE"}:
        organisation, span = cluster_of[start]
        start = span.end + (span.end < len(doc) and doc[span.end].text in POSSESSIVE)
    words = []
    end = start
    while end < len(doc) and end - start < 4 and doc[end].is_alpha and (doc[end].is_lower or doc[end].is_title) \
            and end not in cluster_of:
        words.append(doc[end].lower_)
        end += 1
    # The phrase ends on its role word, not inside a longer noun phrase ("the director general").
    while words and (words[-1] not in cues.get("role", ())
                     or end < len(doc) and doc[end].pos_ in {"NOUN", "PROPN"} and doc[end].lower_ in words):
        words.pop()
        end -= 1
    if not words or (end < len(doc) and doc[end].pos_ in {"NOUN", "PROPN"}):
        return None
    return end, words, organisation


def holds_role(cluster: Cluster, words: list[str], organisation: Cluster | None,
               cues: dict[str, frozenset[str]]) -> bool:
    """Whether "minister" or "deputy prime minister" names this person's role (and organisation)."""
    if organisation is not None and cluster.affiliation != cluster_id(organisation):
        return False
    role = [w.lower() for w in re.findall(r"[\w’'-]+", cluster.role or "")]
    heads = [i for i, w in enumerate(role) if w in cues.get("role", ())]
    if not heads:
        return False
    before_head = role[:heads[-1] + 1]
    if words == [before_head[-1]] or words == before_head:
        return True
    # "founder and chief executive": each conjoined role can be named on its own.
    prefix = before_head[:len(before_head) - len(words)]
    return before_head[-len(words):] == words and bool(prefix) and prefix[-1] == "and"


def next_to_mention(cluster: Cluster, start: int, end: int) -> bool:
    """Whether a role phrase sits right beside a name of the same person (an apposition, not a mention)."""
    return any(m.end <= start <= m.end + 2 or end <= m.start <= end + 2 for m in cluster.mentions)


def cluster_name(cluster: Cluster) -> str:
    """Canonical name: gazetteer name, acronym expansion, longest person name or commonest mention."""
    if cluster.entry is not None:
        return cluster.entry.canonical
    if cluster.expansion:
        return cluster.expansion
    texts = [m.text for m in cluster.mentions if m.label_ != ROLE_MENTION]
    if cluster.label == "PERSON":
        return max(texts, key=lambda t: (len(t.split()), len(t)))
    counts = Counter(texts)
    return max(texts, key=lambda t: (len(t.split()) > 1 or t.isupper(), counts[t], len(t)))


def cluster_id(cluster: Cluster) -> str:
    """Gazetteer id, or the key made from the cluster's normalised name."""
    if cluster.entry is not None:
        return cluster.entry.canonical_id
    return cluster.key


def cluster_record(cluster: Cluster) -> dict:
    """Plain, msgpack-safe record of one cluster (the doc._.entities contract)."""
    texts = [m.text for m in cluster.mentions if m.label_ != ROLE_MENTION]
    table_aliases = cluster.entry.aliases if cluster.entry is not None else ()
    aliases = list(dict.fromkeys([*texts, *table_aliases]))
    return {
        "id": cluster_id(cluster),
        "canonical": cluster_name(cluster),
        "label": cluster.label,
        "aliases": aliases,
        "role": cluster.role,
        "affiliation": cluster.affiliation,
        "mentions": [[m.start_char, m.end_char] for m in cluster.mentions],
    }
