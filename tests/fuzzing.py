"""Structure-aware hostile input for the server: strategies, a sender, and what every answer must
satisfy. Used by ``test_fuzz.py`` (a bounded run in CI) and ``benchmarks/fuzz.py`` (10,000+).

Requests start from valid bodies of each profile and are broken in the ways clients and
attackers break them: a field replaced by any JSON value (integral decimals, huge and negative
numbers, deep nesting, wrong types, lone surrogates), fields of the profile's own schema set to
anything, keys removed or added, override and credential headers with any bytes, odd paths and
methods, raw bodies that are not JSON, tool-call arguments nested past any parser, many distinct
API keys. Client JSON Schemas come in every shape the fallback builds for, and in the shapes that
attack it: counts written as integral decimals, bounds past a float's range, ``$ref``/``anyOf``
cycles, catastrophic regular expressions. Scenario documents are valid ones mutated with what
YAML allows and JSON does not (dates, sets, binary values, aliases, huge integers, deep nesting).
"""

from __future__ import annotations

import http.client
import json
import math
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from mock_server.bundled import bundled

PROFILES = {"openai": "", "deepseek": "/deepseek", "gemini": "/gemini", "gomodel": "/gomodel"}
PROFILES["gemini-tools"] = "/gemini-tools"
API_KEY = "sk-fuzz-0123456789"

# --- request bodies ------------------------------------------------------------------------------

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
            "required": ["location"],
        },
    },
}
VALID_RESPONSES_BODIES: list[dict[str, Any]] = [
    {"model": "gpt-4o", "input": "one two three", "instructions": "Be brief."},
    {
        "model": "gpt-4o",
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "weather?"}]},
            {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
        ],
        "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}],
        "tool_choice": "required",
        "stream": True,
    },
    {
        "model": "gpt-4o",
        "input": "a person",
        "text": {"format": {"type": "json_schema", "name": "p", "schema": {"type": "object"}}},
        "previous_response_id": "resp_unknown",
        "store": False,
    },
    {"model": "gpt-4o", "input": [{"type": "item_reference", "id": "msg_unknown"}]},
    {
        "model": "gpt-4o",
        "input": [
            {"role": "user", "content": "Find Ada"},
            {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{}",
             "namespace": "crm", "caller": {"type": "direct"}},
            {"type": "function_call_output", "call_id": "c1", "output": "{}", "namespace": "crm"},
        ],
        "tools": [
            {"type": "namespace", "name": "crm", "description": "Customers", "tools": [
                {"type": "function", "name": "lookup", "parameters": {"type": "object"},
                 "defer_loading": True},
            ]},
            {"type": "tool_search"},
        ],
        "tool_choice": {"type": "allowed_tools", "mode": "required",
                        "tools": [{"type": "function", "name": "lookup"}]},
    },
]  # fmt: skip
VALID_EMBEDDINGS_BODIES: list[dict[str, Any]] = [
    {"model": "text-embedding-3-small", "input": "one two three"},
    {"model": "text-embedding-3-large", "input": ["a", "b c"], "dimensions": 8},
    {"model": "text-embedding-ada-002", "input": [[1, 2], [3]], "encoding_format": "base64"},
]
VALID_BODIES: list[dict[str, Any]] = [
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "one two three"}]},
    {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        ],
        "n": 2,
        "max_tokens": 3,
        "logprobs": True,
        "top_logprobs": 2,
    },
    {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "weather?"}],
        "tools": [WEATHER_TOOL],
        "tool_choice": "required",
        "stream": True,
        "stream_options": {"include_usage": True},
    },
    {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location":"x"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ],
        "tools": [WEATHER_TOOL],
    },
    {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "json please"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "answer",
                "schema": {
                    "type": "object",
                    "properties": {
                        "items": {"type": "array", "items": {"type": "integer"}, "minItems": 2},
                        "name": {"type": "string", "pattern": "^[a-z]{3}$"},
                    },
                    "required": ["items", "name"],
                },
            },
        },
    },
    {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "weather?"}],
        "tools": [WEATHER_TOOL],
        "tool_choice": {
            "type": "allowed_tools",
            "allowed_tools": {
                "mode": "required",
                "tools": [{"type": "function", "function": {"name": "get_weather"}}],
            },
        },
    },
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 2, 128, 129, 5000, 10**20, -1, 2**63 - 1]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([2.0, 1.0, 0.5, -2.0, 1e308, 20.0, 21.0]),
    st.text(max_size=40),
    st.sampled_from(["", "json", "required", "auto", "none", "function", "user", "tool", "²"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


DEEP = "__deep_{}__"  # stands for arrays and objects nested that deep; see ``encode``


def nested_text(depth: int) -> str:
    """JSON nesting objects and arrays ``depth`` levels deep (too deep for ``json.dumps``)."""
    opening = "".join('{"a":' if level % 2 == 0 else "[" for level in range(depth))
    closing = "".join("}" if level % 2 == 0 else "]" for level in reversed(range(depth)))
    return opening + "1" + closing


deep_values = st.sampled_from([127, 129, 260, 1000, 5000]).map(DEEP.format)


def encode(body: Any) -> bytes:
    """``body`` as JSON, each ``DEEP`` placeholder written out as that deep a nesting."""
    text = json.dumps(body)
    for depth in (127, 129, 260, 1000, 5000):
        text = text.replace(json.dumps(DEEP.format(depth)), nested_text(depth))
    return text.encode()


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if len(prefix) > 12:
        return out
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.extend(_paths(item, (*prefix, index)))
    return out


def _set(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _set(value[head], tuple(rest), new)
    return copy


def _delete(value: Any, path: tuple) -> Any:
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    if rest:
        copy[head] = _delete(value[head], tuple(rest))
    else:
        del copy[head]
    return copy


SCHEMA_FIELDS = sorted(
    {
        name
        for path in bundled("schemas").glob("*.request.json")
        for name in json.loads(path.read_text("utf-8")).get("properties", {})
    }
)


@st.composite
def broken_bodies(
    draw: st.DrawFn, valid: list[dict[str, Any]] = VALID_BODIES
) -> dict[str, Any] | list | str | int | None:
    """A valid body (of ``VALID_BODIES``, or ``valid``) broken at zero to three places."""
    body: Any = draw(st.sampled_from(valid))
    for _ in range(draw(st.integers(0, 3))):
        paths = _paths(body)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "replace", "delete", "field", "deep", "add"]))
        if action == "replace":
            body = _set(body, path, draw(json_values))
        elif action == "deep":
            body = _set(body, path, draw(deep_values))
        elif action == "delete" and path:
            body = _delete(body, path)
        elif action == "field" and isinstance(body, dict):
            body = {**body, draw(st.sampled_from(SCHEMA_FIELDS)): draw(json_values)}
        elif action == "add" and isinstance(body, dict):
            body = {**body, draw(st.text(min_size=1, max_size=10)): draw(json_values)}
    return body


