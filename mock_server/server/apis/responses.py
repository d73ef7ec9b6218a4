"""The Responses API (``POST .../responses``; ``GET`` and ``DELETE .../responses/{id}``, ``GET
.../responses/{id}/input_items``), for the profiles whose data names it.

A request is checked as OpenAI checks it (``checks.responses``), then its conversation is put
together: the stored input and output of ``previous_response_id`` (400
``previous_response_not_found`` when the tenant has no such stored response), or the items of
its ``conversation`` (``conversations``; the response's own input and output are added to it
once answered), then the new input (``items.taken``: ``item_reference`` items replaced by the
stored items they name, and so are reasoning items sent back by id without their
``encrypted_content``; an unknown one is OpenAI's 404 ``Item with id '...' not found. Items are
not persisted when `store` is set to false. ...``).
Scenarios see that conversation as chat messages: ``instructions`` as the system message,
input messages by their role (their text, or their parts when they hold more than text;
consecutive assistant messages as one answer), ``function_call`` items as an assistant's tool
calls, ``function_call_output`` items as tool results answering their ``call_id``; function
tools by name, ``tool_choice`` and ``text.format`` as chat's ``tool_choice`` and
``response_format``. The reply is written as a ``response`` object or its event stream
(``wire.responses``) and, unless ``store`` is false, kept in the tenant's store
(``tenant_state.KeyedStore``: at most 1,000 responses and 16 MiB a tenant, each counting the
conversation it keeps alive, 256 MiB for every tenant together, the oldest dropped first) for
retrieval, deletion, ``input_items`` and continuation.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ...accounts.rules import Cost
from ...checks import reasoning
from ...checks.request import check_model
from ...checks.responses import check_responses, conversation_id, counted_request
from ...engine.fallback import fallback_message
from ...engine.reply_specs import DEFAULT_REPLY, ReplySpec
from ...engine.request_view import RequestView
from ...errors import ApiError
from ...jsonio import dumps, loads
from ...messages import content_text
from ...reply import Message
from ...tokens import cut_to, prompt_tokens
from ...wire.answer import Answer, Outcome
from ...wire.delivery import StreamShape
from ...wire.faults import Fault
from ...wire.responses import (
    DEFAULT_EFFORT,
    OPENING_EVENTS,
    ResponseObject,
    Restreamed,
    asked_tier,
    output_items,
    render_events,
    stream_wire,
)
from ...wire.size import estimated_size, refuse_if_too_large
from ..exchange import Exchange
from ..render import answer_headers, json_answer, json_read
from ..tenant_state import held_by
from ..tenants import Tenant
from . import conversations
from .api import Api, Encoded
from .conversations import StoredConversation
from .items import bad_query, check_unique, not_found, page, taken

_SEQUENCE_NUMBER = re.compile(r"[0-9]+")  # starting_after
# A stream carries an answer's text whole five times: in its deltas, then in the text's, the
# content part's and the output item's done events, and in the completed response.
STREAM_TEXT_COPIES = 5
STREAM_ECHOES = 3  # and the response object itself three times: created, in progress, completed


@dataclass(frozen=True, slots=True)
class Conversation:
    """A Responses request put together: every input item (the continued response's input and
    output, or its conversation's items, first), with ids, and the same as a chat-completions
    body, for scenarios; ``shared``: what the items it takes from stored responses or its
    conversation hold in memory (see ``_stored_size``)."""

    items: list[dict[str, Any]]
    chat: dict[str, Any]
    shared: int
    goes_on_in: StoredConversation | None  # the conversation (``conversation``) it goes on in
    own_from: int  # where the request's own input items begin


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored response: the object as answered, its input items, and what streaming it
    again takes: the service tier its request asked for (which a stream reports until it is
    done), how its texts were cut into events, whether its deltas were padded."""

    response: dict[str, Any]
    inputs: list[dict[str, Any]]
    tier: str
    shape: StreamShape
    padded: bool
    held: int  # what it keeps in memory, its whole conversation's items included (``_store``)

    def held_items(self) -> tuple[dict[str, Any], ...]:
        """Its items, which an ``item_reference`` may name: its input, then its output."""
        return (*self.inputs, *self.response["output"])


class Responses(Api):
    name = "responses"
    path = "/responses"
    broken_body = b'{"id": "resp_broken", "object": "response", "output": ['
    needs_schema = True
    viewed_as_sent = False  # scenarios see the conversation put together, as chat
    opening_events = OPENING_EVENTS

    def reads(self) -> list[tuple[str, str, Callable[[Exchange, web.Request], Outcome]]]:
        return [
            ("GET", self.path + "/{id}", _retrieve),
            ("DELETE", self.path + "/{id}", _delete),
            ("GET", self.path + "/{id}/input_items", _input_items),
            ("POST", self.path + "/{id}/cancel", _cancel),
            ("POST", self.path + "/input_tokens", _count_input_tokens),
            *conversations.ROUTES,
        ]

    def check(self, exchange: Exchange, raw: bytes) -> dict[str, Any]:
        return self.checked(exchange, self.parsed(exchange, raw))

    def checked(self, exchange: Exchange, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` checked, its conversation put together (``exchange.checked``)."""
        check_responses(body, exchange.profile)
        if exchange.profile.reject_unknown_models:
            check_model(body, exchange.profile)
        exchange.checked = _conversation(exchange, body)
        reasoning.check_responses(body, exchange.profile)  # after the stored state, as OpenAI
        return body

    def view(self, exchange: Exchange) -> RequestView:
        chat = exchange.checked.chat
        incoming = exchange.incoming
        return RequestView(chat, incoming.headers, exchange.profile.name, self.name, exchange.body)

    def journal_view(self, entry: dict[str, Any], tenant: Tenant) -> RequestView:
        """A journal entry's request as scenarios saw it: its whole conversation, from the
        store, while its response is stored (a stored response keeps every input item of its
        conversation), else its own input alone; a request refused before scenarios saw it,
        as its body (which may not even be a request)."""
        body, response = entry["body"], entry["response"]
        if not (entry["asked"] and isinstance(body, dict) and "model" in body):  # or its size
            return super().journal_view(entry, tenant)
        stored = None
        if isinstance(response, dict) and isinstance(response.get("id"), str):
            stored = tenant.store.get((self.name, response["id"]))
        items = stored.inputs if stored is not None else _given_items(body.get("input"))
        chat = _chat_body(body, items)
        return RequestView(chat, entry["headers"], entry["profile"], self.name, body)

    def cost(self, exchange: Exchange) -> Cost:
        body = exchange.body
        chat = exchange.checked.chat
        return Cost(str(body["model"]), prompt_tokens(chat), body.get("max_output_tokens") or 0)

    def fallback(self, view: RequestView, max_bytes: int) -> Message:
        """Chat's fallback, on the request seen as chat; a schema it cannot build a value for
        is named by its place in this request (``text.format.schema``, ``tools[1].parameters``)."""
        try:
            return fallback_message(view.body, max_bytes)
        except ApiError as error:
            _as_responses(error)
            raise

    def relayed(self, exchange: Exchange, answer: bytes) -> None:
        """An upstream's response, stored as one of ours, so that a recorded conversation
        continues with ``previous_response_id`` as it did upstream."""
        try:
            response = loads(answer)
        except ValueError:
            return
        if (
            exchange.body.get("store") is not False
            and isinstance(response, dict)
            and response.get("object") == "response"
            and isinstance(response.get("id"), str)
        ):
            _store(exchange, response, _stored_size(exchange, answer), DEFAULT_REPLY.stream)

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
        shape = reply.stream if streaming else None
        copies = STREAM_TEXT_COPIES if streaming else 1
        size = estimated_size(messages[:1], None, shape, copies, profile.body_format.indent)
        # The response object echoes the request's settings (instructions, tools, text.format):
        # once in a body, in three events of a stream; the request's bytes bound them.
        size += len(exchange.raw or b"") * (STREAM_ECHOES if streaming else 1)
        asked = ["stream=true"] if streaming else []
        refuse_if_too_large(size, state.settings.max_response_bytes, asked)
        message = cut_to(messages[0], body.get("max_output_tokens"), reasoning_counts=True)
        conversation: Conversation = exchange.checked
        reasoning_asked = body.get("reasoning") or {}
        effort = reasoning_asked.get("effort") or (
            DEFAULT_EFFORT if profile.reasons(body["model"]) else None
        )
        reasons = effort not in (None, "none")
        created = int(time.time())
        summarised = reasoning_asked.get("summary") is not None
        response = ResponseObject(
            state.ids.item("resp"),
            created,
            profile.answer_model(str(body["model"])),
            body,
            output_items(message, state.ids, created, reasons, summarised),
            prompt_tokens(conversation.chat),
            message,
            reply.usage,
            effort,
            conversation.goes_on_in.id if conversation.goes_on_in is not None else None,
        )
        # A stream a fault breaks off never completes: it is neither stored nor added to its
        # conversation.
        stored = body.get("store") is not False and fault is None
        whole = response.body(whole=True) if stored or not streaming else {}
        if not streaming:
            answer = json_answer(whole, headers=headers, style=profile.body_format)
        size = 0
        if stored:
            size = _stored_size(exchange, answer.body if not streaming else dumps(whole))
        if conversation.goes_on_in is not None and fault is None:
            # Stored next to it, the response and its conversation must fit together.
            added = [*conversation.items[conversation.own_from :], *response.output]
            conversations.extend(exchange, conversation.goes_on_in, added, size)
        if stored:
            _store(exchange, whole, size, reply.stream)
        if not streaming:
            return Encoded(response, answer)
        events = render_events(response, reply.stream, _padded(body))
        if fault is not None and fault.type == "no_done":
            events = events[:-1]  # the stream ends without its last event
        stream = self.stream(exchange, events, stream_wire(response), reply, headers, fault)
        return Encoded(response, stream)


def _stored_size(exchange: Exchange, answer: bytes) -> int:
    """What a response keeps in memory once stored: the ``answer``, the request (its new input
    items) and the items it shares with the stored responses it goes on from, or its
    conversation, which it keeps alive once they are dropped. So a chain of responses is
    counted as often as it is stored (the oldest go first), and one whose conversation outgrows
    the tenant's bound is not stored."""
    conversation: Conversation = exchange.checked
    return conversation.shared + held_by(answer) + held_by(exchange.raw or b"")


def _store(exchange: Exchange, response: dict[str, Any], size: int, shape: StreamShape) -> None:
    """Keep ``response`` (its texts cut by ``shape`` in a stream; ``size`` bytes, as
    ``_stored_size`` counts them) in the tenant's store, by its id, with the conversation it
    answers."""
    conversation: Conversation = exchange.checked
    body = exchange.body
    stored = Stored(response, conversation.items, asked_tier(body), shape, _padded(body), size)
    exchange.tenant.store.put((Responses.name, response["id"]), stored, size)


def _padded(body: dict[str, Any]) -> bool:
    """Whether a stream's deltas carry ``obfuscation`` padding (unless the request turns it
    off: ``stream_options.include_obfuscation: false``)."""
    return (body.get("stream_options") or {}).get("include_obfuscation") is not False


def _conversation(exchange: Exchange, body: dict[str, Any]) -> Conversation:
    """The request's input items after those of the response it continues (see the module
    docstring), each with an id, and the chat body scenarios see."""
    store = exchange.tenant.store
    items: list[dict[str, Any]] = []
    shared = 0
    previous = body.get("previous_response_id")
    if previous is not None:
        stored = store.get((Responses.name, previous))
        if stored is None:
            raise ApiError(
                "400",
                message=f"Previous response with id '{previous}' not found.",
                type="invalid_request_error",
                param="previous_response_id",
                code="previous_response_not_found",
            )
        items.extend(stored.inputs)
        items.extend(stored.response["output"])
        shared = stored.held
    wanted = conversation_id(body)
    goes_on_in = None
    if wanted is not None:
        goes_on_in = conversations.held(exchange, wanted)
        items.extend(goes_on_in.items)
        shared = goes_on_in.held
    own_from = len(items)
    own, referenced = taken(_as_items(body.get("input")), store, exchange.state.ids, "input")
    items.extend(own)
    check_unique(items, "input")
    _check_calls_answered(items)
    return Conversation(items, _chat_body(body, items), shared + referenced, goes_on_in, own_from)


def _given_items(given: str | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A checked request's own input items (a text as a user message; a message sent without
    its ``type`` with it; none when it continues another response alone); references to
    stored items, which only the store resolves, left out."""
    return [
        {"type": "message", **item} if "type" not in item else item
        for item in _as_items(given)
        if item.get("type") != "item_reference"
    ]


def _as_items(given: str | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A request's ``input`` as items: a text is one user message."""
    if isinstance(given, str):
        return [{"type": "message", "role": "user", "content": given}]
    return given or []


def _check_calls_answered(items: list[dict[str, Any]]) -> None:
    """OpenAI's pairing of function calls and their outputs over the whole conversation (the
    continued responses' items included), in its words (``param: input``, no code): an output
    whose call is not before it, then a call left without an output. The two messages are the
    live API's, as its users quote them (openai/openai-agents-python#673, vercel/ai#8216);
    that an output must come after its call is our reading."""
    called: set[str] = set()
    unanswered: dict[str, None] = {}  # calls still waiting for an output, in order
    for item in items:
        kind = item["type"]
        if kind == "function_call":
            called.add(item["call_id"])
            unanswered[item["call_id"]] = None
        elif kind == "function_call_output":
            call_id = item["call_id"]
            if call_id not in called:
                raise _input_error(
                    f"No tool call found for function call output with call_id {call_id}."
                )
            unanswered.pop(call_id, None)
    if unanswered:
        raise _input_error(f"No tool output found for function call {next(iter(unanswered))}.")


def _input_error(message: str) -> ApiError:
    return ApiError("400", message=message, type="invalid_request_error", param="input", code=None)


def _chat_body(body: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """The request as a chat-completions body, which matching, templates and the fallback
    read (see the module docstring)."""
    messages: list[dict[str, Any]] = []
    if body.get("instructions"):
        messages.append({"role": "system", "content": body["instructions"]})
    answers: dict[int, list[str]] = {}  # the texts of an answer in several messages, by message
    for item in items:
        kind = item["type"]
        if kind == "message":
            content = _content(item["content"])
            last = messages[-1] if messages else {}
            if _answer_goes_on(last, item) and isinstance(content, str):
                answers.setdefault(id(last), [last["content"]]).append(content)
            else:
                messages.append({"role": item["role"], "content": content})
        elif kind == "function_call":
            call = {
                "id": item["call_id"],
                "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]},
            }
            last = messages[-1] if messages else {}
            if last.get("role") == "assistant" and last.get("tool_calls"):
                last["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item["output"]
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": item["call_id"],
                    "content": _content(output),
                }
            )
    for message in messages if answers else ():  # joined once each: linear in their length
        if id(message) in answers:
            message["content"] = "".join(answers[id(message)])
    chat: dict[str, Any] = {"model": body["model"], "messages": messages}
    tools = [  # in the request's order (hosted tools as sent), so indices name the same tool
        {
            "type": "function",
            "function": {
                key: tool[key] for key in ("name", "description", "parameters") if key in tool
            },
        }
        if tool.get("type") == "function"
        else tool
        for tool in body.get("tools") or ()
    ]
    if tools:
        chat["tools"] = tools
    choice = body.get("tool_choice")
    if isinstance(choice, str):
        chat["tool_choice"] = choice
    elif isinstance(choice, dict) and choice.get("type") == "function":
        chat["tool_choice"] = {"type": "function", "function": {"name": choice["name"]}}
    elif isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        allowed = [
            {"type": "function", "function": {"name": tool["name"]}}
            for tool in choice["tools"]
            if tool.get("type") == "function" and isinstance(tool.get("name"), str)
        ]
        chat["tool_choice"] = {
            "type": "allowed_tools",
            "allowed_tools": {"mode": choice["mode"], "tools": allowed},
        }
    elif isinstance(choice, dict):  # a hosted or custom tool's, as sent
        chat["tool_choice"] = choice
    text_format = (body.get("text") or {}).get("format") or {}
    if text_format.get("type") == "json_schema":
        chat["response_format"] = {
            "type": "json_schema",
            "json_schema": {
                key: text_format[key] for key in ("name", "schema", "strict") if key in text_format
            },
        }
    elif text_format.get("type") == "json_object":
        chat["response_format"] = {"type": "json_object"}
    if body.get("stream"):
        chat["stream"] = True
    return chat


def _as_responses(error: ApiError) -> None:
    """A chat-body error (``param`` ``response_format``, ``tools[0].function.parameters``) as
    the Responses API words it: the same field's place in its request and, for the format, the
    code chat leaves null (``invalid_json_schema``: client projects' records, 2026)."""
    if error.param == "response_format":
        error.param = "text.format.schema"
        if error.code is None:
            error.code = "invalid_json_schema"
    elif error.param and error.param.startswith("tools["):  # the chat body keeps their order
        error.param = error.param.replace(".function.parameters", ".parameters")


def _answer_goes_on(last: dict[str, Any], item: dict[str, Any]) -> bool:
    """Whether an assistant message goes on the answer ``last`` began: a response may answer
    with several messages, which a chat answer, and the recorder, hold as one text."""
    return (
        item["role"] == "assistant"
        and last.get("role") == "assistant"
        and not last.get("tool_calls")
        and isinstance(last.get("content"), str)
    )


def _content(content: Any) -> str | list[dict[str, Any]]:
    """A message's (or a function call output's) content as chat holds it: its text, its text
    parts joined; or, when it holds more than text (an image, a file), its parts, a text part
    as chat's and the others as sent, so that they count in matching and the request digest.
    A refusal part is left out, as chat leaves out a refusal sent back."""
    if isinstance(content, str):
        return content
    kept = [part for part in content if part.get("type") != "refusal"]
    if all("text" in part for part in kept):
        return content_text(kept)
    return [{"type": "text", "text": part["text"]} if "text" in part else part for part in kept]


# --- reading stored responses --------------------------------------------------------------------


def _stored(exchange: Exchange, request: web.Request) -> tuple[str, Stored]:
    wanted = request.match_info["id"]
    stored = exchange.tenant.store.get((Responses.name, wanted))
    if stored is None:
        raise not_found("Response", wanted)
    return wanted, stored


def _retrieve(exchange: Exchange, request: web.Request) -> Outcome:
    """A stored response, as it was answered; with ``stream=true``, a background response's
    events, as its creation streamed them, after the event numbered ``starting_after`` (how a
    client resumes a stream it lost). A response not made in the background cannot be
    streamed again: the live API answers 404, as for an unknown id (a user's report on the
    OpenAI community forum, "Responses API - reconnect to a streaming response", 2025)."""
    wanted, stored = _stored(exchange, request)
    query = request.query
    streamed = query.get("stream", "false")
    if streamed not in ("true", "false"):
        raise bad_query("stream", streamed, "Supported values are: 'true' and 'false'.")
    if streamed == "false":
        return json_read(exchange, stored.response)
    if not stored.response.get("background"):
        raise not_found("Response", wanted)
    after = query.get("starting_after")
    if after is not None and not _SEQUENCE_NUMBER.fullmatch(after):
        raise bad_query("starting_after", after, "Must be a non-negative integer.")
    # The retrieval's own ``include_obfuscation`` (the reference's query parameter of ``GET
    # /responses/{response_id}``), else what the creation asked.
    padded = query.get("include_obfuscation")
    if padded not in (None, "true", "false"):
        raise bad_query("include_obfuscation", padded, "Supported values are: 'true' and 'false'.")
    restreamed = Restreamed(stored.response, stored.tier)
    events = render_events(
        restreamed, stored.shape, stored.padded if padded is None else padded == "true"
    )
    if after is not None:  # a number of more digits than any stream has events: past them all
        events = events[int(after) + 1 :] if len(after) <= 9 else []
    headers = answer_headers(exchange.profile, {}, exchange.request_id, exchange.started)
    wire = stream_wire(restreamed)
    return RESPONSES.stream(exchange, events, wire, DEFAULT_REPLY, headers, None)


def _delete(exchange: Exchange, request: web.Request) -> Answer:
    wanted, _ = _stored(exchange, request)
    exchange.tenant.store.delete((Responses.name, wanted))
    return json_read(exchange, {"id": wanted, "object": "response", "deleted": True})


def _cancel(exchange: Exchange, request: web.Request) -> Answer:
    """A background response, already done (this server answers them at once), as it stands;
    any other, refused in the words of OpenAI's reference (``Only responses created with the
    background parameter set to true can be cancelled``; the live body's code is not known)."""
    _, stored = _stored(exchange, request)
    if not stored.response.get("background"):
        raise ApiError(
            "400",
            message="Only responses created with background=true can be cancelled.",
            type="invalid_request_error",
            param=None,
            code=None,
        )
    return json_read(exchange, stored.response)


def _count_input_tokens(exchange: Exchange, request: web.Request) -> Answer:
    """What a request would count as input tokens (``POST .../responses/input_tokens``, the
    SDK's ``responses.input_tokens.count``): the fields it takes (``counted_request``), checked
    and put together as a response's request is (``model`` may be left out: the profile's first
    model stands for it; so may ``input``, to count instructions or tools alone), counted as its
    ``usage.input_tokens`` would be."""
    body = counted_request(RESPONSES.parsed(exchange, exchange.raw or b""), exchange.profile)
    body.setdefault("input", "")
    if body.get("model") is None and exchange.profile.models:
        body["model"] = exchange.profile.models[0]
    exchange.body = RESPONSES.checked(exchange, body)
    counted = prompt_tokens(exchange.checked.chat)
    return json_read(exchange, {"object": "response.input_tokens", "input_tokens": counted})


def _input_items(exchange: Exchange, request: web.Request) -> Answer:
    """A page of the stored response's input items (``items.page``)."""
    _, stored = _stored(exchange, request)
    return json_read(exchange, page(stored.inputs, request.query))


RESPONSES = Responses()
