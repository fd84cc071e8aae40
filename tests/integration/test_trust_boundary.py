"""The crawler's trust boundary, attacked as a hostile site would, in a private network namespace.

Every scenario runs a real crawl (and real Chromium where it renders) against sites whose
names a scripted DNS server answers, with trap listeners on loopback, link-local and private
addresses. The checks: no trap is ever connected to, nothing an internal address would answer
is stored, and every refusal is recorded with its reason.
"""

from __future__ import annotations

import json

import pytest

from tests.support.db import rows
from tests.support.hostile_net import (
    INTERNAL_STUN_ADDRESS,
    SITE_ADDRESS,
    STUN_PORT,
    UDP_TRAPS,
    VETH_ADDRESSES,
    run_in_namespace,
)

MB = 1024 * 1024
INTERNAL_MARKERS = ("INTERNAL ADMIN", "internal only", "root@internal.example")


def _namespace_url(database_url: str) -> str:
    """The same database as seen from inside the namespace: PostgreSQL through its Unix socket."""
    if database_url.startswith("postgresql"):
        name = database_url.rsplit("/", 1)[1]
        return f"postgresql+psycopg2://postgres@/{name}?host=/var/run/postgresql"
    return database_url


def _crawl(
    database_url: str, args: list[str], *, dns: dict, sites: dict, env: dict | None = None, **extra
) -> dict:
    """Run the crawl in a private network namespace (tests using it take the `netns` fixture)."""
    scenario = {
        "args": args,
        "dns": dns,
        "sites": sites,
        "env": {"DATABASE_URL": _namespace_url(database_url), **(env or {})},
        **extra,
    }
    return run_in_namespace(scenario)


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _stored_text(database_url: str) -> str:
    """Every value of every table the crawl writes, as one string."""
    text = []
    for table in ("domains", "sitemap_files", "pages", "jobs"):
        for row in rows(database_url, f"select * from {table}"):
            text.append(repr(row))
    return "\n".join(text)


def _assert_nothing_internal(result: dict, database_url: str) -> None:
    assert result["traps"] == [], result["traps"]
    stored = _stored_text(database_url)
    for marker in INTERNAL_MARKERS:
        assert marker not in stored


A = lambda *answers: {"A": list(answers)}  # noqa: E731


