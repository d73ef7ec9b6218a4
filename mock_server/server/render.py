"""Rendering answers: JSON bodies and errors in a profile's wording, each with its request id."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..accounts.clock import format_duration
from ..errors import ApiError
from ..jsonio import COMPACT, JsonStyle
from ..providers import RETRY_AFTER_SECONDS, Profile
from ..wire.answer import Answer
from .headers import readable

if TYPE_CHECKING:
    from .exchange import Exchange

log = logging.getLogger("mock_server")

JSON_HEADERS = {"Content-Type": "application/json"}
# Refusals no wait would lift (a quota spent, one request larger than a window): OpenAI sends
# no retry headers with its quota error.
NEVER_BY_WAITING = frozenset({"insufficient_quota", "request_too_large"})
RETRY_DEFAULTS = {
    "retry-after": str(RETRY_AFTER_SECONDS),
    "retry-after-ms": str(RETRY_AFTER_SECONDS * 1000),
}


def json_answer(
    payload: Any, status: int = 200, headers: dict | None = None, style: JsonStyle = COMPACT
) -> Answer:
    return json_bytes_answer(style.encode(payload), status, headers)


def json_bytes_answer(data: bytes, status: int = 200, headers: dict | None = None) -> Answer:
    """An answer whose body ``data`` is JSON already."""
    return Answer(status, {**JSON_HEADERS, **headers} if headers else JSON_HEADERS, data)


def json_response(
    payload: Any, status: int = 200, headers: dict | None = None, style: JsonStyle = COMPACT
) -> web.Response:
    return json_answer(payload, status, headers, style).response()


def as_api_error(exc: Exception, path: str) -> ApiError:
    """``exc`` as the error to answer a request for ``path`` with: an ``ApiError`` as it is,
    anything else (a bug of ours) logged, as a 500 whose detail is the exception's text."""
    if isinstance(exc, ApiError):
        return exc
    log.exception("internal error answering %s", readable(path))
    return ApiError("500", detail=str(exc))


def _retry_words(headers: Mapping[str, str]) -> dict[str, str]:
    """The wait a scripted answer's ``retry-after-ms`` (or ``retry-after``) header gives, as
    the catalog's message says it (``{retry}``: ``Please try again in 50ms.``)."""
    given = {name.lower(): value for name, value in headers.items()}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            seconds = float(given[name]) * scale
        except (KeyError, ValueError):
            continue
        if math.isfinite(seconds):
            return {"retry": format_duration(seconds)}
    return {}


def error_answer(
    error: ApiError,
    profile: Profile,
    request_id: str,
    headers: dict[str, str] | None = None,
    started: float | None = None,
    named: dict[str, str] | None = None,
) -> Answer:
    """``error`` in ``profile``'s wording and envelope, with ``headers`` (rate limits ...) and
    its own; ``started`` (``time.monotonic()`` when the request came) for a processing-time
    header; ``named``: what the wording may name of the request (``Profile.error_body``)."""
    status, body = profile.error_body(error, {**_retry_words(error.headers), **(named or {})})
    headers = {**(headers or {}), **error.headers}
    # A rate-limited answer tells the client when to come back, as providers do; a scenario
    # that says otherwise (either header) is left as it is.
    if (
        status == 429
        and error.kind not in NEVER_BY_WAITING
        and not {name.lower() for name in headers} & RETRY_DEFAULTS.keys()
    ):
        headers.update(RETRY_DEFAULTS)
    headers = answer_headers(profile, headers, request_id, started)
    answer = json_answer(body, status, headers, profile.error_format)
    answer.close = error.headers.get("Connection") == "close"
    return answer


def answer_headers(
    profile: Profile, headers: dict[str, str], request_id: str, started: float | None
) -> dict[str, str]:
    """The headers of an answer as ``profile``'s provider sends them, processing time too."""
    out = profile.answer_headers(headers, request_id)
    if profile.processing_ms_header and started is not None:
        elapsed = str(max(1, round((time.monotonic() - started) * 1000)))
        out.setdefault(profile.processing_ms_header, elapsed)  # a scenario's own value wins
    return out


def json_read(exchange: Exchange, payload: Any) -> Answer:
    """``payload`` as the profile writes a body, with its headers (processing time too)."""
    profile = exchange.profile
    headers = answer_headers(profile, {}, exchange.request_id, exchange.started)
    return json_answer(payload, headers=headers, style=profile.body_format)
