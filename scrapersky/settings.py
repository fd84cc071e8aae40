"""Scrapy settings for ScraperSky.

Every ScraperSky setting below may also be given as an environment variable of the same
name; `-s NAME=VALUE` on the command line wins over both. This module is the one place the
environment is read for settings: everything else reads Scrapy settings (see scrapersky.config).
Values are checked by scrapersky.config.check_settings before a command runs, so a bad one is a
one-line error.
"""

import os

from scrapy.settings import default_settings

from scrapersky import __version__
from scrapersky.config import ConfigError, to_bool


def env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int | str:
    """An integer from the environment; an unparsable value is kept for check_settings to report."""
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value.strip())
    except ValueError:
        return value


def env_bool(name: str, default: bool) -> bool | str:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return to_bool(value, name)
    except ConfigError:
        return value


BOT_NAME = "scrapersky"
SPIDER_MODULES = ["scrapersky.spiders"]
NEWSPIDER_MODULE = "scrapersky.spiders"
COMMANDS_MODULE = "scrapersky.commands"

# --- ScraperSky -------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", "sqlite:///scrapersky.db")
SCRAPERSKY_DEFAULT_TENANT = env("SCRAPERSKY_DEFAULT_TENANT", "550e8400-e29b-41d4-a716-446655440000")
SCRAPERSKY_SCHEMES = env("SCRAPERSKY_SCHEMES", "https,http")
SCRAPERSKY_ALLOW_PRIVATE_NETWORKS = env_bool("SCRAPERSKY_ALLOW_PRIVATE_NETWORKS", False)
# Exceptions to the address policy, in CIDR notation (an intranet you mean to scan): "10.1.2.0/24,fd00::/8".
SCRAPERSKY_ALLOWED_NETWORKS = env("SCRAPERSKY_ALLOWED_NETWORKS", "")
# Accept allowed networks that touch loopback, link-local or 0.0.0.0, or wider than /8: off by default.
SCRAPERSKY_ALLOW_DANGEROUS_NETWORKS = env_bool("SCRAPERSKY_ALLOW_DANGEROUS_NETWORKS", False)
SCRAPERSKY_CHROMIUM = env("SCRAPERSKY_CHROMIUM", "")  # empty: look for chromium on PATH
# Render even where Chromium cannot be isolated (no network or user namespaces): without its own
# network and without its sandbox. Off: such a machine renders nothing, and says why.
SCRAPERSKY_RENDER_UNISOLATED = env_bool("SCRAPERSKY_RENDER_UNISOLATED", False)
SCRAPERSKY_STALE_AFTER = env_int("SCRAPERSKY_STALE_AFTER", 300)
SCRAPERSKY_MAX_ATTEMPTS = env_int("SCRAPERSKY_MAX_ATTEMPTS", 3)
SCRAPERSKY_CONTACT_URL = env("SCRAPERSKY_CONTACT_URL", "https://github.com/scrapersky/scrapersky")
# How many domains one run scans at the same time.
SCRAPERSKY_CONCURRENT_SCANS = env_int("SCRAPERSKY_CONCURRENT_SCANS", 16)
# Sitemap index recursion depth (robots.txt → index → index → ... → urlset).
SCRAPERSKY_SITEMAP_MAX_DEPTH = env_int("SCRAPERSKY_SITEMAP_MAX_DEPTH", 5)
# Declared sitemaps of one scan downloading at once (the rest wait their turn, not in memory).
SCRAPERSKY_SITEMAPS_IN_FLIGHT = env_int("SCRAPERSKY_SITEMAPS_IN_FLIGHT", 2)
# Cap on a sitemap's decompressed size: a gzip bomb stops here.
SCRAPERSKY_SITEMAP_MAX_BYTES = env_int("SCRAPERSKY_SITEMAP_MAX_BYTES", 100 * 1024 * 1024)
# Sitemaps one scan reads at most (an index lists at most 50,000): a fan-out of indexes stops here.
SCRAPERSKY_MAX_SITEMAPS = env_int("SCRAPERSKY_MAX_SITEMAPS", 50000)
# Response header caps per download (size of the whole header section, and lines).
SCRAPERSKY_MAX_HEADER_BYTES = env_int("SCRAPERSKY_MAX_HEADER_BYTES", 64 * 1024)
SCRAPERSKY_MAX_HEADERS = env_int("SCRAPERSKY_MAX_HEADERS", 256)
# Listed URLs travel through Scrapy in chunks of this many, never one item each.
SCRAPERSKY_PAGE_CHUNK = env_int("SCRAPERSKY_PAGE_CHUNK", 2000)
# Page rows buffered by the store pipeline before a bulk write.
SCRAPERSKY_STORE_BUFFER = env_int("SCRAPERSKY_STORE_BUFFER", 50000)
SCRAPERSKY_STORE_RETRIES = env_int("SCRAPERSKY_STORE_RETRIES", 8)
# Seconds before a failed webhook delivery is tried again; each retry waits three times longer.
SCRAPERSKY_WEBHOOK_RETRY_BASE = env_int("SCRAPERSKY_WEBHOOK_RETRY_BASE", 10)
# Seconds one webhook call may take in all: DNS, connect, TLS, request and the whole answer.
SCRAPERSKY_WEBHOOK_DEADLINE = env_int("SCRAPERSKY_WEBHOOK_DEADLINE", 10)
# Bytes of a webhook receiver's answer read at most (status line, headers and body).
SCRAPERSKY_WEBHOOK_MAX_RESPONSE_BYTES = env_int("SCRAPERSKY_WEBHOOK_MAX_RESPONSE_BYTES", 64 * 1024)
# Plain-http webhook endpoints everywhere (tests, development); off: https only, except to
# SCRAPERSKY_ALLOWED_NETWORKS.
SCRAPERSKY_WEBHOOK_ALLOW_HTTP = env_bool("SCRAPERSKY_WEBHOOK_ALLOW_HTTP", False)
# A job handed to a run (scan.json) that is still pending after this many seconds is failed.
SCRAPERSKY_PENDING_AFTER = env_int("SCRAPERSKY_PENDING_AFTER", 1800)
# Origins whose pages may call the HTTP API from a browser; empty: none.
SCRAPERSKY_CORS_ORIGINS = env("SCRAPERSKY_CORS_ORIGINS", "")
# Largest request body a Scrapyd node accepts for addversion.json (the project egg), from its operator.
SCRAPERSKY_MAX_REQUEST_BYTES = env_int("SCRAPERSKY_MAX_REQUEST_BYTES", 16 * 1024 * 1024)
# Largest request body of every other endpoint (domain lists, JSON bodies).
SCRAPERSKY_MAX_API_REQUEST_BYTES = env_int("SCRAPERSKY_MAX_API_REQUEST_BYTES", 1024 * 1024)
# Host names a node answers to besides IP literals, localhost and its own name (DNS rebinding).
SCRAPERSKY_ALLOWED_HOSTS = env("SCRAPERSKY_ALLOWED_HOSTS", "")
# What one HTTP API request may ask for: domains per batch, runs per node, retries of a batch.
SCRAPERSKY_MAX_BATCH_DOMAINS = env_int("SCRAPERSKY_MAX_BATCH_DOMAINS", 10000)
SCRAPERSKY_MAX_BATCH_SLOTS = env_int("SCRAPERSKY_MAX_BATCH_SLOTS", 4)
SCRAPERSKY_MAX_RETRIES = env_int("SCRAPERSKY_MAX_RETRIES", 3)
# Empty: `scrapy batch` uses the node on this machine, and a node's webservices run scans itself.
SCRAPYD_URLS = env("SCRAPYD_URLS", "")
SCRAPYD_USERNAME = env("SCRAPYD_USERNAME", "")
SCRAPYD_PASSWORD = env("SCRAPYD_PASSWORD", "")
# Where a node keeps the login it generates when those two are unset (default: in its dbs_dir).
SCRAPYD_PASSWORD_FILE = env("SCRAPYD_PASSWORD_FILE", "")

