"""``without_gc``: a function run with CPython's cyclic garbage collector held off.

Building a large value out of client data (the items of a 10 MB request body, the steps of a
long scenario document) makes millions of containers that all live until the work is done. The
collector, started every 700 allocations, finds none of them to be garbage, yet promotes them
generation by generation and walks all of them in each full collection: up to three quarters of
the time of such work (``benchmarks/large_work.py``: a 200,000-step document added in 18.4 s,
5.2 s with the collector held off; a Responses request of 270,000 input items answered in
2.27 s, 1.50 s). Held off for the length of one such call, the collector runs once after it, on
what is still alive then. None of this work leaves cycles of garbage that had to be freed
sooner: what it drops, reference counting frees as ever.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def without_gc(function: Callable[P, R]) -> Callable[P, R]:
    """``function``, with the cyclic garbage collector disabled while it runs (left as it is
    when it is disabled already: by a caller, or by another thread's call, as the collector is
    one for the whole process)."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return run
