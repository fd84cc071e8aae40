"""Real sitemaps and homepages from public test fixtures (manifest.json: repository, path,
commit), read by ScraperSky beside ultimate-sitemap-parser, Scrapy's sitemap parser and extruct.

    python -m bench.corpus
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin

HERE = Path(__file__).parent
MANIFEST = json.loads((HERE / "manifest.json").read_text())


def scrapersky_urls(body: bytes, url: str) -> set[str]:
    from scrapersky.sitemaps import open_sitemap

    return {entry.url for entry in open_sitemap(body, url=url).entries()}


def _plain(body: bytes) -> bytes:
    try:
        return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
    except (OSError, EOFError):
        return b""


def usp_urls(body: bytes, url: str) -> set[str]:
    from usp.fetch_parse import PlainTextSitemapParser, XMLSitemapParser
    from usp.objects.sitemap import AbstractIndexSitemap

    text = _plain(body).decode("utf-8", "replace").lstrip("\ufeff")
    kind = PlainTextSitemapParser if not text.lstrip().startswith("<") else XMLSitemapParser
    try:
        sitemap = kind(url=url, content=text, recursion_level=99, web_client=None, parent_urls=set(),
                       recurse_callback=lambda *a: False).sitemap()
    except Exception:
        return set()
    if isinstance(sitemap, AbstractIndexSitemap):
        return {child.url for child in sitemap.sub_sitemaps}
    return {page.url for page in sitemap.all_pages()}


def scrapy_urls(body: bytes, url: str) -> set[str]:
    from scrapy.utils.sitemap import Sitemap

    data = _plain(body)
    try:
        return {entry["loc"] for entry in Sitemap(data) if entry.get("loc", "").strip()}
    except Exception:
        return set()


def sitemap_table() -> tuple[list[str], dict[str, set[str]]]:
    exact = Counter()
    missed: dict[str, set[str]] = {}
    for case in MANIFEST["sitemaps"]:
        body = (HERE / "sitemaps" / case["file"]).read_bytes()
        found = {name: reader(body, case["url"]) for name, reader in
                 (("ScraperSky", scrapersky_urls), ("usp", usp_urls), ("Scrapy", scrapy_urls))}
        # Peers hand relative <loc> values back as they are: compare the URLs they stand for.
        found = {name: {urljoin(case["url"], u.strip()) for u in urls} for name, urls in found.items()}
        union = set().union(*found.values())
        for name, urls in found.items():
            exact[name] += urls == union
        if union - found["ScraperSky"]:
            missed[case["file"]] = union - found["ScraperSky"]
    total = len(MANIFEST["sitemaps"])
    lines = [f"sitemaps: {total} cases; cases where a reader finds every URL any reader finds:"]
    lines += [f"  {name:<11} {exact[name]:>3} / {total}" for name in ("ScraperSky", "usp", "Scrapy")]
    return lines, missed


def metadata_table() -> list[str]:
    import extruct

    from scrapersky.metadata import extract_metadata
    from scrapersky.metadata.document import Page

    agree, checked = Counter(), Counter()
    for case in MANIFEST["pages"]:
        body = (HERE / "pages" / case["file"]).read_bytes()
        ours = extract_metadata(body, case["url"])
        page = Page.from_response(body, case["url"], None)
        try:
            theirs = extruct.extract(page.html, base_url=case["url"], syntaxes=["json-ld", "opengraph"], uniform=True)
        except Exception:
            continue
        types = sorted({t for node in theirs["json-ld"] for t in ([node.get("@type")] if isinstance(node.get("@type"), str) else node.get("@type") or [])})
        our_types = sorted({t for node in page.json_ld if isinstance(node, dict)
                            for t in ([node.get("@type")] if isinstance(node.get("@type"), str) else node.get("@type") or [])})
        checked["json-ld types"] += 1
        agree["json-ld types"] += types == our_types
        og_title = next((node.get("og:title") for node in theirs["opengraph"] if node.get("og:title")), None)
        if og_title and not page.root.xpath("//title"):
            checked["title (og:title)"] += 1
            agree["title (og:title)"] += ours["title"] == " ".join(og_title.split())
        for expected_field, value in case.get("expected", {}).items():
            checked[expected_field] += 1
            agree[expected_field] += ours.get(expected_field) == value
    lines = [f"metadata: {len(MANIFEST['pages'])} pages; agreement with the references per field:"]
    lines += [f"  {field:<18} {agree[field]:>3} / {checked[field]}  ({100 * agree[field] / checked[field]:.0f}%)"
              for field in sorted(checked)]
    return lines


def main() -> None:
    import logging

    logging.disable(logging.WARNING)  # usp logs every line it skips
    lines, missed = sitemap_table()
    print("\n".join(lines))
    for name, urls in sorted(missed.items()):
        print(f"  ScraperSky misses {len(urls)} on {name}: {sorted(urls)[:3]}")
    print("\n".join(metadata_table()))


if __name__ == "__main__":
    main()
