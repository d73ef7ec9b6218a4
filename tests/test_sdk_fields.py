"""Every request field the installed openai SDK can send, the ``openai`` profile's schemas know.

The SDK is generated from OpenAI's OpenAPI spec, so a field OpenAI adds to an API shows in its
next release; here it fails until the profile's schema takes it, instead of reaching a user as
a 400 ``Unknown parameter`` the live API would never answer.
"""

from __future__ import annotations

import collections.abc
import json
import types
import typing

import pytest
import typing_extensions
from openai.types import embedding_create_params
from openai.types.chat import completion_create_params
from openai.types.responses import response_create_params

from mock_server.checks.profiles import SCHEMA_DIR, load_profiles

SDK_PARAMS = {
    "chat_completions": completion_create_params.CompletionCreateParamsStreaming,
    "responses": response_create_params.ResponseCreateParamsStreaming,
    "embeddings": embedding_create_params.EmbeddingCreateParams,
}


@pytest.mark.parametrize("api", SDK_PARAMS)
def test_the_schema_knows_every_field_the_sdk_sends(api):
    profile = load_profiles().get("openai")
    known = (
        profile.known_fields if api == "chat_completions" else profile.api_checks[api].known_fields
    )
    params = SDK_PARAMS[api]
    sent = params.__required_keys__ | params.__optional_keys__
    assert sent - known == set(), f"{api}: fields the SDK sends that the schema does not know"


# What the SDK can send inside its fields that the schemas refuse on purpose, each as the docs say
# (docs/profiles.md, docs/responses.md): values the live API's own message leaves out, a
# deprecated field it refuses, chat's custom tools.
REFUSED_ON_PURPOSE = {
    "chat_completions": {
        "service_tier: value 'scale' is refused",
        "tools[].type: value 'custom' is refused",
        "tool_choice.type: value 'custom' is refused",
        "messages[].tool_calls[].type: value 'custom' is refused",
    },
    "responses": {
        "service_tier: value 'scale' is refused",
        "service_tier: value 'ultrafast' is refused",
        "reasoning.generate_summary: unknown",
    },
    "embeddings": set(),
}


def _document(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text("utf-8"))


def _resolved(node: dict, document: dict) -> tuple[dict, dict]:
    """``node`` with its ``$ref``s followed, and the document it is in."""
    while "$ref" in node:
        name, _, pointer = node["$ref"].partition("#")
        document = _document(name) if name else document
        node = document
        for part in filter(None, pointer.split("/")):
            node = node[part]
    return node, document


def _branches(node: dict, document: dict) -> list[tuple[dict, dict]]:
    """The schemas ``node`` allows one of (its ``anyOf``/``oneOf``, flattened), resolved."""
    node, document = _resolved(node, document)
    branches = node.get("anyOf") or node.get("oneOf")
    if not branches:
        return [(node, document)]
    return [leaf for branch in branches for leaf in _branches(branch, document)]


def _json_types(node: dict) -> set[str] | None:
    """The JSON types ``node`` allows; None for any."""
    kind = node.get("type")
    if kind is None:
        return {"object"} if "properties" in node else None
    return set(kind) if isinstance(kind, list) else {kind}


def _takes(node: dict, document: dict, value: object) -> bool:
    """Whether ``node`` allows the literal ``value`` (by its ``const``, ``enum`` or type)."""
    kind = {bool: "boolean", str: "string", int: "integer", type(None): "null"}[type(value)]
    for leaf, _ in _branches(node, document):
        if "const" in leaf or "enum" in leaf:
            if value in (leaf["enum"] if "enum" in leaf else [leaf["const"]]):
                return True
            continue
        kinds = _json_types(leaf)
        if kinds is None or kind in kinds or (kind == "integer" and "number" in kinds):
            return True
    return False


def _members(annotation: object) -> list[object]:
    """The types an SDK annotation allows, without ``Required``, ``Optional`` and the like."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Required, typing.NotRequired, typing.Annotated):
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [member for arg in typing.get_args(annotation) for member in _members(arg)]
    return [] if annotation is type(None) else [annotation]


def _nullable(annotation: object) -> bool:
    """Whether an SDK annotation allows None (``Optional[str]``)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Required, typing.NotRequired, typing.Annotated):
        return _nullable(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_nullable(arg) for arg in typing.get_args(annotation))
    return annotation is type(None)


def _literals(annotation: object) -> list[object]:
    return [
        value
        for member in _members(annotation)
        if typing.get_origin(member) is typing.Literal
        for value in typing.get_args(member)
    ]


