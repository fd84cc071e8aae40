import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrapersky.core.domains import InvalidDomain, standardize_domain

VALID = [
    ("example.com", "example.com"),
    ("Example.COM", "example.com"),
    ("  example.com  ", "example.com"),
    ("\texample.com\n", "example.com"),
    ("www.example.com", "example.com"),
    ("WWW.Example.Com", "example.com"),
    ("www.www.example.com", "example.com"),
    ("www2.example.com", "www2.example.com"),
    ("wwwexample.com", "wwwexample.com"),
    ("https://www.example.com/path?q", "example.com"),
    ("http://example.com", "example.com"),
    ("HTTPS://EXAMPLE.COM/", "example.com"),
    ("http://example.com#top", "example.com"),
    ("http://example.com?x=1", "example.com"),
    ("//example.com/a", "example.com"),
    ("example.com/some/path", "example.com"),
    ("example.com:8080", "example.com"),
    ("example.com:8080/path", "example.com"),
    ("https://example.com:443/x", "example.com"),
    ("http://user:secret@www.example.com/", "example.com"),
    ("example.com.", "example.com"),
    ("example.com/redirect?to=http://other.org", "example.com"),
    ("shop1.test", "shop1.test"),
    ("a.io", "a.io"),
    ("sub.domain.example.co.uk", "sub.domain.example.co.uk"),
    ("my-site.example", "my-site.example"),
    ("123.example.com", "123.example.com"),
    ("r3---sn-abc.googlevideo.com", "r3---sn-abc.googlevideo.com"),
    ("bücher.de", "xn--bcher-kva.de"),
    ("BÜCHER.DE", "xn--bcher-kva.de"),
    ("https://www.bücher.de/katalog", "xn--bcher-kva.de"),
    ("xn--bcher-kva.de", "xn--bcher-kva.de"),
    ("XN--BCHER-KVA.DE", "xn--bcher-kva.de"),
    ("faß.de", "xn--fa-hia.de"),
    ("例え.jp", "xn--r8jz45g.jp"),
    ("ｗｗｗ．Ｅｘａｍｐｌｅ。ｃｏｍ", "example.com"),
    ("😀.ws", "xn--e28h.ws"),
    ("a" * 63 + ".com", "a" * 63 + ".com"),
    (".".join(["a" * 49] * 5) + ".com", ".".join(["a" * 49] * 5) + ".com"),
]

INVALID = [
    ("", "empty"),
    ("   ", "empty"),
    ("user@example.com", "email"),
    ("mailto:user@example.com", "email"),
    ("localhost", "two labels"),
    ("intranet", "two labels"),
    ("localhost:8080", "two labels"),
    ("www.com", "www"),
    ("127.0.0.1", "IP address"),
    ("http://127.0.0.1:8080/", "IP address"),
    ("2130706433", "IP address"),
    ("0x7f000001", "IP address"),
    ("0x7f.0.0.1", "IP address"),
    ("0177.0.0.1", "IP address"),
    ("127.1", "IP address"),
    ("１２７．０．０．１", "IP address"),
    ("::1", "IP address"),
    ("[::1]", "IP address"),
    ("http://[2001:db8::1]:80/", "IP address"),
    ("2001:db8::1", "IP address"),
    ("example.123", "numeric"),
    ("ftp://example.com", "scheme"),
    ("javascript:alert(1)", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("data:text/html,hi", "scheme"),
    ("http:example.com", "malformed"),
    ("http://", "no host"),
    ("https:///path", "no host"),
    (":8080", "no host"),
    ("a" * 64 + ".com", "longer than 63"),
    (".".join(["a" * 63] * 4) + ".com", "longer than 253"),
    ("x" * 2001, "longer than 2000"),
    ("exa mple.com", "spaces"),
    ("example.com\u00a0.org", "spaces"),
    ("exa\x00mple.com", "control"),
    ("exa\x7fmple.com", "control"),
    ("ex_ample.com", "invalid character"),
    ("exa%6dple.com", "invalid character"),
    ("exa!mple.com", "invalid character"),
    ("-example.com", "hyphen"),
    ("example-.com", "hyphen"),
    ("example.-com", "hyphen"),
    ("example..com", "empty label"),
    (".example.com", "empty label"),
    ("example.com..", "empty label"),
    ("xn--zz.de", "punycode"),
    ("xn--bcher-kva9.de", "punycode"),
    ("xn--abc-.com", "hyphen"),
    ("example.com:99999", "port"),
    ("example.com:80a", "scheme"),
    ("ex\u2028ample.com", "spaces"),
    ("\U000f0000.com", "internationalized"),
]


@pytest.mark.parametrize(("raw", "expected"), VALID)
def test_valid_domains_are_standardized(raw: str, expected: str) -> None:
    assert standardize_domain(raw) == expected


@pytest.mark.parametrize(("raw", "reason"), INVALID)
def test_invalid_domains_are_rejected_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidDomain) as caught:
        standardize_domain(raw)
    message = str(caught.value)
    assert reason.lower() in message.lower()
    assert message.startswith("invalid domain ")
    assert "\n" not in message
    assert len(message) < 300


