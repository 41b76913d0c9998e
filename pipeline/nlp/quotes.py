"""news_quotes: attribution relations (source -> cue -> content) from quote marks, reporting verbs and a tagger.

The component combines three layers, strongest evidence first:

1. reporting verbs, nouns and phrases with their clausal content, read off the dependency parse
   (`X said (that) ...`, `according to X, ...`, `... is believed by X to ...`);
2. quotation marks: every quote (all mark styles, unbalanced marks, quotes running over several
   paragraphs) is tied to the cue around it, a colon, a trailing dash and name, or the previous speaker;
   a repeated pull quote is linked to its original with `pull_quote_of`;
3. an optional trained token tagger (`attribution_model/`) that adds relations the rules miss.

Results go to `doc._.attributions` (see CONTRACT.md) and the quote spans found to `doc._.quotes`.
"""
from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy
from spacy.attrs import IDX, LEMMA, POS, SENT_START
from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from pipeline.tables import DATA_DIR, read_table

LOGGER = logging.getLogger(__name__)

if not Doc.has_extension("attributions"):
    Doc.set_extension("attributions", default=None)
if not Doc.has_extension("quotes"):
    Doc.set_extension("quotes", default=None)

DOUBLE_OPEN = "“„«‹"
DOUBLE_CLOSE = "”»›"
SINGLE_OPEN = "‘"
SINGLE_CLOSE = "’"
QUOTE_MARKS = DOUBLE_OPEN + DOUBLE_CLOSE + SINGLE_OPEN + SINGLE_CLOSE + "\"'"
QUOTE_MARK_RE = re.compile(r"[“”„«»‹›‘’\"']")
OPEN_CONTEXT = set(" \t\n([{—–-/:")
SENTENCE_END = {".", "!", "?"}
CONTENT_DEPS = {"ccomp"}
SUBJECT_DEPS = {"nsubj", "nsubjpass", "csubj"}
RELATIVE_PRONOUNS = {"who", "which", "that"}
EDGE_PUNCT = set(",.;:!?—–-") | set(QUOTE_MARKS)
MIN_FLOATING_WORDS = 4
MIN_PULL_QUOTE_WORDS = 8
MAX_NAME_LINE_TOKENS = 10
MAX_AFTER_CONTEXT = 40
MAX_BEFORE_CONTEXT = 30


@dataclass(frozen=True)
class Lexicon:
    """Cue words and patterns the rules read (loaded from pipeline/data)."""

    verbs: dict[str, str]
    quote_verbs: frozenset[str]
    nouns: dict[str, str]
    passive_by: frozenset[str]
    attribute_to: frozenset[str]
    dashes: frozenset[str]


@functools.lru_cache(maxsize=None)
def load_lexicon(verbs_table: str, nouns_table: str, patterns_file: str) -> Lexicon:
    """Read the cue tables once per process."""
    verb_rows = read_table(verbs_table)
    patterns = json.loads((DATA_DIR / patterns_file).read_text(encoding="utf-8"))
    passive = patterns["passive_cues"]
    return Lexicon(
        verbs={row["lemma"]: row["class"] for row in verb_rows},
        quote_verbs=frozenset(row["lemma"] for row in verb_rows if row["quote"] == "1"),
        nouns={row["lemma"]: row["class"] for row in read_table(nouns_table)},
        passive_by=frozenset(passive["agent_by"]),
        attribute_to=frozenset(passive["attribute_to"]),
        dashes=frozenset(patterns["dash_cues"]),
    )


@dataclass
class QuoteGroup:
    """One quotation: a segment per paragraph it runs over, marks included."""

    segments: list[tuple[int, int]]
    closed: bool

    @property
    def start(self) -> int:
        return self.segments[0][0]

    @property
    def end(self) -> int:
        return self.segments[-1][1]


@dataclass
class Relation:
    """An attribution under construction; `to_record` turns it into the contract's plain dict."""

    cue: list[tuple[int, int]]
    cue_lemma: str
    content: list[tuple[int, int]]
    source: list[tuple[int, int]] = field(default_factory=list)
    cue_token: int | None = None
    origin: str = "rule"
    confidence: float = 0.8
    pull_quote_of: int | None = None
    pull_original: "Relation | None" = None
    quoted: bool = False

    def to_record(self, doc: Doc, positions: dict[int, int], index: "ParagraphIndex") -> dict:
        """Plain msgpack-friendly dict as stored on doc._.attributions."""
        content = sorted(self.content)
        return {
            "kind": "direct" if self.origin == "pull-quote" else _kind_of(index.text, content),
            "source": [list(span) for span in sorted(self.source)],
            "cue": [list(span) for span in sorted(self.cue)],
            "cue_lemma": self.cue_lemma,
            "content": [list(span) for span in content],
            "sentence": list(_sentence_of(doc, self, index)),
            "speaker": None,
            "pull_quote_of": positions.get(id(self.pull_original)) if self.pull_original else None,
            "component": "news_quotes",
            "confidence": self.confidence,
        }


