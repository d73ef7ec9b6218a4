"""Embeddings (``POST .../embeddings``), for the profiles whose data names the API.

Checked as OpenAI checks it (``checks.embeddings``); matched with each input as a user message
(a token array as its numbers), so text conditions, ``turn`` and ``api: embeddings`` work;
answered with the vectors of ``wire.vectors`` (or a scenario's fixed ``embeddings``, used in
turn for each input) in ``wire.embeddings``' wire. A scenario's error, latency or fault applies
as to any request; its texts and tool calls mean nothing here. A request whose vectors take long
to compute is computed in a worker thread, so the server keeps answering meanwhile.

Answers are not kept (they are large, and quick to compute again), and a recording server
relays what the upstream answers without recording it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from ...accounts.rules import Cost
from ...checks.embeddings import EmbeddingsRequest, check_embeddings
from ...engine.reply_specs import ReplySpec
from ...engine.request_view import RequestView
from ...messages import token_text
from ...reply import Message
from ...wire.answer import Answer, Later
from ...wire.embeddings import EmbeddingList
from ...wire.faults import Fault
from ...wire.size import refuse_if_too_large
from ...wire.vectors import embedding
from ..exchange import Exchange
from ..render import json_bytes_answer
from .api import Api, Encoded

# Bytes a number takes on the wire, for the size a request asks for. As JSON, its indentation
# (four levels deep: ``data``, an item, its ``embedding``) and a newline, then a zero takes 4
# ("0.0,") and any other number at most 25 (a float32 value written in 24 characters at most);
# a text's vector has at most one number not zero for each feature of it (``wire.vectors``: a
# word and its trigrams, under two for each character), a scenario's may have none. As base64,
# 6 each.
NUMBER_DEPTH = 4
ZERO_BYTES = 4
NUMBER_BYTES = 25
BASE64_BYTES = 6
# Past either, the vectors are computed in a worker thread (some 50 ms here): numbers written,
# or tokens read (some 5 µs each, for words never seen before).
IN_THREAD = 500_000
IN_THREAD_TOKENS = 8_000
NO_MESSAGE = Message(content="")


class Embeddings(Api):
    name = "embeddings"
    path = "/embeddings"
    broken_body = b'{"object": "list", "data": ['
    summarised = True
    recorded = False
    needs_schema = True
    needs_scenario = False  # the vectors are computed from the text

    def check(self, exchange: Exchange, raw: bytes) -> dict[str, Any]:
        body = self.parsed(exchange, raw)
        exchange.checked = check_embeddings(body, exchange.profile)
        return body

    def view(self, exchange: Exchange) -> RequestView:
        request: EmbeddingsRequest = exchange.checked
        messages = [{"role": "user", "content": _text(item)} for item in request.inputs]
        body = {"model": request.model, "messages": messages}
        return RequestView(body, exchange.incoming.headers, exchange.profile.name, self.name)

    def cost(self, exchange: Exchange) -> Cost:
        request: EmbeddingsRequest = exchange.checked
        return Cost(request.model, sum(request.tokens), 0)

    def fallback(self, view: RequestView, max_bytes: int) -> Message:
        return NO_MESSAGE  # the vectors are the answer

    def note(self, exchange: Exchange) -> str | None:
        written: EmbeddingList | None = exchange.written
        if written is None or not written.vectors:
            return None
        return f"{len(written.vectors)} vectors of {written.dimensions}"

    def encode(
        self,
        exchange: Exchange,
        messages: list[Message],
        reply: ReplySpec,
        headers: dict[str, str],
        fault: Fault | None,
    ) -> Encoded:
        request: EmbeddingsRequest = exchange.checked
        numbers = len(request.inputs) * request.dimensions
        size = numbers * BASE64_BYTES
        if request.encoding != "base64":
            indent = exchange.profile.body_format.indent
            layout = NUMBER_DEPTH * indent + 1 if indent else 0
            size = numbers * (layout + ZERO_BYTES)
            size += _not_zero(request, reply) * (NUMBER_BYTES - ZERO_BYTES)
        asked = [f"{len(request.inputs):,} vectors of {request.dimensions:,} numbers"]
        refuse_if_too_large(size, exchange.state.settings.max_response_bytes, asked)
        model = request.spec.answers_as or exchange.profile.answer_model(request.model)
        written = EmbeddingList([], model, sum(request.tokens), request.encoding)
        style = exchange.profile.body_format

        def answer() -> Answer:
            written.vectors = _vectors(request, reply.embeddings)
            return json_bytes_answer(style.encode(written.body()), headers=headers)

        if numbers <= IN_THREAD and sum(request.tokens) <= IN_THREAD_TOKENS:
            return Encoded(written, answer())

        async def in_thread(request: web.Request) -> web.StreamResponse:
            return (await asyncio.to_thread(answer)).response()

        return Encoded(written, Later(in_thread))


def _not_zero(request: EmbeddingsRequest, reply: ReplySpec) -> int:
    """At most how many numbers of the answer are not zero (see ``ZERO_BYTES``)."""
    if reply.embeddings:
        return len(request.inputs) * request.dimensions
    return sum(min(request.dimensions, 2 * len(_text(item)) + 1) for item in request.inputs)


def _vectors(request: EmbeddingsRequest, fixed: tuple[tuple[float, ...], ...]) -> list[list[float]]:
    """One vector per input: the scenario's, in turn, else the input's own."""
    if fixed:  # as given, cut to the dimensions asked for
        return [
            list(fixed[index % len(fixed)][: request.dimensions])
            for index in range(len(request.inputs))
        ]
    size, dimensions = request.spec.dimensions, request.dimensions
    return [embedding(_text(item), size, dimensions) for item in request.inputs]


def _text(item: str | list[int]) -> str:
    """An input as the text it is embedded and matched as (a token array: its numbers)."""
    return item if isinstance(item, str) else token_text(item)


EMBEDDINGS = Embeddings()
