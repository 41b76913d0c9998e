"""Trained token tagger for attribution spans (Source / Cue / Content), used by news_quotes.

A small BiLSTM reads, per token, the spaCy model's own context vectors (`doc.tensor`), hashed word and
lemma embeddings, part of speech, dependency label, the head's lemma, whether the token is inside a
quotation, and where the nearest reporting word above it in the parse tree is. It writes BIO tags for
Source, Cue and Content (PolNeAR's univocal scheme); `group_relations` turns the tagged chunks into
relations by following the parse from each content and source chunk to its cue.
Training: `python -m pipeline.nlp.train_attributions`.
"""
from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy
import torch
from spacy.attrs import DEP, HEAD, IDX, LEMMA, LOWER, POS, TAG
from spacy.tokens import Doc
from torch import nn

from pipeline.nlp.quotes import (RELATIVE_PRONOUNS, Lexicon, ParagraphIndex, Relation, subject_of,
                                  find_quote_groups)

LOGGER = logging.getLogger(__name__)
MODEL_DIR = Path(__file__).resolve().parent / "attribution_model"
TAGS = ("O", "B-Source", "I-Source", "B-Cue", "I-Cue", "B-Content", "I-Content")
ROLES = ("Source", "Cue", "Content")
BUCKETS = 1 << 15
MAX_ANCESTOR_STEPS = 8
TENSOR_WIDTH = 96
EXTRA_CUE_WORDS = ("according", "to", ":", "—")


@dataclass(frozen=True)
class LabelSets:
    """The symbolic label inventories the model was trained with (ids are positions, 0 = unknown)."""

    pos: tuple[str, ...]
    tag: tuple[str, ...]
    dep: tuple[str, ...]

    def to_json(self) -> dict:
        return {"pos": list(self.pos), "tag": list(self.tag), "dep": list(self.dep)}


