"""What an upstream answered, read into the ``reply:`` of a scenario.

A JSON completion or Responses API ``response``, an SSE stream of either (fed chunk by chunk as it
is relayed, each event timed) or an error body become the mapping a scenario file holds: content,
reasoning, refusal, tool calls with their ids and arguments, ``finish_reason``, ``n`` > 1 choices,
usage; for a stream its chunking and pace; for an error its status, body and retry headers.
Volatile fields (``id``, ``created``) are left out; every text passes through the ``Scrubber``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..jsonio import compact_json
from ..redaction import Scrubber
from ..tokens import count_tokens
from ..wire.responses import INCOMPLETE_REASONS

# Why a response is incomplete, as the chat ``finish_reason`` a scenario writes.
FINISH_REASONS = {reason: finish for finish, reason in INCOMPLETE_REASONS.items()}

USAGE_FIELDS = (
    "prompt_tokens", "completion_tokens", "total_tokens", "reasoning_tokens", "cached_tokens"
)  # fmt: skip
MAX_COUNT = 10**15  # a token count beyond this is not one (and would not read back as YAML)
_TEMPLATE_MARKS = ("{{", "{%", "{#")


@dataclass
class Facts:
    """What a recording's comment says about the upstream's answer."""

    model: str | None = None
    system_fingerprint: str | None = None


@dataclass
class _ChoiceParts:
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    finish_reason: str | None = None
    saw_content: bool = False


class StreamCapture:
    """An SSE stream read as it passes: ``feed`` each chunk of bytes, in order."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.choices: dict[int, _ChoiceParts] = {}
        self.usage: dict[str, Any] | None = None
        self.facts = Facts()
        self.first_event: float | None = None  # when the first chunk arrived
        self.delta_times: list[float] = []  # when each event carrying text arrived
        self.events = 0
        self.done = False
        self.broken = False  # an event that is not JSON, or an error event: not recordable
        self.response: dict[str, Any] | None = None  # a Responses stream's final response
        self.pieces: list[str] = []  # a Responses stream's text deltas
        self.delta_text: list[str] = []  # and every delta's text, for its pace
        self._pending = b""

    def feed(self, data: bytes) -> None:
        now = time.monotonic()
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            line = line.rstrip(b"\r")
            if not line.startswith(b"data:"):
                continue  # blank separators, comments (keep-alives), event:/id: fields
            payload = line[5:].strip()
            if payload == b"[DONE]":
                self.done = True
                continue
            try:
                self._event(json.loads(payload), now)
            except (ValueError, TypeError, AttributeError):  # not JSON, or not a chunk's shape
                self.broken = True

    def _event(self, event: Any, now: float) -> None:
        if not isinstance(event, dict) or "error" in event:
            self.broken = True
            return
        self.events += 1
        if self.first_event is None:
            self.first_event = now
        if isinstance(event.get("type"), str):
            self._responses_event(event, now)
            return
        self.facts.model = event.get("model") or self.facts.model
        self.facts.system_fingerprint = (
            event.get("system_fingerprint") or self.facts.system_fingerprint
        )
        if event.get("usage"):
            self.usage = event["usage"]
        carried = False
        for choice in event.get("choices") or ():
            parts = self.choices.setdefault(_index(choice), _ChoiceParts())
            delta = choice.get("delta") or {}
            for key, pieces in (
                ("content", parts.content),
                ("reasoning_content", parts.reasoning),
                ("refusal", parts.refusal),
            ):
                if isinstance(delta.get(key), str) and delta[key]:
                    pieces.append(delta[key])
                    carried = True
            if "content" in delta and delta["content"] is not None:
                parts.saw_content = True
            for call in delta.get("tool_calls") or ():
                slot = parts.calls.setdefault(_index(call), {"arguments": ""})
                function = call.get("function") or {}
                if call.get("id"):
                    slot["id"] = call["id"]
                if function.get("name"):
                    slot["name"] = function["name"]
                slot["arguments"] += function.get("arguments") or ""
                carried = True
            parts.finish_reason = choice.get("finish_reason") or parts.finish_reason
        if carried:
            self.delta_times.append(now)

    def _responses_event(self, event: dict[str, Any], now: float) -> None:
        """One event of a Responses API stream: its text deltas timed, its last event (the
        whole response) kept."""
        kind = event["type"]
        if kind == "response.output_text.delta" and isinstance(event.get("delta"), str):
            self.pieces.append(event["delta"])
        if kind.endswith(".delta") and isinstance(event.get("delta"), str):
            self.delta_times.append(now)
            self.delta_text.append(event["delta"])
        elif kind in ("response.completed", "response.incomplete"):
            self.response = event.get("response")
            if isinstance(self.response, dict):
                self.facts.model = self.response.get("model")
            self.done = True
        elif kind in ("response.failed", "error"):
            self.broken = True

    def problem(self) -> str | None:
        """Why the stream, ended, cannot be recorded; None when it can: it ended with
        ``[DONE]`` (or a Responses stream's last event), or, a chat stream, after a
        ``finish_reason`` for each of its choices."""
        if self.broken:
            return "an event in it is an error, or not JSON"
        if self.done:
            return None
        if self.response is None and self.choices:
            if all(parts.finish_reason for parts in self.choices.values()):
                return None
            return "it ended without data: [DONE], before a finish_reason"
        return "it ended before its last event"

    def completion(self) -> dict[str, Any]:
        """The stream read so far, put together as the completion (or response) it stands
        for."""
        if self.response is not None:
            return self.response
        choices = []
        for index in sorted(self.choices):
            parts = self.choices[index]
            message: dict[str, Any] = {
                "role": "assistant",
                "content": "".join(parts.content) if parts.content or parts.saw_content else None,
            }
            if parts.reasoning:
                message["reasoning_content"] = "".join(parts.reasoning)
            if parts.refusal:
                message["refusal"] = "".join(parts.refusal)
            if parts.calls:
                message["tool_calls"] = [
                    {
                        "id": call.get("id"),
                        "type": "function",
                        "function": {"name": call.get("name"), "arguments": call["arguments"]},
                    }
                    for _, call in sorted(parts.calls.items())
                ]
            choices.append(
                {"index": index, "message": message, "finish_reason": parts.finish_reason}
            )
        return {
            "model": self.facts.model,
            "system_fingerprint": self.facts.system_fingerprint,
            "choices": choices,
            "usage": self.usage,
        }

    def reply(self, scrubber: Scrubber, timing: bool) -> dict[str, Any]:
        """The ``reply:`` mapping of the stream read so far: the answer, its chunking and, with
        ``timing``, its pace."""
        reply, _ = completion_reply(self.completion(), scrubber)
        first = self.choices.get(0)
        pieces = self.pieces or (first.content if first is not None else [])
        if pieces:
            reply["stream"] = stream_shape(pieces)
        if timing and self.first_event is not None and self.delta_times:
            reply["latency"] = self._latency()
        return reply

    def _latency(self) -> dict[str, float]:
        # As a scenario's latency means it: the first chunk (the role's, often) after ttft_ms,
        # then the text at tokens_per_second.
        latency = {"ttft_ms": round((self.first_event - self.started) * 1000, 1)}
        span = self.delta_times[-1] - self.delta_times[0]
        tokens = sum(
            count_tokens(piece)
            for parts in self.choices.values()
            for piece in (*parts.content[1:], *parts.reasoning[1:])
        ) + sum(count_tokens(piece) for piece in self.delta_text[1:])
        if span > 0.001 and tokens:
            latency["tokens_per_second"] = round(tokens / span, 1)
        return latency


