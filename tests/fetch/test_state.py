"""The SQLite fetch state decides what a rerun fetches again."""
from __future__ import annotations

from pipeline.fetch.state import FetchState, PageState


def _row(canonical: str, status: str, reason: str | None = None) -> PageState:
    return PageState(canonical, canonical, canonical, status, reason, "2026-11-26T05:40:01Z", None, None)


def test_new_urls_are_fetched(tmp_path):
    assert FetchState(tmp_path / "state.sqlite").should_fetch("https://news.example/a")


def test_articles_and_duplicates_are_not_fetched_again(tmp_path):
    state = FetchState(tmp_path / "state.sqlite")
    state.record(_row("https://news.example/a", "article"))
    state.record(_row("https://news.example/b", "duplicate"))
    assert not state.should_fetch("https://news.example/a")
    assert not state.should_fetch("https://news.example/b")


def test_only_transient_failures_are_tried_again(tmp_path):
    state = FetchState(tmp_path / "state.sqlite")
    state.record(_row("https://news.example/slow", "error", "timeout"))
    state.record(_row("https://news.example/busy", "error", "http-503"))
    state.record(_row("https://news.example/gone", "error", "http-404"))
    assert state.should_fetch("https://news.example/slow")
    assert state.should_fetch("https://news.example/busy")
    assert not state.should_fetch("https://news.example/gone")
    assert not state.should_fetch("https://news.example/slow", retry_transient=False)


def test_the_state_survives_reopening(tmp_path):
    FetchState(tmp_path / "state.sqlite").record(_row("https://news.example/a", "article"))
    assert FetchState(tmp_path / "state.sqlite").get("https://news.example/a").status == "article"
