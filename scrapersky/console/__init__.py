"""The old dotted path of the /console/ service, kept for deployed scrapyd.conf files.

`console = scrapersky.console.Console` still mounts it; the console and its static files live in
scrapersky/api/console/, which the shipped confs name.
"""

from scrapersky.api.console import Console

__all__ = ["Console"]
