"""Which profile a request's path names, and whether that profile serves the path."""

from __future__ import annotations

from ..errors import ApiError
from ..providers import Profile
from .exchange import Incoming
from .headers import readable
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