def test_invalid_domain_is_a_value_error_with_parts() -> None:
    with pytest.raises(ValueError) as caught:
        standardize_domain("foo bar")
    assert isinstance(caught.value, InvalidDomain)
    assert str(caught.value) == "invalid domain 'foo bar': contains spaces"
    assert caught.value.raw == "foo bar"
    assert caught.value.reason == "contains spaces"


def test_non_text_is_rejected() -> None:
    with pytest.raises(InvalidDomain, match="expected text"):
        standardize_domain(b"example.com")  # type: ignore[arg-type]


def test_overlong_input_is_rejected_before_any_parsing() -> None:
    # Over the limit even though the domain part alone would be fine.
    with pytest.raises(InvalidDomain, match="longer than 2000"):
        standardize_domain("example.com/" + "a" * 2000)
    assert standardize_domain("example.com/" + "a" * 1900) == "example.com"


def _check_result(text: str) -> None:
    try:
        result = standardize_domain(text)
    except InvalidDomain:
        return
    assert result.isascii()
    assert result == result.lower()
    assert not result.startswith("www.")
    assert not any(char in result for char in ":/@ ")
    assert standardize_domain(result) == result


FRAGMENTS = st.sampled_from(
    [
        *list("abcxyzW019-._:/@?#[]%\\ \tüß。．ｗ١\u200b\xad́"),
        "www.",
        "http://",
        "https://",
        "ftp://",
        "xn--",
        "0x",
        "::",
        "😀",
        ".com",
        ":8080",
    ]
)
URLISH = st.from_regex(
    r"(https?://)?(www\.)?[a-z0-9\-à-ÿ]{1,10}(\.[a-z0-9\-ü]{1,8}){0,3}\.?(:\d{1,6})?(/.*)?",
    fullmatch=True,
)


# New examples every run (the project's Hypothesis profile): 400 a run add up over runs.
@settings(max_examples=400)
@given(st.one_of(st.text(), st.lists(FRAGMENTS, max_size=30).map("".join), URLISH))
def test_any_text_is_rejected_cleanly_or_standardized_idempotently(text: str) -> None:
    _check_result(text)


# --- the public suffix list (offline, the snapshot tldextract ships) ---------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("co.uk", "'co.uk' is a public suffix"),
        ("www.co.uk", "'co.uk' is a public suffix"),
        ("github.io", "'github.io' is a public suffix"),
        ("https://blogspot.com/", "'blogspot.com' is a public suffix"),
        ("example.notatld", "top-level domain 'notatld' is not on the public suffix list"),
        ("intranet.corp", "top-level domain 'corp' is not on the public suffix list"),
    ],
)
def test_public_suffixes_and_unknown_tlds_are_not_sites(raw: str, reason: str) -> None:
    with pytest.raises(InvalidDomain, match=reason):
        standardize_domain(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("octocat.github.io", "octocat.github.io"),
        ("www.bbc.co.uk", "bbc.co.uk"),
        ("shop.example.co.uk", "shop.example.co.uk"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("example.xn--p1ai", "example.xn--p1ai"),  # .рф
    ],
)
def test_names_below_a_public_suffix_are_sites(raw: str, expected: str) -> None:
    assert standardize_domain(raw) == expected


@pytest.mark.parametrize("raw", ["shop1.test", "docs.example", "a.invalid", "app.localhost"])
def test_reserved_test_names_only_when_the_fixture_setting_is_on(raw: str, monkeypatch) -> None:
    monkeypatch.setenv("SCRAPERSKY_TEST_DOMAINS", "true")
    assert standardize_domain(raw) == raw
    monkeypatch.delenv("SCRAPERSKY_TEST_DOMAINS")
    with pytest.raises(InvalidDomain, match="not on the public suffix list"):
        standardize_domain(raw)
