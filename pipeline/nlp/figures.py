"""Figures in news text: numbers with their value, unit or counted thing, approximation and range.

>>> [f["value"] for f in nlp("Around 40 million individuals were affected.")._.figures]
[40000000]
"""
from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span, Token
from text_to_num import text2num

from pipeline.tables import read_table

LOGGER = logging.getLogger(__name__)

if not Doc.has_extension("figures"):
    Doc.set_extension("figures", default=None)

NUMERIC = re.compile(r"^(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?P<suffix>[a-z%]*)$")
# Labels whose numbers are times, dates or ranks rather than amounts.
NOT_AMOUNT_LABELS = {"DATE", "TIME", "ORDINAL"}
FRACTION_LEADS = {"a", "an", "one"}
COUNTED_POS = {"NOUN", "PROPN"}
# Words after a count that are not the counted thing.
NOT_COUNTED = {"year", "years", "month", "months", "week", "weeks", "day", "days", "times"}


@dataclass(frozen=True)
class FigureTables:
    """Number words, approximators, range words and units, read once from pipeline/data."""

    scales: dict[str, float]
    fractions: dict[str, float]
    number_words: dict[str, float]
    approx: dict[tuple[str, ...], str]
    range_starts: frozenset[str]
    range_joins: frozenset[str]
    units_before: dict[str, str]
    units_after: dict[tuple[str, ...], tuple[str, str]]
    max_approx_len: int = field(default=3)


@functools.lru_cache(maxsize=4)
def load_tables(number_words_table: str = "number_words.tsv", units_table: str = "units.tsv") -> FigureTables:
    """Build the lookup tables from the two TSV files."""
    by_kind: dict[str, dict[str, str]] = {}
    for row in read_table(number_words_table):
        by_kind.setdefault(row["kind"], {})[row["phrase"].lower()] = row["value"]
    units_before: dict[str, str] = {}
    units_after: dict[tuple[str, ...], tuple[str, str]] = {}
    for row in read_table(units_table):
        surface = row["surface"].lower()
        if row["position"] == "before":
            units_before[surface] = row["unit"]
        else:
            units_after[tuple(surface.split())] = (row["unit"], row["kind"])
    approx = {tuple(phrase.split()): label for phrase, label in by_kind.get("approx", {}).items()}
    return FigureTables(
        scales={w: float(v) for w, v in by_kind.get("scale", {}).items()},
        fractions={w: float(v) for w, v in by_kind.get("fraction", {}).items()},
        number_words={w: float(v) for w, v in by_kind.get("number", {}).items()},
        approx=approx,
        range_starts=frozenset(by_kind.get("range_start", {})),
        range_joins=frozenset(by_kind.get("range_join", {})),
        units_before=units_before,
        units_after=units_after,
        max_approx_len=max((len(k) for k in approx), default=1),
    )


@functools.lru_cache(maxsize=4096)
def word_number(word: str) -> float | None:
    """The value of one English number word ("forty", "forty-two"), None when it is not one."""
    try:
        return float(text2num(word, "en"))
    except ValueError:
        return None


@dataclass
class Amount:
    """A parsed number: tokens [start, end) and its value, plus what the tokens said about units."""

    start: int
    end: int
    value: float
    scaled: bool = False
    unit: str | None = None
    unit_kind: str | None = None