# --- Politeness -------------------------------------------------------------------------
ROBOTSTXT_OBEY = env_bool("ROBOTSTXT_OBEY", True)
USER_AGENT = f"ScraperSky/{__version__} (+{SCRAPERSKY_CONTACT_URL})"
AUTOTHROTTLE_ENABLED = env_bool("AUTOTHROTTLE_ENABLED", True)
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 10.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
CONCURRENT_REQUESTS = 64
CONCURRENT_REQUESTS_PER_DOMAIN = 8
# Without any delay, Scrapy 2.19's downloader on the asyncio reactor starts every queued request
# of a slot at once (it schedules each download as a task and counts it as transferring only when
# the task runs), so CONCURRENT_REQUESTS_PER_DOMAIN would not bind with AutoThrottle off. A delay
# of a millisecond lets each started download count before the next is considered.
DOWNLOAD_DELAY = 0.001
DOWNLOAD_TIMEOUT = env_int("DOWNLOAD_TIMEOUT", 30)
# Items are chunks of thousands of rows: a few in flight keep memory bounded.
CONCURRENT_ITEMS = 8
DNS_TIMEOUT = 15
RETRY_TIMES = 1
# Verify certificates as browsers do: an invalid certificate is a failed fetch, not data.
DOWNLOAD_VERIFY_CERTIFICATES = True
REDIRECT_MAX_TIMES = 5
# Compressed transfer cap; the decompressed cap is SCRAPERSKY_SITEMAP_MAX_BYTES.
DOWNLOAD_MAXSIZE = env_int("DOWNLOAD_MAXSIZE", 64 * 1024 * 1024)
DOWNLOAD_WARNSIZE = 0
# No listening ports of our own: a scan node exposes nothing but Scrapyd.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
# Nor are they loaded: Scrapy imports every extension named in its settings, even one set to None
# in EXTENSIONS, and the remote control brings aiohttp, a tenth of a second at every start.
EXTENSIONS_BASE = {
    path: order
    for path, order in default_settings.EXTENSIONS_BASE.items()
    if not path.endswith((".TelnetConsole", ".RemoteControl"))
}
LOG_LEVEL = env("LOG_LEVEL", "INFO")

