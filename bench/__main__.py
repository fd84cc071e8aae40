"""`python -m bench`: every benchmark, one table (see bench/README.md)."""

from __future__ import annotations

import argparse
import sys
import time

from bench import (
    Figure,
    anchors,
    batch,
    calibration,
    discovery,
    format_table,
    goals,
    inventory,
    parsing,
    run_dir,
    scale,
    startup,
    stored,
    writepath,
)
from bench.baseline import Baseline, BaselineError
from bench.site import build_site, serve

FULL_URLS = 1_000_000
QUICK_URLS = 100_000
PARTS = (
    "inventory", "scale", "startup", "writepath", "anchors", "parsing", "discovery", "batch", "stored",
)  # fmt: skip
INVENTORY_ROUNDS = 3


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_URLS:,} URLs instead of {FULL_URLS:,}"
    )
    parser.add_argument(
        "--urls", type=int, help="site size in URLs (a multiple of 20; overrides --quick)"
    )
    parser.add_argument(
        "--orm-rows", type=int, help="rows for the per-item ORM anchor (default 5,000; 1,000 quick)"
    )
    parser.add_argument(
        "--only", default=",".join(PARTS), help=f"comma-separated parts to run: {','.join(PARTS)}"
    )
    parser.add_argument(
        "--skip-batch", action="store_true", help="skip bench.batch (it needs Scrapyd)"
    )
    parser.add_argument(
        "--baseline",
        metavar="REF",
        help="also time this commit (e.g. main) in the same run: its first scan (inventory), "
        "its start-up (startup) and its batch pass (batch); and compare what each stores (stored)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="runs of each tree, alternating with --baseline, medians compared: first scans "
        f"(inventory, default {INVENTORY_ROUNDS}) and start-ups (startup, default {startup.ROUNDS})",
    )
    parser.add_argument(
        "--skip-single",
        action="store_true",
        help="leave out bench.batch's one-job-per-domain pass (about ten minutes at full size)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile a first scan with py-spy and print where its time goes",
    )
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    if "stored" in args.only.split(",") and args.only != ",".join(PARTS) and not args.baseline:
        parser.error("--only stored compares with a commit: give --baseline REF")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    urls = args.urls or (QUICK_URLS if args.quick else FULL_URLS)
    orm_rows = args.orm_rows or (1_000 if args.quick else 5_000)
    parts = set(args.only.split(","))
    if args.skip_batch:
        parts.discard("batch")

    started = time.monotonic()
    try:
        baseline = (
            Baseline(args.baseline, args.rounds or INVENTORY_ROUNDS)
            if args.baseline and parts & {"inventory", "startup", "batch", "stored"}
            else None
        )
    except BaselineError as exc:
        print(f"error: --baseline {args.baseline}: {exc}", file=sys.stderr)
        return 2
    try:
        results, profile = _run_parts(args, parts, urls, orm_rows, baseline)
    finally:
        if baseline is not None:
            baseline.close()
    figures = [figure for part in PARTS for figure in results.get(part, [])]
    return _report(figures, profile, started, full=urls >= FULL_URLS)


def _run_parts(
    args: argparse.Namespace, parts: set[str], urls: int, orm_rows: int, baseline: Baseline | None
) -> tuple[dict[str, list[Figure]], str]:
    results: dict[str, list[Figure]] = {}
    profile = ""
    if parts & {"inventory", "scale", "anchors"} or args.profile:
        site = build_site(urls)
        print(
            f"bench site: {site.host}, {urls:,} URLs in {len(site.sitemap_paths)} sitemaps (half gzipped)",
            flush=True,
        )
        with serve(site.root) as proxy:
            if "inventory" in parts:
                results["inventory"] = _announce("inventory", inventory.run(site, proxy, baseline))
            if "scale" in parts:
                first = next(
                    (f.value for f in results.get("inventory", []) if f.key == "inventory.first"),
                    None,
                )
                results["scale"] = _announce(
                    "scale", scale.run(site, proxy, first, full=urls >= FULL_URLS)
                )
            if "anchors" in parts:
                results["anchors"] = _announce("anchors", anchors.run(site, proxy, orm_rows))
            if args.profile:
                profile = inventory.profile(site, proxy)
    if "startup" in parts:
        results["startup"] = _announce(
            "startup", startup.run(baseline, args.rounds or startup.ROUNDS)
        )
    if "writepath" in parts:
        results["writepath"] = _announce("writepath", writepath.run(urls))
    if "parsing" in parts:
        results["parsing"] = _announce("parsing", parsing.run())
    if "discovery" in parts:
        results["discovery"] = _announce("discovery", discovery.run())
    if "batch" in parts:
        tree = batch.baseline_tree(baseline) if baseline is not None else None
        results["batch"] = _announce(
            "batch", batch.run(urls < FULL_URLS, tree, single=not args.skip_single)
        )
    if "stored" in parts and baseline is not None:
        results["stored"] = _announce("stored", stored.run(baseline))
    return results, profile


def _report(figures: list[Figure], profile: str, started: float, full: bool) -> int:
    compare(figures)
    machine = calibration.apply(figures)
    if machine is not None:
        figures.append(machine)
    figures += goals.judge(figures, full)
    print()
    print(format_table(figures))
    if profile:
        print()
        print(profile)
    judged = [f for f in figures if f.passed is not None]
    met = sum(1 for f in judged if f.passed)
    met_scaled = sum(1 for f in judged if (f.passed if f.scaled is None else f.scaled))
    scaled = (
        f", {met_scaled} of {len(judged)} with speed targets scaled to this machine"
        if machine
        else ""
    )
    print(
        f"\ntargets met: {met} of {len(judged)}{scaled}; bench ran {time.monotonic() - started:.0f} s; "
        f"logs in {run_dir().relative_to(run_dir().parents[3])}"
    )
    # The stored data must match the baseline's but for the differences bench.stored explains.
    return 1 if any(f.key == "stored.unexplained" and f.passed is False for f in figures) else 0


def _announce(part: str, figures: list[Figure]) -> list[Figure]:
    print(f"  {part}: done", flush=True)
    return figures


def compare(figures: list[Figure]) -> None:
    """Fill the `versus` column: ours against each anchor (time ratios, rate ratios, URLs found)."""
    by_key = {f.key: f for f in figures}
    ours = by_key.get("inventory.first")
    parse_only = by_key.get("inventory.parse")
    for key in ("anchor.usp", "anchor.scrapy", "anchor.lxml"):
        anchor = by_key.get(key)
        if anchor is None or ours is None:
            continue
        parts = [f"ours {_times(anchor.value / ours.value)}"]
        if parse_only is not None:
            parts.append(f"parse-only {_times(anchor.value / parse_only.value)}")
        if anchor.found is not None and ours.found is not None:
            parts.append(
                "URLs: ours ≥ anchor" if ours.found >= anchor.found else "URLs: ours < anchor"
            )
        anchor.versus = "; ".join(parts)
    write = by_key.get("write.postgres.first")
    for key in ("anchor.copy", "anchor.orm"):
        anchor = by_key.get(key)
        if anchor is not None and write is not None:
            anchor.versus = f"write path (first scan) {_times(write.value / anchor.value)}"


def _times(ratio: float) -> str:
    return f"{ratio:.1f}× faster" if ratio >= 1 else f"{1 / ratio:.1f}× slower"


if __name__ == "__main__":
    sys.exit(main())
