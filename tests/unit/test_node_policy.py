"""Pure pieces of a node's HTTP policy, as tables: which Host a node answers to, its operator
login (generated once, kept 0600, read by clients for loopback nodes only), JSON bodies that
once made 500s, and what a tenant may ask of the queue (priority, batch size, slots)."""

from __future__ import annotations

import stat
import threading

import pytest

from scrapersky.api import schedule
from scrapersky.api.base import Fields
from scrapersky.api.hosts import host_allowed, own_names
from scrapersky.config import ConfigError
from scrapersky.core.errors import BadInput
from scrapersky.db.keys import Caller
from scrapersky.scheduling.client import ScrapydClient
from scrapersky.scheduling.login import (
    USERNAME,
    Login,
    client_logins,
    create_login,
    read_login,
)

NAMES = own_names("0.0.0.0", frozenset({"node1.example.com"}))
TENANT = Caller(key_id="key_t", tenant_id="a11ce000-0000-4000-8000-000000000001")
OPERATOR = Caller(key_id="key_o", tenant_id=None)


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        (b"127.0.0.1:6800", True),
        (b"127.0.0.1", True),
        (b"localhost:6800", True),
        (b"LOCALHOST.:6800", True),
        (b"[::1]:6800", True),
        (b"10.1.2.3:6800", True),
        (b"node1.example.com:6800", True),
        (b"evil.example:6800", False),
        (b"evil.example", False),
        (b"localhost.evil.example:6800", False),
        (b"127.0.0.1.nip.io:6800", False),
        (b"node1.example.com.evil.example", False),
        (b"[::1", False),
        (b"[::1]:x", False),
        (b"localhost:x", False),
        (b"[evil.example]:6800", False),
        (b"", False),
        (None, False),
        ("lo\u0441alhost".encode(), False),
    ],
)
def test_the_node_answers_to_ip_literals_and_its_own_names_only(host, allowed):
    assert host_allowed(host, NAMES) is allowed


def test_a_generated_login_is_made_once_kept_0600_and_read_back(tmp_path):
    path = tmp_path / "dbs" / "scrapyd-password"
    login, generated = create_login(path)
    assert generated and login.username == USERNAME and len(login.password) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert create_login(path) == (login, False)  # the second start reuses it
    assert read_login(path) == login
    assert [p.name for p in path.parent.iterdir()] == ["scrapyd-password"]  # no draft left


def test_a_damaged_password_file_is_a_one_line_error_for_the_node_and_no_login_for_clients(
    tmp_path,
):
    path = tmp_path / "scrapyd-password"
    path.write_text("no colon here\n")
    with pytest.raises(ConfigError, match="is not USERNAME:PASSWORD"):
        create_login(path)
    assert client_logins("", "", str(path)) == (None, None)


def test_nodes_starting_together_agree_on_one_login(tmp_path):
    path = tmp_path / "scrapyd-password"
    found: list[Login] = []
    starts = [
        threading.Thread(target=lambda: found.append(create_login(path)[0])) for _ in range(8)
    ]
    for thread in starts:
        thread.start()
    for thread in starts:
        thread.join()
    assert len(set(found)) == 1 and read_login(path) == found[0]


def test_clients_send_the_local_login_to_loopback_nodes_only(tmp_path):
    path = tmp_path / "scrapyd-password"
    local, _ = create_login(path)
    everywhere, loopback = client_logins("", "", str(path))
    assert everywhere is None and loopback == local
    client = ScrapydClient(
        ["http://127.0.0.1:6800", "http://localhost:6801", "http://node2.internal:6800"],
        local_login=loopback,
    )
    sent = {url: client._headers(url).get("Authorization") for url in client.urls}
    assert sent["http://127.0.0.1:6800"] == sent["http://localhost:6801"] is not None
    assert sent["http://node2.internal:6800"] is None
    # SCRAPYD_USERNAME/SCRAPYD_PASSWORD go everywhere, the file is then not read.
    assert client_logins("ops", "pw", str(path)) == (Login("ops", "pw"), None)
    assert client_logins("", "", str(tmp_path / "none")) == (None, None)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"[" * 100_000, "nested too deeply"),
        (b'{"domain": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested too deeply"),
        (b'{"domain": "\\ud800"}', "lone surrogate"),
        (b'{"\\udfff": "x"}', "lone surrogate"),
        (b'{"domain": ["a", "\\ud800\\u0000"]}', "lone surrogate"),
        (b"\xff\xfe", "not valid JSON"),
        (b"{", "not valid JSON"),
    ],
)
def test_json_bodies_that_once_made_500s_are_400s(body, fragment):
    with pytest.raises(BadInput) as caught:
        Fields.parse({}, "application/json; charset=utf-8", body)
    assert caught.value.http_status == 400 and fragment in str(caught.value)


def test_priority_is_the_operators():
    def priority(value: str, caller: Caller | None) -> float:
        return schedule.scan_options(Fields({b"priority": [value.encode()]}, caller))[2]

    assert priority("5", OPERATOR) == 5.0 and priority("-2.5", OPERATOR) == -2.5
    assert priority("1e308", TENANT) == priority("5", TENANT) == 0.0  # dropped for tenants
    for value in ("inf", "-inf", "Infinity", "nan", "1e999", "high"):
        for caller in (TENANT, OPERATOR):
            with pytest.raises(BadInput) as caught:
                priority(value, caller)
            assert caught.value.http_status == 400 and "priority must be a" in str(caught.value)


def test_batch_size_and_slots_are_bounded():
    schedule.check_batch_size(10_000)
    with pytest.raises(BadInput) as caught:
        schedule.check_batch_size(10_001)
    assert caught.value.http_status == 400 and "SCRAPERSKY_MAX_BATCH_DOMAINS" in str(caught.value)
    assert schedule.batch_slots(Fields({b"slots": [b"4"]})) == 4
    assert schedule.batch_slots(Fields({})) == 2
    with pytest.raises(BadInput) as caught:
        schedule.batch_slots(Fields({b"slots": [b"5"]}))
    assert caught.value.http_status == 400 and "slots must be <= 4" in str(caught.value)
