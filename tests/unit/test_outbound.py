"""scrapersky.net.outbound: which endpoints a call may reach at all (https only, plain http to the
operator's networks), and TLS verified and bounded by the deadline, against loopback sockets."""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import threading
import time

import pytest

from scrapersky.net import outbound
from scrapersky.net.policy import AddressPolicy
from tests.support.tls import make_ca, server_context


def serve_204(context: ssl.SSLContext | None = None):
    """A loopback endpoint that answers 204 to every call (over TLS with a context); its server
    socket and the requests it read."""
    server = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            try:
                if context is not None:
                    connection = context.wrap_socket(connection, server_side=True)
                with connection:
                    received.append(connection.recv(65536))
                    connection.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
            except OSError:
                pass  # a client that refused the certificate

    threading.Thread(target=serve, daemon=True).start()
    return server, received


@pytest.fixture
def endpoint():
    server, received = serve_204()
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


def test_https_verifies_the_certificate_against_the_endpoints_name(tmp_path, monkeypatch):
    ca = make_ca(tmp_path)
    server, received = serve_204(server_context(ca, tmp_path, "localhost"))
    port = server.getsockname()[1]

    def call(host: str) -> int:
        return outbound.post(
            f"https://{host}:{port}/hook",
            b"{}",
            {},
            policy=None,
            allow_http=False,
            deadline=5,
            max_bytes=1024,
        )

    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            call("localhost")  # the test CA is not trusted yet
        monkeypatch.setenv("SSL_CERT_FILE", str(ca.cert_file))
        assert call("localhost") == 204
        with pytest.raises(ssl.SSLCertVerificationError, match=r"127\.0\.0\.1"):
            call("127.0.0.1")  # the certificate names localhost only
    finally:
        server.close()
    assert len(received) == 1 and received[0].startswith(b"POST /hook HTTP/1.1\r\n")


def test_a_tls_handshake_that_never_comes_ends_at_the_deadline():
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (the backlog does), never answers
    started = time.monotonic()
    try:
        with pytest.raises(outbound.DeadlineExceeded, match="within 1 s"):
            outbound.post(
                f"https://127.0.0.1:{silent.getsockname()[1]}/",
                b"{}",
                {},
                policy=None,
                allow_http=False,
                deadline=1,
                max_bytes=1024,
            )
    finally:
        silent.close()
    assert 1 <= time.monotonic() - started < 1.5
