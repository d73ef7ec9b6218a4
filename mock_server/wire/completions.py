"""Build ``chat.completion`` bodies: usage, finish reasons, token limits, profile extras.

A reply is described by ``reply.Message`` objects (what the model "said"); ``Completion``
turns them into the provider's JSON for a given request and profile, a choice each. Streaming
renders the same ``Completion`` as chunks, so both paths always agree.
"""

from __future__ import annotations

import hashlib
import math
import time
import zlib
from dataclasses import dataclass, field, replace
from typing import Any

from ..caches import SHARED, BoundedCache
from ..lazy_property import lazy
from ..providers import Profile
from ..reply import Message
from ..tokens import answer_tokens, count_tokens, cut_to, prompt_tokens, split_tokens
from .ids import Ids

CACHED_MODEL = 256  # longer model names (a client may send megabytes) are not kept


def system_fingerprint(model: str) -> str:
    """A stable ``fp_`` + 10 hex digits per model, like OpenAI's backend fingerprints."""
    if len(model) > CACHED_MODEL:
        return _fingerprint(model)
    return _cached_fingerprint(model)


def _fingerprint(model: str) -> str:
    return "fp_" + hashlib.sha1(model.encode()).hexdigest()[:10]


_cached_fingerprint = BoundedCache("fingerprints", 256, registry=SHARED).memoize(_fingerprint)


def token_logprob(token: str, alternatives: int) -> dict[str, Any]:
    """One ``logprobs.content`` entry: the token's own log probability (derived from its text,
    so the same token always gets the same value, a probability of 0.78 to 1) and
    ``alternatives`` less likely ones, each with half the probability left by those before it:
    distinct tokens at one position, whose probabilities never add up past 1, each with the
    token's leading space (`` How``: `` How_1``), as a tokenizer's neighbours share it."""
    logprob = -round((zlib.crc32(token.encode()) % 1000 + 1) / 4000, 6)
    top = [{"token": token, "logprob": logprob, "bytes": list(token.encode())}]
    left = math.log(-math.expm1(logprob))  # the log of what the token leaves to the others
    for rank in range(1, alternatives):
        alternative = f"{token.rstrip() or token}_{rank}"
        top.append(
            {
                "token": alternative,
                "logprob": round(left - rank * math.log(2), 6),
                "bytes": list(alternative.encode()),
            }
        )
    return {**top[0], "top_logprobs": top[:alternatives]}


def requested_top_logprobs(body: dict[str, Any]) -> int | None:
    """How many alternatives each token's log probabilities list; None: not requested."""
    return (body.get("top_logprobs") or 0) if body.get("logprobs") else None


# The tier OpenAI says served a request: ``fast`` is served as ``priority``, and ``auto`` or no
# tier as ``default``. Source: ``service_tier`` in the OpenAPI spec's create requests
# (openai-python's create params); the tiers a request may name are those the live API took in
# 2026 (``auto``, ``default``, ``fast``, ``flex``, ``priority``).
SERVED_TIERS = {"flex": "flex", "priority": "priority", "fast": "priority"}


def served_tier(body: dict[str, Any]) -> str:
    """The ``service_tier`` an answer to ``body`` reports."""
    asked = body.get("service_tier")
    return SERVED_TIERS.get(asked, "default") if isinstance(asked, str) else "default"


def max_completion_tokens(body: dict[str, Any]) -> int | None:
    value = body.get("max_completion_tokens")
    return value if value is not None else body.get("max_tokens")


def stop_sequences(body: dict[str, Any]) -> list[str]:
    """The texts ``stop`` asks the model to end before (a string, or a list of them)."""
    stop = body.get("stop")
    given = [stop] if isinstance(stop, str) else stop if isinstance(stop, list) else []
    return [text for text in given if isinstance(text, str) and text]


def stopped(message: Message, stops: list[str]) -> Message:
    """``message`` with its content ended before the first of ``stops`` in it (the sequence
    itself is not returned), as a model ends there: with finish_reason ``stop``, as any answer
    that is not cut to its token limit. A scripted ``finish_reason`` says how the reply ended
    already: its content is kept whole."""
    if not stops or message.content is None or message.tool_calls or message.finish_reason:
        return message
    ends = [at for at in map(message.content.find, stops) if at >= 0]
    if not ends:
        return message
    return replace(message, content=message.content[: min(ends)])


