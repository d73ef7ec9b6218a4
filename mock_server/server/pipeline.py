"""The chat-completions pipeline: the path every ``POST .../chat/completions`` takes.

    route (tenant, profile, base path)   server.routing
      -> auth                      401   server.auth
      -> body                      400 / 413   server.request_body, checks.body
      -> schema + semantic checks  400 / 422   checks.request
      -> account emulation         402 / 429 / 503   accounts.rules
      -> scenario engine           (scripted error, fault, or a reply; else fallback / strict 404,
                                    or, when recording, the upstream: record.recorder)
      -> JSON body or SSE stream   wire
      -> journal                   server.journal

Errors raised on that path are ``ApiError``s, rendered once by ``error_answer`` in the wording
of the profile that serves the request.

A request comes in one of two ways: through aiohttp's route handler (``chat_completions``), or
straight from the connection when its whole body has already arrived (``server.connection``).
Both go through ``respond``, which answers there and then with an ``Answer`` unless sending the
answer takes time (a delay, a stream, a fault, an upstream): that is a ``Later``, which runs with
aiohttp's request object.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..checks.body import parse_body
from ..checks.request import check_model
from ..engine.matching import format_near_misses
from ..engine.reply_specs import ReplySpec
from ..engine.request_view import RequestView
from ..errors import ApiError
from ..wire.answer import Answer
from ..wire.completions import Completion, new_completion, requested_top_logprobs
from ..wire.faults import plain_fault
from ..wire.kept_bodies import KeptBody
from ..wire.size import estimated_size
from ..wire.streaming import render_events, send_stream
from .auth import authenticate
from .exchange import Exchange, Incoming
from .headers import readable
from .journal import record
from .overrides import NONE, read_overrides
from .render import answer_headers, error_answer, json_bytes_answer
from .request_body import ClientGone, read_body
from .routing import route_profile
from .state import STATE, ServerState

if TYPE_CHECKING:
    from ..record.recorder import RecordingTarget
    from ..record.upstream import Upstream

log = logging.getLogger("mock_server")


DEFAULT_REPLY = ReplySpec()
NO_HINTS: dict[str, Any] = {}
FALLBACK_WARNING_HEADER = "x-mock-fallback-warning"


class Later:
    """An answer that takes time to send: ``run`` sends it through aiohttp's request object."""

    __slots__ = ("run",)

    def __init__(self, run: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> None:
        self.run = run


Outcome = Answer | Later


def chat_completions(base: str):
    """aiohttp's handler for ``POST {base}/chat/completions`` (its ``chat_base`` names ``base``)."""

    async def handle_chat_completions(request: web.Request) -> web.StreamResponse:
        handover = handed_over(request)
        if handover is not None:
            exchange, outcome = handover
        else:
            exchange = open_exchange(request.app[STATE], Incoming.of(request))
            outcome = admit(exchange, base)
            if outcome is None:
                settings = exchange.state.settings
                try:
                    raw = await read_body(request, settings.max_body_bytes, settings.body_timeout)
                except ApiError as error:
                    outcome = failed(exchange, error)
                except (ClientGone, ConnectionError):
                    return finish(exchange, gone(exchange))
                else:
                    outcome = respond(exchange, raw)
        if isinstance(outcome, Answer):
            return finish(exchange, outcome.response())
        return finish(exchange, await run_later(exchange, outcome, request))

    handle_chat_completions.chat_base = base  # type: ignore[attr-defined]
    return handle_chat_completions


def handed_over(request: web.BaseRequest) -> tuple[Exchange, Outcome] | None:
    """The exchange the connection began for ``request`` itself, and what is left to do."""
    handovers = getattr(request.protocol, "handovers", None)
    return handovers.pop(request.content, None) if handovers else None


def open_exchange(state: ServerState, incoming: Incoming) -> Exchange:
    return Exchange(
        state,
        incoming,
        state.ids.request(),
        state.tenants.get(incoming.tenant),
        state.profiles.default,
        time.monotonic(),
    )


def admit(exchange: Exchange, base: str) -> Answer | None:
    """The error answer for a path no profile serves or a caller without a valid key."""
    try:
        exchange.profile = route_profile(exchange.state, exchange.incoming, base)
        exchange.key = authenticate(exchange.state, exchange.incoming, exchange.profile)
    except ApiError as error:
        return failed(exchange, error)
    return None


def respond(exchange: Exchange, raw: bytes) -> Outcome:
    """The answer to an admitted request whose body (``raw``, decoded) has been read."""
    state = exchange.state
    exchange.raw = raw
    try:
        content_type = exchange.incoming.headers.get("Content-Type")
        body = parse_body(raw, readable(content_type) if content_type else None)
        exchange.body = body
        state.passed_bodies.check(raw, body, exchange.profile)
        if exchange.profile.reject_unknown_models:
            check_model(body, exchange.profile)
        exchange.headers, exchange.chaos = state.accounts.admit(
            exchange.tenant.accounts, exchange.key, exchange.profile, body
        )
        state.accounts.in_flight += 1
        try:
            outcome = answer(exchange)
        except BaseException:
            state.accounts.in_flight -= 1
            raise
        if isinstance(outcome, Later):
            return _counted(state, outcome)
        state.accounts.in_flight -= 1
        return outcome
    except ApiError as error:
        return failed(exchange, error)
    except Exception as exc:
        return crashed(exchange, exc)


def _counted(state: ServerState, later: Later) -> Later:
    """``later``, counted as in flight until it has been sent."""

    async def run(request: web.Request) -> web.StreamResponse:
        try:
            return await later.run(request)
        finally:
            state.accounts.in_flight -= 1

    return Later(run)


async def run_later(exchange: Exchange, later: Later, request: web.Request) -> web.StreamResponse:
    try:
        return await later.run(request)
    except ApiError as error:
        return failed(exchange, error).response()
    except (ClientGone, ConnectionError):
        return gone(exchange)
    except Exception as exc:
        return crashed(exchange, exc).response()


def failed(exchange: Exchange, error: ApiError) -> Answer:
    out = error_answer(
        error, exchange.profile, exchange.request_id, exchange.headers, exchange.started
    )
    exchange.status = out.status
    exchange.error_code = error.code if isinstance(error.code, str) else error.kind
    return out


def crashed(exchange: Exchange, exc: Exception) -> Answer:
    """A bug of ours: still answered as a provider would."""
    log.exception("internal error answering %s", readable(exchange.incoming.path))
    error = ApiError("500", detail=str(exc))
    out = error_answer(error, exchange.profile, exchange.request_id, started=exchange.started)
    exchange.status = 500
    return out


def gone(exchange: Exchange) -> web.Response:
    """The client hung up: nothing to send, or report."""
    exchange.status = 0
    return web.Response(status=499)


def finish(exchange: Exchange, response: web.StreamResponse) -> web.StreamResponse:
    """Journal and log ``exchange`` once its ``response`` is known."""
    sent(exchange, response.body if isinstance(response, web.Response) else None)
    return response


def sent(exchange: Exchange, body: Any) -> None:
    record(exchange, exchange.raw, body)
    if exchange.state.request_log is not None:
        exchange.state.request_log(exchange)


def answer(exchange: Exchange) -> Outcome:
    """Answer a valid request: scripted by a scenario, or the fallback reply."""
    state = exchange.state
    body, profile = exchange.body, exchange.profile
    # Routing hints such as gomodel's ``provider`` are consumed by the gateway, not forwarded.
    hints = (
        {name: body.pop(name) for name in profile.strip_fields if name in body}
        if profile.strip_fields
        else NO_HINTS
    )
    headers = exchange.incoming.headers
    view = RequestView(body, headers, profile.name)
    overrides = read_overrides(headers) if state.settings.overrides else NONE
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
        return _forwarded(exchange, view, *recording)
    else:  # while recording, a recording whose steps are used up records the next one
        selection = state.engine.choose(view, exchange.tenant.scenarios, recording is not None)
    exchange.selection = selection
    if selection is None:
        if recording is not None:
            return _forwarded(exchange, view, *recording)
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
    return deliver(exchange, reply, view, hints.get("provider"))


def _recording(exchange: Exchange) -> tuple[RecordingTarget, Upstream] | None:
    """Where a request this tenant sends to this profile is forwarded and recorded, if
    anywhere: the tenant's own recording file, else the server's."""
    recorder = exchange.state.recorder
    upstream = recorder.upstream(exchange.profile.name)
    if upstream is None:
        return None
    target = exchange.tenant.recording or recorder.server_target(exchange.profile.name)
    return None if target is None or target.mode == "none" else (target, upstream)


def _forwarded(
    exchange: Exchange, view: RequestView, target: RecordingTarget, upstream: Upstream
) -> Later:
    """Answer from the upstream, and record what it said."""
    exchange.forwarded = True

    async def forward(request: web.Request) -> web.StreamResponse:
        outcome = await exchange.state.recorder.forward(
            target, upstream, request, exchange.raw, view, exchange.tenant.scenarios
        )
        exchange.status = outcome.response.status
        exchange.recorded, exchange.chunks = outcome.recorded, outcome.chunks
        exchange.summary = outcome.summary
        return outcome.response

    return Later(forward)


def deliver(
    exchange: Exchange, reply: ReplySpec, view: RequestView, provider_hint: str | None
) -> Outcome:
    """Turn a reply spec into what goes on the wire: error, fault, stream or JSON body, after
    the reply's delay."""
    extra = exchange.headers
    if reply.headers:
        extra = {**extra, **reply.headers}
    headers = answer_headers(exchange.profile, extra, exchange.request_id, exchange.started)
    streaming = bool(exchange.body.get("stream"))
    if not reply.latency.delay_ms or (streaming and reply.status is None):
        return _deliver_now(exchange, reply, view, provider_hint, headers, streaming)

    async def delayed(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(reply.latency.delay_ms / 1000)
        outcome = _deliver_now(exchange, reply, view, provider_hint, headers, streaming)
        return outcome.response() if isinstance(outcome, Answer) else await outcome.run(request)

    return Later(delayed)


def _deliver_now(
    exchange: Exchange,
    reply: ReplySpec,
    view: RequestView,
    provider_hint: str | None,
    headers: dict[str, str],
    streaming: bool,
) -> Outcome:
    state, body, profile = exchange.state, exchange.body, exchange.profile
    fault = reply.fault
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
        plain = fault
        return Later(lambda request: plain_fault(request, plain, headers))
    keepable = not streaming and fault is None
    if keepable:
        kept = state.kept_bodies.get(exchange.raw, profile.name, reply)
        if kept is not None:
            return _kept_answer(exchange, kept, headers)
    choices = reply.choices(view)
    size = estimated_size(
        choices, requested_top_logprobs(body), reply.stream if streaming else None
    )
    if size > state.settings.max_response_bytes:
        raise _too_large(size, state.settings.max_response_bytes, body)
    warnings = [w for choice in choices for w in choice.warnings]
    if warnings:
        headers[FALLBACK_WARNING_HEADER] = "; ".join(dict.fromkeys(warnings))
    generated_ids = any(not call.id for choice in choices for call in choice.tool_calls)
    completion = new_completion(
        body, profile, choices, state.ids, hint=provider_hint, usage_override=reply.usage
    )
    _charge(exchange, completion)
    if not streaming:
        data = profile.body_format.encode(completion.body())
        if keepable and not generated_ids:
            warning = headers.get(FALLBACK_WARNING_HEADER)
            state.kept_bodies.keep(exchange.raw, profile.name, reply, completion, data, warning)
        return json_bytes_answer(data, headers=headers)
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
    keepalive = (
        (state.settings.keepalive_interval or profile.keepalive_interval)
        if profile.keepalive
        else None
    )
    return Later(
        lambda request: send_stream(
            request,
            events,
            latency=reply.latency,
            fault=fault,
            error_body=error_body,
            keepalive_interval=keepalive,
            rng=state.rng,
            headers=headers,
            pacer=state.pacer,
            timeline=exchange.chunk_ms,
        )
    )


def _kept_answer(exchange: Exchange, kept: KeptBody, headers: dict[str, str]) -> Answer:
    """The body an identical request got before, with a new id and time."""
    if kept.warning is not None:
        headers[FALLBACK_WARNING_HEADER] = kept.warning
    _charge(exchange, kept.completion)
    completion_id = exchange.state.ids.completion(exchange.profile.id_style)
    return json_bytes_answer(kept.body(completion_id, int(time.time())), headers=headers)


def _charge(exchange: Exchange, completion: Completion) -> None:
    """The tokens of ``completion`` off the caller's balance."""
    exchange.state.accounts.charge(
        exchange.tenant.accounts, exchange.key, completion.usage()["total_tokens"]
    )
    exchange.completion = completion


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
