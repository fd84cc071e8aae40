"""The real-site corpus (bench/corpus): ScraperSky finds every URL that ultimate-sitemap-parser or
Scrapy finds, and its metadata agrees with the references (extruct, hand-checked values)."""

from bench.corpus.__main__ import MANIFEST, metadata_table, sitemap_table


def test_the_corpus_is_all_there() -> None:
    assert len(MANIFEST["sitemaps"]) >= 60 and len(MANIFEST["pages"]) >= 50
    assert all(
        case["repository"] and case["path"] and len(case["commit"]) == 40
        for case in MANIFEST["sitemaps"] + MANIFEST["pages"]
    )


def test_scrapersky_finds_every_url_a_peer_finds() -> None:
    # ...and lists none of the URLs a case marks as no page ("not_pages", NOTES.md says why).
    _, missed = sitemap_table()
    assert missed == {}


def test_metadata_agrees_with_the_references() -> None:
    _, differ = metadata_table()
    assert differ == {}
