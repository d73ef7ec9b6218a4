"""Tenants: isolated namespaces on one server, each with its own added scenarios, sequence
positions, journal and account state, on top of the scenarios loaded from files.

A tenant is created on first use; an idle one is a handful of empty containers.
"""

from __future__ import annotations

import itertools
import random
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from .matching import ScenarioIndex
from .scenario import Scenario

DEFAULT_TENANT = "default"
DEFAULT_JOURNAL_SIZE = 1000
# Scenarios added at run time rank before file scenarios of equal priority and specificity.
_ADDED_ORDER = itertools.count(-(10**9))


@dataclass
class Tenant:
    """One tenant's state; see the module docstring."""

    name: str
    journal_size: int = DEFAULT_JOURNAL_SIZE
    added: ScenarioIndex = field(default_factory=lambda: ScenarioIndex(()))
    served: dict[str, int] = field(default_factory=dict)
    strict: bool | None = None  # None: the server's setting
    accounts: dict[str, Any] = field(default_factory=dict)  # API key -> emulation.Account
    journal: deque[tuple[Any, ...]] = field(init=False)  # see journal.FIELDS
    _chaos_rng: random.Random | None = None

    def __post_init__(self) -> None:
        self.journal = deque(maxlen=self.journal_size)

    def chaos_rng(self, seed: int | None) -> random.Random:
        """This tenant's chaos source: the same seed replays the same failures."""
        if self._chaos_rng is None:
            self._chaos_rng = random.Random(f"{seed}:{self.name}")
        return self._chaos_rng

    def add_scenarios(self, scenarios: list[Scenario]) -> None:
        """Add (or replace, by name) run-time scenarios; their sequences start afresh."""
        scenarios = [replace(s, order=next(_ADDED_ORDER)) for s in scenarios]
        for scenario in scenarios:
            self.served.pop(scenario.name, None)
        names = {s.name for s in scenarios}
        kept = [s for s in self.added.scenarios if s.name not in names]
        self.added = ScenarioIndex([*kept, *scenarios])

    def remove_scenario(self, name: str) -> bool:
        if name not in self.added.by_name:
            return False
        self.added = ScenarioIndex(s for s in self.added.scenarios if s.name != name)
        self.served.pop(name, None)
        return True

    def clear_scenarios(self) -> None:
        self.added = ScenarioIndex(())
        self.served.clear()

    def reset(self) -> None:
        """Forget everything: added scenarios, sequence positions, journal, account state."""
        self.clear_scenarios()
        self.journal.clear()
        self.strict = None
        self.accounts.clear()
        self._chaos_rng = None


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