def _index(item: dict[str, Any]) -> int:
    index = item.get("index", 0)
    if not isinstance(index, int):
        raise TypeError(f"index {index!r}")
    return index


def stream_shape(pieces: list[str]) -> dict[str, Any]:
    """The ``stream:`` options that cut content into pieces the size the upstream sent."""
    if all(len(piece) == 1 for piece in pieces):
        return {"chunk": "char", "size": 1}
    tokens = sum(count_tokens(piece) for piece in pieces)
    return {"chunk": "token", "size": max(1, round(tokens / len(pieces)))}


def completion_reply(body: Any, scrubber: Scrubber) -> tuple[dict[str, Any], Facts] | None:
    """The ``reply:`` of a JSON completion; None when it is not one."""
    try:
        return _completion_reply(body, scrubber)
    except (TypeError, AttributeError):  # a body of some other shape
        return None


def _completion_reply(body: Any, scrubber: Scrubber) -> tuple[dict[str, Any], Facts] | None:
    if isinstance(body, dict) and body.get("object") == "response":
        return _response_reply(body, scrubber)
    if not isinstance(body, dict) or not isinstance(body.get("choices"), list):
        return None
    answers = []
    for choice in sorted(body["choices"], key=lambda c: c.get("index", 0)):
        message = choice.get("message") or {}
        calls = [
            {
                "id": call.get("id"),
                "name": (call.get("function") or {}).get("name"),
                "arguments": (call.get("function") or {}).get("arguments") or "",
            }
            for call in message.get("tool_calls") or ()
        ]
        answers.append(
            answer_fields(
                message.get("content"),
                message.get("reasoning_content") or None,
                message.get("refusal") or None,
                calls,
                choice.get("finish_reason"),
                scrubber,
            )
        )
    facts = Facts(body.get("model"), body.get("system_fingerprint"))
    usage = body.get("usage")
    if isinstance(usage, dict):
        usage = {
            **usage,
            "reasoning_tokens": _detail(usage, "completion_tokens_details", "reasoning_tokens"),
            "cached_tokens": _detail(usage, "prompt_tokens_details", "cached_tokens"),
        }
    return _reply(answers, usage), facts