class FigureFinder:
    """Walks the tokens of a doc and reads every amount, with its qualifiers, range and unit."""

    def __init__(self, tables: FigureTables) -> None:
        self.tables = tables

    def find(self, doc: Doc) -> list[dict[str, Any]]:
        """All figures in the doc, left to right, never overlapping."""
        blocked = {t.i for ent in doc.ents if ent.label_ in NOT_AMOUNT_LABELS for t in ent}
        figures: list[dict[str, Any]] = []
        i = 0
        while i < len(doc):
            figure, next_i = self._figure_at(doc, i, blocked)
            if figure is not None:
                figures.append(figure)
            i = max(next_i, i + 1)
        return figures

    def _figure_at(self, doc: Doc, i: int, blocked: set[int]) -> tuple[dict[str, Any] | None, int]:
        currency = self._currency_before(doc, i)
        amount = self._amount(doc, i, blocked)
        if amount is None:
            return None, i + 1
        start = i - 1 if currency else i
        range_start_word = doc[start - 1].lower_ if start > 0 else ""
        approx, approx_start = self._approx_before(doc, start)
        if approx is None and range_start_word in self.tables.range_starts:
            approx_start = start - 1
        high = self._range_end(doc, amount, range_start_word, blocked)
        last = high or amount
        unit, unit_end = self._unit(doc, last, currency or amount.unit)
        if self._is_year(doc, amount, currency, unit, high) or self._is_pronoun_one(doc, amount, unit, high):
            return None, last.end
        if high is not None and not amount.scaled and high.scaled:
            amount.value *= _scale_of(doc, high, self.tables)
        span = doc[approx_start if approx_start is not None else start : unit_end]
        figure = {
            "span": [span.start_char, span.end_char],
            "text": span.text,
            "value": None if high else _plain(amount.value),
            "unit": unit,
            "approx": approx,
            "range": [_plain(amount.value), _plain(high.value)] if high else None,
        }
        return figure, unit_end

    def _amount(self, doc: Doc, i: int, blocked: set[int]) -> Amount | None:
        """The amount starting at token i: digits with scale words, number words, or a fraction."""
        if i in blocked:
            return None
        token = doc[i]
        if _glued_to_word(token):
            return None
        match = NUMERIC.match(token.lower_)
        if match:
            return self._numeric_amount(doc, i, match, blocked)
        return self._fraction_amount(doc, i, blocked) or self._word_amount(doc, i, blocked)

    def _numeric_amount(self, doc: Doc, i: int, match: re.Match[str], blocked: set[int]) -> Amount:
        value = float(match.group("num").replace(",", ""))
        amount = Amount(i, i + 1, value)
        suffix = match.group("suffix")
        if suffix in self.tables.scales:
            amount.value *= self.tables.scales[suffix]
            amount.scaled = True
        elif (suffix,) in self.tables.units_after:
            amount.unit, amount.unit_kind = self.tables.units_after[(suffix,)]
        end = i + 1
        # The tokenizer keeps a sentence-final full stop on "40m." as one token "m.".
        while end < len(doc) and end not in blocked and doc[end].lower_.rstrip(".") in self.tables.scales:
            amount.value *= self.tables.scales[doc[end].lower_.rstrip(".")]
            amount.scaled = True
            end += 1
        amount.end = end
        return amount

    def _fraction_amount(self, doc: Doc, i: int, blocked: set[int]) -> Amount | None:
        """'a third', 'two thirds', 'half' (as in 'half the accounts' or 'half of them')."""
        token = doc[i]
        lower = token.lower_
        nxt = doc[i + 1] if i + 1 < len(doc) else None
        if lower == "half" and (token.ent_type_ == "CARDINAL" or token.dep_ == "predet" or (nxt is not None and nxt.lower_ == "of")):
            return Amount(i, i + 1, self.tables.fractions["half"])
        if nxt is None or i + 1 in blocked and nxt.ent_type_ != "ORDINAL":
            return None
        fraction_word = nxt.lower_
        if fraction_word == "-" and i + 2 < len(doc):
            fraction_word = doc[i + 2].lower_
        if fraction_word not in self.tables.fractions:
            return None
        end = i + (3 if nxt.lower_ == "-" else 2)
        numerator = 1.0 if lower in FRACTION_LEADS else word_number(lower) if token.is_alpha else None
        if numerator is None:
            return None
        return Amount(i, end, numerator * self.tables.fractions[fraction_word])

    def _word_amount(self, doc: Doc, i: int, blocked: set[int]) -> Amount | None:
        """Number words ('forty million', 'two hundred and five', 'a dozen'), via text2num."""
        token = doc[i]
        words: list[str] = []
        end = i
        if token.lower_ in ("a", "an") and i + 1 < len(doc):
            following = doc[i + 1].lower_
            if following in self.tables.number_words or following in ("hundred", "thousand", "million", "billion", "trillion"):
                words.append("one")
                end = i + 1
            else:
                return None
        while end < len(doc) and end not in blocked:
            word = doc[end].lower_
            joiner = word in ("and", "-") and words and end + 1 < len(doc) and self._is_number_word(doc[end + 1])
            if self._is_number_word(doc[end]) or joiner:
                words.append(word)
                end += 1
            else:
                break
        if not words or words == ["one"] and end == i + 1 and token.lower_ in ("a", "an"):
            return None
        if words == ["one"] and doc[i].pos_ == "PRON":
            return None
        value = self._words_value(words)
        if value is None:
            return None
        scaled = any(w in self.tables.scales for w in words[1:])
        return Amount(i, end, value, scaled=scaled)

    def _is_number_word(self, token: Token) -> bool:
        lower = token.lower_
        if lower in self.tables.number_words:
            return True
        return token.is_alpha and token.like_num and word_number(lower) is not None

    def _words_value(self, words: list[str]) -> float | None:
        if len(words) == 1 and words[0] in self.tables.number_words:
            return self.tables.number_words[words[0]]
        if words[-1] in self.tables.number_words:
            head = self._words_value(words[:-1])
            return None if head is None else head * self.tables.number_words[words[-1]]
        phrase = " ".join(words).replace(" - ", "-")
        try:
            return float(text2num(phrase, "en"))
        except ValueError:
            return None

    def _currency_before(self, doc: Doc, i: int) -> str | None:
        if i == 0:
            return None
        return self.tables.units_before.get(doc[i - 1].lower_)

    def _approx_before(self, doc: Doc, start: int) -> tuple[str | None, int | None]:
        """The longest approximator ending just before token `start`, and where it begins."""
        for length in range(self.tables.max_approx_len, 0, -1):
            begin = start - length
            if begin < 0:
                continue
            words = tuple(t.lower_ for t in doc[begin:start])
            if words in self.tables.approx:
                return self.tables.approx[words], begin
        return None, None

    def _range_end(self, doc: Doc, low: Amount, range_start_word: str, blocked: set[int]) -> Amount | None:
        """The upper amount of '10-20', '10 to 20' or 'between 10 and 20'."""
        j = low.end
        unit_between = low.unit_kind is None and j < len(doc) and (doc[j].lower_,) in self.tables.units_after
        if unit_between:
            j += 1
        if j + 1 >= len(doc) or doc[j].lower_ not in self.tables.range_joins:
            return None
        if doc[j].lower_ == "and" and range_start_word != "between":
            return None
        k = j + 1
        if self.tables.units_before.get(doc[k].lower_) and k + 1 < len(doc):
            if unit_between:
                # "4.5 per cent to £300": a change between two different quantities, not a range.
                return None
            k += 1
        return self._amount(doc, k, blocked)

    def _unit(self, doc: Doc, last: Amount, known: str | None) -> tuple[str | None, int]:
        """The unit after the amount and the token index where the figure ends."""
        end = last.end
        for length in (2, 1):
            words = tuple(t.lower_ for t in doc[end : end + length])
            if len(words) == length and words in self.tables.units_after:
                return self.tables.units_after[words][0], end + length
        if known:
            return known, end
        counted = self._counted_noun(doc, last)
        if counted is None:
            return None, end
        return counted.text, counted.end

    def _counted_noun(self, doc: Doc, last: Amount) -> Span | None:
        """The thing counted: the noun the number modifies, or the object of a following 'of'."""
        final = doc[last.end - 1]
        head = final.head
        if head.pos_ in COUNTED_POS and last.end <= head.i <= last.end + 3 and head.lower_ not in NOT_COUNTED:
            begin = last.end
            while begin < head.i and doc[begin].dep_ in ("det", "poss", "case"):
                begin += 1
            return doc[begin : head.i + 1]
        nxt = doc[last.end] if last.end < len(doc) else None
        if nxt is not None and nxt.lower_ == "of":
            objects = [c for c in nxt.children if c.dep_ == "pobj" and c.pos_ in COUNTED_POS]
            if objects:
                noun = objects[0]
                begin = min([noun.i] + [c.i for c in noun.lefts if c.dep_ in ("compound", "amod")])
                return doc[begin : noun.i + 1]
        if nxt is not None and nxt.pos_ == "NOUN" and nxt.lower_ not in NOT_COUNTED and nxt.ent_type_ not in NOT_AMOUNT_LABELS:
            stop = nxt.i + 1
            while stop < len(doc) and stop - nxt.i < 3 and doc[stop].pos_ == "NOUN":
                stop += 1
            return doc[nxt.i : stop]
        return None

    @staticmethod
    def _is_pronoun_one(doc: Doc, amount: Amount, unit: str | None, high: Amount | None) -> bool:
        """'One of them said', 'one of the most serious attacks': a lone partitive 'one' is a pronoun, not a figure."""
        if doc[amount.start].lower_ != "one" or amount.end - amount.start != 1 or high:
            return False
        partitive = amount.end < len(doc) and doc[amount.end].lower_ == "of"
        return partitive or not unit

    @staticmethod
    def _is_year(doc: Doc, amount: Amount, currency: str | None, unit: str | None, high: Amount | None) -> bool:
        """A bare four-digit number between 1800 and 2100 with nothing counted is a year, not a figure."""
        text = doc[amount.start].text
        looks_like_year = amount.end - amount.start == 1 and text.isdigit() and len(text) == 4 and 1800 <= int(text) <= 2100
        return looks_like_year and not currency and not unit and not amount.scaled


