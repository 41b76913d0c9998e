"""Score attribution relations (source, cue, content) against PolNeAR-style gold.

The definitions follow `../shared/tools/attribution_score.py`, the reference scorer the project
reports alongside, so both give the same numbers on the same predictions:

* text is cut into word tokens (`\\w+` joined by apostrophes, dots or hyphens) and single
  punctuation characters; a span covers every token it overlaps;
* content, source and cue token sets are compared after stripping punctuation and quote tokens
  at their edges;
* predicted and gold relations are paired one-to-one, greedily, by the Dice coefficient of their
  content tokens (highest first; a pair needs Dice >= `match` and > 0);
* a paired relation is a relation hit when the sources are both empty or share a token.
"""
from __future__ import annotations

import bisect
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pipeline.evaluate.brat import GoldRelation, Span, load_gold, load_texts
from pipeline.jsonl import write_json_atomic, write_jsonl_atomic

LOGGER = logging.getLogger(__name__)

KINDS = ("direct", "mixed", "indirect")
WORD_OR_PUNCT = re.compile(r"\w+(?:[’'.\-]\w+)*|[^\w\s]")
EDGE_PUNCTUATION = frozenset('“”"‘’\'`.,;:!?()[]—–-')

Relation = dict[str, Any]

# Scored quantities: each is a true-positive count turned into P/R/F1 over predicted/gold relations.
MEASURES = {
    "content_match": "content match (Dice >= threshold)",
    "content_exact": "content exact (edge punct stripped)",
    "rel_overlap": "relation: content + source overlap",
    "rel_exact_source": "relation: content + source exact",
    "rel_all_exact": "relation: content exact + source exact",
    "cue_overlap": "content matched + cue overlap",
    "cue_exact": "content matched + cue exact",
}


class TokenIndex:
    """Word/punctuation tokens of one text, to turn character spans into token id sets."""

    def __init__(self, text: str):
        self.text = text
        bounds = [match.span() for match in WORD_OR_PUNCT.finditer(text)]
        self.starts = [start for start, _ in bounds]
        self.ends = [end for _, end in bounds]

    def covered(self, spans: Iterable[Span]) -> frozenset[int]:
        """Ids of the tokens that overlap any of `spans` (a point inside a token selects it)."""
        ids: set[int] = set()
        for start, end in spans:
            token = bisect.bisect_right(self.ends, start)
            while token < len(self.starts) and self.starts[token] < end:
                ids.add(token)
                token += 1
        return frozenset(ids)

    def core(self, spans: Iterable[Span]) -> frozenset[int]:
        """Like `covered`, minus punctuation and quote tokens at either edge."""
        ids = sorted(self.covered(spans))
        first, last = 0, len(ids)
        while first < last and self._is_edge_punctuation(ids[first]):
            first += 1
        while last > first and self._is_edge_punctuation(ids[last - 1]):
            last -= 1
        return frozenset(ids[first:last])

    def _is_edge_punctuation(self, token: int) -> bool:
        """Whether a token is a single strippable punctuation or quote character."""
        return self.text[self.starts[token]:self.ends[token]] in EDGE_PUNCTUATION


def dice(first: frozenset[int], second: frozenset[int]) -> float:
    """Dice coefficient of two token sets (1.0 when both are empty)."""
    if not first and not second:
        return 1.0
    if not first or not second:
        return 0.0
    return 2 * len(first & second) / (len(first) + len(second))


def prf(hits: int, predicted: int, gold: int) -> dict[str, float]:
    """Precision, recall and F1 as fractions."""
    precision = hits / predicted if predicted else 0.0
    recall = hits / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"p": precision, "r": recall, "f1": f1}


