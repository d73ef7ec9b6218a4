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
    when there are more than ``max_tenants``."""

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
        self._tenants: OrderedDict[str, Tenant] = OrderedDict()  # least recently used first

    def get(self, name: str | None) -> Tenant:
        name = name or DEFAULT_TENANT
        tenant = self._tenants.get(name)
        if tenant is None:
            journal = Journal(self.journal_budget, self.journal_size, self.journal_bytes)
            store = KeyedStore(budget=self.store_budget)
            tenant = self._tenants[name] = Tenant(name, journal, store=store)
            if len(self._tenants) > self.max_tenants:
                self._evict()
        else:
            self._tenants.move_to_end(name)
        return tenant

    def __len__(self) -> int:
        return len(self._tenants)

    def may_configure(self, tenant: Tenant) -> bool:
        """Whether the admin API may configure ``tenant``: it is configured already, or fewer
        than ``max_tenants`` tenants are."""
        return tenant.held or sum(t.held for t in self._tenants.values()) < self.max_tenants

    def _evict(self) -> None:
        newest = next(reversed(self._tenants))
        for name, tenant in self._tenants.items():
            if name == newest:
                return  # every older tenant is held: none can go
            if name != DEFAULT_TENANT and not tenant.held:
                break
        self.journal_budget.leave(tenant.journal)  # its bytes go back to the server's budgets
        self.store_budget.leave(tenant.store)
        del self._tenants[name]
