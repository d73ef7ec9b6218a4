"""The aiohttp application: routes, and the path every chat-completions request takes.

    route (tenant, profile, base path)
      -> auth                      401
      -> body                      400 / 413
      -> schema + semantic checks  400 / 422
      -> reply (scenario engine or fallback)
      -> JSON body or SSE stream

Errors raised on that path are ``ApiError``s, rendered once by ``error_response`` in the wording
of the profile that serves the request.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass

from aiohttp import web

from .config import Settings, redact
from .errors import ApiError
from .profiles import BASE_PATHS, Profile, ProfileRegistry, load_profiles
from .replies import Ids, fallback_choice, new_completion
from .validation import check_request, parse_body


@dataclass
class ServerState:
    """What the server loads once at start-up and shares between requests."""

    settings: Settings
    profiles: ProfileRegistry
    ids: Ids
    api_keys: tuple[bytes, ...]


STATE = web.AppKey("state", ServerState)
JSON_HEADERS = {"Content-Type": "application/json"}


def create_app(settings: Settings | None = None) -> web.Application:
    """Build the server: profiles and schemas are loaded and compiled here, once."""
    settings = settings or Settings()
    profiles = load_profiles(settings.profile_files, settings.profile)
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[STATE] = ServerState(
        settings=settings,
        profiles=profiles,
        ids=Ids(settings.seed),
        api_keys=tuple(key.encode() for key in settings.api_keys),
    )
    app.on_response_prepare.append(_add_request_id)
    _add_routes(app)
    return app


def _add_routes(app: web.Application) -> None:
    for tenant in ("", "/t/{tenant}"):
        app.router.add_get(tenant + "/__admin/health", health)
        for profile in ("", "/{profile}"):
            for base in BASE_PATHS:
                prefix = tenant + profile + base
                app.router.add_post(prefix + "/chat/completions", chat_completions(base))
                app.router.add_get(prefix + "/models", list_models(base))
    app.router.add_route("*", "/{tail:.*}", not_found)


async def _add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    if "x-request-id" not in response.headers:
        response.headers["x-request-id"] = request.app[STATE].ids.request()


def error_response(error: ApiError, profile: Profile) -> web.Response:
    status, body = profile.error_body(error)
    headers = {**JSON_HEADERS, **error.headers}
    return web.Response(status=status, body=json.dumps(body).encode(), headers=headers)


def json_response(payload: object) -> web.Response:
    return web.Response(body=json.dumps(payload).encode(), headers=JSON_HEADERS)


def _route_profile(request: web.Request, base: str) -> Profile:
    state = request.app[STATE]
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


def authenticate(request: web.Request, profile: Profile) -> str | None:
    """The caller's API key, or ``ApiError`` 401 when the profile or the key list demands one."""
    state = request.app[STATE]
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip() if scheme.lower() == "bearer" else ""
    if not key:
        if state.api_keys or profile.auth_required:
            raise ApiError("missing_api_key")
        return None
    if state.api_keys:
        # Compare against every key in constant time, so timing tells nothing about near misses.
        given = key.encode()
        if not any([hmac.compare_digest(given, known) for known in state.api_keys]):
            raise ApiError("401", values={"key": redact(key)})
    return key


async def read_body(request: web.Request) -> bytes:
    limit = request.app[STATE].settings.max_body_bytes
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


def chat_completions(base: str):
    async def handle_chat_completions(request: web.Request) -> web.StreamResponse:
        profile = request.app[STATE].profiles.default
        try:
            profile = _route_profile(request, base)
            authenticate(request, profile)
            body = parse_body(await read_body(request), request.headers.get("Content-Type"))
            check_request(body, profile)
            return _reply(request, body, profile)
        except ApiError as error:
            return error_response(error, profile)

    return handle_chat_completions


def _reply(request: web.Request, body: dict, profile: Profile) -> web.StreamResponse:
    state = request.app[STATE]
    # Routing hints such as gomodel's ``provider`` are consumed by the gateway, not forwarded.
    hints = {name: body.pop(name) for name in profile.strip_fields if name in body}
    choice = fallback_choice(body)
    completion = new_completion(
        body, profile, [choice] * (body.get("n") or 1), state.ids, hint=hints.get("provider")
    )
    return json_response(completion.body())


def list_models(base: str):
    async def handle_list_models(request: web.Request) -> web.Response:
        profile = request.app[STATE].profiles.default
        try:
            profile = _route_profile(request, base)
            authenticate(request, profile)
        except ApiError as error:
            return error_response(error, profile)
        owner = profile.name if profile.name != "openai" else "system"
        return json_response(
            {
                "object": "list",
                "data": [
                    {"id": model, "object": "model", "created": 1700000000, "owned_by": owner}
                    for model in profile.models
                ],
            }
        )

    return handle_list_models


async def health(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return json_response(
        {
            "status": "ok",
            "default_profile": state.profiles.default.name,
            "profiles": sorted(p.name for p in state.profiles),
        }
    )


async def not_found(request: web.Request) -> web.Response:
    profile = request.app[STATE].profiles.default
    error = ApiError(
        "404",
        message=f"Invalid URL ({request.method} {request.path})",
        type="invalid_request_error",
        code=None,
    )
    return error_response(error, profile)
