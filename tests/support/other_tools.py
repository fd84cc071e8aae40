"""List every URL other sitemap tools find on fixture sites, for side-by-side comparison.

    python -m tests.support.other_tools usp|scrapy OUT.json HOST [HOST ...]

Runs in its own process (Scrapy needs its own reactor; both honour http_proxy) and writes
{host: [urls]} to OUT.json.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import defaultdict
from pathlib import Path


def with_usp(hosts: list[str]) -> dict[str, list[str]]:
    from usp.tree import sitemap_tree_for_homepage

    found = {}
    for host in hosts:
        tree = sitemap_tree_for_homepage(f"http://{host}/")
        found[host] = sorted({page.url for page in tree.all_pages()})
    return found


def with_scrapy(hosts: list[str]) -> dict[str, list[str]]:
    from urllib.parse import urlsplit

    from scrapy.crawler import CrawlerProcess
    from scrapy.spiders import SitemapSpider

    found: dict[str, set[str]] = defaultdict(set)

    class ListingSitemapSpider(SitemapSpider):
        """Scrapy's SitemapSpider as shipped; the page requests it would make are recorded, not sent."""

        name = "listing"
        sitemap_urls = [f"http://{host}/robots.txt" for host in hosts]

        def _parse_sitemap(self, response):
            site = urlsplit(response.request.meta.get("redirect_urls", [response.url])[0]).hostname
            for request in super()._parse_sitemap(response):
                if request.callback == self._parse_sitemap:
                    yield request
                else:
                    found[site].add(request.url)

    process = CrawlerProcess(
        {
            "LOG_LEVEL": "ERROR",
            "ROBOTSTXT_OBEY": False,
            "TELNETCONSOLE_ENABLED": False,
            "REMOTE_CONTROL_ENABLED": False,
            "DOWNLOAD_WARNSIZE": 0,
        }
    )
    process.crawl(ListingSitemapSpider)
    process.start()
    return {host: sorted(found.get(host, ())) for host in hosts}


def main(argv: list[str]) -> int:
    tool, out, *hosts = argv
    logging.basicConfig(level=logging.ERROR)
    result = with_usp(hosts) if tool == "usp" else with_scrapy(hosts)
    Path(out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
