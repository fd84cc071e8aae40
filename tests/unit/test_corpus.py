"""ScraperSky finds every URL that ultimate-sitemap-parser or Scrapy finds on the real-sitemap corpus."""

from bench.corpus.__main__ import sitemap_table

def test_scrapersky_finds_every_url_a_peer_finds() -> None:
    lines, missed = sitemap_table()
    assert missed == {}
    assert "76 / 76" in lines[1]  # the corpus is all there
