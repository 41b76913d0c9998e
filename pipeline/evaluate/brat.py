"""Read PolNeAR-style BRAT standoff annotations: `metadata.tsv`, `<split>/text`, `<split>/attributions`.

A relation is an `E` line such as `E3<TAB>Attribution:T9 Source:T7 Cue:T8 Content:T6 Content2:T10`;
the first argument names the relation type and its trigger, the others point at `T` lines whose
character offsets (possibly discontinuous, `12 30;41 55`) give the source, cue and content spans.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

LOGGER = logging.getLogger(__name__)

Span = tuple[int, int]

ROLES = ("source", "cue", "content")
DOUBLE_QUOTES = frozenset('“”"')
_TRAILING_DIGITS = re.compile(r"\d+$")


@dataclass(frozen=True)
class GoldRelation:
    """One annotated attribution: its spans by role, BRAT relation type and content kind."""

    id: str
    relation_type: str
    source: tuple[Span, ...]
    cue: tuple[Span, ...]
    content: tuple[Span, ...]
    kind: str = "indirect"


def _parse_spans(offsets: str) -> tuple[Span, ...]:
    """`'12 30;41 55'` -> `((12, 30), (41, 55))`."""
    spans = []
    for fragment in offsets.split(";"):
        start, end = fragment.split()
        spans.append((int(start), int(end)))
    return tuple(spans)


def _parse_text_bounds(lines: list[str]) -> dict[str, tuple[str, tuple[Span, ...]]]:
    """Map each `T` id to its (type, spans)."""
    bounds = {}
    for line in lines:
        fields = line.split("\t")
        if not line.startswith("T") or len(fields) < 2:
            continue
        label, _, offsets = fields[1].partition(" ")
        bounds[fields[0]] = (label, _parse_spans(offsets))
    return bounds


def parse_standoff(ann: str, text: str | None = None) -> list[GoldRelation]:
    """Relations of one `.ann` file, in file order; those without content are dropped.

    Numbered roles (`Content2`) extend their base role; `kind` is computed when `text` is given.
    """
    lines = ann.split("\n")
    bounds = _parse_text_bounds(lines)
    relations = []
    for line in lines:
        fields = line.split("\t")
        if not line.startswith("E") or len(fields) < 2:
            continue
        arguments = [arg.split(":", 1) for arg in fields[1].split(" ") if ":" in arg]
        if not arguments:
            continue
        relation_type = arguments[0][0]
        spans: dict[str, list[Span]] = {role: [] for role in ROLES}
        for role, target in arguments[1:]:
            role = _TRAILING_DIGITS.sub("", role).lower()
            if role in spans and target in bounds:
                spans[role].extend(bounds[target][1])
        if not spans["content"]:
            continue
        kind = content_kind(text, spans["content"]) if text is not None else "indirect"
        relations.append(GoldRelation(fields[0], relation_type, tuple(spans["source"]),
                                      tuple(spans["cue"]), tuple(spans["content"]), kind))
    return relations


def content_kind(text: str, content: list[Span] | tuple[Span, ...]) -> str:
    """`direct` when the content is one quotation (or adjacent quotations), `mixed` when it holds
    some double quotes, else `indirect`.

    >>> content_kind('He said "we will win."', [(8, 22)])
    'direct'
    """
    joined = " ".join(text[start:end] for start, end in content).strip()
    if not DOUBLE_QUOTES.intersection(joined):
        return "indirect"
    core = joined.strip(" .,;:")
    inner = core[1:-1].replace("” “", "").replace('" "', "")
    opens, closes = core[:1] in ("“", '"'), core[-1:] in ("”", '"')
    if opens and closes and not DOUBLE_QUOTES.intersection(inner):
        return "direct"
    return "mixed"


def read_metadata(gold_dir: Path) -> list[dict[str, str]]:
    """Rows of `metadata.tsv` as dicts (plain tab splitting: titles may contain quote characters)."""
    lines = (Path(gold_dir) / "metadata.tsv").read_text(encoding="utf8").strip().split("\n")
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


def split_articles(gold_dir: Path, split: str) -> list[dict[str, str]]:
    """Metadata rows of the articles in `split` (the `compartment` column), in file order."""
    return [row for row in read_metadata(gold_dir) if row.get("compartment") == split]


def reference_annotator(row: dict[str, str]) -> str:
    """The annotation scored for an article: the alphabetically first of its annotators.

    Articles used for agreement studies carry several annotators' files; scoring one fixed file
    keeps each gold relation counted once.
    """
    return sorted(row["annotators"].split("|"))[0]


def article_paths(gold_dir: Path, split: str, row: dict[str, str]) -> tuple[Path, Path]:
    """(text path, reference annotation path) of one metadata row."""
    base = Path(gold_dir) / split
    name = row["filename"]
    return (base / "text" / f"{name}.txt",
            base / "attributions" / f"{name}_{reference_annotator(row)}.ann")


def read_split(gold_dir: Path, split: str) -> dict[str, tuple[str, str]]:
    """Article stem -> (text, reference annotation) for the articles of `split` that have both."""
    articles = {}
    for row in split_articles(gold_dir, split):
        text_path, ann_path = article_paths(gold_dir, split, row)
        if not text_path.exists() or not ann_path.exists():
            LOGGER.warning("skipping %s: text or annotation file missing", row["filename"])
            continue
        articles[row["filename"]] = (text_path.read_text(encoding="utf8"),
                                     ann_path.read_text(encoding="utf8"))
    return articles


def load_texts(gold_dir: Path, split: str) -> dict[str, str]:
    """Article stem -> text, for the scored articles of `split`."""
    return {article: text for article, (text, _) in read_split(gold_dir, split).items()}


def load_gold(gold_dir: Path, split: str) -> dict[str, list[GoldRelation]]:
    """Article stem -> gold relations of the reference annotator, for the articles of `split`."""
    return {article: parse_standoff(ann, text) for article, (text, ann) in read_split(gold_dir, split).items()}