# The tool loop of ``VALID_BODIES`` (answered by a templated scenario, which reads the tool
# call's arguments) with those arguments nested past what any parser follows.
DEEP_ARGUMENTS = ["[" * 100_000, '{"a":' * 5000, nested_text(1000), nested_text(129)]
DEEP_ARGUMENTS.append("[ " * 600 + "]" * 600)


def with_arguments(arguments: str) -> dict[str, Any]:
    body = json.loads(json.dumps(VALID_BODIES[3]))
    body["messages"][1]["tool_calls"][0]["function"]["arguments"] = arguments
    return body


deep_argument_bodies = st.sampled_from(DEEP_ARGUMENTS).map(with_arguments)

# Server-wide rate limits, generous enough that other strategies are still answered, and API
# keys each request its own: every key gets an account of its own.
LIMITS = {"requests_per_minute": 100_000, "tokens_per_minute": 10**9}
distinct_key_headers = st.integers(0, 2**64).map(
    lambda n: {"Authorization": f"Bearer sk-fuzz-{n:x}", "Content-Type": "application/json"}
)


# --- client-supplied JSON Schemas and requests that pass validation -------------------------

PATTERNS = [
    "^[a-z]{3}$",
    "^\\d{5}(-\\d{4})?$",
    "^[A-Z][a-z]+$",
    "x+",
    "^(?=.*\\d).{8,}$",
    "(",
    "^a{2,}b?$",
]
FORMATS = ["date-time", "date", "time", "email", "uuid", "uri", "ipv4", "ipv6", "hostname"]
TREE = {
    "type": "object",
    "properties": {
        "value": {"type": "integer"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/tree"}},
        "parent": {"anyOf": [{"$ref": "#/$defs/tree"}, {"type": "null"}]},
    },
    "required": ["value", "children", "parent"],
    "additionalProperties": False,
}
schema_leaves = st.one_of(
    st.sampled_from(
        [
            {"type": "string"},
            {"type": "integer", "minimum": 3},
            {"type": "integer", "multipleOf": 5, "minimum": 7, "maximum": 100},
            {"type": "number", "exclusiveMaximum": 0},
            {"type": "number", "exclusiveMinimum": 0, "maximum": 0.5},
            {"type": "boolean"},
            {"type": "null"},
            {"enum": ["red", "green"]},
            {"const": 5},
            {"type": ["string", "null"]},
            {"type": "string", "minLength": 3, "maxLength": 5},
            {"$ref": "#/$defs/tree"},
            {"$ref": "#/$defs/colour"},
            {},
            True,
        ]
    ),
    st.sampled_from(FORMATS).map(lambda f: {"type": "string", "format": f}),
    st.sampled_from(PATTERNS).map(lambda p: {"type": "string", "pattern": p}),
)


@st.composite
def _object_schemas(draw: st.DrawFn, inner: st.SearchStrategy) -> dict[str, Any]:
    properties = draw(st.dictionaries(st.text("abcdef", min_size=1, max_size=5), inner, max_size=4))
    required = (
        draw(st.lists(st.sampled_from(sorted(properties)), unique=True)) if properties else []
    )
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": draw(st.booleans()),
    }


