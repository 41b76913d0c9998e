"""The bundled sample pages, served over HTTP, are fetched like local files and the syndicated copy is caught."""
from __future__ import annotations

import csv
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fetchsite import Reply

from pipeline.fetch import fetch
from pipeline.jsonl import read_jsonl

SAMPLE = Path(__file__).resolve().parents[2] / "corpora" / "sample"


def _manifest() -> list[dict[str, str]]:
    if not (SAMPLE / "MANIFEST.csv").exists():
        pytest.skip("corpora/sample/MANIFEST.csv is not present")
    with open(SAMPLE / "MANIFEST.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def sample_run(site, settings, tmp_path):
    """Every sample page served at its manifest path (charset as planted), fetched in manifest order."""
    rows = _manifest()
    urls = []
    for row in rows:
        charset = "windows-1252" if "encoding:windows-1252" in row["planted"] else "utf-8"
        path = urlsplit(row["url"]).path
        body = (SAMPLE / row["file"]).read_bytes()
        urls.append(site.add(path, Reply(body, content_type=f"text/html; charset={charset}")))
    fetch(urls, [], [], tmp_path, settings=settings)
    articles = {urlsplit(a["url"]).path: a for a in read_jsonl(tmp_path / "articles.jsonl")}
    return rows, {row["file"]: articles[urlsplit(row["url"]).path] for row in rows}


def test_every_sample_page_becomes_an_article_with_the_same_text_as_ingest(sample_run):
    from pipeline.ingest import ingest_file

    rows, fetched = sample_run
    for row in rows:
        assert fetched[row["file"]]["text"] == ingest_file(SAMPLE / row["file"]).text, row["file"]


def test_the_planted_syndicated_copy_points_to_its_original(sample_run):
    rows, fetched = sample_run
    expected = {
        row["file"]: next((tag.split(":", 1)[1] for tag in row["planted"].split(";") if tag.startswith("syndicated_copy_of:")), None)
        for row in rows
    }
    found = {
        name: next((other for other, a in fetched.items() if a["id"] == article["duplicate_of"]), None)
        for name, article in fetched.items()
    }
    assert found == expected
