"""Shared fixtures: the spaCy pipeline (built once per session) and the read-only shared data."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEED = SHARED / "seeds" / "000_818992a36e006fc8.txt"
SAMPLE = REPO / "corpora" / "sample"


@pytest.fixture(scope="session")
def nlp():
    """The project's full pipeline."""
    from pipeline.nlp import build_nlp

    return build_nlp()


@pytest.fixture(scope="session")
def shared() -> Path:
    """The read-only shared folder beside the repo; tests that need it skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present beside the repository")
    return SHARED


@pytest.fixture(scope="session")
def seed_text(shared) -> str:
    """The seed article the product was specified from."""
    if not SEED.exists():
        pytest.skip(f"seed article {SEED.name} is not present in ../shared/seeds")
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seed_doc(nlp, seed_text):
    """The seed article run through the full pipeline."""
    return nlp(seed_text)
