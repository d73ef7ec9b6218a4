"""Values that satisfy a JSON Schema: the fallback's tool-call arguments and structured output.

Covers the vocabulary that Pydantic, LangChain, instructor, pydantic-ai and OpenAI's strict mode
emit: ``$ref`` into ``$defs``/``definitions`` of the root document (recursive models end by
taking the branch that does not recurse: ``null``, an empty array, an optional property left
out), ``allOf``, ``anyOf``/``oneOf``, ``enum``, ``const``, ``type`` lists, ``prefixItems``,
``items``, ``minItems``/``maxItems``/``uniqueItems``, ``properties``/``required``/
``additionalProperties``/``minProperties``, ``minLength``/``maxLength``, ``pattern`` (see
``patterns``), ``format``, and ``minimum``/``maximum``/``exclusive*``/``multipleOf``.

Values are deterministic: enums take their first member, numbers the least allowed value, strings
``"example"``. What generation may build is bounded (nesting, items, string length, nodes, and
the ``$ref``/``allOf``/``anyOf``/``oneOf`` steps taken for one value, so a cycle of them ends),
and a schema that asks for more, that no value satisfies, whose numbers are past a float's
range, or whose ``$ref`` leads anywhere but a subschema, raises ``CannotGenerate`` with where
and why. The JSON the value takes is counted as it is built, and past ``max_bytes`` building
stops with ``ValueTooLarge`` (a value of thousands of long strings is asked for in a few hundred
bytes of schema); equal padded strings are one string, so reaching that bound costs little. A
``pattern`` no string could be built for (or checked) is noted in ``GeneratedValue.warnings``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..jsonio import dumps
from .patterns import MAX_TEXT, Budget, string_matching

MAX_DEPTH = 24  # nesting of generated arrays and objects
MAX_ITEMS = 64  # items in one generated array, properties added to reach minProperties
MAX_NODES = 20_000  # values in one generated document
MAX_STEPS = 24  # $ref, allOf, anyOf and oneOf steps taken to resolve one value
NODE_BYTES = 8  # what a value takes in JSON beside its text: quotes, a separator, a short number
SHALLOW = 6  # past this depth: optional properties left out, arrays at their minimum
# A value per ``format``; ``variant`` (0, 1, 2 ...) gives distinct ones for ``uniqueItems``.
FORMATS: dict[str, Any] = {
    "date-time": lambda v: f"2024-01-01T00:00:{v % 60:02d}Z",
    "date": lambda v: f"2024-01-{1 + v % 28:02d}",
    "time": lambda v: f"12:00:{v % 60:02d}Z",
    "duration": lambda v: f"P{1 + v}D",
    "email": lambda v: f"user{v or ''}@example.com",
    "idn-email": lambda v: f"user{v or ''}@example.com",
    "hostname": lambda v: f"host{v}.example.com" if v else "example.com",
    "idn-hostname": lambda v: f"host{v}.example.com" if v else "example.com",
    "ipv4": lambda v: f"192.0.2.{1 + v % 254}",
    "ipv6": lambda v: f"2001:db8::{1 + v:x}",
    "uri": lambda v: f"https://example.com/{v or ''}",
    "uri-reference": lambda v: f"https://example.com/{v or ''}",
    "iri": lambda v: f"https://example.com/{v or ''}",
    "iri-reference": lambda v: f"https://example.com/{v or ''}",
    "url": lambda v: f"https://example.com/{v or ''}",
    "uuid": lambda v: f"00000000-0000-4000-8000-{v:012d}",
    "json-pointer": lambda v: f"/example{v or ''}",
    "regex": lambda v: f"^example{v or ''}$",
}
# Where a ``$ref`` may lead: through keywords holding subschemas by name or index, and keywords
# holding one (what the meta-schema checks as schemas).
_SCHEMA_MAPS = {"$defs", "definitions", "properties", "patternProperties", "dependentSchemas"}
_SCHEMA_MAPS |= {"allOf", "anyOf", "oneOf", "prefixItems"}
_SCHEMA_KEYWORDS = {"items", "additionalProperties", "not", "if", "then", "else", "contains"}
_SCHEMA_KEYWORDS |= {"propertyNames", "unevaluatedItems", "unevaluatedProperties"}
_TYPE_OF_KEYWORD = (
    ("object", ("properties", "required", "additionalProperties", "minProperties")),
    ("array", ("items", "prefixItems", "minItems", "maxItems")),
    ("string", ("minLength", "maxLength", "pattern", "format")),
    ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")),
)


class CannotGenerate(ValueError):
    """No bounded value satisfies the schema; ``path`` says where (``properties.items``)."""

    def __init__(self, reason: str, path: tuple[str | int, ...]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = where(path) if path else ""

    def __str__(self) -> str:
        return f"{self.reason} (at {self.path or 'the schema root'})"


class ValueTooLarge(Exception):
    """The value would take more than its bound of JSON; ``size``: what it took when stopped."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the value would take more than {size:,} bytes of JSON")
        self.size = size


