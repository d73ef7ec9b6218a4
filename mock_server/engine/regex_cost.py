"""How much work ``re.search`` may do: an upper bound, read from a pattern's parse tree, on the
ways backtracking can try to match it against a string of a given length (and, ``folded``, how
much compiling it may: the code points its case-ignoring character classes span).

A sequence multiplies the ways of its parts, alternatives add theirs (or take the largest, when
their first characters exclude one another: ``(a|bc)``), and a repeat multiplies by how many
counts it can take. A repeat of something that has choices of its own raises them to the power
of its count, ``(a+)+`` being the classic case, unless each round is pinned: it starts with a
character nothing else in it matches, and each run inside it stops where the next part must
begin (``(-[a-z]+)*``), or each round ends with such a character (``([^,]*,)*``), so a string
splits into rounds one way only. A search that is not
anchored at the start tries every position. A backreference compares what its group took, so
where the pattern has one, each way counts once for every character the widest referenced group
may take (at most the string). Weighted, the ways count at what the slowest kind of step the
pattern has costs the engine, once for the whole pattern: ten where it repeats more than one
character, six again where it ignores case.

Characters are compared by their ASCII members, and beyond ASCII by kind (decimal digit, other
word character, space, anything else), which the character classes ``\\d``, ``\\w`` and ``\\s``
never split. Under ``IGNORECASE``, Unicode case folding joins listed characters across those lines
(the long s ``\\u017f`` and ``s``, the Kelvin sign and ``k``, the dotless ``\\u0131`` and ``i``,
the accent ``\\u0345`` and the iota ``\\u03b9``): an ASCII letter stands for both its cases and any
word character beyond ASCII, and a word or other character beyond ASCII for any ASCII letter and
any word or other character. The classes ``\\d``, ``\\w`` and ``\\s`` test a character as it is,
and a negated class matches at most what it matches with case kept.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from re import _constants as _c
from typing import Any

from .regex_text import REPEATS

_KINDS = frozenset({"digit", "word", "space", "other"})  # characters beyond ASCII, by kind
_ASCII = [chr(code) for code in range(128)]
_CATEGORIES = {
    _c.CATEGORY_DIGIT: (str.isdecimal, {"digit"}),
    _c.CATEGORY_NOT_DIGIT: (lambda ch: not ch.isdecimal(), {"word", "space", "other"}),
    _c.CATEGORY_WORD: (lambda ch: ch.isalnum() or ch == "_", {"digit", "word"}),
    _c.CATEGORY_NOT_WORD: (lambda ch: not (ch.isalnum() or ch == "_"), {"space", "other"}),
    _c.CATEGORY_SPACE: (str.isspace, {"space"}),
    _c.CATEGORY_NOT_SPACE: (lambda ch: not ch.isspace(), {"digit", "word", "other"}),
}
_LETTERS = sum(1 << ord(ch) for ch in _ASCII if ch.isalpha())
_FOLDING = frozenset({"word", "other"})  # kinds beyond ASCII that case folding crosses
_HUGE = 1e300
# What a step costs the regex engine, against a run of one character with case kept (measured on
# CPython 3.11, ``(A|a)+c`` and ``(?i)[Aa]+c`` against ``[Aa]+c`` on 10,000 characters): a round
# of a repeat of more than one character, and any step with case ignored.
_ROUND_STEP = 10
_NOCASE_STEP = 6


@dataclass(frozen=True)
class _Chars:
    """The characters one position of a pattern may match: a bit per ASCII code, and the kinds
    of character beyond ASCII."""

    ascii: int
    kinds: frozenset[str]

    def meets(self, other: _Chars) -> bool:
        return bool(self.ascii & other.ascii or self.kinds & other.kinds)

    def __or__(self, other: _Chars) -> _Chars:
        return _Chars(self.ascii | other.ascii, self.kinds | other.kinds)


_EVERY = _Chars((1 << 128) - 1, _KINDS)
_NOTHING = _Chars(0, frozenset())
_NEWLINE = _Chars(1 << 10, frozenset())  # what ``$`` lets through before the end


def ways(tree: Any, length: int, weighted: bool = False) -> float:
    """An upper bound on the ways ``re.search`` may try to match the parsed ``tree`` against a
    string ``length`` characters long (``inf`` when past counting), each once for every
    character a backreference may compare in it (``_compared``); ``weighted``: counted at what
    the pattern's slowest kind of step costs the regex engine (``_step_cost``)."""
    flags = tree.state.flags
    first = next(iter(tree), None)
    anchored = first == (_c.AT, _c.AT_BEGINNING_STRING) or (
        first == (_c.AT, _c.AT_BEGINNING) and not flags & _c.SRE_FLAG_MULTILINE
    )
    starts = 1 if anchored else length + 1
    nocase = bool(flags & _c.SRE_FLAG_IGNORECASE)
    nodes = list(_nodes(tree))
    found = starts * _Ways(length).sequence(tree, nocase, True) * _compared(tree, nodes, length)
    return found * _step_cost(nodes) if weighted else found


