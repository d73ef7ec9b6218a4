"""The chat-completions pipeline: the path every ``POST .../chat/completions`` takes.

    route (tenant, profile, base path)   server.access
      -> auth                      401   server.access
      -> body                      400 / 413   server.access, checks.body
      -> schema + semantic checks  400 / 422   checks.request
      -> account emulation         402 / 429 / 503   accounts.rules
      -> scenario engine           (scripted error, fault, or a reply; else fallback / strict 404,
                                    or, when recording, the upstream: record.recorder)
      -> JSON body or SSE stream   wire
      -> journal                   server.journal

Errors raised on that path are ``ApiError``s, rendered once by ``error_response`` in the wording
of the profile that serves the request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..checks.body import parse_body
from ..checks.request import check_model, check_request
from ..engine.matching import format_near_misses
from ..engine.reply_specs import ReplySpec
from ..engine.request_view import RequestView
from ..errors import ApiError
from ..wire.completions import new_completion, requested_top_logprobs
from ..wire.faults import plain_fault
from ..wire.size import estimated_size
from ..wire.streaming import render_events, send_stream
from .access import ClientGone, authenticate, read_body, route_profile
from .exchange import Exchange
from .headers import readable
from .journal import record
from .overrides import NONE, read_overrides
from .render import answer_headers, error_response, json_response
from .state import STATE

if TYPE_CHECKING:
    from ..record.recorder import RecordingTarget
    from ..record.upstream import Upstream

log = logging.getLogger("mock_server")


DEFAULT_REPLY = ReplySpec()
FALLBACK_WARNING_HEADER = "x-mock-fallback-warning"


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
            raw = exchange.raw = await read_body(
                request, state.settings.max_body_bytes, state.settings.body_timeout
            )
            content_type = request.headers.get("Content-Type")
            body = parse_body(raw, readable(content_type) if content_type else None)
            exchange.body = body
            check_request(body, exchange.profile)
            if exchange.profile.reject_unknown_models:
                check_model(body, exchange.profile)
            exchange.headers, exchange.chaos = state.accounts.admit(
                exchange.tenant.accounts, exchange.key, exchange.profile, body
            )
            state.accounts.in_flight += 1
            try:
                response = await answer(exchange)
            finally:
                state.accounts.in_flight -= 1
        except ApiError as error:
            response = error_response(
                error, exchange.profile, exchange.request_id, exchange.headers, exchange.started
            )
            exchange.status = response.status
            exchange.error_code = error.code if isinstance(error.code, str) else error.kind
        except (ClientGone, ConnectionError):  # the client hung up: nothing to send, or report
            response = web.Response(status=499)
            exchange.status = 0
        except Exception as exc:  # a bug of ours: still answer as a provider would
            log.exception("internal error answering %s", readable(request.path))
            error = ApiError("500", detail=str(exc))
            response = error_response(
                error, exchange.profile, exchange.request_id, started=exchange.started
            )
            exchange.status = 500
        record(exchange, raw, response.body if isinstance(response, web.Response) else None)
        if state.request_log is not None:
            state.request_log(exchange)
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
    recording = _recording(exchange) if state.recorder is not None else None
    if overrides.scenario is not None:
        forced = state.engine.find(overrides.scenario, exchange.tenant.scenarios)
        if forced is None:
            raise ApiError(
                "400",
                f"Invalid X-Mock-Scenario header: no scenario named '{overrides.scenario}'.",
                code="invalid_override",
            )
        selection = state.engine.advance(forced, exchange.tenant.scenarios)
    elif recording is not None and recording[0].mode == "all":  # every request goes upstream
        return await forward(exchange, view, *recording)
    else:
        selection = state.engine.choose(view, exchange.tenant.scenarios)
    exchange.selection = selection
    if selection is None:
        if recording is not None:
            return await forward(exchange, view, *recording)
        strict = exchange.tenant.strict
        if strict if strict is not None else state.settings.strict:
            misses = state.engine.near_misses(view, exchange.tenant.scenarios)
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


def _recording(exchange: Exchange) -> tuple[RecordingTarget, Upstream] | None:
    """Where a request this tenant sends to this profile is forwarded and recorded, if
    anywhere: the tenant's own recording file, else the server's."""
    recorder = exchange.state.recorder
    upstream = recorder.upstream(exchange.profile.name)
    if upstream is None:
        return None
    target = exchange.tenant.recording or recorder.server_target(exchange.profile.name)
    return None if target is None or target.mode == "none" else (target, upstream)


async def forward(
    exchange: Exchange, view: RequestView, target: RecordingTarget, upstream: Upstream
) -> web.StreamResponse:
    """Answer from the upstream, and record what it said."""
    exchange.forwarded = True
    outcome = await exchange.state.recorder.forward(
        target, upstream, exchange.request, exchange.raw, view
    )
    exchange.status = outcome.response.status
    exchange.recorded, exchange.chunks = outcome.recorded, outcome.chunks
    exchange.summary = outcome.summary
    return outcome.response


async def deliver(
    exchange: Exchange, reply: ReplySpec, view: RequestView, provider_hint: str | None
) -> web.StreamResponse:
    """Turn a reply spec into bytes on the wire: error, fault, stream or JSON body."""
    state = exchange.state
    request, body, profile = exchange.request, exchange.body, exchange.profile
    headers = answer_headers(
        profile, {**exchange.headers, **reply.headers}, exchange.request_id, exchange.started
    )
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
    choices = reply.choices(view)
    size = estimated_size(
        choices, requested_top_logprobs(body), reply.stream if streaming else None
    )
    if size > state.settings.max_response_bytes:
        raise _too_large(size, state.settings.max_response_bytes, body)
    warnings = [w for choice in choices for w in choice.warnings]
    if warnings:
        headers[FALLBACK_WARNING_HEADER] = "; ".join(dict.fromkeys(warnings))
    completion = new_completion(
        body, profile, choices, state.ids, hint=provider_hint, usage_override=reply.usage
    )
    state.accounts.charge(
        exchange.tenant.accounts, exchange.key, completion.usage()["total_tokens"]
    )
    exchange.completion = completion
    if streaming:
        options = body.get("stream_options") or {}
        events = render_events(
            completion,
            reply.stream,
            bool(options.get("include_usage")),
            options.get("include_obfuscation") is not False,
        )
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
            timeline=exchange.chunk_ms,
        )
    return json_response(completion.body(), headers=headers, style=profile.body_format)


def _too_large(size: int, limit: int, body: dict[str, Any]) -> ApiError:
    asked = [f"{name}={body[name]}" for name in ("n", "top_logprobs") if body.get(name)]
    if body.get("stream"):
        asked.append("stream=true")
    return ApiError(
        "400",
        f"This request asks for a reply of about {size:,} bytes"
        + (f" ({', '.join(asked)})" if asked else "")
        + f", more than this server's limit of {limit:,} bytes (max_response_bytes).",
        code="response_too_large",
    )