@dataclass
class GeneratedValue:
    """A value made for a JSON Schema, and what could not be satisfied."""

    value: Any
    warnings: list[str] = field(default_factory=list)


def value_for(schema: Any, root: Any = None, max_bytes: float = math.inf) -> GeneratedValue:
    """A value that satisfies ``schema``; ``$ref``s resolve against ``root`` (default: the
    schema itself). Raises ``CannotGenerate``, and ``ValueTooLarge`` as soon as the value's JSON
    would take more than ``max_bytes``."""
    builder = _Builder(schema if root is None else root, max_bytes)
    return GeneratedValue(builder.value(schema, (), 0, 0), builder.warnings)


class _Builder:
    def __init__(self, root: Any, max_bytes: float) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.size = 0  # bytes of JSON built so far (keys and texts, NODE_BYTES a value beside)
        self.padded: dict[tuple[str, int], str] = {}  # texts lengthened to a minLength, shared
        self.given_sizes: dict[int, int] = {}  # the JSON bytes of const and enum values, by id
        self.nodes = 0
        self.steps = 0  # $ref, allOf, anyOf and oneOf steps taken for the current value
        self.matching: dict[tuple, str | None] = {}  # strings built for a pattern, by bounds
        self.budget = Budget()  # for the searches that confirm them
        self.warnings: list[str] = []

    def value(self, schema: Any, path: tuple, depth: int, variant: int) -> Any:
        self.nodes += 1
        self.spend(NODE_BYTES + (len(path[-1]) if path and isinstance(path[-1], str) else 0))
        if self.nodes > MAX_NODES:
            raise CannotGenerate(f"the value would have more than {MAX_NODES} parts", path)
        if depth > MAX_DEPTH:
            raise CannotGenerate(f"the value would nest more than {MAX_DEPTH} levels deep", path)
        if schema is True or schema == {}:
            return "example" if not variant else f"example{variant}"
        if not isinstance(schema, dict):
            raise CannotGenerate("no value satisfies the schema false", path)
        schema = self.resolved(schema, path, depth)
        if "const" in schema:
            return self.given(schema["const"])
        if "enum" in schema:
            if not schema["enum"]:
                raise CannotGenerate("enum is empty", path)
            return self.given(schema["enum"][variant % len(schema["enum"])])
        kind = self.kind(schema, depth)
        if kind == "object":
            return self.object(schema, path, depth, variant)
        if kind == "array":
            return self.array(schema, path, depth, variant)
        if kind in ("integer", "number"):
            return self.number(schema, path, kind == "integer", variant)
        if kind == "string":
            return self.string(schema, path, variant)
        if kind == "boolean":  # false first, as the zero of its kind (a flag left unraised)
            return variant % 2 == 1
        return None

    def resolved(self, schema: dict[str, Any], path: tuple, depth: int) -> dict[str, Any]:
        """``schema`` with its ``$ref`` and ``allOf`` merged in and a branch of its
        ``anyOf``/``oneOf`` chosen and merged in, until none is left (or a ``const`` or ``enum``
        decides the value). Each step counts against ``MAX_STEPS``, so that a cycle of them
        (``a: {anyOf: [{$ref: a}]}``) ends."""
        self.steps = 0
        schema = self.flatten(schema, path)
        while "const" not in schema and "enum" not in schema and (key := _branching(schema)):
            self.step(path)
            branch = self.choose(schema[key], depth)
            if branch is True:
                branch = {}
            if not isinstance(branch, dict):
                raise CannotGenerate(f"no branch of {key} can be satisfied", path)
            rest = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            schema = {**rest, **self.flatten(branch, path)}
        return schema

    def given(self, value: Any) -> Any:
        """A value the schema gives (``const``, an ``enum`` member), its JSON counted (measured
        once: the schema, and so the value, is the same object each time it is given)."""
        if isinstance(value, (dict, list, str)):
            size = self.given_sizes.get(id(value))
            if size is None:
                size = self.given_sizes[id(value)] = len(dumps(value))
            self.spend(size)
        return value

    def spend(self, size: int) -> None:
        """Count ``size`` bytes of JSON built; ``ValueTooLarge`` past ``max_bytes``."""
        self.size += size
        if self.size > self.max_bytes:
            raise ValueTooLarge(self.size)

    def step(self, path: tuple) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise CannotGenerate(
                f"$ref, allOf, anyOf or oneOf chains longer than {MAX_STEPS} steps", path
            )

    def resolve(self, ref: str, path: tuple) -> Any:
        """The subschema a ``#/...`` pointer names, passing through schema keywords only (what
        the meta-schema checked)."""
        if not ref.startswith("#"):
            raise CannotGenerate(f"$ref {shown(ref)} points outside the schema", path)
        node = self.root
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in ref[1:].split("/") if t]
        while tokens:
            keyword = tokens.pop(0)
            if keyword in _SCHEMA_MAPS and tokens:
                node = _child(_child(node, keyword), tokens.pop(0))
            elif keyword in _SCHEMA_KEYWORDS:
                node = _child(node, keyword)
            else:
                node = None
            if node is None:
                raise CannotGenerate(f"$ref {shown(ref)} points at no schema", path)
        return node

    def flatten(self, schema: dict[str, Any], path: tuple) -> dict[str, Any]:
        """``schema`` with its ``$ref`` and ``allOf`` merged in (properties and required
        united, other keywords from the first that gives them)."""
        while "$ref" in schema or "allOf" in schema:
            self.step(path)
            parts = []
            if "$ref" in schema:
                target = self.resolve(schema["$ref"], path)
                if target is False:
                    raise CannotGenerate("no value satisfies the schema false", path)
                parts.append(target if isinstance(target, dict) else {})
            parts.extend(p if isinstance(p, dict) else {} for p in schema.get("allOf", ()))
            merged = {k: v for k, v in schema.items() if k not in ("$ref", "allOf")}
            for part in parts:
                for key, value in part.items():
                    if key == "properties" and "properties" in merged:
                        merged["properties"] = {**value, **merged["properties"]}
                    elif key == "required" and "required" in merged:
                        merged["required"] = [*merged["required"], *value]
                    else:
                        merged.setdefault(key, value)
            schema = merged
        return schema

    def choose(self, branches: list[Any], depth: int) -> Any:
        """The branch to build: the first that is not null near the top; deep down, the first
        that cannot recurse (null, or one without a ``$ref``), so recursive models end."""
        usable = [b for b in branches if b is not False]
        if not usable:
            return False
        if depth >= SHALLOW:
            for branch in usable:
                if isinstance(branch, dict) and branch.get("type") == "null":
                    return branch
            for branch in usable:
                if isinstance(branch, dict) and "$ref" not in branch:
                    return branch
        for branch in usable:
            if not (isinstance(branch, dict) and branch.get("type") == "null"):
                return branch
        return usable[0]

    def kind(self, schema: dict[str, Any], depth: int) -> str:
        kind = schema.get("type")
        if isinstance(kind, list):
            if not kind:
                return "null"
            non_null = [k for k in kind if k != "null"]
            return "null" if not non_null or (depth >= SHALLOW and "null" in kind) else non_null[0]
        if isinstance(kind, str):
            return kind
        for name, keywords in _TYPE_OF_KEYWORD:
            if any(k in schema for k in keywords):
                return name
        return "string"

    def object(self, schema: dict[str, Any], path: tuple, depth: int, variant: int) -> Any:
        properties = schema.get("properties") or {}
        required = list(dict.fromkeys(schema.get("required") or ()))
        extra = schema.get("additionalProperties", True)
        names = list(properties) if depth < SHALLOW else []
        names += [n for n in required if n not in names]
        out: dict[str, Any] = {}
        for index, name in enumerate(names):
            sub = properties.get(name, extra if isinstance(extra, dict) else True)
            if name not in properties and extra is False:
                raise CannotGenerate(f"'{name}' is required but no property allows it", path)
            # The first property carries the variant, so distinct objects stay distinct.
            out[name] = self.value(sub, (*path, name), depth + 1, variant if index == 0 else 0)
        wanted = schema.get("minProperties", 0)
        if len(out) < wanted:
            if extra is False or wanted > MAX_ITEMS:
                raise CannotGenerate(f"minProperties {wanted} cannot be met", path)
            sub = extra if isinstance(extra, dict) else True
            for index in range(len(out), wanted):
                out[f"key{index}"] = self.value(sub, (*path, f"key{index}"), depth + 1, index)
        return out

    def array(self, schema: dict[str, Any], path: tuple, depth: int, variant: int) -> list[Any]:
        prefix = schema.get("prefixItems") or []
        items = schema.get("items", True)
        low = schema.get("minItems", 0)
        high = schema.get("maxItems")
        count = max(low, len(prefix) if depth < SHALLOW else 0, 1 if depth < SHALLOW else 0)
        if items is False:
            count = min(count, len(prefix))
        if high is not None:
            count = min(count, high)
        if count < low:
            raise CannotGenerate(f"minItems {low} cannot be met", path)
        if count > MAX_ITEMS:
            asked = f"minItems {low}" if low > MAX_ITEMS else f"prefixItems of {len(prefix)} items"
            raise CannotGenerate(f"{asked} is above the fallback's {MAX_ITEMS}", path)
        unique = bool(schema.get("uniqueItems"))
        out = []
        for index in range(count):
            sub = prefix[index] if index < len(prefix) else items
            # Distinct items for uniqueItems; the first carries the variant of the array itself.
            item_variant = (index if unique else 0) + (variant if index == 0 else 0)
            out.append(self.value(sub, (*path, index), depth + 1, item_variant))
        return out

    def number(self, schema: dict[str, Any], path: tuple, integer: bool, variant: int) -> Any:
        try:
            allowed = _numbers(schema, integer)
        except OverflowError:
            raise CannotGenerate("the bounds are past the range of a float", path) from None
        if not allowed:
            raise CannotGenerate("no number satisfies the bounds", path)
        value = allowed[min(variant, len(allowed) - 1)]
        return int(value) if integer or (isinstance(value, float) and value.is_integer()) else value

    def string(self, schema: dict[str, Any], path: tuple, variant: int) -> str:
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        if low > MAX_TEXT:
            raise CannotGenerate(f"minLength {low} is above the fallback's {MAX_TEXT}", path)
        if "pattern" in schema:
            key = (schema["pattern"], low, high, variant)
            if key not in self.matching:
                self.matching[key] = string_matching(*key, budget=self.budget)
            found = self.matching[key]
            if found is not None:
                self.spend(len(found))
                return found
            self.warnings.append(
                f"pattern {shown(schema['pattern'])} at {where(path)} could not be satisfied "
                "by a string the mock could check"
            )
        form = FORMATS.get(schema.get("format", ""))
        text = "example" if form is None else form(variant)
        suffix = str(variant) if variant and form is None else ""
        if high is not None:
            text = text[: max(0, high - len(suffix))]
        text += suffix
        if len(text) < low:
            if (text, low) not in self.padded:
                self.padded[text, low] = text + "x" * (low - len(text))
            text = self.padded[text, low]
        self.spend(len(text))
        return text