# --------------------------------------------------------------------------- quote marks


def _is_opening(text: str, pos: int) -> bool:
    """A mark opens a quotation when it is a typographic opener or follows a space or start."""
    char = text[pos]
    if char in DOUBLE_OPEN or char == SINGLE_OPEN:
        return True
    before = text[pos - 1] if pos else " "
    after = text[pos + 1] if pos + 1 < len(text) else " "
    return char in "\"'" and before in OPEN_CONTEXT and not after.isspace()


def _is_double(char: str) -> bool:
    return char in DOUBLE_OPEN or char in DOUBLE_CLOSE or char == '"'


def _closes_single(text: str, pos: int) -> bool:
    """An apostrophe inside a word (don't, Ukraine's) is not a closing single quote."""
    after = text[pos + 1] if pos + 1 < len(text) else " "
    before = text[pos - 1] if pos else " "
    return not after.isalnum() and not before.isspace()


def _scan_paragraph(text: str, start: int, end: int) -> list[tuple[int, int, bool, bool]]:
    """Quotes inside one paragraph as (start, end, has_opening_mark, has_closing_mark)."""
    found: list[tuple[int, int, bool, bool]] = []
    open_at: int | None = None
    open_double = True
    for match in QUOTE_MARK_RE.finditer(text, start, end):
        pos = match.start()
        char = text[pos]
        if open_at is None:
            if _is_opening(text, pos):
                if char in "'‘" and not _has_single_close(text, pos + 1, end):
                    continue
                open_at, open_double = pos, _is_double(char)
            elif char in DOUBLE_CLOSE and not found:
                found.append((start, pos + 1, False, True))
        elif open_double and _is_double(char) and not _is_opening_strict(char):
            found.append((open_at, pos + 1, True, True))
            open_at = None
        elif not open_double and char in "’'" and _closes_single(text, pos):
            found.append((open_at, pos + 1, True, True))
            open_at = None
    if open_at is not None and open_double:
        found.append((open_at, _rstrip_end(text, start, end), True, False))
    return found


def _is_opening_strict(char: str) -> bool:
    return char in DOUBLE_OPEN


def _has_single_close(text: str, start: int, end: int) -> bool:
    """A top-level single quote counts only when a closing single mark follows in the paragraph."""
    return any(_closes_single(text, m.start()) for m in re.finditer(r"[’']", text[:end]) if m.start() >= start)


