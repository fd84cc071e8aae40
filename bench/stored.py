"""Stored data, REF's code beside the working tree's: what a refactor must leave unchanged.

One fixture web serves the demo shop (demo.test), every site bench.discovery reads (the suite's
sitemap cases and the generator-shaped corpus sites) and meta.test, a homepage with what this
round's metadata fixes read (a regional html lang, a phone in the cell beside its label, a
versioned jQuery path, an Atom feed with an entry that links only to itself). Each tree gets a
fresh database migrated by its own migrations, PostgreSQL and then SQLite, and, with its own
`scrapy crawl sitemap` processes (every listed page fetched, no rendering):
  1. scans every site as a batch (the batch row made by the tree's own jobs.create_batch, the
     crawl given its batch_id, as a Scrapyd run is);
  2. after demo.test drops a product, adds one, moves every product's lastmod and changes its
     title, and robots.test stops declaring third.xml, rescans every site (`-a domains=...`).

Then every row of domains, sitemap_files, pages, scan_changes, jobs and batch_jobs is compared,
column by column and JSON key by JSON key, in a canonical form: surrogate ids dropped; the times
we write (TIMES), random public ids (jobs.job_id and run_id, batch_jobs.batch_id) and jobs.stats
(the run's Scrapy counters when the job ended) kept only as set or null; foreign keys as natural
keys (domain name, sitemap URL, "<domain> scan <n>", "batch <n>"); sitemap_files.listing as a
digest of its unzipped bytes. Rows are paired by natural key. A difference listed in EXPLAINED
prints as explained (with its commit) or as varying from run to run (found comparing a commit
with itself); any other fails (exit 1).

    python -m bench --only stored --baseline REF
    python -m bench.stored REF [OURS]      # OURS: a commit's export instead of the working tree
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench import Figure
from bench.baseline import Baseline, BaselineError
from bench.site import ROOT

TABLES = ("domains", "sitemap_files", "pages", "scan_changes", "jobs", "batch_jobs")
TENANT = "550e8400-e29b-41d4-a716-446655440000"
TIMES = {
    *("created_at", "updated_at", "started_at", "finished_at", "heartbeat_at", "first_seen_at"),
    *("last_seen_at", "removed_at", "fetched_at", "confirmed_at", "changed_at", "last_scan"),
    *("metadata_at", "start_time", "end_time"),
}
# Kept only as set or null too: random public ids, and a job's stats (its run's Scrapy counters
# when the job ended: with other domains of the run in flight, times, sizes and retries).
PUBLIC_IDS = {("jobs", "job_id"), ("jobs", "run_id"), ("batch_jobs", "batch_id"), ("jobs", "stats")}
PAGES = 1000  # every listed page fetched: which ones a smaller budget takes depends on timing
ROW = "(row)"  # a row found on one side only
EXAMPLES = 3


@dataclass(frozen=True)
class Explained:
    """A known difference: `columns` are "table.column", a JSON path under one ("table.column.key";
    a path covers what is under it) or "table.(row)"; on the given domains only, if any. Made by
    `commit` since the REFs compared (git log), or, with no commit, found comparing a commit with
    itself: what varies from run to run."""

    commit: str
    reason: str
    columns: tuple[str, ...]
    hosts: tuple[str, ...] = ()

    def covers(self, table: str, column: str, host: str) -> bool:
        path = f"{table}.{column}"
        in_columns = any(path == c or path.startswith(c + ".") for c in self.columns)
        return in_columns and (not self.hosts or host in self.hosts)


# What a domain's discovery found, counted: differs wherever discovery finds other sitemaps.
FOUND = (
    "domains.sitemap_urls", "domains.total_sitemaps", "domains.domain_metadata.scan",
    "sitemap_files.(row)", "pages.(row)", "scan_changes.new", "jobs.result_data",
)  # fmt: skip
EXPLAINED = [
    Explained("3958327", "per-step discovery request counts and guess rounds in result_data",
              ("jobs.result_data.discovery_requests", "jobs.result_data.guess_rounds",
               "domains.domain_metadata.scan.discovery_requests",
               "domains.domain_metadata.scan.guess_rounds")),
    Explained("3958327", "guesses in rounds: the generator's own paths (Hexo's baidusitemap.xml), "
              "no .gz copy of a path that answered", FOUND, ("hexo.corpus.test", "wellknown.test")),
    Explained("af39a21", "sitemap.php is no longer guessed; Yoast's children come from "
              "sitemap_index.xml, not guesses",
              (*FOUND, "sitemap_files.discovery_method", "sitemap_files.parent_id"),
              ("declared.test", "yoast.test", "yoast.corpus.test")),
    Explained("80e0905", "an Atom entry whose only link is rel=self lists no page",
              (*FOUND, "sitemap_files.url_count"), ("feeds.test", "meta.test")),
    Explained("04c38f1", "html lang keeps its region as written (de-DE)",
              ("domains.language", "domains.domain_metadata.language"), ("meta.test",)),
    Explained("08789d9", "versions from script addresses (jQuery's) in domain_metadata.tech_versions",
              ("domains.domain_metadata.tech_versions",)),
    Explained("", "a URL that several sitemaps list keeps the listing of the one written last",
              ("pages.sitemap_file_id", "pages.lastmod", "pages.changefreq", "pages.priority"),
              ("hexo.corpus.test", "dupes.test")),
    Explained("108a84f", "a page fetched before its sitemap's rows were written gets first_seen_at "
              "when listed (it kept null, as timing fell)", ("pages.first_seen_at",)),
]  # fmt: skip


@dataclass(frozen=True)
class Tree:
    root: Path
    env_extra: dict[str, str]
    label: str


# -- the sites -------------------------------------------------------------------------------


def serve(web) -> list[str]:
    """Every site of the comparison on `web`; returns their hosts."""
    from bench.discovery import generator_sites
    from tests.support import sitemap_sites
    from tests.support.fixture_web import demo_site

    hosts = [*sitemap_sites.build(web), *generator_sites(web)]
    demo_site(web, "demo.test")
    meta = web.site("meta.test")
    meta.add("/", META_HOME, content_type="text/html; charset=utf-8")
    meta.add("/robots.txt", "Sitemap: http://meta.test/feed.atom\n")
    meta.add("/feed.atom", META_FEED, content_type="application/atom+xml")
    return [*hosts, "demo.test", "meta.test"]


META_HOME = """<!DOCTYPE html><html lang="de-DE"><head><meta charset="utf-8"><title>Meta</title>
<script src="/wp-includes/js/jquery/jquery.min.js?ver=3.7.1"></script>
<script src="https://cdn.jsdelivr.net/npm/jquery@3.6.0/dist/jquery.min.js"></script></head>
<body><table><tr><td>Telefon:</td><td>+49 711 123456</td></tr></table></body></html>"""
META_FEED = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>Meta</title><id>urn:meta</id><updated>2024-05-01T00:00:00Z</updated>
<entry><title>A</title><id>urn:a</id><updated>2024-05-01T00:00:00Z</updated>
<link rel="self" href="http://meta.test/api/entries/a"/></entry>
<entry><title>B</title><id>urn:b</id><updated>2024-05-02T00:00:00Z</updated>
<link href="http://meta.test/b"/></entry></feed>"""