def test_scrapy_requests_never_reach_internal_addresses(netns, sqlite_url):
    """Every path a sitemap, robots.txt, a redirect or a listed page can take, and every DNS trick."""
    sites = {
        "good.test": {
            "/robots.txt": "\n".join(
                f"Sitemap: {url}"
                for url in [
                    "http://127.0.0.1/a.xml",
                    "http://2130706433/b.xml",
                    "http://0x7f.0.0.1/c.xml",
                    "http://[::1]/d.xml",
                    "http://169.254.169.254/latest/meta-data/",
                    "http://internal.test/e.xml",
                    "http://good.test/moved.xml",
                    "http://good.test/sitemap.xml",
                    "file:///etc/passwd",
                    "http://0177.0.0.1/f.xml",
                    "http://[::ffff:127.0.0.1]/g.xml",
                    "http://[64:ff9b::7f00:1]/h.xml",
                    "http://good.test/index.xml",
                ]
            ),
            "/index.xml": "<sitemapindex><sitemap><loc>http://127.0.0.3/i.xml</loc></sitemap>"
            "<sitemap><loc>http://internal.test/j.xml</loc></sitemap></sitemapindex>",
            "/moved.xml": {"location": "http://127.0.0.1:8080/x.xml"},
            "/sitemap.xml": "<urlset><url><loc>http://good.test/ok</loc></url>"
            "<url><loc>http://10.0.0.7/secret</loc></url>"
            "<url><loc>http://internal.test/page</loc></url></urlset>",
            "/": "<html><head><title>Good site</title></head><body>public</body></html>",
            "/ok": "<html><head><title>OK page</title></head><body>fine</body></html>",
        },
        "nx-then-loopback.test": {"/robots.txt": "", "/": "<title>never read</title>"},
        "rebind.test": {"/robots.txt": "", "/": "<title>never read</title>"},
        "v6only.test": {"/robots.txt": "", "/": "<title>never read</title>"},
        "refresh.test": {
            "/robots.txt": "",
            "/": '<html><head><meta http-equiv="refresh" '
            'content="0;url=http://127.0.0.1/admin"></head></html>',
        },
    }
    dns = {
        "good.test": A(SITE_ADDRESS),
        "internal.test": A("127.0.0.3"),
        # A lookup that fails once and then answers loopback (the guard must not let the first through).
        "nx-then-loopback.test": A("NXDOMAIN", "127.0.0.1"),
        # Public for the check, loopback for the connection: only checking the connection's own answer holds.
        "rebind.test": A(SITE_ADDRESS, "127.0.0.1"),
        "v6only.test": {"A": ["NXDOMAIN"], "AAAA": ["::1"]},
        "refresh.test": A(SITE_ADDRESS),
    }
    result = _crawl(
        sqlite_url,
        [
            "-a",
            "domains=good.test,nx-then-loopback.test,rebind.test,v6only.test,refresh.test",
            "-a",
            "max_pages=10",
            "-s",
            "DNSCACHE_ENABLED=false",
        ],
        dns=dns,
        sites=sites,
    )
    _assert_nothing_internal(result, sqlite_url)

    jobs = {j["domain"]: j for j in rows(sqlite_url, "select domain, status, error from jobs")}
    assert jobs["good.test"]["status"] == "complete", result["output"][-3000:]
    for domain in ("nx-then-loopback.test", "rebind.test", "v6only.test", "refresh.test"):
        assert jobs[domain]["status"] == "failed", jobs[domain]
    assert (
        "refused" in jobs["refresh.test"]["error"] and "loopback" in jobs["refresh.test"]["error"]
    )
    assert "DNS lookup failed" in jobs["nx-then-loopback.test"]["error"]
    assert "refused" in jobs["rebind.test"]["error"] and "loopback" in jobs["rebind.test"]["error"]
    # The rebinding name was looked up twice: once by the guard, once for the connection, which refused.
    assert result["dns"].count(["rebind.test", "A"]) >= 2

    files = {
        f["url"]: f["error_message"] or ""
        for f in rows(sqlite_url, "select url, error_message from sitemap_files")
    }
    for url, reason in [
        ("http://127.0.0.1/a.xml", "loopback"),
        ("http://2130706433/b.xml", "loopback"),
        ("http://0x7f.0.0.1/c.xml", "loopback"),
        ("http://[::1]/d.xml", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://internal.test/e.xml", "loopback"),
        ("http://good.test/moved.xml", "loopback"),
        ("http://0177.0.0.1/f.xml", "loopback"),
        ("http://[::ffff:127.0.0.1]/g.xml", "loopback"),
        ("http://[64:ff9b::7f00:1]/h.xml", "reserved"),
        ("http://127.0.0.3/i.xml", "loopback"),
        ("http://internal.test/j.xml", "loopback"),
    ]:
        assert "refused" in files[url] and reason in files[url], (url, files[url])
    assert "file:///etc/passwd" not in files or "refused" in files["file:///etc/passwd"]
    pages = {p["url"]: p for p in rows(sqlite_url, "select url, status_code, title from pages")}
    assert pages["http://good.test/ok"]["title"] == "OK page"
    for url in ("http://10.0.0.7/secret", "http://internal.test/page"):
        assert pages[url]["status_code"] is None and pages[url]["title"] is None
    # The only site contacted is the fixture site.
    assert {r["host"] for r in result["web"]} <= {"good.test", "refresh.test"}


def test_rendered_pages_reach_only_what_the_policy_allows(chromium, netns, sqlite_url):
    attack = """<html><head><title>Render page</title>
      <link rel="stylesheet" href="http://[::1]/x.css"></head>
      <body><p>Rendered content for the test.</p>
      <img src="http://127.0.0.1/pixel.png"><img src="https://127.0.0.1/pixel.png">
      <img src="http://loopname.test/pixel.png"><img src="http://2130706433/p.png">
      <iframe src="http://127.0.0.3/"></iframe><iframe src="http://169.254.169.254/latest/meta-data/"></iframe>
      <script>
        fetch("http://10.0.0.7/secret").catch(() => {});
        fetch("http://127.0.0.1:8080/x", {mode: "no-cors"}).catch(() => {});
        try { new WebSocket("ws://127.0.0.1/ws"); } catch (e) {}
        try { new Worker("http://127.0.0.3/w.js"); } catch (e) {}
        navigator.sendBeacon && navigator.sendBeacon("http://127.0.0.1/beacon", "x");
      </script></body></html>"""
    sites = {
        "render.test": {"/robots.txt": "", "/": attack},
        # Static fetch sees a page; Chromium's fetch of the same URL is redirected to loopback.
        "redirect.test": {
            "/robots.txt": "",
            "/": {
                "sequence": [
                    {
                        "body": "<html><head><title>Static</title></head><body>static text</body></html>"
                    },
                    {"status": 302, "location": "http://127.0.0.1/admin"},
                ]
            },
        },
        # The page navigates itself to an internal address while it loads.
        "jsnav.test": {
            "/robots.txt": "",
            "/": "<html><head><title>Nav</title></head><body>x"
            "<script>location.href='http://10.0.0.7/';</script></body></html>",
        },
        "loopname.test": {},
    }
    dns = {
        "render.test": A(SITE_ADDRESS),
        "redirect.test": A(SITE_ADDRESS),
        "jsnav.test": A(SITE_ADDRESS),
        "loopname.test": A("127.0.0.1"),
    }
    result = _crawl(
        sqlite_url,
        ["-a", "domains=render.test,redirect.test,jsnav.test", "-a", "render=always"],
        dns=dns,
        sites=sites,
    )
    _assert_nothing_internal(result, sqlite_url)
    domains = {
        d["domain"]: d
        for d in rows(sqlite_url, "select domain, status, title, last_error from domains")
    }
    jobs = {j["domain"]: j for j in rows(sqlite_url, "select domain, status, error from jobs")}
    metadata = {
        d["domain"]: _json(d["domain_metadata"])
        for d in rows(sqlite_url, "select domain, domain_metadata from domains")
    }
    assert jobs["render.test"]["status"] == "complete", result["output"][-3000:]
    assert domains["render.test"]["title"] == "Render page"
    redirected = jobs["redirect.test"]
    assert redirected["status"] == "failed" and "refused" in redirected["error"], redirected
    # The self-navigating page: either its own content was read before it left, or the refused
    # navigation is the homepage's failure; never the internal page.
    navigating = jobs["jsnav.test"]
    if navigating["status"] == "complete":
        assert domains["jsnav.test"]["title"] == "Nav"
        assert metadata["jsnav.test"]["homepage_url"].startswith("http://jsnav.test/")
    else:
        assert "refused" in navigating["error"], navigating
    assert "browser request refused" in result["output"]
    # Chromium looked up no name itself, and made no call beyond the scenario's sites.
    looked_up = {name for name, kind in result["dns"] if kind in ("A", "AAAA")}
    scenario = {"render.test", "redirect.test", "jsnav.test", "loopname.test"}
    # A refused homepage sends the scan on to www.<domain> (the crawler's own lookup, not Chromium's).
    assert looked_up <= scenario | {f"www.{name}" for name in scenario}, looked_up
    assert {r["host"] for r in result["web"]} <= {"render.test", "redirect.test", "jsnav.test"}


def test_rendered_pages_behind_a_proxy_check_targets_before_the_proxy(chromium, netns, sqlite_url):
    """With an HTTP proxy configured, the guard still checks each target's address and its resolution."""
    page = """<html><head><title>Proxied</title></head><body><p>Via the proxy.</p>
      <img src="http://169.254.169.254/latest/meta-data/iam">
      <script>fetch("http://metadata.test/latest").catch(() => {});</script></body></html>"""
    sites = {"proxied.test": {"/robots.txt": "", "/": page}}
    dns = {"proxied.test": A(SITE_ADDRESS), "metadata.test": A("169.254.169.254")}
    proxy = f"http://{SITE_ADDRESS}:80"
    result = _crawl(
        sqlite_url,
        ["-a", "domain=proxied.test", "-a", "render=always"],
        dns=dns,
        sites=sites,
        env={"http_proxy": proxy, "https_proxy": proxy},
    )
    _assert_nothing_internal(result, sqlite_url)
    assert rows(sqlite_url, "select status from jobs")[0]["status"] == "complete", result["output"][
        -3000:
    ]
    assert rows(sqlite_url, "select title from domains")[0]["title"] == "Proxied"
    # The proxy (the fixture web) was asked for the site, and never for the metadata address or its name.
    hosts = {r["host"] for r in result["web"]}
    assert "proxied.test" in hosts and not hosts & {"169.254.169.254", "metadata.test"}, hosts


def test_rendered_pages_send_no_webrtc_traffic_past_the_guard(chromium, netns, sqlite_url):
    """A page asks STUN servers on internal addresses for its address (WebRTC, UDP straight from
    the browser), in a namespace with a real interface, where Chromium gathers candidates."""
    stun = [host for host, _ in UDP_TRAPS] + list(VETH_ADDRESSES)
    servers = json.dumps([{"urls": f"stun:{host}:{STUN_PORT}"} for host in stun])
    page = f"""<html><head><title>WebRTC page</title><meta name="description" content="static">
      </head><body><p>Peer connection.</p><img src="/slow.png"><script>
        document.querySelector("meta[name=description]").content = "script ran";
        const seen = [];
        const peer = new RTCPeerConnection({{iceServers: {servers}}});
        peer.createDataChannel("x");
        peer.onicecandidate = (event) => {{
          if (event.candidate) {{
            seen.push(event.candidate.candidate);
            document.title = "WebRTC " + seen.join(" | ");
          }}
        }};
        peer.createOffer().then((offer) => peer.setLocalDescription(offer));
      </script></body></html>"""
    # The image holds the page's load event while candidates are gathered.
    sites = {"rtc.test": {"/robots.txt": "", "/": page, "/slow.png": {"body": "", "delay": 2}}}
    result = _crawl(
        sqlite_url,
        ["-a", "domain=rtc.test", "-a", "render=always"],
        dns={"rtc.test": A(SITE_ADDRESS)},
        sites=sites,
        veth=True,
    )
    assert result["datagrams"] == [], result["datagrams"]
    _assert_nothing_internal(result, sqlite_url)
    job = rows(sqlite_url, "select status from jobs")[0]
    assert job["status"] == "complete", result["output"][-3000:]
    stored = _stored_text(sqlite_url)
    for leaked in (INTERNAL_STUN_ADDRESS, *VETH_ADDRESSES, "srflx", "typ host"):
        assert leaked not in stored, leaked
    domain = rows(sqlite_url, "select title, description, domain_metadata from domains")[0]
    # Rendered, the script ran, and it learnt no address.
    assert _json(domain["domain_metadata"])["rendered"] is True
    assert domain["description"] == "script ran" and domain["title"] == "WebRTC page", domain


SECRETS = {
    "SCRAPYD_PASSWORD": "scrapyd-secret-7f3a",
    "SCRAPERSKY_TEST_SECRET": "scrapersky-secret-91c2",
    "all_proxy": "http://proxyuser:proxy-secret-5d0e@192.0.2.9:3128",
}


def test_chromium_renders_sandboxed_without_the_crawl_secrets(chromium, netns, sqlite_url):
    """Every Chromium process, watched while a page renders: none runs as root or without its
    sandbox, renderers run under seccomp in namespaces of their own, and no process holds the
    crawl's database URL, Scrapyd password, proxy credentials or SCRAPERSKY_ settings, or sees
    the unix sockets under /run."""
    page = """<html><head><title>Sandboxed</title></head><body><p>Rendered.</p>
      <img src="/slow.png"></body></html>"""
    sites = {"box.test": {"/robots.txt": "", "/": page, "/slow.png": {"body": "", "delay": 2}}}
    result = _crawl(
        sqlite_url,
        ["-a", "domain=box.test", "-a", "render=always"],
        dns={"box.test": A(SITE_ADDRESS)},
        sites=sites,
        env=SECRETS,
        inspect_browser=True,
    )
    assert rows(sqlite_url, "select title from domains")[0]["title"] == "Sandboxed", result[
        "output"
    ][-3000:]
    processes = result["browser"]
    renderers = [p for p in processes if "--type=renderer" in p["cmdline"]]
    assert renderers and len(processes) > len(renderers), processes
    for process in processes:
        assert process["uid"] != 0, process
        assert "--no-sandbox" not in process["cmdline"], process
        # Its own network: the guard proxy is its only way out.
        assert process["separate"]["net"], process
        names = {entry.split("=", 1)[0] for entry in process["environ"]}
        assert not names & {"DATABASE_URL", *SECRETS}, names
        assert not {n for n in names if n.startswith(("SCRAPERSKY_", "SCRAPYD_"))}, names
        assert not {n for n in names if n.lower().endswith("_proxy")}, names
        text = "\0".join(process["environ"])
        for value in (sqlite_url, *SECRETS.values()):
            assert value not in text, value
        # Nor a local database's unix socket (PostgreSQL's is in /var/run, which is /run).
        assert not process["sees_run_trap"], process
    for renderer in renderers:
        assert renderer["seccomp"] == 2 and renderer["no_new_privs"] == 1, renderer
        assert renderer["separate"]["user"] and renderer["separate"]["pid"], renderer


def test_a_proxy_that_resolves_names_is_handed_checked_addresses(chromium, netns, sqlite_url):
    """DNS rebinding through the deployment's proxy: names answer the crawler with the site's
    address, then answer loopback to the proxy (a real forwarding proxy that resolves names
    itself). Scrapy's sitemaps and homepages over HTTP and HTTPS (a tunnel), and a rendered
    page's subresources (plain and CONNECT) through Chromium's guard proxy, all reach the proxy
    as the checked address: the proxy resolves nothing, and no trap is reached."""
    rebinding = A(SITE_ADDRESS, "127.0.0.1")
    urlset = "<urlset>{}</urlset>".format
    rendered = """<html><head></head><body><img src="http://pixel.test/p.png">
      <img src="https://pixel-tls.test/p.png"><script>document.title = "Rendered page";
      document.body.append("Rendered text");</script></body></html>"""
    sites = {
        "sitemap.test": {
            "/robots.txt": "Sitemap: http://sitemap.test/sitemap.xml\n",
            "/sitemap.xml": urlset("<url><loc>http://sitemap.test/a</loc></url>"),
            "/": "<html><head><title>Sitemap site</title></head><body>public</body></html>",
        },
        "render.test": {"/robots.txt": "", "/": rendered},
        "pixel.test": {"/p.png": "png"},
    }
    tls_site = {
        "host": "tls.test",
        "routes": {
            "/robots.txt": "Sitemap: https://tls.test/sitemap.xml\n",
            "/sitemap.xml": urlset("<url><loc>https://tls.test/s</loc></url>"),
            "/": "<html><head><title>TLS site</title></head><body>secure</body></html>",
        },
    }
    dns = {
        "sitemap.test": rebinding,
        "tls.test": rebinding,
        "render.test": A(SITE_ADDRESS),
        "pixel.test": rebinding,
        "pixel-tls.test": rebinding,
    }
    result = _crawl(
        sqlite_url,
        ["-a", "domains=sitemap.test,tls.test,render.test", "-a", "render=auto"],
        dns=dns,
        sites=sites,
        env={"SCRAPERSKY_SCHEMES": "https,http"},
        forward_proxy=True,
        tls_site=tls_site,
    )
    _assert_nothing_internal(result, sqlite_url)
    # The proxy was handed addresses only: it had no name to resolve.
    proxied = result["proxy"]
    targets = {
        entry["target"].split("/")[2] if "/" in entry["target"] else entry["target"]
        for entry in proxied
    }
    assert targets <= {f"{SITE_ADDRESS}:80", f"{SITE_ADDRESS}:443"}, targets
    assert {entry["connected"] for entry in proxied} == {SITE_ADDRESS}, proxied
    hosts = {entry["host"] for entry in proxied if entry["method"] != "CONNECT"}
    assert {"sitemap.test", "render.test", "pixel.test"} <= hosts, hosts
    domains = {
        d["domain"]: (d["title"], _json(d["domain_metadata"]))
        for d in rows(sqlite_url, "select domain, title, domain_metadata from domains")
    }
    assert domains["sitemap.test"][0] == "Sitemap site", result["output"][-3000:]
    # TLS through the tunnel to the address still verified the name's certificate (SNI).
    assert domains["tls.test"][0] == "TLS site"
    assert domains["tls.test"][1]["homepage_url"] == "https://tls.test/"
    assert domains["render.test"][0] == "Rendered page" and domains["render.test"][1]["rendered"]
    pages = {p["url"] for p in rows(sqlite_url, "select url from pages")}
    assert pages == {"http://sitemap.test/a", "https://tls.test/s"}, pages
    assert {"host": "pixel.test", "path": "/p.png", "method": "GET"} in result["web"]


@pytest.mark.volume
def test_sitemap_fan_out_stops_at_the_cap_with_bounded_memory(netns, sqlite_url):
    """Every index lists 1,000 new indexes: the scan reads SCRAPERSKY_MAX_SITEMAPS of them, says so, and
    its memory stays bounded (500 read: half a million sitemap references offered)."""
    result = _crawl(
        sqlite_url,
        ["-a", "domain=fan.test"],
        dns={"fan.test": A(SITE_ADDRESS)},
        sites={"fan.test": {f"/fan/{n}.xml": {"fanout": 1000} for n in range(502)}},
        fanout={"fan.test": 1000},
        env={"SCRAPERSKY_MAX_SITEMAPS": "500"},
        untraced=True,
    )
    assert result["traps"] == []
    job = rows(sqlite_url, "select status, result_data from jobs")[0]
    assert job["status"] == "complete", result["output"][-3000:]
    assert "sitemap cap 500 reached" in str(job["result_data"])
    fetched = [r for r in result["web"] if r["path"].startswith("/fan/")]
    assert 450 <= len(fetched) <= 500
    assert result["max_rss"] < 300 * MB, result["max_rss"] / MB


@pytest.mark.volume
def test_header_bomb_is_cut_off_with_a_clear_error(netns, sqlite_url):
    """A robots.txt answer whose header section never ends (continuation lines, 200 MB)."""
    result = _crawl(
        sqlite_url,
        ["-a", "domain=bomb.test"],
        dns={"bomb.test": A("127.0.0.4")},
        sites={},
        header_bomb="127.0.0.4",
        bomb_megabytes=200,
        untraced=True,
    )
    assert result["traps"] == []
    job = rows(sqlite_url, "select status, error from jobs")[0]
    assert job["status"] == "failed" and "response headers larger than" in job["error"], job
    assert result["max_rss"] < 300 * MB, result["max_rss"] / MB
