"""What each URL became in earlier runs (SQLite), so a rerun or a resumed run fetches only what is new."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from pipeline.fetch.errors import is_transient

SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    canonical    TEXT PRIMARY KEY,
    url          TEXT NOT NULL,
    final_url    TEXT,
    status       TEXT NOT NULL,          -- article | duplicate | error
    reason       TEXT,                   -- the errors.jsonl reason when status = error
    fetched_at   TEXT,
    article_id   TEXT,
    content_hash TEXT
)
"""
DONE = frozenset({"article", "duplicate"})


@dataclass(frozen=True)
class PageState:
    """One row of the state table."""

    canonical: str
    url: str
    final_url: str | None
    status: str
    reason: str | None
    fetched_at: str | None
    article_id: str | None
    content_hash: str | None


class FetchState:
    """The `pages` table of out_dir/fetch_state.sqlite, keyed by canonical URL; used from one thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute(SCHEMA)
        self._db.commit()

    def get(self, canonical: str) -> PageState | None:
        """The stored row for a canonical URL, if any."""
        row = self._db.execute(
            "SELECT canonical, url, final_url, status, reason, fetched_at, article_id, content_hash"
            " FROM pages WHERE canonical = ?",
            (canonical,),
        ).fetchone()
        return PageState(*row) if row else None

    def should_fetch(self, canonical: str, retry_transient: bool = True) -> bool:
        """True for a URL never seen, or one whose last failure may pass on a new try."""
        row = self.get(canonical)
        if row is None:
            return True
        if row.status in DONE:
            return False
        return retry_transient and is_transient(row.reason)

    def record(self, row: PageState) -> None:
        """Store (or replace) what a URL became, committed at once so a crash loses at most this row."""
        self._db.execute(
            "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (row.canonical, row.url, row.final_url, row.status, row.reason, row.fetched_at, row.article_id,
             row.content_hash),
        )
        self._db.commit()

    def rows(self) -> list[PageState]:
        """Every stored row (for reports and tests)."""
        cursor = self._db.execute(
            "SELECT canonical, url, final_url, status, reason, fetched_at, article_id, content_hash FROM pages"
            " ORDER BY canonical"
        )
        return [PageState(*row) for row in cursor]

    def close(self) -> None:
        """Close the database."""
        self._db.close()
