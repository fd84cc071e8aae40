import gzip
import http.client
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.support.coverage import unmeasured
from tests.support.fixture_web import (
    DEMO_PAGES,
    DEMO_PRODUCTS,
    FixtureWeb,
    Reply,
    Request,
    demo_site,
)
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def fetch(
    web: FixtureWeb, url: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, Message, bytes]:
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": web.proxy_url, "https": web.proxy_url})
    )
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_static_routes_get_body_type_and_validators(web: FixtureWeb) -> None:
    site = web.site("shop1.test")
    site.add("/robots.txt", "User-agent: *\n")
    site.add("/sitemap.xml", b"<urlset/>")
    site.add("/sitemap.xml.gz", gzip.compress(b"<urlset/>"))
    site.add("/about", "<h1>About</h1>")
    site.add("/feed", "{}", content_type="application/json", headers={"X-Extra": "yes"})

    status, headers, body = fetch(web, "http://shop1.test/robots.txt")
    assert (status, body) == (200, b"User-agent: *\n")
    assert headers["Content-Type"] == "text/plain"
    assert re.fullmatch(r'"[0-9a-f]{20}"', headers["ETag"])
    assert headers["Last-Modified"] == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert fetch(web, "http://shop1.test/sitemap.xml")[1]["Content-Type"] == "application/xml"
    assert fetch(web, "http://shop1.test/sitemap.xml.gz")[1]["Content-Type"] == "application/x-gzip"
    assert gzip.decompress(fetch(web, "http://shop1.test/sitemap.xml.gz")[2]) == b"<urlset/>"
    assert fetch(web, "http://shop1.test/about")[1]["Content-Type"] == "text/html"
    _, feed_headers, _ = fetch(web, "http://shop1.test/feed")
    assert (feed_headers["Content-Type"], feed_headers["X-Extra"]) == ("application/json", "yes")


def test_requests_are_logged_and_filtered(web: FixtureWeb) -> None:
    web.site("a.test").add("/", "a").add("/page", "p")
    web.site("b.test").add("/", "b")
    fetch(web, "http://a.test/", headers={"User-Agent": "probe/1"})
    fetch(web, "http://a.test/page?x=1")
    fetch(web, "http://B.test/")

    assert len(web.requests) == 3
    first = web.requests[0]
    assert (first.method, first.url, first.host, first.path) == (
        "GET",
        "http://a.test/",
        "a.test",
        "/",
    )
    assert first.headers["user-agent"] == first.headers["USER-AGENT"] == "probe/1"
    assert "User-Agent" in first.headers
    assert first.time <= time.time()
    assert [r.path for r in web.hits("a.test")] == ["/", "/page?x=1"]
    assert [r.host for r in web.hits(path="/")] == ["a.test", "b.test"]
    assert len(web.hits("a.test", "/page")) == 1
    assert web.hits("a.test", "/page?x=2") == []


def test_unknown_path_is_404_and_unknown_host_is_502(web: FixtureWeb) -> None:
    web.site("shop1.test").add("/", "home")
    status, headers, body = fetch(web, "http://shop1.test/missing")
    assert status == 404
    assert headers["Content-Type"] == "text/html"
    assert b"Not found" in body
    status, _, body = fetch(web, "http://nowhere.test/")
    assert status == 502
    assert b"nowhere.test" in body


def test_redirects(web: FixtureWeb) -> None:
    site = web.site("shop1.test")
    site.add("/new", "new home")
    site.redirect("/old", "http://shop1.test/new")
    site.redirect("/temp", "/new", status=302)

    connection = http.client.HTTPConnection("127.0.0.1", web.port, timeout=5)
    connection.request("GET", "http://shop1.test/old")
    response = connection.getresponse()
    response.read()
    assert (response.status, response.getheader("Location")) == (301, "http://shop1.test/new")
    connection.request("GET", "http://shop1.test/temp")
    response = connection.getresponse()
    response.read()
    assert (response.status, response.getheader("Location")) == (302, "/new")
    connection.close()

    status, _, body = fetch(web, "http://shop1.test/old")
    assert (status, body) == (200, b"new home")
    assert [r.path for r in web.hits("shop1.test")][-2:] == ["/old", "/new"]


