"""Which profile a request's path names, and whether that profile serves the path: its base
path, and the API (a profile names the APIs it serves in ``apis``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ..errors import ApiError
from ..providers import Profile
from .exchange import Incoming
from .headers import readable
from .state import ServerState

if TYPE_CHECKING:
    from .apis.api import Api

# The API and base path each API route serves, by the route's path pattern (for the shortcut).
API_ROUTES = web.AppKey("api_routes", dict)


def route_profile(
    state: ServerState, request: Incoming, base: str, api: Api | None = None
) -> Profile:
    """The profile a request's path names (or the default), if it is served at ``base`` and
    serves ``api``; a profile that does not serve the API answers as for a path unknown."""
    name = request.profile
    profile = state.profiles.default if name is None else state.profiles.get(name)
    if profile is None:
        raise ApiError(
            "404",
            message=(
                f"Invalid URL ({request.method} {readable(request.path)}): "
                f"{state.profiles.unknown(name)}"
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
    if api is not None and api.name not in profile.apis:
        raise ApiError(
            "404",
            message=f"Invalid URL ({request.method} {readable(request.path)})",
            type="invalid_request_error",
            code=None,
        )
    return profile