schemas = st.recursive(
    schema_leaves,
    lambda inner: st.one_of(
        _object_schemas(inner),
        st.builds(
            lambda items, low, unique: (
                {"type": "array", "items": items, "minItems": low}
                | ({"uniqueItems": True} if unique else {})
            ),
            inner,
            st.integers(0, 3),
            st.booleans(),
        ),
        st.lists(inner, min_size=1, max_size=3).map(lambda branches: {"anyOf": branches}),
        # allOf as Pydantic writes it: the schema, and a sibling that only describes it.
        inner.map(lambda schema: {"allOf": [schema, {"description": "described"}]}),
        st.lists(inner, min_size=1, max_size=3).map(
            lambda prefix: {"type": "array", "prefixItems": prefix, "items": False}
        ),
    ),
    max_leaves=8,
).map(
    lambda schema: {
        **(schema if isinstance(schema, dict) else {"anyOf": [schema]}),
        "$defs": {"tree": TREE, "colour": {"enum": ["red", "green"]}},
    }
)
# Schemas that are not schemas: refused as OpenAI refuses them.
broken_schemas = st.sampled_from(
    [
        {"type": "array", "minItems": "2"},
        {"type": "object", "properties": "x"},
        {"enum": {}},
        {"type": "integer", "minimum": "1"},
        {"type": "nope"},
        {"type": "array", "minItems": 10**9},
        {"type": "string", "minLength": 10**9},
        {"type": "integer", "minimum": 5, "maximum": 1},
        {"$ref": "#/$defs/missing"},
        {"$ref": "https://example.com/schema.json"},
        {"type": "object", "required": ["a"], "additionalProperties": False},
        {"type": "string", "pattern": "^a{3}$", "minLength": 5},
    ]
)


# Valid JSON Schemas that attack the fallback: the server answers each with a value or a clear 400.
COUNTS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties")
CATASTROPHIC_PATTERNS = [
    "^(a+)+$",
    "^(a+)+$(?!)",
    "^(a|a)*$",
    "^(\\w+\\s?)*$",
    "(.*a){12}",
    "^(a?){25}a{25}$",
    "^([a-z0-9]+-?)*[a-z0-9]$",
]
EXTREME_NUMBERS = [1.7e308, -1.7e308, 1e308, 5e-324, 1e-300, 1e-10, 2.0**53 + 2, 0.0, 3.0]


def integral_decimals(schema: Any) -> Any:
    """``schema`` with every count written as an integral decimal (``"minItems": 3.0``)."""
    if isinstance(schema, list):
        return [integral_decimals(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        key: float(value) if key in COUNTS and isinstance(value, int) else integral_decimals(value)
        for key, value in schema.items()
    }


@st.composite
def extreme_numbers(draw: st.DrawFn) -> dict[str, Any]:
    """A number schema whose bounds and step are huge or tiny floats."""
    schema: dict[str, Any] = {"type": draw(st.sampled_from(["number", "integer"]))}
    keywords = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]
    for keyword in draw(st.lists(st.sampled_from(keywords), unique=True, max_size=3)):
        value = draw(st.one_of(st.sampled_from(EXTREME_NUMBERS), st.floats(allow_nan=False)))
        if math.isfinite(value):
            schema[keyword] = (abs(value) or 1.0) if keyword == "multipleOf" else value
    return schema


