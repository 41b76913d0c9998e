"""Certainty of a claim: its hedge phrase mapped to a probability range on a named scale.

>>> certainty_of("The agency said it was highly likely the data would be misused")["high"]
0.9
"""
from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from typing import Any

from spacy.tokens import Span

from pipeline.tables import read_table

LOGGER = logging.getLogger(__name__)
DEFAULT_TABLE = "certainty_scale.tsv"
DEFAULT_SCALE = "PHIA"
REPORTING_SCALE = "reporting"
ASSERTED = {"phrase": None, "category": "asserted", "scale": None, "low": None, "high": None}


@dataclass(frozen=True)
class HedgeScale:
    """One phrase per surface form, with a compiled pattern that finds any of them."""

    entries: dict[str, dict[str, Any]]
    pattern: re.Pattern[str]


@functools.lru_cache(maxsize=8)
def load_scale(table: str = DEFAULT_TABLE, preferred_scale: str = DEFAULT_SCALE) -> HedgeScale:
    """Phrase -> entry, taking the preferred scale's row when a phrase sits on several scales."""
    entries: dict[str, dict[str, Any]] = {}
    rows = sorted(read_table(table), key=lambda row: row["scale"] != preferred_scale)
    for row in rows:
        phrase = row["phrase"].strip().lower()
        if phrase in entries:
            continue
        entries[phrase] = {
            "phrase": phrase,
            "category": row["category"],
            "scale": row["scale"],
            "low": float(row["low"]) if row["low"] else None,
            "high": float(row["high"]) if row["high"] else None,
        }
    alternatives = "|".join(re.escape(p) for p in sorted(entries, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)
    return HedgeScale(entries=entries, pattern=pattern)


def certainty_of(
    span_or_text: Span | str, table: str = DEFAULT_TABLE, preferred_scale: str = DEFAULT_SCALE
) -> dict[str, Any]:
    """The claim's strongest hedge: a probability phrase beats a bare reporting verb, then the longest wins.

    A claim with no hedge at all is the outlet's own statement: category `asserted`.
    """
    text = span_or_text.text if isinstance(span_or_text, Span) else span_or_text
    scale = load_scale(table, preferred_scale)
    best: dict[str, Any] | None = None
    best_rank: tuple[bool, int] = (False, -1)
    for match in scale.pattern.finditer(text):
        entry = scale.entries[match.group(0).lower()]
        rank = (entry["scale"] != REPORTING_SCALE, len(entry["phrase"]))
        if rank > best_rank:
            best, best_rank = entry, rank
    if best is None:
        return dict(ASSERTED)
    found = dict(best)
    if found["scale"] == REPORTING_SCALE:
        found["scale"] = None
    return found
