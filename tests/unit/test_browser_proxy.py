"""The browser's guard proxy over real loopback sockets: what it forwards, what it refuses."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from scrapersky.net.browser_proxy import REFUSED_MARKER, BrowserProxy, _forward_head, _target
from scrapersky.net.policy import AddressPolicy


class Origin:
    """A one-shot HTTP server on a loopback address that records what it was sent."""

    def __init__(self, host: str) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            data = conn.recv(65536)
            self.received.append(data)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
            conn.close()


async def _exchange(proxy: BrowserProxy, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]))
    writer.write(request)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


@pytest.fixture
def origins():
    allowed, trap = Origin("127.0.0.2"), Origin("127.0.0.1")
    yield allowed, trap
    allowed.sock.close()
    trap.sock.close()


def test_forwards_allowed_targets_and_refuses_the_rest(origins):
    allowed, trap = origins
    names = {"site.test": "127.0.0.2", "inside.test": "127.0.0.1"}

    async def resolve(host: str) -> str:
        if host not in names:
            raise OSError("no such name")
        return names[host]

    refusals: list[str] = []

    async def scenario() -> list[bytes]:
        proxy = BrowserProxy.reserve(max_header_bytes=4096, timeout=5)
        await proxy.start(
            AddressPolicy.from_text(["127.0.0.2/32"], allow_dangerous=True),
            resolve,
            lambda host, why: refusals.append(why),
        )
        try:
            return [
                await _exchange(
                    proxy,
                    b"GET http://site.test:%d/a?b=1 HTTP/1.1\r\nHost: site.test\r\n"
                    b"Proxy-Connection: keep-alive\r\n\r\n" % allowed.port,
                ),
                await _exchange(
                    proxy,
                    b"GET http://inside.test:%d/ HTTP/1.1\r\nHost: inside.test\r\n\r\n" % trap.port,
                ),
                await _exchange(proxy, b"GET http://127.0.0.1:%d/ HTTP/1.1\r\n\r\n" % trap.port),
                await _exchange(proxy, b"CONNECT 127.0.0.1:%d HTTP/1.1\r\n\r\n" % trap.port),
                await _exchange(proxy, b"GET http://nowhere.test/ HTTP/1.1\r\n\r\n"),
                await _exchange(
                    proxy, b"GET http://site.test/ HTTP/1.1\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n"
                ),
                await _exchange(proxy, b"GET https://site.test/ HTTP/1.1\r\n\r\n"),
            ]
        finally:
            await proxy.close()

    ok, by_name, by_literal, tunnel, unresolved, oversized, not_http = asyncio.run(scenario())
    assert ok.startswith(b"HTTP/1.1 200") and ok.endswith(b"hello")
    # Sent on in origin form, one request per connection, without the proxy's own headers.
    assert allowed.received[0].startswith(b"GET /a?b=1 HTTP/1.1\r\n")
    assert (
        b"Connection: close" in allowed.received[0]
        and b"Proxy-Connection" not in allowed.received[0]
    )
    for refused in (by_name, by_literal, unresolved):
        assert refused.startswith(b"HTTP/1.1 403") and REFUSED_MARKER in refused
    assert tunnel.startswith(b"HTTP/1.1 403")
    assert oversized.startswith(b"HTTP/1.1 400") and not_http.startswith(b"HTTP/1.1 400")
    assert trap.received == []
    assert any("inside.test resolves to a loopback address" in why for why in refusals)
    assert any("DNS lookup failed for nowhere.test" in why for why in refusals)


def test_request_targets_and_forwarded_heads():
    assert _target(b"example.org:443", connect=True) == ("example.org", 443)
    assert _target(b"http://[::1]:8080/x", connect=False) == ("::1", 8080)
    with pytest.raises(ValueError):
        _target(b"example.org", connect=True)
    with pytest.raises(ValueError):
        _target(b"/relative", connect=False)

    class Upstream:
        username, password = "user", "pw"

    head = _forward_head(
        b"GET",
        b"http://a.test/p?q=1",
        [b"Host: a.test", b"Proxy-Authorization: x"],
        "93.184.216.34",
        80,
        Upstream(),
    )
    # An upstream proxy gets the checked address, never the name: it has nothing to resolve.
    assert (
        head.startswith(b"GET http://93.184.216.34:80/p?q=1 HTTP/1.1\r\nHost: a.test\r\n")
        and b"Proxy-Authorization: x" not in head
    )
    assert b"Proxy-Authorization: Basic dXNlcjpwdw==" in head and head.endswith(
        b"Connection: close\r\n\r\n"
    )
    no_host = _forward_head(b"GET", b"http://a.test:8080/", [], "2606:2800::1", 8080, Upstream())
    assert no_host.startswith(b"GET http://[2606:2800::1]:8080/ HTTP/1.1\r\nHost: a.test:8080\r\n")
    tunnel = _forward_head(
        b"CONNECT", b"a.test:443", [b"Host: a.test:443"], "93.184.216.34", 443, Upstream()
    )
    assert tunnel.startswith(b"CONNECT 93.184.216.34:443 HTTP/1.1\r\nHost: 93.184.216.34:443\r\n")
    assert b"a.test" not in tunnel and b"Proxy-Authorization: Basic dXNlcjpwdw==" in tunnel
    direct = _forward_head(b"GET", b"http://a.test/p", [b"Host: a.test"], "93.184.216.34", 80, None)
    assert direct.startswith(b"GET /p HTTP/1.1\r\nHost: a.test\r\n")
