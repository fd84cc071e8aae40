"""scrapersky.net.outbound: which endpoints a call may reach at all (https only, plain http to the
operator's networks), against a loopback socket."""

from __future__ import annotations

import functools
import ipaddress
import socket
import threading

import pytest

from scrapersky.net import outbound
from scrapersky.net.policy import AddressPolicy


@pytest.fixture
def endpoint():
    """A loopback endpoint that answers 204 to every call; its URL and the requests it read."""
    server = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                received.append(connection.recv(65536))
                connection.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/hook?x=1", received
    server.close()


def test_plain_http_reaches_only_the_networks_the_operator_allowed(endpoint):
    url, received = endpoint
    call = functools.partial(
        outbound.post, url, b"{}", {}, deadline=5, max_bytes=1024, allow_http=False
    )
    with pytest.raises(outbound.Refused, match="plain http; webhooks need https"):
        call(policy=None)  # private addresses allowed, plain http still not
    with pytest.raises(outbound.Refused, match="is a loopback address"):
        call(policy=AddressPolicy((ipaddress.ip_network("10.0.0.0/8"),)))  # the policy first
    assert received == []
    assert call(policy=AddressPolicy((ipaddress.ip_network("127.0.0.0/8"),))) == 204
    assert (
        outbound.post(url, b"{}", {}, policy=None, allow_http=True, deadline=5, max_bytes=1024)
        == 204
    )
    assert [request.split(b"\r\n")[0] for request in received] == [b"POST /hook?x=1 HTTP/1.1"] * 2


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/x",
        "http:///nohost",
        "http://127.0.0.1:99999/x",
        "http://127.0.0.1/a b",
        "http://127.0.0.1/a\r\nX-Injected: 1",
        "http://127.0.0.1/caf\u00e9",
        "http://b\u00fccher.test/",
    ],
)
def test_unusable_urls_are_refused_before_any_connection(url):
    with pytest.raises(outbound.Refused, match="not a usable http"):
        outbound.post(url, b"{}", {}, policy=None, allow_http=True, deadline=5, max_bytes=1024)
