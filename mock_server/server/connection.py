"""The connection handler: aiohttp's, with a shortcut for the request that matters most.

A ``POST .../chat/completions`` whose whole body has arrived, on a connection with nothing
before it still waiting for an answer, is answered in the same call that read it: the pipeline
runs on what aiohttp's parser made of the bytes, and the answer goes straight to the socket, as
the bytes aiohttp would send for it (status line, the answer's headers, then Content-Length,
Date and Server, serialised by aiohttp's own function). That skips aiohttp's request and
response objects, its router and a task per request: a third of what a request costs.

Everything else goes through aiohttp as usual: another path or method, HTTP/1.0, a query string
or percent-escapes, ``Connection: close``, ``Expect``, ``Content-Encoding``, a body still
arriving or over the size limit, a request behind one still being answered, a connection whose
writes are backed up. So does an answer that takes time to send (a stream, a delay, a fault, an
upstream), or one whose headers the HTTP layer would rewrite: the connection hands aiohttp the
request together with the exchange already begun, so nothing is done twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

from aiohttp import web
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11
from aiohttp.http_writer import _serialize_headers
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_response import REASON_PHRASES
from yarl import URL

from .exchange import Exchange, Incoming
from .headers import readable
from .pipeline import Outcome, admit, open_exchange, respond, sent
from .render import Answer
from .state import STATE

log = logging.getLogger("mock_server")

ROUTE_CACHE_SIZE = 4096  # distinct request paths whose route is remembered
MAX_ROUTED_PATH = 256  # longer paths (no chat-completions path is) go through aiohttp
# Headers the HTTP layer sets or rewrites: an answer that has one is sent by aiohttp.
_HTTP_LAYER_HEADERS = frozenset(
    ("content-length", "transfer-encoding", "date", "server", "connection", "set-cookie")
)
Route = tuple[str | None, str | None, str]  # tenant, profile, base path


class Shortcut:
    """Answers the chat-completions requests a connection can answer by itself."""

    def __init__(self, app: web.Application) -> None:
        self._state = app[STATE]
        self._router = app.router
        self._routes: dict[str, Route | None] = {}
        self.answered = 0  # requests answered here (the tests count them)

    def take(self, connection: Connection, message: Any, payload: Any) -> bool:
        """Answer ``message`` if it can be answered here; False leaves it to aiohttp."""
        headers = message.headers
        if (
            message.method != "POST"
            or message.version != HttpVersion11
            or message.should_close
            or message.upgrade
            or not payload.is_eof()
            or payload.total_bytes > self._state.settings.max_body_bytes
            or "Expect" in headers
            or "Content-Encoding" in headers
        ):
            return False
        route = self.route(message.path)
        if route is None:
            return False
        tenant, profile, base = route
        incoming = Incoming("POST", message.path, headers, message.raw_headers, tenant, profile)
        exchange = open_exchange(self._state, incoming)
        outcome = admit(exchange, base) or respond(exchange, payload.read_nowait())
        wire = _wire_bytes(outcome) if isinstance(outcome, Answer) else None
        if wire is None:
            connection.hand_over(payload, exchange, outcome)
            return False
        self.answered += 1
        connection.send(wire)
        sent(exchange, outcome.body)
        return True

    def route(self, path: str) -> Route | None:
        """Where aiohttp's router sends ``POST path``, if to the chat-completions pipeline."""
        try:
            return self._routes[path]
        except KeyError:
            pass
        if len(path) > MAX_ROUTED_PATH:  # not remembered: a client picks its paths
            return None
        route = None
        if "?" not in path and "%" not in path and path.startswith("/"):
            route = self._resolve(path)
        if len(self._routes) >= ROUTE_CACHE_SIZE:
            self._routes.clear()
        self._routes[path] = route
        return route

    def _resolve(self, path: str) -> Route | None:
        probe = SimpleNamespace(rel_url=URL.build(path=path, encoded=True), method="POST")
        resolving = self._router.resolve(probe)
        try:
            resolving.send(None)  # aiohttp's router resolves without waiting
        except StopIteration as done:
            match = done.value
        else:  # a router that would wait: leave every such request to aiohttp
            resolving.close()
            return None
        base = getattr(match.handler, "chat_base", None)
        if base is None:
            return None
        return match.get("tenant"), match.get("profile"), base


def _wire_bytes(answer: Answer) -> bytes | None:
    """``answer`` as aiohttp would write it to a keep-alive HTTP/1.1 connection, or None when
    aiohttp would do more than that (an empty-bodied status, headers it manages)."""
    status = answer.status
    if answer.close or status < 200 or status in (204, 304):
        return None
    headers = answer.headers
    if not _PLAIN_NAMES.issuperset(headers) and not _plain(headers):
        return None
    try:
        head = _serialize_headers(f"HTTP/1.1 {status} {REASON_PHRASES.get(status, '')}", headers)
    except ValueError:  # a line break in a header: aiohttp's own error answer
        return None
    body = answer.body
    # The head ends with the blank line; aiohttp's own headers go before it.
    return b"%sContent-Length: %d\r\n%s%s" % (head[:-2], len(body), _http_layer_tail(), body)


