"""Ingest: every input kind becomes an Article, every failure an ErrorRecord."""
from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from pipeline.ingest import (
    IngestError,
    article_from_html,
    article_from_text,
    ingest_paths,
    iter_inputs,
    read_warc,
    stable_id,
)
from pipeline.records import Article, ErrorRecord

BODY = (
    "<p>The harbour authority said on Tuesday that the new ferry terminal would open in the spring, "
    "two years later than first planned, after repeated delays to the steel deliveries.</p>"
    "<p>Local traders welcomed the news but warned that parking near the quay remained a problem "
    "for visitors arriving by car during the busy summer months.</p>"
    "<p>A spokesperson for the authority said the final cost was still being reviewed by auditors.</p>"
)


def page(head: str = "", body: str = BODY, title: str = "Ferry terminal to open in spring | Harbour Gazette") -> str:
    """A small news page with a nav bar, an article and a footer."""
    return (
        f"<html><head><meta charset='utf-8'><title>{title}</title>{head}</head><body>"
        "<nav><a href='/'>Home</a> <a href='/sport'>Sport</a></nav>"
        f"<article><h1>Ferry terminal to open in spring</h1>{body}</article>"
        "<footer>Copyright Harbour Gazette. All rights reserved.</footer></body></html>"
    )


def json_ld(**fields: object) -> str:
    """A JSON-LD script block for a NewsArticle with the given fields."""
    return f"<script type='application/ld+json'>{json.dumps({'@type': 'NewsArticle', **fields})}</script>"


def test_html_page_gives_body_without_furniture() -> None:
    article = article_from_html(page(), article_id="ferry")
    assert "steel deliveries" in article.text
    assert "All rights reserved" not in article.text
    assert "Sport" not in article.text
    assert article.id == "ferry"
    assert article.language == "en"
    assert article.source == "file"


def test_json_ld_fields_are_used() -> None:
    head = json_ld(
        headline="Ferry terminal to open in spring",
        author=[{"@type": "Person", "name": "Ada Quayle"}, {"@type": "Person", "name": "Ben Moor"}],
        datePublished="2024-03-05T09:30:00Z",
        publisher={"@type": "Organization", "name": "Harbour Gazette"},
    )
    article = article_from_html(page(head))
    assert article.title == "Ferry terminal to open in spring"
    assert article.authors == ["Ada Quayle", "Ben Moor"]
    assert article.published.startswith("2024-03-05")
    assert article.outlet == "Harbour Gazette"


def test_opengraph_fallbacks_and_canonical_url() -> None:
    head = (
        "<meta property='og:title' content='Ferry terminal to open in spring'>"
        "<meta property='og:site_name' content='Harbour Gazette'>"
        "<link rel='canonical' href='/news/ferry-terminal?utm_source=feed'>"
    )
    article = article_from_html(page(head), url="https://www.harbour.example/news/ferry-terminal")
    assert article.title == "Ferry terminal to open in spring"
    assert article.outlet == "Harbour Gazette"
    assert article.canonical_url == "https://www.harbour.example/news/ferry-terminal"
    assert article.domain == "harbour.example"


def test_id_is_a_stable_hash_of_the_canonical_url() -> None:
    head = "<link rel='canonical' href='https://harbour.example/news/ferry'>"
    first = article_from_html(page(head), url="https://harbour.example/news/ferry?utm_campaign=x")
    second = article_from_html(page(head).encode("utf-8"), url="https://harbour.example/news/ferry")
    assert first.id == second.id == stable_id("https://harbour.example/news/ferry")


def test_meta_overrides_page_values() -> None:
    meta = {"url": "https://gazette.example/a", "outlet": "The Gazette", "published": "2024-01-02"}
    article = article_from_html(page(json_ld(datePublished="2023-05-05")), meta=meta)
    assert (article.url, article.outlet, article.published) == ("https://gazette.example/a", "The Gazette", "2024-01-02")


def test_windows_1252_page_decodes_right() -> None:
    html = page(body=BODY + "<p>The caf\u00e9 owner said the \u201cdelay\u201d cost her \u20ac2,000.</p>")
    data = html.replace("charset='utf-8'", "charset='windows-1252'").encode("cp1252")
    article = article_from_html(data)
    assert "caf\u00e9 owner said the \u201cdelay\u201d cost her \u20ac2,000" in article.text


