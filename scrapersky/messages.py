"""Error texts and scan notes as they are stored and shown: at most 300 characters."""

MAX_MESSAGE_LENGTH = 300


def cut(text: str) -> str:
    """`text` cut to MAX_MESSAGE_LENGTH characters."""
    return text[:MAX_MESSAGE_LENGTH]


def first_line(text: str) -> str:
    """The first line of `text`, cut to MAX_MESSAGE_LENGTH characters; '' when it is blank."""
    lines = text.strip().splitlines()
    return cut(lines[0]) if lines else ""
