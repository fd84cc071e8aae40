"""The run planner (pure) and the Scrapyd client against a small loopback HTTP server."""

from __future__ import annotations

import base64
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scrapersky.config import ConfigError
from scrapersky.scheduling.client import (
    NodeUnreachable,
    ScrapydClient,
    ScrapydError,
    parse_node_urls,
)
from scrapersky.scheduling.planner import plan_runs, run_count
from scrapersky.scheduling.runs import NoNodeAnswered, schedule_runs
from tests.support.ports import free_port

loads_strategy = st.dictionaries(
    st.from_regex(r"http://n[0-9]{1,3}:6800", fullmatch=True),
    st.integers(0, 50),
    min_size=1,
    max_size=6,
)


@given(loads_strategy, st.integers(0, 40))
def test_plan_levels_the_load(loads, count):
    plan = plan_runs(loads, count)
    assert len(plan) == count
    final = Counter(dict(loads.items()))
    final.update(plan)
    # Every run went where the work was least: no node that got a run ends more than one above any other.
    busiest_chosen = max((final[node] for node in set(plan)), default=0)
    assert all(busiest_chosen <= final[node] + 1 for node in loads)
    if plan:
        assert loads[plan[0]] == min(loads.values())


def test_idle_nodes_share_runs_in_turn_and_a_busy_node_waits():
    assert plan_runs({"a": 0, "b": 0}, 4) == ["a", "b", "a", "b"]
    assert plan_runs({"a": 3, "b": 0}, 4) == ["b", "b", "b", "a"]
    assert plan_runs({}, 3) == []


def test_run_count_is_slots_per_node_capped_by_jobs():
    assert run_count(2, 2, 100) == 4
    assert run_count(3, 2, 5) == 5
    assert run_count(2, 2, 0) == 0


def test_node_urls_are_checked_and_folded():
    assert parse_node_urls("http://a:6800/, http://b:6800,http://a:6800") == [
        "http://a:6800",
        "http://b:6800",
    ]
    for bad in ("a:6800", "ftp://a:6800", "http://a:6800/path", ""):
        with pytest.raises(ConfigError):
            parse_node_urls(bad)


