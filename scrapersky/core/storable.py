"""Text every database column can hold, whatever a site sent: the storage boundary's one rule.

PostgreSQL refuses a NUL character in `text` (and `\\u0000` in `jsonb`), and no database takes
a lone surrogate ("\\ud800", which json.loads makes of an escape a page wrote): it has no UTF-8
form. One such value in a statement fails the whole statement. So text from a site passes
through `storable` before it is written: NUL is dropped, a lone surrogate becomes U+FFFD.
Pure: no database, no Scrapy.
"""

from __future__ import annotations

import re
from typing import Any

# NUL and every surrogate code point: in a Python str a surrogate is always unpaired text
# (a well-formed pair is decoded into one code point), so none has a UTF-8 form.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def has_unstorable(text: str) -> bool:
    # ASCII text (most URLs) can only hold a NUL: two C-level scans, no regex. It is asked of
    # every listed URL.
    if text.isascii():
        return "\x00" in text
    return _UNSTORABLE.search(text) is not None


def storable_text(text: str) -> str:
    """`text` without NUL, each surrogate code point replaced by U+FFFD."""
    if not has_unstorable(text):
        return text  # the common case: no copy
    text = text.replace("\x00", "")
    # Through UTF-16 so that a high and a low surrogate standing side by side (text decoded
    # with surrogatepass) become the one character they spell; any other becomes U+FFFD.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def storable(value: Any) -> Any:
    """`value` with every str in it made storable, through dicts (keys too), lists and tuples.

    Other values (numbers, dates, bytes, None) are returned as they are: bytes go to binary
    columns, which take any byte."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    if isinstance(value, tuple):
        return tuple(storable(v) for v in value)
    return value
