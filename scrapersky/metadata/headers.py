"""HTTP headers as a plain lowercase-keyed dict of strings."""

from collections.abc import Iterable, Mapping
from typing import Any


def _as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def normalize_headers(headers: Mapping[Any, Any] | None) -> dict[str, str]:
    """Lowercase the names and join repeated values, so callers may pass a
    plain dict, any-case names, or a Scrapy `Headers` (bytes, value lists)."""
    result: dict[str, str] = {}
    if not headers:
        return result
    for name, value in headers.items():
        key = _as_text(name).strip().lower()
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            values = [_as_text(value)]
        else:
            values = [_as_text(item) for item in value]
        # Set-Cookie values contain commas (Expires=...), so keep them apart by line.
        separator = "\n" if key == "set-cookie" else ", "
        joined = separator.join(values)
        result[key] = f"{result[key]}{separator}{joined}" if key in result else joined
    return result
