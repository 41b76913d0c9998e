"""Fixtures for the fetch tests: a running local site (127.0.0.1, ephemeral port) and millisecond politeness."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest
from fetchsite import Site, make_handler

from pipeline.fetch.settings import FetchSettings


@pytest.fixture
def site() -> Iterator[Site]:
    """A running site on 127.0.0.1 with no routes yet (robots.txt answers 404 until one is added)."""
    site = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(site))
    server.daemon_threads = True
    server.block_on_close = False
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield site
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings() -> FetchSettings:
    """Politeness shrunk to milliseconds so the whole module runs in seconds."""
    return FetchSettings(
        delay=0.01,
        max_crawl_delay=0.2,
        workers=2,
        connect_timeout=0.5,
        read_timeout=0.3,
        total_timeout=2.0,
        retries=2,
        backoff=0.01,
        max_retry_wait=0.3,
        max_redirects=3,
        max_body_bytes=50_000,
    )