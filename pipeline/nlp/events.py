"""Attribution and accusation events: agent -> action -> target triples read from the dependency parse.

>>> doc = nlp("Officials said APT31 targeted the email accounts of MPs.")
>>> [(e["agent"]["text"], e["action"]["lemma"], e["target"]["text"]) for e in doc._.events]
[('APT31', 'target', 'the email accounts of MPs')]
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from pipeline.tables import read_table

LOGGER = logging.getLogger(__name__)

if not Doc.has_extension("events"):
    Doc.set_extension("events", default=None)

# Prepositions that lead from an act to what it was aimed at.
TARGET_PREPS = {"against", "on", "into", "of", "at"}
NEGATIVE_DETERMINERS = {"no", "none", "nobody", "nothing", "neither"}
NEGATIVE_ADVERBS = {"never", "not", "n't"}
# Objects of a denial verb that make the denial itself the event ("China denied the allegations").
DENIED_THINGS = {"allegation", "accusation", "claim", "involvement", "responsibility", "charge", "report", "suggestion"}
# Participles that introduce an alias: "a group known as APT31".
ALIAS_VERBS = {"know", "call", "dub", "name", "track"}
MAX_ENTITY_COST = 3
LABEL_PRIORITY = {"THREAT_ACTOR": 0, "AGENCY": 1, "ORG": 2, "PERSON": 3, "GPE": 4, "NORP": 5}


@dataclass(frozen=True)
class EventLexicon:
    """Event predicates by kind: action, accusation, denial, wrapper, copula."""

    kinds: dict[str, tuple[str, str]]

    def kind(self, token: Token) -> str | None:
        """The predicate kind of a token, respecting the part of speech the table allows."""
        entry = self.kinds.get(token.lemma_.lower()) or self.kinds.get(token.lower_)
        if entry is None:
            return None
        kind, pos = entry
        if pos == "ANY" or pos == token.pos_ or (pos == "NOUN" and token.pos_ in ("NOUN", "VERB") and token.dep_ in ("pobj", "dobj", "nsubj", "nsubjpass", "conj")):
            return kind
        return None

    def is_action_noun(self, token: Token) -> bool:
        """'attack', 'compromise', 'targeting' used as a noun phrase head."""
        return token.dep_ not in ("ROOT",) and self.kind(token) in ("action", "wrapper") and (
            token.pos_ == "NOUN" or token.dep_ in ("pobj", "dobj", "nsubj", "nsubjpass", "conj") and token.pos_ != "VERB"
            or token.tag_ == "VBG" and token.dep_ == "pobj"
        )


@functools.lru_cache(maxsize=4)
def load_lexicon(table: str = "event_verbs.tsv") -> EventLexicon:
    """Read the event predicate table once."""
    return EventLexicon({row["lemma"].lower(): (row["kind"], row["pos"]) for row in read_table(table)})


class EventExtractor:
    """Finds event triples in a parsed doc and links them to entities and attributions."""

    def __init__(self, lexicon: EventLexicon) -> None:
        self.lexicon = lexicon

    def events(self, doc: Doc) -> list[dict[str, Any]]:
        """Every event in the doc, in text order."""
        found: list[dict[str, Any]] = []
        for sent in doc.sents:
            used: set[int] = set()
            for token in sent:
                if token.i in used:
                    continue
                for agent, action, targets, predicate in self._readings(token, used):
                    for target in targets or [None]:
                        if agent is None and target is None:
                            continue
                        found.append(self._record(doc, sent, agent, action, target, predicate))
        return found

    def _readings(self, token: Token, used: set[int]) -> list[tuple[Token | None, Span, list[Token], Token]]:
        kind = self.lexicon.kind(token)
        if kind == "action" and token.pos_ in ("VERB", "AUX") and not self.lexicon.is_action_noun(token):
            return [self._verb_event(token, used)]
        if kind == "copula":
            reading = self._copula_event(token)
            return [reading] if reading else []
        if kind == "accusation" and token.pos_ == "VERB":
            return self._accusation_events(token, used)
        if kind == "denial" and token.pos_ == "VERB":
            reading = self._denial_event(token)
            return [reading] if reading else []
        if kind == "action" and self.lexicon.is_action_noun(token):
            reading = self._noun_event(token)
            if reading:
                used.add(token.i)
            return [reading] if reading else []
        return []

    def _verb_event(self, verb: Token, used: set[int]) -> tuple[Token | None, Span, list[Token], Token]:
        """'APT31 targeted X', 'X was compromised by Y', 'accused of targeting X', 'data accessed and exfiltrated'."""
        doc = verb.doc
        joined = [c for c in verb.children if c.dep_ == "conj" and self.lexicon.kind(c) == "action" and not _child(c, "nsubj", "nsubjpass")]
        used.update(c.i for c in joined)
        action = doc[verb.i : (joined[-1].i if joined else verb.i) + 1]
        subject = _child(verb, "nsubj")
        passive_subject = _child(verb, "nsubjpass")
        if passive_subject is not None or _child(verb, "auxpass") is not None:
            by = _child(verb, "agent")
            agent = _child(by, "pobj") if by is not None else None
            target = passive_subject
        elif subject is not None and verb.tag_ == "VBN" and not _child(verb, "aux") and verb.dep_ in ("ccomp", "xcomp", "oprd"):
            # "have seen email data accessed": the subject of a bare participle is what was acted on.
            agent, target = None, subject
        else:
            agent = self._relative_antecedent(verb, subject) if subject is not None else self._inherited_agent(verb)
            target = self._object(verb) or next((self._object(c) for c in joined if self._object(c) is not None), None)
        return agent, action, self._targets(target), verb

    def _copula_event(self, token: Token) -> tuple[Token | None, Span, list[Token], Token] | None:
        """'X was responsible for Y', 'X were behind Y'."""
        be = token.head
        if be.lemma_ != "be":
            return None
        if token.lower_ == "responsible":
            link = next((c for c in token.children if c.dep_ == "prep" and c.lower_ == "for"), None)
        else:
            link = token if token.dep_ == "prep" else None
        if link is None:
            return None
        doc = token.doc
        action = doc[min(be.i, token.i) : link.i + 1]
        return _child(be, "nsubj"), action, self._targets(_child(link, "pobj")), be

    def _accusation_events(self, verb: Token, used: set[int]) -> list[tuple[Token | None, Span, list[Token], Token]]:
        """'attributed the compromise of X to Y', 'blamed Y for the attack on X', 'Y was accused of the hack'."""
        passive = _child(verb, "nsubjpass") is not None
        acts: list[Token] = []
        agent: Token | None = None
        for child in verb.children:
            if child.dep_ in ("dobj", "nsubjpass") and self.lexicon.is_action_noun(child):
                acts.append(child)
            elif child.dep_ == "prep" and child.lower_ == "to":
                agent = _child(child, "pobj")
            elif child.dep_ == "prep" and child.lower_ in ("for", "of"):
                inner = _child(child, "pobj")
                if inner is not None and self.lexicon.is_action_noun(inner):
                    acts.append(inner)
        if agent is None:
            agent = _child(verb, "nsubjpass") if passive else _child(verb, "dobj")
            if agent is not None and agent in acts:
                agent = None
        readings = []
        for act in acts:
            used.add(act.i)
            readings.append((agent, act.doc[act.i : act.i + 1], self._targets(act), act))
        return readings

    def _denial_event(self, verb: Token) -> tuple[Token | None, Span, list[Token], Token] | None:
        """'China denied the allegations': the denial is the event when it governs no other act."""
        governed = [t for t in verb.subtree if t.i != verb.i and self.lexicon.kind(t) in ("action", "copula", "accusation")]
        if governed:
            return None
        denied = _child(verb, "dobj")
        if denied is None or denied.lemma_.lower() not in DENIED_THINGS:
            denied = _child(verb, "ccomp") if denied is None else denied
        if denied is None:
            return None
        return _child(verb, "nsubj"), verb.doc[verb.i : verb.i + 1], [denied], verb

    def _noun_event(self, noun: Token) -> tuple[Token | None, Span, list[Token], Token] | None:
        """'APT31's attack on X', 'the attack on X by APT31': an act named by a noun with its agent."""
        agent = _child(noun, "poss")
        by = next((c for c in noun.children if c.dep_ == "prep" and c.lower_ == "by"), None)
        if agent is None and by is not None:
            agent = _child(by, "pobj")
        if agent is None or agent.pos_ == "PRON" and agent.lower_ in ("its", "their"):
            return None
        return agent, noun.doc[noun.i : noun.i + 1], self._targets(noun), noun

    def _object(self, verb: Token) -> Token | None:
        obj = _child(verb, "dobj")
        if obj is not None:
            return obj
        for prep in verb.children:
            if prep.dep_ == "prep" and prep.lower_ in TARGET_PREPS:
                return _child(prep, "pobj")
        return None

    def _inherited_agent(self, verb: Token) -> Token | None:
        """The agent of a verb without a subject: the accused of 'accused of', the subject of 'tried to'."""
        current = verb
        for _ in range(4):
            head = current.head
            if head.i == current.i:
                return None
            if current.dep_ == "pcomp" and head.dep_ == "prep":
                current = head
                continue
            if self.lexicon.kind(head) == "accusation":
                return _child(head, "nsubjpass") or _child(head, "dobj")
            if current.dep_ in ("xcomp", "conj", "advcl", "acomp"):
                subject = _child(head, "nsubj") or (_child(head, "nsubjpass") if current.dep_ == "conj" else None)
                if subject is not None:
                    return subject
                current = head
                continue
            return None
        return None

    @staticmethod
    def _relative_antecedent(verb: Token, subject: Token) -> Token:
        """'the group, which targeted X': the agent is what 'which' refers to."""
        if subject.tag_ in ("WDT", "WP") and verb.dep_ == "relcl":
            return verb.head
        return subject

    def _targets(self, token: Token | None, depth: int = 0) -> list[Token]:
        """What an act was aimed at, looking through 'a campaign of spying against X' and 'the attack on X'."""
        if token is None or depth > 4:
            return []
        found: list[Token] = []
        kind = self.lexicon.kind(token) if self.lexicon.is_action_noun(token) or _gerund_object(token) else None
        inner = self._aimed_at(token, kind) if kind else None
        found.extend(self._targets(inner, depth + 1) if inner is not None else [token])
        for conj in token.children:
            if conj.dep_ == "conj" and self.lexicon.is_action_noun(conj):
                found.extend(self._targets(conj, depth + 1))
        return found

    def _aimed_at(self, noun: Token, kind: str) -> Token | None:
        for prep in noun.children:
            if prep.dep_ != "prep" or prep.lower_ not in TARGET_PREPS:
                continue
            obj = _child(prep, "pobj", "pcomp")
            if obj is None:
                continue
            if kind == "wrapper" and prep.lower_ == "of" and not (self.lexicon.is_action_noun(obj) or _gerund_object(obj)):
                continue
            return obj
        return None

    def _record(self, doc: Doc, sent: Span, agent: Token | None, action: Span, target: Token | None, predicate: Token) -> dict[str, Any]:
        return {
            "sentence": [sent.start_char, sent.end_char],
            "agent": self._argument(agent),
            "action": {"text": action.text, "span": [action.start_char, action.end_char], "lemma": _lemma(action, predicate)},
            "target": self._argument(target),
            "negated": self._negated(predicate, agent, target),
            "attributed_by": _attribution_index(doc, action),
        }

    def _argument(self, token: Token | None) -> dict[str, Any] | None:
        if token is None:
            return None
        span = self._phrase(token)
        return {"text": span.text, "span": [span.start_char, span.end_char], "canonical_id": _canonical_id(span, token)}

    def _phrase(self, token: Token) -> Span:
        """The token's phrase, without relative clauses, appositions or coordinated acts split off as their own targets."""
        split = [c for c in token.children if c.dep_ in ("conj", "cc") and (c.dep_ == "cc" or self.lexicon.is_action_noun(c))]
        if not any(c.dep_ == "conj" for c in split):
            split = []
        split += [c for c in token.children if c.dep_ in ("relcl", "appos") and c.i > token.i]
        excluded = {t.i for c in split for t in c.subtree}
        indices = [t.i for t in token.subtree if t.i not in excluded]
        start, end = min(indices), max(indices) + 1
        doc = token.doc
        # A phrase never runs across a line break (captions and headlines are parsed with the body).
        breaks = [t.i for t in doc[token.i : end] if "\n" in t.text]
        end = min([end] + breaks)
        while end - 1 > start and ((doc[end - 1].is_punct and not doc[end - 1].is_right_punct) or doc[end - 1].dep_ in ("cc", "case")):
            end -= 1
        while start < end - 1 and doc[start].is_punct:
            start += 1
        return doc[start:end]

    def _negated(self, predicate: Token, agent: Token | None, target: Token | None) -> bool:
        """'did not', 'never', 'no accounts were', 'before any could be', or governed by 'denied'."""
        if self.lexicon.kind(predicate) == "denial":
            return True
        heads = [predicate] + [c for c in predicate.children if c.dep_ == "conj"]
        for head in heads:
            for child in head.children:
                if child.dep_ == "neg" or (child.dep_ == "advmod" and child.lower_ in NEGATIVE_ADVERBS):
                    return True
        marks = {c.lower_ for c in predicate.children if c.dep_ == "mark"}
        modals = {c.lower_ for c in predicate.children if c.dep_ == "aux"}
        if "before" in marks and modals & {"could", "can"}:
            return True
        for argument in (agent, target):
            if argument is not None and (argument.lower_ in NEGATIVE_DETERMINERS or any(c.dep_ == "det" and c.lower_ in NEGATIVE_DETERMINERS for c in argument.children)):
                return True
        return self._under_denial(predicate)

    def _under_denial(self, token: Token) -> bool:
        current = token
        for _ in range(5):
            if current.head.i == current.i:
                return False
            current = current.head
            if self.lexicon.kind(current) == "denial":
                return True
            if current.dep_ not in ("xcomp", "ccomp", "pcomp", "prep", "pobj", "dobj", "conj"):
                return self.lexicon.kind(current.head) == "denial"
        return False


