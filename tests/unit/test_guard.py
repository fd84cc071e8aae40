"""Which addresses the private-network guard refuses, and which networks an operator may allow."""

import ipaddress

import pytest

from scrapersky.net.policy import refused_reason


@pytest.mark.parametrize(
    "address, reason",
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("100.64.0.1", "non-public"),
        ("192.0.2.1", "private"),
        ("64:ff9b::7f00:1", "reserved"),
        ("2002:7f00:1::1", "loopback"),
        ("2002:a00:1::1", "private"),
    ],
)
def test_non_public_addresses_are_refused(address, reason):
    assert refused_reason(address) == reason


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34"]
)
def test_public_addresses_pass(address):
    assert refused_reason(address) is None


def test_allowed_networks_are_the_only_exceptions():
    from scrapersky.net.policy import AddressPolicy, AddressRefused

    policy = AddressPolicy.from_text(["127.0.0.2/32", " fd00::/8 ", ""], allow_dangerous=True)
    assert policy.reason("127.0.0.2") is None and policy.reason("::ffff:127.0.0.2") is None
    assert policy.reason("fd00::7") is None
    assert policy.reason("127.0.0.1") == "loopback" and policy.reason("10.0.0.1") == "private"
    with pytest.raises(
        AddressRefused, match=r"refused: evil\.test resolves to a loopback address \(127\.0\.0\.3\)"
    ):
        policy.check("evil.test", "127.0.0.3")
    with pytest.raises(AddressRefused, match=r"refused: \[::1\] is a loopback address"):
        policy.check("[::1]", "::1")
    with pytest.raises(ValueError):
        AddressPolicy.from_text(["not-a-network"])


def test_policy_from_settings_is_off_only_when_private_networks_are_allowed():
    from scrapy.settings import Settings

    from scrapersky.net.policy import policy_from_settings

    assert policy_from_settings(Settings({"SCRAPERSKY_ALLOW_PRIVATE_NETWORKS": True})) is None
    policy = policy_from_settings(
        Settings(
            {
                "SCRAPERSKY_ALLOW_PRIVATE_NETWORKS": False,
                "SCRAPERSKY_ALLOWED_NETWORKS": "10.1.2.0/24",
            }
        )
    )
    assert (
        policy is not None
        and policy.reason("10.1.2.3") is None
        and policy.reason("10.1.3.1") == "private"
    )


@pytest.mark.parametrize(
    "text, error",
    [
        ("10.1.2.3/8", "'10.1.2.3/8' has host bits set (the network is 10.0.0.0/8)"),
        ("fd00::1/8", "'fd00::1/8' has host bits set (the network is fd00::/8)"),
        ("10.0.0.0/33", "'10.0.0.0/33' is not a network like 10.1.2.0/24"),
        ("intranet", "'intranet' is not a network like 10.1.2.0/24"),
    ],
)
def test_allowed_networks_are_parsed_strictly_even_when_forced(text, error):
    from scrapersky.net.policy import DangerousNetwork, parse_network

    for forced in (False, True):
        with pytest.raises(ValueError) as raised:
            parse_network(text, allow_dangerous=forced)
        assert str(raised.value) == error and not isinstance(raised.value, DangerousNetwork)


@pytest.mark.parametrize(
    "text, error",
    [
        ("127.0.0.2/32", "contains loopback addresses (127.0.0.0/8)"),
        ("0.0.0.0/0", "contains loopback addresses (127.0.0.0/8)"),
        ("64.0.0.0/2", "contains loopback addresses (127.0.0.0/8)"),
        ("169.254.169.254/32", "contains link-local addresses (169.254.0.0/16)"),
        ("0.0.0.0/32", "contains unspecified addresses (0.0.0.0/8)"),
        ("::1/128", "contains loopback addresses (::1/128)"),
        ("::/0", "contains loopback addresses (::1/128)"),
        ("fe80::/64", "contains link-local addresses (fe80::/10)"),
        ("::/128", "contains unspecified addresses (::/128)"),
        ("::ffff:127.0.0.1/128", "contains loopback addresses (::ffff:7f00:0/104)"),
        ("64:ff9b::a9fe:a9fe/128", "contains link-local addresses (64:ff9b::a9fe:0/112)"),
        ("2002:7f00:1::/48", "contains loopback addresses (2002:7f00::/24)"),
        ("192.0.0.0/3", "is wider than /8"),
        ("fc00::/7", "is wider than /8"),
    ],
)
def test_networks_that_open_the_machine_or_too_much_are_refused_unless_forced(text, error):
    from scrapersky.net.policy import DangerousNetwork, parse_network

    with pytest.raises(DangerousNetwork) as raised:
        parse_network(text)
    assert str(raised.value) == f"{text!r} {error}"
    assert parse_network(text, allow_dangerous=True) == ipaddress.ip_network(text)


@pytest.mark.parametrize(
    "text",
    ["10.0.0.0/8", "10.1.2.0/24", "192.168.7.7/32", "10.0.0.7", "fd00::/8", "fd12:3456::/48"],
)
def test_intranet_networks_are_accepted(text):
    from scrapersky.net.policy import parse_network

    assert parse_network(text).num_addresses >= 1


def test_the_force_setting_reaches_the_crawls_policy():
    from scrapy.settings import Settings

    from scrapersky.net.policy import DangerousNetwork, policy_from_settings

    settings = {
        "SCRAPERSKY_ALLOW_PRIVATE_NETWORKS": False,
        "SCRAPERSKY_ALLOWED_NETWORKS": "127.0.0.2/32",
    }
    with pytest.raises(DangerousNetwork):
        policy_from_settings(Settings(settings))
    policy = policy_from_settings(
        Settings({**settings, "SCRAPERSKY_ALLOW_DANGEROUS_NETWORKS": "true"})
    )
    assert policy is not None and policy.reason("127.0.0.2") is None
    assert policy.reason("127.0.0.1") == "loopback"
