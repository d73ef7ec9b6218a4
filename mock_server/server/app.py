"""The aiohttp application: one server's state, loaded once, and its routes.

``create_app`` loads and compiles profiles, schemas and scenarios, then routes
``POST [/t/{tenant}][/{profile}]{base}{api.path}`` to the pipeline (``server.pipeline``) for
every API a profile serves (``apis``: chat completions, ``/chat/completions``), ``GET
.../models`` to the model list, ``[/t/{tenant}]/__admin/...`` to the admin API, and every other
path to an OpenAI-shaped 404.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from ..accounts.clock import make_clock
from ..accounts.rules import AccountRules
from ..checks.profiles import load_profiles
from ..checks.request import check_model
from ..checks.verdicts import WARM_UP, fast_verdicts
from ..config import Settings
from ..engine.choosing import ScenarioEngine
from ..engine.loading import check_profiles, load_paths
from ..errors import ApiError, ConfigError
from ..providers import BASE_PATHS, Profile, ProfileRegistry
from ..wire.ids import Ids
from ..wire.pacer import Pacer
from .addresses import in_url
from .admin_routes import ADMIN_ROUTES, add_admin_routes, wrong_method
from .apis import DEFAULT_APIS, Api
from .auth import authenticate
from .exchange import Incoming
from .headers import readable
from .inspector import add_inspector_routes, load_files
from .pipeline import api_read_route, api_route
from .prefixed import prefixed_routes, with_tenants
from .render import as_api_error, error_answer, json_response
from .request_log import FORMATS as LOG_FORMATS
from .request_log import RequestLog
from .routing import API_ROUTES, route_profile
from .state import STATE, ServerState, scenario_paths
from .tenants import Tenants


class _QuietProtocolErrors(logging.Filter):
    """Drop aiohttp's traceback for a request it could not even parse (a header value with
    control bytes, a broken request line): the client gets aiohttp's 400, the log stays clean."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, HttpProcessingError)


_PROTOCOL_LOG = logging.getLogger("aiohttp.server")
if not any(isinstance(f, _QuietProtocolErrors) for f in _PROTOCOL_LOG.filters):
    _PROTOCOL_LOG.addFilter(_QuietProtocolErrors())


def banner(app: web.Application, port: int) -> str:
    """What the server says when it starts: where each profile is served (``port``: the one it
    listens on), what it loaded."""
    state = app[STATE]
    settings = state.settings
    root = f"http://{in_url(settings.host)}:{port}"
    default = state.profiles.default
    lines = [f"mock-server: serving on {root}{default.paths[0]} (profile {default.name})"]
    for profile in sorted(state.profiles, key=lambda p: p.name):
        urls = ", ".join(f"{root}/{profile.name}{path}" for path in profile.paths)
        lines.append(f"  {profile.name:<13} {urls}")
    sources = state.scenario_paths()
    if settings.scenarios is None and state.recorder is None:
        lines.append(f"  {len(state.engine.files)} scenario(s) from bundled scenarios/")
    elif sources:
        lines.append(f"  {len(state.engine.files)} scenario(s) from {', '.join(map(str, sources))}")
    else:
        lines.append("  no scenarios: tenants add their own")
    recorder = state.recorder
    if recorder is not None:
        for upstream in recorder.upstreams.values():
            into = recorder.record_to and f", into {recorder.server_file(upstream.profile)}"
            lines.append(
                f"  recording ({recorder.mode}): {upstream.profile} -> {upstream.url}{into or ''}"
            )
    off = state.shortcut.off
    lines.append(f"  connection shortcut: {'on' if off is None else f'off ({off})'}")
    fast = fast_verdicts()
    judged = (
        f"{fast} first, once a schema has judged {WARM_UP} bodies"
        if fast
        else "mock-server's schema compiler alone"
    )
    lines.append(f"  request checks: {judged}")
    lines.append(f"  inspector: {root}/__admin/  (journal: {root}/__admin/requests)")
    return "\n".join(lines)


def server_options(settings: Settings) -> dict:
    """Options for aiohttp's connection handler, the same for ``run_app`` and ``AppRunner``:
    idle connections (and half-sent headers) closed after ``idle_timeout``; request bodies
    decoded by ``server.request_body`` rather than by aiohttp, so that a broken or unsupported
    ``Content-Encoding`` gets a JSON answer and a bounded size."""
    return {
        "access_log": None,
        "keepalive_timeout": settings.idle_timeout,
        "auto_decompress": False,
    }


