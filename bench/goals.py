"""The second round's goals, each as one ratio of two figures measured in the same run.

Every goal row says its figure, what it is set against (an anchor or the baseline commit),
and the ratio, judged against the goal. A goal whose figures were not measured in this run
(a part left out with --only, no --baseline) has no row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench import Figure

Value = Callable[[dict[str, Figure]], tuple[float, str] | None]
RATE = "{:.1f} domains/s"


def _figure(key: str, reads: str = "{:.2f} s") -> Value:
    """A figure of this run by its key: its value, and how it reads in the row."""

    def value(figures: dict[str, Figure]) -> tuple[float, str] | None:
        figure = figures.get(key)
        return None if figure is None else (figure.value, reads.format(figure.value))

    return value


def _copy_seconds(figures: dict[str, Figure]) -> tuple[float, str] | None:
    """Raw COPY's time for as many rows as the first scan stored, from its rate."""
    copy, first = figures.get("anchor.copy"), figures.get("inventory.first")
    if copy is None or first is None or not first.found:
        return None
    seconds = first.found / copy.value
    return seconds, f"{seconds:.2f} s"


def _slower_of(*values: Value) -> Value:
    def value(figures: dict[str, Figure]) -> tuple[float, str] | None:
        measured = [v(figures) for v in values]
        if any(m is None for m in measured):
            return None
        return max(measured, key=lambda m: m[0] if m else 0.0)

    return value


@dataclass(frozen=True)
class Goal:
    key: str
    name: str
    figure: Value  # (value, how it reads)
    anchor: Value
    anchor_name: str
    target: float
    at_least: bool = False  # the ratio must reach the target rather than stay under it

    def judge(self, figures: dict[str, Figure], full: bool) -> Figure | None:
        ours, theirs = self.figure(figures), self.anchor(figures)
        if ours is None or theirs is None or not theirs[0]:
            return None
        ratio = ours[0] / theirs[0]
        met = ratio >= self.target if self.at_least else ratio <= self.target
        return Figure(
            f"goal.{self.key}",
            f"goal: {self.name}",
            ratio,
            "×",
            f"{'≥' if self.at_least else '≤'} {self.target:g} ×",
            met if full else None,
            versus=f"{ours[1]} against {self.anchor_name} {theirs[1]}",
        )


GOALS = (
    Goal(
        "write",
        "first scan → PostgreSQL over the slower of the crawl not stored and raw COPY",
        _figure("inventory.first"),
        _slower_of(_figure("inventory.parse"), _copy_seconds),
        "the slower of them",
        1.2,
    ),
    Goal(
        "parse",
        "crawl not stored over lxml iterparse from disk",
        _figure("inventory.parse"),
        _figure("anchor.lxml"),
        "lxml",
        1.3,
    ),
    Goal(
        "scale",
        "10 × the site, first scan over the first scan",
        _figure("scale.first"),
        _figure("inventory.first"),
        "the first scan",
        10.5,
    ),
    Goal(
        "startup",
        "start-up to the first request over the baseline's",
        _figure("startup.first_request"),
        _figure("startup.baseline"),
        "the baseline",
        0.5,
    ),
    Goal(
        "batch",
        "batch domains per second over the baseline's",
        _figure("batch.rate", RATE),
        _figure("batch.baseline_rate", RATE),
        "the baseline",
        1.5,
        at_least=True,
    ),
)


def judge(figures: list[Figure], full: bool) -> list[Figure]:
    """The goal rows that this run's figures allow."""
    by_key = {figure.key: figure for figure in figures}
    rows = [goal.judge(by_key, full) for goal in GOALS]
    memory = by_key.get("scale.rss")
    if memory is not None:
        rows.insert(
            3,
            Figure(
                "goal.scale_rss",
                "goal: 10 × the site, peak RSS",
                memory.value,
                "MB",
                memory.target,
                memory.passed,
            ),
        )
    return [row for row in rows if row is not None]
