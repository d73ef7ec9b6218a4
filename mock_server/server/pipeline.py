"""The pipeline every API request takes (``POST [/t/{tenant}][/{profile}]{base}{api.path}``),
the same for each API behind the seam of ``apis.api``:

    route (tenant, profile, base path, API)   server.routing
      -> auth                      401   server.auth
      -> body, checked by the API  400 / 413 / 422   server.request_body, Api.check
      -> account emulation         402 / 429 / 503   accounts.rules, with Api.cost
      -> scenario engine           on Api.view: a scripted error, fault, or a reply; else
                                   Api.fallback / strict 404, or, when recording, the upstream
                                   (record.recorder)
      -> the API's wire            Api.encode: a JSON body or a stream; kept by Api.cache_key
      -> journal                   server.journal

Whatever is raised on that path goes through one guard (``guard``): an ``ApiError`` is rendered
by ``error_answer`` in the wording of the profile that serves the request, anything else is
logged and answered as that provider's 500.

A request comes in one of two ways: through aiohttp's route handler (``api_route``), or
straight from the connection when its whole body has already arrived (``server.connection``).
Both go through ``respond``, which answers there and then with an ``Answer`` unless sending the
answer takes time (a delay, a stream, a fault, an upstream): that is a ``Later``, which runs with
aiohttp's request object, or, for a stream whose events are all due at once, is written whole
by the connection (``Later.at_once``, ``sent_whole``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..engine import scripted
from ..engine.matching import format_near_misses
from ..engine.reply_specs import DEFAULT_REPLY, ReplySpec
from ..engine.request_view import RequestView
from ..errors import ApiError
from ..gc_pause import without_gc
from ..wire.answer import Answer, Later, Outcome, Written
from ..wire.faults import NO_RESPONSE, plain_fault
from ..wire.kept_bodies import KeptBody
from .auth import authenticate
from .exchange import Exchange, Incoming
from .journal import BODY_LIMIT, record
from .overrides import NONE, read_overrides
from .render import answer_headers, as_api_error, error_answer, json_bytes_answer
from .request_body import ClientGone, read_body
from .routing import route_profile
from .state import STATE, ServerState

if TYPE_CHECKING:
    from ..record.recorder import RecordingTarget
    from ..record.upstream import Upstream
    from ..reply import Message
    from .apis.api import Api


FALLBACK_WARNING_HEADER = "x-mock-fallback-warning"


def api_route(api: Api, base: str):
    """aiohttp's handler for ``POST {base}{api.path}``."""

    async def handle_api_request(request: web.Request) -> web.StreamResponse:
        handover = handed_over(request)
        if handover is not None:
            exchange, outcome = handover
        else:
            exchange = open_exchange(request.app[STATE], Incoming.of(request), api)
            outcome = admit(exchange, base)
            if outcome is None:
                settings = exchange.state.settings
                try:
                    raw = await read_body(request, settings.max_body_bytes, settings.body_timeout)
                except ApiError as error:
                    outcome = guard(exchange, error)
                except (ClientGone, ConnectionError):
                    return finish(exchange, gone(exchange))
                else:
                    outcome = respond(exchange, raw)
        if isinstance(outcome, Answer):
            return finish(exchange, outcome.response())
        return finish(exchange, await run_later(exchange, outcome, request))

    return handle_api_request


