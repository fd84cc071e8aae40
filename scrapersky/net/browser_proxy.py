"""The browser's guard proxy: every connection Chromium opens passes the crawl's address policy.

Chromium resolves and connects by itself, so Scrapy's downloader middlewares and resolver
never see a rendered page's subresources, iframes, workers, fetch/XHR, WebSockets, redirects
or script navigations. Launched with this proxy as its only way out (loopback included,
`<-loopback>`; its own name resolution switched off), Chromium hands every request to this
server, which resolves the target once through the crawl's guarded resolver, checks the
answer, and connects to the address it checked. What it refuses gets a 403 page carrying
REFUSED_MARKER (plain HTTP) or a refused tunnel (CONNECT: HTTPS and WebSockets).

With an upstream proxy configured (http_proxy / https_proxy, minus no_proxy), the upstream
proxy is handed the address checked here, never the name, so it has nothing to resolve: plain
HTTP goes as `GET http://<address>:<port>/path` with the page's own Host header, HTTPS and
WebSockets as `CONNECT <address>:<port>` (Chromium's TLS inside the tunnel still sends and
verifies the name).

A browser in a network namespace of its own (scrapersky.net.browser_jail) cannot reach this
process's loopback: the guard then listens on a unix socket in a private directory instead
(`reserve_unix`), where the browser's launcher hands over a socket listening inside the
browser's namespace, and the guard accepts the browser's connections on it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import shutil
import socket
import tempfile
import urllib.request
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from scrapersky.core.errors import BadInput
from scrapersky.net.policy import AddressPolicy, AddressRefused, ip_literal
from scrapersky.net.resolver import RefusedLookup

logger = logging.getLogger(__name__)

REFUSED_MARKER = b'<meta name="scrapersky-refused"'
HOP_HEADERS = {b"proxy-connection", b"proxy-authorization", b"connection", b"keep-alive"}
CHUNK = 64 * 1024

Resolve = Callable[[str], Awaitable[str]]


class BadRequest(BadInput):
    """Chromium sent its proxy a request line or target it cannot use (a 400)."""


class BrowserProxy:
    def __init__(self, sock: socket.socket, max_header_bytes: int, timeout: float) -> None:
        self.sock = sock
        self.max_header_bytes = max_header_bytes
        self.timeout = timeout
        self.server: asyncio.base_events.Server | None = None
        self.adopted: list[asyncio.base_events.Server] = []
        self.adopting: asyncio.Task | None = None
        self.policy: AddressPolicy | None = None
        self.resolve: Resolve | None = None
        self.on_refused: Callable[[str, str], None] = lambda host, reason: None

    @classmethod
    def reserve(cls, max_header_bytes: int, timeout: float) -> BrowserProxy:
        """Bind a loopback port now, so the browser's launch options can name it; serve later."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        return cls(sock, max_header_bytes, timeout)

    @classmethod
    def reserve_unix(cls, max_header_bytes: int, timeout: float) -> BrowserProxy:
        """A unix socket, for a browser's launcher to hand over the sockets the browser connects
        to; bound by start() in a new private directory (its path: `path`), which close() removes."""
        return cls(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), max_header_bytes, timeout)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    @property
    def path(self) -> str | None:
        """The unix socket's path once started; None for a loopback port."""
        if self.sock.family != socket.AF_UNIX:
            return None
        return self.sock.getsockname() or None

    async def start(
        self,
        policy: AddressPolicy,
        resolve: Resolve,
        on_refused: Callable[[str, str], None] | None = None,
    ) -> None:
        if self.server is not None or self.adopting is not None:
            return
        self.policy, self.resolve = policy, resolve
        if on_refused is not None:
            self.on_refused = on_refused
        if self.sock.family == socket.AF_UNIX:
            self.sock.bind(os.path.join(tempfile.mkdtemp(prefix="scrapersky-guard-"), "guard.sock"))
            self.sock.listen(8)
            self.sock.setblocking(False)
            self.adopting = asyncio.ensure_future(self._adopt_listeners())
            return
        self.server = await asyncio.start_server(
            self._serve, sock=self.sock, limit=self.max_header_bytes
        )

    async def close(self) -> None:
        if self.adopting is not None:
            self.adopting.cancel()
            self.adopting = None
        for server in [self.server, *self.adopted]:
            if server is not None:
                server.close()
                await server.wait_closed()
        self.server, self.adopted = None, []
        if self.path:
            shutil.rmtree(os.path.dirname(self.path), ignore_errors=True)
        self.sock.close()

    async def _adopt_listeners(self) -> None:
        """Serve each listening socket a browser's launcher hands over (SCM_RIGHTS), and say so
        with one byte: the launcher starts the browser only then."""
        loop = asyncio.get_running_loop()
        while True:
            conn, _ = await loop.sock_accept(self.sock)
            with conn:
                try:
                    conn.settimeout(self.timeout)
                    _, fds, _, _ = await asyncio.to_thread(socket.recv_fds, conn, 16, 1)
                    listener = socket.socket(fileno=fds[0])
                    self.adopted.append(
                        await asyncio.start_server(
                            self._serve, sock=listener, limit=self.max_header_bytes
                        )
                    )
                    conn.sendall(b"1")
                except (OSError, IndexError) as exc:  # IndexError: no socket came
                    logger.warning("browser launcher hand-over failed: %s", exc)

    # --- one client connection ------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_writer = None
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.timeout)
            method, target, lines = _parse_head(head)
            connect = method == b"CONNECT"
            host, port = _target(target, connect)
            address = await self._checked(host)
            if address is None:
                await _refuse(writer, connect, host)
                return
            upstream = _upstream_proxy(host, connect)
            dial_host, dial_port = (
                (upstream.hostname, upstream.port or 80) if upstream else (address, port)
            )
            up_reader, upstream_writer = await asyncio.wait_for(
                asyncio.open_connection(dial_host, dial_port), self.timeout
            )
            if connect and upstream is None:
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                upstream_writer.write(_forward_head(method, target, lines, address, port, upstream))
            if connect or b"transfer-encoding" in {
                line.split(b":", 1)[0].strip().lower() for line in lines
            }:
                await _pipe_both(reader, writer, up_reader, upstream_writer, self.timeout)
            else:
                await _send_body(reader, upstream_writer, lines, self.timeout)
                await _copy(up_reader, writer, self.timeout)
        except (
            asyncio.LimitOverrunError,
            asyncio.IncompleteReadError,
            ValueError,
        ):  # BadRequest too
            writer.write(
                b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
            )
        except (TimeoutError, OSError):
            if not writer.is_closing():
                writer.write(
                    b"HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
                )
        finally:
            for stream in (writer, upstream_writer):
                if stream is not None:
                    stream.close()

    async def _checked(self, host: str) -> str | None:
        """The address to connect to, or None when the policy refuses the host (or it does not resolve)."""
        try:
            address = ip_literal(host) or await asyncio.wait_for(self.resolve(host), self.timeout)
            return self.policy.check(host, address)
        except AddressRefused as refused:
            reason = str(refused)
        except RefusedLookup as exc:
            reason = str(exc.refused)
        except Exception:  # fail closed: no answer is no permission
            reason = f"DNS lookup failed for {host}"
        logger.warning("browser request %s", reason)
        self.on_refused(host, reason)
        return None


