"""Requests per domain of sitemap discovery, ScraperSky beside ultimate-sitemap-parser and Scrapy's
SitemapSpider, site by site on one fixture web: every fixture site of the suite
(tests/support/sitemap_sites.py, which the side-by-side test reads too), the demo shop of the batch
bench, and sites laid out as real generators publish them, built from bench/corpus files (Hugo,
Jekyll, Astro, MkDocs, Hexo, WordPress with Yoast, Ghost, a store, a hand-kept video sitemap).

A request is one the site saw (the fixture web's log), whatever it was for. Each tool lists every
URL it finds; a case is lost when a peer finds a URL that ScraperSky does not.

    python -m bench.discovery
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

from bench import Figure, format_table
from bench.site import ROOT

TOOLS = ("ScraperSky", "usp", "Scrapy")
CORPUS = ROOT / "bench" / "corpus" / "sitemaps"
# URLs a peer reports that no sitemap lists (see tests/integration/test_side_by_side.py).
NOT_LISTED = {"http://messy.test/a?x=1y=2", "http://truncated.test/"}

# Sites as generators publish them: host → (what robots.txt declares, the generator meta of the
# homepage, {path: (corpus file, the origin its URLs name)}). robots.txt is each generator's
# default: jekyll-sitemap, Ghost, Yoast and BigCommerce name their sitemap there; Hugo, Astro,
# MkDocs and Hexo write none.
GENERATOR_SITES: dict[str, tuple[list[str], str, dict[str, tuple[str, str]]]] = {
    "hugo.corpus.test": (
        [],
        "Hugo 0.121.1",
        {"/sitemap.xml": ("hugo-quickstart__public_sitemap.xml", "http://localhost:1313")},
    ),
    "jekyll.corpus.test": (
        ["/sitemap.xml"],
        "Jekyll v4.3.2",
        {"/sitemap.xml": ("0-k.github.io___site_sitemap.xml", "https://www.martinklein.co")},
    ),
    "astro.corpus.test": (
        [],
        "Astro v4.0.3",
        {
            "/sitemap-index.xml": (
                "astrosite-template__dist_sitemap-index.xml",
                "https://notnehah.github.io",
            ),
            "/sitemap-0.xml": (
                "astrosite-template__dist_sitemap-0.xml",
                "https://notnehah.github.io",
            ),
        },
    ),
    "mkdocs.corpus.test": (
        [],
        "mkdocs-1.5.3, mkdocs-material-9.4.14",
        {"/sitemap.xml": ("mkdocs__site_sitemap.xml", "https://example.com")},
    ),
    "hexo.corpus.test": (
        [],
        "Hexo 6.3.0",
        {
            "/sitemap.xml": ("blog_hexo__public_sitemap.xml", "https://example.com"),
            "/sitemap.txt": ("blog_hexo__public_sitemap.txt", "https://example.com"),
            "/baidusitemap.xml": ("blog_hexo__public_baidusitemap.xml", "https://example.com"),
        },
    ),
    "yoast.corpus.test": (
        ["/sitemap_index.xml"],
        "WordPress 6.4.2",
        {
            "/sitemap_index.xml": ("staatic-adcert__sitemap_index.xml", "https://example.com"),
            "/category-sitemap.xml": (
                "staatic-adcert__category-sitemap.xml",
                "https://example.com",
            ),
        },
    ),
    "ghost.corpus.test": (
        ["/sitemap.xml"],
        "Ghost 5.75",
        {
            f"/{name}": (f"ghostblog__{name}", "https://desvelao.github.io/ghostblog")
            for name in (
                "sitemap.xml",
                "sitemap-posts.xml",
                "sitemap-pages.xml",
                "sitemap-tags.xml",
                "sitemap-authors.xml",
            )
        },
    ),
    "store.corpus.test": (
        ["/sitemap_index.xml"],
        "",
        {
            f"/{name}": (f"CS-Sitemaps__{name}", "https://caroleshiber.com")
            for name in ("sitemap_index.xml", "sitemap_categories.xml", "sitemap_products_1.xml")
        },
    ),
    "video.corpus.test": (
        ["/video-sitemap.xml"],
        "",
        {"/video-sitemap.xml": ("video-sitemap.xml__video-sitemap.xml", "https://azurite.com.au")},
    ),
}


@dataclass
class Case:
    host: str
    requests: dict[str, int] = field(default_factory=dict)  # tool → requests the site saw
    urls: dict[str, set[str]] = field(default_factory=dict)  # tool → URLs it found

    @property
    def missed(self) -> set[str]:
        """URLs a peer finds that ScraperSky does not."""
        theirs = set().union(*(self.urls.get(tool, set()) for tool in TOOLS[1:]))
        return theirs - self.urls.get("ScraperSky", set()) - NOT_LISTED


def generator_sites(web) -> list[str]:
    """Serve GENERATOR_SITES, each corpus file under the site's own origin."""
    for host, (declared, generator, files) in GENERATOR_SITES.items():
        site = web.site(host)
        meta = f'<meta name="generator" content="{generator}">' if generator else ""
        site.add("/", f"<html><head><title>{host}</title>{meta}</head><body>home</body></html>")
        if declared:
            site.add("/robots.txt", "".join(f"Sitemap: http://{host}{p}\n" for p in declared))
        for path, (name, origin) in files.items():
            body = (CORPUS / name).read_bytes().replace(origin.encode(), f"http://{host}".encode())
            site.add(path, body, content_type="text/plain" if path.endswith(".txt") else None)
    return list(GENERATOR_SITES)


