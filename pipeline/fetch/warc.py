"""Raw archive: every HTTP exchange as a WARC request record plus response record, gzipped (warcio)."""
from __future__ import annotations

import io
import logging
import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline import __version__
from pipeline.fetch.client import Exchange

LOGGER = logging.getLogger(__name__)


def new_warc_path(raw_dir: Path) -> Path:
    """A fresh file name per run, so an interrupted run never leaves a half-written record in a later file."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    return raw_dir / f"fetch-{stamp}-{os.getpid()}.warc.gz"


class WarcArchive:
    """Appends exchanges to one .warc.gz, opened on the first write (a run that fetches nothing leaves no file)."""

    def __init__(self, path: Path, user_agent: str) -> None:
        self.path = path
        self._user_agent = user_agent
        self._lock = threading.Lock()
        self._stream: io.BufferedWriter | None = None
        self._writer: WARCWriter | None = None
        self.records = 0

    def write(self, exchange: Exchange) -> None:
        """Archive one exchange: the response, then the request that asked for it."""
        with self._lock:
            writer = self._open()
            response = writer.create_warc_record(
                exchange.url,
                "response",
                payload=io.BytesIO(exchange.body),
                http_headers=StatusAndHeaders(
                    f"{exchange.status} {exchange.reason}".strip(),
                    exchange.response_headers,
                    protocol=exchange.http_version,
                ),
                warc_headers_dict={"WARC-Date": exchange.fetched_at},
            )
            target = urlsplit(exchange.url)
            path = target.path or "/"
            request = writer.create_warc_record(
                exchange.url,
                "request",
                payload=io.BytesIO(b""),
                http_headers=StatusAndHeaders(
                    f"{exchange.method} {path}{'?' + target.query if target.query else ''} {exchange.http_version}",
                    exchange.request_headers,
                    is_http_request=True,
                ),
                warc_headers_dict={
                    "WARC-Date": exchange.fetched_at,
                    "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
                },
            )
            writer.write_record(response)
            writer.write_record(request)
            self._stream.flush()
            self.records += 2

    def _open(self) -> WARCWriter:
        """The writer, creating the file and its warcinfo record on first use."""
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = open(self.path, "ab")
            self._writer = WARCWriter(self._stream, gzip=True)
            info = self._writer.create_warcinfo_record(
                self.path.name,
                {"software": f"newsclaims/{__version__} (warcio)", "http-header-user-agent": self._user_agent,
                 "format": "WARC File Format 1.0"},
            )
            self._writer.write_record(info)
            LOGGER.info("archiving to %s", self.path)
        return self._writer

    def close(self) -> None:
        """Flush and close the file, if it was opened."""
        with self._lock:
            if self._stream is not None:
                self._stream.close()
                self._stream = None
                self._writer = None
