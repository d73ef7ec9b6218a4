"""Who is calling: the API key of a request, checked against the configured keys."""

from __future__ import annotations

import hmac

from ..errors import ApiError
from ..providers import Profile
from ..redaction import shown_key
from .exchange import Incoming
from .headers import raw, readable
from .state import ServerState


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
            raise ApiError("401", values=shown_key(readable(key)))
    return readable(key)
