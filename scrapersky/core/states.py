"""The states of jobs, batches and webhook deliveries, and how a sitemap was found: the
strings the status columns hold. A neutral module: items, the spider, the pipelines and the
database layer all use these, and none of them has to import another for it."""

from __future__ import annotations

from enum import StrEnum


# Members are the strings the status columns hold, so rows, JSON and comparisons with what a
# row read back say stay the same.
class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    CANCELLED = "cancelled"


class BatchStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETE = "complete"
    PARTIAL = "partial"  # every job ended, some failed
    FAILED = "failed"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


class DiscoveryMethod(StrEnum):
    """How a sitemap was found (sitemap_files.discovery_method)."""

    ROBOTS_TXT = "robots_txt"
    WELL_KNOWN = "well_known"  # a guessed path
    SITEMAP_INDEX = "sitemap_index"
    HTML_LINK = "html_link"  # a <link rel="sitemap"> on the homepage