@dataclass(eq=False)
class Completion:
    """A reply to one request, ready to be rendered whole or as a stream."""

    id: str
    created: int
    model: str
    choices: list[Message]
    prompt_tokens: int
    profile: Profile
    provider: str | None = None
    usage_override: dict[str, int] = field(default_factory=dict)
    top_logprobs: int | None = None  # None: logprobs were not requested
    service_tier: str = "default"

    @lazy  # read twice for a body: one cache look-up
    def fingerprint(self) -> str | None:
        if not self.profile.response.get("system_fingerprint"):
            return None
        return system_fingerprint(self.model)

    @lazy
    def _usage(self) -> dict[str, Any]:
        given = self.usage_override
        reasoning = given.get("reasoning_tokens")
        if reasoning is None:
            reasoning = sum(count_tokens(c.reasoning_content or "") for c in self.choices)
        completion = sum(map(answer_tokens, self.choices)) + reasoning
        prompt = given.get("prompt_tokens", self.prompt_tokens)
        completion = given.get("completion_tokens", completion)
        # Details are parts of their totals: at most what the totals say.
        reasoning, cached = min(reasoning, completion), min(given.get("cached_tokens", 0), prompt)
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": given.get("total_tokens", prompt + completion),
        }
        extras = self.profile.response
        if extras.get("usage_details"):
            usage["prompt_tokens_details"] = {"cached_tokens": cached, "audio_tokens": 0}
            usage["completion_tokens_details"] = {
                "reasoning_tokens": reasoning,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            }
        if extras.get("cache_hit_tokens"):
            usage["prompt_cache_hit_tokens"] = cached
            usage["prompt_cache_miss_tokens"] = prompt - cached
        if extras.get("raw_usage"):
            usage["raw_usage"] = {"input_tokens": prompt, "output_tokens": completion}
        return usage

    def usage(self) -> dict[str, Any]:
        """The ``usage`` object (computed once per completion)."""
        return self._usage

    def for_prompt(self, prompt_tokens: int) -> Completion:
        """This completion answering a prompt of ``prompt_tokens`` tokens."""
        return replace(self, prompt_tokens=prompt_tokens)

    def message(self, choice: Message) -> dict[str, Any]:
        extras = self.profile.response
        message: dict[str, Any] = {"role": "assistant"}
        if not choice.tool_calls or extras.get("content_with_tool_calls", True):
            message["content"] = choice.content
        if choice.reasoning_content is not None and extras.get("reasoning_content"):
            message["reasoning_content"] = choice.reasoning_content
        if choice.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in choice.tool_calls
            ]
        if extras.get("message_extras"):
            message["refusal"] = choice.refusal
            message["annotations"] = []
        elif choice.refusal is not None:
            message["refusal"] = choice.refusal
        return message

    def logprobs(self, text: str | None, field: str = "content") -> dict[str, Any] | None:
        """Deterministic log probabilities for the tokens of ``text``, the reply's ``content``
        or its ``refusal`` (``field``; the other is null), when they were requested."""
        if self.top_logprobs is None or text is None:
            return None
        entries = [token_logprob(t, self.top_logprobs) for t in split_tokens(text)]
        return {"content": None, "refusal": None, field: entries}

    def choice_logprobs(self, choice: Message) -> dict[str, Any] | None:
        """The log probabilities of a whole choice: of its refusal when it only refuses."""
        if choice.refuses:
            return self.logprobs(choice.refusal, "refusal")
        return self.logprobs(choice.content)

    def header(self, object_type: str) -> dict[str, Any]:
        """The fields every chunk of this completion starts with."""
        return {**self._identity(object_type), **self._served(), **self._routed()}

    def _identity(self, object_type: str) -> dict[str, Any]:
        return {"id": self.id, "object": object_type, "created": self.created, "model": self.model}

    def _served(self) -> dict[str, Any]:
        """The tier and the backend fingerprint, on profiles that send them."""
        served: dict[str, Any] = {}
        if self.profile.response.get("service_tier"):
            served["service_tier"] = self.service_tier
        if self.fingerprint is not None:
            served["system_fingerprint"] = self.fingerprint
        return served

    def _routed(self) -> dict[str, Any]:
        return {"provider": self.provider} if self.provider is not None else {}

    def summary(self) -> dict[str, Any]:
        """The answer as one object, for the journal of a stream: its id, each choice's
        message and finish reason, the usage."""
        return {
            "id": self.id,
            "choices": [
                {
                    "index": index,
                    "message": self.message(choice),
                    "finish_reason": choice.derived_finish_reason(),
                }
                for index, choice in enumerate(self.choices)
            ],
            "usage": self.usage(),
        }

    def body(self) -> dict[str, Any]:
        """The whole ``chat.completion`` JSON: the tier and the fingerprint after the usage, where
        a whole body has them (OpenAI's answers, as client projects quote them), where a chunk
        has them first."""
        body = {**self._identity("chat.completion"), **self._routed()}
        with_logprobs = self.profile.response.get("logprobs_field", True)
        choices = body["choices"] = []
        for index, choice in enumerate(self.choices):
            entry = {"index": index, "message": self.message(choice)}
            if with_logprobs:
                entry["logprobs"] = self.choice_logprobs(choice)
            entry["finish_reason"] = choice.derived_finish_reason()
            choices.append(entry)
        body["usage"] = self.usage()
        body.update(self._served())
        return body


def new_completion(
    body: dict[str, Any],
    profile: Profile,
    choices: list[Message],
    ids: Ids,
    *,
    hint: str | None = None,
    **extra: Any,
) -> Completion:
    """A completion answering ``body``: ids filled in, token limits applied; ``hint`` is a
    gateway's provider routing hint, echoed as ``provider`` by profiles that have that field."""
    limit, stops = max_completion_tokens(body), stop_sequences(body)
    # A limit holds the reasoning too, as OpenAI's do (its reference says so of
    # max_completion_tokens; its reasoning models refuse max_tokens), on a profile that names
    # its reasoning models as OpenAI's does.
    reasoning_counts = bool(profile.reasoning_models)
    style = profile.id_style
    finished = []
    for choice in choices:
        if any(not call.id for call in choice.tool_calls):
            calls = [c if c.id else replace(c, id=ids.tool_call(style)) for c in choice.tool_calls]
            choice = replace(choice, tool_calls=calls)
        finished.append(cut_to(stopped(choice, stops), limit, reasoning_counts))
    provider = None
    if profile.response.get("provider_field"):
        provider = hint or profile.default_provider
    return Completion(
        top_logprobs=requested_top_logprobs(body),
        service_tier=served_tier(body),
        id=ids.completion(style),
        created=int(time.time()),
        model=profile.answer_model(str(body.get("model", ""))),
        choices=finished,
        prompt_tokens=prompt_tokens(body),
        profile=profile,
        provider=provider,
        **extra,
    )