def _detail(usage: dict[str, Any], details: str, name: str) -> Any:
    """One count of a usage's details object (``completion_tokens_details.reasoning_tokens``);
    None when it is not there, or 0 (what the server counts by itself, not worth a line)."""
    found = usage.get(details)
    return (found.get(name) or None) if isinstance(found, dict) else None


def _response_reply(body: dict[str, Any], scrubber: Scrubber) -> tuple[dict[str, Any], Facts]:
    """The ``reply:`` of a Responses API ``response``: its output items as one answer (texts
    joined, a ``function_call`` as a tool call whose id is its ``call_id``), ``incomplete`` as
    the ``finish_reason`` its reason gives (``length`` when it gives none), its usage as chat
    counts it."""
    content: list[str] = []
    reasoning: list[str] = []
    refusal: list[str] = []
    calls = []
    for item in body.get("output") or ():
        kind = item.get("type")
        if kind == "message":
            for part in item.get("content") or ():
                if part.get("type") == "output_text":
                    content.append(part.get("text") or "")
                elif part.get("type") == "refusal":
                    refusal.append(part.get("refusal") or "")
        elif kind == "reasoning":
            reasoning.extend(s.get("text") or "" for s in item.get("summary") or ())
        elif kind == "function_call":
            calls.append(
                {
                    "id": item.get("call_id"),
                    "name": item.get("name"),
                    "arguments": item.get("arguments"),
                }
            )
    finish = None
    if body.get("status") == "incomplete":
        reason = (body.get("incomplete_details") or {}).get("reason")
        finish = FINISH_REASONS.get(reason, "length")
    answer = answer_fields(
        "".join(content) if content else None,
        "".join(reasoning) if reasoning else None,
        "".join(refusal) if refusal else None,
        calls,
        finish,
        scrubber,
    )
    usage = body.get("usage") or {}
    counts = {
        "prompt_tokens": usage.get("input_tokens"),
        "completion_tokens": usage.get("output_tokens"),
        "total_tokens": usage.get("total_tokens"),
        "reasoning_tokens": _detail(usage, "output_tokens_details", "reasoning_tokens"),
        "cached_tokens": _detail(usage, "input_tokens_details", "cached_tokens"),
    }
    return _reply([answer], counts), Facts(body.get("model"))