def _child(token: Token | None, *deps: str) -> Token | None:
    if token is None:
        return None
    return next((c for c in token.children if c.dep_ in deps), None)


def _gerund_object(token: Token) -> bool:
    """'a campaign of spying against X': the gerund after a preposition names the act."""
    return token.tag_ == "VBG" and token.dep_ == "pcomp"


def _lemma(action: Span, predicate: Token) -> str:
    """One lemma per action; copulas read as 'be responsible for' / 'be behind'."""
    if predicate.lemma_ == "be":
        return " ".join(["be"] + [t.lemma_.lower() for t in action if t.i > predicate.i])
    lemmas = [t.lemma_.lower() for t in action if t.pos_ in ("VERB", "NOUN") and t.dep_ not in ("aux", "auxpass")]
    return " and ".join(lemmas) if len(lemmas) > 1 else predicate.lemma_.lower()


def _canonical_id(span: Span, root: Token) -> str | None:
    """The entity cluster a phrase names: the mention nearest its head in the parse, by offset overlap."""
    clusters = getattr(span.doc._, "entities", None) if Doc.has_extension("entities") else None
    best: tuple[int, int, str] | None = None
    for cluster in clusters or []:
        for start, end in cluster.get("mentions", []):
            if end <= span.start_char or start >= span.end_char:
                continue
            mention = span.doc.char_span(start, end, alignment_mode="expand")
            if mention is None:
                continue
            cost = _path_cost(mention.root, root)
            rank = (cost, LABEL_PRIORITY.get(cluster.get("label", ""), 9), cluster["id"])
            if cost <= MAX_ENTITY_COST and (best is None or rank < best):
                best = rank
    return best[2] if best else None


