"""Social profile links: which count, and their canonical form."""

import pytest

from scrapersky.metadata import extract_metadata
from scrapersky.metadata.social import canonical_profile


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("https://www.facebook.com/AcmeBakery/", ("facebook", "https://facebook.com/AcmeBakery")),
        (
            "http://m.facebook.com/AcmeBakery?fbclid=IwAR0xyz",
            ("facebook", "https://facebook.com/AcmeBakery"),
        ),
        (
            "//de-de.facebook.com/AcmeBakery#reviews",
            ("facebook", "https://facebook.com/AcmeBakery"),
        ),
        (
            "facebook.com/pages/Acme-Bakery/123456789",
            ("facebook", "https://facebook.com/pages/Acme-Bakery/123456789"),
        ),
        (
            "https://www.facebook.com/profile.php?id=100089&utm_source=site",
            ("facebook", "https://facebook.com/profile.php?id=100089"),
        ),
        ("https://www.facebook.com/sharer/sharer.php?u=https://acme.com", None),
        ("https://www.facebook.com/sharer.php?u=https://acme.com", None),
        ("https://www.facebook.com/dialog/feed?app_id=1", None),
        ("https://www.facebook.com/plugins/page.php?href=x", None),
        ("https://www.facebook.com/tr?id=123&ev=PageView", None),
        ("https://www.facebook.com/profile.php", None),
        ("https://www.facebook.com/", None),
        ("https://business.facebook.com/AcmeBakery", None),
        (
            "https://twitter.com/AcmeBakery?ref_src=twsrc%5Etfw",
            ("twitter", "https://twitter.com/AcmeBakery"),
        ),
        ("https://mobile.twitter.com/AcmeBakery/", ("twitter", "https://twitter.com/AcmeBakery")),
        ("https://X.com/AcmeBakery?s=20&t=abc", ("twitter", "https://x.com/AcmeBakery")),
        ("https://www.x.com/AcmeBakery", ("twitter", "https://x.com/AcmeBakery")),
        ("https://twitter.com/intent/tweet?text=hi", None),
        ("https://twitter.com/intent/follow?screen_name=acme", None),
        ("https://twitter.com/share", None),
        ("https://x.com/home?status=hello", None),
        ("https://twitter.com/someone/status/123", None),
        ("https://twitter.com/hashtag/bread", None),
        ("https://twitter.com/this_handle_is_far_too_long", None),
        (
            "https://www.linkedin.com/company/acme-bakery/",
            ("linkedin", "https://linkedin.com/company/acme-bakery"),
        ),
        (
            "https://uk.linkedin.com/in/jane-baker-1a2b3c",
            ("linkedin", "https://linkedin.com/in/jane-baker-1a2b3c"),
        ),
        (
            "https://www.linkedin.com/company/acme-bakery/jobs/?trk=x",
            ("linkedin", "https://linkedin.com/company/acme-bakery"),
        ),
        ("https://www.linkedin.com/shareArticle?mini=true&url=x", None),
        ("https://www.linkedin.com/sharing/share-offsite/?url=x", None),
        (
            "https://www.instagram.com/acme.bakery/?igshid=abc%3D%3D",
            ("instagram", "https://instagram.com/acme.bakery"),
        ),
        (
            "https://instagram.com/acme_bakery?utm_source=ig_web_button_share_sheet",
            ("instagram", "https://instagram.com/acme_bakery"),
        ),
        ("https://www.instagram.com/p/CxYz123/", None),
        ("https://www.instagram.com/reel/CxYz123/", None),
        (
            "https://www.youtube.com/@AcmeBakery?si=abc",
            ("youtube", "https://youtube.com/@AcmeBakery"),
        ),
        (
            "https://www.youtube.com/channel/UC1234567890abcdef/videos",
            ("youtube", "https://youtube.com/channel/UC1234567890abcdef"),
        ),
        ("https://m.youtube.com/c/AcmeBakery", ("youtube", "https://youtube.com/c/AcmeBakery")),
        (
            "https://www.youtube.com/user/acmebakery?sub_confirmation=1",
            ("youtube", "https://youtube.com/user/acmebakery"),
        ),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", None),
        ("https://www.youtube.com/embed/dQw4w9WgXcQ", None),
        ("https://youtu.be/dQw4w9WgXcQ", None),
        (
            "https://www.tiktok.com/@acmebakery?lang=en",
            ("tiktok", "https://tiktok.com/@acmebakery"),
        ),
        ("https://www.tiktok.com/@acmebakery/video/7290000000000000000", None),
        ("https://www.tiktok.com/embed/v2/7290000000000000000", None),
        ("https://acme.com/facebook", None),
        ("mailto:hello@facebook.com", None),
        ("javascript:void(0)", None),
        ("https://[broken", None),
    ],
)
def test_canonical_profile(href: str, expected: tuple[str, str] | None) -> None:
    assert canonical_profile(href) == expected


def test_same_as_preferred_over_links() -> None:
    body = b"""<html><head><script type="application/ld+json">
    {"@type": "Organization", "sameAs": "https://www.instagram.com/acme_official"}</script></head>
    <body><a href="https://www.instagram.com/acme_old">Instagram</a>
    <a href="https://twitter.com/acme">Twitter</a></body></html>"""
    metadata = extract_metadata(body, "https://acme.com/")
    assert metadata["instagram_url"] == "https://instagram.com/acme_official"
    assert metadata["twitter_url"] == "https://twitter.com/acme"
    assert metadata["youtube_url"] is None


def test_first_profile_link_wins() -> None:
    body = b"""<a href="https://twitter.com/share">Share</a>
    <a href="https://x.com/acme">X</a><a href="https://twitter.com/acme_support">Support</a>"""
    assert extract_metadata(body, "https://acme.com/")["twitter_url"] == "https://x.com/acme"
