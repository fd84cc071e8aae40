"""The crawl's stats collector: Scrapy's MemoryStatsCollector, without the deprecation shim
Scrapy 2.19 puts on every attribute lookup.

Scrapy's StatsCollector.__getattribute__ looks for a cached wrapper under `_cached_<name>` at
every access (raising and catching an AttributeError for each miss, `self._stats` included), and
the wrapper then inspects the arguments for a `spider` it would warn about. Downloader stats,
core stats and the scheduler count every request several times: measured, 4.8 µs a call against
0.3 µs here (the collector had 1.4% of a batch pass's crawl samples). Nothing of ours passes
`spider` to a stats method, and the methods still accept it; a warning about it is all that is
lost.
"""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector


class StatsCollector(MemoryStatsCollector):
    __getattribute__ = object.__getattribute__
