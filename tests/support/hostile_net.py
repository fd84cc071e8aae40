"""A private network for hostile-site tests: a crawl runs where every address is ours.

`run_in_namespace(scenario, ...)` starts this module inside `unshare --net --mount`: a network
namespace with only a loopback interface (plus the link-local and private addresses added to
it below), its own /etc/hosts, /etc/resolv.conf and /etc/nsswitch.conf. Inside it:

- a DNS server on 127.0.0.53 answers from the scenario, and its answers can change from one
  query to the next (NXDOMAIN then loopback, public then loopback, AAAA only);
- the fixture web serves the scenario's sites on SITE_ADDRESS:80, the only address the crawl
  is allowed to reach (SCRAPERSKY_ALLOWED_NETWORKS);
- trap listeners on every other address (127.0.0.1, 127.0.0.3, ::1, 169.254.169.254,
  10.0.0.7) record each connection and answer with an "internal" page, so anything that
  reached one shows in the result and in the stored rows; UDP traps on the STUN port of
  those addresses record each datagram and answer a STUN Binding Request with an internal
  mapped address (INTERNAL_STUN_ADDRESS);
- with `"veth": True`, a veth pair (VETH_ADDRESSES) gives the namespace a non-loopback
  interface, which is what makes Chromium gather WebRTC candidates at all; its addresses get
  TCP and UDP traps too;
- with `"inspect_browser": True`, every Chromium process seen while the crawl runs is
  recorded (`browser`: command line, uid, seccomp, no_new_privs, namespaces, environment,
  and whether it can see the unix socket RUN_TRAP, which stands for a local database's);
- with `"forward_proxy": True`, the crawl's http_proxy and https_proxy are a forwarding proxy
  on PROXY_ADDRESS that resolves names itself (tests.support.forward_proxy); with `"tls_site"`
  (`{"host": ..., "routes": ...}`), that site is served over TLS on SITE_ADDRESS:443 with a
  certificate for its name from a test CA the crawl trusts (SSL_CERT_FILE);
- the crawl runs as a real `scrapy crawl sitemap` process, Chromium included.

Nothing can leave the namespace: it has no route out (a veth pair has both ends inside).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.support.memory import wait_for_peak_rss

SITE_ADDRESS = "127.0.0.2"
PROXY_ADDRESS = "127.0.0.5"
DNS_ADDRESS = "127.0.0.53"
EXTRA_ADDRESSES = ("169.254.169.254/32", "10.0.0.7/32")
TRAPS = [
    ("127.0.0.1", 80),
    ("127.0.0.1", 443),
    ("127.0.0.1", 8080),
    ("127.0.0.3", 80),
    ("::1", 80),
    ("169.254.169.254", 80),
    ("10.0.0.7", 80),
]
STUN_PORT = 3478
UDP_TRAPS = [("127.0.0.1", STUN_PORT), ("169.254.169.254", STUN_PORT), ("10.0.0.7", STUN_PORT)]
# Both ends of the veth pair stay in the namespace: a real interface, and still no way out.
VETH_ADDRESSES = ("192.0.2.1", "192.0.2.2")
VETH_SETUP = (
    "ip link add v0 type veth peer name v1",
    f"ip addr add {VETH_ADDRESSES[0]}/24 dev v0",
    f"ip addr add {VETH_ADDRESSES[1]}/32 dev v1",
    "ip link set v0 up",
    "ip link set v1 up",
)
# What an internal STUN server answers as the asker's address: seen in stored text, it leaked.
INTERNAL_STUN_ADDRESS = "10.99.88.77"
# A unix socket anyone may connect to, where PostgreSQL keeps its own (/var/run is /run).
RUN_TRAP = f"/run/scrapersky-hostile-{os.getpid()}.sock"
INTERNAL_PAGE = (
    b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html><head><title>INTERNAL ADMIN</title>"
    b'<meta name="description" content="internal only"></head><body>root@internal.example '
    b'<a href="/sitemap.xml">x</a></body></html>'
)
ROOT = Path(__file__).resolve().parents[2]


def run_in_namespace(scenario: dict, *, timeout: float = 240) -> dict:
    """Run the scenario in a fresh network namespace; the result dict (see `main`)."""
    with tempfile.TemporaryDirectory(prefix="hostile-net-") as work:
        work_dir = Path(work)
        (work_dir / "hosts").write_text("127.0.0.1 localhost\n::1 localhost\n")
        (work_dir / "resolv.conf").write_text(
            f"nameserver {DNS_ADDRESS}\noptions timeout:1 attempts:1\n"
        )
        (work_dir / "nsswitch.conf").write_text("hosts: files dns\n")
        (work_dir / "scenario.json").write_text(json.dumps(scenario))
        result_path = work_dir / "result.json"
        setup = " && ".join(
            [
                "ip link set lo up",
                *(f"ip addr add {address} dev lo" for address in EXTRA_ADDRESSES),
                *(VETH_SETUP if scenario.get("veth") else ()),
                *(
                    f"mount --bind {work_dir / name} /etc/{name}"
                    for name in ("hosts", "resolv.conf", "nsswitch.conf")
                ),
                f"exec {sys.executable} -m tests.support.hostile_net {work_dir / 'scenario.json'} {result_path}",
            ]
        )
        proc = subprocess.run(
            ["unshare", "--net", "--mount", "sh", "-c", setup],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if not result_path.exists():
            raise RuntimeError(
                f"hostile network run failed ({proc.returncode}): {proc.stderr[-3000:]}"
            )
        return json.loads(result_path.read_text())


# --- inside the namespace ---------------------------------------------------------------------


class Traps:
    def __init__(self, veth: bool = False) -> None:
        self.hits: list[dict] = []
        self.datagrams: list[dict] = []
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        extra = [(address, port) for address in VETH_ADDRESSES for port in (80, STUN_PORT)]
        self.tcp = TRAPS + [(host, STUN_PORT) for host, _ in UDP_TRAPS] + (extra if veth else [])
        self.udp = UDP_TRAPS + ([(a, STUN_PORT) for a in VETH_ADDRESSES] if veth else [])

    def start(self) -> None:
        for host, port in self.tcp:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(64)
            self.sockets.append(sock)
            threading.Thread(target=self._accept, args=(sock, host, port), daemon=True).start()
        for host, port in self.udp:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((host, port))
            self.sockets.append(sock)
            threading.Thread(target=self._receive, args=(sock, host, port), daemon=True).start()

    def _receive(self, sock: socket.socket, host: str, port: int) -> None:
        while True:
            try:
                data, peer = sock.recvfrom(2048)
            except OSError:
                return
            with self.lock:
                self.datagrams.append({"address": host, "port": port, "first": data[:40].hex()})
            answer = _stun_answer(data)
            if answer:
                with contextlib.suppress(OSError):
                    sock.sendto(answer, peer)

    def _accept(self, sock: socket.socket, host: str, port: int) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.settimeout(2)
            try:
                first = conn.recv(300)
            except OSError:
                first = b""
            with self.lock:
                self.hits.append(
                    {"address": host, "port": port, "first": first.decode("latin-1")[:200]}
                )
            with contextlib.suppress(OSError):
                conn.sendall(INTERNAL_PAGE)
            conn.close()


def _stun_answer(request: bytes) -> bytes | None:
    """A STUN Binding Success answer to a Binding Request (RFC 5389), whose XOR-MAPPED-ADDRESS is
    INTERNAL_STUN_ADDRESS: what an internal service would tell the page."""
    if len(request) < 20 or request[:2] != b"\x00\x01":
        return None
    cookie, transaction = request[4:8], request[8:20]
    address = bytes(
        a ^ c for a, c in zip(socket.inet_aton(INTERNAL_STUN_ADDRESS), cookie, strict=True)
    )
    value = struct.pack("!BBH", 0, 1, 4242 ^ 0x2112) + address
    attribute = struct.pack("!HH", 0x0020, len(value)) + value
    return struct.pack("!HH", 0x0101, len(attribute)) + cookie + transaction + attribute


def _read(path: str) -> str:
    with open(path, "rb") as file:
        return file.read().decode("latin-1")


class BrowserWatch:
    """Every Chromium process the crawl starts, as last seen while it runs: what a compromised
    renderer or browser process could read or do. Only the crawl's descendants count: other
    crawls on the machine run browsers too."""

    def __init__(self) -> None:
        self.processes: dict[int, dict] = {}
        self.done = threading.Event()
        self.own = {kind: os.readlink(f"/proc/self/ns/{kind}") for kind in ("user", "pid", "net")}
        self.crawl = 0

    def start(self, crawl: int) -> None:
        self.crawl = crawl
        self.trap = socket.socket(socket.AF_UNIX)
        self.trap.bind(RUN_TRAP)
        os.chmod(RUN_TRAP, 0o777)
        self.trap.listen(8)
        threading.Thread(target=self._watch, daemon=True).start()

    def stop(self) -> list[dict]:
        self.done.set()
        if self.crawl:
            self.trap.close()
            os.unlink(RUN_TRAP)
        return list(self.processes.values())

    def _watch(self) -> None:
        while not self.done.wait(0.1):
            for name in os.listdir("/proc"):
                if name.isdigit():
                    with contextlib.suppress(OSError):
                        self._look(int(name))

    def _status(self, pid: int) -> dict[str, str]:
        lines = _read(f"/proc/{pid}/status").splitlines()
        return dict(line.split(":", 1) for line in lines if ":" in line)

    def _descends_from_crawl(self, pid: int) -> bool:
        while pid > 1:
            if pid == self.crawl:
                return True
            pid = int(self._status(pid)["PPid"])
        return False

    def _look(self, pid: int) -> None:
        if not os.readlink(f"/proc/{pid}/exe").startswith("/usr/lib/chromium/"):
            return
        if not self._descends_from_crawl(pid):
            return
        status = self._status(pid)
        environ = [entry for entry in _read(f"/proc/{pid}/environ").split("\0") if entry]
        self.processes[pid] = {
            "pid": pid,
            # Chromium rewrites its children's argv as one line (setproctitle): split on both.
            "cmdline": _read(f"/proc/{pid}/cmdline").replace("\0", " ").split(),
            "uid": int(status["Uid"].split()[1]),
            "seccomp": int(status["Seccomp"]),
            "no_new_privs": int(status["NoNewPrivs"]),
            "environ": environ,
            "sees_run_trap": os.path.exists(f"/proc/{pid}/root{RUN_TRAP}"),
            "separate": {
                kind: os.readlink(f"/proc/{pid}/ns/{kind}") != own for kind, own in self.own.items()
            },
        }


class ScriptedResolver:
    """Answers from the scenario's `dns`: {"name": {"A": [...], "AAAA": [...]}}; each query takes the
    next answer, the last one repeats; "NXDOMAIN" is an answer too; unknown names are NXDOMAIN."""

    def __init__(self, script: dict) -> None:
        self.script = {
            name.lower().rstrip("."): {k: list(v) for k, v in types.items()}
            for name, types in script.items()
        }
        self.queries: list[list[str]] = []
        self.lock = threading.Lock()

    def resolve(self, request, handler):
        from dnslib import AAAA, QTYPE, RCODE, RR, A

        reply = request.reply()
        name = str(request.q.qname).lower().rstrip(".")
        qtype = QTYPE[request.q.qtype]
        with self.lock:
            self.queries.append([name, qtype])
            answers = self.script.get(name, {}).get(qtype)
            if answers is None:
                answer = "NXDOMAIN" if name not in self.script else None
            else:
                answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if answer == "NXDOMAIN":
            reply.header.rcode = RCODE.NXDOMAIN
        elif answer is not None:
            record = AAAA(answer) if qtype == "AAAA" else A(answer)
            reply.add_answer(RR(request.q.qname, request.q.qtype, rdata=record, ttl=0))
        return reply


def _start_sites(scenario: dict):
    from tests.support.fixture_web import FixtureWeb

    web = FixtureWeb(port=80, bind=SITE_ADDRESS)
    for host, routes in scenario.get("sites", {}).items():
        site = web.site(host)
        for path, spec in routes.items():
            if isinstance(spec, str):
                site.add(path, spec)
            elif "location" in spec:
                site.redirect(path, spec["location"], status=spec.get("status", 302))
            elif "fanout" in spec:
                site.handler(path, _fanout_handler(host, spec["fanout"]))
            elif "sequence" in spec:
                site.handler(path, _sequence_handler(spec["sequence"]))
            else:
                site.add(
                    path,
                    spec.get("body", ""),
                    status=spec.get("status", 200),
                    content_type=spec.get("content_type"),
                    headers=spec.get("headers"),
                    delay=spec.get("delay", 0.0),
                )
    for host, _width in scenario.get("fanout", {}).items():
        site = web.site(host)
        site.add("/robots.txt", f"Sitemap: http://{host}/fan/0.xml\n")
        site.add("/", "<html><head><title>Fan</title></head><body>fan out</body></html>")
    return web.start()


def _start_tls_site(spec: dict | None, env: dict[str, str], directory: Path):
    """The scenario's `tls_site` on SITE_ADDRESS:443, its test CA trusted by the crawl."""
    if not spec:
        return None
    from tests.support.tls import TlsFixtureWeb, make_ca, server_context

    ca = make_ca(directory)
    web = TlsFixtureWeb(server_context(ca, directory, spec["host"]), port=443, bind=SITE_ADDRESS)
    site = web.site(spec["host"])
    for path, body in spec["routes"].items():
        site.add(path, body)
    env["SSL_CERT_FILE"] = str(ca.cert_file)
    return web.start()