_PLAIN_NAMES: set[str] = set()  # header names seen that the HTTP layer leaves alone


def _plain(headers: dict[str, str]) -> bool:
    """Whether no header of ``headers`` is one the HTTP layer manages (and remember the names,
    up to a bound)."""
    if any(name.lower() in _HTTP_LAYER_HEADERS for name in headers):
        return False
    if len(_PLAIN_NAMES) < ROUTE_CACHE_SIZE:
        _PLAIN_NAMES.update(headers)
    return True


class _HttpLayerTail:
    """The Date and Server headers aiohttp adds, and the blank line: made once a second."""

    def __init__(self) -> None:
        self._date = ""
        self._tail = b""

    def __call__(self) -> bytes:
        date = rfc822_formatted_time()
        if date != self._date:
            self._date = date
            self._tail = f"Date: {date}\r\nServer: {SERVER_SOFTWARE}\r\n\r\n".encode()
        return self._tail


_http_layer_tail = _HttpLayerTail()


class _Parser:
    """aiohttp's request parser, less the messages the shortcut answered."""

    __slots__ = ("_connection", "_parser")

    def __init__(self, parser: Any, connection: Connection) -> None:
        self._parser = parser
        self._connection = connection

    def feed_data(self, data: bytes) -> tuple[Sequence[Any], bool, bytes]:
        messages, upgraded, tail = self._parser.feed_data(data)
        if messages:
            messages = self._connection.answer(messages)
        return messages, upgraded, tail

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


class Connection(RequestHandler):
    """aiohttp's handler of one connection, answering what it can through ``Shortcut``."""

    __slots__ = ("_shortcut", "handovers")

    def __init__(self, manager: web.Server, shortcut: Shortcut, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._shortcut = shortcut
        self._parser = _Parser(self._parser, self)
        # Requests begun here and left to aiohttp, by payload (``pipeline.handed_over``).
        self.handovers: dict[Any, tuple[Exchange, Outcome]] = {}

    def answer(self, messages: Sequence[Any]) -> Sequence[Any]:
        """The parsed ``messages`` left for aiohttp once the shortcut has answered the ones
        it can, in order: none after the first it cannot."""
        if not self._idle():
            return messages
        for done, (message, payload) in enumerate(messages):
            try:
                taken = self._shortcut.take(self, message, payload)
            except Exception:  # a bug of ours costs the request its shortcut, not its answer
                log.exception("the connection could not answer %s", readable(message.path))
                taken = False
            if not taken:
                return messages[done:]
            self._answered()
        return ()

    def _idle(self) -> bool:
        """Nothing received on this connection is still waiting for its answer."""
        waiter = self._waiter
        return (
            not self._messages
            and waiter is not None
            and not waiter.done()
            and not self._paused
            and not self._close
            and not self._force_close
        )

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def hand_over(self, payload: Any, exchange: Exchange, outcome: Outcome) -> None:
        """Leave the rest of ``exchange`` to aiohttp's handler of ``payload``'s request."""
        self.handovers[payload] = (exchange, outcome)

    def _answered(self) -> None:
        """What aiohttp keeps count of for a request it answered, for one answered here."""
        self._parser._parser.message_consumed()
        self._request_count += 1
        manager = self._manager
        if manager is not None:
            manager.requests_count += 1
        if self._keepalive_timeout > 0:
            loop = self._loop
            self._next_keepalive_close_time = loop.time() + self._keepalive_timeout
            if self._keepalive_handle is None:
                self._keepalive_handle = loop.call_at(
                    self._next_keepalive_close_time, self._process_keepalive
                )


class Server(web.Server):
    """aiohttp's low-level server, with ``Connection`` as the connection handler."""

    def __init__(self, handler: Any, *, shortcut: Shortcut, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.shortcut = shortcut

    def __call__(self) -> Connection:
        return Connection(self, self.shortcut, loop=self._loop, **self._kwargs)


class AppRunner(web.AppRunner):
    """aiohttp's runner for an application, serving it through ``Server``."""

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()
        return Server(
            plain.request_handler,
            shortcut=Shortcut(self.app),
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=plain._loop,
            **plain._kwargs,
        )


def run_app(
    app: web.Application, host: str, port: int, on_started: Callable[[], None], **options: Any
) -> None:
    """Serve ``app`` until SIGINT or SIGTERM, as aiohttp's ``web.run_app`` does, through
    ``AppRunner``; ``on_started`` is called once the socket is bound."""

    async def serve() -> None:
        runner = AppRunner(app, handle_signals=True, **options)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            on_started()
            await asyncio.Event().wait()  # until a signal ends the loop
        finally:
            await runner.cleanup()

    # Leaving the Runner cancels serve(), whose clean-up then runs; the signal's exit is
    # the expected end, not an error.
    with contextlib.suppress(web.GracefulExit, KeyboardInterrupt), asyncio.Runner() as loop:
        loop.run(serve())
