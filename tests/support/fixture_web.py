"""A loopback HTTP proxy that serves many made-up sites, so no test touches the internet.

Clients send ``GET http://shop1.test/robots.txt`` to the proxy (``http_proxy``);
the server picks the site by host and answers from its routes. Origin-form
requests (``GET /path`` with a ``Host`` header) work too. ``CONNECT`` is refused
with 502 so https fails fast and clients fall back to http.

    python -m tests.support.fixture_web --port 8899 --demo
    python -m tests.support.fixture_web --port 8899 --directory DIR
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import http
import ipaddress
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

from tests.support.relay import relay

DEFAULT_LAST_MODIFIED = datetime(2024, 1, 1, tzinfo=UTC)
IDLE_TIMEOUT = 120.0
CONTENT_TYPES = {
    ".xml": "application/xml",
    ".gz": "application/x-gzip",
    ".txt": "text/plain",
    ".json": "application/json",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".css": "text/css",
    ".js": "application/javascript",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}
NOT_FOUND_PAGE = b"<!DOCTYPE html>\n<html><head><title>Not found</title></head><body><h1>Not found</h1></body></html>\n"


class Headers(dict[str, str]):
    """Request headers with case-insensitive lookups (keys are stored lowercase)."""

    def __init__(self, items: list[tuple[str, str]] | None = None) -> None:
        super().__init__()
        for name, value in items or []:
            key = name.lower()
            self[key] = f"{self[key]}, {value}" if key in self else value

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __setitem__(self, name: str, value: str) -> None:
        super().__setitem__(name.lower(), value)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(name.lower(), default)


@dataclass
class Request:
    method: str
    url: str
    host: str
    path: str
    headers: Headers
    time: float
    body: bytes = b""


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class _Static:
    reply: Reply
    etag: str | None


Route = _Static | Callable[[Request], Reply]


def guess_content_type(path: str) -> str:
    name = path.split("?", 1)[0].lower()
    for suffix, content_type in CONTENT_TYPES.items():
        if name.endswith(suffix):
            return content_type
    return "text/html"


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:20] + '"'


def _to_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


class Site:
    """One made-up site: static routes, dynamic handlers and redirects by path."""

    def __init__(self, host: str, last_modified: datetime = DEFAULT_LAST_MODIFIED) -> None:
        self.host = host
        self.last_modified = last_modified
        self._routes: dict[str, Route] = {}

    def add(
        self,
        path: str,
        body: bytes | str,
        *,
        status: int = 200,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> Site:
        data = _to_bytes(body)
        reply_headers = {"Content-Type": content_type or guess_content_type(path)}
        reply_headers.update(headers or {})
        etag = (_header(reply_headers, "ETag") or strong_etag(data)) if status == 200 else None
        self._routes[path] = _Static(Reply(status, data, reply_headers, delay), etag)
        return self

    def handler(self, path: str, fn: Callable[[Request], Reply]) -> Site:
        self._routes[path] = fn
        return self

    def redirect(self, path: str, location: str, status: int = 301) -> Site:
        body = f'<html><body>Moved to <a href="{location}">{location}</a></body></html>\n'
        return self.add(path, body, status=status, headers={"Location": location})

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}{path}"

    def route(self, path: str) -> Route | None:
        """The route for a path with query, falling back to the path alone."""
        route = self._routes.get(path)
        if route is None and "?" in path:
            route = self._routes.get(path.split("?", 1)[0])
        return route


def _header(headers: dict[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


class FixtureWeb:
    """The proxy server and its sites. Use as a context manager or start()/stop()."""

    def __init__(self, port: int = 0, bind: str = "127.0.0.1") -> None:
        self.requests: list[Request] = []
        self._port = port
        self._bind = bind
        self._sites: dict[str, Site] = {}
        self._roots: list[Path] = []
        self._file_cache: dict[Path, tuple[int, int, bytes, str]] = {}
        self._lock = threading.Lock()
        self.tunnels: dict[str, tuple[str, int]] = {}  # host → (ip, port) that CONNECT relays to
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- sites ---------------------------------------------------------------

    def site(self, host: str) -> Site:
        key = host.lower()
        with self._lock:
            if key not in self._sites:
                self._sites[key] = Site(key)
            return self._sites[key]

    def serve_directory(self, root: Path) -> None:
        """Serve root/<host>/<path> files as sites; files are read when first requested."""
        self._roots.append(Path(root).resolve())

    @property
    def hosts(self) -> list[str]:
        hosts = set(self._sites)
        for root in self._roots:
            hosts.update(entry.name for entry in root.iterdir() if entry.is_dir())
        return sorted(hosts)

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> FixtureWeb:
        if self._server is not None:
            return self
        self._server = self._listen()
        self._server.web = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fixture-web",
            daemon=True,
        )
        self._thread.start()
        return self

    def _listen(self) -> _Server:
        return _Server((self._bind, self._port), _Handler)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FixtureWeb:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FixtureWeb is not started")
        return self._server.server_address[1]

    @property
    def proxy_url(self) -> str:
        return f"http://{self._bind}:{self.port}"

    # -- request log ---------------------------------------------------------

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def hits(self, host: str | None = None, path: str | None = None) -> list[Request]:
        """Logged requests for a host and/or path; a path without '?' matches any query."""
        with self._lock:
            logged = list(self.requests)
        if host is not None:
            logged = [r for r in logged if r.host == host.lower()]
        if path is not None:
            if "?" in path:
                logged = [r for r in logged if r.path == path]
            else:
                logged = [r for r in logged if r.path.split("?", 1)[0] == path]
        return logged

    # -- answering -----------------------------------------------------------

    def respond(self, request: Request) -> Reply:
        site = self._sites.get(request.host)
        route = site.route(request.path) if site else None
        last_modified = site.last_modified if site else DEFAULT_LAST_MODIFIED
        if isinstance(route, _Static):
            return self._static(request, route.reply, route.etag, last_modified)
        if route is not None:
            return route(request)
        found = self._directory_file(request.host, request.path)
        if found is not None:
            path, body, etag = found
            reply = Reply(200, body, {"Content-Type": guess_content_type(path.name)})
            return self._static(request, reply, etag, last_modified)
        if site is None and not self._directory_host(request.host):
            return Reply(
                502,
                f"fixture web: unknown host {request.host!r}\n".encode(),
                {"Content-Type": "text/plain"},
            )
        return Reply(404, NOT_FOUND_PAGE, {"Content-Type": "text/html"})

    def _static(
        self, request: Request, reply: Reply, etag: str | None, last_modified: datetime
    ) -> Reply:
        if reply.status != 200:
            return reply
        headers = dict(reply.headers)
        if etag is not None and _header(headers, "ETag") is None:
            headers["ETag"] = etag
        if _header(headers, "Last-Modified") is None:
            headers["Last-Modified"] = format_datetime(last_modified, usegmt=True)
        if request.method in ("GET", "HEAD") and _not_modified(
            request.headers, etag, last_modified
        ):
            kept = {
                k: v
                for k, v in headers.items()
                if k.lower() in ("etag", "last-modified", "cache-control")
            }
            return Reply(304, b"", kept, reply.delay)
        return Reply(200, reply.body, headers, reply.delay)

    def _directory_host(self, host: str) -> Path | None:
        if not host or host.startswith(".") or "/" in host or "\\" in host:
            return None
        for root in self._roots:
            candidate = root / host
            if candidate.is_dir():
                return candidate
        return None

    def _directory_file(self, host: str, path: str) -> tuple[Path, bytes, str] | None:
        site_root = self._directory_host(host)
        if site_root is None:
            return None
        relative = unquote(path.split("?", 1)[0]).lstrip("/")
        candidate = (site_root / relative).resolve()
        if candidate.is_dir():
            candidate = candidate / "index.html"
        if not candidate.is_relative_to(site_root.resolve()) or not candidate.is_file():
            return None
        stat = candidate.stat()
        cached = self._file_cache.get(candidate)
        if cached is None or cached[:2] != (stat.st_mtime_ns, stat.st_size):
            body = candidate.read_bytes()
            cached = (stat.st_mtime_ns, stat.st_size, body, strong_etag(body))
            self._file_cache[candidate] = cached
        return candidate, cached[2], cached[3]


def _not_modified(headers: Headers, etag: str | None, last_modified: datetime) -> bool:
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or (etag is not None and etag.removeprefix("W/") in tags)
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified <= since
    return False


def _is_ip(host: str) -> bool:
    """An IP-literal proxy target names no site: a guarded crawl hands its proxy the address it
    checked (scrapersky.net.handoff) and the site in the Host header."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _without_port(authority: str) -> str:
    if authority.startswith("["):
        return authority[1:].split("]", 1)[0].lower()
    return authority.rsplit(":", 1)[0].lower()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    allow_reuse_address = True
    web: FixtureWeb

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients hanging up mid-response (cancelled downloads, shutdown) are normal here.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def close_connections(self) -> None:
        # Idle keep-alive connections would otherwise hold their threads until the client leaves.
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FixtureWeb/1"
    timeout = IDLE_TIMEOUT
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        super().finish()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_CONNECT(self) -> None:
        host = _without_port(self.path).lower()
        self.server.web.record(
            Request("CONNECT", self.path, host, "", Headers(self.headers.items()), time.time())
        )
        self.close_connection = True
        target = self.server.web.tunnels.get(host)
        if target is None:
            self._write(Reply(502, b"", {"Content-Type": "text/plain"}), head=False)
            return
        # A registered tunnel (e.g. a TLS test server): relay bytes both ways until either side closes.
        upstream = socket.create_connection(target, timeout=10)
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        pump_back = relay(self.connection, upstream)
        pump_back.join()
        upstream.close()

    def _serve(self) -> None:
        received = time.time()
        body = self._read_body()
        target = urlsplit(self.path)
        path = (target.path or "/") + (f"?{target.query}" if target.query else "")
        if target.scheme and target.netloc and not _is_ip(target.hostname or ""):
            host = (target.hostname or "").lower()
            url = self.path
        else:
            host = _without_port(self.headers.get("Host") or "")
            url = f"http://{host}{path}"
        request = Request(
            self.command, url, host, path, Headers(self.headers.items()), received, body
        )
        self.server.web.record(request)
        try:
            reply = self.server.web.respond(request)
        except Exception:
            traceback.print_exc()
            reply = Reply(500, b"fixture web: handler failed\n", {"Content-Type": "text/plain"})
        if reply.delay > 0:
            time.sleep(reply.delay)
        self._write(reply, head=self.command == "HEAD")

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            return b""
        length = self.headers.get("Content-Length")
        return self.rfile.read(int(length)) if length and length.isdigit() else b""

    def _write(self, reply: Reply, head: bool) -> None:
        try:
            phrase = http.HTTPStatus(reply.status).phrase
        except ValueError:
            phrase = "Unknown"
        lines = [
            f"HTTP/1.1 {reply.status} {phrase}",
            f"Date: {formatdate(usegmt=True)}",
            f"Server: {self.server_version}",
        ]
        has_body = reply.status >= 200 and reply.status not in (204, 304)
        if has_body:
            lines.append(f"Content-Length: {len(reply.body)}")
        lines.extend(
            f"{name}: {value}"
            for name, value in reply.headers.items()
            if name.lower() not in ("content-length", "connection")
        )
        lines.append("Connection: " + ("close" if self.close_connection else "keep-alive"))
        head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # One write per response: no small-packet stalls on keep-alive connections.
        self.wfile.write(head_bytes + reply.body if has_body and not head else head_bytes)