def test_conditional_requests_get_304(web: FixtureWeb) -> None:
    site = web.site("shop1.test").add("/sitemap.xml", b"<urlset/>")
    _, headers, _ = fetch(web, "http://shop1.test/sitemap.xml")
    etag, last_modified = headers["ETag"], headers["Last-Modified"]

    status, headers_304, body = fetch(web, "http://shop1.test/sitemap.xml", {"If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert headers_304["ETag"] == etag
    assert (
        fetch(web, "http://shop1.test/sitemap.xml", {"If-None-Match": f'"other", W/{etag}'})[0]
        == 304
    )
    assert fetch(web, "http://shop1.test/sitemap.xml", {"If-None-Match": '"other"'})[0] == 200
    assert (
        fetch(web, "http://shop1.test/sitemap.xml", {"If-Modified-Since": last_modified})[0] == 304
    )
    assert (
        fetch(
            web,
            "http://shop1.test/sitemap.xml",
            {"If-Modified-Since": "Sun, 01 Jan 2023 00:00:00 GMT"},
        )[0]
        == 200
    )
    # If-None-Match wins over If-Modified-Since.
    both = {"If-None-Match": '"other"', "If-Modified-Since": last_modified}
    assert fetch(web, "http://shop1.test/sitemap.xml", both)[0] == 200

    site.add("/sitemap.xml", b"<urlset><url/></urlset>")
    assert fetch(web, "http://shop1.test/sitemap.xml", {"If-None-Match": etag})[0] == 200
    site.last_modified = site.last_modified.replace(year=2025)
    assert (
        fetch(web, "http://shop1.test/sitemap.xml", {"If-Modified-Since": last_modified})[0] == 200
    )


def test_handler_routes_and_query_lookup(web: FixtureWeb) -> None:
    seen: list[Request] = []

    def echo(request: Request) -> Reply:
        seen.append(request)
        body = f"{request.method} {request.path} {request.headers.get('x-probe')}"
        return Reply(201, body.encode(), {"X-Handled": "1"})

    site = web.site("api.test").handler("/echo", echo)
    site.add("/list", "all").add("/list?page=2", "second")
    site.add("/slow", "late", delay=60)

    status, headers, body = fetch(web, "http://api.test/echo?q=1", {"X-Probe": "hello"})
    assert (status, body, headers["X-Handled"]) == (201, b"GET /echo?q=1 hello", "1")
    assert seen[0].url == "http://api.test/echo?q=1"
    assert fetch(web, "http://api.test/list?page=2")[2] == b"second"
    assert fetch(web, "http://api.test/list?page=3")[2] == b"all"

    # A delayed reply is held while other requests are answered.
    def fetch_slow() -> None:
        try:
            fetch(web, "http://api.test/slow")
        except OSError:  # the server stops before the delay is over
            pass

    slow = threading.Thread(target=fetch_slow, daemon=True)
    slow.start()
    wait_for(lambda: web.hits("api.test", "/slow"))
    assert fetch(web, "http://api.test/list")[2] == b"all"
    assert slow.is_alive()


def test_handler_failure_is_500(web: FixtureWeb, capsys: pytest.CaptureFixture[str]) -> None:
    def broken(request: Request) -> Reply:
        raise RuntimeError("boom")

    web.site("api.test").handler("/broken", broken)
    assert fetch(web, "http://api.test/broken")[0] == 500
    assert "boom" in capsys.readouterr().err


def test_directory_serving(web: FixtureWeb, tmp_path: Path) -> None:
    (tmp_path / "files.test" / "blog").mkdir(parents=True)
    (tmp_path / "files.test" / "index.html").write_text("<h1>home</h1>")
    (tmp_path / "files.test" / "blog" / "index.html").write_text("<h1>blog</h1>")
    (tmp_path / "files.test" / "sitemap.xml").write_bytes(b"<urlset/>")
    (tmp_path / "secret.txt").write_text("outside")
    web.serve_directory(tmp_path)

    status, headers, body = fetch(web, "http://files.test/")
    assert (status, body, headers["Content-Type"]) == (200, b"<h1>home</h1>", "text/html")
    assert fetch(web, "http://files.test/blog/")[2] == b"<h1>blog</h1>"
    assert fetch(web, "http://files.test/blog")[2] == b"<h1>blog</h1>"
    status, headers, body = fetch(web, "http://files.test/sitemap.xml?ignored=1")
    assert (status, body, headers["Content-Type"]) == (200, b"<urlset/>", "application/xml")
    assert fetch(web, "http://files.test/sitemap.xml", {"If-None-Match": headers["ETag"]})[0] == 304
    assert fetch(web, "http://files.test/missing.xml")[0] == 404
    assert fetch(web, "http://files.test/%2e%2e/secret.txt")[0] == 404
    assert fetch(web, "http://other.test/")[0] == 502
    # Files are read when requested, so later writes show up.
    (tmp_path / "files.test" / "late.txt").write_text("added later")
    assert fetch(web, "http://files.test/late.txt")[2] == b"added later"
    # An explicit route on the same host takes precedence over the file.
    web.site("files.test").add("/sitemap.xml", "<sitemapindex/>")
    assert fetch(web, "http://files.test/sitemap.xml")[2] == b"<sitemapindex/>"
    assert "files.test" in web.hosts


def test_connect_without_a_tunnel_is_refused(web: FixtureWeb) -> None:
    web.site("shop1.test").add("/", "home")
    connection = http.client.HTTPConnection("127.0.0.1", web.port, timeout=5)
    connection.set_tunnel("shop1.test", 443)
    with pytest.raises(OSError, match="502"):
        connection.request("GET", "/")
    connection.close()
    with pytest.raises(urllib.error.URLError):
        fetch(web, "https://shop1.test/")
    assert [r.method for r in web.hits("shop1.test")] == ["CONNECT", "CONNECT"]


def test_keep_alive_head_post_and_origin_form(web: FixtureWeb) -> None:
    received: list[bytes] = []

    def form(request: Request) -> Reply:
        received.append(request.body)
        return Reply(200, b"thanks")

    site = web.site("shop1.test").add("/page", "x" * 1000).handler("/form", form)
    connection = http.client.HTTPConnection("127.0.0.1", web.port, timeout=5)
    connection.request("GET", "http://shop1.test/page")
    response = connection.getresponse()
    assert response.read() == b"x" * 1000
    first_socket = connection.sock

    connection.request("HEAD", "http://shop1.test/page")
    response = connection.getresponse()
    assert (response.status, response.getheader("Content-Length"), response.read()) == (
        200,
        "1000",
        b"",
    )
    connection.request("POST", "http://shop1.test/form", body=b"a=1")
    assert connection.getresponse().read() == b"thanks"
    # Origin form, as when the server is used directly rather than as a proxy.
    connection.request("GET", "/page", headers={"Host": f"{site.host}:80"})
    assert connection.getresponse().read() == b"x" * 1000
    assert connection.sock is first_socket
    assert received == [b"a=1"]
    assert web.requests[-1].url == "http://shop1.test/page"
    connection.close()


def test_many_requests_and_a_large_body(web: FixtureWeb) -> None:
    site = web.site("shop1.test").add("/robots.txt", "User-agent: *\n")
    site.add("/big.xml", b"<" + b"x" * 6_000_000 + b">")
    for _ in range(100):
        assert fetch(web, "http://shop1.test/robots.txt")[0] == 200
    connection = http.client.HTTPConnection("127.0.0.1", web.port, timeout=5)
    for _ in range(100):
        connection.request("GET", "http://shop1.test/robots.txt")
        assert connection.getresponse().read() == b"User-agent: *\n"
    connection.request("GET", "http://shop1.test/big.xml")
    assert connection.getresponse().read() == b"<" + b"x" * 6_000_000 + b">"
    connection.close()
    assert len(web.requests) == 201


def test_stop_closes_idle_connections_and_frees_the_port() -> None:
    web = FixtureWeb().start()
    web.site("shop1.test").add("/", "home")
    port = web.port
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "http://shop1.test/")
    assert connection.getresponse().read() == b"home"
    web.stop()
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        connection.request("GET", "http://shop1.test/")
        connection.getresponse()
    with FixtureWeb(port=port) as again:
        assert again.proxy_url == f"http://127.0.0.1:{port}"


def test_demo_site_is_a_complete_small_shop(web: FixtureWeb) -> None:
    demo_site(web)
    robots = fetch(web, "http://shop1.test/robots.txt")[2].decode()
    assert "Sitemap: http://shop1.test/sitemap_index.xml" in robots
    index = ElementTree.fromstring(fetch(web, "http://shop1.test/sitemap_index.xml")[2])
    sitemap_urls = [loc.text for loc in index.findall("sm:sitemap/sm:loc", SITEMAP_NS)]
    assert sitemap_urls == [
        "http://shop1.test/sitemap-products.xml",
        "http://shop1.test/sitemap-pages.xml.gz",
    ]

    listed = []
    for url in sitemap_urls:
        status, headers, body = fetch(web, url)
        assert status == 200
        if url.endswith(".gz"):
            assert headers["Content-Type"] == "application/x-gzip"
            body = gzip.decompress(body)
        urls = ElementTree.fromstring(body).findall("sm:url", SITEMAP_NS)
        assert len(urls) == 10
        for field in ("lastmod", "changefreq", "priority"):
            assert all(u.find(f"sm:{field}", SITEMAP_NS) is not None for u in urls)
        listed += [u.find("sm:loc", SITEMAP_NS).text for u in urls]
    assert listed == [f"http://shop1.test{path}" for path in DEMO_PRODUCTS + DEMO_PAGES]
    assert all(fetch(web, url)[0] == 200 for url in listed)

    home = fetch(web, "http://shop1.test/")[2].decode()
    for expected in (
        "<title>",
        'name="description"',
        "mailto:",
        "tel:",
        "facebook.com",
        "linkedin.com",
    ):
        assert expected in home


def test_command_line_demo_serves_until_stopped() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fixture_web", "--port", "0", "--demo"],
        cwd=ROOT,
        env=unmeasured(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline().strip()
        match = re.fullmatch(r"proxy: (http://127\.0\.0\.1:(\d+))", first_line)
        assert match, first_line
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": match.group(1)}))
        with opener.open("http://shop1.test/robots.txt", timeout=5) as response:
            assert b"Sitemap:" in response.read()
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0


def test_command_line_needs_something_to_serve() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.fixture_web", "--port", "0"],
        cwd=ROOT,
        env=unmeasured(os.environ),
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert result.returncode == 2
    assert "--demo" in result.stderr
