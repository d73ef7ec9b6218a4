"""Rendering answers: JSON bodies and errors in a profile's wording, each with its request id."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..checks.profiles import Profile
from ..errors import ApiError
from ..jsonio import dumps

JSON_HEADERS = {"Content-Type": "application/json"}
RETRY_DEFAULTS = {"retry-after": "1", "retry-after-ms": "1000"}


def json_response(payload: Any, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=dumps(payload),
        headers={**JSON_HEADERS, **headers} if headers else JSON_HEADERS,
    )


def error_response(
    error: ApiError, profile: Profile, request_id: str, headers: dict[str, str] | None = None
) -> web.Response:
    """``error`` in ``profile``'s wording, with ``headers`` (rate limits ...) and its own."""
    status, body = profile.error_body(error)
    headers = {**(headers or {}), **error.headers, "x-request-id": request_id}
    # A rate-limited answer tells the client when to come back, as providers do; a scenario
    # that says otherwise (either header) is left as it is.
    if (
        status == 429
        and error.kind != "insufficient_quota"
        and not {name.lower() for name in headers} & RETRY_DEFAULTS.keys()
    ):
        headers.update(RETRY_DEFAULTS)
    response = json_response(body, status, headers)
    if error.headers.get("Connection") == "close":
        response.force_close()  # e.g. after a 413, rather than draining an unread body
    return response
