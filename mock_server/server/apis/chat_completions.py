"""Chat completions (``POST .../chat/completions``): the API every profile serves.

Checked by the profile's request schema and the fields the server reads (``checks.request``),
matched on the body as sent, answered as a ``chat.completion`` body or its chunk stream
(``wire.completions``, ``wire.streaming``); a body is kept by the model and limits asked for when
the reply's words are fixed, else by the request's bytes (``wire.kept_bodies``).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from ...accounts.rules import Cost
from ...checks.request import check_model
from ...engine.fallback import fallback_message
from ...engine.reply_specs import ReplySpec
from ...engine.request_view import RequestView
from ...reply import Message
from ...tokens import prompt_tokens
from ...wire.completions import (
    max_completion_tokens,
    new_completion,
    requested_top_logprobs,
    served_tier,
    stop_sequences,
)
from ...wire.faults import Fault
from ...wire.size import estimated_size, refuse_if_too_large
from ...wire.streaming import CHAT_STREAM, render_events
from ..exchange import Exchange
from ..render import json_bytes_answer
from .api import Api, Encoded


class ChatCompletions(Api):
    name = "chat_completions"
    path = "/chat/completions"
    broken_body = b'{"id": "chatcmpl-broken", "object": "chat.completion", "choices": ['

    def check(self, exchange: Exchange, raw: bytes) -> dict[str, Any]:
        body = self.parsed(exchange, raw)
        profile = exchange.profile
        exchange.state.passed_bodies.check(self.name, raw, body, profile)
        if profile.reject_unknown_models:
            check_model(body, profile)
        return body

    def view(self, exchange: Exchange) -> RequestView:
        return RequestView(exchange.body, exchange.incoming.headers, exchange.profile.name)

    def cost(self, exchange: Exchange) -> Cost:
        body = exchange.body
        most = (max_completion_tokens(body) or 0) * (body.get("n") or 1)
        return Cost(str(body.get("model", "")), self.prompt(exchange), most)

    def fallback(self, view: RequestView, max_bytes: int) -> Message:
        return fallback_message(view.body, max_bytes)

    def cache_key(self, exchange: Exchange, reply: ReplySpec) -> tuple[Hashable, ...] | None:
        body, profile = exchange.body, exchange.profile
        hint = exchange.hints.get("provider")
        if reply.fixed and (hint is None or isinstance(hint, str)):
            # The fields ``encode`` reads; the prompt's count is spliced in (wire.kept_bodies).
            read = (
                max_completion_tokens(body), tuple(stop_sequences(body)), body.get("n"),
                requested_top_logprobs(body),
            )  # fmt: skip
            model = str(body.get("model", ""))
            return (self.name, profile.name, model, *read, served_tier(body), hint)
        return (self.name, profile.name, exchange.raw)

    def answer_id(self, exchange: Exchange) -> str:
        return exchange.state.ids.completion(exchange.profile.id_style)

    def prompt(self, exchange: Exchange) -> int:
        return prompt_tokens(exchange.body)

    def encode(
        self,
        exchange: Exchange,
        messages: list[Message],
        reply: ReplySpec,
        headers: dict[str, str],
        fault: Fault | None,
    ) -> Encoded:
        state, body, profile = exchange.state, exchange.body, exchange.profile
        streaming = bool(body.get("stream"))
        size = estimated_size(
            messages,
            requested_top_logprobs(body),
            reply.stream if streaming else None,
            indent=profile.body_format.indent,
        )
        asked = [f"{name}={body[name]}" for name in ("n", "top_logprobs") if body.get(name)]
        if streaming:
            asked.append("stream=true")
        refuse_if_too_large(size, state.settings.max_response_bytes, asked)
        generated_ids = any(not call.id for message in messages for call in message.tool_calls)
        completion = new_completion(
            body,
            profile,
            messages,
            state.ids,
            hint=exchange.hints.get("provider"),
            usage_override=reply.usage,
        )
        if not streaming:
            data = profile.body_format.encode(completion.body())
            answer = json_bytes_answer(data, headers=headers)
            return Encoded(completion, answer, None if generated_ids else data)
        options = body.get("stream_options") or {}
        events = render_events(
            completion,
            reply.stream,
            bool(options.get("include_usage")),
            options.get("include_obfuscation") is not False,
        )
        stream = self.stream(exchange, events, CHAT_STREAM, reply, headers, fault)
        return Encoded(completion, stream)


CHAT_COMPLETIONS = ChatCompletions()
