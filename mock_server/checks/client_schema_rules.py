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
subschema is checked before those inside it, which are taken in the order its keywords are
written (``properties``, ``items``, ``anyOf``, the definitions); ``$ref`` is not followed; a
``format`` is read on strings only. Sources: the error bodies users quote from live answers in
client projects' issues and OpenAI's forum (2024-2026), OpenAI's Structured Outputs guide.

Then, a schema the rules take is checked against the JSON Schema meta-schema, whose first
error is the API's sentence (``None is not of type 'array'.``), draft 2020-12's whatever
``$schema`` the schema names (never fetched): by ``jsonschema-rs`` first, where the ``fast``
extra installed it and the schema names none (some 0.1 ms for a hundred properties), and by
``jsonschema`` for the words of a schema it finds invalid, or alone without the extra. That
costs up to 0.3 ms a subschema, so the schemas ``jsonschema`` reads for one request hold at
most ``MAX_META_VALUES`` values together, nested at most ``MAX_META_NESTING`` levels; a schema
past them is not read, nor are the schemas of a tools list or format too large to keep its
verdict (``CACHED_BYTES``), which would pay for it again on every request. Formats are not
checked (a ``pattern`` that is no regex: the fallback checks them when it builds a value,
``engine.client_schemas``).

Not checked: strict mode's size limits, and past ``MAX_SUBSCHEMAS`` subschemas and names
(``Budget``). A client's name or value an error repeats is cut to
``MAX_SHOWN`` characters. The verdict on a tools list or a format is kept by its JSON, so an
agent loop that repeats its tools pays for it once.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, NamedTuple, TypeVar

from ..caches import SHARED, BoundedCache
from ..errors import ApiError
from ..jsonio import dumps, loads, size_within
from .verdicts import meta_valid

T = TypeVar("T")
MAX_SUBSCHEMAS = 5_000  # subschemas and names taken up in a tools list or a format (some 8 ms)
MAX_SHOWN = 200  # characters of a client's name or value an error repeats
MAX_META_VALUES = 300  # values of a request's schemas jsonschema reads for the meta-schema
MAX_META_NESTING = 64  # and the deepest one of them may nest
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
    strict: bool | None  # as the request says; None when it does not
    what: str  # "function 'get_weather'", "response_format 'answer'"
    param: str
    code: str | None
    name: Any  # the function's or the format's name, as sent


def chat_function(index: int, tool: dict[str, Any], inner: None = None) -> ClientSchema:
    """The parameters of chat's ``tools[index]`` (``{"type": "function", "function": {...}}``;
    chat has no namespaces, so no ``inner``)."""
    function = tool.get("function")
    return _function(function if isinstance(function, dict) else {}, f"tools[{index}].function")


def responses_function(index: int, tool: dict[str, Any], inner: int | None = None) -> ClientSchema:
    """The parameters of the Responses API's ``tools[index]`` (a function tool, flat), or of
    the function ``tools[index].tools[inner]`` inside a namespace tool."""
    place = f"tools[{index}]" if inner is None else f"tools[{index}].tools[{inner}]"
    return _function(tool, place)


def chat_format(json_schema: dict[str, Any]) -> ClientSchema:
    """The schema of chat's ``response_format.json_schema`` (code null, as chat answers it)."""
    return _format(json_schema, "response_format", None)


def responses_format(text_format: dict[str, Any]) -> ClientSchema:
    """The schema of the Responses API's ``text.format`` (it names it a response format too)."""
    return _format(text_format, "text.format.schema", "invalid_json_schema")


def _function(function: dict[str, Any], place: str) -> ClientSchema:
    name = function.get("name", "")
    what = f"function '{_bounded(name)}'"
    strict = function.get("strict") if isinstance(function.get("strict"), bool) else None
    parameters = function.get("parameters")
    return ClientSchema(
        parameters, strict, what, f"{place}.parameters", "invalid_function_parameters", name
    )


def _format(response_format: dict[str, Any], param: str, code: str | None) -> ClientSchema:
    name = response_format.get("name", "")
    what = f"response_format '{_bounded(name)}'"
    strict = response_format.get("strict") is True
    return ClientSchema(response_format.get("schema"), strict, what, param, code, name)


FUNCTIONS = {"chat": chat_function, "responses": responses_function}  # a tool's description


def function_schemas(body: dict[str, Any], api: str) -> Iterator[ClientSchema]:
    """The parameters of each function tool of a checked ``api`` (``chat``, ``responses``)
    request body, a namespace's functions too."""
    tools = body.get("tools")
    for index, inner, tool in _functions(tools if isinstance(tools, list) else []):
        yield FUNCTIONS[api](index, tool, inner)


