"""Scrapy settings for ScraperSky.

Every ScraperSky setting, and each Scrapy setting an operator may give through the environment,
is declared once in scrapersky/config/specs.py (kind, default, bounds, what it does: the table
of docs/configuration.md is printed from there). Its value here is the environment variable of
the same name, or the declared default; `-s NAME=VALUE` on the command line wins over both. This
module is the one place the environment is read for settings: everything else reads Scrapy
settings (see scrapersky.config). Values are checked by scrapersky.config.check_settings before
a command runs, so a bad one is a one-line error. Scrapy's own tuning values are set below as
in any Scrapy project.
"""

import os

# Imported first, while the stack is short: at import this Scrapy module calls inspect.stack()
# three times (for deprecation shims), which looks up the module of every frame; under the
# spider loader's imports that cost 50 ms of every crawl process's start.
import scrapy.core.downloader.contextfactory  # noqa: F401
from scrapy.settings import default_settings

# The declarations as a module: Scrapy would take an upper-case name imported here for a setting.
from scrapersky import __version__
from scrapersky.config import ConfigError, to_bool
from scrapersky.config import specs as setting_specs


def from_environment(setting: setting_specs.Setting) -> setting_specs.Value | None:
    """The environment's value, or the declared default; a number or switch that does not
    parse is kept as given, for check_settings to report in one line."""
    value = os.environ.get(setting.name)
    if value is None:
        return setting.default
    if setting.kind == "int":
        try:
            return int(value.strip())
        except ValueError:
            return value
    if setting.kind == "bool":
        try:
            return to_bool(value, setting.name)
        except ConfigError:
            return value
    return value


BOT_NAME = "scrapersky"
SPIDER_MODULES = ["scrapersky.spiders"]
NEWSPIDER_MODULE = "scrapersky.spiders"
COMMANDS_MODULE = "scrapersky.commands"

# --- ScraperSky, and what the environment may set: scrapersky/config/specs.py ------------
declared = {s.name: from_environment(s) for s in setting_specs.SETTINGS if s.env}
globals().update(declared)

# --- Politeness -------------------------------------------------------------------------
USER_AGENT = f"ScraperSky/{__version__} (+{declared['SCRAPERSKY_CONTACT_URL']})"
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 10.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
CONCURRENT_REQUESTS = 64
CONCURRENT_REQUESTS_PER_DOMAIN = 8
# Scrapy's downloader, with CONCURRENT_REQUESTS_PER_DOMAIN holding however busy the machine is
# (Scrapy 2.19's lets a slot's queue through at once: scrapersky/net/downloader.py).
DOWNLOADER = "scrapersky.net.downloader.Downloader"
# Items are chunks of thousands of rows: a few in flight keep memory bounded.
CONCURRENT_ITEMS = 8
DNS_TIMEOUT = 15
RETRY_TIMES = 1
# Verify certificates as browsers do: an invalid certificate is a failed fetch, not data.
DOWNLOAD_VERIFY_CERTIFICATES = True
REDIRECT_MAX_TIMES = 5
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
    "scrapersky.net.guard.PrivateNetworkGuard": 50,
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
        # Scrapy's, with `no_proxy` read once instead of at every request (scrapersky.net.proxy).
        "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": None,
        "scrapersky.net.proxy.CachedProxyMiddleware": 750,
    },
    # Spider middlewares that do nothing for a scan cost every request and item a layer of
    # async iteration: the scan bounds its own sitemap depth (SCRAPERSKY_SITEMAP_MAX_DEPTH) and
    # builds every request's meta itself (nothing copied from a response's meta to warn about).
    # The Referer middleware stays: Scrapy's redirect middlewares warn at every start without it.
    "SPIDER_MIDDLEWARES": {
        "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
        "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
    },
    "ITEM_PIPELINES": {
        "scrapersky.pipelines.NormalizePipeline": 100,
        "scrapersky.pipelines.StorePipeline": 300,
    },
    "EXTENSIONS": {
        # No webhook sender: a crawl never waits on a tenant's endpoint (the node's loop sends).
        "scrapersky.extensions.lifecycle.JobLifecycle": 100,
    },
    # Scrapy's memory stats, at a tenth of the cost a call (scrapersky/extensions/stats.py).
    "STATS_CLASS": "scrapersky.extensions.stats.StatsCollector",
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
