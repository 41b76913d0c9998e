"""Doc -> claim and entity records: canonical speakers, certainty, figures, dates, stable ids."""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from spacy.tokens import Doc

from pipeline import __version__
from pipeline.nlp.certainty import certainty_of
from pipeline.nlp.dates import resolve_date
from pipeline.records import (
    Article,
    Certainty,
    Claim,
    Content,
    Cue,
    DateMention,
    Entity,
    Event,
    EventArgument,
    Extractor,
    Figure,
    Source,
    Speaker,
)

LOGGER = logging.getLogger(__name__)

CLAIM_KIND_BY_ATTRIBUTION = {"direct": "quote", "mixed": "quote", "indirect": "reported"}


def doc_results(doc: Doc, name: str) -> list[dict[str, Any]]:
    """What a component stored on `doc._.<name>`, or nothing when that component is not in the pipeline."""
    if not Doc.has_extension(name):
        return []
    return doc._.get(name) or []


def claim_id(article: Article, kind: str, spans: Iterable[Iterable[int]]) -> str:
    """A claim id that stays the same for the same article text, claim spans and pipeline version."""
    key = "|".join([article.id, article.content_hash or "", kind, repr([list(s) for s in spans]), __version__])
    return "claim:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def entities_from_doc(doc: Doc, article: Article) -> list[Entity]:
    """One Entity record per entity cluster that news_entities found."""
    records = []
    for cluster in doc_results(doc, "entities"):
        first = min(cluster["mentions"])
        records.append(
            Entity(
                article_id=article.id,
                text=doc.text[first[0] : first[1]],
                label=cluster["label"],
                canonical=cluster["canonical"],
                canonical_id=cluster["id"],
                aliases=list(cluster.get("aliases") or []),
                role=cluster.get("role"),
                affiliation=cluster.get("affiliation"),
                mentions=[list(m) for m in cluster["mentions"]],
            )
        )
    return records


def claims_from_doc(doc: Doc, article: Article) -> list[Claim]:
    """All claims of one article: attributions first, then the outlet's own assertions."""
    published = _publication_date(article)
    figures = doc_results(doc, "figures")
    dates = doc_results(doc, "dates")
    events = doc_results(doc, "events")
    attributions = doc_results(doc, "attributions")

    claims: list[Claim] = []
    ids_by_attribution: dict[int, str] = {}
    for index, attribution in enumerate(attributions):
        claim = _claim_from_attribution(doc, article, attribution, figures, dates, published)
        ids_by_attribution[index] = claim.id
        claims.append(claim)
    for index, attribution in enumerate(attributions):
        original = attribution.get("pull_quote_of")
        if original is not None and original in ids_by_attribution:
            claims[index].pull_quote_of = ids_by_attribution[original]

    unattributed_events = []
    for event in events:
        attributed_by = event.get("attributed_by")
        if attributed_by is not None and attributed_by < len(claims) and claims[attributed_by].event is None:
            claims[attributed_by].event = _event(event)
        else:
            unattributed_events.append(event)

    claims.extend(_assertions(doc, article, claims, unattributed_events, figures, dates, published))
    return claims


def _claim_from_attribution(
    doc: Doc,
    article: Article,
    attribution: dict[str, Any],
    figures: list[dict[str, Any]],
    dates: list[dict[str, Any]],
    published: date | None,
) -> Claim:
    kind = CLAIM_KIND_BY_ATTRIBUTION.get(attribution["kind"], "reported")
    content_spans = [list(s) for s in attribution["content"]]
    content_text = " ".join(_text(doc, s) for s in content_spans)
    cue_spans = [list(s) for s in attribution.get("cue") or []]
    cue_text = " ".join(_text(doc, s) for s in cue_spans) or None
    source_spans = [list(s) for s in attribution.get("source") or []]
    speaker = attribution.get("speaker")
    return Claim(
        id=claim_id(article, kind, content_spans),
        article_id=article.id,
        kind=kind,
        sentence=_covering(attribution.get("sentence") or _enclosing_sentence(doc, content_spans[0]), content_spans),
        content=Content(spans=content_spans, text=content_text),
        source=Source(
            spans=source_spans,
            text=" ".join(_text(doc, s) for s in source_spans) or None,
            speaker=Speaker(**speaker) if speaker else None,
        ),
        cue=Cue(spans=cue_spans, text=cue_text, lemma=attribution.get("cue_lemma")),
        certainty=_certainty(f"{cue_text or ''} {content_text}"),
        figures=[_figure(f) for f in figures if _inside(f["span"], content_spans)],
        dates=[_date(d, published) for d in dates if _inside(d["span"], content_spans)],
        extractor=Extractor(component=attribution.get("component", "news_quotes"), version=__version__),
        confidence=attribution.get("confidence"),
    )


