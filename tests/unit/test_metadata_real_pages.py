"""Metadata on shapes taken from real homepages: dates that parse as phone numbers, regions
beyond the ccTLD, a stray element before the document, logos, social accounts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrapersky.metadata import extract_metadata
from scrapersky.metadata.contacts import parse_phone
from scrapersky.metadata.region import infer_region
from scrapersky.metadata.social import canonical_profile


def meta(html: str, url: str = "https://www.example.info/") -> dict:
    return extract_metadata(html.encode(), url)


# --- 7: digits are a phone number only with evidence -------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Veröffentlicht am 06.10.2017 11:45 Uhr",  # a German news date and time
        "Sitzung vom 12.05.2009 (03.06.2008, Drucksache)",  # dates in brackets
        "Antwort der Bundesregierung, ds 16/9588 vom 30.06.2008",  # a Bundestag paper number
        "Bestellnummer 0221123456 – Preis 1.299,00 €",  # an order number
    ],
)
def test_dates_and_file_numbers_in_german_text_are_not_phones(text: str) -> None:
    html = f'<html lang="de"><body><p>{text}</p></body></html>'
    assert meta(html, "https://verein.de/")["phone_numbers"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tel.: 0221 123456", "+49221123456"),  # labelled
        ("Telefon 030/12345678", "+493012345678"),  # labelled, the German slash
        ("☎ 089 12345678", "+498912345678"),
        ("+49 (0)30 1234567", "+49301234567"),  # international form
        ("Zentrale: 030 1234 5678", "+493012345678"),
        ("Reservierung: 030 12345678", "+493012345678"),  # any "Label:" before plain digit groups
        ("Rufen Sie an: 040 1234 5678", "+494012345678"),
    ],
)
def test_numbers_with_evidence_are_phones(text: str, expected: str) -> None:
    html = f'<html lang="de"><body><p>{text}</p></body></html>'
    assert meta(html, "https://verein.de/")["phone_numbers"] == [expected]


# A club's contact table (the label cell, value cell rows German contact pages and mail templates
# print: <tr><td>Telefon:</td><td>...</td></tr>, "Telefax:", "Mobil:"), with the dates, counts,
# register and bank numbers such a table holds beside them.
CLUB_CONTACTS = """<html lang="de"><body><h2>Vorstand</h2>
<table class="contentpaneopen">
<tr><td>1. Vorsitzender:</td><td>Hans Müller</td></tr>
<tr><td>Anschrift:</td><td>Hauptstraße 12, 70173 Stuttgart</td></tr>
<tr><td>Telefon:</td><td>0711 123456</td></tr>
<tr><td>Telefax:</td><td>0711 123457</td></tr>
<tr><td>Mobil:</td><td>0171 2345678</td></tr>
<tr><td>E-Mail:</td><td><a href="mailto:vorstand@tsv-beispiel.de">vorstand@tsv-beispiel.de</a></td></tr>
<tr><td>Gegründet:</td><td>12.05.1899</td></tr>
<tr><td>Mitglieder:</td><td>1.250</td></tr>
<tr><td>Mitgliedsnummer</td><td>0711 654321</td></tr>
<tr><td>Vereinsregister:</td><td>VR 720123, Amtsgericht Stuttgart</td></tr>
<tr><td>Bankverbindung:</td><td>IBAN DE89 3704 0044 0532 0130 00</td></tr>
</table></body></html>"""


def test_a_label_in_the_neighbouring_table_cell_makes_a_phone() -> None:
    # The member number has a phone's digits but no phone label: it stays out.
    assert meta(CLUB_CONTACTS, "https://tsv-beispiel.de/")["phone_numbers"] == [
        "+49711123456",
        "+49711123457",
        "+491712345678",
    ]


@pytest.mark.parametrize(
    "html",
    [
        "<dl><dt>Tel.</dt><dd>0711 123456</dd></dl>",
        "<table><tr><th>Fon</th><td>0711 / 123456</td></tr></table>",
        '<div class="label">Telefonnummer</div><div class="value">0711 123456</div>',
        "<p><strong>Telefon:</strong><br>0711 123456</p>",
        "<dl><dt>Rufnummer</dt><dd>0711 123456</dd></dl>",
        "<table><tr><td>Festnetz:</td><td>0711 123456</td></tr></table>",
        '<p><span class="label">Phone</span> <span>0711 123456</span></p>',  # one line: found before too
        "<table><tr><td>Name:</td><td>TSV</td><td>&nbsp;</td><td>Telefon:</td><td>0711 123456</td></tr></table>",
    ],
)
def test_a_label_in_the_element_before_the_number_makes_a_phone(html: str) -> None:
    page = f'<html lang="de"><body>{html}</body></html>'
    assert meta(page, "https://verein.de/")["phone_numbers"] == ["+49711123456"]


@pytest.mark.parametrize(
    "html",
    [
        "<table><tr><td>Datum:</td><td>06.10.2017</td></tr></table>",
        "<table><tr><td>PLZ / Ort:</td><td>70173 Stuttgart</td></tr></table>",
        "<table><tr><td>Kundennummer</td><td>0711 123456</td></tr></table>",  # no phone label
        "<table><tr><td>Preis:</td><td>1.299,00 €</td></tr><tr><td>Rabatt</td><td>25 000</td></tr></table>",
        "<dl><dt>IBAN</dt><dd>DE89 3704 0044 0532 0130 00</dd></dl>",
        # a heading that is a label word, then an address, a date, opening hours
        "<h3>Kontakt</h3><p>70173 Stuttgart, Hauptstraße 12</p>",
        "<h3>Kontakt</h3><p>12.05.2024 19:30 Uhr Jahreshauptversammlung</p>",
        "<h3>Office</h3><p>Öffnungszeiten 09:00 - 12:00 und 14:00 - 18:00</p>",
        "<dl><dt>Fax</dt><dd>Nr. 2024/11 vom 06.10.2017</dd></dl>",
        # the label's own cell is empty ("-"): the next row's number is not its value
        "<table><tr><td>Telefon:</td><td>-</td></tr><tr><td>0711 123456</td></tr></table>",
    ],
)
def test_numbers_beside_no_phone_label_are_not_phones(html: str) -> None:
    page = f'<html lang="de"><body>{html}</body></html>'
    assert meta(page, "https://verein.de/")["phone_numbers"] == []


NOT_PHONE_LABELS = [
    "Datum:",
    "PLZ",
    "Preis:",
    "Kundennummer",
    "Mitgliedsnummer:",
    "IBAN",
    "Gegründet",
]
PHONE_LABELS = ["Telefon:", "Tel.", "Fon", "Mobil:", "Phone", "Fax:", "Telefonnummer"]


@settings(max_examples=60, deadline=None)
@given(
    label=st.sampled_from(NOT_PHONE_LABELS + PHONE_LABELS),
    area=st.sampled_from(["711", "221", "30", "89", "341", "6221", "171"]),
    subscriber=st.from_regex(r"\A[1-9][0-9]{4,7}\Z"),
    shape=st.sampled_from(
        ["<table><tr><td>{}</td><td>{}</td></tr></table>", "<dl><dt>{}</dt><dd>{}</dd></dl>"]
    ),
)
def test_the_cell_before_decides_whether_digits_are_a_phone(
    label: str, area: str, subscriber: str, shape: str
) -> None:
    number = f"0{area} {subscriber}"  # two groups: no layout only phones have, so the label decides
    page = f'<html lang="de"><body>{shape.format(label, number)}</body></html>'
    found = meta(page, "https://verein.de/")["phone_numbers"]
    valid = parse_phone(number, "DE")
    assert found == ([valid] if label in PHONE_LABELS and valid else [])


# --- 8: the region from every signal; 00 as the international prefix ---------------------------


def test_a_german_page_on_a_generic_tld_keeps_its_international_freephone_link() -> None:
    # A .info site in German (lang="de" only) linking an international freephone number.
    html = '<html lang="de"><body><a href="tel:0080040020000">Kostenlose Hotline</a></body></html>'
    assert meta(html)["phone_numbers"] == ["+80040020000"]


def test_00_is_read_as_the_international_prefix_even_where_it_is_not_the_convention() -> None:
    assert parse_phone("0044 20 7946 0958", "US") == "+442079460958"
    assert parse_phone("00 33 1 42 68 53 00", "FR") == "+33142685300"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('<meta property="og:locale" content="de_AT">', "AT"),
        ('<link rel="alternate" hreflang="fr-CH" href="https://www.example.info/">', "CH"),
        (
            '<link rel="alternate" hreflang="fr-CH" href="https://www.example.info/fr/">',
            "DE",
        ),  # another page's
        ("", "DE"),  # German alone: Germany
    ],
)
def test_region_signals_beyond_the_cctld(head: str, expected: str) -> None:
    from scrapersky.metadata.document import HtmlDocument
    from scrapersky.metadata.text import language, locales

    page = HtmlDocument.from_response(
        f'<html lang="de"><head>{head}</head><body>x</body></html>'.encode(),
        "https://www.example.info/",
        None,
    )
    assert infer_region("www.example.info", language(page), page.json_ld, locales(page)) == expected


def test_english_alone_says_nothing_about_the_country() -> None:
    assert infer_region("example.info", "en", []) == "US"


# --- 9: a stray element before the document ---------------------------------------------------


def test_a_stray_empty_html_element_before_the_document_is_skipped() -> None:
    # As a real German CMS template prints it, ahead of its doctype.
    html = (
        '<html xml:lang="de_DE" />\n<!DOCTYPE html>\n<html lang="de"><head><title>Praxis Dr. Muster</title>'
        '<meta name="description" content="Hausarztpraxis in Köln">'
        '<link rel="icon" href="/favicon.png"><meta name="generator" content="WordPress 6.4.2"></head>'
        "<body><p>Tel.: 0221 123456</p></body></html>"
    )
    found = meta(html, "https://praxis-muster.de/")
    assert found["title"] == "Praxis Dr. Muster"
    assert found["description"] == "Hausarztpraxis in Köln"
    assert found["favicon_url"] == "https://praxis-muster.de/favicon.png"
    assert found["phone_numbers"] == ["+49221123456"]
    assert found["is_wordpress"] and not found["needs_render"]


# --- 10: logos --------------------------------------------------------------------------------


def test_an_image_whose_file_and_alt_say_logo_beats_the_share_image() -> None:
    html = (
        '<html><head><meta property="og:image" content="https://acme.com/share-1200x630.jpg"></head><body>'
        '<div class="top"><img src="/wp-content/uploads/2020/01/acme-logo.png" alt="ACME Logo"></div>'
        "</body></html>"
    )
    assert (
        meta(html, "https://acme.com/")["logo_url"]
        == "https://acme.com/wp-content/uploads/2020/01/acme-logo.png"
    )


def test_a_file_name_alone_saying_logo_is_enough() -> None:
    html = (
        '<html><body><img src="/img/brand/logo_small.svg"><img src="/img/team.jpg"></body></html>'
    )
    assert (
        meta(html, "https://acme.com/")["logo_url"] == "https://acme.com/img/brand/logo_small.svg"
    )


def test_a_logo_given_only_in_srcset_is_found_by_its_file_name() -> None:
    # ebrosia.de's shop header
    html = (
        '<html><body><a href="/"><img srcset="https://www.ebrosia.de/media/image/b1/5c/74/logo_116x50.jpg" '
        'alt="ebrosia - zur Startseite wechseln"></a></body></html>'
    )
    assert (
        meta(html, "https://www.ebrosia.de/")["logo_url"]
        == "https://www.ebrosia.de/media/image/b1/5c/74/logo_116x50.jpg"
    )


def test_the_image_linking_home_in_the_header_is_the_logo() -> None:
    html = (
        '<html><head><meta property="og:image" content="https://acme.com/avatar.jpg"></head><body>'
        '<header><a href="https://acme.com/"><img src="/static/acme.svg" alt="ACME"></a></header>'
        '<main><img src="/photos/1.jpg"></main></body></html>'
    )
    assert meta(html, "https://acme.com/")["logo_url"] == "https://acme.com/static/acme.svg"


@pytest.mark.parametrize(
    "html",
    [
        # an article's photo as og:image
        '<html><head><meta property="og:type" content="article"><meta property="og:image" content="https://blog.dev/p.jpg">'
        "</head><body></body></html>",
        # the owner's avatar on a profile page
        '<html><head><meta property="og:type" content="profile"><meta property="og:image" content="https://blog.dev/me.jpg">'
        "</head><body></body></html>",
        # a content photo of the page itself
        '<html><head><meta property="og:image" content="https://blog.dev/p.jpg"></head>'
        '<body><article><img src="https://blog.dev/p.jpg"></article></body></html>',
    ],
)
def test_photos_are_never_the_logo(html: str) -> None:
    assert meta(html, "https://blog.dev/")["logo_url"] is None


@pytest.mark.parametrize(
    "html",
    [
        # creativecommons.at: a share-button module's del.icio.us logo
        '<div class="service-links"><a href="#"><img src="/sites/all/modules/service_links/images/delicious.png" '
        'alt="del.icio.us logo"></a></div>',
        # a WordPress.com comment form's logo
        '<div id="comment-form-identity"><img src="https://s2.wp.com/wp-content/mu-plugins/highlander-comments/'
        'images/wplogo.png" alt="WordPress.com-Logo"></div>',
    ],
)
def test_other_brands_logos_in_widgets_are_not_the_sites(html: str) -> None:
    assert meta(f"<html><body>{html}</body></html>", "https://acme.at/")["logo_url"] is None


@pytest.mark.parametrize(
    "url",
    [
        "https://www.faz.net/aktuell/wirtschaft/musik-streaming-15433.html",
        "https://en.wikipedia.org/wiki/T-distributed_stochastic_neighbor_embedding",
    ],
)
def test_the_share_image_of_an_inner_page_shows_its_subject_not_the_site(url: str) -> None:
    # Real article pages: og:image is the article's photo, even without og:type (or with "website").
    html = (
        '<html><head><meta property="og:type" content="website"><meta property="og:image" content="/photo.jpg">'
        "</head><body><p>x</p></body></html>"
    )
    assert meta(html, url)["logo_url"] is None


def test_a_products_own_picture_is_not_the_logo_even_when_its_alt_says_so() -> None:
    # extruct's tests/samples/misc/product_microdata.html
    html = (
        '<html><body><div itemscope itemtype="http://schema.org/Product"><span itemprop="name">Executive Anvil'
        '</span><img itemprop="image" src="anvil_executive.jpg" alt="Executive Anvil logo"></div></body></html>'
    )
    assert meta(html, "https://www.example.com/anvil/")["logo_url"] is None


def test_a_share_image_is_the_last_resort() -> None:
    html = '<html><head><meta property="og:image" content="/share.png"></head><body><p>x</p></body></html>'
    assert meta(html, "https://acme.com/")["logo_url"] == "https://acme.com/share.png"


# --- 11: social -------------------------------------------------------------------------------


def test_old_linkedin_public_profiles_keep_their_id() -> None:
    assert canonical_profile("http://de.linkedin.com/pub/max-muster/1b/46a/324") == (
        "linkedin",
        "https://linkedin.com/pub/max-muster/1b/46a/324",
    )


def test_twitter_site_card_names_the_account() -> None:
    html = '<html><head><meta name="twitter:site" content="@acme_gmbh"></head><body></body></html>'
    assert meta(html, "https://acme.de/")["twitter_url"] == "https://twitter.com/acme_gmbh"
