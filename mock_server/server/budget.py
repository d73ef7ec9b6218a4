"""``SharedBudget``: one byte budget for many bounded containers of a server, so that many
tenants together stay within a bound too (the tenants' journals share one, their stored
responses another).

A member (``Shared``) keeps its own bounds, says what it adds (``spent``) and takes back what
it drops (``returned``). Beyond the limit, the largest members give up their oldest values,
down to 90 % of it: looked for only then, so staying within costs an addition.
"""

from __future__ import annotations

from typing import Protocol


class Shared(Protocol):
    """A container that shares a budget: its size, and a way to give up its oldest value."""

    bytes: int

    def drop_oldest(self) -> bool:
        """Forget the oldest value (returning its bytes); False when there was none."""
        ...

    def clear(self) -> None: ...


class SharedBudget:
    """The bytes every member holds, against ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._members: dict[int, Shared] = {}

    def join(self, member: Shared) -> None:
        self._members[id(member)] = member

    def leave(self, member: Shared) -> None:
        """``member`` is gone: its bytes go back to the budget."""
        member.clear()
        self._members.pop(id(member), None)

    def returned(self, size: int) -> None:
        self.used -= size

    def spent(self, size: int) -> None:
        self.used += size
        if self.used <= self.limit:
            return
        # Over: trim to 90 %, so that a server at its budget does not search on every request.
        target = self.limit * 0.9
        while self.used > target:
            largest = max(self._members.values(), key=lambda m: m.bytes, default=None)
            if largest is None or not largest.bytes:
                return
            while self.used > target and largest.drop_oldest():
                pass
