"""Finding the scenarios that may answer a request, and explaining those that did not.

``ScenarioIndex`` keeps scenarios ranked (priority, then specificity, then load order) and
bucketed by what can be looked up exactly — the last user message given with ``equals``, a
model given without wildcards, else a ``request_digest`` — so the cost of finding a match does
not grow with the number of scenarios that cannot match. A request's digest is computed for the
look-up only when some scenario is bucketed by nothing else. ``near_misses`` ranks the
scenarios that failed by how close they came, from what each condition ``explain``s.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .conditions import DigestCondition, TextCondition
from .digest import request_digest
from .request_view import RequestView
from .scenario import Scenario, by_rank


@dataclass
class NearMiss:
    """A scenario that did not match, and why."""

    scenario: str
    source: str
    matched: int
    failed: list[str]
    conditions: list[dict[str, str]] = field(default_factory=list)  # condition, wanted, actual

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "source": self.source,
            "failed": self.failed,
            "conditions": self.conditions,
        }


class ScenarioIndex:
    """Scenarios ranked and bucketed for fast lookup; immutable once built."""

    def __init__(self, scenarios: Iterable[Scenario]) -> None:
        self.scenarios = sorted(scenarios, key=by_rank)
        self.by_name = {s.name: s for s in self.scenarios}
        self._by_text: dict[str, list[Scenario]] = {}
        self._by_model: dict[str, list[Scenario]] = {}
        self._by_digest: dict[str, list[Scenario]] = {}
        self._rest: dict[str | None, list[Scenario]] = {}  # by profile; None: any profile
        self._merged: dict[str, list[Scenario]] = {}  # _rest's any-profile and one profile's
        for scenario in self.scenarios:  # already in rank order, so buckets are too
            text = _exact(scenario, "last_user_message")
            model = _exact(scenario, "model")
            if text is not None:
                self._by_text.setdefault(text, []).append(scenario)
            elif model is not None:
                self._by_model.setdefault(model, []).append(scenario)
            elif (digest := _digest(scenario)) is not None:
                self._by_digest.setdefault(digest, []).append(scenario)
            else:
                self._rest.setdefault(scenario.profile, []).append(scenario)

    def __len__(self) -> int:
        return len(self.scenarios)

    def candidates(self, view: RequestView) -> Iterator[Scenario]:
        """Scenarios that may match ``view``, best-ranked first."""
        lists = [self._unindexed(view.profile)]
        if self._by_text:
            lists.append(self._by_text.get(view.last_user_message, []))
        if self._by_model:
            lists.append(self._by_model.get(view.model, []))
        if self._by_digest:
            lists.append(self._by_digest.get(request_digest(view).sha256, []))
        lists = [found for found in lists if found]
        if len(lists) == 1:
            return iter(lists[0])
        return heapq.merge(*lists, key=by_rank)

    def _unindexed(self, profile: str) -> list[Scenario]:
        """The scenarios without an index key that apply to ``profile``, merged once."""
        merged = self._merged.get(profile)
        if merged is None:
            lists = (self._rest.get(None, []), self._rest.get(profile, []))
            merged = self._merged[profile] = list(heapq.merge(*lists, key=by_rank))
        return merged


def _exact(scenario: Scenario, key: str) -> str | None:
    for condition in scenario.conditions:
        if condition.key == key and isinstance(condition, TextCondition):
            exact = condition.exact
            if exact is not None:
                return exact
    return None


def _digest(scenario: Scenario) -> str | None:
    for condition in scenario.conditions:
        if isinstance(condition, DigestCondition):
            return condition.sha256
    return None


def near_misses(scenarios: Iterable[Scenario], view: RequestView, limit: int = 3) -> list[NearMiss]:
    """The scenarios closest to matching ``view``: most conditions met, then fewest failed."""
    misses = []
    for scenario in scenarios:
        if scenario.profile is not None and scenario.profile != view.profile:
            failures = [
                {
                    "condition": "profile",
                    "wanted": repr(scenario.profile),
                    "actual": repr(view.profile),
                }
            ]
            matched = -1  # another provider's scenario: the weakest kind of near miss
        else:
            failures = [c.failure(view) for c in scenario.conditions if not c.matches(view)]
            matched = len(scenario.conditions) - len(failures)
        if failures:
            failed = [
                f"{f['condition']}: wanted {f['wanted']}, request had {f['actual']}"
                for f in failures
            ]
            misses.append(NearMiss(scenario.name, scenario.source, matched, failed, failures))
    misses.sort(key=lambda m: (len(m.failed), -m.matched))
    return misses[:limit]


def format_near_misses(misses: list[NearMiss]) -> str:
    if not misses:
        return "No scenario is loaded for this request's tenant and profile."
    lines = ["Closest scenarios:"]
    for miss in misses:
        lines.append(f"- {miss.scenario} ({miss.source}):")
        lines.extend(f"    {reason}" for reason in miss.failed)
    return "\n".join(lines)
