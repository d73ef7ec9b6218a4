"""OpenAI's server-sent-events wire format, with real timing and stream faults.

A stream is ``data: <json>\\n\\n`` events: the first delta carries ``role``; reasoning, content
and refusal follow as string deltas; each tool call opens with ``index``, ``id``, ``type`` and
``function.name`` (arguments ``""``) and continues with ``arguments`` fragments; choices of
``n > 1`` interleave, each with its own ``index``; a last chunk per choice carries
``finish_reason``; with ``stream_options.include_usage`` every chunk has ``"usage": null`` and a
final chunk with ``choices: []`` carries the usage; ``data: [DONE]`` ends it.

Rendering (``render_events``) is pure; ``wire.sse.send_stream`` sends the events, with
``CHAT_STREAM`` for how this wire ends and breaks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..jsonio import JsonStyle, dumps
from ..reply import Message, ToolCall
from .completions import Completion
from .delivery import StreamShape
from .sse import Event, StreamWire, padding

DONE = b"data: [DONE]\n\n"
GENERIC_ERROR_EVENT = {
    "error": {
        "message": "The server had an error while processing your request. Sorry about that!",
        "type": "server_error",
        "param": None,
        "code": None,
    }
}


# A delta is either a mapping (rendered as JSON) or (field, text, tool call index) for the string
# deltas that make up nearly all of a stream, rendered from byte templates around the text.


def _choice_deltas(choice: Message, shape: StreamShape, extras: dict[str, bool]) -> Iterator[Any]:
    """The deltas of one choice, in OpenAI's order: the role first (with the first tool call
    when the answer is only tool calls, as OpenAI sends it), then reasoning, content, refusal
    and each tool call's argument fragments."""
    reasoning = choice.reasoning_content is not None and extras.get("reasoning_content")
    # A refusal opens with ``"content":null,"refusal":""`` (openai-python's recorded streams,
    # ``.inline-snapshot/external/569c877e….bin``).
    calls_first = bool(choice.tool_calls) and not choice.content and not choice.refusal
    first: dict[str, Any] = {
        "role": "assistant",
        "content": None if calls_first or choice.refuses else "",
    }
    if reasoning and extras.get("reasoning_null_in_answer"):  # DeepSeek's reasoning streams
        first = {"role": "assistant", "content": None, "reasoning_content": ""}
    if calls_first:
        first["tool_calls"] = [_call_opening(0, choice.tool_calls[0])]
    if extras.get("message_extras"):
        first["refusal"] = "" if choice.refuses else None
    yield first
    if reasoning:
        for piece in shape.pieces(choice.reasoning_content):
            yield ("reasoning_content", piece, 0)
    if choice.content:
        field = (
            "answer_after_reasoning"
            if reasoning and extras.get("reasoning_null_in_answer")
            else "content"
        )
        for piece in shape.pieces(choice.content):
            yield (field, piece, 0)
    if choice.refusal:
        for piece in shape.pieces(choice.refusal):
            yield ("refusal", piece, 0)
    for index, call in enumerate(choice.tool_calls):
        if index or not calls_first:
            yield {"tool_calls": [_call_opening(index, call)]}
        for piece in shape.pieces(call.arguments):
            yield ("arguments", piece, index)


def _call_opening(index: int, call: ToolCall) -> dict[str, Any]:
    """The delta that opens a tool call: its index, id, type and name, no arguments yet."""
    return {
        "index": index,
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": ""},
    }


_STRING_DELTA_OPENINGS = {
    "content": b'"delta":{"content":',
    "reasoning_content": b'"delta":{"content":null,"reasoning_content":',
    "refusal": b'"delta":{"refusal":',
}
_CLOSE_STRING_DELTA = b'},"logprobs":null,"finish_reason":null}'


# The string deltas that carry log probabilities when asked for: the field their text is in,
# and what else their delta holds (DeepSeek's answer nulls its reasoning).
_WITH_LOGPROBS: dict[str, tuple[str, dict[str, Any]]] = {
    "content": ("content", {}),
    "refusal": ("refusal", {}),
    "answer_after_reasoning": ("content", {"reasoning_content": None}),
}


def _render_delta(choice: int, delta: Any, completion: Completion) -> tuple[bytes, str]:
    """One choice entry as JSON, and the text it carries (for pacing). With logprobs asked
    for, the role's delta has an empty list of them for what the reply says (content or
    refusal), and each piece its own (openai-python's recorded streams, ``83b060ba….bin`` and
    ``569c877e….bin``)."""
    asked = completion.top_logprobs is not None
    if asked and isinstance(delta, tuple) and delta[0] in _WITH_LOGPROBS:
        piece = delta[1]
        field, beside = _WITH_LOGPROBS[delta[0]]
        body = {
            "index": choice,
            "delta": {field: piece, **beside},
            "logprobs": completion.logprobs(piece, field),
            "finish_reason": None,
        }
        return dumps(body), piece
    if isinstance(delta, dict):
        logprobs = None
        if asked and "role" in delta and not delta.get("tool_calls"):
            logprobs = completion.logprobs(
                "", "refusal" if delta.get("refusal") == "" else "content"
            )
        body = {"index": choice, "delta": delta, "logprobs": logprobs, "finish_reason": None}
        calls = delta.get("tool_calls")
        return dumps(body), calls[0]["function"]["name"] if calls else ""
    field, piece, call_index = delta
    opening = b'{"index":%d,' % choice
    if field == "arguments":
        return (
            opening
            + b'"delta":{"tool_calls":[{"index":%d,"function":{"arguments":' % call_index
            + dumps(piece)
            + b"}}]"
            + _CLOSE_STRING_DELTA,
            piece,
        )
    if field == "answer_after_reasoning":  # DeepSeek: the answer phase nulls the reasoning
        return (
            opening + b'"delta":{"content":' + dumps(piece) + b',"reasoning_content":null'
            + _CLOSE_STRING_DELTA,
            piece,
        )  # fmt: skip
    return opening + _STRING_DELTA_OPENINGS[field] + dumps(piece) + _CLOSE_STRING_DELTA, piece


