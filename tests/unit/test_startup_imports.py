"""`scrapy crawl` imports only what a crawl uses: Scrapy imports every command module of the
project on each call, and every component its settings name, so none of them may pull in what only
another command, the HTTP API or the browser needs."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What Scrapy imports before a crawl's first request: the command modules (to list them), the
# spiders, and the components and download handlers the settings name.
CRAWL_IMPORTS = """
import json, sys
from scrapy.utils.misc import load_object, walk_modules_iter
from scrapy.utils.project import get_project_settings

settings = get_project_settings()
for package in ("scrapy.commands", "scrapersky.commands", "scrapersky.spiders"):
    list(walk_modules_iter(package))
from scrapersky.spiders.sitemap import SiteScanSpider

SiteScanSpider.update_settings(settings)  # the components are the spider's own
for name in ("EXTENSIONS", "DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "ITEM_PIPELINES"):
    for path in settings.getwithbase(name):
        load_object(path)
for path in settings.getdict("ADDONS"):
    load_object(path)
for path in settings.getwithbase("DOWNLOAD_HANDLERS").values():
    if path:
        load_object(path)
print(json.dumps(sorted(sys.modules)))
"""
NOT_FOR_A_CRAWL = {
    "rich",  # the tables and progress bars of status, batch, changes, webhooks
    "aiohttp",  # Scrapy's remote control, which is off
    "alembic",  # `scrapy migrate`
    "mako",
    "pygments",
    "playwright",  # a rendered page, loaded when the first one is asked for
    "scrapy_playwright",
    "extruct",  # a homepage's microdata and RDFa, read after it is fetched
    "prometheus_client",  # the node's metrics webservice
    "scrapyd",
}
NOT_FOR_A_CRAWL_PACKAGES = ("scrapersky.api",)


def test_a_crawl_does_not_import_what_other_commands_and_services_use():
    done = subprocess.run(
        [sys.executable, "-c", CRAWL_IMPORTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(json.loads(done.stdout))
    assert "scrapersky.spiders.sitemap" in loaded and "scrapersky.commands.status" in loaded
    assert not NOT_FOR_A_CRAWL & {name.split(".")[0] for name in loaded}
    assert not [name for name in loaded if name.startswith(NOT_FOR_A_CRAWL_PACKAGES)]


def test_the_project_commands_are_the_command_modules_only():
    # Scrapy takes every ScrapyCommand subclass defined in a module of COMMANDS_MODULE for a
    # command named after the module: commands/base.py's ProjectCommand must not be `scrapy base`.
    from scrapy.cmdline import _get_commands_from_module

    commands = _get_commands_from_module("scrapersky.commands", inproject=True)
    assert sorted(commands) == [
        "batch",
        "cancel",
        "changes",
        "crawl",
        "keys",
        "migrate",
        "retry",
        "status",
        "webhooks",
    ]