# Names are resolved once, at connect time, and the answer checked (scrapersky.net.resolver).
TWISTED_DNS_RESOLVER = "scrapersky.net.resolver.GuardedResolver"
# http and https only, with bounded response headers; no file:, ftp:, s3: or data: fetches.
DOWNLOAD_HANDLERS = {
    "http": "scrapersky.net.download.GuardedDownloadHandler",
    "https": "scrapersky.net.download.GuardedDownloadHandler",
    "file": None,
    "ftp": None,
    "s3": None,
    "data": None,
}

# The address guard's middleware: IP literals, and where a rendered page ended up.
DOWNLOADER_MIDDLEWARES = {
    "scrapersky.middlewares.PrivateNetworkGuard": 50,
}
FEED_EXPORT_ENCODING = "utf-8"

# --- The sitemap spider's components ---------------------------------------------------
# Installed by the `sitemap` spider's custom_settings, so any other spider added to this
# project runs as Scrapy runs it: no job records, webhooks, store, rendering, robots.txt
# handling or feed exporters of ours. The address guard above (resolver, download handler,
# middleware) is not among them: Scrapy installs one resolver per process, from the project's
# settings, and no spider of this project may reach internal addresses
# (SCRAPERSKY_ALLOW_PRIVATE_NETWORKS switches the guard off). Lower case, so that Scrapy does
# not take the table itself for a setting.
sitemap_spider_settings = {
    "DOWNLOADER_MIDDLEWARES": {
        **DOWNLOADER_MIDDLEWARES,
        # robots.txt is fetched once by the spider (it is also where sitemaps are found) and
        # obeyed by RobotsRulesMiddleware, so Scrapy's own middleware would only fetch it twice.
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
        "scrapersky.middlewares.RobotsRulesMiddleware": 100,
    },
    "ITEM_PIPELINES": {
        "scrapersky.pipelines.NormalizePipeline": 100,
        "scrapersky.pipelines.StorePipeline": 300,
    },
    "EXTENSIONS": {
        # No webhook sender: a crawl never waits on a tenant's endpoint (the node's loop sends).
        "scrapersky.extensions.JobLifecycle": 100,
    },
    "ADDONS": {
        "scrapersky.rendering.RenderingAddon": 0,
    },
    "FEED_EXPORTERS": {
        "json": "scrapersky.exporters.JsonItemExporter",
        "jsonlines": "scrapersky.exporters.JsonLinesItemExporter",
        "jsonl": "scrapersky.exporters.JsonLinesItemExporter",
        "jl": "scrapersky.exporters.JsonLinesItemExporter",
        "csv": "scrapersky.exporters.CsvItemExporter",
        "xml": "scrapersky.exporters.XmlItemExporter",
    },
}
