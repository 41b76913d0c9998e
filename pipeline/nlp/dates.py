"""Date expressions in news text, and their resolution against the publication date.

>>> resolve_date("between 2021 and 2022", date(2024, 3, 25))
{'start': '2021-01-01', 'end': '2022-12-31', 'grain': 'year', 'reason': None}

Resolution is our own grain logic over `datetime` (no dateparser: it fills missing parts from the
base date and has no notion of grain). Rules for expressions that leave a part out:
a bare weekday is the most recent such day on or before the publication date (the same day
counts); "last <weekday>" is strictly before it, "next <weekday>" strictly after; a month or a
day and month without a year take the year that puts them nearest the publication date.
"""
from __future__ import annotations

import calendar
import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from text_to_num import text2num

LOGGER = logging.getLogger(__name__)

if not Doc.has_extension("dates"):
    Doc.set_extension("dates", default=None)

MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
WEEKDAYS = {name.lower(): number for number, name in enumerate(calendar.day_name)}
MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
WEEKDAY_RE = "|".join(WEEKDAYS)
UNITS = {"day": "day", "days": "day", "week": "week", "weeks": "week", "month": "month", "months": "month",
         "year": "year", "years": "year", "decade": "decade", "decades": "decade"}
PARTS_OF_DAY = r"(?:\s+(?:morning|afternoon|evening|night))?"
# Expressions that point at time without fixing it: kept, but with start None and reason "vague".
VAGUE = re.compile(
    r"^(?:in\s+)?(?:recent|past|previous|coming|many|several|some|few)\s+(?:days|weeks|months|years|decades)$"
    r"|^(?:recently|previously|lately|currently|now|nowadays|soon|the\s+past|the\s+future|at\s+the\s+time"
    r"|each\s+(?:day|week|month|year)|every\s+(?:day|week|month|year)|annually|for\s+(?:years|decades|months)"
    r"|years|decades|months|weeks|(?:in\s+)?the\s+(?:past|last)\s+few\s+(?:days|weeks|months|years))$"
)
LEADING_WORDS = re.compile(r"^(?:on|in|since|by|during|until|till|of|as\s+of|at)\s+")
DURATION = re.compile(r"^(?:(?:about|around|some|nearly|over|more\s+than)\s+)?(\d+|[a-z]+)(?:-|\s+)(?:days?|weeks?|months?|years?|decades?)(?:\s+old|-old|\s+later)?$")

Resolution = dict[str, Any]


@dataclass(frozen=True)
class Interval:
    """A resolved expression: first and last day covered, at a grain."""

    start: date
    end: date
    grain: str


def resolve_date(text: str, published: date) -> Resolution:
    """ISO start/end and grain of a date expression, read against the publication date."""
    interval, _kind = _resolve(text, published)
    if isinstance(interval, Interval):
        return {"start": interval.start.isoformat(), "end": interval.end.isoformat(),
                "grain": interval.grain, "reason": None}
    return {"start": None, "end": None, "grain": None, "reason": interval}


def date_kind(text: str) -> str:
    """'explicit', 'relative', 'range' or 'vague': what the expression needs to be resolved."""
    return _resolve(text, date(2000, 6, 15))[1]


def _resolve(text: str, published: date) -> tuple[Interval | str, str]:
    cleaned = _clean(text)
    if VAGUE.match(cleaned):
        return "vague", "vague"
    ranged = _range(cleaned, published)
    if ranged is not None:
        return ranged, "range"
    single = _single(cleaned, published)
    if single is None:
        return "vague" if _looks_vague(cleaned) else "unparsed", "vague"
    return single, "explicit" if re.search(r"\d{3}0s|\b\d{4}\b", cleaned) else "relative"


def _clean(text: str) -> str:
    cleaned = re.sub(r"\s+", " ", text.lower().replace("–", "-").replace("—", "-")).strip(" .,;:")
    previous = None
    while previous != cleaned:
        previous = cleaned
        cleaned = LEADING_WORDS.sub("", cleaned)
    return cleaned


def _looks_vague(text: str) -> bool:
    return bool(re.search(r"\b(?:recent|past|years|decades|ago|soon|later|earlier|previous)\b", text))