def create_app(
    settings: Settings | None = None, apis: Sequence[Api] = DEFAULT_APIS
) -> web.Application:
    """Build the server: profiles, schemas and scenarios are loaded and compiled here, once;
    ``apis``: the APIs it can serve, each where a profile names it."""
    settings = settings or Settings()
    profiles = load_profiles(settings.profile_files, settings.profile)
    for name in settings.chaos_profiles:  # a typo would lie dead
        if profiles.get(name) is None:
            raise ConfigError(f"chaos.profiles: {profiles.unknown(name)}")
    served = _served_apis(profiles, apis)
    if settings.unknown_models is not None:
        for profile in profiles:
            profile.reject_unknown_models = settings.unknown_models == "reject"
    recorder = None
    if settings.record:
        from ..record.recorder import Recorder  # only a recording server needs the client

        recorder = Recorder(settings, profiles, replay=lambda found: engine.add(found))
    scenarios = load_paths(scenario_paths(settings, recorder))
    check_profiles(scenarios, profiles)
    engine = ScenarioEngine(scenarios)
    app = web.Application(client_max_size=settings.max_body_bytes)
    clock = make_clock(settings.clock)
    request_log = _request_log(settings.log_format)
    app[STATE] = ServerState(
        settings=settings,
        profiles=profiles,
        ids=Ids(settings.seed),
        api_keys=tuple(spec.key.encode() for spec in settings.api_keys),
        engine=engine,
        tenants=Tenants(
            settings.journal_size,
            settings.journal_bytes,
            settings.journal_total_bytes,
            settings.max_tenants,
        ),
        rng=random.Random(settings.seed),
        clock=clock,
        accounts=AccountRules(settings, clock),
        request_log=request_log.write if request_log is not None else None,
        pacer=Pacer(),
        recorder=recorder,
    )
    if recorder is not None:
        app.on_cleanup.append(recorder.close)
    if request_log is not None:
        app.on_cleanup.append(request_log.flushed)  # the lines of the last moments, too
    if settings.watch:
        from .watch import watch_scenarios

        app.cleanup_ctx.append(watch_scenarios)
    add_admin_routes(app)
    add_inspector_routes(app, load_files())
    admin = list(app.router.resources())
    app[API_ROUTES] = {}
    for base in BASE_PATHS:
        for api in served:
            route = app.router.add_post(base + api.path, api_route(api, base))
            app[API_ROUTES][route.resource.canonical] = (api, base)
            for method, path, handle in api.reads():
                app.router.add_route(method, base + path, api_read_route(api, base, handle))
        app.router.add_get(base + "/models", models_route(base))
        # A model id may hold a slash (``openai/gpt-4o`` at a gateway).
        app.router.add_get(base + "/models/{model:.+}", models_route(base))
    # The same routes under [/t/{tenant}][/{profile}].
    for resource in prefixed_routes(admin, list(app.router.resources())[len(admin) :]):
        app.router.register_resource(resource)
    app[ADMIN_ROUTES] = with_tenants(admin)
    # [\s\S]: any character, a newline included (a percent-encoded %0A decodes to one).
    app.router.add_route("*", r"/{tail:[\s\S]*}", not_found)
    return app


def _served_apis(profiles: ProfileRegistry, apis: Sequence[Api]) -> list[Api]:
    """The APIs some profile serves, in the order given; a profile naming an API not among
    ``apis`` is a ``ConfigError``."""
    known = {api.name: api for api in apis}
    named: set[str] = set()
    for profile in profiles:
        unknown = [name for name in profile.apis if name not in known]
        if unknown:
            raise ConfigError(
                f"profile {profile.name!r} names unknown API(s) {', '.join(map(repr, unknown))};"
                f" this server serves {', '.join(known)}"
            )
        for name in profile.apis:
            why = known[name].unusable(profile)
            if why is not None:
                raise ConfigError(f"profile {profile.name!r} cannot serve {name}: {why}")
        named.update(profile.apis)
    return [api for api in apis if api.name in named]


def _request_log(log_format: str | None) -> RequestLog | None:
    if log_format not in (None, *LOG_FORMATS):
        raise ConfigError(f"log_format must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    return RequestLog(log_format) if log_format in ("text", "json") else None


def models_route(base: str):
    """``GET .../models``, the profile's models (its embedding models too), and ``GET
    .../models/{model}``, one of them (any model, unless the profile refuses models it does not
    list: then 404 ``model_not_found``), as OpenAI's model objects."""

    async def handle_models(request: web.Request) -> web.Response:
        state = request.app[STATE]
        profile = state.profiles.default
        request_id = state.ids.request()
        wanted = request.match_info.get("model")
        try:
            incoming = Incoming.of(request)
            profile = route_profile(state, incoming, base)
            authenticate(state, incoming, profile)
            if wanted is None:
                listed = dict.fromkeys([*profile.models, *profile.embedding_models])
                body = {"object": "list", "data": [_model(profile, m) for m in listed]}
            else:
                if profile.reject_unknown_models and wanted not in profile.embedding_models:
                    check_model({"model": wanted}, profile)
                body = _model(profile, wanted)
        except Exception as exc:
            return error_answer(as_api_error(exc, request.path), profile, request_id).response()
        return json_response(
            body, headers=profile.answer_headers({}, request_id), style=profile.body_format
        )

    return handle_models


def _model(profile: Profile, model: str) -> dict[str, Any]:
    owner = profile.name if profile.name != "openai" else "system"
    return {"id": model, "object": "model", "created": 1700000000, "owned_by": owner}


async def not_found(request: web.Request) -> web.Response:
    wrong = await wrong_method(request)
    if wrong is not None:
        return wrong
    state = request.app[STATE]
    error = ApiError(
        "404",
        message=f"Invalid URL ({readable(request.method)} {readable(request.path)})",
        type="invalid_request_error",
        code=None,
    )
    return error_answer(error, state.profiles.default, state.ids.request()).response()