def _rstrip_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Non-empty lines as (start, end) character spans."""
    spans = []
    for match in re.finditer(r"[^\n]+", text):
        start, end = match.span()
        if text[start:end].strip():
            spans.append((start, _rstrip_end(text, start, end)))
    return spans


def find_quote_groups(text: str) -> list[QuoteGroup]:
    """All quotations in the text; a quote left open at a paragraph end continues in the next
    paragraph when that one starts with an opening mark (the news convention for long quotes)."""
    groups: list[QuoteGroup] = []
    pending: QuoteGroup | None = None
    for para_start, para_end in paragraphs(text):
        quotes = _scan_paragraph(text, para_start, para_end)
        first = quotes[0] if quotes else None
        continues = pending is not None and first is not None and first[0] == para_start and first[2]
        if pending is not None and not continues:
            groups.append(pending)
            pending = None
        for number, (start, end, _opened, closed) in enumerate(quotes):
            if number == 0 and continues:
                pending.segments.append((start, end))
                pending.closed = closed
                if closed:
                    groups.append(pending)
                    pending = None
                continue
            group = QuoteGroup([(start, end)], closed)
            if closed or end < para_end:
                groups.append(group)
            else:
                pending = group
    if pending is not None:
        groups.append(pending)
    return groups


def _kind_of(text: str, content: list[tuple[int, int]]) -> str:
    """direct when every content span is a quotation, mixed when some of it is quoted."""
    joined = " ".join(text[s:e] for s, e in content).strip()
    marks = [c for c in joined if c in "“”\"«»„"]
    if not marks:
        return "indirect"
    core = joined.strip(" .,;:")
    inner = core[1:-1].replace("” “", "").replace('" "', "").replace("» «", "")
    if core[:1] in "“\"«„" and core[-1:] in "”\"»" and not re.search("[“”\"«»]", inner):
        return "direct"
    return "mixed"


# --------------------------------------------------------------------------- helpers over the parse


def _sentence_of(doc: Doc, relation: Relation, index: "ParagraphIndex") -> tuple[int, int]:
    anchor = relation.cue[0][0] if relation.cue else relation.content[0][0]
    token = _token_at(doc, anchor)
    if token is None:
        return (anchor, anchor)
    start, end = index.bounds(token)
    return (doc[start].idx, doc[end - 1].idx + len(doc[end - 1]))


def _trimmed(doc: Doc, start: int, end: int) -> tuple[int, int] | None:
    """Token range [start, end) without edge punctuation, as characters; None when empty."""
    while start < end and doc[start].text in EDGE_PUNCT and doc[start].text not in QUOTE_MARKS:
        start += 1
    while end > start and doc[end - 1].text in EDGE_PUNCT and doc[end - 1].text not in QUOTE_MARKS:
        end -= 1
    if start >= end:
        return None
    return (doc[start].idx, doc[end - 1].idx + len(doc[end - 1]))


class ParagraphIndex:
    """Token-to-paragraph lookup, so no span runs across a line break (spaCy sentences sometimes do)."""

    def __init__(self, doc: Doc, text: str | None = None):
        # Doc.text joins every token on each access, so the text is read once here.
        self.text = doc.text if text is None else text
        self.spans = paragraphs(self.text)
        starts = numpy.asarray([start for start, _ in self.spans] or [0], dtype="int64")
        self.token_para = numpy.searchsorted(starts, doc.to_array([IDX]).reshape(-1), side="right") - 1
        # Token.sent re-scans the whole doc on every call in spaCy 3.8, so sentence starts are read once.
        flags = doc.to_array([SENT_START]).reshape(-1).astype("int64") if len(doc) else numpy.zeros(0, "int64")
        self.sent_starts = numpy.union1d([0], numpy.nonzero(flags == 1)[0])
        self.length = len(doc)

    def bounds(self, token: Token) -> tuple[int, int]:
        """Token range of the sentence containing `token`, cut to its paragraph."""
        para = self.token_para[token.i]
        first = int(numpy.searchsorted(self.token_para, para, side="left"))
        last = int(numpy.searchsorted(self.token_para, para, side="right"))
        number = int(numpy.searchsorted(self.sent_starts, token.i, side="right")) - 1
        sent_start = int(self.sent_starts[number])
        sent_end = int(self.sent_starts[number + 1]) if number + 1 < len(self.sent_starts) else self.length
        return max(first, sent_start), min(last, sent_end)


def _subtree_range(token: Token, lower: int, upper: int) -> tuple[int, int]:
    """Token range of the subtree of `token` clipped to [lower, upper)."""
    return max(token.left_edge.i, lower), min(token.right_edge.i + 1, upper)


def subject_of(verb: Token, bounds: tuple[int, int] | None = None) -> Token | None:
    """The grammatical subject of a cue (within `bounds`), inherited through conjunctions and
    participial clauses ('X told Y ..., adding ...', 'emails showing ...', 'by talking about ...');
    a relative pronoun gives way to the noun it stands for. The passive subject of the cue itself
    is not its source ('X was criticised for ...')."""
    lower, upper = bounds or (0, len(verb.doc))
    current = verb
    for _ in range(4):
        for child in sorted(current.children, key=lambda c: abs(c.i - current.i)):
            if child.dep_ not in SUBJECT_DEPS or not lower <= child.i < upper or child.lower_ == "there":
                continue
            if child.dep_ == "nsubjpass" and current is verb:
                return None
            if child.lower_ in RELATIVE_PRONOUNS and current.dep_ == "relcl":
                return current.head if lower <= current.head.i < upper else None
            if child.lower_ != "it" or not _is_expletive(child, current):
                return child
        if current.dep_ == "acl" and current.head.i < current.i and current.head.pos_ in {"NOUN", "PROPN"}:
            return current.head if lower <= current.head.i < upper else None
        if current.dep_ not in {"conj", "advcl", "xcomp", "pcomp", "prep"} or current.head is current:
            return None
        current = current.head
    return None


def _is_expletive(subject: Token, verb: Token) -> bool:
    """'It is believed that ...' has no source."""
    return subject.dep_ == "nsubjpass" or any(c.dep_ == "auxpass" for c in verb.children)


def _agent_of(verb: Token) -> Token | None:
    for child in verb.children:
        if child.dep_ == "agent":
            for grandchild in child.children:
                if grandchild.dep_ == "pobj":
                    return grandchild
    return None


def _source_span(doc: Doc, subject: Token, blocked: list[tuple[int, int]],
                 bounds: tuple[int, int] | None = None) -> tuple[int, int] | None:
    """Character span of the subject's phrase inside the cue's sentence, cut where it would run
    into a cue or content; a relative clause on the subject is left out ('officials who ...')."""
    lower, upper = subject.left_edge.i, subject.right_edge.i + 1
    relative = next((c for c in subject.rights if c.dep_ == "relcl"), None)
    if relative is not None:
        upper = min(upper, relative.left_edge.i)
    if bounds is not None:
        if not bounds[0] <= subject.i < bounds[1]:
            return None
        lower, upper = max(lower, bounds[0]), min(upper, bounds[1])
    for start_char, end_char in blocked:
        if start_char <= subject.idx < end_char:
            return None
        if doc[lower].idx < end_char <= subject.idx:
            while lower < subject.i and doc[lower].idx < end_char:
                lower += 1
        if subject.idx < start_char < doc[upper - 1].idx + len(doc[upper - 1]):
            while upper > subject.i + 1 and doc[upper - 1].idx + len(doc[upper - 1]) > start_char:
                upper -= 1
    return _trimmed(doc, lower, upper)


def _token_at(doc: Doc, char: int) -> Token | None:
    span = doc.char_span(char, char + 1, alignment_mode="expand")
    return span[0] if span is not None and len(span) else None


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


# --------------------------------------------------------------------------- layer 1: cue words


def _cue_candidates(doc: Doc, lexicon: Lexicon) -> list[Token]:
    """Tokens whose lemma is a cue verb or noun, found with one vectorised lookup."""
    strings = doc.vocab.strings
    keys = numpy.asarray([strings.add(w) for w in (*lexicon.verbs, *lexicon.nouns)], dtype="uint64")
    array = doc.to_array([LEMMA, POS])
    hits = numpy.nonzero(numpy.isin(array[:, 0], keys))[0]
    return [doc[int(i)] for i in hits]


def _verb_relation(doc: Doc, verb: Token, lexicon: Lexicon, index: ParagraphIndex) -> Relation | None:
    """`X said (that) C`, `X believes C`, passive `C is believed by X`."""
    bounds = index.bounds(verb)
    content_head = next((c for c in verb.children if c.dep_ in CONTENT_DEPS and bounds[0] <= c.i < bounds[1]), None)
    passive = any(c.dep_ == "auxpass" for c in verb.children)
    if content_head is None and passive and verb.lemma_ in lexicon.passive_by | lexicon.attribute_to:
        return _passive_relation(doc, verb, index)
    if content_head is None or verb.pos_ not in {"VERB", "AUX"}:
        return None
    start, end = _subtree_range(content_head, *index.bounds(verb))
    if start <= verb.i < end:
        return None
    content = _trimmed(doc, start, end)
    if content is None:
        return None
    cue = (verb.idx, verb.idx + len(verb))
    source_token = _agent_of(verb) if passive else subject_of(verb, bounds)
    source = _source_span(doc, source_token, [cue, content], index.bounds(verb)) if source_token is not None else None
    if source is None and content[1] <= verb.idx:
        source = _between_source(doc, content, verb)
    return Relation(cue=[cue], cue_lemma=verb.lemma_, content=[content],
                    source=[source] if source else [], cue_token=verb.i)


def _between_source(doc: Doc, content: tuple[int, int], verb: Token) -> tuple[int, int] | None:
    """'C, the agency has said': the words between the content and the verb, when they name someone."""
    span = doc.char_span(content[1], verb.idx, alignment_mode="expand")
    if span is None:
        return None
    words = [t for t in span if t.dep_ not in {"aux", "neg", "advmod", "punct"} and t.i < verb.i]
    if not words or len(words) > 12 or not any(t.pos_ in {"PROPN", "NOUN", "PRON"} for t in words):
        return None
    return _trimmed(doc, words[0].i, words[-1].i + 1)


def _passive_relation(doc: Doc, verb: Token, index: ParagraphIndex) -> Relation | None:
    """`APT31 is believed by the NCSC to be behind it`; `The attack was attributed to APT31 by X`."""
    agent = _agent_of(verb)
    subject = next((c for c in verb.children if c.dep_ == "nsubjpass"), None)
    if agent is None or subject is None:
        return None
    cue = (verb.idx, verb.idx + len(verb))
    parts = [_subtree_range(subject, *index.bounds(verb))]
    for child in verb.children:
        if child.dep_ in {"xcomp", "prep"} and child.i > verb.i and child.lower_ != "by":
            parts.append(_subtree_range(child, *index.bounds(verb)))
    content = [span for span in (_trimmed(doc, s, e) for s, e in parts) if span]
    if not content:
        return None
    source = _source_span(doc, agent, [cue, *content], index.bounds(verb))
    return Relation(cue=[cue], cue_lemma=verb.lemma_, content=content,
                    source=[source] if source else [], cue_token=verb.i)


def _noun_relation(doc: Doc, noun: Token, lexicon: Lexicon, index: ParagraphIndex) -> Relation | None:
    """`his claim that C`, `the NCSC's assessment that C`."""
    content_head = next((c for c in noun.children if c.dep_ in {"acl", "ccomp"}
                         and any(g.dep_ == "mark" and g.lower_ == "that" for g in c.children)), None)
    if content_head is None:
        return None
    content = _trimmed(doc, *_subtree_range(content_head, *index.bounds(noun)))
    if content is None:
        return None
    verb = _governing_verb(noun)
    anchor = verb if verb is not None and verb.lemma_ in lexicon.verbs else noun
    cue = (anchor.idx, anchor.idx + len(anchor))
    owner = next((c for c in noun.children if c.dep_ == "poss"), None) if anchor is noun else subject_of(
        anchor, index.bounds(anchor))
    source = _source_span(doc, owner, [cue, content], index.bounds(noun)) if owner is not None else None
    return Relation(cue=[cue], cue_lemma=anchor.lemma_, content=[content],
                    source=[source] if source else [], cue_token=anchor.i)


def _governing_verb(noun: Token) -> Token | None:
    """'said in a statement that C': the verb the cue noun hangs from through a preposition."""
    if noun.dep_ == "pobj" and noun.head.dep_ == "prep" and noun.head.head.pos_ == "VERB":
        return noun.head.head
    return None


def _according_to_relations(doc: Doc, index: ParagraphIndex) -> Iterator[Relation]:
    """`According to X, C` / `C, according to X`: the rest of the sentence is the content."""
    for match in re.finditer(r"\b[Aa]ccording to\b", index.text):
        first = _token_at(doc, match.start())
        if first is None or first.i + 1 >= len(doc):
            continue
        to = doc[first.i + 1]
        sent_start, sent_end = index.bounds(first)
        source_head = next((c for c in to.children if c.dep_ == "pobj"), None)
        phrase_end = source_head.right_edge.i + 1 if source_head is not None else to.i + 1
        cue = (first.idx, to.idx + len(to))
        source = _trimmed(doc, to.i + 1, phrase_end) if source_head is not None else None
        content = [span for span in (_trimmed(doc, sent_start, first.i), _trimmed(doc, phrase_end, sent_end))
                   if span]
        if content:
            yield Relation(cue=[cue], cue_lemma="according to", content=content,
                           source=[source] if source else [], cue_token=first.i)


def cue_word_relations(doc: Doc, lexicon: Lexicon, index: ParagraphIndex) -> list[Relation]:
    """Layer 1: relations anchored on reporting verbs, nouns and 'according to'."""
    relations: list[Relation] = []
    for token in _cue_candidates(doc, lexicon):
        if token.pos_ in {"VERB", "AUX"} and token.lemma_ in lexicon.verbs:
            relation = _verb_relation(doc, token, lexicon, index)
        elif token.pos_ == "NOUN" and token.lemma_ in lexicon.nouns:
            relation = _noun_relation(doc, token, lexicon, index)
        else:
            relation = None
        if relation is not None:
            relations.append(relation)
    relations.extend(_according_to_relations(doc, index))
    return _drop_nested(relations)


def _drop_nested(relations: list[Relation]) -> list[Relation]:
    """Keep the outer relation when a cue sits inside another relation's content
    ('X said it believes C' is one attribution, by X)."""
    kept = []
    for relation in relations:
        if not relation.cue:
            kept.append(relation)
            continue
        cue = relation.cue[0]
        if any(other is not relation and any(s <= cue[0] and cue[1] <= e for s, e in other.content)
               for other in relations):
            continue
        kept.append(relation)
    return kept


# --------------------------------------------------------------------------- layer 2: quotations


def _paragraph_index(paras: list[tuple[int, int]], char: int) -> int:
    for number, (start, end) in enumerate(paras):
        if start <= char < end + 1:
            return number
    return len(paras) - 1


def _after_context(doc: Doc, group: QuoteGroup, limit: int) -> tuple[int, int]:
    """Token range after a quote up to the sentence end, the next quote or the paragraph end."""
    first = _token_at(doc, group.end - 1)
    if first is None:
        return (0, 0)
    start = first.i + 1
    end = start
    while end < len(doc) and end - start < MAX_AFTER_CONTEXT and doc[end].idx < limit:
        token = doc[end]
        if "\n" in token.text or (token.is_space and "\n" in token.text_with_ws):
            break
        end += 1
        if token.text in SENTENCE_END:
            break
    return (start, end)


def _before_context(doc: Doc, group: QuoteGroup, floor: int) -> tuple[int, int]:
    """Token range before a quote back to the previous sentence end, quote or paragraph start."""
    first = _token_at(doc, group.start)
    if first is None:
        return (0, 0)
    end = first.i
    start = end
    while start > 0 and end - start < MAX_BEFORE_CONTEXT:
        token = doc[start - 1]
        if token.idx < floor or "\n" in token.text or token.text in SENTENCE_END:
            break
        start -= 1
    return (start, end)


def _quote_cue(doc: Doc, start: int, end: int, lexicon: Lexicon, last: bool) -> Token | None:
    """The reporting verb of a quote's frame (the last one before the quote, the first after)."""
    tokens = range(end - 1, start - 1, -1) if last else range(start, end)
    for i in tokens:
        token = doc[i]
        if token.pos_ in {"VERB", "AUX"} and token.lemma_ in lexicon.verbs:
            return token
    return None


