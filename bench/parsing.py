"""Pure parsing speed, no network or database: homepage metadata and hostile sitemap XML.

These used to be wall-clock assertions in the unit tests; a shared machine makes those flaky,
so they are figures here, judged against their targets like the rest of the bench."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench import Figure
from scrapersky.metadata import extract_metadata
from scrapersky.sitemaps import open_sitemap

PAGE = Path(__file__).resolve().parents[1] / "tests" / "unit" / "pages" / "wordpress_elementor.html"
METADATA_TARGET_MS = 100
HOSTILE_TARGET_MS = 1000
ROUNDS = 5
BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE urlset [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n'.encode()
        for n in range(1, 10)
    )
    + b"]>\n<urlset><url><loc>https://example.com/&lol9;</loc></url></urlset>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/secret">]>\n'
    b"<urlset><url><loc>https://example.com/&xxe;</loc></url></urlset>"
)


def big_homepage() -> bytes:
    """The WordPress/Elementor sample page with its body repeated past 100 KB."""
    page = PAGE.read_bytes()
    start, end = page.index(b"<div data-elementor-type"), page.index(b"<footer")
    section = page[start:end]
    return page[:start] + section * (100_000 // len(section)) + page[start:]


def _median_ms(work) -> float:
    work()  # warm up imports and caches
    timings = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        work()
        timings.append(time.perf_counter() - began)
    return statistics.median(timings) * 1000


def _read_all(body: bytes) -> None:
    list(open_sitemap(body).entries())


def run() -> list[Figure]:
    page = big_homepage()
    metadata = _median_ms(lambda: extract_metadata(page, "https://www.brightsmiledental.com/"))
    hostile = max(
        _median_ms(lambda: _read_all(BILLION_LAUGHS)),
        _median_ms(lambda: _read_all(EXTERNAL_ENTITY)),
    )
    return [
        Figure(
            "parsing.metadata",
            f"parsing: metadata of a {len(page) // 1000} KB homepage",
            round(metadata, 1),
            "ms",
            f"≤ {METADATA_TARGET_MS} ms",
            metadata <= METADATA_TARGET_MS,
        ),
        Figure(
            "parsing.hostile",
            "parsing: hostile XML refused (entities, DTDs)",
            round(hostile, 1),
            "ms",
            f"≤ {HOSTILE_TARGET_MS} ms",
            hostile <= HOSTILE_TARGET_MS,
        ),
    ]
