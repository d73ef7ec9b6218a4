"""JSON on the wire, through orjson: compact output (what OpenAI streams) and, on a completion
body, about nine times faster than the standard library's encoder (docs/performance.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import orjson

JSONDecodeError = orjson.JSONDecodeError  # a json.JSONDecodeError, so a ValueError too
# How deep arrays and objects may nest in anything the server reads (request bodies, scenario
# documents): below orjson's encoding limit (254) with room for the envelopes the journal and the
# admin API wrap around a body, and far below the standard library's recursion limit.
MAX_NESTING = 128


@dataclass(frozen=True)
class JsonStyle:
    """How a provider writes JSON bodies: indentation (0, 2 or 4 spaces), keys sorted or in
    the order built, a trailing newline."""

    indent: int = 0
    sort_keys: bool = False
    newline: bool = False

    def encode(self, value: Any) -> bytes:
        if self.indent == 4:  # orjson indents by 2 only; 4 is for (rare) error bodies
            text = json.dumps(value, indent=4, sort_keys=self.sort_keys, ensure_ascii=False)
            return text.encode() + (b"\n" if self.newline else b"")
        option = (
            (orjson.OPT_INDENT_2 if self.indent else 0)
            | (orjson.OPT_SORT_KEYS if self.sort_keys else 0)
            | (orjson.OPT_APPEND_NEWLINE if self.newline else 0)
        )
        return dumps(value, option)

    def member(self, value: Any) -> bytes:
        """``value`` as it is written as a member of a top-level object in this style: indented
        one level deeper (a line break is never inside a JSON string, so it is all layout)."""
        if not self.indent:
            return dumps(value, orjson.OPT_SORT_KEYS if self.sort_keys else 0)
        nested = replace(self, newline=False).encode(value)
        step = 4 if self.indent == 4 else 2  # as ``encode`` indents
        return nested.replace(b"\n", b"\n" + b" " * step)


COMPACT = JsonStyle()


def dumps(value: Any, option: int = 0) -> bytes:
    """Compact JSON, UTF-8 encoded (``option``: orjson's indentation, sorted keys, trailing
    newline). An integer past 64 bits, which orjson refuses and a client may send (``1e20``
    where an integer is asked for is one), is written by the standard library's encoder."""
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError:
        if not _holds_big_integer(value):
            raise
    indent = 2 if option & orjson.OPT_INDENT_2 else None
    text = json.dumps(
        value,
        ensure_ascii=False,
        allow_nan=False,
        indent=indent,
        separators=None if indent else (",", ":"),
        sort_keys=bool(option & orjson.OPT_SORT_KEYS),
    )
    return text.encode() + (b"\n" if option & orjson.OPT_APPEND_NEWLINE else b"")


def _holds_big_integer(value: Any) -> bool:
    """Whether ``value`` holds an integer past 64 bits."""
    return _big(value) or any(
        _big(member)
        for level in _levels(value)
        for container in level
        for member in _members(container)
    )


def _big(value: Any) -> bool:
    """Whether ``value`` is an integer orjson cannot write."""
    return type(value) is int and not -(2**63) <= value < 2**64


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def compact_json(value: Any) -> str:
    """JSON text as models emit it in tool arguments: no spaces after separators."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def nests_deeper_than(value: Any, limit: int = MAX_NESTING) -> bool:
    """Whether arrays and objects in ``value`` nest more than ``limit`` levels deep."""
    return any(depth > limit for depth, _ in enumerate(_levels(value), 1))


def _levels(value: Any) -> Iterator[list[Any]]:
    """The arrays and objects of ``value``, level by level (walked so, a deep value cannot
    exhaust the stack)."""
    level = [value] if isinstance(value, _CONTAINERS) else []
    while level:
        yield level
        level = [
            m for container in level for m in _members(container) if isinstance(m, _CONTAINERS)
        ]


def size_within(
    value: Any, max_values: int, max_depth: int, kinds: tuple[type, ...] = (object,)
) -> tuple[int, int]:
    """How many values of ``kinds`` ``value`` holds (itself included, when it is an array or
    an object) and how many levels its arrays and objects nest; walked level by level, and
    only while both are within their bounds (past one, the figure is past it, not exact)."""
    count = depth = 0
    level = [value] if isinstance(value, _CONTAINERS) else []
    while level and depth <= max_depth:
        depth += 1
        deeper = []
        for container in level:
            count += isinstance(container, kinds)
            for member in _members(container):
                if isinstance(member, _CONTAINERS):
                    deeper.append(member)
                else:
                    count += isinstance(member, kinds)
                if count > max_values:
                    return count, depth
        level = deeper
    return count, depth


def _members(container: Any) -> Any:
    return container.values() if isinstance(container, dict) else container


_CONTAINERS = (dict, list, tuple)
