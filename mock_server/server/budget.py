"""``SharedBudget``: one byte budget for many bounded containers of a server, so that many
tenants together stay within a bound too (the tenants' journals share one, their stored
responses another).

A member (``Shared``) keeps its own bounds, says what it adds (``spent``) and takes back what
it drops (``returned``). Beyond the limit, the largest members give up their oldest values one
at a time, the largest again after each, so that they come out levelled, down to 90 % of the
limit: looked for only then, so staying within costs an addition. What a member has just added
stays. A member that leaves (a tenant forgotten) is emptied and counts no more, even if a
request still holds it.
"""

from __future__ import annotations

import heapq
from typing import Protocol


class Shared(Protocol):
    """A container that shares a budget: its size, and a way to give up its oldest value."""

    bytes: int
    budget: SharedBudget | None

    def drop_oldest(self) -> bool:
        """Forget the oldest value (returning its bytes); False when there was none."""
        ...

    def clear(self) -> None: ...

    def __len__(self) -> int: ...


class SharedBudget:
    """The bytes every member holds, against ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._members: dict[int, Shared] = {}

    def join(self, member: Shared) -> None:
        self._members[id(member)] = member

    def leave(self, member: Shared) -> None:
        """``member`` is gone: its bytes go back to the budget, and what it holds later (a
        request that was under way when it left) is not counted."""
        member.clear()
        member.budget = None
        self._members.pop(id(member), None)

    def returned(self, size: int) -> None:
        self.used -= size

    def spent(self, size: int, by: Shared) -> None:
        """``by`` added ``size`` bytes (its newest value, which a trim leaves)."""
        self.used += size
        if self.used <= self.limit:
            return
        # Over: trim to 90 %, so that a server at its budget does not trim on every request.
        target = self.limit * 0.9
        largest = [(-m.bytes, n, m) for n, m in enumerate(self._members.values()) if m.bytes]
        heapq.heapify(largest)
        while self.used > target and largest:
            _, n, member = heapq.heappop(largest)
            if member is by and len(member) <= 1:
                continue
            if member.drop_oldest() and member.bytes:
                heapq.heappush(largest, (-member.bytes, n, member))
