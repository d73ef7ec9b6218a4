"""The front of the request path: which profile a path names, who is calling, the body bytes."""

from __future__ import annotations

import asyncio
import hmac
import zlib

from aiohttp import web

from ..checks.profiles import Profile
from ..errors import ApiError
from ..redaction import redact
from .exchange import Incoming
from .headers import raw, readable
from .state import ServerState


def route_profile(state: ServerState, request: Incoming, base: str) -> Profile:
    """The profile a request's path names (or the default), if it is served at ``base``."""
    name = request.profile
    profile = state.profiles.default if name is None else state.profiles.get(name)
    if profile is None:
        known = ", ".join(sorted(p.name for p in state.profiles))
        raise ApiError(
            "404",
            message=(
                f"Unknown profile '{readable(name)}' in {readable(request.path)}; "
                f"known profiles: {known}."
            ),
            type="invalid_request_error",
            code="unknown_profile",
        )
    if not profile.serves(base):
        raise ApiError(
            "404",
            message=(
                f"Invalid URL ({request.method} {readable(request.path)}): profile "
                f"'{profile.name}' is "
                f"served at {', '.join(profile.paths)}."
            ),
            type="invalid_request_error",
            code=None,
        )
    return profile


def authenticate(state: ServerState, request: Incoming, profile: Profile) -> str | None:
    """The caller's API key, or ``ApiError`` 401 when the profile or the key list demands one."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    key = key.strip() if scheme.lower() == "bearer" else ""
    if not key:
        if state.api_keys or profile.auth_required:
            raise ApiError("missing_api_key")
        return None
    if state.api_keys:
        # Compare with every key in constant time, so timing tells nothing about near misses.
        given = raw(key)
        if not any([hmac.compare_digest(given, known) for known in state.api_keys]):
            shown = readable(key)
            raise ApiError("401", values={"key": redact(shown), "key_tail": "****" + shown[-4:]})
    return readable(key)


class ClientGone(Exception):
    """The client hung up before its request was read or answered: nobody to tell."""


async def read_body(request: web.Request, limit: int, timeout: float) -> bytes:
    """The request body, decoded, at most ``limit`` bytes, arriving within ``timeout`` seconds.

    A body that cannot be read is answered and the connection closed (``Connection: close``),
    since what follows it on the connection can no longer be trusted."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    try:
        if request.content.is_eof():  # all of it has arrived (the usual case): no timer needed
            data = await request.read()
        else:
            data = await asyncio.wait_for(request.read(), timeout)
    except web.HTTPRequestEntityTooLarge:
        raise _too_large(limit) from None
    except TimeoutError:
        raise _unreadable(
            f"Request body not received within {timeout:g} seconds.", "request_timeout"
        ) from None
    except ConnectionError:
        raise ClientGone from None
    encoding = request.headers.get("Content-Encoding")
    if encoding is None or encoding.strip().lower() == "identity":
        return data
    return _decoded(data, readable(encoding.strip().lower()), limit)


def _decoded(data: bytes, encoding: str, limit: int) -> bytes:
    """``data`` decompressed (gzip or deflate, zlib-wrapped or raw), never beyond ``limit``."""
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise _unreadable(
            f"Unsupported Content-Encoding: {encoding}; send gzip, deflate or no encoding.",
            "unsupported_content_encoding",
        )
    tries = (zlib.MAX_WBITS | 16,) if encoding != "deflate" else (zlib.MAX_WBITS, -zlib.MAX_WBITS)
    for wbits in tries:
        decompressor = zlib.decompressobj(wbits)
        try:
            out = decompressor.decompress(data, limit + 1)
        except zlib.error:
            continue
        if len(out) > limit or decompressor.unconsumed_tail:
            raise _too_large(limit)
        if decompressor.eof:
            return out
    raise _unreadable(
        f"The request body could not be decoded (Content-Encoding: {encoding}).",
        "invalid_body_encoding",
    )


def _unreadable(message: str, code: str) -> ApiError:
    return ApiError("400", message, code=code, headers={"Connection": "close"})


def _too_large(limit: int) -> ApiError:
    return ApiError(
        "413",
        f"Request body too large: the limit is {limit} bytes.",
        status=413,
        code="request_too_large",
        headers={"Connection": "close"},
    )
