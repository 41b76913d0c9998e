"""A polite HTTP client (requests): robots.txt, per-host spacing and concurrency, retries, size/type/redirect limits.

Redirects are followed by hand so that every hop is checked against robots.txt, spaced like any other
request and archived. Bodies are streamed and abandoned as soon as they pass the size limit.
"""
from __future__ import annotations

import email.utils
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions

from pipeline.fetch.errors import FetchError
from pipeline.fetch.robots import RobotsRules
from pipeline.fetch.settings import FetchSettings
from pipeline.fetch.urls import host_key, is_http_url

LOGGER = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 64 * 1024
# The archived body is the decoded one, so these headers no longer describe it.
DROPPED_RESPONSE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


def utc_now() -> str:
    """Current UTC time as ISO 8601 with second precision, the form WARC-Date uses."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Exchange:
    """One HTTP request and its response, as archived: the body is decoded of any Content-Encoding."""

    url: str
    request_headers: list[tuple[str, str]]
    status: int
    reason: str
    http_version: str
    response_headers: list[tuple[str, str]]
    body: bytes
    fetched_at: str
    method: str = "GET"

    def header(self, name: str) -> str | None:
        """The first response header called `name` (case-insensitive)."""
        wanted = name.lower()
        return next((value for key, value in self.response_headers if key.lower() == wanted), None)

    @property
    def content_type(self) -> str:
        """The Content-Type header value ('' when absent)."""
        return self.header("Content-Type") or ""


def media_type(content_type: str | None) -> str:
    """'text/html' for 'text/HTML; charset=utf-8'."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds asked for by a Retry-After header (delta-seconds or HTTP-date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, its chained causes and the exceptions requests/urllib3 tuck into `args`."""
    seen: set[int] = set()
    stack: list[BaseException] = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
        for linked in (current.__cause__, current.__context__, getattr(current, "reason", None)):
            if isinstance(linked, BaseException):
                stack.append(linked)


def failure_reason(error: requests.RequestException) -> str:
    """'dns', 'timeout', 'connection', 'too-many-redirects' or 'decode-error' for a requests exception."""
    causes = list(_causes(error))
    if any(isinstance(c, (urllib3.exceptions.NameResolutionError, socket.gaierror)) for c in causes):
        return "dns"
    # urllib3 makes NewConnectionError (refused, unreachable) a subclass of ConnectTimeoutError.
    if any(isinstance(c, urllib3.exceptions.NewConnectionError) for c in causes):
        return "connection"
    if any(isinstance(c, (requests.Timeout, urllib3.exceptions.TimeoutError, socket.timeout)) for c in causes):
        return "timeout"
    if isinstance(error, requests.exceptions.ContentDecodingError):
        return "decode-error"
    if isinstance(error, requests.exceptions.InvalidURL):
        return "invalid-url"
    return "connection"


