"""Technology fingerprints, WordPress version and tracking ids."""

import json
import re
from importlib import resources

import pytest

from scrapersky.metadata import extract_metadata
from scrapersky.metadata.tech import FINGERPRINTS_FILE, fingerprints, required_literal

KNOWN_FIELDS = {
    "name",
    "category",
    "generator",
    "script_src",
    "html",
    "headers",
    "cookies",
    "implies",
    "script_version",
}


def raw_table() -> list[dict]:
    text = (
        resources.files("scrapersky.metadata")
        .joinpath(FINGERPRINTS_FILE)
        .read_text(encoding="utf-8")
    )
    return json.loads(text)["technologies"]


def test_fingerprint_table_is_well_formed() -> None:
    entries = raw_table()
    names = [entry["name"] for entry in entries]
    assert len(names) == len(set(names))
    for entry in entries:
        assert set(entry) <= KNOWN_FIELDS, entry["name"]
        assert entry["category"] in {
            "cms",
            "plugins",
            "frameworks",
            "analytics",
            "widgets",
            "fonts",
        }
        assert set(entry.get("implies", [])) <= set(names), entry["name"]
        for field in ("generator", "script_src", "html", "cookies"):
            for pattern in entry.get(field, []):
                re.compile(pattern)
        for pattern in entry.get("script_version", []):
            assert re.compile(pattern).groups == 1, pattern  # the version
    assert len(fingerprints()) == len(entries)


def test_fingerprint_table_covers_the_required_technologies() -> None:
    names = {entry["name"] for entry in raw_table()}
    assert {
        "WordPress",
        "Shopify",
        "Wix",
        "Squarespace",
        "Drupal",
        "Joomla",
        "Webflow",
        "Ghost",
        "HubSpot CMS",
        "Magento",
        "PrestaShop",
        "WooCommerce",
        "BigCommerce",
        "React",
        "Vue.js",
        "Angular",
        "Next.js",
        "Nuxt",
        "Svelte",
        "jQuery",
        "Gatsby",
        "Google Analytics",
        "Google Tag Manager",
        "Facebook Pixel",
        "Hotjar",
        "Matomo",
        "Plausible",
        "Segment",
        "Intercom",
        "Drift",
        "HubSpot",
        "Zendesk",
        "Mailchimp",
        "Crisp",
        "Tawk.to",
        "LiveChat",
        "Calendly",
        "reCAPTCHA",
        "Cloudflare",
        "Elementor",
    } <= names


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        ("cdn\\.shopify\\.com", "cdn.shopify.com"),
        ("\\bfbq\\(", "fbq("),
        ("static1?\\.squarespace", "static"),
        ("\\bwoocommerce-(?:page|active)\\b", "woocommerce-"),
        ("cdn\\d*\\.bigcommerce", "cdn"),
        ("api\\.w\\.org|/wp-json/", ""),
        ("(?:google|recaptcha)\\.com", ""),
        ("^cloudflare", ""),
        ("", ""),
    ],
)
def test_required_literal(pattern: str, literal: str) -> None:
    assert required_literal(pattern) == literal


