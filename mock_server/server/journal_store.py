"""Where journal entries are kept: per tenant, bounded by count and by bytes, with one budget for
the whole server.

A tenant's ``Journal`` drops its oldest entries beyond ``journal_size`` entries or
``journal_bytes`` bytes. The journals of a server share a ``budget.SharedBudget`` of
``journal_total_bytes``: beyond it, the largest journals drop their oldest entries.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from ..config import DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE
from .budget import SharedBudget


class Journal:
    """One tenant's journal entries, oldest first, each stored with its size in bytes."""

    __slots__ = ("_entries", "budget", "bytes", "max_bytes", "max_entries")

    def __init__(
        self,
        budget: SharedBudget,
        max_entries: int = DEFAULT_JOURNAL_SIZE,
        max_bytes: int = DEFAULT_JOURNAL_BYTES,
    ) -> None:
        self._entries: deque[tuple[tuple[Any, ...], int]] = deque()
        self.budget: SharedBudget | None = budget
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        budget.join(self)

    def append(self, entry: tuple[Any, ...], size: int) -> None:
        entries = self._entries
        entries.append((entry, size))
        self.bytes += size
        if self.budget is not None:
            self.budget.spent(size, self)
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
        if self.budget is not None:
            self.budget.returned(size)
        return True

    def clear(self) -> None:
        while self.drop_oldest():
            pass

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return (entry for entry, _ in self._entries)

    def __len__(self) -> int:
        return len(self._entries)
