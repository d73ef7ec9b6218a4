"""Tenants: isolated namespaces on one server, each with its own added scenarios, sequence
positions, journal and account state, on top of the scenarios loaded from files.

A tenant is created on first use; an idle one is a handful of empty containers.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..accounts.account import TenantAccounts
from ..engine.choosing import ScenarioState

DEFAULT_TENANT = "default"
DEFAULT_JOURNAL_SIZE = 1000


@dataclass
class Tenant:
    """One tenant's state; see the module docstring."""

    name: str
    journal_size: int = DEFAULT_JOURNAL_SIZE
    scenarios: ScenarioState = field(default_factory=ScenarioState)
    strict: bool | None = None  # None: the server's setting
    accounts: TenantAccounts = field(init=False)
    journal: deque[tuple[Any, ...]] = field(init=False)  # see journal.FIELDS

    def __post_init__(self) -> None:
        self.accounts = TenantAccounts(self.name)
        self.journal = deque(maxlen=self.journal_size)

    def reset(self) -> None:
        """Forget everything: added scenarios, sequence positions, journal, account state."""
        self.scenarios.clear()
        self.journal.clear()
        self.strict = None
        self.accounts.clear()


class Tenants:
    """Every tenant of a server, created on first use."""

    def __init__(self, journal_size: int = DEFAULT_JOURNAL_SIZE) -> None:
        self.journal_size = journal_size
        self._tenants: dict[str, Tenant] = {}

    def get(self, name: str | None) -> Tenant:
        name = name or DEFAULT_TENANT
        tenant = self._tenants.get(name)
        if tenant is None:
            tenant = self._tenants[name] = Tenant(name, self.journal_size)
        return tenant
