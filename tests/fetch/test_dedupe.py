"""Syndicated copies are recognised by content hash or by MinHash similarity of word shingles."""
from __future__ import annotations

from fetchsite import BRIDGE_STORY, GRID_STORY

from pipeline.fetch.dedupe import DuplicateFinder, shingles

GRID = "\n".join(GRID_STORY)


def test_shingles_are_overlapping_word_windows():
    assert shingles("One two three four", 3) == {b"one two three", b"two three four"}
    assert shingles("Short text", 5) == {b"short text"}


def test_an_identical_text_points_to_the_first_article():
    finder = DuplicateFinder()
    finder.add("first", GRID, "hash-1")
    assert finder.original_of(GRID, "hash-1") == "first"


def test_a_lightly_edited_copy_is_a_near_duplicate():
    finder = DuplicateFinder()
    finder.add("first", GRID)
    copy = GRID.replace("Tuesday", "Tuesday, 4 June,") + "\nThis report first appeared in the Valley Courier."
    assert finder.original_of(copy) == "first"


def test_a_different_story_is_not_a_duplicate():
    finder = DuplicateFinder()
    finder.add("grid", GRID)
    assert finder.original_of("\n".join(BRIDGE_STORY)) is None


def test_the_earliest_original_wins():
    finder = DuplicateFinder()
    finder.add("early", GRID)
    finder.add("late", GRID + " Updated.")
    assert finder.original_of(GRID + " Updated again.") == "early"
