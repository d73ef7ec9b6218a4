"""``BoundedCache``: the one cache of the package, for what requests bring back again.

Least recently used out first, bounded by entries and, given the size of each entry, by
bytes; it counts its hits, misses and evictions, which ``GET /__admin/health`` shows. A
server's own caches are named in its registry (``ServerState.caches``), those of the process
(keyed by client data too, but shared by every server) in ``SHARED``.

A hit costs a call, a dictionary look-up and ``move_to_end`` on an ``OrderedDict``: hits are
taken on every request (docs/performance.md). A cache that memoizes a function keeps its
results with ``functools.lru_cache`` (the same policy and bound, run in C: memoized functions
are called several times a request), and shows its counts as its own. Servers in threads of
one process share the caches of ``SHARED``, which are bounded by entries only: an entry another
thread evicted meanwhile is no error, and no lock is needed.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MISSING: Any = object()  # a default for ``get`` where None may be a value


class BoundedCache(Generic[K, V]):
    """Values by key, the least recently used forgotten first: past ``max_entries`` entries, or
    past ``max_bytes`` by the sizes given to ``put`` (a value larger than that alone is not
    kept). ``registry``, when given, lists it by ``name``.

    ``get(key, default=None)`` is the value for ``key``, now the most recently used, or
    ``default``; ``memoize(compute)`` is ``compute`` with its results kept here.
    """

    __slots__ = ("_bound", "_data", "_evictions", "_hits", "_memo", "_misses", "_sizes", "bytes",
                 "get", "max_bytes", "max_entries", "name")  # fmt: skip

    def __init__(
        self,
        name: str,
        max_entries: int,
        *,
        max_bytes: int | None = None,
        registry: dict[str, BoundedCache[Any, Any]] | None = None,
    ) -> None:
        self.name = name
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._bound = math.inf if max_bytes is None else max_bytes
        self._data: OrderedDict[K, V] = OrderedDict()
        self._sizes: dict[K, int] = {}
        self.bytes = self._hits = self._misses = self._evictions = 0
        self._memo: Any = None  # the lru_cache of ``memoize``, if any
        self.get: Callable[..., V | Any] = self._lookup()
        if registry is not None:
            registry[name] = self

    def _lookup(self) -> Callable[..., V | Any]:
        """A look-up that counts a hit or a miss: made once, so that a hit costs one call."""
        found, touch = self._data.get, self._data.move_to_end  # no attribute look-ups

        def lookup(key: K, default: Any = None) -> V | Any:
            value = found(key, MISSING)
            if value is MISSING:
                self._misses += 1
                return default
            try:  # noqa: SIM105 (contextlib.suppress is a call more on every hit)
                touch(key)
            except KeyError:  # evicted meanwhile, by another thread
                pass
            self._hits += 1
            return value

        return lookup

    def put(self, key: K, value: V, size: int = 0) -> None:
        """Keep ``value`` for ``key`` as the most recently used, forgetting the least recently
        used ones past a bound; ``size`` is what it counts for against ``max_bytes``."""
        data, sizes = self._data, self._sizes
        if self.max_bytes is not None:
            if size > self._bound:  # alone past the bound: not kept, nor what it replaces
                data.pop(key, None)
                self.bytes -= sizes.pop(key, 0)
                return
            self.bytes += size - sizes.get(key, 0)
            sizes[key] = size
        try:
            if key in data:  # kept again: now the most recently used
                data.move_to_end(key)
            data[key] = value
            while len(data) > self.max_entries or self.bytes > self._bound:
                oldest, _ = data.popitem(False)  # the first: least recently used
                if sizes:
                    self.bytes -= sizes.pop(oldest, 0)
                self._evictions += 1
        except KeyError:  # changed meanwhile by another thread
            pass

    def memoize(self, compute: Callable[[K], V]) -> Callable[[K], V]:
        """``compute`` (a function of one hashable argument) with its results kept here, by
        ``functools.lru_cache``: bounded by entries, counted as this cache's."""
        self._memo = functools.lru_cache(maxsize=self.max_entries)(compute)
        return self._memo

    def _memo_counts(self) -> tuple[int, int, int, int]:
        """The memo's hits, misses, evictions and entries (zeros without one)."""
        if self._memo is None:
            return 0, 0, 0, 0
        hits, misses, _, entries = self._memo.cache_info()
        return hits, misses, misses - entries, entries

    @property
    def hits(self) -> int:
        return self._hits + self._memo_counts()[0]

    @property
    def misses(self) -> int:
        return self._misses + self._memo_counts()[1]

    @property
    def evictions(self) -> int:
        return self._evictions + self._memo_counts()[2]

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` is kept (by ``put``); neither counted nor made the most recently
        used."""
        return key in self._data

    def __len__(self) -> int:
        return len(self._data) + self._memo_counts()[3]

    def clear(self) -> None:
        """Forget every entry; the counters stay."""
        self._data.clear()
        self._sizes.clear()
        self.bytes = 0
        if self._memo is not None:
            hits, misses, evictions, _ = self._memo_counts()
            self._hits, self._misses = self._hits + hits, self._misses + misses
            self._evictions += evictions
            self._memo.cache_clear()

    def stats(self) -> dict[str, int]:
        """As ``GET /__admin/health`` shows it."""
        shown = {"entries": len(self), "max_entries": self.max_entries}
        if self.max_bytes is not None:
            shown |= {"bytes": self.bytes, "max_bytes": self.max_bytes}
        return shown | {"hits": self.hits, "misses": self.misses, "evictions": self.evictions}

    def __repr__(self) -> str:
        return f"BoundedCache({self.name!r}, {self.stats()})"


# The caches of the process (module-level, keyed by client data), by name.
SHARED: dict[str, BoundedCache[Any, Any]] = {}
