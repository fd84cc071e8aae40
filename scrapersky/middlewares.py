"""Downloader middlewares: robots.txt rules (RobotsRulesMiddleware).

The private-network guard is in scrapersky.net.guard with the rest of the trust boundary; it is
imported here because `scrapersky.middlewares.PrivateNetworkGuard` is the path settings written
before the move give DOWNLOADER_MIDDLEWARES.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.exceptions import NotConfigured

from scrapersky.net.guard import PrivateNetworkGuard
from scrapersky.spiders.exceptions import RobotsForbidden

__all__ = ["PrivateNetworkGuard", "RobotsRulesMiddleware"]


class RobotsRulesMiddleware:
    """Obey the robots.txt the spider already read for the scan (ROBOTSTXT_OBEY).

    Request meta keys, in the manner of Scrapy's own:
    - `scrapersky_robots_rules`: the parsed robots.txt (`protego.Protego`) the request obeys; absent or
      None, nothing is checked (the site has no readable robots.txt).
    - `dont_obey_robotstxt`: skip the check, as with Scrapy's RobotsTxtMiddleware.
    """

    def __init__(self, user_agent: str, stats) -> None:
        self.user_agent = user_agent
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        return cls(crawler.settings.get("USER_AGENT"), crawler.stats)

    def process_request(self, request: Request):
        rules = request.meta.get("scrapersky_robots_rules")
        if request.meta.get("dont_obey_robotstxt") or rules is None:
            return None
        if not rules.can_fetch(request.url, self.user_agent):
            self.stats.inc_value("scrapersky/robots_forbidden")
            raise RobotsForbidden(f"forbidden by robots.txt: {request.url}")
        return None
