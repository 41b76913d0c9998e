"""Fetch stage: polite HTTP fetching of news articles, from URLs, feeds and sitemaps, into articles.jsonl and a WARC."""
from pipeline.fetch.crawl import FetchReport, fetch
from pipeline.fetch.settings import FetchSettings

__all__ = ["FetchReport", "FetchSettings", "fetch"]
