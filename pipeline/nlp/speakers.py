"""news_speakers: resolve each attribution's local source mention to the full person or organisation.

Reads `doc._.attributions` (news_quotes) and `doc._.entities` (news_entities). When the entities
component is absent or wrote None, clusters are built here from spaCy's `doc.ents` with surname and
acronym matching. Every relation gets a `speaker` dict whose `resolution` says how it was found:
named, surname, pronoun, title, descriptor, appositive, previous-speaker or unresolved (no guessing).
"""
from __future__ import annotations

import functools
import json
import logging
import re
from dataclasses import dataclass, field

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from pipeline.tables import DATA_DIR

LOGGER = logging.getLogger(__name__)

if not Doc.has_extension("attributions"):
    Doc.set_extension("attributions", default=None)
if not Doc.has_extension("entities"):
    Doc.set_extension("entities", default=None)

SPACY_LABELS = {"PERSON": "PERSON", "ORG": "ORG", "GPE": "GPE", "NORP": "NORP"}
ID_PREFIX = {"PERSON": "person", "ORG": "org", "GPE": "gpe", "NORP": "norp"}
ACRONYM_RE = re.compile(r"\b((?:[A-Z][\w'’&.-]*\s+){1,7}[A-Z][\w'’&.-]*)\s+\(([A-Z][A-Z0-9&]{1,9})\)")
HONORIFICS = {"mr", "mrs", "ms", "dr", "sir", "dame", "lord", "lady", "prof", "professor", "mr.", "mrs.", "ms.", "dr."}
PRONOUN_DEPTH = 4000


@dataclass
class Cluster:
    """One real-world entity as this component sees it."""

    id: str | None
    canonical: str
    label: str
    aliases: set[str] = field(default_factory=set)
    mentions: list[tuple[int, int]] = field(default_factory=list)
    role: str | None = None
    affiliation: str | None = None


