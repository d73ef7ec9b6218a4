"""Transport faults: what a broken provider or network does to a client.

Plain faults replace the whole response: ``reset`` (the connection is reset, no response),
``empty`` (closed with no bytes), ``malformed_json`` (a 200 whose body is not JSON; on a request
that streams, a first chunk that is not JSON), ``hang`` (never answers). Stream faults strike
after ``after_chunks`` chunks of a stream: ``disconnect``, ``malformed_chunk``, ``stall``,
``error_event`` and ``no_done``; without a count, at once, but for ``no_done``, which sends the
whole stream without its end, and ``error_event``, which comes after a stream's opening events
(the Responses API's ``response.created`` and ``response.in_progress``): a response fails once it
exists, as the live API's do.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass
from typing import Any

from aiohttp import web

PLAIN_FAULTS = ("reset", "empty", "malformed_json", "hang")
STREAM_FAULTS = ("disconnect", "malformed_chunk", "stall", "error_event", "no_done")
HANG_SECONDS = 3600.0

# The status of the response object aiohttp needs when none reaches the client (a fault, a
# client gone): nginx's "client closed request".
NO_RESPONSE = 499


@dataclass(frozen=True)
class Fault:
    """A fault to inject; ``after_chunks`` only means something for stream faults."""

    type: str
    after_chunks: int | None = None
    status: int = 500

    def chunks_before(self, total: int, opening: int = 0) -> int:
        """How many of a stream's ``total`` chunks, the first ``opening`` of them its opening
        events, go out before the fault strikes (see the module docstring)."""
        if self.after_chunks is None:
            at_once = {"no_done": total, "error_event": opening}.get(self.type, 0)
            return min(at_once, total)
        return min(self.after_chunks, total)

    @classmethod
    def parse(cls, spec: Any) -> Fault:
        """``"reset"`` or ``{type: disconnect, after_chunks: 2}``."""
        if isinstance(spec, str):
            return cls(spec)
        return cls(
            str(spec["type"]),
            None if spec.get("after_chunks") is None else int(spec["after_chunks"]),
            int(spec.get("status", 500)),
        )

    @property
    def is_stream_fault(self) -> bool:
        return self.type in STREAM_FAULTS

    def as_asked(self, streaming: bool) -> Fault | None:
        """This fault as it strikes a request that asks for a stream or not: a stream fault
        without one is its plain twin (``no_done``, none); ``malformed_json`` on a stream is a
        first chunk that is not JSON (a body that is not JSON would not be read as events)."""
        if streaming:
            return Fault("malformed_chunk", 0) if self.type == "malformed_json" else self
        if not self.is_stream_fault:
            return self
        mapped = {"disconnect": "reset", "malformed_chunk": "malformed_json", "stall": "hang"}
        return Fault(mapped[self.type]) if self.type in mapped else None


def reset_connection(request: web.Request) -> None:
    """Abort the connection with a TCP RST (SO_LINGER 0), as a crashed peer would."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def wait_until_closed(request: web.Request, limit: float = HANG_SECONDS) -> None:
    """Hold the request open, sending nothing, until the client leaves (or ``limit`` passes)."""
    transport = request.transport
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while transport is not None and not transport.is_closing() and loop.time() < deadline:
        await asyncio.sleep(0.05)


async def plain_fault(
    request: web.Request, fault: Fault, headers: dict[str, str], broken: bytes
) -> web.StreamResponse:
    """Answer a request with a plain fault instead of a response; ``headers`` and ``broken``
    (the start of an answer of the request's API) go with the one fault that sends any
    (``malformed_json``)."""
    if fault.type == "malformed_json":
        return web.Response(body=broken, headers={**headers, "Content-Type": "application/json"})
    if fault.type == "hang":
        await wait_until_closed(request)
    elif fault.type == "reset":
        reset_connection(request)
    elif request.transport is not None:  # empty
        request.transport.close()
    return web.Response(status=NO_RESPONSE)


def chunks_sent(fault: Fault | None, total: int, opening: int = 0) -> int:
    """How many of a stream's ``total`` chunks (the first ``opening`` of them its opening
    events) go out: all of them, or those before ``fault``."""
    return total if fault is None else fault.chunks_before(total, opening)
