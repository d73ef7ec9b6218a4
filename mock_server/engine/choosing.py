"""The scenario engine: pick the scenario that answers a request and advance its sequence.

Candidates come from the tenant's run-time scenarios and the file scenarios (a run-time scenario
shadows a file scenario of the same name), best-ranked first; the first whose conditions all
hold and whose sequence is not exhausted answers. Choosing and advancing happen without an
``await`` in between, so concurrent requests each get their own step.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from itertools import chain

from .matching import NearMiss, ScenarioIndex, by_rank, near_misses
from .scenario import Scenario
from .script import ReplySpec
from .tenants import Tenant
from .view import RequestView


@dataclass(frozen=True)
class Selection:
    scenario: Scenario
    step: int
    reply: ReplySpec


class ScenarioEngine:
    """File scenarios (replaceable as a whole, for ``--watch``) and the choosing rules."""

    def __init__(self, scenarios: list[Scenario]) -> None:
        self.files = ScenarioIndex(scenarios)

    def replace(self, scenarios: list[Scenario]) -> None:
        self.files = ScenarioIndex(scenarios)

    def visible(self, tenant: Tenant) -> list[Scenario]:
        """Every scenario a tenant's requests can match, best-ranked first."""
        shadowed = tenant.added.by_name
        files = [s for s in self.files.scenarios if s.name not in shadowed]
        return list(heapq.merge(tenant.added.scenarios, files, key=by_rank))

    def find(self, name: str, tenant: Tenant) -> Scenario | None:
        """The scenario a tenant sees under ``name``."""
        return tenant.added.by_name.get(name) or self.files.by_name.get(name)

    def advance(self, scenario: Scenario, tenant: Tenant) -> Selection | None:
        """Take the next step of ``scenario``'s sequence (None when exhausted, no_match)."""
        step = tenant.served.get(scenario.name, 0)
        reply = scenario.reply_at(step)
        if reply is None:
            return None
        tenant.served[scenario.name] = step + 1
        return Selection(scenario, step, reply)

    def choose(self, view: RequestView, tenant: Tenant) -> Selection | None:
        shadowed = tenant.added.by_name
        files = self.files.candidates(view)
        if shadowed:
            files = (s for s in files if s.name not in shadowed)
        candidates = (
            heapq.merge(tenant.added.candidates(view), files, key=by_rank)
            if len(tenant.added)
            else files
        )
        for scenario in candidates:
            if scenario.matches(view):
                selection = self.advance(scenario, tenant)
                if selection is not None:  # else exhausted, with on_exhausted: no_match
                    return selection
        return None

    def near_misses(self, view: RequestView, tenant: Tenant, limit: int = 3) -> list[NearMiss]:
        scenarios = self.visible(tenant)
        misses = near_misses(scenarios, view, limit)
        exhausted = [
            NearMiss(
                s.name,
                s.source,
                len(s.conditions),
                [f"sequence exhausted after {len(s.replies)} replies (on_exhausted: no_match)"],
            )
            for s in scenarios
            if s.matches(view) and s.reply_at(tenant.served.get(s.name, 0)) is None
        ]
        return list(chain(exhausted, misses))[:limit]
