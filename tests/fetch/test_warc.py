"""Every exchange is archived as a response record plus its request record, readable by warcio."""
from __future__ import annotations

from warcio.archiveiterator import ArchiveIterator

from pipeline.fetch.client import Exchange
from pipeline.fetch.warc import WarcArchive


def _exchange(url: str = "http://127.0.0.1:8000/news/a.html?x=1") -> Exchange:
    return Exchange(
        url=url,
        request_headers=[("Host", "127.0.0.1:8000"), ("User-Agent", "newsclaims/0.1.0")],
        status=200,
        reason="OK",
        http_version="HTTP/1.1",
        response_headers=[("Content-Type", "text/html; charset=utf-8"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
        body=b"<html><body>caf\xc3\xa9</body></html>",
        fetched_at="2026-11-26T05:40:01Z",
    )


def _records(path):
    with open(path, "rb") as stream:
        return [(r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read()) for r in ArchiveIterator(stream)]


def test_an_exchange_becomes_a_response_and_a_request_record(tmp_path):
    archive = WarcArchive(tmp_path / "raw" / "run.warc.gz", "newsclaims/0.1.0")
    archive.write(_exchange())
    archive.close()
    kinds = [record[0] for record in _records(archive.path)]
    assert kinds == ["warcinfo", "response", "request"]


def test_the_response_record_keeps_url_date_headers_and_body(tmp_path):
    archive = WarcArchive(tmp_path / "run.warc.gz", "newsclaims/0.1.0")
    archive.write(_exchange())
    archive.close()
    _, warc, http, body = _records(archive.path)[1]
    assert warc.get_header("WARC-Target-URI") == "http://127.0.0.1:8000/news/a.html?x=1"
    assert warc.get_header("WARC-Date") == "2026-11-26T05:40:01Z"
    assert http.get_statuscode() == "200"
    assert [v for k, v in http.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert body == b"<html><body>caf\xc3\xa9</body></html>"


def test_the_request_record_names_its_response(tmp_path):
    archive = WarcArchive(tmp_path / "run.warc.gz", "newsclaims/0.1.0")
    archive.write(_exchange())
    archive.close()
    (_, response, _, _), (_, request, request_http, _) = _records(archive.path)[1:]
    assert request.get_header("WARC-Concurrent-To") == response.get_header("WARC-Record-ID")
    assert request_http.protocol == "GET"
    assert request_http.statusline.startswith("/news/a.html?x=1")


def test_nothing_is_written_when_nothing_was_fetched(tmp_path):
    archive = WarcArchive(tmp_path / "run.warc.gz", "newsclaims/0.1.0")
    archive.close()
    assert not archive.path.exists()
