"""The fetch stage end to end against a local news site: articles, errors, duplicates, reruns, the WARC."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from fetchsite import (
    BRIDGE_STORY,
    FERRY_STORY,
    FLOOD_STORY,
    GRID_STORY,
    LIBRARY_STORY,
    OLD_STORY,
    Reply,
    Site,
    article_html,
    fast_settings,
    serve_site,
)

from pipeline.fetch import FetchSettings, fetch
from pipeline.jsonl import read_jsonl

SINCE = date(2024, 3, 1)

ROBOTS = "User-agent: *\nDisallow: /private/\n"
# A page rendered by JavaScript in the browser: nothing for the extractor.
EMPTY_PAGE = '<html><head><title>Gallery</title></head><body><div id="app"></div><script>render()</script></body></html>'
NOT_FOUND_PAGE = article_html(
    "Page not found",
    ["Sorry, we could not find the page you asked for. It may have been moved, renamed or taken down "
     "by the newsroom, or the address may have been typed incorrectly. Try the search box above, or go "
     "back to the front page to browse today's local news, sport and weather from across the valley."],
)


def _rss(site: Site) -> bytes:
    items = [
        ("/news/grid-outage.html?utm_source=rss&amp;utm_medium=feed", "Tue, 26 Mar 2024 18:00:00 +0000"),
        ("/news/grid-outage.html#comments", "Tue, 26 Mar 2024 18:00:00 +0000"),
        ("/partner/grid-outage-copy.html", "Wed, 27 Mar 2024 08:00:00 +0000"),
        ("/news/bus-shelter.html", "Mon, 03 Apr 2023 09:00:00 +0000"),
    ]
    body = "".join(f"<item><link>{site.url(p)}</link><pubDate>{d}</pubDate></item>" for p, d in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Courier</title>{body}</channel></rss>'.encode()


def _index(site: Site) -> bytes:
    return f"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{site.url('/sitemap-news.xml')}</loc><lastmod>2024-04-02</lastmod></sitemap>
<sitemap><loc>{site.url('/sitemap-2019.xml')}</loc><lastmod>2019-12-31</lastmod></sitemap>
</sitemapindex>""".encode()


def _news_sitemap(site: Site) -> bytes:
    pages = [
        ("/news/flood-warning.html", "2024-03-28T07:00:00+00:00"),
        ("/news/ferry-sailing.html", "2024-03-29T12:30:00+00:00"),
        ("/news/withdrawn.html", "2024-03-29T13:00:00+00:00"),
        ("/documents/budget.pdf", "2024-03-30T09:00:00+00:00"),
        ("/private/draft.html", "2024-03-30T10:00:00+00:00"),
        ("/news/archive-2021.html", "2021-06-01T10:00:00+00:00"),
    ]
    urls = "".join(
        f"<url><loc>{site.url(p)}</loc><news:news><news:publication><news:name>Courier</news:name>"
        f"<news:language>en</news:language></news:publication><news:publication_date>{d}</news:publication_date>"
        f"<news:title>t</news:title></news:news></url>"
        for p, d in pages
    )
    return (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>'
    ).encode()


def _flaky_library(count: int) -> Reply:
    if count == 0:
        return Reply(b"<html><body>Busy, try later</body></html>", status=503, headers={"Retry-After": "1"})
    return Reply(article_html("Library keeps Sunday hours", LIBRARY_STORY).encode())


