"""End to end: the README's main command on the bundled sample corpus."""
import subprocess
from pathlib import Path

from pipeline.jsonl import read_jsonl
from pipeline.records import validate

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "corpora" / "sample"


def test_make_extract_on_the_sample_writes_valid_records(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        ["make", "--no-print-directory", "extract", f"OUT={out}"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    articles = list(read_jsonl(out / "articles.jsonl"))
    sample_pages = [p for p in SAMPLE.iterdir() if p.suffix in {".html", ".htm", ".txt"}]
    assert len(articles) == len(sample_pages)
    for name, schema in (("articles", "article"), ("entities", "entity"), ("claims", "claim"), ("errors", "error")):
        for record in read_jsonl(out / f"{name}.jsonl"):
            validate(record, schema)
    kinds = {claim["kind"] for claim in read_jsonl(out / "claims.jsonl")}
    assert {"quote", "reported", "assertion"} <= kinds
    assert (out / "run.json").exists()
