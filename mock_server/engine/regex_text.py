"""A short string built from a regular expression's parse tree (the standard library's own
parser, ``re._parser``): literals as written, the first member of a character class (or a
character outside a negated one), the first alternative of a branch, and each repeat its minimum
count plus ``stretch``. Anchors and lookarounds take no characters; whether the string matches
is for the caller to check.
"""

from __future__ import annotations

from re import _constants as _c
from re import _parser
from typing import Any

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
REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT)


class Unsupported(Exception):
    """The tree holds something no string is built for."""


class TooLong(Unsupported):
    """The string would be longer than the limit given."""


def parse(pattern: str) -> Any:
    """The parse tree of ``pattern``; raises ``re.error`` (or ``RecursionError`` for nesting
    the parser cannot follow)."""
    return _parser.parse(pattern)


def ends_free(tree: Any) -> bool:
    """Whether the pattern leaves the end of the string open (no ``$`` or ``\\Z`` at its top)."""
    return not any(op is _c.AT and arg in (_c.AT_END, _c.AT_END_STRING) for op, arg in tree)


def build(items: Any, stretch: int, limit: int, groups: dict[int, str] | None = None) -> str:
    """The string for the tree ``items``, each repeat ``stretch`` over its minimum; ``TooLong``
    past ``limit`` characters."""
    groups = {} if groups is None else groups
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
        elif op in REPEATS:
            low, high, sub = arg
            count = low + stretch if high is _c.MAXREPEAT else min(high, low + stretch)
            text = build(sub, stretch, limit, groups) if count else ""
            if len(text) * count > limit:
                raise TooLong
            out.append(text * count)
        elif op is _c.SUBPATTERN:
            group, _, _, sub = arg
            text = build(sub, stretch, limit, groups)
            if group is not None:
                groups[group] = text
            out.append(text)
        elif op is _c.ATOMIC_GROUP:
            out.append(build(arg, stretch, limit, groups))
        elif op is _c.BRANCH:
            out.append(build(arg[1][0], stretch, limit, groups))
        elif op is _c.GROUPREF:
            out.append(groups.get(arg, ""))
        elif op not in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
            raise Unsupported(op)
    return "".join(out)


def _member(items: list[tuple[Any, Any]]) -> str:
    """A character of a ``[...]`` class."""
    if items and items[0][0] is _c.NEGATE:
        rest = items[1:]
        for ch in _CANDIDATES + "bcdefgBCDEFG123456789":
            if not _in_class(rest, ch):
                return ch
        raise Unsupported("negated class")
    for op, arg in items:
        if op is _c.LITERAL:
            return chr(arg)
        if op is _c.RANGE:
            return chr(arg[0])
        if op is _c.CATEGORY and arg in _CATEGORY_CHAR:
            return _CATEGORY_CHAR[arg]
    raise Unsupported("class")


def _in_class(items: list[tuple[Any, Any]], ch: str) -> bool:
    for op, arg in items:
        if op is _c.LITERAL and ord(ch) == arg:
            return True
        if op is _c.RANGE and arg[0] <= ord(ch) <= arg[1]:
            return True
        if op is _c.CATEGORY and arg in _CATEGORY_TEST and _CATEGORY_TEST[arg](ch):
            return True
    return False
