"""Bytes to text with the precedence a browser uses."""

from w3lib.encoding import html_to_unicode


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode an HTML body: BOM, then the Content-Type charset, then a
    `<meta charset>` / http-equiv declaration, then UTF-8; undecodable bytes
    become U+FFFD. Legacy labels map as browsers map them (latin-1 reads as
    windows-1252)."""
    _, text = html_to_unicode(content_type, bytes(body))
    return text