def build_news_site(site: Site) -> Site:
    """Feed, sitemap index, articles and every kind of failure the fetch stage must survive."""
    site.add("/robots.txt", Reply(ROBOTS.encode(), content_type="text/plain"))
    site.add("/feed.xml", Reply(_rss(site), content_type="application/rss+xml"))
    site.add("/sitemap.xml", Reply(_index(site), content_type="application/xml"))
    site.add("/sitemap-news.xml", Reply(_news_sitemap(site), content_type="application/xml"))
    site.page("/news/grid-outage.html", article_html("Substation fault cuts power to valley", GRID_STORY))
    copy = GRID_STORY[:-1] + [GRID_STORY[-1] + " This story first appeared in the Valley Courier."]
    site.page("/partner/grid-outage-copy.html", article_html("Valley blackout", copy, outlet="Regional Wire"))
    site.page("/news/bus-shelter.html", article_html("New bus shelter", OLD_STORY))
    site.page("/news/flood-warning.html", article_html("Osterby told to prepare for flooding", FLOOD_STORY))
    site.page("/news/ferry-sailing.html", article_html("Extra Friday ferry", FERRY_STORY))
    site.add("/documents/budget.pdf", Reply(b"%PDF-1.7 budget", content_type="application/pdf"))
    site.page("/private/draft.html", article_html("Draft", FLOOD_STORY))
    site.add("/go/bridge", Reply(status=301, content_type=None, headers={"Location": "/go/bridge-2"}))
    site.add("/go/bridge-2", Reply(status=302, content_type=None, headers={"Location": "/news/bridge.html"}))
    site.page("/news/bridge.html", article_html("Footbridge reopens", BRIDGE_STORY))
    for hop in range(6):
        site.add(f"/loop/{hop}", Reply(status=302, content_type=None, headers={"Location": f"/loop/{hop + 1}"}))
    site.add("/news/library.html", _flaky_library)
    site.add("/news/slow.html", Reply(b"<html></html>", delay=1.0))
    site.add("/news/huge.html", Reply(b"<html>" + b"x" * 60_000 + b"</html>"))
    site.add("/news/endless.html", Reply(b"<html>" + b"y" * 200_000, send_length=False))
    site.page("/news/gallery.html", EMPTY_PAGE)
    site.page("/news/withdrawn.html", NOT_FOUND_PAGE, status=404)
    return site


@pytest.fixture
def news_site(site: Site) -> Site:
    """The news site, fresh for a test that changes what it serves or what was fetched."""
    return build_news_site(site)


def _run(site: Site, out: Path, settings: FetchSettings, **kwargs):
    urls = [site.url(p) for p in (
        "/go/bridge", "/loop/0", "/news/library.html", "/news/slow.html", "/news/huge.html",
        "/news/endless.html", "/news/gallery.html",
    )]
    return fetch(urls, [site.url("/feed.xml")], [site.url("/sitemap.xml")], out, since=SINCE, settings=settings, **kwargs)


def _articles(out: Path) -> list[dict]:
    return list(read_jsonl(out / "articles.jsonl")) if (out / "articles.jsonl").exists() else []


def _errors(out: Path) -> dict[str, str]:
    return {row["input"].split("/", 3)[3]: row["reason"] for row in read_jsonl(out / "errors.jsonl")}


@pytest.fixture(scope="module")
def shared_run(tmp_path_factory):
    """One complete run over the news site, shared by the tests that only read its results."""
    with serve_site() as site:
        out = tmp_path_factory.mktemp("fetch")
        report = _run(build_news_site(site), out, fast_settings())
        yield site, out, report


@pytest.fixture
def first_run(news_site, settings, tmp_path):
    """One complete run over a fresh news site, for tests that run again on top of it."""
    report = _run(news_site, tmp_path, settings)
    return news_site, tmp_path, report


def test_articles_come_from_urls_feeds_and_sitemaps_within_the_window(shared_run):
    _site, out, report = shared_run
    titles = sorted(a["title"] for a in _articles(out))
    assert titles == [
        "Extra Friday ferry", "Footbridge reopens", "Library keeps Sunday hours",
        "Osterby told to prepare for flooding", "Substation fault cuts power to valley", "Valley blackout",
    ]
    assert report.articles == 6


def test_every_failure_is_one_error_line_with_its_reason(shared_run):
    _site, out, report = shared_run
    assert _errors(out) == {
        "loop/0": "too-many-redirects",
        "news/slow.html": "timeout",
        "news/huge.html": "too-large",
        "news/endless.html": "too-large",
        "news/gallery.html": "empty-extraction",
        "news/withdrawn.html": "http-404",
        "documents/budget.pdf": "not-html",
        "private/draft.html": "robots-disallowed",
    }
    assert report.errors == 8
    assert all(row["stage"] == "fetch" for row in read_jsonl(out / "errors.jsonl"))


def test_the_same_page_under_tracking_parameters_is_fetched_once(shared_run):
    site, _out, _report = shared_run
    assert len(site.hits_for("/news/grid-outage.html?utm_source=rss&utm_medium=feed")) == 1
    assert site.hits_for("/news/grid-outage.html") == []


def test_old_items_and_stale_sitemaps_are_not_fetched(shared_run):
    site, _out, _report = shared_run
    assert site.hits_for("/news/bus-shelter.html") == []
    assert site.hits_for("/news/archive-2021.html") == []
    assert site.hits_for("/sitemap-2019.xml") == []


