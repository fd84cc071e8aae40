"""Fixture sites for sitemap discovery and parsing: one made-up domain per case."""

from __future__ import annotations

import gzip
import zlib

from tests.support.fixture_web import Reply
from tests.support.in_flight import InFlight

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
SECRET = "root:x:0:0"  # what /etc/passwd would leak


def urlset(urls, extra_ns: str = "") -> str:
    body = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS} {extra_ns}>{body}</urlset>'


def index(children) -> str:
    body = "".join(f"<sitemap><loc>{c}</loc></sitemap>" for c in children)
    return f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex {NS}>{body}</sitemapindex>'


def home(title: str, head: str = "") -> str:
    return f"<html><head><title>{title}</title>{head}</head><body><p>{title} home</p></body></html>"


def pages(host: str, prefix: str, n: int) -> list[str]:
    return [f"http://{host}/{prefix}{i}" for i in range(n)]


def build(web) -> dict[str, dict]:
    """Register every case; returns host → what the database must show."""
    cases: dict[str, dict] = {}

    def site(host: str, title: str | None = None, head: str = ""):
        s = web.site(host)
        s.add("/", home(title or host, head))
        return s

    # robots.txt: case, spacing, Site-map spelling, relative path, BOM, an invalid UTF-8 line, several sitemaps
    h = "robots.test"
    s = site(h)
    s.add(
        "/robots.txt",
        b"\xef\xbb\xbfUser-agent: *\nSITEMAP:    /relative.xml  \n\xff\xfe bad line\n"
        b"site-map: http://robots.test/second.xml\nsitemap:http://robots.test/third.xml\n",
    )
    for name in ("relative", "second", "third"):
        s.add(f"/{name}.xml", urlset(pages(h, name, 3)))
    cases[h] = {
        "urls": 9,
        "files": {f"http://{h}/{n}.xml": "robots_txt" for n in ("relative", "second", "third")},
    }

    # well-known paths when robots.txt lists none: the most common ones first, asked together;
    # nothing past them once they find a sitemap, and no .gz copy of a path that answered
    h = "wellknown.test"
    s = site(h)
    s.add("/robots.txt", "User-agent: *\nDisallow:\n")
    # The two probes that exist are each held until both are in progress: concurrent probing shows
    # as a peak of 2 (one after another, the first gives up waiting and the peak stays 1).
    together = InFlight(expected=2, total=2, timeout=10)
    s.handler(
        "/sitemap_index.xml",
        together.route(
            Reply(200, index([f"http://{h}/a.xml"]).encode(), {"Content-Type": "application/xml"})
        ),
    )
    s.add("/a.xml", urlset(pages(h, "a", 4)))
    plain = urlset(pages(h, "t", 2)).encode()
    s.handler(
        "/sitemap.xml",
        together.route(Reply(200, plain, {"Content-Type": "application/xml"})),
    )
    s.add("/sitemap.xml.gz", gzip.compress(plain))  # the usual copy of the plain one
    cases[h] = {
        "urls": 6,
        "files": {
            f"http://{h}/sitemap_index.xml": "well_known",
            f"http://{h}/a.xml": "sitemap_index",
            f"http://{h}/sitemap.xml": "well_known",
        },
        "probes_in_flight": together,
        "guessed": ["/sitemap.xml", "/sitemap_index.xml", "/sitemap-index.xml"],
    }

    # nothing at the most common paths: the rest are asked, then the .gz copies of those missing
    h = "textonly.test"
    s = site(h)
    s.add("/sitemap.txt", "\n".join(pages(h, "t", 2)) + "\n", content_type="text/plain")
    cases[h] = {"urls": 2, "files": {f"http://{h}/sitemap.txt": "well_known"}}
    h = "gzonly.test"
    s = site(h)
    s.add("/sitemap_index.xml.gz", gzip.compress(urlset(pages(h, "g", 3)).encode()))
    cases[h] = {"urls": 3, "files": {f"http://{h}/sitemap_index.xml.gz": "well_known"}}

    # robots.txt declares a sitemap: only the two most common undeclared paths are guessed
    h = "declared.test"
    s = site(h)
    s.add("/robots.txt", f"Sitemap: http://{h}/sitemap_index.xml\n")
    s.add("/sitemap_index.xml", index([f"http://{h}/products.xml"]))
    s.add("/products.xml", urlset(pages(h, "p", 3)))
    s.add("/sitemap-index.xml", urlset(pages(h, "extra", 1)))  # undeclared, commonly named
    s.add("/sitemap.php", urlset(pages(h, "rare", 1)))  # undeclared, rare: not asked
    cases[h] = {
        "urls": 4,
        "reached": ["/sitemap_index.xml"],
        "guessed": ["/sitemap.xml", "/sitemap-index.xml"],
        "never": ["/sitemap.php"],
    }

    # the homepage's generator picks the paths: WordPress with Yoast (sitemap_index.xml, whose
    # children are not guessed), Hugo
    h = "yoast.test"
    s = site(h, head='<meta name="generator" content="WordPress 6.4.2">')
    s.add(
        "/sitemap_index.xml",
        index([f"http://{h}/post-sitemap.xml", f"http://{h}/page-sitemap.xml"]),
    )
    s.add("/post-sitemap.xml", urlset(pages(h, "post", 3)))
    s.add("/page-sitemap.xml", urlset(pages(h, "page", 2)))
    cases[h] = {
        "urls": 5,
        "guessed": ["/sitemap_index.xml", "/wp-sitemap.xml", "/sitemap.xml"],
        "once": ["/post-sitemap.xml", "/page-sitemap.xml"],  # from the index, never guessed
    }
    h = "hugo.test"
    s = site(h, head='<meta name="generator" content="Hugo 0.121.1">')
    s.add("/sitemap.xml", urlset(pages(h, "h", 2)))
    cases[h] = {"urls": 2, "guessed": ["/sitemap.xml"]}

    # a news site (its homepage's JSON-LD says so) is asked the news paths beside what it declares
    h = "news.test"
    news = '{"@context": "https://schema.org", "@type": "NewsMediaOrganization", "name": "Daily"}'
    s = site(h, head=f'<script type="application/ld+json">{news}</script>')
    s.add("/robots.txt", f"Sitemap: http://{h}/sitemap.xml\n")
    s.add("/sitemap.xml", urlset(pages(h, "story", 2)))
    s.add("/sitemap_news.xml", urlset(pages(h, "today", 1)))
    cases[h] = {
        "urls": 3,
        "reached": ["/sitemap.xml"],
        "guessed": [
            "/sitemap_index.xml",
            "/sitemap-index.xml",
            "/sitemap-news.xml",
            "/sitemap_news.xml",
        ],
    }

    # WordPress core sitemaps
    h = "wp.test"
    s = site(h)
    s.add(
        "/wp-sitemap.xml",
        index(
            [f"http://{h}/wp-sitemap-posts-post-1.xml", f"http://{h}/wp-sitemap-posts-page-1.xml"]
        ),
    )
    s.add("/wp-sitemap-posts-post-1.xml", urlset(pages(h, "post", 5)))
    s.add("/wp-sitemap-posts-page-1.xml", urlset(pages(h, "page", 2)))
    cases[h] = {"urls": 7, "types": {f"http://{h}/wp-sitemap.xml": "index"}}

    # <link rel="sitemap"> and sitemap links on the homepage
    h = "htmllink.test"
    s = site(h, head='<link rel="sitemap" type="application/xml" href="/maps/custom-map.xml">')
    s.add("/robots.txt", "User-agent: *\n")
    s.add("/maps/custom-map.xml", urlset(pages(h, "x", 3)))
    cases[h] = {"urls": 3, "files": {f"http://{h}/maps/custom-map.xml": "html_link"}}

    # index recursion depth 3, self link and a cycle: each sitemap fetched once
    h = "deep.test"
    s = site(h)
    s.add("/robots.txt", f"Sitemap: http://{h}/i1.xml\n")
    s.add("/i1.xml", index([f"http://{h}/i1.xml", f"http://{h}/i2.xml"]))
    s.add("/i2.xml", index([f"http://{h}/i3.xml", f"http://{h}/i1.xml"]))
    s.add("/i3.xml", index([f"http://{h}/leaf.xml", f"http://{h}/i2.xml"]))
    s.add("/leaf.xml", urlset(pages(h, "leaf", 5)))
    cases[h] = {"urls": 5, "once": ["/i1.xml", "/i2.xml", "/i3.xml", "/leaf.xml"]}

    # depth cap (the suite runs with SCRAPERSKY_SITEMAP_MAX_DEPTH=3)
    h = "capped.test"
    s = site(h)
    s.add("/robots.txt", f"Sitemap: http://{h}/d0.xml\n")
    for d in range(6):
        s.add(
            f"/d{d}.xml", index([f"http://{h}/d{d + 1}.xml"]) if d < 5 else urlset(pages(h, "z", 2))
        )
    cases[h] = {"urls": 0, "never": ["/d4.xml", "/d5.xml"]}

    # a redirect back to an ancestor sitemap is a loop, and a redirect cycle ends
    h = "redirect.test"
    s = site(h)
    s.add("/robots.txt", f"Sitemap: http://{h}/top.xml\nSitemap: http://{h}/cycle-a.xml\n")
    s.add("/top.xml", index([f"http://{h}/moved.xml", f"http://{h}/ok.xml"]))
    s.redirect("/moved.xml", f"http://{h}/top.xml")
    s.add("/ok.xml", urlset(pages(h, "ok", 2)))
    s.redirect("/cycle-a.xml", f"http://{h}/cycle-b.xml")
    s.redirect("/cycle-b.xml", f"http://{h}/cycle-a.xml")
    cases[h] = {"urls": 2, "errors": [f"http://{h}/moved.xml", f"http://{h}/cycle-a.xml"]}

    # gzip by magic bytes, .gz, Content-Type, Content-Encoding; a .gz that is not gzip
    h = "gzip.test"
    s = site(h)
    names = ["magic.xml", "suffix.xml.gz", "ctype", "cenc.xml", "fake.xml.gz"]
    s.add("/robots.txt", "".join(f"Sitemap: http://{h}/{n}\n" for n in names))
    s.add(
        "/magic.xml",
        gzip.compress(urlset(pages(h, "m", 2)).encode()),
        content_type="application/xml",
    )
    s.add("/suffix.xml.gz", gzip.compress(urlset(pages(h, "s", 2)).encode()))
    s.add(
        "/ctype",
        gzip.compress(urlset(pages(h, "c", 2)).encode()),
        content_type="application/x-gzip",
    )
    s.add(
        "/cenc.xml",
        gzip.compress(urlset(pages(h, "e", 2)).encode()),
        content_type="application/xml",
        headers={"Content-Encoding": "gzip"},
    )
    s.add("/fake.xml.gz", urlset(pages(h, "f", 2)), content_type="application/xml")
    cases[h] = {
        "urls": 10,
        "gzipped": {
            f"http://{h}/magic.xml": True,
            f"http://{h}/suffix.xml.gz": True,
            f"http://{h}/ctype": True,
            f"http://{h}/fake.xml.gz": False,
        },
    }

    # plain text (junk skipped), RSS 2.0, Atom 1.0 and 0.3
    h = "feeds.test"
    s = site(h)
    s.add(
        "/robots.txt",
        "".join(
            f"Sitemap: http://{h}/{n}\n" for n in ("list.txt", "rss.xml", "atom.xml", "atom03.xml")
        ),
    )
    s.add("/list.txt", f"http://{h}/t1\n\njunk line\nftp://{h}/no\n  http://{h}/t2  \n/relative\n")
    s.add(
        "/rss.xml",
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
        f"<item><link>http://{h}/r1</link><pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate></item>"
        f"<item><link>http://{h}/r2</link></item></channel></rss>",
    )
    s.add(
        "/atom.xml",
        f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>'
        f'<entry><link rel="alternate" href="http://{h}/a1"/><updated>2003-12-13T18:30:02Z</updated></entry>'
        # only its own Atom document (an API address) and an edit link: no page
        f'<entry><link rel="self" href="http://{h}/api/a2"/><link rel="edit" href="http://{h}/api/a2/1"/></entry>'
        "</feed>",
    )
    s.add(
        "/atom03.xml",
        f'<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/atom/ns#">'
        f'<entry><link rel="alternate" type="text/html" href="http://{h}/o1"/><modified>2003-12-13T18:30:02Z</modified>'
        "</entry></feed>",
    )
    # "/relative" is resolved against the text sitemap's URL; "junk line" and ftp:// are skipped;
    # the Atom entry with only self and edit links lists nothing
    cases[h] = {
        "urls": 7,
        "types": {
            f"http://{h}/list.txt": "text",
            f"http://{h}/rss.xml": "rss",
            f"http://{h}/atom.xml": "atom",
            f"http://{h}/atom03.xml": "atom",
        },
    }

    # messy XML: no namespace, BOM and blank lines before the declaration, comments, whitespace,
    # entities and CDATA, empty <loc>, and a query-string sitemap URL
    h = "messy.test"
    s = site(h)
    s.add("/robots.txt", f"Sitemap: http://{h}/sitemap.php?page=1\nSitemap: http://{h}/old.xml\n")
    s.add(
        "/sitemap.php?page=1",
        b"\xef\xbb\xbf\n\n  "
        + (
            f'<?xml version="1.0" encoding="UTF-8"?><!-- generated --><urlset>'
            f"<url><loc>\n   http://{h}/a?x=1&amp;y=2   \n</loc></url>"
            f"<url><loc><![CDATA[http://{h}/b?q=1&r=2]]></loc></url>"
            f"<url><loc></loc></url><url><loc>   </loc></url>"
            f"<!-- <url><loc>http://{h}/commented</loc></url> -->"
            f"<url><loc>http://{h}/c</loc></url></urlset>"
        ).encode(),
        content_type="application/xml",
    )
    s.add(
        "/old.xml",
        f'<?xml version="1.0"?><urlset xmlns="http://www.google.com/schemas/sitemap/0.84">'
        f"<url><loc>http://{h}/old1</loc></url></urlset>",
    )
    cases[h] = {
        "urls": 4,
        "present": [
            f"http://{h}/a?x=1&y=2",
            f"http://{h}/b?q=1&r=2",
            f"http://{h}/c",
            f"http://{h}/old1",
        ],
    }

    # truncated XML keeps everything before the damage
    h = "truncated.test"
    s = site(h)
    s.add("/robots.txt", f"Sitemap: http://{h}/cut.xml\n")
    full = urlset(pages(h, "k", 10))
    s.add("/cut.xml", full[: full.index("k7")])
    cases[h] = {"urls": 7, "present": pages(h, "k", 7), "errors": [f"http://{h}/cut.xml"]}

    # soft 404s: a declared sitemap that is HTML is an error; guessed paths that answer HTML are not
    h = "soft404.test"
    s = site(h)
    s.add("/robots.txt", f"Sitemap: http://{h}/declared.xml\n")
    s.add("/declared.xml", "<html><body>Page not found</body></html>", content_type="text/html")
    cases[h] = {"urls": 0, "errors": [f"http://{h}/declared.xml"], "file_count": 1}
    h = "softwk.test"
    s = site(h)
    for path in ("/sitemap.xml", "/sitemap_index.xml", "/sitemap.txt", "/wp-sitemap.xml"):
        s.add(
            path,
            "<html><body>Welcome! (every page is the homepage)</body></html>",
            content_type="text/html",
        )
    cases[h] = {"urls": 0, "file_count": 0}

    # per-URL fields
    h = "fields.test"
    s = site(h)
    s.add("/robots.txt", f"Sitemap: http://{h}/f.xml\n")
    s.add(
        "/f.xml",
        f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset {NS} xmlns:xhtml="http://www.w3.org/1999/xhtml" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9" xmlns:video="http://www.google.com/schemas/sitemap-video/1.1">
<url><loc>http://{h}/iso</loc><lastmod>2024-03-05T10:20:30+02:00</lastmod><changefreq>Weekly</changefreq><priority>0.7</priority>
 <xhtml:link rel="alternate" hreflang="de" href="http://{h}/de/iso"/><xhtml:link rel="alternate" hreflang="x-default" href="http://{h}/iso"/>
 <image:image><image:loc>http://{h}/1.jpg</image:loc></image:image><image:image><image:loc>http://{h}/2.jpg</image:loc><image:title>Two</image:title></image:image>
 <video:video><video:thumbnail_loc>http://{h}/v.jpg</video:thumbnail_loc><video:title>v</video:title>
 <video:content_loc>http://{h}/v.mp4</video:content_loc></video:video></url>
<url><loc>http://{h}/rfc</loc><lastmod>Tue, 05 Mar 2024 10:20:30 GMT</lastmod><priority>7</priority><changefreq>sometimes</changefreq></url>
<url><loc>http://{h}/bad</loc><lastmod>yesterday</lastmod><priority>high</priority></url>
<url><loc>http://{h}/news</loc><news:news><news:publication><news:name>Daily</news:name><news:language>en</news:language></news:publication>
 <news:publication_date>2024-03-05</news:publication_date><news:title>Big &amp; news</news:title></news:news></url>
</urlset>""",
    )
    cases[h] = {"urls": 4}

    # hostile files: external entity, billion laughs, gzip bomb, oversized download
    h = "hostile.test"
    s = site(h)
    s.add(
        "/robots.txt",
        "".join(
            f"Sitemap: http://{h}/{n}\n"
            for n in ("xxe.xml", "laughs.xml", "bomb.xml.gz", "huge.xml", "good.xml")
        ),
    )
    s.add(
        "/xxe.xml",
        f'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f"<urlset {NS}><url><loc>http://{h}/&x;</loc></url><url><loc>http://{h}/safe</loc></url></urlset>",
    )
    s.add(
        "/laughs.xml",
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
        + f"]><urlset {NS}><url><loc>http://{h}/&i;</loc></url></urlset>",
    )
    s.add("/bomb.xml.gz", _gzip_bomb(64 * 1024 * 1024))
    s.add(
        "/huge.xml",
        b"<urlset>" + b" " * (9 * 1024 * 1024) + b"</urlset>",
        content_type="application/xml",
    )
    s.add("/good.xml", urlset(pages(h, "g", 2)))
    cases[h] = {
        "urls_at_most": 4,
        "present": [f"http://{h}/g0", f"http://{h}/safe"],
        "errors": [f"http://{h}/bomb.xml.gz", f"http://{h}/huge.xml"],
    }

    # the same URL in two sitemaps is stored once
    h = "dupes.test"
    s = site(h)
    s.add("/robots.txt", f"Sitemap: http://{h}/one.xml\nSitemap: http://{h}/two.xml\n")
    s.add("/one.xml", urlset(pages(h, "d", 5)))
    s.add("/two.xml", urlset([*pages(h, "d", 5)[2:], f"http://{h}/extra"]))
    cases[h] = {"urls": 6}
    return cases


def _gzip_bomb(size: int) -> bytes:
    """`size` bytes of zeros inside a valid urlset prefix, gzipped to a few dozen KB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [compressor.compress(b'<?xml version="1.0"?><urlset><url><loc>http://hostile.test/')]
    block = b"0" * (1024 * 1024)
    for _ in range(size // len(block)):
        out.append(compressor.compress(block))
    out.append(compressor.flush())
    return b"".join(out)
