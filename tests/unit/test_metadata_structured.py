"""JSON-LD, OpenGraph and microdata."""

import re
import subprocess
import sys
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from scrapersky.metadata import extract_metadata
from scrapersky.metadata.document import parse_html
from scrapersky.metadata.structured import _prefixes, iter_nodes, opengraph, parse_json_ld


def structured(html: str) -> dict[str, Any]:
    return extract_metadata(html.encode(), "https://acme.com/")["structured_data"]


def json_ld_script(text: str) -> str:
    return f'<script type="application/ld+json">{text}</script>'


def test_json_ld_items_from_objects_and_lists() -> None:
    html = json_ld_script('{"@type": "Organization", "name": "Acme"}') + json_ld_script(
        '[{"@type": "WebSite"}, {"@type": "Person"}, 3, {}]'
    )
    assert [item["@type"] for item in structured(html)["json-ld"]] == [
        "Organization",
        "WebSite",
        "Person",
    ]


def test_json_ld_tolerates_comments_and_trailing_commas() -> None:
    html = json_ld_script('<!-- begin -->\n{"@type": "Organization", "name": "Acme",}\n// end')
    assert structured(html)["json-ld"] == [{"@type": "Organization", "name": "Acme"}]


def test_broken_json_ld_never_raises_and_keeps_other_scripts() -> None:
    html = (
        json_ld_script('{"@type": "Organization", "name": ')
        + json_ld_script("")
        + json_ld_script("[" * 5000)
        + json_ld_script("not json at all")
        + json_ld_script('{"@type": "Product", "name": "Bread"}')
    )
    assert structured(html)["json-ld"] == [{"@type": "Product", "name": "Bread"}]


def test_json_ld_type_attribute_is_matched_loosely() -> None:
    html = '<script type=" Application/LD+JSON ">{"@type": "Thing"}</script>'
    assert structured(html)["json-ld"] == [{"@type": "Thing"}]


def test_json_ld_nan_becomes_null() -> None:
    html = json_ld_script('{"@type": "Product", "price": NaN}')
    assert structured(html)["json-ld"] == [{"@type": "Product", "price": None}]


def test_opengraph_uniform() -> None:
    html = (
        '<html><head><meta property="og:title" content="Acme"><meta property="og:type" content="website">'
        "</head></html>"
    )
    assert structured(html) == {
        "opengraph": [
            {"@context": {"og": "http://ogp.me/ns#"}, "@type": "website", "og:title": "Acme"}
        ]
    }


OPENGRAPH_CASES = {
    "plain": '<meta property="og:title" content="Acme"><meta property="og:url" content="/">',
    "first non-blank value wins": (
        '<meta property="og:title" content=" "><meta property="og:title" content="Acme">'
        '<meta property="og:title" content="Other"><meta property="og:image" content="">'
    ),
    "blank type": '<meta property="og:type" content=""><meta property="og:title" content="A">',
    "undeclared namespace": '<meta property="fb:app_id" content="1"><meta property="x:y" content="2">',
    "only undeclared": '<meta property="fb:app_id" content="1">',
    "product and article": (
        '<meta property="product:price:amount" content="3"><meta property="article:tag" content="t">'
    ),
    "no content": '<meta property="og:title"><meta name="og:description" content="d">',
}
PREFIXED = (
    '<html prefix="fb: http://ogp.me/ns/fb# og: http://example.com/og"><head prefix="x: http://x/">'
    '<meta property="fb:app_id" content="1"><meta property="x:y" content="2">'
    '<meta property="og:type" content="article"></head><body>'
    '<meta property="og:title" content="outside the head"></body></html>'
)


def test_opengraph_reads_as_extruct_does() -> None:
    import extruct

    pages = [f"<html><head>{head}</head><body></body></html>" for head in OPENGRAPH_CASES.values()]
    for html in [*pages, PREFIXED, "<p>no head</p>"]:
        root = parse_html(html)
        theirs = extruct.extract(html, syntaxes=["opengraph"], uniform=True)["opengraph"]
        assert opengraph(root) == theirs, html
    prefixed = opengraph(parse_html(PREFIXED))
    assert prefixed[0]["@context"]["og"] == "http://ogp.me/ns#"
    assert (prefixed[0]["fb:app_id"], prefixed[0]["x:y"]) == ("1", "2")


EXTRUCT_PREFIX = re.compile(r"\s*(\w+):\s*([^\s]+)")  # extruct.opengraph's own pattern


@given(st.text(alphabet="ab_é:-/# \t\n", max_size=40))
def test_prefix_declarations_are_found_as_extruct_finds_them(attribute: str) -> None:
    element = parse_html("<html><head></head></html>")
    element.set("prefix", attribute)
    assert _prefixes(element) == dict(EXTRUCT_PREFIX.findall(attribute))


def test_microdata_uniform() -> None:
    html = (
        '<div itemscope itemtype="https://schema.org/LocalBusiness"><span itemprop="name">Acme Bakery</span>'
        '<span itemprop="telephone">+1 415 555 0132</span></div>'
    )
    assert structured(html)["microdata"] == [
        {
            "@context": "https://schema.org",
            "@type": "LocalBusiness",
            "name": "Acme Bakery",
            "telephone": "+1 415 555 0132",
        }
    ]


def test_empty_syntaxes_omitted() -> None:
    assert structured("<p>nothing structured here</p>") == {}


def test_iter_nodes_walks_graphs_and_is_bounded() -> None:
    items = parse_json_ld(
        parse_html(json_ld_script('{"@graph": [{"a": {"b": 1}}, {"c": [{"d": 2}]}]}'))
    )
    assert [sorted(node) for node in iter_nodes(items)] == [["@graph"], ["a"], ["b"], ["c"], ["d"]]
    deep: dict[str, Any] = {}
    cursor = deep
    for _ in range(500):
        cursor["x"] = {}
        cursor = cursor["x"]
    assert 0 < len(list(iter_nodes(deep))) < 100


EXTRUCT_LOADED = """
import sys
from scrapersky.metadata import extract_metadata
found = extract_metadata(sys.stdin.buffer.read(), "https://acme.com/")["structured_data"]
print(sorted(found), "extruct" in sys.modules)
"""


def extruct_loaded_for(html: str) -> str:
    # A fresh interpreter: this one has long imported extruct for other tests.
    done = subprocess.run(
        [sys.executable, "-c", EXTRUCT_LOADED],
        input=html.encode(),
        capture_output=True,
        check=True,
    )
    return done.stdout.decode().strip()


def test_extruct_is_imported_only_for_pages_that_carry_microdata() -> None:
    # Its import costs a reactor stall of a third of a second on a slow host.
    plain = "<html><head><title>Shop</title></head><body><p>Hello</p></body></html>"
    assert extruct_loaded_for(plain) == "[] False"
    with_json_ld = plain.replace("</head>", json_ld_script('{"@type": "Thing"}') + "</head>")
    assert extruct_loaded_for(with_json_ld) == "['json-ld'] False"
    og = '<html><head><meta property="og:title" content="Shop"></head><body></body></html>'
    assert extruct_loaded_for(og) == "['opengraph'] False"
    item = '<div itemscope itemtype="https://schema.org/Thing"><span itemprop="name">X</span></div>'
    assert extruct_loaded_for(item) == "['microdata'] True"
