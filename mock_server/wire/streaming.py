"""OpenAI's server-sent-events wire format, with real timing and stream faults.

A stream is ``data: <json>\\n\\n`` events: the first delta carries ``role``; reasoning, content
and refusal follow as string deltas; each tool call opens with ``index``, ``id``, ``type`` and
``function.name`` (arguments ``""``) and continues with ``arguments`` fragments; choices of
``n > 1`` interleave, each with its own ``index``; a last chunk per choice carries
``finish_reason``; with ``stream_options.include_usage`` every chunk has ``"usage": null`` and a
final chunk with ``choices: []`` carries the usage; ``data: [DONE]`` ends it.

Rendering (``render_events``) is pure and separate from sending (``send_stream``), which owns
the clock: chunks go out on an absolute schedule so sleeps never accumulate drift, and headers
are only ever touched before ``prepare()`` — after it a fault can only cut or close the stream.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..jsonio import dumps
from .completions import Choice, Completion
from .faults import Fault, reset_connection, wait_until_closed
from .pacer import Pacer
from .tokens import split_tokens

DONE = b"data: [DONE]\n\n"
STREAM_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
}
_WORD = re.compile(r"\s*\S+|\s+")
GENERIC_ERROR_EVENT = {
    "error": {
        "message": "The server had an error while processing your request. Sorry about that!",
        "type": "server_error",
        "param": None,
        "code": None,
    }
}


@dataclass(frozen=True)
class StreamShape:
    """How content is cut into chunks: by ``token``, ``word`` or ``char``, ``size`` at a time."""

    chunk: str = "token"
    size: int = 1

    def pieces(self, text: str) -> list[str]:
        if self.chunk == "char":
            units = list(text)
        elif self.chunk == "word":
            units = _WORD.findall(text)
        else:
            units = split_tokens(text)
        size = max(1, self.size)
        return ["".join(units[i : i + size]) for i in range(0, len(units), size)] or [""]


@dataclass(frozen=True)
class Latency:
    """When things happen: time to first token, then a pace, with seeded jitter."""

    ttft_ms: float = 0.0
    tokens_per_second: float | None = None
    chunk_interval_ms: float | None = None
    jitter: float = 0.0
    delay_ms: float = 0.0

    def interval(self, piece: str) -> float:
        """Seconds between the chunk before and one carrying ``piece``."""
        if self.chunk_interval_ms is not None:
            return self.chunk_interval_ms / 1000
        if self.tokens_per_second:
            return max(1, len(split_tokens(piece))) / self.tokens_per_second
        return 0.0


# An event is (bytes for the wire, the text it carries): the text sets its pace.
Event = tuple[bytes, str]


# A delta is either a mapping (rendered as JSON) or (field, text, tool call index) for the string
# deltas that make up nearly all of a stream, rendered from byte templates around the text.


def _choice_deltas(choice: Choice, shape: StreamShape, extras: dict[str, bool]) -> Iterator[Any]:
    """The deltas of one choice, in OpenAI's order."""
    first: dict[str, Any] = {"role": "assistant", "content": "" if not choice.tool_calls else None}
    if extras.get("message_extras"):
        first["refusal"] = None
    yield first
    if choice.reasoning_content is not None and extras.get("reasoning_content"):
        for piece in shape.pieces(choice.reasoning_content):
            yield ("reasoning_content", piece, 0)
    if choice.content:
        for piece in shape.pieces(choice.content):
            yield ("content", piece, 0)
    if choice.refusal:
        for piece in shape.pieces(choice.refusal):
            yield ("refusal", piece, 0)
    for index, call in enumerate(choice.tool_calls):
        yield {
            "tool_calls": [
                {
                    "index": index,
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": ""},
                }
            ]
        }
        for piece in shape.pieces(call.arguments):
            yield ("arguments", piece, index)


_STRING_DELTA_OPENINGS = {
    "content": b'"delta":{"content":',
    "reasoning_content": b'"delta":{"content":null,"reasoning_content":',
    "refusal": b'"delta":{"refusal":',
}
_CLOSE_STRING_DELTA = b'},"logprobs":null,"finish_reason":null}'


def _render_delta(choice: int, delta: Any, completion: Completion) -> tuple[bytes, str]:
    """One choice entry as JSON, and the text it carries (for pacing)."""
    if completion.top_logprobs is not None and isinstance(delta, tuple) and delta[0] == "content":
        body = {
            "index": choice,
            "delta": {"content": delta[1]},
            "logprobs": completion.logprobs(delta[1]),
            "finish_reason": None,
        }
        return dumps(body), delta[1]
    if isinstance(delta, dict):
        body = {"index": choice, "delta": delta, "logprobs": None, "finish_reason": None}
        calls = delta.get("tool_calls")
        return dumps(body), calls[0]["function"]["name"] if calls else ""
    field, piece, call_index = delta
    opening = b'{"index":%d,' % choice
    if field == "arguments":
        return (
            opening
            + b'"delta":{"tool_calls":[{"index":%d,"function":{"arguments":' % call_index
            + dumps(piece)
            + b"}}]"
            + _CLOSE_STRING_DELTA,
            piece,
        )
    return opening + _STRING_DELTA_OPENINGS[field] + dumps(piece) + _CLOSE_STRING_DELTA, piece