# -- demo site ---------------------------------------------------------------

DEMO_PRODUCTS = tuple(
    f"/products/{slug}"
    for slug in (
        "speckled-mug",
        "tall-latte-mug",
        "ramen-bowl",
        "serving-bowl",
        "side-plate",
        "dinner-plate",
        "bud-vase",
        "planter-small",
        "planter-large",
        "gift-card",
    )
)
DEMO_PAGES = (
    "/",
    "/about",
    "/contact",
    "/shipping",
    "/returns",
    "/blog",
    "/blog/glaze-notes",
    "/blog/kiln-day",
    "/workshops",
    "/stockists",
)
DEMO_EMAIL = "hello@shoponeceramics.com"
DEMO_PHONE = "+15035550142"
DEMO_TITLE = "Shop One – Handmade Ceramics from Portland"
DEMO_DESCRIPTION = (
    "Small-batch stoneware mugs, bowls and plates, thrown and glazed by hand in Portland, Oregon."
)
DEMO_SOCIAL = {
    "facebook": "https://www.facebook.com/shoponeceramics",
    "twitter": "https://twitter.com/shoponeceramics",
    "linkedin": "https://www.linkedin.com/company/shop-one-ceramics",
    "instagram": "https://www.instagram.com/shoponeceramics/",
    "youtube": "https://www.youtube.com/@shoponeceramics",
}


