"""Fixtures for the fetch tests: a running local site (127.0.0.1, ephemeral port) and millisecond politeness."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from fetchsite import Site, fast_settings, serve_site

from pipeline.fetch.settings import FetchSettings


@pytest.fixture
def site() -> Iterator[Site]:
    """A fresh running site for one test."""
    with serve_site() as running:
        yield running


@pytest.fixture
def settings() -> FetchSettings:
    """Politeness shrunk to milliseconds."""
    return fast_settings()
