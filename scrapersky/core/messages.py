"""Error texts and scan notes as they are stored and shown.

`cut` is the one place text is shortened to a limit: stored errors and notes (cut as they are),
error answers and echoed input (ended with "...").
"""

MAX_MESSAGE_LENGTH = 300  # a note, a reason, the first line of an error
MAX_ERROR_LENGTH = 2000  # why a scan failed, as its domain and its job keep it


def cut(text: str, limit: int = MAX_MESSAGE_LENGTH, mark: str = "") -> str:
    """`text` in at most `limit` characters: a longer one is cut, its last ones being `mark`."""
    if len(text) <= limit:
        return text
    return text[: limit - len(mark)] + mark


def excerpt(raw: object, limit: int = 80) -> str:
    """A short, escaped form of rejected input: printable ASCII, at most `limit` characters."""
    text = raw if isinstance(raw, str) else repr(raw)
    shown = text.encode("ascii", "backslashreplace").decode("ascii")
    shown = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in shown)
    return cut(shown, limit, "...")


def first_line(text: str) -> str:
    """The first line of `text`, cut to MAX_MESSAGE_LENGTH characters; '' when it is blank."""
    lines = text.strip().splitlines()
    return cut(lines[0]) if lines else ""
