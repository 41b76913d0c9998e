"""Canonical URLs: one form per page, tracking parameters and fragments gone."""
from __future__ import annotations

from pipeline.fetch.urls import canonical_url, host_key


def test_tracking_parameters_and_fragments_are_removed():
    url = "https://News.Example/story.html?utm_source=x&utm_medium=social&fbclid=abc&gclid=1#comments"
    assert canonical_url(url) == "https://news.example/story.html"


def test_meaningful_parameters_are_kept_unless_strict():
    url = "https://news.example/view?article=9&utm_campaign=spring"
    assert canonical_url(url) == "https://news.example/view?article=9"
    assert canonical_url(url, strict=True) == "https://news.example/view"


def test_default_ports_are_dropped():
    assert canonical_url("http://news.example:80/a") == "http://news.example/a"


def test_host_key_keeps_scheme_and_port():
    assert host_key("http://127.0.0.1:8001/a?b=1") == "http://127.0.0.1:8001"


def test_url_lists_skip_blank_lines_and_comments(tmp_path):
    from pipeline.fetch.urls import read_url_list

    listing = tmp_path / "urls.txt"
    listing.write_text("# morning run\nhttps://news.example/a\n\n  https://news.example/b  \n", encoding="utf-8")
    assert read_url_list(listing) == ["https://news.example/a", "https://news.example/b"]