def api_read_route(
    api: Api, base: str, handle: Callable[[Exchange, web.Request], Outcome]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """aiohttp's handler for one of ``api``'s other routes (``Api.reads``): routed, its key
    checked, its body (a ``POST``'s) read into ``exchange.raw`` as an API request's is,
    answered by ``handle`` through the guard (a whole answer, or a stream), journaled."""
    handled = without_gc(handle)

    async def handle_api_read(request: web.Request) -> web.StreamResponse:
        exchange = open_exchange(request.app[STATE], Incoming.of(request), api)
        outcome = admit(exchange, base)
        if outcome is None:
            settings = exchange.state.settings
            try:
                if request.method == "POST":
                    exchange.raw = await read_body(
                        request, settings.max_body_bytes, settings.body_timeout
                    )
                outcome = handled(exchange, request)
            except (ClientGone, ConnectionError):
                return finish(exchange, gone(exchange))
            except Exception as exc:
                outcome = guard(exchange, exc)
        if isinstance(outcome, Answer):
            exchange.status = outcome.status
            return finish(exchange, outcome.response())
        return finish(exchange, await run_later(exchange, outcome, request))

    return handle_api_read


def handed_over(request: web.BaseRequest) -> tuple[Exchange, Outcome] | None:
    """The exchange the connection began for ``request`` itself, and what is left to do."""
    handovers = getattr(request.protocol, "handovers", None)
    return handovers.pop(request.content, None) if handovers else None


def open_exchange(state: ServerState, incoming: Incoming, api: Api | None) -> Exchange:
    return Exchange(
        state,
        incoming,
        api,
        state.ids.request(),
        state.tenants.get(incoming.tenant),
        state.profiles.default,
        time.monotonic(),
    )


def admit(exchange: Exchange, base: str) -> Answer | None:
    """The error answer for a path no profile serves or a caller without a valid key."""
    try:
        exchange.profile = route_profile(exchange.state, exchange.incoming, base, exchange.api)
        exchange.key = authenticate(exchange.state, exchange.incoming, exchange.profile)
    except Exception as exc:
        return guard(exchange, exc)
    return None


@without_gc
def respond(exchange: Exchange, raw: bytes) -> Outcome:
    """The answer to an admitted request whose body (``raw``, decoded) has been read."""
    state, api = exchange.state, exchange.api
    exchange.raw = raw
    try:
        exchange.body = api.check(exchange, raw)
        exchange.headers, exchange.chaos = state.accounts.admit(
            exchange.tenant.accounts, exchange.key, exchange.profile, lambda: api.cost(exchange)
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
    except Exception as exc:
        return guard(exchange, exc)


def _counted(state: ServerState, later: Later) -> Later:
    """``later``, counted as in flight until it has been sent (by ``run``, or whole: see
    ``sent_whole``)."""

    async def run(request: web.Request) -> web.StreamResponse:
        try:
            return await later.run(request)
        finally:
            state.accounts.in_flight -= 1

    return Later(run, later.at_once)


def sent_whole(exchange: Exchange) -> None:
    """``exchange``'s stream was written whole (``Later.at_once``): each event was due as the
    headers went out, and it is no longer in flight."""
    exchange.chunk_ms.extend([0.0] * (exchange.chunks or 0))
    exchange.state.accounts.in_flight -= 1


async def run_later(exchange: Exchange, later: Later, request: web.Request) -> web.StreamResponse:
    try:
        return await later.run(request)
    except (ClientGone, ConnectionError):
        return gone(exchange)
    except Exception as exc:
        return guard(exchange, exc).response()


def guard(exchange: Exchange, exc: Exception) -> Answer:
    """The answer to a request whose handling raised ``exc``: an ``ApiError`` in the wording
    of the profile serving it (with the rate-limit headers of the request), anything else (a
    bug of ours) logged and answered as that provider's 500."""
    error = as_api_error(exc, exchange.incoming.path)
    out = error_answer(
        error,
        exchange.profile,
        exchange.request_id,
        exchange.headers if error is exc else None,
        exchange.started,
        exchange.named(),
    )
    exchange.status = out.status
    exchange.error_code = error.code if isinstance(error.code, str) else error.kind
    return out


def gone(exchange: Exchange) -> web.Response:
    """The client hung up: nothing to send, or report."""
    exchange.status = 0
    return web.Response(status=NO_RESPONSE)


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
    if profile.strip_fields:
        exchange.hints = {name: body.pop(name) for name in profile.strip_fields if name in body}
    headers = exchange.incoming.headers
    view = exchange.api.view(exchange)
    overrides = read_overrides(headers) if state.settings.overrides else NONE
    if overrides.status is not None:
        raise ApiError(str(overrides.status), status=overrides.status)
    exchange.asked = True
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
        exchange.placeholder = exchange.api.needs_scenario
        strict = exchange.tenant.strict
        strict = strict if strict is not None else state.settings.strict
        # Worked out now where the journal could not: a request seen as something else than
        # it was sent, or one whose body the journal does not keep.
        unkept = exchange.raw is not None and len(exchange.raw) > BODY_LIMIT
        if exchange.placeholder and (strict or not exchange.api.viewed_as_sent or unkept):
            misses = state.engine.near_misses(view, exchange.tenant.scenarios)
            exchange.near_miss = [m.as_dict() for m in misses]
        if strict and exchange.placeholder:
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
    return deliver(exchange, reply, view)


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

    api = exchange.api
    at = replace(upstream, path=api.path)

    async def forward(request: web.Request) -> web.StreamResponse:
        outcome = await exchange.state.recorder.forward(
            target, at, request, exchange.raw, view, exchange.tenant.scenarios, api.recorded
        )
        exchange.status = outcome.response.status
        exchange.recorded, exchange.chunks = outcome.recorded, outcome.chunks
        exchange.client_left = outcome.client_left
        exchange.summary = outcome.summary
        relayed = outcome.response
        if relayed.status == 200:
            answer = (
                outcome.summary if outcome.summary is not None else getattr(relayed, "body", None)
            )
            if isinstance(answer, bytes):
                api.relayed(exchange, answer)
        return relayed

    return Later(forward)


def deliver(exchange: Exchange, reply: ReplySpec, view: RequestView) -> Outcome:
    """Turn a reply spec into what goes on the wire: error, fault, stream or JSON body, after
    the reply's delay."""
    extra = exchange.headers
    if reply.headers:
        extra = {**extra, **reply.headers}
    headers = answer_headers(exchange.profile, extra, exchange.request_id, exchange.started)
    streaming = bool(exchange.body.get("stream"))
    if not reply.latency.delay_ms or (streaming and reply.status is None):
        return _deliver_now(exchange, reply, view, headers, streaming)

    async def delayed(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(reply.latency.delay_ms / 1000)
        if request.transport is None or request.transport.is_closing():
            raise ClientGone  # it gave up waiting (a client's timeout): nobody to answer
        outcome = _deliver_now(exchange, reply, view, headers, streaming)
        return outcome.response() if isinstance(outcome, Answer) else await outcome.run(request)

    return Later(delayed)


def _deliver_now(
    exchange: Exchange,
    reply: ReplySpec,
    view: RequestView,
    headers: dict[str, str],
    streaming: bool,
) -> Outcome:
    state, api = exchange.state, exchange.api
    fault = reply.fault
    error = reply.api_error()
    if error is not None:
        raise error
    if fault is not None:
        if fault.type == "error_event" and not streaming:  # the error is the whole answer
            raise ApiError(str(fault.status), status=fault.status)
        fault = fault.as_asked(streaming)
    if fault is not None and not (streaming and fault.is_stream_fault):
        exchange.fault = fault.type
        plain = fault

        async def strike(request: web.Request) -> web.StreamResponse:
            response = await plain_fault(request, plain, headers, api.broken_body)
            exchange.status = 0 if response.status == NO_RESPONSE else response.status
            return response

        return Later(strike)
    # A scripted reply the request may rule out is looked at each time (``engine.scripted``).
    looked_at = exchange.selection is not None and scripted.may_warn(view, reply)
    keyed = not (streaming or fault is not None or looked_at)
    key = api.cache_key(exchange, reply) if keyed else None
    if key is not None:
        kept = state.kept_bodies.get(key, reply)
        if kept is not None:
            return _kept_answer(exchange, kept, headers)

    def fallback(seen: RequestView) -> Message:
        return api.fallback(seen, state.settings.max_response_bytes)

    messages = reply.messages(view, fallback)
    warnings = [w for message in messages for w in message.warnings]
    if warnings:
        headers[FALLBACK_WARNING_HEADER] = "; ".join(dict.fromkeys(warnings))
    if looked_at:
        exchange.warnings = scripted.warnings(view, messages)
        if exchange.warnings:
            headers[scripted.SCENARIO_WARNING_HEADER] = "; ".join(exchange.warnings)
    encoded = api.encode(exchange, messages, reply, headers, fault)
    _charge(exchange, encoded.written)
    if fault is not None:
        exchange.fault = fault.type
    if key is not None and encoded.keep is not None:
        warning = headers.get(FALLBACK_WARNING_HEADER)
        style = exchange.profile.body_format
        state.kept_bodies.keep(key, reply, encoded.written, encoded.keep, warning, style)
    return encoded.outcome


def _kept_answer(exchange: Exchange, kept: KeptBody, headers: dict[str, str]) -> Answer:
    """The body a request of the same cache key got before, with a new id and time and this
    request's own usage."""
    if kept.warning is not None:
        headers[FALLBACK_WARNING_HEADER] = kept.warning
    api = exchange.api
    written, body = kept.answer(api.answer_id(exchange), int(time.time()), api.prompt(exchange))
    _charge(exchange, written)
    return json_bytes_answer(body, headers=headers)


def _charge(exchange: Exchange, written: Written) -> None:
    """The tokens of ``written`` off the caller's balance."""
    exchange.state.accounts.charge(
        exchange.tenant.accounts, exchange.key, written.usage()["total_tokens"]
    )
    exchange.written = written