def _range(text: str, published: date) -> Interval | None:
    """'between 2021 and 2022', 'from March to May 2024', '2021-22', '2014 to 2022'."""
    match = re.match(r"^(?:between|from)\s+(.+?)\s+(?:and|to|until|till|-)\s+(.+)$", text) or re.match(
        r"^(.+?)\s*(?:-|\bto\b|\buntil\b)\s*(.+)$", text
    )
    if not match:
        return None
    left_text, right_text = match.group(1), match.group(2)
    if re.fullmatch(r"\d{4}", left_text) and re.fullmatch(r"\d{2}", right_text):
        right_text = left_text[:2] + right_text
    right = _single(right_text, published)
    if right is None:
        return None
    left = _single(left_text, published)
    year = re.search(r"\b(\d{4})\b", right_text)
    if year and not re.search(r"\b\d{4}\b", left_text):
        left = _single(f"{left_text} {year.group(1)}", published) or left
    if left is None or left.start > right.end:
        return None
    grain = left.grain if left.grain == right.grain else right.grain
    return Interval(left.start, right.end, grain)


def _single(text: str, published: date) -> Interval | None:
    """One point or period: explicit dates, then expressions relative to the publication date."""
    for reader in (_explicit, _relative_day, _relative_period, _ago, _rolling_window):
        found = reader(text, published)
        if found is not None:
            return found
    return None


def _explicit(text: str, published: date) -> Interval | None:
    """'25 March 2024', 'Monday 25 March 2024', 'March 25, 2024', 'March 2024', '2021', '2024-03-25', 'the 1990s'."""
    weekday = rf"(?:(?:{WEEKDAY_RE}),?\s+)?(?:the\s+)?"
    if match := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
        return _day(int(match[1]), int(match[2]), int(match[3]))
    if match := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text):
        return _day(int(match[3]), int(match[2]), int(match[1]))
    if match := re.fullmatch(rf"{weekday}(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTH_RE})\.?(?:,?\s+(\d{{4}}))?", text):
        return _day_of_month(int(match[1]), MONTHS[match[2]], match[3], published)
    if match := re.fullmatch(rf"{weekday}({MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?", text):
        return _day_of_month(int(match[2]), MONTHS[match[1]], match[3], published)
    if match := re.fullmatch(rf"(?:(early|mid|late|the\s+end\s+of|the\s+start\s+of)[\s-]+)?({MONTH_RE})\.?(?:,?\s+(?:of\s+)?(\d{{4}}))?", text):
        month = MONTHS[match[2]]
        year = int(match[3]) if match[3] else _nearest_year(published, month, 15)
        return _month(year, month)
    if match := re.fullmatch(r"(?:(?:early|mid|late|the\s+end\s+of|the\s+start\s+of|the\s+year)[\s-]+)?(\d{4})", text):
        year = int(match[1])
        return Interval(date(year, 1, 1), date(year, 12, 31), "year") if 1000 <= year <= 2999 else None
    if match := re.fullmatch(r"(?:the\s+)?(?:(?:early|mid|late)[\s-]+)?(\d{3})0s", text):
        decade = int(match[1]) * 10
        return Interval(date(decade, 1, 1), date(decade + 9, 12, 31), "decade")
    if match := re.fullmatch(r"(?:the\s+)?(?:q([1-4])|(first|second|third|fourth)\s+quarter)(?:\s+(?:of\s+)?(\d{4}))?", text):
        quarter = int(match[1]) if match[1] else ["first", "second", "third", "fourth"].index(match[2]) + 1
        year = int(match[3]) if match[3] else published.year
        first_month = 3 * quarter - 2
        return Interval(date(year, first_month, 1), _month(year, first_month + 2).end, "quarter")
    return None


def _relative_day(text: str, published: date) -> Interval | None:
    """'today', 'yesterday', 'Monday', 'last Monday', 'next Friday', 'last night'."""
    offsets = {"today": 0, "tonight": 0, "this morning": 0, "this afternoon": 0, "this evening": 0,
               "yesterday": -1, "last night": -1, "overnight": -1, "tomorrow": 1,
               "the day before yesterday": -2, "the day after tomorrow": 2}
    if text in offsets:
        return _on(published + timedelta(days=offsets[text]))
    if match := re.fullmatch(r"(today|yesterday|tomorrow)" + PARTS_OF_DAY, text):
        return _on(published + timedelta(days={"today": 0, "yesterday": -1, "tomorrow": 1}[match[1]]))
    match = re.fullmatch(rf"(last|this|next|this\s+past|this\s+coming|on)?\s*({WEEKDAY_RE}){PARTS_OF_DAY}", text)
    if not match:
        return None
    target = WEEKDAYS[match[2]]
    which = (match[1] or "").replace(" ", "")
    back = (published.weekday() - target) % 7
    if which in ("", "on", "thispast"):
        return _on(published - timedelta(days=back))
    if which == "last":
        return _on(published - timedelta(days=back or 7))
    if which == "this":
        return _on(published - timedelta(days=published.weekday()) + timedelta(days=target))
    ahead = (target - published.weekday()) % 7
    return _on(published + timedelta(days=ahead or 7))


