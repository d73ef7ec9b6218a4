"""What a tenant's state must provide, whoever keeps it: the interface the pipeline relies on.

Four parts, each an operation that must be atomic (today each is one call on in-memory objects,
with no ``await`` inside, so one process needs nothing more):

- **sequences** (``engine.choosing.ScenarioState.take``): read a scenario's position, decide
  its step and advance it, as one operation;
- **account windows** (``accounts.account.Account.take``): roll the rate-limit windows, check
  that each has room for a request and count it, as one operation; balances are spent after
  the answer (``AccountRules.charge``);
- **journal** (``Journal.append``): append an entry, dropping the oldest past its bounds;
- **keyed store** (``KeyedStore``): values by key (the Responses API's stored responses and
  the Conversations API's conversations), bounded (a tenant's, and every tenant's together),
  the oldest dropped first.

A shared backend (Redis, say) serving several server processes would implement the same
operations: ``take`` of a sequence as a script or a compare-and-set on the position,
``take`` of the windows as a script over counters that expire with their window, the journal
as a capped list, the store as keys with a size-capped index; ``reset`` deleting all of a
tenant's keys. ``docs/architecture.md`` says more.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from .budget import SharedBudget

if TYPE_CHECKING:
    from ..accounts.account import TenantAccounts
    from ..engine.choosing import ScenarioState
    from .journal_store import Journal

MAX_STORED = 1_000  # values a tenant's store holds at most
MAX_STORED_BYTES = 16 * 1024 * 1024
MAX_STORED_TOTAL_BYTES = 256 * 1024 * 1024  # what the stores of a server's tenants hold together
# What a JSON object or array costs in memory beyond its text: 320 to 640 bytes an input item
# (a dict, its content parts, the id the store gives it), measured with tracemalloc.
OBJECT_BYTES = 320


class TenantState(Protocol):
    """One tenant's state as the pipeline uses it (``tenants.Tenant`` keeps it in memory)."""

    name: str
    scenarios: ScenarioState  # sequences: ``take``
    accounts: TenantAccounts  # account windows: ``account(...).take``
    journal: Journal  # ``append``
    store: KeyedStore
    strict: bool | None  # settings the admin API gives a tenant: strict mode (None: the server's)
    recording: Any  # and a recording target of its own, or None

    def reset(self) -> None:
        """Forget everything the tenant holds."""


class KeyedStore:
    """Values by key, at most ``max_entries`` of them and ``max_bytes`` together (each value
    stored with its size, as the caller measures it), the oldest stored dropped first; with a
    ``budget`` (shared with other tenants' stores), within what it leaves, too."""

    def __init__(
        self,
        max_entries: int = MAX_STORED,
        max_bytes: int = MAX_STORED_BYTES,
        budget: SharedBudget | None = None,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.budget = budget
        self.bytes = 0
        self._values: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        if budget is not None:
            budget.join(self)

    def get(self, key: Hashable) -> Any | None:
        found = self._values.get(key)
        return None if found is None else found[0]

    def put(self, key: Hashable, value: Any, size: int) -> None:
        """Store ``value`` (``size`` bytes) under ``key``, as the newest; one larger than
        ``max_bytes`` is not stored."""
        self.delete(key)
        if size > self.max_bytes:
            return
        self._values[key] = (value, size)
        self.bytes += size
        while len(self._values) > self.max_entries or self.bytes > self.max_bytes:
            self.drop_oldest()
        if self.budget is not None:
            self.budget.spent(size, self)

    def delete(self, key: Hashable) -> bool:
        """Forget ``key``; False when nothing was stored under it."""
        found = self._values.pop(key, None)
        if found is None:
            return False
        self._forget(found[1])
        return True

    def drop_oldest(self) -> bool:
        """Forget the oldest value; False when there was none."""
        if not self._values:
            return False
        _, (_, size) = self._values.popitem(last=False)
        self._forget(size)
        return True

    def clear(self) -> None:
        while self.drop_oldest():
            pass

    def _forget(self, size: int) -> None:
        self.bytes -= size
        if self.budget is not None:
            self.budget.returned(size)

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def held_by(data: bytes) -> int:
    """A bound on what JSON text ``data`` holds in memory once parsed: its bytes, and
    ``OBJECT_BYTES`` for each bracket that may open an object or an array."""
    return len(data) + OBJECT_BYTES * (data.count(b"{") + data.count(b"["))