@dataclass
class Scores:
    """Micro-averaged counts over a split, with P/R/F1 derived from them."""

    counts: Counter = field(default_factory=Counter)
    match: float = 0.5

    def measure(self, name: str) -> dict[str, float]:
        """P/R/F1 of one of `MEASURES` (or `tokens` for the soft content-token overlap)."""
        if name == "tokens":
            return prf(self.counts["tok_overlap"], self.counts["tok_pred"], self.counts["tok_gold"])
        return prf(self.counts[name], self.counts["pred"], self.counts["gold"])

    @property
    def cue_accuracy(self) -> float:
        """Share of content-matched pairs whose cues overlap (or are both empty)."""
        matched = self.counts["content_match"]
        return self.counts["cue_overlap"] / matched if matched else 0.0

    def recall_by_kind(self) -> dict[str, dict[str, float | int]]:
        """Per gold kind: gold count, content recall, content+source recall."""
        out = {}
        for kind in KINDS:
            total = self.counts[f"gold_{kind}"]
            if total:
                out[kind] = {"gold": total,
                             "content": self.counts[f"hit_{kind}"] / total,
                             "content_source": self.counts[f"rel_{kind}"] / total}
        return out

    def to_json(self) -> dict[str, Any]:
        """Rounded metrics, keyed like the reference scorer's JSON, plus raw counts."""
        out: dict[str, Any] = {"gold": self.counts["gold"], "pred": self.counts["pred"], "match": self.match}
        for name in (*MEASURES, "tokens"):
            out[name] = {key: round(value, 4) for key, value in self.measure(name).items()}
        out["cue_accuracy"] = round(self.cue_accuracy, 4)
        for kind, recall in self.recall_by_kind().items():
            out[f"recall_{kind}"] = {"gold": recall["gold"], "content": round(recall["content"], 4),
                                     "content_source": round(recall["content_source"], 4)}
        out["counts"] = dict(sorted(self.counts.items()))
        return out

    def table(self) -> str:
        """A plain-text report of every metric."""
        lines = [f"gold relations={self.counts['gold']}  predicted={self.counts['pred']}  "
                 f"(content Dice >= {self.match})",
                 f"  {'metric':40s} {'P':>7s} {'R':>7s} {'F1':>7s}"]
        for name, label in (*MEASURES.items(), ("tokens", "content soft token overlap")):
            scores = self.measure(name)
            lines.append(f"  {label:40s} {scores['p']:7.1%} {scores['r']:7.1%} {scores['f1']:7.1%}")
        lines.append(f"  {'cue accuracy on content-matched pairs':40s} {self.cue_accuracy:7.1%}"
                     f"  ({self.counts['cue_overlap']}/{self.counts['content_match']})")
        for kind, recall in self.recall_by_kind().items():
            lines.append(f"  recall {kind:9s} gold={recall['gold']:5d}  content={recall['content']:6.1%}  "
                         f"content+source={recall['content_source']:6.1%}")
        return "\n".join(lines)


@dataclass(frozen=True)
class _Tokenised:
    """One relation as token sets: raw content, and edge-stripped content, source and cue."""

    content_raw: frozenset[int]
    content: frozenset[int]
    source: frozenset[int]
    cue: frozenset[int]


def _tokenise(index: TokenIndex, content: Iterable[Span], source: Iterable[Span],
              cue: Iterable[Span]) -> _Tokenised:
    """Token sets of a relation's spans."""
    content = list(content)
    return _Tokenised(index.covered(content), index.core(content), index.core(source), index.core(cue))


def _spans(relation: Relation, role: str) -> list[Span]:
    """A predicted relation's spans for one role as (start, end) tuples."""
    return [(int(start), int(end)) for start, end in relation.get(role) or []]


def _greedy_pairs(gold: list[_Tokenised], pred: list[_Tokenised], match: float) -> list[tuple[int, int]]:
    """One-to-one (gold, pred) pairs by descending content Dice.

    Ties go to the later gold relation, then the later prediction, as in the reference scorer,
    so both tools pick the same pairs.
    """
    candidates = sorted(((dice(g.content, p.content), gi, pi)
                         for gi, g in enumerate(gold) for pi, p in enumerate(pred)), reverse=True)
    pairs, used_gold, used_pred = [], set(), set()
    for similarity, gi, pi in candidates:
        if similarity < match or similarity == 0:
            break
        if gi not in used_gold and pi not in used_pred:
            used_gold.add(gi)
            used_pred.add(pi)
            pairs.append((gi, pi))
    return pairs


def _overlaps(gold: frozenset[int], pred: frozenset[int]) -> bool:
    """Both empty, or sharing at least one token."""
    return (not gold and not pred) or bool(gold & pred)


def score_article(text: str, gold: list[GoldRelation], pred: list[Relation], match: float = 0.5) -> Counter:
    """Counts for one article (see `Scores`)."""
    index = TokenIndex(text)
    gold_tokens = [_tokenise(index, g.content, g.source, g.cue) for g in gold]
    pred_tokens = [_tokenise(index, _spans(p, "content"), _spans(p, "source"), _spans(p, "cue")) for p in pred]
    counts = Counter(gold=len(gold), pred=len(pred))
    for relation in gold:
        counts[f"gold_{relation.kind}"] += 1
    gold_union = frozenset().union(*(g.content_raw for g in gold_tokens))
    pred_union = frozenset().union(*(p.content_raw for p in pred_tokens))
    counts.update(tok_overlap=len(gold_union & pred_union), tok_gold=len(gold_union), tok_pred=len(pred_union))
    for gi, pi in _greedy_pairs(gold_tokens, pred_tokens, match):
        g, p, kind = gold_tokens[gi], pred_tokens[pi], gold[gi].kind
        content_exact, source_exact = g.content == p.content, g.source == p.source
        counts["content_match"] += 1
        counts[f"hit_{kind}"] += 1
        counts["content_exact"] += content_exact
        counts["rel_exact_source"] += source_exact
        counts["rel_all_exact"] += content_exact and source_exact
        if _overlaps(g.source, p.source):
            counts["rel_overlap"] += 1
            counts[f"rel_{kind}"] += 1
        counts["cue_overlap"] += _overlaps(g.cue, p.cue)
        counts["cue_exact"] += g.cue == p.cue
    return counts


