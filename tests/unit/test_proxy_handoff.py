"""Which agent a proxied download gets: the checked address handed to the proxy, or a refusal."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.core.downloader.handlers.http11 import _ScrapyProxyAgent, _TunnelingAgent
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.reactor import install_reactor, is_reactor_installed
from scrapy.utils.test import get_crawler

from scrapersky.net.handoff import ADDRESS, AddressedAgent
from scrapersky.net.policy import AddressPolicy

PROXY = "http://127.0.0.5:3128"


@pytest.fixture(scope="module")
def agent() -> AddressedAgent:
    if not is_reactor_installed():  # Scrapy's agents take the reactor; a crawl's is asyncio's
        install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from scrapy.core.downloader.contextfactory import _load_context_factory_from_settings

    crawler = get_crawler()
    return AddressedAgent(
        policy=AddressPolicy(),
        contextFactory=_load_context_factory_from_settings(crawler),
        crawler=crawler,
    )


@pytest.mark.parametrize(
    "url, scrapy_agent",
    [("http://site.test/a", _ScrapyProxyAgent), ("https://site.test/a", _TunnelingAgent)],
)
def test_a_proxied_request_carries_its_checked_address_to_the_proxy(agent, url, scrapy_agent):
    chosen = agent._get_agent(Request(url, meta={"proxy": PROXY, ADDRESS: "93.184.216.34"}), 10)
    assert isinstance(chosen, scrapy_agent) and type(chosen) is not scrapy_agent
    assert chosen.address == "93.184.216.34"


@pytest.mark.parametrize("url", ["http://site.test/a", "https://site.test/a"])
def test_a_proxied_request_without_an_allowed_checked_address_is_refused(agent, url):
    with pytest.raises(IgnoreRequest, match=r"refused: site\.test was not checked"):
        agent._get_agent(Request(url, meta={"proxy": PROXY}), 10)
    with pytest.raises(IgnoreRequest, match=r"refused: site\.test resolves to a loopback address"):
        agent._get_agent(Request(url, meta={"proxy": PROXY, ADDRESS: "127.0.0.1"}), 10)


def test_without_a_proxy_the_connection_resolves_through_the_guarded_resolver(agent):
    chosen = agent._get_agent(Request("http://site.test/a"), 10)
    assert not hasattr(chosen, "address")
