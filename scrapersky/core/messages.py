"""Error texts and scan notes as they are stored and shown."""

MAX_MESSAGE_LENGTH = 300  # a note, a reason, the first line of an error
MAX_ERROR_LENGTH = 2000  # why a scan failed, as its domain and its job keep it


def cut(text: str, limit: int = MAX_MESSAGE_LENGTH) -> str:
    """`text` cut to `limit` characters."""
    return text[:limit]


def first_line(text: str) -> str:
    """The first line of `text`, cut to MAX_MESSAGE_LENGTH characters; '' when it is blank."""
    lines = text.strip().splitlines()
    return cut(lines[0]) if lines else ""