def _path_cost(token: Token, root: Token) -> int:
    """How far a mention sits from the phrase head; aliases and appositions are free, modifiers dear."""
    cost = 0
    current = token
    while current.i != root.i:
        if current.head.i == current.i:
            return MAX_ENTITY_COST + 1
        dep, head = current.dep_, current.head
        if dep == "appos" or (dep == "pobj" and head.lower_ == "as") or (dep == "prep" and current.lower_ == "as") or (dep == "acl" and current.lemma_ in ALIAS_VERBS):
            cost += 0
        elif dep in ("compound", "poss", "prep", "pobj", "nmod", "case"):
            cost += 1
        elif dep in ("amod", "npadvmod", "advmod", "relcl", "acl", "conj"):
            # Modifiers describe the head and a coordinated noun is another thing: neither names it.
            cost += MAX_ENTITY_COST + 1
        else:
            cost += 2
        current = head
    return cost


def _attribution_index(doc: Doc, action: Span) -> int | None:
    """The attribution whose content holds the action (the tightest one), or None."""
    attributions = getattr(doc._, "attributions", None) if Doc.has_extension("attributions") else None
    best: tuple[int, int] | None = None
    for index, attribution in enumerate(attributions or []):
        for start, end in attribution.get("content", []):
            if start <= action.start_char and action.end_char <= end and (best is None or end - start < best[0]):
                best = (end - start, index)
    return best[1] if best else None


class EventComponent:
    """spaCy component that stores event triples on doc._.events."""

    def __init__(self, lexicon: EventLexicon) -> None:
        self.extractor = EventExtractor(lexicon)

    def __call__(self, doc: Doc) -> Doc:
        doc._.events = self.extractor.events(doc)
        return doc


@Language.factory("news_events", default_config={"verbs_table": "event_verbs.tsv"})
def make_news_events(nlp: Language, name: str, verbs_table: str) -> EventComponent:
    """Factory for news_events; `verbs_table` names the predicate table in pipeline/data."""
    return EventComponent(load_lexicon(verbs_table))
