"""Chromium's launcher, in-process: the environment it keeps, the hand-over of a listening socket
to the guard proxy, the namespace check, and what rendering does with its answer (the launch
itself: test_trust_boundary.py)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from scrapy.settings import Settings

from scrapersky.net.browser_jail import (
    PORT,
    browser_environment,
    hand_over,
    isolation_problem,
    write_launcher,
)
from scrapersky.net.browser_proxy import REFUSED_MARKER, BrowserProxy
from scrapersky.net.policy import AddressPolicy
from scrapersky.rendering import configure_rendering


def test_the_launcher_runs_this_package_in_front_of_chromium(tmp_path):
    script = Path(write_launcher(str(tmp_path), "/usr/bin/chromium", "/run/g/guard.sock"))
    assert os.access(script, os.X_OK)
    text = script.read_text()
    assert (
        "-m scrapersky.net.browser_jail --chromium /usr/bin/chromium --guard /run/g/guard.sock"
        in text
    )
    assert text.rstrip().endswith('-- "$@"')


def test_the_browser_keeps_no_secret_of_the_crawl():
    crawl = {
        "PATH": "/usr/bin",
        "LANG": "de_DE.UTF-8",
        "LC_TIME": "C",
        "TZ": "UTC",
        "HOME": "/root",
        "DATABASE_URL": "postgresql://app:db-secret@db/app",
        "SCRAPYD_PASSWORD": "pw",
        "SCRAPERSKY_ANYTHING": "x",
        "https_proxy": "http://u:p@proxy:3128",
        "AWS_SECRET_ACCESS_KEY": "k",
        "LD_PRELOAD": "/tmp/x.so",
    }
    assert browser_environment(crawl, "/tmp/profile") == {
        "PATH": "/usr/bin",
        "LANG": "de_DE.UTF-8",
        "LC_TIME": "C",
        "TZ": "UTC",
        "HOME": "/tmp/profile",
        "XDG_CONFIG_HOME": "/tmp/profile",
        "XDG_CACHE_HOME": "/tmp/profile",
    }
    assert browser_environment({}, "/p")["PATH"] == "/usr/bin:/bin"


def test_a_handed_over_socket_is_served_by_the_guard():
    async def resolve(host: str) -> str:
        return "127.0.0.1"

    async def scenario() -> tuple[bytes, str]:
        guard = BrowserProxy.reserve_unix(max_header_bytes=4096, timeout=5)
        await guard.start(AddressPolicy.from_text([], allow_dangerous=False), resolve)
        try:
            port = await asyncio.to_thread(hand_over, guard.path, ("127.0.0.1", 0))
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET http://inside.test/ HTTP/1.1\r\nHost: inside.test\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(), 10)
            writer.close()
            return answer, guard.path
        finally:
            await guard.close()

    answer, path = asyncio.run(scenario())
    assert answer.startswith(b"HTTP/1.1 403") and REFUSED_MARKER in answer
    assert not os.path.exists(os.path.dirname(path))


def test_a_launcher_without_a_socket_to_hand_over_gets_no_answer():
    async def scenario() -> None:
        guard = BrowserProxy.reserve_unix(max_header_bytes=4096, timeout=5)
        await guard.start(AddressPolicy.from_text([], allow_dangerous=False), resolve=None)
        try:
            with socket.socket(socket.AF_UNIX) as client:
                await asyncio.get_running_loop().sock_connect(client, guard.path)
                client.sendall(b"no socket")
                client.settimeout(5)
                assert await asyncio.to_thread(client.recv, 1) == b""
        finally:
            await guard.close()

    asyncio.run(scenario())


def test_this_machine_can_isolate_chromium(netns):
    assert isolation_problem() is None


def _rendering(problem: str | None, **overrides) -> Settings:
    settings = Settings()
    settings.setmodule("scrapersky.settings", priority="project")
    settings.setdict({"SCRAPERSKY_ALLOW_PRIVATE_NETWORKS": False, **overrides}, priority="cmdline")
    configure_rendering(settings, "/usr/bin/chromium", problem)
    return settings


def _guard(settings: Settings) -> BrowserProxy:
    guard = settings["SCRAPERSKY_BROWSER_PROXY"]
    asyncio.run(guard.close())
    return guard


def test_rendering_isolates_chromium_or_stays_off(caplog):
    isolated = _rendering(None)
    launch = isolated["PLAYWRIGHT_LAUNCH_OPTIONS"]
    assert isolated["SCRAPERSKY_RENDERING"] and launch["chromium_sandbox"] is True
    assert launch["proxy"]["server"] == f"http://127.0.0.1:{PORT}"
    assert "--webrtc-ip-handling-policy=disable_non_proxied_udp" in launch["args"]
    # A guard for the launcher's hand-over, and no file until a page renders.
    assert _guard(isolated).sock.family == socket.AF_UNIX

    refused = _rendering("unshare: Operation not permitted")
    assert refused["SCRAPERSKY_RENDERING"] is False
    assert "PLAYWRIGHT_LAUNCH_OPTIONS" not in refused or not refused["PLAYWRIGHT_LAUNCH_OPTIONS"]
    assert (
        "rendering off: Chromium cannot be isolated here (unshare: Operation not permitted); "
        "SCRAPERSKY_RENDER_UNISOLATED=true" in caplog.text
    )

    forced = _rendering("unshare: Operation not permitted", SCRAPERSKY_RENDER_UNISOLATED=True)
    launch = forced["PLAYWRIGHT_LAUNCH_OPTIONS"]
    assert forced["SCRAPERSKY_RENDERING"] and launch["chromium_sandbox"] is False
    assert launch["proxy"]["server"] == forced["SCRAPERSKY_BROWSER_PROXY"].url
    assert _guard(forced).path is None


def test_a_machine_without_namespaces_is_told_why(netns):
    """Inside a user namespace that maps no user, no namespace can be made: the check says so."""
    shown = subprocess.run(
        ["unshare", "--user", sys.executable, "-c", CHECK],
        env={k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert shown.stdout.strip() == "unshare: Operation not permitted", shown.stderr[-2000:]


CHECK = "from scrapersky.net.browser_jail import isolation_problem; print(isolation_problem())"


JAILED = """
import json, os, socket
outside = socket.socket()
try:
    outside.connect(("127.0.0.1", PORT_OUTSIDE))
    reached = True
