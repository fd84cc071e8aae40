"""Which addresses the private-network guard refuses."""

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

    policy = AddressPolicy.from_text(["127.0.0.2/32", " fd00::/8 ", ""])
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