def _compared(tree: Any, nodes: list[tuple[Any, Any, bool]], length: int) -> int:
    """The characters a backreference of the pattern may compare in one way: the most its
    widest referenced group may take, at most ``length`` (1 without a backreference)."""
    widths = tree.state.groupwidths
    referenced = (widths[arg][1] for op, arg, _ in nodes if op is _c.GROUPREF and widths[arg])
    return max(min(max(referenced, default=1), length), 1)


def _step_cost(nodes: list[tuple[Any, Any, bool]]) -> int:
    """What a step of the slowest kind among the pattern's ``nodes`` costs the engine, against
    a run of one character with case kept (once for the whole pattern, however its parts
    nest)."""
    general = any(op in REPEATS and not _one_character(arg[2]) for op, arg, _ in nodes)
    nocase = any(nocase for _, _, nocase in nodes)
    return (_ROUND_STEP if general else 1) * (_NOCASE_STEP if nocase else 1)


class _Ways:
    def __init__(self, length: int) -> None:
        self.length = length

    def sequence(self, items: Any, nocase: bool, ends_pattern: bool = False) -> float:
        """Each part multiplies the ways of the parts after it, except a run of one character
        class that what follows must stop (``[a-z]+-``): a shorter run fails at once, so its
        counts add; and a run that ends the whole pattern (``error.*``), which nothing after it
        can make give characters back."""
        total = 1.0
        following: tuple[_Chars, bool] | None = (_NOTHING, False)  # what the parts after start
        for op, arg in reversed(list(items)):
            if ends_pattern and _run(op, arg, nocase) is not None:
                ends_pattern = False
                continue  # its greedy first try is the only one
            ends_pattern = False
            ways = self.item(op, arg, nocase)
            run = _run(op, arg, nocase)
            if run is not None and following and following[1] and not run.meets(following[0]):
                total = min(total + ways, math.inf)
            else:
                total = min(total * ways, math.inf)
            following = _then(_starts(((op, arg),), nocase), following)
        return total

    def item(self, op: Any, arg: Any, nocase: bool) -> float:
        if op in (_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN, _c.AT, _c.GROUPREF):
            return 1.0
        if op is _c.SUBPATTERN:
            return self.sequence(arg[3], _nocase(arg, nocase))
        if op is _c.ATOMIC_GROUP:
            return self.sequence(arg, nocase)
        if op in (_c.ASSERT, _c.ASSERT_NOT):
            return self.sequence(arg[1], nocase)
        if op is _c.GROUPREF_EXISTS:
            return self.sequence(arg[1], nocase) + self.sequence(arg[2] or (), nocase)
        if op is _c.BRANCH:
            each = [self.sequence(branch, nocase) for branch in arg[1]]
            return max(each) if _exclusive(arg[1], nocase) else sum(each)
        if op in REPEATS:
            return self.repeat(*arg, nocase)
        return math.inf

    def repeat(self, low: int, high: Any, body: Any, nocase: bool) -> float:
        # Rounds up to ``low`` may match nothing; each round past it takes the body's width.
        beyond = self.length // max(body.getwidth()[0], 1) + 1
        top = low + beyond if high is _c.MAXREPEAT else min(high, low + beyond)
        counts = top - low + 1
        inner = self.sequence(body, nocase)
        if inner <= 1 or _pinned(body, nocase):
            return counts * inner
        if top * math.log(inner) > math.log(_HUGE):
            return math.inf
        return counts * inner**top


def _one_character(body: Any) -> bool:
    """Whether a repeat's body is one character (a literal, a class, any): the engine's fast
    loop; another goes round its general loop, some ten times slower a round."""
    return len(body) == 1 and body[0][0] in (_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN)