except OSError:
    reached = False
guard = socket.create_connection(("127.0.0.1", 3128), timeout=5)
guard.sendall(b"GET http://inside.test/ HTTP/1.1\\r\\nHost: inside.test\\r\\n\\r\\n")
print(json.dumps({"uid": os.geteuid(), "run": os.listdir("/run"), "env": sorted(os.environ),
                  "outside": reached, "guard": guard.recv(12).decode()}))
"""


def test_a_non_root_launch_keeps_its_uid_in_a_namespace_of_its_own(netns, tmp_path):
    """The launcher as a user other than root (a user namespace that maps 65534, as the image's
    user would be): Chromium's place taken by Python, which reports what it can see and reach."""
    outside = socket.create_server(("127.0.0.1", 0))

    async def resolve(host: str) -> str:
        return "127.0.0.1"

    async def scenario() -> bytes:
        guard = BrowserProxy.reserve_unix(max_header_bytes=4096, timeout=5)
        await guard.start(AddressPolicy.from_text([], allow_dangerous=False), resolve)
        code = JAILED.replace("PORT_OUTSIDE", str(outside.getsockname()[1]))
        launcher = write_launcher(str(tmp_path), sys.executable, guard.path)
        try:
            proc = await asyncio.create_subprocess_exec(
                "unshare",
                "--user",
                "--map-user=65534",
                "--map-group=65534",
                launcher,
                "-c",
                code,
                env={**os.environ, "DATABASE_URL": "postgresql://u:secret@db/x"},
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0, err.decode()[-2000:]
            return out
        finally:
            await guard.close()

    seen = json.loads(asyncio.run(scenario()).decode().splitlines()[-1])
    outside.close()
    assert seen["uid"] == 65534 and seen["run"] == [] and seen["outside"] is False
    assert seen["guard"] == "HTTP/1.1 403"
    assert "DATABASE_URL" not in seen["env"]
