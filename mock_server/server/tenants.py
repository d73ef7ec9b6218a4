"""Tenants: isolated namespaces on one server, each with its own added scenarios, sequence
positions, journal, account state and keyed store, on top of the scenarios loaded from files;
``Tenant`` keeps them in memory, behind the interface of ``tenant_state``.

A tenant is created on first use; an idle one is a handful of empty containers. Beyond
``max_tenants``, the least recently used tenant is forgotten — unless something configured it
through the admin API (added scenarios, a strict setting, a recording file: what the pytest
fixture does) and has not reset it since, or it is the default tenant. Since configured tenants
stay, the admin API configures at most ``max_tenants`` of them at once, each with at most
``MAX_ADDED_SCENARIOS`` added scenarios.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..accounts.account import TenantAccounts
from ..config import (
    DEFAULT_JOURNAL_BYTES,
    DEFAULT_JOURNAL_SIZE,
    DEFAULT_JOURNAL_TOTAL_BYTES,
    DEFAULT_MAX_TENANTS,
)
from ..engine.choosing import ScenarioState
from .budget import SharedBudget
from .journal_store import Journal
from .tenant_state import MAX_STORED_TOTAL_BYTES, KeyedStore

if TYPE_CHECKING:
    from ..record.recorder import RecordingTarget

DEFAULT_TENANT = "default"
MAX_ADDED_SCENARIOS = 10_000  # scenarios one tenant may add through the admin API


@dataclass(eq=False)
class Tenant:
    """One tenant's state, in memory (a ``tenant_state.TenantState``); see the module
    docstring."""

    name: str
    journal: Journal
    scenarios: ScenarioState = field(default_factory=ScenarioState)
    store: KeyedStore = field(default_factory=KeyedStore)
    strict: bool | None = None  # None: the server's setting
    recording: RecordingTarget | None = None  # a file of its own to record into (pytest)
    accounts: TenantAccounts = field(init=False)

    def __post_init__(self) -> None:
        self.accounts = TenantAccounts(self.name)

    @property
    def held(self) -> bool:
        """Whether the admin API configured this tenant (so it is never evicted)."""
        return (
            bool(len(self.scenarios.added)) or self.strict is not None or self.recording is not None
        )

    def reset(self) -> None:
        """Forget everything: added scenarios, sequence positions, journal, account state, the
        keyed store, where it recorded."""
        self.scenarios.clear()
        self.store.clear()
        self.journal.clear()
        self.strict = None
        self.recording = None
        self.accounts.clear()


class Tenants:
    """Every tenant of a server, created on first use, the least recently used forgotten first
    when there are more than ``max_tenants``. Configured tenants, which are never forgotten,
    are kept apart from the others (``hold``), so that forgetting one costs the same however
    many are configured."""

    def __init__(
        self,
        journal_size: int = DEFAULT_JOURNAL_SIZE,
        journal_bytes: int = DEFAULT_JOURNAL_BYTES,
        journal_total_bytes: int = DEFAULT_JOURNAL_TOTAL_BYTES,
        max_tenants: int = DEFAULT_MAX_TENANTS,
    ) -> None:
        self.journal_size = journal_size
        self.journal_bytes = journal_bytes
        self.journal_budget = SharedBudget(journal_total_bytes)
        self.store_budget = SharedBudget(MAX_STORED_TOTAL_BYTES)
        self.max_tenants = max_tenants
        self._free: OrderedDict[str, Tenant] = OrderedDict()  # least recently used first
        self._held: dict[str, Tenant] = {}  # configured through the admin API

    def get(self, name: str | None) -> Tenant:
        name = name or DEFAULT_TENANT
        tenant = self._free.get(name)
        if tenant is not None:
            self._free.move_to_end(name)
            return tenant
        tenant = self._held.get(name)
        if tenant is not None:
            if not tenant.held:  # reset, or its configuration removed: forgettable again
                self._free[name] = self._held.pop(name)
            return tenant
        journal = Journal(self.journal_budget, self.journal_size, self.journal_bytes)
        store = KeyedStore(budget=self.store_budget)
        tenant = self._free[name] = Tenant(name, journal, store=store)
        if len(self) > self.max_tenants:
            self._evict()
        return tenant

    def __len__(self) -> int:
        return len(self._free) + len(self._held)

    def may_configure(self, tenant: Tenant) -> bool:
        """Whether the admin API may configure ``tenant``: it is configured already, or fewer
        than ``max_tenants`` tenants are."""
        if tenant.name in self._held:
            return True
        if len(self._held) >= self.max_tenants:  # some may have lost their configuration
            for name in [name for name, held in self._held.items() if not held.held]:
                self._free[name] = self._held.pop(name)
        return len(self._held) < self.max_tenants

    def hold(self, tenant: Tenant) -> None:
        """``tenant``, just got (``get``), is being configured (``may_configure`` said it may
        be): never forget it while it is."""
        self._free.pop(tenant.name, None)
        self._held[tenant.name] = tenant

    def _evict(self) -> None:
        """Forget the least recently used tenant that is not configured, other than the default
        and the one just created."""
        newest = next(reversed(self._free))
        name = next((name for name in self._free if name != DEFAULT_TENANT), newest)
        if name == newest:
            return  # every other tenant is configured, or the default one: none can go
        tenant = self._free.pop(name)
        self.journal_budget.leave(tenant.journal)  # its bytes go back to the server's budgets
        self.store_budget.leave(tenant.store)