def _inverted_subject(doc: Doc, verb: Token, end: int) -> Token | None:
    """'..., said Paul Chichester': the name after the verb."""
    for i in range(verb.i + 1, end):
        token = doc[i]
        if token.pos_ in {"PROPN", "PRON", "NOUN"}:
            head = token
            while head.head.i != head.i and verb.i < head.head.i < end and head.dep_ in {"compound", "amod", "det"}:
                head = head.head
            return head
    return None


def _name_after_dash(doc: Doc, start: int, end: int, lexicon: Lexicon) -> tuple[Token, tuple[int, int]] | None:
    """A trailing '— Name, Org' after a quote: the dash token and the name's characters."""
    if start >= end or doc[start].text not in lexicon.dashes:
        return None
    stop = start + 1
    while stop < end and doc[stop].text not in {",", ".", "(", ";"} and not doc[stop].is_space:
        stop += 1
    name = _trimmed(doc, start + 1, stop)
    if name is None or not doc[start + 1].is_title:
        return None
    return doc[start], name


def _frame_relation(doc: Doc, group: QuoteGroup, lexicon: Lexicon, floor: int, ceiling: int,
                    colon_context: tuple[int, int] | None) -> Relation | None:
    """Tie a quotation to the cue and source in the words around it."""
    content = list(group.segments)
    after = _after_context(doc, group, ceiling)
    verb = _quote_cue(doc, *after, lexicon, last=False)
    if verb is not None and verb.lemma_ in lexicon.quote_verbs:
        subject = subject_of(verb) or _inverted_subject(doc, verb, after[1])
        if subject is not None and not (after[0] <= subject.i < after[1]):
            subject = _inverted_subject(doc, verb, after[1])
        return _quote_relation(doc, verb, subject, content, (doc[after[0]].idx, doc[after[1] - 1].idx + 1))
    dash = _name_after_dash(doc, *after, lexicon)
    if dash is not None:
        token, name = dash
        return Relation(cue=[(token.idx, token.idx + len(token))], cue_lemma=token.text, content=content,
                        source=[name], cue_token=token.i, quoted=True)
    before = _before_context(doc, group, floor)
    if before[0] == before[1] and colon_context is not None:
        before = colon_context
    if before[0] == before[1]:
        return None
    verb = _quote_cue(doc, *before, lexicon, last=True)
    introduces = doc[before[1] - 1].text in {":", ",", "—"} or (verb is not None and before[1] - verb.i <= 2)
    if verb is not None and introduces:
        window = (doc[before[0]].idx, doc[before[1] - 1].idx + len(doc[before[1] - 1]))
        return _quote_relation(doc, verb, subject_of(verb), content, window)
    last = doc[before[1] - 1]
    if last.text == ":":
        subject = next((t for t in doc[before[0]:before[1] - 1] if t.dep_ in SUBJECT_DEPS), None)
        if subject is None:
            subject = last.head if last.head.pos_ in {"PROPN", "NOUN", "PRON"} else None
        window = (doc[before[0]].idx, last.idx)
        source = _source_span(doc, subject, [window[1:] + (window[1] + 1,)]) if subject is not None else None
        return Relation(cue=[(last.idx, last.idx + 1)], cue_lemma=":", content=content,
                        source=[source] if source else [], cue_token=last.i, quoted=True)
    return None


