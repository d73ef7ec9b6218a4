"""OpenAI's rules for the JSON Schemas a client sends: a function's ``parameters`` and a
``json_schema`` response format, checked on every request, whatever then answers it.

Always, whether or not the schema is strict:

- the root is ``type: "object"``: ``schema must be a JSON Schema of 'type: "object"', got
  'type: "None"'.`` (``{}`` is an object without properties);
- a function's root has no ``oneOf``, ``anyOf``, ``allOf``, ``enum`` or ``not`` (``schema must
  have type 'object' and not have 'oneOf'/'anyOf'/'allOf'/'enum'/'not' at the top level.``; a
  response format's root may have ``anyOf`` beside its type);
- every array has ``items``: ``In context=('properties', 'tags'), array schema missing items.``

With ``strict: true`` (Structured Outputs), also: no subschema uses a keyword strict mode does
not take (``'oneOf' is not permitted.``: ``NOT_PERMITTED``); every object has
``additionalProperties: false``, then ``properties``, then ``required`` listing every property
(``Missing 'unit'.``, the first one missing) and no other (``Extra required key 'x'
supplied.``); a ``format`` is one of ``FORMATS`` (``'uri' is not a valid format.``). A Responses
function tool without ``strict`` is held only to the first rules: the API then makes its schema
strict where it can and otherwise calls the function without (OpenAI's function-calling guide).

``context`` is the path to the offending subschema, as Python writes a tuple: ``()``,
``('properties', 'steps', 'items')``, ``('properties', 'u', 'anyOf', '0')``; a definition's
(``$defs``, ``definitions``) starts afresh at ``()``, as a report of the live API shows. Each
subschema is checked before those inside it, which are taken in the order the schema writes
``properties``, ``items``, ``anyOf`` and the definitions; ``$ref`` is not followed. Sources: the
error bodies users quote from live answers in client projects' issues and OpenAI's forum
(2024-2026), OpenAI's Structured Outputs guide.

Not checked: the JSON Schema meta-schema (the fallback checks it when it builds a value from a
schema, ``engine.client_schemas``), strict mode's size limits, and past ``MAX_SUBSCHEMAS``
subschemas. The verdict on a tools list or a format is kept by its JSON, so an agent loop that
repeats its tools pays for it once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any, NamedTuple

from ..caches import SHARED, BoundedCache
from ..errors import ApiError
from ..jsonio import dumps, loads

MAX_SUBSCHEMAS = 5_000  # taken up in one tools list or format (some 8 ms); the rest is not checked
CACHED_BYTES = 64 * 1024  # a larger tools list or format is checked afresh, not kept
DEFINITIONS = ("$defs", "definitions")
TOP_LEVEL = ("oneOf", "anyOf", "allOf", "enum", "not")  # not at a function's root
# Refused in a strict schema: the composition keywords OpenAI's guide lists, and those users
# quote refusals of (oneOf 2024, propertyNames, uniqueItems and contains 2026).
NOT_PERMITTED = frozenset(
    {"allOf", "oneOf", "not", "if", "then", "else", "dependentRequired", "dependentSchemas"}
    | {"propertyNames", "uniqueItems", "contains"}
)
FORMATS = frozenset(  # the string formats a strict schema may name (OpenAI's guide)
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)


class ClientSchema(NamedTuple):
    """A JSON Schema a client sent, and how the API names it in an error."""

    schema: Any
    strict: bool
    what: str  # "function 'get_weather'", "response_format 'answer'"
    param: str
    code: str | None


def chat_function(index: int, tool: dict[str, Any]) -> ClientSchema:
    """The parameters of chat's ``tools[index]`` (``{"type": "function", "function": {...}}``)."""
    return _function(tool.get("function") or {}, f"tools[{index}].function.parameters")


def responses_function(index: int, tool: dict[str, Any]) -> ClientSchema:
    """The parameters of the Responses API's ``tools[index]`` (a function tool, flat)."""
    return _function(tool, f"tools[{index}].parameters")


def chat_format(json_schema: dict[str, Any]) -> ClientSchema:
    """The schema of chat's ``response_format.json_schema`` (code null, as chat answers it)."""
    return _format(json_schema, "response_format", None)


def responses_format(text_format: dict[str, Any]) -> ClientSchema:
    """The schema of the Responses API's ``text.format`` (it names it a response format too)."""
    return _format(text_format, "text.format.schema", "invalid_json_schema")


def _function(function: dict[str, Any], param: str) -> ClientSchema:
    what = f"function '{function.get('name', '')}'"
    strict = function.get("strict") is True
    return ClientSchema(
        function.get("parameters"), strict, what, param, "invalid_function_parameters"
    )


def _format(format: dict[str, Any], param: str, code: str | None) -> ClientSchema:
    what = f"response_format '{format.get('name', '')}'"
    strict = format.get("strict") is True
    return ClientSchema(format.get("schema"), strict, what, param, code)


def check_chat(body: dict[str, Any]) -> None:
    """Chat's function tools, then its ``json_schema`` response format."""
    _check_tools(body.get("tools"), chat_function)
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        _check_format(chat_format(response_format.get("json_schema") or {}))


def check_responses(body: dict[str, Any]) -> None:
    """The Responses API's function tools, then its ``text.format``."""
    _check_tools(body.get("tools"), responses_function)
    text = body.get("text")
    text_format = text.get("format") if isinstance(text, dict) else None
    if isinstance(text_format, dict) and text_format.get("type") == "json_schema":
        _check_format(responses_format(text_format))


