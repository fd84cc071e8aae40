"""Exceptions the spider shares with the downloader middlewares that raise them: here, not in
middlewares.py, because that module loads the reactor, which the spider must not import."""

from scrapy.exceptions import IgnoreRequest

from scrapersky.core.errors import Refused


class RobotsForbidden(IgnoreRequest, Refused):
    """The site's robots.txt disallows the request."""