def _scale_of(doc: Doc, amount: Amount, tables: FigureTables) -> float:
    """The multiplier carried by an amount's scale words or suffix ('20 million' -> 1e6)."""
    scale = 1.0
    for token in doc[amount.start : amount.end]:
        match = NUMERIC.match(token.lower_)
        word = match.group("suffix") if match else token.lower_
        scale *= tables.scales.get(word, 1.0)
    return scale


def _glued_to_word(token: Token) -> bool:
    """Digits attached by a hyphen to a word ('Covid-19') belong to a name, not a figure."""
    doc = token.doc
    if token.i < 2:
        return False
    hyphen, word = doc[token.i - 1], doc[token.i - 2]
    return hyphen.text == "-" and not hyphen.whitespace_ and not word.whitespace_ and word.is_alpha


def _plain(value: float) -> int | float:
    """Whole numbers as int so 40000000 reads as a count, not 40000000.0."""
    return int(value) if float(value).is_integer() else round(value, 6)


class FigureComponent:
    """spaCy component that stores every figure of a doc on doc._.figures."""

    def __init__(self, tables: FigureTables) -> None:
        self.finder = FigureFinder(tables)

    def __call__(self, doc: Doc) -> Doc:
        doc._.figures = self.finder.find(doc)
        return doc


@Language.factory(
    "news_figures",
    default_config={"number_words_table": "number_words.tsv", "units_table": "units.tsv"},
)
def make_news_figures(nlp: Language, name: str, number_words_table: str, units_table: str) -> FigureComponent:
    """Factory for news_figures; the tables are pipeline/data file names."""
    return FigureComponent(load_tables(number_words_table, units_table))
