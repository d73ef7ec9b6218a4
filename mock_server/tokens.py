"""A deterministic token heuristic, the same for counting usage and for splitting streams.

A token is a run of up to eight ASCII letters (a common English word), or up to three digits,
each with the space before it; any other single character (punctuation, each CJK character); or
a run of whitespace. English prose comes out close to what OpenAI's tokenizers count, and a
completion streamed token by token has exactly ``usage.completion_tokens`` content pieces.

Prompt tokens follow OpenAI's published accounting for chat messages: 3 tokens of framing per
message, 1 more for a ``name``, and 3 to prime the reply; tool definitions count as their JSON,
and an image as a low-detail image does (``IMAGE_TOKENS``).

A text longer than ``EXACT_CHARS`` is counted on its first ``EXACT_CHARS`` characters, scaled to
its length: an estimate where no model would take the text (a million characters is several
times the largest context window), which keeps the count of any one text to some 35 ms, where
a 10 MiB prompt took 0.4 s, twice (its echo too), while no other request was answered.
"""

from __future__ import annotations

import itertools
import re
import sys
from dataclasses import replace
from typing import Any

from .caches import SHARED, BoundedCache
from .jsonio import dumps
from .messages import content_text
from .reply import Message

TOKEN = re.compile(r" ?[A-Za-z]{1,8}| ?[0-9]{1,3}|\s+|[^\sA-Za-z0-9]")
PER_MESSAGE = 3
PER_NAME = 1
REPLY_PRIMING = 3
# An image costs what OpenAI's vision guide charges at least, a low-detail image's tokens (the
# server fetches no image, so its size, which a high-detail image's tiles follow, is not known).
IMAGE_TOKENS = 85
IMAGE_PARTS = frozenset({"image_url", "input_image"})


def split_tokens(text: str) -> list[str]:
    """``text`` cut into tokens; joining them gives ``text`` back."""
    return TOKEN.findall(text)


def count_tokens(text: str) -> int:
    """The tokens of ``text`` (estimated past ``EXACT_CHARS`` characters: see the module
    docstring)."""
    if not text:
        return 0
    size = len(text)
    if size <= CACHED_TEXT:
        return _cached_count(text)
    counted = _long_counts.get(text)
    if counted is None:
        exact = size <= EXACT_CHARS
        counted = _count(text) if exact else round(_count(text[:EXACT_CHARS]) * size / EXACT_CHARS)
        _long_counts.put(text, counted, sys.getsizeof(text))
    return counted


# Texts come back request after request (system prompts, tool definitions, scripted replies):
# their counts are kept, for texts short enough that keeping them costs little.
CACHED_TEXT = 4096
EXACT_CHARS = 1 << 20
# So do long ones: the items of a conversation, the input of a stored response a turn goes on
# from, a document pasted into every turn. Their counts are kept too, bounded by the memory of
# the texts kept for them: twice what one tenant may store, so that the texts of one whole
# conversation are counted once, not each turn.
LONG_TEXTS_BYTES = 32 << 20
_long_counts: BoundedCache[str, int] = BoundedCache(
    "long_token_counts", 4096, max_bytes=LONG_TEXTS_BYTES, registry=SHARED
)


def _count(text: str) -> int:
    """The tokens of ``text``, counted without making them: the pattern matches every
    character, so the number of its substitutions is the number of tokens."""
    return TOKEN.subn("", text)[1]


_cached_count = BoundedCache("token_counts", 4096, registry=SHARED).memoize(_count)


def prompt_tokens(body: dict[str, Any]) -> int:
    """Estimated prompt tokens of a chat-completions request body."""
    messages = body.get("messages") or ()
    total = REPLY_PRIMING + PER_MESSAGE * len(messages)
    for message in messages:
        if type(message) is not dict:
            total -= PER_MESSAGE
            continue
        content = message.get("content")
        if content:
            if type(content) is str:
                total += count_tokens(content)
            else:
                total += count_tokens(content_text(content)) + IMAGE_TOKENS * _images(content)
        if message.get("name"):
            total += PER_NAME
        calls = message.get("tool_calls")
        if calls:
            for call in calls:
                function = (call.get("function") or {}) if type(call) is dict else {}
                total += count_tokens(f"{function.get('name', '')}{function.get('arguments', '')}")
    tools = body.get("tools")
    if tools:
        total += _json_tokens(dumps(tools))
    return total


def _images(parts: Any) -> int:
    """How many image parts a message's content holds (chat's and the Responses API's)."""
    if type(parts) is not list:
        return 0
    return sum(type(part) is dict and str(part.get("type")) in IMAGE_PARTS for part in parts)


def _json_tokens(data: bytes) -> int:
    """The tokens of JSON text, UTF-8 encoded: counted as its text, kept by its bytes."""
    if len(data) <= CACHED_TEXT:
        return _cached_json_count(data)
    return count_tokens(data.decode())


@BoundedCache("json_token_counts", 1024, registry=SHARED).memoize
def _cached_json_count(data: bytes) -> int:
    return _count(data.decode())


def answer_tokens(message: Message) -> int:
    """The tokens of a reply message's answer: content, refusal and tool calls (its reasoning
    is counted apart)."""
    return (
        count_tokens(message.content or "")
        + count_tokens(message.refusal or "")
        + sum(count_tokens(call.name + call.arguments) for call in message.tool_calls)
    )


def cut_to(message: Message, limit: int | None, reasoning_counts: bool = False) -> Message:
    """``message`` cut to ``limit`` output tokens (finish_reason ``length``), as a model stops
    at its output limit: its reasoning first, when the limit holds it (``reasoning_counts``:
    OpenAI's ``max_completion_tokens`` and ``max_output_tokens`` do), then its text, its
    refusal and its tool calls (one cut short keeps the arguments written so far; those after
    it are not made). A scripted ``finish_reason`` says how the reply ended already: it is
    kept whole."""
    if limit is None or message.finish_reason:
        return message
    left = limit
    if reasoning_counts:
        reasoning, left, cut = _within(message.reasoning_content, left)
        if cut:  # the answer never began
            return replace(
                message,
                reasoning_content=reasoning,
                content="",
                refusal=None,
                tool_calls=[],
                finish_reason="length",
            )
    content, left, cut = _within(message.content, left)
    if cut:
        return replace(
            message, content=content, refusal=None, tool_calls=[], finish_reason="length"
        )
    refusal, left, cut = _within(message.refusal, left)
    if cut:
        return replace(message, refusal=refusal, tool_calls=[], finish_reason="length")
    calls = []
    for call in message.tool_calls:
        left -= count_tokens(call.name)
        arguments, left, cut = _within(call.arguments, left)
        if cut or left < 0:
            if arguments and left >= 0:  # the call began: its arguments so far
                calls.append(replace(call, arguments=arguments))
            return replace(message, tool_calls=calls, finish_reason="length")
        calls.append(call)
    return message


def _within(text: str | None, left: int) -> tuple[str | None, int, bool]:
    """As much of ``text`` as ``left`` tokens hold, the tokens left after it, and whether it
    was cut."""
    if not text:
        return text, left, False
    count = count_tokens(text)
    if count <= left:
        return text, left - count, False
    return _first_tokens(text, left), 0, True


def _first_tokens(text: str, wanted: int) -> str:
    """The first ``wanted`` tokens of ``text`` (found one by one: no more of a long text is
    read than they take)."""
    end = 0
    for found in itertools.islice(TOKEN.finditer(text), max(wanted, 0)):
        end = found.end()
    return text[:end]
