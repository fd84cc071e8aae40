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
        # URLs a peer lists that are no page (NOTES.md says why) count for no reader.
        not_pages = set(case.get("not_pages", ()))
        union = set().union(*found.values()) - not_pages
        for name, urls in found.items():
            exact[name] += urls == union
        wrong = (union - found["ScraperSky"]) | (found["ScraperSky"] & not_pages)
        if wrong:
            missed[case["file"]] = wrong
    total = len(MANIFEST["sitemaps"])
    lines = [f"sitemaps: {total} cases; cases where a reader finds every URL any reader finds"
             " (and no URL the case marks as no page):"]
    lines += [f"  {name:<11} {exact[name]:>3} / {total}" for name in ("ScraperSky", "usp", "Scrapy")]
    return lines, missed


def metadata_table() -> tuple[list[str], dict[str, list[str]]]:
    """Per field, how many pages agree with the reference: extruct for the structured-data
    syntaxes, the hand-checked values in the manifest ("expected") for the other fields."""
    import extruct

    from scrapersky.metadata import extract_metadata
    from scrapersky.metadata.charset import decode_html

    agree, checked = Counter(), Counter()
    differ: dict[str, list[str]] = {}
    for case in MANIFEST["pages"]:
        body = (HERE / "pages" / case["file"]).read_bytes()
        ours = extract_metadata(body, case["url"])
        try:
            theirs = extruct.extract(decode_html(body, None), base_url=case["url"],
                                     syntaxes=list(SYNTAXES), uniform=True)
        except Exception:  # extruct gives up on some markup: no reference for this page
            theirs = None
        comparisons = [(f"{syntax} (extruct)", ours["structured_data"].get(syntax, []), theirs[syntax])
                       for syntax in SYNTAXES if theirs is not None]
        comparisons += [(field, ours.get(field), value) for field, value in case.get("expected", {}).items()]
        for field, got, want in comparisons:
            checked[field] += 1
            if got == want:
                agree[field] += 1
            else:
                differ.setdefault(field, []).append(case["file"])
    lines = [f"metadata: {len(MANIFEST['pages'])} pages; agreement with the references per field:"]
    lines += [f"  {field:<22} {agree[field]:>3} / {checked[field]:<3} {100 * agree[field] / checked[field]:5.1f} %"
              for field in sorted(checked)]
    return lines, differ


SYNTAXES = ("json-ld", "opengraph", "microdata")


def main() -> None:
    import logging

    logging.disable(logging.WARNING)  # usp logs every line it skips
    lines, missed = sitemap_table()
    print("\n".join(lines))
    for name, urls in sorted(missed.items()):
        print(f"  ScraperSky misses or wrongly lists {len(urls)} on {name}: {sorted(urls)[:3]}")
    lines, differ = metadata_table()
    print("\n".join(lines))
    for field, files in sorted(differ.items()):
        print(f"  {field} differs on: {', '.join(files)}")


if __name__ == "__main__":
    main()