def _is_sequence(origin: object) -> bool:
    return origin in (list, collections.abc.Iterable, collections.abc.Sequence) or (
        getattr(origin, "__name__", "") == "SequenceNotStr"
    )


def refusals(annotation: object, node: dict, document: dict, seen: dict) -> list[str]:
    """What of the values an SDK ``annotation`` allows the schema ``node`` refuses, each as
    ``<path>: <what>``: a key an object does not take, a literal value (a ``type`` among
    them) no branch takes, an array or object where none is allowed."""
    found: list[str] = []
    for member in _members(annotation):
        origin = typing.get_origin(member)
        if typing_extensions.is_typeddict(member):
            hints = typing.get_type_hints(member, include_extras=True)
            tags = [{}]  # a TypedDict standing for several types or roles: each on its own
            for key in ("type", "role"):
                if len(values := _literals(hints.get(key))) > 1:
                    tags = [{key: value} for value in values]
            for tag in tags:
                found += _object_refusals(member, hints, tag, node, document, seen)
        elif _is_sequence(origin):
            (item,) = typing.get_args(member)
            arrays = [
                refusals(item, leaf["items"], doc, seen) if "items" in leaf else []
                for leaf, doc in _branches(node, document)
                if _json_types(leaf) is None or "array" in _json_types(leaf)
            ]
            found += [f"[]{r}" for r in min(arrays, key=len)] if arrays else [": an array"]
        elif origin is typing.Literal:
            found += [
                f": value {value!r} is refused"
                for value in typing.get_args(member)
                if not _takes(node, document, value)
            ]
    return found


def _object_refusals(
    typed: type, hints: dict, tag: dict, node: dict, document: dict, seen: dict
) -> list[str]:
    """``refusals`` of a TypedDict, against the branch of ``node`` that fits it best: among
    those taking its literal ``type`` and ``role``, the one refusing least of it."""
    key = (typed, id(node), tuple(tag.items()))
    if key in seen:
        return seen[key]
    seen[key] = []  # a type that holds itself: taken while it is being looked at
    tags = {**{k: v[0] for k, t in hints.items() if len(v := _literals(t)) == 1}, **tag}
    options, untaken = [], None
    for leaf, doc in _branches(node, document):
        kinds = _json_types(leaf)
        if kinds is not None and "object" not in kinds:
            continue
        properties = leaf.get("properties", {})
        wrong = [
            k for k, v in tags.items() if k in properties and not _takes(properties[k], doc, v)
        ]
        if wrong:
            untaken = untaken or [f".{k}: value {tags[k]!r} is refused" for k in wrong]
            continue
        option = []
        for name, annotation in hints.items():
            if name in properties:
                sent = typing.Literal[tag[name]] if name in tag else annotation
                option += [f".{name}{r}" for r in refusals(sent, properties[name], doc, seen)]
            elif leaf.get("additionalProperties") is False:
                option.append(f".{name}: unknown")
        options.append(option)
    seen[key] = min(options, key=len) if options else (untaken or [": an object"])
    return seen[key]


@pytest.mark.parametrize("api", SDK_PARAMS)
def test_the_schema_takes_what_the_sdk_sends_inside_its_fields(api):
    """Every field and value the SDK's types allow, at any depth (a tool's ``defer_loading``,
    a text part's ``prompt_cache_breakpoint``, a new tool type, every kind of input item), is
    taken, but for what the schema refuses on purpose."""
    name = {"chat_completions": "openai.request.json"}.get(api, f"openai.{api}.request.json")
    document = _document(name)
    found = set()
    for field, annotation in typing.get_type_hints(SDK_PARAMS[api], include_extras=True).items():
        if field in document["properties"]:
            found |= {
                field + r for r in refusals(annotation, document["properties"][field], document, {})
            }
    assert found <= REFUSED_ON_PURPOSE[api]  # an older SDK sends less


@pytest.mark.parametrize("api", SDK_PARAMS)
def test_the_schema_takes_null_where_the_sdk_sends_it(api):
    """A field the SDK types as nullable (``prompt_cache_key: Optional[str]``) goes out as JSON
    null when a caller passes None, and the live API takes it."""
    name = {"chat_completions": "openai.request.json"}.get(api, f"openai.{api}.request.json")
    document = _document(name)
    hints = typing.get_type_hints(SDK_PARAMS[api], include_extras=True)
    refused = [
        field
        for field, annotation in hints.items()
        if field in document["properties"]
        and _nullable(annotation)
        and not _takes(document["properties"][field], document, None)
    ]
    assert refused == []
