"""The aiohttp application: routes, and the path every chat-completions request takes.

    route (tenant, profile, base path)
      -> auth                      401
      -> body                      400 / 413
      -> schema + semantic checks  400 / 422
      -> scenario engine           (scripted error, fault, or a reply; else fallback / strict 404)
      -> JSON body or SSE stream
      -> journal

Errors raised on that path are ``ApiError``s, rendered once by ``error_response`` in the wording
of the profile that serves the request.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import random
import time
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web

from .admin import add_admin_routes
from .clock import make_clock
from .config import Settings, redact
from .emulation import Emulation
from .engine import ScenarioEngine, Selection
from .errors import ApiError
from .faults import Fault, plain_fault
from .journal import record
from .matching import format_near_misses
from .overrides import NONE, read_overrides
from .pacer import Pacer
from .profiles import BASE_PATHS, Profile, load_profiles
from .replies import Completion, Ids, new_completion
from .responses import error_response, json_response
from .scenario import bundled_scenarios_dir, load_paths
from .script import ReplySpec
from .state import STATE, ServerState
from .streaming import render_events, send_stream
from .tenants import Tenant, Tenants
from .validation import check_request, parse_body
from .view import RequestView

log = logging.getLogger("mock_server")


DEFAULT_REPLY = ReplySpec()


def create_app(settings: Settings | None = None) -> web.Application:
    """Build the server: profiles, schemas and scenarios are loaded and compiled here, once."""
    settings = settings or Settings()
    profiles = load_profiles(settings.profile_files, settings.profile)
    paths = [bundled_scenarios_dir()] if settings.scenarios is None else settings.scenarios
    scenarios = load_paths(paths)
    app = web.Application(client_max_size=settings.max_body_bytes)
    clock = make_clock(settings.clock)
    app[STATE] = ServerState(
        settings=settings,
        profiles=profiles,
        ids=Ids(settings.seed),
        api_keys=tuple(spec.key.encode() for spec in settings.api_keys),
        engine=ScenarioEngine(scenarios),
        tenants=Tenants(settings.journal_size),
        rng=random.Random(settings.seed),
        clock=clock,
        emulation=Emulation(settings, clock),
        pacer=Pacer(),
    )
    if settings.watch:
        from .watch import watch_scenarios

        app.cleanup_ctx.append(watch_scenarios)
    for tenant in ("", "/t/{tenant}"):
        add_admin_routes(app, tenant)
        for profile in ("", "/{profile}"):
            for base in BASE_PATHS:
                prefix = tenant + profile + base
                app.router.add_post(prefix + "/chat/completions", chat_completions(base))
                app.router.add_get(prefix + "/models", list_models(base))
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app


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


@dataclass
class Exchange:
    """One request on its way through the server, and what became of it (for the journal)."""

    state: ServerState
    request: web.Request
    request_id: str
    tenant: Tenant
    profile: Profile
    started: float
    body: dict[str, Any] | None = None
    key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # e.g. x-ratelimit-*, on every answer
    chaos: Fault | None = None
    selection: Selection | None = None
    near_miss: list[dict[str, Any]] | None = None
    status: int = 200  # 0: a fault left the client without a response
    completion: Completion | None = None
    chunks: int | None = None  # events sent, for a stream
    fault: str | None = None


def chat_completions(base: str):
    async def handle_chat_completions(request: web.Request) -> web.StreamResponse:
        state = request.app[STATE]
        exchange = Exchange(
            state,
            request,
            state.ids.request(),
            state.tenants.get(request.match_info.get("tenant")),
            state.profiles.default,
            time.monotonic(),
        )
        raw = None
        try:
            exchange.profile = route_profile(state, request, base)
            exchange.key = authenticate(state, request, exchange.profile)
            raw = await read_body(request, state.settings.max_body_bytes)
            body = parse_body(raw, request.headers.get("Content-Type"))
            exchange.body = body
            check_request(body, exchange.profile)
            exchange.headers, exchange.chaos = state.emulation.admit(
                exchange.tenant, exchange.key, exchange.profile, body
            )
            state.emulation.in_flight += 1
            try:
                response = await answer(exchange)
            finally:
                state.emulation.in_flight -= 1
        except ApiError as error:
            response = error_response(
                error, exchange.profile, exchange.request_id, exchange.headers
            )
            exchange.status = response.status
        except Exception as exc:  # a bug of ours: still answer as a provider would
            log.exception("internal error answering %s", request.path)
            error = ApiError("500", detail=str(exc))
            response = error_response(error, exchange.profile, exchange.request_id)
            exchange.status = 500
        record(exchange, raw, response.body if isinstance(response, web.Response) else None)
        return response

    return handle_chat_completions


async def answer(exchange: Exchange) -> web.StreamResponse:
    """Answer a valid request: scripted by a scenario, or the fallback reply."""
    state = exchange.state
    body, profile = exchange.body, exchange.profile
    # Routing hints such as gomodel's ``provider`` are consumed by the gateway, not forwarded.
    hints = {name: body.pop(name) for name in profile.strip_fields if name in body}
    view = RequestView(body, exchange.request.headers, profile.name)
    overrides = read_overrides(exchange.request.headers) if state.settings.overrides else NONE
    if overrides.status is not None:
        raise ApiError(str(overrides.status), status=overrides.status)
    if overrides.scenario is not None:
        forced = state.engine.find(overrides.scenario, exchange.tenant)
        if forced is None:
            raise ApiError(
                "400",
                f"Invalid X-Mock-Scenario header: no scenario named '{overrides.scenario}'.",
                code="invalid_override",
            )
        selection = state.engine.advance(forced, exchange.tenant)
    else:
        selection = state.engine.choose(view, exchange.tenant)
    exchange.selection = selection
    if selection is None:
        strict = exchange.tenant.strict
        if strict if strict is not None else state.settings.strict:
            misses = state.engine.near_misses(view, exchange.tenant)
            exchange.near_miss = [m.as_dict() for m in misses]
            raise ApiError(
                "404",
                message="No scenario matched this request (strict mode).\n"
                + format_near_misses(misses),
                type="mock_no_match",
                code="mock_no_match",
            )
        reply = DEFAULT_REPLY
    else:
        reply = selection.reply
    fault = overrides.fault or exchange.chaos
    if fault is not None:
        reply = replace(reply, fault=fault)
    return await deliver(exchange, reply, view, hints.get("provider"))


async def deliver(
    exchange: Exchange, reply: ReplySpec, view: RequestView, provider_hint: str | None
) -> web.StreamResponse:
    """Turn a reply spec into bytes on the wire: error, fault, stream or JSON body."""
    state = exchange.state
    request, body, profile = exchange.request, exchange.body, exchange.profile
    headers = {**exchange.headers, **reply.headers, "x-request-id": exchange.request_id}
    fault, streaming = reply.fault, bool(body.get("stream"))
    if reply.latency.delay_ms and not (streaming and reply.status is None):
        await asyncio.sleep(reply.latency.delay_ms / 1000)
    error = reply.api_error()
    if error is not None:
        raise error
    if fault is not None and not streaming:
        if fault.type == "error_event":  # without a stream, the error is the whole answer
            raise ApiError(str(fault.status), status=fault.status)
        fault = fault.plain_equivalent()
    if fault is not None and not (streaming and fault.is_stream_fault):
        exchange.status = 0  # no HTTP response reaches the client
        exchange.fault = fault.type
        return await plain_fault(request, fault, headers)
    completion = new_completion(
        body,
        profile,
        reply.choices(view),
        state.ids,
        hint=provider_hint,
        usage_override=reply.usage,
    )
    state.emulation.charge(exchange.tenant, exchange.key, completion.usage()["total_tokens"])
    exchange.completion = completion
    if streaming:
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        events = render_events(completion, reply.stream, include_usage)
        exchange.chunks = len(events)
        if fault is not None:
            exchange.fault = fault.type
        error_body = None
        if fault is not None and fault.type == "error_event":
            error_body = profile.error_body(ApiError(str(fault.status), status=fault.status))[1]
        return await send_stream(
            request,
            events,
            latency=reply.latency,
            fault=fault,
            error_body=error_body,
            keepalive_interval=(
                (state.settings.keepalive_interval or profile.keepalive_interval)
                if profile.keepalive
                else None
            ),
            rng=state.rng,
            headers=headers,
            pacer=state.pacer,
        )
    return json_response(completion.body(), headers=headers)


def list_models(base: str):
    async def handle_list_models(request: web.Request) -> web.Response:
        state = request.app[STATE]
        profile = state.profiles.default
        request_id = state.ids.request()
        try:
            profile = route_profile(state, request, base)
            authenticate(state, request, profile)
        except ApiError as error:
            return error_response(error, profile, request_id)
        owner = profile.name if profile.name != "openai" else "system"
        return json_response(
            {
                "object": "list",
                "data": [
                    {"id": model, "object": "model", "created": 1700000000, "owned_by": owner}
                    for model in profile.models
                ],
            },
            headers={"x-request-id": request_id},
        )

    return handle_list_models


async def not_found(request: web.Request) -> web.Response:
    state = request.app[STATE]
    error = ApiError(
        "404",
        message=f"Invalid URL ({request.method} {request.path})",
        type="invalid_request_error",
        code=None,
    )
    return error_response(error, state.profiles.default, state.ids.request())
