"""A client's JSON Schema, before and after the fallback builds a value from it.

Before: the schema may hold at most ``MAX_OBJECTS`` objects and booleans (``true`` and
``false`` are subschemas too, and cost as much to check), nest ``MAX_NESTING`` levels, and
hold ``MAX_PATTERN_TEXT`` characters of patterns (the meta-schema check costs a few tenths of a
millisecond a subschema, recurses as deep as the schema nests, and compiles every pattern),
else ``CannotGenerate``; then it is checked against the JSON Schema meta-schema
(``NotASchema``, worded as OpenAI words it), and counts written as integral decimals
(``"minItems": 3.0``, valid JSON Schema) become integers.

After: a value that nests deeper than a request body may (``jsonio.MAX_NESTING``) is not
checked (a validator's error message shows the value, and writing it recurses as deep); others
are validated with at most ``MAX_CHECKS`` keyword evaluations (``uniqueItems``
counting one more for every ``PAIRS_A_CHECK`` pairs of items it may compare, ``enum`` and
``const`` one more for every ``DATA_A_CHECK`` bytes of their JSON), ``MAX_REF_NESTING``
references followed one inside another and ``MAX_REQUEST_WAYS`` of backtracking, and without the
patterns (``pattern``, ``patternProperties``) that would not run quickly on the value's longest
string (see ``patterns``): those are named in a warning instead of run.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from ..checks.client_schema_rules import meta_schema_error
from ..jsonio import MAX_NESTING as MAX_VALUE_NESTING
from ..jsonio import dumps, nests_deeper_than, size_within
from .patterns import MAX_FOLDED, MAX_REQUEST_WAYS, MAX_WAYS, compiled_quietly, folded, ways
from .values import CannotGenerate, shown, where

MAX_OBJECTS = 1_000
MAX_NESTING = 64
MAX_PATTERN_TEXT = 10_000  # characters in all the schema's patterns together
MAX_CHECKS = 20_000  # keyword evaluations: 10 to 25 microseconds each
PAIRS_A_CHECK = 64  # items that do not sort are compared pair by pair: some 0.3 microseconds each
DATA_A_CHECK = 256  # bytes of an ``enum``'s or a ``const``'s JSON a value is compared with
MAX_REF_NESTING = 48
# Keywords whose values are data, not subschemas, and those whose values map names to subschemas.
DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
COUNTS = frozenset(
    {"minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties"}
    | {"minContains", "maxContains"}
)


class NotASchema(ValueError):
    """The schema fails the meta-schema; the message is OpenAI's: the validator's sentence with
    no path (``None is not of type 'array'.``, as users quote live answers of 2024-2026)."""


class _OutOfChecks(Exception):
    """A check of a generated value stopped short; the message says why."""


def checked(schema: Any) -> Any:
    """``schema`` bounded, checked against the meta-schema, and normalised."""
    objects, nesting = size_within(schema, MAX_OBJECTS, MAX_NESTING, (dict, bool))
    if objects > MAX_OBJECTS:
        raise CannotGenerate(f"the schema holds more than {MAX_OBJECTS} objects and booleans", ())
    if nesting > MAX_NESTING:
        raise CannotGenerate(f"the schema nests more than {MAX_NESTING} levels deep", ())
    patterns = list(_patterns(schema))
    if sum(map(len, patterns)) > MAX_PATTERN_TEXT:
        raise CannotGenerate(f"the schema's patterns are over {MAX_PATTERN_TEXT} characters", ())
    if sum(map(folded, patterns)) > MAX_FOLDED:
        raise CannotGenerate(
            f"the schema's patterns ignore case over character ranges of more than {MAX_FOLDED} "
            "characters in all, which compiling them folds one by one",
            (),
        )
    compiled_quietly(patterns)  # before the validator compiles them, with a warning
    problem = meta_schema_error(schema, formats=True)
    if problem is not None:
        raise NotASchema(problem)
    return _rebuilt(schema, _integral_counts)


def doubts(schema: Any, value: Any, subject: str = "the generated value") -> list[str]:
    """Why ``value`` (``subject``, in the reasons) may not satisfy ``schema``: patterns left
    unchecked, the first error found, or why the check could not finish."""
    if nests_deeper_than(value):  # an error's message shows the value: repr recurses into it
        deep = f"it nests arrays and objects more than {MAX_VALUE_NESTING} levels deep"
        return [f"{subject} was not checked: {deep}"]
    longest = _longest_text(value)
    cost = {p: ways(p, longest) for p in _patterns(schema)}
    slow = {p for p, w in cost.items() if w > MAX_WAYS}
    notes = [
        f"pattern {shown(p)} was not checked: it could run too long on a string of {longest} "
        "characters"
        for p in sorted(slow)
    ]
    if slow:
        # Gone from every subschema; one left in data that a $ref reaches stops the check.
        schema = _rebuilt(schema, lambda node: _without_patterns(node, slow))
        cost = {p: math.inf if p in slow else w for p, w in cost.items()}
        cost = {p: cost[p] for p in _patterns(schema)}
    compiled_quietly(cost)
    spending = _METER.set(_Meter(cost))
    try:
        error = next(iter(_metered()(schema).iter_errors(value)), None)
    except _OutOfChecks as stop:
        return [*notes, f"{subject} was not checked: {stop}"]
    except RecursionError:  # what slips past the bounds above: never Python's own words
        return [*notes, f"{subject} was not checked: it nests too deep to check"]
    except Exception as exc:  # e.g. a $ref elsewhere in the schema that cannot be resolved
        return [*notes, f"{subject} could not be verified: {exc}"]
    finally:
        _METER.reset(spending)
    if error is not None:
        at = where(tuple(error.absolute_path))
        notes.append(f"{subject} breaks the schema at {at}: {error.message}")
    return notes


class _Meter:
    """What one check of a value spends: keyword evaluations, nested references, and the
    backtracking of its searches (``cost``: each pattern's bound on the value's longest
    string); past ``MAX_CHECKS``, ``MAX_REF_NESTING`` (a reference cycle through ``not``,
    ``if`` ... never ends on its own) or ``MAX_REQUEST_WAYS``, ``_OutOfChecks``."""

    def __init__(self, cost: dict[str, float]) -> None:
        self.cost = cost
        self.everywhere = sum(cost.values())
        self.calls = 0
        self.nesting = 0
        self.searched = 0.0
        self.sizes: dict[int, int] = {}  # ``data``'s, by the enum or const it measured

    def spend(self, keyword: str, wanted: Any, instance: Any, schema: Any) -> None:
        """Count one evaluation of ``keyword``; ``_OutOfChecks`` past a bound."""
        self.calls += 1
        if keyword == "uniqueItems" and isinstance(instance, list):
            self.calls += len(instance) * (len(instance) - 1) // 2 // PAIRS_A_CHECK
        elif keyword in ("enum", "const"):
            self.calls += self.data(wanted)
        if self.calls > MAX_CHECKS:
            raise _OutOfChecks(f"it takes over {MAX_CHECKS} steps")
        self.searched += self.searches(keyword, wanted, instance, schema)
        if self.searched > MAX_REQUEST_WAYS:
            raise _OutOfChecks("its patterns would run too long")

    def data(self, wanted: Any) -> int:
        """The steps comparing a value with an ``enum``'s or a ``const``'s data costs beyond
        the first: one for every ``DATA_A_CHECK`` bytes of its JSON (measured once)."""
        found = self.sizes.get(id(wanted))
        if found is None:
            found = self.sizes[id(wanted)] = len(dumps(wanted)) // DATA_A_CHECK
        return found

    def searches(self, keyword: str, wanted: Any, instance: Any, schema: Any) -> float:
        """A bound on the backtracking of the searches one keyword evaluation makes."""
        if keyword == "pattern":
            return self.cost.get(wanted, 0) if isinstance(instance, str) else 0
        if not isinstance(instance, dict):
            return 0
        if keyword == "patternProperties":
            return sum(self.cost.get(p, 0) for p in wanted) * len(instance)
        if keyword == "additionalProperties":
            found = schema.get("patternProperties") or ()
            return sum(self.cost.get(p, 0) for p in found) * len(instance)
        return self.everywhere * len(instance) if keyword == "unevaluatedProperties" else 0


# The meter of the check under way: the validator class, built once, spends from it.
_METER: ContextVar[_Meter] = ContextVar("meter")


@functools.cache
def _metered() -> Any:
    """A Draft 2020-12 validator class whose keywords spend from the meter under way."""
    from jsonschema import Draft202012Validator, validators

    keywords = {k: _counted(k, c) for k, c in Draft202012Validator.VALIDATORS.items()}
    keywords.update({k: _nested(keywords[k]) for k in ("$ref", "$dynamicRef")})
    return validators.extend(Draft202012Validator, keywords)


def _counted(keyword: str, check: Callable) -> Callable:
    def run(validator: Any, wanted: Any, instance: Any, schema: Any) -> Any:
        _METER.get().spend(keyword, wanted, instance, schema)
        return check(validator, wanted, instance, schema)

    return run


def _nested(check: Callable) -> Callable:
    def run(validator: Any, wanted: Any, instance: Any, schema: Any) -> Iterator[Any]:
        meter = _METER.get()
        meter.nesting += 1
        try:
            if meter.nesting > MAX_REF_NESTING:
                raise _OutOfChecks(f"it follows over {MAX_REF_NESTING} nested references")
            yield from check(validator, wanted, instance, schema) or ()
        finally:
            meter.nesting -= 1

    return run


def _rebuilt(schema: Any, change: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    """``schema`` with ``change`` applied to each of its subschemas, innermost first. Data
    (``const``, ``enum``, ``default``, ``examples``) is kept as it is, and so are the maps of
    ``properties`` and its kind, whose values are subschemas; an unknown keyword's value is
    taken for a subschema, since a ``$ref`` may use it as one."""
    if isinstance(schema, list):
        return [_rebuilt(item, change) for item in schema]
    if not isinstance(schema, dict):
        return schema
    rebuilt = {}
    for key, item in schema.items():
        if key in SCHEMA_MAPS and isinstance(item, dict):
            item = {name: _rebuilt(sub, change) for name, sub in item.items()}
        elif key not in DATA_KEYWORDS:
            item = _rebuilt(item, change)
        rebuilt[key] = item
    return change(rebuilt)


def _integral_counts(node: dict[str, Any]) -> dict[str, Any]:
    return {
        key: int(item) if key in COUNTS and isinstance(item, float) and item.is_integer() else item
        for key, item in node.items()
    }


def _patterns(value: Any) -> set[str]:
    """Every regular expression in ``value``: ``pattern`` strings and the names in
    ``patternProperties``, wherever they sit (a ``$ref`` may lead anywhere)."""
    found: set[str] = set()
    level = [value]
    while level:
        deeper = []
        for node in level:
            if isinstance(node, dict):
                if isinstance(node.get("pattern"), str):
                    found.add(node["pattern"])
                if isinstance(node.get("patternProperties"), dict):
                    found.update(node["patternProperties"])
                deeper.extend(node.values())
            elif isinstance(node, list):
                deeper.extend(node)
        level = deeper
    return found


def _without_patterns(node: dict[str, Any], slow: set[str]) -> dict[str, Any]:
    if isinstance(node.get("pattern"), str) and node["pattern"] in slow:
        node = {k: v for k, v in node.items() if k != "pattern"}
    if isinstance(node.get("patternProperties"), dict):
        kept = node["patternProperties"].items()
        node["patternProperties"] = {name: sub for name, sub in kept if name not in slow}
    return node


def _longest_text(value: Any) -> int:
    """The length of the longest string or object key in ``value``."""
    longest = 0
    level = [value]
    while level:
        deeper = []
        for node in level:
            if isinstance(node, str):
                longest = max(longest, len(node))
            elif isinstance(node, dict):
                longest = max([longest, *map(len, node)])
                deeper.extend(node.values())
            elif isinstance(node, list):
                deeper.extend(node)
        level = deeper
    return longest