def _branching(schema: dict[str, Any]) -> str | None:
    """``anyOf`` or ``oneOf``, whichever ``schema`` has (``anyOf`` first)."""
    return next((key for key in ("anyOf", "oneOf") if key in schema), None)


def _child(node: Any, token: str) -> Any:
    """``node[token]`` for an object, or the item at index ``token`` of an array; else None."""
    if isinstance(node, dict):
        return node.get(token)
    if isinstance(node, list) and token.isdigit() and int(token) < len(node):
        return node[int(token)]
    return None


def _numbers(schema: dict[str, Any], integer: bool) -> list[Any]:
    """Up to eight allowed numbers, least first: from 0 when it is allowed (zod's ``int()``
    gives every integer a lower bound of ``-(2**53 - 1)``), else from the lower bound, or with
    none, from the highest allowed below 0. ``OverflowError`` for bounds past a float's
    range."""
    low, high = schema.get("minimum"), schema.get("maximum")
    low_open, high_open = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    step = schema.get("multipleOf") or (1 if integer else None)

    def fits(v: float) -> bool:
        return not (
            not math.isfinite(v)
            or (integer and isinstance(v, float) and not v.is_integer())
            or (low is not None and v < low)
            or (low_open is not None and v <= low_open)
            or (high is not None and v > high)
            or (high_open is not None and v >= high_open)
            or (step is not None and v / step != int(v / step))
        )

    tops = [b for b in (high, high_open) if b is not None]
    if fits(0):
        start = 0
    elif low is not None or low_open is not None:
        start = max(b for b in (low, low_open) if b is not None)
    elif tops and min(tops) <= 0:  # below the top by a few steps, or by a little of its size
        start = min(tops) - max((step or 1) * 4, -min(tops) * 1e-9)
    else:
        start = 0
    if step is None:
        candidates = [start, start + 1, (start + min(tops)) / 2 if tops else start + 1]
    else:
        first = math.ceil(start / step)
        candidates = [k * step for k in range(first, first + 8)]
    return [c for c in candidates if fits(c)]


def shown(text: str, limit: int = 80) -> str:
    """``text`` quoted for a message or a header: escaped to ASCII, cut to ``limit``."""
    quoted = ascii(text)
    return quoted if len(quoted) <= limit else quoted[: limit - 4] + "..." + quoted[-1]


def where(path: tuple[str | int, ...]) -> str:
    """A place in a generated value, as ``properties.items.0``, for a message or a header."""
    return shown(".".join(map(str, path)))[1:-1] if path else "the root"
