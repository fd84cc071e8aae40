"""Exceptions shared by components that must not import each other (the spider and the
downloader middlewares, which load the reactor)."""

from scrapy.exceptions import IgnoreRequest

from scrapersky.core.errors import Refused


class RobotsForbidden(IgnoreRequest, Refused):
    """The site's robots.txt disallows the request."""