def test_a_syndicated_copy_points_to_the_first_article(shared_run):
    _site, out, report = shared_run
    by_title = {a["title"]: a for a in _articles(out)}
    original, copy = by_title["Substation fault cuts power to valley"], by_title["Valley blackout"]
    assert original["duplicate_of"] is None
    assert copy["duplicate_of"] == original["id"]
    assert report.duplicates == 1


def test_articles_carry_the_final_url_after_redirects(shared_run):
    site, out, _report = shared_run
    bridge = next(a for a in _articles(out) if a["title"] == "Footbridge reopens")
    assert bridge["url"] == site.url("/news/bridge.html")
    assert bridge["source"] == "http"
    assert bridge["fetched_at"].endswith("Z")


def test_a_rerun_fetches_nothing_new(first_run, settings):
    site, out, _report = first_run
    before = _articles(out)
    site.hits.clear()
    report = _run(site, out, replace(settings, retry_transient_on_rerun=False))
    assert (report.fetched, report.articles, report.errors) == (0, 0, 0)
    assert set(site.paths()) == {"/robots.txt", "/feed.xml", "/sitemap.xml", "/sitemap-news.xml"}
    assert _articles(out) == before


def test_a_rerun_tries_transient_failures_again(first_run, settings):
    site, out, _report = first_run
    site.hits.clear()
    report = _run(site, out, settings)
    assert report.fetched == 1
    assert {p for p in site.paths() if p.startswith("/news/")} == {"/news/slow.html"}


def test_an_interrupted_run_resumes_without_duplicates(news_site, settings, tmp_path):
    def stop_after_three(done: int, _total: int) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(news_site, tmp_path, settings, progress=stop_after_three)
    interrupted = len(_articles(tmp_path))
    _run(news_site, tmp_path, settings)
    ids = [a["id"] for a in _articles(tmp_path)]
    assert 0 < interrupted < 6
    assert len(ids) == len(set(ids)) == 6


def test_a_crash_between_article_and_state_write_leaves_no_duplicate(first_run, settings):
    import sqlite3

    site, out, _report = first_run
    with sqlite3.connect(out / "fetch_state.sqlite") as db:
        db.execute("DELETE FROM pages WHERE status IN ('article', 'duplicate')")
    report = _run(site, out, settings)
    ids = [a["id"] for a in _articles(out)]
    assert report.fetched >= 6
    assert len(ids) == len(set(ids)) == 6


def _reread(out: Path) -> dict[str, dict]:
    """Articles that pipeline.ingest.read_warc finds in the run's WARC files, without source and duplicate_of."""
    from pipeline.ingest import read_warc
    from pipeline.records import Article

    records = [r for path in sorted((out / "raw").glob("*.warc.gz")) for r in read_warc(path)]
    return {r.id: _comparable(r.to_json()) for r in records if isinstance(r, Article)}


def _comparable(article: dict) -> dict:
    return {k: v for k, v in article.items() if k not in {"source", "duplicate_of"}}


def test_every_fetched_article_is_re_read_identically_from_the_warc(shared_run):
    _site, out, report = shared_run
    assert report.warc_path is not None and report.warc_path.parent == out / "raw"
    reread = _reread(out)
    for article in _articles(out):
        assert reread.get(article["id"]) == _comparable(article)


def test_the_warc_re_read_gives_no_other_articles(shared_run):
    _site, out, _report = shared_run
    assert set(_reread(out)) == {a["id"] for a in _articles(out)}


def test_a_page_naming_a_stored_article_as_canonical_is_not_stored_twice(site, settings, tmp_path):
    original = site.page("/news/grid.html", article_html("Substation fault cuts power to valley", GRID_STORY))
    amp = article_html("Substation fault", GRID_STORY, extra_head=f'<link rel="canonical" href="{original}">')
    report = fetch([original, site.page("/amp/grid.html", amp)], [], [], tmp_path, settings=settings)
    assert len(_articles(tmp_path)) == 1
    assert (report.articles, report.already_stored) == (1, 1)


def test_a_malformed_url_is_an_error_not_a_crash(site, settings, tmp_path):
    report = fetch(["not a url", "ftp://files.example/a.html"], [], [], tmp_path, settings=settings)
    assert report.error_reasons == {"invalid-url": 2}