def render_events(completion: Completion, shape: StreamShape, include_usage: bool) -> list[Event]:
    """Every event of the stream, ``[DONE]`` excluded, as bytes ready for the wire."""
    head = completion.header("chat.completion.chunk")
    opening = b"data: " + dumps(head)[:-1] + b',"choices":['
    closing = (b'],"usage":null}' if include_usage else b"]}") + b"\n\n"
    extras = completion.profile.response
    streams = [list(_choice_deltas(choice, shape, extras)) for choice in completion.choices]
    events = []
    # Interleave the choices of n > 1, one delta of each in turn, as OpenAI does.
    for step in range(max(len(s) for s in streams)):
        for index, deltas in enumerate(streams):
            if step < len(deltas):
                data, piece = _render_delta(index, deltas[step], completion)
                events.append((opening + data + closing, piece))
    for index, choice in enumerate(completion.choices):
        ending = {
            "index": index,
            "delta": {},
            "logprobs": None,
            "finish_reason": choice.derived_finish_reason(),
        }
        events.append((opening + dumps(ending) + closing, ""))
    if include_usage:
        usage_chunk = {**head, "choices": [], "usage": completion.usage()}
        events.append((b"data: " + dumps(usage_chunk) + b"\n\n", ""))
    return events


def error_event(error_body: dict[str, Any]) -> bytes:
    """A mid-stream error as OpenAI sends it: a ``data:`` event holding ``{"error": ...}``."""
    return b"data: " + dumps(error_body) + b"\n\n"


async def send_stream(
    request: web.Request,
    events: list[Event],
    *,
    latency: Latency = Latency(),
    fault: Fault | None = None,
    error_body: dict[str, Any] | None = None,
    keepalive_interval: float | None = None,
    rng: random.Random | None = None,
    headers: dict[str, str] | None = None,
    pacer: Pacer | None = None,
) -> web.StreamResponse:
    """Send ``events`` on their schedule, injecting ``fault`` after its ``after_chunks``.

    The first chunks go out from here (which also sends the headers); the rest, when they are
    spread over time, from ``pacer``."""
    response = web.StreamResponse(headers={**STREAM_HEADERS, **(headers or {})})
    loop = asyncio.get_running_loop()
    rng = rng or random.Random()
    cut = fault.after_chunks if fault is not None else None
    upto = len(events) if cut is None else min(cut, len(events))
    try:
        await response.prepare(request)
        schedule = _schedule(loop.time(), events, latency, rng)
        if keepalive_interval and events:
            await _keepalive_until(response, schedule[0], keepalive_interval)
        sent = 0
        while sent < upto:
            delay = schedule[sent] - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            # Everything already due goes out in one write: an unpaced stream in one go, and a
            # stream that fell behind (a loaded machine) catches up instead of drifting further.
            now = loop.time()
            last = sent + 1
            while last < upto and schedule[last] <= now:
                last += 1
            await response.write(b"".join(event[0] for event in events[sent:last]))
            sent = last
            if pacer is not None and sent < upto:
                data = [event[0] for event in events[:upto]]
                sent = await pacer.send(request, response, data, schedule, sent)
                if sent < upto:
                    return response  # the client left
        if fault is not None:
            return await _strike(request, response, fault, error_body)
        await response.write(DONE)
        await response.write_eof()
    except ConnectionError:
        pass  # the client left before or during the stream: nothing to clean up or report
    return response


def _schedule(
    start: float, events: list[Event], latency: Latency, rng: random.Random
) -> list[float]:
    """When each event is due, on the loop's clock: absolute times, so delays never add up."""
    due = start + latency.ttft_ms / 1000
    if not (latency.chunk_interval_ms or latency.tokens_per_second):
        return [due] * len(events)  # all at once, after the first-token delay
    times = []
    for index, (_, piece) in enumerate(events):
        if index:
            jitter = 1.0 + rng.uniform(-latency.jitter, latency.jitter) if latency.jitter else 1.0
            due += latency.interval(piece) * jitter
        times.append(due)
    return times


async def _keepalive_until(response: web.StreamResponse, due: float, interval: float) -> None:
    loop = asyncio.get_running_loop()
    while due - loop.time() > interval:
        await asyncio.sleep(interval)
        await response.write(b": keep-alive\n\n")


async def _strike(request, response, fault: Fault, error_body) -> web.StreamResponse:
    kind = fault.type
    if kind == "disconnect":
        reset_connection(request)
        return response
    if kind == "malformed_chunk":
        await response.write(b'data: {"id":"chatcmpl-broken","choices":[{"delta":\n\n')
        await response.write(DONE)
    elif kind == "error_event":
        await response.write(error_event(error_body or GENERIC_ERROR_EVENT))
    elif kind == "stall":
        await wait_until_closed(request)
        return response
    # no_done (and the endings above): close without [DONE].
    await response.write_eof()
    return response
