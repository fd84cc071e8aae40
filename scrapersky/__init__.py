"""ScraperSky: every sitemap a site publishes, every URL listed, the homepage's metadata, in SQL."""

__version__ = "1.1.0"