def format_schema(body: dict[str, Any], api: str) -> ClientSchema | None:
    """The ``json_schema`` response format of a checked ``api`` request body (chat's
    ``response_format``, the Responses API's ``text.format``), or None."""
    if api == "responses":
        text = body.get("text")
        given = text.get("format") if isinstance(text, dict) else None
        if isinstance(given, dict) and given.get("type") == "json_schema":
            return responses_format(given)
        return None
    given = body.get("response_format")
    if isinstance(given, dict) and given.get("type") == "json_schema":
        return chat_format(given.get("json_schema") or {})
    return None


def check_chat(body: dict[str, Any]) -> None:
    """Chat's function tools, then its ``json_schema`` response format."""
    _check_tools(body.get("tools"), "chat")
    _check_format(format_schema(body, "chat"))


def check_responses(body: dict[str, Any]) -> None:
    """The Responses API's function tools, then its ``text.format``."""
    _check_tools(body.get("tools"), "responses")
    _check_format(format_schema(body, "responses"))


def _check_tools(tools: Any, api: str) -> None:
    if not tools or not isinstance(tools, list):
        return
    key = dumps(tools)
    small = len(key) <= CACHED_BYTES
    found = _tools_problem((api, key)) if small else _first_in_tools(tools, api, Budget(meta=0))
    if found is not None:
        (index, inner), problem = found
        tool = tools[index] if inner is None else tools[index]["tools"][inner]
        raise _refusal(FUNCTIONS[api](index, tool, inner), problem)


def _check_format(client: ClientSchema | None) -> None:
    if client is None or client.schema is None:
        return
    key = dumps([client.schema, client.strict])
    small = len(key) <= CACHED_BYTES
    found = (
        _format_problem(key)
        if small
        else _problem(client.schema, client.strict, budget=Budget(meta=0))
    )
    if found is not None:
        raise _refusal(client, found)


def _refusal(client: ClientSchema, problem: str) -> ApiError:
    values = {"what": client.what, "problem": problem}
    return ApiError("invalid_schema", param=client.param, code=client.code, values=values)


def _first_in_tools(
    tools: list[Any], api: str, budget: Budget | None = None
) -> tuple[tuple[int, int | None], str] | None:
    """Where the first function tool whose parameters break a rule is (its index, and its
    index inside a namespace tool, if it is in one), and the rule's sentence (what is kept:
    not the schema itself)."""
    budget = budget or Budget()
    for index, inner, tool in _functions(tools):
        if not budget.take((tool,)):  # each tool is a name; past the bound, none is looked at
            break
        client = FUNCTIONS[api](index, tool, inner)
        problem = _problem(client.schema, client.strict, at_function_root=True, budget=budget)
        if problem is not None:
            return (index, inner), problem
    return None


def _functions(tools: list[Any]) -> Iterator[tuple[int, int | None, dict[str, Any]]]:
    """Each function tool with where it is: its index, and its index inside a ``namespace``
    tool (the Responses API's), or None."""
    for index, tool in enumerate(tools):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind == "function":
            yield index, None, tool
        elif kind == "namespace" and isinstance(tool.get("tools"), list):
            for inner, function in enumerate(tool["tools"]):
                if isinstance(function, dict) and function.get("type") == "function":
                    yield index, inner, function


_tools_problem = BoundedCache("client_tool_schemas", 512, registry=SHARED).memoize(
    lambda key: _first_in_tools(loads(key[1]), key[0])
)
_format_problem = BoundedCache("client_format_schemas", 256, registry=SHARED).memoize(
    lambda key: _problem(*loads(key))
)


class Budget:
    """What the schemas of one request may still take up: subschemas visited and names
    compared (``MAX_SUBSCHEMAS`` in all), and values read for the meta-schema
    (``MAX_META_VALUES``), so that no schema, however wide, costs more."""

    __slots__ = ("left", "meta")

    def __init__(self, meta: int = MAX_META_VALUES) -> None:
        self.left = MAX_SUBSCHEMAS
        self.meta = meta  # values jsonschema may still read for the meta-schema

    def take(self, items: Iterable[T]) -> list[T]:
        """As many of ``items`` as are left, taken from the budget."""
        taken = list(islice(items, self.left))
        self.left -= len(taken)
        return taken


def _problem(
    schema: Any, strict: bool, *, at_function_root: bool = False, budget: Budget | None = None
) -> str | None:
    """What the API says of ``schema`` (strict or not; ``at_function_root``: a function's
    parameters), or None where it takes it; ``budget`` is shared by a request's schemas."""
    if not isinstance(schema, dict):
        return None
    schema = schema or {"type": "object"}
    if schema.get("type") != "object":
        got = _bounded(schema.get("type"))  # as Python prints it: None, ['object', 'null'] ...
        return f"schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{got}\"'."
    if at_function_root and any(keyword in schema for keyword in TOP_LEVEL):
        return (
            "schema must have type 'object' and not have 'oneOf'/'anyOf'/'allOf'/'enum'/'not' "
            "at the top level."
        )
    budget = budget or Budget()
    for context, node in _subschemas(schema, budget):
        broken = _rule_broken(node, strict, budget)
        if broken is not None:
            return f"In context={_bounded(context)}, {broken}"
    return _not_a_schema(schema, budget)


