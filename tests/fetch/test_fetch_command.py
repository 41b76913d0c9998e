"""`newsclaims fetch` calls the fetch stage with the options given."""
from __future__ import annotations

import json

from click.testing import CliRunner
from fetchsite import GRID_STORY, Reply, article_html

from pipeline.cli import main


def test_fetch_command_writes_articles_and_reports_errors(site, tmp_path):
    site.add("/robots.txt", Reply(b"User-agent: *\nDisallow: /private/\n", content_type="text/plain"))
    page = site.page("/news/grid.html", article_html("Substation fault cuts power to valley", GRID_STORY))
    listing = tmp_path / "urls.txt"
    listing.write_text(f"{site.url('/private/x.html')}\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["fetch", page, "--urls-file", str(listing), "--out", str(out), "--delay", "0", "--user-agent", "newsclaims-test/1"],
    )
    assert result.exit_code == 3, result.output
    assert "1 articles" in result.output
    assert json.loads((out / "errors.jsonl").read_text().splitlines()[0])["reason"] == "robots-disallowed"
    assert site.hits_for("/news/grid.html")[0].headers["User-Agent"] == "newsclaims-test/1"


def test_fetch_command_needs_something_to_fetch(tmp_path):
    result = CliRunner().invoke(main, ["fetch", "--out", str(tmp_path)])
    assert result.exit_code == 2