def _nocase(subpattern: Any, nocase: bool) -> bool:
    """Whether case is ignored inside a ``(?flags:...)`` group."""
    _, add, remove, _ = subpattern
    return bool(add & _c.SRE_FLAG_IGNORECASE) or (nocase and not remove & _c.SRE_FLAG_IGNORECASE)


def _exclusive(branches: Any, nocase: bool) -> bool:
    """Whether every alternative must start with a character no other alternative starts with."""
    firsts = []
    for branch in branches:
        starts = _starts(branch, nocase)
        if starts is None or not starts[1]:
            return False
        firsts.append(starts[0])
    return not any(a.meets(b) for i, a in enumerate(firsts) for b in firsts[i + 1 :])


def _starts(items: Any, nocase: bool) -> tuple[_Chars, bool] | None:
    """The characters a match of ``items`` may start with, and whether it must start with one
    of them (or end the string there); None when that is not known."""
    chars = _NOTHING
    for op, arg in items:
        one = _chars(op, arg, nocase)
        if one is not None:
            return chars | one, True
        if op is _c.AT:
            if arg in (_c.AT_END, _c.AT_END_STRING):
                return chars | _NEWLINE, True
            continue
        if op is _c.SUBPATTERN:
            inner = _starts(arg[3], _nocase(arg, nocase))
        elif op in REPEATS:
            inner = _starts(arg[2], nocase)
            inner = inner and (inner[0], inner[1] and arg[0] >= 1)
        else:
            return None
        if inner is None:
            return None
        chars |= inner[0]
        if inner[1]:
            return chars, True
    return chars, False


def _then(
    first: tuple[_Chars, bool] | None, rest: tuple[_Chars, bool] | None
) -> tuple[_Chars, bool] | None:
    """What a part followed by ``rest`` starts with, from what the part starts with."""
    if first is None or first[1]:
        return first
    return None if rest is None else (first[0] | rest[0], rest[1])


def _run(op: Any, arg: Any, nocase: bool) -> _Chars | None:
    """The characters of a repeat of one character class that can take more than one count."""
    if op in REPEATS and arg[0] != arg[1] and len(arg[2]) == 1:
        return _chars(*arg[2][0], nocase)
    return None


def _pinned(body: Any, nocase: bool) -> bool:
    """Whether rounds of a repeat of ``body`` can split a string one way only: ``body`` starts
    (or ends) with one character nothing else in it matches, and each run in it is followed by
    a part it cannot eat (or ends the round): ``(-[a-z]+)*``, ``([^,]*,)*``."""
    parts = _parts(body, nocase)
    if not parts:
        return False
    for edge, rest in ((parts[0], parts[1:]), (parts[-1], parts[:-1])):
        if edge[1:] == (1, 1) and not any(chars.meets(edge[0]) for chars, _, _ in rest):
            break
    else:
        return False
    for (chars, low, high), following in itertools.pairwise(parts):
        if high != low and (following[1] < 1 or chars.meets(following[0])):
            return False
    return True


def _parts(items: Any, nocase: bool) -> list[tuple[_Chars, int, Any]] | None:
    """``items`` as single characters and repeats of one: (characters, least, most count), or
    None when it holds anything else."""
    parts = []
    for op, arg in items:
        chars = _chars(op, arg, nocase)
        if chars is not None:
            parts.append((chars, 1, 1))
        elif op is _c.SUBPATTERN:
            inner = _parts(arg[3], _nocase(arg, nocase))
            if inner is None:
                return None
            parts.extend(inner)
        elif op in REPEATS and len(arg[2]) == 1:
            chars = _chars(*arg[2][0], nocase)
            if chars is None:
                return None
            parts.append((chars, arg[0], arg[1]))
        else:
            return None
    return parts


def _chars(op: Any, arg: Any, nocase: bool) -> _Chars | None:
    """What a one-character part matches (see the module docstring), or None when ``op`` is
    not one."""
    if op is _c.LITERAL:
        return _literal(arg, nocase)
    if op is _c.IN and arg and arg[0][0] is _c.NEGATE:
        return _outside(_class(arg[1:], False))
    if op is _c.IN:
        return _class(arg, nocase)
    if op is _c.NOT_LITERAL:
        return _outside(_literal(arg, False))
    return _EVERY if op is _c.ANY else None