def change(web) -> None:
    """What the rescan finds changed: demo.test's products and title, robots.test's sitemaps."""
    from tests.support.fixture_web import DEMO_PRODUCTS, DEMO_TITLE

    demo = web.site("demo.test")
    listed = [*DEMO_PRODUCTS[:-1], "/products/new-vase"]
    urls = "".join(
        f"<url><loc>http://demo.test{path}</loc><lastmod>2024-06-{day:02d}</lastmod></url>"
        for day, path in enumerate(listed, start=1)
    )
    demo.add(
        "/sitemap-products.xml",
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
    )
    home = demo.route("/").reply.body.decode()
    demo.add("/", home.replace(DEMO_TITLE, "Shop One – Ceramics"), content_type="text/html")
    robots = web.site("robots.test")
    robots.add("/robots.txt", "Sitemap: /relative.xml\nSitemap: http://robots.test/second.xml\n")
    robots.add("/third.xml", "gone", status=404)


# -- the crawls ------------------------------------------------------------------------------


def scan_both(trees: list[Tree], kind: str) -> dict[str, dict[str, list[dict]]]:
    """Each tree's canonical tables after a batch scan and a rescan of every site, each tree in a
    fresh database of `kind` (postgresql or sqlite) migrated by its own migrations."""
    from tests.support.fixture_web import FixtureWeb

    with FixtureWeb() as web, _databases(kind) as urls:
        hosts = serve(web)
        for tree, url in zip(trees, urls, strict=True):
            _python(tree, f"from scrapersky.db.schema import upgrade; upgrade({url!r})")
            # A tree whose create_batch takes the caller's session (in_transaction) or,
            # before issue 30, a URL.
            public = _python(
                tree,
                "from scrapersky.db import engine, jobs\n"
                f"args = ({TENANT!r}, {hosts!r}, {{'max_pages': {PAGES}, 'render': 'never'}})\n"
                "made = (\n"
                f"    engine.in_transaction({url!r}, jobs.create_batch, *args)\n"
                "    if hasattr(engine, 'in_transaction')\n"
                f"    else jobs.create_batch({url!r}, *args)\n"
                ")\n"
                "print(made.batch_id)",
            ).strip()
            _crawl(tree, url, web, "batch_id=" + public, len(hosts))
        change(web)
        for tree, url in zip(trees, urls, strict=True):
            _crawl(tree, url, web, "domains=" + ",".join(hosts), 2 * len(hosts))
        return {tree.label: dump(url) for tree, url in zip(trees, urls, strict=True)}