def answer_fields(
    content: str | None,
    reasoning: str | None,
    refusal: str | None,
    calls: list[dict[str, Any]],
    finish_reason: str | None,
    scrubber: Scrubber,
) -> dict[str, Any]:
    """One choice as scenario fields, texts scrubbed."""
    answer: dict[str, Any] = {}
    if reasoning is not None:
        answer["reasoning_content"] = scrubber.text(reasoning)
    if content is not None or not (calls or refusal):
        answer["content"] = None if content is None else scrubber.text(content)
    if refusal is not None:
        answer["refusal"] = scrubber.text(refusal)
    if calls:
        answer["tool_calls"] = [_tool_call(call, scrubber) for call in calls]
    if finish_reason in ("stop", "length", "tool_calls", "content_filter"):
        answer["finish_reason"] = finish_reason
    return answer


def _tool_call(call: dict[str, Any], scrubber: Scrubber) -> dict[str, Any]:
    out: dict[str, Any] = {"name": call.get("name") or "unnamed"}
    out["arguments"] = recorded_arguments(call.get("arguments") or "", scrubber)
    if call.get("id"):
        out["id"] = call["id"]
    return out


def recorded_arguments(arguments: str, scrubber: Scrubber) -> dict[str, Any] | str:
    """Tool-call arguments as a recording keeps them, scrubbed: a mapping, which reads best and
    is sent back as compact JSON, when compact JSON is what came, or when scrubbing the JSON
    found something to hide (its spacing is then lost, not the secret kept); else the text as
    sent."""
    try:
        parsed = json.loads(arguments)
    except (ValueError, RecursionError):
        parsed = None
    if isinstance(parsed, dict):
        scrubbed = scrubber.value(parsed)
        if scrubbed != parsed or compact_json(parsed) == arguments:
            return scrubbed
    return scrubber.text(arguments)


def _reply(answers: list[dict[str, Any]], usage: Any) -> dict[str, Any]:
    reply: dict[str, Any] = dict(answers[0]) if len(answers) == 1 else {"choices": answers}
    if not answers:
        reply["content"] = ""
    if _has_template_marks(answers):
        reply["verbatim"] = True  # recorded text is sent as it came, braces and all
    if isinstance(usage, dict):
        figures = {
            k: usage[k]
            for k in USAGE_FIELDS
            if type(usage.get(k)) is int and 0 <= usage[k] < MAX_COUNT
        }
        if figures:
            reply["usage"] = figures
    return reply


def _has_template_marks(value: Any) -> bool:
    if isinstance(value, str):
        return any(mark in value for mark in _TEMPLATE_MARKS)
    if isinstance(value, list):
        return any(_has_template_marks(v) for v in value)
    if isinstance(value, dict):
        return any(_has_template_marks(v) for v in value.values())
    return False


RECORDED_HEADERS = ("retry-after", "retry-after-ms")


def error_reply(
    status: int, body: Any, headers: Mapping[str, str], scrubber: Scrubber
) -> dict[str, Any]:
    """A scripted error: the status, the error fields of ``body`` (decoded JSON, or text) and
    the retry and rate-limit headers."""
    reply: dict[str, Any] = {"status": status}
    if isinstance(body, list) and body:  # Google's envelope: a list of one error
        body = body[0]
    found = body.get("error") if isinstance(body, dict) else None
    error: dict[str, Any] = {}
    if isinstance(found, dict):
        if isinstance(found.get("message"), str):
            error["message"] = scrubber.text(found["message"])
        if isinstance(found.get("status"), str):  # a gRPC status name stands for the type
            error["type"] = found["status"]
        elif isinstance(found.get("type"), str):
            error["type"] = found["type"]
        for name in ("param", "code"):
            if name in found and (found[name] is None or isinstance(found[name], str)):
                error[name] = found[name]
    elif isinstance(body, str) and body.strip():
        error["message"] = scrubber.text(body.strip()[:1000])
    if error:
        reply["error"] = error
    kept = {
        name.lower(): value
        for name, value in headers.items()
        if name.lower() in RECORDED_HEADERS or name.lower().startswith("x-ratelimit-")
    }
    if kept:
        reply["headers"] = dict(sorted(kept.items()))
    return reply
