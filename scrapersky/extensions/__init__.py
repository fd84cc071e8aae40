"""What runs beside the work and tells of it: JobLifecycle (lifecycle.py), the Scrapy extension
that keeps a crawl's job and batch rows true, and the webhook sender (webhooks.py), which the
Scrapyd node's loop and `scrapy webhooks deliver` run to announce the endings it recorded; and
the crawl's stats collector (stats.py), Scrapy's own without a per-call deprecation shim.

`scrapersky.extensions.JobLifecycle` is kept as the name a crawl's settings may give.
"""

from scrapersky.extensions.lifecycle import JobLifecycle

__all__ = ["JobLifecycle"]
