"""The record types every stage reads and writes, with one `to_json` each (schema version 1)."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, ClassVar

SCHEMA_VERSION = 1

Offsets = list[int]


def _as_json(value: Any) -> Any:
    """Recursively turn dataclasses and tuples into JSON-ready values."""
    if dataclasses.is_dataclass(value):
        return {f.name: _as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    return value


class Record:
    """Mixin: `to_json` and the name of the JSON Schema the record must satisfy."""

    schema_name: ClassVar[str]

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON-ready dict, stamped with the schema version."""
        return {"schema_version": SCHEMA_VERSION, **_as_json(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]):
        """Rebuild a record from `to_json` output (unknown keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Article(Record):
    """One news article after ingest: clean text plus page metadata."""

    schema_name: ClassVar[str] = "article"
    id: str
    text: str
    source: str
    url: str | None = None
    canonical_url: str | None = None
    outlet: str | None = None
    domain: str | None = None
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    language: str | None = None
    fetched_at: str | None = None
    content_hash: str | None = None
    duplicate_of: str | None = None


@dataclass
class ErrorRecord(Record):
    """One input that a stage could not process; the run goes on without it."""

    schema_name: ClassVar[str] = "error"
    stage: str
    reason: str
    input: str
    article_id: str | None = None
    detail: str | None = None


@dataclass
class Entity(Record):
    """One real-world entity as mentioned in one article."""

    schema_name: ClassVar[str] = "entity"
    article_id: str
    text: str
    label: str
    canonical: str
    canonical_id: str
    aliases: list[str] = field(default_factory=list)
    role: str | None = None
    affiliation: str | None = None
    mentions: list[Offsets] = field(default_factory=list)


@dataclass
class Speaker:
    """Who a claim is attributed to, and how the local mention was resolved."""

    name: str | None
    canonical_id: str | None = None
    role: str | None = None
    affiliation: str | None = None
    resolution: str = "unresolved"


@dataclass
class Source:
    """The local mention of the source (pronoun or appositive included) and its resolved speaker."""

    spans: list[Offsets]
    text: str | None
    speaker: Speaker | None


@dataclass
class Cue:
    """The words (or punctuation) that introduce the attribution."""

    spans: list[Offsets]
    text: str | None
    lemma: str | None


@dataclass
class Content:
    """What was said: one or more spans (a quote split around "she said" keeps both)."""

    spans: list[Offsets]
    text: str


@dataclass
class Certainty:
    """The hedge phrase of a claim and its probability range on a named scale."""

    phrase: str | None
    category: str
    scale: str | None = None
    low: float | None = None
    high: float | None = None


@dataclass
class Figure:
    """A number in the claim, normalised."""

    text: str
    span: Offsets
    value: float | None
    unit: str | None = None
    approx: str | None = None
    range: list[float] | None = None


@dataclass
class DateMention:
    """A date expression resolved against the article's publication date."""

    text: str
    span: Offsets
    start: str | None
    end: str | None
    grain: str | None
    reason: str | None = None


@dataclass
class EventArgument:
    """One end of an event triple."""

    text: str
    span: Offsets
    canonical_id: str | None = None


@dataclass
class Event:
    """agent -> action -> target, with negation or denial flagged."""

    agent: EventArgument | None
    action: str
    action_span: Offsets
    target: EventArgument | None
    negated: bool = False


@dataclass
class Extractor:
    """Which component and pipeline version produced a claim."""

    component: str
    version: str


@dataclass
class Claim(Record):
    """One statement worth comparing across outlets."""

    schema_name: ClassVar[str] = "claim"
    id: str
    article_id: str
    kind: str
    sentence: Offsets
    content: Content
    source: Source | None = None
    cue: Cue | None = None
    certainty: Certainty | None = None
    event: Event | None = None
    figures: list[Figure] = field(default_factory=list)
    dates: list[DateMention] = field(default_factory=list)
    pull_quote_of: str | None = None
    extractor: Extractor | None = None
    confidence: float | None = None


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema for a record type, shipped as package data."""
    text = resources.files("pipeline.schema").joinpath(f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


def validate(data: dict[str, Any], schema_name: str) -> None:
    """Raise jsonschema.ValidationError unless `data` satisfies the named record schema."""
    import jsonschema

    schema = load_schema(schema_name)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    validator.validate(data)