def _check_tools(tools: Any, describe: Callable[[int, dict[str, Any]], ClientSchema]) -> None:
    if not tools or not isinstance(tools, list):
        return
    key = dumps(tools)
    found = _tools_problem(key) if len(key) <= CACHED_BYTES else _first_in_tools(tools)
    if found is not None:
        index, problem = found
        raise _refusal(describe(index, tools[index]), problem)


def _check_format(format: ClientSchema) -> None:
    if format.schema is None:
        return
    key = dumps([format.schema, format.strict])
    small = len(key) <= CACHED_BYTES
    found = _format_problem(key) if small else _problem(format.schema, format.strict, False)
    if found is not None:
        raise _refusal(format, found)


def _refusal(schema: ClientSchema, problem: str) -> ApiError:
    values = {"what": schema.what, "problem": problem}
    return ApiError("invalid_schema", param=schema.param, code=schema.code, values=values)


def _first_in_tools(tools: list[Any]) -> tuple[int, str] | None:
    """The first function tool whose parameters break a rule, and the rule's sentence."""
    budget = [MAX_SUBSCHEMAS]
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            continue
        function = tool.get("function") if isinstance(tool.get("function"), dict) else tool
        strict = function.get("strict") is True
        problem = _problem(function.get("parameters"), strict, True, budget)
        if problem is not None:
            return index, problem
    return None


_tools_problem = BoundedCache("client_tool_schemas", 512, registry=SHARED).memoize(
    lambda key: _first_in_tools(loads(key))
)
_format_problem = BoundedCache("client_format_schemas", 256, registry=SHARED).memoize(
    lambda key: _problem(*loads(key), False)
)


def _problem(
    schema: Any, strict: bool, function: bool, budget: list[int] | None = None
) -> str | None:
    """What the API says of ``schema`` (strict or not; a function's parameters or a format),
    or None where it takes it; ``budget``: the subschemas left to take up, shared by a
    request's schemas."""
    if not isinstance(schema, dict):
        return None
    schema = schema or {"type": "object"}
    if schema.get("type") != "object":
        got = schema.get("type")
        return f"schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{got}\"'."
    if function and any(keyword in schema for keyword in TOP_LEVEL):
        return (
            "schema must have type 'object' and not have 'oneOf'/'anyOf'/'allOf'/'enum'/'not' "
            "at the top level."
        )
    budget = budget if budget is not None else [MAX_SUBSCHEMAS]
    for context, node in _subschemas(schema, budget):
        broken = _rule_broken(node, strict)
        if broken is not None:
            return f"In context={context!r}, {broken}"
    return None


def _rule_broken(node: dict[str, Any], strict: bool) -> str | None:
    """The sentence of the first rule ``node`` itself breaks (not those inside it)."""
    if strict:
        refused = next((keyword for keyword in node if keyword in NOT_PERMITTED), None)
        if refused is not None:
            return f"'{refused}' is not permitted."
    kind = node.get("type")
    kinds = kind if isinstance(kind, list) else (kind,)
    if strict and "object" in kinds:
        broken = _object_rule_broken(node)
        if broken is not None:
            return broken
    if strict and isinstance(node.get("format"), str) and node["format"] not in FORMATS:
        return f"'{node['format']}' is not a valid format."
    if "array" in kinds and "items" not in node:
        return "array schema missing items."
    return None


def _object_rule_broken(node: dict[str, Any]) -> str | None:
    """What a strict object breaks: ``additionalProperties``, ``properties``, ``required``."""
    if node.get("additionalProperties") is not False:
        return "'additionalProperties' is required to be supplied and to be false."
    properties = node.get("properties")
    if not isinstance(properties, dict):
        return "object schema missing properties."
    required = node.get("required")
    listed = [k for k in required if isinstance(k, str)] if isinstance(required, list) else []
    rule = (
        "'required' is required to be supplied and to be an array including every key in "
        "properties."
    )
    names = set(listed)
    missing = next((name for name in properties if name not in names), None)
    if missing is not None:
        return f"{rule} Missing '{missing}'."
    extra = next((name for name in listed if name not in properties), None)
    if extra is not None:
        return f"{rule} Extra required key '{extra}' supplied."
    return None


def _subschemas(
    schema: dict[str, Any], budget: list[int]
) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """Each subschema with its context, outer ones first, while ``budget`` (the subschemas
    left to take up, shared by the schemas of one request) lasts: no more are ever gathered,
    however wide a schema is."""
    stack: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    _gather(stack, [((), schema)], budget)
    while stack:
        context, node = stack.pop()
        yield context, node
        inner: list[tuple[tuple[str, ...], Any]] = []
        for keyword, value in node.items():
            if keyword == "properties" and isinstance(value, dict):
                named = islice(value.items(), budget[0])
                inner += [((*context, keyword, name), sub) for name, sub in named]
            elif keyword in DEFINITIONS and isinstance(value, dict):
                inner += [((), sub) for sub in islice(value.values(), budget[0])]
            elif keyword == "items":
                inner.append(((*context, keyword), value))
            elif keyword == "anyOf" and isinstance(value, list):
                branches = islice(enumerate(value), budget[0])
                inner += [((*context, keyword, str(i)), sub) for i, sub in branches]
        _gather(stack, inner, budget)


def _gather(stack: list[Any], found: list[tuple[tuple[str, ...], Any]], budget: list[int]) -> None:
    """Put the subschemas of ``found`` on ``stack`` (the first on top), within ``budget``."""
    taken = [(where, sub) for where, sub in found if isinstance(sub, dict)][: budget[0]]
    budget[0] -= len(taken)
    stack += reversed(taken)