def _literal(code: int, nocase: bool) -> _Chars:
    if code < 128:
        return _ascii_literal(code, nocase)
    chars = _Chars(0, frozenset(_kind(code)))
    return _either_case(chars) if nocase else chars


@functools.cache  # 256 at most: a pattern's literals are mostly ASCII, and repeat
def _ascii_literal(code: int, nocase: bool) -> _Chars:
    chars = _Chars(1 << code, frozenset())
    return _either_case(chars) if nocase else chars


def _either_case(chars: _Chars) -> _Chars:
    """What listed ``chars`` match when case is ignored (see the module docstring)."""
    ascii_bits, kinds = chars.ascii, chars.kinds
    if chars.kinds & _FOLDING:
        ascii_bits, kinds = ascii_bits | _LETTERS, kinds | _FOLDING
    if chars.ascii & _LETTERS:
        ascii_bits |= sum(
            1 << ord(_ASCII[code].swapcase()) for code in _bits(chars.ascii & _LETTERS)
        )
        kinds |= {"word"}
    return _Chars(ascii_bits, kinds)


def _class(items: Any, nocase: bool) -> _Chars:
    """What a ``[...]`` class that is not negated matches."""
    chars = _NOTHING
    for op, arg in items:
        if op is _c.LITERAL:
            chars |= _literal(arg, nocase)
        elif op is _c.RANGE:
            low, high = arg
            ascii_bits = sum(1 << code for code in range(low, min(high, 127) + 1))
            listed = _Chars(ascii_bits, _KINDS if high >= 128 else frozenset())
            chars |= _either_case(listed) if nocase else listed
        elif op is _c.CATEGORY and arg in _CATEGORIES:
            chars |= _category(arg)
        else:
            return _EVERY
    return chars


@functools.cache  # one for each of the six categories
def _category(category: Any) -> _Chars:
    test, beyond = _CATEGORIES[category]
    return _Chars(sum(1 << ord(ch) for ch in _ASCII if test(ch)), frozenset(beyond))


def _outside(chars: _Chars) -> _Chars:
    """What a negated class matches: the other ASCII characters, and beyond ASCII any kind
    (a kind the class names may still hold characters it does not)."""
    return _Chars(_EVERY.ascii & ~chars.ascii, _KINDS)


def _kind(code: int) -> set[str]:
    ch = chr(code)
    if ch.isdecimal():
        return {"digit"}
    if ch.isalnum():
        return {"word"}
    return {"space"} if ch.isspace() else {"other"}


def _bits(value: int) -> list[int]:
    """The positions of the set bits of ``value`` (not negative): one step for each."""
    codes = []
    while value:
        lowest = value & -value
        codes.append(lowest.bit_length() - 1)
        value ^= lowest
    return codes


def folded(tree: Any) -> int:
    """How many code points compiling the parsed ``tree`` case-folds one by one: those the
    ranges of its character classes span where case is ignored (some 6 ns each on CPython 3.11:
    ``(?i)[\\x00-\\U0010ffff]`` spans 1.1 million, 7 ms)."""
    return sum(
        sum(span[1] - span[0] + 1 for kind, span in arg if kind is _c.RANGE)
        for op, arg, nocase in _nodes(tree)
        if op is _c.IN and nocase
    )


def _nodes(tree: Any) -> Iterator[tuple[Any, Any, bool]]:
    """Every part of the parsed ``tree``, the parts of its groups, alternatives, repeats and
    assertions included, with whether case is ignored there (walked without recursion: a
    pattern may nest deeper than the stack)."""
    waiting = [(tree, bool(tree.state.flags & _c.SRE_FLAG_IGNORECASE))]
    while waiting:
        items, nocase = waiting.pop()
        for op, arg in items:
            yield op, arg, nocase
            if op is _c.SUBPATTERN:
                waiting.append((arg[3], _nocase(arg, nocase)))
            elif op is _c.BRANCH:
                waiting.extend((branch, nocase) for branch in arg[1])
            elif op in REPEATS:
                waiting.append((arg[2], nocase))
            elif op in (_c.ASSERT, _c.ASSERT_NOT):
                waiting.append((arg[1], nocase))
            elif op is _c.ATOMIC_GROUP:
                waiting.append((arg, nocase))
            elif op is _c.GROUPREF_EXISTS:
                waiting.extend((part, nocase) for part in arg[1:] if part)
