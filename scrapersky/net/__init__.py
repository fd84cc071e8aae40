"""The crawler's network trust boundary: which addresses a scan may connect to, for Scrapy's
downloads and for Chromium's, and the caps on what a hostile server can make it hold."""
