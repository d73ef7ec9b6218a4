"""What a scenario's reply says that the request rules out: warnings, not refusals.

A live model does not call a tool the request does not offer (or allow, with ``allowed_tools``),
call one when ``tool_choice`` is ``none``, call another than the function it forces, answer in
words when it must call a tool, make more than one call with ``parallel_tool_calls: false``,
write arguments or content that a strict schema refuses (``strict: true`` on a function tool or
on ``response_format``/``text.format``), or give other than ``n`` choices. A scenario may script
any of these: its reply goes out as scripted, with the warnings in the
``x-mock-scenario-warning`` header, the journal and the request log, since a test that passes on
such a reply passes on what the provider never sends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from ..caches import SHARED, BoundedCache
from ..checks.client_schema_rules import format_schema, function_schemas
from ..checks.responses import tool_names
from ..jsonio import dumps
from ..reply import Message, for_header
from .client_schemas import NotASchema, checked, doubts
from .fallback import function_names
from .reply_specs import ReplySpec
from .request_view import RequestView
from .values import CannotGenerate

SCENARIO_WARNING_HEADER = "x-mock-scenario-warning"
CACHED_CHECKS = 1024  # (schema, value) pairs whose verdict is kept
CACHED_BYTES = 64 * 1024  # a larger schema and value are checked afresh, not kept
CHECKED_BYTES = 64 * 1024  # a larger strict schema is not checked at all
UNCHECKED = " was not checked: "  # in a note that a reply is past what is checked, not wrong
_FREE = (None, "auto", "none", "required")  # tool choices that force no one tool


def may_warn(view: RequestView, reply: ReplySpec) -> bool:
    """Whether a reply by ``reply`` to ``view`` could be warned about: it scripts tool calls,
    or the request rules something out for words alone (a required or forced call, a strict
    format). Cheap: asked before a kept body is looked up, since warnings depend on more of
    the request than a kept body's key."""
    if not reply.answers:  # the fallback's answer, which keeps to the request
        return False
    if reply.calls_tools or len(reply.answers) > 1:
        return True
    sent = view.sent
    if "tool_choice" not in sent and "response_format" not in sent and "text" not in sent:
        return False  # most requests: nothing that rules words out
    return _choice(view) not in (None, "auto", "none") or _strict_format(view) is not None


def ruled_out(view: RequestView, reply: ReplySpec) -> tuple[str, ...]:
    """What the request rules out of ``reply``'s scripted answer, as ``warnings`` words it
    (nothing for a reply that leaves its answer to the fallback; a note that part of it was
    past what is checked rules nothing out)."""
    if not may_warn(view, reply):
        return ()
    said = warnings(view, reply.messages(view, None))
    return tuple(warning for warning in said if UNCHECKED not in warning)


def warnings(view: RequestView, messages: list[Message]) -> tuple[str, ...]:
    """Why ``messages`` (a scripted reply's) are not what the request allows, as a header
    carries them (``reply.for_header``)."""
    found: dict[str, None] = {}
    asked = (view.sent.get("n") or 1) if view.api == "chat_completions" else 1
    if len(messages) != asked:  # scripted choices: a model gives as many as asked, no more
        found[f"the reply has {len(messages)} choices, but the request asks for {asked}"] = None
    for message in {id(message): message for message in messages}.values():  # n: one each
        found.update(dict.fromkeys(_message_warnings(view, message)))
    return for_header(list(found))


def _message_warnings(view: RequestView, message: Message) -> Iterator[str]:
    calls = message.tool_calls
    offered, allowed = _offered(view), _allowed(view)
    choice = _choice(view)
    if calls and choice == "none":
        yield "the reply calls a tool, but the request's tool_choice is 'none'"
    for call in calls:
        if offered is not None and call.name not in offered:
            listed = ", ".join(sorted(offered)) or "none"
            yield f"the reply calls '{call.name}', which the request does not offer ({listed})"
        elif allowed is not None and call.name not in allowed:
            listed = ", ".join(sorted(allowed)) or "none"
            yield f"the reply calls '{call.name}', which allowed_tools leaves out ({listed})"
        elif choice not in _FREE and call.name != choice:
            yield f"the reply calls '{call.name}', but the request's tool_choice forces '{choice}'"
    if not calls and choice == "required":
        yield "the reply calls no tool, but the request's tool_choice is 'required'"
    elif not calls and choice not in _FREE:
        yield f"the reply calls no tool, but the request's tool_choice forces '{choice}'"
    if len(calls) > 1 and view.sent.get("parallel_tool_calls") is False:
        yield (
            f"the reply makes {len(calls)} tool calls, but the request sets "
            "parallel_tool_calls to false"
        )
    strict = _strict_parameters(view)
    for call in calls:
        if call.name in strict:
            yield from _breaks(strict[call.name], call.arguments, f"the call to '{call.name}'")
    schema = _strict_format(view)
    if schema is not None and message.content is not None and not calls:
        yield from _breaks(schema, message.content, "the content")