def test_header_charset_is_used_when_the_page_declares_none() -> None:
    html = page(body=BODY + "<p>Na\u00efve visitors paid \u00a35 for a sandwich.</p>").replace("<meta charset='utf-8'>", "")
    article = article_from_html(html.encode("cp1252"), charset="windows-1252")
    assert "Na\u00efve visitors paid \u00a35" in article.text


def test_binary_content_is_refused() -> None:
    with pytest.raises(IngestError) as error:
        article_from_html(b"%PDF-1.7\n\x00\x01\x02binary")
    assert error.value.reason == "binary-content"


def test_empty_page_is_refused() -> None:
    with pytest.raises(IngestError) as error:
        article_from_html("<html><head><title>x</title></head><body></body></html>")
    assert error.value.reason == "empty-extraction"


def test_too_large_page_is_refused() -> None:
    with pytest.raises(IngestError) as error:
        article_from_html(page().encode("utf-8"), max_bytes=100)
    assert error.value.reason == "too-large"


def test_text_is_kept_byte_for_byte() -> None:
    text = "  Storm closes the bridge\r\n\r\nThe bridge was closed on Monday night.\n\tWinds reached 90 km/h. "
    article = article_from_text(text, article_id="storm")
    assert article.text == text
    assert article.title == "Storm closes the bridge"
    assert article.language == "en"


def write_inputs(folder: Path) -> None:
    """One file per supported local kind plus an unsupported one, in nested folders."""
    (folder / "nested").mkdir(parents=True)
    (folder / "a.html").write_text(page(), encoding="utf-8")
    (folder / "b.htm").write_text(page(), encoding="utf-8")
    (folder / "nested" / "c.html.gz").write_bytes(gzip.compress(page().encode("utf-8")))
    (folder / "nested" / "d.txt").write_bytes(b"Bridge shut\r\nThe bridge shut on Monday.\r\n")
    (folder / "notes.docx").write_bytes(b"PK\x03\x04 not a page")


def test_folder_expansion_is_recursive_and_sorted(tmp_path: Path) -> None:
    write_inputs(tmp_path)
    names = [p.relative_to(tmp_path).as_posix() for p in iter_inputs([tmp_path])]
    assert names == ["a.html", "b.htm", "nested/c.html.gz", "nested/d.txt", "notes.docx"]


def test_ingest_paths_reads_every_kind_and_reports_the_rest(tmp_path: Path) -> None:
    write_inputs(tmp_path)
    records = list(ingest_paths([tmp_path, tmp_path / "missing.html"]))
    articles = {r.id: r for r in records if isinstance(r, Article)}
    errors = {Path(r.input).name: r.reason for r in records if isinstance(r, ErrorRecord)}
    assert sorted(articles) == ["a", "b", "c", "d"]
    assert articles["d"].text == "Bridge shut\r\nThe bridge shut on Monday.\r\n"
    assert errors == {"notes.docx": "unsupported-type", "missing.html": "not-found"}


def test_failures_do_not_stop_the_run(tmp_path: Path) -> None:
    (tmp_path / "empty.html").write_text("<html><body></body></html>", encoding="utf-8")
    (tmp_path / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (tmp_path / "zz.html").write_text(page(), encoding="utf-8")
    records = list(ingest_paths([tmp_path], max_bytes=10_000))
    assert [(type(r).__name__, getattr(r, "reason", None)) for r in records] == [
        ("ErrorRecord", "empty-extraction"),
        ("ErrorRecord", "binary-content"),
        ("Article", None),
    ]


def test_huge_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "big.html").write_text(page(), encoding="utf-8")
    [record] = ingest_paths([tmp_path], max_bytes=200)
    assert isinstance(record, ErrorRecord) and record.reason == "too-large"


