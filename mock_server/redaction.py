"""Keeping secrets out of what the server shows: API keys and tokens masked the way providers
mask them in their own error messages, and the request headers that carry them."""

from __future__ import annotations

from collections.abc import Iterable

SECRET_HEADERS = frozenset(
    {"authorization", "api-key", "x-api-key", "x-goog-api-key", "x-admin-token"}
)


def redact(key: str) -> str:
    """A secret shown the way providers show keys in errors: its ends, the middle masked."""
    if len(key) <= 8:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


def redact_headers(pairs: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Raw header pairs as a mapping of lower-case names, secret values masked."""
    out = {}
    for raw_name, raw_value in pairs:
        name = raw_name.decode("utf-8", "replace").lower()
        value = raw_value.decode("utf-8", "replace")
        out[name] = redact_header_value(value) if name in SECRET_HEADERS else value
    return out


def redact_header_value(value: str) -> str:
    """A secret header's value masked, its scheme (``Bearer``) kept."""
    scheme, _, secret = value.partition(" ")
    return f"{scheme} {redact(secret)}" if secret else redact(value)
