"""The old dotted path of the /metrics service, kept for deployed scrapyd.conf files.

`metrics = scrapersky.metrics.Metrics` still mounts it; the service lives in
scrapersky/api/metrics.py, which the shipped confs name.
"""

from scrapersky.api.metrics import Metrics

__all__ = ["Metrics"]