def _fanout_handler(host: str, width: int):
    """/fan/N.xml: an index of `width` new indexes, each of which is another such index."""
    from tests.support.fixture_web import Reply

    def handle(request) -> Reply:
        number = int(request.path.rsplit("/", 1)[1].split(".")[0])
        locs = "".join(
            f"<sitemap><loc>http://{host}/fan/{number * width + i + 1}.xml</loc></sitemap>"
            for i in range(width)
        )
        return Reply(
            200,
            f"<sitemapindex>{locs}</sitemapindex>".encode(),
            {"Content-Type": "application/xml"},
        )

    return handle


def _sequence_handler(specs: list[dict]):
    """Each request gets the next reply of the list (the last one repeats): a page that answers
    the static fetch and Chromium's differently."""
    from tests.support.fixture_web import Reply

    replies = list(specs)

    def handle(request) -> Reply:
        spec = replies.pop(0) if len(replies) > 1 else replies[0]
        headers = {"Content-Type": "text/html", **spec.get("headers", {})}
        if "location" in spec:
            headers["Location"] = spec["location"]
        return Reply(spec.get("status", 200), spec.get("body", "").encode(), headers)

    return handle


def _header_bomb(address: str, megabytes: int) -> None:
    """Answer every request with an endless header section: continuation lines, `megabytes` of them."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, 80))
    sock.listen(16)
    line = b" " + b"a" * 1000 + b"\r\n"

    def serve(conn: socket.socket) -> None:
        try:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Bomb: start\r\n")
            for _ in range(megabytes * 1000):
                conn.sendall(line)
        except OSError:
            pass
        conn.close()

    def accept() -> None:
        while True:
            conn, _ = sock.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()


def _run_crawl(scenario: dict, env: dict[str, str], watch: BrowserWatch | None = None) -> dict:
    """The crawl as a child process, and its peak memory (tests.support.memory)."""
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "sitemap", *scenario["args"]],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if watch is not None:
            watch.start(proc.pid)
        peak = wait_for_peak_rss(proc, timeout=600)
        out.seek(0)
        output = out.read()
    return {"returncode": proc.returncode, "output": output[-20000:], "max_rss": peak}


def main(scenario_path: str, result_path: str) -> None:
    from dnslib.server import DNSServer

    scenario = json.loads(Path(scenario_path).read_text())
    resolver = ScriptedResolver(scenario.get("dns", {}))
    dns = DNSServer(resolver, address=DNS_ADDRESS, port=53)
    dns.start_thread()
    traps = Traps(veth=scenario.get("veth", False))
    traps.start()
    web = _start_sites(scenario)
    allowed = [f"{SITE_ADDRESS}/32"]
    if "header_bomb" in scenario:
        _header_bomb(scenario["header_bomb"], scenario.get("bomb_megabytes", 200))
        allowed.append(f"{scenario['header_bomb']}/32")
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(
        {
            "SCRAPERSKY_ALLOW_PRIVATE_NETWORKS": "false",
            "SCRAPERSKY_ALLOWED_NETWORKS": ",".join(allowed),
            # The fixture sites live on loopback addresses: the force setting, working.
            "SCRAPERSKY_ALLOW_DANGEROUS_NETWORKS": "true",
            "SCRAPERSKY_SCHEMES": "http",
            "AUTOTHROTTLE_ENABLED": "false",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(scenario.get("env", {}))
    proxy = None
    if scenario.get("forward_proxy"):
        from tests.support.forward_proxy import ForwardProxy

        proxy = ForwardProxy(PROXY_ADDRESS, 3128).start()
        env["http_proxy"] = env["https_proxy"] = proxy.url
    tls_web = _start_tls_site(scenario.get("tls_site"), env, Path(scenario_path).parent)
    if scenario.get("untraced"):
        # Memory is measured: coverage's tracer would add its own tens of megabytes.
        env.pop("COVERAGE_PROCESS_START", None)
    watch = BrowserWatch()
    crawl = _run_crawl(scenario, env, watch if scenario.get("inspect_browser") else None)
    web.stop()
    time.sleep(0.2)  # a datagram answered as the crawl ended is counted too
    result = {
        **crawl,
        "traps": traps.hits,
        "datagrams": traps.datagrams,
        "browser": watch.stop(),
        "dns": resolver.queries,
        "proxy": proxy.log if proxy else [],
        "tls_web": [{"host": r.host, "path": r.path} for r in tls_web.requests] if tls_web else [],
        "web": [{"host": r.host, "path": r.path, "method": r.method} for r in web.requests],
    }
    Path(result_path).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
