"""Where journal entries are kept: per tenant, bounded by count and by bytes, with one budget for
the whole server.

A tenant's ``Journal`` drops its oldest entries beyond ``journal_size`` entries or
``journal_bytes`` bytes. ``JournalBudget`` adds up every journal of the server and, beyond
``journal_total_bytes``, drops the oldest entries of the journal written to least recently.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterator
from typing import Any

from ..config import DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE, DEFAULT_JOURNAL_TOTAL_BYTES


class JournalBudget:
    """The byte budget every journal of one server shares."""

    def __init__(self, limit: int = DEFAULT_JOURNAL_TOTAL_BYTES) -> None:
        self.limit = limit
        self.used = 0
        self._by_recency: OrderedDict[int, Journal] = OrderedDict()  # least recent first

    def spent(self, journal: Journal, size: int) -> None:
        self.used += size
        self._by_recency[id(journal)] = journal
        self._by_recency.move_to_end(id(journal))
        while self.used > self.limit and self._by_recency:
            oldest = next(iter(self._by_recency.values()))
            if not oldest.drop_oldest():
                del self._by_recency[id(oldest)]

    def released(self, journal: Journal, size: int) -> None:
        self.used -= size
        if not journal:
            self._by_recency.pop(id(journal), None)


class Journal:
    """One tenant's journal entries, oldest first, each stored with its size in bytes."""

    __slots__ = ("_entries", "budget", "bytes", "max_bytes", "max_entries")

    def __init__(
        self,
        budget: JournalBudget,
        max_entries: int = DEFAULT_JOURNAL_SIZE,
        max_bytes: int = DEFAULT_JOURNAL_BYTES,
    ) -> None:
        self._entries: deque[tuple[tuple[Any, ...], int]] = deque()
        self.budget = budget
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0

    def append(self, entry: tuple[Any, ...], size: int) -> None:
        self._entries.append((entry, size))
        self.bytes += size
        self.budget.spent(self, size)
        while len(self._entries) > self.max_entries or (
            self.bytes > self.max_bytes and len(self._entries) > 1
        ):
            self.drop_oldest()

    def drop_oldest(self) -> bool:
        """Forget the oldest entry; False when there was none."""
        if not self._entries:
            return False
        _, size = self._entries.popleft()
        self.bytes -= size
        self.budget.released(self, size)
        return True

    def clear(self) -> None:
        while self.drop_oldest():
            pass

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return (entry for entry, _ in self._entries)

    def __len__(self) -> int:
        return len(self._entries)