def _urlset(host: str, entries: list[tuple[str, str, str, str]]) -> bytes:
    urls = "".join(
        f"  <url>\n    <loc>http://{host}{path}</loc>\n    <lastmod>{lastmod}</lastmod>\n"
        f"    <changefreq>{changefreq}</changefreq>\n    <priority>{priority}</priority>\n  </url>\n"
        for path, lastmod, changefreq, priority in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + urls + "</urlset>\n"
    ).encode()


def _homepage(host: str) -> str:
    products = "".join(
        f'      <li><a href="{path}">{_title_of(path).title()}</a></li>\n'
        for path in DEMO_PRODUCTS[:4]
    )
    social = "".join(
        f'      <a href="{url}" rel="me">{name.title()}</a>\n' for name, url in DEMO_SOCIAL.items()
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{DEMO_TITLE}</title>
  <meta name="description" content="{DEMO_DESCRIPTION}">
  <link rel="canonical" href="http://{host}/">
  <link rel="icon" href="/favicon.ico">
  <meta property="og:title" content="Shop One">
  <meta property="og:image" content="http://{host}/logo.png">
  <script type="application/ld+json">
  {{"@context": "https://schema.org", "@type": "Organization", "name": "Shop One",
    "url": "http://{host}/", "logo": "http://{host}/logo.png"}}
  </script>
</head>
<body>
  <header>
    <a href="/"><img class="logo" src="/logo.png" alt="Shop One logo"></a>
    <nav><a href="/about">About</a> <a href="/workshops">Workshops</a> <a href="/contact">Contact</a></nav>
  </header>
  <main>
    <h1>Handmade ceramics</h1>
    <p>Every piece is thrown on the wheel and fired in our studio.</p>
    <ul>
{products}    </ul>
  </main>
  <footer>
    <p>Write to <a href="mailto:{DEMO_EMAIL}">{DEMO_EMAIL}</a>
      or call <a href="tel:{DEMO_PHONE}">(503) 555-0142</a>.</p>
    <p class="social">
{social}    </p>
  </footer>
</body>
</html>
"""


def _title_of(path: str) -> str:
    return path.rsplit("/", 1)[1].replace("-", " ")


def _page(title: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title} – Shop One</title>\n'
        f'<meta name="description" content="{title} at Shop One, handmade ceramics."></head>\n'
        f'<body><h1>{title}</h1><p><a href="/">Home</a></p></body></html>\n'
    )


def demo_site(web: FixtureWeb, host: str = "shop1.test") -> Site:
    """A small realistic shop: robots.txt → sitemap index → two urlsets (one gzipped), 20 URLs in all."""
    site = web.site(host)
    site.add(
        "/robots.txt",
        f"User-agent: *\nDisallow: /cart\nDisallow: /checkout\n\nSitemap: http://{host}/sitemap_index.xml\n",
    )
    site.add(
        "/sitemap_index.xml",
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"  <sitemap><loc>http://{host}/sitemap-products.xml</loc><lastmod>2024-05-02</lastmod></sitemap>\n"
        f"  <sitemap><loc>http://{host}/sitemap-pages.xml.gz</loc><lastmod>2024-04-20</lastmod></sitemap>\n"
        "</sitemapindex>\n",
    )
    products = [
        (path, f"2024-05-{day:02d}", "weekly", "0.8")
        for day, path in enumerate(DEMO_PRODUCTS, start=1)
    ]
    pages = [(DEMO_PAGES[0], "2024-04-10T09:30:00+00:00", "daily", "1.0")] + [
        (path, f"2024-04-{day:02d}T09:30:00+00:00", "monthly", "0.5")
        for day, path in enumerate(DEMO_PAGES[1:], start=11)
    ]
    site.add("/sitemap-products.xml", _urlset(host, products))
    site.add("/sitemap-pages.xml.gz", gzip.compress(_urlset(host, pages), mtime=0))
    site.add("/", _homepage(host), content_type="text/html; charset=utf-8")
    for path in DEMO_PRODUCTS + DEMO_PAGES[1:]:
        site.add(path, _page(_title_of(path).capitalize()), content_type="text/html; charset=utf-8")
    site.add("/favicon.ico", b"\x00\x00\x01\x00", content_type="image/x-icon")
    site.add("/logo.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")
    return site


# -- command line --------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.fixture_web", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--port", type=int, default=8899)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument(
        "--directory", type=Path, action="append", default=[], help="serve DIR/<host>/<path> files"
    )
    parser.add_argument("--demo", action="store_true", help="serve the demo site shop1.test")
    args = parser.parse_args(argv)
    if not args.demo and not args.directory:
        parser.error("give --demo and/or --directory DIR")
    web = FixtureWeb(port=args.port, bind=args.bind)
    for directory in args.directory:
        if not directory.is_dir():
            parser.error(f"not a directory: {directory}")
        web.serve_directory(directory)
    if args.demo:
        demo_site(web)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        web.start()
    except OSError as exc:
        print(
            f"fixture web: cannot listen on {args.bind}:{args.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    print(f"proxy: {web.proxy_url}", flush=True)
    print(f"sites: {', '.join(web.hosts) or '(none)'}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        web.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
