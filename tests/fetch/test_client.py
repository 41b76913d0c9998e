"""The polite client against a real local server: redirects, retries, limits and failures."""
from __future__ import annotations

import socket
from dataclasses import replace

import pytest

from pipeline.fetch.client import Exchange, PoliteClient, failure_reason, retry_after_seconds
from pipeline.fetch.errors import FetchError

from fetchsite import Reply


def _client(settings, archived: list[Exchange] | None = None) -> PoliteClient:
    return PoliteClient(settings, on_exchange=archived.append if archived is not None else None)


def test_sends_the_configured_user_agent(site, settings):
    url = site.page("/a.html", "<html><body>hello</body></html>")
    _client(replace(settings, user_agent="newsclaims-test/9 (+contact)")).get(url)
    assert site.hits_for("/a.html")[0].headers["User-Agent"] == "newsclaims-test/9 (+contact)"


def test_default_user_agent_names_the_tool():
    from pipeline.fetch.settings import FetchSettings

    assert FetchSettings().user_agent.startswith("newsclaims/")
    assert FetchSettings().robots_agent == "newsclaims"


def test_follows_a_redirect_chain_and_archives_every_hop(site, settings):
    site.add("/old", Reply(status=301, content_type=None, headers={"Location": "/older"}))
    site.add("/older", Reply(status=302, content_type=None, headers={"Location": site.url("/final.html")}))
    site.page("/final.html", "<html><body>arrived</body></html>")
    archived: list[Exchange] = []
    exchange = _client(settings, archived).get(site.url("/old"))
    assert exchange.url == site.url("/final.html")
    assert exchange.body == b"<html><body>arrived</body></html>"
    assert [e.status for e in archived if e.url != site.url("/robots.txt")] == [301, 302, 200]


def test_a_redirect_chain_longer_than_the_limit_fails(site, settings):
    for hop in range(10):
        site.add(f"/loop/{hop}", Reply(status=302, content_type=None, headers={"Location": f"/loop/{hop + 1}"}))
    with pytest.raises(FetchError) as failure:
        _client(settings).get(site.url("/loop/0"))
    assert failure.value.reason == "too-many-redirects"
    assert len(site.hits_for("/loop/4")) == 0  # max_redirects=3: /loop/0..3 requested, no more


def test_503_with_retry_after_waits_then_succeeds(site, settings):
    def flaky(count: int) -> Reply:
        if count == 0:
            return Reply(b"busy", status=503, content_type="text/plain", headers={"Retry-After": "1"})
        return Reply(b"<html><body>back</body></html>")

    site.add("/flaky.html", flaky)
    exchange = _client(settings).get(site.url("/flaky.html"))
    first, second = site.hits_for("/flaky.html")
    assert exchange.status == 200
    # Retry-After asked for 1s; the settings cap waits at 0.3s.
    assert 0.25 <= second.at - first.at < 0.9


def test_a_persistent_server_error_is_retried_then_reported(site, settings):
    site.add("/down.html", Reply(b"oops", status=500, content_type="text/plain"))
    with pytest.raises(FetchError) as failure:
        _client(settings).get(site.url("/down.html"))
    assert failure.value.reason == "http-500"
    assert len(site.hits_for("/down.html")) == settings.retries + 1


def test_a_slow_server_times_out_after_retries(site, settings):
    site.add("/slow.html", Reply(b"<html></html>", delay=1.0))
    with pytest.raises(FetchError) as failure:
        _client(replace(settings, retries=1)).get(site.url("/slow.html"))
    assert failure.value.reason == "timeout"
    assert len(site.hits_for("/slow.html")) == 2


def test_a_declared_oversized_body_is_refused(site, settings):
    site.add("/huge.html", Reply(b"x" * (settings.max_body_bytes + 1)))
    with pytest.raises(FetchError) as failure:
        _client(settings).get(site.url("/huge.html"))
    assert failure.value.reason == "too-large"


def test_an_undeclared_oversized_body_is_abandoned_while_streaming(site, settings):
    site.add("/stream.html", Reply(b"y" * (settings.max_body_bytes * 3), send_length=False))
    with pytest.raises(FetchError) as failure:
        _client(settings).get(site.url("/stream.html"))
    assert failure.value.reason == "too-large"


def test_html_only_refuses_other_content_types_without_archiving(site, settings):
    site.add("/report.pdf", Reply(b"%PDF-1.7 ...", content_type="application/pdf"))
    archived: list[Exchange] = []
    with pytest.raises(FetchError) as failure:
        _client(settings, archived).get(site.url("/report.pdf"), html_only=True)
    assert failure.value.reason == "not-html"
    assert all(e.url != site.url("/report.pdf") for e in archived)


def test_a_missing_page_is_a_404_error(site, settings):
    with pytest.raises(FetchError) as failure:
        _client(settings).get(site.url("/nowhere.html"))
    assert failure.value.reason == "http-404"
    assert len(site.hits_for("/nowhere.html")) == 1  # 4xx is final, not retried


def test_a_closed_port_is_a_connection_error(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError) as failure:
        _client(settings).get(f"http://127.0.0.1:{port}/x.html")
    assert failure.value.reason == "connection"


def test_requests_to_one_host_are_spaced_by_the_delay(site, settings):
    for n in range(3):
        site.page(f"/p{n}.html", "<html><body>page</body></html>")
    client = _client(replace(settings, delay=0.15))
    for n in range(3):
        client.get(site.url(f"/p{n}.html"))
    times = [hit.at for hit in site.hits]  # robots.txt, then the three pages
    assert all(later - earlier >= 0.14 for earlier, later in zip(times, times[1:]))


def test_retry_after_accepts_seconds_and_http_dates():
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == pytest.approx(10.0)
    assert retry_after_seconds("soon") is None


def test_name_resolution_failures_are_reported_as_dns():
    import requests
    import urllib3.exceptions

    resolution = urllib3.exceptions.NameResolutionError("news.invalid", None, OSError("Name or service not known"))
    retries = urllib3.exceptions.MaxRetryError(None, "/", reason=resolution)
    assert failure_reason(requests.ConnectionError(retries, request=None)) == "dns"


def _overlaps(site, settings, per_host: int) -> bool:
    from concurrent.futures import ThreadPoolExecutor

    urls = [site.add(f"/busy{n}.html", Reply(b"<html></html>", delay=0.15)) for n in range(3)]
    client = _client(replace(settings, delay=0.0, per_host_concurrency=per_host))
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(client.get, urls))
    starts = sorted(hit.at for hit in site.hits if hit.path.startswith("/busy"))
    return any(later - earlier < 0.1 for earlier, later in zip(starts, starts[1:]))


def test_one_request_at_a_time_per_host_by_default(site, settings):
    assert not _overlaps(site, settings, per_host=1)


def test_the_per_host_limit_can_allow_parallel_requests(site, settings):
    assert _overlaps(site, settings, per_host=3)
