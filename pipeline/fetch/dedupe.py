"""Near-duplicate texts (syndicated copies): exact content hash, then MinHash LSH over word shingles (datasketch)."""
from __future__ import annotations

import re

from datasketch import MinHash, MinHashLSH

WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, size: int) -> set[bytes]:
    """Overlapping `size`-word shingles of the lower-cased text (one shingle for a shorter text)."""
    words = WORD.findall(text.lower())
    if len(words) <= size:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


class DuplicateFinder:
    """Remembers originals in the order they were added; `original_of` names the first one a text copies."""

    def __init__(self, threshold: float = 0.8, num_perm: int = 128, shingle_words: int = 5) -> None:
        self._threshold = threshold
        self._num_perm = num_perm
        self._shingle_words = shingle_words
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._signatures: dict[str, MinHash] = {}
        self._order: dict[str, int] = {}
        self._by_hash: dict[str, str] = {}

    def _signature(self, text: str) -> MinHash:
        """MinHash of the text's shingles."""
        signature = MinHash(num_perm=self._num_perm)
        signature.update_batch(sorted(shingles(text, self._shingle_words)))
        return signature

    def original_of(self, text: str, content_hash: str | None = None) -> str | None:
        """Id of the earliest original with the same hash or an estimated shingle similarity >= threshold."""
        if content_hash and content_hash in self._by_hash:
            return self._by_hash[content_hash]
        if not self._signatures:
            return None
        signature = self._signature(text)
        # LSH returns candidates only; the estimate is checked again to drop its false positives.
        matches = [
            key for key in self._lsh.query(signature)
            if self._signatures[key].jaccard(signature) >= self._threshold
        ]
        return min(matches, key=self._order.__getitem__) if matches else None

    def add(self, article_id: str, text: str, content_hash: str | None = None) -> None:
        """Remember an original article (ids already known are ignored)."""
        if article_id in self._signatures:
            return
        signature = self._signature(text)
        self._lsh.insert(article_id, signature)
        self._signatures[article_id] = signature
        self._order[article_id] = len(self._order)
        if content_hash:
            self._by_hash.setdefault(content_hash, article_id)

    def __len__(self) -> int:
        return len(self._signatures)
