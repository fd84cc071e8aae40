"""HTML to domain metadata: pure functions, no Scrapy imports."""

from scrapersky.metadata.charset import decode_html
from scrapersky.metadata.extract import extract_metadata, extract_page_summary

__all__ = ["decode_html", "extract_metadata", "extract_page_summary"]
