"""What a scenario's reply says that the request rules out: warnings, not refusals.

A live model does not call a tool the request does not offer (or allow, with ``allowed_tools``),
call one when ``tool_choice`` is ``none``, call another than the function it forces, answer in
words when it must call a tool, make more than one call with ``parallel_tool_calls: false``, or
write arguments or content that a strict schema refuses (``strict: true`` on a function tool or
on ``response_format``/``text.format``). A scenario may script any of these: its reply goes out
as scripted, with the warnings in the ``x-mock-scenario-warning`` header, the journal and the
request log, since a test that passes on such a reply passes on what the provider never sends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from ..caches import SHARED, BoundedCache
from ..reply import Message, for_header
from .client_schemas import NotASchema, checked, doubts
from .reply_specs import ReplySpec
from .request_view import RequestView

SCENARIO_WARNING_HEADER = "x-mock-scenario-warning"
CACHED_CHECKS = 1024  # (schema, value) pairs whose verdict is kept


def may_warn(view: RequestView, reply: ReplySpec) -> bool:
    """Whether a reply by ``reply`` to ``view`` could be warned about: it scripts tool calls,
    or the request rules something out for words alone (a required or forced call, a strict
    format). Cheap: asked before a kept body is looked up, since warnings depend on more of
    the request than a kept body's key."""
    if not reply.answers:  # the fallback's answer, which keeps to the request
        return False
    if any(answer.tool_calls for answer in reply.answers):
        return True
    return view.tool_choice not in (None, "auto", "none") or _strict_format(view) is not None


def warnings(view: RequestView, messages: list[Message]) -> tuple[str, ...]:
    """Why ``messages`` (a scripted reply's) are not what the request allows, as a header
    carries them (``reply.for_header``)."""
    found: dict[str, None] = {}
    for message in messages:
        found.update(dict.fromkeys(_message_warnings(view, message)))
    return for_header(list(found))


def _message_warnings(view: RequestView, message: Message) -> Iterator[str]:
    calls = message.tool_calls
    offered = _offered(view)
    choice = view.tool_choice
    if calls and choice == "none":
        yield "the reply calls a tool, but the request's tool_choice is 'none'"
    for call in calls:
        if call.name not in offered:
            listed = ", ".join(sorted(offered)) if offered else "none"
            yield f"the reply calls '{call.name}', which the request does not offer ({listed})"
        elif choice not in (None, "auto", "none", "required") and call.name != choice:
            yield f"the reply calls '{call.name}', but the request's tool_choice forces '{choice}'"
    if not calls and choice not in (None, "auto", "none"):
        yield f"the reply calls no tool, but the request's tool_choice is '{choice}'"
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


def _offered(view: RequestView) -> frozenset[str]:
    """The tools a reply may call: those offered (a namespace's too), or those
    ``allowed_tools`` allows."""
    choice = view.body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        allowed = (choice.get("allowed_tools") or {}).get("tools") or ()
        return frozenset(
            (tool.get("function") or {}).get("name") or tool.get("name") for tool in allowed
        )
    return frozenset(name for name, _ in _tools(view))


def _tools(view: RequestView) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each function (or custom) tool of the request as sent, by name, a namespace's members
    among them."""
    for tool in view.sent.get("tools") or ():
        if not isinstance(tool, dict):
            continue
        members = tool.get("tools") if tool.get("type") == "namespace" else [tool]
        for member in members or ():
            spec = member.get("function") if "function" in member else member
            if isinstance(spec, dict) and isinstance(spec.get("name"), str):
                yield spec["name"], spec


def _strict_parameters(view: RequestView) -> dict[str, Any]:
    """The parameters schema of each tool the request marks ``strict: true``, by name."""
    return {
        name: spec.get("parameters") or {}
        for name, spec in _tools(view)
        if spec.get("strict") is True
    }


def _strict_format(view: RequestView) -> Any:
    """The schema of a ``json_schema`` response format marked ``strict: true``, or None."""
    given = view.body.get("response_format")
    if not isinstance(given, dict) or given.get("type") != "json_schema":
        return None
    spec = given.get("json_schema") or {}
    return spec.get("schema") or {} if spec.get("strict") is True else None


def _breaks(schema: Any, text: str, subject: str) -> tuple[str, ...]:
    """Why ``text`` (``subject``) is not a value the strict ``schema`` allows."""
    return _verdict((orjson.dumps(schema), text, subject))


@BoundedCache("scripted_values", CACHED_CHECKS, registry=SHARED).memoize
def _verdict(key: tuple[bytes, str, str]) -> tuple[str, ...]:
    """``_breaks`` for a schema's JSON, a text and its subject; a schema that is not one is
    the request checks' to refuse, not this."""
    schema_json, text, subject = key
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return (f"{subject} is not JSON (strict: true)",)
    try:
        schema = checked(orjson.loads(schema_json))
    except NotASchema:
        return ()
    return tuple(f"{reason} (strict: true)" for reason in doubts(schema, value, subject))