@st.composite
def catastrophic_patterns(draw: st.DrawFn) -> dict[str, Any]:
    """A regex that backtracks exponentially, where the fallback builds or checks a string."""
    pattern = draw(st.sampled_from(CATASTROPHIC_PATTERNS))
    long_text = "a" * draw(st.sampled_from([3, 30, 200])) + "!"
    return draw(
        st.sampled_from(
            [
                {"type": "string", "pattern": pattern},
                {"type": "string", "pattern": pattern, "minLength": len(long_text)},
                {"type": "string", "pattern": pattern, "enum": [long_text]},
                {"type": "string", "pattern": pattern, "const": long_text},
                {
                    "type": "object",
                    "properties": {long_text: {"type": "string"}},
                    "required": [long_text],
                    "patternProperties": {pattern: {"type": "integer"}},
                },
                {"type": "object", "propertyNames": {"pattern": pattern}, "minProperties": 2},
                {
                    "x-hidden": {"type": "string", "pattern": pattern},
                    "type": "string",
                    "minLength": len(long_text),
                    "not": {"$ref": "#/x-hidden"},
                },
            ]
        )
    )


CYCLES = [
    {"$defs": {"a": {"anyOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"},
    {
        "$defs": {"a": {"oneOf": [{"$ref": "#/$defs/b"}]}, "b": {"$ref": "#/$defs/a"}},
        "$ref": "#/$defs/a",
    },
    {"$defs": {"a": {"allOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"},
    {"anyOf": [{"$ref": "#"}, {"$ref": "#"}]},
    {"type": "array", "items": {"$ref": "#"}, "minItems": 1},
    {"type": "object", "properties": {"next": {"$ref": "#"}}, "required": ["next"]},
    {"$defs": {"a": {"anyOf": [{"$ref": "#/$defs/a"}, {"type": "null"}]}}, "$ref": "#/$defs/a"},
    {"$ref": "#/const", "const": {"required": 5}},
    {"$ref": "#/$defs"},
    {
        "type": "string",
        "not": {"$ref": "#/$defs/a0"},
        "$defs": {
            **{f"a{i}": {"anyOf": [{"$ref": f"#/$defs/a{i + 1}"}] * 2} for i in range(24)},
            "a24": {"type": "integer"},
        },
    },
]
hostile_schemas = st.one_of(
    schemas.map(integral_decimals),
    extreme_numbers(),
    catastrophic_patterns(),
    st.sampled_from(CYCLES),
)


# Any combination of keywords, each with a value of its type (most pass the meta-schema), nested
# through every applicator: for the property that the fallback answers every schema in time.
_numbers = st.one_of(
    st.integers(-1000, 1000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(EXTREME_NUMBERS),
)
_counts = st.one_of(st.integers(0, 70), st.sampled_from([0.0, 1.0, 2.0, 12.0, 1e300, 10**12]))
_names = st.text("abc", min_size=1, max_size=3)
_keywords = {
    "type": st.one_of(
        st.sampled_from(["string", "integer", "number", "boolean", "null", "array", "object"]),
        st.lists(st.sampled_from(["string", "integer", "null"]), min_size=1, unique=True),
    ),
    "minimum": _numbers,
    "maximum": _numbers,
    "exclusiveMinimum": _numbers,
    "exclusiveMaximum": _numbers,
    "multipleOf": _numbers.filter(lambda v: v > 0),
    "minLength": _counts,
    "maxLength": _counts,
    "minItems": _counts,
    "maxItems": _counts,
    "minProperties": _counts,
    "uniqueItems": st.booleans(),
    "pattern": st.sampled_from(PATTERNS + CATASTROPHIC_PATTERNS),
    "format": st.sampled_from(FORMATS),
    "enum": st.lists(json_scalars, min_size=1, max_size=3),
    "const": json_scalars,
    "required": st.lists(_names, max_size=2, unique=True),
}
any_schemas = st.recursive(
    st.one_of(st.fixed_dictionaries({}, optional=_keywords), st.booleans()),
    lambda inner: st.one_of(
        st.fixed_dictionaries(
            {"properties": st.dictionaries(_names, inner, max_size=3)},
            optional={**_keywords, "additionalProperties": inner},
        ),
        st.fixed_dictionaries(
            {"items": inner}, optional={**_keywords, "prefixItems": st.lists(inner, max_size=2)}
        ),
        st.builds(
            lambda key, branches: {key: branches},
            st.sampled_from(["anyOf", "oneOf", "allOf"]),
            st.lists(inner, min_size=1, max_size=3),
        ),
        inner.map(lambda schema: {"not": schema}),
        inner.map(lambda schema: {"$defs": {"a": schema}, "$ref": "#/$defs/a"}),
        st.just({"$ref": "#"}),
    ),
    max_leaves=10,
)


@st.composite
def odd_valid_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Requests that pass validation with values at the edges: integral decimals, bounds, every
    client schema shape (or one that is not a schema at all)."""
    body: dict[str, Any] = {
        "model": draw(st.sampled_from(["gpt-4o", "deepseek-chat", "gemini-2.5-flash"])),
        "messages": [{"role": "user", "content": draw(st.text(max_size=60))}],
    }
    integer = st.one_of(st.integers(1, 4), st.sampled_from([1.0, 2.0, 128, 128.0]))
    if draw(st.booleans()):
        body["n"] = draw(integer)
    if draw(st.booleans()):
        body["max_tokens"] = draw(integer)
    if draw(st.booleans()):
        body["logprobs"] = True
        body["top_logprobs"] = draw(st.one_of(st.integers(0, 20), st.sampled_from([20.0, 0.0])))
    if draw(st.booleans()):
        body["stream"] = True
        body["stream_options"] = {"include_usage": draw(st.booleans())}
    schema = draw(st.one_of(schemas, schemas, broken_schemas, hostile_schemas))
    where = draw(st.sampled_from(["tool", "named_tool", "response_format", "none"]))
    if where in ("tool", "named_tool"):
        body["tools"] = [{"type": "function", "function": {"name": "f", "parameters": schema}}]
        body["tool_choice"] = (
            "required" if where == "tool" else {"type": "function", "function": {"name": "f"}}
        )
    elif where == "response_format":
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "out", "schema": schema},
        }
    return body


# Bodies that are not JSON objects at all, or that break the encoding.
raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"",
            b"{",
            b"[]",
            b'"x"',
            b"null",
            b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "\\ud800"}]}',
            b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "\xff"}]}',
            b'{"model": "gpt-4o", "n": 1e400, "messages": []}',
            b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "n": NaN}',
        ]
    ),
)

# --- headers and paths ---------------------------------------------------------------------------

# http.client sends header values as Latin-1, so a character here is one byte on the wire:
# "\xff" is a byte that is not UTF-8.
header_text = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=30),
    st.sampled_from(["429", "500", "503", "400", "418", "599", "600", "099", "²", "4\xff9"]),
)
OVERRIDE_FAULTS = ["reset", "empty", "malformed_json", "disconnect", "disconnect:2"]
OVERRIDE_FAULTS += ["malformed_chunk", "error_event", "no_done", "no_done:x", "stall:x", "\xff"]


@st.composite
def request_headers(draw: st.DrawFn) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    auth = draw(st.sampled_from(["ok"] * 8 + ["none", "text", "bytes"]))
    if auth == "ok":
        headers["Authorization"] = f"Bearer {API_KEY}"
    elif auth == "text":
        headers["Authorization"] = draw(header_text)
    elif auth == "bytes":
        headers["Authorization"] = "Bearer sk-\xff\xfe" + draw(header_text)
    if draw(st.integers(0, 3)) == 0:
        headers[draw(st.sampled_from(["X-Mock-Status", "X-Mock-Scenario"]))] = draw(header_text)
    if draw(st.integers(0, 5)) == 0:
        headers["X-Mock-Fault"] = draw(st.sampled_from(OVERRIDE_FAULTS))
    if draw(st.integers(0, 5)) == 0:
        headers["Content-Type"] = draw(
            st.one_of(header_text, st.sampled_from(["text/plain", "application/x+json; q=\xff"]))
        )
    if draw(st.integers(0, 9)) == 0:
        headers["Content-Encoding"] = draw(st.sampled_from(["gzip", "deflate", "br", "x"]))
    return headers


@st.composite
def chat_paths(draw: st.DrawFn, api_path: str = "/chat/completions") -> str:
    tenant = draw(st.sampled_from(["", "", "", "/t/fuzz", "/t/%FF", "/t/a%0Ab"]))
    if draw(st.integers(0, 9)) == 0:
        profile = draw(st.sampled_from(["/nope", "/%C2%B2"]))
        base = draw(st.sampled_from(["/api/v1", "/v1beta/openai"]))
    else:
        profile, base = draw(st.sampled_from(list(PROFILES.values()))), "/v1"
    return tenant + profile + base + api_path


odd_paths = st.one_of(
    st.sampled_from(
        ["/nope%0Apath", "/%FF", "/v1/models", "/__admin/requests?limit=%C2%B2", "/", "//", "/v1/"]
    ),
    st.text(alphabet="abc/%0123456789AF?=&.", max_size=30).map(lambda t: "/" + t),
)
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])

# --- scenario documents --------------------------------------------------------------------------

SCENARIO = """scenarios:
  - name: fuzz-one
    match:
      last_user_message: {contains: "weather"}
      headers: {authorization: "Bearer sk-secret"}
    reply:
      content: "It is {{ request.model }}"
      tool_calls:
        - name: get_weather
          arguments: {location: Paris, when: VALUE}
"""
YAML_VALUES = [
    "2024-01-01",
    "2024-01-01T10:00:00Z",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    ".inf",
    ".nan",
    "9" * 5000,
    "[" * 5000 + "]" * 5000,
    "&a [x, x, x, x, x, x, x, x, x]",
    "!!python/object:os.system ls",
    "{{ request.__class__ }}",
    "*undefined",
    "@",
    "'",
]
BOMB = "\n".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(9)
)


@st.composite
def scenario_documents(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["value", "value", "bomb", "json", "text"]))
    if kind == "value":
        return SCENARIO.replace("VALUE", draw(st.sampled_from(YAML_VALUES)))
    if kind == "bomb":
        return "a: &a [x, x, x, x, x, x, x, x, x]\n" + BOMB
    if kind == "json":
        value = draw(st.one_of(json_values, deep_values))
        return encode({"scenarios": [{"name": "j", "reply": {"tool_calls": value}}]}).decode()
    return draw(st.text(max_size=200))


# --- sending and checking ------------------------------------------------------------------------


@dataclass
class Outcome:
    status: int  # 0: the connection was closed without an answer
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class Sender:
    """One kept-alive connection to a server, reopened when the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.connection: http.client.HTTPConnection | None = None

    def send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Outcome:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=5)
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return Outcome(response.status, data, {k.lower(): v for k, v in response.getheaders()})
        except (http.client.HTTPException, OSError):
            self.close()
            return Outcome(0, b"")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def asked_for_failure(headers: dict[str, str]) -> bool:
    """Whether the request itself asked for a 5xx or a broken answer (override headers)."""
    status = headers.get("X-Mock-Status", "")
    return "X-Mock-Fault" in headers or (status.isascii() and status[:1] == "5")


def unparseable(headers: dict[str, str]) -> bool:
    """Whether a header value holds a control byte: aiohttp's HTTP parser refuses such a
    request with its own plain-text 400 before it reaches the app."""
    return any(
        (ord(ch) < 32 and ch != "\t") or ord(ch) == 127 for v in headers.values() for ch in v
    )


def problems_of(outcome: Outcome, headers: dict[str, str]) -> list[str]:
    """What is wrong with an answer: a 5xx nobody asked for, an error without a message, a
    JSON answer that is not JSON (from the app: see ``unparseable``)."""
    problems = []
    if outcome.status >= 500 and not asked_for_failure(headers):
        problems.append(f"unasked-for {outcome.status}")
    if outcome.status == 400 and unparseable(headers):
        return problems
    if outcome.status >= 400:
        try:
            error = json.loads(outcome.body)
        except ValueError:
            problems.append(f"{outcome.status} with a body that is not JSON: {outcome.body[:80]!r}")
            return problems
        envelope = error[0] if isinstance(error, list) and error else error
        message = (
            (envelope.get("error") or {}).get("message") if isinstance(envelope, dict) else None
        )
        if not message:
            problems.append(f"{outcome.status} with an empty error message")
    return problems
