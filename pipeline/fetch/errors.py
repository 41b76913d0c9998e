"""The one exception of the fetch stage: a short machine-readable reason plus a human detail."""
from __future__ import annotations

import re

# Reasons a later run may succeed on; everything else (404, robots, too large...) is final.
TRANSIENT_REASONS = frozenset({"timeout", "connection", "dns", "robots-unreachable", "http-429"})
SERVER_ERROR = re.compile(r"^http-5\d\d$")


class FetchError(Exception):
    """A URL that could not be fetched; `reason` is what errors.jsonl records ("timeout", "http-404"...)."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail or reason


def is_transient(reason: str | None) -> bool:
    """True for failures worth trying again in a later run."""
    return bool(reason) and (reason in TRANSIENT_REASONS or bool(SERVER_ERROR.match(reason)))
