"""Streaming, atomic JSON Lines reading and writing (jsonlines underneath)."""
from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jsonlines

from pipeline.records import Record

LOGGER = logging.getLogger(__name__)


def _plain(item: Record | dict[str, Any]) -> dict[str, Any]:
    return item.to_json() if isinstance(item, Record) else item


def read_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield each object of a JSONL file; an unreadable line (a crash mid-write) is skipped with a warning."""
    with jsonlines.open(path, mode="r") as reader:
        while True:
            try:
                yield reader.read(type=dict)
            except EOFError:
                return
            except jsonlines.InvalidLineError as error:
                LOGGER.warning("%s: skipping unreadable line %s", path, error.lineno)


@contextmanager
def atomic_jsonl(path: str | Path) -> Iterator[jsonlines.Writer]:
    """Write a JSONL file through a temporary file that replaces `path` only when the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            writer = jsonlines.Writer(stream, compact=True, sort_keys=False)
            yield writer
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        os.unlink(tmp_name)
        raise


def write_jsonl_atomic(path: str | Path, records: Iterable[Record | dict[str, Any]]) -> int:
    """Write all records to `path` atomically; return how many were written."""
    count = 0
    with atomic_jsonl(path) as writer:
        for record in records:
            writer.write(_plain(record))
            count += 1
    return count


def append_jsonl(path: str | Path, records: Iterable[Record | dict[str, Any]]) -> int:
    """Append records to `path` (created if missing), flushed to disk before returning."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    needs_newline = target.exists() and target.stat().st_size > 0 and _last_byte(target) != b"\n"
    count = 0
    with open(target, "a", encoding="utf-8") as stream:
        if needs_newline:
            stream.write("\n")
        writer = jsonlines.Writer(stream, compact=True)
        for record in records:
            writer.write(_plain(record))
            count += 1
        stream.flush()
        os.fsync(stream.fileno())
    return count


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as stream:
        stream.seek(-1, os.SEEK_END)
        return stream.read(1)


def write_json_atomic(path: str | Path, data: Any) -> None:
    """Write one JSON document (a report, run.json) through a temporary sibling and a rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2, ensure_ascii=False)
            stream.write("\n")
        os.replace(tmp_name, target)
    except BaseException:
        os.unlink(tmp_name)
        raise
