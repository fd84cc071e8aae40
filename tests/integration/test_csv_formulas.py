"""CSV files open in spreadsheets: no site's text may become a live formula there."""

from __future__ import annotations

import csv

from tests.support.sitemap_sites import urlset

TITLE = '=HYPERLINK("http://evil.test","x")'
DESCRIPTION = "@SUM(1+1)|cmd"
HOME = (
    f"<html lang='en'><head><title>{TITLE}</title>"
    f'<meta name="description" content="{DESCRIPTION}"></head>'
    '<body><a href="tel:+12025550143">call</a></body></html>'
)
LISTED = ["http://csv.test/-2+3", "http://csv.test/=1+1", "http://csv.test/ok"]


def _dangerous(cell: str) -> bool:
    start = cell.lstrip(" \n\x0b\x0c\u00a0\u3000")[:1]
    return bool(start) and start in "=+-@\t\r\uff1d\uff0b\uff0d\uff20"


def test_the_crawls_csv_export_neutralises_formulas_and_keeps_the_text(
    sqlite_url, web, crawl, tmp_path
):
    site = web.site("csv.test")
    site.add("/robots.txt", "Sitemap: http://csv.test/pages.xml\n")
    site.add("/pages.xml", urlset(LISTED))
    site.add("/", HOME)
    out = tmp_path / "out.csv"
    result = crawl(sqlite_url, "-a", "domain=csv.test", "-O", str(out))
    assert result.returncode == 0, result.stderr[-3000:]

    with open(out, newline="", encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    cells = [cell for line in lines for cell in line.values() if cell]
    assert cells and not [cell for cell in cells if _dangerous(cell)]
    domain = next(line for line in lines if line["type"] == "domain")
    # Escaped with a quote in front; the original text follows it unchanged.
    assert domain["title"] == "'" + TITLE
    assert domain["description"] == "'" + DESCRIPTION
    # A phone number in international form starts with +: a formula to a spreadsheet.
    assert domain["phone_numbers"].startswith("'+1") and "2025550143" in domain["phone_numbers"]
    # Only a cell's start matters: URLs start with http.
    assert sorted(line["url"] for line in lines if line["type"] == "page") == sorted(LISTED)
