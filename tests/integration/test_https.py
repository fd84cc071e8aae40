"""Real HTTPS scans: a fixture site served over TLS on loopback with a certificate from a test CA
(reached through the fixture proxy's CONNECT), beside a plain-HTTP version of the same domain, so
the scheme a scan used shows in what it stored."""

from __future__ import annotations

import pytest

from tests.support.db import rows
from tests.support.tls import TlsFixtureWeb, make_ca, server_context

HOST = "secure.test"


def _site(server, scheme: str, title: str) -> None:
    site = server.site(HOST)
    site.add("/robots.txt", f"Sitemap: {scheme}://{HOST}/sitemap.xml\n")
    urls = "".join(f"<url><loc>{scheme}://{HOST}/p{i}</loc></url>" for i in range(3))
    site.add(
        "/sitemap.xml",
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
    )
    site.add("/", f"<html><head><title>{title}</title></head><body>{title} pages</body></html>")


@pytest.fixture
def tls(web, tmp_path):
    """(the TLS fixture web, the test CA's certificate file)."""
    ca = make_ca(tmp_path)
    with TlsFixtureWeb(server_context(ca, tmp_path, HOST)) as server:
        web.tunnels[HOST] = ("127.0.0.1", server.port)
        _site(server, "https", "Over TLS")
        _site(web, "http", "Plain HTTP")
        yield server, str(ca.cert_file)


def _stored(database_url: str) -> tuple[dict, list[str], list[str]]:
    domain = rows(database_url, "select status, title, domain_metadata from domains")[0]
    pages = sorted(r["url"] for r in rows(database_url, "select url from pages"))
    files = [r["url"] for r in rows(database_url, "select url from sitemap_files")]
    return domain, pages, files


def test_https_comes_first_and_a_trusted_certificate_is_verified(sqlite_url, web, crawl, tls):
    tls, ca_file = tls
    result = crawl(sqlite_url, "-a", f"domain={HOST}", SSL_CERT_FILE=ca_file)
    assert result.returncode == 0, result.stderr[-3000:]
    domain, pages, files = _stored(sqlite_url)
    assert (domain["status"], domain["title"]) == ("complete", "Over TLS")
    assert domain["domain_metadata"]["homepage_url"] == f"https://{HOST}/"
    assert pages == [f"https://{HOST}/p{i}" for i in range(3)] and files == [
        f"https://{HOST}/sitemap.xml"
    ]
    assert {r.path for r in tls.hits(HOST)} >= {"/robots.txt", "/sitemap.xml", "/"}
    assert {r.method for r in web.hits(HOST)} == {"CONNECT"}  # nothing over plain HTTP


def test_schemes_are_tried_in_the_configured_order(sqlite_url, web, crawl, tls):
    tls, ca_file = tls
    result = crawl(
        sqlite_url, "-a", f"domain={HOST}", SCRAPERSKY_SCHEMES="http,https", SSL_CERT_FILE=ca_file
    )
    assert result.returncode == 0, result.stderr[-3000:]
    domain, pages, _ = _stored(sqlite_url)
    assert domain["title"] == "Plain HTTP" and pages == [f"http://{HOST}/p{i}" for i in range(3)]
    assert tls.hits(HOST) == [] and "CONNECT" not in {r.method for r in web.hits(HOST)}


def test_untrusted_certificate_is_refused_and_the_scan_falls_back_to_http(
    database_url, web, crawl, tls
):
    tls, _ = tls
    result = crawl(database_url, "-a", f"domain={HOST}")  # the test CA is not trusted
    assert result.returncode == 0, result.stderr[-3000:]
    domain, pages, _ = _stored(database_url)
    assert domain["title"] == "Plain HTTP" and pages == [f"http://{HOST}/p{i}" for i in range(3)]
    assert tls.hits(HOST) == []  # the handshake failed: no request went through
    assert next(r.method for r in web.hits(HOST)) == "CONNECT"  # https was tried first


def test_verification_off_accepts_the_certificate(sqlite_url, web, crawl, tls):
    tls, _ = tls  # the test CA is not trusted: only switching verification off lets this through
    result = crawl(sqlite_url, "-a", f"domain={HOST}", "-s", "DOWNLOAD_VERIFY_CERTIFICATES=false")
    assert result.returncode == 0, result.stderr[-3000:]
    domain, pages, _ = _stored(sqlite_url)
    assert tls.hits(HOST, "/robots.txt")
    assert domain["title"] == "Over TLS" and pages == [f"https://{HOST}/p{i}" for i in range(3)]
