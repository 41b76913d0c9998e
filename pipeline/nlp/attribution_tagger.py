"""Trained token tagger for attribution spans (Source / Cue / Content), used by news_quotes."""
from __future__ import annotations

import logging
from pathlib import Path

LOGGER = logging.getLogger(__name__)
MODEL_DIR = Path(__file__).resolve().parent / "attribution_model"


def load_tagger(model_dir: str | None = None):
    """The tagger saved in `model_dir` (default: the packaged model), or None when there is none."""
    path = Path(model_dir) if model_dir else MODEL_DIR
    if not (path / "weights.pt").exists():
        LOGGER.info("no attribution tagger at %s; rules only", path)
        return None
    raise NotImplementedError
