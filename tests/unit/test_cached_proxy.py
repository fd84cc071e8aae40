"""CachedProxyMiddleware decides as Scrapy's HttpProxyMiddleware does, reading no_proxy once."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.httpproxy import HttpProxyMiddleware

from scrapersky.net.proxy import CachedProxyMiddleware

URLS = [
    "http://shop.test/robots.txt",
    "https://shop.test/sitemap.xml",
    "http://skip.example/",
    "http://deep.skip.example/page",
    "https://localhost:8443/",
    "ftp://shop.test/file",
]


@pytest.mark.parametrize(
    "environment",
    [
        {"http_proxy": "http://proxy.test:3128", "https_proxy": "http://user:pw@proxy.test:3129"},
        {"http_proxy": "http://proxy.test:3128", "no_proxy": "skip.example,localhost"},
        {"HTTPS_PROXY": "http://proxy.test:3129", "NO_PROXY": "*"},
        {},
    ],
)
@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("meta", [{}, {"proxy": "http://given.test:8080"}, {"proxy": None}])
def test_same_proxy_as_scrapys(monkeypatch, environment, url, meta):
    for name in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    theirs, ours = Request(url, meta=dict(meta)), Request(url, meta=dict(meta))
    HttpProxyMiddleware().process_request(theirs)
    cached = CachedProxyMiddleware()
    monkeypatch.setenv("no_proxy", "*")  # read at start: a later change is not seen
    cached.process_request(ours)
    assert ours.meta == theirs.meta
    assert ours.headers.get(b"Proxy-Authorization") == theirs.headers.get(b"Proxy-Authorization")