def stack(body: str, headers: dict[str, str] | None = None) -> dict[str, list[str]]:
    return extract_metadata(body.encode(), "https://acme.com/", headers)["tech_stack"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('<script src="https://cdn.shopify.com/s/files/1/app.js"></script>', {"cms": ["Shopify"]}),
        ('<meta content="Wix.com Website Builder" name="generator">', {"cms": ["Wix"]}),
        (
            '<meta name="generator" content="Drupal 10 (https://www.drupal.org)">',
            {"cms": ["Drupal"]},
        ),
        (
            '<meta name="Generator" content="Joomla! - Open Source Content Management">',
            {"cms": ["Joomla"]},
        ),
        ('<html data-wf-page="64a" data-wf-site="64b">', {"cms": ["Webflow"]}),
        ('<meta name="generator" content="Ghost 5.75">', {"cms": ["Ghost"]}),
        (
            '<link href="/wp-content/plugins/woocommerce/assets/css/woocommerce.css" rel="stylesheet">',
            {"cms": ["WooCommerce", "WordPress"]},
        ),
        (
            '<script id="__NEXT_DATA__" type="application/json">{}</script>',
            {"frameworks": ["Next.js", "React"]},
        ),
        (
            '<div id="__nuxt"></div><script src="/_nuxt/entry.js"></script>',
            {"frameworks": ["Nuxt", "Vue.js"]},
        ),
        ('<app-root ng-version="17.0.1"></app-root>', {"frameworks": ["Angular"]}),
        ('<div class="card svelte-1x2y3z4">x</div>', {"frameworks": ["Svelte"]}),
        ('<div id="___gatsby"></div>', {"frameworks": ["Gatsby", "React"]}),
        (
            '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>',
            {"frameworks": ["jQuery"]},
        ),
        ('<script>FBQ("init", "1");</script>', {"analytics": ["Facebook Pixel"]}),
        (
            "<script>(function(h,o,t,j,a,r){h._hjSettings={hjid:1};})</script>",
            {"analytics": ["Hotjar"]},
        ),
        (
            "<script>var _paq = window._paq || []; _paq.push(['trackPageView']);</script>",
            {"analytics": ["Matomo"]},
        ),
        (
            '<script defer data-domain="acme.com" src="https://plausible.io/js/script.js"></script>',
            {"analytics": ["Plausible"]},
        ),
        (
            '<script src="https://widget.intercom.io/widget/abc"></script>',
            {"widgets": ["Intercom"]},
        ),
        ('<script src="//js.hs-scripts.com/123.js"></script>', {"widgets": ["HubSpot"]}),
        ('<script src="https://embed.tawk.to/abc/default"></script>', {"widgets": ["Tawk.to"]}),
        ('<div class="g-recaptcha" data-sitekey="x"></div>', {"widgets": ["reCAPTCHA"]}),
        (
            '<a href="/cdn-cgi/l/email-protection">[email protected]</a>',
            {"widgets": ["Cloudflare"]},
        ),
        ("<p>Plain page about wordpress and shopify.</p>", {}),
    ],
)
def test_detect_from_html(body: str, expected: dict[str, list[str]]) -> None:
    assert stack(body) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Server": "cloudflare", "CF-RAY": "8a1b2c3d4e5f-LHR"}, {"widgets": ["Cloudflare"]}),
        ({"X-Powered-By": "Next.js"}, {"frameworks": ["Next.js", "React"]}),
        ({"x-generator": "Drupal 10 (https://www.drupal.org)"}, {"cms": ["Drupal"]}),
        ({"Set-Cookie": "_shopify_y=1; Path=/"}, {"cms": ["Shopify"]}),
        ({"Link": '<https://acme.com/wp-json/>; rel="https://api.w.org/"'}, {"cms": ["WordPress"]}),
        ({"Server": "nginx"}, {}),
    ],
)
def test_detect_from_headers(headers: dict[str, str], expected: dict[str, list[str]]) -> None:
    assert stack("<p>hi</p>", headers) == expected


def test_scrapy_style_headers_are_accepted() -> None:
    headers = {
        b"Set-Cookie": [b"a=1", b"_shopify_s=2"],
        b"Content-Type": [b"text/html; charset=utf-8"],
    }
    assert stack("<p>hi</p>", headers) == {"cms": ["Shopify"]}  # type: ignore[arg-type]


def jquery(src: str) -> tuple[bool, dict[str, str]]:
    metadata = extract_metadata(f'<script src="{src}"></script>'.encode(), "https://acme.com/")
    return "jQuery" in metadata["tech_stack"].get("frameworks", []), metadata["tech_versions"]


@pytest.mark.parametrize(
    ("src", "version"),
    [
        ("/wp-includes/js/jquery/jquery.min.js?ver=3.7.1", "3.7.1"),  # WordPress: ver is jQuery's
        (
            "/wp-includes/js/jquery/jquery.js?ver=1.12.4-wp",
            "1.12.4",
        ),  # WordPress 5.5's patched copy
        ("/static/js/jquery-3.6.0.min.js", "3.6.0"),
        ("https://code.jquery.com/jquery-3.7.1.slim.min.js", "3.7.1"),
        ("/assets/vendor/jquery/3.5.1/jquery.min.js", "3.5.1"),
        ("https://ajax.googleapis.com/ajax/libs/jquery/3.6.0/jquery.min.js", "3.6.0"),
        ("//cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js", "3.7.1"),
        ("https://ajax.aspnetcdn.com/ajax/jQuery/jquery-3.6.0.min.js", "3.6.0"),
        ("https://cdn.jsdelivr.net/npm/jquery@3.7.1/dist/jquery.min.js", "3.7.1"),
        ("https://unpkg.com/jquery@3.6.0", "3.6.0"),
        ("/core/assets/vendor/jquery/jquery.min.js?v=3.7.1", "3.7.1"),  # Drupal: v is the library's
        ("https://cdn.jsdelivr.net/npm/jquery@3", None),  # a major version is no version
        # WordPress gives a theme's own copy its own version when the theme names none
        ("/wp-content/themes/shop/js/jquery.min.js?ver=6.4.2", None),
        ("/js/jquery.min.js?v=20240501", None),  # a cache buster
    ],
)
def test_jquery_from_a_versioned_path_with_its_version(src: str, version: str | None) -> None:
    assert jquery(src) == (True, {"jQuery": version} if version else {})