@contextmanager
def _databases(kind: str) -> Iterator[list[str]]:
    """Two new, empty databases (dropped afterwards)."""
    from tests.support.databases import fresh_postgres

    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-stored-") as work:
            yield [f"sqlite:///{Path(work) / name}.db" for name in ("ref", "tree")]
        return
    with fresh_postgres(migrate=False) as ref, fresh_postgres(migrate=False) as ours:
        yield [ref, ours]


def _python(tree: Tree, code: str) -> str:
    from tests.support.commands import scrapy_env

    env = {**scrapy_env("", None), **tree.env_extra}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tree.root, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{tree.label}: {done.stderr.strip()[-2000:]}")
    return done.stdout


def _crawl(tree: Tree, url: str, web, source: str, jobs: int) -> None:
    """One `scrapy crawl sitemap` of `tree`; afterwards `jobs` jobs, every one ended."""
    from tests.support.commands import scrapy, scrapy_env
    from tests.support.db import scalar

    env = scrapy_env(
        url, web, SCRAPERSKY_SCHEMES="http", LOG_LEVEL="WARNING", SCRAPERSKY_DEFAULT_TENANT=TENANT
    )
    arguments = ("-a", source, "-a", f"max_pages={PAGES}", "-a", "render=never")
    limits = ("-s", "DOWNLOAD_MAXSIZE=8388608", "-s", "SCRAPERSKY_SITEMAP_MAX_BYTES=8388608")
    done = scrapy(
        "crawl", "sitemap", *arguments, *limits,
        env={**env, **tree.env_extra}, cwd=tree.root, timeout=900,
    )  # fmt: skip
    # Exit 1 is a crawl with failed domains (some cases fail on purpose); no job may be left.
    ended = scalar(url, "select count(*) from jobs where status not in ('pending', 'running')")
    if done.returncode not in (0, 1) or ended != jobs:
        raise RuntimeError(
            f"scrapy crawl ({tree.label}) exited {done.returncode} with {ended} of {jobs} jobs "
            f"ended:\n{done.stderr[-3000:]}"
        )


