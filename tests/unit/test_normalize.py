"""NormalizePipeline's field rules for listed pages and domain metadata."""

from datetime import UTC, datetime

import pytest

from scrapersky.db.normalize import normalize_listed_pages
from scrapersky.items import DomainItem, PageItem
from scrapersky.metadata import extract_metadata
from scrapersky.metadata.urls import MAX_URL_LENGTH
from scrapersky.pipelines import NormalizePipeline
from scrapersky.sitemaps import PageEntry


def test_unusable_urls_are_dropped_and_counted():
    entries = [
        PageEntry("https://a.test/ok"),
        PageEntry("ftp://a.test/file"),
        PageEntry("https://a.test/" + "x" * MAX_URL_LENGTH),
        PageEntry("https://a.test/nul\x00byte"),
        PageEntry("http://a.test/also-ok"),
    ]
    kept, dropped = normalize_listed_pages(entries)
    assert [e.url for e in kept] == ["https://a.test/ok", "http://a.test/also-ok"]
    assert dropped == {"not_http": 1, "too_long": 1, "nul_character": 1}


def test_out_of_range_fields_are_cleared():
    entries = [
        PageEntry("https://a.test/a", priority=1.5, changefreq="sometimes"),
        PageEntry("https://a.test/b", priority=0.3, changefreq="daily"),
    ]
    kept, _ = normalize_listed_pages(entries)
    assert [(e.priority, e.changefreq) for e in kept] == [(None, None), (0.3, "daily")]


def test_titles_are_cut_to_500_characters_like_the_extractor_cuts_them():
    # One cap for a title wherever it is cut: 500 characters, as extraction has always stored.
    long_title = "word " * 300
    expected = ("word " * 100).strip()
    pipeline = NormalizePipeline(stats=None)
    domain = DomainItem(
        "t", "a.test", "complete", datetime.now(UTC), metadata={"title": long_title}
    )
    page = PageItem("t", "a.test", "https://a.test/", 200, title=long_title)
    assert pipeline.process_item(domain).metadata["title"] == expected
    assert pipeline.process_item(page).title == expected


@pytest.mark.parametrize(
    ("lang", "stored"),
    [
        ("de-DE", "de-DE"),  # the region as written, not "de-de"
        (" en-GB ", "en-GB"),
        ("de-de", "de-DE"),  # BCP 47's own case: the same tag however a site writes it
        ("de_AT", "de-AT"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("de", "de"),
    ],
)
def test_the_stored_language_keeps_its_region(lang: str, stored: str) -> None:
    html = f'<!DOCTYPE html><html lang="{lang}"><head><title>Verein</title></head></html>'
    metadata = extract_metadata(html.encode(), "https://verein.de/")
    domain = DomainItem("t", "verein.de", "complete", datetime.now(UTC), metadata=metadata)
    assert NormalizePipeline(stats=None).process_item(domain).metadata["language"] == stored


def test_text_no_database_takes_is_made_storable_in_every_item():
    from scrapersky.items import SitemapFileItem

    pipeline = NormalizePipeline(stats=None)
    domain = DomainItem(
        "t",
        "a.test",
        "complete",
        datetime.now(UTC),
        last_error="bad\x00 \ud800",
        metadata={
            "title": "Nul\x00 title",
            "structured_data": [{"k\x00ey": ["\udfff", {"deep": "a\x00b"}]}],
            "tech_stack": ["Word\x00Press"],
        },
    )
    out = pipeline.process_item(domain)
    assert out.metadata["title"] == "Nul title" and out.last_error == "bad \ufffd"
    assert out.metadata["structured_data"] == [{"key": ["\ufffd", {"deep": "ab"}]}]
    assert out.metadata["tech_stack"] == ["WordPress"]
    sitemap = SitemapFileItem(
        "t", "a.test", "https://a.test/s.xml", "robots_txt", etag='"e\x00"', vanished=["x\ud800"]
    )
    sitemap = pipeline.process_item(sitemap)
    assert sitemap.etag == '"e"' and sitemap.vanished == ["x\ufffd"]
    page = pipeline.process_item(PageItem("t", "a.test", "https://a.test/", 200, title="a\ud800"))
    assert page.title == "a\ufffd"


def test_listed_urls_with_unstorable_text_are_dropped_and_their_extras_cleaned():
    entries = [
        PageEntry("https://a.test/half\ud800"),
        PageEntry(
            "https://a.test/ok",
            images=[{"loc": "https://a.test/i.png", "title": "p\x00ic"}],
            news={"title": "n\ud800"},
            alternates=[{"hreflang": "e\x00n", "href": "https://a.test/en"}],
        ),
    ]
    kept, dropped = normalize_listed_pages(entries)
    assert dropped == {"lone_surrogate": 1}
    assert kept[0].images == [{"loc": "https://a.test/i.png", "title": "pic"}]
    assert kept[0].news == {"title": "n\ufffd"} and kept[0].alternates[0]["hreflang"] == "en"