def test_meta_csv_matches_by_file_name_or_stem(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(page(), encoding="utf-8")
    (tmp_path / "b.html.gz").write_bytes(gzip.compress(page().encode("utf-8")))
    meta = tmp_path / "meta.csv"
    meta.write_text(
        "file,url,outlet,published\n"
        "a.html,https://gazette.example/a,Gazette,2024-02-01\n"
        "b,https://gazette.example/b,,2024-02-02\n",
        encoding="utf-8",
    )
    records = {r.id: r for r in ingest_paths([tmp_path / "a.html", tmp_path / "b.html.gz"], meta_csv=meta)}
    assert (records["a"].url, records["a"].outlet, records["a"].published) == ("https://gazette.example/a", "Gazette", "2024-02-01")
    assert (records["b"].url, records["b"].published) == ("https://gazette.example/b", "2024-02-02")
    assert records["b"].domain == "gazette.example"


def write_warc(path: Path) -> None:
    """A WARC with HTML responses (one empty, one a 404), an image response and a request record."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        responses = [
            ("https://harbour.example/ferry", "text/html; charset=utf-8", page().encode("utf-8")),
            ("https://harbour.example/logo.png", "image/png", b"\x89PNG\r\n\x1a\n"),
            ("https://harbour.example/empty", "text/html", b"<html><body></body></html>"),
        ]
        responses.append(("https://harbour.example/gone", "text/html", page().encode("utf-8"), "404 Not Found"))
        for url, content_type, payload, *status in responses:
            headers = StatusAndHeaders(status[0] if status else "200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(payload), http_headers=headers,
                warc_headers_dict={"WARC-Date": "2024-03-05T10:00:00Z"},
            )
            writer.write_record(record)
        writer.write_record(writer.create_warc_record("https://harbour.example/ferry", "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")))


def test_warc_gives_one_article_per_successful_html_response(tmp_path: Path) -> None:
    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc)
    records = list(ingest_paths([tmp_path]))
    [article] = [r for r in records if isinstance(r, Article)]
    [error] = [r for r in records if isinstance(r, ErrorRecord)]
    assert article.id == stable_id("https://harbour.example/ferry")
    assert (article.source, article.fetched_at, article.url) == ("warc", "2024-03-05T10:00:00Z", "https://harbour.example/ferry")
    assert (error.reason, error.input) == ("empty-extraction", "https://harbour.example/empty")


def test_warc_article_equals_live_article(tmp_path: Path) -> None:
    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc)
    from_warc = next(r for r in read_warc(warc) if isinstance(r, Article))
    live = article_from_html(page().encode("utf-8"), url="https://harbour.example/ferry", charset="utf-8",
                             source="warc", fetched_at="2024-03-05T10:00:00Z")
    assert from_warc == live


def test_site_name_suffix_is_stripped_from_the_title() -> None:
    head = "<meta property='og:site_name' content='Harbour Gazette'>"
    html = page(head).replace("<h1>Ferry terminal to open in spring</h1>", "")
    assert article_from_html(html).title == "Ferry terminal to open in spring"


def test_displayed_headline_beats_a_longer_seo_title() -> None:
    head = json_ld(headline="Ferry terminal delay: everything you need to know about the new opening date")
    assert article_from_html(page(head)).title == "Ferry terminal to open in spring"


def test_entities_in_metadata_titles_are_decoded() -> None:
    head = json_ld(headline="Ferry&#8217;s terminal opens")
    html = page(head).replace("<h1>Ferry terminal to open in spring</h1>", "")
    assert article_from_html(html).title == "Ferry\u2019s terminal opens"


def test_visible_byline_is_split_into_names() -> None:
    byline = "<p class='byline'>By Ada Quayle and Ben Moor \u2022 March 5, 2024</p>"
    article = article_from_html(page(body=byline + BODY))
    assert article.authors == ["Ada Quayle", "Ben Moor"]


def test_roles_desks_emails_and_the_site_name_are_not_authors() -> None:
    head = json_ld(author=[
        {"name": "Harbour Gazette"}, {"name": "Gazette Staff"}, {"name": "news@harbour.example"},
        {"name": "Ada Quayle, Harbour Gazette"}, {"name": "ada-quayle"},
    ]) + "<meta property='og:site_name' content='Harbour Gazette'>"
    assert article_from_html(page(head)).authors == ["Ada Quayle"]


def dated_page(head: str, byline: str) -> str:
    """A page declaring its times in JSON-LD/<meta> and showing one date beside the byline."""
    return page(head=head, body=f"<p class='byline'>By Ann Lee {byline}</p>{BODY}")


def json_ld_dates(published: str, modified: str) -> str:
    """A NewsArticle JSON-LD script with publication and modification times."""
    data = {"@type": "NewsArticle", "datePublished": published, "dateModified": modified}
    return f"<script type='application/ld+json'>{json.dumps(data)}</script>"


def test_the_update_date_shown_beside_the_byline_wins_over_the_first_publication() -> None:
    head = json_ld_dates("2021-03-02T10:00:00+00:00", "2024-01-15T09:30:00+00:00")
    article = article_from_html(dated_page(head, "<span>Updated January 15, 2024</span>"))
    assert article.published == "2024-01-15T09:30:00+00:00"


def test_a_labelled_publication_date_wins_over_an_update_shown_first() -> None:
    head = json_ld_dates("2024-01-14T09:00:00Z", "2024-01-15T09:30:00Z")
    byline = "<span>Updated Jan. 15, 2024</span> <span>Published Jan. 14, 2024</span>"
    assert article_from_html(dated_page(head, byline)).published == "2024-01-14T09:00:00Z"


def test_a_utc_timestamp_takes_the_local_date_the_page_shows_with_the_same_clock_time() -> None:
    head = json_ld_dates("2024-01-16T03:22:00Z", "2024-01-16T03:22:00Z")
    article = article_from_html(dated_page(head, "<span>Jan 15, 2024, 10:22 PM EST</span>"))
    assert article.published == "2024-01-15"


def test_a_time_element_with_an_offset_gives_the_local_date_of_the_declared_instant() -> None:
    head = json_ld_dates("2024-01-16T00:46:00+00:00", "2024-01-16T00:46:00+00:00")
    byline = "<time datetime='2024-01-15T19:46:00-05:00'>January 15, 2024</time>"
    assert article_from_html(dated_page(head, byline)).published == "2024-01-15"


def test_a_date_in_a_sidebar_that_the_page_does_not_declare_is_ignored() -> None:
    head = json_ld_dates("2024-01-15T08:00:00+02:00", "2024-01-15T08:05:00+02:00")
    sidebar = "<aside><time datetime='2024-01-16T09:00:00+02:00'>January 16, 2024</time></aside>"
    article = article_from_html(page(head=head, body=BODY + sidebar))
    assert article.published == "2024-01-15T08:00:00+02:00"


def test_microdata_date_published_counts_as_a_declared_time() -> None:
    byline = "<time itemprop='datePublished' datetime='2024-01-15T15:54+0000'>15 January 2024 3:54pm</time>"
    assert article_from_html(dated_page("", byline)).published == "2024-01-15T15:54+0000"


def test_a_page_without_declared_times_may_label_its_date() -> None:
    article = article_from_html(dated_page("", "<div>Date: March 4, 2024</div>"))
    assert article.published == "2024-03-04"


ARTICLE_BODY = " ".join(
    f"Paragraph {n} of the council report describes how the ferry timetable changed during the winter."
    for n in range(1, 16)
)


def article_body_script(body: str) -> str:
    """A NewsArticle JSON-LD script carrying the full article text."""
    return f"<script type='application/ld+json'>{json.dumps({'@type': 'NewsArticle', 'articleBody': body})}</script>"


def test_a_long_json_ld_article_body_replaces_an_extraction_of_another_block() -> None:
    article = article_from_html(page(head=article_body_script(ARTICLE_BODY)))
    assert article.text == ARTICLE_BODY


def test_a_long_json_ld_article_body_replaces_an_extraction_several_times_longer() -> None:
    listing = "".join(f"<p>{ARTICLE_BODY} Reader comment number {n} follows here.</p>" for n in range(5))
    article = article_from_html(page(head=article_body_script(ARTICLE_BODY), body=listing))
    assert article.text == ARTICLE_BODY


def test_a_short_json_ld_article_body_is_a_summary_and_is_not_used() -> None:
    article = article_from_html(page(head=article_body_script("The ferry terminal opens in the spring.")))
    assert article.text.startswith("The harbour authority said on Tuesday")


def test_declared_times_with_a_local_offset_on_one_day_are_kept_as_written() -> None:
    head = json_ld_dates("2024-01-15T21:00:00-05:00", "2024-01-15T22:10:00-05:00")
    article = article_from_html(dated_page(head, "<span>Jan 16, 2024, 2:00 AM GMT</span>"))
    assert article.published == "2024-01-15T21:00:00-05:00"


def test_a_folder_manifest_gives_metadata_and_is_not_an_input(tmp_path):
    (tmp_path / "notice.txt").write_text("Road works start on Monday.\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("# what these are\n", encoding="utf-8")
    (tmp_path / "MANIFEST.csv").write_text(
        "file,url,outlet,published\nnotice.txt,https://gazette.example/notice,The Gazette,2024-05-02\n",
        encoding="utf-8",
    )
    [article] = list(ingest_paths([tmp_path]))
    assert (article.id, article.outlet, article.published) == ("notice", "The Gazette", "2024-05-02")
