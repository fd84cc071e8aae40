"""Scrapy extensions of a crawl: JobLifecycle (lifecycle.py) keeps the job and batch rows true.

`scrapersky.extensions.JobLifecycle` is kept as the name a crawl's settings may give.
"""

from scrapersky.extensions.lifecycle import JobLifecycle

__all__ = ["JobLifecycle"]
