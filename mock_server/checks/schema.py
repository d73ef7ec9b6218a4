"""Compile JSON Schemas into fast checking functions with OpenAI-style error reports.

A compiled check is a plain function of one JSON value. A valid value passes through a few
type tests and dictionary look-ups; the first violation raises ``Invalid``, whose ``path``
(``messages[1].content``), ``code`` and ``text`` say what was wrong in the words OpenAI's API
uses ("Invalid type for 'temperature': expected a decimal, but got a string instead.").

The supported keywords are a subset of draft 2020-12 (listed in ``KEYWORDS``; ``propertyNames``
with ``maxLength`` only), with two of our own, ``x-expected`` (below) and ``x-otherwise``; a
schema using any other keyword is refused when compiled, so a profile can never silently skip a
rule.
``anyOf``/``oneOf`` pick their branch the way a provider does: by JSON type, then by a ``const``
discriminator property (``role``, ``type``), so errors point inside the branch that was meant.
An object whose discriminator names no branch is refused for that value, or judged by the
branch ``x-otherwise`` names (its discriminator's value), where the provider's answer comes
from that branch.

What a value should have been is said as OpenAI says it (its API's answers of 2026, as client
projects record them): ``null`` goes unnamed beside another type, an enum of strings names its
values (``expected one of 'auto' or 'disabled'``), an array of objects is ``an array of objects``
(``array of objects`` among alternatives), and our keyword ``x-expected`` gives the words where
OpenAI names a type of its own (``a metadata object``, ``an array of tools``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], None]
Words = Callable[[], str]  # what a value should have been, in OpenAI's words

KEYWORDS = frozenset(
    {
        "$schema",
        "$id",
        "$defs",
        "$ref",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "type",
        "enum",
        "const",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "items",
        "minItems",
        "maxItems",
        "properties",
        "required",
        "additionalProperties",
        "maxProperties",
        "propertyNames",
        "anyOf",
        "oneOf",
        "x-expected",
        "x-otherwise",
    }
)

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
    "integer": (int,),
    "number": (int, float),
}

_TYPE_WORDS = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "boolean": "a boolean",
    "null": "null",
    "integer": "an integer",
    "number": "a decimal",
}


class Invalid(Exception):
    """A value that breaks its schema: where (``path``), which rule (``code``) and why."""

    def __init__(self, code: str, text: Callable[[str], str], *, value_error: bool = False):
        super().__init__(code)
        self.code = code
        self._text = text
        self.value_error = value_error
        self.reversed_path: list[str | int] = []

    @property
    def path(self) -> str:
        """The offending field as ``messages[1].content``."""
        return format_path(reversed(self.reversed_path))

    @property
    def text(self) -> str:
        """The message, naming the offending field by its path."""
        return self._text(self.path)

    @property
    def named(self) -> str:
        """The message with the field's path in front when the message itself does not name
        it (OpenAI's words for a value not among those allowed name the value only), for a
        data file's reader."""
        path, text = self.path, self.text
        return text if not path or f"'{path}'" in text else f"{path}: {text}"

    @property
    def top_level_field(self) -> str | int | None:
        return self.reversed_path[-1] if self.reversed_path else None


def format_path(parts: Any) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def json_type(value: Any) -> str:
    """The JSON type name of a parsed value (``integer`` for integral numbers)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "array"
    return "object"


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def _listed(words: list[str], conjunction: str) -> str:
    """``a``, ``a or b``, ``a, b, or c`` (``conjunction``: ``or``, ``and``)."""
    if len(words) <= 2:
        return f" {conjunction} ".join(words)
    return ", ".join(words[:-1]) + f", {conjunction} " + words[-1]


def _one_of_words(words: list[str]) -> str:
    words = list(dict.fromkeys(words)) or ["null"]
    if len(words) == 1:
        return words[0]
    return "one of " + _listed(words, "or")


def _quoted(values: list[Any]) -> list[str]:
    return [f"'{_show(v)}'" for v in values if v is not None]


def supported_values(values: list[Any]) -> str:
    """``'a', 'b', and 'c'``: values as OpenAI's messages list those a field takes."""
    return _listed(_quoted(values), "and")


class SchemaCompiler:
    """Compiles schemas that may ``$ref`` each other by their ``$id`` (``common.json#/$defs/x``)."""

    def __init__(self, documents: Mapping[str, Mapping[str, Any]]) -> None:
        self._documents = dict(documents)
        self._compiled: dict[tuple[str, str], Check] = {}
        self._pending: dict[tuple[str, str], list[Check]] = {}

    def compile(self, schema: Mapping[str, Any], document_id: str = "") -> Check:
        """Compile ``schema``, whose relative ``$ref``s point into ``document_id``."""
        unknown = set(schema) - KEYWORDS
        if unknown:
            raise ValueError(f"unsupported schema keyword(s) {sorted(unknown)} in {document_id}")
        checks: list[Check] = []
        if "$ref" in schema:
            checks.append(self._ref(schema["$ref"], document_id))
        if "anyOf" in schema or "oneOf" in schema:
            branches = schema.get("anyOf") or schema["oneOf"]
            words = self._words(schema, document_id)
            otherwise = schema.get("x-otherwise")
            checks.append(self._any_of(branches, document_id, words, otherwise))
        if "type" in schema:
            checks.append(_type_check(schema["type"], self._words(schema, document_id)))
        if "const" in schema:
            checks.append(_enum_check([schema["const"]]))
        if "enum" in schema:
            checks.append(_enum_check(schema["enum"]))
        if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")):
            checks.append(_range_check(schema))
        if any(k in schema for k in ("minLength", "maxLength", "pattern")):
            checks.append(_string_check(schema))
        if any(k in schema for k in ("items", "minItems", "maxItems")):
            items = self.compile(schema["items"], document_id) if "items" in schema else None
            checks.append(_array_check(items, schema.get("minItems"), schema.get("maxItems")))
        if any(
            k in schema
            for k in (
                "properties",
                "required",
                "additionalProperties",
                "maxProperties",
                "propertyNames",
            )
        ):
            checks.append(self._object_check(schema, document_id))
        return _all_of(checks)

    def _words(self, schema: Mapping[str, Any], document_id: str) -> Words:
        """``expected`` of ``schema``, worked out when an error first needs it (not at
        start-up)."""
        return functools.cache(functools.partial(self.expected, schema, document_id))

    def expected(self, schema: Mapping[str, Any], document_id: str, among: bool = False) -> str:
        """What a value of ``schema`` should be, in OpenAI's words (see the module docstring);
        ``among``: as one of several alternatives (where an array has no article)."""
        if "x-expected" in schema:
            return schema["x-expected"]
        if "$ref" in schema:
            target, target_doc = self._resolve(schema["$ref"], document_id)
            return self.expected(target, target_doc, among)
        values = [schema["const"]] if "const" in schema else schema.get("enum")
        if values and all(isinstance(v, str) for v in values if v is not None):
            return _one_of_words(_quoted(values))
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            words = [
                self.expected(branch, document_id, True)
                for branch in branches
                if self.accepted_types(branch, document_id) != {"null"}
            ]
            return _one_of_words(words or ["null"])
        types = [t for t in self.accepted_types(schema, document_id) if t != "null"] or ["null"]
        types.sort(key=list(_TYPE_WORDS).index)
        words = [_TYPE_WORDS[t] for t in types]
        items = schema.get("items")
        if types == ["array"] and items and self.accepted_types(items, document_id) == {"object"}:
            words = ["array of objects" if among else "an array of objects"]
        return _one_of_words(words)

    def accepted_types(self, schema: Mapping[str, Any], document_id: str) -> set[str]:
        """The JSON types a schema can accept, for choosing an ``anyOf`` branch."""
        if "$ref" in schema:
            target, target_doc = self._resolve(schema["$ref"], document_id)
            return self.accepted_types(target, target_doc)
        if "type" in schema:
            types = schema["type"]
            return set(types if isinstance(types, list) else [types])
        if "const" in schema or "enum" in schema:
            values = [schema["const"]] if "const" in schema else schema["enum"]
            return {json_type(v) for v in values}
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            return set().union(*(self.accepted_types(b, document_id) for b in branches))
        return set(_PY_TYPES)

    def _resolve(self, ref: str, document_id: str) -> tuple[Mapping[str, Any], str]:
        doc_part, _, pointer = ref.partition("#")
        doc_id = doc_part or document_id
        if doc_id not in self._documents:
            raise ValueError(f"$ref {ref!r} in {document_id}: unknown document {doc_id!r}")
        node: Any = self._documents[doc_id]
        for token in filter(None, pointer.split("/")):
            try:
                node = node[token.replace("~1", "/").replace("~0", "~")]
            except (KeyError, TypeError):
                raise ValueError(f"$ref {ref!r} in {document_id} points at nothing") from None
        return node, doc_id

    def _ref(self, ref: str, document_id: str) -> Check:
        target, target_doc = self._resolve(ref, document_id)
        key = (target_doc, ref.partition("#")[2])
        if key in self._compiled:
            return self._compiled[key]
        if key in self._pending:  # a recursive schema: late-bound
            holder = self._pending[key]
            return lambda value: holder[0](value)
        self._pending[key] = holder = []
        check = self.compile(target, target_doc)
        holder.append(check)
        del self._pending[key]
        self._compiled[key] = check
        return check

    def _object_check(self, schema: Mapping[str, Any], document_id: str) -> Check:
        properties = {
            name: self.compile(sub, document_id)
            for name, sub in schema.get("properties", {}).items()
        }
        required = tuple(schema.get("required", ()))
        max_properties = schema.get("maxProperties")
        names = schema.get("propertyNames", {})
        if set(names) - {"maxLength"}:
            raise ValueError(f"propertyNames takes only maxLength here, in {document_id}")
        longest_name = names.get("maxLength")
        additional = schema.get("additionalProperties", True)
        extra: Check | bool
        extra = (
            additional if isinstance(additional, bool) else self.compile(additional, document_id)
        )

        def check_object(value: Any) -> None:
            if type(value) is not dict:
                return
            if max_properties is not None and len(value) > max_properties:
                raise _too_many_properties(max_properties, len(value))
            if longest_name is not None:
                for key in value:
                    if len(key) > longest_name:
                        raise _name_too_long(key, longest_name)
            for name in required:
                if name not in value:
                    raise _missing(name)
            for key, item in value.items():
                sub = properties.get(key)
                if sub is None:
                    if extra is True:
                        continue
                    if extra is False:
                        raise _unknown(key)
                    sub = extra
                try:
                    sub(item)
                except Invalid as error:
                    # An unknown field is reported before what is wrong with a known one.
                    if extra is False and not properties.keys() >= value.keys():
                        raise _unknown(next(k for k in value if k not in properties)) from None
                    error.reversed_path.append(key)
                    raise

        return check_object

    def _any_of(
        self,
        branches: list[Mapping[str, Any]],
        document_id: str,
        expected: Words,
        otherwise: Any = None,
    ) -> Check:
        compiled = [self.compile(b, document_id) for b in branches]
        types = [self.accepted_types(b, document_id) for b in branches]
        consts = [self._discriminators(b, document_id) for b in branches]
        # Which branches can take a value of each Python type, decided once, here.
        by_type: dict[type, list[int]] = {}
        for py_type, names in (
            (dict, {"object"}),
            (list, {"array"}),
            (str, {"string"}),
            (bool, {"boolean"}),
            (type(None), {"null"}),
            (int, {"integer", "number"}),
            (float, {"number", "integer"}),
        ):
            by_type[py_type] = [i for i, ts in enumerate(types) if ts & names]
        objects = by_type[dict]
        shared = set.intersection(*(set(consts[i]) for i in objects)) if len(objects) > 1 else set()
        discriminator = min(shared) if shared else None
        by_const = {consts[i][discriminator]: i for i in objects} if discriminator else {}
        allowed = [consts[i][discriminator] for i in objects] if discriminator else []
        if otherwise is not None and otherwise not in by_const:
            raise ValueError(f"x-otherwise names no branch ({otherwise!r}) in {document_id}")

        def check_any(value: Any) -> None:
            candidates = by_type.get(type(value), ())
            if type(value) is float and not value.is_integer():
                candidates = [i for i in candidates if "number" in types[i]]
            if not candidates:
                raise _type_error(expected, value)
            if discriminator is not None and type(value) is dict:
                if discriminator not in value:
                    raise _missing(discriminator)
                chosen = (
                    by_const.get(value[discriminator])
                    if isinstance(value[discriminator], (str, int, type(None)))
                    else None
                )
                if chosen is None and otherwise is not None:
                    chosen = by_const[otherwise]
                if chosen is None:
                    error = _enum_error(allowed, value[discriminator])
                    error.reversed_path.append(discriminator)
                    raise error
                compiled[chosen](value)
                return
            if len(candidates) == 1:
                compiled[candidates[0]](value)
                return
            errors: list[Invalid] = []
            for i in candidates:
                try:
                    compiled[i](value)
                    return
                except Invalid as error:
                    errors.append(error)
            raise max(errors, key=lambda e: len(e.reversed_path))

        return check_any

    def _discriminators(self, schema: Mapping[str, Any], document_id: str) -> dict[str, Any]:
        if "$ref" in schema:
            target, target_doc = self._resolve(schema["$ref"], document_id)
            return self._discriminators(target, target_doc)
        out = {}
        for name, sub in schema.get("properties", {}).items():
            if "const" in sub:
                out[name] = sub["const"]
        return out


def _all_of(checks: list[Check]) -> Check:
    if not checks:
        return lambda value: None
    if len(checks) == 1:
        return checks[0]
    checks_tuple = tuple(checks)

    def check_all(value: Any) -> None:
        for check in checks_tuple:
            check(value)

    return check_all


def _type_check(types: str | list[str], expected: Words) -> Check:
    names = types if isinstance(types, list) else [types]
    allowed = tuple({t for name in names for t in _PY_TYPES[name]})
    integer_only = "integer" in names and "number" not in names

    def check_type(value: Any) -> None:
        kind = type(value)
        if kind in allowed:
            return
        if kind is float and integer_only and value.is_integer():
            return
        raise _type_error(expected, value)

    return check_type


def describe_type(value: Any) -> str:
    """A value's JSON type in OpenAI's words: ``a string``, ``an array``, ``a decimal number``
    (what a type asked for is, ``a decimal``, a value given is) ..."""
    if isinstance(value, float):
        return "a decimal number"
    return _TYPE_WORDS[json_type(value)]


def _type_error(expected: Words, value: Any) -> Invalid:
    got = describe_type(value)
    return Invalid(
        "invalid_type",
        lambda path: f"Invalid type for '{path}': expected {expected()}, but got {got} instead.",
    )


def _enum_check(values: list[Any]) -> Check:
    # Compare by JSON identity so that True does not equal 1.
    keys = {json.dumps(v, sort_keys=True) for v in values}
    hashable = {v for v in values if isinstance(v, (str, type(None)))}

    def check_enum(value: Any) -> None:
        if isinstance(value, str) or value is None:
            if value in hashable:
                return
        elif json.dumps(value, sort_keys=True) in keys:
            return
        raise _enum_error(values, value)

    return check_enum


def _enum_error(values: list[Any], value: Any) -> Invalid:
    supported = supported_values(values)
    return Invalid(
        "invalid_value",
        lambda path: f"Invalid value: '{_show(value)}'. Supported values are: {supported}.",
        value_error=True,
    )


def _range_check(schema: Mapping[str, Any]) -> Check:
    types = schema.get("type", "number")
    word = "integer" if "integer" in (types if isinstance(types, list) else [types]) else "decimal"
    bounds = [
        (schema.get("minimum"), lambda v, b: v < b, "below_min", ">="),
        (schema.get("exclusiveMinimum"), lambda v, b: v <= b, "below_min", ">"),
        (schema.get("maximum"), lambda v, b: v > b, "above_max", "<="),
        (schema.get("exclusiveMaximum"), lambda v, b: v >= b, "above_max", "<"),
    ]
    bounds = [b for b in bounds if b[0] is not None]

    def check_range(value: Any) -> None:
        if type(value) not in (int, float):
            return
        for bound, broken, side, op in bounds:
            if broken(value, bound):
                where = "above maximum" if side == "above_max" else "below minimum"
                raise Invalid(
                    f"{word}_{side}_value",
                    lambda path, b=bound, o=op, w=where: (
                        f"Invalid '{path}': {word} {w} value. Expected a value {o} "
                        f"{_show(b)}, but got {_show(value)} instead."
                    ),
                    value_error=True,
                )

    return check_range


def _string_check(schema: Mapping[str, Any]) -> Check:
    min_length = schema.get("minLength")
    max_length = schema.get("maxLength")
    pattern_text = schema.get("pattern")
    pattern = re.compile(_ecma_end(pattern_text)) if pattern_text is not None else None

    def check_string(value: Any) -> None:
        if type(value) is not str:
            return
        _check_length("string", len(value), min_length, max_length)
        if pattern is not None and not pattern.search(value):
            raise Invalid(
                "invalid_value",
                lambda path: (
                    f"Invalid '{path}': string does not match pattern. Expected a string that "
                    f"matches the pattern '{pattern_text}'."
                ),
                value_error=True,
            )

    return check_string


def _ecma_end(pattern: str) -> str:
    """``pattern`` with a final ``$`` matching at the very end, as in JSON Schema's regexes
    (ECMA-262): Python's ``$`` also matches before a final newline, which let
    ``"get_weather\\n"`` pass ``^[a-zA-Z0-9_-]+$``."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + r"\Z"
    return pattern


def _check_length(kind: str, length: int, minimum: int | None, maximum: int | None) -> None:
    """``minLength``/``maxLength`` or ``minItems``/``maxItems``, in OpenAI's words."""
    if minimum is not None and length < minimum:
        if length == 0:
            article = "an" if kind == "array" else "a"
            raise Invalid(
                f"empty_{kind}",
                lambda path: (
                    f"Invalid '{path}': empty {kind}. Expected {article} {kind} with minimum "
                    f"length {minimum}, but got an empty {kind} instead."
                ),
                value_error=True,
            )
        raise _length_error(kind, "below_min", minimum, length)
    if maximum is not None and length > maximum:
        raise _length_error(kind, "above_max", maximum, length)


def _length_error(kind: str, side: str, limit: int, actual: int) -> Invalid:
    words = "too long" if side == "above_max" else "too short"
    extreme = "maximum" if side == "above_max" else "minimum"
    article = "an" if kind == "array" else "a"
    return Invalid(
        f"{kind}_{side}_length",
        lambda path: (
            f"Invalid '{path}': {kind} {words}. Expected {article} {kind} with {extreme} length "
            f"{limit}, but got {article} {kind} with length {actual} instead."
        ),
        value_error=True,
    )


def _too_many_properties(limit: int, actual: int) -> Invalid:
    return Invalid(
        "object_above_max_properties",
        lambda path: (
            f"Invalid '{path}': too many properties. Expected an object with at most {limit} "
            f"properties, but got an object with {actual} properties instead."
        ),
        value_error=True,
    )


def _name_too_long(name: str, limit: int) -> Invalid:
    """A property name over ``propertyNames.maxLength``, as the live API words it for
    ``metadata`` (client projects' measurements, 2026): the name cut to its first and last
    three characters."""
    shown = name if len(name) <= 9 else f"{name[:3]}...{name[-3:]}"
    error = Invalid(
        "property_name_above_max_length",
        lambda path: (
            f"Invalid property name in '{path[: -len(name) - 1]}': '{shown}' is too long. "
            f"Expected a string with maximum length {limit}, but got a string with length "
            f"{len(name)} instead."
        ),
        value_error=True,
    )
    error.reversed_path.append(name)
    return error


def _array_check(items: Check | None, min_items: int | None, max_items: int | None) -> Check:
    def check_array(value: Any) -> None:
        if type(value) is not list:
            return
        _check_length("array", len(value), min_items, max_items)
        if items is not None:
            for index, item in enumerate(value):
                try:
                    items(item)
                except Invalid as error:
                    error.reversed_path.append(index)
                    raise

    return check_array


def _missing(name: str) -> Invalid:
    error = Invalid(
        "missing_required_parameter", lambda path: f"Missing required parameter: '{path}'."
    )
    error.reversed_path.append(name)
    return error


SUGGESTED_WITHIN = 2  # edits between an unknown field and a known one it is suggested for


def did_you_mean(name: str, known: frozenset[str], sent: Mapping[str, Any]) -> str:
    """OpenAI's spelling help for an unknown field (`` Did you mean 'stop' or 'store'?``): the
    known fields within two edits of ``name``, and fewer edits than ``name`` has characters,
    that the request did not send itself, nearest first, then by name; empty when there are
    none. The limits are those client projects measured against the live API in 2026 (``sto``
    suggests ``store``, ``st`` nothing)."""
    within = min(SUGGESTED_WITHIN, len(name) - 1)
    near = sorted(
        (distance, field)
        for field in known - sent.keys()
        if (distance := _edits(name, field)) <= within
    )
    if not near:
        return ""
    return " Did you mean " + _listed([f"'{field}'" for _, field in near], "or") + "?"


def _edits(a: str, b: str) -> int:
    """The Levenshtein distance between ``a`` and ``b``, or more than ``SUGGESTED_WITHIN``
    when their lengths alone say it is (so a long name costs nothing)."""
    if abs(len(a) - len(b)) > SUGGESTED_WITHIN:
        return SUGGESTED_WITHIN + 1
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        previous = current
    return previous[-1]


def _unknown(name: str) -> Invalid:
    error = Invalid("unknown_parameter", lambda path: f"Unknown parameter: '{path}'.")
    error.reversed_path.append(name)
    return error
