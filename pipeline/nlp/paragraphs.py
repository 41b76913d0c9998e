"""news_paragraphs: a line break always ends a sentence, so headlines, bylines and datelines stand alone.

News text arrives one paragraph per line, and headlines or bylines carry no full stop; left to
itself the parser runs them into the next paragraph's first sentence. Placed before the parser,
this component marks the token after each line break as a sentence start, which the parser keeps.
"""
from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc


@Language.factory("news_paragraphs")
def make_news_paragraphs(nlp: Language, name: str) -> "NewsParagraphs":
    """Create the component (it has no settings)."""
    return NewsParagraphs()


class NewsParagraphs:
    """Sets `is_sent_start` on the first token after a whitespace token holding a line break."""

    def __call__(self, doc: Doc) -> Doc:
        for token in doc[1:]:
            previous = doc[token.i - 1]
            if not token.is_space and previous.is_space and "\n" in previous.text:
                token.is_sent_start = True
        return doc