def _assertions(
    doc: Doc,
    article: Article,
    attributed: list[Claim],
    events: list[dict[str, Any]],
    figures: list[dict[str, Any]],
    dates: list[dict[str, Any]],
    published: date | None,
) -> Iterator[Claim]:
    """Sentences carrying figures, dates or events that no attribution covers: the outlet's own claims."""
    covered = [span for claim in attributed for span in claim.content.spans]
    figures = [f for f in figures if not _inside(f["span"], covered)]
    dates = [d for d in dates if not _inside(d["span"], covered)]
    events = [e for e in events if not _inside(e["action"]["span"], covered)]
    outlet = Speaker(
        name=article.outlet or article.domain,
        canonical_id=f"outlet:{article.domain}" if article.domain else None,
        resolution="outlet",
    )
    for sent in doc.sents:
        span = [sent.start_char, sent.end_char]
        sent_figures = [f for f in figures if _inside(f["span"], [span])]
        sent_dates = [d for d in dates if _inside(d["span"], [span])]
        sent_events = [e for e in events if _inside(e["action"]["span"], [span])]
        if not (sent_figures or sent_dates or sent_events):
            continue
        yield Claim(
            id=claim_id(article, "assertion", [span]),
            article_id=article.id,
            kind="assertion",
            sentence=span,
            content=Content(spans=[span], text=sent.text),
            source=Source(spans=[], text=None, speaker=outlet),
            certainty=_certainty(sent.text),
            event=_event(sent_events[0]) if sent_events else None,
            figures=[_figure(f) for f in sent_figures],
            dates=[_date(d, published) for d in sent_dates],
            extractor=Extractor(component="news_assertions", version=__version__),
        )


def _certainty(text: str) -> Certainty:
    found = certainty_of(text)
    return Certainty(
        phrase=found.get("phrase"),
        category=found["category"],
        scale=found.get("scale"),
        low=found.get("low"),
        high=found.get("high"),
    )


def _figure(found: dict[str, Any]) -> Figure:
    return Figure(
        text=found["text"],
        span=list(found["span"]),
        value=found.get("value"),
        unit=found.get("unit"),
        approx=found.get("approx"),
        range=list(found["range"]) if found.get("range") else None,
    )


def _date(found: dict[str, Any], published: date | None) -> DateMention:
    if published is None:
        resolved = {"start": None, "end": None, "grain": None, "reason": "no publication date"}
    else:
        resolved = resolve_date(found["text"], published)
    return DateMention(
        text=found["text"],
        span=list(found["span"]),
        start=resolved.get("start"),
        end=resolved.get("end"),
        grain=resolved.get("grain"),
        reason=resolved.get("reason"),
    )


def _event(found: dict[str, Any]) -> Event:
    def argument(part: dict[str, Any] | None) -> EventArgument | None:
        if not part:
            return None
        return EventArgument(text=part["text"], span=list(part["span"]), canonical_id=part.get("canonical_id"))

    return Event(
        agent=argument(found.get("agent")),
        action=found["action"].get("lemma") or found["action"]["text"],
        action_span=list(found["action"]["span"]),
        target=argument(found.get("target")),
        negated=bool(found.get("negated")),
    )


def _publication_date(article: Article) -> date | None:
    if not article.published:
        return None
    try:
        return date.fromisoformat(article.published[:10])
    except ValueError:
        LOGGER.warning("article %s: unreadable publication date %r", article.id, article.published)
        return None


def _text(doc: Doc, span: list[int]) -> str:
    return doc.text[span[0] : span[1]]


def _inside(span: list[int], containers: list[list[int]]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in containers)


def _covering(sentence: list[int], spans: list[list[int]]) -> list[int]:
    """The sentence span widened to hold every span (a closing quote mark can sit past the parser's sentence end)."""
    return [min([sentence[0]] + [s[0] for s in spans]), max([sentence[1]] + [s[1] for s in spans])]


def _enclosing_sentence(doc: Doc, span: list[int]) -> list[int]:
    sentence = doc.char_span(span[0], span[1], alignment_mode="expand").sent
    return [sentence.start_char, sentence.end_char]
