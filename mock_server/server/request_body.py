"""The body bytes of a request: read within a time and size limit, and decoded."""

from __future__ import annotations

import asyncio
import zlib

from aiohttp import web

from ..errors import ApiError
from .headers import readable


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
    except RuntimeError:  # aiohttp's "Connection closed.": the read began after the client left
        if request.transport is None or request.transport.is_closing():
            raise ClientGone from None
        raise
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