def _api(view: RequestView) -> str:
    """Which of ``client_schema_rules``'s shapes the request as sent has."""
    return "responses" if view.api == "responses" else "chat"


def _offered(view: RequestView) -> set[str] | None:
    """The names of the tools the request offers: its functions (a namespace's too) and, on
    the Responses API, its custom tools; None when a ``prompt`` template may bring more."""
    tools = [tool for tool in view.sent.get("tools") or () if isinstance(tool, dict)]
    if _api(view) == "chat":
        return function_names(tools)
    if view.sent.get("prompt") is not None:
        return None
    return tool_names(tools, "function") | tool_names(tools, "custom")


def _allowed(view: RequestView) -> set[str] | None:
    """The names ``allowed_tools`` lets a reply call (a namespace it names: its tools), or
    None when the request sets no such list."""
    choice = view.sent.get("tool_choice")
    if not isinstance(choice, dict) or choice.get("type") != "allowed_tools":
        return None
    if _api(view) == "chat":
        return function_names((choice.get("allowed_tools") or {}).get("tools"))
    listed = [tool for tool in choice.get("tools") or () if isinstance(tool, dict)]
    namespaces = {name for tool in listed if tool.get("type") == "namespace"
                  if isinstance(name := tool.get("name"), str)}  # fmt: skip
    inside = [
        tool
        for tool in view.sent.get("tools") or ()
        if isinstance(tool, dict) and tool.get("type") == "namespace"
        and tool.get("name") in namespaces
    ]  # fmt: skip
    named = [tool for tool in listed if tool.get("type") != "namespace"]
    return {name for kind in ("function", "custom") for name in tool_names([*named, *inside], kind)}


def _choice(view: RequestView) -> str | None:
    """The request's ``tool_choice`` as a word (``none``, ``auto``, ``required``; an
    ``allowed_tools`` choice's mode), or the name of the one tool it forces (a function, or on
    the Responses API a custom tool); None for a hosted tool's."""
    if _api(view) == "chat":
        return view.tool_choice
    choice = view.sent.get("tool_choice")
    if isinstance(choice, dict):
        if choice.get("type") == "allowed_tools":
            return choice.get("mode")
        return choice.get("name") if choice.get("type") in ("function", "custom") else None
    return choice


def _strict_parameters(view: RequestView) -> dict[str, Any]:
    """The parameters schema of each function whose arguments the API holds to it, by name:
    one marked ``strict: true``, and on the Responses API one not marked ``strict: false``
    (strict is its default, which a response echoes; the schema is read as written, where the
    API would make it strict if it can: ``checks.client_schema_rules``)."""
    api = _api(view)
    return {
        client.name: client.schema or {}
        for client in function_schemas(view.sent, api)
        if isinstance(client.name, str)
        and (client.strict or (client.strict is None and api == "responses"))
    }


def _strict_format(view: RequestView) -> Any:
    """The schema of a ``json_schema`` response format marked ``strict: true``, or None."""
    client = format_schema(view.sent, _api(view))
    return client.schema or {} if client is not None and client.strict else None


def _breaks(schema: Any, text: str, subject: str) -> tuple[str, ...]:
    """Why ``text`` (``subject``) is not a value the strict ``schema`` allows; a schema over
    ``CHECKED_BYTES`` of JSON is not looked at (its meta-schema check alone grows with it)."""
    schema_json = dumps(schema)
    if len(schema_json) > CHECKED_BYTES:
        return (f"{subject}{UNCHECKED}its strict schema is over {CHECKED_BYTES:,} bytes",)
    key = (schema_json, text, subject)
    small = len(schema_json) + len(text.encode("utf-8", "surrogatepass")) <= CACHED_BYTES
    return _cached_verdict(key) if small else _verdict(key)


def _verdict(key: tuple[bytes, str, str]) -> tuple[str, ...]:
    """``_breaks`` for a schema's JSON, a text and its subject, within the bounds of the
    fallback's own checks (``client_schemas``); a schema that is not one is the request checks'
    to refuse, not this."""
    schema_json, text, subject = key
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return (f"{subject} is not JSON (strict: true)",)
    try:
        schema = checked(orjson.loads(schema_json))
    except NotASchema:
        return ()
    except CannotGenerate as past:  # past the bounds of what is checked
        return (f"{subject}{UNCHECKED}{past}",)
    return tuple(f"{reason} (strict: true)" for reason in doubts(schema, value, subject))


_cached_verdict = BoundedCache("scripted_values", CACHED_CHECKS, registry=SHARED).memoize(_verdict)