@functools.lru_cache(maxsize=None)
def load_patterns(patterns_file: str) -> tuple[dict, dict]:
    """Descriptor nouns and pronoun classes from the attribution patterns file."""
    patterns = json.loads((DATA_DIR / patterns_file).read_text(encoding="utf-8"))
    descriptors = {k: v for k, v in patterns["speaker_descriptors"].items() if not k.startswith("_")}
    return descriptors, patterns["pronouns"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def clusters_from_entities(entities: list[dict]) -> list[Cluster]:
    """Clusters as written by news_entities."""
    return [Cluster(id=e.get("id"), canonical=e.get("canonical") or "", label=e.get("label") or "ORG",
                    aliases={a.lower() for a in e.get("aliases") or []} | {(e.get("canonical") or "").lower()},
                    mentions=[tuple(m) for m in e.get("mentions") or []],
                    role=e.get("role"), affiliation=e.get("affiliation"))
            for e in entities]


def clusters_from_spacy(doc: Doc, text: str) -> list[Cluster]:
    """Fallback clusters: full names absorb later surname mentions, organisations their acronyms."""
    clusters: list[Cluster] = []
    by_alias: dict[str, Cluster] = {}
    acronyms = {m.group(2).lower(): _strip_article(m.group(1).strip()) for m in ACRONYM_RE.finditer(text)}
    for ent in doc.ents:
        label = SPACY_LABELS.get(ent.label_)
        if label is None:
            continue
        name = _strip_article(_strip_honorific(ent.text.strip()))
        if name.lower() in acronyms:
            name, label = acronyms[name.lower()], "ORG"
        key = name.lower()
        words = name.split()
        cluster = by_alias.get(key)
        if cluster is None and label == "PERSON" and len(words) == 1:
            cluster = next((c for c in clusters if c.label == "PERSON" and c.canonical.split()[-1].lower() == key), None)
        if cluster is None and label == "PERSON" and len(words) > 1:
            cluster = next((c for c in clusters if c.label == "PERSON" and len(c.canonical.split()) == 1
                            and c.canonical.lower() == words[-1].lower()), None)
            if cluster is not None:
                cluster.canonical = name
        if cluster is None:
            cluster = Cluster(id=None, canonical=name, label=label)
            clusters.append(cluster)
        cluster.aliases.add(key)
        cluster.mentions.append((ent.start_char, ent.end_char))
        if label == "PERSON" and cluster.role is None:
            cluster.role = _title_of(ent)
        by_alias[key] = cluster
    for acronym, full in acronyms.items():
        cluster = by_alias.get(full.lower())
        if cluster is None:
            cluster = Cluster(id=None, canonical=full, label="ORG")
            clusters.append(cluster)
        cluster.label = "ORG" if cluster.label == "PERSON" else cluster.label
        cluster.aliases |= {acronym, full.lower()}
        known = set(cluster.mentions)
        for hit in re.finditer(rf"\b{re.escape(acronym)}\b", text, flags=re.IGNORECASE):
            if hit.span() not in known and text[hit.start():hit.end()].isupper():
                cluster.mentions.append(hit.span())
    for cluster in clusters:
        cluster.id = f"{ID_PREFIX.get(cluster.label, 'org')}:{_slug(cluster.canonical)}"
        cluster.mentions.sort()
    return clusters


def _title_of(ent: Span) -> str | None:
    """'Health minister Clara Wood' or 'Clara Wood, the minister for health' -> the role words."""
    root = ent.root
    before = [t for t in root.children if t.i < ent.start and t.dep_ in {"compound", "amod", "nmod"}]
    parts = [ent.doc[min(t.left_edge.i for t in before):ent.start].text] if before else []
    for child in root.children:
        if child.dep_ == "appos" and child.pos_ == "NOUN":
            words = [w for w in child.subtree if w.pos_ not in {"DET", "PUNCT"}]
            while words and words[0].i < child.i and (words[0].pos_ == "PROPN" or words[0].is_upper):
                words.pop(0)
            parts.append(" ".join(w.text for w in words))
    return "; ".join(p for p in parts if p and "\n" not in p) or None


def _strip_article(name: str) -> str:
    return re.sub(r"^(?:the|The)\s+", "", name)


def _strip_honorific(name: str) -> str:
    words = name.split()
    while len(words) > 1 and words[0].lower() in HONORIFICS:
        words = words[1:]
    return " ".join(words)


class SpeakerResolver:
    """Resolves the source mentions of one doc, in reading order."""

    def __init__(self, doc: Doc, text: str, clusters: list[Cluster], descriptors: dict, pronouns: dict):
        self.doc = doc
        self.text = text
        self.clusters = clusters
        self.descriptors = descriptors
        self.pronouns = pronouns
        self.resolved: list[tuple[int, dict]] = []

    def resolve(self, relation: dict) -> dict:
        """The speaker dict for one relation (remembered for later pronouns)."""
        speaker = self._speaker(relation)
        anchor = relation["source"][0][0] if relation["source"] else relation["content"][0][0]
        if speaker["name"] is not None:
            self.resolved.append((anchor, speaker))
        return speaker

    def _speaker(self, relation: dict) -> dict:
        if not relation["source"]:
            if not relation["cue"] and self.resolved:
                return {**self.resolved[-1][1], "resolution": "previous-speaker"}
            return _unresolved()
        start, end = relation["source"][0]
        span = self.doc.char_span(start, end, alignment_mode="expand")
        if span is None or not len(span):
            return _unresolved()
        head = span.root
        if head.pos_ == "PRON" or head.lower_ in self.pronouns:
            return self._pronoun(head)
        if head.pos_ == "NOUN" and head.lower_ in self.descriptors:
            return self._descriptor(span, head)
        cluster, how = self._mentioned(span, head)
        if cluster is not None:
            return self._from_cluster(cluster, how, span)
        if any(t.pos_ == "PROPN" for t in span) and head.pos_ == "PROPN":
            name = _proper_name(span, head)
            role, affiliation = _appositive(span, head, self.clusters)
            return _speaker(name, None, role, affiliation, "named")
        if any(t.pos_ == "PROPN" for t in span):
            return _speaker(_noun_phrase(span, head), None, None, self._possessor(span, head), "named")
        return _speaker(span.text.strip(" ,"), None, None, None, "descriptor")

    def _mentioned(self, span: Span, head: Token) -> tuple[Cluster | None, str]:
        """The entity named in the source span, preferring the mention at the phrase's head."""
        best = None
        for cluster in self.clusters:
            for start, end in cluster.mentions:
                if start < span.end_char and span.start_char < end:
                    distance = 0 if start <= head.idx < end else abs(start - head.idx)
                    if cluster.label in {"PERSON", "ORG", "AGENCY", "THREAT_ACTOR", "GPE", "NORP"} and (
                            best is None or distance < best[0]):
                        best = (distance, cluster, self.text[start:end])
        if best is None:
            return None, ""
        _, cluster, text = best
        if best[0] > 0:
            mention = self.doc.char_span(*_find(cluster.mentions, span), alignment_mode="expand")
            if mention is None or mention.root.dep_ != "appos" or mention.root.head.i != head.i:
                return None, ""
            return cluster, "appositive"
        words = text.split()
        full = cluster.canonical.split()
        if cluster.label == "PERSON" and len(words) == 1 and len(full) > 1:
            return cluster, "surname"
        return cluster, "named"

    def _from_cluster(self, cluster: Cluster, how: str, span: Span | None) -> dict:
        role, affiliation = cluster.role, self._name_of(cluster.affiliation)
        if span is not None:
            own_role, own_affiliation = _appositive(span, span.root, self.clusters)
            role, affiliation = own_role or role, own_affiliation or affiliation
        if role is None or affiliation is None:
            known = next((s for _, s in reversed(self.resolved) if s["canonical_id"] == cluster.id), None)
            if known is not None:
                role, affiliation = role or known["role"], affiliation or known["affiliation"]
        return _speaker(cluster.canonical, cluster.id, role, affiliation, how)

    def _name_of(self, affiliation: str | None) -> str | None:
        """An affiliation given as a canonical id ('org:idee') is reported by its name ('IDEE')."""
        return next((c.canonical for c in self.clusters if affiliation and c.id == affiliation), affiliation)

    def _possessor(self, span: Span, head: Token) -> str | None:
        """The named owner of a common-noun speaker: 'China's embassy' -> 'China'."""
        owner = next((c for c in head.children if c.dep_ == "poss" and span.start <= c.i < span.end), None)
        if owner is None:
            return None
        return next((c.canonical for c in self.clusters if c.label != "PERSON" and any(
            start <= owner.idx < end for start, end in c.mentions)), None)

    def _pronoun(self, token: Token) -> dict:
        """Nearest earlier speaker (or entity mention) of a compatible kind."""
        wanted = self.pronouns.get(token.lower_, "ANY")
        if token.lower_ in {"i", "we", "my", "our"}:
            return _unresolved()
        for anchor, speaker in reversed(self.resolved):
            if token.idx - anchor > PRONOUN_DEPTH:
                break
            if _compatible(speaker, wanted):
                return {**speaker, "resolution": "pronoun"}
        mention = self._previous_mention(token.idx, {"PERSON"} if wanted == "PERSON" else
                                         {"ORG", "AGENCY", "GPE", "THREAT_ACTOR"} if wanted == "ORG" else
                                         {"PERSON", "ORG", "AGENCY", "GPE", "NORP", "THREAT_ACTOR"})
        if mention is not None:
            return self._from_cluster(mention, "pronoun", None)
        return _unresolved()

    def _previous_mention(self, before: int, labels: set[str]) -> Cluster | None:
        best = None
        for cluster in self.clusters:
            if cluster.label not in labels:
                continue
            earlier = [s for s, _ in cluster.mentions if s < before and before - s < PRONOUN_DEPTH]
            if earlier and (best is None or max(earlier) > best[0]):
                best = (max(earlier), cluster)
        return best[1] if best else None

    def _descriptor(self, span: Span, head: Token) -> dict:
        """'the agency' / 'the minister': the named entity of that kind the article is about."""
        entry = self.descriptors[head.lower_]
        labels = set(entry["labels"])
        # a coordinated second speaker ('the commission and the government') does not modify the first
        coordinated = {t.i for c in head.children if c.dep_ == "conj" for t in c.subtree}
        words = {t.lower_ for t in span if t.pos_ in {"NOUN", "PROPN", "ADJ"} and t.i != head.i
                 and t.i not in coordinated}
        how = "title" if "PERSON" in labels else "descriptor"
        candidates = [c for c in self.clusters if c.label in labels and (
            any(s < span.start_char for s, _ in c.mentions) or words & _name_words(c))]
        if "name_words" in entry:
            candidates = [c for c in candidates if self._of_kind(c, entry, words)]
        if "PERSON" in labels and entry["roles"]:
            candidates = [c for c in candidates if c.role and any(r in c.role.lower() for r in entry["roles"])] or [
                c for _, s in reversed(self.resolved) for c in candidates
                if c.id == s["canonical_id"] and s["role"] and any(r in s["role"].lower() for r in entry["roles"])]
        if not candidates:
            return _unresolved()
        spoke = [s["canonical_id"] for _, s in self.resolved]

        def score(cluster: Cluster) -> tuple:
            overlap = len(words & _name_words(cluster))
            # 'the commission' is the Electoral Commission before it is any other agency
            same_kind = head.lower_ in _name_words(cluster)
            recency = spoke[::-1].index(cluster.id) if cluster.id in spoke else len(spoke) + 1
            last = max((s for s, _ in cluster.mentions if s < span.start_char), default=-1)
            return (-overlap, not same_kind, recency, -last)

        return self._from_cluster(min(candidates, key=score), how, None)


    def _of_kind(self, cluster: Cluster, entry: dict, words: set[str]) -> bool:
        """'the government': a place that already spoke as a state, or a body named as a government one."""
        if cluster.label in entry.get("state_labels", ()):
            spoke = any(s["canonical_id"] == cluster.id for _, s in self.resolved)
            return bool(words & _name_words(cluster)) if words else spoke
        return any(_named_as(name, entry["name_words"]) for name in cluster.aliases | {cluster.canonical.lower()})


def _named_as(name: str, kind_words: list[str]) -> bool:
    """'home office' and 'ministry of defence' are named as offices and ministries; 'government
    communications headquarters' is not named as a government."""
    words = name.lower().replace(",", " ").split()
    return any(word in kind_words and (i == len(words) - 1 or words[i + 1] in {"of", "for"})
               for i, word in enumerate(words))


def _name_words(cluster: Cluster) -> set[str]:
    return set(" ".join(cluster.aliases | {cluster.canonical.lower()}).split())


def _find(mentions: list[tuple[int, int]], span: Span) -> tuple[int, int]:
    return next((m for m in mentions if m[0] < span.end_char and span.start_char < m[1]), (0, 0))


def _compatible(speaker: dict, wanted: str) -> bool:
    if wanted == "ANY":
        return True
    person = (speaker.get("canonical_id") or "").startswith("person:") or speaker.get("_label") == "PERSON"
    return person if wanted == "PERSON" else not person


def _proper_name(span: Span, head: Token) -> str:
    """The proper-noun words around the head ('Joel Pollak' in 'Joel Pollak of Breitbart')."""
    words = [t for t in head.subtree if t.pos_ == "PROPN" and (t.head.i == head.i or t.i == head.i)
             and span.start <= t.i < span.end and t.dep_ in {"compound", "flat", "nsubj", "ROOT"} | {head.dep_}]
    words = sorted(words, key=lambda t: t.i) or [head]
    return span.doc[words[0].i:words[-1].i + 1].text


def _noun_phrase(span: Span, head: Token) -> str:
    """The whole name of a common-noun speaker ('China's embassy in London'), without clauses or asides."""
    left_out = {t.i for c in head.children if c.dep_ in {"relcl", "acl", "appos", "ccomp", "advcl", "punct"}
                for t in c.subtree}
    words = [t for t in head.subtree if span.start <= t.i < span.end and t.i not in left_out]
    while len(words) > 1 and words[0].pos_ in {"DET", "PUNCT"}:
        words.pop(0)
    return span.doc[words[0].i:words[-1].i + 1].text if words else head.text


def _appositive(span: Span, head: Token, clusters: list[Cluster]) -> tuple[str | None, str | None]:
    """'Paul Chichester, NCSC director of operations,' -> ('director of operations', 'NCSC')."""
    appos = next((c for c in head.children if c.dep_ == "appos" and span.start <= c.i < span.end), None)
    if appos is None:
        return None, None
    words = [t for t in appos.subtree if span.start <= t.i < span.end]
    affiliation, mention_start = None, None
    for cluster in clusters:
        if cluster.label == "PERSON" or affiliation is not None:
            continue
        for start, end in cluster.mentions:
            if words and words[0].idx <= start and end <= words[-1].idx + len(words[-1]):
                affiliation, mention_start = cluster.canonical, start
                words = [t for t in words if not (start <= t.idx < end)]
                break
    # the preposition that introduces the organisation: 'director of operations AT Acme'
    prepositions = [t for t in words if t.lower_ in {"of", "at", "for"} and t.i > appos.i]
    if mention_start is not None:
        cut = next((t for t in reversed(prepositions) if t.idx < mention_start), None)
    else:
        cut = next((t for t in reversed(prepositions) if any(w.pos_ == "PROPN" for w in words if w.i > t.i)), None)
        if cut is not None:
            after = [t for t in words if t.i > cut.i and t.text != ","]
            affiliation = " ".join(t.text for t in (_trailing_proper(after) or after)) or None
    if cut is not None:
        words = [t for t in words if t.i < cut.i]
    role_words = list(words)
    # the owner in 'the council's electoral officer' is the affiliation, not part of the role
    marker = next((t for t in reversed(role_words) if t.dep_ == "case" and t.i < appos.i), None)
    if marker is not None:
        owner = [t for t in role_words if t.i < marker.i and t.pos_ not in {"DET", "PUNCT"}]
        if affiliation is None and any(t.pos_ == "PROPN" for t in owner):
            affiliation = " ".join(t.text for t in owner)
        role_words = [t for t in role_words if t.i > marker.i]
    while role_words and role_words[0].pos_ in {"PUNCT", "DET"}:
        role_words.pop(0)
    while role_words and role_words[-1].pos_ in {"PUNCT", "ADP", "DET"}:
        role_words.pop()
    role = " ".join(t.text for t in role_words).strip(" ,") or None
    return role, affiliation


def _trailing_proper(tokens: list[Token]) -> list[Token]:
    """'cyber security firm IDEE' -> [IDEE]."""
    names: list[Token] = []
    for token in reversed(tokens):
        if token.pos_ != "PROPN" and not token.is_upper:
            break
        names.insert(0, token)
    return names


def _speaker(name, canonical_id, role, affiliation, resolution) -> dict:
    return {"name": name, "canonical_id": canonical_id, "role": role, "affiliation": affiliation,
            "resolution": resolution}


def _unresolved() -> dict:
    return _speaker(None, None, None, None, "unresolved")


def _share_roles(relations: list[dict]) -> None:
    """A role or affiliation given once (usually in an appositive) holds for all the speaker's relations."""
    known: dict[str, dict] = {}
    for relation in relations:
        speaker = relation["speaker"]
        if speaker["canonical_id"]:
            entry = known.setdefault(speaker["canonical_id"], {"role": None, "affiliation": None})
            entry["role"] = entry["role"] or speaker["role"]
            entry["affiliation"] = entry["affiliation"] or speaker["affiliation"]
    for relation in relations:
        speaker = relation["speaker"]
        entry = known.get(speaker["canonical_id"] or "")
        if entry:
            relation["speaker"] = {**speaker, "role": speaker["role"] or entry["role"],
                                   "affiliation": speaker["affiliation"] or entry["affiliation"]}


class NewsSpeakers:
    """spaCy component filling the `speaker` of every relation in doc._.attributions."""

    def __init__(self, nlp: Language, name: str, patterns_file: str):
        self.name = name
        self.descriptors, self.pronouns = load_patterns(patterns_file)

    def __call__(self, doc: Doc) -> Doc:
        relations = doc._.attributions or []
        entities = doc._.entities
        text = doc.text
        clusters = clusters_from_entities(entities) if entities else clusters_from_spacy(doc, text)
        resolver = SpeakerResolver(doc, text, clusters, self.descriptors, self.pronouns)
        order = sorted(range(len(relations)), key=lambda i: (relations[i]["source"] or relations[i]["content"])[0][0])
        updated = [dict(r) for r in relations]
        for i in order:
            updated[i]["speaker"] = resolver.resolve(updated[i])
        for relation in updated:
            original = relation.get("pull_quote_of")
            if original is not None and relation["speaker"]["name"] is None:
                relation["speaker"] = dict(updated[original]["speaker"])
        _share_roles(updated)
        doc._.attributions = updated
        return doc


@Language.factory("news_speakers", default_config={"patterns_file": "attribution_patterns.json"})
def make_news_speakers(nlp: Language, name: str, patterns_file: str) -> NewsSpeakers:
    """Resolve attribution sources to full names with canonical ids, roles and affiliations."""
    return NewsSpeakers(nlp, name, patterns_file)
