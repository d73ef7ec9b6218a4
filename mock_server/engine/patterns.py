"""A client's regular expression (JSON Schema ``pattern``): strings built to match it, and a
bound on what searching with it costs.

CPython's ``re`` cannot be interrupted, and a client's pattern runs on the event loop, so a
pattern is run on a string only while ``regex_cost`` bounds the backtracking below ``MAX_WAYS``
(any pattern on a short string, a nested repeat such as ``(a+)+`` on a few characters only), and
the searches made for one request share a ``Budget``. A string is built from the pattern's parse
tree (``regex_text``) and kept only when the search confirms it (JSON Schema's semantics:
``re.search``); ``None`` means no string was built that matches, or none that could be checked.
Both read the tree through the standard library's private parser modules; where those are
missing, no string is built and no pattern is run. A client's pattern is compiled ``quietly``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import threading
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

from ..caches import SHARED, BoundedCache

try:
    from . import regex_cost, regex_text
except ImportError as missing:  # a Python without re._parser: no string is built, no pattern run
    regex_cost = regex_text = None  # type: ignore[assignment]
    logging.getLogger("mock_server").warning(
        "client regex patterns are neither built nor run: this Python's re module lacks %s",
        missing.name,
    )

MAX_TEXT = 10_000  # the longest string built
MAX_WAYS = 250_000  # the backtracking one search may cost: some 10-60 ms at worst
MAX_REQUEST_WAYS = 1_000_000  # what the searches for one value, or its check, may cost
# A scenario condition's bound on a 100-character text: past it, the cost grows faster than any
# small power of the length (a polynomial of degree 6 stays below it).
MAX_CONDITION_WAYS = 1e12
# What one search for a condition may cost at worst (some 0.1 s here), and the longest text
# judged: beyond it, any pattern that is not linear would pass the budget anyway.
MAX_CONDITION_SEARCH = 3e8
MAX_TEXT_SEARCHED = 1 << 27
# Code points compiling a pattern may case-fold one by one (ranges of its character classes
# where case is ignored, ``regex_cost.folded``): some 13 ms.
MAX_FOLDED = 2_000_000


class Budget:
    """The backtracking left to the searches made for one request."""

    def __init__(self, ways: float = MAX_REQUEST_WAYS) -> None:
        self.left = ways

    def spend(self, ways: float) -> bool:
        """Whether a search costing ``ways`` may run; if so, it is charged."""
        if ways > min(self.left, MAX_WAYS):
            return False
        self.left -= ways
        return True


@contextlib.contextmanager
def quietly() -> Iterator[None]:
    """Around parsing or compiling a client's pattern, and nothing more: the warnings Python's
    parser gives (a ``FutureWarning`` for ``[[:alpha:]]`` or ``[a&&b]``, which a later Python
    may read as set syntax) are dropped, not written to the server's log, one for every new
    pattern; the pattern means what this Python reads. The warnings' filters are the process's:
    one thread at a time changes them, for as long as a compile takes."""
    with _QUIET, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


_QUIET = threading.Lock()


def compiled_quietly(patterns: Iterable[str]) -> None:
    """Compile ``patterns`` ``quietly`` into ``re``'s cache, where a validator that searches
    with them finds them compiled (one that is not a pattern is left to the validator)."""
    with quietly():
        for pattern in patterns:
            with contextlib.suppress(re.error, RecursionError, OverflowError, TypeError):
                re.compile(pattern)


def ways(pattern: str, length: int) -> float:
    """A bound on the backtracking of searching a string ``length`` characters long with
    ``pattern`` (``inf`` when it cannot be bounded, or is not a pattern)."""
    return math.inf if regex_text is None else _ways(pattern, length)


def longest_searched(pattern: str) -> float:
    """The longest text a scenario's regex condition searches: the worst case of a longer one,
    each way weighted by what its step costs, passes ``MAX_CONDITION_SEARCH`` (``inf``: any
    length, or no way to tell)."""

    def within(length: int) -> bool:
        return _ways(pattern, length, weighted=True) <= MAX_CONDITION_SEARCH

    if regex_text is None or within(MAX_TEXT_SEARCHED):
        return math.inf
    low, high = 0, MAX_TEXT_SEARCHED  # ways grow with the length: the last one within budget
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if within(middle) else (low, middle - 1)
    return low


def folded(pattern: str) -> int:
    """How many code points compiling ``pattern`` case-folds one by one (0 when it cannot be
    parsed, or without the regex parser)."""
    tree = _tree(pattern)
    return 0 if tree is None else regex_cost.folded(tree)


def backtracks_without_bound(pattern: str) -> bool:
    """Whether a search with ``pattern`` may cost more than any power of the text's length
    (nested repeats whose rounds can overlap): a scenario's condition may not be one. Without
    the regex parser, no pattern can be judged, and none is refused."""
    return regex_text is not None and _ways(pattern, 100) > MAX_CONDITION_WAYS


def unbounded(pattern: str, searched: str) -> str | None:
    """Why ``pattern``, which searches client text (a ``searched``: ``message``, ``text``), may
    not be used, in words to follow its name; None when it may (``backtracks_without_bound``)."""
    if not backtracks_without_bound(pattern):
        return None
    return (
        f"may backtrack without bound on a long {searched} (a repeat inside a repeat whose "
        "rounds can overlap, like (a+)+); rewrite it so that each round starts with a character "
        "the others cannot match"
    )


def _ways(pattern: str, length: int, weighted: bool = False) -> float:
    return _cached_ways((pattern, length, weighted))


@BoundedCache("regex_costs", 1024, registry=SHARED).memoize
def _cached_ways(key: tuple[str, int, bool]) -> float:
    pattern, length, weighted = key
    tree = _parsed(pattern)
    if tree is None:
        return math.inf
    try:
        return regex_cost.ways(tree, length, weighted)
    except RecursionError:
        return math.inf


def string_matching(
    pattern: str,
    min_length: int = 0,
    max_length: int | None = None,
    variant: int = 0,
    budget: Budget | None = None,
) -> str | None:
    """A short string that ``pattern`` matches, ``min_length`` to ``max_length`` long, or None;
    a ``variant`` above 0 stretches the pattern's repeats for a different string. The search
    that confirms it is charged to ``budget`` (by default, one of its own)."""
    if min_length > MAX_TEXT:
        return None
    tree = _tree(pattern)
    if tree is None:
        return None
    try:
        text = _built(tree, min_length, max_length, variant)
    except regex_text.Unsupported:
        return None
    if len(text) < min_length or (max_length is not None and len(text) > max_length):
        return None
    if not (budget or Budget()).spend(ways(pattern, len(text))):
        return None
    try:
        with quietly():
            compiled = re.compile(pattern)
    except re.error:
        return None
    return text if compiled.search(text) else None


def _tree(pattern: str) -> Any:
    """The parse tree of ``pattern``, or None (not a pattern, or no parser)."""
    return None if regex_text is None else _parsed(pattern)


# A tree takes some 90 bytes a character of its pattern: few are kept.
@BoundedCache("regex_trees", 32, registry=SHARED).memoize
def _parsed(pattern: str) -> Any:
    """Kept for the patterns seen last: a schema's pattern is used for many strings."""
    try:
        with quietly():
            return regex_text.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None


def _built(tree: Any, min_length: int, max_length: int | None, variant: int) -> str:
    """The string for ``tree``: stretched by ``variant``, shortened for ``max_length``,
    lengthened for ``min_length``."""
    text = regex_text.build(tree, variant, MAX_TEXT)
    if max_length is not None and len(text) > max_length:
        text = regex_text.build(tree, 0, MAX_TEXT)
    if len(text) < min_length and not regex_text.ends_free(tree):
        text = regex_text.build(tree, _stretch_for(tree, min_length), MAX_TEXT)
    if len(text) < min_length and regex_text.ends_free(tree):
        text += "x" * (min_length - len(text))
    return text


def _stretch_for(tree: Any, min_length: int) -> int:
    """The least stretch that makes the built string ``min_length`` long (length only grows
    with the stretch): doubling, then halving the gap."""

    def length(stretch: int) -> float:
        try:
            return len(regex_text.build(tree, stretch, MAX_TEXT))
        except regex_text.TooLong:
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