class FakeScrapyd:
    """A loopback server answering like Scrapyd, with scripted failures; records what it was sent."""

    def __init__(
        self,
        *,
        load: int = 0,
        fail_first: int = 0,
        failing: frozenset[str] = frozenset(),
        auth: str | None = None,
    ) -> None:
        self.load, self.fail_first, self.failing, self.auth = load, fail_first, failing, auth
        self.calls: list[tuple[str, dict, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.answer("")

            def do_POST(self):
                self.answer(self.rfile.read(int(self.headers["Content-Length"])).decode())

            def answer(self, body: str) -> None:
                path, _, query = self.path.partition("?")
                fields = dict(parse_qsl(body or query))
                server.calls.append((path, fields, self.headers.get("Authorization")))
                code, payload = server.reply(path, fields, self.headers.get("Authorization"))
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def reply(self, path: str, fields: dict, authorization: str | None) -> tuple[int, dict]:
        if self.auth and authorization != self.auth:
            return 401, {}
        if self.fail_first > 0 or path in self.failing:
            self.fail_first -= 1
            return 503, {"status": "error", "message": "busy"}
        if path == "/daemonstatus.json":
            return 200, {"status": "ok", "pending": self.load, "running": 0, "finished": 0}
        if path == "/schedule.json":
            if fields.get("project") != "scrapersky":
                return 200, {
                    "status": "error",
                    "message": f"project '{fields.get('project')}' not found",
                }
            return 200, {"status": "ok", "jobid": fields["jobid"]}
        if path == "/cancel.json":
            return 200, {
                "status": "ok",
                "prevstate": "running" if fields.get("job") == "r1" else None,
            }
        if path == "/listjobs.json":
            return 200, {
                "status": "ok",
                "pending": [{"id": "r1"}],
                "running": [{"id": "r2"}],
                "finished": [{"id": "r3"}],
            }
        return 404, {}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def nodes():
    made: list[FakeScrapyd] = []

    def make(**options) -> FakeScrapyd:
        made.append(FakeScrapyd(**options))
        return made[-1]

    yield make
    for node in made:
        node.close()


def client(*urls: str, **options) -> ScrapydClient:
    return ScrapydClient(urls, sleep=lambda _: None, **options)


def test_retries_5xx_then_succeeds(nodes):
    node = nodes(fail_first=2)
    assert client(node.url).load(node.url) == 0
    assert len(node.calls) == 3


def test_gives_up_after_the_retries_with_one_line(nodes):
    node = nodes(fail_first=10)
    with pytest.raises(NodeUnreachable) as raised:
        client(node.url, retries=2).load(node.url)
    assert str(raised.value) == f"{node.url}: HTTP 503 (after 3 attempts)"
    assert len(node.calls) == 3


def test_refused_connection_is_unreachable():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(NodeUnreachable, match="connection refused"):
        client(url, retries=1).load(url)


def test_auth_header_and_401_is_not_retried(nodes):
    token = "Basic " + base64.b64encode(b"crawler:pw").decode()
    node = nodes(auth=token)
    with pytest.raises(ScrapydError, match="authentication failed"):
        client(node.url).load(node.url)
    assert len(node.calls) == 1
    assert client(node.url, username="crawler", password="pw").load(node.url) == 0


def test_scrapyd_error_answers_are_not_retried(nodes):
    node = nodes()
    with pytest.raises(ScrapydError, match="project 'other' not found"):
        client(node.url).schedule(node.url, {}, project="other")
    assert len(node.calls) == 1


def test_schedule_sends_arguments_and_settings(nodes):
    node = nodes()
    run = client(node.url).schedule(
        node.url, {"batch_id": "B"}, run_id="r1", priority=2, settings={"LOG_LEVEL": "DEBUG"}
    )
    assert run == "r1"
    path, fields, _ = node.calls[-1]
    assert path == "/schedule.json"
    assert fields == {
        "project": "scrapersky",
        "spider": "sitemap",
        "jobid": "r1",
        "priority": "2.0",
        "setting": "LOG_LEVEL=DEBUG",
        "batch_id": "B",
    }


def test_active_runs_and_cancel(nodes):
    node = nodes()
    ups = client(node.url)
    assert ups.active_runs(node.url) == {"r1", "r2"}
    assert ups.cancel(node.url, "r1") == "running"
    assert ups.cancel(node.url, "r9") is None
    assert node.calls[-1][1] == {"project": "scrapersky", "job": "r9"}


def test_runs_go_least_loaded_first_and_skip_dead_nodes(nodes):
    busy, idle = nodes(load=5), nodes(load=0)
    dead = f"http://127.0.0.1:{free_port()}"
    runs, skipped = schedule_runs(client(busy.url, dead, idle.url, retries=0), {"batch_id": "B"}, 3)
    assert [run.node for run in runs] == [idle.url] * 3
    assert skipped.keys() == {dead}


def test_a_node_failing_to_schedule_hands_its_runs_over(nodes):
    flaky, steady = nodes(failing=frozenset({"/schedule.json"})), nodes(load=1)
    runs, skipped = schedule_runs(client(flaky.url, steady.url, retries=0), {"batch_id": "B"}, 2)
    assert [run.node for run in runs] == [steady.url, steady.url]
    assert skipped == {flaky.url: f"{flaky.url}: HTTP 503 (after 1 attempt)"}


def test_no_node_answering_is_one_error_naming_each():
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    with pytest.raises(NoNodeAnswered) as raised:
        schedule_runs(client(*urls, retries=0), {"batch_id": "B"}, 2)
    message = str(raised.value)
    assert "\n" not in message and all(url in message for url in urls)


def test_following_a_batch_looks_sooner_only_when_its_last_jobs_are_running():
    from scrapersky.scheduling.follow import FINAL_POLL, _next_look

    running = {"running": 40}
    # 4 ended in the last second: the next should end in a quarter of a second.
    assert _next_look(1.0, (10.0, 100), (11.0, 104), running) == pytest.approx(0.25)
    assert _next_look(1.0, (10.0, 100), (11.0, 104), {"running": 1}) == pytest.approx(0.25)
    # Never sooner than FINAL_POLL, never later than the poll.
    assert _next_look(1.0, (10.0, 100), (11.0, 180), running) == FINAL_POLL
    assert _next_look(1.0, (10.0, 100), (13.0, 101), running) == 1.0
    # Jobs pending, nothing ended since the last look, or no look before: the poll.
    assert _next_look(1.0, (10.0, 100), (11.0, 180), {"pending": 5, "running": 40}) == 1.0
    assert _next_look(1.0, (10.0, 100), (11.0, 100), running) == 1.0
    assert _next_look(1.0, None, (11.0, 180), running) == 1.0