def measure() -> list[Case]:
    """Every case site read by each tool in turn, on one fixture web; requests counted per site."""
    from scrapersky.db.schema import upgrade
    from tests.support import sitemap_sites
    from tests.support.commands import scrapy, scrapy_env
    from tests.support.db import rows
    from tests.support.fixture_web import FixtureWeb, demo_site

    with FixtureWeb() as web, tempfile.TemporaryDirectory(prefix="bench-discovery-") as work:
        hosts = [*sitemap_sites.build(web), *generator_sites(web)]
        demo_site(web, "demo.test")
        hosts.append("demo.test")
        cases = {host: Case(host) for host in hosts}
        database = f"sqlite:///{Path(work) / 'scrapersky.db'}"
        upgrade(database)
        env = scrapy_env(database, web, SCRAPERSKY_SCHEMES="http", LOG_LEVEL="WARNING")
        before = _seen(web, hosts)
        result = scrapy(
            "crawl",
            "sitemap",
            "-a",
            "domains=" + ",".join(hosts),
            *("-s", "DOWNLOAD_MAXSIZE=8388608", "-s", "SCRAPERSKY_SITEMAP_MAX_BYTES=8388608"),
            env=env,
            timeout=600,
        )
        if result.returncode not in (0, 1):
            raise RuntimeError(f"scrapy crawl failed:\n{result.stderr[-3000:]}")
        _count(cases, web, before, "ScraperSky")
        for row in rows(
            database, "select d.domain, p.url from pages p join domains d on d.id = p.domain_id"
        ):
            cases[row["domain"]].urls.setdefault("ScraperSky", set()).add(row["url"])
        for tool, name in (("usp", "usp"), ("scrapy", "Scrapy")):
            before = _seen(web, hosts)
            out = Path(work) / f"{tool}.json"
            subprocess.run(
                [sys.executable, "-m", "tests.support.other_tools", tool, str(out), *hosts],
                cwd=ROOT,
                env=env,
                check=True,
                timeout=600,
                capture_output=True,
            )
            _count(cases, web, before, name)
            for host, urls in json.loads(out.read_text()).items():
                # Peers hand relative <loc> values back as they are (MkDocs writes them).
                cases[host].urls[name] = {urljoin(f"http://{host}/", url) for url in urls}
    return list(cases.values())


def _seen(web, hosts: list[str]) -> dict[str, int]:
    return {host: len(web.hits(host)) for host in hosts}


def _count(cases: dict[str, Case], web, before: dict[str, int], tool: str) -> None:
    for host, case in cases.items():
        case.requests[tool] = len(web.hits(host)) - before[host]


def table(cases: list[Case]) -> str:
    """One line per case: requests each tool made, URLs each found, what ScraperSky missed."""
    header = ["case", *(f"{t} requests" for t in TOOLS), *(f"{t} URLs" for t in TOOLS), "missed"]
    lines = [
        [
            case.host,
            *(str(case.requests.get(t, 0)) for t in TOOLS),
            *(str(len(case.urls.get(t, ()))) for t in TOOLS),
            str(len(case.missed)),
        ]
        for case in cases
    ]
    total = len(cases) or 1
    lines.append(
        [
            "mean per domain",
            *(f"{sum(c.requests.get(t, 0) for c in cases) / total:.1f}" for t in TOOLS),
            *("" for _ in TOOLS),
            str(sum(1 for c in cases if c.missed)),
        ]
    )
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    out = [
        "  ".join(
            cell.rjust(w) if i else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in [header, *lines]
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def figures(cases: list[Case]) -> list[Figure]:
    total = len(cases)
    mean = {t: sum(c.requests.get(t, 0) for c in cases) / total for t in TOOLS}
    lost = [c.host for c in cases if c.missed]
    return [
        Figure(
            "discovery.requests",
            "discovery: requests per domain, fixture and corpus sites",
            mean["ScraperSky"],
            "requests",
            found=total,
            versus=f"usp {mean['usp']:.1f}, Scrapy SitemapSpider {mean['Scrapy']:.1f}",
        ),
        Figure(
            "discovery.lost",
            "discovery: sites where a peer finds a URL ScraperSky misses",
            len(lost),
            "sites",
            "0",
            not lost,
            note=", ".join(lost),
        ),
    ]


def run(quick: bool = False) -> list[Figure]:
    """Entry point for `python -m bench`: prints the per-case table, returns the summary rows."""
    cases = measure()
    print(table(cases), flush=True)
    return figures(cases)


def main() -> int:
    cases = measure()
    print(table(cases))
    print()
    print(format_table(figures(cases)))
    for case in cases:
        if case.missed:
            print(f"  {case.host}: ScraperSky misses {sorted(case.missed)[:5]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
