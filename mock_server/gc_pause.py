"""``without_gc``: a function run with CPython's cyclic garbage collector held off.

Building a large value out of client data (the items of a 10 MB request body, the steps of a
long scenario document) makes millions of containers that all live until the work is done. The
collector, started every few hundred allocations, finds none of them to be garbage, yet promotes
them generation by generation and walks all of them in each full collection: up to three
quarters of the time of such work (docs/performance.md, "Large bodies and documents"). Held off
for the length of such calls, the collector runs once after them, on what is still alive then.
None of this work leaves cycles of garbage that had to be freed sooner: what it drops, reference
counting frees as ever.

The collector is one for the whole process: while it is held off, so it is for every thread
(a pytest session's server runs in the tests' process). Calls held off at once, from several
threads, hold it off until the last of them returns; when something else has turned it off
already, it is left as it is.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_lock = threading.Lock()
_holding = 0  # calls running with the collector held off by this module


def without_gc(function: Callable[P, R]) -> Callable[P, R]:
    """``function``, with the cyclic garbage collector disabled while it runs."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if not _hold():
            return function(*args, **kwargs)
        try:
            return function(*args, **kwargs)
        finally:
            _release()

    return run


def _hold() -> bool:
    """Hold the collector off for one more call; False when something else holds it off."""
    global _holding
    with _lock:
        if not _holding and not gc.isenabled():
            return False
        _holding += 1
        gc.disable()
        return True


def _release() -> None:
    global _holding
    with _lock:
        _holding -= 1
        if not _holding:
            gc.enable()
