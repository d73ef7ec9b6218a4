"""The connection handler: aiohttp's, with a shortcut for the request that matters most.

A ``POST`` to an API (``.../chat/completions``) whose whole body has arrived, on a connection with
nothing before it still waiting for an answer, is answered in the same call that read it: the
pipeline runs on what aiohttp's parser made of the bytes, and the answer is written as the
bytes aiohttp would send for it (status line, the answer's headers, then Content-Length, Date
and Server), with the other answers of that round of the event loop (``outbox``). That skips
aiohttp's request and response objects, its router and a task per request: a third of what a
request costs. A stream whose events are all due at once, without a fault (``Later.at_once``),
goes out the same way, as aiohttp sends a stream: ``Transfer-Encoding: chunked``, the events in
one chunk, the last chunk.

Everything else goes through aiohttp as usual: another path or method, HTTP/1.0, a query string
or percent-escapes, ``Connection: close``, ``Expect``, ``Content-Encoding``, a body still
arriving or over the size limit, a request behind one still being answered, a request whose
client has yet to read more than a transport's high-water mark of the answers before it. So
does an answer that takes time to send (a delay, a stream spread over time, a fault, an
upstream), or one whose headers the HTTP layer would rewrite: the connection
hands aiohttp the request together with the exchange already begun, so nothing is done twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
import time
from collections import deque
from collections.abc import Callable, Sequence
from email.utils import formatdate
from http import HTTPStatus
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from aiohttp.http import SERVER_SOFTWARE
from aiohttp.web_protocol import RequestHandler
from yarl import URL

from ..caches import SHARED, BoundedCache
from ..errors import ConfigError
from ..wire.answer import Answer, WholeStream
from .addresses import in_url
from .exchange import Exchange, Incoming
from .headers import readable
from .outbox import Outbox
from .pipeline import Outcome, admit, guard, open_exchange, respond, sent, sent_whole
from .routing import API_ROUTES
from .state import STATE

if TYPE_CHECKING:
    from .apis.api import Api

log = logging.getLogger("mock_server")

ROUTE_CACHE_SIZE = 4096  # distinct request paths whose route is remembered
HEADER_CACHE_SIZE = 4096  # distinct sets of answer header names judged
MAX_ROUTED_PATH = 256  # longer paths (no API's path is) go through aiohttp
# What may wait for a connection's client to read before its next request goes to aiohttp,
# which writes each answer once the client has taken the last: asyncio's default high-water
# mark of a transport's write buffer.
WRITE_HIGH_WATER = 64 * 1024
# Headers the HTTP layer sets or rewrites: an answer that has one is sent by aiohttp.
_HTTP_LAYER_HEADERS = frozenset(
    ("content-length", "transfer-encoding", "date", "server", "connection", "set-cookie")
)
_REASONS = {status.value: status.phrase for status in HTTPStatus}
Route = tuple["str | None", "str | None", "Api", str]  # tenant, profile, API, base path

# The first aiohttp release whose connection handler the shortcut is tested against: before it
# the handler's private state differs in ways no attribute probe can see (an idle connection
# left open after a shortcut answer, 3.14.1-3.14.3).
TESTED_SINCE = (3, 14, 4)
# What the shortcut reads and calls of aiohttp's connection handler and its parser: private
# names, so each is probed at start-up (``refusal``).
_HANDLER_NAMES = (
    "_close", "_force_close", "_keepalive_handle", "_keepalive_timeout", "_loop", "_manager",
    "_messages", "_next_keepalive_close_time", "_parser", "_paused", "_process_keepalive",
    "_request_count", "_waiter", "transport",
)  # fmt: skip
_PARSER_NAMES = ("feed_data", "message_consumed")
_SERVER_NAMES = ("_kwargs", "_loop", "request_handler", "request_factory", "requests_count")
_PROBE_REQUEST = b"POST /probe HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"


def refusal(app: web.Application, server: web.Server) -> str | None:
    """Why the shortcut cannot serve ``app`` through ``server`` (aiohttp's plain server), or
    None when it can: turned off, an application that adds middlewares or response hooks (the
    shortcut would skip them), an aiohttp it is not tested on, or a private name it uses that
    this aiohttp lacks or shapes differently."""
    if not app[STATE].settings.shortcut:
        return "turned off in the settings"
    if app.middlewares:
        return "the application has middlewares"
    if app.on_response_prepare:
        return "the application has on_response_prepare handlers"
    version = aiohttp.__version__
    if release(version) < TESTED_SINCE:
        return f"aiohttp {version} is older than {'.'.join(map(str, TESTED_SINCE))}"
    try:
        routes = app[API_ROUTES]
        path, (api, base) = next((p, r) for p, r in routes.items() if "{" not in p)
        if resolve(app.router, routes, path) != (None, None, api, base):
            return f"aiohttp's router did not find the route of {path}"
        return _probe(server)
    except Exception as exc:  # any surprise in aiohttp's internals: the public path
        return f"aiohttp {version}'s connection handler did not answer the probe ({exc!r})"


def release(version: str) -> tuple[int, ...]:
    """The release numbers of a version string: ``"3.14.0rc1"`` -> ``(3, 14, 0)``."""
    return tuple(int(re.match(r"\d*", part)[0] or 0) for part in version.split(".")[:3])


def _probe(server: web.Server) -> str | None:
    """What ``server``'s aiohttp lacks of what the shortcut uses; a sample request parsed by a
    connection handler's own parser shows the message and payload have the expected shape."""
    missing = [name for name in _SERVER_NAMES if not hasattr(server, name)]
    handler = server()
    missing += [name for name in _HANDLER_NAMES if not hasattr(handler, name)]
    parser = getattr(handler, "_parser", None)
    missing += [f"parser.{name}" for name in _PARSER_NAMES if not hasattr(parser, name)]
    if missing:
        return f"aiohttp {aiohttp.__version__} lacks {', '.join(missing)}"
    (message, payload), *_ = parser.feed_data(_PROBE_REQUEST)[0]
    seen = (
        message.method, message.path, message.version, message.should_close, message.upgrade,
        "Host" in message.headers, bool(message.raw_headers), payload.is_eof(),
        payload.total_bytes, payload.read_nowait(),
    )  # fmt: skip
    if seen != ("POST", "/probe", (1, 1), False, False, True, True, True, 2, b"{}"):
        return f"aiohttp {aiohttp.__version__}'s parser gave an unexpected message {seen!r}"
    return None


class Shortcut:
    """Answers the API requests a connection can answer by itself.

    ``decide`` only looks; ``take`` answers. Once the first byte of an answer is written the
    request is never handed back to aiohttp: a later failure is logged and counted
    (``ShortcutStatus.failures``), and the connection closed when its state is in doubt.
    """

    def __init__(self, app: web.Application) -> None:
        self._state = app[STATE]
        self._router = app.router
        self._api_routes = app[API_ROUTES]
        routes = BoundedCache("routes", ROUTE_CACHE_SIZE, registry=self._state.caches)
        self.route: Callable[[str], Route | None] = routes.memoize(self._routed)
        self.status = self._state.shortcut
        self.outbox = Outbox()

    def decide(self, message: Any, payload: Any) -> Route | None:
        """Where ``message`` goes if the shortcut can answer it, with no side effect but the
        route cache; None leaves it to aiohttp."""
        headers = message.headers
        if (
            message.method != "POST"
            or message.version != (1, 1)
            or message.should_close
            or message.upgrade
            or not payload.is_eof()
            or payload.total_bytes > self._state.settings.max_body_bytes
            or "Expect" in headers
            or "Content-Encoding" in headers
            or len(message.path) > MAX_ROUTED_PATH  # not remembered: a client picks its paths
        ):
            return None
        return self.route(message.path)

    def take(self, connection: Connection, message: Any, payload: Any, route: Route) -> bool:
        """Answer ``message`` (which ``decide`` routed): True once its answer is written, False
        when aiohttp is to answer it (handed the exchange begun here, if any)."""
        tenant, profile, api, base = route
        incoming = Incoming(
            "POST", message.path, message.headers, message.raw_headers, tenant, profile
        )
        exchange = open_exchange(self._state, incoming, api)
        try:
            outcome = admit(exchange, base) or respond(exchange, payload.read_nowait())
            if isinstance(outcome, Answer):
                wire, body = _wire_bytes(outcome), outcome.body
            else:  # a stream, written whole if it can be
                stream = outcome.at_once
                wire, body = (_stream_bytes(stream) if stream is not None else None), None
        except Exception as exc:  # the body is read: aiohttp is handed the answer, not the request
            outcome, wire = guard(exchange, exc), None
        if wire is None:
            connection.hand_over(payload, exchange, outcome)
            return False
        self.status.answered += 1  # counted before the client can read it
        connection.send(wire)  # from here on, this request is answered
        try:
            if body is None:
                sent_whole(exchange)
            sent(exchange, body)
        except Exception:
            self.failed(f"journal or log of {readable(message.path)}")
        return True

    def failed(self, what: str) -> None:
        """A failure after an answer was written: logged and counted."""
        self.status.failures += 1
        log.exception("the connection answered, then failed: %s", what)

    def _routed(self, path: str) -> Route | None:
        """``resolve(path)``, for ``route`` to remember."""
        # aiohttp reads a path's query and fragment apart, and decodes its escapes.
        if "?" in path or "#" in path or "%" in path or not path.startswith("/"):
            return None
        try:
            return resolve(self._router, self._api_routes, path)
        except Exception:  # never again for this path: aiohttp answers it
            log.exception("the route of %s could not be found", readable(path))
            return None


def resolve(
    router: web.UrlDispatcher, api_routes: dict[str, tuple[Api, str]], path: str
) -> Route | None:
    """Where aiohttp's ``router`` sends ``POST path``, if to an API's pipeline: the route's
    path pattern, found in ``api_routes``, names the API and base path."""
    probe = SimpleNamespace(rel_url=URL.build(path=path, encoded=True), method="POST")
    resolving = router.resolve(probe)
    try:
        resolving.send(None)  # aiohttp's router resolves without waiting
    except StopIteration as done:
        match = done.value
    else:  # a router that would wait: leave every such request to aiohttp
        resolving.close()
        return None
    route = match.route
    served = api_routes.get(route.resource.canonical) if route.resource is not None else None
    if served is None or route.method != "POST":
        return None
    return match.get("tenant"), match.get("profile"), *served


def _wire_bytes(answer: Answer) -> bytes | None:
    """``answer`` as aiohttp would write it to a keep-alive HTTP/1.1 connection, or None when
    aiohttp would do more than that (an empty-bodied status, headers it manages, a line break
    in a header, which aiohttp answers with an error of its own)."""
    status = answer.status
    if answer.close or status < 200 or status in (204, 304):
        return None
    body = answer.body
    return _with_head(status, answer.headers, f"Content-Length: {len(body)}", body)


def _stream_bytes(stream: WholeStream) -> bytes | None:
    """``stream`` as aiohttp writes a stream to a keep-alive HTTP/1.1 connection: chunked, a
    chunk for each write, then the last chunk; None as for ``_wire_bytes``."""
    chunks = [b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in stream.chunks if chunk]
    body = b"".join([*chunks, b"0\r\n\r\n"])
    return _with_head(200, stream.headers, "Transfer-Encoding: chunked", body)


def _with_head(status: int, headers: dict[str, str], framing: str, body: bytes) -> bytes | None:
    """``body`` after the head aiohttp writes for ``status`` and ``headers``, ``framing`` the
    header that says where the body ends; None when a header is one aiohttp manages or has a
    line break."""
    if not _plain(tuple(headers)):
        return None
    fields = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
    if fields.count("\n") != len(headers) or fields.count("\r") != len(headers):
        return None  # a line break inside a value
    head = f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\n{fields}{framing}\r\n"
    # aiohttp's own headers (Date, Server) and the blank line end the head.
    return head.encode() + _http_layer_tail() + body


@BoundedCache("plain_headers", HEADER_CACHE_SIZE, registry=SHARED).memoize
def _plain(names: tuple[str, ...]) -> bool:
    """Whether no header of these ``names`` is one the HTTP layer manages or cannot send."""
    return not any(
        name.lower() in _HTTP_LAYER_HEADERS or "\r" in name or "\n" in name for name in names
    )


class _HttpLayerTail:
    """The Date and Server headers aiohttp adds, and the blank line: made once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._tail = b""

    def __call__(self) -> bytes:
        second = int(time.time())
        if second != self._second:
            self._second = second
            date = formatdate(second, usegmt=True)
            self._tail = f"Date: {date}\r\nServer: {SERVER_SOFTWARE}\r\n\r\n".encode()
        return self._tail


_http_layer_tail = _HttpLayerTail()


class _Parser:
    """aiohttp's request parser, less the messages the shortcut answered; nothing is parsed
    after a request that closes the connection (``Connection: close``, or HTTP/1.0 without
    keep-alive): RFC 9112 section 9.6, a server "MUST NOT process any further requests
    received on that connection"."""

    __slots__ = ("_closing", "_connection", "_parser")

    def __init__(self, parser: Any, connection: Connection) -> None:
        self._parser = parser
        self._connection = connection
        self._closing: Any = None  # the body of a request that closes the connection

    def feed_data(self, data: bytes) -> tuple[Sequence[Any], bool, bytes]:
        closing = self._closing
        if closing is not None and closing.is_eof():
            # Parsing on would only fail (llhttp refuses data after such a request), and
            # aiohttp would queue its 400 before the answer still owed to that request.
            return (), False, b""
        messages, upgraded, tail = self._parser.feed_data(data)
        if messages:
            # llhttp stops after a request that closes the connection: it comes last.
            message, payload = messages[-1]
            if message.should_close:
                self._closing = payload  # whose rest may still be on its way
            messages = self._connection.answer(messages)
        return messages, upgraded, tail

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


class Connection(RequestHandler):
    """aiohttp's handler of one connection, answering what it can through ``Shortcut``."""

    __slots__ = ("_answering", "_shortcut", "handovers")

    def __init__(self, manager: web.Server, shortcut: Shortcut, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._shortcut = shortcut
        self._answering: deque[Any] | None = None  # the requests being answered, in order
        self._parser = _Parser(self._parser, self)
        # Requests begun here and left to aiohttp, by payload (``pipeline.handed_over``).
        self.handovers: dict[Any, tuple[Exchange, Outcome]] = {}

    def answer(self, messages: Sequence[Any]) -> Sequence[Any]:
        """The parsed ``messages`` left for aiohttp once the shortcut has answered the ones
        it can, in order: none after the first it cannot."""
        if self._answering is not None:
            # Reading a body lets aiohttp resume reading, which parses what arrived meanwhile
            # and calls here again: those requests wait their turn behind the ones at hand.
            self._answering.extend(messages)
            return ()
        try:
            idle = self._idle()
        except Exception:  # nothing was done: aiohttp answers them all
            log.exception("the connection could not look at its state")
            return messages
        if not idle:
            return messages
        queue = self._answering = deque(messages)
        try:
            return self._answer_queue(queue)
        finally:
            self._answering = None

    def _answer_queue(self, queue: deque[Any]) -> Sequence[Any]:
        shortcut = self._shortcut
        while queue:
            message, payload = queue[0]
            if self._backed_up():  # aiohttp answers the rest, each once the client reads
                return list(queue)
            try:
                route = shortcut.decide(message, payload)
                taken = route is not None and shortcut.take(self, message, payload, route)
            except Exception:  # nothing written yet: aiohttp answers it
                log.exception("the connection could not answer %s", readable(message.path))
                taken = False
            if not taken:
                return list(queue)
            queue.popleft()
            try:
                self._answered()
            except Exception:  # the connection's count of requests is in doubt: end it
                shortcut.failed("keeping count of the connection's requests")
                self.force_close()
                return ()
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

    def _backed_up(self) -> bool:
        """Whether more is waiting to reach the client than a transport holds before it pauses
        its writer: the answers of a client that sends many requests and reads slowly (or
        never) then wait for it, as aiohttp's do, rather than all pile up in memory."""
        transport = self.transport
        assert transport is not None
        waiting = transport.get_write_buffer_size() + self._shortcut.outbox.held(transport)
        return waiting > WRITE_HIGH_WATER

    def send(self, data: bytes) -> None:
        """Write ``data`` to this connection's socket, with the other answers of this round of
        the event loop (``outbox``)."""
        assert self.transport is not None
        self._shortcut.outbox.write(self.transport, data)

    def force_close(self) -> None:
        """aiohttp's, once the answers waiting in the outbox are written: a transport closed
        with nothing in its buffer drops what is written to it after."""
        self._shortcut.outbox.flush()
        super().force_close()

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
    """aiohttp's runner for an application, serving it through ``Server`` when the shortcut
    can serve it (``refusal``), else through aiohttp's own server, saying why once."""

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()
        status = self.app[STATE].shortcut
        status.off = refusal(self.app, plain)
        if status.off is not None:
            log.info("connection shortcut off: %s", status.off)
            return plain
        return Server(
            plain.request_handler,
            shortcut=Shortcut(self.app),
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=plain._loop,
            **plain._kwargs,
        )


def _reason(error: OSError) -> str:
    """Why a socket could not be bound or its address resolved, in the system's words."""
    known = error.errno and error.errno > 0 and not isinstance(error, socket.gaierror)
    reason = os.strerror(error.errno) if known else error.strerror or str(error)
    return reason[:1].lower() + reason[1:]


def run_app(
    app: web.Application, host: str, port: int, on_started: Callable[[int], None], **options: Any
) -> None:
    """Serve ``app`` until SIGINT or SIGTERM, as aiohttp's ``web.run_app`` does, through
    ``AppRunner``; ``on_started`` is called with the port listened on (``port`` 0: one the
    system chose) once the socket is bound. An address that cannot be listened on is a
    ``ConfigError`` saying why."""

    async def serve() -> None:
        runner = AppRunner(app, handle_signals=True, **options)
        await runner.setup()
        try:
            try:
                await web.TCPSite(runner, host, port).start()
            except OSError as exc:
                raise ConfigError(
                    f"cannot listen on {in_url(host)}:{port}: {_reason(exc)}"
                ) from None
            on_started(runner.addresses[0][1])
            await asyncio.Event().wait()  # until a signal ends the loop
        finally:
            await runner.cleanup()

    # Leaving the Runner cancels serve(), whose clean-up then runs; the signal's exit is
    # the expected end, not an error.
    with contextlib.suppress(web.GracefulExit, KeyboardInterrupt), asyncio.Runner() as loop:
        loop.run(serve())