# -- the canonical form ----------------------------------------------------------------------


def dump(url: str) -> dict[str, list[dict]]:
    """Every table's rows in the canonical form the docstring describes."""
    from tests.support.db import rows

    raw = {table: rows(url, f"select * from {table} order by id") for table in TABLES}
    domains = {r["id"]: r["domain"] for r in raw["domains"]}
    sitemaps = {r["id"]: r["url"] for r in raw["sitemap_files"]}
    batches = {r["id"]: f"batch {n}" for n, r in enumerate(raw["batch_jobs"], start=1)}
    jobs, scans = {}, defaultdict(int)
    for r in raw["jobs"]:
        scans[r["domain"]] += 1
        jobs[r["id"]] = f"{r['domain']} scan {scans[r['domain']]}"
    refer = {
        "domain_id": domains, "sitemap_file_id": sitemaps, "parent_id": sitemaps,
        "job_id": jobs, "batch_id": batches,
    }  # fmt: skip
    names = {"jobs": jobs, "batch_jobs": batches}  # other tables have natural keys of their own
    out = {}
    for table, found in raw.items():
        canonical = []
        for r in found:
            row = {"id": names[table][r["id"]]} if table in names else {}
            for column, value in r.items():
                if column == "id":
                    continue
                if column in TIMES or (table, column) in PUBLIC_IDS:
                    value = "set" if value is not None else None
                elif column in refer and value is not None:
                    value = refer[column].get(value, f"missing {value}")
                elif column == "listing" and value is not None:
                    value = (
                        "blake2 "
                        + hashlib.blake2b(gzip.decompress(value), digest_size=8).hexdigest()
                    )
                elif isinstance(value, datetime):
                    value = value.isoformat()
                row[column] = value
            canonical.append(row)
        out[table] = canonical
    return out


def row_key(table: str, row: dict) -> str:
    if table in ("jobs", "batch_jobs"):
        return str(row["id"])
    if table == "domains":
        return row["domain"]
    if table == "scan_changes":
        return f"{row['job_id']} {row['kind']} {row['subject']}"
    return f"{row['domain_id']} {row['url']}"


# -- the comparison --------------------------------------------------------------------------


@dataclass
class Column:
    """A column (JSON path, or ROW) of a table whose rows differ, under one explanation or none."""

    table: str
    column: str
    explained: Explained | None
    rows: int = 0
    examples: list[str] = field(default_factory=list)


def compare(
    ref: dict[str, list[dict]], ours: dict[str, list[dict]]
) -> tuple[list[str], list[Column]]:
    """Per table, its counts line; and every differing column."""
    lines: list[str] = []
    columns: dict[tuple, Column] = {}
    for table in TABLES:
        theirs_by, ours_by = _by_key(table, ref[table]), _by_key(table, ours[table])
        same = 0
        for key in sorted(set(theirs_by) | set(ours_by)):
            a, b = theirs_by.get(key, []), ours_by.get(key, [])
            for left, right in zip(a, b, strict=False):
                differing = list(_differences(left, right))
                same += not differing
                for column, old, new in differing:
                    _note(columns, table, column, right, f"{key}: {old!r} → {new!r}")
            for row in a[len(b) :]:
                _note(columns, table, ROW, row, f"{key}: only in REF")
            for row in b[len(a) :]:
                _note(columns, table, ROW, row, f"{key}: only in the tree")
        lines.append(f"{table:<14} {len(ref[table]):>8,} {len(ours[table]):>9,} {same:>9,}")
    return lines, list(columns.values())