def _relative_period(text: str, published: date) -> Interval | None:
    """'last week', 'this month', 'next year', 'earlier this month', 'later this year', 'last weekend', 'last March'."""
    if match := re.fullmatch(r"(earlier|later)\s+(?:this|in\s+the)\s+(week|month|year)", text):
        period = _period(match[2], published, 0)
        if match[1] == "earlier":
            return Interval(period.start, published, period.grain)
        return Interval(published, period.end, period.grain)
    if match := re.fullmatch(r"(last|this|next|the\s+past|the\s+previous|the\s+coming)\s+weekend", text):
        shift = {"last": -1, "the past": -1, "the previous": -1, "this": 0}.get(match[1], 1)
        monday = published - timedelta(days=published.weekday()) + timedelta(weeks=shift)
        return Interval(monday + timedelta(days=5), monday + timedelta(days=6), "weekend")
    if match := re.fullmatch(r"(last|this|next|the\s+previous|the\s+following|the\s+current)\s+(week|month|year|decade)", text):
        shift = {"last": -1, "the previous": -1, "this": 0, "the current": 0}.get(match[1], 1)
        return _period(match[2], published, shift)
    if match := re.fullmatch(rf"(last|this|next)\s+({MONTH_RE})", text):
        month = MONTHS[match[2]]
        year = published.year
        if match[1] == "last":
            year -= 1 if month >= published.month else 0
        elif match[1] == "next":
            year += 1 if month <= published.month else 0
        return _month(year, month)
    return None


def _ago(text: str, published: date) -> Interval | None:
    """'two weeks ago', '3 days ago', 'a year ago'."""
    match = re.fullmatch(r"(?:about\s+|around\s+|some\s+)?([a-z]+|\d+)\s+(days?|weeks?|months?|years?|decades?)\s+ago", text)
    if not match:
        return None
    count = _count(match[1])
    if count is None:
        return None
    unit = UNITS[match[2]]
    point = _shift(published, unit, -count)
    if unit == "day":
        return _on(point)
    return _period(unit, point, 0)


def _rolling_window(text: str, published: date) -> Interval | None:
    """'the past two years', 'the last 24 hours', 'over the past week': a window ending at publication."""
    match = re.fullmatch(r"(?:over\s+|in\s+|during\s+)?(?:the\s+)?(?:past|last|previous)\s+(?:([a-z]+|\d+)\s+)?(days?|weeks?|months?|years?|decades?)", text)
    if not match:
        return None
    count = _count(match[1]) if match[1] else 1
    if count is None:
        return None
    unit = UNITS[match[2]]
    return Interval(_shift(published, unit, -count), published, unit)


def _count(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    if word in ("a", "an"):
        return 1
    try:
        return int(text2num(word, "en"))
    except ValueError:
        return None


def _shift(day: date, unit: str, count: int) -> date:
    """The day `count` units after `day` (negative: before), clamping month ends."""
    if unit == "day":
        return day + timedelta(days=count)
    if unit == "week":
        return day + timedelta(weeks=count)
    months = count * {"month": 1, "year": 12, "decade": 120}[unit]
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


def _period(unit: str, anchor: date, shift: int) -> Interval:
    """The calendar week/month/year/decade containing `anchor`, moved by `shift` of them."""
    if unit == "week":
        monday = anchor - timedelta(days=anchor.weekday()) + timedelta(weeks=shift)
        return Interval(monday, monday + timedelta(days=6), "week")
    if unit == "month":
        moved = _shift(anchor.replace(day=1), "month", shift)
        return _month(moved.year, moved.month)
    if unit == "decade":
        start = anchor.year // 10 * 10 + 10 * shift
        return Interval(date(start, 1, 1), date(start + 9, 12, 31), "decade")
    year = anchor.year + shift
    return Interval(date(year, 1, 1), date(year, 12, 31), "year")


def _nearest_year(published: date, month: int, day: int) -> int:
    """The year that puts month/day nearest the publication date."""
    candidates = []
    for year in (published.year - 1, published.year, published.year + 1):
        try:
            candidates.append((abs((date(year, month, day) - published).days), year))
        except ValueError:
            continue
    return min(candidates)[1]


def _day_of_month(day: int, month: int, year_text: str | None, published: date) -> Interval | None:
    year = int(year_text) if year_text else _nearest_year(published, month, min(day, 28))
    return _day(year, month, day)


def _day(year: int, month: int, day: int) -> Interval | None:
    try:
        return _on(date(year, month, day))
    except ValueError:
        return None


def _on(day: date) -> Interval:
    return Interval(day, day, "day")


def _month(year: int, month: int) -> Interval:
    return Interval(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]), "month")


