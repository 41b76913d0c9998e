"""A tiny news site served over real HTTP on 127.0.0.1, and the articles it serves (written for these tests)."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pipeline.fetch.settings import FetchSettings



@dataclass
class Reply:
    """What the test server sends for one request."""

    body: bytes = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    send_length: bool = True


@dataclass
class Hit:
    """One request the server received."""

    path: str
    headers: dict[str, str]
    at: float


Route = Callable[[int], Reply]


class Site:
    """Routes (path -> reply, or path -> function of the hit count) plus a log of every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self.base = ""

    def add(self, path: str, reply: Reply | Route) -> str:
        """Serve `reply` at `path`; return the absolute URL."""
        self.routes[path] = reply if callable(reply) else (lambda _count, r=reply: r)
        return self.url(path)

    def page(self, path: str, html: str, **kwargs) -> str:
        """Serve an HTML page."""
        return self.add(path, Reply(html.encode("utf-8"), **kwargs))

    def url(self, path: str) -> str:
        """Absolute URL of a path on this site."""
        return self.base + path

    def paths(self) -> list[str]:
        """Requested paths, in order."""
        return [hit.path for hit in self.hits]

    def hits_for(self, path: str) -> list[Hit]:
        """Requests made for one path."""
        return [hit for hit in self.hits if hit.path == path]

    def reply(self, path: str, headers: dict[str, str]) -> Reply:
        """Log the hit and choose the reply: exact path first, then without the query, else a 404 page."""
        with self._lock:
            count = sum(1 for hit in self.hits if hit.path == path)
            self.hits.append(Hit(path, headers, time.monotonic()))
        route = self.routes.get(path) or self.routes.get(path.split("?", 1)[0])
        if route is None:
            return Reply(b"<html><body><h1>Not found</h1></body></html>", status=404)
        return route(count)


def make_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to `site`."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            reply = site.reply(self.path, dict(self.headers.items()))
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                if reply.content_type:
                    self.send_header("Content-Type", reply.content_type)
                if reply.send_length:
                    self.send_header("Content-Length", str(len(reply.body)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout, size limit), as the tests intend

        def log_message(self, *args) -> None:
            """Keep the test output quiet."""

    return Handler


@contextmanager
def serve_site() -> Iterator[Site]:
    """A running site on 127.0.0.1 (ephemeral port) with no routes yet; robots.txt answers 404 until added."""
    site = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(site))
    server.daemon_threads = True
    server.block_on_close = False
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def fast_settings() -> FetchSettings:
    """Politeness shrunk to milliseconds so the fetch tests run in seconds."""
    return FetchSettings(
        delay=0.01,
        max_crawl_delay=0.2,
        workers=2,
        connect_timeout=0.5,
        read_timeout=0.3,
        total_timeout=2.0,
        retries=2,
        backoff=0.01,
        max_retry_wait=0.3,
        max_redirects=3,
        max_body_bytes=50_000,
    )


def article_html(title: str, paragraphs: list[str], *, outlet: str = "Valley Courier", extra_head: str = "") -> str:
    """A small but realistic news page: navigation, a headline, the body and a footer."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | {outlet}</title>
<meta property="og:site_name" content="{outlet}">{extra_head}</head>
<body><nav><a href="/">Home</a> <a href="/news/">News</a> <a href="/sport/">Sport</a></nav>
<article><h1>{title}</h1><p class="byline">By Staff Reporter</p>
{body}
</article>
<footer>Copyright {outlet}. All rights reserved.</footer></body></html>"""


GRID_STORY = [
    "Thousands of homes in the Larkmoor valley lost power for most of Tuesday after a transformer at the "
    "Eastfield substation overheated during the afternoon heat, the regional grid operator said.",
    "Engineers restored supply to about 14,000 households by nine in the evening, according to a statement "
    "from Larkmoor Grid, which said a cooling fan had failed and that no one had been hurt in the incident.",
    "Local businesses described a difficult day. A bakery owner on Mill Street said her ovens had gone cold "
    "just before the lunchtime rush, and two schools sent pupils home early because classrooms became too hot.",
    "The operator said it would inspect every transformer of the same model before the end of the month and "
    "publish a report on the fault, adding that it expected to pay compensation to affected customers.",
]
BRIDGE_STORY = [
    "The Harwick footbridge reopened on Saturday morning, eighteen months after a barge struck one of its "
    "supports and forced the town council to close the crossing for safety checks and repairs.",
    "Council engineers replaced two steel piers and resurfaced the deck at a cost of 2.3 million pounds, a "
    "spokesperson said, describing the work as the largest repair the town had undertaken in a generation.",
    "Commuters who had faced a detour of more than a mile welcomed the reopening, and a brass band played as "
    "the first walkers crossed the river shortly after eight o'clock under a grey sky.",
]
LIBRARY_STORY = [
    "Brookfield's central library will stay open on Sundays after the county council approved an extra "
    "120,000 pounds for staffing in its budget vote on Wednesday evening.",
    "Campaigners had gathered more than 4,000 signatures in a petition asking for weekend hours to be kept, "
    "arguing that students and shift workers relied on the reading rooms and the free computers.",
    "The council leader said the money would come from reserves for one year while officials looked for a "
    "permanent arrangement, and promised a review of opening hours across all branch libraries.",
]
FLOOD_STORY = [
    "Residents of low-lying streets in Osterby were told to move valuables upstairs on Thursday as the river "
    "rose faster than forecast after three days of heavy rain across the hills to the north.",
    "The environment agency issued a severe warning for the town centre and said the water could peak "
    "overnight at a level last seen in 2007, when hundreds of properties were flooded.",
    "Volunteers filled sandbags outside the fire station through the afternoon, and the council opened the "
    "leisure centre as a rest point for anyone who needed to leave home.",
]
FERRY_STORY = [
    "The island ferry service to Sallow Point will run an extra evening sailing every Friday from next month, "
    "the operator announced, after complaints that visitors were stranded on summer weekends.",
    "The company said it had hired six additional crew members and that the new crossing would leave the "
    "mainland harbour at half past nine, returning forty minutes later.",
    "Island councillors welcomed the change but said they would keep pressing for a winter timetable that "
    "matched the needs of residents who commute to jobs on the mainland.",
]
OLD_STORY = [
    "A new bus shelter was installed outside Kettleby post office last spring, replacing one that had been "
    "damaged in a storm the previous winter and left without a roof for several months.",
    "Passengers said the old shelter had offered little protection from the wind, and the parish council "
    "paid for the replacement from its small works fund after a public meeting.",
]
