"""The Responses API's wire: the ``response`` object, its output items and its event stream.

Key orders are those of OpenAI's answers as captured in openai-python's own tests
(``tests/lib/responses``: ``id``, ``object``, ``created_at``, ``status``, ``background``,
``error`` ... ``user``, ``metadata``, with ``completed_at``, ``frequency_penalty``,
``moderation``, ``presence_penalty`` and ``prompt_cache_retention`` where the live API's answers
of 2026 have them; a message item ``id``, ``type``, ``status``, ``content``, ``role``; an
``output_text`` part ``type``, ``annotations``, ``logprobs``, ``text``; a function call ``id``,
``type``, ``status``, ``arguments``, ``call_id``, ``name``). The stream is OpenAI's:
``event: <type>`` and ``data: {...}`` lines, each event with its ``sequence_number`` from 0, in
the order openai-python's ``lib/streaming/responses`` accumulates them — ``response.created``,
``response.in_progress``, then per output item ``output_item.added``, its part or summary
``added``, the deltas, ``done``s, ``output_item.done`` — and ``response.completed`` (or
``response.incomplete``) last, with no ``[DONE]``. Deltas carry ``obfuscation`` padding unless
``stream_options.include_obfuscation`` is false, as OpenAI's do.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from ..jsonio import dumps
from ..reply import Message
from ..tokens import answer_tokens, count_tokens
from .completions import served_tier
from .delivery import StreamShape
from .ids import Ids
from .sse import Event, StreamWire, padding

REASONING_SUMMARY = "summary_text"
DEFAULT_VERBOSITY = "medium"
# A reasoning model's effort when the request names none, as a response echoes it (OpenAI's
# reasoning guide; an o3 response recorded by vercel/ai: "effort": "medium").
DEFAULT_EFFORT = "medium"
# A reply cut short, as a response says why (``incomplete_details.reason``, whose values the
# API reference's ``Response`` schema lists): by its token limit or by a content filter.
INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}


def output_items(
    message: Message, ids: Ids, created: int, reasons: bool = False, summarised: bool = False
) -> list[dict[str, Any]]:
    """``message`` as the Responses API's output items, made at ``created``: a ``reasoning``
    item when the model ``reasons`` or the reply scripts reasoning (with its
    ``encrypted_content``, which the API of 2026 fills by default: openai-python's
    ``ResponseReasoningItem``; its summary the scripted
    reasoning when the request asks for one, ``summarised``, else empty, as the API leaves it), a
    ``message`` for its text and refusal, a ``function_call`` per tool call (the scripted id as
    its ``call_id``)."""
    items: list[dict[str, Any]] = []
    if reasons or message.reasoning_content is not None:
        text = message.reasoning_content
        summary = [{"type": REASONING_SUMMARY, "text": text}] if summarised and text else []
        item_id = ids.item("rs")
        sealed = sealed_reasoning(item_id, created)
        items.append(
            {"id": item_id, "type": "reasoning", "encrypted_content": sealed, "summary": summary}
        )
    # A reply cut short before its text began (its reasoning took the limit) has no message.
    begun = message.content or message.tool_calls or message.finish_reason != "length"
    parts: list[dict[str, Any]] = []
    texts = begun and (message.content is not None or not message.tool_calls)
    if message.content or (texts and message.refusal is None):
        parts.append(
            {
                "type": "output_text",
                "annotations": [],
                "logprobs": [],
                "text": message.content or "",
            }
        )
    if message.refusal is not None:  # after the text a reply scripts beside it
        parts.append({"type": "refusal", "refusal": message.refusal})
    if parts:
        items.append(
            {
                "id": ids.item("msg"),
                "type": "message",
                "status": "completed",
                "content": parts,
                "role": "assistant",
            }
        )
    for call in message.tool_calls:
        items.append(
            {
                "id": ids.item("fc"),
                "type": "function_call",
                "status": "completed",
                "arguments": call.arguments,
                "call_id": call.id or ids.tool_call(),
                "name": call.name,
            }
        )
    # The item a reply was cut short in is itself incomplete, as the response is.
    if message.finish_reason in INCOMPLETE_REASONS and items and "status" in items[-1]:
        items[-1]["status"] = "incomplete"
    return items


class ResponseObject:
    """One response: its id, time, model and output, with the request's settings echoed;
    ``conversation``: the id of the conversation it is made in, if any."""

    def __init__(
        self,
        id: str,
        created_at: int,
        model: str,
        request: dict[str, Any],
        output: list[dict[str, Any]],
        input_tokens: int,
        message: Message,
        usage_override: dict[str, int],
        effort: str | None = None,
        conversation: str | None = None,
    ) -> None:
        self.id = id
        self.effort = effort
        self.conversation = conversation  # the id of the conversation it is made in
        self.created = created_at
        self.model = model
        self.request = request
        self.output = output
        self.incomplete_reason = INCOMPLETE_REASONS.get(message.finish_reason or "")
        reasoning = usage_override.get("reasoning_tokens")
        if reasoning is None:
            reasoning = count_tokens(message.reasoning_content or "")
        output_tokens = answer_tokens(message) + reasoning
        input_tokens = usage_override.get("prompt_tokens", input_tokens)
        output_tokens = usage_override.get("completion_tokens", output_tokens)
        # Details are parts of their totals: at most what the totals say.
        reasoning = min(reasoning, output_tokens)
        cached = min(usage_override.get("cached_tokens", 0), input_tokens)
        self._usage = {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": usage_override.get("total_tokens", input_tokens + output_tokens),
        }

    @property
    def status(self) -> str:
        return "incomplete" if self.incomplete_reason else "completed"

    def usage(self) -> dict[str, Any]:
        return self._usage

    def summary(self) -> dict[str, Any]:
        return self.body()

    def body(
        self, status: str | None = None, error: dict[str, Any] | None = None, whole: bool = False
    ) -> dict[str, Any]:
        """The response object; ``status``: as it stands before it is done (``unfinished``);
        ``whole``: as a JSON answer (not an event) gives it, with its ``billing``."""
        request = self.request
        reasoning = request.get("reasoning") or {}
        text = request.get("text") or {}
        status_done = self.status
        done = {
            "id": self.id,
            "object": "response",
            "created_at": self.created,
            "status": status_done,
            "background": bool(request.get("background")),
            # In every JSON answer captured from Oct 2025 (vercel/ai's fixtures), never in events.
            **({"billing": {"payer": "developer"}} if whole else {}),
            # Only a completed response has one (an incomplete one's is null: live captures of
            # 2026, and the reference's ``Response.completed_at``).
            "completed_at": self.created if status_done == "completed" else None,
            # A response made in a conversation names it (``Response.conversation``); others
            # are left as they were captured, without the field.
            **({"conversation": {"id": self.conversation}} if self.conversation else {}),
            "error": None,
            "frequency_penalty": 0,  # integers, as captures of 2026 write them
            "incomplete_details": {"reason": self.incomplete_reason}
            if self.incomplete_reason
            else None,
            "instructions": request.get("instructions"),
            "max_output_tokens": request.get("max_output_tokens"),
            "max_tool_calls": request.get("max_tool_calls"),
            "model": self.model,
            "moderation": None,
            "output": self.output,
            "parallel_tool_calls": _or(request.get("parallel_tool_calls"), True),
            "presence_penalty": 0,
            "previous_response_id": request.get("previous_response_id"),
            "prompt_cache_key": request.get("prompt_cache_key"),
            "prompt_cache_retention": request.get("prompt_cache_retention"),
            "reasoning": _reasoning(reasoning, self.effort),
            "safety_identifier": request.get("safety_identifier"),
            "service_tier": served_tier(request),
            "store": _or(request.get("store"), True),
            "temperature": _or(request.get("temperature"), 1),
            "text": {
                "format": _format(text.get("format")),
                "verbosity": text.get("verbosity") or DEFAULT_VERBOSITY,
            },
            "tool_choice": _or(request.get("tool_choice"), "auto"),
            "tools": [_tool(tool) for tool in request.get("tools") or ()],
            "top_logprobs": _or(request.get("top_logprobs"), 0),
            "top_p": _or(request.get("top_p"), 1),
            "truncation": _or(request.get("truncation"), "disabled"),
            "usage": self._usage,
            "user": request.get("user"),
            "metadata": request.get("metadata") or {},
        }
        if status is None:
            return done
        return unfinished(done, status, error, asked_tier(request))


def _reasoning(asked: dict[str, Any], effort: str | None) -> dict[str, Any]:
    """The ``reasoning`` a response echoes: a model that reasons (``effort`` set) has a
    ``context`` (``current_turn`` unless asked) and a ``mode`` (``standard``), one that does not
    has neither. Live captures of 2026: gpt-4o-mini ``{"context": null, "effort": null,
    "summary": null}``, gpt-5-nano asked nothing ``{"context": "current_turn", "effort":
    "medium", "mode": "standard", "summary": null}``."""
    if effort is None:
        return {"context": asked.get("context"), "effort": None, "summary": asked.get("summary")}
    return {
        "context": asked.get("context") or "current_turn",
        "effort": effort,
        "mode": asked.get("mode") or "standard",
        "summary": asked.get("summary"),
    }


def asked_tier(request: dict[str, Any]) -> str:
    """The service tier a request asks for, as a response reports it until it is done."""
    return request.get("service_tier") or "auto"


def unfinished(
    done: dict[str, Any], status: str, error: dict[str, Any] | None, tier: str
) -> dict[str, Any]:
    """A response object (``done``) as it stands before it is done: ``status`` ``in_progress``,
    or ``failed`` on ``error``; no output, usage or completion; the service ``tier`` the
    request asked for (``auto`` unless it names one) rather than the tier that served it."""
    return {
        **done,
        "status": status,
        "completed_at": None,
        "error": error,
        "incomplete_details": None,
        "output": [],
        "service_tier": tier,
        "usage": None,
    }


class Restreamed:
    """A stored response object streamed again (``GET .../responses/{id}?stream=true``): the
    events its creation streamed (``render_events``), from the object and the ``tier`` its
    request asked for."""

    def __init__(self, response: dict[str, Any], tier: str) -> None:
        self.response = response
        self.tier = tier
        self.output: list[dict[str, Any]] = response["output"]

    def body(
        self, status: str | None = None, error: dict[str, Any] | None = None, whole: bool = False
    ) -> dict[str, Any]:
        """The response object as stored (an event's without its ``billing``); ``status``: as
        it stood before it was done."""
        response = self.response
        if not whole:
            response = {key: value for key, value in response.items() if key != "billing"}
        if status is None:
            return response
        return unfinished(response, status, error, self.tier)


def sealed_reasoning(item_id: str, created: int) -> str:
    """An opaque stand-in for a reasoning item's ``encrypted_content``, shaped as OpenAI's
    Fernet token is (``gAAAAA...==``): a version byte, the time it was made (``created``, in 8
    bytes), a 16-byte IV, the ciphertext in 16-byte blocks and a 32-byte HMAC, in URL-safe
    base64. What a stateless client sends back, which the server takes as it is."""
    digest = hashlib.sha256(item_id.encode()).digest()
    token = b"\x80" + created.to_bytes(8, "big") + digest[:16] + digest * 2 + digest
    return base64.urlsafe_b64encode(token).decode()


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _format(given: dict[str, Any] | None) -> dict[str, Any]:
    """``text.format`` as OpenAI echoes it."""
    if not given or given.get("type") != "json_schema":
        return {"type": (given or {}).get("type", "text")}
    return {
        "type": "json_schema",
        "description": given.get("description"),
        "name": given.get("name"),
        "schema": given.get("schema"),
        "strict": bool(given.get("strict")),
    }


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A tool as OpenAI echoes it: a function tool with ``description`` and ``strict`` (true
    unless the request says otherwise), other tools as sent."""
    if tool.get("type") != "function":
        return tool
    return {
        "type": "function",
        "description": tool.get("description"),
        "name": tool.get("name"),
        "parameters": tool.get("parameters"),
        "strict": _or(tool.get("strict"), True),
    }


# --- the event stream --------------------------------------------------------------------------


def _error_fields(error_body: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The type, code, message and param of a mid-stream error (the profile's body for it)."""
    error = (error_body or {}).get("error") or {}
    fields = {
        "code": error.get("code") or "server_error",
        "message": error.get("message")
        or "The server had an error while processing your request. Sorry about that!",
        "param": error.get("param"),
    }
    return error.get("type") or "server_error", fields


def error_event(error_body: dict[str, Any] | None, sent: int) -> bytes:
    """A mid-stream error: OpenAI's ``error`` event, numbered after the ``sent`` before it. Its
    fields are both where the API reference puts them (``code``, ``message``, ``param``) and
    nested under ``error``, as the live API sends them (payloads captured in openai-dotnet#881,
    zendev-sh/goai#88) and as the openai SDK reads them to raise ``APIError``
    (``openai/_streaming.py``)."""
    kind, fields = _error_fields(error_body)
    data = _event("error", {**fields, "error": {"type": kind, **fields}}, sent)
    return b"event: error\ndata: " + dumps(data) + b"\n\n"


def _event(kind: str, fields: dict[str, Any], number: int) -> dict[str, Any]:
    """An event as the live API has written them since February 2026 (vercel/ai's recorded
    streams of 2026): ``type``, its fields in alphabetical order, ``sequence_number`` last."""
    return {
        "type": kind,
        **{name: fields[name] for name in sorted(fields)},
        "sequence_number": number,
    }


# The codes a response fails on (``ResponseError.code``: openai/openai-openapi's
# ``ResponseErrorCode``, openai-python's ``types/responses/response_error.py``).
FAILURE_CODES = frozenset((
    "server_error", "rate_limit_exceeded", "invalid_prompt", "data_residency_mismatch",
    "bio_policy", "vector_store_timeout", "invalid_image", "invalid_image_format",
    "invalid_base64_image", "invalid_image_url", "image_too_large", "image_too_small",
    "image_parse_error", "image_content_policy_violation", "invalid_image_mode",
    "image_file_too_large", "unsupported_image_media_type", "empty_image_file",
    "failed_to_download_image", "image_file_not_found",
))  # fmt: skip


def stream_wire(response: ResponseObject | Restreamed) -> StreamWire:
    """How ``response``'s stream ends (its last event: no ``[DONE]``) and breaks: after an
    ``error`` event comes ``response.failed``, the response failed on that error's code and
    message, as the live API sends them (vercel/ai's recorded stream
    ``packages/openai/src/responses/__fixtures__/openai-error.1.chunks.txt``); a code a
    response cannot fail on (``invalid_api_key``) as ``server_error``."""

    def error(error_body: dict[str, Any] | None, sent: int) -> bytes:
        _, fields = _error_fields(error_body)
        code = fields["code"] if fields["code"] in FAILURE_CODES else "server_error"
        failed = response.body("failed", {"code": code, "message": fields["message"]})
        data = _event("response.failed", {"response": failed}, sent + 1)
        ending = b"event: response.failed\ndata: " + dumps(data) + b"\n\n"
        return error_event(error_body, sent) + ending

    return StreamWire(end=b"", broken=BROKEN_EVENT, error=error)


BROKEN_EVENT = b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta",\n\n'


class _Events:
    """The events of one stream, numbered as they are added."""

    def __init__(self, padded: bool) -> None:
        self.padded = padded
        self.out: list[Event] = []

    def add(self, kind: str, fields: dict[str, Any], text: str = "", delta: bool = False) -> None:
        if delta and self.padded:
            # As long as makes the delta and it a multiple of 16 characters, as OpenAI's are.
            size = len(fields["delta"]) % 16
            fields = {**fields, "obfuscation": padding(15 - size).decode()}
        encoded = dumps(_event(kind, fields, len(self.out)))
        self.out.append((b"event: " + kind.encode() + b"\ndata: " + encoded + b"\n\n", text))


# The events a stream opens with, sent as soon as the request is taken, before the first token:
# ``response.created`` and ``response.in_progress`` (``render_events``).
OPENING_EVENTS = 2


def render_events(
    response: ResponseObject | Restreamed, shape: StreamShape, padded: bool
) -> list[Event]:
    """The event stream of ``response``, its texts cut by ``shape``. An output item of a kind
    this server never makes (a stored answer relayed from an upstream) is added and done."""
    events = _Events(padded)
    events.add("response.created", {"response": response.body("in_progress")})
    events.add("response.in_progress", {"response": response.body("in_progress")})
    for index, item in enumerate(response.output):
        where = {"item_id": item.get("id"), "output_index": index}
        kind = item.get("type")
        if kind == "message":
            opened = {**item, "status": "in_progress", "content": []}
            events.add("response.output_item.added", {"output_index": index, "item": opened})
            for part_index, part in enumerate(item.get("content") or ()):
                _message_part(events, part, {**where, "content_index": part_index}, shape)
        elif kind == "function_call":
            opened = {**item, "status": "in_progress", "arguments": ""}
            events.add("response.output_item.added", {"output_index": index, "item": opened})
            for piece in shape.pieces(item["arguments"]):
                events.add(
                    "response.function_call_arguments.delta", {**where, "delta": piece}, piece, True
                )
            # With the function's name, as the API reference's schema requires (openai-openapi,
            # ``ResponseFunctionCallArgumentsDoneEvent``).
            named = {"item_id": item["id"], "name": item["name"], "output_index": index}
            events.add(
                "response.function_call_arguments.done", {**named, "arguments": item["arguments"]}
            )
        elif kind == "reasoning":
            events.add(
                "response.output_item.added",
                {"output_index": index, "item": {**item, "summary": []}},
            )
            for summary_index, part in enumerate(item.get("summary") or ()):
                _summary(events, part["text"], {**where, "summary_index": summary_index}, shape)
        else:
            events.add("response.output_item.added", {"output_index": index, "item": item})
        events.add("response.output_item.done", {"output_index": index, "item": item})
    done = response.body()
    final = FINAL_EVENTS.get(done["status"])
    if final is not None:  # a relayed response may not be done
        events.add(final, {"response": done})
    return events.out


# The last event of a stream, by the status the response ends in.
FINAL_EVENTS = {
    "completed": "response.completed",
    "incomplete": "response.incomplete",
    "failed": "response.failed",
}


def _message_part(
    events: _Events, part: dict[str, Any], at: dict[str, Any], shape: StreamShape
) -> None:
    """A message's content part (``at``: where it is), its text or refusal in deltas; a part of
    another kind (a relayed answer's), added and done."""
    kind = part.get("type")
    field = {"output_text": "text", "refusal": "refusal"}.get(kind)
    if field is None:
        events.add("response.content_part.added", {**at, "part": part})
        events.add("response.content_part.done", {**at, "part": part})
        return
    events.add("response.content_part.added", {**at, "part": {**part, field: ""}})
    prefix = "response.refusal" if field == "refusal" else "response.output_text"
    extra = {} if field == "refusal" else {"logprobs": []}
    for piece in shape.pieces(part[field]):
        events.add(f"{prefix}.delta", {**at, "delta": piece, **extra}, piece, True)
    events.add(f"{prefix}.done", {**at, field: part[field], **extra})
    events.add("response.content_part.done", {**at, "part": part})


def _summary(events: _Events, text: str, at: dict[str, Any], shape: StreamShape) -> None:
    """A reasoning summary part (``at``: where it is), its text in deltas."""
    events.add(
        "response.reasoning_summary_part.added",
        {**at, "part": {"type": REASONING_SUMMARY, "text": ""}},
    )
    for piece in shape.pieces(text):
        events.add("response.reasoning_summary_text.delta", {**at, "delta": piece}, piece, True)
    events.add("response.reasoning_summary_text.done", {**at, "text": text})
    events.add(
        "response.reasoning_summary_part.done",
        {**at, "part": {"type": REASONING_SUMMARY, "text": text}},
    )