def _not_a_schema(schema: dict[str, Any], budget: Budget) -> str | None:
    """The meta-schema's first error in ``schema`` (see the module docstring), or None."""
    if meta_valid(schema):
        return None
    values, depth = size_within(schema, budget.meta, MAX_META_NESTING)
    if values > budget.meta or depth > MAX_META_NESTING:
        return None
    budget.meta -= values
    return meta_schema_error(schema)


def meta_schema_error(schema: Any, formats: bool = False) -> str | None:
    """The JSON Schema meta-schema's first error in ``schema``, as the API words it (the
    validator's sentence, without a path, cut to ``MAX_SHOWN`` characters), or None;
    ``formats``: its formats checked too, as ``check_schema`` checks them."""
    error = next(_meta_validator(formats).iter_errors(schema), None)
    return None if error is None else _bounded(f"{error.message}.")


@functools.cache
def _meta_validator(formats: bool) -> Any:
    from jsonschema import Draft202012Validator  # imported on first use: 0.06 s

    checker = Draft202012Validator.FORMAT_CHECKER if formats else None
    return Draft202012Validator(Draft202012Validator.META_SCHEMA, format_checker=checker)


def _rule_broken(node: dict[str, Any], strict: bool, budget: Budget) -> str | None:
    """The sentence of the first rule ``node`` itself breaks (not those inside it)."""
    if strict:
        refused = next((keyword for keyword in node if keyword in NOT_PERMITTED), None)
        if refused is not None:
            return f"'{refused}' is not permitted."
    kind = node.get("type")
    kinds = kind if isinstance(kind, list) else (kind,)
    if strict and "object" in kinds:
        broken = _object_rule_broken(node, budget)
        if broken is not None:
            return broken
    text_format = node.get("format")
    if strict and "string" in kinds and isinstance(text_format, str) and text_format not in FORMATS:
        return f"'{_bounded(text_format)}' is not a valid format."
    if "array" in kinds and "items" not in node:
        return "array schema missing items."
    return None


def _object_rule_broken(node: dict[str, Any], budget: Budget) -> str | None:
    """What a strict object breaks: ``additionalProperties``, ``properties``, ``required``
    (its names compared within ``budget``)."""
    if node.get("additionalProperties") is not False:
        return "'additionalProperties' is required to be supplied and to be false."
    properties = node.get("properties")
    if not isinstance(properties, dict):
        return "object schema missing properties."
    required = node.get("required")
    listed = (
        budget.take(k for k in required if isinstance(k, str)) if isinstance(required, list) else []
    )
    rule = (
        "'required' is required to be supplied and to be an array including every key in "
        "properties."
    )
    names = set(listed)
    missing = next((name for name in budget.take(properties) if name not in names), None)
    if missing is not None:
        return f"{rule} Missing '{_bounded(missing)}'."
    extra = next((name for name in listed if name not in properties), None)
    if extra is not None:
        return f"{rule} Extra required key '{_bounded(extra)}' supplied."
    return None


def _bounded(value: Any) -> str:
    """``value`` as the message prints it, cut to ``MAX_SHOWN`` characters."""
    text = str(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def _subschemas(
    schema: dict[str, Any], budget: Budget
) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """Each subschema with its context, outer ones first, then those inside each in the order
    its keywords are written, while ``budget`` lasts."""
    stack: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    _gather(stack, [((), schema)], budget)
    while stack:
        context, node = stack.pop()
        yield context, node
        inner: list[tuple[tuple[str, ...], Any]] = []
        for keyword, value in node.items():
            if keyword == "properties" and isinstance(value, dict):
                named = islice(value.items(), budget.left)
                inner += [((*context, keyword, name), sub) for name, sub in named]
            elif keyword in DEFINITIONS and isinstance(value, dict):
                inner += [((), sub) for sub in islice(value.values(), budget.left)]
            elif keyword == "items":
                inner.append(((*context, keyword), value))
            elif keyword == "anyOf" and isinstance(value, list):
                branches = islice(enumerate(value), budget.left)
                inner += [((*context, keyword, str(i)), sub) for i, sub in branches]
        _gather(stack, inner, budget)


def _gather(stack: list[Any], found: list[tuple[tuple[str, ...], Any]], budget: Budget) -> None:
    """Put the subschemas of ``found`` on ``stack`` (the first on top), within ``budget``."""
    stack += reversed(budget.take((where, sub) for where, sub in found if isinstance(sub, dict)))
