"""A response body as a stream of bounded, decompressed pieces."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from scrapersky.core.errors import RemoteFailed

CHUNK_SIZE = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"


class StreamError(RemoteFailed):
    """The body cannot be read further; the message is fixed-format and safe to store."""


def is_gzip(data: bytes) -> bool:
    return data[:2] == GZIP_MAGIC


def decoded_chunks(body: bytes, max_bytes: int) -> Iterator[bytes]:
    """Yield the document in pieces of at most CHUNK_SIZE bytes.

    Gzip is detected by its magic bytes only: headers and URL suffixes are
    often wrong, and a body already decoded by the HTTP layer keeps its
    ".gz" name. Raises StreamError on corrupt gzip data or when more than
    max_bytes would be decompressed.
    """
    pieces = _slices(body)
    if not is_gzip(body):
        yield from pieces
        return
    pieces = _capped(_gunzip(pieces), max_bytes)
    first = next(pieces, b"")
    pieces = _prepend(first, pieces)
    if is_gzip(first):
        # A .gz file sent with Content-Encoding: gzip that nothing decoded.
        # One more layer only: deeper nesting (gzip quines exist) stays as is.
        pieces = _capped(_gunzip(pieces), max_bytes)
    yield from pieces


def _slices(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), CHUNK_SIZE):
        yield body[start : start + CHUNK_SIZE]


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def _capped(pieces: Iterator[bytes], max_bytes: int) -> Iterator[bytes]:
    total = 0
    for piece in pieces:
        total += len(piece)
        if total > max_bytes:
            keep = len(piece) - (total - max_bytes)
            if keep > 0:
                yield piece[:keep]
            raise StreamError(f"decompressed size exceeds {max_bytes} bytes")
        yield piece


def _gunzip(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """Inflate gzip members one bounded step at a time (at most CHUNK_SIZE out per step)."""
    inflater = _inflater()
    carry = b""  # bytes after a finished member, too short yet to tell whether another follows
    try:
        for data in pieces:
            if inflater.eof:
                data = carry + data
                if len(data) < len(GZIP_MAGIC):
                    carry = data
                    continue
                if not is_gzip(data):
                    return  # trailing bytes after the last member are ignored
                inflater = _inflater()
            while True:
                out = inflater.decompress(data, CHUNK_SIZE)
                if out:
                    yield out
                if inflater.eof:
                    data = inflater.unused_data
                    if len(data) < len(GZIP_MAGIC):
                        carry = data
                        break
                    if not is_gzip(data):
                        return
                    inflater = _inflater()
                    continue
                data = inflater.unconsumed_tail
                # A full output step may leave inflated bytes pending inside zlib:
                # call again even when all input was consumed.
                if not data and len(out) < CHUNK_SIZE:
                    break
    except zlib.error:
        raise StreamError("corrupt gzip data") from None
    if not inflater.eof:
        raise StreamError("truncated gzip data")


def _inflater() -> zlib._Decompress:
    return zlib.decompressobj(16 + zlib.MAX_WBITS)
