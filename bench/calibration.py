"""How fast this machine is, told by the anchors, and the speed targets scaled to it.

Issue 7's targets were set beside anchors measured on a reference machine: for 1,000,000 URLs,
ultimate-sitemap-parser about 35 s, Scrapy's SitemapSpider 14–17 s, lxml's iterparse from disk
about 3 s, PostgreSQL's COPY about 8 s. The same anchors run in every full-size bench run, so
their times over the reference times say how much slower (or faster) this machine is. The
machine factor is their median; every speed target (a time or a rate, `Figure.speed_target`)
is judged again, as `Figure.scaled`, against that target scaled by the factor. Memory, stall
and ratio targets do not depend on the machine's speed and are never scaled.
"""

from __future__ import annotations

import statistics

from bench import Figure

REFERENCE_URLS = 1_000_000
# Seconds for 1,000,000 URLs or rows on the reference machine (issue 7).
REFERENCE_SECONDS = {
    "anchor.usp": 35.0,
    "anchor.scrapy": 15.5,
    "anchor.lxml": 3.0,
    "anchor.copy": 8.0,
}


def anchor_seconds(figure: Figure) -> float:
    return figure.found / figure.value if figure.unit == "rows/s" else figure.value


def machine_factor(figures: list[Figure]) -> tuple[float | None, dict[str, float]]:
    """(median of this run's anchor times over the reference ones, each ratio); None unless
    every reference anchor ran at full size."""
    by_key = {f.key: f for f in figures}
    ratios = {}
    for key, reference in REFERENCE_SECONDS.items():
        figure = by_key.get(key)
        if figure is None or figure.found != REFERENCE_URLS or not figure.value:
            return None, {}
        ratios[key] = anchor_seconds(figure) / reference
    return statistics.median(ratios.values()), ratios


def apply(figures: list[Figure]) -> Figure | None:
    """Judge every speed target scaled to this machine; returns the calibration figure to print."""
    factor, ratios = machine_factor(figures)
    if factor is None:
        return None
    for figure in figures:
        if figure.speed_target is None or figure.passed is None:
            continue  # no speed target, or not judged at this size
        if figure.unit == "s":
            figure.scaled = figure.value <= figure.speed_target * factor
        else:
            figure.scaled = figure.value >= figure.speed_target / factor
    shown = ", ".join(
        f"{key.removeprefix('anchor.')} {ratio:.2f}×" for key, ratio in ratios.items()
    )
    return Figure(
        "calibration",
        "machine: anchors' time over the reference",
        factor,
        "×",
        note=f"median of {shown}; speed targets are also judged scaled by this factor "
        f"(times × {factor:.2f}, rates ÷ {factor:.2f}) in 'ok scaled'",
    )
