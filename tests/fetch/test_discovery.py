"""Feeds and sitemaps give article URLs with dates; the since/until window filters them."""
from __future__ import annotations

import gzip
from datetime import date, datetime, timezone

import pytest
from fetchsite import Reply

from pipeline.fetch.client import PoliteClient
from pipeline.fetch.discovery import discover_feeds, discover_sitemaps, in_window, parse_feed, parse_sitemap
from pipeline.fetch.errors import FetchError

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Valley Courier</title><link>https://courier.example/</link>
<item><title>Grid fault</title><link>https://courier.example/news/grid.html?utm_source=rss</link>
  <pubDate>Tue, 26 Mar 2024 18:00:00 +0000</pubDate></item>
<item><title>Bus shelter</title><link>/news/shelter.html</link><pubDate>Mon, 03 Apr 2023 09:00:00 GMT</pubDate></item>
<item><title>Undated</title><guid isPermaLink="true">https://courier.example/news/undated.html</guid></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Harwick Post</title>
<entry><title>Bridge</title><link rel="alternate" href="https://post.example/bridge"/>
  <link rel="enclosure" href="https://post.example/bridge.jpg"/>
  <published>2024-03-23T08:15:00Z</published><updated>2024-03-30T10:00:00Z</updated></entry>
</feed>"""

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://courier.example/sitemap-news.xml</loc><lastmod>2024-04-02</lastmod></sitemap>
  <sitemap><loc>https://courier.example/sitemap-2019.xml</loc><lastmod>2019-12-31</lastmod></sitemap>
</sitemapindex>"""

NEWS = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://courier.example/news/flood.html</loc>
    <lastmod>2024-04-02</lastmod>
    <news:news><news:publication><news:name>Valley Courier</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2024-03-28T07:00:00+00:00</news:publication_date><news:title>Flood</news:title></news:news></url>
  <url><loc>https://courier.example/news/ferry.html</loc><lastmod>2024-03-29</lastmod></url>
</urlset>"""


def test_rss_items_give_absolute_links_and_dates():
    items = parse_feed(RSS, "https://courier.example/feed.xml")
    assert [item.url for item in items] == [
        "https://courier.example/news/grid.html?utm_source=rss",
        "https://courier.example/news/shelter.html",
        "https://courier.example/news/undated.html",
    ]
    assert items[0].published == datetime(2024, 3, 26, 18, tzinfo=timezone.utc)
    assert items[2].published is None


def test_atom_entries_use_the_alternate_link_and_the_published_date():
    (entry,) = parse_feed(ATOM, "https://post.example/atom.xml")
    assert entry.url == "https://post.example/bridge"
    assert entry.published == datetime(2024, 3, 23, 8, 15, tzinfo=timezone.utc)


def test_a_page_that_is_not_a_feed_is_an_error():
    with pytest.raises(FetchError) as failure:
        parse_feed(b"<html><body>hello</body></html>", "https://courier.example/feed")
    assert failure.value.reason == "feed-unreadable"


def test_a_sitemap_index_lists_child_sitemaps():
    sitemap = parse_sitemap(INDEX, "https://courier.example/sitemap.xml")
    assert [child.url for child in sitemap.children] == [
        "https://courier.example/sitemap-news.xml",
        "https://courier.example/sitemap-2019.xml",
    ]
    assert sitemap.pages == []


def test_a_news_sitemap_prefers_the_publication_date_over_lastmod():
    flood, ferry = parse_sitemap(NEWS, "https://courier.example/sitemap-news.xml").pages
    assert flood.published == datetime(2024, 3, 28, 7, tzinfo=timezone.utc)
    assert ferry.published == datetime(2024, 3, 29, tzinfo=timezone.utc)


def test_gzipped_and_plain_text_sitemaps_are_read():
    assert len(parse_sitemap(gzip.compress(NEWS), "https://courier.example/s.xml.gz").pages) == 2
    text = b"https://courier.example/a.html\nhttps://courier.example/b.html\n"
    assert [p.url for p in parse_sitemap(text, "https://courier.example/s.txt").pages][1].endswith("/b.html")


def test_the_window_includes_both_end_days_and_keeps_undated_items():
    march_28 = datetime(2024, 3, 28, 23, 59, tzinfo=timezone.utc)
    assert in_window(march_28, date(2024, 3, 28), date(2024, 3, 28))
    assert not in_window(march_28, date(2024, 3, 29), None)
    assert not in_window(march_28, None, date(2024, 3, 27))
    assert in_window(None, date(2024, 3, 29), date(2024, 3, 29))


def test_feed_discovery_applies_the_window(site, settings):
    feed = site.add("/feed.xml", Reply(RSS, content_type="application/rss+xml"))
    found, errors = discover_feeds(PoliteClient(settings).get, [feed], date(2024, 3, 1), None)
    assert [c.url.rsplit("/", 1)[1] for c in found] == ["grid.html?utm_source=rss", "undated.html"]
    assert errors == []


def test_sitemap_discovery_follows_the_index_and_skips_children_older_than_the_window(site, settings):
    index = INDEX.replace(b"https://courier.example", site.base.encode())
    site.add("/sitemap.xml", Reply(index, content_type="application/xml"))
    site.add("/sitemap-news.xml", Reply(NEWS, content_type="application/xml"))
    found, errors = discover_sitemaps(PoliteClient(settings).get, [site.url("/sitemap.xml")], date(2024, 3, 29), None, 10)
    assert [c.url for c in found] == ["https://courier.example/news/ferry.html"]
    assert site.hits_for("/sitemap-2019.xml") == []
    assert errors == []


def test_a_missing_feed_becomes_an_error_record(site, settings):
    found, errors = discover_feeds(PoliteClient(settings).get, [site.url("/gone.xml")], None, None)
    assert found == []
    assert (errors[0].reason, errors[0].input, errors[0].stage) == ("http-404", site.url("/gone.xml"), "fetch")


def test_a_gzip_bomb_sitemap_is_refused():
    from pipeline.fetch import discovery

    bomb = gzip.compress(b"<urlset>" + b" " * (discovery.MAX_XML_BYTES + 10) + b"</urlset>")
    with pytest.raises(FetchError) as failure:
        parse_sitemap(bomb, "https://courier.example/s.xml.gz")
    assert failure.value.reason == "too-large"