class HostGate:
    """At most `limit` requests at once to one host, their starts at least `delay` seconds apart."""

    def __init__(self, limit: int, delay: float) -> None:
        self._slots = threading.BoundedSemaphore(max(1, limit))
        self._lock = threading.Lock()
        self._next_start = 0.0
        self.delay = delay

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold a slot for one request, after waiting until the host may be asked again."""
        with self._slots:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start)
                self._next_start = start + self.delay
            if start > now:
                time.sleep(start - now)
            yield

    def pause(self, seconds: float) -> None:
        """Let no request start for `seconds` (Retry-After, backoff)."""
        with self._lock:
            self._next_start = max(self._next_start, time.monotonic() + seconds)


class PoliteClient:
    """GET with robots.txt, per-host gates, retries and limits; every exchange goes to `on_exchange` (the WARC)."""

    def __init__(self, settings: FetchSettings, on_exchange: Callable[[Exchange], None] | None = None) -> None:
        self.settings = settings
        self._on_exchange = on_exchange
        self._local = threading.local()
        self._gates: dict[str, HostGate] = {}
        self._gates_lock = threading.Lock()
        self.robots = RobotsRules(self, settings)

    def get(
        self, url: str, *, html_only: bool = False, obey_robots: bool = True, max_bytes: int | None = None
    ) -> Exchange:
        """The final 2xx response for `url` after redirects; FetchError for anything else."""
        current = url
        for _hop in range(self.settings.max_redirects + 1):
            if not is_http_url(current):
                raise FetchError("invalid-url", f"not an absolute http(s) URL: {current!r}")
            if obey_robots:
                self.robots.check(current)
            exchange = self._get_with_retries(current, html_only, max_bytes or self.settings.max_body_bytes)
            location = exchange.header("Location")
            if exchange.status in REDIRECT_STATUSES and location:
                current = urljoin(current, location.strip())
                continue
            if not 200 <= exchange.status < 300:
                raise FetchError(f"http-{exchange.status}", f"{exchange.status} {exchange.reason} for {current}")
            return exchange
        raise FetchError("too-many-redirects", f"more than {self.settings.max_redirects} redirects from {url}")

    def gate(self, url: str) -> HostGate:
        """The gate of the URL's host, created on first use with the configured delay."""
        key = host_key(url)
        with self._gates_lock:
            if key not in self._gates:
                self._gates[key] = HostGate(self.settings.per_host_concurrency, self.settings.delay)
            return self._gates[key]

    def _get_with_retries(self, url: str, html_only: bool, max_bytes: int) -> Exchange:
        """One GET, repeated with exponential backoff on timeouts, connection errors, 429 and 5xx."""
        gate = self.gate(url)
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                with gate.turn():
                    exchange = self._get_once(url, html_only, max_bytes)
            except FetchError as error:
                if last or error.reason not in {"timeout", "connection"}:
                    raise
                wait = self._backoff(attempt)
                LOGGER.info("%s: %s, retrying in %.2fs", url, error.reason, wait)
                gate.pause(wait)
                continue
            self._archive(exchange)
            if exchange.status in self.settings.retry_statuses and not last:
                asked = retry_after_seconds(exchange.header("Retry-After"))
                wait = min(asked, self.settings.max_retry_wait) if asked is not None else self._backoff(attempt)
                LOGGER.info("%s: HTTP %s, retrying in %.2fs", url, exchange.status, wait)
                gate.pause(wait)
                continue
            return exchange
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff for the given attempt number, capped like Retry-After."""
        return min(self.settings.backoff * (2**attempt), self.settings.max_retry_wait)

    def _archive(self, exchange: Exchange) -> None:
        """Hand the exchange to the archive, if any."""
        if self._on_exchange is not None:
            self._on_exchange(exchange)

    def _session(self) -> requests.Session:
        """This thread's session (requests sessions are not shared between threads)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update({"User-Agent": self.settings.user_agent, **self.settings.extra_headers})
            self._local.session = session
        return session

    def _get_once(self, url: str, html_only: bool, max_bytes: int) -> Exchange:
        """A single GET without redirects, body streamed under the size and time limits."""
        settings = self.settings
        fetched_at = utc_now()
        deadline = time.monotonic() + settings.total_timeout
        try:
            response = self._session().get(
                url, stream=True, allow_redirects=False, timeout=(settings.connect_timeout, settings.read_timeout)
            )
        except requests.RequestException as error:
            raise FetchError(failure_reason(error), str(error)) from error
        with response:
            if html_only and 200 <= response.status_code < 300:
                found = media_type(response.headers.get("Content-Type"))
                if found not in settings.article_types:
                    raise FetchError("not-html", f"Content-Type {found or 'missing'} at {url}")
            body = self._read_body(response, url, deadline, max_bytes)
            return Exchange(
                url=url,
                request_headers=_request_headers(response.request, url),
                status=response.status_code,
                reason=response.reason or "",
                http_version="HTTP/1.0" if response.raw.version == 10 else "HTTP/1.1",
                response_headers=_archived_headers(response, len(body)),
                body=body,
                fetched_at=fetched_at,
            )

    def _read_body(self, response: requests.Response, url: str, deadline: float, limit: int) -> bytes:
        """The decoded body, or FetchError once it passes `limit` bytes or the total time limit."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit and not response.headers.get("Content-Encoding"):
            raise FetchError("too-large", f"Content-Length {declared} exceeds {limit} bytes at {url}")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(CHUNK_BYTES):
                size += len(chunk)
                if size > limit:
                    raise FetchError("too-large", f"body passed {limit} bytes at {url}")
                if time.monotonic() > deadline:
                    raise FetchError("timeout", f"body took longer than {self.settings.total_timeout}s at {url}")
                chunks.append(chunk)
        except requests.RequestException as error:
            raise FetchError(failure_reason(error), str(error)) from error
        return b"".join(chunks)


def _request_headers(request: requests.PreparedRequest, url: str) -> list[tuple[str, str]]:
    """The request headers as sent, with the Host header http.client adds itself."""
    headers = [("Host", urlsplit(url).netloc)]
    headers.extend((key, value) for key, value in request.headers.items() if key.lower() != "host")
    return headers


def _archived_headers(response: requests.Response, body_length: int) -> list[tuple[str, str]]:
    """Response headers in arrival order (repeats kept), describing the decoded body we archive."""
    headers = [(k, v) for k, v in response.raw.headers.items() if k.lower() not in DROPPED_RESPONSE_HEADERS]
    headers.append(("Content-Length", str(body_length)))
    return headers