def _quote_relation(doc: Doc, verb: Token, subject: Token | None, content: list[tuple[int, int]],
                    window: tuple[int, int]) -> Relation:
    cue = (verb.idx, verb.idx + len(verb))
    source = None
    if subject is not None and window[0] <= subject.idx < window[1]:
        source = _source_span(doc, subject, [cue, *content])
    return Relation(cue=[cue], cue_lemma=verb.lemma_, content=content, source=[source] if source else [],
                    cue_token=verb.i, quoted=True)


def _word_count(text: str) -> int:
    return len(re.findall(r"\w+", text))


def _normalised(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def attach_quotes(doc: Doc, groups: list[QuoteGroup], relations: list[Relation], lexicon: Lexicon,
                  index: ParagraphIndex) -> list[Relation]:
    """Layer 2: give every quotation a relation (existing, new, or the previous speaker's)."""
    paras = index.spans
    by_cue = {r.cue_token: r for r in relations if r.cue_token is not None}
    for number, group in enumerate(groups):
        owner = next((r for r in relations if any(_overlaps(c, group.segments[0]) for c in r.content)), None)
        if owner is not None:
            _absorb(doc, owner, group)
            continue
        para = _paragraph_index(paras, group.start)
        floor = max([paras[para][0]] + [g.end for g in groups[:number] if g.end <= group.start])
        ceiling = min([paras[_paragraph_index(paras, group.end)][1]]
                      + [g.start for g in groups[number + 1:] if g.start >= group.end])
        colon_context = _colon_context(doc, index.text, paras, para) if group.start == paras[para][0] else None
        relation = _frame_relation(doc, group, lexicon, floor, ceiling, colon_context)
        if relation is not None and relation.cue_token in by_cue:
            by_cue[relation.cue_token].content.extend(group.segments)
            by_cue[relation.cue_token].quoted = True
            continue
        if relation is None:
            relation = _floating(index.text, group, relations, paras)
            if relation is None:
                continue
            if relation in relations:
                continue
        relations.append(relation)
        if relation.cue_token is not None:
            by_cue[relation.cue_token] = relation
    return relations


def _absorb(doc: Doc, owner: Relation, group: QuoteGroup) -> None:
    """A cue word's content that overlaps a quotation takes the whole quotation."""
    owner.quoted = True
    first = owner.content[0]
    if first[0] >= group.start - 1:
        owner.content = [span for span in owner.content if not _overlaps(span, (group.start, group.end))]
        owner.content = group.segments + owner.content
        return
    owner.content[0] = (first[0], max(first[1], group.segments[0][1]))
    owner.content.extend(group.segments[1:])


def _colon_context(doc: Doc, text: str, paras: list[tuple[int, int]], para: int) -> tuple[int, int] | None:
    """The last sentence of the previous paragraph when it ends with a colon."""
    if para == 0:
        return None
    start, end = paras[para - 1]
    if not text[start:end].rstrip().endswith(":"):
        return None
    last = _token_at(doc, end - 1)
    if last is None:
        return None
    first = last.i
    while first > 0 and doc[first - 1].idx >= start and doc[first - 1].text not in SENTENCE_END:
        first -= 1
    return (first, last.i + 1)


def _floating(full_text: str, group: QuoteGroup, relations: list[Relation],
              paras: list[tuple[int, int]]) -> Relation | None:
    """A quote with no cue of its own continues the previous quoted speaker."""
    text = full_text[group.start:group.end]
    if _word_count(text) < MIN_FLOATING_WORDS:
        return None
    para = _paragraph_index(paras, group.start)
    if group.start != paras[para][0] and not re.search(r"[.!?][\"”’»]?\s*$", text):
        return None
    earlier = [r for r in relations if r.content and min(c[0] for c in r.content) < group.start and r.quoted]
    if not earlier:
        return None
    previous = max(earlier, key=lambda r: max(c[1] for c in r.content))
    previous_para = _paragraph_index(paras, max(c[1] for c in previous.content) - 1)
    if para - previous_para > 2:
        return None
    if para - previous_para <= 1:
        previous.content.extend(group.segments)
        return previous
    return Relation(cue=[], cue_lemma="", content=list(group.segments), source=[], origin="previous-speaker",
                    confidence=0.6, quoted=True)


def _name_line(doc: Doc, full_text: str, start: int, end: int) -> tuple[int, int] | None:
    """'Paul Chichester, NCSC' under a pull quote: the name's characters, or None."""
    text = full_text[start:end]
    if not re.fullmatch(r"[—–-]?\s*[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){1,3}(?:,\s*[^.!?]{1,80})?", text):
        return None
    comma = text.find(",")
    name_end = start + (comma if comma >= 0 else len(text))
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or len(span) > MAX_NAME_LINE_TOKENS:
        return None
    if any(t.pos_ in {"VERB", "AUX"} for t in span if t.idx < name_end):
        return None
    offset = len(text) - len(text.lstrip("—–- "))
    return (start + offset, name_end)


def pull_quotes(doc: Doc, relations: list[Relation], index: ParagraphIndex) -> list[Relation]:
    """A paragraph repeating part of a quote, set off with a 'Name, Org' line, is a pull quote of it."""
    full_text, paras = index.text, index.spans
    originals = [(r, _normalised(" ".join(full_text[s:e] for s, e in r.content))) for r in relations if r.quoted]
    for number in range(len(paras) - 1):
        name = _name_line(doc, full_text, *paras[number + 1])
        if name is None:
            continue
        start, end = paras[number]
        text = _normalised(full_text[start:end])
        if _word_count(text) < MIN_PULL_QUOTE_WORDS:
            continue
        original = next((r for r, body in originals
                         if text in body and not any(_overlaps((start, end), c) for c in r.content)), None)
        inside = [r for r in relations if any(_overlaps((start, end), c) for c in r.content)]
        if original is None and not (full_text[start] in DOUBLE_OPEN + '"' and not inside):
            continue
        for stale in inside:
            relations.remove(stale)
        relations.append(Relation(cue=[], cue_lemma="", content=[(start, end)], source=[name],
                                  origin="pull-quote", confidence=0.7, pull_original=original, quoted=True))
    return relations


# --------------------------------------------------------------------------- component


def extract_attributions(doc: Doc, lexicon: Lexicon, groups: list[QuoteGroup] | None = None,
                         extra: Iterable[Relation] = (), text: str | None = None) -> list[dict]:
    """All layers over one parsed doc; returns the contract's list of plain dicts."""
    index = ParagraphIndex(doc, text)
    groups = find_quote_groups(index.text) if groups is None else groups
    relations = _merge_extra(cue_word_relations(doc, lexicon, index), list(extra))
    relations = _outside_quotes(relations, groups)
    relations = attach_quotes(doc, groups, relations, lexicon, index)
    relations = pull_quotes(doc, relations, index)
    relations = _drop_nested([r for r in relations if r.content])
    for relation in relations:
        relation.content = _merge_adjacent(index.text, sorted(set(relation.content)))
    relations.sort(key=lambda r: (min(c[0] for c in r.content), r.cue[0] if r.cue else (0, 0)))
    positions = {id(r): i for i, r in enumerate(relations)}
    return [r.to_record(doc, positions, index) for r in relations]


def _outside_quotes(relations: list[Relation], groups: list[QuoteGroup]) -> list[Relation]:
    """Drop relations cued inside a quotation ('"I think it works," she said' is one attribution, hers);
    a lone unbalanced mark is too weak a signal to drop anything."""
    quoted = [seg for g in groups if g.closed or len(g.segments) > 1 for seg in g.segments]
    return [r for r in relations if not r.cue or not any(s < r.cue[0][0] and r.cue[0][1] < e for s, e in quoted)]


def _merge_extra(relations: list[Relation], extra: list[Relation]) -> list[Relation]:
    """Add tagger relations whose content and cue no rule relation already covers (the rules are the
    more precise of the two where both fire; measured on a held-out tenth of PolNeAR train)."""
    for candidate in extra:
        if any(_overlaps(c, o) for c in candidate.content for r in relations for o in r.content):
            continue
        if any(_overlaps(q, o) for q in candidate.cue for r in relations for o in r.cue):
            continue
        relations.append(candidate)
    return relations


def _merge_adjacent(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join spans that overlap or touch within one paragraph."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1] and "\n" not in text[merged[-1][1]:start]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


class NewsQuotes:
    """spaCy component writing doc._.attributions and doc._.quotes."""

    def __init__(self, nlp: Language, name: str, cue_verbs_table: str, cue_nouns_table: str,
                 patterns_file: str, model_dir: str | None, use_model: bool, min_tagger_confidence: float):
        self.name = name
        self.min_tagger_confidence = min_tagger_confidence
        self.lexicon = load_lexicon(cue_verbs_table, cue_nouns_table, patterns_file)
        self.tagger = None
        if use_model:
            from pipeline.nlp.attribution_tagger import load_tagger

            self.tagger = load_tagger(model_dir)

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 32) -> Iterator[Doc]:
        """Annotate docs, running the tagger (when present) over a batch at a time."""
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._annotate(batch)
                batch = []
        if batch:
            yield from self._annotate(batch)

    def _annotate(self, docs: list[Doc]) -> list[Doc]:
        texts = [doc.text for doc in docs]
        tagged = (self.tagger.relations(docs, self.lexicon, self.min_tagger_confidence, texts)
                  if self.tagger is not None else [[] for _ in docs])
        for doc, text, extra in zip(docs, texts, tagged):
            groups = find_quote_groups(text)
            doc._.quotes = [{"spans": [list(s) for s in g.segments], "closed": g.closed} for g in groups]
            doc._.attributions = extract_attributions(doc, self.lexicon, groups, extra, text)
        return docs


@Language.factory(
    "news_quotes",
    default_config={
        "cue_verbs_table": "cue_verbs.tsv",
        "cue_nouns_table": "cue_nouns.tsv",
        "patterns_file": "attribution_patterns.json",
        "model_dir": None,
        "use_model": True,
        "min_tagger_confidence": 0.55,
    },
)
def make_news_quotes(nlp: Language, name: str, cue_verbs_table: str, cue_nouns_table: str, patterns_file: str,
                     model_dir: str | None, use_model: bool, min_tagger_confidence: float) -> NewsQuotes:
    """Attribution relations from cue words, quotation marks and (optionally) the trained tagger."""
    return NewsQuotes(nlp, name, cue_verbs_table, cue_nouns_table, patterns_file, model_dir, use_model,
                      min_tagger_confidence)
