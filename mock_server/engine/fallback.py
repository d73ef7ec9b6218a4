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
with warnings for the ``x-mock-fallback-warning`` header. What a schema gives (its check, and
a value of up to ``CACHED_VALUE_BYTES``, or why there is none) is kept by the schema's JSON, so
an agent loop that repeats its tools pays for it once.
"""

from __future__ import annotations

import sys
from typing import Any, NamedTuple

from ..caches import SHARED, BoundedCache
from ..checks.client_schema_rules import ClientSchema, chat_format, chat_function
from ..config import DEFAULT_MAX_RESPONSE_BYTES
from ..errors import ApiError
from ..jsonio import compact_json, dumps, loads
from ..messages import last_user_text
from ..reply import Message, ToolCall, for_header
from ..wire.size import refuse_if_too_large
from .client_schemas import NotASchema, checked, doubts
from .values import CannotGenerate, ValueTooLarge, value_for


def fallback_message(body: dict[str, Any], max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES) -> Message:
    """What the server answers when nothing scripted applies (see the module docstring); a
    value built for a schema stops at ``max_bytes`` (``max_response_bytes``)."""
    demanded = _demanded_tool(body)
    if demanded is not None:
        index, tool = demanded
        arguments, warnings = _generated(chat_function(index, tool), max_bytes)
        return Message(
            tool_calls=[ToolCall(tool["function"]["name"], arguments)], warnings=warnings
        )
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        content, warnings = _generated(
            chat_format(response_format.get("json_schema") or {}), max_bytes
        )
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


def _generated(client: ClientSchema, max_bytes: int) -> tuple[str, tuple[str, ...]]:
    """JSON text satisfying the client's schema, and warnings; ``ApiError`` 400 for a schema
    that is not one, that the fallback cannot satisfy, or whose value would take more than
    ``max_bytes``."""
    what, param = client.what, client.param
    # Kept by the schema as written: a value's keys come in the order its schema gives them,
    # as a model with Structured Outputs writes them (OpenAI's guide, "Key ordering").
    built = _built(dumps(_or_object(client.schema)), max_bytes)
    if built.not_a_schema is not None:
        raise ApiError(
            "400", f"Invalid schema for {what}: {built.not_a_schema}", param=param, code=client.code
        )
    if built.cannot is not None:
        raise ApiError(
            "400",
            f"The mock's fallback cannot build a value for {what}: {built.cannot}. Script a "
            "reply for this request instead.",
            param=param,
            code="mock_fallback_unsatisfiable",
        )
    if built.too_large is not None:
        refuse_if_too_large(built.too_large, max_bytes, [f"a value for {what}"])
    return built.text, built.warnings


class _Built(NamedTuple):
    """What the fallback made of a schema: why it is not one, why no value can be built for
    it, the bytes its value took when building stopped past the bound, or the value's JSON text
    and its warnings."""

    not_a_schema: str | None = None
    cannot: str | None = None
    too_large: int | None = None
    text: str = ""
    warnings: tuple[str, ...] = ()


CACHED_SCHEMA_BYTES = 64 * 1024  # larger schemas are checked afresh each time, not kept
CACHED_VALUE_BYTES = 64 * 1024  # a larger value is built afresh each time
_BUILT: BoundedCache[tuple[bytes, int], _Built] = BoundedCache(
    "fallback_schemas", 512, max_bytes=32 << 20, registry=SHARED
)


def _built(key: bytes, max_bytes: int) -> _Built:
    """``_from_schema``, kept for a schema of up to ``CACHED_SCHEMA_BYTES`` of JSON (``key``)
    whose value (if any) is up to ``CACHED_VALUE_BYTES``."""
    if len(key) > CACHED_SCHEMA_BYTES:
        return _from_schema(key, max_bytes)
    found = _BUILT.get((key, max_bytes))
    if found is None:
        found = _from_schema(key, max_bytes)
        if len(found.text) <= CACHED_VALUE_BYTES:
            _BUILT.put((key, max_bytes), found, len(key) + sys.getsizeof(found.text))
    return found


def _from_schema(key: bytes, max_bytes: int) -> _Built:
    """What the fallback makes of the schema whose JSON is ``key``, building no more than
    ``max_bytes`` of value."""
    try:
        schema = checked(loads(key))
        generated = value_for(schema, max_bytes=max_bytes)
    except NotASchema as error:
        return _Built(not_a_schema=str(error))
    except CannotGenerate as error:
        return _Built(cannot=str(error))
    except ValueTooLarge as error:
        return _Built(too_large=error.size)
    except (RecursionError, ArithmeticError) as error:  # what slips past the bounds above
        return _Built(cannot=f"the schema is past what the fallback computes ({error})")
    text = compact_json(generated.value)
    if len(text) > max_bytes:  # escapes may lengthen what was counted within the bound
        return _Built(too_large=len(text))
    warnings = generated.warnings or doubts(schema, generated.value)
    return _Built(text=text, warnings=for_header(warnings))