def _by_key(table: str, found: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in found:
        grouped[row_key(table, row)].append(row)
    return {
        k: sorted(v, key=lambda r: json.dumps(r, sort_keys=True, default=str))
        for k, v in grouped.items()
    }


def _differences(left: dict, right: dict, prefix: str = ""):
    """(column or JSON path, REF's value, ours) for every value that differs."""
    for column in sorted(set(left) | set(right), key=str):
        old, new = left.get(column), right.get(column)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            yield from _differences(old, new, f"{prefix}{column}.")
        else:
            yield f"{prefix}{column}", old, new


def _note(columns: dict, table: str, column: str, row: dict, example: str) -> None:
    host = (
        ""
        if table == "batch_jobs"
        else row["domain" if table in ("domains", "jobs") else "domain_id"]
    )
    explained = next((e for e in EXPLAINED if e.covers(table, column, host)), None)
    found = columns.setdefault((table, column, explained), Column(table, column, explained))
    found.rows += 1
    if len(found.examples) < EXAMPLES:
        found.examples.append(example if len(example) <= 200 else example[:199] + "…")


def report(label: str, lines: list[str], columns: list[Column]) -> str:
    """The counts per table, then every differing column with its examples, then the reasons."""
    out = [
        f"stored data: {label}",
        "",
        f"{'table':<14} {'REF rows':>8} {'tree rows':>9} {'identical':>9}",
    ]
    out += lines
    reasons: dict[str, str] = {}
    for found in sorted(columns, key=lambda c: (TABLES.index(c.table), c.column, str(c.explained))):
        why = found.explained
        if why is None:
            verdict = "UNEXPLAINED"
        else:
            verdict = f"explained by {why.commit}" if why.commit else "varies from run to run"
            reasons[f"{why.commit or 'run to run'}: {why.reason}"] = ""
        rows = "1 row differs" if found.rows == 1 else f"{found.rows:,} rows differ"
        out.append(f"  {found.table}.{found.column}: {rows}, {verdict}")
        out += [f"      {example}" for example in found.examples]
    legend = ["", "why:", *(f"  {reason}" for reason in reasons)] if reasons else []
    return "\n".join(out + legend)


def run(baseline: Baseline, ours: Baseline | None = None) -> list[Figure]:
    """Entry point for `python -m bench --only stored --baseline REF`: REF beside the working
    tree (or beside another commit's export, `ours`), on PostgreSQL and on SQLite."""
    mine = Tree(ROOT, {}, "tree") if ours is None else Tree(ours.root, dict(ours.env_extra), "tree")
    trees = [Tree(baseline.root, dict(baseline.env_extra), "REF"), mine]
    tree = "the working tree" if ours is None else ours.label
    rows = [0, 0]
    columns: list[Column] = []
    for kind in ("postgresql", "sqlite"):
        dumps = scan_both(trees, kind)
        lines, found = compare(dumps["REF"], dumps["tree"])
        print(report(f"{baseline.label} beside {tree}, {kind}", lines, found) + "\n", flush=True)
        rows = [rows[0] + _count(dumps["REF"]), rows[1] + _count(dumps["tree"])]
        columns += found
    unexplained = sorted({f"{c.table}.{c.column}" for c in columns if c.explained is None})
    explained = sorted({f"{c.table}.{c.column}" for c in columns if c.explained is not None})
    return [
        Figure(
            "stored.rows",
            "stored: rows compared, REF's (tree's under URLs/rows)",
            rows[0],
            "rows",
            found=rows[1],
            versus=f"{len(explained)} columns differ as explained or from run to run",
        ),
        Figure(
            "stored.unexplained",
            f"stored: columns differing from {baseline.ref} unexplained",
            len(unexplained),
            "columns",
            "0",
            not unexplained,
            note=", ".join(unexplained),
        ),
    ]


def _count(tables: dict[str, list[dict]]) -> int:
    return sum(len(found) for found in tables.values())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print(
            "usage: python -m bench.stored REF [OURS]  (OURS: a commit instead of the working tree)",
            file=sys.stderr,
        )
        return 2
    refs: list[Baseline] = []
    try:
        refs += [Baseline(ref) for ref in args]
        figures = run(*refs)
    except BaselineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        for ref in refs:
            ref.close()
    return 0 if figures[-1].passed else 1


if __name__ == "__main__":
    sys.exit(main())
