"""The HTTP anchors' own processes: `python -m bench.listers usp|scrapy HOMEPAGE RESULT_JSON`.

Each lists every URL of a site's sitemaps with another tool and writes {"found": N}.
Only the tool itself is imported, so process start-up costs what the tool costs.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path


def list_with_usp(homepage: str) -> int:
    from usp.tree import sitemap_tree_for_homepage

    tree = sitemap_tree_for_homepage(homepage)
    return sum(1 for _ in tree.all_pages())


def list_with_scrapy(homepage: str) -> int:
    from scrapy.crawler import CrawlerProcess
    from scrapy.spiders import SitemapSpider

    class CountingSitemapSpider(SitemapSpider):
        """Scrapy's SitemapSpider as shipped; the page requests it makes are counted, not scheduled."""

        name = "counting_sitemap"
        sitemap_urls = [homepage.rstrip("/") + "/robots.txt"]
        found = 0

        def _parse_sitemap(self, response):
            for request in super()._parse_sitemap(response):
                if request.callback == self._parse_sitemap:
                    yield request
                else:
                    CountingSitemapSpider.found += 1

        def parse(self, response):
            return None

    process = CrawlerProcess(
        {
            "LOG_LEVEL": "WARNING",
            "ROBOTSTXT_OBEY": False,
            "TELNETCONSOLE_ENABLED": False,
            "DOWNLOAD_WARNSIZE": 0,
        }
    )
    process.crawl(CountingSitemapSpider)
    process.start()
    return CountingSitemapSpider.found


def main(argv: list[str]) -> int:
    tool, homepage, result = argv
    logging.basicConfig(level=logging.WARNING)
    found = list_with_usp(homepage) if tool == "usp" else list_with_scrapy(homepage)
    Path(result).write_text(json.dumps({"found": found}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
