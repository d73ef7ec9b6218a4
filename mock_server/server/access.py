"""The front of the request path: which profile a path names, who is calling, the body bytes."""

from __future__ import annotations

import hmac

from aiohttp import web

from ..checks.profiles import Profile
from ..errors import ApiError
from ..redaction import redact
from .state import ServerState


def route_profile(state: ServerState, request: web.Request, base: str) -> Profile:
    """The profile a request's path names (or the default), if it is served at ``base``."""
    name = request.match_info.get("profile")
    profile = state.profiles.default if name is None else state.profiles.get(name)
    if profile is None:
        known = ", ".join(sorted(p.name for p in state.profiles))
        raise ApiError(
            "404",
            message=f"Unknown profile '{name}' in {request.path}; known profiles: {known}.",
            type="invalid_request_error",
            code="unknown_profile",
        )
    if not profile.serves(base):
        raise ApiError(
            "404",
            message=(
                f"Invalid URL ({request.method} {request.path}): profile '{profile.name}' is "
                f"served at {', '.join(profile.paths)}."
            ),
            type="invalid_request_error",
            code=None,
        )
    return profile


def authenticate(state: ServerState, request: web.Request, profile: Profile) -> str | None:
    """The caller's API key, or ``ApiError`` 401 when the profile or the key list demands one."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    key = key.strip() if scheme.lower() == "bearer" else ""
    if not key:
        if state.api_keys or profile.auth_required:
            raise ApiError("missing_api_key")
        return None
    if state.api_keys:
        # Compare with every key in constant time, so timing tells nothing about near misses.
        given = key.encode()
        if not any([hmac.compare_digest(given, known) for known in state.api_keys]):
            raise ApiError("401", values={"key": redact(key)})
    return key


async def read_body(request: web.Request, limit: int) -> bytes:
    too_large = ApiError(
        "413",
        f"Request body too large: the limit is {limit} bytes.",
        status=413,
        code="request_too_large",
        headers={"Connection": "close"},
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large from None
