"""Read the TSV data tables shipped in pipeline/data (loaded once per process)."""
from __future__ import annotations

import csv
import functools
import logging
from pathlib import Path

LOGGER = logging.getLogger(__name__)
DATA_DIR = Path(__file__).resolve().parent / "data"


@functools.lru_cache(maxsize=None)
def read_table(name: str) -> tuple[dict[str, str], ...]:
    """Rows of `pipeline/data/<name>` as dicts keyed by the header; '#' lines are comments."""
    path = DATA_DIR / name
    with path.open(encoding="utf-8", newline="") as handle:
        lines = [line for line in handle if line.strip() and not line.startswith("#")]
    rows = tuple(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    LOGGER.debug("loaded %d rows from %s", len(rows), path)
    return rows
