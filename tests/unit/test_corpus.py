"""ScraperSky finds every URL that ultimate-sitemap-parser or Scrapy finds on the real-sitemap corpus."""

from bench.corpus.__main__ import sitemap_table

# Explained in bench/corpus/NOTES.md.
KNOWN = {"trafilatura__tests_resources_sitemap-hreflang.xml": {"http://www.example.com/sitemap2.xml.gz"}}


def test_scrapersky_finds_every_url_a_peer_finds() -> None:
    _, missed = sitemap_table()
    assert missed == KNOWN