@pytest.mark.parametrize(
    "src",
    [
        "/js/jquery-migrate-3.4.1.min.js",
        "/js/jquery-ui-1.13.2.min.js",
        "/js/jquery.fancybox.min.js",
    ],
)
def test_jquery_plugins_are_not_jquery(src: str) -> None:
    assert jquery(src) == (False, {})


@pytest.mark.parametrize(
    "script",
    [
        # WP Rocket's "delay JavaScript execution" (as on cloudanalogy.com and zenjob.com)
        '<script type="rocketlazyloadscript" data-rocket-src="https://acme.com/wp-includes/js/jquery/'
        'jquery.min.js?ver=3.7.1" id="jquery-core-js" defer></script>',
        # LiteSpeed Cache's delayed scripts (as on carllymotors.com)
        '<script type="litespeed/javascript" data-src="https://acme.com/wp-includes/js/jquery/'
        'jquery.min.js?ver=3.7.1" id="jquery-core-js"></script>',
    ],
)
def test_a_script_a_plugin_delays_is_read_from_its_placeholder_attribute(script: str) -> None:
    metadata = extract_metadata(script.encode(), "https://acme.com/")
    assert metadata["tech_stack"] == {"cms": ["WordPress"], "frameworks": ["jQuery"]}
    assert metadata["tech_versions"] == {"jQuery": "3.7.1"}


def test_the_first_script_that_says_a_version_wins() -> None:
    body = (
        '<script src="/js/jquery.min.js"></script>'
        '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>'
        '<script src="https://code.jquery.com/jquery-1.12.4.min.js"></script>'
    )
    assert extract_metadata(body.encode(), "https://acme.com/")["tech_versions"] == {
        "jQuery": "3.7.1"
    }


def wordpress(body: str) -> tuple[bool, str | None, bool]:
    metadata = extract_metadata(body.encode(), "https://acme.com/")
    return metadata["is_wordpress"], metadata["wordpress_version"], metadata["has_elementor"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('<meta name="generator" content="WordPress 6.4.2">', (True, "6.4.2", False)),
        ('<meta content="WordPress 6.5" name="generator">', (True, "6.5", False)),
        ("<meta content='WordPress 5.9.3' name='generator' />", (True, "5.9.3", False)),
        ('<link rel="https://api.w.org/" href="https://acme.com/wp-json/">', (True, None, False)),
        (
            '<script src="/wp-includes/js/jquery/jquery.min.js?ver=3.7.1"></script>'
            '<link rel="stylesheet" href="/wp-includes/css/dist/block-library/style.min.css?ver=6.3.1">'
            '<script src="/wp-includes/js/wp-emoji-release.min.js?ver=6.3.1"></script>'
            '<script src="/wp-includes/js/dist/hooks.min.js?ver=c6aec9a8d4e5a5d543a1"></script>',
            (True, "6.3.1", False),
        ),
        (
            '<link rel="stylesheet" href="/wp-includes/css/x.css?foo=1&#038;ver=6.2">',
            (True, "6.2", False),
        ),
        (
            '<meta name="generator" content="Elementor 3.18.3; features: e_dom_optimization">'
            '<meta name="generator" content="WordPress 6.4.2">',
            (True, "6.4.2", True),
        ),
        ('<body class="elementor-default elementor-kit-5">', (True, None, True)),
        (
            '<script src="/wp-content/plugins/elementor/assets/js/frontend.min.js"></script>',
            (True, None, True),
        ),
        ('<div class="not-elementor">x</div>', (False, None, False)),
    ],
)
def test_wordpress_and_elementor(body: str, expected: tuple[bool, str | None, bool]) -> None:
    assert wordpress(body) == expected


def test_tracking_ids() -> None:
    body = """<script async src="https://www.googletagmanager.com/gtag/js?id=G-ABC123DEF4"></script>
    <script>gtag('config', 'G-ABC123DEF4'); gtag('config', 'UA-1234567-2'); gtag('config', 'AW-987654321');</script>
    <script>fbq('init', '1122334455667788');</script>
    <noscript><img src="https://www.facebook.com/tr?id=9988776655&ev=PageView"></noscript>
    <noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-ABCD123"></iframe></noscript>
    <p>Watch model G-SHOCKER1 and UA-0000000-1 in the text.</p>"""
    assert extract_metadata(body.encode(), "https://acme.com/")["tracking_ids"] == {
        "facebook_pixel": ["1122334455667788", "9988776655"],
        "ga4": ["G-ABC123DEF4"],
        "google_ads": ["AW-987654321"],
        "gtm": ["GTM-ABCD123"],
        "universal_analytics": ["UA-1234567-2"],
    }