def _parse_head(head: bytes) -> tuple[bytes, bytes, list[bytes]]:
    request_line, *lines = head[:-4].split(b"\r\n")
    parts = request_line.split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
        raise BadRequest(request_line[:100])
    return parts[0].upper(), parts[1], lines


def _target(target: bytes, connect: bool) -> tuple[str, int]:
    text = target.decode("ascii")  # UnicodeDecodeError is a ValueError: 400
    if connect:
        parts = urlsplit("//" + text)
        if not parts.hostname or not parts.port:
            raise BadRequest(text)
        return parts.hostname, parts.port
    parts = urlsplit(text)
    if parts.scheme != "http" or not parts.hostname:
        raise BadRequest(text)
    return parts.hostname, parts.port or 80


def _upstream_proxy(host: str, connect: bool):
    """The configured upstream proxy for this target (environment, as Scrapy reads it), or None."""
    proxies = urllib.request.getproxies()
    url = proxies.get("https" if connect else "http") or proxies.get("http")
    if not url or urllib.request.proxy_bypass(host):
        return None
    return urlsplit(url if "://" in url else "http://" + url)


def _forward_head(
    method: bytes, target: bytes, lines: list[bytes], address: str, port: int, upstream
) -> bytes:
    """The request as sent on: origin-form to the site; to an upstream proxy, absolute-form or
    CONNECT naming the checked address, so the proxy resolves nothing (a name could answer it
    otherwise than it answered the check). One request per connection, so the next one is
    checked again."""
    kept = [line for line in lines if line.split(b":", 1)[0].strip().lower() not in HOP_HEADERS]
    if upstream is not None and upstream.username:
        credentials = f"{upstream.username}:{upstream.password or ''}".encode()
        kept.append(b"Proxy-Authorization: Basic " + base64.b64encode(credentials))
    where = b"%s:%d" % ((f"[{address}]" if ":" in address else address).encode("ascii"), port)
    if method == b"CONNECT":
        return (
            b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n" % (where, where)
            + b"".join(
                line + b"\r\n" for line in kept if line.lower().startswith(b"proxy-authorization")
            )
            + b"\r\n"
        )
    parts = urlsplit(target.decode("ascii"))
    target = ((parts.path or "/") + (f"?{parts.query}" if parts.query else "")).encode("ascii")
    if upstream is not None:
        if not any(line.split(b":", 1)[0].strip().lower() == b"host" for line in kept):
            kept.insert(0, b"Host: " + parts.netloc.rpartition("@")[2].encode("ascii"))
        target = b"http://" + where + target
    return (
        b"%s %s HTTP/1.1\r\n" % (method, target)
        + b"".join(line + b"\r\n" for line in kept)
        + b"Connection: close\r\n\r\n"
    )


async def _refuse(writer: asyncio.StreamWriter, connect: bool, host: str) -> None:
    if connect:
        writer.write(b"HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        return
    body = (
        REFUSED_MARKER + b' content="address policy"><title>Refused</title>'
        b"<p>Refused by the crawler's address policy.</p>"
    )
    writer.write(
        b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nConnection: close\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    await writer.drain()


async def _send_body(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, lines: list[bytes], timeout: float
) -> None:
    length = 0
    for line in lines:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while length > 0:
        data = await asyncio.wait_for(reader.read(min(length, CHUNK)), timeout)
        if not data:
            break
        writer.write(data)
        length -= len(data)
    await writer.drain()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float) -> None:
    while data := await asyncio.wait_for(reader.read(CHUNK), timeout):
        writer.write(data)
        await writer.drain()


async def _pipe_both(client_reader, client_writer, up_reader, up_writer, timeout: float) -> None:
    tasks = [
        asyncio.ensure_future(_copy(client_reader, up_writer, timeout)),
        asyncio.ensure_future(_copy(up_reader, client_writer, timeout)),
    ]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    for task in done:
        if task.exception() is not None and not isinstance(
            task.exception(), (OSError, asyncio.TimeoutError)
        ):
            raise task.exception()