def score(gold: dict[str, list[GoldRelation]], pred: dict[str, list[Relation]], texts: dict[str, str],
          match: float = 0.5) -> Scores:
    """Micro-averaged scores over the gold articles; predictions for other articles are ignored."""
    scores = Scores(match=match)
    for article, relations in gold.items():
        scores.counts.update(score_article(texts[article], relations, pred.get(article, []), match))
    return scores


def merge_same_cue(relations: list[Relation]) -> list[Relation]:
    """Join relations that share an identical non-empty cue into one with all their content spans.

    PolNeAR stores a quotation split around "she said" as one relation with discontinuous content;
    the source, cue and speaker of the first relation are kept.
    """
    merged: dict[Any, Relation] = {}
    for position, relation in enumerate(relations):
        cue = tuple(tuple(span) for span in relation.get("cue") or [])
        key = cue or ("uncued", position)
        if key not in merged:
            merged[key] = {**relation, "content": []}
        merged[key]["content"] = [*merged[key]["content"], *relation["content"]]
    return list(merged.values())


def prediction_record(article: str, relations: list[Relation]) -> dict[str, Any]:
    """One line of the reference scorer's prediction format."""
    out = []
    for relation in relations:
        speaker = relation.get("speaker") or {}
        out.append({"source": [list(span) for span in relation.get("source") or []],
                    "cue": [list(span) for span in relation.get("cue") or []],
                    "content": [list(span) for span in relation.get("content") or []],
                    "speaker_name": relation.get("speaker_name", speaker.get("name"))})
    return {"article": article, "relations": out}


def export_predictions(pred: dict[str, list[Relation]], path: Path) -> None:
    """Write predictions as JSON Lines in the reference scorer's format, one article per line."""
    write_jsonl_atomic(path, (prediction_record(article, relations) for article, relations in pred.items()))


def read_predictions(path: Path) -> dict[str, list[Relation]]:
    """Read a prediction file in the reference format (later lines for an article replace earlier ones)."""
    pred = {}
    with open(path, encoding="utf8") as stream:
        for line in stream:
            if line.strip():
                record = json.loads(line)
                pred[record["article"]] = record["relations"]
    return pred


def predict(gold_dir: Path, split: str, nlp, batch_size: int = 8) -> dict[str, list[Relation]]:
    """Run `nlp` over the split's texts and collect each doc's `doc._.attributions`."""
    texts = load_texts(gold_dir, split)
    pred = {}
    docs = nlp.pipe(texts.values(), batch_size=batch_size)
    for article, doc in zip(texts, docs):
        pred[article] = list(doc._.attributions or []) if doc.has_extension("attributions") else []
    return pred


def evaluate_attributions(gold_dir: Path, split: str = "dev", *, pred_path: Path | None = None,
                          model: str | None = None, export_path: Path | None = None,
                          json_path: Path | None = None, out_dir: Path | None = None,
                          merge: bool = False, match: float = 0.5) -> Scores:
    """Score predictions (read from `pred_path`, or made by the project pipeline) and write reports.

    `out_dir` receives `scores.json` and, when the pipeline made the predictions, `predictions.jsonl`
    (reference format, so `../shared/tools/attribution_score.py` can score the same file);
    `json_path` and `export_path` name those files individually.
    """
    gold, texts = load_gold(gold_dir, split), load_texts(gold_dir, split)
    if pred_path is not None:
        pred = read_predictions(pred_path)
    else:
        pred = predict(gold_dir, split, _build_pipeline(model))
    if out_dir is not None:
        json_path = json_path or Path(out_dir) / "scores.json"
        if pred_path is None:
            export_path = export_path or Path(out_dir) / "predictions.jsonl"
    if export_path is not None:
        export_predictions(pred, export_path)
    if merge:
        pred = {article: merge_same_cue(relations) for article, relations in pred.items()}
    scores = score(gold, pred, texts, match)
    if json_path is not None:
        report = {"split": split, "gold_dir": str(gold_dir), "merge_same_cue": merge, **scores.to_json()}
        write_json_atomic(Path(json_path), report)
    return scores


def _build_pipeline(model: str | None):
    """The project pipeline, on `model` when given."""
    from pipeline.nlp import build_nlp

    return build_nlp(model) if model else build_nlp()
