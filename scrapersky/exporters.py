"""Feed exporters that write one line per listed URL and per domain, as a Scrapy user expects,
whatever chunking the spider uses to carry URLs cheaply."""

from __future__ import annotations

from typing import Any

from scrapy import exporters

from scrapersky.core.spreadsheet import formula_safe
from scrapersky.db.models import LISTING_COLUMNS
from scrapersky.items import DomainItem, PageBatchItem, PageItem, SitemapFileItem
from scrapersky.sitemaps import PageEntry


def feed_rows(item: Any):
    if isinstance(item, PageBatchItem):
        for entry in item.pages:
            yield {
                "type": "page",
                "domain": item.domain,
                "sitemap_url": item.sitemap_url,
                **page_fields(entry),
            }
    elif isinstance(item, DomainItem):
        metadata = {k: v for k, v in item.metadata.items() if k not in {"structured_data", "scan"}}
        yield {
            "type": "domain",
            "domain": item.domain,
            "tenant_id": item.tenant_id,
            "status": item.status,
            "sitemap_urls": item.sitemap_urls,
            "total_sitemaps": item.total_sitemaps,
            "last_error": item.last_error,
            **metadata,
        }
    elif isinstance(item, (SitemapFileItem, PageItem)):
        return  # bookkeeping of files and fetches: stored, not a listed URL
    else:
        yield item


def page_fields(entry: PageEntry) -> dict[str, Any]:
    return {
        "url": entry.url,
        "lastmod": entry.lastmod,
        "changefreq": entry.changefreq,
        "priority": entry.priority,
        "alternates": entry.alternates or None,
        "images": entry.images or None,
        "news": entry.news,
        "videos": entry.videos or None,
    }


class _Expanding:
    def export_item(self, item: Any) -> None:
        for row in feed_rows(item):
            super().export_item(row)


class JsonItemExporter(_Expanding, exporters.JsonItemExporter):
    pass


class JsonLinesItemExporter(_Expanding, exporters.JsonLinesItemExporter):
    pass


# CSV needs one header for both kinds of line.
CSV_FIELDS = [
    "type",
    "domain",
    "url",
    "sitemap_url",
    *LISTING_COLUMNS,
    "status",
    "title",
    "description",
    "language",
    "sitemap_urls",
    "total_sitemaps",
    "email_addresses",
    "phone_numbers",
    "last_error",
]


class FormulaSafeCsvItemExporter(exporters.CsvItemExporter):
    """Scrapy's CSV exporter, every cell made safe to open in a spreadsheet
    (scrapersky.core.spreadsheet): a site's text must not become a live formula."""

    def serialize_field(self, field: Any, name: str, value: Any) -> Any:
        return formula_safe(super().serialize_field(field, name, value))


class CsvItemExporter(_Expanding, FormulaSafeCsvItemExporter):
    def __init__(self, file, **kwargs):
        kwargs["fields_to_export"] = kwargs.get("fields_to_export") or CSV_FIELDS
        super().__init__(file, **kwargs)


class XmlItemExporter(_Expanding, exporters.XmlItemExporter):
    pass
