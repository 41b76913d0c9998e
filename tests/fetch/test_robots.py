"""robots.txt is obeyed per host, Crawl-delay slows the host down, and an unreachable robots.txt blocks it."""
from __future__ import annotations

from dataclasses import replace

import pytest

from pipeline.fetch.client import PoliteClient
from pipeline.fetch.errors import FetchError

from fetchsite import Reply

ROBOTS = "User-agent: *\nDisallow: /private/\n\nUser-agent: newsclaims\nDisallow: /private/\nDisallow: /*?print=1\n"


def test_a_disallowed_path_is_never_requested(site, settings):
    site.add("/robots.txt", Reply(ROBOTS.encode(), content_type="text/plain"))
    site.page("/private/memo.html", "<html><body>secret</body></html>")
    with pytest.raises(FetchError) as failure:
        PoliteClient(settings).get(site.url("/private/memo.html"))
    assert failure.value.reason == "robots-disallowed"
    assert site.hits_for("/private/memo.html") == []


def test_wildcard_rules_apply(site, settings):
    site.add("/robots.txt", Reply(ROBOTS.encode(), content_type="text/plain"))
    with pytest.raises(FetchError):
        PoliteClient(settings).get(site.url("/story.html?print=1"))


def test_robots_txt_is_fetched_once_per_host(site, settings):
    site.add("/robots.txt", Reply(ROBOTS.encode(), content_type="text/plain"))
    site.page("/a.html", "<html></html>")
    site.page("/b.html", "<html></html>")
    client = PoliteClient(settings)
    client.get(site.url("/a.html"))
    client.get(site.url("/b.html"))
    assert len(site.hits_for("/robots.txt")) == 1


def test_crawl_delay_spaces_requests_up_to_the_cap(site, settings):
    robots = "User-agent: *\nCrawl-delay: 5\n"
    site.add("/robots.txt", Reply(robots.encode(), content_type="text/plain"))
    site.page("/a.html", "<html></html>")
    site.page("/b.html", "<html></html>")
    client = PoliteClient(replace(settings, max_crawl_delay=0.2))
    client.get(site.url("/a.html"))
    client.get(site.url("/b.html"))
    gap = site.hits_for("/b.html")[0].at - site.hits_for("/a.html")[0].at
    assert 0.19 <= gap < 1.0


def test_a_missing_robots_txt_allows_everything(site, settings):
    site.page("/private/memo.html", "<html><body>open</body></html>")
    assert PoliteClient(settings).get(site.url("/private/memo.html")).status == 200


def test_a_failing_robots_txt_blocks_the_host(site, settings):
    site.add("/robots.txt", Reply(b"down", status=503, content_type="text/plain"))
    site.page("/a.html", "<html></html>")
    with pytest.raises(FetchError) as failure:
        PoliteClient(settings).get(site.url("/a.html"))
    assert failure.value.reason == "robots-unreachable"
    assert site.hits_for("/a.html") == []
