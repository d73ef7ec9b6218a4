"""Sending a server-sent-events stream on its schedule, with keep-alives, pacing and faults.

An API renders its stream as events (``Event``: the bytes of each, and the text it carries,
which sets its pace) and says how its wire ends and breaks (``StreamWire``: chat completions end
with ``data: [DONE]``, the Responses API with its last event); ``send_stream`` owns the clock:
events go out on an absolute schedule so sleeps never accumulate drift, and headers are only
ever touched before ``prepare()`` — after it a fault can only cut or close the stream.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .delivery import Latency
from .faults import Fault, chunks_sent, reset_connection, wait_until_closed
from .pacer import Pacer

STREAM_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
}

# An event is (bytes for the wire, the text it carries): the text sets its pace.
Event = tuple[bytes, str]


# OpenAI pads each chunk with a random ``obfuscation`` string so that chunk sizes do not give
# token lengths away; here a fixed set of paddings, picked by the chunk's length.
_PADDING_CHARS = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_PADDINGS = [bytes(random.Random(n).choices(_PADDING_CHARS, k=n)) for n in range(1, 17)]


def padding(length: int) -> bytes:
    """The ``obfuscation`` padding of an event ``length`` bytes long."""
    return _PADDINGS[length % 16]


@dataclass(frozen=True)
class StreamWire:
    """How one API's stream ends (``end``, written after the last event), what a
    ``malformed_chunk`` fault writes (``broken``), and the event of an ``error_event`` fault
    (``error``, given the profile's error body and how many events went before it)."""

    end: bytes
    broken: bytes
    error: Callable[[dict[str, Any] | None, int], bytes]


async def send_stream(
    request: web.Request,
    events: list[Event],
    *,
    wire: StreamWire,
    latency: Latency,
    fault: Fault | None = None,
    error_body: dict[str, Any] | None = None,
    keepalive_interval: float | None = None,
    rng: random.Random | None = None,
    headers: dict[str, str] | None = None,
    pacer: Pacer | None = None,
    timeline: list[float] | None = None,
    opening: int = 0,
) -> web.StreamResponse:
    """Send ``events`` on their schedule, injecting ``fault`` after its ``after_chunks``;
    ``timeline``, when given, receives when each event was due (ms after the headers), and
    holds only those sent when the client leaves before the end.

    The first chunks go out from here (which also sends the headers); the rest, when they are
    spread over time, from ``pacer``."""
    response = web.StreamResponse(headers={**STREAM_HEADERS, **(headers or {})})
    loop = asyncio.get_running_loop()
    rng = rng or random.Random()
    upto = chunks_sent(fault, len(events), opening)
    sent = 0
    try:
        await response.prepare(request)
        started = loop.time()
        schedule = _schedule(started, events, latency, rng, opening)
        if timeline is not None:
            timeline.extend(round((due - started) * 1000, 2) for due in schedule[:upto])
        # Keep-alives until the first event after the opening ones, if one is to be sent: a
        # fault before it strikes at once, as on a profile without keep-alives.
        if keepalive_interval and opening < upto:
            if opening:
                await response.write(b"".join(event[0] for event in events[:opening]))
                sent = opening
            await _keepalive_until(response, schedule[opening], keepalive_interval)
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
                    raise ConnectionResetError  # the client left
        if fault is not None:
            return await _strike(request, response, fault, wire, error_body, upto)
        if wire.end:
            await response.write(wire.end)
        await response.write_eof()
    except ConnectionError:  # the client left before or during the stream
        if timeline is not None:
            del timeline[sent:]
    return response


def _schedule(
    start: float, events: list[Event], latency: Latency, rng: random.Random, opening: int = 0
) -> list[float]:
    """When each event is due, on the loop's clock: absolute times, so delays never add up.
    The first ``opening`` events (the Responses API's ``created`` and ``in_progress``) are due
    at once; the first event that carries text, and any before it, after the first-token
    delay; each later one that carries text an interval after the one before; an event
    without text (a role, a finish, an item's end) with the text before it."""
    due = start + latency.ttft_ms / 1000
    paced = latency.chunk_interval_ms or latency.tokens_per_second
    times = [start] * min(opening, len(events))
    texts = 0
    for _, piece in events[len(times) :]:
        if piece and paced:
            if texts:
                jitter = 1.0 + rng.uniform(-latency.jitter, latency.jitter) if latency.jitter else 1
                due += latency.interval(piece) * jitter
            texts += 1
        times.append(due)
    return times


async def _keepalive_until(response: web.StreamResponse, due: float, interval: float) -> None:
    loop = asyncio.get_running_loop()
    while due - loop.time() > interval:
        await asyncio.sleep(interval)
        await response.write(b": keep-alive\n\n")


async def _strike(
    request: web.Request,
    response: web.StreamResponse,
    fault: Fault,
    wire: StreamWire,
    error_body: dict[str, Any] | None,
    sent: int,
) -> web.StreamResponse:
    kind = fault.type
    if kind == "disconnect":
        reset_connection(request)
        return response
    if kind == "malformed_chunk":
        await response.write(wire.broken)
    elif kind == "error_event":
        await response.write(wire.error(error_body, sent))
    elif kind == "stall":
        await wait_until_closed(request)
        return response
    # no_done (and the endings above): close without the wire's end.
    await response.write_eof()
    return response
