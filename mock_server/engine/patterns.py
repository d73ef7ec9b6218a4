"""Strings that match a regular expression: the fallback's answer to a JSON Schema ``pattern``.

The pattern is parsed with the standard library's own regex parser and a short string is built
from the tree: literals as written, the first member of a character class (or a character
outside a negated one), the first alternative of a branch, and each repeat its minimum count,
stretched when a length bound asks for more. Every candidate is checked with ``re.search`` (JSON
Schema's semantics), so what comes back always matches; ``None`` means no candidate did
(lookarounds, back-references the builder cannot honour, contradictory bounds).
"""

from __future__ import annotations

import re
from typing import Any

try:
    from re import _parser  # Python 3.11+
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _parser  # type: ignore[no-redef]

from re import _constants as _c

MAX_TEXT = 10_000  # the longest string built
_CANDIDATES = "aA0_- x.@"
_CATEGORY_CHAR = {
    _c.CATEGORY_DIGIT: "0",
    _c.CATEGORY_NOT_DIGIT: "a",
    _c.CATEGORY_WORD: "a",
    _c.CATEGORY_NOT_WORD: "-",
    _c.CATEGORY_SPACE: " ",
    _c.CATEGORY_NOT_SPACE: "a",
}
_CATEGORY_TEST = {
    _c.CATEGORY_DIGIT: str.isdigit,
    _c.CATEGORY_NOT_DIGIT: lambda ch: not ch.isdigit(),
    _c.CATEGORY_WORD: lambda ch: ch.isalnum() or ch == "_",
    _c.CATEGORY_NOT_WORD: lambda ch: not (ch.isalnum() or ch == "_"),
    _c.CATEGORY_SPACE: str.isspace,
    _c.CATEGORY_NOT_SPACE: lambda ch: not ch.isspace(),
}


class _Unsupported(Exception):
    pass


class _TooLong(_Unsupported):
    pass


def string_matching(
    pattern: str, min_length: int = 0, max_length: int | None = None, variant: int = 0
) -> str | None:
    """A short string that ``pattern`` matches, ``min_length`` to ``max_length`` long, or None;
    a ``variant`` above 0 stretches the pattern's repeats for a different string."""
    if min_length > MAX_TEXT:
        return None
    try:
        compiled = re.compile(pattern)
        tree = _parser.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None
    ends_free = not any(op is _c.AT and arg in (_c.AT_END, _c.AT_END_STRING) for op, arg in tree)
    try:
        text = _build(list(tree), variant, {})
        if max_length is not None and len(text) > max_length:
            text = _build(list(tree), 0, {})
        if len(text) < min_length and not ends_free:
            text = _build(list(tree), _stretch_for(tree, min_length), {})
    except _Unsupported:
        return None
    if len(text) < min_length and ends_free:
        text += "x" * (min_length - len(text))
    if len(text) < min_length or (max_length is not None and len(text) > max_length):
        return None
    return text if compiled.search(text) else None


def _stretch_for(tree: Any, min_length: int) -> int:
    """The least stretch that makes the built string ``min_length`` long (length only grows
    with the stretch): doubling, then halving the gap."""

    def length(stretch: int) -> float:
        try:
            return len(_build(list(tree), stretch, {}))
        except _TooLong:
            return float("inf")

    low, high = 0, 1
    while length(high) < min_length:
        if high > MAX_TEXT:  # the repeats are bounded: no stretch reaches min_length
            return high
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if length(middle) < min_length:
            low = middle
        else:
            high = middle
    return high


def _build(items: list[tuple[Any, Any]], stretch: int, groups: dict[int, str]) -> str:
    out = []
    for op, arg in items:
        if op is _c.LITERAL:
            out.append(chr(arg))
        elif op is _c.NOT_LITERAL:
            out.append(next(ch for ch in _CANDIDATES if ord(ch) != arg))
        elif op is _c.ANY:
            out.append("a")
        elif op is _c.IN:
            out.append(_member(arg))
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
            low, high, sub = arg
            count = low + stretch if high is _c.MAXREPEAT else min(high, low + stretch)
            text = _build(list(sub), stretch, groups) if count else ""
            if len(text) * count > MAX_TEXT:
                raise _TooLong
            out.append(text * count)
        elif op is _c.SUBPATTERN:
            group, _, _, sub = arg
            text = _build(list(sub), stretch, groups)
            if group is not None:
                groups[group] = text
            out.append(text)
        elif op is getattr(_c, "ATOMIC_GROUP", None):
            out.append(_build(list(arg), stretch, groups))
        elif op is _c.BRANCH:
            out.append(_build(list(arg[1][0]), stretch, groups))
        elif op is _c.GROUPREF:
            out.append(groups.get(arg, ""))
        elif op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
            continue  # anchors and lookarounds take no characters; the final search decides
        else:
            raise _Unsupported(op)
    return "".join(out)


def _member(items: list[tuple[Any, Any]]) -> str:
    """A character of a ``[...]`` class."""
    if items and items[0][0] is _c.NEGATE:
        rest = items[1:]
        for ch in _CANDIDATES + "bcdefgBCDEFG123456789":
            if not _in_class(rest, ch):
                return ch
        raise _Unsupported("negated class")
    for op, arg in items:
        if op is _c.LITERAL:
            return chr(arg)
        if op is _c.RANGE:
            return chr(arg[0])
        if op is _c.CATEGORY and arg in _CATEGORY_CHAR:
            return _CATEGORY_CHAR[arg]
    raise _Unsupported("class")


def _in_class(items: list[tuple[Any, Any]], ch: str) -> bool:
    for op, arg in items:
        if op is _c.LITERAL and ord(ch) == arg:
            return True
        if op is _c.RANGE and arg[0] <= ord(ch) <= arg[1]:
            return True
        if op is _c.CATEGORY and arg in _CATEGORY_TEST and _CATEGORY_TEST[arg](ch):
            return True
    return False