class AttributionTagger(nn.Module):
    """Embeddings + projection + 2-layer BiLSTM + linear layer over the tag set."""

    def __init__(self, labels: LabelSets, hidden: int = 96):
        super().__init__()
        self.labels = labels
        self.word = nn.Embedding(BUCKETS, 48)
        self.lemma = nn.Embedding(BUCKETS, 48)
        self.pos = nn.Embedding(len(labels.pos) + 1, 8)
        self.tag = nn.Embedding(len(labels.tag) + 1, 16)
        self.dep = nn.Embedding(len(labels.dep) + 3, 16)
        self.small = nn.Embedding(64, 8)
        width = TENSOR_WIDTH + 48 + 48 * 3 + 8 + 16 + 16 * 3 + 8 * 4
        self.project = nn.Sequential(nn.Linear(width, 160), nn.ReLU(), nn.Dropout(0.2))
        self.lstm = nn.LSTM(160, hidden, num_layers=2, bidirectional=True, batch_first=True, dropout=0.2)
        self.output = nn.Linear(2 * hidden, len(TAGS))

    def forward(self, dense: torch.Tensor, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Tag scores (batch, length, tags) for padded feature batches."""
        parts = [dense, self.word(ids[..., 0]), self.lemma(ids[..., 1]), self.lemma(ids[..., 2]),
                 self.lemma(ids[..., 3]), self.pos(ids[..., 4]), self.tag(ids[..., 5]), self.dep(ids[..., 6]),
                 self.dep(ids[..., 7]), self.dep(ids[..., 8])]
        parts += [self.small(ids[..., 9 + k]) for k in range(4)]
        hidden = self.project(torch.cat(parts, dim=-1))
        packed = nn.utils.rnn.pack_padded_sequence(hidden, lengths.cpu(), batch_first=True, enforce_sorted=False)
        output, _ = self.lstm(packed)
        output, _ = nn.utils.rnn.pad_packed_sequence(output, batch_first=True, total_length=dense.shape[1])
        return self.output(output)


def _index_of(values: numpy.ndarray, inventory: tuple[str, ...], doc: Doc) -> numpy.ndarray:
    """Map spaCy label hashes to 1-based positions in `inventory` (0 for unknown), vectorised."""
    keys = numpy.asarray([doc.vocab.strings.add(label) for label in inventory], dtype="uint64")
    order = numpy.argsort(keys)
    sorted_keys = keys[order]
    where = numpy.clip(numpy.searchsorted(sorted_keys, values), 0, len(sorted_keys) - 1)
    found = sorted_keys[where] == values
    return numpy.where(found, order[where] + 1, 0)


def _cue_keys(doc: Doc, lexicon: Lexicon) -> numpy.ndarray:
    words = (*lexicon.verbs, *lexicon.nouns, *EXTRA_CUE_WORDS)
    return numpy.asarray([doc.vocab.strings.add(w) for w in words], dtype="uint64")


def featurize(doc: Doc, lexicon: Lexicon, labels: LabelSets, text: str | None = None) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Dense (n, 96) float32 and categorical (n, 13) int64 features for one doc, without token loops."""
    n = len(doc)
    array = doc.to_array([LOWER, LEMMA, POS, TAG, DEP, HEAD, IDX])
    positions = numpy.arange(n)
    heads = positions + array[:, 5].view("int64")
    lemma = array[:, 1]
    dep = _index_of(array[:, 4], labels.dep, doc)
    is_cue = numpy.isin(lemma, _cue_keys(doc, lexicon))
    found = numpy.where(is_cue, positions, -1)
    branch = numpy.where(is_cue, len(labels.dep) + 1, 0)
    depth = numpy.where(is_cue, 0, MAX_ANCESTOR_STEPS + 1)
    current = positions.copy()
    for step in range(1, MAX_ANCESTOR_STEPS + 1):
        parent = heads[current]
        moved = parent != current
        hit = (found < 0) & moved & is_cue[parent]
        found = numpy.where(hit, parent, found)
        branch = numpy.where(hit, dep[current], branch)
        depth = numpy.where(hit, step, depth)
        current = parent
    has_cue = found >= 0
    cue_lemma = numpy.where(has_cue, lemma[numpy.maximum(found, 0)], 0)
    direction = numpy.where(~has_cue, 0, numpy.where(found > positions, 1, numpy.where(found < positions, 2, 3)))
    quoted = _quote_state(doc.text if text is None else text, array[:, 6].astype("int64"))
    ids = numpy.stack([
        (array[:, 0] % BUCKETS).astype("int64"),
        (lemma % BUCKETS).astype("int64"),
        (lemma[heads] % BUCKETS).astype("int64"),
        (cue_lemma % BUCKETS).astype("int64"),
        _index_of(array[:, 2], labels.pos, doc),
        _index_of(array[:, 3], labels.tag, doc),
        dep,
        dep[heads],
        branch,
        depth,
        10 + direction,
        20 + quoted,
        30 + is_cue.astype("int64") + 2 * is_cue[heads].astype("int64"),
    ], axis=1).astype("int64")
    dense = doc.tensor if doc.tensor is not None and doc.tensor.shape == (n, TENSOR_WIDTH) else numpy.zeros(
        (n, TENSOR_WIDTH), dtype="float32")
    return numpy.array(dense, dtype="float32"), ids


def _quote_state(text: str, starts: numpy.ndarray) -> numpy.ndarray:
    """0 outside quotations, 1 inside, 2 for the first token of a quotation segment."""
    state = numpy.zeros(len(starts), dtype="int64")
    for group in find_quote_groups(text):
        for start, end in group.segments:
            first = numpy.searchsorted(starts, start, side="left")
            last = numpy.searchsorted(starts, end, side="left")
            state[first:last] = 1
            if first < len(state):
                state[first] = 2
    return state


def batch_tensors(features: list[tuple[numpy.ndarray, numpy.ndarray]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pad a list of per-doc features into batch tensors."""
    lengths = torch.tensor([max(len(ids), 1) for _, ids in features])
    width = int(lengths.max())
    dense = torch.zeros(len(features), width, TENSOR_WIDTH)
    ids = torch.zeros(len(features), width, features[0][1].shape[1] if len(features[0][1]) else 13, dtype=torch.long)
    for row, (vectors, categorical) in enumerate(features):
        dense[row, :len(vectors)] = torch.as_tensor(vectors)
        ids[row, :len(categorical)] = torch.as_tensor(categorical)
    return dense, ids, lengths


class TaggerRunner:
    """Loaded model plus the decoding of its tags into relations."""

    def __init__(self, model: AttributionTagger):
        self.model = model.eval()

    def tags(self, docs: list[Doc], lexicon: Lexicon, texts: list[str]) -> list[tuple[numpy.ndarray, numpy.ndarray]]:
        """Best tag id and its probability per token, for each doc."""
        empty = (numpy.zeros(0, dtype="int64"), numpy.zeros(0, dtype="float32"))
        live = [(doc, text) for doc, text in zip(docs, texts) if len(doc)]
        results: dict[int, tuple[numpy.ndarray, numpy.ndarray]] = {id(doc): empty for doc in docs}
        if live:
            features = [featurize(doc, lexicon, self.model.labels, text) for doc, text in live]
            with torch.inference_mode():
                probs, best = torch.softmax(self.model(*batch_tensors(features)), dim=-1).max(-1)
            for row, (doc, _) in enumerate(live):
                results[id(doc)] = (best[row, :len(doc)].numpy(), probs[row, :len(doc)].numpy())
        return [results[id(doc)] for doc in docs]

    def relations(self, docs: list[Doc], lexicon: Lexicon, min_confidence: float,
                  texts: list[str]) -> list[list[Relation]]:
        """Relations per doc from the tagger alone, without those it is unsure of."""
        found = [group_relations(doc, tags, probs, ParagraphIndex(doc, text))
                 for doc, text, (tags, probs) in zip(docs, texts, self.tags(docs, lexicon, texts))]
        return [[r for r in relations if r.confidence >= min_confidence] for relations in found]


def chunks(tags: numpy.ndarray) -> list[tuple[str, int, int]]:
    """(role, start, end) token runs from BIO tag ids; a stray I- starts a chunk."""
    found: list[tuple[str, int, int]] = []
    role, start = None, 0
    for i, tag in enumerate(list(tags) + [0]):
        name = TAGS[tag]
        current = name[2:] if tag else None
        if role is not None and (current != role or name.startswith("B-")):
            found.append((role, start, i))
            role = None
        if current is not None and role is None:
            role, start = current, i
    return found


def group_relations(doc: Doc, tags: numpy.ndarray, probs: numpy.ndarray | None = None,
                    index: ParagraphIndex | None = None) -> list[Relation]:
    """Tie each content and source chunk to a cue chunk: through the parse, else the nearest cue
    in the sentence, else (for quoted content) the last cue before it in the paragraph or the one before."""
    runs = chunks(tags)
    if not runs:
        return []
    index = index or ParagraphIndex(doc)
    cue_of_token = numpy.full(len(doc), -1)
    cues = [(s, e) for role, s, e in runs if role == "Cue"]
    for number, (start, end) in enumerate(cues):
        cue_of_token[start:end] = number
    contents: dict[int, list[tuple[int, int]]] = {}
    sources: dict[int, list[tuple[int, int]]] = {}
    for role, start, end in runs:
        if role == "Cue" or not cues:
            continue
        cue = _linked_cue(doc, start, end, cue_of_token, cues, index, role)
        if cue is not None:
            (contents if role == "Content" else sources).setdefault(cue, []).append((start, end))
    source_runs = [(s, e) for role, s, e in runs if role == "Source"]
    source_of_token = numpy.full(len(doc), -1)
    for number, (start, end) in enumerate(source_runs):
        source_of_token[start:end] = number
    relations = []
    for number, (start, end) in enumerate(cues):
        if number not in contents:
            continue
        cue_span = (doc[start].idx, doc[end - 1].idx + len(doc[end - 1]))
        content = [_chars(doc, s, e) for s, e in contents[number]]
        source = sorted(sources.get(number, []), key=lambda run: min(abs(run[0] - end), abs(start - run[1])))[:1]
        if not source:
            source = _shared_subject(doc, doc[start:end].root, source_of_token, source_runs)
        if not source:
            source = _syntactic_subject(doc, doc[start:end].root, tags, index)
        source = [_antecedent(doc, run) for run in source if not _passive_subject(doc, doc[start:end].root, run)]
        confidence = 1.0
        if probs is not None:
            content_probs = numpy.concatenate([probs[s:e] for s, e in contents[number]])
            confidence = float(min(probs[start:end].mean(), content_probs.mean()))
        relations.append(Relation(cue=[cue_span], cue_lemma=doc[start:end].root.lemma_, content=content,
                                  source=[_chars(doc, s, e) for s, e in source], cue_token=doc[start:end].root.i,
                                  origin="tagger", confidence=round(confidence, 3)))
    return relations


def _shared_subject(doc: Doc, cue, source_of_token: numpy.ndarray, source_runs: list[tuple[int, int]]) -> list:
    """'Trump told X ..., adding Y': a participle or conjoined cue shares the subject of the verb above it."""
    current = cue
    for _ in range(4):
        for child in current.children:
            if child.dep_ in {"nsubj", "nsubjpass"} and source_of_token[child.i] >= 0:
                return [source_runs[int(source_of_token[child.i])]]
        if current.dep_ == "relcl" and source_of_token[current.head.i] >= 0:
            return [source_runs[int(source_of_token[current.head.i])]]
        if current.head.i == current.i or current.dep_ not in {"advcl", "conj", "xcomp", "acl", "ccomp"}:
            break
        current = current.head
    return []


def _syntactic_subject(doc: Doc, cue, tags: numpy.ndarray, index: ParagraphIndex) -> list[tuple[int, int]]:
    """The parse's subject of a cue whose source the tagger left untagged, unless the tagger gave
    any of its words another role."""
    subject = subject_of(cue, index.bounds(cue))
    if subject is None:
        return []
    start, end = subject.left_edge.i, subject.right_edge.i + 1
    if start <= cue.i < end:
        end = cue.i
    while end > start and doc[end - 1].is_punct:
        end -= 1
    if end <= start or tags[start:end].any():
        return []
    return [(start, end)]


def _passive_subject(doc: Doc, cue, run: tuple[int, int]) -> bool:
    """'X was criticised for ...': the passive subject of the cue is what the attribution is about."""
    return any(child.dep_ == "nsubjpass" and run[0] <= child.i < run[1] for child in cue.children)


def _antecedent(doc: Doc, run: tuple[int, int]) -> tuple[int, int]:
    """A relative pronoun source ('commentators who have suggested') stands for its noun phrase."""
    start, end = run
    token = doc[start]
    if end - start == 1 and token.lower_ in RELATIVE_PRONOUNS and token.head.dep_ == "relcl":
        noun = token.head.head
        if noun.left_edge.i < start:
            return (noun.left_edge.i, start)
    return run


def _chars(doc: Doc, start: int, end: int) -> tuple[int, int]:
    return (doc[start].idx, doc[end - 1].idx + len(doc[end - 1]))


def _linked_cue(doc: Doc, start: int, end: int, cue_of_token: numpy.ndarray, cues: list[tuple[int, int]],
                index: ParagraphIndex, role: str) -> int | None:
    for token in doc[start:end]:
        current = token
        for _ in range(4):
            if cue_of_token[current.i] >= 0:
                return int(cue_of_token[current.i])
            if current.head.i == current.i:
                break
            current = current.head
    lower, upper = index.bounds(doc[start])
    in_sentence = [n for n, (s, e) in enumerate(cues) if lower <= s < upper]
    if in_sentence:
        return min(in_sentence, key=lambda n: min(abs(cues[n][0] - end), abs(start - cues[n][1])))
    if role != "Content":
        return None
    para = index.token_para[start]
    before = [n for n, (s, e) in enumerate(cues) if e <= start and index.token_para[s] >= para - 1]
    return before[-1] if before else None


@functools.lru_cache(maxsize=None)
def load_tagger(model_dir: str | None = None) -> TaggerRunner | None:
    """The tagger saved in `model_dir` (default: the packaged model), or None when there is none."""
    path = Path(model_dir) if model_dir else MODEL_DIR
    if not (path / "weights.pt").exists():
        LOGGER.info("no attribution tagger at %s; rules only", path)
        return None
    meta = json.loads((path / "labels.json").read_text(encoding="utf-8"))
    labels = LabelSets(pos=tuple(meta["pos"]), tag=tuple(meta["tag"]), dep=tuple(meta["dep"]))
    # One intra-op thread: the model is small, and a parent that has used torch's thread pool
    # deadlocks its forked children when nlp.pipe(n_process=N) forks worker processes.
    torch.set_num_threads(1)
    model = AttributionTagger(labels)
    state = torch.load(path / "weights.pt", map_location="cpu", weights_only=True)
    model.load_state_dict({k: v.float() for k, v in state.items()})
    return TaggerRunner(model)
