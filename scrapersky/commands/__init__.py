"""Project commands: `scrapy batch`, `scrapy status`, `scrapy migrate`, and `scrapy crawl` with
argument checks and an exit code that tells whether every scan succeeded."""
