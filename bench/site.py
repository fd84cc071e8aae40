"""The benchmark site on disk, and the fixture web that serves it.

One site of `urls` listed pages: robots.txt → sitemap index → `files` urlsets of
equal size, every second one gzipped, every URL with lastmod, changefreq and
priority (distinct timestamps, as a CMS writes them). With `per_index`, the index
lists indexes of `per_index` urlsets each instead (an index of indexes, as the
largest sites publish). Built once per size under bench/out/ and reused while
its manifest matches.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import OUT, run_dir

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
LAYOUT_VERSION = 1  # bump when the generated content changes
CHANGEFREQS = ("daily", "weekly", "monthly", "weekly", "yearly")
PRIORITIES = ("1.0", "0.8", "0.6", "0.5", "0.3")
EPOCH = datetime(2023, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class BenchSite:
    host: str
    root: Path  # served directory: root/<host>/...
    urls: int
    sitemap_paths: tuple[Path, ...]  # the urlset files, in index order

    @property
    def site_dir(self) -> Path:
        return self.root / self.host

    def page_url(self, index: int) -> str:
        return page_url(self.host, index)


def host_for(urls: int, files: int) -> str:
    return f"bench{urls}x{files}.test"


def page_url(host: str, index: int) -> str:
    return f"https://{host}/catalog/c{index % 97:02d}/item-{index:07d}.html"


def page_lastmod(index: int) -> str:
    # Spread over two years with distinct seconds, so no cache sees the same string twice.
    moment = EPOCH + timedelta(seconds=(index * 7919) % (2 * 365 * 86400))
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def build_site(
    urls: int, files: int = 20, per_index: int | None = None, out: Path = OUT
) -> BenchSite:
    """The site of `urls` pages in `files` urlsets, built unless a matching copy is cached."""
    if urls % files or (per_index and files % per_index):
        raise ValueError(f"{urls} URLs do not split evenly into {files} sitemaps")
    host = host_for(urls, files)
    root = out / "sites" / host
    names = [f"sitemap-{n:02d}.xml" + (".gz" if n % 2 == 0 else "") for n in range(1, files + 1)]
    site = BenchSite(host, root, urls, tuple(root / host / "sitemaps" / name for name in names))
    layout = {"version": LAYOUT_VERSION, "urls": urls, "files": files, "names": names}
    manifest = json.dumps({**layout, "per_index": per_index} if per_index else layout)
    manifest_path = root / "manifest.json"
    if manifest_path.is_file() and manifest_path.read_text() == manifest:
        return site
    # Built aside and renamed into place, so a concurrent run never serves a half-written site.
    building = root.with_name(f"{host}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    _write_site(building / host, host, names, urls // files, per_index)
    (building / "manifest.json").write_text(manifest)
    shutil.rmtree(root, ignore_errors=True)
    try:
        building.rename(root)
    except OSError:  # another run put its identical copy in place first
        shutil.rmtree(building, ignore_errors=True)
    return site


def _write_site(
    site_dir: Path, host: str, names: list[str], per_file: int, per_index: int | None
) -> None:
    (site_dir / "sitemaps").mkdir(parents=True)
    for number, name in enumerate(names):
        body = urlset_body(host, range(number * per_file, (number + 1) * per_file))
        path = site_dir / "sitemaps" / name
        path.write_bytes(
            gzip.compress(body, compresslevel=6, mtime=0) if name.endswith(".gz") else body
        )
    base = f"http://{host}"
    locations = [f"{base}/sitemaps/{name}" for name in names]
    if per_index:
        groups = [locations[i : i + per_index] for i in range(0, len(locations), per_index)]
        locations = []
        for number, group in enumerate(groups, 1):
            name = f"sitemaps/index-{number:02d}.xml"
            (site_dir / name).write_text(_index_body(group))
            locations.append(f"{base}/{name}")
    (site_dir / "sitemap_index.xml").write_text(_index_body(locations))
    (site_dir / "robots.txt").write_text(
        f"User-agent: *\nDisallow: /cart\n\nSitemap: {base}/sitemap_index.xml\n"
    )
    (site_dir / "index.html").write_text(_homepage(host))


# The churned site: in every sitemap, 1 URL in CHURN_EVERY is removed, 1 gets a new lastmod, and
# as many new URLs are added (2%, 2% and 2%).
CHURN_EVERY = 50
CHURN_LASTMOD = "2025-06-01T12:00:00+00:00"


def churned(index: int) -> str:
    """What the churned site does with a URL of the base site: "removed", "relisted" or "kept"."""
    return {0: "removed", 1: "relisted"}.get(index % CHURN_EVERY, "kept")


def build_churned_site(site: BenchSite, out: Path = OUT) -> BenchSite:
    """The same host and sitemaps as `site`, with the churn above; built unless cached."""
    root = out / "sites" / f"{site.host}-churn"
    names = [path.name for path in site.sitemap_paths]
    churn = BenchSite(
        site.host, root, site.urls, tuple(root / site.host / "sitemaps" / name for name in names)
    )
    manifest = json.dumps(
        {"version": LAYOUT_VERSION, "urls": site.urls, "names": names, "every": CHURN_EVERY}
    )
    if (root / "manifest.json").is_file() and (root / "manifest.json").read_text() == manifest:
        return churn
    building = root.with_name(f"{root.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    shutil.copytree(site.site_dir, building / site.host, ignore=shutil.ignore_patterns("sitemaps"))
    (building / site.host / "sitemaps").mkdir()
    per_file = site.urls // len(names)
    for number, name in enumerate(names):
        kept = [
            i for i in range(number * per_file, (number + 1) * per_file) if churned(i) != "removed"
        ]
        added = range(
            site.urls + number * (per_file // CHURN_EVERY),
            site.urls + (number + 1) * (per_file // CHURN_EVERY),
        )
        body = urlset_body(
            site.host,
            [*kept, *added],
            relisted=lambda i: i < site.urls and churned(i) == "relisted",
        )
        path = building / site.host / "sitemaps" / name
        path.write_bytes(
            gzip.compress(body, compresslevel=6, mtime=0) if name.endswith(".gz") else body
        )
    (building / "manifest.json").write_text(manifest)
    shutil.rmtree(root, ignore_errors=True)
    try:
        building.rename(root)
    except OSError:
        shutil.rmtree(building, ignore_errors=True)
    return churn


def urlset_body(host: str, indexes, relisted=lambda i: False) -> bytes:
    """A urlset listing page_url(host, i) for every i, each with lastmod, changefreq and priority."""
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{NAMESPACE}">\n']
    for i in indexes:
        lastmod = CHURN_LASTMOD if relisted(i) else page_lastmod(i)
        parts.append(
            f"  <url>\n    <loc>{page_url(host, i)}</loc>\n    <lastmod>{lastmod}</lastmod>\n"
            f"    <changefreq>{CHANGEFREQS[i % 5]}</changefreq>\n    <priority>{PRIORITIES[i % 5]}</priority>\n"
            "  </url>\n"
        )
    parts.append("</urlset>\n")
    return "".join(parts).encode()


def _index_body(locations: list[str]) -> str:
    entries = "".join(
        f"  <sitemap>\n    <loc>{location}</loc>\n    <lastmod>2024-06-01T00:00:00+00:00</lastmod>\n"
        "  </sitemap>\n"
        for location in locations
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{NAMESPACE}">\n{entries}</sitemapindex>\n'


def _homepage(host: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Bench Catalog – a large store</title>
<meta name="description" content="A catalog with many pages, used to measure sitemap inventory.">
<link rel="canonical" href="http://{host}/"></head>
<body><h1>Catalog</h1><p>Write to <a href="mailto:shop@{host}">shop@{host}</a>.</p></body></html>
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve root/<host>/... from a separate fixture web process; yields its proxy URL.

    A process of its own, so serving never competes with the measured code for the GIL.
    """
    port = free_port()
    # No proxy, and no coverage when a test runs the bench: the server runs no project code.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy") and k != "COVERAGE_PROCESS_START"
    }
    env["PYTHONPATH"] = str(ROOT)
    log = run_dir() / "fixture_web.log"
    with open(log, "w") as errors:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.fixture_web",
                "--port",
                str(port),
                "--directory",
                str(root),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith("proxy: "):
            process.kill()
            raise RuntimeError(f"fixture web did not start: {line.strip()} (see {log})")
        _wait_for_port(port)
        yield line.split(": ", 1)[1].strip()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
