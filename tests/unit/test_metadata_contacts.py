"""Emails, phone numbers and the region national numbers are read in."""

import pytest

from scrapersky.metadata import extract_metadata
from scrapersky.metadata.contacts import (
    MAX_EMAILS,
    MAX_PHONES,
    clean_email,
    decode_cloudflare_email,
    parse_phone,
)
from scrapersky.metadata.region import (
    infer_region,
    region_from_host,
    region_from_json_ld,
    region_from_language,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Info@Example-Shop.de", "info@example-shop.de"),
        ("mailto:Sales@Acme.co.uk", "sales@acme.co.uk"),
        ("mailto:hello@acme.com?subject=Hi%20there", "hello@acme.com"),
        ("office%40acme.com", "office@acme.com"),
        ("first.last+news@sub.acme.io", "first.last+news@sub.acme.io"),
        ("logo@2x.png", None),
        ("hero-banner@3x.webp", None),
        ("icon@2x.svg", None),
        ("photo@1.5x.jpg", None),
        ("spinner@2x.gif", None),
        ("jquery@3.7.1.min.js", None),
        ("name@example.com", None),
        ("contact@example.org", None),
        ("you@yourdomain.com", None),
        ("your@email.com", None),
        ("yourname@acme.com", None),
        ("605a7baede844d278b89dc95ae0a9123@sentry-next.wixpress.com", None),
        ("e8b2c1a0f@o123456.ingest.sentry.io", None),
        ("user@localhost", None),
        ("admin@intranet.local", None),
        ("a..b@acme.com", None),
        ("trailing.@acme.com", None),
        ("not-an-email", None),
        ("@acme.com", None),
    ],
)
def test_clean_email(raw: str, expected: str | None) -> None:
    assert clean_email(raw) == expected


def test_cloudflare_email_decoding() -> None:
    encoded = bytes([0x42]) + bytes(byte ^ 0x42 for byte in b"team@acme.com")
    assert decode_cloudflare_email(encoded.hex()) == "team@acme.com"
    assert decode_cloudflare_email("zz") is None
    assert decode_cloudflare_email("42") is None


def emails_of(body: str) -> list[str]:
    return extract_metadata(body.encode(), "https://acme.com/")["email_addresses"]


def test_emails_from_all_sources_in_order_deduplicated() -> None:
    encoded = (bytes([7]) + bytes(byte ^ 7 for byte in b"press@acme.com")).hex()
    body = f"""<html><head><script type="application/ld+json">{{"@type":"Organization","email":"jobs@acme.com"}}</script></head>
    <body><p>Write to SUPPORT@acme.com or support@acme.com.</p>
    <a href="mailto:sales@acme.com,billing@acme.com">mail</a>
    <a href="/cdn-cgi/l/email-protection#{encoded}">[email protected]</a>
    <img src="/img/team@2x.png" alt="team@2x.png">
    <script>var dsn = "https://abc123@o1.ingest.sentry.io/42"; var x = "hidden@acme.com";</script>
    </body></html>"""
    assert emails_of(body) == [
        "sales@acme.com",
        "billing@acme.com",
        "press@acme.com",
        "jobs@acme.com",
        "support@acme.com",
    ]


def test_emails_in_adjacent_cells_do_not_run_together() -> None:
    body = "<table><tr><td>info@acme.com</td><td>Phone</td></tr></table>"
    assert emails_of(body) == ["info@acme.com"]


def test_emails_capped() -> None:
    body = "".join(f"<p>person{index}@acme.com</p>" for index in range(MAX_EMAILS + 10))
    found = emails_of(body)
    assert len(found) == MAX_EMAILS
    assert found[0] == "person0@acme.com"


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(415) 555-0132", "US", "+14155550132"),
        ("415.555.0132", "US", "+14155550132"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("0044 20 7946 0958", "DE", "+442079460958"),
        ("030 12345678", "DE", "+493012345678"),
        ("01 42 68 53 00", "FR", "+33142685300"),
        ("+33 1 42 68 53 00", "GB", "+33142685300"),
        ("12345", "US", None),
        ("555-0000", "US", None),
        ("020 7946 0958", "US", None),
        ("not a number", "US", None),
        ("9" * 300, "US", None),
    ],
)
def test_parse_phone(raw: str, region: str, expected: str | None) -> None:
    assert parse_phone(raw, region) == expected


def phones_of(body: str, url: str = "https://acme.com/") -> list[str]:
    return extract_metadata(body.encode(), url)["phone_numbers"]


def test_phones_from_tel_links_and_text() -> None:
    body = """<title>t</title><a href="tel:+1-212-555-0198">Call</a>
    <p>Office: (415) 555-0132. Paris: +33 1 42 68 53 00. Order #123456789, 2024-05-01, $1,299.00</p>
    <p>Office: (415) 555-0132</p>"""
    assert phones_of(body) == ["+12125550198", "+14155550132", "+33142685300"]


def test_phones_national_format_follows_cctld() -> None:
    body = "<p>Ring us: 020 7946 0958</p>"
    assert phones_of(body, "https://shop.co.uk/") == ["+442079460958"]
    assert phones_of(body, "https://shop.com/") == []


def test_phones_region_from_language_then_json_ld() -> None:
    text = "<p>Ring us: 020 7946 0958</p>"
    assert phones_of(f'<html lang="en-GB"><body>{text}</body></html>') == ["+442079460958"]
    json_ld = '<script type="application/ld+json">{"address":{"addressCountry":"GB"}}</script>'
    assert phones_of(f"<html><head>{json_ld}</head><body>{text}</body></html>") == ["+442079460958"]


def test_phones_capped() -> None:
    body = "".join(f"<p>(415) 555-{index:04d}</p>" for index in range(100, 100 + MAX_PHONES + 5))
    assert len(phones_of(body)) == MAX_PHONES


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("acme.de", "DE"),
        ("www.acme.co.uk", "GB"),
        ("acme.uk", "GB"),
        ("acme.com.au", "AU"),
        ("acme.fr.", "FR"),
        ("acme.com", None),
        ("acme.io", None),
        ("acme.co", None),
        ("acme.com.co", "CO"),
        ("acme.eu", None),
        ("localhost", None),
        ("192.168.0.1", None),
        ("", None),
    ],
)
def test_region_from_host(host: str, expected: str | None) -> None:
    assert region_from_host(host) == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en-GB", "GB"),
        ("de-AT", "AT"),
        ("zh-Hant-TW", "TW"),
        ("en", None),
        ("es-419", None),
        (None, None),
    ],
)
def test_region_from_language(tag: str | None, expected: str | None) -> None:
    assert region_from_language(tag) == expected


def test_region_from_json_ld_shapes() -> None:
    assert (
        region_from_json_ld([{"address": {"addressCountry": {"@type": "Country", "name": "IE"}}}])
        == "IE"
    )
    assert region_from_json_ld([{"address": {"addressCountry": "United Kingdom"}}]) is None
    assert (
        region_from_json_ld([{"@graph": [{"location": {"address": [{"addressCountry": "uk"}]}}]}])
        == "GB"
    )


def test_infer_region_precedence() -> None:
    json_ld = [{"address": {"addressCountry": "IE"}}]
    assert infer_region("acme.de", "en-GB", json_ld) == "DE"
    assert infer_region("acme.com", "en-GB", json_ld) == "GB"
    assert infer_region("acme.com", "en", json_ld) == "IE"
    assert infer_region("acme.com", None, []) == "US"
