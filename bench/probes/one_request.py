"""A spider that asks for one URL (`-a url=…`): run with `scrapy runspider` outside any project,
it shows how long Scrapy alone takes to reach a first request (bench.startup's anchor)."""

from __future__ import annotations

import scrapy


class OneRequest(scrapy.Spider):
    name = "one_request"

    async def start(self):
        yield scrapy.Request(self.url)

    def parse(self, response):
        return None
