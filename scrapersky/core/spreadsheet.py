"""CSV cells a spreadsheet shows as text, never runs: the one rule every CSV writer applies.

A cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return, which some
spreadsheets skip before reading one of those) is taken for a formula when the file is opened:
a site's title `=HYPERLINK("http://evil.test","x")` would become a live link, `@SUM(1+1)|cmd`
a command. Such a cell gets a single quote in front (OWASP's advice): spreadsheets show the
text as it is, and the original value is the cell without its first character.
Limit: a program that reads the CSV as data sees the quote too.
Pure: no Scrapy. console.js applies the same rule to the CSV the console builds.
"""

from __future__ import annotations

from typing import Any

# The ASCII formula starters, and their full-width forms, which some spreadsheets accept too.
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
# Leading characters a spreadsheet may skip before it looks for a formula.
_SKIPPED = " \n\x0b\x0c\u00a0\u3000"


def formula_safe(value: Any) -> Any:
    """A cell's value made safe to open: numbers and empty cells as they are, text that a
    spreadsheet would take for a formula with a quote in front."""
    if value is None or isinstance(value, (int, float)):
        return value  # a number is written as one: -2 is minus two, not a formula
    text = value if isinstance(value, str) else str(value)
    start = text.lstrip(_SKIPPED)[:1]
    if start and start in FORMULA_STARTS:
        return "'" + text
    return text
