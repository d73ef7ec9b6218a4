"""The fallback reply: what the server answers when no scenario applies.

Deterministic, and valid for what the request asked: a tool call with arguments that satisfy
the tool's JSON Schema when ``tool_choice`` demands one, JSON that satisfies
``response_format.json_schema``, ``{"reply": ...}`` for ``json_object``, else text echoing the
last user message.

A client's schema is bounded and checked against the JSON Schema meta-schema before anything is
generated from it (``client_schemas``), and refused as OpenAI refuses one (400 ``Invalid schema
for function 'name': None is not of type 'array'.``, code ``invalid_function_parameters``; for
``response_format``, code null; wording as captured from the real API in public client issue
threads). One the fallback cannot build a value for is 400
``mock_fallback_unsatisfiable``; a value it built but could not make (or check) valid is sent
with warnings for the ``x-mock-fallback-warning`` header. Checks and generated values are
cached by the schema's JSON, so an agent loop that repeats its tools pays for them once.
"""

from __future__ import annotations

from typing import Any

from ..caches import SHARED, BoundedCache
from ..checks.client_schema_rules import ClientSchema, chat_format, chat_function
from ..errors import ApiError
from ..jsonio import compact_json, dumps, loads
from ..messages import last_user_text
from ..reply import Message, ToolCall, for_header
from .client_schemas import NotASchema, checked, doubts
from .values import CannotGenerate, value_for


def fallback_message(body: dict[str, Any]) -> Message:
    """What the server answers when nothing scripted applies (see the module docstring)."""
    demanded = _demanded_tool(body)
    if demanded is not None:
        index, tool = demanded
        arguments, warnings = _generated(chat_function(index, tool))
        return Message(
            tool_calls=[ToolCall(tool["function"]["name"], arguments)], warnings=warnings
        )
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        content, warnings = _generated(chat_format(response_format.get("json_schema") or {}))
        return Message(content=content, warnings=warnings)
    said = last_user_text(body.get("messages"))
    if response_format.get("type") == "json_object":
        return Message(content=compact_json({"reply": said}))
    warnings = ()
    if _asks_for_a_call(body.get("tool_choice")):  # of no function tool the fallback calls
        warnings = (
            "tool_choice asks for a call the fallback cannot make: it calls the request's own "
            "function tools only (not hosted, custom or namespaced ones)",
        )
    return Message(content=f"This is a mock response to: {said}", warnings=warnings)


def _asks_for_a_call(choice: Any) -> bool:
    """Whether ``tool_choice`` asks for a call: ``required``, a tool it names, or
    ``allowed_tools`` in mode ``required``."""
    if isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        allowed = choice.get("allowed_tools")
        choice = allowed.get("mode") if isinstance(allowed, dict) else None
    return choice == "required" or isinstance(choice, dict)


def _or_object(schema: Any) -> Any:
    """A client's schema, or an object for none given (absent, ``null``, ``{}``)."""
    return {"type": "object"} if schema is None or schema == {} else schema


def _demanded_tool(body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """The function tool ``tool_choice`` demands, with its index in ``tools``: the one it
    names, or, when it requires one (``required``, or ``allowed_tools`` in mode ``required``),
    the next it allows (``_next_to_call``)."""
    choice = body.get("tool_choice")
    functions = [
        (index, tool)
        for index, tool in enumerate(body.get("tools") or ())
        if isinstance(tool.get("function"), dict)
    ]
    if isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        allowed = choice.get("allowed_tools") or {}
        names = function_names(allowed.get("tools"))
        functions = [(i, t) for i, t in functions if function_names([t]) & names]
        choice = allowed.get("mode")
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        return next(((i, t) for i, t in functions if t["function"].get("name") == name), None)
    if choice == "required" and functions:
        return _next_to_call(body, functions)
    return None


def _next_to_call(
    body: dict[str, Any], functions: list[tuple[int, dict[str, Any]]]
) -> tuple[int, dict[str, Any]]:
    """The function a required call makes: the first the conversation has not called yet, as
    an agent goes on to its next step (a structured-output tool after the lookup it needed),
    else the last offered."""
    called = {
        call["function"].get("name")
        for message in body.get("messages") or ()
        if isinstance(message, dict) and message.get("role") == "assistant"
        for call in message.get("tool_calls") or ()
        if isinstance(call, dict)
        and isinstance(call.get("function"), dict)
        and isinstance(call["function"].get("name"), str)
    }
    fresh = (pair for pair in functions if pair[1]["function"].get("name") not in called)
    return next(fresh, functions[-1])


def function_names(tools: Any) -> set[str]:
    """The names of the function tools a list names (any JSON: a client sends it)."""
    names = set()
    for tool in tools if isinstance(tools, list) else ():
        function = tool.get("function") if isinstance(tool, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        if isinstance(name, str):
            names.add(name)
    return names


def _generated(client: ClientSchema) -> tuple[str, tuple[str, ...]]:
    """JSON text satisfying the client's schema, and warnings; ``ApiError`` 400 for a schema
    that is not one, or that the fallback cannot satisfy."""
    what, param = client.what, client.param
    # Kept by the schema as written: a value's keys come in the order its schema gives them,
    # as a model with Structured Outputs writes them (OpenAI's guide, "Key ordering").
    key = dumps(_or_object(client.schema))
    build = _from_schema_cached if len(key) <= CACHED_SCHEMA_BYTES else _from_schema
    not_a_schema, cannot, text, warnings = build(key)
    if not_a_schema is not None:
        raise ApiError(
            "400", f"Invalid schema for {what}: {not_a_schema}", param=param, code=client.code
        )
    if cannot is not None:
        raise ApiError(
            "400",
            f"The mock's fallback cannot build a value for {what}: {cannot}. Script a reply "
            "for this request instead.",
            param=param,
            code="mock_fallback_unsatisfiable",
        )
    return text, warnings


CACHED_SCHEMA_BYTES = 64 * 1024  # larger schemas are checked afresh each time, not kept


def _from_schema(key: bytes) -> tuple[str | None, str | None, str, tuple[str, ...]]:
    """For the schema whose JSON is ``key``: why it is not a JSON Schema, or why no value
    can be built for it, or the JSON text of a value and its warnings."""
    try:
        schema = checked(loads(key))
        generated = value_for(schema)
    except NotASchema as error:
        return str(error), None, "", ()
    except CannotGenerate as error:
        return None, str(error), "", ()
    except (RecursionError, ArithmeticError) as error:  # what slips past the bounds above
        return None, f"the schema is past what the fallback computes ({error})", "", ()
    warnings = generated.warnings or doubts(schema, generated.value)
    return None, None, compact_json(generated.value), for_header(warnings)


_from_schema_cached = BoundedCache("fallback_schemas", 512, registry=SHARED).memoize(_from_schema)