def _date_patterns() -> list[list[dict[str, Any]]]:
    """Token patterns for date expressions the statistical NER often leaves out."""
    units = ["day", "days", "week", "weeks", "month", "months", "year", "years"]
    return [
        [{"LOWER": {"IN": list(WEEKDAYS)}}],
        [{"LOWER": {"IN": ["between", "from"]}}, {"SHAPE": "dddd"}, {"LOWER": {"IN": ["and", "to", "-", "until"]}}, {"SHAPE": {"IN": ["dddd", "dd"]}}],
        [{"LOWER": {"IN": ["today", "yesterday", "tomorrow", "tonight"]}}],
        [{"LOWER": {"IN": ["earlier", "later"]}}, {"LOWER": "this"}, {"LOWER": {"IN": ["week", "month", "year"]}}],
        [{"LOWER": {"IN": ["last", "this", "next"]}}, {"LOWER": {"IN": ["week", "weekend", "month", "year"]}}],
        [{"LOWER": "in"}, {"LOWER": "recent"}, {"LOWER": {"IN": units}}],
        [{"LIKE_NUM": True}, {"LOWER": {"IN": units}}, {"LOWER": "ago"}],
        [{"LOWER": {"IN": ["a", "an"]}}, {"LOWER": {"IN": units}}, {"LOWER": "ago"}],
        [{"LOWER": "the"}, {"LOWER": {"IN": ["past", "last"]}}, {"LIKE_NUM": True, "OP": "?"}, {"LOWER": {"IN": units}}],
    ]


class DateComponent:
    """spaCy component that stores every date expression of a doc on doc._.dates."""

    range_words = {"and", "to", "-", "–", "until"}

    def __init__(self, nlp: Language) -> None:
        self.matcher = Matcher(nlp.vocab)
        self.matcher.add("NEWS_DATE", _date_patterns())

    def __call__(self, doc: Doc) -> Doc:
        spans = [ent for ent in doc.ents if ent.label_ == "DATE"]
        spans += [doc[start:end] for _, start, end in self.matcher(doc)]
        doc._.dates = [self._record(span) for span in self._merge(doc, spans) if not self._is_duration(span)]
        return doc

    def _merge(self, doc: Doc, spans: list[Span]) -> list[Span]:
        """Union of overlapping spans, then ranges joined: 'between 2014 and' + '2022'."""
        merged: list[Span] = []
        for span in _union(doc, spans):
            if merged and self._joins(doc, merged[-1], span):
                merged[-1] = doc[merged[-1].start : span.end]
            else:
                merged.append(span)
        return [self._with_range_start(doc, span) for span in merged]

    def _joins(self, doc: Doc, left: Span, right: Span) -> bool:
        gap = doc[left.end : right.start]
        if left[-1].lower_ in self.range_words and not len(gap):
            return True
        return len(gap) == 1 and gap[0].lower_ in self.range_words and (
            left[0].lower_ in ("between", "from") or (left.start > 0 and doc[left.start - 1].lower_ in ("between", "from"))
        )

    @staticmethod
    def _with_range_start(doc: Doc, span: Span) -> Span:
        """'between 2021 and 2022' keeps its 'between' even when NER started at the first year."""
        if span.start > 0 and doc[span.start - 1].lower_ in ("between", "from") and any(
            t.lower_ in ("and", "to", "-", "until") for t in span
        ):
            return doc[span.start - 1 : span.end]
        return span

    @staticmethod
    def _is_duration(span: Span) -> bool:
        """'12 months', '18 years old': lengths of time, not dates."""
        match = DURATION.match(_clean(span.text))
        return bool(match) and _count(match[1]) is not None

    @staticmethod
    def _record(span: Span) -> dict[str, Any]:
        return {"span": [span.start_char, span.end_char], "text": span.text, "kind": date_kind(span.text)}


def _union(doc: Doc, spans: list[Span]) -> list[Span]:
    """Overlapping spans fused into one covering span each."""
    result: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if result and span.start < result[-1].end:
            result[-1] = doc[result[-1].start : max(result[-1].end, span.end)]
        else:
            result.append(span)
    return result


@Language.factory("news_dates", default_config={})
def make_news_dates(nlp: Language, name: str) -> DateComponent:
    """Factory for news_dates."""
    return DateComponent(nlp)
