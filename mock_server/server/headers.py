"""Reading request headers that may hold any bytes.

aiohttp decodes header values as UTF-8 with ``surrogateescape``, so a value with a byte that is
not UTF-8 arrives as a string with lone surrogates: fine to compare, but it cannot be encoded
again, and a message quoting it would break the response. ``readable`` gives the text to show
(such bytes as U+FFFD); ``raw`` gives the bytes to compare secrets with.
"""

from __future__ import annotations


def readable(value: str) -> str:
    """``value`` safe to quote in a message or the journal."""
    if value.isascii():
        return value
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def raw(value: str) -> bytes:
    """The bytes the client sent for ``value``."""
    return value.encode("utf-8", "surrogateescape")
