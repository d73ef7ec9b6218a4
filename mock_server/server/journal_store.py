"""Where journal entries are kept: per tenant, bounded by count and by bytes, with one budget for
the whole server.

A tenant's ``Journal`` drops its oldest entries beyond ``journal_size`` entries or
``journal_bytes`` bytes. ``JournalBudget`` adds up every journal of the server and, beyond
``journal_total_bytes``, drops the oldest entries of the largest journals, down to 90 % of it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from ..config import DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE, DEFAULT_JOURNAL_TOTAL_BYTES


class JournalBudget:
    """The byte budget every journal of one server shares. Beyond it, the largest journals
    give up their oldest entries (looked for only then, so staying within costs an addition)."""

    def __init__(self, limit: int = DEFAULT_JOURNAL_TOTAL_BYTES) -> None:
        self.limit = limit
        self.used = 0
        self._journals: dict[int, Journal] = {}

    def join(self, journal: Journal) -> None:
        self._journals[id(journal)] = journal

    def leave(self, journal: Journal) -> None:
        journal.clear()
        self._journals.pop(id(journal), None)

    def spent(self, size: int) -> None:
        self.used += size
        if self.used <= self.limit:
            return
        # Over: trim to 90 %, so that a server at its budget does not search on every request.
        target = self.limit * 0.9
        while self.used > target:
            largest = max(self._journals.values(), key=lambda j: j.bytes, default=None)
            if largest is None or not largest.bytes:
                return
            while self.used > target and largest.drop_oldest():
                pass


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
        budget.join(self)

    def append(self, entry: tuple[Any, ...], size: int) -> None:
        entries = self._entries
        entries.append((entry, size))
        self.bytes += size
        self.budget.spent(size)
        if len(entries) > self.max_entries or self.bytes > self.max_bytes:
            while len(entries) > self.max_entries or (
                self.bytes > self.max_bytes and len(entries) > 1
            ):
                self.drop_oldest()

    def drop_oldest(self) -> bool:
        """Forget the oldest entry; False when there was none."""
        if not self._entries:
            return False
        _, size = self._entries.popleft()
        self.bytes -= size
        self.budget.used -= size
        return True

    def clear(self) -> None:
        while self.drop_oldest():
            pass

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return (entry for entry, _ in self._entries)

    def __len__(self) -> int:
        return len(self._entries)
