"""The seam between the generic pipeline (``server.pipeline``) and one API it serves.

An ``Api`` says where it is served (``path``, under every ``[/t/{tenant}][/{profile}]{base}``
prefix of a profile whose data names it in ``apis``), and what is particular to it at each stage:
how its request is read and checked, the request view scenarios match on, what it may cost an
account, its fallback, its cache key, and how a reply is written in its wire. The pipeline does
the rest, the same for every API: routing, keys, account rules, choosing a scenario, scripted
errors and connection faults, latency, kept bodies, warnings, charging, the journal and the log.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ...checks.body import parse_body
from ...engine.request_view import RequestView
from ...errors import ApiError
from ...wire.answer import Later, WholeStream
from ...wire.faults import chunks_sent
from ...wire.sse import STREAM_HEADERS, Event, StreamWire, send_stream
from ..headers import readable

if TYPE_CHECKING:
    from aiohttp import web

    from ...accounts.rules import Cost
    from ...engine.reply_specs import ReplySpec
    from ...providers import Profile
    from ...reply import Message
    from ...wire.answer import Outcome, Written
    from ...wire.faults import Fault
    from ..exchange import Exchange
    from ..tenants import Tenant


@dataclass(slots=True)
class Encoded:
    """A reply in an API's wire: what was written, the answer (a whole body, or a stream to
    send), and ``keep``: the body's bytes, when a request of the same cache key may get them
    again (``Api.cache_key``)."""

    written: Written
    outcome: Outcome
    keep: bytes | None = None


class Api:
    """One API the server emulates; a subclass defines each stage (see the module docstring).
    ``name`` is what profiles list in ``apis`` and the journal shows."""

    name: ClassVar[str]
    path: ClassVar[str]  # under a base path, e.g. "/chat/completions"
    # Whether the journal keeps ``Written.summary()`` rather than the body sent (vectors).
    summarised: ClassVar[bool] = False
    # Whether a recording server records what the upstream answers, or only relays it.
    recorded: ClassVar[bool] = True
    # Whether a profile that names it must give its request schema (``api_request_schemas``).
    needs_schema: ClassVar[bool] = False
    # Whether a request no scenario answers gets a placeholder reply (it is then unmatched, and
    # strict mode refuses it), rather than the API's own answer (embeddings' vectors).
    needs_scenario: ClassVar[bool] = True
    # Whether scenarios see the request body as sent, so that an unmatched request's near-miss
    # report can be worked out from its journal entry when it is read; an API that shows them
    # something else (Responses: the conversation put together as chat) reports it at once.
    viewed_as_sent: ClassVar[bool] = True
    # How many events a stream sends as soon as it starts, before the first-token delay.
    opening_events: ClassVar[int] = 0
    # The start of an answer that breaks off (the ``malformed_json`` fault), in the API's shape.
    broken_body: ClassVar[bytes] = b'{"object": '

    def unusable(self, profile: Profile) -> str | None:
        """Why ``profile``, which names this API, cannot serve it (its data lacks what the
        API needs), or None; a reason stops start-up."""
        if self.needs_schema and self.name not in profile.api_checks:
            return f"it gives no request schema for them (api_request_schemas.{self.name})"
        return None

    def parsed(self, exchange: Exchange, raw: bytes) -> dict[str, Any]:
        """``raw`` as a JSON object, read as its ``Content-Type`` says (``checks.body``); it is
        ``exchange.body`` from here on."""
        content_type = exchange.incoming.headers.get("Content-Type")
        body = parse_body(raw, readable(content_type) if content_type else None)
        exchange.body = body
        return body

    def reads(self) -> list[tuple[str, str, Callable[[Exchange, web.Request], Outcome]]]:
        """The API's other routes: ``(method, path under the base path, handler)``, each
        answered from the tenant's state, whole or as a stream (``GET .../responses/{id}``);
        none by default."""
        return []

    def check(self, exchange: Exchange, raw: bytes) -> dict[str, Any]:
        """The request body that ``raw`` (decoded) holds, checked as ``exchange.profile``'s
        provider checks it; raises ``ApiError`` for one it refuses."""
        raise NotImplementedError

    def view(self, exchange: Exchange) -> RequestView:
        """What scenarios match the checked request on."""
        raise NotImplementedError

    def journal_view(self, entry: dict[str, Any], tenant: Tenant) -> RequestView:
        """What scenarios saw of a journal entry's request (``entry_json``), as far as it can
        still be told: its body, by default (empty when it is not a JSON object)."""
        body = entry["body"] if isinstance(entry["body"], dict) else {}
        return RequestView(body, entry["headers"], entry["profile"], self.name)

    def cost(self, exchange: Exchange) -> Cost:
        """What the checked request may spend, for the account rules (asked only when one
        applies)."""
        raise NotImplementedError

    def fallback(self, view: RequestView, max_bytes: int) -> Message:
        """What is answered when no scenario scripts the answer (a value built for a client's
        schema stops past ``max_bytes``, the server's ``max_response_bytes``)."""
        raise NotImplementedError

    def cache_key(self, exchange: Exchange, reply: ReplySpec) -> tuple[Hashable, ...] | None:
        """What an answer by ``reply`` depends on besides the reply spec and the parts a kept
        body splices in (id, time, the prompt's count), for kept bodies (``wire.kept_bodies``);
        None when it depends on more than the request and profile (state, say): never kept."""
        return None

    def answer_id(self, exchange: Exchange) -> str:
        """A new id for an answer, spliced into a kept body (see ``cache_key``)."""
        raise NotImplementedError

    def prompt(self, exchange: Exchange) -> int:
        """The request's prompt tokens, spliced into a kept body's usage (see ``cache_key``)."""
        raise NotImplementedError

    def note(self, exchange: Exchange) -> str | None:
        """A few words on the answer for the request log line (``16 vectors of 1536``)."""
        return None

    def stream(
        self,
        exchange: Exchange,
        events: list[Event],
        wire: StreamWire,
        reply: ReplySpec,
        headers: dict[str, str],
        fault: Fault | None,
    ) -> Later:
        """``events`` sent as the API's stream (``wire``), on the reply's schedule, with the
        profile's keep-alives and ``fault``; the exchange counts them. A stream whose events
        are all due at once, without a fault, can also be sent whole (``Later.at_once``)."""
        state, profile = exchange.state, exchange.profile
        exchange.chunks = chunks_sent(fault, len(events), self.opening_events)
        at_once = None
        if fault is None and reply.latency.all_at_once:
            at_once = WholeStream({**STREAM_HEADERS, **headers}, events, wire.end)
        error_body = None
        if fault is not None and fault.type == "error_event":
            error = ApiError(str(fault.status), status=fault.status)
            error_body = profile.error_body(error, exchange.named())[1]
        keepalive = (
            (state.settings.keepalive_interval or profile.keepalive_interval)
            if profile.keepalive
            else None
        )

        async def send(request: web.Request) -> web.StreamResponse:
            response = await send_stream(
                request,
                events,
                wire=wire,
                latency=reply.latency,
                fault=fault,
                error_body=error_body,
                keepalive_interval=keepalive,
                rng=state.rng,
                headers=headers,
                pacer=state.pacer,
                timeline=exchange.chunk_ms,
                opening=self.opening_events,
            )
            if len(exchange.chunk_ms) < (exchange.chunks or 0):  # the client left before the end
                exchange.chunks = len(exchange.chunk_ms)
                exchange.client_left = True
            return response

        return Later(send, at_once)

    def relayed(self, exchange: Exchange, answer: bytes) -> None:
        """What an upstream answered a recording server (a whole JSON body, or a stream's
        summary), for an API that keeps state of its answers; nothing by default."""

    def encode(
        self,
        exchange: Exchange,
        messages: list[Message],
        reply: ReplySpec,
        headers: dict[str, str],
        fault: Fault | None,
    ) -> Encoded:
        """``messages`` written in this API's wire, with ``headers``: a JSON body, or a stream
        (``fault``: a stream fault to strike it with). Raises ``ApiError`` for an answer larger
        than the server's ``max_response_bytes``."""
        raise NotImplementedError