def render_events(
    completion: Completion, shape: StreamShape, include_usage: bool, obfuscate: bool = True
) -> list[Event]:
    """Every event of the stream, ``[DONE]`` excluded, as bytes ready for the wire, in the
    profile's dialect: OpenAI's (with ``obfuscation`` padding where the profile sends it),
    DeepSeek's (usage on the chunk that finishes), or whole chunks (Google's)."""
    extras = completion.profile.response
    if extras.get("whole_chunks"):
        return _whole_chunk_events(completion, shape, include_usage)
    head = completion.header("chat.completion.chunk")
    opening = b"data: " + dumps(head)[:-1] + b',"choices":['
    usage_null = b',"usage":null' if include_usage else b""
    padded = bool(extras.get("obfuscation")) and obfuscate

    def closing(data: bytes, usage: bytes = usage_null) -> bytes:
        if not padded:
            return b"]" + usage + b"}\n\n"
        return b"]" + usage + b',"obfuscation":"' + padding(len(data)) + b'"}\n\n'

    streams = [list(_choice_deltas(choice, shape, extras)) for choice in completion.choices]
    events = []
    # Interleave the choices of n > 1, one delta of each in turn, as OpenAI does.
    for step in range(max(len(s) for s in streams)):
        for index, deltas in enumerate(streams):
            if step < len(deltas):
                data, piece = _render_delta(index, deltas[step], completion)
                events.append((opening + data + closing(data), piece))
    usage_on_finish = include_usage and extras.get("usage_on_finish_chunk")
    last = len(completion.choices) - 1
    for index, choice in enumerate(completion.choices):
        ending = {
            "index": index,
            "delta": {},
            "logprobs": None,
            "finish_reason": choice.derived_finish_reason(),
        }
        data = dumps(ending)
        tail = closing(data)
        if usage_on_finish and index == last:  # DeepSeek: the usage rides on the last chunk
            tail = closing(data, b',"usage":' + dumps(completion.usage()))
        events.append((opening + data + tail, ""))
    if include_usage and not usage_on_finish:
        usage_chunk = {**head, "choices": [], "usage": completion.usage()}
        data = dumps(usage_chunk)
        if padded:
            data = data[:-1] + b',"obfuscation":"' + padding(len(data)) + b'"}'
        events.append((b"data: " + data + b"\n\n", ""))
    return events


WHOLE_CHUNK_SHAPE = StreamShape("word", 30)


def _whole_chunk_events(
    completion: Completion, shape: StreamShape, include_usage: bool
) -> list[Event]:
    """Google's streams: each chunk a whole JSON object with its keys sorted, no logprobs; the
    role rides on the first chunk of a choice, ``finish_reason`` on its last, tool calls come
    whole, and the usage (when asked for) on the stream's last chunk."""
    head = completion.header("chat.completion.chunk")
    if shape == StreamShape():  # unless a scenario says otherwise, Google sends big pieces
        shape = WHOLE_CHUNK_SHAPE
    chunks: list[tuple[dict[str, Any], str]] = []
    for index, choice in enumerate(completion.choices):
        if choice.tool_calls:
            calls = [
                {
                    **_call_opening(i, call),
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for i, call in enumerate(choice.tool_calls)
            ]
            deltas = [({"role": "assistant", "tool_calls": calls}, "")]
        else:
            pieces = shape.pieces(choice.content or "")
            deltas = [({"content": piece}, piece) for piece in pieces]
            deltas[0][0]["role"] = "assistant"
        for position, (delta, piece) in enumerate(deltas):
            finished = position == len(deltas) - 1
            entry = {
                "delta": delta,
                "finish_reason": choice.derived_finish_reason() if finished else None,
                "index": index,
            }
            chunks.append(({**head, "choices": [entry]}, piece))
    if include_usage:
        chunks[-1][0]["usage"] = completion.usage()
    # Chunks are one line each: the profile's key order, never its indentation.
    style = JsonStyle(sort_keys=completion.profile.body_format.sort_keys)
    return [(b"data: " + style.encode(chunk) + b"\n\n", piece) for chunk, piece in chunks]


def error_event(error_body: dict[str, Any] | None, sent: int = 0) -> bytes:
    """A mid-stream error as OpenAI sends it: a ``data:`` event holding ``{"error": ...}`` (a
    chat chunk carries no number: ``sent`` is not written)."""
    return b"data: " + dumps(error_body or GENERIC_ERROR_EVENT) + b"\n\n"


CHAT_STREAM = StreamWire(
    end=DONE,
    broken=b'data: {"id":"chatcmpl-broken","choices":[{"delta":\n\n' + DONE,
    error=error_event,
)
