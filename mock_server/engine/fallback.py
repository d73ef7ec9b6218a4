"""The fallback reply: what the server answers when no scenario applies.

Deterministic, and valid for what the request asked: a tool call with arguments that satisfy
the tool's JSON Schema when ``tool_choice`` demands one, JSON that satisfies
``response_format.json_schema``, ``{"reply": ...}`` for ``json_object``, else text echoing the
last user message.

A client's schema is checked against the JSON Schema meta-schema before anything is generated
from it, and refused as OpenAI refuses one (400 ``Invalid schema for function 'name': In
context=(...), ...``, code ``invalid_function_parameters``; for ``response_format``, code
``invalid_json_schema``; wording as captured from the real API in public client issue threads).
Checks and generated values are cached by the schema's JSON, so an agent loop that repeats its
tools pays for them once.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson

from ..errors import ApiError
from ..jsonio import compact_json, loads
from ..messages import last_user_text
from ..wire.completions import Choice, ToolCall
from .examples import CannotGenerate, example_for


def fallback_choice(body: dict[str, Any]) -> Choice:
    """What the server answers when nothing scripted applies (see the module docstring)."""
    demanded = _demanded_tool(body)
    if demanded is not None:
        index, tool = demanded
        arguments, warnings = _generated(
            tool.get("parameters") or {"type": "object"},
            f"function '{tool['name']}'",
            f"tools[{index}].function.parameters",
            "invalid_function_parameters",
        )
        return Choice(tool_calls=[ToolCall(tool["name"], arguments)], warnings=warnings)
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        json_schema = response_format.get("json_schema") or {}
        content, warnings = _generated(
            json_schema.get("schema") or {"type": "object"},
            f"response_format '{json_schema.get('name', '')}'",
            "response_format",
            "invalid_json_schema",
        )
        return Choice(content=content, warnings=warnings)
    said = last_user_text(body.get("messages"))
    if response_format.get("type") == "json_object":
        return Choice(content=compact_json({"reply": said}))
    return Choice(content=f"This is a mock response to: {said}")


def _demanded_tool(body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """The function ``tool_choice`` demands, with its index in ``tools``."""
    choice = body.get("tool_choice")
    functions = [
        (index, tool["function"])
        for index, tool in enumerate(body.get("tools") or ())
        if isinstance(tool.get("function"), dict)
    ]
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        return next(((i, f) for i, f in functions if f.get("name") == name), None)
    if choice == "required" and functions:
        return functions[0]
    return None


def _generated(schema: Any, what: str, param: str, code: str) -> tuple[str, tuple[str, ...]]:
    """JSON text satisfying ``schema``, and warnings; ``ApiError`` 400 for a schema that is not
    one, or that the fallback cannot satisfy."""
    key = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
    build = _from_schema_cached if len(key) <= CACHED_SCHEMA_BYTES else _from_schema
    not_a_schema, cannot, text, warnings = build(key)
    if not_a_schema is not None:
        raise ApiError("400", f"Invalid schema for {what}: {not_a_schema}", param=param, code=code)
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
    """For the schema whose sorted JSON is ``key``: why it is not a JSON Schema, or why no value
    can be built for it, or the JSON text of a value and its warnings."""
    # jsonschema is imported on the first schema only: it costs a tenth of a second.
    from jsonschema import Draft202012Validator, SchemaError

    schema = loads(key)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        return f"In context={tuple(error.path)!r}, {error.message}.", None, "", ()
    try:
        example = example_for(schema)
    except CannotGenerate as error:
        return None, str(error), "", ()
    warnings = list(example.warnings)
    try:
        invalid = next(iter(Draft202012Validator(schema).iter_errors(example.value)), None)
    except Exception as exc:  # e.g. a $ref elsewhere in the schema that cannot be resolved
        warnings.append(f"the generated value could not be verified: {exc}")
        invalid = None
    if invalid is not None and not warnings:
        where = ".".join(map(str, invalid.absolute_path)) or "the root"
        warnings.append(f"the generated value breaks the schema at {where}: {invalid.message}")
    return None, None, compact_json(example.value), tuple(warnings)


_from_schema_cached = functools.lru_cache(maxsize=512)(_from_schema)
