"""What a request gets: a whole answer (status, headers and body, ready for either way of sending
it: aiohttp's response, or the connection's own bytes), or a ``Later``, which takes time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web


@dataclass(slots=True)
class Answer:
    """A whole answer, ready to send: status, headers (without the ones the HTTP layer adds:
    Content-Length, Date, Server) and body; ``close``: the connection ends after it."""

    status: int
    headers: dict[str, str]
    body: bytes
    close: bool = False

    def response(self) -> web.Response:
        """The answer as aiohttp sends it."""
        response = web.Response(status=self.status, body=self.body, headers=self.headers)
        if self.close:
            response.force_close()  # e.g. after a 413, rather than draining an unread body
        return response


class Written(Protocol):
    """What an API's encoder made of a reply, as the pipeline reads it afterwards: its ``id``
    and ``created`` time as they appear in its body (``wire.kept_bodies`` splices new ones)."""

    id: str
    created: int

    def usage(self) -> dict[str, Any]:
        """The usage the answer reports (``total_tokens`` is charged to the account)."""

    def summary(self) -> dict[str, Any]:
        """The answer as one JSON object, for the journal of a streamed answer."""


@dataclass(slots=True)
class WholeStream:
    """A stream whose events are all due at once, without a fault: its headers, its events
    (each its bytes first) and the wire's end; joined only by a sender that writes it whole."""

    headers: dict[str, str]
    events: list[tuple[bytes, str]]
    end: bytes

    @property
    def chunks(self) -> tuple[bytes, bytes]:
        """What aiohttp writes of it, a chunk each: the events together, then the end."""
        return b"".join([event[0] for event in self.events]), self.end


class Later:
    """An answer that takes time to send (a delay, a stream, a fault, an upstream): ``run``
    sends it through aiohttp's request object. ``at_once``: a stream that needs no time
    after all, for a sender that writes it in one go (the connection's shortcut)."""

    __slots__ = ("at_once", "run")

    def __init__(
        self,
        run: Callable[[web.Request], Awaitable[web.StreamResponse]],
        at_once: WholeStream | None = None,
    ) -> None:
        self.run = run
        self.at_once = at_once


Outcome = Answer | Later
