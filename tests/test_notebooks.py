"""The notebooks are executed, top to bottom, on a feed extracted for the test."""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from pipeline.ingest import ingest_paths
from pipeline.run import extract_articles
from pipeline.jsonl import write_jsonl_atomic

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
SAMPLE = Path(__file__).resolve().parents[1] / "corpora" / "sample"


@pytest.fixture(scope="module")
def feed(nlp, tmp_path_factory):
    out = tmp_path_factory.mktemp("feed")
    pages = sorted(SAMPLE.glob("*.html"))[:4]
    articles = [a for a in ingest_paths(pages) if hasattr(a, "text")]
    write_jsonl_atomic(out / "articles.jsonl", articles)
    extract_articles(articles, out, nlp=nlp)
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_on_an_extracted_feed(path, feed, monkeypatch):
    monkeypatch.setenv("NEWSCLAIMS_OUT", str(feed))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
